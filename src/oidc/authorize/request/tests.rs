use super::*;
use crate::domain::AuthMethod;
use crate::store::ClientSettings;

const URI: &str = "https://lms.hccc.edu/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client(public: bool) -> ClientRow {
    ClientRow {
        client_id: Uuid::from_u128(7),
        name: "LMS".into(),
        secret_hash: None,
        redirect_uris: vec![URI.into()],
        post_logout_redirect_uris: Vec::new(),
        grant_types: vec![GrantType::AuthorizationCode],
        token_endpoint_auth_method: if public {
            AuthMethod::None
        } else {
            AuthMethod::ClientSecretBasic
        },
        skip_consent: false,
        created_at: 0,
        updated_at: 0,
        settings: ClientSettings::default(),
    }
}

fn params(extra: &str) -> Params {
    let base = format!(
        "client_id={}&redirect_uri={URI}&response_type=code&scope=openid%20email%20api&state=s1\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        Uuid::from_u128(7)
    );
    Params::parse(format!("{base}{extra}").as_bytes()).expect("params")
}

fn no_hint(_: &str) -> Option<String> {
    None
}

fn refused_with(result: Result<AuthorizationRequest, Refusal>) -> (ErrorCode, String) {
    match result {
        Err(Refusal::Redirect(target, code, why)) => {
            assert_eq!(target.state.as_deref(), Some("s1"), "state goes back");
            (code, why)
        }
        other => panic!("expected a redirect refusal, got {other:?}"),
    }
}

#[test]
fn a_valid_request_keeps_what_the_client_may_have() {
    let request = AuthorizationRequest::parse(
        &params("&nonce=n&max_age=0"),
        &client(false),
        false,
        no_hint,
    )
    .expect("valid");
    assert_eq!(
        request.scope(),
        "openid email",
        "api is not allowed by default"
    );
    assert_eq!(request.nonce.as_deref(), Some("n"));
    assert_eq!(request.max_age, Some(0));
    assert_eq!(request.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(request.target.response_mode, ResponseMode::Query);
}

#[test]
fn an_untrusted_redirect_uri_is_a_page_never_a_redirect() {
    let mut p = params("");
    p.insert("redirect_uri", "https://lms.hccc.edu/cb/");
    assert!(matches!(
        AuthorizationRequest::parse(&p, &client(false), false, no_hint),
        Err(Refusal::Page(INVALID, _))
    ));
    p.remove("redirect_uri");
    assert!(matches!(
        AuthorizationRequest::parse(&p, &client(false), false, no_hint),
        Err(Refusal::Page(..))
    ));
}

#[test]
fn each_bad_parameter_is_refused_at_the_redirect_uri() {
    let cases = [
        ("&response_mode=fragment", ErrorCode::InvalidRequest),
        ("&request=x", ErrorCode::RequestNotSupported),
        ("&request_uri=x", ErrorCode::RequestUriNotSupported),
        ("&registration=x", ErrorCode::RegistrationNotSupported),
        ("&prompt=none%20login", ErrorCode::InvalidRequest),
        ("&prompt=bogus", ErrorCode::InvalidRequest),
        ("&max_age=-1", ErrorCode::InvalidRequest),
        ("&claims=not-json", ErrorCode::InvalidRequest),
        ("&id_token_hint=forged", ErrorCode::InvalidRequest),
    ];
    for (extra, code) in cases {
        let (got, _) = refused_with(AuthorizationRequest::parse(
            &params(extra),
            &client(false),
            false,
            no_hint,
        ));
        assert_eq!(got, code, "{extra}");
    }
    let mut p = params("");
    p.insert("response_type", "token");
    assert_eq!(
        refused_with(AuthorizationRequest::parse(
            &p,
            &client(false),
            false,
            no_hint
        ))
        .0,
        ErrorCode::UnsupportedResponseType
    );
    p.insert("response_type", "code");
    p.insert("scope", "email");
    assert_eq!(
        refused_with(AuthorizationRequest::parse(
            &p,
            &client(false),
            false,
            no_hint
        ))
        .0,
        ErrorCode::InvalidScope
    );
}

#[test]
fn pkce_is_s256_only_and_required_of_public_clients() {
    let mut p = params("");
    p.remove("code_challenge");
    p.remove("code_challenge_method");
    assert!(AuthorizationRequest::parse(&p, &client(false), false, no_hint).is_ok());
    assert_eq!(
        refused_with(AuthorizationRequest::parse(
            &p,
            &client(true),
            false,
            no_hint
        ))
        .0,
        ErrorCode::InvalidRequest
    );
    let mut plain = params("");
    plain.insert("code_challenge_method", "plain");
    assert!(
        refused_with(AuthorizationRequest::parse(
            &plain,
            &client(true),
            false,
            no_hint
        ))
        .1
        .contains("plain is not allowed")
    );
    let mut short = params("");
    short.insert("code_challenge", "abc");
    assert!(AuthorizationRequest::parse(&short, &client(true), false, no_hint).is_err());
}

#[test]
fn a_client_that_must_push_and_a_valid_hint() {
    let mut pushing = client(false);
    pushing.settings.require_par = true;
    assert!(AuthorizationRequest::parse(&params(""), &pushing, false, no_hint).is_err());
    assert!(AuthorizationRequest::parse(&params(""), &pushing, true, no_hint).is_ok());
    let request = AuthorizationRequest::parse(
        &params("&id_token_hint=ours"),
        &client(false),
        false,
        |raw| (raw == "ours").then(|| "subject-1".to_owned()),
    )
    .expect("valid hint");
    assert_eq!(request.hint_subject.as_deref(), Some("subject-1"));
}
