//! The SSO session: who is signed in, since when, and how; plus the CSRF token for its forms.
//!
//! The cookie lasts as long as the browser session unless the person chose "Keep me signed in"
//! (shared lab computers): then it is persistent for `HCCC_SSO_REMEMBER_ME_SECONDS`. Either way
//! the server ends a session after its idle timeout and absolute lifetime, and when the account's
//! password changed since the sign-in.

use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::{Deserialize, Serialize};
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use crate::crypto;
use crate::http::page::{PageError, PageForm};
use crate::http::{Device, Params};
use crate::state::AppState;
use crate::store::{AccountRow, NewBrowserSession};
use browser::BrowserKey;

use crate::store::LOGIN_KEY;

pub mod browser;
const CSRF_KEY: &str = "csrf";
/// Activity is written back at most this often (seconds), not on every page.
const TOUCH_EVERY: i64 = 60;

/// Recorded at sign-in; `sid` ties ID tokens to this session (for logout).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginState {
    pub account_id: Uuid,
    pub sid: Uuid,
    pub auth_time: i64,
    pub amr: Vec<String>,
    /// "Keep me signed in on this device": a persistent cookie and the longer lifetimes.
    #[serde(default)]
    pub remember: bool,
    /// The last page request (at most `TOUCH_EVERY` behind), for the idle timeout.
    #[serde(default)]
    pub last_seen: i64,
    /// The account's credential version at sign-in: a password change since ends the session.
    #[serde(default)]
    pub credential_version: i64,
    /// When a second factor was last proved in this session (at sign-in or a step-up; a
    /// remembered browser proves none): changing factors needs a recent one.
    #[serde(default)]
    pub factor_at: Option<i64>,
}

/// How recent a second factor must be to change the account's factors (seconds).
pub const FRESH_FACTOR: i64 = 600;

impl LoginState {
    /// A second factor was proved in this session within `FRESH_FACTOR` of `now`.
    pub fn factor_is_fresh(&self, now: i64) -> bool {
        self.factor_at.is_some_and(|at| now - at <= FRESH_FACTOR)
    }
}

/// A failure of the session store, as the page a handler answers with.
pub fn session_error(e: tower_sessions::session::Error) -> PageError {
    PageError::server_error(format!("session store: {e}"))
}

/// The cookie expiry of a session: persistent only when the person asked for it.
fn expiry(app: &AppState, remember: bool) -> Option<Expiry> {
    remember.then(|| Expiry::OnInactivity(time::Duration::seconds(app.config.remember_me)))
}

/// The idle timeout and absolute lifetime that apply to a session.
fn lifetimes(app: &AppState, state: &LoginState) -> (i64, i64) {
    let config = &app.config;
    if state.remember && config.remember_me > 0 {
        (config.remember_me, config.remember_me)
    } else {
        (config.session_ttl, config.session_max)
    }
}

