//! The consent page: what an app asks for, and the person's answer.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::http::page::{PageError, render};
use crate::oidc::authorize::{self, load_pending};
use crate::oidc::error::ErrorCode;
use crate::oidc::scopes::Scope;
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, CsrfForm};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    csrf_token: String,
    request_id: String,
    client_name: String,
    user_name: String,
    scopes: Vec<&'static str>,
    /// The request includes `api`, which is asked for every time.
    asks_each_time: bool,
}

#[derive(Deserialize)]
pub struct ConsentQuery {
    request: Option<String>,
}

pub async fn get_consent(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    Query(q): Query<ConsentQuery>,
) -> Result<Response, PageError> {
    let raw = q
        .request
        .as_deref()
        .ok_or_else(PageError::expired_request)?;
    let (id, pending, client) = load_pending(&app, raw, &browser).await?;
    let Some((_, account)) = session::current_login(&app, &session).await? else {
        return Ok(Redirect::to(&format!("/login?request={id}")).into_response());
    };
    let scopes = pending.request.scopes;
    let page = ConsentPage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        request_id: id.to_string(),
        client_name: client.name,
        user_name: account.display_name(),
        scopes: scopes.iter().map(Scope::key).collect(),
        asks_each_time: scopes.contains(Scope::Api),
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn post_consent(
    State(app): State<AppState>,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = csrf;
    let raw = form.get("request").ok_or_else(PageError::expired_request)?;
    let (id, pending, client) = load_pending(&app, raw, &browser).await?;
    let now = app.clock.now();
    let login = session::current_login(&app, &session).await?;
    let signed_in_freshly = match (&login, pending.require_login_after) {
        (Some((state, _)), Some(after)) => state.auth_time >= after,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let Some((state, account)) = login.filter(|_| signed_in_freshly) else {
        return Ok(Redirect::to(&format!("/login?request={id}")).into_response());
    };
    if !app.store.delete_pending_authorization(id).await? {
        return Err(PageError::already_answered());
    }
    let request = &pending.request;
    if form.get("decision") != Some("allow") {
        let target = &request.target;
        let refused = ErrorCode::AccessDenied;
        return Ok(authorize::redirect_error(
            &app,
            target,
            refused,
            "the user declined",
        ));
    }
    // `api` is asked for each time, so it is not remembered with the rest.
    let remembered = request.scopes.without(Scope::Api).to_string();
    app.store
        .save_consent(account.account_id, client.client_id, &remembered, now)
        .await?;
    authorize::issue_code(&app, request, &state, &account, now).await
}
