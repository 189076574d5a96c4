use uuid::Uuid;

use super::{Db, Store, StoreError, encode_string_list, on_pool};

/// A JSON array of strings kept in a text column (roles, groups).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringList(pub Vec<String>);

impl TryFrom<String> for StringList {
    type Error = serde_json::Error;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&raw).map(StringList)
    }
}

impl std::ops::Deref for StringList {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.0
    }
}

impl StringList {
    pub fn contains_str(&self, value: &str) -> bool {
        self.0.iter().any(|v| v == value)
    }
}

#[derive(Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: Uuid,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(try_from = "String")]
    pub roles: StringList,
    #[sqlx(try_from = "String")]
    pub groups: StringList,
    pub must_change_password: bool,
}

impl std::fmt::Debug for AccountRow {
    // The password hash stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("account_id", &self.account_id)
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl AccountRow {
    /// `given family`, or the username when neither is known.
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            self.username.clone()
        } else {
            parts.join(" ")
        }
    }

    pub fn is_active_admin(&self) -> bool {
        !self.disabled && self.roles.contains_str("admin")
    }
}

pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub must_change_password: bool,
}

/// What a directory listing is narrowed to.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    /// Matches part of the username, e-mail address or name, case-insensitively.
    pub search: Option<String>,
    pub role: Option<String>,
    /// `Some(true)` only disabled accounts, `Some(false)` only active ones.
    pub disabled: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

pub(super) const ACCOUNT_COLUMNS: &str = "account_id, username, email, email_verified, given_name, family_name, \
    password_hash, disabled, created_at, updated_at, roles, groups, must_change_password";

