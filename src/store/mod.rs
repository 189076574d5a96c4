//! All SQL lives here. One SQL string per query, run on either backend through `on_pool!`.

mod account_import;
mod account_search;
mod account_sessions;
mod accounts;
mod audit;
mod authorization;
mod cache;
mod clients;
mod device;
mod factors;
mod invitations;
mod keys;
mod links;
mod listing;
mod mail;
mod passwords;
mod pending_authorizations;
mod protocol;
mod refresh_tokens;
mod remembered;
mod sessions;
mod throttle;
mod webauthn;

pub use account_sessions::{
    BrowserSessionRow, ConnectedAppRow, NewBrowserSession, NewSignInEvent, SignInEventRow,
};
pub use accounts::{AccountFilter, AccountRow, NewAccount, StringList, normalize_key};
pub use audit::{AuditEntry, AuditFilter, AuditRow};
pub use authorization::{
    AuthCodeRow, CodeRedemption, GrantRow, NewAuthCode, NewGrant, UserinfoRow,
};
pub use clients::{ClientRow, ClientSettings, NewClient};
pub use device::{DeviceApproval, DevicePoll, DeviceRow, NewDevice};
pub use factors::MfaRow;
pub use keys::SigningKeyRow;
pub use links::{LinkPurpose, LinkRow, NewLink};
pub use listing::{COUNT_CAP, Count};
pub use mail::{MailRow, NewMail, PendingLinkRow};
pub use passwords::{KeepGrants, PasswordSet};
pub use pending_authorizations::PendingAuthorizationRow;
pub use protocol::{BackchannelDeliveryRow, NewBackchannelDelivery, RefreshTokenRow};
pub use refresh_tokens::RefreshRotation;
pub use remembered::RememberedRow;
pub use sessions::{LOGIN_KEY, SessionLifetime, SessionRows};
pub use throttle::ThrottleRow;
pub use webauthn::WebauthnRow;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflicts with an existing record")]
    Conflict,
    #[error("the last active admin cannot be removed, disabled or demoted")]
    LastAdmin,
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl StoreError {
    /// The database could not be reached in time (pool exhausted or closed, connection lost) or
    /// is going away or coming back (PostgreSQL's classes 08 connection exception, 53
    /// insufficient resources and 57 operator intervention: a shutdown ends statements under way
    /// with 57P01, a starting server refuses with 57P03): every boundary answers 503 for this,
    /// never 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => true,
            StoreError::Db(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
                ["08", "53", "57"]
                    .iter()
                    .any(|class| code.starts_with(class))
            }),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Db(err),
        }
    }
}

/// The database, either embedded SQLite (trial) or PostgreSQL (production).
#[derive(Clone)]
pub enum Db {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

/// The database and the read cache in front of it (see `cache`).
#[derive(Clone)]
pub struct Store {
    db: Db,
    cache: Arc<cache::ReadCache>,
}

impl std::fmt::Debug for Store {
    // Never print connection details: a URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend_name())
    }
}

