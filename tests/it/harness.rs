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

/// A test that cannot run here says so and passes, except under `CI=true`, where what it needs
/// (`.ci/run` installs it) must be there: a CI run never passes a test it did not run.
pub fn skip(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but this test cannot run: {what}");
    }
    eprintln!("skipped: {what}");
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
            // Drop runs outside async context: use a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                        let _ =
                            sqlx::query(&format!("drop database if exists {name} with (force)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
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
    reqwest::Client::builder()
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
    let db = TestDb::fresh(backend).await?;
    let listener = TcpListener::bind(bind).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://{host}:{port}");
    let mut config = test_config(&db.url, &base, &db._dir.path().display().to_string());
    adjust(&mut config);
    let clock = Clock::manual();
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

/// A client that behaves like a browser: a cookie jar, and redirects left for the test to follow.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
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

/// Runs each named `async fn(TestApp)` once on SQLite and once on PostgreSQL; `with PATH;`
/// first changes the configuration by the function at PATH (a full path, e.g.
/// `crate::harness::lab_network`).
macro_rules! on_both_backends {
    (with $adjust:path; $($test:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let app = crate::harness::start_with(crate::harness::Backend::Sqlite, $adjust)
                    .await
                    .expect("sqlite app");
                super::$test(app).await
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
            async fn $test() {
                let app = crate::harness::start_with(crate::harness::Backend::Postgres, $adjust)
                    .await
                    .expect("TEST_DATABASE_URL was set when the tests were built");
                super::$test(app).await
            })+
        }
    };
    ($($test:ident),+ $(,)?) => {
        crate::harness::on_both_backends!(with crate::harness::as_it_is; $($test),+);
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
