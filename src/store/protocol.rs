//! Revocation, session-wide logout, back-channel delivery queue, assertion replay.

use uuid::Uuid;

use super::authorization::{GRANT_COLUMNS, GrantRecord};
use super::{GrantRow, Store, StoreError, on_pool};

/// A refresh token as introspection sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub grant_id: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
}

/// A logout token waiting for delivery to a client's back-channel logout URI.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BackchannelDeliveryRow {
    pub delivery_id: Uuid,
    pub client_id: Uuid,
    pub uri: String,
    pub logout_token: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

pub struct NewBackchannelDelivery {
    pub client_id: Uuid,
    pub uri: String,
    pub logout_token: String,
}

impl Store {
    /// Denies one access token until it would have expired anyway.
    pub async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        const SQL: &str = "insert into revoked_access_token (jti, expires_at) values ($1, $2) \
            on conflict (jti) do nothing";
        on_pool!(self, pool => sqlx::query(SQL).bind(jti).bind(expires_at).execute(pool).await
            .map(|r| r.rows_affected()))?;
        self.cache.invalidate();
        Ok(())
    }

    pub async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        const SQL: &str = "select count(*) from revoked_access_token where jti = $1";
        let n = on_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).bind(jti).fetch_one(pool).await)?;
        Ok(n > 0)
    }

    pub async fn find_refresh_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<RefreshTokenRow>, StoreError> {
        const SQL: &str = "select grant_id, created_at, expires_at, rotated_at from refresh_token where token_hash = $1";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, RefreshTokenRow>(SQL)
            .bind(token_hash).fetch_optional(pool).await)?,
        )
    }

    /// The live grants a browser session (`sid`) created.
    pub async fn live_grants_for_session(&self, sid: Uuid) -> Result<Vec<GrantRow>, StoreError> {
        let sql = format!(
            "select {GRANT_COLUMNS} from oauth_grant where sid = $1 and revoked_at is null"
        );
        let records = on_pool!(self, pool => sqlx::query_as::<_, GrantRecord>(&sql)
            .bind(sid).fetch_all(pool).await)?;
        records.into_iter().map(GrantRow::try_from).collect()
    }

    /// The live grants of an account, newest first.
    pub async fn live_grants_for_account(
        &self,
        account_id: Uuid,
    ) -> Result<Vec<GrantRow>, StoreError> {
        let sql = format!(
            "select {GRANT_COLUMNS} from oauth_grant where account_id = $1 and revoked_at is null \
             order by created_at desc"
        );
        let records = on_pool!(self, pool => sqlx::query_as::<_, GrantRecord>(&sql)
            .bind(account_id).fetch_all(pool).await)?;
        records.into_iter().map(GrantRow::try_from).collect()
    }

    /// Queues logout tokens for delivery now.
    pub async fn enqueue_backchannel(
        &self,
        deliveries: Vec<NewBackchannelDelivery>,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into backchannel_delivery (delivery_id, client_id, uri, logout_token, attempts, \
            next_attempt_at, created_at) values ($1, $2, $3, $4, 0, $5, $5)";
        for d in deliveries {
            on_pool!(self, pool => sqlx::query(SQL).bind(Uuid::new_v4()).bind(d.client_id).bind(&d.uri)
                .bind(&d.logout_token).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Deliveries due at `now`, oldest first.
    pub async fn due_backchannel(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<BackchannelDeliveryRow>, StoreError> {
        const SQL: &str = "select delivery_id, client_id, uri, logout_token, attempts, next_attempt_at \
            from backchannel_delivery where next_attempt_at <= $1 order by next_attempt_at limit $2";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, BackchannelDeliveryRow>(SQL)
            .bind(now).bind(limit).fetch_all(pool).await)?,
        )
    }

    /// Claims a due delivery for one attempt (so replicas do not send it twice), pushing its next
    /// attempt to `retry_at` in case this one never reports back. False if another worker has it.
    pub async fn claim_backchannel(
        &self,
        row: &BackchannelDeliveryRow,
        retry_at: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update backchannel_delivery set next_attempt_at = $3, attempts = attempts + 1 \
            where delivery_id = $1 and next_attempt_at = $2";
        let n = on_pool!(self, pool => sqlx::query(SQL).bind(row.delivery_id).bind(row.next_attempt_at)
            .bind(retry_at).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn delete_backchannel(&self, delivery_id: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "delete from backchannel_delivery where delivery_id = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(delivery_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records a client assertion's jti; false if it was seen before (a replay).
    pub async fn record_assertion_jti(
        &self,
        key: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "insert into used_assertion (jti_key, expires_at) values ($1, $2) on conflict (jti_key) do nothing";
        let n = on_pool!(self, pool => sqlx::query(SQL).bind(key).bind(expires_at).execute(pool).await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

impl Store {
    /// Stores pushed authorization parameters (RFC 9126) under a new id.
    pub async fn insert_pushed_request(
        &self,
        client_id: Uuid,
        params: &str,
        expires_at: i64,
    ) -> Result<Uuid, StoreError> {
        const SQL: &str = "insert into pushed_request (request_id, client_id, params, expires_at) values ($1, $2, $3, $4)";
        let id = Uuid::new_v4();
        on_pool!(self, pool => sqlx::query(SQL).bind(id).bind(client_id).bind(params).bind(expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(id)
    }

    /// Takes a pushed request for `client_id` out of the store: each request_uri works once.
    pub async fn take_pushed_request(
        &self,
        request_id: Uuid,
        client_id: Uuid,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "delete from pushed_request where request_id = $1 and client_id = $2 and expires_at > $3 \
            returning params";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, String>(SQL)
            .bind(request_id).bind(client_id).bind(now).fetch_optional(pool).await)?)
    }
}
