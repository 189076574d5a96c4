//! Input meant to break a query or a claim: NUL and control characters on every input that
//! reaches a query (a client error, never a 500), and markup in e-mail addresses.

use hccc_sso::domain::{GrantType, Scope, ScopeSet};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_scope::{admin, api_get};
use crate::flows::{
    authorize_url, form_value, pkce, submit_login, token_request, token_request_at,
};
use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends, reqwest};

/// PostgreSQL text refuses NUL: every input that reaches a query answers a client error instead
/// of a 500, on both backends, and so do other control characters.
async fn nul_bytes_and_control_characters_are_refused_before_any_query(app: TestApp) {
    app.create_user("jdoe").await;
    admin(&app, "chief").await;
    let client = app.create_client(false, true).await;

    // The sign-in form.
    let b = browser();
    let html = b
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_value(&html, "csrf_token").unwrap();
    for username in ["jdoe\u{0}x", "jdoe\u{1b}", "jd\u{7f}oe"] {
        let response = b
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("username", username),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{username:?}");
        assert!(response.text().await.unwrap().contains("control character"));
    }

    // The password grant, for a client that may use it.
    app.edit_client(&client.client_id, |c| {
        c.grant_types.push(GrantType::Password);
        c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT.with(Scope::Api);
    })
    .await;
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "jdoe\u{0}x"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    // A nonce at /authorize and through /par.
    let url =
        authorize_url(&app, &client, &pkce(), &[("nonce", "n\u{0}")]).replace("nonce=n-456&", "");
    let response = browser().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, body) = token_request_at(
        &app,
        "/par",
        &client,
        &[
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("nonce", "a\u{0}b"),
            ("code_challenge", &pkce().challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "{body}"
    );

    // The API's search and JSON bodies.
    let (_, tokens) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "chief"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let token = tokens["access_token"]
        .as_str()
        .expect("admin token")
        .to_owned();
    let (status, body) = api_get(&app, "/api/v1/users?search=%00", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let patch = crate::harness::http()
        .patch(app.url("/api/v1/users/me"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Ada\u{0}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = patch.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "given_name", "{problem}");
    let create = crate::harness::http()
        .post(app.url("/api/v1/clients"))
        .bearer_auth(&token)
        .json(&json!({"name": "Help\u{0}desk", "redirect_uris": ["https://helpdesk.hccc.edu/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The admin pages: a search, and an app's name.
    let admin_browser = browser();
    submit_login(&app, &admin_browser, "/login", "chief", PASSWORD).await;
    let search = admin_browser
        .get(app.url("/admin/users?search=%00"))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), StatusCode::BAD_REQUEST);
    let page = admin_browser
        .get(app.url("/admin/clients/new"))
        .send()
        .await
        .unwrap();
    let csrf = form_value(&page.text().await.unwrap(), "csrf_token").unwrap();
    for (name, status) in [
        ("Help\u{0}desk", StatusCode::BAD_REQUEST),
        ("Help\ndesk", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let response = admin_browser
            .post(app.url("/admin/clients/new"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("name", name),
                ("redirect_uris", "https://helpdesk.hccc.edu/cb"),
                ("grant_authorization_code", "on"),
                ("scope_openid", "on"),
                ("token_endpoint_auth_method", "client_secret_basic"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{name:?}");
    }
    let (clients, _) = app.store().list_clients(100, 0).await.unwrap();
    assert!(
        clients.iter().all(|c| !c.name.contains("desk")),
        "nothing was stored"
    );
}

/// E-mail addresses with markup are refused; they would be released as the `email` claim.
async fn e_mail_addresses_with_markup_are_refused(app: TestApp) {
    admin(&app, "chief").await;
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |c| {
        c.grant_types.push(GrantType::Password);
        c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT.with(Scope::Api);
    })
    .await;
    let (_, tokens) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "chief"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let token = tokens["access_token"].as_str().unwrap();
    for email in [
        "<script>alert(1)</script>@example.edu",
        "\"quoted\"@hccc.edu",
        "jdoe(x)@hccc.edu",
    ] {
        let response = crate::harness::http()
            .post(app.url("/api/v1/users"))
            .bearer_auth(token)
            .json(&json!({"username": "mallory", "email": email}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "email");
    }
}

on_both_backends!(
    nul_bytes_and_control_characters_are_refused_before_any_query,
    e_mail_addresses_with_markup_are_refused,
);
