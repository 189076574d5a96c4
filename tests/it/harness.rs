//! Starts the real application on 127.0.0.1:0 against a fresh database, SQLite or PostgreSQL.

use std::sync::OnceLock;

use hccc_sso::accounts;
use hccc_sso::app::App;
use hccc_sso::clock::Clock;
use hccc_sso::config::Config;
use hccc_sso::crypto;
use hccc_sso::domain::{AuthMethod, GrantType};
use hccc_sso::state::AppState;
use hccc_sso::store::{AccountRow, NewAccount, NewClient, Store};
use reqwest::redirect::Policy;
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use openidconnect::reqwest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT_URI: &str = "http://127.0.0.1:8765/cb";
/// Test servers serve /metrics on their public listener behind this token.
pub const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789";

/// The PostgreSQL server for tests, from TEST_DATABASE_URL. Under CI=true it is required.
pub fn postgres_server_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL run is required in CI");
    }
    url
}

/// What a test needs from outside (a tool, a package) must be there when it runs: build.rs marks
/// the test ignored when it is missing at build time (except under `CI=true`, where `.ci/run`
/// installs everything), so missing now means CI lacks it or it went away since the build.
/// Either way the test fails: it never passes untried.
pub fn require(present: bool, what: &str) {
    assert!(
        present,
        "this test needs {what}, which is missing (under CI=true, or since the tests were built)"
    );
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>, // (server url, database name)
}

