//! The token endpoint: code exchange, refresh rotation, client authentication, and every error.

use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{
    authorize_url, exchange_code, pkce, sign_in_for_code, signed_in_tokens, token_request,
    userinfo_status,
};
use crate::harness::{REDIRECT_URI, TestApp, TestClient, browser, on_both_backends, reqwest};

/// Signs in and returns a fresh, unredeemed code with its PKCE verifier.
async fn fresh_code(app: &TestApp, client: &TestClient, username: &str) -> (String, String) {
    let p = pkce();
    let params = sign_in_for_code(
        app,
        &browser(),
        &authorize_url(app, client, &p, &[]),
        username,
    )
    .await;
    (params["code"].clone(), p.verifier)
}

fn error_of(body: &Value) -> &str {
    body.get("error")
        .and_then(Value::as_str)
        .unwrap_or("<none>")
}

async fn a_wrong_pkce_verifier_is_refused(app: TestApp) {
    app.create_user("pkceuser").await;
    let client = app.create_client(false, true).await;
    let (code, _) = fresh_code(&app, &client, "pkceuser").await;
    let (status, body) = exchange_code(&app, &client, &code, &pkce().verifier).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    // The code is spent by the failed attempt.
    let (code, verifier) = fresh_code(&app, &client, "pkceuser").await;
    let (status, body) = exchange_code(&app, &client, &code, &format!("{verifier}x")).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
}

