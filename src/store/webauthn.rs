//! Passkeys and security keys: the credentials registered to an account and its random
//! WebAuthn user handle.

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

/// One registered WebAuthn credential.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebauthnRow {
    /// base64url of the credential id.
    pub credential_id: String,
    pub account_id: Uuid,
    /// `passkey` or `security_key`.
    pub kind: String,
    pub name: String,
    /// webauthn-rs's record of the credential (public key, counter, flags), JSON.
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "credential_id, account_id, kind, name, credential, created_at, last_used_at";

/// Makes the account's row if it has none.
const ENSURE: &str =
    "insert into account_mfa (account_id) values ($1) on conflict (account_id) do nothing";

impl Store {
    /// The account's WebAuthn user handle, made (random) the first time it is asked for.
    pub async fn webauthn_handle(&self, account_id: Uuid) -> Result<Uuid, StoreError> {
        const SET: &str = "update account_mfa set webauthn_handle = $2 \
            where account_id = $1 and webauthn_handle is null";
        const GET: &str = "select webauthn_handle from account_mfa where account_id = $1";
        let handle: Option<Uuid> = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(ENSURE).bind(account_id).execute(&mut *tx).await?;
            sqlx::query(SET).bind(account_id).bind(Uuid::new_v4()).execute(&mut *tx).await?;
            let handle = sqlx::query_scalar(GET).bind(account_id).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            handle
        });
        handle.ok_or_else(|| StoreError::Corrupt("the WebAuthn user handle was not kept".into()))
    }

    /// The account a WebAuthn user handle belongs to.
    pub async fn account_of_webauthn_handle(
        &self,
        handle: Uuid,
    ) -> Result<Option<Uuid>, StoreError> {
        const SQL: &str = "select account_id from account_mfa where webauthn_handle = $1";
        let id = on_pool!(self, pool => sqlx::query_scalar(SQL).bind(handle)
            .fetch_optional(pool).await)?;
        Ok(id)
    }

    pub async fn list_webauthn(&self, account_id: Uuid) -> Result<Vec<WebauthnRow>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from webauthn_credential where account_id = $1 \
             order by created_at, credential_id"
        );
        let rows = on_pool!(self, pool => sqlx::query_as::<_, WebauthnRow>(&sql).bind(account_id)
            .fetch_all(pool).await)?;
        Ok(rows)
    }

    pub async fn find_webauthn(
        &self,
        credential_id: &str,
    ) -> Result<Option<WebauthnRow>, StoreError> {
        let sql = format!("select {COLUMNS} from webauthn_credential where credential_id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, WebauthnRow>(&sql).bind(credential_id)
            .fetch_optional(pool).await)?;
        Ok(row)
    }

    /// Registers a credential; false when its id is registered already (to any account).
    pub async fn insert_webauthn(&self, row: &WebauthnRow) -> Result<bool, StoreError> {
        let sql = format!(
            "insert into webauthn_credential ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7) \
             on conflict (credential_id) do nothing"
        );
        let changed = on_pool!(self, pool => sqlx::query(&sql)
            .bind(&row.credential_id).bind(row.account_id).bind(&row.kind).bind(&row.name)
            .bind(&row.credential).bind(row.created_at).bind(row.last_used_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Records a use: the updated record (sign counter, backup flags) and the time.
    pub async fn touch_webauthn(
        &self,
        credential_id: &str,
        credential: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update webauthn_credential set credential = $2, last_used_at = $3 \
            where credential_id = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(credential_id).bind(credential).bind(now)
            .execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Removes one of the account's credentials; false when it has no such credential.
    pub async fn delete_webauthn(
        &self,
        account_id: Uuid,
        credential_id: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "delete from webauthn_credential where account_id = $1 and credential_id = $2";
        let changed = on_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(credential_id)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
