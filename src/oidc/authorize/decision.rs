//! What happens next with a valid authorization request, decided without I/O from what the
//! handler looked up: sign in, consent, issue a code, or answer the client with an error.

use super::request::{AuthorizationRequest, PendingRequest};
use crate::domain::{Scope, ScopeSet};
use crate::oidc::error::ErrorCode;

/// The next step.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    SignIn,
    /// Signed in, but without the second factor this request or app needs.
    StepUp,
    Consent,
    IssueCode,
    Refuse(ErrorCode, &'static str),
}

/// What the decision depends on besides the request.
pub struct Situation<'a> {
    /// Who is signed in in this browser, and since when (`auth_time`).
    pub login: Option<(uuid::Uuid, i64)>,
    /// The session's sign-in used a second factor.
    pub login_mfa: bool,
    /// The app is registered as requiring a second factor.
    pub client_requires_mfa: bool,
    /// The parked request this continues, if any.
    pub parked: Option<&'a PendingRequest>,
    pub skip_consent: bool,
    /// What the person consented to for this client before.
    pub consented: Option<ScopeSet>,
    pub now: i64,
}

pub fn decide(request: &AuthorizationRequest, situation: &Situation<'_>) -> Decision {
    if needs_sign_in(request, situation) {
        return if request.prompt_none {
            Decision::Refuse(ErrorCode::LoginRequired, "the user is not signed in")
        } else {
            Decision::SignIn
        };
    }
    if (request.wants_mfa || situation.client_requires_mfa) && !situation.login_mfa {
        return if request.prompt_none {
            Decision::Refuse(
                ErrorCode::InteractionRequired,
                "the sign-in needs a second factor",
            )
        } else {
            Decision::StepUp
        };
    }
    if needs_consent(request, situation) {
        return if request.prompt_none {
            Decision::Refuse(ErrorCode::ConsentRequired, "the user has not consented")
        } else {
            Decision::Consent
        };
    }
    Decision::IssueCode
}

/// No session; or one older than a sign-in this request asked for (prompt=login, max_age); or
/// another person's than the id_token_hint names.
fn needs_sign_in(request: &AuthorizationRequest, situation: &Situation<'_>) -> bool {
    let Some((account_id, auth_time)) = situation.login else {
        return true;
    };
    let fresh_enough = match situation.parked.and_then(|p| p.require_login_after) {
        Some(after) => auth_time >= after,
        None => situation.parked.is_some() || !request.prompt_login,
    };
    let too_old = request
        .max_age
        .is_some_and(|max_age| situation.now - auth_time > max_age);
    let other_user = request
        .hint_subject
        .as_ref()
        .is_some_and(|sub| *sub != account_id.to_string());
    !fresh_enough || too_old || other_user
}

/// `api` lets the app act with the person's own rights (an admin's, for an admin): it is asked
/// for every time, even of apps that skip consent, and never remembered.
fn needs_consent(request: &AuthorizationRequest, situation: &Situation<'_>) -> bool {
    if request.scopes.contains(Scope::Api) {
        return true;
    }
    if situation.skip_consent {
        return false;
    }
    request.prompt_consent
        || !situation
            .consented
            .is_some_and(|granted| granted.covers(request.scopes))
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

    fn situation(login: Option<(Uuid, i64)>) -> Situation<'static> {
        Situation {
            login,
            login_mfa: false,
            client_requires_mfa: false,
            parked: None,
            skip_consent: false,
            consented: Some(ScopeSet::parse("openid email")),
            now: 1000,
        }
    }

    const ME: Uuid = Uuid::from_u128(1);

    #[test]
    fn signed_out_signs_in_or_is_refused_under_prompt_none() {
        let mut r = request("openid");
        assert_eq!(decide(&r, &situation(None)), Decision::SignIn);
        r.prompt_none = true;
        assert_eq!(
            decide(&r, &situation(None)),
            Decision::Refuse(ErrorCode::LoginRequired, "the user is not signed in")
        );
    }

    #[test]
    fn prompt_login_max_age_and_hints_ask_for_a_fresh_sign_in() {
        let mut r = request("openid");
        r.prompt_login = true;
        assert_eq!(decide(&r, &situation(Some((ME, 900)))), Decision::SignIn);
        // Continuing a request parked for that sign-in, after it happened.
        let parked = PendingRequest {
            request: r.clone(),
            require_login_after: Some(950),
        };
        let mut s = situation(Some((ME, 960)));
        s.parked = Some(&parked);
        assert_eq!(decide(&r, &s), Decision::IssueCode);
        let mut s = situation(Some((ME, 940)));
        s.parked = Some(&parked);
        assert_eq!(
            decide(&r, &s),
            Decision::SignIn,
            "signed in before it was asked"
        );

        let mut r = request("openid");
        r.max_age = Some(50);
        assert_eq!(decide(&r, &situation(Some((ME, 900)))), Decision::SignIn);
        assert_eq!(decide(&r, &situation(Some((ME, 960)))), Decision::IssueCode);
        r.max_age = None;
        r.hint_subject = Some(Uuid::from_u128(2).to_string());
        assert_eq!(decide(&r, &situation(Some((ME, 960)))), Decision::SignIn);
    }

    #[test]
    fn consent_is_remembered_but_api_is_asked_for_every_time() {
        let me = Some((ME, 990));
        assert_eq!(
            decide(&request("openid email"), &situation(me)),
            Decision::IssueCode
        );
        assert_eq!(
            decide(&request("openid profile"), &situation(me)),
            Decision::Consent
        );
        let mut s = situation(me);
        s.skip_consent = true;
        assert_eq!(decide(&request("openid profile"), &s), Decision::IssueCode);
        s.consented = Some(ScopeSet::parse("openid email api"));
        assert_eq!(decide(&request("openid api"), &s), Decision::Consent);
        let mut r = request("openid api");
        r.prompt_none = true;
        assert_eq!(
            decide(&r, &s),
            Decision::Refuse(ErrorCode::ConsentRequired, "the user has not consented")
        );
        let mut r = request("openid email");
        r.prompt_consent = true;
        assert_eq!(decide(&r, &situation(me)), Decision::Consent);
    }

    #[test]
    fn a_request_for_mfa_steps_a_password_session_up_or_is_refused_silently() {
        let me = Some((ME, 900));
        let mut r = request("openid email");
        r.wants_mfa = true;
        assert_eq!(decide(&r, &situation(me)), Decision::StepUp);
        r.prompt_none = true;
        assert_eq!(
            decide(&r, &situation(me)),
            Decision::Refuse(
                ErrorCode::InteractionRequired,
                "the sign-in needs a second factor"
            )
        );
        // Signed out, the sign-in comes first (and asks for the factor itself).
        assert_eq!(
            decide(&r, &situation(None)),
            Decision::Refuse(ErrorCode::LoginRequired, "the user is not signed in")
        );
        // A session that used a second factor goes straight on.
        let mut with_mfa = situation(me);
        with_mfa.login_mfa = true;
        assert_eq!(decide(&r, &with_mfa), Decision::IssueCode);
        // An app registered as requiring MFA asks without acr_values.
        let mut plain = request("openid email");
        let mut strict = situation(me);
        strict.client_requires_mfa = true;
        assert_eq!(decide(&plain, &strict), Decision::StepUp);
        plain.prompt_none = true;
        assert!(matches!(
            decide(&plain, &strict),
            Decision::Refuse(ErrorCode::InteractionRequired, _)
        ));
    }
}
