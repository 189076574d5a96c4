//! A complete sign-in with the `openidconnect` crate as the relying party.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use reqwest::StatusCode;

use crate::flows::{location, query_of, submit_consent, submit_login, userinfo_status};
use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends, reqwest};

async fn openidconnect_crate_signs_a_student_in_end_to_end(app: TestApp) {
    let student = app.create_user("astudent").await;
    let registered = app.create_client(false, false).await;
    let http = crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");

    // Discovery and client set-up, exactly as a college app would do it.
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.base.clone()).expect("issuer"),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client_id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf_state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: authorize → login page → consent page → back to the app.
    let browser = browser();
    let response = browser
        .get(auth_url.as_str())
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let login_path = location(&response);
    assert!(login_path.starts_with("/login?request="), "{login_path}");
    let response = submit_login(&app, &browser, &login_path, "astudent", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let consent_path = location(&response);
    assert!(
        consent_path.starts_with("/consent?request="),
        "{consent_path}"
    );
    let response = submit_consent(&app, &browser, &consent_path, "allow").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let callback = location(&response);
    assert!(callback.starts_with(REDIRECT_URI));
    let params = query_of(&callback);
    assert_eq!(params.get("state"), Some(csrf_state.secret()));
    assert_eq!(params.get("iss"), Some(&app.base), "RFC 9207 iss parameter");

    // Code exchange; the crate verifies the ID token's signature against our JWKS, iss, aud, exp and nonce.
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .expect("token endpoint known")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let id_verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("ID token verifies");
    assert_eq!(claims.subject().as_str(), student.account_id.to_string());
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("astudent")
    );
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&id_verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(
        claims.access_token_hash(),
        Some(&expected_hash),
        "at_hash matches the access token"
    );

    // UserInfo with the access token.
    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .expect("userinfo endpoint known")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.subject().as_str(), student.account_id.to_string());
    assert_eq!(
        userinfo.email().map(|e| e.as_str()),
        Some("astudent@students.hccc.edu")
    );

    // Refresh rotates the token; the old one then fails, and so does the whole family.
    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .expect("token endpoint known")
        .request_async(&http)
        .await
        .expect("refresh");
    let second_refresh = refreshed
        .refresh_token()
        .expect("a rotated refresh token")
        .clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    refreshed
        .id_token()
        .expect("refresh returns an ID token")
        .claims(&id_verifier, |_: Option<&Nonce>| Ok(()))
        .expect("refreshed ID token verifies");
    assert_eq!(
        userinfo_status(&app, refreshed.access_token().secret()).await,
        StatusCode::OK
    );

    let reuse = client
        .exchange_refresh_token(&RefreshToken::new(first_refresh.secret().clone()))
        .expect("token endpoint known")
        .request_async(&http)
        .await;
    let message = format!(
        "{:?}",
        reuse.expect_err("a rotated refresh token must fail")
    );
    assert!(message.contains("invalid_grant"), "{message}");
    let after_reuse = client
        .exchange_refresh_token(&second_refresh)
        .expect("known")
        .request_async(&http)
        .await;
    assert!(
        after_reuse.is_err(),
        "reuse revokes the whole family, including the newest token"
    );
    assert_eq!(
        userinfo_status(&app, refreshed.access_token().secret()).await,
        StatusCode::UNAUTHORIZED,
        "access tokens of a revoked family stop working"
    );

    // RP-initiated logout with the crate's logout request, from the discovered end_session_endpoint.
    let post_logout = "http://127.0.0.1:8765/logged-out";
    app.edit_client(&registered.client_id, |row| {
        row.post_logout_redirect_uris = vec![post_logout.into()];
    })
    .await;
    let logout_metadata = ProviderMetadataWithLogout::discover_async(
        IssuerUrl::new(app.base.clone()).expect("issuer"),
        &http,
    )
    .await
    .expect("discovery with logout metadata");
    let end_session = logout_metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint");
    let logout_url = LogoutRequest::from(end_session)
        .set_id_token_hint(id_token)
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(post_logout.into()).expect("url"))
        .set_state(CsrfToken::new("bye".into()))
        .http_get_url();
    let response = browser
        .get(logout_url.as_str())
        .send()
        .await
        .expect("logout");
    let back = location(&response);
    assert!(back.starts_with(post_logout), "{back}");
    assert_eq!(
        query_of(&back).get("state").map(String::as_str),
        Some("bye")
    );
    let (silent, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .url();
    let response = browser
        .get(silent.as_str())
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&response))
            .get("error")
            .map(String::as_str),
        Some("login_required"),
        "signed out"
    );
}

async fn a_client_configured_for_es256_gets_es256_id_tokens_the_crate_verifies(app: TestApp) {
    app.create_user("ecuser").await;
    let registered = app.create_client(false, true).await;
    app.edit_client(&registered.client_id, |row| {
        row.settings.id_token_alg = "ES256".into();
    })
    .await;

    let http = crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.base.clone()).expect("issuer"),
        &http,
    )
    .await
    .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.client_id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let params =
        crate::flows::sign_in_for_code(&app, &browser(), auth_url.as_str(), "ecuser").await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("exchange");
    let id_token = tokens.id_token().expect("id token");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("the ES256 ID token verifies against our JWKS");
    assert_eq!(
        id_token.signing_alg().expect("alg"),
        &CoreJwsSigningAlgorithm::EcdsaP256Sha256
    );
    assert!(claims.access_token_hash().is_some());
    // A verifier that allows only RS256 refuses it.
    let rs256_only = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert!(id_token.claims(&rs256_only, &nonce).is_err());
    // Access tokens stay RS256 for every client.
    let header = crate::token::decode_segment(tokens.access_token().secret(), 0);
    assert_eq!(header["alg"], "RS256");
}

on_both_backends!(
    openidconnect_crate_signs_a_student_in_end_to_end,
    a_client_configured_for_es256_gets_es256_id_tokens_the_crate_verifies,
);
