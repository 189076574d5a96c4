//! Single-use links sent by e-mail: only the SHA-256 of each link's secret is stored.

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

/// What a link is for. Each purpose has its own lifetime and page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Invitation,
    PasswordReset,
    EmailVerification,
    /// Verifies a new address; the link's `detail` is that address.
    EmailChange,
}

impl LinkPurpose {
    /// Every purpose: what disabling an account ends.
    pub const ALL: [LinkPurpose; 4] = [
        LinkPurpose::Invitation,
        LinkPurpose::PasswordReset,
        LinkPurpose::EmailVerification,
        LinkPurpose::EmailChange,
    ];
    /// What a new password ends, however it was set: a way to set another one (an invitation, a
    /// reset), and a move to another address, which may have been started by the very person the
    /// new password is meant to shut out (the address then gets the next reset link).
    pub const ENDED_BY_A_PASSWORD: [LinkPurpose; 3] = [
        LinkPurpose::Invitation,
        LinkPurpose::PasswordReset,
        LinkPurpose::EmailChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invitation => "invitation",
            LinkPurpose::PasswordReset => "reset",
            LinkPurpose::EmailVerification => "verification",
            LinkPurpose::EmailChange => "email_change",
        }
    }
}

/// A link that is still valid, as its page needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub account_id: Uuid,
    pub detail: Option<String>,
    pub expires_at: i64,
}

pub struct NewLink {
    pub token_hash: [u8; 32],
    pub purpose: LinkPurpose,
    pub account_id: Uuid,
    pub detail: Option<String>,
    pub expires_at: i64,
}

/// The two statements that end an account's unspent links of `purposes` (binding `$1` the
/// account, `$2` now) and drop their letters not sent yet (binding `$1`: a dead link is not worth
/// a letter, nor an admin's hand-over). Run inside the transaction of the change that ends them.
pub(super) fn end_links_sql(purposes: &[LinkPurpose]) -> (String, String) {
    // The purposes are our own constants, never a caller's text, so they are written as literals.
    let list = purposes
        .iter()
        .map(|p| format!("'{}'", p.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    (
        format!(
            "update account_link set used_at = $2 \
             where account_id = $1 and used_at is null and purpose in ({list})"
        ),
        format!(
            "delete from mail_outbox \
             where account_id = $1 and link_sealed is not null and purpose in ({list})"
        ),
    )
}

impl Store {
    /// The link if it is valid now (unspent, unexpired, of this purpose), without spending it:
    /// what a link's page shows before its form is posted.
    pub async fn find_link(
        &self,
        token_hash: &[u8],
        purpose: LinkPurpose,
        now: i64,
    ) -> Result<Option<LinkRow>, StoreError> {
        const SQL: &str = "select account_id, detail, expires_at from account_link \
            where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, LinkRow>(SQL)
            .bind(token_hash).bind(purpose.as_str()).bind(now).fetch_optional(pool).await)?)
    }

    /// Spends a valid link: exactly one caller gets it, however many post at once.
    pub async fn spend_link(
        &self,
        token_hash: &[u8],
        purpose: LinkPurpose,
        now: i64,
    ) -> Result<Option<LinkRow>, StoreError> {
        const SQL: &str = "update account_link set used_at = $3 \
            where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3 \
            returning account_id, detail, expires_at";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, LinkRow>(SQL)
            .bind(token_hash).bind(purpose.as_str()).bind(now).fetch_optional(pool).await)?)
    }

    /// Ends an account's unspent links of `purposes` and drops their unsent letters, in one
    /// transaction. Returns how many links ended.
    pub async fn end_links(
        &self,
        account_id: Uuid,
        purposes: &[LinkPurpose],
        now: i64,
    ) -> Result<u64, StoreError> {
        let (end, drop) = end_links_sql(purposes);
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ended = sqlx::query(&end).bind(account_id).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            sqlx::query(&drop).bind(account_id).execute(&mut *tx).await?;
            tx.commit().await?;
            ended
        }))
    }

    /// What a live link of `purpose` carries (the new address of an e-mail change waiting to be
    /// confirmed), for the account page.
    pub async fn live_link_detail(
        &self,
        account_id: Uuid,
        purpose: LinkPurpose,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "select detail from account_link where account_id = $1 and purpose = $2 \
            and used_at is null and expires_at > $3 order by created_at desc limit 1";
        Ok(
            on_pool!(self, pool => sqlx::query_scalar::<_, Option<String>>(SQL)
            .bind(account_id).bind(purpose.as_str()).bind(now).fetch_optional(pool).await)?
            .flatten(),
        )
    }

    /// How many links carry this hash (tests: only the hash is stored).
    pub async fn count_links_with_hash(&self, token_hash: &[u8]) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from account_link where token_hash = $1";
        Ok(
            on_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).bind(token_hash).fetch_one(pool).await)?,
        )
    }

    /// How many links of a purpose were ever made (spent and ended ones included).
    pub async fn count_links_of_purpose(&self, purpose: &str) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from account_link where purpose = $1";
        Ok(
            on_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).bind(purpose).fetch_one(pool).await)?,
        )
    }
}
