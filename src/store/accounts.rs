//! Accounts: their rows, and creating, reading, changing and deleting them. Searching the
//! directory is in `account_search.rs`, passwords in `passwords.rs`, the bulk import in
//! `account_import.rs`.

use uuid::Uuid;

use super::links::{LinkPurpose, end_links_sql};
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
    /// Bumped by every password change; sessions signed in under an older value are over.
    pub credential_version: i64,
    /// The language the person prefers (`en`, `es`), if they chose one.
    pub locale: Option<String>,
    /// Where invitations and resets go when there is one (the college mailbox may itself be
    /// behind this sign-on).
    pub recovery_email: Option<String>,
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
    pub locale: Option<String>,
    pub recovery_email: Option<String>,
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
    password_hash, disabled, created_at, updated_at, roles, groups, must_change_password, credential_version, \
    locale, recovery_email";

/// Case-insensitive uniqueness is kept in a normalized column (portable across backends).
pub fn normalize_key(value: &str) -> String {
    value.trim().to_lowercase()
}

pub(super) const INSERT_ACCOUNT: &str = "insert into account (account_id, username, username_key, email, email_key, \
    email_verified, given_name, family_name, password_hash, disabled, created_at, updated_at, roles, groups, \
    must_change_password, locale, recovery_email) ";

/// An account's active admins are counted under a row lock on PostgreSQL, so two concurrent
/// demotions cannot both pass; SQLite serializes writers anyway.
const ACTIVE_ADMINS_PG: &str = "select account_id from account \
    where roles like '%\"admin\"%' and disabled = false for update";
const ACTIVE_ADMINS_SQLITE: &str =
    "select account_id from account where roles like '%\"admin\"%' and disabled = false";

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
            "{INSERT_ACCOUNT} values ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10, $10, $11, $12, $13, $14, $15)"
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
            .bind(&new.locale)
            .bind(&new.recovery_email)
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

    /// Writes the fields in which `after` differs from `before`, and only those, so a change made
    /// meanwhile to another field (an admin disabling the account while another renames it) is
    /// kept. When the change disables the account, its grants are revoked in the same transaction
    /// (ending refresh and access tokens), and its unspent e-mailed links end. Refuses with
    /// `LastAdmin` a change that would leave no active admin, judged against the rows as they are
    /// inside the transaction.
    pub async fn update_account(
        &self,
        before: &AccountRow,
        after: &AccountRow,
        now: i64,
    ) -> Result<AccountRow, StoreError> {
        let roles_change = after.roles != before.roles;
        let disabled_change = after.disabled != before.disabled;
        let stays_admin = (!roles_change || after.roles.contains_str("admin"))
            && (!disabled_change || !after.disabled);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let admins_sql = match self.db() { Db::Postgres(_) => ACTIVE_ADMINS_PG, Db::Sqlite(_) => ACTIVE_ADMINS_SQLITE };
            let admins: Vec<Uuid> = sqlx::query_scalar(admins_sql).fetch_all(&mut *tx).await?;
            if admins.contains(&after.account_id) && !stays_admin && admins.len() == 1 {
                return Err(StoreError::LastAdmin);
            }
            let mut update = sqlx::QueryBuilder::new("update account set updated_at = ");
            update.push_bind(now);
            if after.username != before.username {
                update.push(", username = ").push_bind(after.username.clone());
                update.push(", username_key = ").push_bind(normalize_key(&after.username));
            }
            if after.email != before.email {
                update.push(", email = ").push_bind(after.email.clone());
                update.push(", email_key = ").push_bind(normalize_key(&after.email));
            }
            if after.email_verified != before.email_verified {
                update.push(", email_verified = ").push_bind(after.email_verified);
            }
            if after.given_name != before.given_name {
                update.push(", given_name = ").push_bind(after.given_name.clone());
            }
            if after.family_name != before.family_name {
                update.push(", family_name = ").push_bind(after.family_name.clone());
            }
            if roles_change {
                update.push(", roles = ").push_bind(encode_string_list(&after.roles));
            }
            if after.groups != before.groups {
                update.push(", groups = ").push_bind(encode_string_list(&after.groups));
            }
            if disabled_change {
                update.push(", disabled = ").push_bind(after.disabled);
            }
            if after.must_change_password != before.must_change_password {
                update.push(", must_change_password = ").push_bind(after.must_change_password);
            }
            if after.locale != before.locale {
                update.push(", locale = ").push_bind(after.locale.clone());
            }
            if after.recovery_email != before.recovery_email {
                update
                    .push(", recovery_email = ")
                    .push_bind(after.recovery_email.clone());
            }
            update.push(" where account_id = ").push_bind(after.account_id);
            let updated = update.build().execute(&mut *tx).await?.rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            if disabled_change && after.disabled {
                sqlx::query(REVOKE_ACCOUNT_GRANTS).bind(after.account_id).bind(now).execute(&mut *tx).await?;
                // Ended, not only refused while disabled: re-enabling must not bring a link back.
                let (end_links, drop_mail) = end_links_sql(&LinkPurpose::ALL);
                sqlx::query(&end_links).bind(after.account_id).bind(now).execute(&mut *tx).await?;
                sqlx::query(&drop_mail).bind(after.account_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        self.find_account(after.account_id)
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

    pub async fn set_account_disabled(
        &self,
        account_id: Uuid,
        disabled: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let before = self
            .find_account(account_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut after = before.clone();
        after.disabled = disabled;
        self.update_account(&before, &after, now).await.map(|_| ())
    }
}
