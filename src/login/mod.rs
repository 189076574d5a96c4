//! The pages people see: sign in (`sign_in.rs`, with the temporary-password change), consent,
//! the home page, the device and QR sign-in pages, and the account's own password.

pub mod account;
pub mod consent;
pub mod device;
pub mod home;
pub mod language;
pub mod links;
pub mod passkeys;
pub mod person;
pub mod qr;
pub mod second_factor;
pub mod sign_in;

use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use crate::accounts::factors;
use crate::http::Device;
use crate::http::page::PageError;
use crate::oidc::authorize::{self, Door, PendingRequest, Visitor};
use crate::sessions as session;
use crate::sessions::browser::BrowserKey;
use crate::state::AppState;
use crate::store::{AccountRow, ClientRow};

/// A same-site path to return to after sign-in; anything else (other hosts, `//host`, `/\\host`) is dropped.
pub fn local_path(target: Option<&str>) -> Option<String> {
    target
        .filter(|t| {
            t.starts_with('/') && !t.starts_with("//") && !t.contains('\\') && t.len() <= 512
        })
        .filter(|t| !t.chars().any(char::is_control))
        .map(str::to_owned)
}

/// A sign-in that succeeded: who, whether to stay signed in, and when.
pub struct SignedIn {
    pub account: AccountRow,
    pub remember: bool,
    pub now: i64,
    /// How: `password`, `invitation`, `reset` (the account page lists it).
    pub method: &'static str,
}

/// After the password: the second factor when the account has one or must enrol one (the
/// session is established only after it); otherwise establishes the SSO session and continues
/// the app's authorization request (or goes home).
pub async fn continue_after_sign_in(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    device: &Device,
    signed_in: SignedIn,
    pending: Option<(Uuid, PendingRequest, ClientRow)>,
    return_to: Option<String>,
) -> Result<Response, PageError> {
    let demanded = pending
        .as_ref()
        .is_some_and(|(_, p, client)| p.request.wants_mfa || client.settings.require_mfa);
    let next = factors::after_password(app, &signed_in.account, demanded, signed_in.now).await?;
    // A browser the person asked to remember stands in for the factor it proved.
    let remembered = match next {
        factors::Next::Verify => {
            factors::remembered(app, &signed_in.account, device, signed_in.now).await?
        }
        _ => None,
    };
    if let Some(methods) = remembered {
        let proof = Proof {
            amr: std::iter::once("pwd".to_owned()).chain(methods).collect(),
            factor_now: false,
        };
        return finish_sign_in(
            app, session, browser, device, signed_in, proof, pending, return_to,
        )
        .await;
    }
    if next != factors::Next::Done {
        let request = pending.as_ref().map(|(id, _, _)| *id);
        return second_factor::ask(app, session, &signed_in, request, return_to, next).await;
    }
    finish_sign_in(
        app,
        session,
        browser,
        device,
        signed_in,
        Proof::password(),
        pending,
        return_to,
    )
    .await
}

/// How a sign-in was proved.
pub struct Proof {
    /// RFC 8176 methods.
    pub amr: Vec<String>,
    /// A second factor was proved in this sign-in (a remembered browser stands in for one
    /// without proving it now).
    pub factor_now: bool,
}

impl Proof {
    pub fn password() -> Proof {
        Proof {
            amr: vec!["pwd".into()],
            factor_now: false,
        }
    }

    /// Methods that include a second factor proved just now.
    pub fn with_factor(amr: Vec<String>) -> Proof {
        let factor_now = amr.iter().any(|m| m == "mfa");
        Proof { amr, factor_now }
    }
}

/// Establishes the SSO session, signed in as `proof` says, and continues the app's authorization
/// request (or goes home).
#[allow(clippy::too_many_arguments)]
pub async fn finish_sign_in(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    device: &Device,
    signed_in: SignedIn,
    proof: Proof,
    pending: Option<(Uuid, PendingRequest, ClientRow)>,
    return_to: Option<String>,
) -> Result<Response, PageError> {
    let SignedIn {
        account,
        remember,
        now,
        method,
    } = signed_in;
    let how = session::How {
        amr: proof.amr,
        method,
        remember,
        factor_now: proof.factor_now,
    };
    let state = session::establish(app, session, &account, how, device, now).await?;
    let visitor = &Visitor {
        ip: &device.ip,
        browser,
    };
    match pending {
        Some((id, pending, client)) => {
            let login = (state, account);
            let door = Door {
                client: &client,
                request: &pending.request,
                parked: Some((id, &pending)),
                visitor,
                consent_given: false,
            };
            authorize::proceed(app, door, Some(&login), now).await
        }
        None => Ok(Redirect::to(&return_to.unwrap_or_else(|| "/".into())).into_response()),
    }
}

/// The person who opens a page that needs a signed-in session signs in first, and comes back.
pub fn sign_in_first(path_and_query: &str) -> Response {
    let encoded: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    Redirect::to(&format!("/login?return_to={encoded}")).into_response()
}
