//! A database outage: the server answers 503 at once while PostgreSQL is down, keeps serving what
//! lives in memory, and recovers by itself when the database is back. Uses a private PostgreSQL
//! cluster (initdb on a free port) so stopping it disturbs no other test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::flows::{signed_in_tokens, userinfo_status};
use crate::harness::{reqwest, test_config};

fn pg_bin(tool: &str) -> Option<PathBuf> {
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    let mut found: Vec<PathBuf> = versions
        .flatten()
        .map(|v| v.path().join("bin").join(tool))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool as the postgres user when we are root (PostgreSQL refuses root).
fn pg(tool: &Path, args: &[&str]) -> std::process::Output {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(tool);
        c
    } else {
        Command::new(tool)
    };
    command.args(args).output().expect("run a PostgreSQL tool")
}

struct Cluster {
    pg_ctl: PathBuf,
    data: String,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port, self.data
        );
        let out = pg(
            &self.pg_ctl,
            &[
                "-D",
                &self.data,
                "-o",
                &options,
                "-w",
                "-l",
                &format!("{}/log", self.data),
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        let out = pg(
            &self.pg_ctl,
            &["-D", &self.data, "-m", "fast", "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg(&self.pg_ctl, &["-D", &self.data, "-m", "immediate", "stop"]);
    }
}

fn private_cluster() -> Option<Cluster> {
    let (initdb, pg_ctl) = (pg_bin("initdb")?, pg_bin("pg_ctl")?);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("pgdata");
    std::fs::create_dir(&data).expect("mkdir");
    if is_root() {
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres", &dir.path().display().to_string()])
            .status();
    }
    let data = data.display().to_string();
    let out = pg(
        &initdb,
        &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
    );
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = crate::harness::free_port();
    let cluster = Cluster {
        pg_ctl,
        data,
        port,
        _dir: dir,
    };
    cluster.start();
    Some(cluster)
}

/// The private cluster; its binaries must be there (build.rs marks these tests ignored without).
fn private_cluster_of_the_test() -> Cluster {
    let cluster = private_cluster();
    crate::harness::require(cluster.is_some(), "PostgreSQL's initdb and pg_ctl");
    cluster.expect("required just above")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_server_tests),
    ignore = "PostgreSQL's server binaries are not installed"
)]
async fn a_database_outage_is_503_and_the_server_recovers_by_itself() {
    let cluster = private_cluster_of_the_test();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let db_url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    let scratch = tempfile::tempdir().expect("tempdir");
    let config = test_config(&db_url, &base, &scratch.path().display().to_string());
    let clock = hccc_sso::clock::Clock::manual();
    let app = hccc_sso::app::App::bind(config, listener, clock.clone())
        .await
        .expect("app");
    let state = app.state().clone();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve(async {
        let _ = stopped.await;
    }));
    let test_app = crate::harness::TestApp::adopt(base.clone(), state, clock);
    let (_, tokens) = signed_in_tokens(&test_app, "outage").await;
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let http = crate::harness::http();

    cluster.stop();
    let started = Instant::now();
    let ready = http
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        userinfo_status(&test_app, &access).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let token = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "00000000-0000-0000-0000-000000000000"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE, "never 500");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answers quickly: {:?}",
        started.elapsed()
    );
    let jwks = http
        .get(format!("{base}/jwks.json"))
        .send()
        .await
        .expect("jwks");
    assert_eq!(
        jwks.status(),
        StatusCode::OK,
        "what lives in memory is still served"
    );
    assert_eq!(
        http.get(format!("{base}/health/live"))
            .send()
            .await
            .expect("live")
            .status(),
        StatusCode::OK
    );

    cluster.start();
    let mut recovered = false;
    for _ in 0..100 {
        if http
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the server reconnects by itself");
    assert_eq!(
        userinfo_status(&test_app, &access).await,
        StatusCode::OK,
        "and serves as before"
    );
}

/// The server of a test, in this process, on the private cluster.
async fn serve_on(cluster: &Cluster) -> (crate::harness::TestApp, tempfile::TempDir) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let db_url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&db_url, &base, &scratch.path().display().to_string());
    config.db_acquire_timeout_ms = 300;
    let clock = hccc_sso::clock::Clock::manual();
    let app = hccc_sso::app::App::bind(config, listener, clock.clone())
        .await
        .expect("app");
    let state = app.state().clone();
    tokio::spawn(app.serve(std::future::pending::<()>()));
    (crate::harness::TestApp::adopt(base, state, clock), scratch)
}

