//! Device Authorization Grant (RFC 8628) and the QR sign-in for shared computers.

use hccc_sso::clients::{self, ClientChange};
use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{form_value, location, submit_login, userinfo_status};
use crate::harness::{PASSWORD, TestApp, browser, on_both_backends, reqwest};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub(crate) async fn device_client(app: &TestApp) -> String {
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

pub(crate) async fn start(app: &TestApp, client_id: &str) -> Value {
    let response = crate::harness::http()
        .post(app.url("/device_authorization"))
        .form(&[("client_id", client_id), ("scope", "openid profile")])
        .send()
        .await
        .expect("device authorization");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

pub(crate) async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> (StatusCode, Value) {
    let response = crate::harness::http()
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

pub(crate) fn error(body: &(StatusCode, Value)) -> &str {
    body.1["error"].as_str().unwrap_or("<none>")
}

/// A person on their phone opens the verification link, signs in, and answers.
pub(crate) async fn answer_on_phone(
    app: &TestApp,
    link: &str,
    username: &str,
    decision: &str,
) -> String {
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
    let response = crate::harness::http()
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
);
