//! Black-box mirrors of the OpenID Foundation conformance suite's OP test modules: the Basic OP
//! plan (with its form_post and client_secret_post variants), Config OP, RP-Initiated Logout and
//! Back-Channel Logout. Each test is named after the module it mirrors (dashes become underscores).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{
    Pkce, exchange_code, form_value, location, pkce, query_of, submit_consent, submit_login,
    token_request,
};
use crate::harness::{
    PASSWORD, REDIRECT_URI, TestApp, TestClient, browser, on_both_backends, reqwest,
};
use crate::token::decode_segment;

const POST_LOGOUT: &str = "http://127.0.0.1:8765/post_logout_redirect";
const USER: &str = "certuser";

/// A relying party as the conformance suite plays it: one client, one browser.
struct Rp<'a> {
    app: &'a TestApp,
    client: TestClient,
    browser: reqwest::Client,
}

impl<'a> Rp<'a> {
    async fn new(app: &'a TestApp) -> Rp<'a> {
        app.create_user(USER).await;
        let client = app.create_client(false, false).await;
        app.edit_client(&client.client_id, |row| {
            row.post_logout_redirect_uris = vec![POST_LOGOUT.into()];
        })
        .await;
        Rp {
            app,
            client,
            browser: browser(),
        }
    }

    fn url(&self, p: &Pkce, params: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.app.url("/authorize")).expect("url");
        url.query_pairs_mut()
            .append_pair("client_id", &self.client.client_id)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("code_challenge", &p.challenge)
            .append_pair("code_challenge_method", "S256")
            .extend_pairs(params);
        url.to_string()
    }

    /// Sends the browser to /authorize and on through login and consent; returns what the client receives.
    async fn authorize(&self, p: &Pkce, params: &[(&str, &str)]) -> HashMap<String, String> {
        let response = self
            .browser
            .get(self.url(p, params))
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let mut next = location(&response);
        if next.starts_with("/login") {
            let response = submit_login(self.app, &self.browser, &next, USER, PASSWORD).await;
            next = location(&response);
        }
        if next.starts_with("/consent") {
            let response = submit_consent(self.app, &self.browser, &next, "allow").await;
            next = location(&response);
        }
        assert!(next.starts_with(REDIRECT_URI), "{next}");
        query_of(&next)
    }

    /// The standard request of the Basic plan.
    async fn code_flow(&self, extra: &[(&str, &str)]) -> Value {
        let p = pkce();
        let mut params = vec![
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "xyz"),
            ("nonce", "abc"),
        ];
        // A test's own value replaces the default: a repeated parameter would be refused.
        params.retain(|(name, _)| !extra.iter().any(|(n, _)| n == name));
        params.extend_from_slice(extra);
        let got = self.authorize(&p, &params).await;
        assert_eq!(got.get("state").map(String::as_str), Some("xyz"));
        let (status, tokens) =
            exchange_code(self.app, &self.client, &got["code"], &p.verifier).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn userinfo(&self, tokens: &Value) -> Value {
        crate::harness::http()
            .get(self.app.url("/userinfo"))
            .bearer_auth(tokens["access_token"].as_str().expect("access"))
            .send()
            .await
            .expect("userinfo")
            .json()
            .await
            .expect("json")
    }
}

fn id_claims(tokens: &Value) -> Value {
    decode_segment(tokens["id_token"].as_str().expect("id_token"), 1)
}

/// Checks an ID token the way the suite's ValidateIdToken conditions do.
fn assert_valid_id_token(app: &TestApp, client: &TestClient, tokens: &Value, nonce: Option<&str>) {
    let claims = id_claims(tokens);
    let header = decode_segment(tokens["id_token"].as_str().expect("id_token"), 0);
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], app.base);
    assert_eq!(claims["aud"], client.client_id);
    let now = app.clock.now();
    assert!(
        claims["exp"].as_i64().expect("exp") > now && claims["iat"].as_i64().expect("iat") <= now
    );
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(claims.get("nonce").and_then(Value::as_str), nonce);
}

// ---------------------------------------------------------------- Basic OP plan

