use super::{Store, StoreError, on_pool};

/// Failed sign-in attempts counted for one key (`user:<name>` or `ip:<addr>`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThrottleRow {
    pub failures: i64,
    pub window_started_at: i64,
    pub locked_until: i64,
}

#[derive(sqlx::FromRow)]
struct KeyedThrottleRecord {
    throttle_key: String,
    #[sqlx(flatten)]
    row: ThrottleRow,
}

impl Store {
    pub async fn find_throttle(&self, key: &str) -> Result<Option<ThrottleRow>, StoreError> {
        const SQL: &str = "select failures, window_started_at, locked_until from login_throttle where throttle_key = $1";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, ThrottleRow>(SQL)
            .bind(key).fetch_optional(pool).await)?)
    }

    /// The rows of both keys a sign-in is counted under (account name and IP), in one round trip.
    pub async fn find_throttle_pair(
        &self,
        keys: [&str; 2],
    ) -> Result<[Option<ThrottleRow>; 2], StoreError> {
        const SQL: &str = "select throttle_key, failures, window_started_at, locked_until \
            from login_throttle where throttle_key in ($1, $2)";
        let records = on_pool!(self, pool => sqlx::query_as::<_, KeyedThrottleRecord>(SQL)
            .bind(keys[0]).bind(keys[1]).fetch_all(pool).await)?;
        let mut found = [None, None];
        for record in records {
            for (slot, key) in found.iter_mut().zip(keys) {
                if record.throttle_key == key {
                    *slot = Some(record.row.clone());
                }
            }
        }
        Ok(found)
    }

    /// Counts one failure; the count restarts when the window that began at `window_started_at` is over.
    pub async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        window_seconds: i64,
    ) -> Result<ThrottleRow, StoreError> {
        const SQL: &str = "insert into login_throttle (throttle_key, failures, window_started_at, locked_until) \
            values ($1, 1, $2, 0) \
            on conflict (throttle_key) do update set \
              failures = case when login_throttle.window_started_at <= $2 - $3 then 1 \
                              else login_throttle.failures + 1 end, \
              window_started_at = case when login_throttle.window_started_at <= $2 - $3 then $2 \
                                       else login_throttle.window_started_at end \
            returning failures, window_started_at, locked_until";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, ThrottleRow>(SQL)
            .bind(key).bind(now).bind(window_seconds).fetch_one(pool).await)?)
    }

    pub async fn lock_throttle(&self, key: &str, until: i64) -> Result<(), StoreError> {
        const SQL: &str =
            "update login_throttle set locked_until = $2, failures = 0 where throttle_key = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(key).bind(until).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn clear_throttle(&self, key: &str) -> Result<(), StoreError> {
        const SQL: &str = "delete from login_throttle where throttle_key = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(key).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
