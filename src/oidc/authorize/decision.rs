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
mod tests {
    use super::*;
    use crate::oidc::authorize::request::{RedirectTarget, ResponseMode};
    use uuid::Uuid;

    fn request(scope: &str) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: Uuid::nil(),
            target: RedirectTarget {
                redirect_uri: "https://app/cb".into(),
                response_mode: ResponseMode::Query,
                state: None,
            },
            scopes: ScopeSet::parse(scope),
            nonce: None,
            code_challenge: None,
            prompt_none: false,
            prompt_login: false,
            prompt_consent: false,
            max_age: None,
            login_hint: None,
            ui_locales: None,
            claims: Default::default(),
            hint_subject: None,
            wants_mfa: false,
        }
    }

    const ME: Uuid = Uuid::from_u128(1);

    fn login(auth_time: i64, mfa: bool) -> Option<Login> {
        Some(Login {
            account_id: ME,
            auth_time,
            mfa,
        })
    }

    fn situation(login: Option<Login>) -> Situation<'static> {
        Situation {
            login,
            account: AccountDemands::default(),
            client_requires_mfa: false,
            skip_consent: false,
            parked: None,
            consent: ConsentState::Remembered(Some(ScopeSet::parse("openid email"))),
            now: 1000,
        }
    }

    fn decide_request(r: &AuthorizationRequest, s: &Situation<'_>) -> Decision {
        decide(&r.demand(), s)
    }

    /// Every reason the decision refuses for, each with the step it leads to and its answer
    /// under prompt=none; a door that is the consent itself (`GivenHere`) refuses for the same
    /// reasons but never asks for consent.
    #[test]
    fn every_reason_refuses_at_every_kind_of_door() {
        type Case = (
            &'static str,
            fn(&mut AuthorizationRequest, &mut Situation<'static>),
            Decision,
            ErrorCode,
        );
        let cases: [Case; 9] = [
            (
                "signed out",
                |_, s| s.login = None,
                Decision::SignIn,
                ErrorCode::LoginRequired,
            ),
            (
                "temporary password",
                |_, s| s.account.must_change_password = true,
                Decision::SignIn,
                ErrorCode::LoginRequired,
            ),
            (
                "max_age passed",
                |r, _| r.max_age = Some(50),
                Decision::SignIn,
                ErrorCode::LoginRequired,
            ),
            (
                "prompt=login",
                |r, _| r.prompt_login = true,
                Decision::SignIn,
                ErrorCode::LoginRequired,
            ),
            (
                "another person's hint",
                |r, _| r.hint_subject = Some(Uuid::from_u128(2).to_string()),
                Decision::SignIn,
                ErrorCode::LoginRequired,
            ),
            (
                "acr asks for MFA",
                |r, _| r.wants_mfa = true,
                Decision::StepUp,
                ErrorCode::InteractionRequired,
            ),
            (
                "app requires MFA",
                |_, s| s.client_requires_mfa = true,
                Decision::StepUp,
                ErrorCode::InteractionRequired,
            ),
            (
                "role policy requires MFA",
                |_, s| s.account.policy_requires_mfa = true,
                Decision::StepUp,
                ErrorCode::InteractionRequired,
            ),
            (
                "not consented",
                |r, _| r.scopes = ScopeSet::parse("openid profile"),
                Decision::Consent,
                ErrorCode::ConsentRequired,
            ),
        ];
        for (why, change, step, silent) in cases {
            let mut r = request("openid email");
            let mut s = situation(login(900, false));
            assert_eq!(
                decide_request(&r, &s),
                Decision::IssueCode,
                "{why}: baseline"
            );
            change(&mut r, &mut s);
            assert_eq!(decide_request(&r, &s), step, "{why}");
            r.prompt_none = true;
            assert!(
                matches!(decide_request(&r, &s), Decision::Refuse(code, _) if code == silent),
                "{why} under prompt=none"
            );
            r.prompt_none = false;
            s.consent = ConsentState::GivenHere;
            let expected = if step == Decision::Consent {
                Decision::IssueCode
            } else {
                step
            };
            assert_eq!(
                decide_request(&r, &s),
                expected,
                "{why}, consent given at the door"
            );
        }
    }

    #[test]
    fn a_session_with_a_second_factor_meets_every_mfa_demand() {
        let mut r = request("openid email");
        r.wants_mfa = true;
        let mut s = situation(login(900, true));
        s.client_requires_mfa = true;
        s.account.policy_requires_mfa = true;
        assert_eq!(decide_request(&r, &s), Decision::IssueCode);
        // ... but not a temporary password.
        s.account.must_change_password = true;
        assert_eq!(decide_request(&r, &s), Decision::SignIn);
    }

    #[test]
    fn a_parked_sign_in_is_met_only_by_a_sign_in_after_it() {
        let mut r = request("openid");
        r.prompt_login = true;
        let parked = PendingRequest::waiting_for_sign_in(r.clone(), 950);
        let mut s = situation(login(960, false));
        s.parked = Some(&parked);
        assert_eq!(decide_request(&r, &s), Decision::IssueCode);
        let mut s = situation(login(940, false));
        s.parked = Some(&parked);
        assert_eq!(
            decide_request(&r, &s),
            Decision::SignIn,
            "signed in before it was asked"
        );
        let mut r = request("openid");
        r.max_age = Some(50);
        assert_eq!(
            decide_request(&r, &situation(login(960, false))),
            Decision::IssueCode
        );
    }

    #[test]
    fn max_age_is_not_applied_again_to_a_request_past_its_sign_in() {
        let mut r = request("openid profile");
        r.max_age = Some(3);
        r.prompt_consent = true;
        let at_consent = PendingRequest::waiting_at(r.clone(), Stage::Consent, Uuid::nil());
        let mut s = situation(login(990, false));
        s.now = 1000;
        s.parked = Some(&at_consent);
        s.consent = ConsentState::GivenHere;
        assert_eq!(decide_request(&r, &s), Decision::IssueCode);
        // Not parked past its sign-in: the session is too old for it.
        s.parked = None;
        assert_eq!(decide_request(&r, &s), Decision::SignIn);
    }

    #[test]
    fn consent_is_remembered_but_api_is_asked_for_every_time() {
        let me = login(990, false);
        assert_eq!(
            decide_request(&request("openid email"), &situation(me)),
            Decision::IssueCode
        );
        let mut s = situation(me);
        s.skip_consent = true;
        assert_eq!(
            decide_request(&request("openid profile"), &s),
            Decision::IssueCode
        );
        s.consent = ConsentState::Remembered(Some(ScopeSet::parse("openid email api")));
        assert_eq!(
            decide_request(&request("openid api"), &s),
            Decision::Consent
        );
        // The consent form's own answer covers api, once.
        s.consent = ConsentState::GivenHere;
        assert_eq!(
            decide_request(&request("openid api"), &s),
            Decision::IssueCode
        );
        let mut r = request("openid email");
        r.prompt_consent = true;
        assert_eq!(decide_request(&r, &situation(me)), Decision::Consent);
    }
}
