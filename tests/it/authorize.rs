//! The authorization endpoint, sign-in and consent pages: good paths and every error.

use reqwest::StatusCode;

use crate::flows::{
    authorize_url, location, pkce, query_of, sign_in_for_code, submit_consent, submit_login,
};
use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends, reqwest};

/// The error parameters a client receives at its redirect URI.
async fn redirected_error(app: &TestApp, url: &str) -> std::collections::HashMap<String, String> {
    let response = browser().get(url).send().await.expect("authorize");
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "errors after the redirect URI matched go back to the client"
    );
    let to = location(&response);
    assert!(to.starts_with(REDIRECT_URI), "redirected to {to}");
    let params = query_of(&to);
    assert_eq!(params.get("iss"), Some(&app.base));
    params
}

async fn authorization_errors_go_back_to_the_client_with_state(app: TestApp) {
    let client = app.create_client(false, false).await;
    let public = app.create_client(true, false).await;
    let p = pkce();
    let cases: Vec<(String, &str)> = vec![
        (
            authorize_url(&app, &client, &p, &[])
                .replace("scope=openid+profile+email", "scope=profile+email"),
            "invalid_scope",
        ),
        (
            authorize_url(&app, &client, &p, &[])
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_url(&app, &client, &p, &[]).replace("response_type=code&", ""),
            "invalid_request",
        ),
        (
            authorize_url(&app, &client, &p, &[])
                .replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            authorize_url(&app, &client, &p, &[("prompt", "none login")]),
            "invalid_request",
        ),
        (
            authorize_url(&app, &client, &p, &[("prompt", "bogus")]),
            "invalid_request",
        ),
        (
            authorize_url(&app, &client, &p, &[("max_age", "-1")]),
            "invalid_request",
        ),
        (
            authorize_url(&app, &client, &p, &[("response_mode", "fragment")]),
            "invalid_request",
        ),
        (
            authorize_url(
                &app,
                &client,
                &p,
                &[("request", "eyJhbGciOiJub25lIn0.e30.")],
            ),
            "request_not_supported",
        ),
        (
            authorize_url(&app, &client, &p, &[("request_uri", "https://x.example/r")]),
            "request_uri_not_supported",
        ),
        (
            authorize_url(&app, &client, &p, &[]).replace(&p.challenge, "short"),
            "invalid_request",
        ),
        (
            authorize_url(&app, &client, &p, &[("prompt", "none")]),
            "login_required",
        ),
    ];
    for (url, expected) in cases {
        let params = redirected_error(&app, &url).await;
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(expected),
            "for {url}"
        );
        assert_eq!(
            params.get("state").map(String::as_str),
            Some("st-123"),
            "state is returned"
        );
        assert!(params.contains_key("error_description"));
        assert!(!params.contains_key("code"));
    }
    // A public client must use PKCE.
    let no_pkce = authorize_url(&app, &public, &p, &[])
        .replace(&format!("&code_challenge={}", p.challenge), "")
        .replace("&code_challenge_method=S256", "");
    let params = redirected_error(&app, &no_pkce).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("invalid_request")
    );
    assert!(params["error_description"].contains("PKCE"));
}

