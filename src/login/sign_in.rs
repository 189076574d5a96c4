//! Signing in with a username (or e-mail) and password, and choosing a new password after
//! signing in with a temporary one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{KeptOnward, Onward, SignedIn, Visit, continue_after_sign_in, local_path};
use crate::accounts::directory::DirectoryError;
use crate::accounts::passwords;
use crate::accounts::{self, SignInError};
use crate::domain::FieldError;
use crate::domain::protocol::paths;
use crate::http::page::FormErrors;
use crate::http::page::{PageError, PageForm, render};
use crate::http::{ClientIp, Device};
use crate::i18n::Message;
use crate::oidc::authorize::load_pending_if;
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, CsrfForm};
use crate::state::AppState;
use crate::store::KeepGrants;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf_token: String,
    request_id: Option<String>,
    client_name: Option<String>,
    username: String,
    error: Option<Message>,
    return_to: Option<String>,
    /// "Keep me signed in on this device" is offered (HCCC_SSO_REMEMBER_ME_SECONDS > 0).
    offer_remember: bool,
    remember: bool,
    /// Passkeys are on (the issuer's host can be a WebAuthn relying party).
    passkeys: bool,
    /// The QR sign-in is offered (this is a shared computer's network).
    qr: bool,
}

#[derive(Deserialize)]
pub struct RequestRef {
    request: Option<String>,
    return_to: Option<String>,
}

pub async fn get_login(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    Query(q): Query<RequestRef>,
) -> Result<Response, PageError> {
    let pending = load_pending_if(&app, q.request.as_deref(), &browser).await?;
    let hint = pending
        .as_ref()
        .and_then(|p| p.parked.request.login_hint.clone());
    let page = LoginPage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        request_id: pending.as_ref().map(|p| p.id.to_string()),
        client_name: pending.map(|p| p.client.name),
        username: hint.unwrap_or_default(),
        error: None,
        return_to: local_path(q.return_to.as_deref()),
        offer_remember: app.config.remember_me > 0,
        remember: false,
        passkeys: app.webauthn.is_some(),
        qr: super::qr::offered(&app, &ip),
    };
    Ok(render(StatusCode::OK, &page))
}

/// What a sign-in form carried, for answering it again with a problem.
pub(super) struct Attempt {
    pub(super) username: String,
    pub(super) onward: Onward,
    pub(super) remember: bool,
    /// The QR sign-in is offered to this browser's address.
    pub(super) qr: bool,
}

impl Attempt {
    pub(super) async fn again(
        &self,
        app: &AppState,
        session: &Session,
        browser: &BrowserKey,
        status: StatusCode,
        error: Message,
    ) -> Result<Response, PageError> {
        // Choosing a language here shows the sign-in again, for the same app.
        let pending = self.onward.pending.as_ref();
        let request_id = pending.map(|p| p.id.to_string());
        crate::http::ui::switch_back_to(paths::with_request(paths::LOGIN, request_id.as_ref()));
        let page = LoginPage {
            csrf_token: session::csrf_token(app, session, browser).await?,
            request_id,
            client_name: pending.map(|p| p.client.name.clone()),
            username: self.username.clone(),
            error: Some(error),
            return_to: self.onward.return_to.clone(),
            offer_remember: app.config.remember_me > 0,
            remember: self.remember,
            passkeys: app.webauthn.is_some(),
            qr: self.qr,
        };
        Ok(render(status, &page))
    }
}

pub async fn post_login(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    device: Device,
    PageForm(form): PageForm,
) -> Result<Response, PageError> {
    let onward = Onward {
        pending: load_pending_if(&app, form.get("request"), &browser).await?,
        return_to: local_path(form.get("return_to")),
    };
    let attempt = Attempt {
        username: form.get("username").unwrap_or_default().trim().to_owned(),
        onward,
        remember: app.config.remember_me > 0 && form.get("remember") == Some("yes"),
        qr: super::qr::offered(&app, &device.ip),
    };
    // The form is shown again with the problem (rather than the error page) for each refusal.
    let again = |status, error: Message| attempt.again(&app, &session, &browser, status, error);
    if !session::csrf_valid(&app, &session, &browser, form.get("csrf_token")).await? {
        return again(StatusCode::BAD_REQUEST, Message::new("login-form-expired")).await;
    }
    let password = form.get("password").unwrap_or_default();
    if attempt.username.is_empty() || password.is_empty() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            Message::new("login-missing"),
        )
        .await;
    }
    let now = app.clock.now();
    let account = match verify(&app, &attempt.username, password, &device, now).await {
        Ok(account) => account,
        Err(SignInError::InvalidCredentials { .. }) => {
            return again(StatusCode::UNAUTHORIZED, Message::new("login-incorrect")).await;
        }
        Err(SignInError::Locked { retry_after, .. }) => {
            return again(StatusCode::TOO_MANY_REQUESTS, locked_message(retry_after)).await;
        }
        Err(SignInError::Store(e)) => return Err(e.into()),
    };
    if account.must_change_password {
        // A temporary password only opens the page to choose a new one.
        let change = PasswordChangeState {
            account_id: account.account_id,
            onward: attempt.onward.kept(),
            started_at: now,
            remember: attempt.remember,
            credential_version: account.credential_version,
        };
        session.cycle_id().await.map_err(PageError::server_error)?;
        session
            .insert(PASSWORD_CHANGE_KEY, &change)
            .await
            .map_err(PageError::server_error)?;
        return password_change_page(&app, &session, &browser, StatusCode::OK, Vec::new()).await;
    }
    tracing::info!(account_id = %account.account_id, "signed in");
    let signed_in = SignedIn {
        account,
        remember: attempt.remember,
        now,
        method: "password",
    };
    let visit = Visit {
        session: &session,
        browser: &browser,
        device: &device,
    };
    continue_after_sign_in(&app, &visit, signed_in, attempt.onward).await
}

