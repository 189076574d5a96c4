//! The pages people see: sign in (`sign_in.rs`, with the temporary-password change), consent,
//! the home page, the device and QR sign-in pages, and the account's own password.
//!
//! Every way of signing in here (password, temporary password, e-mailed link, passkey, second
//! factor) establishes the session in `finish_sign_in` and then goes `Onward`: to the app's
//! parked request (`Pending::resume`, which asks the authorization decision again) or back to
//! the page the person came from. A step-up of a signed-in session goes `Onward` the same way.

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
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use crate::accounts::factors;
use crate::domain::protocol::paths;
use crate::http::Device;
use crate::http::page::PageError;
use crate::oidc::authorize::{Pending, Resumed, Visitor, load_pending};
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, LoginState};
use crate::state::AppState;
use crate::store::AccountRow;

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

/// The browser a sign-in happens in: its session, its binding key, and its address and agent.
pub struct Visit<'a> {
    pub session: &'a Session,
    pub browser: &'a BrowserKey,
    pub device: &'a Device,
}

impl Visit<'_> {
    /// The browser as a parked request knows it.
    pub fn visitor(&self) -> Visitor<'_> {
        Visitor {
            ip: &self.device.ip,
            browser: self.browser,
        }
    }
}

/// Where a sign-in goes once it is done: the app's parked request, or else a page of ours.
pub struct Onward {
    pub pending: Option<Pending>,
    /// A same-site page to go back to when no app is waiting (home when none).
    pub return_to: Option<String>,
}

impl Onward {
    /// What a session keeps of it across the pages of a sign-in.
    pub fn kept(&self) -> KeptOnward {
        KeptOnward {
            request: self.pending.as_ref().map(|p| p.id),
            return_to: self.return_to.clone(),
        }
    }

    /// On with the session signed in as `login`: the app's request asks its decision again;
    /// without one, the person goes back to the page (or home).
    pub async fn go(
        self,
        app: &AppState,
        visitor: &Visitor<'_>,
        login: &(LoginState, AccountRow),
        now: i64,
    ) -> Result<Response, PageError> {
        match self.pending {
            Some(pending) => {
                let resumed = Resumed {
                    visitor,
                    login: Some(login),
                    consent_given: false,
                };
                pending.resume(app, resumed, now).await
            }
            None => {
                let back = self.return_to.as_deref().unwrap_or(paths::HOME);
                Ok(Redirect::to(back).into_response())
            }
        }
    }
}

/// Where a sign-in goes, as a session keeps it between the sign-in's pages (flattened into the
/// state of each, whose fields these were).
#[derive(Serialize, Deserialize)]
pub struct KeptOnward {
    /// The parked authorization request the sign-in continues.
    pub request: Option<Uuid>,
    pub return_to: Option<String>,
}

impl KeptOnward {
    /// The parked request loaded again (it must still be this browser's and waiting).
    pub async fn load(self, app: &AppState, browser: &BrowserKey) -> Result<Onward, PageError> {
        let pending = match self.request {
            Some(id) => Some(load_pending(app, &id.to_string(), browser).await?),
            None => None,
        };
        Ok(Onward {
            pending,
            return_to: self.return_to,
        })
    }
}

/// After the password: the second factor when the account has one or must enrol one (the
/// session is established only after it); otherwise establishes the SSO session and continues
/// the app's authorization request (or goes home).
pub async fn continue_after_sign_in(
    app: &AppState,
    visit: &Visit<'_>,
    signed_in: SignedIn,
    onward: Onward,
) -> Result<Response, PageError> {
    let demanded = onward
        .pending
        .as_ref()
        .is_some_and(|p| p.parked.request.wants_mfa || p.client.settings.require_mfa);
    let next = factors::after_password(app, &signed_in.account, demanded, signed_in.now).await?;
    // A browser the person asked to remember stands in for the factor it proved.
    let remembered = match next {
        factors::Next::Verify => {
            factors::remembered(app, &signed_in.account, visit.device, signed_in.now).await?
        }
        _ => None,
    };
    if let Some(methods) = remembered {
        let proof = Proof {
            amr: std::iter::once("pwd".to_owned()).chain(methods).collect(),
            factor_now: false,
        };
        return finish_sign_in(app, visit, signed_in, proof, onward).await;
    }
    if next != factors::Next::Done {
        return second_factor::ask(app, visit.session, &signed_in, onward.kept(), next).await;
    }
    finish_sign_in(app, visit, signed_in, Proof::password(), onward).await
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

/// Establishes the SSO session, signed in as `proof` says, and goes on (see `Onward::go`).
pub async fn finish_sign_in(
    app: &AppState,
    visit: &Visit<'_>,
    signed_in: SignedIn,
    proof: Proof,
    onward: Onward,
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
    let state = session::establish(app, visit.session, &account, how, visit.device, now).await?;
    onward
        .go(app, &visit.visitor(), &(state, account), now)
        .await
}

/// The person who opens a page that needs a signed-in session signs in first, and comes back.
pub fn sign_in_first(path_and_query: &str) -> Response {
    let encoded: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    Redirect::to(&format!("/login?return_to={encoded}")).into_response()
}
