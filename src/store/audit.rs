use uuid::Uuid;

use super::{Store, StoreError, on_pool};

/// One administrative change: who (`actor`), what (`action` on `target`, with `detail` as JSON),
/// when (`at`) and from where (`client_ip`).
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub event_id: Uuid,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: String,
    pub client_ip: Option<String>,
}

impl Store {
    pub async fn insert_audit(&self, entry: &AuditEntry, now: i64) -> Result<(), StoreError> {
        const SQL: &str = "insert into audit_log (event_id, at, actor, action, target, detail, client_ip) \
            values ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(Uuid::now_v7()) // time-ordered: entries of the same second keep their order
            .bind(now)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.target)
            .bind(entry.detail.to_string())
            .bind(&entry.client_ip)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Newest first, one page, with the total count.
    pub async fn list_audit(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditRow>, i64), StoreError> {
        const COUNT: &str = "select count(*) from audit_log";
        const PAGE: &str = "select event_id, at, actor, action, target, detail, client_ip from audit_log \
            order by at desc, event_id desc limit $1 offset $2";
        on_pool!(self, pool => {
            let total = sqlx::query_scalar::<_, i64>(COUNT).fetch_one(pool).await?;
            let rows = sqlx::query_as::<_, AuditRow>(PAGE).bind(limit).bind(offset).fetch_all(pool).await?;
            Ok((rows, total))
        })
    }
}
