//! The account page's forms about the person: names, and the address (a change waits for the
//! new address's confirmation and can be cancelled; the current one can be confirmed again).

use axum::extract::State;
use axum::response::Response;

use super::proof::fresh_factor_first;
use super::{AccountForm, done, proof_of, refusal, refused};
use crate::accounts::directory::{self, DirectoryError, UserChange};
use crate::accounts::self_service::{self, SelfServiceError};
use crate::http::Device;
use crate::http::page::PageError;
use crate::login::person::PersonForm;
use crate::state::AppState;

use axum::http::StatusCode;

pub async fn post_profile(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    let name = |field: &str| {
        Some(
            csrf.form
                .get(field)
                .map(str::to_owned)
                .filter(|s| !s.trim().is_empty()),
        )
    };
    let change = UserChange {
        given_name: name("given_name"),
        family_name: name("family_name"),
        ..UserChange::default()
    };
    let actor = person.actor();
    let account = &person.account;
    let now = app.clock.now();
    match directory::update_user(&app.store, &actor, account.account_id, &change, now).await {
        Ok((before, after)) => {
            let detail = serde_json::json!({"before": directory::audit_view(&before), "after": directory::audit_view(&after)});
            let target = Some(format!("user:{}", account.account_id));
            crate::audit::record(
                &app,
                &actor,
                Some(&device.ip),
                "user.update_profile",
                target,
                detail,
            )
            .await;
            Ok(done("profile"))
        }
        Err(DirectoryError::Invalid(errors)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refused(&app, &csrf, &person, status, errors).await
        }
        Err(e) => Err(PageError::server_error(e)),
    }
}

pub async fn post_email(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: AccountForm,
) -> Result<Response, PageError> {
    // The address is where resets go: moving it needs the second factor too, where there is one.
    if let Some(step_up) = fresh_factor_first(&app, &person.login, &person.account).await? {
        return Ok(step_up);
    }
    let raw = csrf.form.get("email").unwrap_or_default();
    let proof = proof_of(&csrf.form, &device);
    match self_service::start_email_change(&app, &person.account, raw, &proof).await {
        Ok(_) => Ok(done("email")),
        Err(e) => {
            let (status, errors) = refusal(e)?;
            refused(&app, &csrf, &person, status, errors).await
        }
    }
}

/// Cancels the change of address waiting for its confirmation: its link stops working.
pub async fn post_cancel_email(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, .. }: AccountForm,
) -> Result<Response, PageError> {
    self_service::cancel_email_change(&app, &person.account, Some(&device.ip))
        .await
        .map_err(PageError::server_error)?;
    Ok(done("email_cancelled"))
}

pub async fn post_send_verification(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, .. }: AccountForm,
) -> Result<Response, PageError> {
    if person.account.email_verified {
        return Ok(done("verification"));
    }
    let actor = person.actor();
    match self_service::send_verification(&app, &person.account, &actor, Some(&device.ip)).await {
        Ok(()) => Ok(done("verification")),
        Err(SelfServiceError::Throttled { retry_after }) => {
            Err(crate::login::links::mail_throttled(retry_after))
        }
        Err(e) => Err(PageError::server_error(e)),
    }
}
