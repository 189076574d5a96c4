//! Token revocation (RFC 7009), for authenticated clients: only their own tokens.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::error::OAuthError;
use super::form::OAuthForm;
use super::introspect::{authenticated, looks_like_jwt, no_store};
use super::jwt::{AccessTokenProblem, validate_access_token};
use crate::crypto;
use crate::state::AppState;

/// Revokes an access token (that token only) or a refresh token (its whole grant).
/// Unknown or already invalid tokens are answered 200, as RFC 7009 §2.2 asks.
pub async fn post_revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<Response, OAuthError> {
    let (client, token) = authenticated(&app, &headers, &params).await?;
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