/// Refreshes keep coming while PostgreSQL is stopped and started again. While it is down every
/// answer is 503 `temporarily_unavailable` (never a 500), the load recovers by itself, and every
/// refresh token the server answered with before the outage works exactly once after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_server_tests),
    ignore = "PostgreSQL's server binaries are not installed"
)]
async fn refreshes_under_load_through_a_database_restart_lose_nothing() {
    let cluster = private_cluster_of_the_test();
    let (app, _scratch) = serve_on(&cluster).await;
    let app = std::sync::Arc::new(app);
    // Tokens answered before the outage and left alone through it.
    let mut kept = Vec::new();
    for n in 0..6 {
        let (client, tokens) = signed_in_tokens(&app, &format!("kept{n}")).await;
        kept.push((
            client,
            tokens["refresh_token"].as_str().expect("rt").to_owned(),
        ));
    }
    // The load: four chains of refreshes, each continuing with the token it was last answered.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Answers so far, for the test to wait on: (successes, outage answers).
    let progress = std::sync::Arc::new((AtomicU32::new(0), AtomicU32::new(0)));
    let mut load = Vec::new();
    for n in 0..4 {
        let (client, tokens) = signed_in_tokens(&app, &format!("load{n}")).await;
        let mut token = tokens["refresh_token"].as_str().expect("rt").to_owned();
        let (app, stop, progress) = (app.clone(), stop.clone(), progress.clone());
        load.push(tokio::spawn(async move {
            let mut seen = std::collections::BTreeMap::<String, u32>::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, body) = crate::flows::token_request(
                    &app,
                    &client,
                    &[("grant_type", "refresh_token"), ("refresh_token", &token)],
                )
                .await;
                let key = match status {
                    StatusCode::OK => {
                        token = body["refresh_token"].as_str().expect("rt").to_owned();
                        progress.0.fetch_add(1, Ordering::SeqCst);
                        "200".to_owned()
                    }
                    other => {
                        progress.1.fetch_add(1, Ordering::SeqCst);
                        format!(
                            "{} {}",
                            other.as_u16(),
                            body["error"].as_str().unwrap_or("")
                        )
                    }
                };
                *seen.entry(key).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            seen
        }));
    }
    // The load is seen through the outage: twelve refreshes before it, four answers during it,
    // twelve refreshes after it.
    let successes = || progress.0.load(Ordering::SeqCst);
    let refused = || progress.1.load(Ordering::SeqCst);
    wait_until("twelve refreshes before the outage", || successes() >= 12).await;
    cluster.stop();
    wait_until("the load meets the outage", || refused() >= 4).await;
    cluster.start();
    let http = crate::harness::http();
    let back = Instant::now();
    while !http
        .get(app.url("/health/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
    {
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "recovers by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = successes();
    wait_until("twelve refreshes after the outage", || {
        successes() >= before + 12
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers = std::collections::BTreeMap::<String, u32>::new();
    for task in load {
        for (key, count) in task.await.expect("load task") {
            *answers.entry(key).or_default() += count;
        }
    }
    eprintln!("answers under the outage: {answers:?}");
    assert!(
        answers
            .keys()
            .all(|k| k == "200" || k == "503 temporarily_unavailable"),
        "only successes and 503 temporarily_unavailable: {answers:?}"
    );
    assert!(
        answers
            .get("503 temporarily_unavailable")
            .is_some_and(|n| *n > 0),
        "the outage was seen"
    );
    assert!(
        answers.get("200").is_some_and(|n| *n > 20),
        "refreshes before and after"
    );

    for (client, token) in &kept {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", token.as_str()),
        ];
        let (first, body) = crate::flows::token_request(&app, client, &form).await;
        assert_eq!(
            first,
            StatusCode::OK,
            "a token answered before the outage works: {body}"
        );
        let (again, body) = crate::flows::token_request(&app, client, &form).await;
        assert_eq!(again, StatusCode::BAD_REQUEST, "and only once");
        assert_eq!(body["error"], "invalid_grant");
    }
}

/// Waits (up to 20 s) until `done`.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