async fn oidcc_server(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[]).await;
    assert_valid_id_token(&app, &rp.client, &tokens, Some("abc"));
    assert_eq!(tokens["token_type"], "Bearer");
}

async fn oidcc_server_form_post(app: TestApp) {
    let rp = Rp::new(&app).await;
    let p = pkce();
    rp.authorize(
        &p,
        &[
            ("response_type", "code"),
            ("scope", "openid"),
            ("nonce", "n"),
        ],
    )
    .await;
    let response = rp
        .browser
        .get(rp.url(
            &p,
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "fp"),
                ("response_mode", "form_post"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert_eq!(form_value(&html, "state").as_deref(), Some("fp"));
    let code = form_value(&html, "code").expect("code in the form");
    let (status, _) = exchange_code(&app, &rp.client, &code, &p.verifier).await;
    assert_eq!(status, StatusCode::OK);
}

async fn oidcc_server_client_secret_post(app: TestApp) {
    let rp = Rp::new(&app).await;
    let p = pkce();
    let got = rp
        .authorize(&p, &[("response_type", "code"), ("scope", "openid")])
        .await;
    let secret = rp.client.secret.clone().expect("secret");
    let response = crate::harness::http()
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", got["code"].as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", p.verifier.as_str()),
            ("client_id", rp.client.client_id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn oidcc_response_type_missing(app: TestApp) {
    let rp = Rp::new(&app).await;
    let response = rp
        .browser
        .get(rp.url(&pkce(), &[("scope", "openid"), ("state", "s")]))
        .send()
        .await
        .expect("authorize");
    let got = query_of(&location(&response));
    assert_eq!(
        got.get("error").map(String::as_str),
        Some("invalid_request")
    );
    assert_eq!(got.get("state").map(String::as_str), Some("s"));
}

async fn oidcc_userinfo_get(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[]).await;
    assert_eq!(rp.userinfo(&tokens).await["sub"], id_claims(&tokens)["sub"]);
}

async fn oidcc_userinfo_post_header(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[]).await;
    let body: Value = crate::harness::http()
        .post(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(body["sub"], id_claims(&tokens)["sub"]);
}

async fn oidcc_userinfo_post_body(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[]).await;
    let body: Value = crate::harness::http()
        .post(app.url("/userinfo"))
        .form(&[(
            "access_token",
            tokens["access_token"].as_str().expect("access"),
        )])
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(body["sub"], id_claims(&tokens)["sub"]);
}

async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow(app: TestApp) {
    let rp = Rp::new(&app).await;
    let p = pkce();
    let got = rp
        .authorize(&p, &[("response_type", "code"), ("scope", "openid")])
        .await;
    let (status, tokens) = exchange_code(&app, &rp.client, &got["code"], &p.verifier).await;
    assert_eq!(status, StatusCode::OK);
    assert_valid_id_token(&app, &rp.client, &tokens, None);
}

async fn oidcc_scope_profile(app: TestApp) {
    let rp = Rp::new(&app).await;
    let info = rp
        .userinfo(&rp.code_flow(&[("scope", "openid profile")]).await)
        .await;
    assert_eq!(info["name"], "Ada Lovelace");
    assert_eq!(info["preferred_username"], USER);
    assert!(info.get("email").is_none());
}

async fn oidcc_scope_email(app: TestApp) {
    let rp = Rp::new(&app).await;
    let info = rp
        .userinfo(&rp.code_flow(&[("scope", "openid email")]).await)
        .await;
    assert_eq!(info["email"], format!("{USER}@students.hccc.edu"));
    assert_eq!(info["email_verified"], true);
    assert!(info.get("name").is_none());
}

/// address is not advertised (the user model has no postal address); asking for it still succeeds.
async fn oidcc_scope_address(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[("scope", "openid address")]).await;
    assert!(rp.userinfo(&tokens).await.get("address").is_none());
}

/// phone is not advertised (no phone numbers are kept); asking for it still succeeds.
async fn oidcc_scope_phone(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[("scope", "openid phone")]).await;
    assert!(rp.userinfo(&tokens).await.get("phone_number").is_none());
}

