use super::{Store, StoreError, on_pool};

/// Keys counted per statement (four parameters each, well within both backends' limits).
const KEYS_PER_STATEMENT: usize = 500;

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

    /// Counts one attempt for each of `keys` (distinct) before it is evaluated, in one statement,
    /// and returns each key's row after it, in the order of `keys`: `failures` is then the count
    /// including this attempt (attempts in flight included), restarting when the window is
    /// over. A key locked now is not counted (its row comes back as it is). The rows are written
    /// in key order, so two statements never wait on each other's rows in opposite orders.
    pub async fn count_attempts(
        &self,
        keys: &[&str],
        now: i64,
        window_seconds: i64,
    ) -> Result<Vec<ThrottleRow>, StoreError> {
        let mut sorted: Vec<&str> = keys.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut found: std::collections::HashMap<String, ThrottleRow> =
            std::collections::HashMap::with_capacity(sorted.len());
        for chunk in sorted.chunks(KEYS_PER_STATEMENT) {
            let records = on_pool!(self, pool => {
                let mut sql = sqlx::QueryBuilder::new(
                    "insert into login_throttle (throttle_key, failures, window_started_at, locked_until) ",
                );
                sql.push_values(chunk, |mut row, key| {
                    row.push_bind(*key).push_bind(1_i64).push_bind(now).push_bind(0_i64);
                });
                // `excluded.window_started_at` is now.
                sql.push(
                    " on conflict (throttle_key) do update set failures = case \
                      when login_throttle.locked_until > excluded.window_started_at then login_throttle.failures \
                      when login_throttle.window_started_at <= excluded.window_started_at - ",
                )
                .push_bind(window_seconds)
                .push(
                    " then 1 else login_throttle.failures + 1 end, window_started_at = case \
                      when login_throttle.locked_until > excluded.window_started_at then login_throttle.window_started_at \
                      when login_throttle.window_started_at <= excluded.window_started_at - ",
                )
                .push_bind(window_seconds)
                .push(
                    " then excluded.window_started_at else login_throttle.window_started_at end \
                      returning throttle_key, failures, window_started_at, locked_until",
                );
                sql.build_query_as::<KeyedThrottleRecord>().fetch_all(pool).await
            })?;
            found.extend(records.into_iter().map(|r| (r.throttle_key, r.row)));
        }
        keys.iter()
            .map(|key| {
                found
                    .get(*key)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt("a counted throttle row is missing".into()))
            })
            .collect()
    }

    /// Takes back attempts counted by `count_attempts` that were not evaluated after all: each
    /// (key, the window it was counted in) loses one, unless its window has restarted or it was
    /// locked (which zeroes the count) since. One statement per key: an update of several rows
    /// locks them in the table's order, which could deadlock with a count locking them in key
    /// order on PostgreSQL.
    pub async fn give_back_attempts(&self, counted: &[(&str, i64)]) -> Result<(), StoreError> {
        for (key, window_started_at) in counted {
            self.give_back_attempt(key, *window_started_at).await?;
        }
        Ok(())
    }

    async fn give_back_attempt(&self, key: &str, window_started_at: i64) -> Result<(), StoreError> {
        const SQL: &str = "update login_throttle set failures = failures - 1 \
            where throttle_key = $1 and window_started_at = $2 and failures > 0";
        on_pool!(self, pool => sqlx::query(SQL).bind(key).bind(window_started_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A right password: the account's count and lock are cleared (a fresh window from now), and
    /// the address gets back the one attempt this sign-in counted (if its window is the same),
    /// so any number of successes from one address never adds up to its limit. Two statements,
    /// for the reason `give_back_attempts` gives.
    pub async fn forgive_sign_in(
        &self,
        account_key: &str,
        ip_key: &str,
        ip_window_started_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update login_throttle set failures = 0, locked_until = 0, \
            window_started_at = $2 where throttle_key = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(account_key).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        self.give_back_attempt(ip_key, ip_window_started_at).await
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