async fn unknown_client_or_unregistered_redirect_uri_shows_a_page_and_never_redirects(
    app: TestApp,
) {
    let client = app.create_client(false, false).await;
    let p = pkce();
    let good = authorize_url(&app, &client, &p, &[]);
    let cases = [
        good.replace(&client.client_id, "00000000-0000-0000-0000-000000000000"),
        good.replace(&client.client_id, "not-a-uuid"),
        good.replace(&format!("client_id={}&", client.client_id), ""),
        good.replace(
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcb",
            "redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        ),
        good.replace("%2Fcb", "%2Fcb%2F"), // exact matching: a trailing slash is a different URI
        good.replace("redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcb&", ""),
        format!("{good}&client_id={}", client.client_id), // repeated parameter
    ];
    for url in cases {
        let response = browser().get(&url).send().await.expect("authorize");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "for {url}");
        assert!(
            response.headers().get("location").is_none(),
            "must not redirect: {url}"
        );
        let html = response.text().await.expect("html");
        assert!(html.contains("<h1>"), "an error page is shown");
    }
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(app: TestApp) {
    app.create_user("realstudent").await;
    let b = browser();
    let wrong = submit_login(&app, &b, "/login", "realstudent", "not the password!").await;
    let wrong_status = wrong.status();
    let wrong_html = wrong.text().await.expect("html");
    let unknown = submit_login(&app, &b, "/login", "nosuchstudent", "not the password!").await;
    let unknown_status = unknown.status();
    let unknown_html = unknown.text().await.expect("html");
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, wrong_status);
    let message = "The username or password is incorrect.";
    assert!(wrong_html.contains(message) && unknown_html.contains(message));
    // Apart from the per-session CSRF token and the echoed username, the pages are identical.
    let normalize = |html: &str, user: &str| {
        let token = crate::flows::form_value(html, "csrf_token").unwrap_or_default();
        html.replace(&token, "TOKEN").replace(user, "USER")
    };
    assert_eq!(
        normalize(&wrong_html, "realstudent"),
        normalize(&unknown_html, "nosuchstudent")
    );

    let ok = submit_login(&app, &b, "/login", "realstudent", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ok), "/");
}

async fn repeated_failures_are_slowed_then_refused_for_known_and_unknown_names(app: TestApp) {
    app.create_user("targeted").await;
    let max = app.state.config.login.max_failures_per_account;
    let slow_after = app.state.config.login.slowdown_after;
    for name in ["targeted", "ghost"] {
        let b = browser();
        for attempt in 1..max {
            let started = std::time::Instant::now();
            let response = submit_login(&app, &b, "/login", name, "wrong password!!").await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "attempt {attempt} for {name}"
            );
            if attempt > slow_after {
                let floor = std::time::Duration::from_millis(50 * (attempt - slow_after) as u64);
                assert!(
                    started.elapsed() >= floor,
                    "attempt {attempt} should be slowed by {floor:?}"
                );
            }
        }
        let locked = submit_login(&app, &b, "/login", name, "wrong password!!").await;
        assert_eq!(
            locked.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{name} locked after {max} failures"
        );
        assert!(
            locked
                .text()
                .await
                .expect("html")
                .contains("Too many failed sign-in attempts")
        );
    }
    // While locked, even the right password is refused; after the lockout it works.
    let b = browser();
    let refused = submit_login(&app, &b, "/login", "targeted", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(app.state.config.login.lockout + 1);
    let accepted = submit_login(&app, &b, "/login", "targeted", PASSWORD).await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
}

async fn consent_is_remembered_and_skip_consent_clients_never_ask(app: TestApp) {
    app.create_user("consenter").await;
    let client = app.create_client(false, false).await;
    let b = browser();
    let first = sign_in_for_code(
        &app,
        &b,
        &authorize_url(&app, &client, &pkce(), &[]),
        "consenter",
    )
    .await;
    assert!(first.contains_key("code"));
    // Same scopes again: straight back with a code, no page.
    let again = b
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&again).starts_with(REDIRECT_URI),
        "consent was remembered"
    );
    // prompt=none works now that the user is signed in and has consented.
    let silent = b
        .get(authorize_url(&app, &client, &pkce(), &[("prompt", "none")]))
        .send()
        .await
        .expect("authorize");
    assert!(query_of(&location(&silent)).contains_key("code"));
    // prompt=consent asks again.
    let forced = b
        .get(authorize_url(
            &app,
            &client,
            &pkce(),
            &[("prompt", "consent")],
        ))
        .send()
        .await
        .expect("authorize");
    assert!(location(&forced).starts_with("/consent"));
    // A broader request (adding offline_access) asks again.
    let broader = authorize_url(&app, &client, &pkce(), &[]).replace(
        "scope=openid+profile+email",
        "scope=openid+profile+email+offline_access",
    );
    let response = b.get(broader).send().await.expect("authorize");
    assert!(location(&response).starts_with("/consent"));

    let trusted = app.create_client(false, true).await;
    let response = b
        .get(authorize_url(&app, &trusted, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    assert!(
        query_of(&location(&response)).contains_key("code"),
        "skip-consent client gets a code directly"
    );
}

async fn consent_page_lists_scopes_in_plain_words_and_deny_returns_access_denied(app: TestApp) {
    app.create_user("decliner").await;
    let client = app.create_client(false, false).await;
    let b = browser();
    let response = b
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    let response = submit_login(&app, &b, &location(&response), "decliner", PASSWORD).await;
    let consent_path = location(&response);
    let html = b
        .get(app.url(&consent_path))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Your e-mail address") && html.contains("Your name and username"));
    assert!(html.contains("College LMS"));
    let response = submit_consent(&app, &b, &consent_path, "deny").await;
    let params = query_of(&location(&response));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(params.get("state").map(String::as_str), Some("st-123"));
    // prompt=none now reports consent_required (the user is signed in, but has not consented).
    let silent = b
        .get(authorize_url(&app, &client, &pkce(), &[("prompt", "none")]))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&silent))
            .get("error")
            .map(String::as_str),
        Some("consent_required")
    );
}

