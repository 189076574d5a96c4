//! What the person's own pages and API ask before a sensitive change, as an attacker holding only
//! a signed-in browser or a token would meet it: the current password, checked and throttled as
//! a sign-in (parallel guesses included) on the password page and the API alike, and asked by the
//! factor and address forms however recent the sign-in; every account form refuses a stale form,
//! and sends a signed-out visitor to sign in and back to the form's page; and a parked request
//! goes on only from the step it waits at. Over real HTTP on both backends.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::{call, password_token, script_client};
use crate::factors::{page, post};
use crate::flows::{authorize_url, form_value, location, pkce, query_of, submit_login};
use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends};

const WRONG: &str = "not the password at all";
const PARALLEL: usize = 40;
const NEW_PASSWORD: &str = "a brand new passphrase";

/// A browser signed in with the password.
async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let b = browser();
    let r = submit_login(app, &b, "/login", username, PASSWORD).await;
    assert_eq!(location(&r), "/", "{username} signs in");
    b
}

async fn password_hash(app: &TestApp, username: &str) -> Option<String> {
    app.store()
        .find_account_by_login(username)
        .await
        .expect("db")
        .expect("account")
        .password_hash
}

/// Parallel guesses at the current password on `/account/password`, from the one signed-in
/// browser: at most the sign-in limit are verified, each is refused, and the account is then
/// locked for this form too (the right password is refused unverified; nothing changes).
async fn guessing_the_current_password_on_the_page_is_throttled_as_a_sign_in(app: TestApp) {
    app.create_user("victim").await;
    let b = signed_in(&app, "victim").await;
    let hash = password_hash(&app, "victim").await;
    let (status, html) = page(&app.base, &b, "/account/password").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let limit = app.state.config.login.max_failures_per_account;
    let before = app.state.hasher.verifications();
    let guesses: Vec<String> = (0..PARALLEL).map(|i| format!("{WRONG} {i}")).collect();
    let posts = guesses.iter().map(|guess| {
        b.post(app.url("/account/password"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("current_password", guess.as_str()),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ])
            .send()
    });
    let statuses: Vec<StatusCode> = join_all(posts)
        .await
        .into_iter()
        .map(|r| r.expect("post").status())
        .collect();
    let verified = app.state.hasher.verifications() - before;
    assert!(
        verified <= limit as u64,
        "{verified} current passwords verified for {PARALLEL} parallel guesses; the limit is {limit}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::FORBIDDEN || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let right = b
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked, even with the right current password"
    );
    assert_eq!(app.state.hasher.verifications() - before, verified);
    assert_eq!(password_hash(&app, "victim").await, hash, "nothing changed");
    let (status, _) = page(&app.base, &b, "/account").await;
    assert_eq!(status, StatusCode::OK, "wrong guesses sign no one out");
}

/// The same through `POST /api/v1/users/me/password` with a person's token.
async fn guessing_the_current_password_through_the_api_is_throttled_as_a_sign_in(app: TestApp) {
    app.create_user("victim").await;
    let client = script_client(&app).await;
    let token = password_token(&app, &client, "victim").await;
    let hash = password_hash(&app, "victim").await;
    let limit = app.state.config.login.max_failures_per_account;
    let before = app.state.hasher.verifications();
    let guesses: Vec<String> = (0..PARALLEL).map(|i| format!("{WRONG} {i}")).collect();
    let calls = guesses.iter().map(|guess| {
        call(
            &app,
            Method::POST,
            "/api/v1/users/me/password",
            Some(&token),
            Some(json!({"current_password": guess, "new_password": NEW_PASSWORD})),
        )
    });
    let statuses: Vec<StatusCode> = join_all(calls).await.into_iter().map(|(s, _)| s).collect();
    let verified = app.state.hasher.verifications() - before;
    assert!(
        verified <= limit as u64,
        "{verified} verified for {PARALLEL} parallel guesses; the limit is {limit}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::FORBIDDEN || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/v1/users/me/password",
        Some(&token),
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(password_hash(&app, "victim").await, hash, "nothing changed");
}

/// A browser signed in a moment ago still gives the current password to add or remove a factor
/// or move the address: a blank or wrong one changes nothing.
async fn the_factor_and_address_forms_ask_for_the_password_just_after_signing_in(app: TestApp) {
    let account = app.create_user("fresh").await;
    let b = signed_in(&app, "fresh").await;
    for action in [
        "/account/totp",
        "/account/totp/remove",
        "/account/recovery-codes",
        "/account/passkeys/remove",
    ] {
        for given in ["", WRONG] {
            let r = post(
                &app.base,
                &b,
                "/account",
                action,
                &[("current_password", given), ("credential_id", "x")],
            )
            .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action} with {given:?}");
            let html = r.text().await.expect("html");
            assert!(!html.contains("otpauth://"), "{action} showed no key");
        }
    }
    for (given, refused) in [
        ("", StatusCode::UNPROCESSABLE_ENTITY),
        (WRONG, StatusCode::FORBIDDEN),
    ] {
        let r = post(
            &app.base,
            &b,
            "/account",
            "/account/email",
            &[
                ("email", "elsewhere@example.org"),
                ("current_password", given),
            ],
        )
        .await;
        assert_eq!(r.status(), refused, "address change with {given:?}");
    }
    let mfa = app.store().find_mfa(account.account_id).await.expect("mfa");
    assert!(!mfa.has_factor(), "no factor was added");
    let pending = app
        .store()
        .live_link_detail(
            account.account_id,
            hccc_sso::store::LinkPurpose::EmailChange,
            app.clock.now(),
        )
        .await
        .expect("db");
    assert_eq!(pending, None, "no address change was started");
}

