//! The bulk import's reads and its one all-or-nothing write.

use uuid::Uuid;

use super::accounts::{ACCOUNT_COLUMNS, INSERT_ACCOUNT};
use super::{
    AccountRow, Db, NewAccount, Store, StoreError, encode_string_list, normalize_key, on_pool,
};

/// What the import changes of an existing account, and nothing else.
const IMPORT_UPDATE: &str = "update account set email = $2, email_key = $3, given_name = $4, family_name = $5, \
    roles = $6, groups = $7, updated_at = $8, locale = coalesce($9, locale), \
    recovery_email = coalesce($10, recovery_email) where account_id = $1";

impl Store {
    /// The accounts with these usernames (compared case-insensitively), for the bulk import.
    pub async fn find_accounts_by_usernames(
        &self,
        usernames: &[String],
    ) -> Result<Vec<AccountRow>, StoreError> {
        self.select_by_keys(ACCOUNT_COLUMNS, "username_key", usernames)
            .await
    }

    /// The e-mail keys in use by accounts other than those named, to check an import's addresses.
    pub async fn find_email_owners(
        &self,
        emails: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.select_by_keys("email_key, username_key", "email_key", emails)
            .await
    }

    /// `select {columns} from account where {key} in (…)` for the normalized `values`, 500 at a
    /// time to stay under both backends' bind limits.
    async fn select_by_keys<T>(
        &self,
        columns: &str,
        key: &str,
        values: &[String],
    ) -> Result<Vec<T>, StoreError>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    {
        let mut found = Vec::new();
        for chunk in values.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select {columns} from account where {key} in ({})",
                placeholders.join(", ")
            );
            on_pool!(self, pool => {
                let mut query = sqlx::query_as::<_, T>(&sql);
                for value in chunk {
                    query = query.bind(normalize_key(value));
                }
                found.extend(query.fetch_all(pool).await?);
            });
        }
        Ok(found)
    }

    /// Creates and updates accounts in one transaction: all of them or none. Updates write only
    /// what an import changes (e-mail, names, roles, groups), never the status or password.
    pub async fn apply_account_import(
        &self,
        creates: &[&NewAccount],
        updates: &[&AccountRow],
        now: i64,
    ) -> Result<(), StoreError> {
        // 17 values a row; 400 rows keep each statement under both backends' bind limits.
        const ROWS_PER_INSERT: usize = 400;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for chunk in creates.chunks(ROWS_PER_INSERT) {
                let mut builder = sqlx::QueryBuilder::new(INSERT_ACCOUNT);
                builder.push_values(chunk, |mut row, new| {
                    row.push_bind(Uuid::new_v4())
                        .push_bind(new.username.clone())
                        .push_bind(normalize_key(&new.username))
                        .push_bind(new.email.clone())
                        .push_bind(normalize_key(&new.email))
                        .push_bind(new.email_verified)
                        .push_bind(new.given_name.clone())
                        .push_bind(new.family_name.clone())
                        .push_bind(new.password_hash.clone())
                        .push_bind(false)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(encode_string_list(&new.roles))
                        .push_bind(encode_string_list(&new.groups))
                        .push_bind(new.must_change_password)
                        .push_bind(new.locale.clone())
                        .push_bind(new.recovery_email.clone());
                });
                builder.build().execute(&mut *tx).await?;
            }
            for account in updates {
                sqlx::query(IMPORT_UPDATE)
                    .bind(account.account_id)
                    .bind(&account.email)
                    .bind(normalize_key(&account.email))
                    .bind(&account.given_name)
                    .bind(&account.family_name)
                    .bind(encode_string_list(&account.roles))
                    .bind(encode_string_list(&account.groups))
                    .bind(now)
                    .bind(&account.locale)
                    .bind(&account.recovery_email)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        self.settle_after_bulk_insert().await
    }

    /// PostgreSQL only: after thousands of inserts in one transaction, the trigram indexes hold
    /// them in their pending lists and the table has no statistics, so the planner answered the
    /// next import's `username_key in (…)` from a trigram index, scanning the whole pending list
    /// for each of 500 names: seconds a chunk, minutes for a semester's file, until autovacuum
    /// came by. Merging the lists and sampling the table (tens of milliseconds for 20,000 rows)
    /// puts the unique index back in use at once. SQLite plans by its indexes alone.
    async fn settle_after_bulk_insert(&self) -> Result<(), StoreError> {
        if let Db::Postgres(pool) = self.db() {
            sqlx::query(
                "select gin_clean_pending_list('account_username_trgm'::regclass), \
                 gin_clean_pending_list('account_email_trgm'::regclass)",
            )
            .execute(pool)
            .await?;
            sqlx::query("analyze account").execute(pool).await?;
        }
        Ok(())
    }
}