async fn prompt_login_and_max_age_force_a_fresh_sign_in(app: TestApp) {
    app.create_user("returning").await;
    let client = app.create_client(false, true).await;
    let b = browser();
    sign_in_for_code(
        &app,
        &b,
        &authorize_url(&app, &client, &pkce(), &[]),
        "returning",
    )
    .await;

    let forced = b
        .get(authorize_url(
            &app,
            &client,
            &pkce(),
            &[("prompt", "login")],
        ))
        .send()
        .await
        .expect("authorize");
    let login_path = location(&forced);
    assert!(
        login_path.starts_with("/login"),
        "prompt=login shows the login page"
    );
    app.clock.advance(5);
    let response = submit_login(&app, &b, &login_path, "returning", PASSWORD).await;
    let code = query_of(&location(&response))["code"].clone();
    let (_, tokens) = crate::flows::exchange_code(&app, &client, &code, "").await;
    assert!(
        tokens.get("error").is_some(),
        "a missing verifier is refused even when the sign-in was fresh"
    );

    app.clock.advance(120);
    let too_old = b
        .get(authorize_url(&app, &client, &pkce(), &[("max_age", "60")]))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&too_old).starts_with("/login"),
        "max_age=60 after 120 s requires a new sign-in"
    );
    let recent = b
        .get(authorize_url(&app, &client, &pkce(), &[("max_age", "600")]))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&recent).starts_with(REDIRECT_URI),
        "max_age=600 is satisfied"
    );
    let silent = b
        .get(authorize_url(
            &app,
            &client,
            &pkce(),
            &[("max_age", "60"), ("prompt", "none")],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&silent))
            .get("error")
            .map(String::as_str),
        Some("login_required")
    );
}