impl TestDb {
    /// A scratch directory that lives as long as the database.
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// An empty database: for tests of what happens on one (migrations, first start-up, key
    /// generation, commands run before any server).
    pub async fn fresh(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(TestDb {
                    url,
                    _dir: dir,
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let server = postgres_server_url()?;
                let name = format!("hccc_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                sqlx::query(&format!("create database {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                let url = database_url_on(&server, &name);
                Some(TestDb {
                    url,
                    _dir: dir,
                    postgres: Some((server, name)),
                })
            }
        }
    }

    /// A database as the server leaves it on its first start, at `now`: a copy of this process's
    /// template (see `Template`), its timestamps moved to `now` as if the keys were made then.
    pub async fn prepared(backend: Backend, now: i64) -> Option<TestDb> {
        let template = Template::of(backend).await?;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = match template {
            Template::Sqlite { file, .. } => {
                let copy = dir.path().join("test.db");
                std::fs::copy(file, &copy).expect("copy the SQLite template");
                TestDb {
                    url: format!("sqlite://{}", copy.display()),
                    _dir: dir,
                    postgres: None,
                }
            }
            Template::Postgres { server, name, .. } => {
                let copy = format!("hccc_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(server)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                sqlx::query(&format!("create database {copy} template {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create database from the template");
                TestDb {
                    url: database_url_on(server, &copy),
                    _dir: dir,
                    postgres: Some((server.clone(), copy)),
                }
            }
        };
        template.move_to(&db.url, now).await;
        Some(db)
    }
}

/// A database migrated, with signing keys, made by `app::build_state` once per test process and
/// backend and copied for each test: key generation and migrations are most of a start-up. Per
/// process, because the keys are sealed with this process's `secret_key()`.
enum Template {
    Sqlite {
        file: std::path::PathBuf,
        made_at: i64,
    },
    Postgres {
        server: String,
        name: String,
        made_at: i64,
    },
}

impl Template {
    async fn of(backend: Backend) -> Option<&'static Template> {
        static SQLITE: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
        static POSTGRES: tokio::sync::OnceCell<Template> = tokio::sync::OnceCell::const_new();
        match backend {
            Backend::Sqlite => Some(SQLITE.get_or_init(Template::make_sqlite).await),
            Backend::Postgres => {
                let server = postgres_server_url()?;
                Some(
                    POSTGRES
                        .get_or_init(|| Template::make_postgres(server))
                        .await,
                )
            }
        }
    }

    async fn make_sqlite() -> Template {
        let dir = scratch_dir_for_the_process();
        let file = dir.join("template.db");
        let made_at = build_and_close(&format!("sqlite://{}", file.display()), dir).await;
        Template::Sqlite { file, made_at }
    }

    async fn make_postgres(server: String) -> Template {
        let name = format!("hccc_t_template_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&server)
            .await
            .expect("connect to TEST_DATABASE_URL");
        sqlx::query(&format!("create database {name}"))
            .execute(&mut conn)
            .await
            .expect("create the template database");
        drop_at_exit(server.clone(), name.clone());
        let made_at = build_and_close(
            &database_url_on(&server, &name),
            scratch_dir_for_the_process(),
        )
        .await;
        Template::Postgres {
            server,
            name,
            made_at,
        }
    }

    /// Moves the copy's start-up timestamps (the keys' creation and activation, the key-rotation
    /// lease) from the template's making to `now`, so the copy is what a start at `now` makes.
    async fn move_to(&self, url: &str, now: i64) {
        let (Template::Sqlite { made_at, .. } | Template::Postgres { made_at, .. }) = self;
        let shift = now - made_at;
        let statements = [
            "update signing_key set created_at = created_at + $1, activates_at = activates_at + $1",
            "update maintenance_lease set held_until = held_until + $1 where held_until > 0",
        ];
        let store =
            hccc_sso::store::Store::connect_with(url, 1, std::time::Duration::from_secs(30))
                .await
                .expect("open the copy of the template");
        match store.db() {
            hccc_sso::store::Db::Postgres(pool) => {
                for sql in statements {
                    sqlx::query(sql)
                        .bind(shift)
                        .execute(pool)
                        .await
                        .expect("shift");
                }
                pool.close().await;
            }
            hccc_sso::store::Db::Sqlite(pool) => {
                for sql in statements {
                    sqlx::query(sql)
                        .bind(shift)
                        .execute(pool)
                        .await
                        .expect("shift");
                }
                pool.close().await;
            }
        }
    }
}

/// Runs the server's start-up on the database at `url` and closes every connection to it (a
/// PostgreSQL template must have none), the SQLite one whole in its file. Returns the time the
/// keys were made at.
async fn build_and_close(url: &str, data_dir: &std::path::Path) -> i64 {
    let clock = Clock::manual();
    let made_at = clock.now();
    let config = test_config(url, "http://127.0.0.1", &data_dir.display().to_string());
    let state = hccc_sso::app::build_state(config, clock)
        .await
        .expect("the template database starts");
    match state.store.db() {
        hccc_sso::store::Db::Postgres(pool) => pool.close().await,
        hccc_sso::store::Db::Sqlite(pool) => {
            // Everything into the database file now: a closing connection folds the WAL in on
            // its own thread, possibly after `close` returns and the file is copied.
            let (busy,): (i64,) = sqlx::query_as("pragma wal_checkpoint(truncate)")
                .fetch_one(pool)
                .await
                .expect("checkpoint the template");
            assert_eq!(busy, 0, "the template's WAL is folded in whole");
            pool.close().await
        }
    }
    made_at
}

/// A directory for this process's templates, removed when the process exits.
fn scratch_dir_for_the_process() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("hccc-it-templates-")
            .tempdir()
            .expect("tempdir")
            .keep();
        remove_at_exit(dir.clone());
        dir
    })
}

/// Cleanups that run when the test process exits (statics are never dropped).
static AT_EXIT: std::sync::Mutex<Vec<Box<dyn FnOnce() + Send>>> = std::sync::Mutex::new(Vec::new());

fn at_exit(cleanup: impl FnOnce() + Send + 'static) {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        unsafe extern "C" {
            fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
        }
        extern "C" fn run_cleanups() {
            let cleanups = std::mem::take(&mut *AT_EXIT.lock().unwrap_or_else(|p| p.into_inner()));
            for cleanup in cleanups {
                cleanup();
            }
        }
        // SAFETY: `atexit` from the C library, given a function that takes nothing and never
        // unwinds past it (the cleanups ignore their errors).
        unsafe {
            atexit(run_cleanups);
        }
    });
    AT_EXIT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Box::new(cleanup));
}

fn remove_at_exit(dir: std::path::PathBuf) {
    at_exit(move || {
        let _ = std::fs::remove_dir_all(dir);
    });
}

