//! When a browser's session ends, and whose it is: browser-session cookies unless the person asks
//! to be kept signed in, the idle timeout and the absolute lifetime; a password change ending the
//! other sessions and tokens (with back-channel logout); a parked request refused to another
//! browser.

use hccc_sso::domain::{GrantType, Scope, ScopeSet};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api_scope::api_get;
use crate::flows::{
    authorize_url, exchange_code, form_value, location, pkce, query_of, sign_in_for_code,
    submit_consent, submit_login, token_request,
};
use crate::harness::{PASSWORD, TestApp, browser, on_both_backends, reqwest};

pub(crate) async fn signed_in(app: &TestApp, b: &reqwest::Client) -> bool {
    let home = b.get(app.url("/")).send().await.expect("home");
    home.text()
        .await
        .expect("html")
        .contains("You are signed in")
}

/// Signs `b` in through the form, with or without "Keep me signed in".
async fn sign_in_remembering(
    app: &TestApp,
    b: &reqwest::Client,
    user: &str,
    remember: bool,
) -> reqwest::Response {
    let html = b
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Keep me signed in on this device"));
    let csrf = form_value(&html, "csrf_token").unwrap();
    let mut form = vec![
        ("csrf_token", csrf),
        ("username", user.into()),
        ("password", PASSWORD.into()),
    ];
    if remember {
        form.push(("remember", "yes".into()));
    }
    let response = b.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hccc_sso="))
        .expect("session cookie")
        .to_owned()
}

/// Sessions for shared computers: a browser-session cookie unless the person asks to be kept
/// signed in, an idle timeout, and an absolute lifetime whatever the activity.
async fn sessions_end_when_idle_or_too_old_and_staying_signed_in_is_a_choice(app: TestApp) {
    app.create_user("student").await;
    let config = app.state.config.clone();

    // Idle: two hours by default, then signed out.
    let b = browser();
    let cookie = session_cookie(&sign_in_remembering(&app, &b, "student", false).await);
    assert!(!cookie.contains("Max-Age"), "{cookie}");
    app.clock.advance(config.session_ttl - 60);
    assert!(signed_in(&app, &b).await, "still within the idle timeout");
    app.clock.advance(config.session_ttl + 1);
    assert!(!signed_in(&app, &b).await, "idle too long");

    // Absolute: active every hour, still signed out after the session's lifetime.
    let b = browser();
    sign_in_remembering(&app, &b, "student", false).await;
    let mut elapsed = 0;
    while elapsed + 3600 <= config.session_max {
        app.clock.advance(3600);
        elapsed += 3600;
        assert!(signed_in(&app, &b).await, "active session at {elapsed} s");
    }
    app.clock.advance(config.session_max - elapsed + 1);
    assert!(!signed_in(&app, &b).await, "past the absolute lifetime");

    // Kept signed in on one's own phone: a persistent cookie and the longer lifetime.
    let phone = browser();
    let cookie = session_cookie(&sign_in_remembering(&app, &phone, "student", true).await);
    assert!(
        cookie.contains(&format!("Max-Age={}", config.remember_me)),
        "{cookie}"
    );
    app.clock.advance(config.session_max + 3600);
    assert!(
        signed_in(&app, &phone).await,
        "kept past a browser session's lifetime"
    );
    app.clock.advance(config.remember_me + 1);
    assert!(!signed_in(&app, &phone).await, "not forever");
}