async fn oidcc_scope_all(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp
        .code_flow(&[("scope", "openid profile email address phone")])
        .await;
    let info = rp.userinfo(&tokens).await;
    assert!(info["name"].is_string() && info["email"].is_string());
    assert_eq!(tokens["scope"], "openid profile email");
}

async fn oidcc_ensure_other_scope_order_succeeds(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[("scope", "email openid")]).await;
    assert!(rp.userinfo(&tokens).await["email"].is_string());
}

async fn oidcc_display_page(app: TestApp) {
    let rp = Rp::new(&app).await;
    rp.code_flow(&[("display", "page")]).await;
}

async fn oidcc_display_popup(app: TestApp) {
    let rp = Rp::new(&app).await;
    rp.code_flow(&[("display", "popup")]).await;
}

async fn oidcc_prompt_login(app: TestApp) {
    let rp = Rp::new(&app).await;
    let first = id_claims(&rp.code_flow(&[]).await)["auth_time"]
        .as_i64()
        .expect("auth_time");
    app.clock.advance(2);
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("prompt", "login"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&response).starts_with("/login"),
        "prompt=login shows the login page again"
    );
    let second = id_claims(&rp.code_flow(&[("prompt", "login")]).await)["auth_time"]
        .as_i64()
        .expect("auth_time");
    assert!(second > first, "a new authentication happened");
}

