//! The token endpoint (RFC 6749 §3.2): parses the request, authenticates the client, and hands the
//! request to its grant (`grants/`).

use axum::extract::State;
use axum::http::HeaderMap;

use super::client_auth;
use super::error::OAuthError;
use super::form::OAuthForm;
use super::grants::{self, TokenRequest, TokenResponse};
use crate::http::ClientIp;
use crate::state::AppState;

pub async fn post_token(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let client = client_auth::authenticate(&app, &headers, &params).await?;
    let request = TokenRequest::parse(&params)?;
    let grant_type = request.grant_type();
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use {grant_type}"
        )));
    }
    let now = app.clock.now();
    let issued = match request {
        TokenRequest::AuthorizationCode(r) => {
            grants::authorization_code::exchange(&app, &client, r, now).await
        }
        TokenRequest::RefreshToken(r) => grants::refresh_token::rotate(&app, &client, r, now).await,
        TokenRequest::ClientCredentials(r) => {
            grants::client_credentials::issue(&app, &client, r, now)
        }
        TokenRequest::DeviceCode(r) => grants::device_code::poll(&app, &client, r, now).await,
        TokenRequest::Password(r) => grants::password::sign_in(&app, &client, r, &ip, now).await,
    };
    if issued.is_ok() {
        crate::telemetry_metrics::token_issued(grant_type.as_str());
    }
    issued
}