fn drop_at_exit(server: String, name: String) {
    at_exit(move || drop_database(server, name));
}

/// Drops a PostgreSQL database from outside any async context, ignoring failures (a database
/// left behind by a killed run is harmless: every name is new).
fn drop_database(server: String, name: String) {
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                    .execute(&mut conn)
                    .await;
            }
        });
    })
    .join();
}

/// The URL of database `name` on the server of `server_url`.
pub fn database_url_on(server_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            drop_database(server, name);
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: Clock,
    pub db: TestDb,
    _stop: oneshot::Sender<()>,
}

pub fn secret_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| crypto::b64url(&crypto::random_bytes::<32>()))
}

pub fn test_config(db_url: &str, issuer: &str, data_dir: &str) -> Config {
    let (mut config, _) = Config::load(&[
        ("HCCC_SSO_ISSUER", issuer),
        ("DATABASE_URL", db_url),
        ("HCCC_SSO_SECRET_KEY", secret_key()),
        ("HCCC_SSO_DATA_DIR", data_dir),
        ("HCCC_SSO_DB_MAX_CONNECTIONS", "5"),
        ("HCCC_SSO_METRICS_TOKEN", METRICS_TOKEN),
        // The admin pages' tests sign in with a password alone; the second-factor tests turn
        // the default policy (admins need one) back on.
        ("HCCC_SSO_MFA_REQUIRED_ROLES", ""),
    ])
    .expect("test configuration is valid");
    // Keep failure slow-downs short so throttling tests run fast; they still measure the delay.
    config.login.slowdown_step_ms = 50;
    config
}

/// A shared lab computer's address: tests send it as `X-Forwarded-For` through the trusted
/// proxy that `lab_network` configures (the test client itself, on 127.0.0.1).
pub const LAB_IP: &str = "10.20.1.5";

/// The college's network of shared computers (10.20.0.0/16, where the QR sign-in is offered and
/// no browser is remembered), reached through a trusted proxy on 127.0.0.1. Requests without
/// `X-Forwarded-For` still come from 127.0.0.1, off that network.
pub fn lab_network(config: &mut Config) {
    config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("proxy net")];
    config.mfa.shared_networks = vec!["10.20.0.0/16".parse().expect("lab net")];
}

/// A client that behaves like a browser on a shared lab computer (`LAB_IP`).
pub fn lab_browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        reqwest::header::HeaderValue::from_static(LAB_IP),
    );
    client_builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Starts the app; `None` when the backend is PostgreSQL and no server is configured.
pub async fn start(backend: Backend) -> Option<TestApp> {
    start_with(backend, |_| {}).await
}

pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    start_as(backend, "127.0.0.1", adjust).await
}

/// The app with its issuer at `http://{host}:PORT` (listening on 127.0.0.1): `localhost` for
/// WebAuthn, whose relying-party id cannot be an IP address.
pub async fn start_as(
    backend: Backend,
    host: &str,
    adjust: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    start_bound(backend, "127.0.0.1:0", host, adjust).await
}

/// The app listening on `bind` (`[::]:0`: every address, IPv4 peers seen as `::ffff:…`), its
/// issuer at `http://{host}:PORT`.
pub async fn start_bound(
    backend: Backend,
    bind: &str,
    host: &str,
    adjust: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    init_logging();
    let clock = Clock::manual();
    let db = TestDb::prepared(backend, clock.now()).await?;
    let listener = TcpListener::bind(bind).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://{host}:{port}");
    let mut config = test_config(&db.url, &base, &db._dir.path().display().to_string());
    adjust(&mut config);
    let app = App::bind(config, listener, clock.clone())
        .await
        .expect("app starts");
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.serve(async {
        let _ = stopped.await;
    }));
    Some(TestApp {
        base,
        state,
        clock,
        db,
        _stop: stop,
    })
}

/// A second server (another replica) on the same database as `first`, sharing its clock.
pub async fn start_replica(first: &TestApp) -> (String, AppState, oneshot::Sender<()>) {
    start_replica_with(first, |_| {}).await
}