/// Expands the body once per driver, so each arm is type-checked against its own driver.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.db() {
            $crate::store::Db::Postgres($pool) => $body,
            $crate::store::Db::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Store {
    /// Opens a pool for `database_url` (`postgres://…` or `sqlite://…`), creating a SQLite file if needed.
    /// `acquire_timeout` bounds how long a request waits for a connection, so a database outage
    /// is answered (503) within it.
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Self::connect_with(database_url, max_connections, Duration::from_secs(3)).await
    }

    pub async fn connect_with(
        database_url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Store, StoreError> {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(database_url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Store::new(Db::Postgres(pool)))
        } else {
            let options = SqliteConnectOptions::from_str(database_url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Store::new(Db::Sqlite(pool)))
        }
    }

    fn new(db: Db) -> Store {
        Store {
            db,
            cache: Arc::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn backend_name(&self) -> &'static str {
        match self.db() {
            Db::Postgres(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
        }
    }

    /// Keeps the read cache in step with the database for as long as the server runs: listens for
    /// the invalidation triggers' notifications, and on a lost connection serves from the
    /// database alone until listening again. Returns at once on SQLite, which has no cache.
    pub async fn follow_invalidations(&self) {
        let Db::Postgres(pool) = self.db() else {
            return;
        };
        loop {
            match Self::listen(pool).await {
                Ok(mut listener) => {
                    // Changes made while not listening are unknown: start from empty.
                    self.cache.set_listening(true);
                    // `try_recv` answers None when the connection drops; a fresh listener follows.
                    while let Ok(Some(_)) = listener.try_recv().await {
                        self.cache.invalidate();
                    }
                    self.cache.set_listening(false);
                    tracing::warn!(
                        "lost the cache invalidation channel; reading from the database"
                    );
                }
                Err(e) => tracing::debug!(error = %e, "cannot listen for cache invalidations yet"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// A listener on a connection of its own: taken from the request pool it would hold one of
    /// its connections for good (all of them when HCCC_SSO_DB_MAX_CONNECTIONS=1).
    async fn listen(pool: &sqlx::PgPool) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(pool.connect_options().as_ref().clone())
            .await?;
        let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
        listener.listen(cache::INVALIDATION_CHANNEL).await?;
        Ok(listener)
    }

    /// Applies the backend's migrations from migrations/<backend>/ (embedded at build time).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match self.db() {
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
        };
        result.map_err(|e| StoreError::Db(e.into()))
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("select 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes one batch of up to `SWEEP_BATCH` rows of the sweep's table that are done with as
    /// of `cutoff` (now, or for the audit log the oldest time kept). One short statement per
    /// batch, found by an index: a million expired rows never become one long delete holding its
    /// locks.
    async fn sweep_batch(&self, sweep: &Sweep, cutoff: i64) -> Result<u64, StoreError> {
        let Sweep {
            table, key, done, ..
        } = sweep;
        let sql = format!(
            "delete from {table} where {key} in (select {key} from {table} where {done} limit {SWEEP_BATCH})"
        );
        Ok(
            on_pool!(self, pool => sqlx::query(&sql).bind(cutoff).execute(pool).await
            .map(|r| r.rows_affected()))?,
        )
    }

    /// Deletes every row the sweep's tables are done with, batch by batch with a pause between
    /// (so requests get the database in between), up to `max_batches` per table; what is left
    /// waits for the next run. `audit_retention_days` 0 keeps the audit log whole.
    pub async fn delete_expired(
        &self,
        now: i64,
        audit_retention_days: i64,
        max_batches: u32,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for sweep in &SWEEPS {
            if sweep.by_retention && audit_retention_days == 0 {
                continue;
            }
            let cutoff = if sweep.by_retention {
                now - audit_retention_days * 86_400
            } else {
                now
            };
            deleted += in_batches(max_batches, || self.sweep_batch(sweep, cutoff)).await?;
        }
        deleted += in_batches(max_batches, || self.sweep_sessions(now)).await?;
        Ok(deleted)
    }
}

/// Runs `batch` until it deletes less than a full batch or `max_batches` ran, pausing between
/// batches; answers how many rows it deleted.
async fn in_batches<F, Fut>(max_batches: u32, mut batch: F) -> Result<u64, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let mut deleted = 0;
    for _ in 0..max_batches {
        let rows = batch().await?;
        deleted += rows;
        if rows < SWEEP_BATCH {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    Ok(deleted)
}

/// Rows deleted per statement of the sweep.
pub const SWEEP_BATCH: u64 = 2_000;

/// A table the sweep empties of rows that are done with as of `$1`.
pub struct Sweep {
    pub table: &'static str,
    key: &'static str,
    done: &'static str,
    /// `$1` is the audit retention's cutoff rather than now.
    pub by_retention: bool,
}

const fn expired(table: &'static str, key: &'static str, done: &'static str) -> Sweep {
    Sweep {
        table,
        key,
        done,
        by_retention: false,
    }
}

/// Expired codes, requests, tokens, denylist entries, sessions, remembered browsers, links and mail; throttle rows of
/// the past; sign-in activity older than 90 days; audit entries older than the retention.
pub const SWEEPS: [Sweep; 14] = [
    expired("auth_code", "code_hash", "expires_at < $1"),
    expired("revoked_access_token", "jti", "expires_at < $1"),
    expired("pushed_request", "request_id", "expires_at < $1"),
    expired(
        "device_authorization",
        "device_code_hash",
        "expires_at < $1",
    ),
    expired("used_assertion", "jti_key", "expires_at < $1"),
    expired("pending_authorization", "request_id", "expires_at < $1"),
    expired("refresh_token", "token_hash", "expires_at < $1"),
    expired(
        "login_throttle",
        "throttle_key",
        "window_started_at < $1 - 86400 and locked_until < $1",
    ),
    expired("browser_session", "sid", "expires_at < $1"),
    expired("remembered_browser", "remembered_id", "expires_at < $1"),
    expired("account_link", "token_hash", "expires_at < $1 - 86400"),
    expired("mail_outbox", "mail_id", "expires_at < $1"),
    expired("sign_in_event", "event_id", "at < $1 - 7776000"),
    Sweep {
        table: "audit_log",
        key: "event_id",
        done: "at < $1",
        by_retention: true,
    },
];

/// Decodes a JSON array of strings kept in a text column.
pub fn decode_string_list(column: &str, raw: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn encode_string_list(values: &[String]) -> String {
    serde_json::Value::from(values).to_string()
}
