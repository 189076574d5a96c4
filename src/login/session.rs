//! The SSO session: who is signed in, since when, and how; plus the CSRF token for its forms.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use super::page::PageError;
use crate::crypto;
use crate::state::AppState;
use crate::store::AccountRow;

const LOGIN_KEY: &str = "login";
const CSRF_KEY: &str = "csrf";

/// Recorded at sign-in; `sid` ties ID tokens to this session (for logout).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginState {
    pub account_id: Uuid,
    pub sid: Uuid,
    pub auth_time: i64,
    pub amr: Vec<String>,
}

fn session_error(e: tower_sessions::session::Error) -> PageError {
    PageError::server_error(format!("session store: {e}"))
}

/// The signed-in account, if the session has one and the account is still enabled.
pub async fn current_login(
    app: &AppState,
    session: &Session,
) -> Result<Option<(LoginState, AccountRow)>, PageError> {
    let Some(state) = session
        .get::<LoginState>(LOGIN_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    match app.store.find_account(state.account_id).await? {
        // A temporary password set by an admin ends existing sessions too.
        Some(account) if !account.disabled && !account.must_change_password => {
            Ok(Some((state, account)))
        }
        _ => {
            session
                .remove::<LoginState>(LOGIN_KEY)
                .await
                .map_err(session_error)?;
            Ok(None)
        }
    }
}

/// Starts a signed-in session under a new session id (no fixation) and a new `sid`.
pub async fn establish(
    session: &Session,
    account: &AccountRow,
    amr: Vec<String>,
    now: i64,
) -> Result<LoginState, PageError> {
    session.cycle_id().await.map_err(session_error)?;
    let state = LoginState {
        account_id: account.account_id,
        sid: Uuid::new_v4(),
        auth_time: now,
        amr,
    };
    session
        .insert(LOGIN_KEY, &state)
        .await
        .map_err(session_error)?;
    Ok(state)
}

/// Ends the session entirely, deleting it from the store.
pub async fn end(session: &Session) -> Result<(), PageError> {
    session.flush().await.map_err(session_error)
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, PageError> {
    if let Some(token) = session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(session_error)?
    {
        return Ok(token);
    }
    let token = crypto::random_token();
    session
        .insert(CSRF_KEY, &token)
        .await
        .map_err(session_error)?;
    Ok(token)
}

/// Whether a submitted form carries this session's CSRF token (compared in constant time).
pub async fn csrf_valid(session: &Session, presented: Option<&str>) -> Result<bool, PageError> {
    let expected = session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(session_error)?;
    Ok(match (expected, presented) {
        (Some(expected), Some(presented)) => {
            crypto::constant_time_eq(expected.as_bytes(), presented.as_bytes())
        }
        _ => false,
    })
}