/// Case-insensitive uniqueness is kept in a normalized column (portable across backends).
pub fn normalize_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// `%value%` for LIKE with `\` escaping the wildcards in the value.
fn like_pattern(value: &str) -> String {
    let mut pattern = String::with_capacity(value.len() + 2);
    pattern.push('%');
    for c in value.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

const INSERT_ACCOUNT: &str = "insert into account (account_id, username, username_key, email, email_key, \
    email_verified, given_name, family_name, password_hash, disabled, created_at, updated_at, roles, groups, \
    must_change_password) ";

/// An account's active admins are counted under a row lock on PostgreSQL, so two concurrent
/// demotions cannot both pass; SQLite serializes writers anyway.
const ACTIVE_ADMINS_PG: &str = "select account_id from account \
    where roles like '%\"admin\"%' and disabled = false for update";
const ACTIVE_ADMINS_SQLITE: &str =
    "select account_id from account where roles like '%\"admin\"%' and disabled = false";

const UPDATE_ACCOUNT: &str = "update account set username = $2, username_key = $3, email = $4, email_key = $5, \
    email_verified = $6, given_name = $7, family_name = $8, disabled = $9, roles = $10, groups = $11, \
    must_change_password = $12, updated_at = $13 where account_id = $1";

/// UPDATE_ACCOUNT with its binds; a macro because the query's type differs per backend.
macro_rules! update_account_query {
    ($account:expr, $now:expr) => {
        sqlx::query(UPDATE_ACCOUNT)
            .bind($account.account_id)
            .bind(&$account.username)
            .bind(normalize_key(&$account.username))
            .bind(&$account.email)
            .bind(normalize_key(&$account.email))
            .bind($account.email_verified)
            .bind(&$account.given_name)
            .bind(&$account.family_name)
            .bind($account.disabled)
            .bind(encode_string_list(&$account.roles))
            .bind(encode_string_list(&$account.groups))
            .bind($account.must_change_password)
            .bind($now)
    };
}

const REVOKE_ACCOUNT_GRANTS: &str =
    "update oauth_grant set revoked_at = $2 where account_id = $1 and revoked_at is null";

impl Store {
    pub async fn insert_account(
        &self,
        new: NewAccount,
        now: i64,
    ) -> Result<AccountRow, StoreError> {
        let account_id = Uuid::new_v4();
        let sql = format!(
            "{INSERT_ACCOUNT} values ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10, $10, $11, $12, $13)"
        );
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(account_id)
            .bind(&new.username)
            .bind(normalize_key(&new.username))
            .bind(&new.email)
            .bind(normalize_key(&new.email))
            .bind(new.email_verified)
            .bind(&new.given_name)
            .bind(&new.family_name)
            .bind(&new.password_hash)
            .bind(now)
            .bind(encode_string_list(&new.roles))
            .bind(encode_string_list(&new.groups))
            .bind(new.must_change_password)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        self.find_account(account_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn find_account(&self, account_id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("select {ACCOUNT_COLUMNS} from account where account_id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, AccountRow>(&sql)
            .bind(account_id).fetch_optional(pool).await)?)
    }

    /// Looks an account up by username or e-mail address, case-insensitively.
    pub async fn find_account_by_login(
        &self,
        login: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "select {ACCOUNT_COLUMNS} from account where username_key = $1 or email_key = $1 \
             order by case when username_key = $1 then 0 else 1 end limit 1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, AccountRow>(&sql)
            .bind(normalize_key(login)).fetch_optional(pool).await)?)
    }

    pub async fn count_accounts(&self) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from account";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).fetch_one(pool).await)?)
    }

    /// One page of accounts, ordered by username, and how many match in all.
    pub async fn list_accounts(
        &self,
        filter: &AccountFilter,
    ) -> Result<(Vec<AccountRow>, i64), StoreError> {
        let search = filter.search.as_deref().map(like_pattern);
        // Role names are validated to letters, digits and '-', so they carry no LIKE wildcards.
        let role = filter.role.as_deref().map(|r| format!("%\"{r}\"%"));
        const WHERE: &str = "where ($1 is null or username_key like $1 escape '\\' or email_key like $1 escape '\\' \
            or lower(coalesce(given_name, '') || ' ' || coalesce(family_name, '')) like $1 escape '\\') \
            and ($2 is null or roles like $2) and ($3 is null or disabled = $3)";
        let count_sql = format!("select count(*) from account {WHERE}");
        let page_sql = format!(
            "select {ACCOUNT_COLUMNS} from account {WHERE} order by username_key limit $4 offset $5"
        );
        on_pool!(self, pool => {
            let total = sqlx::query_scalar::<_, i64>(&count_sql)
                .bind(&search).bind(&role).bind(filter.disabled)
                .fetch_one(pool).await?;
            let rows = sqlx::query_as::<_, AccountRow>(&page_sql)
                .bind(&search).bind(&role).bind(filter.disabled)
                .bind(filter.limit).bind(filter.offset)
                .fetch_all(pool).await?;
            Ok((rows, total))
        })
    }

    /// Writes every editable field of `account`. When the change disables the account, its grants
    /// are revoked in the same transaction (ending refresh and access tokens). Refuses with
    /// `LastAdmin` a change that would leave no active admin.
    pub async fn update_account(
        &self,
        account: &AccountRow,
        now: i64,
    ) -> Result<AccountRow, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let admins_sql = match self.db() { Db::Postgres(_) => ACTIVE_ADMINS_PG, Db::Sqlite(_) => ACTIVE_ADMINS_SQLITE };
            let admins: Vec<Uuid> = sqlx::query_scalar(admins_sql).fetch_all(&mut *tx).await?;
            if admins.contains(&account.account_id) && !account.is_active_admin() && admins.len() == 1 {
                return Err(StoreError::LastAdmin);
            }
            let updated = update_account_query!(account, now).execute(&mut *tx).await?.rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            if account.disabled {
                sqlx::query(REVOKE_ACCOUNT_GRANTS).bind(account.account_id).bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        self.find_account(account.account_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Deletes an account (its grants, consents and device requests go with it by cascade).
    pub async fn delete_account(&self, account_id: Uuid) -> Result<(), StoreError> {
        const DELETE: &str = "delete from account where account_id = $1";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let admins_sql = match self.db() { Db::Postgres(_) => ACTIVE_ADMINS_PG, Db::Sqlite(_) => ACTIVE_ADMINS_SQLITE };
            let admins: Vec<Uuid> = sqlx::query_scalar(admins_sql).fetch_all(&mut *tx).await?;
            if admins.contains(&account_id) && admins.len() == 1 {
                return Err(StoreError::LastAdmin);
            }
            let deleted = sqlx::query(DELETE).bind(account_id).execute(&mut *tx).await?.rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        Ok(())
    }

    /// Sets a new password hash. A temporary password (`must_change`) also revokes the account's
    /// grants, as an admin sets one when an account may be in the wrong hands.
    pub async fn set_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        must_change: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update account set password_hash = $2, must_change_password = $3, updated_at = $4 \
            where account_id = $1";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(SQL).bind(account_id).bind(password_hash).bind(must_change).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            if must_change {
                sqlx::query(REVOKE_ACCOUNT_GRANTS).bind(account_id).bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        Ok(())
    }

    pub async fn set_account_disabled(
        &self,
        account_id: Uuid,
        disabled: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut account = self
            .find_account(account_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        account.disabled = disabled;
        self.update_account(&account, now).await.map(|_| ())
    }

    /// The accounts with these usernames (compared case-insensitively), for the bulk import.
    pub async fn find_accounts_by_usernames(
        &self,
        usernames: &[String],
    ) -> Result<Vec<AccountRow>, StoreError> {
        let mut found = Vec::new();
        for chunk in usernames.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select {ACCOUNT_COLUMNS} from account where username_key in ({})",
                placeholders.join(", ")
            );
            on_pool!(self, pool => {
                let mut query = sqlx::query_as::<_, AccountRow>(&sql);
                for name in chunk {
                    query = query.bind(normalize_key(name));
                }
                found.extend(query.fetch_all(pool).await?);
            });
        }
        Ok(found)
    }

    /// The e-mail keys in use by accounts other than those named, to check an import's addresses.
    pub async fn find_email_owners(
        &self,
        emails: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found = Vec::new();
        for chunk in emails.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select email_key, username_key from account where email_key in ({})",
                placeholders.join(", ")
            );
            on_pool!(self, pool => {
                let mut query = sqlx::query_as::<_, (String, String)>(&sql);
                for email in chunk {
                    query = query.bind(normalize_key(email));
                }
                found.extend(query.fetch_all(pool).await?);
            });
        }
        Ok(found)
    }

    /// Creates and updates accounts in one transaction: all of them or none.
    pub async fn apply_account_import(
        &self,
        creates: &[&NewAccount],
        updates: &[&AccountRow],
        now: i64,
    ) -> Result<(), StoreError> {
        // 15 values a row; 400 rows keep each statement under both backends' bind limits.
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
                        .push_bind(new.must_change_password);
                });
                builder.build().execute(&mut *tx).await?;
            }
            for account in updates {
                update_account_query!(account, now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        Ok(())
    }
}
