//! The authorization endpoint (OIDC Core §3.1.2) and the steps that follow it. The request is
//! parsed without I/O (`request.rs`), the next step decided without I/O (`decision.rs`); this file
//! looks up what they need and renders the outcome: a parked request and the sign-in or consent
//! page, a code, or an error at the client's redirect URI.

pub mod decision;
pub mod request;

use axum::extract::{Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use url::Url;
use uuid::Uuid;

pub use decision::{AccountDemands, ConsentState, Decision, Demand, Login, Situation};
pub use request::{
    AuthorizationRequest, PendingRequest, RedirectTarget, Refusal, ResponseMode, Stage,
};

use crate::accounts::{factors, throttle};
use crate::crypto;
use crate::domain::ScopeSet;
use crate::domain::protocol::paths;
use crate::http::page::{FormPostPage, PageError, PageForm, page_query, render};
use crate::http::{ClientIp, Params};
use crate::oidc::error::ErrorCode;
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, LoginState};
use crate::state::AppState;
use crate::store::{AccountRow, ClientRow, NewAuthCode, NewGrant};

/// Authorization codes live this long (seconds).
pub const CODE_TTL: i64 = 60;
/// A request waiting for sign-in or consent lives this long (seconds).
pub const PENDING_TTL: i64 = 1800;
/// The `request_uri` prefix of pushed authorization requests (RFC 9126 §2.2).
pub const PAR_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Pushed requests must be used within this many seconds.
pub const PAR_TTL: i64 = 90;

/// The browser at the other end: its address and key, which a parked request is bound to.
pub struct Visitor<'a> {
    pub ip: &'a str,
    pub browser: &'a BrowserKey,
}

pub async fn get_authorize(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = page_query(query, "error-invalid-link-title")?;
    let visitor = Visitor {
        ip: &ip,
        browser: &browser,
    };
    authorize(&app, &session, &visitor, params).await
}

pub async fn post_authorize(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    PageForm(params): PageForm,
) -> Result<Response, PageError> {
    let visitor = Visitor {
        ip: &ip,
        browser: &browser,
    };
    authorize(&app, &session, &visitor, params).await
}

#[derive(Deserialize)]
pub struct ContinueQuery {
    request: Option<String>,
}

/// Continues a parked request once the browser is signed in (after the QR sign-in).
pub async fn get_continue(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    Query(q): Query<ContinueQuery>,
) -> Result<Response, PageError> {
    let raw = q
        .request
        .as_deref()
        .ok_or_else(PageError::expired_request)?;
    let pending = load_pending(&app, raw, &browser).await?;
    let login = session::current_login(&app, &session).await?;
    let visitor = Visitor {
        ip: &ip,
        browser: &browser,
    };
    // Only a request parked for a sign-in continues here (after the QR sign-in); a step-up
    // or consent is answered on its own page by the session it was parked for.
    if !pending.parked.answerable(Stage::SignIn, None) {
        return Err(PageError::expired_request());
    }
    let resumed = Resumed {
        visitor: &visitor,
        login: login.as_ref(),
        consent_given: false,
    };
    pending.resume(&app, resumed, app.clock.now()).await
}

async fn authorize(
    app: &AppState,
    session: &Session,
    visitor: &Visitor<'_>,
    params: Params,
) -> Result<Response, PageError> {
    let now = app.clock.now();
    let (params, pushed) = resolve_pushed(app, params, now).await?;
    // Even a refusal page speaks the language the app asked for.
    crate::i18n::prefer_request(params.get("ui_locales"));
    let (client, request) = match validate(app, &params, pushed).await? {
        Ok(valid) => valid,
        Err(refusal) => return Ok(refused(app, refusal)),
    };
    let login = session::current_login(app, session).await?;
    let door = Door {
        client: &client,
        request: &request,
        parked: None,
        visitor,
        consent_given: false,
    };
    proceed(app, door, login.as_ref(), now).await
}

/// Looks the client up and parses the request for it; a refusal is the client's mistake, the
/// outer error ours (the database).
pub async fn validate(
    app: &AppState,
    params: &Params,
    pushed: bool,
) -> Result<Result<(ClientRow, AuthorizationRequest), Refusal>, crate::store::StoreError> {
    let checked = check_request(app, params, pushed).await?;
    if let Err(refusal) = &checked {
        let (error, reason) = match refusal {
            Refusal::Page(_, message) => (None, crate::i18n::Lang::ENGLISH.text(message)),
            Refusal::Redirect(_, code, description) => (Some(code.as_str()), description.clone()),
        };
        log_refusal(params, error, &reason, pushed);
    }
    Ok(checked)
}

