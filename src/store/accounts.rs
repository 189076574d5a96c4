use uuid::Uuid;

use super::{Store, StoreError, on_pool};

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
}

pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Vec<String>,
}

const ACCOUNT_COLUMNS: &str = "account_id, username, email, email_verified, given_name, family_name, \
                               password_hash, disabled, created_at, updated_at";

/// Case-insensitive uniqueness is kept in a normalized column (portable across backends).
pub fn normalize_key(value: &str) -> String {
    value.trim().to_lowercase()
}

impl Store {
    pub async fn insert_account(
        &self,
        new: NewAccount,
        now: i64,
    ) -> Result<AccountRow, StoreError> {
        let account_id = Uuid::new_v4();
        const INSERT: &str = "insert into account (account_id, username, username_key, email, email_key, \
            email_verified, given_name, family_name, password_hash, disabled, created_at, updated_at) \
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10, $10)";
        const INSERT_ROLE: &str = "insert into account_role (account_id, role) values ($1, $2)";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(INSERT)
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
                .execute(&mut *tx)
                .await?;
            for role in &new.roles {
                sqlx::query(INSERT_ROLE).bind(account_id).bind(role).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
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

    pub async fn account_roles(&self, account_id: Uuid) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "select role from account_role where account_id = $1 order by role";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, String>(SQL)
            .bind(account_id).fetch_all(pool).await)?)
    }

    pub async fn count_accounts(&self) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from account";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).fetch_one(pool).await)?)
    }

    pub async fn set_account_disabled(
        &self,
        account_id: Uuid,
        disabled: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update account set disabled = $2, updated_at = $3 where account_id = $1";
        let updated = on_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(disabled).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        if updated == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}
