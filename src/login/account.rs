//! The signed-in person's own account: changing the password, which ends every other session
//! and app signed in with the old one (the current browser stays signed in).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tower_sessions::Session;

use super::sign_in::locked_message;
use super::sign_in_first;
use crate::accounts::directory::{self, Actor, DirectoryError};
use crate::accounts::{self, SignInError};
use crate::domain::FieldError;
use crate::http::Device;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, CsrfForm};
use crate::state::AppState;
use crate::store::{AccountRow, KeepGrants};

const PATH: &str = "/account/password";

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    csrf_token: String,
    user_name: String,
    errors: Vec<FieldError>,
    done: bool,
}

impl PasswordPage {
    fn error_for(&self, field: &str) -> Option<&Message> {
        crate::http::page::error_for(&self.errors, field)
    }

    fn invalid(&self, field: &str) -> String {
        crate::http::page::invalid(&self.errors, field)
    }
}

/// Whose page it is, and how to make its form.
struct Viewer<'a> {
    app: &'a AppState,
    session: &'a Session,
    browser: &'a BrowserKey,
    account: &'a AccountRow,
}

impl Viewer<'_> {
    async fn page(
        &self,
        status: StatusCode,
        errors: Vec<FieldError>,
        done: bool,
    ) -> Result<Response, PageError> {
        let page = PasswordPage {
            csrf_token: session::csrf_token(self.app, self.session, self.browser).await?,
            user_name: self.account.display_name(),
            errors,
            done,
        };
        Ok(render(status, &page))
    }
}

pub async fn get_password(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
) -> Result<Response, PageError> {
    let Some((_, account)) = session::current_login(&app, &session).await? else {
        return Ok(sign_in_first(PATH));
    };
    let viewer = Viewer {
        app: &app,
        session: &session,
        browser: &browser,
        account: &account,
    };
    viewer.page(StatusCode::OK, Vec::new(), false).await
}

pub async fn post_password(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = csrf;
    let Some((state, account)) = session::current_login(&app, &session).await? else {
        return Ok(sign_in_first(PATH));
    };
    let viewer = Viewer {
        app: &app,
        session: &session,
        browser: &browser,
        account: &account,
    };
    let problem = |status, field: &str, message: Message| {
        viewer.page(status, vec![FieldError::new(field, message)], false)
    };
    let new_password = form.get("new_password").unwrap_or_default();
    if form.get("confirm_password").unwrap_or_default() != new_password {
        let mismatch = Message::new("password-mismatch");
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "confirm_password",
            mismatch,
        )
        .await;
    }
    let now = app.clock.now();
    // Checked like a sign-in, so guessing the current password is throttled the same way.
    let current = form.get("current_password").unwrap_or_default();
    let login = &app.config.login;
    let username = &account.username;
    let origin = accounts::SignInOrigin {
        ip: &device.ip,
        user_agent: &device.user_agent,
        method: "reauthentication",
    };
    match accounts::sign_in(
        &app.store,
        &app.hasher,
        login,
        username,
        current,
        &origin,
        now,
    )
    .await
    {
        Ok(_) => {}
        Err(SignInError::InvalidCredentials { .. }) => {
            let wrong = Message::new("password-current-incorrect");
            return problem(StatusCode::FORBIDDEN, "current_password", wrong).await;
        }
        Err(SignInError::Locked { retry_after, .. }) => {
            let locked = locked_message(retry_after);
            return problem(StatusCode::TOO_MANY_REQUESTS, "current_password", locked).await;
        }
        Err(SignInError::Store(e)) => return Err(e.into()),
    }
    let keep = KeepGrants::OfSession(state.sid);
    let changed = directory::set_password(
        &app.store,
        &app.hasher,
        &account,
        new_password,
        false,
        keep,
        now,
    )
    .await;
    let set = match changed {
        Ok(set) => set,
        Err(DirectoryError::Invalid(errors)) => {
            // The directory's rules name the field `password`: here it is the new one.
            let errors = errors
                .into_iter()
                .map(|e| FieldError::new("new_password", e.message))
                .collect();
            return viewer
                .page(StatusCode::UNPROCESSABLE_ENTITY, errors, false)
                .await;
        }
        Err(e) => return Err(PageError::server_error(e)),
    };
    session::follow_credential_change(&app, &session, &state, set.credential_version).await?;
    crate::oidc::backchannel::notify_ended(&app, &set.ended, now).await?;
    let actor = Actor::User {
        id: account.account_id,
        username: account.username.clone(),
    };
    let detail = serde_json::json!({"sessions_ended": true, "grants_ended": set.ended.len()});
    let target = Some(format!("user:{}", account.account_id));
    crate::audit::record(
        &app,
        &actor,
        Some(&device.ip),
        "user.change_password",
        target,
        detail,
    )
    .await;
    tracing::info!(account_id = %account.account_id, ended = set.ended.len(), "password changed by its owner");
    viewer.page(StatusCode::OK, Vec::new(), true).await
}
