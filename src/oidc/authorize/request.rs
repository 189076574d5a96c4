//! The authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636) as a pure parse: the
//! parameters and the registered client in, a validated request or a refusal out. No I/O.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::acr;
use crate::domain::protocol::paths;
use crate::domain::{GrantType, Scope, ScopeSet, is_pkce_value};
use crate::http::Params;
use crate::oidc::error::ErrorCode;
use crate::oidc::scopes::{ClaimsRequest, acr_claim_request};
use crate::store::ClientRow;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// Where and how to answer the client, known once the redirect URI has matched exactly.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RedirectTarget {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
}

/// A validated authorization request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: Uuid,
    pub target: RedirectTarget,
    /// What was asked for and the client may have (a list of names in JSON).
    pub scopes: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_none: bool,
    pub prompt_login: bool,
    pub prompt_consent: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// The languages the app asks its pages to be shown in (OIDC Core §3.1.2.1), kept for the
    /// whole sign-in and consent.
    #[serde(default)]
    pub ui_locales: Option<String>,
    /// Claims asked for one by one.
    #[serde(default)]
    pub claims: ClaimsRequest,
    /// The subject of a valid id_token_hint: the session must be this user's.
    #[serde(default)]
    pub hint_subject: Option<String>,
    /// The request prefers the REFEDS MFA profile (`claims.acr`): a second factor for this sign-in.
    #[serde(default)]
    pub wants_mfa: bool,
}

impl AuthorizationRequest {
    pub fn scope(&self) -> String {
        self.scopes.to_string()
    }
}

/// A request parked while the person signs in, steps up or consents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingRequest {
    pub request: AuthorizationRequest,
    /// Set when a fresh sign-in is needed: the session's auth_time must be at least this.
    pub require_login_after: Option<i64>,
    /// The step it was parked for.
    #[serde(default)]
    pub stage: Stage,
    /// The session (`sid`) that reached a step-up or consent: only it may answer that step.
    #[serde(default)]
    pub sid: Option<Uuid>,
}

/// The step a parked request waits at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    #[default]
    SignIn,
    StepUp,
    Consent,
}

impl Stage {
    /// The page a request parked at this step waits at.
    pub fn page(self) -> &'static str {
        match self {
            Stage::SignIn => paths::LOGIN,
            Stage::StepUp => paths::SECOND_FACTOR,
            Stage::Consent => paths::CONSENT,
        }
    }
}

impl PendingRequest {
    /// Waiting for a sign-in made after `after`.
    pub fn waiting_for_sign_in(request: AuthorizationRequest, after: i64) -> PendingRequest {
        PendingRequest {
            request,
            require_login_after: Some(after),
            stage: Stage::SignIn,
            sid: None,
        }
    }

    /// Waiting at `stage` for the session `sid` that reached it.
    pub fn waiting_at(request: AuthorizationRequest, stage: Stage, sid: Uuid) -> PendingRequest {
        PendingRequest {
            request,
            require_login_after: None,
            stage,
            sid: Some(sid),
        }
    }

    /// Whether the session `sid` may answer `stage` of this request: a sign-in anyone in this
    /// browser may make; a step-up or consent only the session it was parked for.
    pub fn answerable(&self, stage: Stage, sid: Option<Uuid>) -> bool {
        self.stage == stage && (stage == Stage::SignIn || (sid.is_some() && self.sid == sid))
    }
}

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client or redirect URI cannot be trusted: show a page (the catalog keys of its title
    /// and message), never redirect.
    Page(&'static str, &'static str),
    /// Answer the client at its redirect URI.
    Redirect(RedirectTarget, ErrorCode, String),
}

const UNKNOWN_APP: &str = "error-unknown-app-title";
const INVALID: &str = "error-invalid-request-title";

/// The `client_id` parameter as a client id, before the client is looked up.
pub fn client_id_of(params: &Params) -> Result<Uuid, Refusal> {
    let raw = params
        .get("client_id")
        .ok_or(Refusal::Page(UNKNOWN_APP, "error-no-client-id"))?;
    Uuid::parse_str(raw).map_err(|_| unknown_client())
}