async fn oidcc_prompt_none_not_logged_in(app: TestApp) {
    let rp = Rp::new(&app).await;
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("prompt", "none"),
                ("state", "s"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    let got = query_of(&location(&response));
    assert_eq!(got.get("error").map(String::as_str), Some("login_required"));
    assert_eq!(got.get("state").map(String::as_str), Some("s"));
}

async fn oidcc_prompt_none_logged_in(app: TestApp) {
    let rp = Rp::new(&app).await;
    let first = id_claims(&rp.code_flow(&[]).await);
    let p = pkce();
    let response = rp
        .browser
        .get(rp.url(
            &p,
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("prompt", "none"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    let got = query_of(&location(&response));
    let (_, tokens) = exchange_code(&app, &rp.client, &got["code"], &p.verifier).await;
    assert_eq!(id_claims(&tokens)["sub"], first["sub"]);
}

async fn oidcc_max_age_1(app: TestApp) {
    let rp = Rp::new(&app).await;
    let first = id_claims(&rp.code_flow(&[]).await)["auth_time"]
        .as_i64()
        .expect("auth_time");
    app.clock.advance(2);
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("max_age", "1"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert!(
        location(&response).starts_with("/login"),
        "the user must sign in again"
    );
    let second = id_claims(&rp.code_flow(&[("max_age", "1")]).await)["auth_time"]
        .as_i64()
        .expect("auth_time");
    assert!(second > first);
}

async fn oidcc_max_age_10000(app: TestApp) {
    let rp = Rp::new(&app).await;
    let first = id_claims(&rp.code_flow(&[]).await)["auth_time"]
        .as_i64()
        .expect("auth_time");
    app.clock.advance(2);
    let second = id_claims(&rp.code_flow(&[("max_age", "10000")]).await)["auth_time"]
        .as_i64()
        .expect("auth_time");
    assert_eq!(first, second, "no new sign-in was needed");
}

async fn oidcc_ensure_request_with_unknown_parameter_succeeds(app: TestApp) {
    let rp = Rp::new(&app).await;
    rp.code_flow(&[("extra_unknown_parameter", "ignored")])
        .await;
}

async fn oidcc_id_token_hint(app: TestApp) {
    let rp = Rp::new(&app).await;
    let first = rp.code_flow(&[]).await;
    let hint = first["id_token"].as_str().expect("id token");
    let p = pkce();
    let response = rp
        .browser
        .get(rp.url(
            &p,
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("prompt", "none"),
                ("id_token_hint", hint),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    let got = query_of(&location(&response));
    let (_, tokens) = exchange_code(&app, &rp.client, &got["code"], &p.verifier).await;
    assert_eq!(id_claims(&tokens)["sub"], id_claims(&first)["sub"]);
    // A hint naming someone else means this session cannot answer silently.
    let other = Rp {
        app: &app,
        client: app.create_client(false, true).await,
        browser: browser(),
    };
    app.create_user("someoneelse").await;
    let response = other
        .browser
        .get(other.url(&pkce(), &[("response_type", "code"), ("scope", "openid")]))
        .send()
        .await
        .expect("authorize");
    let login = location(&response);
    let response = submit_login(&app, &other.browser, &login, "someoneelse", PASSWORD).await;
    assert!(location(&response).starts_with(REDIRECT_URI));
    let response = other
        .browser
        .get(other.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("prompt", "none"),
                ("id_token_hint", hint),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&response))
            .get("error")
            .map(String::as_str),
        Some("login_required")
    );
}

async fn oidcc_login_hint(app: TestApp) {
    let rp = Rp::new(&app).await;
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("login_hint", USER),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    let html = rp
        .browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    assert_eq!(
        form_value(&html, "username").as_deref(),
        Some(USER),
        "the login form is prefilled"
    );
}

async fn oidcc_ui_locales(app: TestApp) {
    let rp = Rp::new(&app).await;
    rp.code_flow(&[("ui_locales", "se")]).await;
}

async fn oidcc_claims_locales(app: TestApp) {
    let rp = Rp::new(&app).await;
    rp.code_flow(&[("claims_locales", "se")]).await;
}

/// The module sends the values discovery advertises, in its order; a student without a second
/// factor is signed in with the first one, which the ID token states.
async fn oidcc_ensure_request_with_acr_values_succeeds(app: TestApp) {
    let rp = Rp::new(&app).await;
    let advertised: Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let values: Vec<&str> = advertised["acr_values_supported"]
        .as_array()
        .expect("acr_values_supported")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(values.len(), 2, "{values:?}");
    let tokens = rp.code_flow(&[("acr_values", &values.join(" "))]).await;
    assert_eq!(
        id_claims(&tokens)["acr"],
        values[0],
        "the first listed value we can satisfy, stated in the ID token"
    );
}

async fn oidcc_codereuse(app: TestApp) {
    let rp = Rp::new(&app).await;
    let p = pkce();
    let got = rp
        .authorize(&p, &[("response_type", "code"), ("scope", "openid")])
        .await;
    let (first, _) = exchange_code(&app, &rp.client, &got["code"], &p.verifier).await;
    assert_eq!(first, StatusCode::OK);
    let (second, body) = exchange_code(&app, &rp.client, &got["code"], &p.verifier).await;
    assert_eq!(
        (second, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

async fn oidcc_codereuse_30seconds(app: TestApp) {
    let rp = Rp::new(&app).await;
    let p = pkce();
    let got = rp
        .authorize(&p, &[("response_type", "code"), ("scope", "openid")])
        .await;
    let (_, tokens) = exchange_code(&app, &rp.client, &got["code"], &p.verifier).await;
    app.clock.advance(30);
    let (second, _) = exchange_code(&app, &rp.client, &got["code"], &p.verifier).await;
    assert_eq!(second, StatusCode::BAD_REQUEST);
    let response = crate::harness::http()
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("userinfo");
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "tokens issued from a reused code are revoked"
    );
}

async fn oidcc_ensure_registered_redirect_uri(app: TestApp) {
    let rp = Rp::new(&app).await;
    let url = rp
        .url(&pkce(), &[("response_type", "code"), ("scope", "openid")])
        .replace("%2Fcb", "%2Fnot-registered");
    let response = rp.browser.get(url).send().await.expect("authorize");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
}

async fn oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(
    app: TestApp,
) {
    let rp = Rp::new(&app).await;
    let request = "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.";
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("request", request),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&response))
            .get("error")
            .map(String::as_str),
        Some("request_not_supported")
    );
}

async fn oidcc_claims_essential(app: TestApp) {
    let rp = Rp::new(&app).await;
    let claims = r#"{"userinfo":{"name":{"essential":true}},"id_token":{"email":null}}"#;
    let tokens = rp.code_flow(&[("claims", claims)]).await;
    assert_eq!(
        rp.userinfo(&tokens).await["name"],
        "Ada Lovelace",
        "an essential claim is released without its scope"
    );
    assert!(
        id_claims(&tokens)["email"].is_string(),
        "claims asked for in the ID token are there"
    );
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("claims", "[1,2]"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&response))
            .get("error")
            .map(String::as_str),
        Some("invalid_request")
    );
}

/// Request objects are not supported, so this module's expectation is the rejection.
async fn oidcc_ensure_request_object_with_redirect_uri(app: TestApp) {
    let rp = Rp::new(&app).await;
    let request = "eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwOi8vMTI3LjAuMC4xOjg3NjUvY2IifQ.";
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("request", request),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&response))
            .get("error")
            .map(String::as_str),
        Some("request_not_supported")
    );
}

