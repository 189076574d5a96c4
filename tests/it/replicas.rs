//! Stateless replicas: two server processes on one PostgreSQL database share a sign-in that
//! alternates between them on every request.

use std::process::Stdio;

use hccc_sso::accounts::{self, PasswordHasher};
use hccc_sso::crypto;
use hccc_sso::store::{ClientRow, NewAccount, NewClient, Store};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection as _;

use crate::flows::{form_value, location, pkce, query_of};
use crate::harness::{Backend, PASSWORD, REDIRECT_URI, TestDb, browser, reqwest, secret_key};

use crate::harness::free_port;

fn replica(db: &TestDb, port: u16, issuer: &str) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_hccc-sso"))
        .arg("serve")
        .current_dir(db.dir())
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("HCCC_SSO_SECRET_KEY", secret_key())
        .env("HCCC_SSO_BIND", format!("127.0.0.1:{port}"))
        .env("HCCC_SSO_ISSUER", issuer)
        .env("HCCC_SSO_ADMIN_PASSWORD", "replica operator passphrase")
        .env("HCCC_SSO_DATA_DIR", db.dir())
        .env("HCCC_SSO_METRICS_TOKEN", crate::harness::METRICS_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(db.dir().join(format!("replica-{port}.log"))).expect("log file"),
        )
        .kill_on_drop(true)
        .spawn()
        .expect("start a replica")
}

async fn wait_ready(base: &str, db: &TestDb) {
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{base}/health/ready")).await
            && r.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let port = base.rsplit(':').next().unwrap_or_default();
    let log =
        std::fs::read_to_string(db.dir().join(format!("replica-{port}.log"))).unwrap_or_default();
    panic!("replica at {base} did not become ready:\n{log}");
}

