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