async fn oidcc_refresh_token(app: TestApp) {
    let rp = Rp::new(&app).await;
    let tokens = rp.code_flow(&[]).await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, refreshed) = token_request(
        &app,
        &rp.client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (old, new) = (id_claims(&tokens), id_claims(&refreshed));
    for claim in ["iss", "sub", "aud", "auth_time"] {
        assert_eq!(
            old[claim], new[claim],
            "{claim} is kept in the refreshed ID token"
        );
    }
    assert!(new.get("nonce").is_none());
}

async fn oidcc_ensure_request_with_valid_pkce_succeeds(app: TestApp) {
    let rp = Rp::new(&app).await;
    rp.code_flow(&[]).await; // every flow here uses S256
}

// ---------------------------------------------------------------- Config OP plan

async fn oidcc_discovery_endpoint_verification(app: TestApp) {
    let doc: Value = crate::harness::http()
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["issuer"], app.base);
    for required in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ] {
        assert!(doc.get(required).is_some(), "{required}");
    }
    let algs = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .expect("array");
    assert!(algs.iter().any(|a| a == "RS256"));
    assert!(
        doc["scopes_supported"]
            .as_array()
            .expect("array")
            .iter()
            .any(|s| s == "openid")
    );
    for absent in ["address", "phone"] {
        assert!(
            !doc["scopes_supported"]
                .as_array()
                .expect("array")
                .iter()
                .any(|s| s == absent),
            "{absent} is not advertised"
        );
    }
}

// ---------------------------------------------------------------- RP-Initiated Logout plan

/// Signs in, then returns the ID token to use as id_token_hint.
async fn signed_in(rp: &Rp<'_>) -> String {
    rp.code_flow(&[]).await["id_token"]
        .as_str()
        .expect("id token")
        .to_owned()
}

fn logout_url(app: &TestApp, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&app.url("/logout")).expect("url");
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

async fn still_signed_in(rp: &Rp<'_>) -> bool {
    let response = rp
        .browser
        .get(rp.url(
            &pkce(),
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("prompt", "none"),
            ],
        ))
        .send()
        .await
        .expect("authorize");
    query_of(&location(&response)).contains_key("code")
}

/// The OP must show an error or a confirmation, and must not redirect.
async fn assert_no_redirect(rp: &Rp<'_>, url: &str) {
    let response = rp.browser.get(url).send().await.expect("logout");
    assert!(
        response.headers().get("location").is_none(),
        "must not redirect: {url}"
    );
    assert!(matches!(
        response.status(),
        StatusCode::OK | StatusCode::BAD_REQUEST
    ));
}

async fn oidcc_rp_initiated_logout(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    let response = rp
        .browser
        .get(logout_url(
            &app,
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", POST_LOGOUT),
                ("state", "bye"),
            ],
        ))
        .send()
        .await
        .expect("logout");
    let to = location(&response);
    assert!(to.starts_with(POST_LOGOUT), "{to}");
    assert_eq!(query_of(&to).get("state").map(String::as_str), Some("bye"));
    assert!(
        !still_signed_in(&rp).await,
        "prompt=none now answers login_required"
    );
}

async fn oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    assert_no_redirect(
        &rp,
        &logout_url(
            &app,
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", "https://evil.example/out"),
                ("state", "s"),
            ],
        ),
    )
    .await;
}

async fn oidcc_rp_initiated_logout_modified_id_token_hint(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    let mut parts: Vec<String> = hint.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    assert_no_redirect(
        &rp,
        &logout_url(
            &app,
            &[
                ("id_token_hint", &parts.join(".")),
                ("post_logout_redirect_uri", POST_LOGOUT),
            ],
        ),
    )
    .await;
    assert!(still_signed_in(&rp).await);
}

