//! RP-Initiated Logout 1.0 at the end_session_endpoint (`/logout`), which also serves the
//! sign-out button of our own pages.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use url::Url;
use uuid::Uuid;

use super::backchannel;
use crate::http::Params;
use crate::http::page::{PageError, PageForm, page_query, render};
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, LoginState};
use crate::state::AppState;
use crate::store::ClientRow;

#[derive(Template)]
#[template(path = "logout_confirm.html")]
struct ConfirmLogoutPage {
    csrf_token: String,
    user_name: String,
    client_name: Option<String>,
    fields: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOutPage {}

/// The claims of an ID token presented as `id_token_hint` that logout uses.
#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    sub: String,
    aud: serde_json::Value,
    sid: Option<String>,
}

struct LogoutRequest {
    client: Option<ClientRow>,
    hint: Option<HintClaims>,
    /// Where to send the browser afterwards, and the state to return.
    redirect: Option<String>,
    state: Option<String>,
}

/// A sign-out request we refuse; `message` is a catalog key.
fn invalid(message: &'static str) -> PageError {
    PageError::bad_request("error-logout-invalid-title", message)
}

async fn validate(app: &AppState, params: &Params) -> Result<LogoutRequest, PageError> {
    let hint = match params.get("id_token_hint") {
        // Expired hints are fine (OIDC RP-Initiated Logout §2); the signature must be ours.
        Some(raw) => {
            let claims: HintClaims = app
                .keys
                .verify(raw, "JWT")
                .map_err(|_| invalid("error-logout-foreign-hint"))?;
            if claims.iss != app.config.issuer {
                return Err(invalid("error-logout-other-issuer"));
            }
            Some(claims)
        }
        None => None,
    };
    let hinted_client = hint.as_ref().and_then(|h| match &h.aud {
        serde_json::Value::String(a) => Some(a.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_owned),
        _ => None,
    });
    let client_id = match (params.get("client_id"), hinted_client.as_deref()) {
        (Some(given), Some(hinted)) if given != hinted => {
            return Err(invalid("error-logout-client-mismatch"));
        }
        (Some(given), _) => Some(given.to_owned()),
        (None, hinted) => hinted.map(str::to_owned),
    };
    let client = match client_id {
        Some(id) => {
            let id = Uuid::parse_str(&id).map_err(|_| invalid("error-unknown-app"))?;
            Some(
                app.store
                    .find_client(id)
                    .await?
                    .ok_or_else(|| invalid("error-unknown-app"))?,
            )
        }
        None => None,
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let registered = client
                .as_ref()
                .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri));
            if !registered {
                return Err(invalid("error-logout-unregistered-redirect"));
            }
            Some(uri.to_owned())
        }
    };
    Ok(LogoutRequest {
        client,
        hint,
        redirect,
        state: params.get("state").map(str::to_owned),
    })
}

pub async fn get_end_session(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = page_query(query, "error-logout-invalid-title")?;
    end_session(&app, &session, &browser, &params).await
}

/// An app's logout form post, or our own sign-out button and confirmation (`confirm=yes`, which
/// must carry the session's CSRF token).
pub async fn post_end_session(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    PageForm(params): PageForm,
) -> Result<Response, PageError> {
    if params.get("confirm") != Some("yes") {
        return end_session(&app, &session, &browser, &params).await;
    }
    if !session::csrf_valid(&app, &session, &browser, params.get("csrf_token")).await? {
        return Err(PageError::form_expired());
    }
    let request = validate(&app, &params).await?;
    if let Some((state, _)) = session::current_login(&app, &session).await? {
        perform_logout(&app, &session, &state).await?;
    }
    Ok(finish(&request))
}

async fn end_session(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    params: &Params,
) -> Result<Response, PageError> {
    let request = validate(app, params).await?;
    let Some((state, account)) = session::current_login(app, session).await? else {
        return Ok(finish(&request)); // nobody is signed in here: nothing to end
    };
    let tied_to_session = request.hint.as_ref().is_some_and(|h| match &h.sid {
        Some(sid) => *sid == state.sid.to_string(),
        None => h.sub == account.account_id.to_string(),
    });
    if tied_to_session {
        perform_logout(app, session, &state).await?;
        return Ok(finish(&request));
    }
    // Not provably from this session's application: ask before signing out (prevents logout CSRF).
    let mut fields = vec![("confirm", "yes".to_owned())];
    if let Some(client) = &request.client {
        fields.push(("client_id", client.client_id.to_string()));
    }
    if let Some(uri) = &request.redirect {
        fields.push(("post_logout_redirect_uri", uri.clone()));
    }
    if let Some(state) = &request.state {
        fields.push(("state", state.clone()));
    }
    let page = ConfirmLogoutPage {
        csrf_token: session::csrf_token(app, session, browser).await?,
        user_name: account.display_name(),
        client_name: request.client.map(|c| c.name),
        fields,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Ends the SSO session: revokes the session's grants (but offline_access ones), tells clients
/// over the back channel, and deletes the browser session.
async fn perform_logout(
    app: &AppState,
    session: &Session,
    login: &LoginState,
) -> Result<(), PageError> {
    backchannel::end_session_grants(app, login.sid, app.clock.now()).await?;
    session::end(app, session).await?;
    tracing::info!(account_id = %login.account_id, sid = %login.sid, "signed out");
    Ok(())
}

fn finish(request: &LogoutRequest) -> Response {
    match &request.redirect {
        Some(uri) => {
            let Ok(mut url) = Url::parse(uri) else {
                return PageError::server_error("a registered post-logout URI does not parse")
                    .into_response();
            };
            if let Some(state) = &request.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Redirect::to(url.as_str()).into_response()
        }
        None => render(StatusCode::OK, &LoggedOutPage {}),
    }
}