/// A replica whose configuration `adjust` changes first.
pub async fn start_replica_with(
    first: &TestApp,
    adjust: impl FnOnce(&mut Config),
) -> (String, AppState, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut config = test_config(
        &first.db.url,
        &first.base,
        &first.db.dir().display().to_string(),
    );
    config.login = first.state.config.login.clone();
    adjust(&mut config);
    let app = App::bind(config, listener, first.clock.clone())
        .await
        .expect("replica starts");
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.serve(async {
        let _ = stopped.await;
    }));
    (base, state, stop)
}

fn init_logging() {
    if std::env::var("TEST_LOG").is_ok() {
        hccc_sso::telemetry::init(hccc_sso::config::LogFormat::Pretty);
    }
}

/// A client builder whose TLS configuration is made once per process: OpenSSL 3 parses the whole
/// system CA bundle for each new one (tens of milliseconds of CPU), and the tests build clients by
/// the thousand to speak plain HTTP to 127.0.0.1. (Clients themselves are not shared: their
/// pooled connections belong to the runtime of the test that opened them.)
pub fn client_builder() -> reqwest::ClientBuilder {
    static TLS: OnceLock<native_tls::TlsConnector> = OnceLock::new();
    let tls = TLS.get_or_init(|| native_tls::TlsConnector::new().expect("TLS configuration"));
    reqwest::Client::builder().use_preconfigured_tls(tls.clone())
}

/// A plain client, as `reqwest::Client::new()` makes one.
pub fn http() -> reqwest::Client {
    client_builder().build().expect("client")
}