/// The student and the client a replica test uses, written the way the CLI writes them: from
/// another process, through a store with no read cache of its own.
async fn seed(
    db: &TestDb,
    username: &str,
    given_name: &str,
    grant_types: &[&str],
    post_logout_redirect_uris: &[&str],
) -> (Store, ClientRow, String) {
    let store = Store::connect(&db.url, 2).await.expect("store");
    let now = hccc_sso::clock::Clock::system().now();
    let student = NewAccount {
        username: username.into(),
        email: format!("{username}@students.hccc.edu"),
        email_verified: true,
        given_name: Some(given_name.into()),
        family_name: Some("Student".into()),
        password_hash: None,
        roles: vec![],
        groups: vec![],
        must_change_password: false,
        locale: None,
        recovery_email: None,
    };
    let hasher = PasswordHasher::new().expect("hasher");
    accounts::create_account(&store, &hasher, student, PASSWORD, now)
        .await
        .expect("user");
    let secret = crypto::random_token();
    let client = store
        .insert_client(
            NewClient {
                name: "Portal".into(),
                secret_hash: Some(crypto::sha256(secret.as_bytes()).to_vec()),
                redirect_uris: vec![REDIRECT_URI.into()],
                post_logout_redirect_uris: post_logout_redirect_uris
                    .iter()
                    .map(|u| u.to_string())
                    .collect(),
                grant_types: grant_types
                    .iter()
                    .filter_map(|g| hccc_sso::domain::GrantType::from_name(g))
                    .collect(),
                token_endpoint_auth_method: hccc_sso::domain::AuthMethod::ClientSecretBasic,
                skip_consent: false,
                settings: Default::default(),
            },
            now,
        )
        .await
        .expect("client");
    (store, client, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn two_replicas_share_one_sign_in_request_by_request() {
    let Some(db) = TestDb::fresh(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let (port_a, port_b) = (free_port(), free_port());
    let a = format!("http://127.0.0.1:{port_a}");
    let b = format!("http://127.0.0.1:{port_b}");
    // Both start at once on an empty database: migrations, first keys and the admin race.
    let _replica_a = replica(&db, port_a, &a);
    let _replica_b = replica(&db, port_b, &a);
    wait_ready(&a, &db).await;
    wait_ready(&b, &db).await;
    let jwks = |base: String| async move {
        reqwest::get(format!("{base}/jwks.json"))
            .await
            .expect("jwks")
            .text()
            .await
            .expect("text")
    };
    assert_eq!(
        jwks(a.clone()).await,
        jwks(b.clone()).await,
        "both replicas publish the same keys"
    );

    let (store, client, secret) = seed(
        &db,
        "replicastudent",
        "Rep",
        &["authorization_code", "refresh_token"],
        &["http://127.0.0.1:8765/bye"],
    )
    .await;
    let client_id = client.client_id.to_string();
    let on = |base: &str, path: &str| format!("{base}{path}");

    let browser = browser(); // one cookie jar: cookies for 127.0.0.1 go to both ports
    let p = pkce();
    let mut auth = url::Url::parse(&on(&a, "/authorize")).expect("url");
    auth.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid profile")
        .append_pair("state", "s")
        .append_pair("code_challenge", &p.challenge)
        .append_pair("code_challenge_method", "S256");
    let login_path = location(
        &browser
            .get(auth.as_str())
            .send()
            .await
            .expect("authorize on A"),
    );
    let login_page = browser
        .get(on(&b, &login_path))
        .send()
        .await
        .expect("login page on B")
        .text()
        .await
        .expect("html");
    let form = [
        (
            "csrf_token",
            form_value(&login_page, "csrf_token").expect("csrf"),
        ),
        (
            "request",
            form_value(&login_page, "request").expect("request"),
        ),
        ("username", "replicastudent".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let consent_path = location(
        &browser
            .post(on(&a, "/login"))
            .form(&form)
            .send()
            .await
            .expect("login on A"),
    );
    assert!(consent_path.starts_with("/consent"), "{consent_path}");
    let consent_page = browser
        .get(on(&b, &consent_path))
        .send()
        .await
        .expect("consent on B")
        .text()
        .await
        .expect("html");
    let form = [
        (
            "csrf_token",
            form_value(&consent_page, "csrf_token").expect("csrf"),
        ),
        (
            "request",
            form_value(&consent_page, "request").expect("request"),
        ),
        ("decision", "allow".to_owned()),
    ];
    let callback = location(
        &browser
            .post(on(&a, "/consent"))
            .form(&form)
            .send()
            .await
            .expect("consent on A"),
    );
    let code = query_of(&callback)["code"].clone();

    let http = crate::harness::http();
    let tokens: Value = http
        .post(on(&a, "/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", p.verifier.as_str()),
        ])
        .send()
        .await
        .expect("token on A")
        .json()
        .await
        .expect("json");
    let access = tokens["access_token"].as_str().expect("access token");
    let info: Value = http
        .get(on(&b, "/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo on B")
        .json()
        .await
        .expect("json");
    assert_eq!(info["preferred_username"], "replicastudent");
    let refreshed = http
        .post(on(&b, "/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().expect("rt"),
            ),
        ])
        .send()
        .await
        .expect("refresh on B");
    assert_eq!(refreshed.status(), StatusCode::OK);

    let mut logout = url::Url::parse(&on(&a, "/logout")).expect("url");
    logout
        .query_pairs_mut()
        .append_pair(
            "id_token_hint",
            tokens["id_token"].as_str().expect("id token"),
        )
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:8765/bye");
    let bye = location(
        &browser
            .get(logout.as_str())
            .send()
            .await
            .expect("logout on A"),
    );
    assert!(bye.starts_with("http://127.0.0.1:8765/bye"));
    let silent = browser
        .get(auth.as_str().replacen(&a, &b, 1) + "&prompt=none")
        .send()
        .await
        .expect("authorize on B");
    assert_eq!(
        query_of(&location(&silent))
            .get("error")
            .map(String::as_str),
        Some("login_required"),
        "signed out on B too"
    );
    // B may have the grant in its read cache: the revocation reaches it by notification.
    eventually("logout on A revoked the grant for B", || {
        let request = http.get(on(&b, "/userinfo")).bearer_auth(access).send();
        async move { request.await.expect("userinfo on B").status() == StatusCode::UNAUTHORIZED }
    })
    .await;
    assert_eq!(
        store.count_accounts().await.expect("count"),
        2,
        "the racing replicas created the admin once"
    );
}

/// Polls `check` for up to three seconds: a change made elsewhere reaches a replica's read cache
/// through a PostgreSQL notification, which takes milliseconds, not zero.
async fn eventually<F, Fut>(what: &str, mut check: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(3) {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("{what}: not seen within 3 s");
}

/// The sum of one counter's samples in a Prometheus text page whose labels include `labels`.
fn counter(metrics: &str, name: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn changes_from_a_replica_or_plain_sql_reach_every_replicas_read_cache() {
    let Some(db) = TestDb::fresh(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let (port_a, port_b) = (free_port(), free_port());
    let a = format!("http://127.0.0.1:{port_a}");
    let b = format!("http://127.0.0.1:{port_b}");
    let _replica_a = replica(&db, port_a, &a);
    wait_ready(&a, &db).await;
    let _replica_b = replica(&db, port_b, &a);
    wait_ready(&b, &db).await;

    let (store, client, secret) = seed(&db, "cachedstudent", "Before", &["password"], &[]).await;
    let now = hccc_sso::clock::Clock::system().now();
    let client_id = client.client_id.to_string();
    let http = crate::harness::http();
    let password_grant = |base: String, secret: String| {
        let http = http.clone();
        let client_id = client_id.clone();
        async move {
            http.post(format!("{base}/token"))
                .basic_auth(&client_id, Some(&secret))
                .form(&[
                    ("grant_type", "password"),
                    ("username", "cachedstudent"),
                    ("password", PASSWORD),
                    ("scope", "openid profile"),
                ])
                .send()
                .await
                .expect("token")
        }
    };
    let userinfo = |base: String, token: String| {
        let http = http.clone();
        async move {
            let response = http
                .get(format!("{base}/userinfo"))
                .bearer_auth(token)
                .send()
                .await
                .expect("userinfo");
            let status = response.status();
            (status, response.json::<Value>().await.unwrap_or_default())
        }
    };
    let metrics = |base: String| async move {
        crate::harness::http()
            .get(format!("{base}/metrics"))
            .bearer_auth(crate::harness::METRICS_TOKEN)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    };

    let tokens: Value = password_grant(a.clone(), secret.clone())
        .await
        .json()
        .await
        .expect("json");
    let access = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    for _ in 0..3 {
        let (status, info) = userinfo(b.clone(), access.clone()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(info["given_name"], "Before");
    }
    let page = metrics(b.clone()).await;
    let hits = counter(
        &page,
        "read_cache_lookups_total",
        &["rows=\"userinfo\"", "result=\"hit\""],
    );
    let misses = counter(
        &page,
        "read_cache_lookups_total",
        &["rows=\"userinfo\"", "result=\"miss\""],
    );
    assert_eq!(
        (hits, misses),
        (2.0, 1.0),
        "B read the database once, then its cache:\n{page}"
    );

    // An operator's plain SQL: the trigger tells both replicas.
    let mut sql = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query("update account set given_name = 'After' where username = 'cachedstudent'")
        .execute(&mut sql)
        .await
        .expect("update");
    for base in [&a, &b] {
        let took = eventually("the renamed account at userinfo", || {
            let check = userinfo(base.clone(), access.clone());
            async move { check.await.1["given_name"] == "After" }
        })
        .await;
        eprintln!("{base}: plain SQL seen after {took:?}");
    }

    // A revocation on A: refused on A at once, on B as soon as the notification lands.
    let revoked = http
        .post(format!("{a}/revoke"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        userinfo(a.clone(), access.clone()).await.0,
        StatusCode::UNAUTHORIZED,
        "the replica that revoked refuses the token at once"
    );
    let took = eventually("the revoked token refused on B", || {
        let check = userinfo(b.clone(), access.clone());
        async move { check.await.0 == StatusCode::UNAUTHORIZED }
    })
    .await;
    eprintln!("revocation on A refused on B after {took:?}");

    // A rotated client secret (as `hccc-sso client update --rotate-secret` writes it): the old
    // secret stops working on both replicas, whose caches held the client.
    for base in [&a, &b] {
        assert_eq!(
            password_grant(base.clone(), secret.clone()).await.status(),
            StatusCode::OK
        );
    }
    let mut rotated = client.clone();
    let new_secret = crypto::random_token();
    rotated.secret_hash = Some(crypto::sha256(new_secret.as_bytes()).to_vec());
    store.update_client(&rotated, now).await.expect("rotate");
    for base in [&a, &b] {
        eventually("the old client secret refused", || {
            let attempt = password_grant(base.clone(), secret.clone());
            async move { attempt.await.status() == StatusCode::UNAUTHORIZED }
        })
        .await;
        assert_eq!(
            password_grant(base.clone(), new_secret.clone())
                .await
                .status(),
            StatusCode::OK
        );
    }
}

/// One browser's sign-in, step by step, against whichever replica each step is sent to.
struct SignIn {
    browser: reqwest::Client,
    pkce: crate::flows::Pkce,
    authorize: url::Url,
}

impl SignIn {
    fn new(issuer: &str, client_id: &str) -> SignIn {
        let pkce = pkce();
        let mut authorize = url::Url::parse(&format!("{issuer}/authorize")).expect("url");
        authorize
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", "openid profile offline_access")
            .append_pair("state", "s")
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        SignIn {
            browser: browser(),
            pkce,
            authorize,
        }
    }

    /// Authorize and the password on `base`: answers where the browser is sent next (the
    /// consent page, or the callback once the person has consented).
    async fn up_to_consent(&self, base: &str, username: &str) -> String {
        let authorize = self.authorize.as_str().replacen(
            &format!(
                "{}://{}",
                self.authorize.scheme(),
                self.authorize.authority()
            ),
            base,
            1,
        );
        let login_path = location(&self.browser.get(authorize).send().await.expect("authorize"));
        let page = self
            .browser
            .get(format!("{base}{login_path}"))
            .send()
            .await
            .expect("login page")
            .text()
            .await
            .expect("html");
        let form = [
            ("csrf_token", form_value(&page, "csrf_token").expect("csrf")),
            ("request", form_value(&page, "request").expect("request")),
            ("username", username.to_owned()),
            ("password", PASSWORD.to_owned()),
        ];
        let consent = location(
            &self
                .browser
                .post(format!("{base}/login"))
                .form(&form)
                .send()
                .await
                .expect("login"),
        );
        assert!(
            consent.starts_with("/consent") || consent.starts_with(REDIRECT_URI),
            "{consent}"
        );
        consent
    }

    /// The consent page and its approval on `base`: answers the code.
    async fn consent(&self, base: &str, consent_path: &str) -> String {
        if consent_path.starts_with(REDIRECT_URI) {
            return query_of(consent_path)["code"].clone();
        }
        let page = self
            .browser
            .get(format!("{base}{consent_path}"))
            .send()
            .await
            .expect("consent page")
            .text()
            .await
            .expect("html");
        let form = [
            ("csrf_token", form_value(&page, "csrf_token").expect("csrf")),
            ("request", form_value(&page, "request").expect("request")),
            ("decision", "allow".to_owned()),
        ];
        let callback = location(
            &self
                .browser
                .post(format!("{base}/consent"))
                .form(&form)
                .send()
                .await
                .expect("consent"),
        );
        query_of(&callback)["code"].clone()
    }
}

/// A replica killed with SIGKILL in the middle of sign-ins loses nothing: the other replica
/// continues every one of them from the database: sign-ins parked at the consent page, codes not
/// yet exchanged, and the browsers' sessions (a silent sign-in on the survivor works).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn a_replica_killed_mid_sign_in_loses_no_session_code_or_token() {
    let Some(db) = TestDb::fresh(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let (port_a, port_b) = (free_port(), free_port());
    let a = format!("http://127.0.0.1:{port_a}");
    let b = format!("http://127.0.0.1:{port_b}");
    let mut replica_a = replica(&db, port_a, &a);
    let _replica_b = replica(&db, port_b, &a);
    wait_ready(&a, &db).await;
    wait_ready(&b, &db).await;
    let (_store, client, secret) = seed(
        &db,
        "killstudent",
        "Kill",
        &["authorization_code", "refresh_token"],
        &[],
    )
    .await;
    let client_id = client.client_id.to_string();

    // On A: four sign-ins stop at the consent page, four more get their code (after the first
    // consent, without asking again).
    let mut at_consent = Vec::new();
    let mut with_code = Vec::new();
    for n in 0..8 {
        let sign_in = SignIn::new(&a, &client_id);
        let consent = sign_in.up_to_consent(&a, "killstudent").await;
        if n < 4 {
            assert!(consent.starts_with("/consent"), "{consent}");
            at_consent.push((sign_in, consent));
        } else {
            let code = sign_in.consent(&a, &consent).await;
            with_code.push((sign_in, code));
        }
    }
    replica_a.start_kill().expect("SIGKILL replica A");
    let _ = replica_a.wait().await;
    assert!(
        reqwest::get(format!("{a}/health/live")).await.is_err(),
        "A is gone"
    );

    // On B: every one of them completes.
    let mut finished = Vec::new();
    for (sign_in, consent) in at_consent {
        let code = sign_in.consent(&b, &consent).await;
        finished.push((sign_in, code));
    }
    finished.extend(with_code);
    let http = crate::harness::http();
    for (sign_in, code) in &finished {
        let tokens: Value = http
            .post(format!("{b}/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", sign_in.pkce.verifier.as_str()),
            ])
            .send()
            .await
            .expect("token on B")
            .json()
            .await
            .expect("json");
        let refresh = tokens["refresh_token"].as_str().expect("refresh token");
        let refreshed = http
            .post(format!("{b}/token"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
            .send()
            .await
            .expect("refresh on B");
        assert_eq!(
            refreshed.status(),
            StatusCode::OK,
            "the refresh token works on B"
        );
        // The browser's session, made on A, signs it in silently on B.
        let silent = sign_in
            .browser
            .get(sign_in.authorize.as_str().replacen(&a, &b, 1) + "&prompt=none")
            .send()
            .await
            .expect("silent authorize on B");
        let back = query_of(&location(&silent));
        assert!(back.contains_key("code"), "session kept: {back:?}");
    }
    assert_eq!(finished.len(), 8);
}
