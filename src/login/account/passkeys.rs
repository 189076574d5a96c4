//! The account page's passkey and security-key forms: add one (the password first, then the
//! browser's ceremony), and remove one.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::proof::{fresh_factor_first, password_again};
use super::totp::recovery_codes_page;
use super::{AccountForm, device_of, done, refused};
use crate::accounts::factors;
use crate::accounts::passkeys::{self, Kind, PasskeyError};
use crate::domain::FieldError;
use crate::http::Device;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::login::person::PersonForm;
use crate::sessions as session;
use crate::state::AppState;

/// The page that runs the registration ceremony in the browser.
#[derive(Template)]
#[template(path = "register_passkey.html")]
struct RegisterPasskeyPage {
    csrf_token: String,
    security_key: bool,
    name: String,
    /// The options for `navigator.credentials.create` (JSON).
    options: String,
}

/// Starts adding a passkey or a security key (after the password): the page that asks the
/// browser to make one.
pub async fn post_passkey_start(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    let kind = csrf
        .form
        .get("kind")
        .and_then(Kind::parse)
        .ok_or_else(|| PageError::invalid_form(Message::new("passkey-kind-missing")))?;
    if let Some(refusal) = password_again(&app, &csrf, &person, &device).await? {
        return Ok(refusal);
    }
    // Unnamed, it is called after the browser and system it was added on ("Chrome on Android").
    let typed = csrf.form.get("passkey_name").unwrap_or_default().trim();
    let lang = crate::i18n::current();
    let name = match typed {
        "" => device_of(Some(&device.user_agent), lang),
        typed => typed.to_owned(),
    };
    let now = app.clock.now();
    let started = match passkeys::start_registration(&app, &person.account, kind, &name, now).await
    {
        Ok(started) => started,
        Err(PasskeyError::BadName) => {
            let error = FieldError::new("passkey_name", Message::new("passkey-name-too-long"));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return refused(&app, &csrf, &person, status, vec![error]).await;
        }
        Err(e) => return Err(crate::login::passkeys::start_error(e)),
    };
    let name = passkeys::clean_name(&name).unwrap_or_default();
    let options = crate::login::passkeys::keep(&csrf.session, started).await?;
    let page = RegisterPasskeyPage {
        csrf_token: session::csrf_token(&app, &csrf.session, &csrf.browser).await?,
        security_key: kind == Kind::SecurityKey,
        name,
        options,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The browser made the credential: kept, and the recovery codes shown if it is the account's
/// first second factor.
pub async fn post_passkey_finish(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    let (login, account) = (&person.login, &person.account);
    let now = app.clock.now();
    let Some(ceremony) = crate::login::passkeys::take(&csrf.session).await? else {
        return Err(PageError::page_expired());
    };
    let answer = csrf.form.get("credential").unwrap_or_default();
    if let Some(step_up) = fresh_factor_first(&app, login, account).await? {
        return Ok(step_up);
    }
    let first = !app.store.find_mfa(account.account_id).await?.has_factor();
    let registered =
        passkeys::finish_registration(&app, account, ceremony, answer, Some(&device.ip), now).await;
    if first && registered.is_ok() {
        factors::end_password_only_sign_ins(&app, account, Some(login.sid), now).await?;
    }
    let problem = match registered {
        Ok(Some(codes)) => return recovery_codes_page(&app, &csrf, codes).await,
        Ok(None) => return Ok(done("passkey")),
        Err(PasskeyError::Refused(why)) => {
            tracing::info!(account_id = %account.account_id, reason = %why, "a passkey registration was refused");
            "passkey-register-refused"
        }
        Err(PasskeyError::Duplicate) => "passkey-register-duplicate",
        Err(e) => return Err(PageError::server_error(e)),
    };
    let error = FieldError::new("passkey_name", Message::new(problem));
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    refused(&app, &csrf, &person, status, vec![error]).await
}

/// Removes one of the person's passkeys or security keys (after the password).
pub async fn post_passkey_remove(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    if let Some(refusal) = password_again(&app, &csrf, &person, &device).await? {
        return Ok(refusal);
    }
    let id = csrf.form.get("credential_id").unwrap_or_default();
    passkeys::remove(&app, &person.account, id, Some(&device.ip), app.clock.now())
        .await
        .map_err(PageError::server_error)?;
    Ok(done("passkey_removed"))
}