async fn oidcc_rp_initiated_logout_bad_id_token_hint(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    let claims = decode_segment(&hint, 1);
    let key = josekit::jws::RS256.generate_key_pair(2048).expect("key");
    let signer = josekit::jws::RS256
        .signer_from_der(key.to_der_private_key())
        .expect("signer");
    let mut header = josekit::jws::JwsHeader::new();
    header.set_token_type("JWT");
    let forged = josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &signer)
        .expect("sign");
    assert_no_redirect(
        &rp,
        &logout_url(
            &app,
            &[
                ("id_token_hint", &forged),
                ("post_logout_redirect_uri", POST_LOGOUT),
            ],
        ),
    )
    .await;
}

async fn oidcc_rp_initiated_logout_no_id_token_hint(app: TestApp) {
    let rp = Rp::new(&app).await;
    signed_in(&rp).await;
    assert_no_redirect(
        &rp,
        &logout_url(
            &app,
            &[("post_logout_redirect_uri", POST_LOGOUT), ("state", "s")],
        ),
    )
    .await;
}

async fn oidcc_rp_initiated_logout_no_params(app: TestApp) {
    let rp = Rp::new(&app).await;
    signed_in(&rp).await;
    let page = rp
        .browser
        .get(app.url("/logout"))
        .send()
        .await
        .expect("logout");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Sign out of HCCC?"),
        "asks the user to confirm"
    );
    assert!(
        still_signed_in(&rp).await,
        "nothing happens before confirmation"
    );
    let form = [
        ("csrf_token", form_value(&html, "csrf_token").expect("csrf")),
        ("confirm", "yes".to_owned()),
    ];
    let done = rp
        .browser
        .post(app.url("/logout"))
        .form(&form)
        .send()
        .await
        .expect("confirm");
    assert!(
        done.text()
            .await
            .expect("html")
            .contains("You are signed out")
    );
    assert!(!still_signed_in(&rp).await);
}

async fn oidcc_rp_initiated_logout_no_post_logout_redirect_uri(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    let response = rp
        .browser
        .get(logout_url(&app, &[("id_token_hint", &hint)]))
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("html")
            .contains("You are signed out")
    );
    assert!(!still_signed_in(&rp).await);
}

async fn oidcc_rp_initiated_logout_no_state(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    let response = rp
        .browser
        .get(logout_url(
            &app,
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", POST_LOGOUT),
            ],
        ))
        .send()
        .await
        .expect("logout");
    assert_eq!(
        location(&response),
        POST_LOGOUT,
        "no state is added when none was sent"
    );
}

async fn oidcc_rp_initiated_logout_only_state(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    let response = rp
        .browser
        .get(logout_url(
            &app,
            &[("id_token_hint", &hint), ("state", "s")],
        ))
        .send()
        .await
        .expect("logout");
    assert!(
        response.headers().get("location").is_none(),
        "without a post_logout_redirect_uri there is nowhere to go"
    );
    assert!(!still_signed_in(&rp).await);
}

async fn oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(app: TestApp) {
    let rp = Rp::new(&app).await;
    let hint = signed_in(&rp).await;
    let added = format!("{POST_LOGOUT}?extra=1");
    assert_no_redirect(
        &rp,
        &logout_url(
            &app,
            &[
                ("id_token_hint", &hint),
                ("post_logout_redirect_uri", &added),
            ],
        ),
    )
    .await;
}

// ---------------------------------------------------------------- Back-Channel Logout plan

/// A client's back-channel logout endpoint: records logout tokens, answers with `status`.
pub(crate) struct Receiver {
    pub url: String,
    tokens: Arc<Mutex<Vec<String>>>,
    status: Arc<std::sync::atomic::AtomicU16>,
}

