//! The signed-in person's own account: changing the password, which ends every other session
//! and app signed in with the old one (the current browser stays signed in).

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::page::{PageError, render};
use super::session::{self, LoginState};
use crate::accounts::directory::{self, Actor, DirectoryError};
use crate::accounts::{self, SignInError};
use crate::http::{ClientIp, form_params};
use crate::state::AppState;
use crate::store::{AccountRow, KeepGrants};

const PATH: &str = "/account/password";

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    csrf_token: String,
    user_name: String,
    errors: Vec<String>,
    done: bool,
}

async fn page(
    session: &Session,
    account: &AccountRow,
    status: StatusCode,
    errors: Vec<String>,
    done: bool,
) -> Result<Response, PageError> {
    let page = PasswordPage {
        csrf_token: session::session_csrf_token(session).await?,
        user_name: account.display_name(),
        errors,
        done,
    };
    Ok(render(status, &page))
}

fn sign_in_first() -> Response {
    let back: String = url::form_urlencoded::byte_serialize(PATH.as_bytes()).collect();
    Redirect::to(&format!("/login?return_to={back}")).into_response()
}

pub async fn get_password(State(app): State<AppState>, session: Session) -> Response {
    let result = async {
        let Some((_, account)) = session::current_login(&app, &session).await? else {
            return Ok(sign_in_first());
        };
        page(&session, &account, StatusCode::OK, Vec::new(), false).await
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn post_password(
    State(app): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change_password(&app, &session, &ip, &headers, &body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn change_password(
    app: &AppState,
    session: &Session,
    ip: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, PageError> {
    let form = form_params(headers, body).map_err(|e| PageError::bad_request("Invalid form", e))?;
    let Some((state, account)) = session::current_login(app, session).await? else {
        return Ok(sign_in_first());
    };
    if !session::session_csrf_valid(session, form.get("csrf_token")).await? {
        return Err(PageError::bad_request(
            "This form had expired",
            "Go back, reload the page and try again.",
        ));
    }
    let again =
        |status, message: &str| page(session, &account, status, vec![message.into()], false);
    let new_password = form.get("new_password").unwrap_or_default();
    if form.get("confirm_password").unwrap_or_default() != new_password {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two new passwords are not the same.",
        )
        .await;
    }
    let now = app.clock.now();
    // Checked like a sign-in, so guessing the current password is throttled the same way.
    let current = form.get("current_password").unwrap_or_default();
    match accounts::sign_in(
        &app.store,
        &app.hasher,
        &app.config.login,
        &account.username,
        current,
        ip,
        now,
    )
    .await
    {
        Ok(_) => {}
        Err(SignInError::InvalidCredentials) => {
            return again(StatusCode::FORBIDDEN, "The current password is incorrect.").await;
        }
        Err(SignInError::Locked { retry_after }) => {
            let minutes = (retry_after + 59) / 60;
            let message = format!(
                "Too many failed attempts. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            return again(StatusCode::TOO_MANY_REQUESTS, &message).await;
        }
        Err(SignInError::Store(e)) => return Err(e.into()),
    }
    let keep = KeepGrants::OfSession(state.sid);
    let set = match directory::set_password(
        &app.store,
        &app.hasher,
        &account,
        new_password,
        false,
        keep,
        now,
    )
    .await
    {
        Ok(set) => set,
        Err(DirectoryError::Invalid(errors)) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            return page(
                session,
                &account,
                StatusCode::UNPROCESSABLE_ENTITY,
                messages,
                false,
            )
            .await;
        }
        Err(e) => return Err(PageError::server_error(e)),
    };
    keep_signed_in(app, session, &state, set.credential_version).await?;
    crate::oidc::backchannel::notify_ended(app, &set.ended, now).await?;
    let actor = Actor::User {
        id: account.account_id,
        username: account.username.clone(),
    };
    crate::audit::record(
        app,
        &actor,
        Some(ip),
        "user.change_password",
        Some(format!("user:{}", account.account_id)),
        serde_json::json!({"sessions_ended": true, "grants_ended": set.ended.len()}),
    )
    .await;
    tracing::info!(account_id = %account.account_id, ended = set.ended.len(), "password changed by its owner");
    page(session, &account, StatusCode::OK, Vec::new(), true).await
}

async fn keep_signed_in(
    app: &AppState,
    session: &Session,
    state: &LoginState,
    credential_version: i64,
) -> Result<(), PageError> {
    session::follow_credential_change(app, session, state, credential_version)
        .await
        .map(|_| ())
}
