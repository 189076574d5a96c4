//! Pushed Authorization Requests (RFC 9126): the client posts its authorization request directly,
//! authenticated, and sends the browser to /authorize with only a short-lived request_uri.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::authorize::{self, PAR_PREFIX, PAR_TTL, Refusal};
use super::client_auth;
use super::error::OAuthError;
use super::form::OAuthForm;
use crate::state::AppState;

pub async fn post_par(
    State(app): State<AppState>,
    headers: HeaderMap,
    OAuthForm(mut params): OAuthForm,
) -> Result<Response, OAuthError> {
    // A refusal before the request is checked is logged here; `validate` logs its own.
    let refuse = |e: OAuthError| {
        if e.code.status().is_client_error() {
            authorize::log_refusal(&params, Some(e.code.as_str()), &e.description, true);
        }
        e
    };
    let client = client_auth::authenticate(&app, &headers, &params)
        .await
        .map_err(refuse)?;
    if params.contains("request_uri") {
        return Err(refuse(OAuthError::invalid_request(
            "request_uri cannot be pushed",
        )));
    }
    // Client authentication is not part of the authorization request that is stored.
    for name in ["client_secret", "client_assertion", "client_assertion_type"] {
        params.remove(name);
    }
    params.insert("client_id", &client.client_id.to_string());
    // Check it all now, so the client learns of mistakes here rather than through the browser.
    match authorize::validate(&app, &params, true).await? {
        Ok(_) => {}
        Err(Refusal::Redirect(_, code, description)) => {
            return Err(OAuthError::new(code, description));
        }
        Err(Refusal::Page(_, message)) => {
            let description = crate::i18n::Lang::ENGLISH.text(message);
            return Err(OAuthError::invalid_request(description));
        }
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
