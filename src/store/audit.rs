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

/// Which entries to list: each given part must match. `actor` and `target` match part of the
/// text, case-insensitively (`target` also matches the names recorded in the details); `from`
/// and `to` are seconds since the epoch, `to` excluded.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: i64,
    pub offset: i64,
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
    ) -> Result<(Vec<AuditRow>, super::listing::Count), StoreError> {
        let filter = AuditFilter {
            limit,
            offset,
            ..AuditFilter::default()
        };
        self.search_audit(&filter).await
    }

    /// The entries that match every given part of `filter`, newest first, with their count.
    pub async fn search_audit(
        &self,
        filter: &AuditFilter,
    ) -> Result<(Vec<AuditRow>, super::listing::Count), StoreError> {
        let actor = filter.actor.as_deref().map(super::listing::like_pattern);
        let target = filter.target.as_deref().map(super::listing::like_pattern);
        const WHERE: &str = "where ($1 is null or lower(actor) like $1 escape '\\') \
            and ($2 is null or lower(coalesce(target, '')) like $2 escape '\\' or lower(detail) like $2 escape '\\') \
            and ($3 is null or action = $3) and ($4 is null or at >= $4) and ($5 is null or at < $5)";
        let count_sql = format!(
            "select count(*) from (select 1 from audit_log {WHERE} limit {}) matched",
            super::listing::COUNT_CAP + 1
        );
        let page_sql = format!(
            "select event_id, at, actor, action, target, detail, client_ip from audit_log {WHERE} \
             order by at desc, event_id desc limit $6 offset $7"
        );
        on_pool!(self, pool => {
            let total = sqlx::query_scalar::<_, i64>(&count_sql)
                .bind(&actor).bind(&target).bind(&filter.action).bind(filter.from).bind(filter.to)
                .fetch_one(pool).await?;
            let rows = sqlx::query_as::<_, AuditRow>(&page_sql)
                .bind(&actor).bind(&target).bind(&filter.action).bind(filter.from).bind(filter.to)
                .bind(filter.limit).bind(filter.offset)
                .fetch_all(pool).await?;
            Ok((rows, super::listing::Count::capped(total)))
        })
    }
}
