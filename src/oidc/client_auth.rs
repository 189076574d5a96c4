//! Client authentication at the token, PAR, introspection and revocation endpoints:
//! client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt (RFC 7523), none.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{ES256, HS256, JwsVerifier, RS256};
use serde::Deserialize;
use uuid::Uuid;

use super::error::OAuthError;
use crate::crypto;
use crate::domain::AuthMethod;
use crate::domain::protocol::paths;
use crate::http::Params;
use crate::state::AppState;
use crate::store::ClientRow;

const BAD_CLIENT: &str = "client authentication failed";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Assertions may not be valid for longer than this (seconds), which bounds the replay cache.
/// One hour: Authlib signs its assertions for 3600 s by default.
const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// Clock difference allowed between the client and us when judging that lifetime (seconds).
const CLOCK_SKEW: i64 = 60;

fn bad_client() -> OAuthError {
    OAuthError::invalid_client(BAD_CLIENT)
}

/// `(client_id, client_secret)` from an `Authorization: Basic` header, form-decoded per RFC 6749 §2.3.1.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| bad_client())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad_client())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad_client())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad_client)?;
    let form_decode = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((form_decode(id), form_decode(secret))))
}

enum Presented {
    Secret(String),
    Assertion(String),
    Nothing,
}

/// Identifies and authenticates the client making a request to a back-channel endpoint.
pub async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientRow, OAuthError> {
    let body_id = params.get("client_id");
    let basic = basic_credentials(headers)?;
    let assertion = match (
        params.get("client_assertion_type"),
        params.get("client_assertion"),
    ) {
        (Some(JWT_BEARER), Some(jwt)) => Some(jwt.to_owned()),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "client_assertion_type must be jwt-bearer",
            ));
        }
        _ => {
            return Err(OAuthError::invalid_request(
                "client_assertion and client_assertion_type go together",
            ));
        }
    };
    let methods = [
        basic.is_some(),
        params.contains("client_secret"),
        assertion.is_some(),
    ];
    if methods.iter().filter(|m| **m).count() > 1 {
        return Err(OAuthError::invalid_request(
            "use only one client authentication method",
        ));
    }
    let (client_id, presented) = if let Some((id, secret)) = basic {
        (id, Presented::Secret(secret))
    } else if let Some(secret) = params.get("client_secret") {
        let id = body_id.ok_or_else(|| {
            OAuthError::invalid_request("client_id is required with client_secret")
        })?;
        (id.to_owned(), Presented::Secret(secret.to_owned()))
    } else if let Some(jwt) = assertion {
        let id = assertion_subject(&jwt).ok_or_else(bad_client)?;
        (id, Presented::Assertion(jwt))
    } else {
        let id = body_id
            .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
        (id.to_owned(), Presented::Nothing)
    };
    if body_id.is_some_and(|b| b != client_id) {
        return Err(OAuthError::invalid_request(
            "client_id differs from the authenticated client",
        ));
    }
    let client_uuid = Uuid::parse_str(&client_id).map_err(|_| bad_client())?;
    let client = app
        .store
        .find_client(client_uuid)
        .await?
        .ok_or_else(bad_client)?;
    let method = client.token_endpoint_auth_method;
    match presented {
        Presented::Nothing if method == AuthMethod::None => Ok(client),
        Presented::Secret(secret)
            if matches!(
                method,
                AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
            ) =>
        {
            // Secrets are 256-bit random values, so a plain SHA-256 is a sound verifier (no KDF needed).
            let presented = crypto::sha256(secret.as_bytes());
            match &client.secret_hash {
                Some(stored) if crypto::constant_time_eq(stored, &presented) => Ok(client),
                _ => Err(bad_client()),
            }
        }
        Presented::Assertion(jwt)
            if matches!(
                method,
                AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
            ) =>
        {
            verify_assertion(app, &client, &jwt).await?;
            Ok(client)
        }
        _ => Err(bad_client()),
    }
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    #[serde(deserialize_with = "one_or_many")]
    aud: Vec<String>,
    exp: i64,
    jti: String,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The unverified `sub` of an assertion: only used to find whose keys verify it.
fn assertion_subject(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("sub")?.as_str().map(str::to_owned)
}

