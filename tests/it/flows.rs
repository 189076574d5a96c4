//! Steps of a sign-in as a browser and a relying party perform them, over real HTTP.

use std::collections::HashMap;

use hccc_sso::crypto;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;

use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, TestClient, reqwest};

/// The value of the input named `name` in an HTML page, wherever `value` stands in its tag.
pub fn form_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let start = tag.find("value=\"")? + "value=\"".len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&#x2f;", "/")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location header (status {})", response.status()))
        .to_owned()
}

/// Query parameters of a URL (absolute or a path).
pub fn query_of(url: &str) -> HashMap<String, String> {
    let parsed = url::Url::parse(url)
        .or_else(|_| url::Url::parse(&format!("http://x{url}")))
        .expect("url");
    parsed.query_pairs().into_owned().collect()
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = crypto::random_token();
    let challenge = crypto::b64url(&crypto::sha256(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

/// An authorization URL with PKCE, state and nonce, plus any `extra` parameters.
pub fn authorize_url(
    app: &TestApp,
    client: &TestClient,
    pkce: &Pkce,
    extra: &[(&str, &str)],
) -> String {
    let mut url = url::Url::parse(&app.url("/authorize")).expect("url");
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &client.client_id)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", "openid profile email")
            .append_pair("state", "st-123")
            .append_pair("nonce", "n-456")
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}

/// Fetches the login page at `login_path` and submits it; returns the response to the POST.
pub async fn submit_login(
    app: &TestApp,
    browser: &reqwest::Client,
    login_path: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let page = browser
        .get(app.url(login_path))
        .send()
        .await
        .expect("login page");
    assert_eq!(page.status(), StatusCode::OK, "login page status");
    let html = page.text().await.expect("html");
    let csrf = form_value(&html, "csrf_token").expect("csrf token on login page");
    let mut form = vec![
        ("csrf_token", csrf),
        ("username", username.to_owned()),
        ("password", password.to_owned()),
    ];
    // Like a browser, send the form's hidden fields back.
    for hidden in ["request", "return_to"] {
        if let Some(value) = form_value(&html, hidden) {
            form.push((hidden, value));
        }
    }
    browser
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .expect("post login")
}

/// Submits the consent page at `consent_path` with `decision` (allow or deny).
pub async fn submit_consent(
    app: &TestApp,
    browser: &reqwest::Client,
    consent_path: &str,
    decision: &str,
) -> reqwest::Response {
    let page = browser
        .get(app.url(consent_path))
        .send()
        .await
        .expect("consent page");
    assert_eq!(page.status(), StatusCode::OK, "consent page status");
    let html = page.text().await.expect("html");
    let form = [
        ("csrf_token", form_value(&html, "csrf_token").expect("csrf")),
        ("request", form_value(&html, "request").expect("request id")),
        ("decision", decision.to_owned()),
    ];
    browser
        .post(app.url("/consent"))
        .form(&form)
        .send()
        .await
        .expect("post consent")
}

/// Follows an authorization request through sign-in and (if shown) consent to the client's
/// redirect; returns the parameters the client receives.
pub async fn sign_in_for_code(
    app: &TestApp,
    browser: &reqwest::Client,
    url: &str,
    username: &str,
) -> HashMap<String, String> {
    let response = browser.get(url).send().await.expect("authorize");
    let mut next = location(&response);
    if next.starts_with("/login") {
        let response = submit_login(app, browser, &next, username, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "login should redirect"
        );
        next = location(&response);
    }
    if next.starts_with("/consent") {
        let response = submit_consent(app, browser, &next, "allow").await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "consent should redirect"
        );
        next = location(&response);
    }
    assert!(
        next.starts_with(REDIRECT_URI),
        "expected the client's redirect URI, got {next}"
    );
    query_of(&next)
}

/// A raw token request with client_secret_basic (or none for public clients).
pub async fn token_request(
    app: &TestApp,
    client: &TestClient,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let http = crate::harness::http();
    let mut request = http.post(app.url("/token"));
    let mut form: Vec<(&str, &str)> = form.to_vec();
    match &client.secret {
        Some(secret) => request = request.basic_auth(&client.client_id, Some(secret)),
        None => form.push(("client_id", &client.client_id)),
    }
    let response = request.form(&form).send().await.expect("token request");
    let status = response.status();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// A request to one of the client-authenticated endpoints (PAR, revocation, introspection, device
/// authorization) with client_secret_basic.
pub async fn token_request_at(
    app: &TestApp,
    path: &str,
    client: &TestClient,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = crate::harness::http()
        .post(app.url(path))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(form)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn exchange_code(
    app: &TestApp,
    client: &TestClient,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    token_request(
        app,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub async fn userinfo_status(app: &TestApp, access_token: &str) -> StatusCode {
    crate::harness::http()
        .get(app.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .status()
}

/// Creates a user and client, signs in and exchanges the code: the common start of many tests.
pub async fn signed_in_tokens(app: &TestApp, username: &str) -> (TestClient, Value) {
    app.create_user(username).await;
    let client = app.create_client(false, false).await;
    let pkce = pkce();
    let browser = crate::harness::browser();
    let params = sign_in_for_code(
        app,
        &browser,
        &authorize_url(app, &client, &pkce, &[]),
        username,
    )
    .await;
    let (status, tokens) = exchange_code(app, &client, &params["code"], &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    (client, tokens)
}
