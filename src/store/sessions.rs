//! Browser sessions: tower-sessions-sqlx-store's tables and encoding, with a `create` of our own.

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::{Db, Store, StoreError, on_pool};

/// tower-sessions-sqlx-store loads, saves, deletes and expires sessions; `create` is ours, one
/// statement instead of its four round trips (begin, look the id up, insert, commit). Every
/// sign-in creates two sessions (the login page's, then the signed-in one under a new id), so
/// that was six of its 26 statements. Same table, same MessagePack records: sessions written by
/// either side read back on the other.
/// The session entry that holds who is signed in (sessions writes it).
pub const LOGIN_KEY: &str = "login";

#[derive(Clone, Debug)]
pub struct SessionRows<S> {
    inner: S,
    store: Store,
    lifetime: SessionLifetime,
}

/// How long a stored session may live past its last write, in seconds. tower-sessions gives
/// browser-session cookies two weeks in the store; the row lives only as long as the idle timeout
/// (activity rewrites it), or the remembered lifetime when the person chose to stay signed in.
#[derive(Clone, Copy, Debug)]
pub struct SessionLifetime {
    pub idle: i64,
    pub remembered: i64,
}

impl<S> SessionRows<S> {
    pub fn new(inner: S, store: Store, lifetime: SessionLifetime) -> Self {
        SessionRows {
            inner,
            store,
            lifetime,
        }
    }

    /// The record with its expiry capped by what the session is.
    fn capped(&self, record: &Record) -> Record {
        let remembered = record
            .data
            .get(LOGIN_KEY)
            .and_then(|login| login.get("remember"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let seconds = if remembered {
            self.lifetime.remembered.max(self.lifetime.idle)
        } else {
            self.lifetime.idle
        };
        let cap = OffsetDateTime::now_utc().saturating_add(time::Duration::seconds(seconds));
        let mut record = record.clone();
        record.expiry_date = record.expiry_date.min(cap);
        record
    }
}

#[async_trait]
impl<S: SessionStore + Clone> SessionStore for SessionRows<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        record.expiry_date = self.capped(record).expiry_date;
        loop {
            let data = rmp_serde::to_vec(&*record)
                .map_err(|e| session_store::Error::Encode(e.to_string()))?;
            let id = record.id.to_string();
            let stored = self
                .store
                .insert_new_session(&id, &data, record.expiry_date)
                .await
                .map_err(|e| session_store::Error::Backend(e.to_string()))?;
            if stored {
                return Ok(());
            }
            // The id is taken (128 random bits: practically never); a session is never overwritten.
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.inner.save(&self.capped(record)).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.inner.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.inner.delete(id).await
    }
}

impl Store {
    /// Stores a new session unless its id is taken; false when it is.
    pub async fn insert_new_session(
        &self,
        id: &str,
        data: &[u8],
        expiry_date: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        // tower-sessions-sqlx-store's default tables on each backend.
        const PG: &str = r#"insert into "tower_sessions"."session" (id, data, expiry_date)
            values ($1, $2, $3) on conflict (id) do nothing"#;
        const SQLITE: &str = "insert into tower_sessions (id, data, expiry_date) \
            values ($1, $2, $3) on conflict (id) do nothing";
        let sql = match self.db() {
            Db::Postgres(_) => PG,
            Db::Sqlite(_) => SQLITE,
        };
        let inserted = on_pool!(self, pool => sqlx::query(sql).bind(id).bind(data).bind(expiry_date)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// Deletes one batch of expired sessions from the session store's table (the library's own
    /// sweep is one unbounded delete, by a scan of the whole table).
    pub async fn sweep_sessions(&self, now: i64) -> Result<u64, StoreError> {
        // The library's table on each backend. Both sides of the comparison are written by the
        // library in one UTC format, so on SQLite text order is time order.
        let table = match self.db() {
            Db::Postgres(_) => r#""tower_sessions"."session""#,
            Db::Sqlite(_) => "tower_sessions",
        };
        let sql = format!(
            "delete from {table} where id in \
             (select id from {table} where expiry_date < $1 limit {})",
            super::SWEEP_BATCH
        );
        let now = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(
            on_pool!(self, pool => sqlx::query(&sql).bind(now).execute(pool).await
            .map(|r| r.rows_affected()))?,
        )
    }

    /// The index the sweep finds expired sessions by; the library's table has none.
    pub async fn index_session_expiry(&self) -> Result<(), StoreError> {
        const PG: &str = r#"create index if not exists session_expiry on "tower_sessions"."session" (expiry_date)"#;
        const SQLITE: &str =
            "create index if not exists tower_sessions_expiry on tower_sessions (expiry_date)";
        let sql = match self.db() {
            Db::Postgres(_) => PG,
            Db::Sqlite(_) => SQLITE,
        };
        on_pool!(self, pool => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
