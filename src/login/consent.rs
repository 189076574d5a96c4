//! The consent page: what an app asks for, and the person's answer.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::protocol::paths;
use crate::http::ClientIp;
use crate::http::page::{PageError, render};
use crate::oidc::authorize::{self, Pending, Resumed, Stage, Visitor, load_pending};
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
    let pending = load_pending(&app, raw, &browser).await?;
    let Some((state, account)) = session::current_login(&app, &session).await? else {
        return Ok(sign_in_for(&pending));
    };
    // Only the session the request was parked for may see its consent form.
    if !pending.parked.answerable(Stage::Consent, Some(state.sid)) {
        return Err(PageError::expired_request());
    }
    let scopes = pending.parked.request.scopes;
    let page = ConsentPage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        request_id: pending.id.to_string(),
        client_name: pending.client.name,
        user_name: account.display_name(),
        scopes: scopes.iter().map(Scope::key).collect(),
        asks_each_time: scopes.contains(Scope::Api),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The person's answer. Only the session the request was parked for at its consent step may
/// answer it; Allow then asks the decision again (sign-in, second factor, role policy, max_age,
/// the hint's subject) before any code is issued.
pub async fn post_consent(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = csrf;
    let raw = form.get("request").ok_or_else(PageError::expired_request)?;
    let pending = load_pending(&app, raw, &browser).await?;
    let now = app.clock.now();
    let login = session::current_login(&app, &session).await?;
    let sid = login.as_ref().map(|(state, _)| state.sid);
    if !pending.parked.answerable(Stage::Consent, sid) {
        tracing::warn!(client_id = %pending.client.client_id, request = %pending.id, stage = ?pending.parked.stage,
            "a consent answer for a request not waiting for this session's consent was refused");
        return Err(PageError::expired_request());
    }
    let Some((_, account)) = &login else {
        return Ok(sign_in_for(&pending));
    };
    let request = &pending.parked.request;
    if form.get("decision") != Some("allow") {
        if !app.store.delete_pending_authorization(pending.id).await? {
            return Err(PageError::already_answered());
        }
        let refused = ErrorCode::AccessDenied;
        let target = &request.target;
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
        .save_consent(
            account.account_id,
            pending.client.client_id,
            &remembered,
            now,
        )
        .await?;
    let visitor = Visitor {
        ip: &ip,
        browser: &browser,
    };
    let resumed = Resumed {
        visitor: &visitor,
        login: login.as_ref(),
        consent_given: true,
    };
    pending.resume(&app, resumed, now).await
}

/// The sign-in page for the parked request, for a browser whose session ended meanwhile.
fn sign_in_for(pending: &Pending) -> Response {
    Redirect::to(&paths::with_request(paths::LOGIN, Some(pending.id))).into_response()
}
