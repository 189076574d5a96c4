//! Second factors: an account's TOTP key (sealed), its recovery codes (keyed hashes), and an
//! admin's demand that it use one.

use uuid::Uuid;

use super::authorization::{GRANT_COLUMNS, GrantRecord};
use super::passwords::{DROP_TOKENS, END_SESSIONS};
use super::{GrantRow, Store, StoreError, on_pool};

/// What an account has of second factors (no row: nothing enrolled, nothing demanded).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct MfaRow {
    pub totp_sealed: Option<Vec<u8>>,
    pub totp_enrolled_at: Option<i64>,
    pub totp_last_used_at: Option<i64>,
    /// An admin requires a second factor of this account.
    pub required: bool,
    /// The first sign-in at which a second factor was due and missing.
    pub grace_from: Option<i64>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    /// Passkeys and security keys registered.
    pub webauthn_credentials: i64,
}

impl MfaRow {
    pub fn has_totp(&self) -> bool {
        self.totp_sealed.is_some()
    }

    /// Whether the account has any second factor: an authenticator app or a WebAuthn key.
    pub fn has_factor(&self) -> bool {
        self.has_totp() || self.webauthn_credentials > 0
    }
}

const FIND: &str = "select m.totp_sealed, m.totp_enrolled_at, m.totp_last_used_at, \
    coalesce(m.required, false) as required, m.grace_from, \
    (select count(*) from recovery_code r where r.account_id = $1 and r.used_at is null) as recovery_codes_left, \
    (select count(*) from webauthn_credential w where w.account_id = $1) as webauthn_credentials \
    from (select $1 as id) k left join account_mfa m on m.account_id = k.id";

const CLEAR_TOTP: &str = "update account_mfa set totp_sealed = null, totp_enrolled_at = null, \
    totp_last_used_at = null where account_id = $1";
const CLEAR_CODES: &str = "delete from recovery_code where account_id = $1";

/// Makes the account's row if it has none, so each change below is one UPDATE.
const ENSURE: &str =
    "insert into account_mfa (account_id) values ($1) on conflict (account_id) do nothing";

impl Store {
    pub async fn find_mfa(&self, account_id: Uuid) -> Result<MfaRow, StoreError> {
        let row = on_pool!(self, pool => sqlx::query_as::<_, MfaRow>(FIND).bind(account_id)
            .fetch_one(pool).await)?;
        Ok(row)
    }