async fn a_reused_code_fails_and_revokes_what_it_issued(app: TestApp) {
    app.create_user("reuser").await;
    let client = app.create_client(false, true).await;
    let (code, verifier) = fresh_code(&app, &client, "reuser").await;
    let (status, first) = exchange_code(&app, &client, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let access = first["access_token"].as_str().expect("access token");
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK);

    let (status, second) = exchange_code(&app, &client, &code, &verifier).await;
    assert_eq!(
        (status, error_of(&second)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert_eq!(
        userinfo_status(&app, access).await,
        StatusCode::UNAUTHORIZED,
        "access token revoked"
    );
    let refresh = first["refresh_token"].as_str().expect("refresh token");
    let (status, body) = token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "refresh token revoked"
    );
}

/// Racing redemptions: at most one wins, the others are refused, and because the race is itself a
/// reuse, nothing issued from the code keeps working (RFC 6749 §4.1.2).
/// Eight redemptions of one code at once. Exactly one consumes it (the conditional update lets
/// one through); the seven others find it used, and a reuse revokes the grant (RFC 6749 §4.1.2).
/// So the one that consumed it either answered with tokens that are then revoked, or, when a
/// reuse's revocation came first, was refused because the grant was revoked: no token survives.
async fn concurrent_redemptions_of_one_code_consume_it_once_and_revoke_the_grant(app: TestApp) {
    app.create_user("racer").await;
    let client = app.create_client(false, true).await;
    let (code, verifier) = fresh_code(&app, &client, "racer").await;
    let attempts = (0..8).map(|_| exchange_code(&app, &client, &code, &verifier));
    let results = futures_util::future::join_all(attempts).await;
    let description = |b: &Value| {
        b["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let already_used = results
        .iter()
        .filter(|(s, b)| {
            *s == StatusCode::BAD_REQUEST && description(b) == "authorization code was already used"
        })
        .count();
    assert_eq!(
        already_used, 7,
        "exactly one consumed the code: {results:?}"
    );
    let (status, consumer) = results
        .iter()
        .find(|(s, b)| {
            !(*s == StatusCode::BAD_REQUEST
                && description(b) == "authorization code was already used")
        })
        .expect("the one that consumed it");
    if *status == StatusCode::OK {
        let access = consumer["access_token"].as_str().expect("access");
        assert_eq!(
            userinfo_status(&app, access).await,
            StatusCode::UNAUTHORIZED,
            "the raced grant is revoked"
        );
        let refresh = consumer["refresh_token"].as_str().expect("refresh");
        let (status, _) = token_request(
            &app,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    } else {
        assert_eq!(
            (*status, description(consumer)),
            (
                StatusCode::BAD_REQUEST,
                "the grant has been revoked".to_owned()
            ),
            "{consumer}"
        );
    }
    // Whichever way the race went, the grant the code created is revoked in the store.
    let account = app
        .store()
        .find_account_by_login("racer")
        .await
        .unwrap()
        .unwrap();
    let grants = app
        .store()
        .live_grants_for_account(account.account_id)
        .await
        .unwrap();
    assert!(grants.is_empty(), "no live grant remains: {grants:?}");
}

async fn an_expired_code_is_refused(app: TestApp) {
    app.create_user("latecomer").await;
    let client = app.create_client(false, true).await;
    let (code, verifier) = fresh_code(&app, &client, "latecomer").await;
    app.clock.advance(hccc_sso::oidc::authorize::CODE_TTL + 1);
    let (status, body) = exchange_code(&app, &client, &code, &verifier).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("expired")
    );
}

async fn client_authentication_failures_answer_401_invalid_client(app: TestApp) {
    app.create_user("authuser").await;
    let client = app.create_client(false, true).await;
    let (code, verifier) = fresh_code(&app, &client, "authuser").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let http = crate::harness::http();
    let attempts = [
        http.post(app.url("/token"))
            .basic_auth(&client.client_id, Some("wrong-secret"))
            .form(&form),
        http.post(app.url("/token"))
            .basic_auth("00000000-0000-0000-0000-000000000000", Some("x"))
            .form(&form),
        http.post(app.url("/token"))
            .basic_auth("not-a-uuid", Some("x"))
            .form(&form),
        http.post(app.url("/token")).form(&form), // no authentication at all
        http.post(app.url("/token"))
            .header("authorization", "Basic !!!notbase64")
            .form(&form),
        // A confidential client may not pretend to be public.
        http.post(app.url("/token")).form(&[
            ("client_id", client.client_id.as_str()),
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ]),
    ];
    for request in attempts {
        let response = request.send().await.expect("token");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get("www-authenticate").is_some());
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_of(&body), "invalid_client");
    }
    // client_secret_post works as well as basic, once the failures above did not burn the code.
    let secret = client.secret.clone().expect("secret");
    let response = http
        .post(app.url("/token"))
        .form(&[
            ("client_id", client.client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn malformed_token_requests_get_rfc_6749_errors(app: TestApp) {
    app.create_user("sloppy").await;
    let client = app.create_client(false, true).await;
    let (code, verifier) = fresh_code(&app, &client, "sloppy").await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_request"),
        (
            vec![
                ("grant_type", "password"),
                ("username", "x"),
                ("password", "y"),
            ],
            // the password grant exists but only for clients an admin enabled it for
            "unauthorized_client",
        ),
        (
            vec![("grant_type", "urn:example:made-up")],
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "authorization_code")],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("code", "made-up-code"),
                ("redirect_uri", REDIRECT_URI),
            ],
            "invalid_grant",
        ),
        (vec![("grant_type", "refresh_token")], "invalid_request"),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "made-up"),
            ],
            "invalid_grant",
        ),
    ];
    for (form, expected) in cases {
        let (status, body) = token_request(&app, &client, &form).await;
        assert_eq!(
            (status, error_of(&body)),
            (StatusCode::BAD_REQUEST, expected),
            "{form:?}"
        );
    }
    // A redirect_uri that differs from the authorization request's.
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:8765/other"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );

    // Wrong content type, repeated parameters, JSON body.
    let secret = client.secret.clone().expect("secret");
    let http = crate::harness::http();
    let bad_bodies = [
        http.post(app.url("/token"))
            .basic_auth(&client.client_id, Some(&secret))
            .body("grant_type=refresh_token&refresh_token=x"),
        http.post(app.url("/token"))
            .basic_auth(&client.client_id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=refresh_token&grant_type=refresh_token"),
        http.post(app.url("/token"))
            .basic_auth(&client.client_id, Some(&secret))
            .json(&serde_json::json!({"grant_type": "refresh_token"})),
    ];
    for request in bad_bodies {
        let response = request.send().await.expect("token");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_of(&body), "invalid_request");
    }
}

