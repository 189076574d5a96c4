//! Throttles that hold under concurrency: an attempt is counted before its password or code is
//! evaluated, so a burst of parallel guesses evaluates at most the limit (the hasher counts every
//! password it verifies); a success gives its count back, so an address many people sign in
//! through never locks; and every request that sends mail is limited per account and per
//! address (per target account when an admin sends it).

use futures_util::future::join_all;
use hccc_sso::accounts::{factors, throttle};
use hccc_sso::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api::{call, make_admin, password_token, script_client};
use crate::flows::{form_value, location, submit_login};
use crate::harness::{Backend, PASSWORD, TestApp, browser};

const WRONG: &str = "not the password at all";
const PARALLEL: usize = 60;

/// Runs each named `async fn(Backend)` (which starts its own app) on SQLite and PostgreSQL.
async fn start(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    crate::harness::start_with(backend, adjust)
        .await
        .expect("app (TEST_DATABASE_URL was set when the tests were built)")
}

/// The sign-in form's CSRF token for a fresh browser: (browser, token).
async fn login_form(app: &TestApp) -> (reqwest::Client, String) {
    let b = browser();
    let html = b
        .get(app.url("/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    (b, csrf)
}

/// Sends every (username, password) at once, each from its own browser whose form was fetched
/// beforehand, so the posts really are in flight together. Returns the statuses in order.
async fn sign_in_together(app: &TestApp, attempts: &[(String, String)]) -> Vec<StatusCode> {
    let forms = join_all(attempts.iter().map(|_| login_form(app))).await;
    let posts = forms
        .iter()
        .zip(attempts)
        .map(|((b, csrf), (username, password))| {
            b.post(app.url("/login"))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", username.as_str()),
                    ("password", password.as_str()),
                ])
                .send()
        });
    join_all(posts)
        .await
        .into_iter()
        .map(|r| r.expect("post login").status())
        .collect()
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Sixty wrong passwords for one account at once: at most the per-account limit are verified,
/// every answer is a refusal, and the account is locked afterwards (the right password too).
async fn parallel_wrong_passwords_evaluate_at_most_the_account_limit(backend: Backend) {
    let app = start(backend, |_| {}).await;
    app.create_user("target").await;
    let limit = app.state.config.login.max_failures_per_account;
    let before = app.state.hasher.verifications();
    let attempts: Vec<(String, String)> = (0..PARALLEL)
        .map(|i| ("target".to_owned(), format!("{WRONG} {i}")))
        .collect();
    let statuses = sign_in_together(&app, &attempts).await;
    let verified = app.state.hasher.verifications() - before;
    assert!(
        verified <= limit as u64,
        "{verified} passwords verified for {PARALLEL} parallel guesses; the limit is {limit}"
    );
    let refused = count(&statuses, StatusCode::UNAUTHORIZED);
    let locked = count(&statuses, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused + locked, PARALLEL, "{statuses:?}");
    assert!(
        refused < limit as usize,
        "{refused} answers said the password was wrong: each was verified"
    );
    let right = submit_login(&app, &browser(), "/login", "target", PASSWORD).await;
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked, even with the right password"
    );
    assert_eq!(
        app.state.hasher.verifications() - before,
        verified,
        "and a locked account's password is not even verified"
    );
}

/// The right password sent while parallel wrong ones are in flight, once the limit's worth of
/// attempts is counted, is refused as locked without being verified.
async fn the_right_password_among_parallel_guesses_after_the_limit_is_refused(backend: Backend) {
    let app = start(backend, |_| {}).await;
    let account = app.create_user("target").await;
    let limit = app.state.config.login.max_failures_per_account;
    let before = app.state.hasher.verifications();
    let attempts: Vec<(String, String)> = (0..PARALLEL)
        .map(|i| ("target".to_owned(), format!("{WRONG} {i}")))
        .collect();
    let forms = join_all(attempts.iter().map(|_| login_form(&app))).await;
    let rights = join_all((0..5).map(|_| login_form(&app))).await;
    let wrong_ones = join_all(forms.iter().zip(&attempts).map(|((b, csrf), (u, p))| {
        b.post(app.url("/login"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("username", u.as_str()),
                ("password", p.as_str()),
            ])
            .send()
    }));
    let key = throttle::account_key(account.account_id);
    let store = app.store().clone();
    let now = app.clock.now();
    let right_ones = async {
        // Once the limit's worth of attempts is counted (or the account is locked), send the
        // right password five times while the wrong ones may still be in flight.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let row = store.find_throttle(&key).await.expect("db");
            if row.is_some_and(|r| r.failures >= limit || r.locked_until > now) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never counted");
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        join_all(rights.iter().map(|(b, csrf)| {
            b.post(app.url("/login"))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", "target"),
                    ("password", PASSWORD),
                ])
                .send()
        }))
        .await
    };
    let (wrong, right) = tokio::join!(wrong_ones, right_ones);
    for r in right {
        let r = r.expect("post");
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the right password after the limit"
        );
    }
    let statuses: Vec<StatusCode> = wrong
        .into_iter()
        .map(|r| r.expect("post").status())
        .collect();
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED)
            + count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        PARALLEL,
        "{statuses:?}"
    );
    let verified = app.state.hasher.verifications() - before;
    assert!(
        verified <= limit as u64,
        "{verified} verified; the limit is {limit}"
    );
    let still = submit_login(&app, &browser(), "/login", "target", PASSWORD).await;
    assert_eq!(
        still.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "still locked"
    );
}

