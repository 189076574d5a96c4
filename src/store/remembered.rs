//! Browsers remembered for the second factor ("don't ask again on this browser").

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RememberedRow {
    pub remembered_id: Uuid,
    pub account_id: Uuid,
    /// The amr values of the factor it remembers, space-separated.
    pub methods: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str =
    "remembered_id, account_id, methods, user_agent, ip, created_at, expires_at, last_used_at";

impl Store {
    pub async fn insert_remembered(
        &self,
        row: &RememberedRow,
        token_hash: &[u8],
    ) -> Result<(), StoreError> {
        let sql = format!(
            "insert into remembered_browser ({COLUMNS}, token_hash) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(row.remembered_id).bind(row.account_id).bind(&row.methods)
            .bind(&row.user_agent).bind(&row.ip).bind(row.created_at).bind(row.expires_at)
            .bind(row.last_used_at).bind(token_hash)
            .execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// The live remembered browser of `account_id` whose token hashes to `token_hash`, marked
    /// used now.
    pub async fn use_remembered(
        &self,
        account_id: Uuid,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<RememberedRow>, StoreError> {
        let sql = format!(
            "update remembered_browser set last_used_at = $3 \
             where token_hash = $1 and account_id = $2 and expires_at > $3 returning {COLUMNS}"
        );
        let row = on_pool!(self, pool => sqlx::query_as::<_, RememberedRow>(&sql)
            .bind(token_hash).bind(account_id).bind(now).fetch_optional(pool).await)?;
        Ok(row)
    }

    pub async fn list_remembered(
        &self,
        account_id: Uuid,
        now: i64,
    ) -> Result<Vec<RememberedRow>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from remembered_browser where account_id = $1 and expires_at > $2 \
             order by created_at, remembered_id"
        );
        let rows = on_pool!(self, pool => sqlx::query_as::<_, RememberedRow>(&sql)
            .bind(account_id).bind(now).fetch_all(pool).await)?;
        Ok(rows)
    }

    /// Forgets one of the account's browsers, or every one (`None`).
    pub async fn forget_remembered(
        &self,
        account_id: Uuid,
        remembered_id: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "delete from remembered_browser where account_id = $1 \
            and ($2 is null or remembered_id = $2)";
        let n = on_pool!(self, pool => sqlx::query(SQL).bind(account_id).bind(remembered_id)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}