pub fn unknown_client() -> Refusal {
    Refusal::Page(UNKNOWN_APP, "error-unknown-app")
}

/// A redirect to the client with an error, once the target is known.
fn refuse<T>(target: &RedirectTarget, code: ErrorCode, why: &str) -> Result<T, Refusal> {
    Err(Refusal::Redirect(target.clone(), code, why.to_owned()))
}

impl AuthorizationRequest {
    /// Validates `params` for `client`. `pushed` says they came through PAR; `hint_subject`
    /// verifies an id_token_hint and names its subject (None when it is not ours).
    pub fn parse(
        params: &Params,
        client: &ClientRow,
        pushed: bool,
        hint_subject: impl Fn(&str) -> Option<String>,
    ) -> Result<AuthorizationRequest, Refusal> {
        let target = redirect_target(params, client)?;
        refuse_unsupported(params, client, pushed, &target)?;
        let scopes = scopes(params, client, &target)?;
        let prompt = Prompt::parse(params.get("prompt"), &target)?;
        let max_age = match params.get("max_age") {
            None => None,
            Some(raw) => match raw.parse::<i64>() {
                Ok(v) if v >= 0 => Some(v),
                _ => refuse(
                    &target,
                    ErrorCode::InvalidRequest,
                    "max_age must be a non-negative whole number of seconds",
                )?,
            },
        };
        let code_challenge = code_challenge(params, client, &target)?;
        let mut claims = match params.get("claims").map(ClaimsRequest::parse) {
            None => ClaimsRequest::default(),
            Some(Ok(claims)) => claims,
            Some(Err(why)) => refuse(&target, ErrorCode::InvalidRequest, why)?,
        };
        claims.acr = chosen_acr(params, &target)?.map(str::to_owned);
        let hint_subject = match params.get("id_token_hint") {
            None => None,
            Some(raw) => match hint_subject(raw) {
                Some(sub) => Some(sub),
                None => refuse(
                    &target,
                    ErrorCode::InvalidRequest,
                    "id_token_hint is not an ID token issued by this server",
                )?,
            },
        };
        Ok(AuthorizationRequest {
            client_id: client.client_id,
            target,
            scopes,
            nonce: params.get("nonce").map(str::to_owned),
            code_challenge,
            prompt_none: prompt.none,
            prompt_login: prompt.login,
            prompt_consent: prompt.consent,
            max_age,
            login_hint: params
                .get("login_hint")
                .map(|h| h.trim().chars().take(254).collect()),
            ui_locales: params
                .get("ui_locales")
                .map(|l| l.trim().chars().take(200).collect()),
            hint_subject,
            wants_mfa: claims.acr.as_deref() == Some(acr::REFEDS_MFA),
            claims,
        })
    }
}

/// The `acr` the request prefers among those we offer: an `acr` claim request's values (OIDC
/// Core §5.5.1.1) or else `acr_values` (§3.1.2.1), each a list in order of preference. An
/// essential `acr` claim none of whose values we can satisfy fails the authentication
/// (`access_denied`); values we do not know are otherwise passed over.
fn chosen_acr(params: &Params, target: &RedirectTarget) -> Result<Option<&'static str>, Refusal> {
    let from_values = || {
        acr::preferred(
            params
                .get("acr_values")
                .unwrap_or_default()
                .split(' ')
                .filter(|v| !v.is_empty()),
        )
    };
    match params.get("claims").and_then(acr_claim_request) {
        Some(claim) => match acr::preferred(claim.values.iter().map(String::as_str)) {
            Some(chosen) => Ok(Some(chosen)),
            None if claim.essential => refuse(
                target,
                ErrorCode::AccessDenied,
                "none of the essential acr values can be satisfied",
            ),
            None => Ok(from_values()),
        },
        None => Ok(from_values()),
    }
}