/// Parallel guesses at sixty different names (real accounts and names of none) from one
/// address: at most the per-address limit are verified, and the address is locked.
async fn parallel_guesses_across_names_evaluate_at_most_the_address_limit(backend: Backend) {
    let per_ip = 20;
    let app = start(backend, |c| c.login.max_failures_per_ip = per_ip).await;
    for i in 0..10 {
        app.create_user(&format!("student{i}")).await;
    }
    app.create_user("bystander").await;
    let before = app.state.hasher.verifications();
    let attempts: Vec<(String, String)> = (0..PARALLEL)
        .map(|i| (format!("student{i}"), WRONG.to_owned()))
        .collect();
    let statuses = sign_in_together(&app, &attempts).await;
    let verified = app.state.hasher.verifications() - before;
    assert!(
        verified <= per_ip as u64,
        "{verified} verified from one address; its limit is {per_ip}"
    );
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED)
            + count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        PARALLEL,
        "{statuses:?}"
    );
    let right = submit_login(&app, &browser(), "/login", "bystander", PASSWORD).await;
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the address is locked, whoever signs in from it"
    );
}

/// A campus signs everyone in through one NAT address: many successful sign-ins at once never
/// lock it; a success gives its count back exactly, so failures still count to the limit.
async fn successful_sign_ins_never_lock_their_address(backend: Backend) {
    let per_ip = 5;
    let app = start(backend, |c| c.login.max_failures_per_ip = per_ip).await;
    let students = 12;
    for i in 0..students {
        app.create_user(&format!("student{i}")).await;
    }
    // Failures up to one below the limit, by names of no account...
    for i in 0..per_ip - 2 {
        let r = submit_login(&app, &browser(), "/login", &format!("nobody{i}"), WRONG).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // ...then rounds of successes, two at a time (a turn per core on the test machine would be
    // more; two keep the count below the limit while they are being verified).
    for round in 0..(students / 2) {
        let attempts: Vec<(String, String)> = (0..2)
            .map(|j| (format!("student{}", round * 2 + j), PASSWORD.to_owned()))
            .collect();
        let statuses = sign_in_together(&app, &attempts).await;
        assert_eq!(
            statuses,
            vec![StatusCode::SEE_OTHER; 2],
            "round {round}: successes are never refused"
        );
    }
    for i in 0..students {
        let r = submit_login(&app, &browser(), "/login", &format!("student{i}"), PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "student{i} again");
    }
    let row = app
        .store()
        .find_throttle(&throttle::ip_key("127.0.0.1"))
        .await
        .expect("db")
        .expect("the address's failures are counted");
    assert_eq!(
        (row.failures, row.locked_until),
        (per_ip - 2, 0),
        "successes gave their counts back"
    );
    // One more failure is still not the limit; the one after it is.
    let r = submit_login(&app, &browser(), "/login", "nobody-x", WRONG).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = submit_login(&app, &browser(), "/login", "nobody-y", WRONG).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// The password grant checks the password like the sign-in form: parallel wrong guesses verify
/// at most the limit, and each answer is `invalid_grant` (never a token).
async fn the_password_grant_counts_before_it_verifies(backend: Backend) {
    let app = start(backend, |_| {}).await;
    app.create_user("scripted").await;
    let client = script_client(&app).await;
    let limit = app.state.config.login.max_failures_per_account;
    let before = app.state.hasher.verifications();
    // One connection per guess, opened beforehand, so the guesses arrive together.
    let clients: Vec<reqwest::Client> = (0..PARALLEL).map(|_| crate::harness::http()).collect();
    let discovery = app.url("/.well-known/openid-configuration");
    join_all(clients.iter().map(|c| c.get(&discovery).send())).await;
    let secret = client.secret.as_deref();
    let answers = join_all(clients.iter().enumerate().map(|(i, c)| {
        let password = format!("{WRONG} {i}");
        let request = c
            .post(app.url("/token"))
            .basic_auth(&client.client_id, secret)
            .form(&[
                ("grant_type", "password"),
                ("username", "scripted"),
                ("password", password.as_str()),
                ("scope", "openid"),
            ]);
        async move {
            let r = request.send().await.expect("token request");
            let status = r.status();
            (
                status,
                r.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    }))
    .await;
    let verified = app.state.hasher.verifications() - before;
    assert!(
        verified <= limit as u64,
        "{verified} verified; the limit is {limit}"
    );
    for (status, body) in &answers {
        assert!(
            body.get("access_token").is_none() && status.is_client_error(),
            "{status} {body}"
        );
    }
}

/// A TOTP code of `key` (raw bytes) at `at`, by Debian's `oathtool` (not our code).
fn totp_code(key: &[u8], at: i64) -> String {
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-N", &format!("@{at}"), &hex])
        .output()
        .expect("oathtool runs (Debian package oathtool)");
    assert!(out.status.success(), "oathtool: {out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Sixty wrong authenticator codes at once in the second step: at most the per-account limit
/// are evaluated (each answered "wrong"; the rest "too many"), and afterwards even the right
/// code is refused.
async fn parallel_wrong_totp_codes_evaluate_at_most_the_limit(backend: Backend) {
    let app = start(backend, |_| {}).await;
    let account = app.create_user("phoneowner").await;
    let now = app.clock.now();
    let key = hccc_sso::crypto::random_bytes::<20>();
    let sealed = factors::seal_key(&app.state, account.account_id, &key).expect("seal");
    app.store()
        .set_totp(account.account_id, &sealed, now / 30 - 2, now)
        .await
        .expect("enrol");
    let limit = app.state.config.login.max_failures_per_account;
    let b = browser();
    let r = submit_login(&app, &b, "/login", "phoneowner", PASSWORD).await;
    assert_eq!(location(&r), "/login/second-factor");
    let html = b
        .get(app.url("/login/second-factor"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let wrong: Vec<String> = (0..200)
        .map(|i| format!("{:06}", 123_000 + i))
        .filter(|c| factors::matching_step(&key, c, now).is_none())
        .take(PARALLEL)
        .collect();
    let statuses: Vec<StatusCode> = join_all(wrong.iter().map(|code| {
        b.post(app.url("/login/second-factor"))
            .form(&[("csrf_token", csrf.as_str()), ("code", code.as_str())])
            .send()
    }))
    .await
    .into_iter()
    .map(|r| r.expect("post").status())
    .collect();
    let said_wrong = count(&statuses, StatusCode::UNAUTHORIZED);
    assert_eq!(
        said_wrong + count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        PARALLEL,
        "{statuses:?}"
    );
    // The limit-th wrong code is evaluated and answered with the lockout: fewer "wrong" answers.
    assert!(
        said_wrong < limit as usize,
        "{said_wrong} codes were evaluated as wrong; the limit is {limit}"
    );
    let right = totp_code(&key, now);
    let r = b
        .post(app.url("/login/second-factor"))
        .form(&[("csrf_token", csrf.as_str()), ("code", right.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right code is refused while locked"
    );
}

crate::harness::on_both_backends!(backend;
    parallel_wrong_passwords_evaluate_at_most_the_account_limit,
    the_right_password_among_parallel_guesses_after_the_limit_is_refused,
    parallel_guesses_across_names_evaluate_at_most_the_address_limit,
    successful_sign_ins_never_lock_their_address,
    the_password_grant_counts_before_it_verifies,
    parallel_wrong_totp_codes_evaluate_at_most_the_limit,
    thirty_address_changes_send_only_the_limit,
    verification_mails_are_limited_per_account_and_per_address,
    an_admin_resending_to_one_account_is_limited_but_bulk_invitations_are_not,
);

/// A signed-in browser of `username` (password sign-in just now).
async fn signed_in(app: &TestApp, username: &str, language: &str) -> reqwest::Client {
    let b = crate::harness::client_builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(
                reqwest::header::ACCEPT_LANGUAGE,
                reqwest::header::HeaderValue::from_str(language).expect("header"),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .expect("client");
    let r = submit_login(app, &b, "/login", username, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{username} signs in");
    b
}

/// Posts the account page's form `action` with its CSRF token and `fields`.
async fn account_post(
    app: &TestApp,
    b: &reqwest::Client,
    action: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let html = b
        .get(app.url("/account"))
        .send()
        .await
        .expect("account page")
        .text()
        .await
        .expect("html");
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = b
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .expect("post");
    let status = r.status();
    (status, r.text().await.expect("body"))
}

async fn audited(app: &TestApp, action: &str) -> usize {
    crate::self_service::audit_actions(app)
        .await
        .iter()
        .filter(|a| *a == action)
        .count()
}

/// Thirty address changes to an outside address, from the account page and the API: only the
/// per-account limit's worth are sent; the rest get 429 in the person's language ("try again in
/// N minutes") or as problem+json.
async fn thirty_address_changes_send_only_the_limit(backend: Backend) {
    let app = start(backend, |c| c.mail.requests_per_ip = 1000).await;
    app.create_user("changer").await;
    let limit = app.state.config.mail.requests_per_account;
    let b = signed_in(&app, "changer", "es").await;
    let mut statuses = Vec::new();
    let mut last = String::new();
    for i in 0..30 {
        let to = format!("someone{i}@outside.example");
        let (status, html) = account_post(
            &app,
            &b,
            "/account/email",
            &[("email", to.as_str()), ("current_password", PASSWORD)],
        )
        .await;
        statuses.push(status);
        last = html;
    }
    assert_eq!(
        count(&statuses, StatusCode::SEE_OTHER),
        limit as usize,
        "{statuses:?}"
    );
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        30 - limit as usize,
        "{statuses:?}"
    );
    assert!(
        last.contains("inténtelo de nuevo en 60 minutos"),
        "in the person's language, with the wait: {last}"
    );
    assert_eq!(
        audited(&app, "user.request_email_change").await,
        limit as usize
    );
    assert_eq!(
        app.store()
            .count_links_of_purpose("email_change")
            .await
            .expect("db"),
        limit
    );
    // An hour later the person may ask again.
    app.clock.advance(throttle::MAIL_WINDOW + 1);
    let b = signed_in(&app, "changer", "en").await;
    let (status, _) = account_post(
        &app,
        &b,
        "/account/email",
        &[
            ("email", "later@outside.example"),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The API counts under the same limit, ten requests at once.
    app.create_user("scripter").await;
    let client = script_client(&app).await;
    let token = password_token(&app, &client, "scripter").await;
    let answers = join_all((0..10).map(|i| {
        let body =
            json!({"email": format!("api{i}@outside.example"), "current_password": PASSWORD});
        call(
            &app,
            Method::POST,
            "/api/v1/users/me/email",
            Some(&token),
            Some(body),
        )
    }))
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        count(&statuses, StatusCode::ACCEPTED),
        limit as usize,
        "{statuses:?}"
    );
    for (status, body) in &answers {
        if *status != StatusCode::ACCEPTED {
            assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("try again in 60 minutes"),
                "{body}"
            );
        }
    }
    // Bad input is refused as before, and spends nothing.
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/users/me/email",
        Some(&token),
        Some(json!({"email": "not an address", "current_password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// "Send the confirmation again" is limited per account, and the address's limit holds across
/// accounts.
async fn verification_mails_are_limited_per_account_and_per_address(backend: Backend) {
    let per_ip = 5;
    let app = start(backend, |c| c.mail.requests_per_ip = per_ip).await;
    let limit = app.state.config.mail.requests_per_account;
    let mut browsers = Vec::new();
    for i in 0..4 {
        let name = format!("unverified{i}");
        let before = app.create_user(&name).await;
        let mut after = before.clone();
        after.email_verified = false;
        app.store()
            .update_account(&before, &after, app.clock.now())
            .await
            .expect("unverify");
        browsers.push(signed_in(&app, &name, "en").await);
    }
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            account_post(&app, &browsers[0], "/account/email/verify", &[])
                .await
                .0,
        );
    }
    assert_eq!(
        count(&statuses, StatusCode::SEE_OTHER),
        limit as usize,
        "one account: {statuses:?}"
    );
    let (status, html) = account_post(&app, &browsers[0], "/account/email/verify", &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("try again in 60 minutes"), "{html}");
    // Every request from the address counted, refused ones too: the other accounts find the
    // address's hour used up.
    let (status, _) = account_post(&app, &browsers[1], "/account/email/verify", &[]).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "past the address's limit"
    );
    assert_eq!(
        audited(&app, "user.send_verification").await,
        limit as usize
    );
}

/// An admin sending a reset or an invitation to one account again and again is limited per
/// account (not per admin address); a bulk invitation of a thousand accounts from one admin
/// address is sent whole; the anonymous reset form cannot use up what an admin may send.
async fn an_admin_resending_to_one_account_is_limited_but_bulk_invitations_are_not(
    backend: Backend,
) {
    let app = start(backend, |c| c.mail.requests_per_ip = 2).await;
    let limit = app.state.config.mail.requests_per_account;
    make_admin(&app, "dean").await;
    let student = app.create_user("forgetful").await;
    // Strangers use up the reset form's limits for this account first.
    for _ in 0..3 {
        let b = browser();
        let html = b
            .get(app.url("/account/forgot"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let csrf = form_value(&html, "csrf_token").expect("csrf");
        b.post(app.url("/account/forgot"))
            .form(&[("csrf_token", csrf.as_str()), ("login", "forgetful")])
            .send()
            .await
            .expect("post");
    }
    let dean = signed_in(&app, "dean", "en").await;
    let user_page = format!("/admin/users/{}", student.account_id);
    let mut statuses = Vec::new();
    for _ in 0..(limit + 2) {
        let html = dean
            .get(app.url(&user_page))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let csrf = form_value(&html, "csrf_token").expect("csrf");
        let r = dean
            .post(app.url(&format!("{user_page}/send")))
            .form(&[("csrf_token", csrf.as_str()), ("what", "reset")])
            .send()
            .await
            .expect("post");
        statuses.push(r.status());
    }
    assert_eq!(
        count(&statuses, StatusCode::SEE_OTHER),
        limit as usize,
        "{statuses:?}"
    );
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        2,
        "{statuses:?}"
    );
    assert_eq!(audited(&app, "user.send_reset").await, limit as usize);

    // The API's invitation of one account, again and again.
    let client = script_client(&app).await;
    let token = password_token(&app, &client, "dean").await;
    let imported = app
        .store()
        .insert_account(
            hccc_sso::store::NewAccount {
                username: "newcomer".into(),
                email: "newcomer@students.hccc.edu".into(),
                email_verified: false,
                given_name: None,
                family_name: None,
                password_hash: None,
                roles: vec![],
                groups: vec![],
                must_change_password: false,
                locale: None,
                recovery_email: None,
            },
            app.clock.now(),
        )
        .await
        .expect("insert");
    let path = format!("/api/v1/users/{}/invite", imported.account_id);
    let mut statuses = Vec::new();
    for _ in 0..(limit + 2) {
        statuses.push(call(&app, Method::POST, &path, Some(&token), None).await.0);
    }
    assert_eq!(
        count(&statuses, StatusCode::ACCEPTED),
        limit as usize,
        "{statuses:?}"
    );
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        2,
        "{statuses:?}"
    );

    // A thousand imported accounts invited at once, from the same admin address.
    let many = 1000;
    for i in 0..many {
        app.store()
            .insert_account(
                hccc_sso::store::NewAccount {
                    username: format!("bulk{i:04}"),
                    email: format!("bulk{i:04}@students.hccc.edu"),
                    email_verified: false,
                    given_name: None,
                    family_name: None,
                    password_hash: None,
                    roles: vec!["student".into()],
                    groups: vec![],
                    must_change_password: false,
                    locale: None,
                    recovery_email: None,
                },
                app.clock.now(),
            )
            .await
            .expect("insert");
    }
    let html = dean
        .get(app.url("/admin/users"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let r = dean
        .post(app.url("/admin/users/invite"))
        .form(&[("csrf_token", csrf.as_str()), ("scope", "all")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let invited: usize = crate::flows::query_of(&app.url(&location(&r)))["count"]
        .parse()
        .expect("count");
    // The newcomer has had its hour's invitations; every bulk account gets one.
    assert_eq!(invited, many, "{}", location(&r));
}
