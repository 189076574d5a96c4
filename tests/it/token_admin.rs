//! client_credentials, introspection (RFC 7662), revocation (RFC 7009), and JWT client
//! authentication (private_key_jwt, client_secret_jwt).

use hccc_sso::clients::{self, ClientChange};
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, HS256, JwsHeader, JwsSigner, RS256};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flows::{signed_in_tokens, token_request, userinfo_status};
use crate::harness::{TestApp, TestClient, on_both_backends, reqwest};
use crate::token::decode_segment;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(crate) async fn service_client(
    app: &TestApp,
    change: ClientChange,
) -> (TestClient, Option<String>) {
    let change = ClientChange {
        name: Some("Registrar sync".into()),
        grant_types: Some(vec!["client_credentials".into()]),
        ..change
    };
    let (client, secret) = clients::register(
        app.store(),
        &change,
        &app.state.key_encryption,
        app.clock.now(),
    )
    .await
    .expect("register");
    (
        TestClient {
            client_id: client.client_id.to_string(),
            secret: secret.clone(),
        },
        secret,
    )
}

async fn post(
    app: &TestApp,
    path: &str,
    client: &TestClient,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = crate::harness::http().post(app.url(path)).form(form);
    if let Some(secret) = &client.secret {
        request = request.basic_auth(&client.client_id, Some(secret));
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let cache = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    if status.is_success() {
        assert_eq!(
            cache.as_deref(),
            Some("no-store"),
            "{path} answers are not cacheable"
        );
    }
    (status, body)
}

async fn client_credentials_issue_a_client_token_that_is_not_a_user(app: TestApp) {
    let (service, _) = service_client(&app, ClientChange::default()).await;
    let (status, body) =
        token_request(&app, &service, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let token = body["access_token"].as_str().expect("access token");
    let claims = decode_segment(token, 1);
    assert_eq!(claims["sub"], service.client_id);
    assert_eq!(claims["client_id"], service.client_id);
    assert_eq!(decode_segment(token, 0)["typ"], "at+jwt");
    assert_eq!(
        userinfo_status(&app, token).await,
        StatusCode::UNAUTHORIZED,
        "no user behind it"
    );
    let (_, intro) = post(&app, "/introspect", &service, &[("token", token)]).await;
    assert_eq!(intro["active"], true);

    let (status, body) = token_request(
        &app,
        &service,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let web_app = app.create_client(false, false).await; // not allowed client_credentials
    let (status, body) =
        token_request(&app, &web_app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
    );
}

async fn introspection_reports_live_tokens_and_hides_dead_ones(app: TestApp) {
    let (client, tokens) = signed_in_tokens(&app, "introspected").await;
    let access = tokens["access_token"].as_str().expect("access");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, at) = post(
        &app,
        "/introspect",
        &client,
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(at["active"], true);
    assert_eq!(at["client_id"], client.client_id);
    assert_eq!(at["username"], "introspected");
    assert_eq!(at["scope"], "openid profile email");
    assert_eq!(at["sub"], decode_segment(access, 1)["sub"]);
    let (_, rt) = post(&app, "/introspect", &client, &[("token", refresh)]).await;
    assert_eq!(
        (rt["active"].clone(), rt["token_type"].clone()),
        (json!(true), json!("refresh_token"))
    );
    for dead in ["garbage", "a.b.c", ""] {
        let (status, body) = post(&app, "/introspect", &client, &[("token", dead)]).await;
        if dead.is_empty() {
            assert_eq!(status, StatusCode::BAD_REQUEST, "token is required");
        } else {
            assert_eq!(
                body,
                json!({"active": false}),
                "nothing is revealed about {dead:?}"
            );
        }
    }
    // After rotation the old refresh token is inactive; after expiry the access token is.
    let (_, _) = token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    let (_, rt) = post(&app, "/introspect", &client, &[("token", refresh)]).await;
    assert_eq!(rt["active"], false);
    app.clock.advance(app.state.config.access_token_ttl + 1);
    let (_, at) = post(&app, "/introspect", &client, &[("token", access)]).await;
    assert_eq!(at["active"], false);

    let public = app.create_client(true, false).await;
    let response = crate::harness::http()
        .post(app.url("/introspect"))
        .form(&[("token", access), ("client_id", public.client_id.as_str())])
        .send()
        .await
        .expect("introspect");
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "public clients may not introspect"
    );
    let anonymous = crate::harness::http()
        .post(app.url("/introspect"))
        .form(&[("token", access)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn revoking_an_access_token_ends_it_and_revoking_a_refresh_token_ends_the_grant(
    app: TestApp,
) {
    let (client, tokens) = signed_in_tokens(&app, "revoker").await;
    let access = tokens["access_token"].as_str().expect("access");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, _) = post(
        &app,
        "/revoke",
        &client,
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        userinfo_status(&app, access).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, intro) = post(&app, "/introspect", &client, &[("token", access)]).await;
    assert_eq!(intro["active"], false);
    // Only that access token: the refresh token still works and yields a working access token.
    let (status, refreshed) = token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let new_access = refreshed["access_token"].as_str().expect("access");
    assert_eq!(userinfo_status(&app, new_access).await, StatusCode::OK);

    let new_refresh = refreshed["refresh_token"].as_str().expect("refresh");
    let (status, _) = post(&app, "/revoke", &client, &[("token", new_refresh)]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", new_refresh),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(
        userinfo_status(&app, new_access).await,
        StatusCode::UNAUTHORIZED,
        "the grant's access tokens end too"
    );

    let (status, _) = post(&app, "/revoke", &client, &[("token", "never-issued")]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "RFC 7009: unknown tokens are answered 200"
    );
    let (status, body) = post(&app, "/revoke", &client, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

async fn a_client_cannot_revoke_another_clients_token(app: TestApp) {
    let (_, tokens) = signed_in_tokens(&app, "victim").await;
    let other = app.create_client(false, true).await;
    let (status, body) = post(
        &app,
        "/revoke",
        &other,
        &[("token", tokens["refresh_token"].as_str().expect("rt"))],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
    );
    let (status, _) = post(
        &app,
        "/revoke",
        &other,
        &[("token", tokens["access_token"].as_str().expect("at"))],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        userinfo_status(&app, tokens["access_token"].as_str().expect("at")).await,
        StatusCode::OK
    );
}

pub(crate) fn assertion(
    app: &TestApp,
    client_id: &str,
    signer: &dyn JwsSigner,
    kid: Option<&str>,
    overrides: Value,
) -> String {
    let now = app.clock.now();
    let mut claims = json!({
        "iss": client_id, "sub": client_id, "aud": app.url("/token"),
        "iat": now, "exp": now + 60, "jti": hccc_sso::crypto::random_token(),
    });
    if let (Some(target), Some(extra)) = (claims.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    if let Some(kid) = kid {
        header.set_key_id(kid);
    }
    josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, signer).expect("sign")
}

pub(crate) async fn with_assertion(app: &TestApp, jwt: &str) -> (StatusCode, Value) {
    let response = crate::harness::http()
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", jwt),
        ])
        .send()
        .await
        .expect("token");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn private_key_jwt_authenticates_with_registered_keys_and_refuses_replays_and_forgeries(
    app: TestApp,
) {
    let rsa = RS256.generate_key_pair(2048).expect("rsa");
    let ec = ES256.generate_key_pair().expect("ec");
    let mut rsa_public = rsa.to_jwk_public_key();
    rsa_public.set_key_id("rsa-1");
    let mut ec_public = ec.to_jwk_public_key();
    ec_public.set_key_id("ec-1");
    let mut set = JwkSet::new();
    set.push_key(rsa_public);
    set.push_key(ec_public);
    let (client, secret) = service_client(
        &app,
        ClientChange {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks: Some(Some(set.to_string())),
            ..ClientChange::default()
        },
    )
    .await;
    assert!(secret.is_none(), "private_key_jwt clients get no secret");
    let id = client.client_id.as_str();
    let rsa_signer = RS256
        .signer_from_der(rsa.to_der_private_key())
        .expect("signer");
    let ec_signer = ES256
        .signer_from_der(ec.to_der_private_key())
        .expect("signer");

    let good = assertion(&app, id, &rsa_signer, Some("rsa-1"), json!({}));
    assert_eq!(with_assertion(&app, &good).await.0, StatusCode::OK);
    assert_eq!(
        with_assertion(&app, &good).await.0,
        StatusCode::UNAUTHORIZED,
        "a replayed jti is refused"
    );
    assert_eq!(
        with_assertion(
            &app,
            &assertion(&app, id, &ec_signer, Some("ec-1"), json!({}))
        )
        .await
        .0,
        StatusCode::OK,
        "ES256 keys work too"
    );
    let (status, body) = with_assertion(
        &app,
        &assertion(&app, id, &rsa_signer, None, json!({"aud": app.base})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the issuer is an accepted audience: {body}"
    );

    let stranger = RS256.generate_key_pair(2048).expect("rsa");
    let stranger_signer = RS256
        .signer_from_der(stranger.to_der_private_key())
        .expect("signer");
    let now = app.clock.now();
    let public_der = rsa.to_der_public_key();
    let hmac_with_public_key = HS256.signer_from_bytes(&public_der).expect("hmac");
    let forgeries = [
        (
            "foreign key",
            assertion(&app, id, &stranger_signer, Some("rsa-1"), json!({})),
        ),
        (
            "wrong audience",
            assertion(
                &app,
                id,
                &rsa_signer,
                None,
                json!({"aud": "https://elsewhere.example/token"}),
            ),
        ),
        (
            "expired",
            assertion(&app, id, &rsa_signer, None, json!({"exp": now - 1})),
        ),
        (
            "valid for too long",
            assertion(
                &app,
                id,
                &rsa_signer,
                None,
                json!({"exp": now + 3600 + 120}),
            ),
        ),
        (
            "iss is not the client",
            assertion(&app, id, &rsa_signer, None, json!({"iss": "someone"})),
        ),
        (
            "HMAC keyed with the public key",
            assertion(&app, id, &hmac_with_public_key, None, json!({})),
        ),
        ("alg none", {
            use base64::Engine;
            let b64 =
                |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none"})),
                b64(
                    &json!({"iss": id, "sub": id, "aud": app.url("/token"), "exp": now + 60, "jti": "x"})
                )
            )
        }),
        ("not a JWT", "garbage".to_owned()),
    ];
    for (name, jwt) in forgeries {
        let (status, body) = with_assertion(&app, &jwt).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{name}"
        );
    }
    // The wrong method for this client: a secret is not accepted.
    let (status, _) = token_request(
        &app,
        &TestClient {
            client_id: id.into(),
            secret: Some("guess".into()),
        },
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn private_key_jwt_keys_can_come_from_a_jwks_uri(app: TestApp) {
    let rsa = RS256.generate_key_pair(2048).expect("rsa");
    let mut public = rsa.to_jwk_public_key();
    public.set_key_id("k");
    let mut set = JwkSet::new();
    set.push_key(public);
    let body = set.to_string();
    let router =
        axum::Router::new().route("/jwks", axum::routing::get(move || async move { body }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let jwks_uri = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let (client, _) = service_client(
        &app,
        ClientChange {
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks_uri: Some(Some(jwks_uri)),
            ..ClientChange::default()
        },
    )
    .await;
    let signer = RS256
        .signer_from_der(rsa.to_der_private_key())
        .expect("signer");
    let (status, body) = with_assertion(
        &app,
        &assertion(&app, &client.client_id, &signer, Some("k"), json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn client_secret_jwt_authenticates_with_the_shared_secret(app: TestApp) {
    let (client, secret) = service_client(
        &app,
        ClientChange {
            token_endpoint_auth_method: Some("client_secret_jwt".into()),
            ..ClientChange::default()
        },
    )
    .await;
    let secret = secret.expect("client_secret_jwt clients get a secret");
    let id = client.client_id.as_str();
    let good = HS256.signer_from_bytes(secret.as_bytes()).expect("hmac");
    assert_eq!(
        with_assertion(&app, &assertion(&app, id, &good, None, json!({})))
            .await
            .0,
        StatusCode::OK
    );
    let wrong = HS256
        .signer_from_bytes(b"not the secret at all, not at all")
        .expect("hmac");
    assert_eq!(
        with_assertion(&app, &assertion(&app, id, &wrong, None, json!({})))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let rsa = RS256.generate_key_pair(2048).expect("rsa");
    let rsa_signer = RS256
        .signer_from_der(rsa.to_der_private_key())
        .expect("signer");
    assert_eq!(
        with_assertion(&app, &assertion(&app, id, &rsa_signer, None, json!({})))
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "RS256 is not this client's method"
    );
}

on_both_backends!(
    client_credentials_issue_a_client_token_that_is_not_a_user,
    introspection_reports_live_tokens_and_hides_dead_ones,
    revoking_an_access_token_ends_it_and_revoking_a_refresh_token_ends_the_grant,
    a_client_cannot_revoke_another_clients_token,
    private_key_jwt_authenticates_with_registered_keys_and_refuses_replays_and_forgeries,
    private_key_jwt_keys_can_come_from_a_jwks_uri,
    client_secret_jwt_authenticates_with_the_shared_secret,
);
