//! Refresh tokens: stored with their grant, rotated on use, and a reused one ends its family.

use uuid::Uuid;

// The columns' macro expands to `joined_account_columns!()`, which must be in scope here too.
use super::authorization::{
    GRANT_WITH_ACCOUNT, GrantWithAccountRecord, grant_with_account_columns, joined_account_columns,
};
use super::{AccountRow, Db, GrantRow, Store, StoreError, on_pool};

/// The outcome of presenting a refresh token.
pub enum RefreshRotation {
    /// The token was current; it is rotated out and its replacement stored. The grant and its
    /// account are as they are now: the caller checks that they are still live.
    Rotated {
        grant: Box<GrantRow>,
        account: Box<AccountRow>,
    },
    /// The token had already been rotated; the whole family has been revoked.
    Reused,
    Unknown,
}

impl Store {
    pub async fn insert_refresh_token(
        &self,
        token_hash: &[u8],
        grant_id: Uuid,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into refresh_token (token_hash, grant_id, created_at, expires_at) \
            values ($1, $2, $3, $4)";
        on_pool!(self, pool => sqlx::query(SQL).bind(token_hash).bind(grant_id).bind(now).bind(expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Rotates a refresh token of `client_id` out and stores its replacement, atomically (the old
    /// token never stops working without the new one in place), and reads the grant and account it
    /// continues. Presenting one that was already rotated revokes its family; a token of another
    /// client is left alone and answered as unknown.
    pub async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        client_id: Uuid,
        replacement_hash: &[u8],
        replacement_expires_at: i64,
        now: i64,
    ) -> Result<RefreshRotation, StoreError> {
        const ROTATE: &str = "update refresh_token set rotated_at = $2 \
            where token_hash = $1 and rotated_at is null and expires_at > $2 \
            and grant_id in (select grant_id from oauth_grant where client_id = $3) returning grant_id";
        const INSERT: &str = "insert into refresh_token (token_hash, grant_id, created_at, expires_at) \
            values ($3, $1, $2, $4)";
        // PostgreSQL does it all in one statement, one round trip; SQLite, which cannot modify
        // rows in a WITH clause, in one transaction of its in-process connection.
        const ROTATE_PG: &str = concat!(
            "with rotated as (update refresh_token set rotated_at = $2 \
             where token_hash = $1 and rotated_at is null and expires_at > $2 \
             and grant_id in (select grant_id from oauth_grant where client_id = $5) returning grant_id), \
             replaced as (insert into refresh_token (token_hash, grant_id, created_at, expires_at) \
             select $3, grant_id, $2, $4 from rotated returning grant_id) select ",
            grant_with_account_columns!(),
            " from replaced r join oauth_grant g on g.grant_id = r.grant_id \
             join account a on a.account_id = g.account_id"
        );
        const FIND: &str = "select t.grant_id, t.rotated_at from refresh_token t \
            join oauth_grant g on g.grant_id = t.grant_id where t.token_hash = $1 and g.client_id = $2";
        let rotated = match self.db() {
            Db::Postgres(pool) => {
                sqlx::query_as::<_, GrantWithAccountRecord>(ROTATE_PG)
                    .bind(token_hash)
                    .bind(now)
                    .bind(replacement_hash)
                    .bind(replacement_expires_at)
                    .bind(client_id)
                    .fetch_optional(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let grant_id = sqlx::query_scalar::<_, Uuid>(ROTATE)
                    .bind(token_hash)
                    .bind(now)
                    .bind(client_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let record = match grant_id {
                    Some(grant_id) => {
                        sqlx::query(INSERT)
                            .bind(grant_id)
                            .bind(now)
                            .bind(replacement_hash)
                            .bind(replacement_expires_at)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query_as::<_, GrantWithAccountRecord>(GRANT_WITH_ACCOUNT)
                            .bind(grant_id)
                            .fetch_optional(&mut *tx)
                            .await?
                    }
                    None => None,
                };
                tx.commit().await?;
                record
            }
        };
        if let Some(record) = rotated {
            let (grant, account) = record.into_rows()?;
            return Ok(RefreshRotation::Rotated {
                grant: Box::new(grant),
                account: Box::new(account),
            });
        }
        let found = on_pool!(self, pool => sqlx::query_as::<_, (Uuid, Option<i64>)>(FIND)
            .bind(token_hash).bind(client_id).fetch_optional(pool).await)?;
        match found {
            Some((grant_id, Some(_rotated_at))) => {
                self.revoke_grant(grant_id, now).await?;
                Ok(RefreshRotation::Reused)
            }
            _ => Ok(RefreshRotation::Unknown),
        }
    }
}
