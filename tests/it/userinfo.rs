//! UserInfo: bearer tokens in the header or form body, RFC 6750 errors, revocation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::{JwsHeader, RS256};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flows::{signed_in_tokens, userinfo_status};
use crate::harness::{TestApp, on_both_backends, reqwest};
use crate::token::decode_segment;

async fn userinfo_returns_claims_by_scope_via_header_or_form(app: TestApp) {
    let (_, tokens) = signed_in_tokens(&app, "infouser").await;
    let access = tokens["access_token"].as_str().expect("access");
    let http = crate::harness::http();
    let by_header: Value = http
        .get(app.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(by_header["preferred_username"], "infouser");
    assert_eq!(by_header["email"], "infouser@students.hccc.edu");
    assert_eq!(by_header["email_verified"], true);
    assert_eq!(by_header["name"], "Ada Lovelace");
    assert!(by_header["updated_at"].is_i64());
    let by_form = http
        .post(app.url("/userinfo"))
        .form(&[("access_token", access)])
        .send()
        .await
        .expect("post");
    assert_eq!(by_form.status(), StatusCode::OK);
    assert_eq!(
        by_form.json::<Value>().await.expect("json")["sub"],
        by_header["sub"]
    );
    let both = http
        .post(app.url("/userinfo"))
        .bearer_auth(access)
        .form(&[("access_token", access)])
        .send()
        .await
        .expect("post");
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
}

async fn userinfo_refuses_missing_forged_expired_and_revoked_tokens(app: TestApp) {
    let (_, tokens) = signed_in_tokens(&app, "forgery").await;
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let http = crate::harness::http();

    let missing = http.get(app.url("/userinfo")).send().await.expect("get");
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let challenge = missing
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer") && !challenge.contains("error="),
        "{challenge}"
    );

    let claims = decode_segment(&access, 1);
    let kid = decode_segment(&access, 0)["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        encode(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})),
        encode(&claims)
    );
    let hmac_header = encode(&json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}));
    let hmac = format!(
        "{hmac_header}.{}.{}",
        encode(&claims),
        URL_SAFE_NO_PAD.encode([0u8; 32])
    );
    let other_key = RS256.generate_key_pair(2048).expect("key");
    let mut header = JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id(&kid);
    let signer = RS256
        .signer_from_der(other_key.to_der_private_key())
        .expect("signer");
    let wrong_key =
        josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &signer)
            .expect("sign");
    let id_token = tokens["id_token"].as_str().expect("id token").to_owned();
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("00000000-0000-0000-0000-000000000000");
    let parts: Vec<&str> = access.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], encode(&tampered_claims), parts[2]);

    for (name, token) in [
        ("garbage", "not.a.jwt".to_owned()),
        ("alg none", unsigned),
        ("HMAC with public key", hmac),
        ("another RSA key", wrong_key),
        ("an ID token", id_token),
        ("tampered claims", tampered),
    ] {
        let response = http
            .get(app.url("/userinfo"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{name}: {challenge}"
        );
    }
    let basic = http
        .get(app.url("/userinfo"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .expect("get");
    assert_eq!(basic.status(), StatusCode::BAD_REQUEST);

    assert_eq!(userinfo_status(&app, &access).await, StatusCode::OK);
    // Revoked through RFC 7009 by its client: refused at once, not at expiry.
    let (client, second) = signed_in_tokens(&app, "revokee").await;
    let revoked = second["access_token"].as_str().expect("access").to_owned();
    assert_eq!(userinfo_status(&app, &revoked).await, StatusCode::OK);
    let (status, _) =
        crate::flows::token_request_at(&app, "/revoke", &client, &[("token", &revoked)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        userinfo_status(&app, &revoked).await,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
    assert_eq!(
        userinfo_status(&app, &access).await,
        StatusCode::OK,
        "another token of another grant is not affected"
    );
    app.clock.advance(app.state.config.access_token_ttl + 1);
    assert_eq!(
        userinfo_status(&app, &access).await,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
}

async fn disabling_a_user_stops_their_tokens_and_sign_ins(app: TestApp) {
    let (client, tokens) = signed_in_tokens(&app, "leaver").await;
    let access = tokens["access_token"].as_str().expect("access");
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK);
    let account = app
        .store()
        .find_account_by_login("leaver")
        .await
        .expect("db")
        .expect("account");
    app.store()
        .set_account_disabled(account.account_id, true, app.clock.now())
        .await
        .expect("disable");
    assert_eq!(
        userinfo_status(&app, access).await,
        StatusCode::UNAUTHORIZED
    );
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, body) = crate::flows::token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let b = crate::harness::browser();
    let response =
        crate::flows::submit_login(&app, &b, "/login", "leaver", crate::harness::PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled account cannot sign in"
    );
}

on_both_backends!(
    userinfo_returns_claims_by_scope_via_header_or_form,
    userinfo_refuses_missing_forged_expired_and_revoked_tokens,
    disabling_a_user_stops_their_tokens_and_sign_ins,
);
