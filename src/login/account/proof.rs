//! What the account page's second-factor forms ask for besides a signed-in session: the current
//! password, every time, and on an account that has a factor, a fresh proof of one.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::{PATH, proof_of, refusal, refused};
use crate::accounts::passwords;
use crate::domain::FieldError;
use crate::domain::protocol::paths;
use crate::http::page::PageError;
use crate::http::{Device, Params};
use crate::login::person::Person;
use crate::sessions::{CsrfForm, LoginState};
use crate::state::AppState;
use crate::store::AccountRow;

/// A sign-in this recent lets `reauthenticated` skip the password. No form relies on it now: the
/// address change asks for the password every time (`self_service::prove_owner`), and the
/// second factors' forms through `password_again`, which ignores it.
pub const RECENT_SIGN_IN: i64 = 600;

/// An account form that changes second factors: the current password, always (a session left
/// open on a shared computer must not be enough to add or remove a factor), and on an account
/// that has a factor, a fresh proof of one (the password alone must not replace the owner's
/// authenticator): without one, the second step first, then back here.
pub(super) async fn password_again(
    app: &AppState,
    csrf: &CsrfForm,
    person: &Person,
    device: &Device,
) -> Result<Option<Response>, PageError> {
    let Person { login, account } = person;
    if let Some(step_up) = fresh_factor_first(app, login, account).await? {
        return Ok(Some(step_up));
    }
    let forced = LoginState {
        auth_time: 0,
        ..login.clone()
    };
    match reauthenticated(app, &csrf.form, &forced, account, device).await? {
        Ok(()) => Ok(None),
        Err((status, error)) => {
            let error = FieldError::new("factor_password", error.message);
            Ok(Some(refused(app, csrf, person, status, vec![error]).await?))
        }
    }
}

/// Whether the person proved themselves recently enough for a sensitive change: a sign-in in
/// the last ten minutes, or the current password now (checked and throttled like a sign-in).
async fn reauthenticated(
    app: &AppState,
    form: &Params,
    login: &LoginState,
    account: &AccountRow,
    device: &Device,
) -> Result<Result<(), (StatusCode, FieldError)>, PageError> {
    let now = app.clock.now();
    if now - login.auth_time <= RECENT_SIGN_IN {
        return Ok(Ok(()));
    }
    let proof = proof_of(form, device);
    match passwords::reauthenticate(app, account, &proof, now).await {
        Ok(()) => Ok(Ok(())),
        Err(e) => {
            let (status, mut errors) = refusal(e)?;
            let error = errors.pop().ok_or_else(|| {
                PageError::server_error("a refused password check named no problem")
            })?;
            Ok(Err((status, error)))
        }
    }
}

/// The second step, when the account has a factor and this session has not proved one in the
/// last ten minutes; then back to the account page, which says the change can be made now.
pub(super) async fn fresh_factor_first(
    app: &AppState,
    login: &LoginState,
    account: &AccountRow,
) -> Result<Option<Response>, PageError> {
    let now = app.clock.now();
    if login.factor_is_fresh(now) || !app.store.find_mfa(account.account_id).await?.has_factor() {
        return Ok(None);
    }
    let back: String =
        url::form_urlencoded::byte_serialize(format!("{PATH}?done=factor_proved").as_bytes())
            .collect();
    Ok(Some(
        Redirect::to(&format!("{}?return_to={back}", paths::SECOND_FACTOR)).into_response(),
    ))
}