/// The redirect URI must equal a registered one character for character; until it does, every
/// refusal is a page, never a redirect.
fn redirect_target(params: &Params, client: &ClientRow) -> Result<RedirectTarget, Refusal> {
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or(Refusal::Page(INVALID, "error-no-redirect-uri"))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Refusal::Page(INVALID, "error-unregistered-redirect"));
    }
    let mut target = RedirectTarget {
        redirect_uri: redirect_uri.to_owned(),
        response_mode: ResponseMode::Query,
        state: params.get("state").map(str::to_owned),
    };
    match params.get("response_mode") {
        None | Some("query") => {}
        Some("form_post") => target.response_mode = ResponseMode::FormPost,
        Some(_) => refuse(
            &target,
            ErrorCode::InvalidRequest,
            "response_mode must be query or form_post",
        )?,
    }
    Ok(target)
}

/// What we do not offer, and what this client may not do.
fn refuse_unsupported(
    params: &Params,
    client: &ClientRow,
    pushed: bool,
    target: &RedirectTarget,
) -> Result<(), Refusal> {
    if params.contains("request") {
        refuse(
            target,
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        )?;
    }
    if params.contains("request_uri") {
        refuse(
            target,
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        )?;
    }
    if client.settings.require_par && !pushed {
        refuse(
            target,
            ErrorCode::InvalidRequest,
            "this client must use pushed authorization requests (PAR)",
        )?;
    }
    if params.contains("registration") {
        refuse(
            target,
            ErrorCode::RegistrationNotSupported,
            "the registration parameter is not supported",
        )?;
    }
    match params.get("response_type") {
        None => refuse(
            target,
            ErrorCode::InvalidRequest,
            "response_type is required",
        )?,
        Some("code") => {}
        Some(_) => refuse(
            target,
            ErrorCode::UnsupportedResponseType,
            "only response_type=code is supported",
        )?,
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        refuse(
            target,
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        )?;
    }
    Ok(())
}

/// The scopes asked for that the client may have (RFC 6749 §3.3: the rest are dropped).
fn scopes(
    params: &Params,
    client: &ClientRow,
    target: &RedirectTarget,
) -> Result<ScopeSet, Refusal> {
    let requested = ScopeSet::parse(params.get("scope").unwrap_or_default());
    if !requested.contains(Scope::Openid) {
        refuse(target, ErrorCode::InvalidScope, "scope must include openid")?;
    }
    let allowed = client.settings.allowed_scopes;
    if !allowed.contains(Scope::Openid) {
        refuse(
            target,
            ErrorCode::InvalidScope,
            "this client is not allowed the openid scope",
        )?;
    }
    Ok(requested.intersect(allowed))
}

#[derive(Default)]
struct Prompt {
    none: bool,
    login: bool,
    consent: bool,
}

impl Prompt {
    fn parse(raw: Option<&str>, target: &RedirectTarget) -> Result<Prompt, Refusal> {
        let mut prompt = Prompt::default();
        for value in raw.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => {} // one account per browser session: nothing to select
                _ => refuse(
                    target,
                    ErrorCode::InvalidRequest,
                    "prompt must be none, login, consent or select_account",
                )?,
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            refuse(
                target,
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined with other values",
            )?;
        }
        Ok(prompt)
    }
}

/// PKCE: S256 only, required of public clients.
fn code_challenge(
    params: &Params,
    client: &ClientRow,
    target: &RedirectTarget,
) -> Result<Option<String>, Refusal> {
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) if client.is_public() => refuse(
            target,
            ErrorCode::InvalidRequest,
            "PKCE with code_challenge_method=S256 is required for this client",
        ),
        (None, None) => Ok(None),
        (None, Some(_)) => refuse(
            target,
            ErrorCode::InvalidRequest,
            "code_challenge_method given without code_challenge",
        ),
        (Some(_), method) if method != Some("S256") => refuse(
            target,
            ErrorCode::InvalidRequest,
            "code_challenge_method must be S256 (plain is not allowed)",
        ),
        (Some(challenge), _) if !is_pkce_value(challenge) => refuse(
            target,
            ErrorCode::InvalidRequest,
            "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
        ),
        (Some(challenge), _) => Ok(Some(challenge.to_owned())),
    }
}

#[cfg(test)]
mod tests;