/// Every form of the person's pages: a form without this session's token is refused as stale
/// (signed in or not); a visitor whose form is valid but who is not signed in is sent to sign
/// in, and back to the form's page (never the address it posted to, nor anywhere else).
async fn account_forms_refuse_stale_forms_and_send_the_signed_out_to_sign_in(app: TestApp) {
    app.create_user("owner").await;
    let owner = signed_in(&app, "owner").await;
    let stranger = browser();
    let (_, html) = page(&app.base, &stranger, "/login").await;
    let strangers_csrf = form_value(&html, "csrf_token").expect("csrf");
    let forms = [
        ("/account/password", "%2Faccount%2Fpassword"),
        ("/account/profile", "%2Faccount"),
        ("/account/email", "%2Faccount"),
        ("/account/email/cancel", "%2Faccount"),
        ("/account/email/verify", "%2Faccount"),
        ("/account/sessions/end", "%2Faccount"),
        ("/account/apps/revoke", "%2Faccount"),
        ("/account/totp", "%2Faccount"),
        ("/account/totp/confirm", "%2Faccount"),
        ("/account/totp/remove", "%2Faccount"),
        ("/account/recovery-codes", "%2Faccount"),
        ("/account/passkeys", "%2Faccount"),
        ("/account/passkeys/finish", "%2Faccount"),
        ("/account/passkeys/remove", "%2Faccount"),
        ("/account/remembered/forget", "%2Faccount"),
    ];
    for (action, back) in forms {
        let fields = [
            ("current_password", PASSWORD),
            ("given_name", "Mallory"),
            ("sid", "others"),
            ("remembered_id", "all"),
        ];
        for who in [&owner, &stranger] {
            let mut form = vec![("csrf_token", "not the token")];
            form.extend_from_slice(&fields);
            let r = who
                .post(app.url(action))
                .form(&form)
                .send()
                .await
                .expect("post");
            assert_eq!(
                r.status(),
                StatusCode::BAD_REQUEST,
                "{action}: a stale form"
            );
        }
        let mut form = vec![("csrf_token", strangers_csrf.as_str())];
        form.extend_from_slice(&fields);
        let r = stranger
            .post(app.url(action))
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{action}: signed out");
        assert_eq!(location(&r), format!("/login?return_to={back}"), "{action}");
    }
    let account = app
        .store()
        .find_account_by_login("owner")
        .await
        .expect("db")
        .expect("account");
    assert_eq!(
        account.given_name.as_deref(),
        Some("Ada"),
        "no form changed the account"
    );
    // Signed out, a page's odd address is no error: sign in first, back to the page's path.
    for (path, back) in [
        ("/account?done=profile&x=%2F%2Fevil.example", "%2Faccount"),
        (
            "/account/password?return_to=https://evil.example",
            "%2Faccount%2Fpassword",
        ),
        ("/account/password?%ZZ=%FF", "%2Faccount%2Fpassword"),
    ] {
        let r = browser().get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&r), format!("/login?return_to={back}"), "{path}");
    }
}

/// Whether the answer hands the app a code.
fn issued_code(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|to| to.starts_with(REDIRECT_URI) && query_of(to).contains_key("code"))
}

/// A request parked at one step goes on only from there: `/authorize/continue` (the QR sign-in's
/// way back) refuses one waiting for consent or for the second step, the second step refuses one
/// waiting for consent, and signing in again with a parked request asks its step again (no code).
async fn a_parked_request_goes_on_only_from_its_own_step(app: TestApp) {
    app.create_user("mallory").await;
    let b = signed_in(&app, "mallory").await;
    let asks_consent = app.create_client(false, false).await;
    let r = b
        .get(authorize_url(&app, &asks_consent, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    let consent = location(&r);
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let at_consent = query_of(&consent)["request"].clone();
    let wants_factor = app.create_client(false, true).await;
    app.edit_client(&wants_factor.client_id, |c| c.settings.require_mfa = true)
        .await;
    let r = b
        .get(authorize_url(&app, &wants_factor, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    let step_up = location(&r);
    assert!(
        step_up.starts_with("/login/second-factor?request="),
        "{step_up}"
    );
    let at_step_up = query_of(&step_up)["request"].clone();

    for request in [&at_consent, &at_step_up] {
        let path = format!("/authorize/continue?request={request}");
        let r = b.get(app.url(&path)).send().await.expect("continue");
        assert!(!issued_code(&r), "{path}");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    let path = format!("/login/second-factor?request={at_consent}");
    let r = b.get(app.url(&path)).send().await.expect("second step");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");

    let again = format!("/login?request={at_consent}");
    let r = submit_login(&app, &b, &again, "mallory", PASSWORD).await;
    assert!(!issued_code(&r), "a sign-in does not answer the consent");
    assert!(
        location(&r).starts_with("/consent?request="),
        "{}",
        location(&r)
    );
    let again = format!("/login?request={at_step_up}");
    let r = submit_login(&app, &b, &again, "mallory", PASSWORD).await;
    assert!(
        !issued_code(&r),
        "a password does not stand in for the factor"
    );
    assert!(
        location(&r).starts_with("/login/second-factor"),
        "{}",
        location(&r)
    );
}

on_both_backends!(
    guessing_the_current_password_on_the_page_is_throttled_as_a_sign_in,
    guessing_the_current_password_through_the_api_is_throttled_as_a_sign_in,
    the_factor_and_address_forms_ask_for_the_password_just_after_signing_in,
    account_forms_refuse_stale_forms_and_send_the_signed_out_to_sign_in,
    a_parked_request_goes_on_only_from_its_own_step,
);
