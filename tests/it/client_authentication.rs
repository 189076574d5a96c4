//! A client proving who it is at the token endpoint: a code or refresh token presented by another
//! client is left unspent, one-hour client assertions pass and each limit missed has its own
//! error, and a `jwks_uri` that fails is logged, not shown.

use reqwest::StatusCode;
use serde_json::json;

use crate::flows::{authorize_url, exchange_code, pkce, sign_in_for_code, token_request};
use crate::harness::{TestApp, browser, on_both_backends, reqwest};

/// A code or refresh token presented by another client is not spent, and the answer does not
/// say it was valid; its own client then uses it as usual.
async fn a_code_or_refresh_token_presented_by_another_client_is_not_spent(app: TestApp) {
    app.create_user("owner").await;
    let mine = app.create_client(false, true).await;
    let thief = app.create_client(false, true).await;
    let p = pkce();
    let params = sign_in_for_code(
        &app,
        &browser(),
        &authorize_url(&app, &mine, &p, &[]),
        "owner",
    )
    .await;
    let (status, body) = exchange_code(&app, &thief, &params["code"], &p.verifier).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("authorization code is invalid")
        )
    );
    let (status, tokens) = exchange_code(&app, &mine, &params["code"], &p.verifier).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the code still works for its own client: {tokens}"
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = token_request(
        &app,
        &thief,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("refresh token is invalid or expired")
        )
    );
    let (status, rotated) = token_request(
        &app,
        &mine,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    // The spent token from a thief neither works nor revokes the owner's grant.
    let (status, _) = token_request(
        &app,
        &thief,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = token_request(
        &app,
        &mine,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rotated["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the owner's grant is not revoked");
}

/// Authlib signs client assertions for an hour by default; they pass, and the errors say which
/// limit an assertion missed.
async fn a_one_hour_client_secret_jwt_assertion_is_accepted(app: TestApp) {
    use josekit::jws::HS256;
    let (client, secret) = crate::token_admin::service_client(
        &app,
        hccc_sso::clients::ClientChange {
            token_endpoint_auth_method: Some("client_secret_jwt".into()),
            ..Default::default()
        },
    )
    .await;
    let signer = HS256
        .signer_from_bytes(secret.expect("secret").as_bytes())
        .unwrap();
    let now = app.clock.now();
    let assertion = |exp: i64| {
        crate::token_admin::assertion(&app, &client.client_id, &signer, None, json!({"exp": exp}))
    };
    let (status, body) = crate::token_admin::with_assertion(&app, &assertion(now + 3600)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (exp, why) in [
        (
            now + 3600 + 120,
            "assertion is valid for longer than one hour",
        ),
        (now - 1, "assertion has expired"),
    ] {
        let (status, body) = crate::token_admin::with_assertion(&app, &assertion(exp)).await;
        assert_eq!(
            (status, body["error_description"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(why))
        );
    }
}

/// A jwks_uri that cannot be read is the operator's problem to read in the log, not the
/// caller's to learn what the server can reach.
async fn a_jwks_uri_failure_is_logged_not_shown(app: TestApp) {
    use josekit::jws::RS256;
    // A port nothing listens on.
    let closed = format!("127.0.0.1:{}", crate::harness::free_port());
    let (client, _) = crate::token_admin::service_client(
        &app,
        hccc_sso::clients::ClientChange {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks_uri: Some(Some(format!("http://{closed}/jwks"))),
            ..Default::default()
        },
    )
    .await;
    let pair = RS256.generate_key_pair(2048).unwrap();
    let signer = RS256.signer_from_der(pair.to_der_private_key()).unwrap();
    let jwt = crate::token_admin::assertion(&app, &client.client_id, &signer, None, json!({}));
    let (status, body) = crate::token_admin::with_assertion(&app, &jwt).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error_description"], "client authentication failed",
        "{body}"
    );
}

on_both_backends!(
    a_code_or_refresh_token_presented_by_another_client_is_not_spent,
    a_one_hour_client_secret_jwt_assertion_is_accepted,
    a_jwks_uri_failure_is_logged_not_shown,
);