    /// Stores a confirmed TOTP key, replacing any earlier one; `step` is the step of the code
    /// that confirmed it (never accepted again).
    pub async fn set_totp(
        &self,
        account_id: Uuid,
        sealed: &[u8],
        step: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update account_mfa set totp_sealed = $2, totp_enrolled_at = $3, \
            totp_last_step = $4, totp_last_used_at = $3, grace_from = null where account_id = $1";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(ENSURE).bind(account_id).execute(&mut *tx).await?;
            sqlx::query(SQL).bind(account_id).bind(sealed).bind(now).bind(step)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Accepts a TOTP time step for the account if it is later than every step accepted before:
    /// one conditional UPDATE, so two replicas given the same code cannot both accept it.
    pub async fn spend_totp_step(
        &self,
        account_id: Uuid,
        step: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update account_mfa set totp_last_step = $2, totp_last_used_at = $3 \
            where account_id = $1 and totp_sealed is not null and totp_last_step < $2";
        let changed = on_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(step).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Removes the TOTP key and every recovery code, passkey and security key (an admin's
    /// reset). An admin's demand stays.
    pub async fn remove_factors(&self, account_id: Uuid) -> Result<(), StoreError> {
        const KEYS: &str = "delete from webauthn_credential where account_id = $1";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(CLEAR_TOTP).bind(account_id).execute(&mut *tx).await?;
            sqlx::query(CLEAR_CODES).bind(account_id).execute(&mut *tx).await?;
            sqlx::query(KEYS).bind(account_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Ends what was signed in without a second factor once the account has its first one: every
    /// browser session but `keep_sid`'s, and every live grant whose sign-in did not use a second
    /// factor (with its refresh tokens), but `keep_sid`'s. Returns the grants ended, whose apps
    /// get a back-channel logout.
    pub async fn end_password_only_sign_ins(
        &self,
        account_id: Uuid,
        keep_sid: Option<Uuid>,
        now: i64,
    ) -> Result<Vec<GrantRow>, StoreError> {
        let end_grants = format!(
            "update oauth_grant set revoked_at = $2 where account_id = $1 and revoked_at is null \
             and ($3 is null or sid <> $3) and amr not like '%\"mfa\"%' returning {GRANT_COLUMNS}"
        );
        let records = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ended = sqlx::query_as::<_, GrantRecord>(&end_grants).bind(account_id).bind(now)
                .bind(keep_sid).fetch_all(&mut *tx).await?;
            sqlx::query(DROP_TOKENS).bind(account_id).execute(&mut *tx).await?;
            sqlx::query(END_SESSIONS).bind(account_id).bind(keep_sid).execute(&mut *tx).await?;
            tx.commit().await?;
            ended
        });
        self.cache.invalidate();
        records.into_iter().map(GrantRow::try_from).collect()
    }

    /// Removes the TOTP key (the person's own removal), and the recovery codes with it when no
    /// passkey or security key is left that they back up.
    pub async fn remove_totp(&self, account_id: Uuid) -> Result<(), StoreError> {
        const CODES_IF_ALONE: &str = "delete from recovery_code where account_id = $1 and not \
            exists (select 1 from webauthn_credential w where w.account_id = $1)";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(CLEAR_TOTP).bind(account_id).execute(&mut *tx).await?;
            sqlx::query(CODES_IF_ALONE).bind(account_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Drops the recovery codes once the account has no second factor left for them to stand
    /// in for.
    pub async fn drop_orphan_recovery_codes(&self, account_id: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "delete from recovery_code where account_id = $1 \
            and not exists (select 1 from webauthn_credential w where w.account_id = $1) \
            and not exists (select 1 from account_mfa m where m.account_id = $1 \
                            and m.totp_sealed is not null)";
        on_pool!(self, pool => sqlx::query(SQL).bind(account_id).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// An admin's demand for a second factor, on or off.
    pub async fn set_mfa_required(
        &self,
        account_id: Uuid,
        required: bool,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update account_mfa set required = $2 where account_id = $1";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(ENSURE).bind(account_id).execute(&mut *tx).await?;
            sqlx::query(SQL).bind(account_id).bind(required).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Notes the first sign-in at which a second factor was due and missing (kept if set).
    pub async fn start_mfa_grace(&self, account_id: Uuid, now: i64) -> Result<i64, StoreError> {
        const SQL: &str = "update account_mfa set grace_from = coalesce(grace_from, $2) \
            where account_id = $1 returning grace_from";
        let from: i64 = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(ENSURE).bind(account_id).execute(&mut *tx).await?;
            let from = sqlx::query_scalar(SQL).bind(account_id).bind(now)
                .fetch_one(&mut *tx).await?;
            tx.commit().await?;
            from
        });
        Ok(from)
    }

    /// Replaces the account's recovery codes with new ones (the old set ends).
    pub async fn replace_recovery_codes(
        &self,
        account_id: Uuid,
        hashes: &[[u8; 32]],
        now: i64,
    ) -> Result<(), StoreError> {
        const CLEAR: &str = "delete from recovery_code where account_id = $1";
        const INSERT: &str =
            "insert into recovery_code (account_id, code_hash, created_at) values ($1, $2, $3)";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(CLEAR).bind(account_id).execute(&mut *tx).await?;
            for hash in hashes {
                sqlx::query(INSERT).bind(account_id).bind(hash.to_vec()).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Spends one recovery code: true only for the one request that marks it used.
    pub async fn spend_recovery_code(
        &self,
        account_id: Uuid,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update recovery_code set used_at = $3 \
            where account_id = $1 and code_hash = $2 and used_at is null";
        let changed = on_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(hash.to_vec())
            .bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
