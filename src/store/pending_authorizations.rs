//! Authorization requests waiting for the person: stored while they sign in, consent or enrol.

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingAuthorizationRow {
    pub request_id: Uuid,
    pub client_id: Uuid,
    pub params: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// SHA-256 of the browser-binding cookie of the browser that started the request.
    pub browser_hash: Option<Vec<u8>>,
}

impl Store {
    pub async fn insert_pending_authorization(
        &self,
        client_id: Uuid,
        params: &str,
        browser_hash: &[u8],
        now: i64,
        expires_at: i64,
    ) -> Result<Uuid, StoreError> {
        const SQL: &str = "insert into pending_authorization (request_id, client_id, params, created_at, \
            expires_at, browser_hash) values ($1, $2, $3, $4, $5, $6)";
        let request_id = Uuid::new_v4();
        on_pool!(self, pool => sqlx::query(SQL).bind(request_id).bind(client_id).bind(params)
            .bind(now).bind(expires_at).bind(browser_hash).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(request_id)
    }

    pub async fn find_pending_authorization(
        &self,
        request_id: Uuid,
        now: i64,
    ) -> Result<Option<PendingAuthorizationRow>, StoreError> {
        const SQL: &str = "select request_id, client_id, params, created_at, expires_at, browser_hash \
            from pending_authorization where request_id = $1 and expires_at > $2";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, PendingAuthorizationRow>(SQL)
            .bind(request_id).bind(now).fetch_optional(pool).await)?,
        )
    }

    /// The newest request this browser started that is still waiting (for a link opened from an
    /// e-mail during an app's sign-in, which then continues to the app).
    pub async fn latest_pending_of_browser(
        &self,
        browser_hash: &[u8],
        now: i64,
    ) -> Result<Option<Uuid>, StoreError> {
        const SQL: &str = "select request_id from pending_authorization \
            where browser_hash = $1 and expires_at > $2 order by created_at desc limit 1";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, Uuid>(SQL)
            .bind(browser_hash).bind(now).fetch_optional(pool).await)?)
    }

    /// Moves a pending request to its next step (its stored parameters say which, and for which
    /// session); false when it is gone or expired.
    pub async fn update_pending_authorization(
        &self,
        request_id: Uuid,
        params: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update pending_authorization set params = $2 where request_id = $1 and expires_at > $3";
        let updated = on_pool!(self, pool => sqlx::query(SQL).bind(request_id).bind(params).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(updated > 0)
    }

    /// Removes a pending request once it is answered; false if another request got there first.
    pub async fn delete_pending_authorization(&self, request_id: Uuid) -> Result<bool, StoreError> {
        const SQL: &str = "delete from pending_authorization where request_id = $1";
        let deleted = on_pool!(self, pool => sqlx::query(SQL).bind(request_id).execute(pool).await
            .map(|r| r.rows_affected()))?;
        Ok(deleted > 0)
    }
}