/// The signed-in account, if the session has one that is still within its lifetimes, and the
/// account is enabled and has not changed its password since. Anything else ends the session.
pub async fn current_login(
    app: &AppState,
    session: &Session,
) -> Result<Option<(LoginState, AccountRow)>, PageError> {
    let Some(mut state) = session
        .get::<LoginState>(LOGIN_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let now = app.clock.now();
    let (idle, max) = lifetimes(app, &state);
    let last_seen = state.last_seen.max(state.auth_time);
    let live = now - last_seen <= idle && now - state.auth_time <= max;
    // The account through the session's row: a session ended from another browser has none.
    let account = if live {
        app.store
            .find_session_account(state.sid)
            .await?
            .filter(|a| a.account_id == state.account_id)
    } else {
        None
    };
    match account {
        // A temporary password set by an admin ends existing sessions too.
        Some(account)
            if !account.disabled
                && !account.must_change_password
                && account.credential_version == state.credential_version =>
        {
            if now - last_seen >= TOUCH_EVERY {
                state.last_seen = now;
                save(app, session, &state).await?;
                let until = ends_at(app, &state, now);
                app.store
                    .touch_browser_session(state.sid, now, until)
                    .await?;
            }
            // The page is shown in the account's language unless the person picked another.
            crate::i18n::prefer_account(account.locale.as_deref());
            Ok(Some((state, account)))
        }
        _ => {
            end(app, session).await?;
            Ok(None)
        }
    }
}

/// Writes the login state back, keeping a remembered session's cookie persistent (tower-sessions
/// rewrites the cookie with the layer's default expiry otherwise).
async fn save(app: &AppState, session: &Session, state: &LoginState) -> Result<(), PageError> {
    if state.remember {
        session.set_expiry(expiry(app, true));
    }
    session
        .insert(LOGIN_KEY, state)
        .await
        .map_err(session_error)
}

/// How a person signed in.
pub struct How {
    pub amr: Vec<String>,
    /// `password`, `qr`, `invitation`, `reset`: shown in the account's session list.
    pub method: &'static str,
    /// "Keep me signed in on this device".
    pub remember: bool,
    /// A second factor was proved in this sign-in (not stood in for by a remembered browser).
    pub factor_now: bool,
}

/// When a session ends unless it is used again: its idle timeout, within its absolute lifetime.
fn ends_at(app: &AppState, state: &LoginState, now: i64) -> i64 {
    let (idle, max) = lifetimes(app, state);
    (now + idle).min(state.auth_time + max)
}

/// Starts a signed-in session under a new session id (no fixation), a new `sid` and a new CSRF
/// token (the one of the sign-in form is not carried over), and lists it under the account.
pub async fn establish(
    app: &AppState,
    session: &Session,
    account: &AccountRow,
    how: How,
    device: &Device,
    now: i64,
) -> Result<LoginState, PageError> {
    session.cycle_id().await.map_err(session_error)?;
    let remember = how.remember && app.config.remember_me > 0;
    let state = LoginState {
        account_id: account.account_id,
        sid: Uuid::new_v4(),
        auth_time: now,
        amr: how.amr,
        remember,
        last_seen: now,
        credential_version: account.credential_version,
        factor_at: how.factor_now.then_some(now),
    };
    let listed = NewBrowserSession {
        sid: state.sid,
        account_id: account.account_id,
        method: how.method,
        ip: &device.ip,
        user_agent: &device.user_agent,
        expires_at: ends_at(app, &state, now),
    };
    app.store.insert_browser_session(&listed, now).await?;
    session.set_expiry(expiry(app, remember));
    session
        .insert(CSRF_KEY, crypto::random_token())
        .await
        .map_err(session_error)?;
    save(app, session, &state).await?;
    Ok(state)
}

/// A second factor proved in a signed-in session (step-up): its sign-in counts as
/// multi-factor from now on. `auth_time` stays that of the sign-in, so stepping up never
/// stretches the session's absolute lifetime.
pub async fn add_second_factor(
    app: &AppState,
    session: &Session,
    state: &LoginState,
    amr: &[&str],
) -> Result<LoginState, PageError> {
    let mut state = state.clone();
    state.factor_at = Some(app.clock.now());
    for method in amr {
        if !state.amr.iter().any(|m| m == method) {
            state.amr.push((*method).to_owned());
        }
    }
    // A new session id for the new privilege, as at sign-in.
    session.cycle_id().await.map_err(session_error)?;
    save(app, session, &state).await?;
    Ok(state)
}

/// Keeps the current session signed in across a change of the account's credentials.
pub async fn follow_credential_change(
    app: &AppState,
    session: &Session,
    state: &LoginState,
    credential_version: i64,
) -> Result<LoginState, PageError> {
    let state = LoginState {
        credential_version,
        ..state.clone()
    };
    save(app, session, &state).await?;
    Ok(state)
}

/// Ends the session entirely, deleting it from the store and from the account's list.
pub async fn end(app: &AppState, session: &Session) -> Result<(), PageError> {
    if let Some(state) = session
        .get::<LoginState>(LOGIN_KEY)
        .await
        .map_err(session_error)?
    {
        app.store
            .end_browser_sessions(state.account_id, Some(state.sid), None)
            .await?;
    }
    session.flush().await.map_err(session_error)
}

/// The CSRF secret of this browser: the session's own once signed in (made at sign-in),
/// otherwise one derived from the browser key, so showing a form to a visitor stores nothing.
async fn csrf_secret(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
) -> Result<String, PageError> {
    Ok(session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or_else(|| browser.csrf_token(&app.csrf_key)))
}

/// The CSRF token for a form: the secret under a fresh random mask (`mask ‖ secret ⊕ mask`), so
/// no two pages carry the same bytes and a compressed page cannot be made to reveal it (BREACH).
pub async fn csrf_token(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
) -> Result<String, PageError> {
    let secret = csrf_secret(app, session, browser).await?;
    Ok(mask(secret.as_bytes()))
}

/// Secrets are 43 characters (256 bits in base64url); the pad covers up to 64.
fn mask(secret: &[u8]) -> String {
    let pad: Vec<u8> = crypto::random_bytes::<64>()
        .into_iter()
        .take(secret.len())
        .collect();
    let masked: Vec<u8> = pad.iter().zip(secret).map(|(p, s)| p ^ s).collect();
    crypto::b64url(&[pad, masked].concat())
}

/// The secret a presented token carries, if it is one of ours in form.
fn unmask(token: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()?;
    let (pad, masked) = bytes.split_at(bytes.len() / 2);
    // Our secrets are 43 bytes: anything much shorter is not one of our tokens.
    (bytes.len() % 2 == 0 && pad.len() >= 32)
        .then(|| pad.iter().zip(masked).map(|(p, m)| p ^ m).collect())
}

/// Whether a submitted form carries a token of this browser's secret (compared in constant time).
pub async fn csrf_valid(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    presented: Option<&str>,
) -> Result<bool, PageError> {
    let expected = csrf_secret(app, session, browser).await?;
    Ok(presented
        .filter(|p| p.len() <= 200)
        .and_then(unmask)
        .is_some_and(|presented| {
            !expected.is_empty() && crypto::constant_time_eq(expected.as_bytes(), &presented)
        }))
}

/// A page's form whose CSRF token matched, with the session and browser it came from.
pub struct CsrfForm {
    pub form: Params,
    pub session: Session,
    pub browser: BrowserKey,
}

impl FromRequest<AppState> for CsrfForm {
    type Rejection = PageError;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, app)
            .await
            .map_err(|(_, why)| PageError::server_error(format!("session layer: {why}")))?;
        let browser = BrowserKey::from_request_parts(&mut parts, app)
            .await
            .unwrap_or_else(|never| match never {});
        let PageForm(form) = PageForm::from_request(Request::from_parts(parts, body), app).await?;
        if !csrf_valid(app, &session, &browser, form.get("csrf_token")).await? {
            return Err(PageError::form_expired());
        }
        Ok(CsrfForm {
            form,
            session,
            browser,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_token_differs_every_time_and_unmasks_to_its_secret() {
        let secret = crypto::random_token();
        let (a, b) = (mask(secret.as_bytes()), mask(secret.as_bytes()));
        assert_ne!(a, b, "a fresh mask per page");
        assert!(
            !a.contains(&secret[..8]),
            "the secret is not visible in the token"
        );
        assert_eq!(unmask(&a).as_deref(), Some(secret.as_bytes()));
        assert_eq!(unmask(&b).as_deref(), Some(secret.as_bytes()));
        // Not ours in form: odd lengths, not base64url, empty.
        assert_eq!(unmask("abc"), None);
        assert_eq!(unmask("!!!!"), None);
        assert_eq!(unmask(""), None);
        // A secret presented as it is (unmasked) does not pass as a token of itself.
        assert_ne!(unmask(&secret).as_deref(), Some(secret.as_bytes()));
    }
}