pub(crate) async fn receiver() -> Receiver {
    use axum::extract::State;
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let status = Arc::new(std::sync::atomic::AtomicU16::new(200));
    type Shared = (Arc<Mutex<Vec<String>>>, Arc<std::sync::atomic::AtomicU16>);
    let router = axum::Router::new()
        .route(
            "/backchannel_logout",
            axum::routing::post(
                |State((tokens, status)): State<Shared>, body: String| async move {
                    let token = url::form_urlencoded::parse(body.as_bytes())
                        .find(|(k, _)| k == "logout_token")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    tokens.lock().expect("lock").push(token);
                    StatusCode::from_u16(status.load(std::sync::atomic::Ordering::SeqCst))
                        .unwrap_or(StatusCode::OK)
                },
            ),
        )
        .with_state((tokens.clone(), status.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/backchannel_logout",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    Receiver {
        url,
        tokens,
        status,
    }
}

async fn with_backchannel(rp: &Rp<'_>, uri: &str) {
    rp.app
        .edit_client(&rp.client.client_id, |row| {
            row.settings.backchannel_logout_uri = Some(uri.to_owned())
        })
        .await;
}

pub(crate) async fn wait_for_tokens(receiver: &Receiver, count: usize) -> Vec<String> {
    for _ in 0..100 {
        let tokens = receiver.tokens.lock().expect("lock").clone();
        if tokens.len() >= count {
            return tokens;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("expected {count} back-channel logout request(s)");
}

async fn oidcc_backchannel_rp_initiated_logout(app: TestApp) {
    let rp = Rp::new(&app).await;
    let receiver = receiver().await;
    with_backchannel(&rp, &receiver.url).await;
    let tokens = rp.code_flow(&[]).await;
    let id_token = id_claims(&tokens);
    let hint = tokens["id_token"].as_str().expect("id token");
    let response = rp
        .browser
        .get(logout_url(
            &app,
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", POST_LOGOUT),
                ("state", "bc"),
            ],
        ))
        .send()
        .await
        .expect("logout");
    assert_eq!(
        query_of(&location(&response))
            .get("state")
            .map(String::as_str),
        Some("bc")
    );

    let delivered = wait_for_tokens(&receiver, 1).await;
    let logout_token = &delivered[0];
    // Signature against our published JWKS, as the RP would check it.
    let jwks = crate::harness::http()
        .get(app.url("/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .bytes()
        .await
        .expect("body");
    let jwks = josekit::jwk::JwkSet::from_bytes(&jwks).expect("jwks");
    let header = decode_segment(logout_token, 0);
    assert_eq!(header["typ"], "logout+jwt");
    let key = jwks.get(header["kid"].as_str().expect("kid"))[0];
    let verifier = josekit::jws::RS256
        .verifier_from_jwk(key)
        .expect("verifier");
    let (payload, _) =
        josekit::jws::deserialize_compact(logout_token, &verifier).expect("signature verifies");
    let claims: Value = serde_json::from_slice(&payload).expect("claims");
    assert_eq!(claims["iss"], app.base);
    assert_eq!(claims["aud"], rp.client.client_id);
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["sid"], id_token["sid"]);
    assert!(claims["iat"].is_i64() && claims["jti"].is_string());
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(!still_signed_in(&rp).await);
}

/// Signs the person in to `rp` and out again: the logout answers at once, whatever the client's
/// back-channel receiver does.
async fn logs_out_without_waiting(app: &TestApp, rp: &Rp<'_>) {
    let hint = signed_in(rp).await;
    let started = std::time::Instant::now();
    let response = rp
        .browser
        .get(logout_url(app, &[("id_token_hint", &hint)]))
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the logout does not wait for the client's receiver: {:?}",
        started.elapsed()
    );
}

/// Not a suite module: a client that is down gets the logout token later, without the user waiting.
async fn backchannel_logout_is_retried_until_the_client_answers(app: TestApp) {
    let rp = Rp::new(&app).await;
    let receiver = receiver().await;
    receiver
        .status
        .store(503, std::sync::atomic::Ordering::SeqCst);
    with_backchannel(&rp, &receiver.url).await;
    logs_out_without_waiting(&app, &rp).await;
    wait_for_tokens(&receiver, 1).await;
    receiver
        .status
        .store(200, std::sync::atomic::Ordering::SeqCst);
    hccc_sso::oidc::backchannel::deliver_due(&app.state).await;
    assert_eq!(
        receiver.tokens.lock().expect("lock").len(),
        1,
        "not retried before its backoff"
    );
    app.clock.advance(31);
    hccc_sso::oidc::backchannel::deliver_due(&app.state).await;
    let tokens = wait_for_tokens(&receiver, 2).await;
    assert_eq!(
        tokens[0], tokens[1],
        "the same logout token is delivered again"
    );
    app.clock.advance(100_000);
    hccc_sso::oidc::backchannel::deliver_due(&app.state).await;
    assert_eq!(
        receiver.tokens.lock().expect("lock").len(),
        2,
        "delivered once successfully, then no more"
    );
}

/// A receiver that accepts the connection and never answers: the person's logout returns at
/// once, the delivery is tried, and other requests (JWKS, a whole sign-in) are served meanwhile.
async fn a_slow_backchannel_receiver_holds_up_no_request(app: TestApp) {
    let rp = Rp::new(&app).await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/backchannel_logout",
        silent.local_addr().expect("addr")
    );
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket); // read nothing, answer nothing, close nothing
        }
    });
    with_backchannel(&rp, &url).await;
    logs_out_without_waiting(&app, &rp).await;
    for _ in 0..100 {
        if accepted.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        accepted.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the delivery was tried"
    );
    // While the delivery hangs, the server answers others as fast as ever.
    let http = crate::harness::http();
    for _ in 0..20 {
        let t0 = std::time::Instant::now();
        let jwks = http.get(app.url("/jwks.json")).send().await.expect("jwks");
        assert_eq!(jwks.status(), StatusCode::OK);
        assert!(t0.elapsed() < std::time::Duration::from_secs(1));
    }
    let (_, tokens) = crate::flows::signed_in_tokens(&app, "meanwhile").await;
    assert!(
        tokens["access_token"].is_string(),
        "a sign-in completes meanwhile"
    );
}

