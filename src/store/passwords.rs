//! Setting a password, and ending everything signed in with the one before.

use uuid::Uuid;

use super::authorization::{GRANT_COLUMNS, GrantRecord};
use super::links::{LinkPurpose, end_links_sql};
use super::{GrantRow, Store, StoreError, on_pool};

/// Which of an account's grants outlive a password change.
#[derive(Debug, Clone, Copy)]
pub enum KeepGrants {
    /// None: an admin set the password, or the old one was temporary.
    None,
    /// Those of the browser session the person changed it from.
    OfSession(Uuid),
    /// The grant of the token that changed it through the API.
    Grant(Uuid),
}

/// The refresh tokens of an account's revoked grants (`$1` the account), deleted with them.
pub(super) const DROP_TOKENS: &str = "delete from refresh_token where grant_id in \
    (select grant_id from oauth_grant where account_id = $1 and revoked_at is not null)";
/// An account's browser sessions (`$1`) but one (`$2`, or none): they end at their next request.
pub(super) const END_SESSIONS: &str =
    "delete from browser_session where account_id = $1 and ($2 is null or sid <> $2)";

/// What a password change did.
#[derive(Debug)]
pub struct PasswordSet {
    pub credential_version: i64,
    /// The grants it revoked, whose apps get a back-channel logout.
    pub ended: Vec<GrantRow>,
}

impl Store {
    /// Sets a new password hash and ends what was signed in with the old one: the credential
    /// version moves on and their browser sessions' rows go (so they end at their next request), and
    /// every live grant of the account but `keep` is revoked with its refresh tokens, in one
    /// transaction. The same transaction ends the account's unspent invitation, reset and
    /// e-mail-change links (`LinkPurpose::ENDED_BY_A_PASSWORD`), whatever set the password.
    /// Returns the new version and the grants ended, whose apps are told (logout).
    pub async fn set_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        must_change: bool,
        keep: KeepGrants,
        now: i64,
    ) -> Result<PasswordSet, StoreError> {
        self.write_password(account_id, password_hash, must_change, keep, false, now)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Sets the first password of an account that has none (an invitation's): `None`, and
    /// nothing written, when the account got a password another way meanwhile (an admin, a
    /// reset), which an invitation must not replace. Ends what `set_password` ends.
    pub async fn set_first_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<PasswordSet>, StoreError> {
        self.write_password(
            account_id,
            password_hash,
            false,
            KeepGrants::None,
            true,
            now,
        )
        .await
    }

    /// `set_password`, or with `first_only` only where the account has no password yet (judged
    /// by the update itself, so a password set at the same moment is never replaced).
    async fn write_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        must_change: bool,
        keep: KeepGrants,
        first_only: bool,
        now: i64,
    ) -> Result<Option<PasswordSet>, StoreError> {
        const SQL: &str = "update account set password_hash = $2, must_change_password = $3, updated_at = $4, \
            credential_version = credential_version + 1 where account_id = $1 \
            and ($5 = false or password_hash is null) returning credential_version";
        let end_grants = format!(
            "update oauth_grant set revoked_at = $2 where account_id = $1 and revoked_at is null \
             and ($3 is null or sid <> $3) and ($4 is null or grant_id <> $4) returning {GRANT_COLUMNS}"
        );
        let (end_links, drop_mail) = end_links_sql(&LinkPurpose::ENDED_BY_A_PASSWORD);
        let (keep_sid, keep_grant) = match keep {
            KeepGrants::None => (None, None),
            KeepGrants::OfSession(sid) => (Some(sid), None),
            KeepGrants::Grant(grant_id) => (None, Some(grant_id)),
        };
        let written = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let version = sqlx::query_scalar::<_, i64>(SQL).bind(account_id).bind(password_hash)
                .bind(must_change).bind(now).bind(first_only).fetch_optional(&mut *tx).await?;
            match version {
                // Nothing written: the transaction rolls back as it is dropped.
                None => None,
                Some(version) => {
                    let ended = sqlx::query_as::<_, GrantRecord>(&end_grants).bind(account_id).bind(now)
                        .bind(keep_sid).bind(keep_grant).fetch_all(&mut *tx).await?;
                    sqlx::query(DROP_TOKENS).bind(account_id).execute(&mut *tx).await?;
                    sqlx::query(END_SESSIONS).bind(account_id).bind(keep_sid).execute(&mut *tx).await?;
                    sqlx::query(&end_links).bind(account_id).bind(now).execute(&mut *tx).await?;
                    sqlx::query(&drop_mail).bind(account_id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Some((version, ended))
                }
            }
        });
        let Some((credential_version, records)) = written else {
            return Ok(None);
        };
        self.cache.invalidate();
        Ok(Some(PasswordSet {
            credential_version,
            ended: records
                .into_iter()
                .map(GrantRow::try_from)
                .collect::<Result<_, _>>()?,
        }))
    }
}
