//! What a guesser is counted by: one lockout per account whichever identifier was typed, the
//! address a trusted proxy's X-Forwarded-For really names, wrong device codes per address, and
//! anonymous starts (the sign-in page stores nothing; what does is bounded per address).

use hccc_sso::domain::GrantType;
use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{authorize_url, pkce, submit_login};
use crate::harness::{Backend, PASSWORD, TestApp, browser, on_both_backends, reqwest, start_with};

/// Guesses by username and by e-mail count against one account: ten wrong in all lock it, and
/// the right password by either identifier is then refused too.
async fn lockout_counts_the_account_whichever_identifier_was_typed(app: TestApp) {
    let account = app.create_user("locky").await;
    app.create_user("bystander").await;
    let limit = app.state.config.login.max_failures_per_account;
    let mut statuses = Vec::new();
    for attempt in 0..limit {
        let login = if attempt % 2 == 0 {
            "locky".to_owned()
        } else {
            account.email.to_uppercase()
        };
        let response = submit_login(&app, &browser(), "/login", &login, "wrong password!!").await;
        statuses.push(response.status());
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    for login in ["locky", account.email.as_str()] {
        let response = submit_login(&app, &browser(), "/login", login, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{login}");
    }
    let response = submit_login(&app, &browser(), "/login", "bystander", PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "other accounts are unaffected"
    );
}

/// Counting anonymous starts: the sign-in page stores nothing; QR sign-ins and parked requests
/// store rows, a bounded number per address.
async fn anonymous_visitors_store_nothing_and_starts_are_limited(app: TestApp) {
    // A lab computer, where the QR sign-in is offered.
    let client = app.create_client(false, false).await;
    for _ in 0..5 {
        assert_eq!(
            crate::harness::lab_browser()
                .get(app.url("/login"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            crate::harness::lab_browser()
                .get(app.url("/"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(app.session_rows().await, 0);
    let limit = app.state.config.anonymous_starts_per_ip;
    let mut last = StatusCode::OK;
    for _ in 0..limit {
        last = crate::harness::lab_browser()
            .get(app.url("/login/qr"))
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(last, StatusCode::OK);
    let over = crate::harness::lab_browser()
        .get(app.url("/login/qr"))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    let parked = crate::harness::lab_browser()
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        parked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "parking shares the limit"
    );
    // The window passes.
    app.clock
        .advance(hccc_sso::accounts::throttle::START_WINDOW + 1);
    let again = crate::harness::lab_browser()
        .get(app.url("/login/qr"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
}

/// Each backend with a small limit of anonymous starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_starts_are_limited_on_sqlite() {
    let app = start_with(Backend::Sqlite, |c| {
        c.anonymous_starts_per_ip = 3;
        crate::harness::lab_network(c);
    })
    .await
    .expect("app");
    anonymous_visitors_store_nothing_and_starts_are_limited(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn anonymous_starts_are_limited_on_postgres() {
    let Some(app) = start_with(Backend::Postgres, |c| {
        c.anonymous_starts_per_ip = 3;
        crate::harness::lab_network(c);
    })
    .await
    else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    anonymous_visitors_store_nothing_and_starts_are_limited(app).await;
}

/// Behind a trusted proxy, an X-Forwarded-For hop that does not parse ends the walk at the last
/// trusted address: the client cannot pick the address its failures are counted under.
async fn forwarded_for_walk(backend: Backend) {
    let Some(app) = start_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.login.max_failures_per_ip = 3;
    })
    .await
    else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let fail = |forwarded: String, user: &'static str| {
        let app = &app;
        async move {
            let b = crate::harness::client_builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(
                    [(
                        reqwest::header::HeaderName::from_static("x-forwarded-for"),
                        reqwest::header::HeaderValue::from_str(&forwarded).unwrap(),
                    )]
                    .into_iter()
                    .collect(),
                )
                .build()
                .unwrap();
            submit_login(app, &b, "/login", user, "wrong password!!")
                .await
                .status()
        }
    };
    let statuses = [
        fail("198.51.100.1, junk".into(), "u1").await,
        fail("198.51.100.2, junk".into(), "u2").await,
        fail("198.51.100.3, junk".into(), "u3").await,
    ];
    assert_eq!(
        statuses[2],
        StatusCode::TOO_MANY_REQUESTS,
        "{statuses:?}: counted under the proxy"
    );
    assert_eq!(
        fail("203.0.113.50".into(), "u4").await,
        StatusCode::UNAUTHORIZED,
        "a well-formed chain still names the client"
    );
    assert_eq!(
        fail("203.0.113.51, junk".into(), "u5").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_cannot_be_chosen_by_the_client_on_sqlite() {
    forwarded_for_walk(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn forwarded_for_cannot_be_chosen_by_the_client_on_postgres() {
    forwarded_for_walk(Backend::Postgres).await;
}

/// Wrong device user codes are counted per address like failed sign-ins; past the limit even the
/// right code waits.
async fn device_code_guessing(backend: Backend) {
    let Some(app) = start_with(backend, |c| c.login.max_failures_per_ip = 3).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    app.create_user("phoneowner").await;
    let device = app.create_client(true, false).await;
    app.edit_client(&device.client_id, |c| {
        c.grant_types = vec![GrantType::DeviceCode];
        c.redirect_uris.clear();
    })
    .await;
    let started: Value = crate::harness::http()
        .post(app.url("/device_authorization"))
        .form(&[
            ("client_id", device.client_id.as_str()),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let phone = browser();
    submit_login(&app, &phone, "/login", "phoneowner", PASSWORD).await;
    let mut statuses = Vec::new();
    for guess in ["BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD"] {
        statuses.push(
            phone
                .get(app.url(&format!("/device?user_code={guess}")))
                .send()
                .await
                .unwrap()
                .status(),
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::BAD_REQUEST,
            StatusCode::BAD_REQUEST,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let real = started["user_code"].as_str().unwrap();
    let response = phone
        .get(app.url(&format!("/device?user_code={real}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_device_codes_are_throttled_per_address_on_sqlite() {
    device_code_guessing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn wrong_device_codes_are_throttled_per_address_on_postgres() {
    device_code_guessing(Backend::Postgres).await;
}

on_both_backends!(lockout_counts_the_account_whichever_identifier_was_typed,);
