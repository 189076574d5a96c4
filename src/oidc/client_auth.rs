//! Client authentication at the token endpoint: client_secret_basic, client_secret_post, none.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use uuid::Uuid;

use super::error::OAuthError;
use crate::crypto;
use crate::http::Params;
use crate::state::AppState;
use crate::store::ClientRow;

const BAD_CLIENT: &str = "client authentication failed";

/// `(client_id, client_secret)` from an `Authorization: Basic` header, form-decoded per RFC 6749 §2.3.1.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| OAuthError::invalid_client(BAD_CLIENT))?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| OAuthError::invalid_client(BAD_CLIENT))?;
    let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::invalid_client(BAD_CLIENT))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| OAuthError::invalid_client(BAD_CLIENT))?;
    let form_decode = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((form_decode(id), form_decode(secret))))
}

/// Identifies and authenticates the client making a token request.
pub async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientRow, OAuthError> {
    let body_id = params.get("client_id");
    let (client_id, secret) = match (basic_credentials(headers)?, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use only one client authentication method",
            ));
        }
        (Some((id, secret)), None) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            (id, Some(secret))
        }
        (None, Some(secret)) => {
            let id = body_id.ok_or_else(|| {
                OAuthError::invalid_request("client_id is required with client_secret")
            })?;
            (id.to_owned(), Some(secret.to_owned()))
        }
        (None, None) => {
            let id = body_id
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
            (id.to_owned(), None)
        }
    };
    let client_id =
        Uuid::parse_str(&client_id).map_err(|_| OAuthError::invalid_client(BAD_CLIENT))?;
    let client = app
        .store
        .find_client(client_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_client(BAD_CLIENT))?;
    match (&client.secret_hash, secret) {
        (None, None) if client.is_public() => Ok(client),
        (Some(stored), Some(presented)) if !client.is_public() => {
            // Secrets are 256-bit random values, so a plain SHA-256 is a sound verifier (no KDF needed).
            let presented = crypto::sha256(presented.as_bytes());
            if crypto::constant_time_eq(stored, &presented) {
                Ok(client)
            } else {
                Err(OAuthError::invalid_client(BAD_CLIENT))
            }
        }
        _ => Err(OAuthError::invalid_client(BAD_CLIENT)),
    }
}
