//! Device Authorization Grant (RFC 8628): the device authorization endpoint and user codes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use uuid::Uuid;

use super::client_auth;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::scopes::{Scope, ScopeSet};
use crate::crypto;
use crate::domain::GrantType;
use crate::state::AppState;
use crate::store::{NewDevice, StoreError};

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Device codes live this long (seconds).
pub const DEVICE_TTL: i64 = 600;
/// The polling interval a device starts with (seconds).
pub const POLL_INTERVAL: i64 = 5;
/// Letters that cannot be confused with each other or spell words easily (RFC 8628 §6.1).
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Eight letters from the alphabet, drawn without modulo bias.
fn new_user_code() -> String {
    let mut code = String::with_capacity(8);
    while code.len() < 8 {
        for byte in crypto::random_bytes::<16>() {
            // 240 is the largest multiple of 20 below 256: reject above it so each letter is equally likely.
            if byte < 240
                && code.len() < 8
                && let Some(letter) = USER_CODE_ALPHABET.get((byte % 20) as usize)
            {
                code.push(*letter as char);
            }
        }
    }
    code
}

/// What people type: case, dashes and spaces do not matter.
pub fn normalize_user_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .take(16)
        .collect()
}

/// `BCDFGHJK` → `BCDF-GHJK`.
pub fn display_user_code(code: &str) -> String {
    match code.split_at_checked(4) {
        Some((a, b)) => format!("{a}-{b}"),
        None => code.to_owned(),
    }
}

pub struct StartedDevice {
    pub device_code: String,
    pub user_code: String,
}

/// Creates a device request (for a client, or for the QR sign-in when `client_id` is None).
/// Starts a device request: for `client_id` (RFC 8628), or with none for a QR sign-in, which
/// names the app it was started for (`for_client_id`) on the phone's page.
pub async fn start(
    app: &AppState,
    client_id: Option<Uuid>,
    for_client_id: Option<Uuid>,
    scope: &str,
    requester: Option<(&str, &str)>,
    now: i64,
) -> Result<StartedDevice, StoreError> {
    let device_code = crypto::random_token();
    let hash = crypto::sha256(device_code.as_bytes());
    // A collision of user codes is astronomically rare; retry once on the unique index.
    for attempt in 0..2 {
        let user_code = new_user_code();
        let new = NewDevice {
            device_code_hash: &hash,
            user_code: &user_code,
            client_id,
            for_client_id,
            scope,
            expires_at: now + DEVICE_TTL,
            poll_interval: POLL_INTERVAL,
            requester,
        };
        match app.store.insert_device(new, now).await {
            Ok(()) => {
                return Ok(StartedDevice {
                    device_code,
                    user_code,
                });
            }
            Err(StoreError::Conflict) if attempt == 0 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

#[derive(Serialize)]
struct DeviceAuthorizationResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: i64,
    interval: i64,
}

pub async fn post_device_authorization(
    State(app): State<AppState>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&app, &headers, &params).await?;
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(OAuthError::unauthorized_client(
            "this client may not use the device authorization grant",
        ));
    }
    let allowed = client.settings.allowed_scopes;
    let requested = ScopeSet::parse(params.get("scope").unwrap_or("openid"));
    let mut scopes = requested.intersect(allowed);
    if scopes.is_empty() && allowed.contains(Scope::Openid) {
        scopes = scopes.with(Scope::Openid);
    }
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "none of the requested scopes is allowed for this client",
        ));
    }
    let now = app.clock.now();
    let started = start(
        &app,
        Some(client.client_id),
        None,
        &scopes.to_string(),
        None,
        now,
    )
    .await?;
    let user_code = display_user_code(&started.user_code);
    let verification_uri = app.config.url(crate::domain::protocol::paths::DEVICE);
    let body = DeviceAuthorizationResponse {
        verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
        verification_uri,
        device_code: started.device_code,
        user_code,
        expires_in: DEVICE_TTL,
        interval: POLL_INTERVAL,
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_unambiguous_alphabet_and_normalize() {
        for _ in 0..200 {
            let code = new_user_code();
            assert_eq!(code.len(), 8);
            assert!(
                code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
        }
        assert_eq!(normalize_user_code(" bcdf-ghjk "), "BCDFGHJK");
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
    }
}
