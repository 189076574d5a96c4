//! The one decision every door asks before it signs someone in or issues a code, tokens or a
//! session: the authorization endpoint and the steps after it (consent, the second step,
//! `/authorize/continue`), the passkey and QR sign-ins, the device approval and its poll, and
//! the password grant. Decided without I/O from what the door looked up.

use super::request::{AuthorizationRequest, PendingRequest, Stage};
use crate::domain::{Scope, ScopeSet};
use crate::oidc::error::ErrorCode;

/// The next step.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// A (fresh) sign-in is needed first, or the account must replace a temporary password.
    SignIn,
    /// Signed in, but without the second factor this request, app or account policy needs.
    StepUp,
    Consent,
    /// Go ahead: issue the code, tokens or session.
    IssueCode,
    Refuse(ErrorCode, &'static str),
}

/// What is being asked of the sign-in, whichever door it came through.
#[derive(Debug, Clone, Default)]
pub struct Demand<'a> {
    pub scopes: ScopeSet,
    pub prompt_none: bool,
    pub prompt_login: bool,
    pub prompt_consent: bool,
    pub max_age: Option<i64>,
    /// The subject of an id_token_hint: the session must be this person's.
    pub hint_subject: Option<&'a str>,
    /// The request prefers the REFEDS MFA profile.
    pub wants_mfa: bool,
}

impl Demand<'static> {
    /// A door with no authorization request (device, QR, password grant): only the scopes.
    pub fn scopes(scopes: ScopeSet) -> Demand<'static> {
        Demand {
            scopes,
            ..Demand::default()
        }
    }
}

impl AuthorizationRequest {
    pub fn demand(&self) -> Demand<'_> {
        Demand {
            scopes: self.scopes,
            prompt_none: self.prompt_none,
            prompt_login: self.prompt_login,
            prompt_consent: self.prompt_consent,
            max_age: self.max_age,
            hint_subject: self.hint_subject.as_deref(),
            wants_mfa: self.wants_mfa,
        }
    }
}

/// The sign-in a door would act on: its account, when it happened, whether it used a second factor.
#[derive(Debug, Clone, Copy)]
pub struct Login {
    pub account_id: uuid::Uuid,
    pub auth_time: i64,
    pub mfa: bool,
}

/// What the account's state requires of any sign-in, looked up by the door.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountDemands {
    /// An admin set a temporary password: nothing but replacing it.
    pub must_change_password: bool,
    /// The role policy (past its grace) or an admin requires a second factor of this account.
    pub policy_requires_mfa: bool,
}

/// Where the person's consent stands for this door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Look at what was remembered (and `skip_consent`).
    Remembered(Option<ScopeSet>),
    /// The door itself is the person's answer (the consent form's Allow, a device approval) or an
    /// admin's (the password grant): nothing more to ask.
    GivenHere,
}

/// What the decision depends on besides the demand.
pub struct Situation<'a> {
    pub login: Option<Login>,
    pub account: AccountDemands,
    /// The app is registered as requiring a second factor.
    pub client_requires_mfa: bool,
    pub skip_consent: bool,
    /// The parked request this continues, if any.
    pub parked: Option<&'a PendingRequest>,
    pub consent: ConsentState,
    pub now: i64,
}

pub fn decide(demand: &Demand<'_>, situation: &Situation<'_>) -> Decision {
    if needs_sign_in(demand, situation) {
        return if demand.prompt_none {
            Decision::Refuse(ErrorCode::LoginRequired, "the user is not signed in")
        } else {
            Decision::SignIn
        };
    }
    let needs_mfa =
        demand.wants_mfa || situation.client_requires_mfa || situation.account.policy_requires_mfa;
    if needs_mfa && !situation.login.is_some_and(|l| l.mfa) {
        return if demand.prompt_none {
            Decision::Refuse(
                ErrorCode::InteractionRequired,
                "the sign-in needs a second factor",
            )
        } else {
            Decision::StepUp
        };
    }
    if needs_consent(demand, situation) {
        return if demand.prompt_none {
            Decision::Refuse(ErrorCode::ConsentRequired, "the user has not consented")
        } else {
            Decision::Consent
        };
    }
    Decision::IssueCode
}

/// No session; a temporary password to replace; or a session older than a sign-in this request
/// asked for (prompt=login, max_age); or another person's than the id_token_hint names.
fn needs_sign_in(demand: &Demand<'_>, situation: &Situation<'_>) -> bool {
    let Some(login) = situation.login else {
        return true;
    };
    let fresh_enough = match situation.parked.and_then(|p| p.require_login_after) {
        Some(after) => login.auth_time >= after,
        None => situation.parked.is_some() || !demand.prompt_login,
    };
    // A request parked past its sign-in (at a step-up or consent, for the session that got it
    // there: the doors check) had its max_age met by that session: waiting on the consent page
    // must not send the person round to sign in again.
    let past_sign_in = situation.parked.is_some_and(|p| p.stage != Stage::SignIn);
    let too_old = !past_sign_in
        && demand
            .max_age
            .is_some_and(|max_age| situation.now - login.auth_time > max_age);
    let other_user = demand
        .hint_subject
        .is_some_and(|sub| *sub != login.account_id.to_string());
    situation.account.must_change_password || !fresh_enough || too_old || other_user
}

/// `api` lets the app act with the person's own rights (an admin's, for an admin): it is asked
/// for every time, even of apps that skip consent, and never remembered.
fn needs_consent(demand: &Demand<'_>, situation: &Situation<'_>) -> bool {
    let remembered = match situation.consent {
        ConsentState::GivenHere => return false,
        ConsentState::Remembered(remembered) => remembered,
    };
    if demand.scopes.contains(Scope::Api) {
        return true;
    }
    if situation.skip_consent {
        return false;
    }
    demand.prompt_consent || !remembered.is_some_and(|granted| granted.covers(demand.scopes))
}

#[cfg(test)]
mod tests;
