//! Accounts people run themselves, over real HTTP and a real SMTP server (aiosmtpd): invitations,
//! password reset, address confirmation and change, the account page's sessions, apps and
//! activity, and the outbox across replicas and relay outages.

use std::time::{Duration, Instant};

use hccc_sso::config::mail::{Security, SmtpSettings};
use hccc_sso::store::NewAccount;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::api::{call, make_admin, script_client};
use crate::flows::{
    authorize_url, exchange_code, form_value, location, pkce, query_of, submit_login,
};
use crate::harness::{Backend, PASSWORD, REDIRECT_URI, TestApp, browser};
use crate::mail::{Delivered, SmtpSink};
use reqwest::Method;

const NEW_PASSWORD: &str = "a brand new passphrase 7";

fn relay(sink: &SmtpSink) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port,
        security: Security::Plain,
        user: None,
        password: None,
    }
}

/// An app whose mail goes to `sink`.
pub(crate) async fn app_with_mail(
    backend: Backend,
    sink: &SmtpSink,
    adjust: impl FnOnce(&mut hccc_sso::config::Config),
) -> Option<TestApp> {
    let smtp = relay(sink);
    crate::harness::start_with(backend, move |config| {
        config.mail.smtp = Some(smtp);
        adjust(config);
    })
    .await
}

/// A mail sink and an app that mails through it.
async fn app_and_sink(backend: Backend) -> Option<(TestApp, SmtpSink)> {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(backend, &sink, |_| {}).await?;
    Some((app, sink))
}

/// An imported student: no password yet, a recovery address, a language.
pub(crate) async fn imported(
    app: &TestApp,
    username: &str,
    locale: Option<&str>,
) -> hccc_sso::store::AccountRow {
    let new = NewAccount {
        username: username.into(),
        email: format!("{username}@students.hccc.edu"),
        email_verified: false,
        given_name: Some("Rosa".into()),
        family_name: Some("Parks".into()),
        password_hash: None,
        roles: vec!["student".into()],
        groups: vec!["Class of 2028".into()],
        must_change_password: false,
        locale: locale.map(str::to_owned),
        recovery_email: Some(format!("{username}@home.example")),
    };
    app.store()
        .insert_account(new, app.clock.now())
        .await
        .expect("insert")
}

/// The hidden fields and CSRF token of the first form on a page, plus `fields`.
pub(crate) async fn post_form(
    app: &TestApp,
    browser: &reqwest::Client,
    page_url: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = browser.get(page_url).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK, "{page_url}");
    let html = page.text().await.expect("html");
    let mut form: Vec<(String, String)> = vec![(
        "csrf_token".into(),
        form_value(&html, "csrf_token").expect("csrf"),
    )];
    for hidden in ["token", "request", "return_to"] {
        if let Some(v) = form_value(&html, hidden) {
            form.push((hidden.into(), v));
        }
    }
    for (k, v) in fields {
        form.push(((*k).into(), (*v).into()));
    }
    browser
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .expect("post")
}

fn token_of(link: &str) -> String {
    query_of(link)["token"].clone()
}

/// The link's path and query, on this app.
pub(crate) fn on_app(app: &TestApp, link: &str) -> String {
    let url = url::Url::parse(link).expect("link");
    app.url(&format!(
        "{}?{}",
        url.path(),
        url.query().unwrap_or_default()
    ))
}

async fn signed_in_as(app: &TestApp, browser: &reqwest::Client) -> Option<String> {
    let html = browser
        .get(app.url("/account"))
        .send()
        .await
        .expect("account");
    if html.status() != StatusCode::OK {
        return None;
    }
    let html = html.text().await.expect("html");
    form_value(&html, "given_name")
}

