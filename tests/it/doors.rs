//! Every door asks the same decision: the authorization endpoint, the consent form,
//! `/authorize/continue`, the device approval and its poll, the password grant and the QR
//! sign-in each refuse for the same reasons (a temporary password, an app's or the role
//! policy's second factor), and a parked request is answered only at the step, and by the
//! session, it was parked for. Over real HTTP on both backends.

use reqwest::StatusCode;
use serde_json::Value;

use crate::device::{answer_on_phone, device_client, poll};
use crate::factors::{code_at, key_on, page, password_step, post, recovery_codes_on};
use crate::flows::{
    authorize_url, form_value, location, pkce, query_of, submit_consent, submit_login,
    token_request,
};
use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends};
use hccc_sso::config::Config;
use hccc_sso::store::KeepGrants;

/// Admins must use a second factor (the default policy; the harness turns it off).
pub(crate) fn mfa_for_admins(config: &mut Config) {
    config.mfa.required_roles = vec!["admin".into()];
}

/// A browser signed in with the password alone.
async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let b = browser();
    let r = submit_login(app, &b, "/login", username, PASSWORD).await;
    assert_eq!(location(&r), "/", "{username} signs in with the password");
    b
}

/// The session's CSRF token, from the account page.
async fn csrf_of(app: &TestApp, b: &reqwest::Client) -> String {
    let (_, html) = page(&app.base, b, "/account").await;
    form_value(&html, "csrf_token").expect("csrf token")
}

/// The claims of a token response's ID token.
fn id_claims(tokens: &Value) -> Value {
    crate::token::decode_segment(tokens["id_token"].as_str().expect("id token"), 1)
}