/// One warning for each refused authorization request (here and at /par), so that the app's
/// developer and the help desk can tell why: the client and redirect URI as sent (cut short) and
/// the reason. Never the rest of the request: its state, nonce, hints and codes stay out of logs.
pub fn log_refusal(params: &Params, error: Option<&str>, reason: &str, pushed: bool) {
    let shown = |name: &str| -> Option<String> {
        params
            .get(name)
            .map(|v| v.chars().take(MAX_LOGGED).collect())
    };
    tracing::warn!(
        client_id = shown("client_id"),
        redirect_uri = shown("redirect_uri"),
        error,
        reason,
        pushed,
        "authorization request refused"
    );
}

/// Characters of a logged client id or redirect URI (a parameter may hold 4,096).
const MAX_LOGGED: usize = 300;

async fn check_request(
    app: &AppState,
    params: &Params,
    pushed: bool,
) -> Result<Result<(ClientRow, AuthorizationRequest), Refusal>, crate::store::StoreError> {
    let client_id = match request::client_id_of(params) {
        Ok(id) => id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Some(client) = app.store.find_client(client_id).await? else {
        return Ok(Err(request::unknown_client()));
    };
    let hint_subject = |raw: &str| {
        // An expired hint still names the user (OIDC Core §3.1.2.1).
        app.keys
            .verify::<HintClaims>(raw, "JWT")
            .ok()
            .filter(|hint| hint.iss == app.config.issuer)
            .map(|hint| hint.sub)
    };
    Ok(AuthorizationRequest::parse(params, &client, pushed, hint_subject).map(|r| (client, r)))
}

#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    sub: String,
}

/// Swaps a pushed request's stored parameters in for a request_uri that names one.
async fn resolve_pushed(
    app: &AppState,
    params: Params,
    now: i64,
) -> Result<(Params, bool), PageError> {
    let Some(id) = params
        .get("request_uri")
        .and_then(|uri| uri.strip_prefix(PAR_PREFIX))
    else {
        return Ok((params, false)); // a foreign request_uri is refused by the parse
    };
    let expired = || {
        let reason = "the pushed request (request_uri) is unknown, expired or used";
        log_refusal(&params, Some("invalid_request_uri"), reason, true);
        PageError::bad_request("error-link-expired-title", "error-link-expired")
    };
    let id = Uuid::parse_str(id).map_err(|_| expired())?;
    let client_id = params
        .get("client_id")
        .and_then(|c| Uuid::parse_str(c).ok())
        .ok_or_else(expired)?;
    let stored = app
        .store
        .take_pushed_request(id, client_id, now)
        .await?
        .ok_or_else(expired)?;
    let pushed: Params = serde_json::from_str(&stored).map_err(PageError::server_error)?;
    Ok((pushed, true))
}

/// A parked authorization request, loaded for the browser that started it: its id, the step it
/// waits at, and its app.
pub struct Pending {
    pub id: Uuid,
    pub parked: PendingRequest,
    pub client: ClientRow,
}

/// Loads a parked authorization request and its client. It must belong to this browser: a
/// request started in another browser (sent as a link, say) cannot be finished here.
pub async fn load_pending(
    app: &AppState,
    raw_id: &str,
    browser: &BrowserKey,
) -> Result<Pending, PageError> {
    let id = Uuid::parse_str(raw_id).map_err(|_| PageError::expired_request())?;
    let row = app
        .store
        .find_pending_authorization(id, app.clock.now())
        .await?
        .filter(|row| browser.owns(row.browser_hash.as_deref()))
        .ok_or_else(PageError::expired_request)?;
    let parked: PendingRequest =
        serde_json::from_str(&row.params).map_err(PageError::server_error)?;
    crate::i18n::prefer_request(parked.request.ui_locales.as_deref());
    let client = app
        .store
        .find_client(row.client_id)
        .await?
        .ok_or_else(PageError::expired_request)?;
    Ok(Pending { id, parked, client })
}

/// The parked request named by `raw_id`, when a page names one.
pub async fn load_pending_if(
    app: &AppState,
    raw_id: Option<&str>,
    browser: &BrowserKey,
) -> Result<Option<Pending>, PageError> {
    match raw_id {
        Some(raw) => Ok(Some(load_pending(app, raw, browser).await?)),
        None => Ok(None),
    }
}

