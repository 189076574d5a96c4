//! Device Authorization Grant (RFC 8628) and the QR sign-in for shared computers.

use hccc_sso::clients::{self, ClientChange};
use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{form_value, location, query_of, submit_login, userinfo_status};
use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends, reqwest};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device_client(app: &TestApp) -> String {
    let change = ClientChange {
        name: Some("Library kiosk".into()),
        grant_types: Some(vec![DEVICE_GRANT.into(), "refresh_token".into()]),
        token_endpoint_auth_method: Some("none".into()),
        ..ClientChange::default()
    };
    let (client, _) = clients::register(
        app.store(),
        &change,
        &app.state.key_encryption,
        app.clock.now(),
    )
    .await
    .expect("register");
    client.client_id.to_string()
}

async fn start(app: &TestApp, client_id: &str) -> Value {
    let response = reqwest::Client::new()
        .post(app.url("/device_authorization"))
        .form(&[("client_id", client_id), ("scope", "openid profile")])
        .send()
        .await
        .expect("device authorization");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/token"))
        .form(&[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ])
        .send()
        .await
        .expect("token");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error(body: &(StatusCode, Value)) -> &str {
    body.1["error"].as_str().unwrap_or("<none>")
}

/// A person on their phone opens the verification link, signs in, and answers.
async fn answer_on_phone(app: &TestApp, link: &str, username: &str, decision: &str) -> String {
    let phone = browser();
    let response = phone.get(link).send().await.expect("device page");
    let login = location(&response);
    assert!(
        login.starts_with("/login?return_to="),
        "must sign in on the phone first: {login}"
    );
    let response = submit_login(app, &phone, &login, username, PASSWORD).await;
    let back = location(&response);
    assert!(
        back.starts_with("/device?user_code="),
        "returns to the device page: {back}"
    );
    let page = phone
        .get(app.url(&back))
        .send()
        .await
        .expect("confirm page")
        .text()
        .await
        .expect("html");
    let form = [
        ("csrf_token", form_value(&page, "csrf_token").expect("csrf")),
        ("user_code", form_value(&page, "user_code").expect("code")),
        ("decision", decision.to_owned()),
    ];
    let done = phone
        .post(app.url("/device"))
        .form(&form)
        .send()
        .await
        .expect("answer");
    assert_eq!(done.status(), StatusCode::OK);
    page + &done.text().await.expect("html")
}

async fn device_flow_issues_tokens_after_the_user_approves(app: TestApp) {
    app.create_user("kioskuser").await;
    let client_id = device_client(&app).await;
    let started = start(&app, &client_id).await;
    let user_code = started["user_code"].as_str().expect("user_code");
    assert!(
        user_code.len() == 9 && user_code.as_bytes()[4] == b'-',
        "{user_code}"
    );
    assert_eq!(started["verification_uri"], app.url("/device"));
    assert_eq!(started["interval"], 5);
    assert_eq!(started["expires_in"], 600);
    let device_code = started["device_code"].as_str().expect("device_code");

    assert_eq!(
        error(&poll(&app, &client_id, device_code).await),
        "authorization_pending"
    );
    assert_eq!(
        error(&poll(&app, &client_id, device_code).await),
        "slow_down",
        "polled again at once"
    );

    let pages = answer_on_phone(
        &app,
        started["verification_uri_complete"]
            .as_str()
            .expect("complete"),
        "kioskuser",
        "allow",
    )
    .await;
    assert!(
        pages.contains("Library kiosk") && pages.contains(user_code),
        "the phone shows who asks and the code"
    );
    assert!(pages.contains("signed in on the other device"));

    app.clock.advance(11); // slow_down raised the interval to 10 s
    let (status, tokens) = poll(&app, &client_id, device_code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    assert_eq!(
        userinfo_status(&app, tokens["access_token"].as_str().expect("at")).await,
        StatusCode::OK
    );
    app.clock.advance(11);
    assert_eq!(
        error(&poll(&app, &client_id, device_code).await),
        "invalid_grant",
        "an approval is used once"
    );
}

async fn device_flow_reports_denial_expiry_and_misuse(app: TestApp) {
    app.create_user("kioskuser").await;
    let client_id = device_client(&app).await;
    let denied = start(&app, &client_id).await;
    answer_on_phone(
        &app,
        denied["verification_uri_complete"].as_str().expect("uri"),
        "kioskuser",
        "deny",
    )
    .await;
    assert_eq!(
        error(
            &poll(
                &app,
                &client_id,
                denied["device_code"].as_str().expect("code")
            )
            .await
        ),
        "access_denied"
    );

    let expiring = start(&app, &client_id).await;
    let other = device_client(&app).await;
    let code = expiring["device_code"].as_str().expect("code");
    assert_eq!(
        error(&poll(&app, &other, code).await),
        "invalid_grant",
        "another client's device code"
    );
    app.clock.advance(601);
    assert_eq!(error(&poll(&app, &client_id, code).await), "expired_token");
    assert_eq!(
        error(&poll(&app, &client_id, "made-up").await),
        "invalid_grant"
    );

    let web_app = app.create_client(true, false).await;
    let response = reqwest::Client::new()
        .post(app.url("/device_authorization"))
        .form(&[("client_id", web_app.client_id.as_str())])
        .send()
        .await
        .expect("device authorization");
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "a client without the device grant"
    );

    // A wrong code on the phone is an error page, and nothing is approved.
    let phone = browser();
    let response = phone.get(app.url("/device")).send().await.expect("device");
    let response = submit_login(&app, &phone, &location(&response), "kioskuser", PASSWORD).await;
    assert_eq!(location(&response), "/device");
    let page = phone
        .get(app.url("/device?user_code=BBBB-BBBB"))
        .send()
        .await
        .expect("device");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("not valid or has expired")
    );
}

async fn qr_sign_in_signs_the_shared_computer_in_when_the_phone_approves(app: TestApp) {
    app.create_user("labstudent").await;
    let client = app.create_client(false, true).await;
    let lab = browser();
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
}

async fn return_to_after_sign_in_only_goes_to_local_paths(app: TestApp) {
    app.create_user("wanderer").await;
    for (target, expected) in [
        ("/device?user_code=BCDF-GHJK", "/device?user_code=BCDF-GHJK"),
        ("//evil.example/steal", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ] {
        let b = browser();
        let encoded: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let response = submit_login(
            &app,
            &b,
            &format!("/login?return_to={encoded}"),
            "wanderer",
            PASSWORD,
        )
        .await;
        assert_eq!(location(&response), expected, "return_to={target}");
    }
}

on_both_backends!(
    return_to_after_sign_in_only_goes_to_local_paths,
    device_flow_issues_tokens_after_the_user_approves,
    device_flow_reports_denial_expiry_and_misuse,
    qr_sign_in_signs_the_shared_computer_in_when_the_phone_approves,
);