/// `url` with its `scope` parameter replaced.
fn with_scope(url: &str, scope: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let value = if k == "scope" {
                scope.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// Answers Allow on a consent page fetched earlier (`html`), whatever happened since.
async fn allow_consent_shown(app: &TestApp, b: &reqwest::Client, html: &str) -> reqwest::Response {
    let form = [
        ("csrf_token", form_value(html, "csrf_token").expect("csrf")),
        ("request", form_value(html, "request").expect("request")),
        ("decision", "allow".to_owned()),
    ];
    b.post(app.url("/consent"))
        .form(&form)
        .send()
        .await
        .expect("consent")
}

/// Whether the answer hands the app a code.
fn issued_code(response: &reqwest::Response) -> bool {
    let Some(to) = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
    else {
        return false;
    };
    to.starts_with(REDIRECT_URI) && query_of(to).contains_key("code")
}

/// An admin's temporary password (after a compromise): the password stays `PASSWORD`, but must
/// be replaced at the next sign-in.
async fn set_temporary_password(app: &TestApp, username: &str) {
    let account = app
        .store()
        .find_account_by_login(username)
        .await
        .expect("db")
        .expect("account");
    let hash = app.state.hasher.hash(PASSWORD).await.expect("hash");
    app.store()
        .set_password(
            account.account_id,
            &hash,
            true,
            KeepGrants::None,
            app.clock.now(),
        )
        .await
        .expect("temporary password");
}

async fn grant_role(app: &TestApp, username: &str, role: &str) {
    let before = app
        .store()
        .find_account_by_login(username)
        .await
        .expect("db")
        .expect("account");
    let mut after = before.clone();
    after.roles.0.push(role.into());
    app.store()
        .update_account(&before, &after, app.clock.now())
        .await
        .expect("role");
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Reason {
    /// Nothing: the door lets the person through (the table's control row).
    None,
    TemporaryPassword,
    AppRequiresMfa,
    RolePolicy,
}

impl Reason {
    /// Applies the reason to `username` and the app `client_id`, after the door was reached.
    async fn apply(self, app: &TestApp, username: &str, client_id: &str) {
        match self {
            Reason::None => {}
            Reason::TemporaryPassword => set_temporary_password(app, username).await,
            Reason::AppRequiresMfa => {
                app.edit_client(client_id, |c| c.settings.require_mfa = true)
                    .await
            }
            Reason::RolePolicy => grant_role(app, username, "admin").await,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Door {
    Authorize,
    ConsentForm,
    Continue,
    DeviceApproval,
    DevicePoll,
    PasswordGrant,
}

/// Takes `username` through `door` with `reason` applied once the door is reached; true when
/// the door issued a code, tokens or an approval.
async fn through(app: &TestApp, door: Door, reason: Reason, username: &str) -> bool {
    match door {
        Door::Authorize => {
            let b = signed_in(app, username).await;
            let client = app.create_client(false, true).await;
            reason.apply(app, username, &client.client_id).await;
            let url = authorize_url(app, &client, &pkce(), &[]);
            issued_code(&b.get(url).send().await.expect("authorize"))
        }
        Door::ConsentForm => {
            let b = signed_in(app, username).await;
            let client = app.create_client(false, false).await;
            let url = authorize_url(app, &client, &pkce(), &[]);
            let consent = location(&b.get(url).send().await.expect("authorize"));
            assert!(consent.starts_with("/consent?request="), "{consent}");
            let (_, html) = page(&app.base, &b, &consent).await;
            reason.apply(app, username, &client.client_id).await;
            issued_code(&allow_consent_shown(app, &b, &html).await)
        }
        Door::Continue => {
            let b = browser();
            let client = app.create_client(false, true).await;
            let url = authorize_url(app, &client, &pkce(), &[]);
            let login = location(&b.get(url).send().await.expect("authorize"));
            let request = query_of(&login)["request"].clone();
            // Signed in by another way than this request's own form (as the QR sign-in does).
            let r = submit_login(app, &b, "/login", username, PASSWORD).await;
            assert_eq!(location(&r), "/");
            reason.apply(app, username, &client.client_id).await;
            let r = b
                .get(app.url(&format!("/authorize/continue?request={request}")))
                .send()
                .await
                .expect("continue");
            issued_code(&r)
        }
        Door::DeviceApproval | Door::DevicePoll => {
            let client_id = device_client(app).await;
            let started = crate::device::start(app, &client_id).await;
            let code = started["user_code"].as_str().expect("user code");
            let device_code = started["device_code"].as_str().expect("device code");
            let phone = signed_in(app, username).await;
            if let Door::DeviceApproval = door {
                reason.apply(app, username, &client_id).await;
            }
            let path = format!("/device?user_code={code}");
            let (_, html) = page(&app.base, &phone, &path).await;
            // A session ended by the change shows the sign-in page instead: nothing approved.
            let Some(csrf) =
                form_value(&html, "csrf_token").filter(|_| html.contains("name=\"decision\""))
            else {
                return false;
            };
            let r = phone
                .post(app.url("/device"))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("user_code", code),
                    ("decision", "allow"),
                ])
                .send()
                .await
                .expect("approve");
            if let Door::DevicePoll = door {
                assert_eq!(r.status(), StatusCode::OK, "approved before the change");
                reason.apply(app, username, &client_id).await;
            }
            app.clock.advance(6);
            let answer = poll(app, &client_id, device_code).await;
            answer.0 == StatusCode::OK && answer.1["access_token"].is_string()
        }
        Door::PasswordGrant => {
            let client = crate::api::script_client(app).await;
            reason.apply(app, username, &client.client_id).await;
            let (status, body) = token_request(
                app,
                &client,
                &[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", PASSWORD),
                    ("scope", "openid"),
                ],
            )
            .await;
            if status != StatusCode::OK {
                assert_eq!(
                    body["error"], "invalid_grant",
                    "{door:?} {reason:?}: {body}"
                );
            }
            status == StatusCode::OK
        }
    }
}

/// The table: every door against every reason the decision refuses for, with a control row
/// (no reason) that each door lets through, so that a refusal is the decision's and not the
/// test's. Each cell has a person of its own.
async fn every_door_refuses_for_every_reason(app: TestApp) {
    let doors = [
        Door::Authorize,
        Door::ConsentForm,
        Door::Continue,
        Door::DeviceApproval,
        Door::DevicePoll,
        Door::PasswordGrant,
    ];
    let reasons = [
        Reason::None,
        Reason::TemporaryPassword,
        Reason::AppRequiresMfa,
        Reason::RolePolicy,
    ];
    let mut wrong = Vec::new();
    for (d, door) in doors.into_iter().enumerate() {
        for (r, reason) in reasons.into_iter().enumerate() {
            let username = format!("door{d}reason{r}");
            app.create_user(&username).await;
            let issued = through(&app, door, reason, &username).await;
            if issued != (reason == Reason::None) {
                wrong.push(format!("{door:?} × {reason:?}: issued = {issued}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "doors that decided wrongly:\n{}",
        wrong.join("\n")
    );
}

/// The consent form of a request that `/authorize` parked for the second step gives no code:
/// posting it (the form of `GET /consent` included) is refused, and the ID token of a later
/// honest pass says the factor was used.
async fn the_consent_form_gives_no_code_for_a_request_parked_for_the_second_step(app: TestApp) {
    app.create_user("mallory").await;
    let client = app.create_client(false, false).await;
    app.edit_client(&client.client_id, |c| c.settings.require_mfa = true)
        .await;
    let b = signed_in(&app, "mallory").await;
    let p = pkce();
    let r = b
        .get(authorize_url(&app, &client, &p, &[]))
        .send()
        .await
        .expect("authorize");
    let step_up = location(&r);
    assert!(
        step_up.starts_with("/login/second-factor?request="),
        "{step_up}"
    );
    let request = query_of(&step_up)["request"].clone();
    let (status, _) = page(&app.base, &b, &format!("/consent?request={request}")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no consent form for that step"
    );
    let csrf = csrf_of(&app, &b).await;
    let r = b
        .post(app.url("/consent"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("consent");
    assert!(!issued_code(&r), "a code without the second step");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The same through acr_values on an app that does not require it.
    let plain = app.create_client(false, false).await;
    let mfa = [("acr_values", "https://refeds.org/profile/mfa")];
    let r = b
        .get(authorize_url(&app, &plain, &p, &mfa))
        .send()
        .await
        .expect("authorize");
    let request = query_of(&location(&r))["request"].clone();
    let r = b
        .post(app.url("/consent"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("consent");
    assert!(!issued_code(&r));
}

/// A consent parked for one session is not answered by another one in the same browser (the
/// first person signed out, another signed in).
async fn a_consent_is_answered_only_by_the_session_it_was_parked_for(app: TestApp) {
    app.create_user("first").await;
    app.create_user("second").await;
    let client = app.create_client(false, false).await;
    let b = signed_in(&app, "first").await;
    let r = b
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    let consent = location(&r);
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let (_, html) = page(&app.base, &b, &consent).await;
    let request = form_value(&html, "request").expect("request");
    // Signed out, and another person signs in in the same browser.
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    b.post(app.url("/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    let r = submit_login(&app, &b, "/login", "second", PASSWORD).await;
    assert_eq!(location(&r), "/");
    let csrf = csrf_of(&app, &b).await;
    let r = b
        .post(app.url("/consent"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("consent");
    assert!(!issued_code(&r));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Nor is its form shown to the other session.
    let (status, html) = page(&app.base, &b, &consent).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("name=\"decision\""));
    // The second person's own request goes through their own consent.
    let r = b
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    let theirs = location(&r);
    assert_ne!(theirs, consent);
    let r = submit_consent(&app, &b, &theirs, "allow").await;
    assert!(issued_code(&r));
}

/// The device approval of an app that requires a second factor sends a password-only session
/// to the second step first, and approves nothing until then.
async fn the_device_approval_steps_up_for_an_app_that_requires_a_factor(app: TestApp) {
    app.create_user("viewer").await;
    let client_id = device_client(&app).await;
    app.edit_client(&client_id, |c| c.settings.require_mfa = true)
        .await;
    let started = crate::device::start(&app, &client_id).await;
    let code = started["user_code"].as_str().expect("user code");
    let device_code = started["device_code"].as_str().expect("device code");
    let phone = signed_in(&app, "viewer").await;
    let (_, html) = page(&app.base, &phone, &format!("/device?user_code={code}")).await;
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let r = phone
        .post(app.url("/device"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("user_code", code),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("approve");
    let to = location(&r);
    assert!(
        to.starts_with("/login/second-factor?return_to=%2Fdevice%3Fuser_code%3D"),
        "{to}"
    );
    app.clock.advance(6);
    let answer = poll(&app, &client_id, device_code).await;
    assert_eq!(answer.1["error"], "authorization_pending", "{}", answer.1);
    // The second step (enrolling, as the account has no factor yet), then the approval.
    let (_, html) = page(&app.base, &phone, &to).await;
    let key = key_on(&html);
    // A step-up's enrolment asks for the password with the first code.
    let enrolled = post(
        &app.base,
        &phone,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[
            ("code", &code_at(&key, app.clock.now())),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        recovery_codes_on(&enrolled.text().await.expect("html")).len(),
        10
    );
    let r = post(
        &app.base,
        &phone,
        "/login/second-factor",
        "/login/second-factor/continue",
        &[],
    )
    .await;
    assert!(
        location(&r).starts_with("/device?user_code="),
        "{}",
        location(&r)
    );
    let (_, html) = page(&app.base, &phone, &location(&r)).await;
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let r = phone
        .post(app.url("/device"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("user_code", code),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(6);
    let (status, tokens) = poll(&app, &client_id, device_code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = id_claims(&tokens);
    assert_eq!(id["acr"], "https://refeds.org/profile/mfa");
}

/// The password grant applies the role policy: an admin who has not enrolled yet gets no
/// tokens (no `roles` claim to wave at an app).
async fn the_password_grant_applies_the_role_policy(app: TestApp) {
    crate::api::make_admin(&app, "bursar").await;
    let client = crate::api::script_client(&app).await;
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "bursar"),
            ("password", PASSWORD),
            ("scope", "openid roles"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["access_token"].is_null());
    // A student in the same configuration is not covered by the policy.
    app.create_user("pupil").await;
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "pupil"),
            ("password", PASSWORD),
            ("scope", "openid roles"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Admins must use a second factor, after a week's grace.
fn mfa_for_admins_after_a_week(config: &mut Config) {
    mfa_for_admins(config);
    config.mfa.grace = 7 * 86_400;
}

/// Within the role policy's grace the password grant issues tokens, which the API does not take
/// as an admin's (their `acr` is the password's); past it, the grant refuses.
async fn the_password_grant_honours_the_policy_grace(app: TestApp) {
    crate::api::make_admin(&app, "dean").await;
    let client = crate::api::script_client(&app).await;
    let token = crate::api::password_token(&app, &client, "dean").await;
    let (status, body) = crate::api::call(
        &app,
        reqwest::Method::GET,
        "/api/v1/users",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    app.clock.advance(7 * 86_400 + 1);
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "dean"),
            ("password", PASSWORD),
            ("scope", "openid api"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
}

mod grace {
    use super::*;
    crate::harness::on_both_backends!(with super::mfa_for_admins_after_a_week;
        the_password_grant_honours_the_policy_grace,
    );
}

/// Enrols an authenticator app from the account page of `b` (which types the password); returns
/// its key.
async fn enrol_on_account_page(app: &TestApp, b: &reqwest::Client) -> String {
    let shown = post(
        &app.base,
        b,
        "/account",
        "/account/totp",
        &[("current_password", PASSWORD)],
    )
    .await;
    assert_eq!(shown.status(), StatusCode::OK);
    let key = key_on(&shown.text().await.expect("html"));
    let csrf = csrf_of(app, b).await;
    let code = code_at(&key, app.clock.now());
    let confirmed = b
        .post(app.url("/account/totp/confirm"))
        .form(&[("csrf_token", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("confirm");
    assert_eq!(confirmed.status(), StatusCode::OK);
    key
}

/// An account's first factor ends what the password alone had signed in: other browsers'
/// sessions and refresh tokens of password-only sign-ins (the one that enrolled stays).
async fn a_first_factor_ends_password_only_sessions_and_refresh_tokens(app: TestApp) {
    let (client, tokens) = crate::flows::signed_in_tokens(&app, "kiosk").await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let intruder = signed_in(&app, "kiosk").await;
    let owner = signed_in(&app, "kiosk").await;
    enrol_on_account_page(&app, &owner).await;
    let (status, body) = token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let r = intruder
        .get(app.url("/account"))
        .send()
        .await
        .expect("account");
    assert!(
        location(&r).starts_with("/login"),
        "the older session ended"
    );
    let (status, _) = page(&app.base, &owner, "/account").await;
    assert_eq!(status, StatusCode::OK, "the enrolling session stays");
}

/// Replacing or removing a factor asks for a fresh proof of a factor, not only the password:
/// a session whose factor is older than ten minutes is sent to the second step first.
async fn a_factor_change_needs_a_fresh_second_factor(app: TestApp) {
    app.create_user("owner").await;
    let b = signed_in(&app, "owner").await;
    let key = enrol_on_account_page(&app, &b).await;
    app.clock.advance(11 * 60);
    for action in [
        "/account/totp",
        "/account/totp/remove",
        "/account/recovery-codes",
    ] {
        let r = post(
            &app.base,
            &b,
            "/account",
            action,
            &[("current_password", PASSWORD)],
        )
        .await;
        let to = location(&r);
        assert!(
            to.starts_with("/login/second-factor?return_to="),
            "{action} without a fresh factor: {} {to}",
            r.status()
        );
    }
    let mfa = app
        .store()
        .find_mfa(
            app.store()
                .find_account_by_login("owner")
                .await
                .expect("db")
                .expect("account")
                .account_id,
        )
        .await
        .expect("mfa");
    assert!(mfa.has_totp(), "the authenticator is still there");
    // With a fresh code, the change goes through.
    let (_, html) = page(
        &app.base,
        &b,
        "/login/second-factor?return_to=%2Faccount%3Fdone%3Dfactor_proved",
    )
    .await;
    assert!(html.contains("name=\"code\""), "asks for a code");
    app.clock.advance(30);
    let r = post(
        &app.base,
        &b,
        "/login/second-factor",
        "/login/second-factor",
        &[("code", &code_at(&key, app.clock.now()))],
    )
    .await;
    assert_eq!(location(&r), "/account?done=factor_proved");
    let r = post(
        &app.base,
        &b,
        "/account",
        "/account/totp",
        &[("current_password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "a new key is shown");
}

/// Moving the address (where resets go) needs the factor too, where the account has one: on the
/// page, a factor proved in the last ten minutes; nothing is sent without it.
async fn an_email_change_needs_the_factor_where_there_is_one(app: TestApp) {
    app.create_user("moves").await;
    let b = signed_in(&app, "moves").await;
    enrol_on_account_page(&app, &b).await;
    app.clock.advance(11 * 60);
    let r = post(
        &app.base,
        &b,
        "/account",
        "/account/email",
        &[
            ("email", "moves@elsewhere.example"),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    let to = location(&r);
    assert!(to.starts_with("/login/second-factor?return_to="), "{to}");
    let account = app
        .store()
        .find_account_by_login("moves")
        .await
        .expect("db")
        .expect("account");
    let pending = app
        .store()
        .live_link_detail(
            account.account_id,
            hccc_sso::store::LinkPurpose::EmailChange,
            app.clock.now(),
        )
        .await
        .expect("db");
    assert!(pending.is_none(), "no change link was made: {pending:?}");
}

/// A signed-in session alone (a browser left open, a computer signed in by QR) cannot add the
/// account's first factor through the second step: its enrolment asks for the password too.
async fn a_step_up_enrolment_asks_for_the_password(app: TestApp) {
    app.create_user("owned").await;
    let owner = signed_in(&app, "owned").await;
    let intruder = signed_in(&app, "owned").await;
    let (status, html) = page(&app.base, &intruder, "/login/second-factor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("name=\"current_password\""),
        "asks for the password"
    );
    let key = key_on(&html);
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let enrol = |password: &'static str| {
        let code = code_at(&key, app.clock.now());
        let csrf = csrf.clone();
        let intruder = &intruder;
        let app = &app;
        async move {
            intruder
                .post(app.url("/login/second-factor/enrol"))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("code", code.as_str()),
                    ("current_password", password),
                ])
                .send()
                .await
                .expect("enrol")
        }
    };
    assert_eq!(enrol("").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        enrol("not the password").await.status(),
        StatusCode::FORBIDDEN
    );
    let account = app
        .store()
        .find_account_by_login("owned")
        .await
        .expect("db")
        .expect("account");
    let mfa = app.store().find_mfa(account.account_id).await.expect("mfa");
    assert!(!mfa.has_factor(), "nothing enrolled without the password");
    let (status, _) = page(&app.base, &owner, "/account").await;
    assert_eq!(status, StatusCode::OK, "the owner is still signed in");
    // With the password, it is the owner's own step-up.
    let r = enrol(PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(recovery_codes_on(&r.text().await.expect("html")).len(), 10);
}

/// What a session approved (a device's code, a QR code) and was not yet collected is withdrawn
/// when that session is signed out from elsewhere.
async fn approvals_end_with_the_session_that_gave_them(app: TestApp) {
    app.create_user("hank").await;
    let owner = signed_in(&app, "hank").await;
    let intruder = signed_in(&app, "hank").await;
    let client_id = device_client(&app).await;
    let started = crate::device::start(&app, &client_id).await;
    let user_code = started["user_code"].as_str().expect("user code");
    let device_code = started["device_code"].as_str().expect("device code");
    approve_on(&app, &intruder, user_code).await;
    let lab = crate::harness::lab_browser();
    let (csrf, qr_code) = qr_code_on(&app, &lab).await;
    approve_on(&app, &intruder, &qr_code).await;
    // The owner signs every other session out.
    let account_csrf = csrf_of(&app, &owner).await;
    let r = owner
        .post(app.url("/account/sessions/end"))
        .form(&[("csrf_token", account_csrf.as_str()), ("sid", "others")])
        .send()
        .await
        .expect("end sessions");
    assert_eq!(location(&r), "/account?done=sessions");
    app.clock.advance(6);
    let answer = poll(&app, &client_id, device_code).await;
    assert_eq!(answer.1["error"], "access_denied", "{}", answer.1);
    assert_eq!(qr_poll(&app, &lab, &csrf).await["status"], "denied");
    // The control: approved by a session that stays, both are collected.
    let started = crate::device::start(&app, &client_id).await;
    approve_on(&app, &owner, started["user_code"].as_str().expect("code")).await;
    let lab = crate::harness::lab_browser();
    let (csrf, qr_code) = qr_code_on(&app, &lab).await;
    approve_on(&app, &owner, &qr_code).await;
    app.clock.advance(6);
    let device_code = started["device_code"].as_str().expect("device code");
    let (status, body) = poll(&app, &client_id, device_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(qr_poll(&app, &lab, &csrf).await["status"], "approved");
}

/// Parallel guesses of device user codes are counted before they are looked up: at most the
/// address's limit are evaluated.
async fn parallel_user_code_guesses_evaluate_at_most_the_limit(app: TestApp) {
    app.create_user("guesser").await;
    let b = signed_in(&app, "guesser").await;
    let limit = app.state.config.login.max_failures_per_ip as usize;
    let guesses = futures_util::future::join_all((0..limit + 40).map(|n| {
        let b = b.clone();
        // Eight letters of the user-code alphabet, a different code each.
        let letters = b"BCDFGHJKLMNPQRSTVWXZ";
        let code: String = (0..8)
            .map(|i| char::from(letters[(n / 20usize.pow(i)) % 20]))
            .collect();
        let url = app.url(&format!("/device?user_code={code}"));
        async move { b.get(url).send().await.expect("guess").status() }
    }))
    .await;
    let evaluated = guesses
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    let refused = guesses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        evaluated < limit,
        "{evaluated} wrong codes looked up, limit {limit}"
    );
    assert_eq!(evaluated + refused, guesses.len(), "{guesses:?}");
}

/// `max_age` with a consent asked every time: once the sign-in it asked for is made, waiting on
/// the consent page past `max_age` does not send the person round to sign in again.
async fn max_age_is_met_once_for_a_request(app: TestApp) {
    app.create_user("slow").await;
    let client = app.create_client(false, false).await;
    let b = browser();
    let url = authorize_url(
        &app,
        &client,
        &pkce(),
        &[("max_age", "3"), ("prompt", "consent")],
    );
    let login = location(&b.get(url).send().await.expect("authorize"));
    let r = submit_login(&app, &b, &login, "slow", PASSWORD).await;
    let consent = location(&r);
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let (_, html) = page(&app.base, &b, &consent).await;
    app.clock.advance(5);
    let r = allow_consent_shown(&app, &b, &html).await;
    assert!(issued_code(&r), "{:?}", r.headers().get("location"));
}

/// A half-finished enrolment (password typed, stopped at the set-up page) is void once the owner
/// enrols, or changes the password: it never replaces the owner's authenticator.
async fn a_half_finished_enrolment_dies_with_a_credential_change(app: TestApp) {
    app.create_user("target").await;
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |c| c.settings.require_mfa = true)
        .await;
    // The intruder knows the password, and stops at the set-up page of the app's sign-in.
    let intruder = browser();
    let r = intruder
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    let r = submit_login(&app, &intruder, &location(&r), "target", PASSWORD).await;
    assert_eq!(location(&r), "/login/second-factor");
    let (_, html) = page(&app.base, &intruder, "/login/second-factor").await;
    let intruders_key = key_on(&html);
    // The owner enrols from the account page.
    let owner = signed_in(&app, "target").await;
    enrol_on_account_page(&app, &owner).await;
    let r = post(
        &app.base,
        &intruder,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[("code", &code_at(&intruders_key, app.clock.now()))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{:?}", r.headers());
    let r = intruder
        .get(app.url("/account"))
        .send()
        .await
        .expect("account");
    assert!(
        location(&r).starts_with("/login"),
        "not signed in: {:?}",
        r.headers()
    );

    // A password change voids a half-finished second step too.
    app.create_user("target2").await;
    let intruder = browser();
    let r = intruder
        .get(authorize_url(&app, &client, &pkce(), &[]))
        .send()
        .await
        .expect("authorize");
    submit_login(&app, &intruder, &location(&r), "target2", PASSWORD).await;
    let (_, html) = page(&app.base, &intruder, "/login/second-factor").await;
    let key = key_on(&html);
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    set_temporary_password(&app, "target2").await;
    let (status, _) = page(&app.base, &intruder, "/login/second-factor").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the set-up page is gone");
    let code = code_at(&key, app.clock.now());
    let r = intruder
        .post(app.url("/login/second-factor/enrol"))
        .form(&[("csrf_token", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("enrol");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let account = app
        .store()
        .find_account_by_login("target2")
        .await
        .expect("db")
        .expect("account");
    let mfa = app.store().find_mfa(account.account_id).await.expect("mfa");
    assert!(!mfa.has_factor(), "no factor was enrolled by the intruder");
}

/// `acr_values` is a list in order of preference: the first value we can satisfy is used, and
/// the ID token says which. An essential `acr` claim we cannot meet fails the request.
async fn acr_values_are_taken_in_order_of_preference(app: TestApp) {
    app.create_user("lucia").await;
    let client = app.create_client(false, true).await;
    let b = signed_in(&app, "lucia").await;
    // Discovery's own values, weakest first: a student without a factor is signed in.
    let advertised: Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let values: Vec<&str> = advertised["acr_values_supported"]
        .as_array()
        .expect("acr values")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        values,
        [
            "urn:hccc:sso:acr:password",
            "https://refeds.org/profile/mfa"
        ]
    );
    let p = pkce();
    let joined = values.join(" ");
    let r = b
        .get(authorize_url(&app, &client, &p, &[("acr_values", &joined)]))
        .send()
        .await
        .expect("authorize");
    assert!(issued_code(&r), "{}", location(&r));
    let code = query_of(&location(&r))["code"].clone();
    let (status, tokens) = crate::flows::exchange_code(&app, &client, &code, &p.verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = id_claims(&tokens);
    assert_eq!(id["acr"], "urn:hccc:sso:acr:password");

    // The other order prefers MFA: the second step first.
    let reversed = format!("{} {}", values[1], values[0]);
    let r = b
        .get(authorize_url(
            &app,
            &client,
            &pkce(),
            &[("acr_values", &reversed)],
        ))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&r).starts_with("/login/second-factor?request="),
        "{}",
        location(&r)
    );
    // Unknown values are passed over.
    let r = b
        .get(authorize_url(
            &app,
            &client,
            &pkce(),
            &[("acr_values", "urn:x:gold 1 2")],
        ))
        .send()
        .await
        .expect("authorize");
    assert!(issued_code(&r), "{}", location(&r));
    // An essential acr claim none of whose values we offer fails (OIDC Core §5.5.1.1).
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:x:gold"]}}}"#;
    let r = b
        .get(authorize_url(&app, &client, &pkce(), &[("claims", claims)]))
        .send()
        .await
        .expect("authorize");
    let to = query_of(&location(&r));
    assert_eq!(to.get("error").map(String::as_str), Some("access_denied"));
    // Essential with one we offer: met by stepping up.
    let claims =
        r#"{"id_token":{"acr":{"essential":true,"values":["https://refeds.org/profile/mfa"]}}}"#;
    let r = b
        .get(authorize_url(&app, &client, &pkce(), &[("claims", claims)]))
        .send()
        .await
        .expect("authorize");
    assert!(location(&r).starts_with("/login/second-factor?request="));
}

on_both_backends!(
    the_consent_form_gives_no_code_for_a_request_parked_for_the_second_step,
    a_consent_is_answered_only_by_the_session_it_was_parked_for,
    the_device_approval_steps_up_for_an_app_that_requires_a_factor,
    a_first_factor_ends_password_only_sessions_and_refresh_tokens,
    a_factor_change_needs_a_fresh_second_factor,
    an_email_change_needs_the_factor_where_there_is_one,
    a_step_up_enrolment_asks_for_the_password,
    max_age_is_met_once_for_a_request,
    a_half_finished_enrolment_dies_with_a_credential_change,
    acr_values_are_taken_in_order_of_preference,
);

/// The QR sign-in on a lab computer (on the shared network): the phone is shown which computer
/// asks before it approves, and the computer's session borrows no factor from the phone.
async fn qr_sign_in_signs_the_shared_computer_in_when_the_phone_approves(app: TestApp) {
    app.create_user("labstudent").await;
    let client = app.create_client(false, true).await;
    let lab = crate::harness::lab_browser();
    let p = crate::flows::pkce();
    let response = lab
        .get(crate::flows::authorize_url(&app, &client, &p, &[]))
        .send()
        .await
        .expect("authorize");
    let login_path = location(&response);
    let login_page = lab
        .get(app.url(&login_path))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    let qr_link = login_page
        .split("href=\"")
        .find(|s| s.starts_with("/login/qr"))
        .and_then(|s| s.split('"').next())
        .expect("phone sign-in link");

    let qr_page = lab.get(app.url(qr_link)).send().await.expect("qr page");
    assert_eq!(qr_page.status(), StatusCode::OK);
    let html = qr_page.text().await.expect("html");
    assert!(
        html.contains("<svg")
            && html.contains("/js/qr_login.js\"")
            && html.contains("src=\"/assets/"),
        "an SVG QR code and the polling script"
    );
    // "Sign in with your password instead" keeps the app's sign-in; a new code too.
    let request = query_of(qr_link)["request"].clone();
    assert!(
        html.contains(&format!("href=\"/login?request={request}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/login/qr?request={request}\"")));
    let foreign = lab
        .get(app.url("/login/qr?request=00000000-0000-0000-0000-000000000000"))
        .send()
        .await
        .expect("qr page");
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST, "no such sign-in");
    let csrf = html
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf")
        .to_owned();
    let user_code = html
        .split("class=\"user-code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("code")
        .to_owned();

    let poll_lab = || {
        lab.post(app.url("/login/qr/poll"))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
    };
    let answer: Value = poll_lab().await.expect("poll").json().await.expect("json");
    assert_eq!(answer["status"], "pending");
    let forged = lab
        .post(app.url("/login/qr/poll"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .expect("poll");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let pages = answer_on_phone(
        &app,
        &app.url(&format!("/device?user_code={user_code}")),
        "labstudent",
        "allow",
    )
    .await;
    assert!(
        pages.contains("A computer signing in to College LMS is asking to sign in as you."),
        "the phone names the app the computer is signing in to"
    );
    // ... and the computer: its address (through the college's proxy), browser and time,
    // with a warning before approving.
    assert!(
        pages.contains(&format!(
            "<dd id=\"computer-ip\">{}</dd>",
            crate::harness::LAB_IP
        )),
        "{pages}"
    );
    assert!(pages.contains("id=\"computer-browser\""));
    assert!(pages.contains("Only approve if you are sitting at this computer now."));
    app.clock.advance(5);
    let answer: Value = poll_lab().await.expect("poll").json().await.expect("json");
    assert_eq!(answer["status"], "approved");
    let next = answer["next"].as_str().expect("next");
    let response = lab.get(app.url(next)).send().await.expect("continue");
    let to = location(&response);
    assert!(
        to.starts_with(REDIRECT_URI),
        "the app's sign-in continues on the lab computer: {to}"
    );
    assert!(query_of(&to).contains_key("code"));
    let home = lab
        .get(app.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("html");
    assert!(
        home.contains("Ada Lovelace"),
        "the lab browser now has its own session"
    );
    let again: Value = poll_lab().await.expect("poll").json().await.expect("json");
    assert_eq!(again["status"], "expired", "the approval signed in once");
    // The computer's own sign-in is not multi-factor: an app that requires one steps up there.
    let strict = app.create_client(false, true).await;
    app.edit_client(&strict.client_id, |c| c.settings.require_mfa = true)
        .await;
    let r = lab
        .get(crate::flows::authorize_url(
            &app,
            &strict,
            &crate::flows::pkce(),
            &[],
        ))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&r).starts_with("/login/second-factor?request="),
        "{}",
        location(&r)
    );
}

/// Off the shared network the QR sign-in is not offered at all: no link on the sign-in page,
/// and its page is not found.
async fn qr_sign_in_is_not_offered_off_the_shared_network(app: TestApp) {
    let elsewhere = browser();
    let (_, login) = page(&app.base, &elsewhere, "/login").await;
    assert!(!login.contains("/login/qr"), "no phone sign-in link");
    let r = elsewhere
        .get(app.url("/login/qr"))
        .send()
        .await
        .expect("qr");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let lab = crate::harness::lab_browser();
    let (_, login) = page(&app.base, &lab, "/login").await;
    assert!(login.contains("href=\"/login/qr\""), "offered in the lab");
}

/// An admin who approves a lab computer's QR code on a phone signed in with a second factor:
/// the computer does not reach `/admin` without its own second step.
async fn a_qr_sign_in_lends_no_factor_to_the_computer(app: TestApp) {
    crate::api::make_admin(&app, "provost").await;
    // The phone: password and an authenticator app (the policy enrols the admin).
    let phone = browser();
    let html = password_step(&app, &phone, "provost", "/").await;
    let key = key_on(&html);
    post(
        &app.base,
        &phone,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[("code", &code_at(&key, app.clock.now()))],
    )
    .await;
    post(
        &app.base,
        &phone,
        "/login/second-factor",
        "/login/second-factor/continue",
        &[],
    )
    .await;
    let lab = crate::harness::lab_browser();
    let (csrf, user_code) = qr_code_on(&app, &lab).await;
    approve_on(&app, &phone, &user_code).await;
    app.clock.advance(5);
    let answer = qr_poll(&app, &lab, &csrf).await;
    assert_eq!(answer["status"], "approved");
    assert_eq!(
        answer["next"], "/login/second-factor?return_to=%2F",
        "the policy's second step, on the computer"
    );
    let r = lab
        .get(app.url("/admin/users"))
        .send()
        .await
        .expect("admin");
    assert_ne!(
        r.status(),
        StatusCode::OK,
        "no admin page on a borrowed factor"
    );
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
}

/// A lab computer's QR page: its poll's CSRF token and the user code it shows.
async fn qr_code_on(app: &TestApp, lab: &reqwest::Client) -> (String, String) {
    let (status, html) = page(&app.base, lab, "/login/qr").await;
    assert_eq!(status, StatusCode::OK);
    let between = |start: &str, end: char| {
        html.split(start)
            .nth(1)
            .and_then(|s| s.split(end).next())
            .expect(start)
            .to_owned()
    };
    (
        between("data-csrf=\"", '"'),
        between("class=\"user-code\">", '<'),
    )
}

/// The phone (signed in) approves `user_code`.
async fn approve_on(app: &TestApp, phone: &reqwest::Client, user_code: &str) {
    let (_, device_page) = page(&app.base, phone, &format!("/device?user_code={user_code}")).await;
    let form = [
        (
            "csrf_token",
            form_value(&device_page, "csrf_token").expect("csrf"),
        ),
        ("user_code", user_code.to_owned()),
        ("decision", "allow".to_owned()),
    ];
    let r = phone
        .post(app.url("/device"))
        .form(&form)
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status(), StatusCode::OK, "approved");
}

async fn qr_poll(app: &TestApp, lab: &reqwest::Client, csrf: &str) -> Value {
    lab.post(app.url("/login/qr/poll"))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .expect("poll")
        .json()
        .await
        .expect("json")
}

/// An approval given before an admin set a temporary password signs the computer in no more.
async fn a_qr_approval_dies_with_a_temporary_password(app: TestApp) {
    app.create_user("labuser").await;
    let phone = signed_in(&app, "labuser").await;
    let lab = crate::harness::lab_browser();
    let (csrf, user_code) = qr_code_on(&app, &lab).await;
    approve_on(&app, &phone, &user_code).await;
    set_temporary_password(&app, "labuser").await;
    app.clock.advance(5);
    assert_eq!(qr_poll(&app, &lab, &csrf).await["status"], "denied");
    let r = lab.get(app.url("/account")).send().await.expect("account");
    assert!(location(&r).starts_with("/login"), "not signed in");
    // The control: without the change, the same steps sign the computer in.
    app.create_user("labuser2").await;
    let phone = signed_in(&app, "labuser2").await;
    let lab = crate::harness::lab_browser();
    let (csrf, user_code) = qr_code_on(&app, &lab).await;
    approve_on(&app, &phone, &user_code).await;
    app.clock.advance(5);
    assert_eq!(qr_poll(&app, &lab, &csrf).await["status"], "approved");
}

/// The lab computer's own sign-in used no factor: a token it gets cannot move the address of an
/// account that has one through the API, even with the password.
async fn a_token_without_the_factor_does_not_move_the_address(app: TestApp) {
    app.create_user("sharer").await;
    let phone = signed_in(&app, "sharer").await;
    enrol_on_account_page(&app, &phone).await;
    let lab = crate::harness::lab_browser();
    let (csrf, user_code) = qr_code_on(&app, &lab).await;
    approve_on(&app, &phone, &user_code).await;
    app.clock.advance(5);
    let answer = qr_poll(&app, &lab, &csrf).await;
    assert_eq!(answer["status"], "approved", "{answer}");
    let client = app.create_client(false, false).await;
    app.edit_client(&client.client_id, |c| {
        c.settings.allowed_scopes = c.settings.allowed_scopes.with(hccc_sso::domain::Scope::Api)
    })
    .await;
    let p = pkce();
    let url = with_scope(&authorize_url(&app, &client, &p, &[]), "openid api");
    let consent = location(&lab.get(url).send().await.expect("authorize"));
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let r = submit_consent(&app, &lab, &consent, "allow").await;
    let code = query_of(&location(&r))["code"].clone();
    let (status, tokens) = crate::flows::exchange_code(&app, &client, &code, &p.verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(id_claims(&tokens)["amr"], serde_json::json!(["mca"]));
    let token = tokens["access_token"].as_str().expect("access token");
    let (status, body) = crate::api::call(
        &app,
        reqwest::Method::POST,
        "/api/v1/users/me/email",
        Some(token),
        Some(
            serde_json::json!({"email": "sharer@elsewhere.example", "current_password": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// Admins must use a second factor, and the lab network is the shared one.
fn lab_and_mfa_for_admins(config: &mut Config) {
    crate::harness::lab_network(config);
    mfa_for_admins(config);
}

mod lab {
    use super::*;
    crate::harness::on_both_backends!(with super::lab_and_mfa_for_admins;
        qr_sign_in_signs_the_shared_computer_in_when_the_phone_approves,
        qr_sign_in_is_not_offered_off_the_shared_network,
        a_qr_sign_in_lends_no_factor_to_the_computer,
        a_token_without_the_factor_does_not_move_the_address,
        a_qr_approval_dies_with_a_temporary_password,
        approvals_end_with_the_session_that_gave_them,
        parallel_user_code_guesses_evaluate_at_most_the_limit,
    );
}

/// The role policy's door tests: admins must use a second factor.
mod policy {
    use super::*;
    crate::harness::on_both_backends!(with super::mfa_for_admins;
        every_door_refuses_for_every_reason,
        the_password_grant_applies_the_role_policy,
    );
}
