//! Second factors over real HTTP: TOTP codes computed by Debian's `oathtool` (not our code),
//! recovery codes, the admin policy, step-up for an app that asks for the REFEDS MFA profile
//! (the `openidconnect` crate as the relying party), the password grant and API tokens, and
//! admin resets. Notices go to a real SMTP server (aiosmtpd).

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, RedirectUrl, TokenResponse,
};
use reqwest::StatusCode;

use crate::api::{make_admin, script_client};
use crate::flows::{form_value, location, query_of, submit_login, token_request};
use crate::harness::{Backend, PASSWORD, REDIRECT_URI, TestApp, browser};
use crate::mail::SmtpSink;

const REFEDS_MFA: &str = "https://refeds.org/profile/mfa";

/// The code an authenticator app shows at `at` for `key` (base32), by `oathtool`.
pub(crate) fn code_at(key: &str, at: i64) -> String {
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", "-N", &format!("@{at}"), key])
        .output()
        .expect("oathtool runs (Debian package oathtool)");
    assert!(out.status.success(), "oathtool: {out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Another six digits than `code`.
pub(crate) fn other_than(code: &str) -> String {
    let n: u32 = code.parse().expect("digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

/// The key an enrolment page shows as text, without its spaces.
pub(crate) fn key_on(html: &str) -> String {
    let start = html
        .find("id=\"totp-key\"><code>")
        .expect("key on the page")
        + 20;
    let end = start + html[start..].find("</code>").expect("end of key");
    html[start..end].replace(' ', "")
}

/// The recovery codes a page shows.
pub(crate) fn recovery_codes_on(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

/// Waits (up to 20 s) for a message to `to` whose subject holds `subject`.
pub(crate) async fn notice_to(sink: &SmtpSink, to: &str, subject: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !sink
        .messages()
        .iter()
        .any(|m| m.to.contains(to) && m.subject.contains(subject))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no {subject:?} notice to {to}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub(crate) async fn page(
    app_base: &str,
    browser: &reqwest::Client,
    path: &str,
) -> (StatusCode, String) {
    let r = browser
        .get(format!("{app_base}{path}"))
        .send()
        .await
        .expect("get");
    (r.status(), r.text().await.expect("html"))
}

/// Posts `fields` with the CSRF token of the page at `page_path` (on `app_base`).
pub(crate) async fn post(
    app_base: &str,
    browser: &reqwest::Client,
    page_path: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (_, html) = page(app_base, browser, page_path).await;
    let csrf = form_value(&html, "csrf_token").expect("csrf token");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    browser
        .post(format!("{app_base}{action}"))
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// Password, then the second step's page: (its status, its HTML).
pub(crate) async fn password_step(
    app: &TestApp,
    b: &reqwest::Client,
    username: &str,
    then: &str,
) -> String {
    let login = format!("/login?return_to={}", urlencode(then));
    let r = submit_login(app, b, &login, username, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/login/second-factor",
        "the password alone does not sign in"
    );
    let (status, html) = page(&app.base, b, "/login/second-factor").await;
    assert_eq!(status, StatusCode::OK);
    html
}

pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) async fn send_code(
    base: &str,
    b: &reqwest::Client,
    field: &str,
    code: &str,
) -> reqwest::Response {
    post(
        base,
        b,
        "/login/second-factor",
        "/login/second-factor",
        &[(field, code)],
    )
    .await
}

pub(crate) async fn audited(app: &TestApp, action: &str) -> usize {
    crate::self_service::audit_actions(app)
        .await
        .iter()
        .filter(|a| *a == action)
        .count()
}

async fn an_admin_enrols_at_sign_in_and_each_code_works_once_on_any_replica(
    app: TestApp,
    sink: SmtpSink,
) {
    make_admin(&app, "dean").await;
    let first = browser();
    let html = password_step(&app, &first, "dean", "/admin").await;
    assert!(
        html.contains("otpauth://totp/"),
        "an admin without a factor enrols first"
    );
    // Not signed in yet: the admin pages send the browser to sign in.
    let r = first
        .get(app.url("/admin/users"))
        .send()
        .await
        .expect("admin");
    assert!(location(&r).starts_with("/login"), "{}", location(&r));

    let key = key_on(&html);
    let now = app.clock.now();
    let code = code_at(&key, now);
    let wrong = post(
        &app.base,
        &first,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[("code", &other_than(&code))],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        key_on(&wrong.text().await.expect("html")),
        key,
        "the same key, to try again"
    );
    let enrolled = post(
        &app.base,
        &first,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[("code", &code)],
    )
    .await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    let codes = recovery_codes_on(&enrolled.text().await.expect("html"));
    assert_eq!(codes.len(), 10, "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
    );
    let went_on = post(
        &app.base,
        &first,
        "/login/second-factor",
        "/login/second-factor/continue",
        &[],
    )
    .await;
    assert_eq!(went_on.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&went_on), "/admin");
    let (status, _) = page(&app.base, &first, "/admin/users").await;
    assert_eq!(status, StatusCode::OK, "signed in with both factors");
    assert_eq!(audited(&app, "user.enrol_totp").await, 1);
    notice_to(
        &sink,
        "dean@students.hccc.edu",
        "Two-step verification is on",
    )
    .await;

    // A second browser: the code that enrolled (same step) is spent.
    let second = browser();
    let html = password_step(&app, &second, "dean", "/admin").await;
    assert!(
        !html.contains("otpauth://"),
        "an enrolled admin is asked for a code"
    );
    assert_eq!(
        send_code(&app.base, &second, "code", &code).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The next step's code works once, on the other replica; then not on the first.
    let (replica, _, _stop) = crate::harness::start_replica(&app).await;
    app.clock.advance(30);
    let next = code_at(&key, app.clock.now());
    let r = send_code(&replica, &second, "code", &next).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "accepted on the replica");
    assert_eq!(location(&r), "/admin");
    let third = browser();
    password_step(&app, &third, "dean", "/admin").await;
    assert_eq!(
        send_code(&app.base, &third, "code", &next).await.status(),
        StatusCode::UNAUTHORIZED,
        "replayed on the first replica"
    );
    // Codes two steps away either side, and malformed ones, are refused without a 500.
    let t = app.clock.now();
    for bad in [
        code_at(&key, t + 60),
        code_at(&key, t - 60),
        String::new(),
        "12345".into(),
        "abcdef".into(),
        "1".repeat(300),
    ] {
        let r = send_code(&app.base, &third, "code", &bad).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
    }

    // A recovery code works once (audited, and the person is told), then never again.
    let r = send_code(&app.base, &third, "recovery_code", &codes[0].to_uppercase()).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "recovery codes ignore case"
    );
    assert_eq!(audited(&app, "user.use_recovery_code").await, 1);
    notice_to(&sink, "dean@students.hccc.edu", "recovery code was used").await;
    let fourth = browser();
    password_step(&app, &fourth, "dean", "/admin").await;
    assert_eq!(
        send_code(&app.base, &fourth, "recovery_code", &codes[0])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Wrong codes lock the second step like wrong passwords do.
    let limit = app.state.config.login.max_failures_per_account;
    let mut statuses = Vec::new();
    for _ in 0..limit + 1 {
        statuses.push(
            send_code(&app.base, &fourth, "code", "000000")
                .await
                .status(),
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let right = code_at(&key, app.clock.now() + 30);
    app.clock.advance(30);
    assert_eq!(
        send_code(&app.base, &fourth, "code", &right).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked even for a right code"
    );
}

/// The browser opens an authorization URL.
async fn through_authorize(b: &reqwest::Client, auth_url: &str) -> reqwest::Response {
    b.get(auth_url).send().await.expect("authorize")
}

async fn an_app_asking_for_mfa_steps_a_password_session_up(app: TestApp, _sink: SmtpSink) {
    let student = app.create_user("lmendez").await;
    let registered = app.create_client(false, true).await;
    let http = crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.base.clone()).expect("issuer"),
        &http,
    )
    .await
    .expect("discovery");
    let supported: Vec<String> = metadata
        .acr_values_supported()
        .expect("acr_values_supported")
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert!(supported.iter().any(|a| a == REFEDS_MFA), "{supported:?}");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client_id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).expect("redirect"));

    // Signed in with a password alone (no factor yet) in the lab computer's browser.
    let lab = browser();
    let r = submit_login(&app, &lab, "/login", "lmendez", PASSWORD).await;
    assert_eq!(
        location(&r),
        "/",
        "no factor, no policy: the password signs in"
    );
    // The app asks for MFA: silently it cannot be met; interactively the lab session steps up.
    let ask = |prompt_none: bool| {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_auth_context_value(AuthenticationContextClass::new(REFEDS_MFA.into()))
            .set_pkce_challenge(challenge);
        if prompt_none {
            request = request.add_prompt(openidconnect::core::CoreAuthPrompt::None);
        }
        let (url, _, nonce) = request.url();
        (url.to_string(), verifier, nonce)
    };
    let (silent, _, _) = ask(true);
    let r = through_authorize(&lab, &silent).await;
    assert_eq!(
        query_of(&location(&r)).get("error").map(String::as_str),
        Some("interaction_required")
    );
    let (url, verifier, nonce) = ask(false);
    let r = through_authorize(&lab, &url).await;
    let step_up = location(&r);
    assert!(
        step_up.starts_with("/login/second-factor?request="),
        "{step_up}"
    );
    // The student has no factor yet: the step-up enrols one on this computer, and only then
    // does the app get its code (a first factor ends password-only sessions elsewhere, not
    // this one).
    let (status, html) = page(&app.base, &lab, &step_up).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("otpauth://"), "enrols first");
    let key = key_on(&html);
    // A step-up's enrolment asks for the password with the first code.
    let enrolled = post(
        &app.base,
        &lab,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[
            ("code", &code_at(&key, app.clock.now())),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    assert_eq!(
        recovery_codes_on(&enrolled.text().await.expect("html")).len(),
        10
    );
    let r = post(
        &app.base,
        &lab,
        "/login/second-factor",
        "/login/second-factor/continue",
        &[],
    )
    .await;
    let callback = location(&r);
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    let tokens = client
        .exchange_code(AuthorizationCode::new(query_of(&callback)["code"].clone()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let claims = tokens
        .id_token()
        .expect("ID token")
        .claims(&client.id_token_verifier(), &nonce)
        .expect("ID token verifies");
    assert_eq!(claims.subject().as_str(), student.account_id.to_string());
    assert_eq!(
        claims.auth_context_ref().map(|a| a.to_string()).as_deref(),
        Some(REFEDS_MFA)
    );
    let amr: Vec<String> = claims
        .auth_method_refs()
        .expect("amr")
        .iter()
        .map(|m| m.to_string())
        .collect();
    for method in ["pwd", "otp", "mfa"] {
        assert!(amr.iter().any(|m| m == method), "{amr:?}");
    }
    // Now the same request is met silently.
    let (silent, _, _) = ask(true);
    let r = through_authorize(&lab, &silent).await;
    assert!(
        query_of(&location(&r)).contains_key("code"),
        "{}",
        location(&r)
    );
}

async fn password_only_tokens_are_refused_for_admin_operations(app: TestApp, sink: SmtpSink) {
    make_admin(&app, "registrar").await;
    let script = script_client(&app).await;
    // The policy covers admins: the password grant, which cannot ask for a factor, refuses an
    // admin who has none yet (the grace period's tokens are refused by the API: doors.rs).
    let (status, body) = token_request(
        &app,
        &script,
        &[
            ("grant_type", "password"),
            ("username", "registrar"),
            ("password", PASSWORD),
            ("scope", "openid api roles"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    // Once the admin has a factor, the password grant refuses the account altogether.
    let b = browser();
    let html = password_step(&app, &b, "registrar", "/admin").await;
    let registrar_key = key_on(&html);
    let code = code_at(&registrar_key, app.clock.now());
    post(
        &app.base,
        &b,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[("code", &code)],
    )
    .await;
    let (status, body) = token_request(
        &app,
        &script,
        &[
            ("grant_type", "password"),
            ("username", "registrar"),
            ("password", PASSWORD),
            ("scope", "openid api"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    // Another admin resets the first one's factors (a lost phone): audited, told by e-mail, and
    // the next sign-in enrols again.
    let _ = post(
        &app.base,
        &b,
        "/login/second-factor",
        "/login/second-factor/continue",
        &[],
    )
    .await;
    let registrar = app
        .store()
        .find_account_by_login("registrar")
        .await
        .expect("db")
        .expect("account");
    make_admin(&app, "dean").await;
    let dean = browser();
    let html = password_step(&app, &dean, "dean", "/admin").await;
    let code = code_at(&key_on(&html), app.clock.now());
    post(
        &app.base,
        &dean,
        "/login/second-factor",
        "/login/second-factor/enrol",
        &[("code", &code)],
    )
    .await;
    post(
        &app.base,
        &dean,
        "/login/second-factor",
        "/login/second-factor/continue",
        &[],
    )
    .await;
    let user_page = format!("/admin/users/{}", registrar.account_id);
    let (status, html) = page(&app.base, &dean, &user_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Two-step verification"),
        "the factors are listed"
    );
    assert!(
        !html.contains(&registrar_key) && !html.contains("otpauth"),
        "never their secret"
    );
    let r = post(
        &app.base,
        &dean,
        &user_page,
        &format!("{user_page}/factors"),
        &[("what", "reset")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        !app.store()
            .find_mfa(registrar.account_id)
            .await
            .expect("db")
            .has_totp()
    );
    assert_eq!(audited(&app, "user.reset_factors").await, 1);
    notice_to(&sink, "registrar@students.hccc.edu", "reset").await;
    let again = browser();
    let html = password_step(&app, &again, "registrar", "/admin").await;
    assert!(html.contains("otpauth://"), "enrols again");
    // A bad choice is a clear 400, not a change.
    let r = post(
        &app.base,
        &dean,
        &user_page,
        &format!("{user_page}/factors"),
        &[("what", "everything")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// A browser holding the remember cookie `token` for `app`'s host.
fn holding(app: &TestApp, token: &str) -> reqwest::Client {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let url = app.base.parse::<reqwest::Url>().expect("url");
    jar.add_cookie_str(&format!("hccc_sso_mfa={token}; Path=/"), &url);
    crate::harness::client_builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Signs the browser out (the home page's form).
async fn sign_out(app: &TestApp, b: &reqwest::Client) {
    let r = post(&app.base, b, "/", "/logout", &[("confirm", "yes")]).await;
    assert_eq!(r.status(), StatusCode::OK, "the signed-out page");
    assert!(
        r.text().await.expect("html").contains("You are signed out"),
        "signed out"
    );
}

/// Password, then where the sign-in went: the second step, or straight on.
async fn after_password(app: &TestApp, b: &reqwest::Client, username: &str) -> String {
    let r = submit_login(app, b, "/login", username, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r).to_owned()
}

async fn a_remembered_browser_skips_the_second_step_until_forgotten_never_on_shared_networks(
    app: TestApp,
    _sink: SmtpSink,
) {
    let dean = make_admin(&app, "dean").await;
    let sealed = hccc_sso::accounts::factors::seal_key(&app.state, dean, b"12345678901234567890")
        .expect("seal");
    app.store()
        .set_totp(dean, &sealed, 0, app.clock.now())
        .await
        .expect("totp");
    let key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let b = browser();
    let html = password_step(&app, &b, "dean", "/").await;
    assert!(
        html.contains(r#"name="remember_browser""#),
        "offered: {html}"
    );
    let r = post(
        &app.base,
        &b,
        "/login/second-factor",
        "/login/second-factor",
        &[
            ("code", &code_at(key, app.clock.now())),
            ("remember_browser", "yes"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hccc_sso_mfa="))
        .expect("the remember cookie")
        .to_owned();
    assert!(
        cookie.contains("Max-Age=2592000") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let token = cookie["hccc_sso_mfa=".len()..]
        .split(';')
        .next()
        .expect("token");
    assert_eq!(token.len(), 43);
    // Only its hash is kept.
    let (_, account_page) = page(&app.base, &b, "/account").await;
    assert!(!account_page.contains(token));
    assert!(account_page.contains("Forget every browser"), "listed");

    // Signed out and in again: the password alone, and the session counts as two-step.
    sign_out(&app, &b).await;
    assert_eq!(after_password(&app, &b, "dean").await, "/");
    let r = b.get(app.url("/admin/users")).send().await.expect("admin");
    assert_eq!(r.status(), StatusCode::OK, "{}", location(&r));

    // Another replica whose network is a lab's: the cookie counts for nothing there, nor is
    // the offer made.
    let (lab_base, lab_state, _stop) = crate::harness::start_replica_with(&app, |config| {
        config.mfa.shared_networks = vec!["127.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    let lab = TestApp::adopt(lab_base, lab_state, app.clock.clone());
    let lab_browser = holding(&lab, token);
    let html = password_step(&lab, &lab_browser, "dean", "/").await;
    assert!(
        !html.contains("remember_browser"),
        "not offered on a shared network"
    );

    // A made-up token, or this one for another account: the second step again.
    sign_out(&app, &b).await;
    let made_up = "A".repeat(43);
    let _ = password_step(&app, &holding(&app, &made_up), "dean", "/").await;
    let guest = make_admin(&app, "guest").await;
    app.store()
        .set_totp(guest, &sealed, 0, app.clock.now())
        .await
        .expect("totp");
    let _ = password_step(&app, &holding(&app, token), "guest", "/").await;
    // Expired after 30 days.
    app.clock.advance(31 * 86_400);
    assert_eq!(
        after_password(&app, &b, "dean").await,
        "/login/second-factor"
    );
    // That sign-in is left half-way; a fresh one is remembered again.
    let b = browser();
    let html = password_step(&app, &b, "dean", "/").await;
    let step = app.clock.now();
    let r = post(
        &app.base,
        &b,
        "/login/second-factor",
        "/login/second-factor",
        &[("code", &code_at(key, step)), ("remember_browser", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{html}");
    // Forgotten from the account page: asked again.
    let r = post(
        &app.base,
        &b,
        "/account",
        "/account/remembered/forget",
        &[("remembered_id", "all")],
    )
    .await;
    assert_eq!(location(&r), "/account?done=forgotten");
    sign_out(&app, &b).await;
    assert_eq!(
        after_password(&app, &b, "dean").await,
        "/login/second-factor"
    );
    assert_eq!(audited(&app, "user.forget_browsers").await, 1);
}

async fn mfa_app(backend: Backend, sink: &SmtpSink) -> Option<TestApp> {
    crate::self_service::app_with_mail(backend, sink, |config| {
        config.mfa.required_roles = vec!["admin".into()];
    })
    .await
}

/// A mail sink and an app that requires a second factor of admins and mails through it.
async fn mfa_app_and_sink(backend: Backend) -> Option<(TestApp, SmtpSink)> {
    let sink = SmtpSink::start().await;
    let app = mfa_app(backend, &sink).await?;
    Some((app, sink))
}

crate::harness::on_both_backends!(start mfa_app_and_sink => (app, sink);
    an_admin_enrols_at_sign_in_and_each_code_works_once_on_any_replica,
    an_app_asking_for_mfa_steps_a_password_session_up,
    password_only_tokens_are_refused_for_admin_operations,
    a_remembered_browser_skips_the_second_step_until_forgotten_never_on_shared_networks,
);

/// On an issuer whose host is an IP address passkeys are off: no button, their endpoints answer
/// 404. On a host name each ceremony has a fresh challenge, is never cached, and is spent by the
/// first answer, good or bad.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_are_off_on_an_ip_address_and_each_ceremony_is_fresh_and_single_use() {
    let off = crate::harness::start(Backend::Sqlite).await.expect("app");
    let b = browser();
    let (status, html) = page(&off.base, &b, "/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Sign in with a passkey"), "{html}");
    let r = post(&off.base, &b, "/login", "/login/passkey/options", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let on = crate::harness::start_as(Backend::Sqlite, "localhost", |_| {})
        .await
        .expect("app");
    let b = browser();
    let (_, html) = page(&on.base, &b, "/login").await;
    assert!(html.contains("Sign in with a passkey"), "{html}");
    assert!(html.contains(r#"autocomplete="username webauthn""#));
    let mut challenges = Vec::new();
    for _ in 0..2 {
        let r = post(&on.base, &b, "/login", "/login/passkey/options", &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let options: serde_json::Value = r.json().await.expect("json");
        let key = &options["publicKey"];
        assert_eq!(key["rpId"], "localhost");
        assert_eq!(key["userVerification"], "required");
        challenges.push(key["challenge"].as_str().expect("challenge").to_owned());
    }
    assert_ne!(challenges[0], challenges[1]);
    // Malformed, oversized and wrong-shaped answers are refused with the sign-in page (401); the
    // ceremony is spent by the first, so the next finds none (400).
    // Under the body limit, so it is read (a larger body is refused with 413 before it is read:
    // robustness.rs), but far over a field's limit.
    let huge = format!("{{\"id\":\"{}\"}}", "a".repeat(60 * 1024));
    for (answer, status) in [
        ("{\"id\":", StatusCode::UNAUTHORIZED),
        ("{}", StatusCode::BAD_REQUEST),
    ] {
        let r = post(
            &on.base,
            &b,
            "/login",
            "/login/passkey",
            &[("credential", answer)],
        )
        .await;
        assert_eq!(r.status(), status, "{answer}");
        let text = r.text().await.expect("html");
        assert!(text.contains("Sign in"), "{text}");
    }
    let _ = post(&on.base, &b, "/login", "/login/passkey/options", &[]).await;
    let r = post(
        &on.base,
        &b,
        "/login",
        "/login/passkey",
        &[("credential", &huge)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = r.text().await.expect("html");
    assert!(
        text.contains("The parameter credential is longer than 4096 characters."),
        "{text}"
    );
    // The second step's options need a sign-in waiting for it.
    let r = post(
        &on.base,
        &b,
        "/login",
        "/login/second-factor/key/options",
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
