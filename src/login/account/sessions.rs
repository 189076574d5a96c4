//! The account page's forms about where the account is signed in: its browser sessions, the
//! apps it allowed, and the browsers remembered for the second step.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::{AccountForm, done, id_field};
use crate::accounts::factors;
use crate::accounts::self_service::{self, Sessions};
use crate::http::Device;
use crate::http::page::PageError;
use crate::login::person::PersonForm;
use crate::state::AppState;

/// Ends one of the account's other sessions (`sid`), or all others (`sid=others`).
pub async fn post_end_sessions(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    let this_session = person.login.sid;
    let which = match csrf.form.get("sid") {
        Some("others") => Sessions::AllBut(this_session),
        _ => Sessions::One(id_field(&csrf.form, "sid")?),
    };
    // This browser's own session ends by signing out.
    if matches!(which, Sessions::One(sid) if sid == this_session) {
        return Ok(Redirect::to("/logout").into_response());
    }
    self_service::end_sessions(&app, &person.account, which, Some(&device.ip))
        .await
        .map_err(PageError::server_error)?;
    Ok(done(match which {
        Sessions::One(_) => "session",
        Sessions::AllBut(_) => "sessions",
    }))
}

pub async fn post_revoke_app(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    let client_id = id_field(&csrf.form, "client_id")?;
    self_service::revoke_app(&app, &person.account, client_id, Some(&device.ip))
        .await
        .map_err(PageError::server_error)?;
    Ok(done("app"))
}

/// Forgets one remembered browser (`remembered_id`), or all of them (`all`): each asks for the
/// second factor again at its next sign-in.
pub async fn post_forget_browsers(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    let which = match csrf.form.get("remembered_id") {
        Some("all") => None,
        _ => Some(id_field(&csrf.form, "remembered_id")?),
    };
    factors::forget_browsers(&app, &person.account, which, Some(&device.ip)).await?;
    Ok(done("forgotten"))
}
