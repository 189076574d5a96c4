//! The client credentials grant (RFC 6749 §4.4): a service client's own token.

use super::TokenResponse;
use crate::oidc::error::OAuthError;
use crate::oidc::jwt::mint_client_token;
use crate::state::AppState;
use crate::store::ClientRow;

pub struct ClientCredentialsRequest {
    pub scope: Option<String>,
}

/// The token carries no user, so OpenID scopes do not apply; the one scope available is `api`,
/// to clients an admin gave API roles (and the default for them).
pub fn issue(
    app: &AppState,
    client: &ClientRow,
    request: ClientCredentialsRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "public clients may not use client_credentials",
        ));
    }
    let has_api_roles = !client.settings.api_roles.is_empty();
    let requested = request
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let scope = match requested {
        None if has_api_roles => "api",
        None => "",
        Some("api") if has_api_roles => "api",
        Some(_) => {
            return Err(OAuthError::invalid_scope(if has_api_roles {
                "the only scope available to client_credentials is api"
            } else {
                "no scopes are available to this client's client_credentials grant"
            }));
        }
    };
    let ttl = app.config.access_token_ttl;
    let access_token = mint_client_token(
        &app.keys,
        &app.config.issuer,
        &client.client_id.to_string(),
        scope,
        now,
        ttl,
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: None,
        id_token: None,
        scope: scope.to_owned(),
    })
}
