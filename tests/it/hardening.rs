//! Issue 10: what a hostile app, client or browser could do, each closed and tried here the way
//! the hostile party would: over HTTP, with the CLI, or against the store where the race is.

use hccc_sso::domain::{GrantType, Scope, ScopeSet};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flows::{
    authorize_url, exchange_code, form_value, location, pkce, query_of, sign_in_for_code,
    submit_consent, submit_login, token_request, token_request_at,
};
use crate::harness::{
    Backend, PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends, reqwest, start_with,
};

/// Makes an account that holds the admin role.
async fn admin(app: &TestApp, username: &str) -> hccc_sso::store::AccountRow {
    let before = app.create_user(username).await;
    let mut after = before.clone();
    after.roles.0 = vec!["admin".into(), "staff".into()];
    app.store()
        .update_account(&before, &after, app.clock.now())
        .await
        .expect("promote")
}

fn with_scope(url: &str, scope: &str) -> String {
    url.replace(
        "scope=openid+profile+email",
        &format!("scope={}", scope.replace(' ', "+")),
    )
}

async fn api_get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("api");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn signed_in(app: &TestApp, b: &reqwest::Client) -> bool {
    let home = b.get(app.url("/")).send().await.expect("home");
    home.text()
        .await
        .expect("html")
        .contains("You are signed in")
}

