//! Operations: health, Prometheus metrics, client addresses behind trusted proxies.

use hccc_sso::domain::GrantType;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

use crate::flows::{form_value, signed_in_tokens};
use crate::harness::{Backend, PASSWORD, TestApp, on_both_backends, reqwest, start_with};

/// The value of one metric line, e.g. `logins_total{result="succeeded"}`, or 0.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let response = crate::harness::http()
        .get(app.url("/metrics"))
        .bearer_auth(crate::harness::METRICS_TOKEN)
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    response.text().await.expect("text")
}

async fn metrics_count_requests_sign_ins_tokens_and_pool_use(app: TestApp) {
    let before = scrape(&app).await;
    signed_in_tokens(&app, "metered").await;
    let after = scrape(&app).await;
    for series in [
        r#"logins_total{result="succeeded"}"#,
        r#"tokens_issued_total{grant="authorization_code"}"#,
        r#"http_requests_total{method="POST",route="/token",status="200"}"#,
        r#"http_requests_total{method="GET",route="/authorize",status="303"}"#,
    ] {
        assert!(
            metric(&after, series) >= metric(&before, series) + 1.0,
            "{series} did not grow:\n{after}"
        );
    }
    assert!(
        after.contains("http_request_duration_seconds_bucket{"),
        "latency histogram"
    );
    assert!(
        after.contains(r#"db_pool_connections{state="idle"}"#)
            && after.contains("db_pool_max_connections")
    );
    assert!(
        !after.contains("request="),
        "routes are templates, never raw paths or queries"
    );
}

async fn health_live_and_ready(app: TestApp) {
    let http = crate::harness::http();
    for path in ["/health/live", "/health/ready", "/health"] {
        let response = http.get(app.url(path)).send().await.expect("health");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    match app.store().db() {
        hccc_sso::store::Db::Postgres(pool) => pool.close().await,
        hccc_sso::store::Db::Sqlite(pool) => pool.close().await,
    }
    assert_eq!(
        http.get(app.url("/health/ready"))
            .send()
            .await
            .expect("ready")
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        http.get(app.url("/health/live"))
            .send()
            .await
            .expect("live")
            .status(),
        StatusCode::OK,
        "alive without a database"
    );
}

on_both_backends!(
    metrics_count_requests_sign_ins_tokens_and_pool_use,
    health_live_and_ready
);

/// Fails a sign-in as a browser behind a proxy that says the client is `forwarded_for`.
pub(crate) async fn failed_login_from(
    app: &TestApp,
    forwarded_for: &str,
    username: &str,
) -> StatusCode {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        HeaderValue::from_str(forwarded_for).expect("header"),
    );
    let b = crate::harness::client_builder()
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .expect("client");
    let html = b
        .get(app.url("/login"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let form = [
        ("csrf_token", form_value(&html, "csrf_token").expect("csrf")),
        ("username", username.to_owned()),
        ("password", format!("not {PASSWORD}")),
    ];
    b.post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .expect("post")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_client_address_is_throttled() {
    let app = start_with(Backend::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
        c.login.max_failures_per_ip = 3;
    })
    .await
    .expect("app");
    for n in 0..2 {
        assert_eq!(
            failed_login_from(&app, "203.0.113.9", &format!("user{n}")).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        failed_login_from(&app, "203.0.113.9", "user2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "that client is locked out"
    );
    assert_eq!(
        failed_login_from(&app, "203.0.113.10", "user3").await,
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy is not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_from_untrusted_peers_are_ignored() {
    let app = start_with(Backend::Sqlite, |c| c.login.max_failures_per_ip = 3)
        .await
        .expect("app");
    for n in 0..3 {
        failed_login_from(&app, &format!("203.0.113.{n}"), &format!("user{n}")).await;
    }
    // Spoofing a new address does not escape the lockout of the real one.
    assert_eq!(
        failed_login_from(&app, "198.51.100.1", "user9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_live_on_their_own_port() {
    let port = crate::harness::free_port();
    let app = start_with(Backend::Sqlite, |c| {
        c.metrics_bind = Some(([127, 0, 0, 1], port).into());
        // A private port needs no token.
        c.metrics_token = None;
    })
    .await
    .expect("app");
    let http = crate::harness::http();
    assert_eq!(
        http.get(app.url("/metrics"))
            .send()
            .await
            .expect("main")
            .status(),
        StatusCode::NOT_FOUND
    );
    let mut ok = false;
    for _ in 0..50 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            ok = r.status() == StatusCode::OK;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ok, "metrics are served on the separate port");
}

/// The read cache's LISTEN connection is its own: with a request pool of one connection, token
/// requests and readiness still get that connection instead of waiting for it and answering 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn one_database_connection_is_enough_beside_the_cache_listener() {
    let Some(app) = start_with(Backend::Postgres, |config| {
        config.db_max_connections = 1;
        config.db_acquire_timeout_ms = 500;
    })
    .await
    else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |c| {
        c.grant_types.push(GrantType::ClientCredentials);
    })
    .await;
    let http = crate::harness::http();
    for _ in 0..3 {
        let token = http
            .post(app.url("/token"))
            .basic_auth(&client.client_id, client.secret.as_deref())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token");
        assert_eq!(token.status(), StatusCode::OK);
        let ready = http
            .get(app.url("/health/ready"))
            .send()
            .await
            .expect("ready");
        assert_eq!(ready.status(), StatusCode::OK);
    }
}

/// Starts the server binary on a fresh SQLite database with JSON logs to a pipe and `RUST_LOG`.
async fn server_logging(
    db: &crate::harness::TestDb,
    rust_log: &str,
) -> (tokio::process::Child, String) {
    let port = crate::harness::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hccc-sso"))
        .arg("serve")
        .current_dir(db.dir())
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("HCCC_SSO_SECRET_KEY", crate::harness::secret_key())
        .env("HCCC_SSO_BIND", format!("127.0.0.1:{port}"))
        .env("HCCC_SSO_ISSUER", &base)
        .env("HCCC_SSO_ADMIN_PASSWORD", "logging operator passphrase")
        .env("HCCC_SSO_DATA_DIR", db.dir())
        .env("HCCC_SSO_LOG_FORMAT", "json")
        .env("RUST_LOG", rust_log)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/health/live")).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (child, base)
}

/// Stops the server as an operator does (SIGTERM) and returns every line it wrote.
pub(crate) async fn stop_and_read(mut child: tokio::process::Child) -> Vec<serde_json::Value> {
    use tokio::io::AsyncReadExt as _;
    let pid = child.id().expect("pid") as i32;
    // SIGTERM through kill(1), as an operator or Docker sends it.
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .await
        .expect("read the log");
    let _ = child.wait().await;
    out.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The default logging writes one JSON access line per request, batched off the request's thread,
/// with the request id the client saw and the path without its query; every line is written by
/// the time the server has stopped. At `warn` there are none.
#[tokio::test]
async fn each_request_has_one_json_access_line_and_none_are_lost_at_shutdown() {
    let Some(db) = crate::harness::TestDb::fresh(Backend::Sqlite).await else {
        return;
    };
    let (child, base) = server_logging(&db, "info").await;
    let http = crate::harness::http();
    let mut ids = Vec::new();
    for n in 0..300 {
        let response = http
            .get(format!("{base}/jwks.json?code=secret-{n}"))
            .header("x-request-id", format!("test-{n}"))
            .send()
            .await
            .expect("jwks");
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let unknown = http
        .get(format!("{base}/no-such-page"))
        .send()
        .await
        .expect("404");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let lines = stop_and_read(child).await;
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["message"] == "response" && l["path"] == "/jwks.json")
        .collect();
    assert_eq!(access.len(), 300, "one access line per request");
    for (line, id) in access.iter().zip(&ids) {
        assert_eq!(line["request_id"], id.as_str());
        assert_eq!(line["method"], "GET");
        assert_eq!(line["status"], 200);
        assert_eq!(line["level"], "INFO");
        assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
        assert!(line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
    let raw = serde_json::to_string(&lines).unwrap_or_default();
    assert!(!raw.contains("secret-"), "no query string is logged");
    assert!(
        lines
            .iter()
            .any(|l| l["path"] == "/no-such-page" && l["status"] == 404),
        "a 404 has its line"
    );
    assert!(
        lines.iter().any(|l| l["message"] == "stopped"),
        "the last line is written too"
    );

    let (child, base) = server_logging(&db, "warn").await;
    let response = http
        .get(format!("{base}/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(response.status(), StatusCode::OK);
    let quiet = stop_and_read(child).await;
    assert!(
        quiet.iter().all(|l| l["message"] != "response"),
        "no access lines at warn: {quiet:?}"
    );
}

/// A line logged while a request is served carries that request's id (the one its access line
/// and the client have), and a line logged outside any request carries none.
#[tokio::test]
async fn lines_logged_while_serving_a_request_carry_its_id() {
    let Some(db) = crate::harness::TestDb::fresh(Backend::Sqlite).await else {
        return;
    };
    let created = crate::cli::cli_on(
        &db,
        &[
            "user",
            "create",
            "--username",
            "logged",
            "--email",
            "logged@hccc.edu",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
        &[],
    );
    assert!(created.status.success(), "user create: {created:?}");

    let (child, base) = server_logging(&db, "info").await;
    let browser = crate::harness::browser();
    let html = browser
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let form = [
        ("csrf_token", form_value(&html, "csrf_token").expect("csrf")),
        ("username", "logged".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let signed_in = browser
        .post(format!("{base}/login"))
        .header("x-request-id", "sign-in-7")
        .form(&form)
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let lines = stop_and_read(child).await;

    let inside = lines
        .iter()
        .find(|l| l["message"] == "signed in")
        .unwrap_or_else(|| panic!("a line for the sign-in: {lines:?}"));
    assert_eq!(inside["span"]["request_id"], "sign-in-7");
    assert_eq!(inside["span"]["name"], "request");
    assert_eq!(inside["level"], "INFO");
    assert!(
        inside["filename"]
            .as_str()
            .is_some_and(|f| f.ends_with(".rs"))
    );
    let access = lines
        .iter()
        .find(|l| l["message"] == "response" && l["request_id"] == "sign-in-7")
        .expect("the sign-in's access line");
    assert_eq!(access["status"], 303);
    let outside = lines
        .iter()
        .find(|l| l["message"] == "stopped")
        .expect("the last line");
    assert!(outside.get("span").is_none(), "no request: {outside}");
    // tower-sessions' own spans are quieted at info: they never show as a line's span.
    assert!(
        lines
            .iter()
            .all(|l| l["span"].get("name").is_none_or(|n| n == "request"))
    );
}

/// The pool exhausted: while every connection is held elsewhere, requests that need the
/// database answer 503 within the acquire timeout (never wait on, never 500), what lives in
/// memory is still served, and the next request after the connections come back succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn an_exhausted_pool_answers_503_quickly_and_recovers() {
    let Some(app) = start_with(Backend::Postgres, |config| {
        config.db_max_connections = 2;
        config.db_acquire_timeout_ms = 300;
    })
    .await
    else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let (client, tokens) = signed_in_tokens(&app, "pooled").await;
    let refresh = tokens["refresh_token"].as_str().expect("rt");
    let hccc_sso::store::Db::Postgres(pool) = app.store().db() else {
        panic!("a PostgreSQL pool");
    };
    // Every connection of the server's pool, held by the test.
    let mut held = Vec::new();
    while held.len() < 2 {
        held.push(pool.acquire().await.expect("a connection"));
    }
    let http = crate::harness::http();
    let started = std::time::Instant::now();
    let token = http
        .post(app.url("/token"))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = token.json().await.expect("json");
    assert_eq!(body["error"], "temporarily_unavailable");
    let ready = http
        .get(app.url("/health/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "fast: {:?}",
        started.elapsed()
    );
    let jwks = http.get(app.url("/jwks.json")).send().await.expect("jwks");
    assert_eq!(
        jwks.status(),
        StatusCode::OK,
        "what lives in memory is served"
    );

    drop(held);
    let (status, body) = crate::flows::token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refresh refused with 503 was not spent: {body}"
    );
    let ready = http
        .get(app.url("/health/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::OK, "recovered");
}
