//! The account page's authenticator-app forms: add (or replace) one by scanning a key and typing
//! its first code, remove it, and renew the recovery codes. Each asks for the password again,
//! and for a fresh second factor where the account has one (`proof`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::proof::{fresh_factor_first, password_again};
use super::{AccountForm, done};
use crate::accounts::factors::{self, FactorError};
use crate::domain::FieldError;
use crate::http::Device;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::login::person::PersonForm;
use crate::login::second_factor::{EnrolPage, RecoveryCodesPage};
use crate::sessions::session_error;
use crate::sessions::{self as session, CsrfForm};
use crate::state::AppState;
use crate::store::AccountRow;

const ENROLMENT_KEY: &str = "totp_enrolment";
/// How long a key shown for enrolment waits for its first code.
const ENROLMENT_TTL: i64 = 600;

/// A new key shown on the account page, waiting for its first code (sealed).
#[derive(serde::Serialize, serde::Deserialize)]
struct Enrolment {
    sealed: Vec<u8>,
    started_at: i64,
}

/// Adds (or replaces) the authenticator app: shows a new key to scan.
pub async fn post_totp_start(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    if let Some(refusal) = password_again(&app, &csrf, &person, &device).await? {
        return Ok(refusal);
    }
    let account = &person.account;
    let sealed = factors::seal_key(&app, account.account_id, &factors::new_totp_key())
        .map_err(PageError::server_error)?;
    let enrolment = Enrolment {
        sealed,
        started_at: app.clock.now(),
    };
    csrf.session
        .insert(ENROLMENT_KEY, &enrolment)
        .await
        .map_err(session_error)?;
    enrol_page(&app, &csrf, account, &enrolment, StatusCode::OK, Vec::new()).await
}

async fn enrol_page(
    app: &AppState,
    csrf: &CsrfForm,
    account: &AccountRow,
    enrolment: &Enrolment,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let csrf_token = session::csrf_token(app, &csrf.session, &csrf.browser).await?;
    let page = EnrolPage::build(
        app,
        account,
        &enrolment.sealed,
        csrf_token,
        "/account/totp/confirm",
        errors,
    )?;
    Ok(render(status, &page))
}

/// The first code of the new authenticator app: stored, and the recovery codes shown if the
/// account had none. This session counts as multi-factor from now on.
pub async fn post_totp_confirm(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    let (login, account) = (&person.login, &person.account);
    let now = app.clock.now();
    let enrolment = csrf
        .session
        .get::<Enrolment>(ENROLMENT_KEY)
        .await
        .map_err(session_error)?
        .filter(|e| now - e.started_at <= ENROLMENT_TTL)
        .ok_or_else(PageError::page_expired)?;
    let key = crate::crypto::open(
        &app.key_encryption,
        account.account_id.as_bytes(),
        &enrolment.sealed,
    )
    .map_err(PageError::server_error)?;
    let code = csrf.form.get("code").unwrap_or_default();
    // A factor that appeared since the key was shown (added in another browser) is replaced
    // only with a fresh proof of it, as any factor change.
    if let Some(step_up) = fresh_factor_first(&app, login, account).await? {
        return Ok(step_up);
    }
    let first = !app.store.find_mfa(account.account_id).await?.has_factor();
    let codes = match factors::enrol_totp(&app, account, &key, code, Some(&device.ip), now).await {
        Ok(codes) => codes,
        Err(e) => {
            let (status, error) = match e {
                FactorError::Wrong => (StatusCode::UNAUTHORIZED, Message::new("mfa-code-wrong")),
                FactorError::Locked { retry_after } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    crate::login::sign_in::locked_message(retry_after),
                ),
                e => return Err(PageError::server_error(e)),
            };
            let errors = vec![FieldError::new("code", error)];
            return enrol_page(&app, &csrf, account, &enrolment, status, errors).await;
        }
    };
    csrf.session
        .remove::<Enrolment>(ENROLMENT_KEY)
        .await
        .map_err(session_error)?;
    if first {
        factors::end_password_only_sign_ins(&app, account, Some(login.sid), now).await?;
    }
    session::add_second_factor(&app, &csrf.session, login, &["otp", "mfa"]).await?;
    match codes {
        Some(codes) => recovery_codes_page(&app, &csrf, codes).await,
        None => Ok(done("totp")),
    }
}

/// New recovery codes, shown once (after the account's first factor, or renewed).
pub(super) async fn recovery_codes_page(
    app: &AppState,
    csrf: &CsrfForm,
    codes: Vec<String>,
) -> Result<Response, PageError> {
    let page = RecoveryCodesPage {
        csrf_token: session::csrf_token(app, &csrf.session, &csrf.browser).await?,
        codes,
        continue_action: None,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn post_totp_remove(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    if let Some(refusal) = password_again(&app, &csrf, &person, &device).await? {
        return Ok(refusal);
    }
    factors::remove_totp(&app, &person.account, Some(&device.ip), app.clock.now())
        .await
        .map_err(PageError::server_error)?;
    Ok(done("totp_removed"))
}

/// A new set of recovery codes (the old set ends), shown once.
pub async fn post_recovery_codes(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    if let Some(refusal) = password_again(&app, &csrf, &person, &device).await? {
        return Ok(refusal);
    }
    let account = &person.account;
    let has_factor = app.store.find_mfa(account.account_id).await?.has_factor();
    if !has_factor {
        return Ok(done("totp_removed"));
    }
    let now = app.clock.now();
    let codes = factors::renew_recovery_codes(&app, account, Some(&device.ip), now)
        .await
        .map_err(PageError::server_error)?;
    recovery_codes_page(&app, &csrf, codes).await
}
