//! OpenID Connect Discovery 1.0 and RFC 8414 metadata, and the JWKS. All served from memory.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::scopes::Scope;
use crate::accounts::factors::{ACR_PASSWORD, REFEDS_MFA};
use crate::config::Config;
use crate::domain::protocol::{ASSERTION_ALGS, ID_TOKEN_CLAIMS, USER_CLAIMS, paths};
use crate::domain::{AuthMethod, GrantType};
use crate::state::AppState;

/// The provider metadata: it advertises exactly what is implemented, from the facts declared in
/// `domain::protocol` (the router reads the same paths).
pub fn provider_metadata(config: &Config) -> Value {
    let url = |path: &str| config.url(path);
    let confidential: Vec<&str> = AuthMethod::CONFIDENTIAL
        .iter()
        .map(|m| m.as_str())
        .collect();
    let claims: Vec<&str> = ID_TOKEN_CLAIMS
        .iter()
        .chain(&USER_CLAIMS)
        .copied()
        .collect();
    json!({
        "issuer": config.issuer,
        "authorization_endpoint": url(paths::AUTHORIZE),
        "token_endpoint": url(paths::TOKEN),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "end_session_endpoint": url(paths::END_SESSION),
        "device_authorization_endpoint": url(paths::DEVICE_AUTHORIZATION),
        "pushed_authorization_request_endpoint": url(paths::PAR),
        "require_pushed_authorization_requests": false,
        "revocation_endpoint": url(paths::REVOKE),
        "introspection_endpoint": url(paths::INTROSPECT),
        "scopes_supported": Scope::ALL.map(Scope::as_str),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": GrantType::names(),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": crate::keys::ALGORITHMS,
        "token_endpoint_auth_methods_supported": AuthMethod::names(),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": AuthMethod::names(),
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": confidential,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims,
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": true,
        "acr_values_supported": [ACR_PASSWORD, REFEDS_MFA],
        "request_parameter_supported": false,
        // request_uri is accepted only for pushed requests (RFC 9126), not fetched from URLs.
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": crate::i18n::Lang::all().map(crate::i18n::Lang::tag).collect::<Vec<_>>(),
    })
}

/// A prebuilt body: cloning `Bytes` shares it, so no request copies or serializes anything.
fn cached_json(body: Bytes, content_type: &'static str, max_age: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(max_age)),
        ],
        body,
    )
        .into_response()
}

pub async fn get_openid_configuration(State(app): State<AppState>) -> Response {
    cached_json(
        app.openid_configuration.clone(),
        "application/json",
        "public, max-age=3600",
    )
}

pub async fn get_oauth_metadata(State(app): State<AppState>) -> Response {
    cached_json(
        app.oauth_metadata.clone(),
        "application/json",
        "public, max-age=3600",
    )
}

/// Short cache: a rotated key is published well before it signs (see keys::KeyRing::rotate).
pub async fn get_jwks(State(app): State<AppState>) -> Response {
    cached_json(
        app.keys.jwks_json(),
        "application/jwk-set+json",
        "public, max-age=300",
    )
}