on_both_backends!(
    a_slow_backchannel_receiver_holds_up_no_request,
    oidcc_server,
    oidcc_server_form_post,
    oidcc_server_client_secret_post,
    oidcc_response_type_missing,
    oidcc_userinfo_get,
    oidcc_userinfo_post_header,
    oidcc_userinfo_post_body,
    oidcc_ensure_request_without_nonce_succeeds_for_code_flow,
    oidcc_scope_profile,
    oidcc_scope_email,
    oidcc_scope_address,
    oidcc_scope_phone,
    oidcc_scope_all,
    oidcc_ensure_other_scope_order_succeeds,
    oidcc_display_page,
    oidcc_display_popup,
    oidcc_prompt_login,
    oidcc_prompt_none_not_logged_in,
    oidcc_prompt_none_logged_in,
    oidcc_max_age_1,
    oidcc_max_age_10000,
    oidcc_ensure_request_with_unknown_parameter_succeeds,
    oidcc_id_token_hint,
    oidcc_login_hint,
    oidcc_ui_locales,
    oidcc_claims_locales,
    oidcc_ensure_request_with_acr_values_succeeds,
    oidcc_codereuse,
    oidcc_codereuse_30seconds,
    oidcc_ensure_registered_redirect_uri,
    oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported,
    oidcc_claims_essential,
    oidcc_ensure_request_object_with_redirect_uri,
    oidcc_refresh_token,
    oidcc_ensure_request_with_valid_pkce_succeeds,
    oidcc_discovery_endpoint_verification,
    oidcc_rp_initiated_logout,
    oidcc_rp_initiated_logout_bad_post_logout_redirect_uri,
    oidcc_rp_initiated_logout_modified_id_token_hint,
    oidcc_rp_initiated_logout_bad_id_token_hint,
    oidcc_rp_initiated_logout_no_id_token_hint,
    oidcc_rp_initiated_logout_no_params,
    oidcc_rp_initiated_logout_no_post_logout_redirect_uri,
    oidcc_rp_initiated_logout_no_state,
    oidcc_rp_initiated_logout_only_state,
    oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri,
    oidcc_backchannel_rp_initiated_logout,
    backchannel_logout_is_retried_until_the_client_answers,
);