/// How a parked request comes back to its decision: through which browser, with which sign-in.
pub struct Resumed<'a> {
    pub visitor: &'a Visitor<'a>,
    /// The session's sign-in now, if any.
    pub login: Option<&'a (LoginState, AccountRow)>,
    /// The person answered this request's consent form with Allow just now.
    pub consent_given: bool,
}

impl Pending {
    /// The way back into the authorization flow for every page after the first: the sign-in,
    /// the second factor, consent and `/authorize/continue` all continue a parked request here.
    pub async fn resume(
        &self,
        app: &AppState,
        resumed: Resumed<'_>,
        now: i64,
    ) -> Result<Response, PageError> {
        let door = Door {
            client: &self.client,
            request: &self.parked.request,
            parked: Some((self.id, &self.parked)),
            visitor: resumed.visitor,
            consent_given: resumed.consent_given,
        };
        proceed(app, door, resumed.login, now).await
    }
}

/// A door of the authorization flow: the request, its app, the parked row it continues.
struct Door<'a> {
    client: &'a ClientRow,
    request: &'a AuthorizationRequest,
    /// The parked request this continues, by id.
    parked: Option<(Uuid, &'a PendingRequest)>,
    visitor: &'a Visitor<'a>,
    /// The person answered this request's consent form with Allow just now.
    consent_given: bool,
}

/// What the account's state demands of any sign-in now. A session that used a second factor
/// meets the role policy already, so the policy is looked up only for one that did not.
pub async fn account_demands(
    app: &AppState,
    account: &AccountRow,
    mfa: bool,
    now: i64,
) -> Result<AccountDemands, crate::store::StoreError> {
    let policy_requires_mfa = !mfa && factors::policy_requires_now(app, account, now).await?;
    Ok(AccountDemands {
        must_change_password: account.must_change_password,
        policy_requires_mfa,
    })
}

/// The sign-in of a session, for the decision.
pub fn login_of(state: &LoginState) -> Login {
    Login {
        account_id: state.account_id,
        auth_time: state.auth_time,
        mfa: state.amr.iter().any(|m| m == "mfa"),
    }
}

/// The decision at a door outside the authorization request (a passkey or QR sign-in about to
/// become a session, the device approval and its poll, the password grant): `login` of
/// `account`, for `client` (None: no app yet, only the account's own demands) and `scopes`; the
/// person's or an admin's consent is given at the door itself.
pub async fn decide_at_door(
    app: &AppState,
    login: Login,
    account: &AccountRow,
    client: Option<&ClientRow>,
    scopes: ScopeSet,
    now: i64,
) -> Result<Decision, crate::store::StoreError> {
    let situation = Situation {
        login: Some(login),
        account: account_demands(app, account, login.mfa, now).await?,
        client_requires_mfa: client.is_some_and(|c| c.settings.require_mfa),
        skip_consent: true,
        parked: None,
        consent: ConsentState::GivenHere,
        now,
    };
    Ok(decision::decide(&Demand::scopes(scopes), &situation))
}

/// Takes a valid request to its next step: asks the decision with the current session, then
/// parks the request at the step it needs (bound to this session for a step-up or consent), or
/// spends the parked request and issues the code. A new request comes in from `authorize`, a
/// parked one through `Pending::resume`.
async fn proceed(
    app: &AppState,
    door: Door<'_>,
    login: Option<&(LoginState, AccountRow)>,
    now: i64,
) -> Result<Response, PageError> {
    let Door {
        client,
        request,
        parked,
        visitor,
        consent_given,
    } = door;
    let consent = match login {
        _ if consent_given => ConsentState::GivenHere,
        Some((_, account)) if !client.skip_consent => ConsentState::Remembered(
            app.store
                .find_consent(account.account_id, client.client_id)
                .await?
                .map(|granted| ScopeSet::parse(&granted)),
        ),
        _ => ConsentState::Remembered(None),
    };
    let account = match login {
        Some((state, account)) => account_demands(app, account, login_of(state).mfa, now).await?,
        None => AccountDemands::default(),
    };
    let situation = Situation {
        login: login.map(|(state, _)| login_of(state)),
        account,
        client_requires_mfa: client.settings.require_mfa,
        skip_consent: client.skip_consent,
        parked: parked.map(|(_, p)| p),
        consent,
        now,
    };
    let decision = decision::decide(&request.demand(), &situation);
    let stage = match (decision, login) {
        (Decision::Refuse(code, why), _) => {
            return Ok(redirect_error(app, &request.target, code, why));
        }
        (Decision::IssueCode, Some((state, account))) => {
            if let Some((id, _)) = parked
                && !app.store.delete_pending_authorization(id).await?
            {
                return Err(PageError::already_answered());
            }
            return issue_code(app, request, state, account, now).await;
        }
        (Decision::IssueCode, None) => {
            return Err(PageError::server_error(
                "a code was to be issued without a signed-in person",
            ));
        }
        (Decision::SignIn, _) => Stage::SignIn,
        (Decision::StepUp, _) => Stage::StepUp,
        (Decision::Consent, _) => Stage::Consent,
    };
    // A step-up or consent waits for the session that reached it; a sign-in for anyone's.
    let waiting = match (stage, login) {
        (Stage::SignIn, _) | (_, None) => PendingRequest::waiting_for_sign_in(request.clone(), now),
        (stage, Some((state, _))) => PendingRequest::waiting_at(request.clone(), stage, state.sid),
    };
    let id = park(app, client, &waiting, parked, visitor, now).await?;
    Ok(Redirect::to(&paths::with_request(stage.page(), Some(id))).into_response())
}