async fn a_client_cannot_redeem_another_clients_code_or_refresh_token(app: TestApp) {
    let (owner, tokens) = signed_in_tokens(&app, "owned").await;
    let thief = app.create_client(false, true).await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, body) = token_request(
        &app,
        &thief,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let (code, verifier) = fresh_code(&app, &owner, "owned").await;
    let (status, body) = exchange_code(&app, &thief, &code, &verifier).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
}

async fn refresh_can_narrow_but_not_widen_scope(app: TestApp) {
    let (client, tokens) = signed_in_tokens(&app, "narrower").await;
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "openid email");
    let next = body["refresh_token"].as_str().expect("rotated").to_owned();
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &next),
            ("scope", "openid offline_access"),
        ],
    )
    .await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, "invalid_scope")
    );
}

/// An ID token is for a grant that includes `openid` (OIDC Core §3.1.3.3): a refresh narrowed to
/// plain OAuth scopes gets an access token and a refresh token, and no ID token is signed.
async fn a_refresh_narrowed_below_openid_gets_no_id_token(app: TestApp) {
    let (client, tokens) = signed_in_tokens(&app, "plainoauth").await;
    assert!(tokens["id_token"].is_string(), "{tokens}");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "profile email"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "profile email");
    assert!(body.get("id_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("access token");
    assert_eq!(decode_segment(access, 1)["scope"], "profile email");
    // The rotated token still renews, and the full scope is still within the grant.
    let next = body["refresh_token"].as_str().expect("rotated");
    let (status, body) = token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", next)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["id_token"].is_string(), "{body}");
}

async fn token_responses_are_not_cacheable_and_carry_the_expected_tokens(app: TestApp) {
    app.create_user("shape").await;
    let client = app.create_client(true, true).await;
    let (code, verifier) = fresh_code(&app, &client, "shape").await;
    let response = crate::harness::http()
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.as_str()),
            ("client_id", client.client_id.as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a public client redeems with PKCE and no secret"
    );
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], app.state.config.access_token_ttl);
    let access = body["access_token"].as_str().expect("access token");
    let header = decode_segment(access, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(
        header["kid"].as_str(),
        app.state.keys.signing_kid().as_deref()
    );
    let claims = decode_segment(access, 1);
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
    ] {
        assert!(claims.get(claim).is_some(), "access token lacks {claim}");
    }
    let id = decode_segment(body["id_token"].as_str().expect("id token"), 1);
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "azp",
        "at_hash",
        "sid",
        "amr",
    ] {
        assert!(id.get(claim).is_some(), "ID token lacks {claim}");
    }
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(
        claims["sid"], id["sid"],
        "sid ties the tokens to one session"
    );
}

pub fn decode_segment(jwt: &str, index: usize) -> Value {
    use base64::Engine;
    let segment = jwt.split('.').nth(index).expect("segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

on_both_backends!(
    a_wrong_pkce_verifier_is_refused,
    a_reused_code_fails_and_revokes_what_it_issued,
    concurrent_redemptions_of_one_code_consume_it_once_and_revoke_the_grant,
    an_expired_code_is_refused,
    client_authentication_failures_answer_401_invalid_client,
    malformed_token_requests_get_rfc_6749_errors,
    a_client_cannot_redeem_another_clients_code_or_refresh_token,
    refresh_can_narrow_but_not_widen_scope,
    a_refresh_narrowed_below_openid_gets_no_id_token,
    token_responses_are_not_cacheable_and_carry_the_expected_tokens,
);
