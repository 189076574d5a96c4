//! Token introspection (RFC 7662) and revocation (RFC 7009), for authenticated clients.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::client_auth;
use super::error::OAuthError;
use super::tokens::{AccessTokenProblem, validate_access_token};
use crate::crypto;
use crate::http::form_params;
use crate::state::AppState;
use crate::store::ClientRow;

#[derive(Serialize, Default)]
struct Introspection {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Our access tokens are JWTs (three dot-separated parts); refresh tokens are opaque.
fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

async fn authenticated(
    app: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(ClientRow, String), OAuthError> {
    let params = form_params(headers, body).map_err(OAuthError::invalid_request)?;
    let client = client_auth::authenticate(app, headers, &params).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    Ok((client, token.to_owned()))
}

/// Any confidential client may introspect (resource servers check tokens issued to others).
pub async fn post_introspect(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (client, token) = authenticated(&app, &headers, &body).await?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "public clients may not introspect tokens",
        ));
    }
    let now = app.clock.now();
    let answer = if looks_like_jwt(&token) {
        match validate_access_token(&app, &token).await {
            Ok(live) => Introspection {
                active: true,
                username: live.user.as_ref().map(|u| u.account.username.clone()),
                scope: Some(live.claims.scope),
                client_id: Some(live.claims.client_id),
                token_type: Some("Bearer"),
                exp: Some(live.claims.exp),
                iat: Some(live.claims.iat),
                sub: Some(live.claims.sub),
                aud: Some(live.claims.aud),
                iss: Some(live.claims.iss),
                jti: Some(live.claims.jti),
                sid: live.claims.sid,
            },
            Err(AccessTokenProblem::Invalid(_)) => Introspection::default(),
            Err(AccessTokenProblem::Store(e)) => return Err(e.into()),
        }
    } else {
        let hash = crypto::sha256(token.as_bytes());
        let found = app.store.find_refresh_token(&hash).await?;
        let live = match found {
            Some(rt) if rt.rotated_at.is_none() && rt.expires_at > now => {
                let grant = app
                    .store
                    .find_grant(rt.grant_id)
                    .await?
                    .filter(|g| g.revoked_at.is_none());
                match grant {
                    Some(grant) => app
                        .store
                        .find_account(grant.account_id)
                        .await?
                        .filter(|a| !a.disabled)
                        .map(|a| (rt, grant, a)),
                    None => None,
                }
            }
            _ => None,
        };
        match live {
            Some((rt, grant, account)) => Introspection {
                active: true,
                scope: Some(grant.scope),
                client_id: Some(grant.client_id.to_string()),
                username: Some(account.username),
                token_type: Some("refresh_token"),
                exp: Some(rt.expires_at),
                iat: Some(rt.created_at),
                sub: Some(account.account_id.to_string()),
                iss: Some(app.config.issuer.clone()),
                sid: Some(grant.sid.to_string()),
                ..Introspection::default()
            },
            None => Introspection::default(),
        }
    };
    Ok(no_store(Json(answer)))
}

/// Revokes an access token (that token only) or a refresh token (its whole grant).
/// Unknown or already invalid tokens are answered 200, as RFC 7009 §2.2 asks.
pub async fn post_revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let (client, token) = authenticated(&app, &headers, &body).await?;
    let now = app.clock.now();
    let not_yours = || OAuthError::unauthorized_client("the token was not issued to this client");
    if looks_like_jwt(&token) {
        match validate_access_token(&app, &token).await {
            Ok(live) if live.claims.client_id != client.client_id.to_string() => {
                return Err(not_yours());
            }
            Ok(live) => {
                app.store
                    .revoke_access_token(&live.claims.jti, live.claims.exp)
                    .await?
            }
            Err(AccessTokenProblem::Invalid(_)) => {}
            Err(AccessTokenProblem::Store(e)) => return Err(e.into()),
        }
    } else if let Some(rt) = app
        .store
        .find_refresh_token(&crypto::sha256(token.as_bytes()))
        .await?
    {
        let grant = app.store.find_grant(rt.grant_id).await?;
        if let Some(grant) = grant {
            if grant.client_id != client.client_id {
                return Err(not_yours());
            }
            app.store.revoke_grant(grant.grant_id, now).await?;
        }
    }
    Ok(no_store(StatusCode::OK))
}
