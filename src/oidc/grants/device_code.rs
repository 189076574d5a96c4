//! The device authorization grant's token request (RFC 8628 §3.4): the device polls until the
//! person approves, denies, or the code expires.

use super::{TokenResponse, issue_new_grant};
use crate::crypto;
use crate::domain::ScopeSet;
use crate::oidc::authorize::{self, Decision, Login};
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::{ClientRow, DevicePoll, NewGrant};

pub struct DeviceCodeRequest {
    pub device_code: String,
}

/// The poll is a door too: the approval must still stand for the account as it is now (no
/// password or factor change since, no temporary password) and meet what the app demands.
async fn approval_holds(
    app: &AppState,
    client: &ClientRow,
    row: &crate::store::DeviceRow,
    account_id: uuid::Uuid,
    auth_time: i64,
    amr: &[String],
    now: i64,
) -> Result<(), OAuthError> {
    let withdrawn = || OAuthError::new(ErrorCode::AccessDenied, "the approval no longer holds");
    let account = app
        .store
        .find_account(account_id)
        .await?
        .filter(|a| !a.disabled && row.approved_version == Some(a.credential_version))
        .ok_or_else(withdrawn)?;
    // The session that approved must still be signed in: signing it out (or the first factor,
    // or "sign out everywhere else") withdraws what it approved and was not yet collected.
    if !approving_session_lives(app, row, account_id).await? {
        return Err(withdrawn());
    }
    let login = Login {
        account_id,
        auth_time,
        mfa: amr.iter().any(|m| m == "mfa"),
    };
    let scopes = ScopeSet::parse(&row.scope);
    match authorize::decide_at_door(app, login, &account, Some(client), scopes, now).await? {
        Decision::IssueCode => Ok(()),
        _ => Err(withdrawn()),
    }
}

/// Whether the browser session that approved `row` for `account_id` is still signed in.
pub async fn approving_session_lives(
    app: &AppState,
    row: &crate::store::DeviceRow,
    account_id: uuid::Uuid,
) -> Result<bool, crate::store::StoreError> {
    let Some(sid) = row.sid else {
        return Ok(false);
    };
    Ok(app
        .store
        .find_session_account(sid)
        .await?
        .is_some_and(|a| a.account_id == account_id))
}

pub async fn poll(
    app: &AppState,
    client: &ClientRow,
    request: DeviceCodeRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let hash = crypto::sha256(request.device_code.as_bytes());
    let row = match app
        .store
        .poll_device(&hash, Some(client.client_id), now)
        .await?
    {
        DevicePoll::Approved(row) => row,
        DevicePoll::Pending => {
            return Err(OAuthError::new(
                ErrorCode::AuthorizationPending,
                "the user has not answered yet",
            ));
        }
        DevicePoll::SlowDown => {
            return Err(OAuthError::new(
                ErrorCode::SlowDown,
                "polling too fast; wait 5 more seconds",
            ));
        }
        DevicePoll::Denied => {
            return Err(OAuthError::new(
                ErrorCode::AccessDenied,
                "the user declined",
            ));
        }
        DevicePoll::Expired => {
            return Err(OAuthError::new(
                ErrorCode::ExpiredToken,
                "the device code has expired",
            ));
        }
        DevicePoll::Unknown => return Err(OAuthError::invalid_grant("device_code is invalid")),
    };
    let (Some(account_id), Some(sid), Some(auth_time)) = (row.account_id, row.sid, row.auth_time)
    else {
        return Err(OAuthError::server_error(
            "an approved device request lacks its approval",
        ));
    };
    let amr = row
        .amr
        .as_deref()
        .map(|a| crate::store::decode_string_list("amr", a))
        .transpose()?
        .unwrap_or_default();
    approval_holds(app, client, &row, account_id, auth_time, &amr, now).await?;
    let new = NewGrant {
        account_id,
        client_id: client.client_id,
        scope: row.scope.clone(),
        sid,
        auth_time,
        amr,
        claims: "{}".into(),
    };
    issue_new_grant(app, client, new, now).await
}