/// The confused deputy: an admin signs in to an app that skips consent and asks for `api`; the
/// app was never allowed `api`, so it gets a token without it, with or without a consent page.
async fn an_app_not_allowed_api_never_gets_it_with_or_without_consent(app: TestApp) {
    admin(&app, "chief").await;
    for skip_consent in [true, false] {
        let client = app.create_client(false, skip_consent).await;
        let p = pkce();
        let url = with_scope(
            &authorize_url(&app, &client, &p, &[]),
            "openid api offline_access",
        );
        let b = browser();
        let first = b.get(&url).send().await.expect("authorize");
        let login = location(&first);
        let after_login = submit_login(&app, &b, &login, "chief", PASSWORD).await;
        let next = location(&after_login);
        let next = if skip_consent {
            assert!(next.starts_with(REDIRECT_URI), "no consent page: {next}");
            next
        } else {
            let page = b.get(app.url(&next)).send().await.expect("consent");
            let html = page.text().await.expect("html");
            assert!(!html.contains("Act as you"), "api is not even asked for");
            location(&submit_consent(&app, &b, &next, "allow").await)
        };
        let code = query_of(&next)["code"].clone();
        let (status, tokens) = exchange_code(&app, &client, &code, &p.verifier).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert_eq!(tokens["scope"], "openid offline_access", "api was dropped");
        let access = tokens["access_token"].as_str().unwrap();
        let (status, body) = api_get(&app, "/api/v1/users", access).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _) = api_get(&app, "/api/v1/users/me", access).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Nor can a refresh widen the grant to it.
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let (status, body) = token_request(
            &app,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("scope", "openid api"),
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_scope"))
        );
    }
    // The device grant drops it as well.
    let device = app.create_client(false, true).await;
    app.edit_client(&device.client_id, |c| {
        c.grant_types.push(GrantType::DeviceCode)
    })
    .await;
    let (status, started) = token_request_at(
        &app,
        "/device_authorization",
        &device,
        &[("scope", "openid api")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let code = started["user_code"].as_str().unwrap().replace('-', "");
    let row = app
        .store()
        .find_pending_device(&code, app.clock.now())
        .await
        .unwrap()
        .expect("pending device request");
    assert_eq!(row.scope, "openid");
}

/// An app an admin did allow `api` gets it only through the consent page, every time, even when
/// it skips consent otherwise; taking `api` back from the app ends what it obtained.
async fn an_app_allowed_api_gets_it_only_after_the_consent_page_every_time(app: TestApp) {
    admin(&app, "chief").await;
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |c| {
        c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT.with(Scope::Api)
    })
    .await;
    let b = browser();
    for round in 0..2 {
        let p = pkce();
        let url = with_scope(&authorize_url(&app, &client, &p, &[]), "openid api");
        let first = b.get(&url).send().await.expect("authorize");
        let mut next = location(&first);
        if round == 0 {
            next = location(&submit_login(&app, &b, &next, "chief", PASSWORD).await);
        }
        assert!(next.starts_with("/consent"), "round {round}: {next}");
        let page = b.get(app.url(&next)).send().await.expect("consent");
        let html = page.text().await.expect("html");
        assert!(html.contains("Act as you"), "{html}");
        assert!(html.contains("asked each time"), "{html}");
        let redirect = location(&submit_consent(&app, &b, &next, "allow").await);
        let code = query_of(&redirect)["code"].clone();
        let (status, tokens) = exchange_code(&app, &client, &code, &p.verifier).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert_eq!(tokens["scope"], "openid api");
        let (status, me) = api_get(
            &app,
            "/api/v1/users/me",
            tokens["access_token"].as_str().unwrap(),
        )
        .await;
        assert_eq!(
            (status, me["username"].as_str()),
            (StatusCode::OK, Some("chief"))
        );
        if round == 1 {
            // Taken back: the token stops working at the API and a refresh no longer has it.
            app.edit_client(&client.client_id, |c| {
                c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT
            })
            .await;
            let access = tokens["access_token"].as_str().unwrap();
            let (status, body) = api_get(&app, "/api/v1/users/me", access).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
            let (status, refreshed) = token_request(
                &app,
                &client,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ],
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{refreshed}");
            assert_eq!(refreshed["scope"], "openid");
        }
    }
    // Without a page to show, there is no consent: prompt=none answers consent_required.
    app.edit_client(&client.client_id, |c| {
        c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT.with(Scope::Api)
    })
    .await;
    let url = with_scope(
        &authorize_url(&app, &client, &pkce(), &[("prompt", "none")]),
        "openid api",
    );
    let answer = location(&b.get(&url).send().await.expect("authorize"));
    assert_eq!(query_of(&answer)["error"], "consent_required", "{answer}");
}

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
    let patch = reqwest::Client::new()
        .patch(app.url("/api/v1/users/me"))
        .bearer_auth(&token)
        .json(&json!({"given_name": "Ada\u{0}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = patch.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "given_name", "{problem}");
    let create = reqwest::Client::new()
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
        let response = reqwest::Client::new()
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
    let response = reqwest::Client::new()
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

/// A code or refresh token presented by another client is not spent, and the answer does not
/// say it was valid; its own client then uses it as usual.
async fn a_code_or_refresh_token_presented_by_another_client_is_not_spent(app: TestApp) {
    app.create_user("owner").await;
    let mine = app.create_client(false, true).await;
    let thief = app.create_client(false, true).await;
    let p = pkce();
    let params = sign_in_for_code(
        &app,
        &browser(),
        &authorize_url(&app, &mine, &p, &[]),
        "owner",
    )
    .await;
    let (status, body) = exchange_code(&app, &thief, &params["code"], &p.verifier).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("authorization code is invalid")
        )
    );
    let (status, tokens) = exchange_code(&app, &mine, &params["code"], &p.verifier).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the code still works for its own client: {tokens}"
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = token_request(
        &app,
        &thief,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("refresh token is invalid or expired")
        )
    );
    let (status, rotated) = token_request(
        &app,
        &mine,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    // The spent token from a thief neither works nor revokes the owner's grant.
    let (status, _) = token_request(
        &app,
        &thief,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = token_request(
        &app,
        &mine,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rotated["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the owner's grant is not revoked");
}

/// Authlib signs client assertions for an hour by default; they pass, and the errors say which
/// limit an assertion missed.
async fn a_one_hour_client_secret_jwt_assertion_is_accepted(app: TestApp) {
    use josekit::jws::HS256;
    let (client, secret) = crate::token_admin::service_client(
        &app,
        hccc_sso::clients::ClientChange {
            token_endpoint_auth_method: Some("client_secret_jwt".into()),
            ..Default::default()
        },
    )
    .await;
    let signer = HS256
        .signer_from_bytes(secret.expect("secret").as_bytes())
        .unwrap();
    let now = app.clock.now();
    let assertion = |exp: i64| {
        crate::token_admin::assertion(&app, &client.client_id, &signer, None, json!({"exp": exp}))
    };
    let (status, body) = crate::token_admin::with_assertion(&app, &assertion(now + 3600)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (exp, why) in [
        (
            now + 3600 + 120,
            "assertion is valid for longer than one hour",
        ),
        (now - 1, "assertion has expired"),
    ] {
        let (status, body) = crate::token_admin::with_assertion(&app, &assertion(exp)).await;
        assert_eq!(
            (status, body["error_description"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(why))
        );
    }
}

/// A jwks_uri that cannot be read is the operator's problem to read in the log, not the
/// caller's to learn what the server can reach.
async fn a_jwks_uri_failure_is_logged_not_shown(app: TestApp) {
    use josekit::jws::RS256;
    // A port nothing listens on.
    let closed = format!("127.0.0.1:{}", crate::harness::free_port());
    let (client, _) = crate::token_admin::service_client(
        &app,
        hccc_sso::clients::ClientChange {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks_uri: Some(Some(format!("http://{closed}/jwks"))),
            ..Default::default()
        },
    )
    .await;
    let pair = RS256.generate_key_pair(2048).unwrap();
    let signer = RS256.signer_from_der(pair.to_der_private_key()).unwrap();
    let jwt = crate::token_admin::assertion(&app, &client.client_id, &signer, None, json!({}));
    let (status, body) = crate::token_admin::with_assertion(&app, &jwt).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error_description"], "client authentication failed",
        "{body}"
    );
}

/// An admin's change and a concurrent one to another field both stay: the store writes only
/// what a change changes.
async fn a_concurrent_change_to_another_field_is_not_undone(app: TestApp) {
    let before = app.create_user("moving").await;
    // An admin disables the account while another admin's edit, read before it, renames it.
    app.store()
        .set_account_disabled(before.account_id, true, app.clock.now())
        .await
        .unwrap();
    let mut renamed = before.clone();
    renamed.given_name = Some("Augusta".into());
    let stored = app
        .store()
        .update_account(&before, &renamed, app.clock.now())
        .await
        .unwrap();
    assert_eq!(stored.given_name.as_deref(), Some("Augusta"));
    assert!(stored.disabled, "the disable was kept");
}

/// The generated first-start password works once: it opens the page to choose a new one.
async fn the_first_start_admin_must_choose_a_password(app: TestApp) {
    let password = hccc_sso::cli::bootstrap_admin(&app.state)
        .await
        .unwrap()
        .expect("created");
    let b = browser();
    let response = submit_login(&app, &b, "/login", "admin", &password).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Choose a new password")
    );
    assert!(!signed_in(&app, &b).await);
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

/// `/metrics` needs its own port or a bearer token.
async fn metrics_need_a_token_on_the_public_listener(app: TestApp) {
    let http = reqwest::Client::new();
    let status =
        |request: reqwest::RequestBuilder| async move { request.send().await.unwrap().status() };
    assert_eq!(
        status(http.get(app.url("/metrics"))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            http.get(app.url("/metrics"))
                .bearer_auth("metrics-token-for-tests-0123456780")
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            http.get(app.url("/metrics"))
                .bearer_auth(crate::harness::METRICS_TOKEN)
        )
        .await,
        StatusCode::OK
    );
}

/// The CLI's `--json` output is one JSON document on stdout even with `RUST_LOG=info` (whose
/// lines, and PostgreSQL's notices, go to stderr or nowhere).
async fn the_cli_prints_one_json_document_with_info_logging(app: TestApp) {
    for args in [
        vec!["migrate", "--json"],
        vec![
            "client",
            "create",
            "--name",
            "Registrar",
            "--redirect-uri",
            "https://registrar.hccc.edu/cb",
            "--scope",
            "openid",
            "--scope",
            "api",
            "--json",
        ],
    ] {
        for level in ["info", "debug"] {
            let output = crate::cli::cli_with(&app, &args, None, &[("RUST_LOG", level)]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{stderr}");
            let document: Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
            assert!(document.is_object());
            if args[0] == "client" {
                assert_eq!(document["allowed_scopes"], json!(["openid", "api"]));
            }
            if level == "debug" {
                // sqlx logs each statement at debug: the lines are there, on stderr.
                assert!(stderr.lines().count() > 3, "{stderr}");
            } else {
                assert!(
                    !stderr.contains("already exists, skipping"),
                    "PostgreSQL's notices are not logged at info: {stderr}"
                );
            }
        }
    }
}

/// A command run without the server's secret key refuses to make a second one while the database
/// holds keys sealed under the first.
async fn a_command_without_the_servers_secret_key_refuses_to_make_another(app: TestApp) {
    let elsewhere = tempfile::tempdir().unwrap();
    for (secret, why) in [
        ("", "Refusing to generate a new one"),
        (
            "c29tZSBvdGhlciBzZWNyZXQga2V5IG9mIHRoaXJ0eS10d28gYnl0ZXM=",
            "does not open the signing keys",
        ),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_hccc-sso"))
            .args([
                "client",
                "create",
                "--name",
                "Elsewhere",
                "--redirect-uri",
                "https://x.hccc.edu/cb",
                "--json",
            ])
            .current_dir(elsewhere.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.db.url)
            .env("HCCC_SSO_SECRET_KEY", secret)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(why), "{stderr}");
        assert!(output.stdout.is_empty());
        assert!(!elsewhere.path().join("data/secret.key").exists());
    }
    let (clients, _) = app.store().list_clients(100, 0).await.unwrap();
    assert!(clients.iter().all(|c| c.name != "Elsewhere"));
}

/// Migration 0005 gives clients that existed before it what they could get then, minus `api`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0005_keeps_existing_clients_scopes_but_api() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = crate::harness::TestDb::fresh(backend).await else {
            continue;
        };
        let store = hccc_sso::store::Store::connect(&db.url, 1).await.unwrap();
        let folder = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let run = |sql: String| {
            let store = store.clone();
            async move {
                match store.db() {
                    hccc_sso::store::Db::Postgres(pool) => {
                        sqlx::raw_sql(&sql).execute(pool).await.map(|_| ())
                    }
                    hccc_sso::store::Db::Sqlite(pool) => {
                        sqlx::raw_sql(&sql).execute(pool).await.map(|_| ())
                    }
                }
                .unwrap()
            }
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in &files {
            if file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("0005")
            {
                let id = match backend {
                    Backend::Sqlite => "x'000102030405060708090a0b0c0d0e0f'",
                    Backend::Postgres => "'00010203-0405-0607-0809-0a0b0c0d0e0f'",
                };
                run(format!(
                    "insert into client (client_id, name, redirect_uris, post_logout_redirect_uris, grant_types, \
                     token_endpoint_auth_method, skip_consent, created_at, updated_at, require_par, id_token_alg) \
                     values ({id}, 'Old app', '[]', '[]', '[\"client_credentials\"]', 'client_secret_basic', false, 1, 1, false, 'RS256')"
                ))
                .await;
            }
            run(std::fs::read_to_string(file).unwrap()).await;
        }
        let scopes: String = match store.db() {
            hccc_sso::store::Db::Postgres(pool) => {
                sqlx::query_scalar("select allowed_scopes from client")
                    .fetch_one(pool)
                    .await
            }
            hccc_sso::store::Db::Sqlite(pool) => {
                sqlx::query_scalar("select allowed_scopes from client")
                    .fetch_one(pool)
                    .await
            }
        }
        .unwrap();
        assert_eq!(
            scopes, r#"["openid","profile","email","roles","offline_access"]"#,
            "{folder}"
        );
    }
}

on_both_backends!(
    an_app_not_allowed_api_never_gets_it_with_or_without_consent,
    an_app_allowed_api_gets_it_only_after_the_consent_page_every_time,
    nul_bytes_and_control_characters_are_refused_before_any_query,
    e_mail_addresses_with_markup_are_refused,
    sessions_end_when_idle_or_too_old_and_staying_signed_in_is_a_choice,
    changing_ones_password_ends_every_other_session_and_token,
    lockout_counts_the_account_whichever_identifier_was_typed,
    a_parked_request_cannot_be_finished_by_another_browser,
    a_code_or_refresh_token_presented_by_another_client_is_not_spent,
    a_one_hour_client_secret_jwt_assertion_is_accepted,
    a_jwks_uri_failure_is_logged_not_shown,
    a_concurrent_change_to_another_field_is_not_undone,
    the_first_start_admin_must_choose_a_password,
    metrics_need_a_token_on_the_public_listener,
    the_cli_prints_one_json_document_with_info_logging,
    a_command_without_the_servers_secret_key_refuses_to_make_another,
);

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

/// Without a token or a port of its own, /metrics is not served on the public listener at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_on_the_public_listener_by_default() {
    let app = start_with(Backend::Sqlite, |c| c.metrics_token = None)
        .await
        .expect("app");
    let status = reqwest::Client::new()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
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
            let b = reqwest::Client::builder()
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
    let started: Value = reqwest::Client::new()
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
