//! Pushed Authorization Requests (RFC 9126) and the per-client requirement to use them.

use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{Pkce, exchange_code, location, pkce, query_of, submit_login};
use crate::harness::{
    PASSWORD, REDIRECT_URI, TestApp, TestClient, browser, on_both_backends, reqwest,
};

async fn push(
    app: &TestApp,
    client: &TestClient,
    p: &Pkce,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile"),
        ("state", "pushed-state"),
        ("code_challenge", p.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    form.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    form.extend_from_slice(extra);
    let mut request = crate::harness::http().post(app.url("/par")).form(&form);
    if let Some(secret) = &client.secret {
        request = request.basic_auth(&client.client_id, Some(secret));
    }
    let response = request.send().await.expect("par");
    let status = response.status();
    if status == StatusCode::CREATED {
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

fn authorize_with(app: &TestApp, client: &TestClient, request_uri: &str) -> String {
    let mut url = url::Url::parse(&app.url("/authorize")).expect("url");
    url.query_pairs_mut()
        .append_pair("client_id", &client.client_id)
        .append_pair("request_uri", request_uri);
    url.to_string()
}

async fn a_pushed_request_signs_in_through_a_single_use_request_uri(app: TestApp) {
    app.create_user("pusher").await;
    let client = app.create_client(false, true).await;
    let p = pkce();
    let (status, pushed) = push(&app, &client, &p, &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{pushed}");
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(pushed["expires_in"], 90);

    let b = browser();
    let response = b
        .get(authorize_with(&app, &client, request_uri))
        .send()
        .await
        .expect("authorize");
    let response = submit_login(&app, &b, &location(&response), "pusher", PASSWORD).await;
    let got = query_of(&location(&response));
    assert_eq!(
        got.get("state").map(String::as_str),
        Some("pushed-state"),
        "parameters came from the pushed request"
    );
    let (status, _) = exchange_code(&app, &client, &got["code"], &p.verifier).await;
    assert_eq!(status, StatusCode::OK);

    let again = b
        .get(authorize_with(&app, &client, request_uri))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "a request_uri works once"
    );
    assert!(again.headers().get("location").is_none());

    let (_, late) = push(&app, &client, &p, &[]).await;
    app.clock.advance(91);
    let expired = b
        .get(authorize_with(
            &app,
            &client,
            late["request_uri"].as_str().expect("uri"),
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        expired.status(),
        StatusCode::BAD_REQUEST,
        "pushed requests expire"
    );

    let (_, theirs) = push(&app, &client, &p, &[]).await;
    let other = app.create_client(false, true).await;
    let stolen = b
        .get(authorize_with(
            &app,
            &other,
            theirs["request_uri"].as_str().expect("uri"),
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        stolen.status(),
        StatusCode::BAD_REQUEST,
        "a request_uri belongs to the client that pushed it"
    );
}

async fn bad_pushed_requests_are_refused_at_the_par_endpoint(app: TestApp) {
    let client = app.create_client(false, true).await;
    let p = pkce();
    type Case<'a> = (Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("redirect_uri", "https://evil.example/cb")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("response_type", "token")],
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
        ),
        (
            vec![("scope", "profile")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            vec![("request_uri", "urn:ietf:params:oauth:request_uri:x")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (extra, status, code) in cases {
        let (got, body) = push(&app, &client, &p, &extra).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{extra:?}"
        );
    }
    let anonymous = TestClient {
        client_id: client.client_id.clone(),
        secret: Some("wrong".into()),
    };
    let (status, body) = push(&app, &anonymous, &p, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
}

async fn a_client_that_requires_par_cannot_use_plain_authorization_requests(app: TestApp) {
    app.create_user("strict").await;
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |row| {
        row.settings.require_par = true;
    })
    .await;

    let p = pkce();
    let b = browser();
    let plain = b
        .get(crate::flows::authorize_url(&app, &client, &p, &[]))
        .send()
        .await
        .expect("authorize");
    let got = query_of(&location(&plain));
    assert_eq!(
        got.get("error").map(String::as_str),
        Some("invalid_request")
    );
    assert!(got["error_description"].contains("pushed"));

    let (_, pushed) = push(&app, &client, &p, &[]).await;
    let response = b
        .get(authorize_with(
            &app,
            &client,
            pushed["request_uri"].as_str().expect("uri"),
        ))
        .send()
        .await
        .expect("authorize");
    let response = submit_login(&app, &b, &location(&response), "strict", PASSWORD).await;
    assert!(query_of(&location(&response)).contains_key("code"));
}

on_both_backends!(
    a_pushed_request_signs_in_through_a_single_use_request_uri,
    bad_pushed_requests_are_refused_at_the_par_endpoint,
    a_client_that_requires_par_cannot_use_plain_authorization_requests,
);
