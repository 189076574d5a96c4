//! Pushed Authorization Requests (RFC 9126): the client posts its authorization request directly,
//! authenticated, and sends the browser to /authorize with only a short-lived request_uri.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::authorize::{self, AuthorizeError, PAR_PREFIX, PAR_TTL};
use super::client_auth;
use super::error::OAuthError;
use crate::http::form_params;
use crate::state::AppState;

pub async fn post_par(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let mut params = form_params(&headers, &body).map_err(OAuthError::invalid_request)?;
    let client = client_auth::authenticate(&app, &headers, &params).await?;
    if params.contains("request_uri") {
        return Err(OAuthError::invalid_request("request_uri cannot be pushed"));
    }
    // Client authentication is not part of the authorization request that is stored.
    for name in ["client_secret", "client_assertion", "client_assertion_type"] {
        params.remove(name);
    }
    params.insert("client_id", &client.client_id.to_string());
    // Check it all now, so the client learns of mistakes here rather than through the browser.
    match authorize::validate(&app, &params, true).await {
        Ok(_) => {}
        Err(AuthorizeError::Redirect(_, code, description)) => {
            return Err(OAuthError::new(code, description));
        }
        // A page error from our side (database down) is ours, not the client's mistake.
        Err(AuthorizeError::Page(page)) if page.status == StatusCode::SERVICE_UNAVAILABLE => {
            return Err(OAuthError::new("temporarily_unavailable", page.message));
        }
        Err(AuthorizeError::Page(page)) if page.status.is_server_error() => {
            return Err(OAuthError::server_error(page.title));
        }
        Err(AuthorizeError::Page(page)) => return Err(OAuthError::invalid_request(page.message)),
    }
    let now = app.clock.now();
    let stored = serde_json::to_string(&params).map_err(OAuthError::server_error)?;
    let id = app
        .store
        .insert_pushed_request(client.client_id, &stored, now + PAR_TTL)
        .await?;
    let mut response = (
        StatusCode::CREATED,
        Json(json!({ "request_uri": format!("{PAR_PREFIX}{id}"), "expires_in": PAR_TTL })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