async fn an_invitation_reaches_the_recovery_address_and_sets_a_password_once(
    app: TestApp,
    sink: SmtpSink,
) {
    let admin = make_admin(&app, "registrar").await;
    let _ = admin;
    let script = script_client(&app).await;
    let token = crate::api::password_token(&app, &script, "registrar").await;
    let student = imported(&app, "rparks", Some("es")).await;
    // The API refuses to invite an account that has a password.
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{admin}/invite"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{}/invite", student.account_id),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let mail = sink.last_to("rparks@home.example").await;
    // In the account's language, from our sender, text and HTML, nothing remote, no tracking.
    assert_eq!(mail.content_language.as_deref(), Some("es"));
    assert_eq!(
        mail.subject, "Configure su cuenta de Hudson County Community College",
        "the invitation's subject, in Spanish, with the college's name"
    );
    assert!(mail.from.contains("no-reply@127.0.0.1"), "{}", mail.from);
    assert!(mail.raw.contains("Auto-Submitted: auto-generated"));
    let link = mail
        .link(&app.url("/account/welcome?token="))
        .expect("an invitation link in the text part");
    assert!(
        mail.html.contains(&link.replace('&', "&amp;")),
        "the HTML part carries the same link"
    );
    assert!(
        !mail.html.contains("<img") && !mail.html.contains("src="),
        "no images, nothing loaded from elsewhere"
    );
    assert_eq!(
        mail.html.matches("http").count(),
        mail.html.matches(&link).count(),
        "no other address in the HTML: {}",
        mail.html
    );
    assert!(
        mail.text.contains("rparks"),
        "the username is in the letter"
    );
    // Only the hash of the link's secret is stored.
    let secret = token_of(&link);
    let stored: i64 = app
        .store()
        .count_links_with_hash(&hccc_sso::crypto::sha256(secret.as_bytes()))
        .await
        .expect("count");
    assert_eq!(stored, 1);

    // A mail scanner opens the link first (HEAD, GET): nothing is spent.
    let scanner = crate::harness::http();
    let head = scanner
        .head(on_app(&app, &link))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["referrer-policy"], "no-referrer");
    for _ in 0..2 {
        let page = scanner.get(on_app(&app, &link)).send().await.expect("get");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(
            html.contains("lang=\"es\""),
            "the page in the account's language"
        );
        assert!(html.contains("rparks"));
    }

    let student_browser = browser();
    // A weak password and a mismatch are refused without spending the link.
    let weak = post_form(
        &app,
        &student_browser,
        &on_app(&app, &link),
        "/account/welcome",
        &[("new_password", "short"), ("confirm_password", "short")],
    )
    .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let mismatch = post_form(
        &app,
        &student_browser,
        &on_app(&app, &link),
        "/account/welcome",
        &[
            ("new_password", NEW_PASSWORD),
            ("confirm_password", "something else entirely"),
        ],
    )
    .await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A form without its CSRF token is refused.
    let forged = student_browser
        .post(app.url("/account/welcome"))
        .form(&[
            ("token", secret.as_str()),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);

    let done = post_form(
        &app,
        &student_browser,
        &on_app(&app, &link),
        "/account/welcome",
        &[
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/");
    assert_eq!(
        signed_in_as(&app, &student_browser).await.as_deref(),
        Some("Rosa"),
        "signed in after choosing a password"
    );
    // The invitation went to the recovery address: the college address is still unproven.
    let after = app
        .store()
        .find_account(student.account_id)
        .await
        .expect("find")
        .expect("account");
    assert!(!after.email_verified);
    assert!(after.password_hash.is_some());

    // Spent: the same link opens nothing, and posting it again changes nothing.
    let again = scanner.get(on_app(&app, &link)).send().await.expect("get");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let page = again.text().await.expect("html");
    // The spent link names no account any more: the page speaks the browser's language.
    assert!(page.contains("This link does not work"), "{page}");
    assert!(!page.contains("Este enlace no funciona"), "{page}");
    // The new password signs in.
    let other = browser();
    let login = submit_login(&app, &other, "/login", "rparks", NEW_PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);

    let actions = audit_actions(&app).await;
    for action in ["user.invite", "user.accept_invitation"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

pub(crate) async fn audit_actions(app: &TestApp) -> Vec<String> {
    let filter = hccc_sso::store::AuditFilter {
        limit: 200,
        ..Default::default()
    };
    app.store()
        .search_audit(&filter)
        .await
        .expect("audit")
        .0
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn bad_tokens_open_nothing(app: TestApp, sink: SmtpSink) {
    let first = imported(&app, "expiring", None).await;
    let second = imported(&app, "wrongpurpose", None).await;
    hccc_sso::accounts::links::send(
        &app.state,
        &first,
        hccc_sso::store::LinkPurpose::Invitation,
        None,
    )
    .await
    .expect("send");
    hccc_sso::accounts::links::send(
        &app.state,
        &second,
        hccc_sso::store::LinkPurpose::Invitation,
        None,
    )
    .await
    .expect("send");
    let expiring = sink
        .last_to("expiring@home.example")
        .await
        .link(&app.url("/account/welcome?token="))
        .expect("link");
    let other = sink
        .last_to("wrongpurpose@home.example")
        .await
        .link(&app.url("/account/welcome?token="))
        .expect("link");
    let client = crate::harness::http();
    let status = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.expect("get").status() }
    };
    // Tampered: one character changed; too long; empty; not base64; wrong purpose's page.
    let token = token_of(&other);
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for bad in [
        format!("/account/welcome?token={tampered}"),
        format!("/account/welcome?token={}", "A".repeat(5000)),
        "/account/welcome?token=".to_owned(),
        "/account/welcome".to_owned(),
        "/account/welcome?token=%00%ff".to_owned(),
        format!("/account/reset?token={token}"),
        format!("/account/confirm?token={token}"),
    ] {
        assert_eq!(
            status(app.url(&bad)).await,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    // The wrong-purpose POST does not spend it either.
    let b = browser();
    let wrong = post_form(
        &app,
        &b,
        &on_app(&app, &other),
        "/account/reset",
        &[
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        status(on_app(&app, &other)).await,
        StatusCode::OK,
        "still valid for its own page"
    );
    // A newer invitation ends the older one.
    hccc_sso::accounts::links::send(
        &app.state,
        &second,
        hccc_sso::store::LinkPurpose::Invitation,
        None,
    )
    .await
    .expect("send");
    assert_eq!(
        status(on_app(&app, &other)).await,
        StatusCode::BAD_REQUEST,
        "superseded"
    );
    // Expired after seven days.
    assert_eq!(status(on_app(&app, &expiring)).await, StatusCode::OK);
    app.clock.advance(7 * 86_400 + 1);
    assert_eq!(
        status(on_app(&app, &expiring)).await,
        StatusCode::BAD_REQUEST,
        "expired"
    );
}

async fn forgot_password_answers_alike_resets_once_and_ends_every_session(
    app: TestApp,
    sink: SmtpSink,
) {
    let (client, tokens) = crate::flows::signed_in_tokens(&app, "forgetful").await;
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let before = browser();
    assert_eq!(
        submit_login(&app, &before, "/login", "forgetful", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert!(signed_in_as(&app, &before).await.is_some());

    // The sign-in page links to the reset page.
    let login_page = browser()
        .get(app.url("/login"))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    assert!(login_page.contains("href=\"/account/forgot\""));

    let visitor = browser();
    let known = post_form(
        &app,
        &visitor,
        &app.url("/account/forgot"),
        "/account/forgot",
        &[("login", "forgetful")],
    )
    .await;
    let unknown = post_form(
        &app,
        &visitor,
        &app.url("/account/forgot"),
        "/account/forgot",
        &[("login", "nobody-by-this-name")],
    )
    .await;
    assert_eq!(
        (known.status(), unknown.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let strip = |html: String| {
        html.lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(known.text().await.expect("html")),
        strip(unknown.text().await.expect("html")),
        "the same answer"
    );
    let empty = post_form(
        &app,
        &visitor,
        &app.url("/account/forgot"),
        "/account/forgot",
        &[("login", " ")],
    )
    .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let mail = sink.last_to("forgetful@students.hccc.edu").await;
    assert_eq!(mail.content_language.as_deref(), Some("en"));
    let link = mail
        .link(&app.url("/account/reset?token="))
        .expect("reset link");
    // A scanner's HEAD and GET first.
    let scanner = crate::harness::http();
    assert_eq!(
        scanner
            .head(on_app(&app, &link))
            .send()
            .await
            .expect("head")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        scanner
            .get(on_app(&app, &link))
            .send()
            .await
            .expect("get")
            .status(),
        StatusCode::OK
    );
    let reset = browser();
    let done = post_form(
        &app,
        &reset,
        &on_app(&app, &link),
        "/account/reset",
        &[
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(signed_in_as(&app, &reset).await.is_some());
    // Once only.
    assert_eq!(
        scanner
            .get(on_app(&app, &link))
            .send()
            .await
            .expect("get")
            .status(),
        StatusCode::BAD_REQUEST
    );
    // Every other session and refresh token ended; the old password no longer works.
    assert!(
        signed_in_as(&app, &before).await.is_none(),
        "the earlier browser is signed out"
    );
    let (status, body) = crate::flows::token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        submit_login(&app, &browser(), "/login", "forgetful", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // And a notice says so.
    let notice = sink.wait_for(2).await;
    assert!(
        notice
            .iter()
            .any(|m| m.subject.contains("password was changed")),
        "{:?}",
        notice.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
}

/// Median of `n` timed calls, in microseconds.
async fn median_micros<F, Fut>(n: usize, mut call: F) -> u128
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        assert_eq!(call().await, StatusCode::OK);
        times.push(started.elapsed().as_micros());
    }
    times.sort_unstable();
    times[n / 2]
}

/// No enumeration: the answer, its status and its time (median of 20) do not depend on whether
/// the account exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_request_takes_as_long_for_an_unknown_account() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(Backend::Sqlite, &sink, |c| c.mail.requests_per_ip = 1000)
        .await
        .expect("app");
    app.create_user("realperson").await;
    let visitor = browser();
    let html = visitor
        .get(app.url("/account/forgot"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let ask = |login: &'static str| {
        let visitor = visitor.clone();
        let csrf = csrf.clone();
        let url = app.url("/account/forgot");
        move || {
            let visitor = visitor.clone();
            let csrf = csrf.clone();
            let url = url.clone();
            async move {
                visitor
                    .post(url)
                    .form(&[("csrf_token", csrf.as_str()), ("login", login)])
                    .send()
                    .await
                    .expect("post")
                    .status()
            }
        }
    };
    // Warm both paths, then alternate rounds so drift hits both alike.
    let mut existing = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..4 {
        existing.push(median_micros(5, ask("realperson")).await);
        unknown.push(median_micros(5, ask("ghost-account")).await);
    }
    existing.sort_unstable();
    unknown.sort_unstable();
    let (a, b) = (existing[2], unknown[2]);
    println!("reset request median: existing {a} µs, unknown {b} µs");
    let larger = a.max(b);
    assert!(
        a.abs_diff(b) <= larger / 3 + 2_000,
        "existing {a} µs vs unknown {b} µs"
    );
}

/// A flood of reset requests: past the per-address limit the answer is 429 and nothing more is
/// queued; one account gets at most three links an hour whatever the addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_flood_is_throttled_and_queues_nothing_past_its_limits() {
    let sink = SmtpSink::start().await;
    let app = app_with_mail(Backend::Sqlite, &sink, |c| c.mail.requests_per_ip = 10)
        .await
        .expect("app");
    let flooded = app.create_user("flooded").await;
    let visitor = browser();
    let html = visitor
        .get(app.url("/account/forgot"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let response = visitor
            .post(app.url("/account/forgot"))
            .form(&[("csrf_token", csrf.as_str()), ("login", "flooded")])
            .send()
            .await
            .expect("post");
        statuses.push(response.status());
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert!(
        statuses[10..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // Each accepted request looks the account up in the background. Wait until all ten have been
    // counted against the account, and each one let through has finished (its audit entry comes
    // after its link).
    let counter = hccc_sso::accounts::throttle::mail_account_key(
        hccc_sso::store::LinkPurpose::PasswordReset.as_str(),
        flooded.account_id,
        false,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let counted = app.store().find_throttle(&counter).await.expect("throttle");
        let finished = audit_actions(&app)
            .await
            .iter()
            .filter(|a| *a == "user.request_reset")
            .count();
        let made = app
            .store()
            .count_links_of_purpose("reset")
            .await
            .expect("count");
        if counted.as_ref().is_some_and(|c| c.failures == 10) && finished as i64 == made {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the ten requests were not all handled: {counted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let links = app
        .store()
        .count_links_of_purpose("reset")
        .await
        .expect("count");
    assert_eq!(links, 3, "three reset links an hour for one account");
    // A newer link drops an older one's message if it has not gone out yet: one to three sent.
    sink.wait_for(1).await;
    wait_for_empty_outbox(&app).await;
    let sent = sink.messages();
    assert!(
        (1..=3).contains(&sent.len()),
        "nothing sent beyond the limit: {}",
        sent.len()
    );
    let newest = sent
        .last()
        .expect("one")
        .link(&app.url("/account/reset?token="))
        .expect("link");
    assert_eq!(
        crate::harness::http()
            .get(on_app(&app, &newest))
            .send()
            .await
            .expect("get")
            .status(),
        StatusCode::OK
    );
    // Oversized and malformed input is refused plainly.
    let long = "x".repeat(10_000);
    let oversized = visitor
        .post(app.url("/account/forgot"))
        .form(&[("csrf_token", csrf.as_str()), ("login", long.as_str())])
        .send()
        .await
        .expect("post");
    assert!(
        oversized.status().is_client_error(),
        "{}",
        oversized.status()
    );
}

async fn an_address_change_waits_for_its_confirmation(app: TestApp, sink: SmtpSink) {
    app.create_user("mover").await;
    let b = browser();
    assert_eq!(
        submit_login(&app, &b, "/login", "mover", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Bad addresses first.
    for bad in [
        "not-an-address",
        &format!("{}@x.edu", "a".repeat(300)),
        "mover@students.hccc.edu",
    ] {
        let r = post_form(
            &app,
            &b,
            &app.url("/account"),
            "/account/email",
            &[("email", bad)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // The current password is asked even right after signing in (link_lifetimes.rs tests its
    // refusals).
    let r = post_form(
        &app,
        &b,
        &app.url("/account"),
        "/account/email",
        &[
            ("email", "mover@new.example"),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let confirm = sink.last_to("mover@new.example").await;
    let notice = sink.last_to("mover@students.hccc.edu").await;
    assert!(
        notice.text.contains("mover@new.example"),
        "the old address hears of the change"
    );
    assert!(
        notice.link(&app.url("/account/")).is_none(),
        "the notice carries no link"
    );
    let account = app
        .store()
        .find_account_by_login("mover")
        .await
        .expect("find")
        .expect("account");
    assert_eq!(
        account.email, "mover@students.hccc.edu",
        "the old address stays until the new one is confirmed"
    );
    let page = b
        .get(app.url("/account"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("mover@new.example"),
        "the page shows the change waiting"
    );

    let link = confirm
        .link(&app.url("/account/confirm?token="))
        .expect("confirmation link");
    assert_eq!(
        crate::harness::http()
            .get(on_app(&app, &link))
            .send()
            .await
            .expect("get")
            .status(),
        StatusCode::OK
    );
    let other = browser();
    let done = post_form(&app, &other, &on_app(&app, &link), "/account/confirm", &[]).await;
    assert_eq!(done.status(), StatusCode::OK);
    let account = app
        .store()
        .find_account_by_login("mover")
        .await
        .expect("find")
        .expect("account");
    assert_eq!(
        (account.email.as_str(), account.email_verified),
        ("mover@new.example", true)
    );
    assert_eq!(
        crate::harness::http()
            .get(on_app(&app, &link))
            .send()
            .await
            .expect("get")
            .status(),
        StatusCode::BAD_REQUEST
    );

    // More than ten minutes after signing in, the password is still asked.
    app.clock.advance(11 * 60);
    let page = b
        .get(app.url("/account"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("name=\"current_password\""));
    let r = post_form(
        &app,
        &b,
        &app.url("/account"),
        "/account/email",
        &[
            ("email", "mover@third.example"),
            ("current_password", "not my password"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &app,
        &b,
        &app.url("/account"),
        "/account/email",
        &[
            ("email", "mover@third.example"),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The API: PATCH does not write an address; POST /me/email needs the password.
    let script = script_client(&app).await;
    let token = crate::api::password_token(&app, &script, "mover").await;
    let (status, body) = call(
        &app,
        Method::PATCH,
        "/api/v1/users/me",
        Some(&token),
        Some(json!({"email": "sneaky@evil.example"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "email");
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/users/me/email",
        Some(&token),
        Some(json!({"email": "sneaky@evil.example", "current_password": "wrong"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/users/me/email",
        Some(&token),
        Some(json!({"email": "mover@api.example", "current_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    sink.last_to("mover@api.example").await;
    let actions = audit_actions(&app).await;
    for action in ["user.request_email_change", "user.change_email"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

async fn ending_a_session_elsewhere_signs_it_out_and_tells_its_app(app: TestApp, _sink: SmtpSink) {
    app.create_user("twobrowsers").await;
    let client = app.create_client(false, true).await;
    let receiver = crate::conformance::receiver().await;
    let uri = receiver.url.clone();
    app.edit_client(&client.client_id, |c| {
        c.settings.backchannel_logout_uri = Some(uri)
    })
    .await;
    // The lab computer signs in to the app; the phone signs in to the account page.
    let lab = browser();
    let pkce = pkce();
    let params = crate::flows::sign_in_for_code(
        &app,
        &lab,
        &authorize_url(&app, &client, &pkce, &[]),
        "twobrowsers",
    )
    .await;
    let (status, _) = exchange_code(&app, &client, &params["code"], &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK);
    let phone = crate::harness::client_builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
        .build()
        .expect("client");
    assert_eq!(
        submit_login(&app, &phone, "/login", "twobrowsers", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let page = phone
        .get(app.url("/account"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Safari"), "the phone's browser is named");
    let account = app
        .store()
        .find_account_by_login("twobrowsers")
        .await
        .expect("find")
        .expect("account");
    let sessions = app
        .store()
        .list_browser_sessions(account.account_id, app.clock.now())
        .await
        .expect("list");
    assert_eq!(sessions.len(), 2);
    let lab_sid = sessions
        .iter()
        .find(|s| {
            s.method == "password"
                && !s
                    .user_agent
                    .as_deref()
                    .unwrap_or_default()
                    .contains("iPhone")
        })
        .expect("lab")
        .sid;
    // A made-up session id is refused; the lab's is ended.
    let r = post_form(
        &app,
        &phone,
        &app.url("/account"),
        "/account/sessions/end",
        &[("sid", "not-a-uuid")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post_form(
        &app,
        &phone,
        &app.url("/account"),
        "/account/sessions/end",
        &[("sid", &lab_sid.to_string())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let tokens = crate::conformance::wait_for_tokens(&receiver, 1).await;
    let claims: Value = crate::token::decode_segment(&tokens[0], 1);
    assert_eq!(
        claims["sid"],
        lab_sid.to_string(),
        "the app hears which session ended"
    );
    assert!(
        signed_in_as(&app, &lab).await.is_none(),
        "the lab computer is signed out"
    );
    assert!(
        signed_in_as(&app, &phone).await.is_some(),
        "the phone stays signed in"
    );
    let page = phone
        .get(app.url("/account"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!page.contains(&lab_sid.to_string()));
    // The activity list shows the sign-ins, failures included.
    let _ = submit_login(&app, &browser(), "/login", "twobrowsers", "wrong password").await;
    let events = app
        .store()
        .recent_sign_ins(account.account_id, 10)
        .await
        .expect("events");
    assert_eq!(events[0].result, "failed");
    assert!(events.iter().filter(|e| e.result == "succeeded").count() >= 2);
}

async fn a_revoked_app_can_no_longer_refresh(app: TestApp, _sink: SmtpSink) {
    let (client, tokens) = crate::flows::signed_in_tokens(&app, "revoker").await;
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let b = browser();
    assert_eq!(
        submit_login(&app, &b, "/login", "revoker", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let page = b
        .get(app.url("/account"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains(&client.client_id), "the app is listed");
    // Through the API first: the list, then a made-up app.
    let script = script_client(&app).await;
    let token = crate::api::password_token(&app, &script, "revoker").await;
    let (status, apps) = call(
        &app,
        Method::GET,
        "/api/v1/users/me/apps",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        apps.as_array()
            .expect("list")
            .iter()
            .any(|a| a["client_id"] == client.client_id.as_str()),
        "{apps}"
    );
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/users/me/apps/{}", uuid::Uuid::new_v4()),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = post_form(
        &app,
        &b,
        &app.url("/account"),
        "/account/apps/revoke",
        &[("client_id", &client.client_id)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, body) = crate::flows::token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // Consent is gone too: the next sign-in asks again.
    let pkce = pkce();
    let response = b
        .get(authorize_url(&app, &client, &pkce, &[]))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&response).starts_with("/consent"),
        "{}",
        location(&response)
    );
    let (status, sessions) = call(
        &app,
        Method::GET,
        "/api/v1/users/me/sessions",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!sessions.as_array().expect("list").is_empty());
    let (status, activity) = call(
        &app,
        Method::GET,
        "/api/v1/users/me/activity",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        activity
            .as_array()
            .expect("list")
            .iter()
            .any(|e| e["result"] == "succeeded")
    );
}

/// An invitation opened during an app's sign-in continues to the app once the password is set.
async fn an_invitation_during_an_app_sign_in_continues_to_it(app: TestApp, sink: SmtpSink) {
    let student = imported(&app, "midflow", None).await;
    let client = app.create_client(false, true).await;
    let b = browser();
    let pkce = pkce();
    let start = b
        .get(authorize_url(&app, &client, &pkce, &[]))
        .send()
        .await
        .expect("authorize");
    assert!(location(&start).starts_with("/login"));
    hccc_sso::accounts::links::send(
        &app.state,
        &student,
        hccc_sso::store::LinkPurpose::Invitation,
        None,
    )
    .await
    .expect("send");
    let link = sink
        .last_to("midflow@home.example")
        .await
        .link(&app.url("/account/welcome?token="))
        .expect("link");
    let done = post_form(
        &app,
        &b,
        &on_app(&app, &link),
        "/account/welcome",
        &[
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let next = location(&done);
    assert!(next.starts_with(REDIRECT_URI), "back to the app: {next}");
    let (status, tokens) =
        exchange_code(&app, &client, &query_of(&next)["code"], &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
}

/// Two replicas on one outbox: every message goes out exactly once.
async fn two_replicas_send_each_message_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = app_with_mail(backend, &sink, |_| {}).await else {
        return;
    };
    let (_, replica, _stop) =
        crate::harness::start_replica_with(&app, |c| c.mail.smtp = Some(relay(&sink))).await;
    let mut accounts = Vec::new();
    for n in 0..120 {
        accounts.push(imported(&app, &format!("twin{n:03}"), None).await);
    }
    let (left, right) = accounts.split_at(60);
    let actor = hccc_sso::accounts::directory::Actor::Cli;
    let (a, b) = tokio::join!(
        hccc_sso::accounts::self_service::invite(
            &app.state,
            left.to_vec(),
            &actor,
            None,
            json!("left")
        ),
        hccc_sso::accounts::self_service::invite(
            &replica,
            right.to_vec(),
            &actor,
            None,
            json!("right")
        ),
    );
    assert_eq!((a.expect("left"), b.expect("right")), (60, 60));
    // Both workers race for all of them.
    app.state.mail.wake();
    replica.mail.wake();
    sink.wait_for(120).await;
    // A message leaves the outbox only after the relay has it: once the outbox is empty no send
    // is under way, and every duplicate there was is in the sink.
    wait_for_empty_outbox(&app).await;
    let delivered: Vec<Delivered> = sink.messages();
    let mut recipients: Vec<String> = delivered.iter().map(|m| m.to.clone()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(
        (delivered.len(), recipients.len()),
        (120, 120),
        "each exactly once"
    );
    wait_for_empty_outbox(&app).await;
}

/// The relay is down for a while: messages wait, are retried with back-off, and all go out
/// when it returns.
async fn mail_waits_for_the_relay_and_none_is_lost(backend: Backend) {
    let mut sink = SmtpSink::start().await;
    let Some(app) = app_with_mail(backend, &sink, |_| {}).await else {
        return;
    };
    sink.stop().await;
    let mut accounts = Vec::new();
    for n in 0..5 {
        accounts.push(imported(&app, &format!("patient{n}"), None).await);
    }
    let actor = hccc_sso::accounts::directory::Actor::Cli;
    hccc_sso::accounts::self_service::invite(&app.state, accounts, &actor, None, json!("all"))
        .await
        .expect("invite");
    // Attempted and failed: still queued.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempted = app.store().mail_attempts().await.expect("attempts");
        if attempted.iter().all(|a| *a >= 1) && attempted.len() == 5 {
            break;
        }
        assert!(Instant::now() < deadline, "the worker tried: {attempted:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.store().count_mail().await.expect("count"), 5);
    sink.resume().await;
    // Not before the back-off: a delivery pass now finds nothing due. Then all of them.
    assert_eq!(
        hccc_sso::mail::deliver_due(&app.state).await,
        0,
        "retried only after the back-off"
    );
    assert!(sink.messages().is_empty(), "nothing was sent");
    app.clock.advance(60);
    app.state.mail.wake();
    let delivered = sink.wait_for(5).await;
    assert_eq!(delivered.len(), 5);
    wait_for_empty_outbox(&app).await;
}

/// Sent messages leave the outbox just after the relay accepts them.
async fn wait_for_empty_outbox(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.store().count_mail().await.expect("count") > 0 {
        assert!(Instant::now() < deadline, "the outbox still holds messages");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

crate::harness::on_both_backends!(start app_and_sink => (app, sink);
    an_invitation_reaches_the_recovery_address_and_sets_a_password_once,
    bad_tokens_open_nothing,
    forgot_password_answers_alike_resets_once_and_ends_every_session,
    an_address_change_waits_for_its_confirmation,
    ending_a_session_elsewhere_signs_it_out_and_tells_its_app,
    a_revoked_app_can_no_longer_refresh,
    an_invitation_during_an_app_sign_in_continues_to_it,
);

/// Tests of the outbox that start their own apps around the relay.
mod outbox {
    use super::{mail_waits_for_the_relay_and_none_is_lost, two_replicas_send_each_message_once};
    crate::harness::on_both_backends!(backend;
        two_replicas_send_each_message_once,
        mail_waits_for_the_relay_and_none_is_lost,
    );
}
