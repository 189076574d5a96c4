//! Token introspection (RFC 7662), for authenticated confidential clients.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::client_auth;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::jwt::{AccessTokenProblem, validate_access_token};
use crate::crypto;
use crate::http::Params;
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

/// Answers that must not be cached (RFC 7662 §4, RFC 7009 §2.2).
pub(crate) fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Our access tokens are JWTs (three dot-separated parts); refresh tokens are opaque.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// The client (authenticated) and the `token` parameter of an introspection or revocation.
pub(crate) async fn authenticated(
    app: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(ClientRow, String), OAuthError> {
    let client = client_auth::authenticate(app, headers, params).await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    Ok((client, token.to_owned()))
}

/// Any confidential client may introspect (resource servers check tokens issued to others).
pub async fn post_introspect(
    State(app): State<AppState>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<Response, OAuthError> {
    let (client, token) = authenticated(&app, &headers, &params).await?;
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
