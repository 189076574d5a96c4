//! Authorization state: grants, their codes, userinfo's view of them, consent. Requests still
//! waiting are in `pending_authorizations.rs`, refresh tokens in `refresh_tokens.rs`.

use uuid::Uuid;

use super::{AccountRow, Store, StoreError, decode_string_list, encode_string_list, on_pool};

/// One authorization of a client by an account: the family that its code, refresh tokens and
/// access tokens belong to. Revoking it ends all of them.
#[derive(Debug, Clone)]
pub struct GrantRow {
    pub grant_id: Uuid,
    pub account_id: Uuid,
    pub client_id: Uuid,
    pub scope: String,
    pub sid: Uuid,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// Claims requested one by one (the claims parameter), as JSON.
    pub claims: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct GrantRecord {
    grant_id: Uuid,
    account_id: Uuid,
    client_id: Uuid,
    scope: String,
    sid: Uuid,
    auth_time: i64,
    amr: String,
    created_at: i64,
    revoked_at: Option<i64>,
    claims: String,
}

impl TryFrom<GrantRecord> for GrantRow {
    type Error = StoreError;
    fn try_from(r: GrantRecord) -> Result<Self, StoreError> {
        Ok(GrantRow {
            grant_id: r.grant_id,
            account_id: r.account_id,
            client_id: r.client_id,
            scope: r.scope,
            sid: r.sid,
            auth_time: r.auth_time,
            amr: decode_string_list("oauth_grant.amr", &r.amr)?,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            claims: r.claims,
        })
    }
}

pub struct NewGrant {
    pub account_id: Uuid,
    pub client_id: Uuid,
    pub scope: String,
    pub sid: Uuid,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub claims: String,
}

pub struct NewAuthCode {
    pub code_hash: Vec<u8>,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthCodeRow {
    pub grant_id: Uuid,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

/// The outcome of presenting an authorization code.
#[derive(Debug)]
pub enum CodeRedemption {
    /// First use: the code is now consumed.
    Redeemed(AuthCodeRow),
    /// The code had been used before; its grant has been revoked.
    Reused,
    Unknown,
}

/// What userinfo needs about a live grant and its account.
#[derive(Clone)]
pub struct UserinfoRow {
    pub account: AccountRow,
    pub scope: String,
    pub claims: String,
}

/// `AccountRow`'s columns from `account a`, for queries that join it.
macro_rules! joined_account_columns {
    () => {
        "a.account_id, a.username, a.email, a.email_verified, a.given_name, a.family_name, \
        a.password_hash, a.disabled, a.created_at, a.updated_at, a.roles, a.groups, \
        a.must_change_password, a.credential_version, a.locale, a.recovery_email"
    };
}

/// The columns `GrantWithAccountRecord` reads, from `oauth_grant g` joined with `account a`.
macro_rules! grant_with_account_columns {
    () => {
        concat!(
            joined_account_columns!(),
            ", g.grant_id, g.client_id, g.scope, g.sid, g.auth_time, g.amr, \
            g.created_at as grant_created_at, g.revoked_at, g.claims"
        )
    };
}
pub(super) use {grant_with_account_columns, joined_account_columns};

/// One grant with its account, by grant id ($1).
pub(super) const GRANT_WITH_ACCOUNT: &str = concat!(
    "select ",
    grant_with_account_columns!(),
    " from oauth_grant g join account a on a.account_id = g.account_id where g.grant_id = $1"
);

#[derive(sqlx::FromRow)]
pub(super) struct GrantWithAccountRecord {
    #[sqlx(flatten)]
    account: AccountRow,
    grant_id: Uuid,
    client_id: Uuid,
    scope: String,
    sid: Uuid,
    auth_time: i64,
    amr: String,
    grant_created_at: i64,
    revoked_at: Option<i64>,
    claims: String,
}

impl GrantWithAccountRecord {
    pub(super) fn into_rows(self) -> Result<(GrantRow, AccountRow), StoreError> {
        let grant = GrantRow::try_from(GrantRecord {
            grant_id: self.grant_id,
            account_id: self.account.account_id,
            client_id: self.client_id,
            scope: self.scope,
            sid: self.sid,
            auth_time: self.auth_time,
            amr: self.amr,
            created_at: self.grant_created_at,
            revoked_at: self.revoked_at,
            claims: self.claims,
        })?;
        Ok((grant, self.account))
    }
}

#[derive(sqlx::FromRow)]
struct UserinfoRecord {
    #[sqlx(flatten)]
    account: AccountRow,
    scope: String,
    claims: String,
}

pub(super) const GRANT_COLUMNS: &str =
    "grant_id, account_id, client_id, scope, sid, auth_time, amr, created_at, revoked_at, claims";

impl Store {
    /// Creates the grant and its authorization code together.
    pub async fn insert_grant_with_code(
        &self,
        grant: NewGrant,
        code: NewAuthCode,
        now: i64,
    ) -> Result<Uuid, StoreError> {
        const GRANT: &str = "insert into oauth_grant (grant_id, account_id, client_id, scope, sid, auth_time, amr, \
            created_at, claims) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        const CODE: &str = "insert into auth_code (code_hash, grant_id, redirect_uri, nonce, code_challenge, \
            created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7)";
        let grant_id = Uuid::new_v4();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(GRANT)
                .bind(grant_id).bind(grant.account_id).bind(grant.client_id).bind(&grant.scope)
                .bind(grant.sid).bind(grant.auth_time).bind(encode_string_list(&grant.amr)).bind(now).bind(&grant.claims)
                .execute(&mut *tx).await?;
            sqlx::query(CODE)
                .bind(&code.code_hash).bind(grant_id).bind(&code.redirect_uri).bind(&code.nonce)
                .bind(&code.code_challenge).bind(now).bind(code.expires_at)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(grant_id)
    }

    /// Creates a grant without a code (the device grant issues tokens directly).
    pub async fn insert_grant(&self, grant: NewGrant, now: i64) -> Result<Uuid, StoreError> {
        const SQL: &str = "insert into oauth_grant (grant_id, account_id, client_id, scope, sid, auth_time, amr, \
            created_at, claims) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let grant_id = Uuid::new_v4();
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(grant_id).bind(grant.account_id).bind(grant.client_id).bind(&grant.scope)
            .bind(grant.sid).bind(grant.auth_time).bind(encode_string_list(&grant.amr)).bind(now).bind(&grant.claims)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(grant_id)
    }

    /// Marks a code used, if it is `client_id`'s: a code presented by another client is left as
    /// it is and answered as unknown (so a thief cannot spend it, nor learn it was valid). The
    /// conditional update makes concurrent redemptions race safely: exactly one caller gets
    /// `Redeemed`; any later one by the same client revokes the grant the code created.
    pub async fn redeem_auth_code(
        &self,
        code_hash: &[u8],
        client_id: Uuid,
        now: i64,
    ) -> Result<CodeRedemption, StoreError> {
        const CONSUME: &str = "update auth_code set consumed_at = $2 where code_hash = $1 and consumed_at is null \
            and grant_id in (select grant_id from oauth_grant where client_id = $3) \
            returning grant_id, redirect_uri, nonce, code_challenge, expires_at";
        const FIND_USED: &str = "select c.grant_id from auth_code c join oauth_grant g on g.grant_id = c.grant_id \
            where c.code_hash = $1 and g.client_id = $2 and c.consumed_at is not null";
        let consumed = on_pool!(self, pool => sqlx::query_as::<_, AuthCodeRow>(CONSUME)
            .bind(code_hash).bind(now).bind(client_id).fetch_optional(pool).await)?;
        if let Some(row) = consumed {
            return Ok(CodeRedemption::Redeemed(row));
        }
        let used = on_pool!(self, pool => sqlx::query_scalar::<_, Uuid>(FIND_USED)
            .bind(code_hash).bind(client_id).fetch_optional(pool).await)?;
        match used {
            Some(grant_id) => {
                self.revoke_grant(grant_id, now).await?;
                Ok(CodeRedemption::Reused)
            }
            None => Ok(CodeRedemption::Unknown),
        }
    }

    pub async fn find_grant(&self, grant_id: Uuid) -> Result<Option<GrantRow>, StoreError> {
        let sql = format!("select {GRANT_COLUMNS} from oauth_grant where grant_id = $1");
        let record = on_pool!(self, pool => sqlx::query_as::<_, GrantRecord>(&sql)
            .bind(grant_id).fetch_optional(pool).await)?;
        record.map(GrantRow::try_from).transpose()
    }

    /// A grant with its account, in one round trip: every token grant needs both.
    pub async fn find_grant_with_account(
        &self,
        grant_id: Uuid,
    ) -> Result<Option<(GrantRow, AccountRow)>, StoreError> {
        let record = on_pool!(self, pool => sqlx::query_as::<_, GrantWithAccountRecord>(GRANT_WITH_ACCOUNT)
            .bind(grant_id).fetch_optional(pool).await)?;
        record.map(GrantWithAccountRecord::into_rows).transpose()
    }

    /// Revokes a grant and deletes its refresh tokens; its access tokens fail at userinfo from now on.
    pub async fn revoke_grant(&self, grant_id: Uuid, now: i64) -> Result<(), StoreError> {
        const REVOKE: &str =
            "update oauth_grant set revoked_at = $2 where grant_id = $1 and revoked_at is null";
        const DROP_TOKENS: &str = "delete from refresh_token where grant_id = $1";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(REVOKE).bind(grant_id).bind(now).execute(&mut *tx).await?;
            sqlx::query(DROP_TOKENS).bind(grant_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.cache.invalidate();
        Ok(())
    }

    /// The account behind a grant, if the grant is live, the account enabled, and the access token
    /// `jti` not revoked on its own.
    pub async fn find_userinfo(
        &self,
        grant_id: Uuid,
        jti: &str,
    ) -> Result<Option<UserinfoRow>, StoreError> {
        if let Some(row) = self.cache.userinfo(grant_id, jti) {
            return Ok(Some(row));
        }
        let ticket = self.cache.ticket();
        const SQL: &str = concat!(
            "select ",
            joined_account_columns!(),
            ", g.scope, g.claims \
            from oauth_grant g join account a on a.account_id = g.account_id \
            where g.grant_id = $1 and g.revoked_at is null and a.disabled = false \
            and not exists (select 1 from revoked_access_token r where r.jti = $2)"
        );
        let record = on_pool!(self, pool => sqlx::query_as::<_, UserinfoRecord>(SQL)
            .bind(grant_id).bind(jti).fetch_optional(pool).await)?;
        let row = record.map(|r| UserinfoRow {
            account: r.account,
            scope: r.scope,
            claims: r.claims,
        });
        if let Some(row) = &row {
            self.cache.store_userinfo(ticket, grant_id, jti, row);
        }
        Ok(row)
    }

    /// The scopes an account has already consented to for a client.
    pub async fn find_consent(
        &self,
        account_id: Uuid,
        client_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "select scope from consent where account_id = $1 and client_id = $2";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, String>(SQL)
            .bind(account_id).bind(client_id).fetch_optional(pool).await)?)
    }

    pub async fn save_consent(
        &self,
        account_id: Uuid,
        client_id: Uuid,
        scope: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into consent (account_id, client_id, scope, created_at) values ($1, $2, $3, $4) \
            on conflict (account_id, client_id) do update set scope = excluded.scope, created_at = excluded.created_at";
        on_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(client_id).bind(scope).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