/// A password change by its owner ends the account's other sessions, refresh tokens and access
/// tokens, telling their apps over the back channel, and keeps the session it was made from.
async fn changing_ones_password_ends_every_other_session_and_token(app: TestApp) {
    let receiver = crate::conformance::receiver().await;
    app.create_user("changer").await;
    let client = app.create_client(false, true).await;
    let backchannel = receiver.url.clone();
    app.edit_client(&client.client_id, |c| {
        c.settings.backchannel_logout_uri = Some(backchannel);
        c.grant_types.push(GrantType::Password);
        c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT.with(Scope::Api);
    })
    .await;
    let tokens_of = |b: reqwest::Client| {
        let app = &app;
        let client = &client;
        async move {
            let p = pkce();
            let params =
                sign_in_for_code(app, &b, &authorize_url(app, client, &p, &[]), "changer").await;
            let (status, tokens) = exchange_code(app, client, &params["code"], &p.verifier).await;
            assert_eq!(status, StatusCode::OK);
            (b, tokens)
        }
    };
    let (here, tokens_here) = tokens_of(browser()).await;
    let (other, tokens_other) = tokens_of(browser()).await;

    let page = here.get(app.url("/account/password")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = form_value(&page.text().await.unwrap(), "csrf_token").unwrap();
    let changed = here
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", "a brand new passphrase"),
            ("confirm_password", "a brand new passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(
        changed
            .text()
            .await
            .unwrap()
            .contains("Your password is changed")
    );

    assert!(
        signed_in(&app, &here).await,
        "the session it was changed from stays"
    );
    assert!(
        !signed_in(&app, &other).await,
        "the other browser is signed out"
    );
    let refresh = |tokens: &Value| tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh(&tokens_other)),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the other session's app cannot refresh"
    );
    assert_eq!(
        crate::flows::userinfo_status(&app, tokens_other["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, kept) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh(&tokens_here)),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "this session's app keeps working: {kept}"
    );
    let logout = crate::conformance::wait_for_tokens(&receiver, 1).await;
    let claims = crate::token::decode_segment(&logout[0], 1);
    let other_sid =
        crate::token::decode_segment(tokens_other["id_token"].as_str().unwrap(), 1)["sid"].clone();
    assert_eq!(claims["sid"], other_sid, "the ended session's app is told");

    // Through the API: everything else ends, the calling token's grant stays.
    let (status, script) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "changer"),
            ("password", "a brand new passphrase"),
            ("scope", "openid api"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{script}");
    let token = script["access_token"].as_str().unwrap();
    let response = crate::harness::http()
        .post(app.url("/api/v1/users/me/password"))
        .bearer_auth(token)
        .json(&json!({"current_password": "a brand new passphrase", "new_password": "yet another passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        !signed_in(&app, &here).await,
        "the browser is signed out now"
    );
    let (status, _) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", kept["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, me) = api_get(&app, "/api/v1/users/me", token).await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("changer"))
    );
}

/// A request parked by one browser cannot be finished by another browser's session: a link to it
/// sent to a signed-in victim shows the "expired" page, whatever the victim does.
async fn a_parked_request_cannot_be_finished_by_another_browser(app: TestApp) {
    app.create_user("victim").await;
    app.create_user("attacker").await;
    let client = app.create_client(false, false).await;
    let attacker = browser();
    let p = pkce();
    let started = attacker
        .get(authorize_url(&app, &client, &p, &[]))
        .send()
        .await
        .unwrap();
    let login_path = location(&started);
    let request_id = query_of(&login_path)["request"].clone();

    let victim = browser();
    submit_login(&app, &victim, "/login", "victim", PASSWORD).await;
    for path in [
        login_path.clone(),
        format!("/consent?request={request_id}"),
        format!("/authorize/continue?request={request_id}"),
    ] {
        let response = victim.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("This sign-in has expired")
        );
    }
    let html = victim
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_value(&html, "csrf_token").unwrap();
    let posted = victim
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("request", request_id.as_str()),
            ("username", "victim"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::BAD_REQUEST);
    // The browser that started it finishes it.
    let response = submit_login(&app, &attacker, &login_path, "attacker", PASSWORD).await;
    let consent = location(&response);
    let redirect = location(&submit_consent(&app, &attacker, &consent, "allow").await);
    assert!(query_of(&redirect).contains_key("code"));
}

on_both_backends!(
    sessions_end_when_idle_or_too_old_and_staying_signed_in_is_a_choice,
    changing_ones_password_ends_every_other_session_and_token,
    a_parked_request_cannot_be_finished_by_another_browser,
);