/// The client's public keys for private_key_jwt: inline JWKS or fetched from its jwks_uri.
async fn client_keys(app: &AppState, client: &ClientRow) -> Result<JwkSet, OAuthError> {
    let raw = match (&client.settings.jwks, &client.settings.jwks_uri) {
        (Some(inline), _) => inline.clone().into_bytes(),
        // Why the fetch failed is for the operator's log: the answer would tell an outsider
        // what our server can reach.
        (None, Some(uri)) => crate::outbound::fetch_limited(&app.http, uri, 64 * 1024)
            .await
            .map_err(|e| {
                tracing::warn!(client_id = %client.client_id, error = %e, "the client's jwks_uri could not be read");
                bad_client()
            })?,
        (None, None) => {
            return Err(OAuthError::invalid_client(
                "the client has no registered keys",
            ));
        }
    };
    JwkSet::from_bytes(&raw)
        .map_err(|_| OAuthError::invalid_client("the client's registered keys are not a JWKS"))
}

async fn verify_assertion(app: &AppState, client: &ClientRow, jwt: &str) -> Result<(), OAuthError> {
    let header_alg = jwt
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|h| {
            Some((
                h.get("alg")?.as_str()?.to_owned(),
                h.get("kid").and_then(|k| k.as_str()).map(str::to_owned),
            ))
        });
    let Some((alg, kid)) = header_alg else {
        return Err(bad_client());
    };

    // Each method has its own algorithms: `none` and HMAC-with-a-public-key confusion are impossible.
    let verifiers: Vec<Box<dyn JwsVerifier>> =
        match (client.token_endpoint_auth_method, alg.as_str()) {
            (AuthMethod::PrivateKeyJwt, "RS256" | "ES256") => {
                let keys = client_keys(app, client).await?;
                let candidates: Vec<&Jwk> = match &kid {
                    Some(kid) => keys.get(kid),
                    None => keys.keys(),
                };
                candidates
                    .into_iter()
                    // Keys are already chosen by kid; a verifier that kept one would also demand it in the header.
                    .filter_map(|jwk| -> Option<Box<dyn JwsVerifier>> {
                        match alg.as_str() {
                            "RS256" => RS256.verifier_from_jwk(jwk).ok().map(|mut v| {
                                v.remove_key_id();
                                Box::new(v) as Box<dyn JwsVerifier>
                            }),
                            _ => ES256.verifier_from_jwk(jwk).ok().map(|mut v| {
                                v.remove_key_id();
                                Box::new(v) as Box<dyn JwsVerifier>
                            }),
                        }
                    })
                    .collect()
            }
            (AuthMethod::ClientSecretJwt, "HS256") => {
                let sealed = client
                    .settings
                    .secret_encrypted
                    .as_ref()
                    .ok_or_else(bad_client)?;
                let secret = crypto::open(&app.key_encryption, client.client_id.as_bytes(), sealed)
                    .map_err(|e| {
                        OAuthError::server_error(format!("client secret does not decrypt: {e}"))
                    })?;
                vec![Box::new(HS256.verifier_from_bytes(&secret)?)]
            }
            _ => {
                return Err(OAuthError::invalid_client(
                    "assertion algorithm not allowed for this client",
                ));
            }
        };
    let payload = verifiers
        .iter()
        .find_map(|v| josekit::jws::deserialize_compact(jwt, v.as_ref()).ok())
        .map(|(payload, _)| payload)
        .ok_or_else(bad_client)?;
    let claims: AssertionClaims = serde_json::from_slice(&payload).map_err(|_| bad_client())?;
    let now = app.clock.now();
    let id = client.client_id.to_string();
    let config = &app.config;
    let audiences: Vec<String> = std::iter::once(config.issuer.clone())
        .chain(paths::ASSERTION_AUDIENCES.iter().map(|p| config.url(p)))
        .collect();
    if claims.iss != id || claims.sub != id {
        return Err(OAuthError::invalid_client(
            "assertion iss and sub must be the client_id",
        ));
    }
    if !claims.aud.iter().any(|a| audiences.contains(a)) {
        return Err(OAuthError::invalid_client(
            "assertion audience is not this server",
        ));
    }
    if claims.exp <= now {
        return Err(OAuthError::invalid_client("assertion has expired"));
    }
    if claims.exp > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW {
        return Err(OAuthError::invalid_client(
            "assertion is valid for longer than one hour",
        ));
    }
    if !app
        .store
        .record_assertion_jti(&format!("{id}:{}", claims.jti), claims.exp)
        .await?
    {
        return Err(OAuthError::invalid_client("assertion jti was already used"));
    }
    Ok(())
}