async fn form_post_response_mode_answers_with_a_self_submitting_form(app: TestApp) {
    app.create_user("poster").await;
    let client = app.create_client(false, true).await;
    let b = browser();
    let response = b
        .get(authorize_url(
            &app,
            &client,
            &pkce(),
            &[("response_mode", "form_post")],
        ))
        .send()
        .await
        .expect("authorize");
    let response = submit_login(&app, &b, &location(&response), "poster", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(
        html.contains(&format!(
            "action=\"{}\"",
            REDIRECT_URI.replace('/', "&#x2f;")
        )) || html.contains(&format!("action=\"{REDIRECT_URI}\"")),
        "{html}"
    );
    assert!(crate::flows::form_value(&html, "code").is_some_and(|c| c.len() == 43));
    assert_eq!(
        crate::flows::form_value(&html, "state").as_deref(),
        Some("st-123")
    );
    assert_eq!(
        crate::flows::form_value(&html, "iss").as_deref(),
        Some(app.base.as_str())
    );
    assert!(
        html.contains("/js/form_post.js\"") && html.contains("src=\"/assets/"),
        "auto-submit script is external (CSP without inline scripts)"
    );
}

async fn login_form_needs_its_csrf_token_and_a_new_session_id_is_issued_at_sign_in(app: TestApp) {
    app.create_user("csrfuser").await;
    let b = browser();
    let page = b.get(app.url("/login")).send().await.expect("login page");
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    // Looking at the sign-in page stores nothing: only the browser-binding cookie is set.
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let binding = &cookies[0];
    assert!(binding.starts_with("hccc_sso_b="), "{binding}");
    assert!(
        binding.contains("HttpOnly")
            && binding.contains("SameSite=Lax")
            && binding.contains("Path=/"),
        "{binding}"
    );
    assert!(
        !binding.contains("Secure") && !binding.contains("Max-Age") && !binding.contains("Expires"),
        "no Secure flag on an http issuer, and a browser-session cookie: {binding}"
    );
    assert_eq!(
        app.session_rows().await,
        0,
        "the login page wrote a session"
    );
    let login_csrf = crate::flows::form_value(&page.text().await.unwrap(), "csrf_token").unwrap();

    let forged = b
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", "forged"),
            ("username", "csrfuser"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let missing = b
        .post(app.url("/login"))
        .form(&[("username", "csrfuser"), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    // Another browser's token does not pass either.
    let other = browser();
    let stolen = other
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", login_csrf.as_str()),
            ("username", "csrfuser"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.session_rows().await, 0);

    let ok = submit_login(&app, &b, "/login", "csrfuser", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let session_cookie = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hccc_sso="))
        .expect("session cookie at sign-in")
        .to_owned();
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"),
        "{session_cookie}"
    );
    // Closing the browser of a shared computer signs the student out.
    assert!(
        !session_cookie.contains("Max-Age") && !session_cookie.contains("Expires"),
        "a browser-session cookie: {session_cookie}"
    );
    assert_eq!(app.session_rows().await, 1);
    let home = b
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("html");
    assert!(
        home.contains("Ada Lovelace"),
        "the home page shows who is signed in"
    );
    let session_csrf = crate::flows::form_value(&home, "csrf_token").expect("sign-out form");
    assert_ne!(
        session_csrf, login_csrf,
        "the CSRF token changes at sign-in"
    );
    // The sign-in form's token no longer works for the signed-in session's forms.
    let stale = b
        .post(app.url("/logout"))
        .form(&[("csrf_token", login_csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .expect("logout");
    assert_eq!(stale.status(), StatusCode::BAD_REQUEST);
}

async fn expired_or_unknown_pending_requests_show_a_helpful_page(app: TestApp) {
    app.create_user("slowpoke").await;
    let client = app.create_client(false, false).await;
    let b = browser();
    let response = b
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    let login_path = location(&response);
    app.clock
        .advance(hccc_sso::oidc::authorize::PENDING_TTL + 1);
    let page = b.get(app.url(&login_path)).send().await.expect("login");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("This sign-in has expired")
    );
    for path in [
        "/login?request=nonsense",
        "/consent?request=00000000-0000-0000-0000-000000000000",
        "/consent",
    ] {
        let page = b.get(app.url(path)).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{path}");
    }
}

on_both_backends!(
    authorization_errors_go_back_to_the_client_with_state,
    unknown_client_or_unregistered_redirect_uri_shows_a_page_and_never_redirects,
    a_wrong_password_and_an_unknown_user_get_the_same_answer,
    repeated_failures_are_slowed_then_refused_for_known_and_unknown_names,
    consent_is_remembered_and_skip_consent_clients_never_ask,
    consent_page_lists_scopes_in_plain_words_and_deny_returns_access_denied,
    prompt_login_and_max_age_force_a_fresh_sign_in,
    form_post_response_mode_answers_with_a_self_submitting_form,
    login_form_needs_its_csrf_token_and_a_new_session_id_is_issued_at_sign_in,
    expired_or_unknown_pending_requests_show_a_helpful_page,
);