/// Checks the password, counted like every sign-in (and in the metrics).
async fn verify(
    app: &AppState,
    username: &str,
    password: &str,
    device: &Device,
    now: i64,
) -> Result<crate::store::AccountRow, SignInError> {
    // Longer than any account name or password could be: refused without a lookup.
    if username.len() > crate::domain::MAX_EMAIL || password.len() > 4 * crate::domain::MAX_PASSWORD
    {
        return Err(SignInError::InvalidCredentials { account_id: None });
    }
    let login = &app.config.login;
    let origin = accounts::SignInOrigin {
        ip: &device.ip,
        user_agent: &device.user_agent,
        method: "password",
    };
    let outcome = accounts::sign_in(
        &app.store,
        &app.hasher,
        login,
        username,
        password,
        &origin,
        now,
    )
    .await;
    crate::telemetry_metrics::login(match &outcome {
        Ok(_) => "succeeded",
        Err(SignInError::InvalidCredentials { .. }) => "failed",
        Err(SignInError::Locked { .. }) => "locked",
        Err(SignInError::Store(_)) => "error",
    });
    outcome
}

/// Sign-in is paused: for how many minutes, rounded up.
pub fn locked_message(retry_after: i64) -> Message {
    Message::new("login-locked").with("minutes", (retry_after + 59) / 60)
}

const PASSWORD_CHANGE_KEY: &str = "password_change";
/// How long the page to replace a temporary password stays valid after signing in with it.
const PASSWORD_CHANGE_TTL: i64 = 600;

/// Kept in the session between signing in with a temporary password and choosing a new one.
#[derive(serde::Serialize, Deserialize)]
struct PasswordChangeState {
    account_id: Uuid,
    /// Where the sign-in goes once the new password is chosen.
    #[serde(flatten)]
    onward: KeptOnward,
    started_at: i64,
    #[serde(default)]
    remember: bool,
    /// The credential version the temporary password was typed at: another password set since
    /// (a second temporary one, say) voids this state.
    #[serde(default)]
    credential_version: i64,
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct PasswordChangePage {
    csrf_token: String,
    errors: Vec<FieldError>,
}

impl FormErrors for PasswordChangePage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

async fn password_change_page(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let page = PasswordChangePage {
        csrf_token: session::csrf_token(app, session, browser).await?,
        errors,
    };
    Ok(render(status, &page))
}

/// The page to replace a temporary password, again (after choosing another language on it).
pub async fn get_password_change(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
) -> Result<Response, PageError> {
    let now = app.clock.now();
    let waiting = session
        .get::<PasswordChangeState>(PASSWORD_CHANGE_KEY)
        .await
        .map_err(PageError::server_error)?
        .is_some_and(|s| now - s.started_at <= PASSWORD_CHANGE_TTL);
    if !waiting {
        return Ok(axum::response::Redirect::to(paths::LOGIN).into_response());
    }
    password_change_page(&app, &session, &browser, StatusCode::OK, Vec::new()).await
}

/// Replaces a temporary password; the person is then signed in and continues where they were.
pub async fn post_password_change(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = csrf;
    let now = app.clock.now();
    let state = session
        .get::<PasswordChangeState>(PASSWORD_CHANGE_KEY)
        .await
        .map_err(PageError::server_error)?
        .filter(|s| now - s.started_at <= PASSWORD_CHANGE_TTL)
        .ok_or_else(PageError::page_expired)?;
    let mut account = app
        .store
        .find_account(state.account_id)
        .await?
        .filter(|a| {
            !a.disabled
                && a.must_change_password
                && a.credential_version == state.credential_version
        })
        .ok_or_else(PageError::page_expired)?;
    let password = form.get("new_password").unwrap_or_default();
    if form.get("confirm_password").unwrap_or_default() != password {
        let problem = vec![FieldError::new(
            "confirm_password",
            Message::new("password-mismatch"),
        )];
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return password_change_page(&app, &session, &browser, status, problem).await;
    }
    // Through the use case, like every other password setting: the apps of any grant it ends
    // are told by back-channel.
    let set = match passwords::set_password(&app, &account, password, false, KeepGrants::None, now)
        .await
    {
        Ok(set) => set,
        Err(DirectoryError::Invalid(errors)) => {
            // The directory's rules name the field `password`: here it is the new one.
            let errors = errors
                .into_iter()
                .map(|e| FieldError::new("new_password", e.message))
                .collect();
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return password_change_page(&app, &session, &browser, status, errors).await;
        }
        Err(e) => return Err(PageError::server_error(e)),
    };
    session
        .remove::<PasswordChangeState>(PASSWORD_CHANGE_KEY)
        .await
        .map_err(PageError::server_error)?;
    tracing::info!(account_id = %account.account_id, "temporary password replaced; signed in");
    let onward = state.onward.load(&app, &browser).await?;
    account.must_change_password = false;
    account.credential_version = set.credential_version;
    let signed_in = SignedIn {
        account,
        remember: state.remember,
        now,
        method: "password",
    };
    let visit = Visit {
        session: &session,
        browser: &browser,
        device: &device,
    };
    continue_after_sign_in(&app, &visit, signed_in, onward).await
}
