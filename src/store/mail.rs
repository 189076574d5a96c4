//! The outbox of e-mail: queued in the transaction that makes the message's link, sent and
//! retried by any replica.

use uuid::Uuid;

use super::links::{LinkPurpose, NewLink};
use super::{Store, StoreError, on_pool};

/// A message to queue. `sealed` is its recipient-facing content and `link_sealed` the link it
/// carries, both sealed under the secret key (with `mail_id` as associated data).
pub struct NewMail {
    pub mail_id: Uuid,
    pub account_id: Option<Uuid>,
    pub purpose: &'static str,
    pub recipient: String,
    pub sealed: Vec<u8>,
    pub link_sealed: Option<Vec<u8>>,
    /// When the link expires: the message is not worth sending after.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailRow {
    pub mail_id: Uuid,
    pub recipient: String,
    pub sealed: Vec<u8>,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub expires_at: Option<i64>,
}

/// A link waiting in the outbox, for an admin to hand over when there is no SMTP.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingLinkRow {
    pub mail_id: Uuid,
    pub purpose: String,
    pub recipient: String,
    pub link_sealed: Vec<u8>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// Rows per multi-row insert: 9 values a row stays under both backends' bind limits.
const ROWS_PER_INSERT: usize = 400;
const INSERT_MAIL: &str = "insert into mail_outbox (mail_id, account_id, purpose, recipient, sealed, \
    link_sealed, attempts, next_attempt_at, created_at, expires_at) ";
const END_OLDER_LINKS: &str = "update account_link set used_at = ";
/// A superseded link's message is not sent: its link would not work.
const DROP_OLDER_MAIL: &str = "delete from mail_outbox where purpose = ";
const INSERT_LINK: &str =
    "insert into account_link (token_hash, purpose, account_id, detail, created_at, expires_at) ";

impl Store {
    /// Stores links and the messages that carry them in one transaction: a link is never made
    /// without its message, nor a message without its link. Each link ends its account's older
    /// links of the same purpose.
    pub async fn issue_links(
        &self,
        links: &[NewLink],
        mails: &[NewMail],
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for chunk in links.chunks(ROWS_PER_INSERT) {
                for purpose in [LinkPurpose::Invitation, LinkPurpose::PasswordReset,
                    LinkPurpose::EmailVerification, LinkPurpose::EmailChange] {
                    let ids: Vec<Uuid> = chunk.iter().filter(|l| l.purpose == purpose)
                        .map(|l| l.account_id).collect();
                    if ids.is_empty() {
                        continue;
                    }
                    let mut end = sqlx::QueryBuilder::new(END_OLDER_LINKS);
                    end.push_bind(now).push(" where used_at is null and purpose = ")
                        .push_bind(purpose.as_str()).push(" and account_id in (");
                    let mut list = end.separated(", ");
                    for id in &ids {
                        list.push_bind(*id);
                    }
                    end.push(")").build().execute(&mut *tx).await?;
                    let mut drop = sqlx::QueryBuilder::new(DROP_OLDER_MAIL);
                    drop.push_bind(purpose.as_str()).push(" and account_id in (");
                    let mut list = drop.separated(", ");
                    for id in &ids {
                        list.push_bind(*id);
                    }
                    drop.push(")").build().execute(&mut *tx).await?;
                }
            }
            for chunk in links.chunks(ROWS_PER_INSERT) {
                let mut builder = sqlx::QueryBuilder::new(INSERT_LINK);
                builder.push_values(chunk, |mut row, link| {
                    row.push_bind(link.token_hash.to_vec())
                        .push_bind(link.purpose.as_str())
                        .push_bind(link.account_id)
                        .push_bind(link.detail.clone())
                        .push_bind(now)
                        .push_bind(link.expires_at);
                });
                builder.build().execute(&mut *tx).await?;
            }
            for chunk in mails.chunks(ROWS_PER_INSERT) {
                let mut builder = sqlx::QueryBuilder::new(INSERT_MAIL);
                builder.push_values(chunk, |mut row, mail| {
                    row.push_bind(mail.mail_id)
                        .push_bind(mail.account_id)
                        .push_bind(mail.purpose)
                        .push_bind(mail.recipient.clone())
                        .push_bind(mail.sealed.clone())
                        .push_bind(mail.link_sealed.clone())
                        .push_bind(0_i32)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(mail.expires_at);
                });
                builder.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Messages due at `now`, oldest first.
    pub async fn due_mail(&self, now: i64, limit: i64) -> Result<Vec<MailRow>, StoreError> {
        const SQL: &str = "select mail_id, recipient, sealed, attempts, next_attempt_at, expires_at from mail_outbox \
            where next_attempt_at <= $1 and (expires_at is null or expires_at > $1) \
            order by next_attempt_at limit $2";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, MailRow>(SQL)
            .bind(now).bind(limit).fetch_all(pool).await)?)
    }

    /// Claims a due message for one attempt (so no two replicas send it), pushing its next
    /// attempt to `retry_at` in case this one never reports back. False if another has it.
    pub async fn claim_mail(&self, row: &MailRow, retry_at: i64) -> Result<bool, StoreError> {
        const SQL: &str = "update mail_outbox set next_attempt_at = $3, attempts = attempts + 1 \
            where mail_id = $1 and next_attempt_at = $2";
        let n = on_pool!(self, pool => sqlx::query(SQL).bind(row.mail_id).bind(row.next_attempt_at)
            .bind(retry_at).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// A sent (or abandoned) message leaves the outbox: its link is a credential.
    pub async fn delete_mail(&self, mail_id: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "delete from mail_outbox where mail_id = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(mail_id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Notes why an attempt failed (it stays queued for its next attempt).
    pub async fn note_mail_failure(&self, mail_id: Uuid, reason: &str) -> Result<(), StoreError> {
        const SQL: &str = "update mail_outbox set last_error = $2 where mail_id = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(mail_id).bind(reason)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The links of an account still waiting to be sent, newest first.
    pub async fn pending_links(
        &self,
        account_id: Uuid,
        now: i64,
    ) -> Result<Vec<PendingLinkRow>, StoreError> {
        const SQL: &str = "select mail_id, purpose, recipient, link_sealed, created_at, expires_at from mail_outbox \
            where account_id = $1 and link_sealed is not null and (expires_at is null or expires_at > $2) \
            order by created_at desc";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, PendingLinkRow>(SQL)
            .bind(account_id).bind(now).fetch_all(pool).await)?,
        )
    }

    /// How many messages wait (for the metrics and the start-up notice).
    pub async fn count_mail(&self) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from mail_outbox";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).fetch_one(pool).await)?)
    }

    /// The attempts made so far on each queued message (for the metrics and tests).
    pub async fn mail_attempts(&self) -> Result<Vec<i32>, StoreError> {
        const SQL: &str = "select attempts from mail_outbox order by created_at";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, i32>(SQL).fetch_all(pool).await)?)
    }
}
