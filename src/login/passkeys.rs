//! Signing in with a passkey alone, from the sign-in page, without a username; and the
//! session-side keeping of every WebAuthn ceremony (registration, sign-in, second step).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::sign_in::Attempt;
use super::{Onward, Proof, SignedIn, Visit, finish_sign_in, local_path};
use crate::accounts::passkeys::{self, Ceremony, PasskeyError, Started};
use crate::domain::ScopeSet;
use crate::http::Device;
use crate::http::page::PageError;
use crate::i18n::Message;
use crate::oidc::authorize::{self, Decision, Login, load_pending_if};
use crate::sessions::CsrfForm;
use crate::sessions::session_error;
use crate::state::AppState;

/// The one ceremony under way in this browser; a new one replaces it.
const KEY: &str = "webauthn";

/// Keeps a started ceremony and answers its options, for `navigator.credentials`.
pub(super) async fn keep(session: &Session, started: Started) -> Result<String, PageError> {
    session
        .insert(KEY, &started.ceremony)
        .await
        .map_err(session_error)?;
    Ok(started.options)
}

/// Takes the ceremony out of the session: whatever its answer, it is spent.
pub(super) async fn take(session: &Session) -> Result<Option<Ceremony>, PageError> {
    session.remove::<Ceremony>(KEY).await.map_err(session_error)
}

/// Ceremony options as JSON, never cached.
pub(super) fn options_response(options: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        options,
    )
        .into_response()
}

/// A ceremony that could not start: the script shows its message; nothing else to say.
pub(super) fn start_error(e: PasskeyError) -> PageError {
    match e {
        PasskeyError::Off => PageError::not_found(),
        e => PageError::server_error(e),
    }
}

/// Options for a passkey sign-in (fetched by the sign-in page's script).
pub async fn post_options(
    State(app): State<AppState>,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let started = passkeys::start_sign_in(&app, app.clock.now()).map_err(start_error)?;
    Ok(options_response(keep(&csrf.session, started).await?))
}

/// The passkey's answer: signs in and continues to the app (or home); a refused answer shows
/// the sign-in page again with the problem.
pub async fn post_sign_in(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = &csrf;
    let onward = Onward {
        pending: load_pending_if(&app, form.get("request"), browser).await?,
        return_to: local_path(form.get("return_to")),
    };
    let attempt = Attempt {
        username: String::new(),
        onward,
        remember: false,
        qr: super::qr::offered(&app, &device.ip),
    };
    let now = app.clock.now();
    let Some(ceremony) = take(session).await? else {
        let error = Message::new("passkey-expired");
        return attempt
            .again(&app, session, browser, StatusCode::BAD_REQUEST, error)
            .await;
    };
    let response = form.get("credential").unwrap_or_default();
    let (account, amr) = match passkeys::finish_sign_in(&app, ceremony, response, now).await {
        Ok(signed) => signed,
        Err(PasskeyError::Refused(why)) => {
            tracing::info!(reason = %why, "a passkey sign-in was refused");
            let error = Message::new("passkey-refused");
            return attempt
                .again(&app, session, browser, StatusCode::UNAUTHORIZED, error)
                .await;
        }
        Err(PasskeyError::Off) => return Err(PageError::not_found()),
        Err(e) => return Err(PageError::server_error(e)),
    };
    // The account's own demands first: a temporary password an admin set (after a compromise,
    // say) must be replaced through the password sign-in, whatever key is presented.
    let login = Login {
        account_id: account.account_id,
        auth_time: now,
        mfa: amr.iter().any(|m| m == "mfa"),
    };
    let decision =
        authorize::decide_at_door(&app, login, &account, None, ScopeSet::default(), now).await?;
    if decision != Decision::IssueCode {
        tracing::info!(account_id = %account.account_id, ?decision, "a passkey sign-in was refused by the account's state");
        let error = Message::new("passkey-temporary-password");
        return attempt
            .again(&app, session, browser, StatusCode::FORBIDDEN, error)
            .await;
    }
    let event = crate::store::NewSignInEvent {
        account_id: account.account_id,
        result: "succeeded",
        method: "passkey",
        ip: &device.ip,
        user_agent: &device.user_agent,
    };
    app.store.record_sign_in(&event, now).await?;
    tracing::info!(account_id = %account.account_id, "signed in with a passkey");
    let signed_in = SignedIn {
        account,
        remember: attempt.remember,
        now,
        method: "passkey",
    };
    let visit = Visit {
        session,
        browser,
        device: &device,
    };
    let proof = Proof::with_factor(amr);
    finish_sign_in(&app, &visit, signed_in, proof, attempt.onward).await
}