/// A client that behaves like a browser: a cookie jar, and redirects left for the test to follow.
pub fn browser() -> reqwest::Client {
    client_builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

pub struct TestClient {
    pub client_id: String,
    pub secret: Option<String>,
}

impl TestApp {
    /// Wraps an app a test started itself (on a database of its own making).
    pub fn adopt(base: String, state: AppState, clock: Clock) -> TestApp {
        let db = TestDb {
            url: String::new(),
            _dir: tempfile::tempdir().expect("tempdir"),
            postgres: None,
        };
        let (stop, _) = oneshot::channel();
        TestApp {
            base,
            state,
            clock,
            db,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Browser sessions stored (tower-sessions-sqlx-store's table on each backend).
    pub async fn session_rows(&self) -> i64 {
        match self.store().db() {
            hccc_sso::store::Db::Postgres(pool) => {
                sqlx::query_scalar(r#"select count(*) from "tower_sessions"."session""#)
                    .fetch_one(pool)
                    .await
            }
            hccc_sso::store::Db::Sqlite(pool) => {
                sqlx::query_scalar("select count(*) from tower_sessions")
                    .fetch_one(pool)
                    .await
            }
        }
        .expect("count sessions")
    }

    /// Changes a registered client's settings in place.
    pub async fn edit_client(
        &self,
        client_id: &str,
        change: impl FnOnce(&mut hccc_sso::store::ClientRow),
    ) {
        let id = uuid::Uuid::parse_str(client_id).expect("client_id is a UUID");
        let mut row = self
            .store()
            .find_client(id)
            .await
            .expect("db")
            .expect("client exists");
        change(&mut row);
        self.store()
            .update_client(&row, self.clock.now())
            .await
            .expect("update client");
    }

    pub async fn create_user(&self, username: &str) -> AccountRow {
        let new = NewAccount {
            username: username.into(),
            email: format!("{username}@students.hccc.edu"),
            email_verified: true,
            given_name: Some("Ada".into()),
            family_name: Some("Lovelace".into()),
            password_hash: None,
            roles: vec!["student".into()],
            groups: vec!["Class of 2027".into()],
            must_change_password: false,
            locale: None,
            recovery_email: None,
        };
        accounts::create_account(
            self.store(),
            &self.state.hasher,
            new,
            PASSWORD,
            self.clock.now(),
        )
        .await
        .expect("create user")
    }

    pub async fn create_client(&self, public: bool, skip_consent: bool) -> TestClient {
        let secret = (!public).then(crypto::random_token);
        let client = self
            .store()
            .insert_client(
                NewClient {
                    name: "College LMS".into(),
                    secret_hash: secret
                        .as_ref()
                        .map(|s| crypto::sha256(s.as_bytes()).to_vec()),
                    redirect_uris: vec![REDIRECT_URI.into()],
                    post_logout_redirect_uris: vec![],
                    grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                    token_endpoint_auth_method: if public {
                        AuthMethod::None
                    } else {
                        AuthMethod::ClientSecretBasic
                    },
                    skip_consent,
                    settings: Default::default(),
                },
                self.clock.now(),
            )
            .await
            .expect("create client");
        TestClient {
            client_id: client.client_id.to_string(),
            secret,
        }
    }
}

/// Runs each named test once on SQLite and once on PostgreSQL (ignored when the tests were built
/// without TEST_DATABASE_URL). The forms:
/// - `on_both_backends!(a, b)`: each `async fn(TestApp)`, the app as `start` makes it;
/// - `on_both_backends!(with PATH; a, b)`: the configuration first changed by the function at
///   PATH (a full path, e.g. `crate::harness::lab_network`);
/// - `on_both_backends!(start EXPR => (x, y); a, b)`: each `async fn(X, Y)`, given what
///   `EXPR(backend)` returns, an `Option<(X, Y)>` (`None`: no such backend here);
/// - `on_both_backends!(backend; a, b)`: each `async fn(Backend)`, for tests that start their own.
///
/// Any form may begin with `needs CFG, "why";`: the tests are ignored, saying why, unless build.rs
/// set CFG (a tool they run is installed).
macro_rules! on_both_backends {
    (needs $cfg:meta, $why:literal; $($rest:tt)+) => {
        crate::harness::on_both_backends!(@needs [$cfg, $why] $($rest)+);
    };
    (@needs $needs:tt start $start:expr => $args:tt; $($test:ident),+ $(,)?) => {
        crate::harness::on_both_backends!(@each $needs $start => $args; $($test),+);
    };
    (@needs $needs:tt with $adjust:path; $($test:ident),+ $(,)?) => {
        crate::harness::on_both_backends!(@each $needs
            |backend| async move {
                crate::harness::start_with(backend, $adjust).await.map(|app| (app,))
            } => (app,);
            $($test),+
        );
    };
    (@needs $needs:tt backend; $($test:ident),+ $(,)?) => {
        crate::harness::on_both_backends!(@each $needs
            |backend| async move { Some((backend,)) } => (backend,);
            $($test),+
        );
    };
    (@needs $needs:tt $($test:ident),+ $(,)?) => {
        crate::harness::on_both_backends!(@needs $needs with crate::harness::as_it_is; $($test),+);
    };
    (@each [$cfg:meta, $why:literal] $start:expr => $args:tt; $($test:ident),+) => {
        mod sqlite {
            // The start expression names what the calling module names.
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not($cfg), ignore = $why)]
            async fn $test() {
                let $args = ($start)(crate::harness::Backend::Sqlite)
                    .await
                    .expect("sqlite app");
                super::$test $args .await
            })+
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
            #[cfg_attr(all(postgres_tests, not($cfg)), ignore = $why)]
            async fn $test() {
                let $args = ($start)(crate::harness::Backend::Postgres)
                    .await
                    .expect("TEST_DATABASE_URL was set when the tests were built");
                super::$test $args .await
            })+
        }
    };
    // Needs nothing: `all()` always holds.
    ($($rest:tt)+) => {
        crate::harness::on_both_backends!(@needs [all(), ""] $($rest)+);
    };
}

/// The configuration as `test_config` makes it.
pub fn as_it_is(_: &mut Config) {}

pub(crate) use on_both_backends;

/// A port for a server a test starts in another process. Ports are handed out once per test
/// process, from below Linux's ephemeral range (32768 and up), so neither another test here nor
/// a listener bound to port 0 can be given the same one between this check and the bind.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    if NEXT.load(Ordering::SeqCst) == 0 {
        // Runs on different machines and runs start apart: a random first port.
        let start = 20_000 + u16::from_le_bytes(crypto::random_bytes::<2>()) % 8_000;
        let _ = NEXT.compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst);
    }
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_000, "ran out of test ports");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