/// Stores the parked request at its new step, bound to the visitor's browser, and returns its
/// id: a row already parked is rewritten in place (its step and session change), a new one is
/// counted per address, as a row written before anyone has signed in.
async fn park(
    app: &AppState,
    client: &ClientRow,
    waiting: &PendingRequest,
    existing: Option<(Uuid, &PendingRequest)>,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<Uuid, PageError> {
    let params = serde_json::to_string(waiting).map_err(PageError::server_error)?;
    if let Some((id, before)) = existing {
        let same = before.stage == waiting.stage && before.sid == waiting.sid;
        if !same
            && !app
                .store
                .update_pending_authorization(id, &params, now)
                .await?
        {
            return Err(PageError::expired_request());
        }
        return Ok(id);
    }
    let limit = app.config.anonymous_starts_per_ip;
    if !throttle::count_anonymous_start(&app.store, visitor.ip, limit, now).await? {
        return Err(PageError::too_many_starts());
    }
    Ok(app
        .store
        .insert_pending_authorization(
            client.client_id,
            &params,
            &visitor.browser.binding(),
            now,
            now + PENDING_TTL,
        )
        .await?)
}

/// Creates the grant and a single-use code, and sends the code to the client.
pub async fn issue_code(
    app: &AppState,
    request: &AuthorizationRequest,
    login: &LoginState,
    account: &AccountRow,
    now: i64,
) -> Result<Response, PageError> {
    let code = crypto::random_token();
    let grant = NewGrant {
        account_id: account.account_id,
        client_id: request.client_id,
        scope: request.scope(),
        sid: login.sid,
        auth_time: login.auth_time,
        amr: login.amr.clone(),
        claims: request.claims.to_json(),
    };
    let new_code = NewAuthCode {
        code_hash: crypto::sha256(code.as_bytes()).to_vec(),
        redirect_uri: request.target.redirect_uri.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        expires_at: now + CODE_TTL,
    };
    app.store
        .insert_grant_with_code(grant, new_code, now)
        .await?;
    Ok(respond(app, &request.target, vec![("code", code)]))
}

/// A refusal: a page when the client cannot be trusted, otherwise the error sent to it.
pub fn refused(app: &AppState, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(title, message) => PageError::bad_request(title, message).into_response(),
        Refusal::Redirect(target, code, description) => {
            redirect_error(app, &target, code, &description)
        }
    }
}

pub fn redirect_error(
    app: &AppState,
    target: &RedirectTarget,
    code: ErrorCode,
    description: &str,
) -> Response {
    respond(
        app,
        target,
        vec![
            ("error", code.as_str().to_owned()),
            ("error_description", description.to_owned()),
        ],
    )
}

/// Answers the client by redirect (query) or auto-submitted form (form_post), adding state and iss.
fn respond(
    app: &AppState,
    target: &RedirectTarget,
    mut fields: Vec<(&'static str, String)>,
) -> Response {
    if let Some(state) = &target.state {
        fields.push(("state", state.clone()));
    }
    fields.push(("iss", app.config.issuer.clone()));
    match target.response_mode {
        ResponseMode::Query => {
            let Ok(mut url) = Url::parse(&target.redirect_uri) else {
                return PageError::server_error("a registered redirect URI does not parse")
                    .into_response();
            };
            url.query_pairs_mut()
                .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())));
            Redirect::to(url.as_str()).into_response()
        }
        ResponseMode::FormPost => render(
            StatusCode::OK,
            &FormPostPage {
                action: target.redirect_uri.clone(),
                fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            },
        ),
    }
}
