//! E-mailed links end when the credentials they were for change (issue 24, item 4): a new
//! password, however it is set, ends the account's unspent reset, invitation and e-mail-change
//! links; disabling ends every link; an invitation never replaces a password the account got
//! another way. And the e-mail change is safe: it asks for the password every time, a change
//! waiting can be cancelled from `/account`, and the old address is told when one completes.
//! Over real HTTP, with a real SMTP sink, on both backends.

use std::time::{Duration, Instant};

use hccc_sso::store::{LinkPurpose, NewLink};
use reqwest::header::{ACCEPT_LANGUAGE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::{call, make_admin, password_token, script_client};
use crate::flows::{form_value, location, query_of, submit_login};
use crate::harness::{Backend, PASSWORD, TestApp, browser};
use crate::mail::{Delivered, SmtpSink};
use crate::self_service::{audit_actions, imported, on_app, post_form};

const RESET_FIELDS: [(&str, &str); 2] = [
    ("new_password", "a link's new passphrase 9"),
    ("confirm_password", "a link's new passphrase 9"),
];

/// A browser whose pages are in Spanish.
fn spanish_browser() -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("es"));
    crate::harness::client_builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// The first message to `to` that `wanted` accepts, waiting for it (up to 20 s).
async fn message_to(sink: &SmtpSink, to: &str, wanted: impl Fn(&Delivered) -> bool) -> Delivered {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(m) = sink
            .messages()
            .into_iter()
            .find(|m| m.to.contains(to) && wanted(m))
        {
            return m;
        }
        assert!(Instant::now() < deadline, "no such message to {to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A link to `path` in a message to `to` that is none of `known` (then it is known too).
async fn next_link(
    app: &TestApp,
    sink: &SmtpSink,
    to: &str,
    path: &str,
    known: &mut Vec<String>,
) -> String {
    let prefix = app.url(path);
    let m = message_to(sink, to, |m| {
        m.link(&prefix).is_some_and(|link| !known.contains(&link))
    })
    .await;
    let link = m.link(&prefix).expect("the link");
    known.push(link.clone());
    link
}

async fn page_status(app: &TestApp, link: &str) -> StatusCode {
    browser()
        .get(on_app(app, link))
        .send()
        .await
        .expect("get")
        .status()
}

/// A link that does not work: its page answers 400, and its form posted anyway (with a valid
/// CSRF token of the browser, from another page) is refused too.
async fn assert_dead(app: &TestApp, link: &str, action: &str, fields: &[(&str, &str)], why: &str) {
    assert_eq!(
        page_status(app, link).await,
        StatusCode::BAD_REQUEST,
        "{why}: the page of {action}"
    );
    let b = browser();
    let html = b
        .get(app.url("/account/forgot"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let mut form = vec![
        (
            "csrf_token".to_owned(),
            form_value(&html, "csrf_token").expect("csrf"),
        ),
        ("token".to_owned(), query_of(link)["token"].clone()),
    ];
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let posted = b
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(
        posted.status(),
        StatusCode::BAD_REQUEST,
        "{why}: the form of {action}"
    );
}

async fn signed_in(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let b = browser();
    let response = submit_login(app, &b, "/login", username, password).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{username} signs in"
    );
    b
}

/// Posts one of the forms of an account's admin page (`/admin/users/{id}/{what}`).
async fn admin_post(
    app: &TestApp,
    admin: &reqwest::Client,
    account_id: uuid::Uuid,
    what: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("/admin/users/{account_id}");
    post_form(
        app,
        admin,
        &app.url(&page),
        &format!("{page}/{what}"),
        fields,
    )
    .await
}

async fn email_of(app: &TestApp, username: &str) -> String {
    app.store()
        .find_account_by_login(username)
        .await
        .expect("find")
        .expect("account")
        .email
}

/// Asks for an address change from the account page, with the password.
async fn start_change(app: &TestApp, b: &reqwest::Client, to: &str, password: &str) {
    let r = post_form(
        app,
        b,
        &app.url("/account"),
        "/account/email",
        &[("email", to), ("current_password", password)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the change is asked for");
}

async fn a_reset_link_ends_when_the_password_changes_by_any_path(app: TestApp, sink: SmtpSink) {
    let owner = app.create_user("owner").await;
    let to = "owner@students.hccc.edu";
    make_admin(&app, "registrar").await;
    let admin = signed_in(&app, "registrar", PASSWORD).await;
    let mut known = Vec::new();
    let reset_path = "/account/reset?token=";

    // The owner's own "Forgot your password?", then a change through the API.
    let anonymous = browser();
    let r = post_form(
        &app,
        &anonymous,
        &app.url("/account/forgot"),
        "/account/forgot",
        &[("login", "owner")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let by_api = next_link(&app, &sink, to, reset_path, &mut known).await;
    assert_eq!(
        page_status(&app, &by_api).await,
        StatusCode::OK,
        "it works first"
    );
    let script = script_client(&app).await;
    let token = password_token(&app, &script, "owner").await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/v1/users/me/password",
        Some(&token),
        Some(json!({"current_password": PASSWORD, "new_password": "second passphrase 22"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_dead(
        &app,
        &by_api,
        "/account/reset",
        &RESET_FIELDS,
        "after an API change",
    )
    .await;

    // A reset sent by the help desk, then a change on the account's password page.
    let send_reset = || admin_post(&app, &admin, owner.account_id, "send", &[("what", "reset")]);
    assert_eq!(send_reset().await.status(), StatusCode::SEE_OTHER);
    let by_page = next_link(&app, &sink, to, reset_path, &mut known).await;
    let b = signed_in(&app, "owner", "second passphrase 22").await;
    let changed = post_form(
        &app,
        &b,
        &app.url("/account/password"),
        "/account/password",
        &[
            ("current_password", "second passphrase 22"),
            ("new_password", "third passphrase 333"),
            ("confirm_password", "third passphrase 333"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_dead(
        &app,
        &by_page,
        "/account/reset",
        &RESET_FIELDS,
        "after a page change",
    )
    .await;

    // An admin's temporary password.
    assert_eq!(send_reset().await.status(), StatusCode::SEE_OTHER);
    let by_admin = next_link(&app, &sink, to, reset_path, &mut known).await;
    let set = admin_post(
        &app,
        &admin,
        owner.account_id,
        "password",
        &[("temporary_password", "temporary pass 2026")],
    )
    .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert_dead(
        &app,
        &by_admin,
        "/account/reset",
        &RESET_FIELDS,
        "after an admin's",
    )
    .await;

    // The temporary password replaced at the next sign-in.
    assert_eq!(send_reset().await.status(), StatusCode::SEE_OTHER);
    let by_replacement = next_link(&app, &sink, to, reset_path, &mut known).await;
    let fresh = browser();
    let page = submit_login(&app, &fresh, "/login", "owner", "temporary pass 2026").await;
    assert_eq!(page.status(), StatusCode::OK, "the change-password page");
    let csrf = form_value(&page.text().await.expect("html"), "csrf_token").expect("csrf");
    let replaced = fresh
        .post(app.url("/login/password"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("new_password", "fourth passphrase 4444"),
            ("confirm_password", "fourth passphrase 4444"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(replaced.status(), StatusCode::SEE_OTHER);
    assert_dead(
        &app,
        &by_replacement,
        "/account/reset",
        &RESET_FIELDS,
        "after the temporary one was replaced",
    )
    .await;

    // None of them set a password: the last one chosen is the one that works.
    signed_in(&app, "owner", "fourth passphrase 4444").await;
    // A reset asked for after the change works as before.
    assert_eq!(send_reset().await.status(), StatusCode::SEE_OTHER);
    let after = next_link(&app, &sink, to, reset_path, &mut known).await;
    assert_eq!(page_status(&app, &after).await, StatusCode::OK);
}

async fn an_invitation_never_replaces_a_password_set_another_way(app: TestApp, sink: SmtpSink) {
    make_admin(&app, "registrar").await;
    let admin = signed_in(&app, "registrar", PASSWORD).await;
    let script = script_client(&app).await;
    let token = password_token(&app, &script, "registrar").await;
    let student = imported(&app, "newcomer", None).await;
    let invite_path = format!("/api/v1/users/{}/invite", student.account_id);
    let (status, body) = call(&app, Method::POST, &invite_path, Some(&token), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mut known = Vec::new();
    let to = "newcomer@home.example";
    let invitation = next_link(&app, &sink, to, "/account/welcome?token=", &mut known).await;
    assert_eq!(page_status(&app, &invitation).await, StatusCode::OK);

    // The student phoned the help desk instead, and got a temporary password.
    let set = admin_post(
        &app,
        &admin,
        student.account_id,
        "password",
        &[("temporary_password", "temporary pass 2026")],
    )
    .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let hash_of = || async {
        app.store()
            .find_account(student.account_id)
            .await
            .expect("find")
            .expect("account")
            .password_hash
            .expect("a password")
    };
    let admins_hash = hash_of().await;

    // At spend: the invitation sent before is dead.
    assert_dead(
        &app,
        &invitation,
        "/account/welcome",
        &RESET_FIELDS,
        "an invitation after an admin's password",
    )
    .await;
    // At send: the API, the admin page and the bulk invitation all refuse or skip it.
    let (status, _) = call(&app, Method::POST, &invite_path, Some(&token), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let r = admin_post(
        &app,
        &admin,
        student.account_id,
        "send",
        &[("what", "invitation")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let current = app
        .store()
        .find_account(student.account_id)
        .await
        .expect("find")
        .expect("account");
    let invited = hccc_sso::accounts::self_service::invite(
        &app.state,
        vec![current],
        &hccc_sso::accounts::directory::Actor::Cli,
        None,
        json!("one"),
    )
    .await
    .expect("invite");
    assert_eq!(invited, 0, "skipped: it has a password");
    assert_eq!(
        app.store()
            .count_links_of_purpose("invitation")
            .await
            .expect("count"),
        1,
        "no new invitation was made"
    );

    // At spend, even for an invitation that exists anyway (made before the password, by a path
    // that did not check): its page and its form refuse it.
    let secret = hccc_sso::crypto::random_token();
    let now = app.clock.now();
    let stray = NewLink {
        token_hash: hccc_sso::crypto::sha256(secret.as_bytes()),
        purpose: LinkPurpose::Invitation,
        account_id: student.account_id,
        detail: Some(to.to_owned()),
        expires_at: now + 3600,
    };
    app.store()
        .issue_links(&[stray], &[], now)
        .await
        .expect("issue");
    let stray_link = app.url(&format!("/account/welcome?token={secret}"));
    assert_dead(
        &app,
        &stray_link,
        "/account/welcome",
        &RESET_FIELDS,
        "a stray invitation",
    )
    .await;
    // And the store writes an invitation's password only where there is none, so one set at the
    // same moment is never replaced.
    let written = app
        .store()
        .set_first_password(student.account_id, "not a hash", app.clock.now())
        .await
        .expect("store");
    assert!(written.is_none(), "the admin's password stays");
    assert_eq!(hash_of().await, admins_hash, "the admin's password stays");
    let fresh = browser();
    let page = submit_login(&app, &fresh, "/login", "newcomer", "temporary pass 2026").await;
    assert_eq!(page.status(), StatusCode::OK, "the admin's password works");
    // An account without a password still gets its first one from an invitation.
    let other = imported(&app, "stillnew", None).await;
    let written = app
        .store()
        .set_first_password(other.account_id, "a hash", app.clock.now())
        .await
        .expect("store");
    assert!(written.is_some());
}

async fn a_link_refused_while_disabled_stays_dead_after_re_enabling(app: TestApp, sink: SmtpSink) {
    let user = app.create_user("paused").await;
    make_admin(&app, "registrar").await;
    let admin = signed_in(&app, "registrar", PASSWORD).await;
    let owner = signed_in(&app, "paused", PASSWORD).await;
    let mut known = Vec::new();
    start_change(&app, &owner, "paused@new.example", PASSWORD).await;
    let change = next_link(
        &app,
        &sink,
        "paused@new.example",
        "/account/confirm?token=",
        &mut known,
    )
    .await;
    let r = admin_post(&app, &admin, user.account_id, "send", &[("what", "reset")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = "paused@students.hccc.edu";
    let reset = next_link(&app, &sink, to, "/account/reset?token=", &mut known).await;
    assert_eq!(page_status(&app, &reset).await, StatusCode::OK);
    assert_eq!(page_status(&app, &change).await, StatusCode::OK);

    // Disabled on the admin page: refused.
    let r = admin_post(
        &app,
        &admin,
        user.account_id,
        "status",
        &[("status", "disabled")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(page_status(&app, &reset).await, StatusCode::BAD_REQUEST);
    assert_eq!(page_status(&app, &change).await, StatusCode::BAD_REQUEST);

    // Enabled again through the API: still refused, the address is the old one.
    let script = script_client(&app).await;
    let token = password_token(&app, &script, "registrar").await;
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/users/{}", user.account_id),
        Some(&token),
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["disabled"], false);
    assert_dead(&app, &reset, "/account/reset", &RESET_FIELDS, "re-enabled").await;
    assert_dead(&app, &change, "/account/confirm", &[], "re-enabled").await;
    assert_eq!(email_of(&app, "paused").await, to);
    signed_in(&app, "paused", PASSWORD).await;

    // Links sent after re-enabling work.
    let r = admin_post(&app, &admin, user.account_id, "send", &[("what", "reset")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let fresh = next_link(&app, &sink, to, "/account/reset?token=", &mut known).await;
    assert_eq!(page_status(&app, &fresh).await, StatusCode::OK);
}

async fn an_address_change_started_by_an_intruder_dies_with_the_reset(
    app: TestApp,
    sink: SmtpSink,
) {
    app.create_user("victim").await;
    let old = "victim@students.hccc.edu";
    let intruder = signed_in(&app, "victim", PASSWORD).await;
    start_change(&app, &intruder, "victim@evil.example", PASSWORD).await;
    let mut known = Vec::new();
    let change = next_link(
        &app,
        &sink,
        "victim@evil.example",
        "/account/confirm?token=",
        &mut known,
    )
    .await;
    // The owner is told (the notice to the old address) and resets the password.
    message_to(&sink, old, |m| m.text.contains("victim@evil.example")).await;
    let owner = browser();
    let r = post_form(
        &app,
        &owner,
        &app.url("/account/forgot"),
        "/account/forgot",
        &[("login", "victim")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let reset = next_link(&app, &sink, old, "/account/reset?token=", &mut known).await;
    let done = post_form(
        &app,
        &owner,
        &on_app(&app, &reset),
        "/account/reset",
        &RESET_FIELDS,
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER, "the owner's reset");

    // The intruder's confirmation no longer moves the account.
    assert_dead(&app, &change, "/account/confirm", &[], "after the reset").await;
    assert_eq!(email_of(&app, "victim").await, old);
    let page = owner
        .get(app.url("/account"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        !page.contains("victim@evil.example"),
        "no change is waiting any more"
    );
    let intruders = intruder
        .get(app.url("/account"))
        .send()
        .await
        .expect("page");
    assert_eq!(
        intruders.status(),
        StatusCode::SEE_OTHER,
        "the intruder's session ended"
    );
}

async fn a_waiting_address_change_is_cancelled_from_the_account_page(app: TestApp, sink: SmtpSink) {
    app.create_user("changer").await;
    let b = signed_in(&app, "changer", PASSWORD).await;
    start_change(&app, &b, "changer@new.example", PASSWORD).await;
    let mut known = Vec::new();
    let change = next_link(
        &app,
        &sink,
        "changer@new.example",
        "/account/confirm?token=",
        &mut known,
    )
    .await;
    let account_page = |client: reqwest::Client, path: &'static str| {
        let url = app.url(path);
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html")
        }
    };
    let page = account_page(b.clone(), "/account").await;
    assert!(page.contains("changer@new.example"), "the change waits");
    assert!(
        page.contains("action=\"/account/email/cancel\""),
        "with a cancel"
    );
    assert!(page.contains("Cancel this change"));

    // Refused without this browser's CSRF token, or without a session: the change still waits.
    let forged = b
        .post(app.url("/account/email/cancel"))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .expect("post");
    assert!(forged.status().is_client_error(), "{}", forged.status());
    let anonymous = browser();
    let r = post_form(
        &app,
        &anonymous,
        &app.url("/account/forgot"),
        "/account/email/cancel",
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    assert_eq!(page_status(&app, &change).await, StatusCode::OK);
    assert!(
        !audit_actions(&app)
            .await
            .iter()
            .any(|a| a == "user.cancel_email_change")
    );

    // The cancel.
    let r = post_form(&app, &b, &app.url("/account"), "/account/email/cancel", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account?done=email_cancelled");
    let page = account_page(b.clone(), "/account?done=email_cancelled").await;
    assert!(
        page.contains("The change of address is cancelled"),
        "{page}"
    );
    assert!(!page.contains("changer@new.example"), "no change waits");
    assert!(!page.contains("action=\"/account/email/cancel\""));
    assert_dead(&app, &change, "/account/confirm", &[], "cancelled").await;
    assert_eq!(email_of(&app, "changer").await, "changer@students.hccc.edu");
    let cancelled = |actions: Vec<String>| {
        actions
            .iter()
            .filter(|a| *a == "user.cancel_email_change")
            .count()
    };
    assert_eq!(cancelled(audit_actions(&app).await), 1);
    // Again, with nothing waiting: nothing happens, nothing more is audited.
    let r = post_form(&app, &b, &app.url("/account"), "/account/email/cancel", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(cancelled(audit_actions(&app).await), 1);

    // In Spanish.
    let es = spanish_browser();
    let r = submit_login(&app, &es, "/login", "changer", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    start_change(&app, &es, "changer@otra.example", PASSWORD).await;
    let page = account_page(es.clone(), "/account").await;
    assert!(page.contains("Cancelar este cambio"), "{page}");
    let r = post_form(
        &app,
        &es,
        &app.url("/account"),
        "/account/email/cancel",
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = account_page(es, "/account?done=email_cancelled").await;
    assert!(page.contains("Se canceló el cambio de dirección"), "{page}");
}

async fn the_old_address_is_told_when_a_change_completes(app: TestApp, sink: SmtpSink) {
    // One account in English, one in Spanish (its own language, whatever the page's).
    let english = app.create_user("leaving").await;
    let before = app.create_user("saliendo").await;
    let mut spanish = before.clone();
    spanish.locale = Some("es".into());
    app.store()
        .update_account(&before, &spanish, app.clock.now())
        .await
        .expect("locale");
    let mut known = Vec::new();
    for (account, new, subject) in [
        (&english, "leaving@new.example", "account was changed"),
        (&spanish, "saliendo@nueva.example", "cambió"),
    ] {
        let b = signed_in(&app, &account.username, PASSWORD).await;
        start_change(&app, &b, new, PASSWORD).await;
        let link = next_link(&app, &sink, new, "/account/confirm?token=", &mut known).await;
        let other = browser();
        let done = post_form(&app, &other, &on_app(&app, &link), "/account/confirm", &[]).await;
        assert_eq!(done.status(), StatusCode::OK);
        assert_eq!(email_of(&app, &account.username).await, new);
        let notice = message_to(&sink, &account.email, |m| m.subject.contains(subject)).await;
        assert!(
            notice.text.contains(new),
            "names the new address: {}",
            notice.text
        );
        assert!(
            notice.link(&app.url("/account/")).is_none(),
            "the notice carries no link"
        );
        let lang = account.locale.as_deref().unwrap_or("en");
        assert_eq!(notice.content_language.as_deref(), Some(lang));
        // Only the old address is told: the new one got its confirmation, nothing more.
        let to_new: Vec<Delivered> = sink
            .messages()
            .into_iter()
            .filter(|m| m.to.contains(new))
            .collect();
        assert_eq!(to_new.len(), 1, "{to_new:?}");
    }
}

async fn an_address_change_asks_for_the_password_right_after_sign_in(
    app: TestApp,
    _sink: SmtpSink,
) {
    app.create_user("hasty").await;
    let b = signed_in(&app, "hasty", PASSWORD).await;
    let changes = || async {
        app.store()
            .count_links_of_purpose("email_change")
            .await
            .expect("count")
    };
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let b = b.clone();
        let app = &app;
        async move { post_form(app, &b, &app.url("/account"), "/account/email", &fields).await }
    };
    // Seconds after signing in, without the password: the form again, nothing sent.
    for fields in [
        vec![("email", "hasty@new.example")],
        vec![("email", "hasty@new.example"), ("current_password", "")],
    ] {
        let r = post(fields.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let html = r.text().await.expect("html");
        assert!(html.contains("action=\"/account/email\""), "the form again");
        assert!(html.contains("id=\"current_password-error\""));
        assert!(html.contains("Type your current password."));
    }
    // Both problems at once.
    let r = post(vec![("email", "not-an-address")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("html");
    assert!(html.contains("id=\"email-error\"") && html.contains("id=\"current_password-error\""));
    // A wrong password.
    let r = post(vec![
        ("email", "hasty@new.example"),
        ("current_password", "not my password"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .expect("html")
            .contains("The current password is incorrect.")
    );
    assert_eq!(changes().await, 0, "nothing was sent");
    // In Spanish too.
    let es = spanish_browser();
    assert_eq!(
        submit_login(&app, &es, "/login", "hasty", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let r = post_form(
        &app,
        &es,
        &app.url("/account"),
        "/account/email",
        &[("email", "hasty@new.example")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .expect("html")
            .contains("Escriba su contraseña actual.")
    );
    // With it.
    let r = post(vec![
        ("email", "hasty@new.example"),
        ("current_password", PASSWORD),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(changes().await, 1);

    // The API, with a token just issued: 422 problem+json naming the field, 403 when wrong.
    let script = script_client(&app).await;
    let token = password_token(&app, &script, "hasty").await;
    for body in [
        json!({"email": "hasty@api.example"}),
        json!({"email": "hasty@api.example", "current_password": ""}),
    ] {
        let (status, problem) = call(
            &app,
            Method::POST,
            "/api/v1/users/me/email",
            Some(&token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(
            problem["errors"][0]["field"], "current_password",
            "{problem}"
        );
    }
    let (status, problem) = call(
        &app,
        Method::POST,
        "/api/v1/users/me/email",
        Some(&token),
        Some(json!({"email": "hasty@api.example", "current_password": "not my password"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(changes().await, 1, "nothing more was sent");
    let (status, problem) = call(
        &app,
        Method::POST,
        "/api/v1/users/me/email",
        Some(&token),
        Some(json!({"email": "hasty@api.example", "current_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{problem}");
    assert_eq!(changes().await, 2);
}

/// These tests send one account more mail in an hour than the mail limit allows (an admin's
/// fourth reset link); the limit itself is tested in throttles.rs.
fn more_mail(config: &mut hccc_sso::config::Config) {
    config.mail.requests_per_account = 100;
}

/// A mail sink and an app that mails through it, with `more_mail`.
async fn app_and_sink(backend: Backend) -> Option<(TestApp, SmtpSink)> {
    let sink = SmtpSink::start().await;
    let app = crate::self_service::app_with_mail(backend, &sink, more_mail).await?;
    Some((app, sink))
}

crate::harness::on_both_backends!(start app_and_sink => (app, sink);
    a_reset_link_ends_when_the_password_changes_by_any_path,
    an_invitation_never_replaces_a_password_set_another_way,
    a_link_refused_while_disabled_stays_dead_after_re_enabling,
    an_address_change_started_by_an_intruder_dies_with_the_reset,
    a_waiting_address_change_is_cancelled_from_the_account_page,
    the_old_address_is_told_when_a_change_completes,
    an_address_change_asks_for_the_password_right_after_sign_in,
);
