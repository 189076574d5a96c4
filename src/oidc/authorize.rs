//! The authorization endpoint (OIDC Core §3.1.2) and the steps that follow it: sign-in, consent,
//! and answering the client with a code or an error.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use url::Url;
use uuid::Uuid;

use super::scopes::{ClaimsRequest, Scope, ScopeSet};
use crate::accounts::throttle;
use crate::crypto;
use crate::http::{ClientIp, Params};
use crate::login::browser::BrowserKey;
use crate::login::page::{FormPostPage, PageError, render};
use crate::login::session::{self, LoginState};
use crate::state::AppState;
use crate::store::{AccountRow, ClientRow, NewAuthCode, NewGrant, StoreError};

/// Authorization codes live this long (seconds).
pub const CODE_TTL: i64 = 60;
/// A request waiting for sign-in or consent lives this long (seconds).
pub const PENDING_TTL: i64 = 1800;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// Where and how to answer the client, known once the redirect URI has matched exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Claims asked for one by one.
    #[serde(default)]
    pub claims: ClaimsRequest,
    /// The subject of a valid id_token_hint: the session must be this user's.
    #[serde(default)]
    pub hint_subject: Option<String>,
}

impl AuthorizationRequest {
    pub fn scope(&self) -> String {
        self.scopes.to_string()
    }
}

/// A request parked while the user signs in or consents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingRequest {
    pub request: AuthorizationRequest,
    /// Set when a fresh sign-in is needed: the session's auth_time must be at least this.
    pub require_login_after: Option<i64>,
}

pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show a page, never redirect.
    Page(PageError),
    /// Answer the client at its redirect URI.
    Redirect(RedirectTarget, &'static str, String),
}

impl From<PageError> for AuthorizeError {
    fn from(e: PageError) -> Self {
        AuthorizeError::Page(e)
    }
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        AuthorizeError::Page(e.into())
    }
}

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
) -> Response {
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            return PageError::bad_request("This sign-in link is not valid", e.to_string())
                .into_response();
        }
    };
    let visitor = Visitor {
        ip: &ip,
        browser: &browser,
    };
    authorize(&app, &session, &visitor, params).await
}

/// Continues a parked request once the browser is signed in (after the QR sign-in).
pub async fn get_continue(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let result = async {
        let raw = q.get("request").ok_or_else(PageError::expired_request)?;
        let (id, pending, client) = crate::login::load_pending(&app, raw, &browser).await?;
        let login = session::current_login(&app, &session).await?;
        let now = app.clock.now();
        let visitor = Visitor {
            ip: &ip,
            browser: &browser,
        };
        Ok::<_, PageError>(
            proceed(
                &app,
                &client,
                &pending.request,
                login.as_ref(),
                Some((id, &pending)),
                &visitor,
                now,
            )
            .await,
        )
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn post_authorize(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let visitor = Visitor {
        ip: &ip,
        browser: &browser,
    };
    match crate::http::form_params(&headers, &body) {
        Ok(params) => authorize(&app, &session, &visitor, params).await,
        Err(e) => PageError::bad_request("This sign-in request is not valid", e).into_response(),
    }
}

/// The `request_uri` prefix of pushed authorization requests (RFC 9126 §2.2).
pub const PAR_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Pushed requests must be used within this many seconds.
pub const PAR_TTL: i64 = 90;

/// Swaps a pushed request's stored parameters in for a request_uri that names one.
async fn resolve_pushed(
    app: &AppState,
    params: Params,
    now: i64,
) -> Result<(Params, bool), AuthorizeError> {
    let Some(uri) = params.get("request_uri") else {
        return Ok((params, false));
    };
    let Some(id) = uri.strip_prefix(PAR_PREFIX) else {
        return Ok((params, false));
    }; // validate() refuses it
    let expired = || {
        page(
            "This sign-in link has expired",
            "Return to the application and start signing in again.",
        )
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
    let pushed: Params = serde_json::from_str(&stored)
        .map_err(|e| AuthorizeError::Page(PageError::server_error(e)))?;
    Ok((pushed, true))
}

async fn authorize(
    app: &AppState,
    session: &Session,
    visitor: &Visitor<'_>,
    params: Params,
) -> Response {
    let now = app.clock.now();
    let (params, pushed) = match resolve_pushed(app, params, now).await {
        Ok(resolved) => resolved,
        Err(e) => return error_response(app, e),
    };
    let (client, request) = match validate(app, &params, pushed).await {
        Ok(valid) => valid,
        Err(e) => return error_response(app, e),
    };
    let login = match session::current_login(app, session).await {
        Ok(login) => login,
        Err(e) => return e.into_response(),
    };
    proceed(app, &client, &request, login.as_ref(), None, visitor, now).await
}

fn page(title: &str, message: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page(PageError::bad_request(title, message))
}

/// Validates an authorization request. `pushed` says its parameters came through PAR.
pub async fn validate(
    app: &AppState,
    params: &Params,
    pushed: bool,
) -> Result<(ClientRow, AuthorizationRequest), AuthorizeError> {
    const UNKNOWN_APP: &str = "Unknown application";
    let client_id = params.get("client_id").ok_or_else(|| {
        page(
            UNKNOWN_APP,
            "The application that sent you here did not identify itself (no client_id).",
        )
    })?;
    let unknown = || {
        page(
            UNKNOWN_APP,
            "The application that sent you here is not registered with HCCC sign-in.",
        )
    };
    let client_id = Uuid::parse_str(client_id).map_err(|_| unknown())?;
    let client = app
        .store
        .find_client(client_id)
        .await?
        .ok_or_else(unknown)?;
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
        page(
            "Invalid sign-in request",
            "The application did not say where to return you (no redirect_uri).",
        )
    })?;
    if !client
        .redirect_uris
        .iter()
        .any(|registered| registered == redirect_uri)
    {
        return Err(page(
            "Invalid sign-in request",
            "The application asked to return you to an address it has not registered, so sign-in was stopped for your safety.",
        ));
    }

    let state = params.get("state").map(str::to_owned);
    let mut target = RedirectTarget {
        redirect_uri: redirect_uri.to_owned(),
        response_mode: ResponseMode::Query,
        state,
    };
    let fail = |target: &RedirectTarget, code: &'static str, description: &str| {
        Err(AuthorizeError::Redirect(
            target.clone(),
            code,
            description.to_owned(),
        ))
    };
    match params.get("response_mode") {
        None | Some("query") => {}
        Some("form_post") => target.response_mode = ResponseMode::FormPost,
        Some(_) => {
            return fail(
                &target,
                "invalid_request",
                "response_mode must be query or form_post",
            );
        }
    }
    if params.contains("request") {
        return fail(
            &target,
            "request_not_supported",
            "request objects are not supported",
        );
    }
    if params.contains("request_uri") {
        return fail(
            &target,
            "request_uri_not_supported",
            "request_uri is not supported",
        );
    }
    if client.settings.require_par && !pushed {
        return fail(
            &target,
            "invalid_request",
            "this client must use pushed authorization requests (PAR)",
        );
    }
    if params.contains("registration") {
        return fail(
            &target,
            "registration_not_supported",
            "the registration parameter is not supported",
        );
    }
    match params.get("response_type") {
        None => return fail(&target, "invalid_request", "response_type is required"),
        Some("code") => {}
        Some(_) => {
            return fail(
                &target,
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    if !client.allows_grant("authorization_code") {
        return fail(
            &target,
            "unauthorized_client",
            "this client may not use the authorization code grant",
        );
    }
    let requested = ScopeSet::parse(params.get("scope").unwrap_or_default());
    if !requested.contains(Scope::Openid) {
        return fail(&target, "invalid_scope", "scope must include openid");
    }
    let allowed = client.settings.allowed_scopes;
    if !allowed.contains(Scope::Openid) {
        return fail(
            &target,
            "invalid_scope",
            "this client is not allowed the openid scope",
        );
    }
    // Scopes the client was not given by an admin are dropped (RFC 6749 §3.3); the token
    // response's scope says what was granted.
    let scopes = requested.intersect(allowed);

    let (mut prompt_none, mut prompt_login, mut prompt_consent) = (false, false, false);
    for value in params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt_none = true,
            "login" => prompt_login = true,
            "consent" => prompt_consent = true,
            "select_account" => {} // one account per browser session: nothing to select
            _ => {
                return fail(
                    &target,
                    "invalid_request",
                    "prompt must be none, login, consent or select_account",
                );
            }
        }
    }
    if prompt_none && (prompt_login || prompt_consent) {
        return fail(
            &target,
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => {
                return fail(
                    &target,
                    "invalid_request",
                    "max_age must be a non-negative whole number of seconds",
                );
            }
        },
    };

    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) if client.is_public() => {
            return fail(
                &target,
                "invalid_request",
                "PKCE with code_challenge_method=S256 is required for this client",
            );
        }
        (None, None) => None,
        (None, Some(_)) => {
            return fail(
                &target,
                "invalid_request",
                "code_challenge_method given without code_challenge",
            );
        }
        (Some(_), method) if method != Some("S256") => {
            return fail(
                &target,
                "invalid_request",
                "code_challenge_method must be S256 (plain is not allowed)",
            );
        }
        (Some(challenge), _) if !is_pkce_value(challenge) => {
            return fail(
                &target,
                "invalid_request",
                "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
            );
        }
        (Some(challenge), _) => Some(challenge.to_owned()),
    };

    let claims = match params.get("claims") {
        None => ClaimsRequest::default(),
        Some(raw) => match ClaimsRequest::parse(raw) {
            Ok(claims) => claims,
            Err(why) => return fail(&target, "invalid_request", why),
        },
    };
    let hint_subject = match params.get("id_token_hint") {
        None => None,
        Some(raw) => match app.keys.verify::<HintClaims>(raw, "JWT") {
            // An expired hint still names the user (OIDC Core §3.1.2.1).
            Ok(hint) if hint.iss == app.config.issuer => Some(hint.sub),
            _ => {
                return fail(
                    &target,
                    "invalid_request",
                    "id_token_hint is not an ID token issued by this server",
                );
            }
        },
    };

    let request = AuthorizationRequest {
        client_id: client.client_id,
        target,
        scopes,
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        prompt_none,
        prompt_login,
        prompt_consent,
        max_age,
        login_hint: params
            .get("login_hint")
            .map(|h| h.trim().chars().take(254).collect()),
        claims,
        hint_subject,
    };
    Ok((client, request))
}

#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    sub: String,
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters (the same rule covers verifiers and S256 challenges).
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Decides the next step for a valid request: sign in, consent, or answer with a code.
/// `pending` is the parked request this continues, if any.
pub async fn proceed(
    app: &AppState,
    client: &ClientRow,
    request: &AuthorizationRequest,
    login: Option<&(LoginState, AccountRow)>,
    pending: Option<(Uuid, &PendingRequest)>,
    visitor: &Visitor<'_>,
    now: i64,
) -> Response {
    let needs_login = match login {
        None => true,
        Some((state, _)) => {
            let fresh_enough = match pending.and_then(|(_, p)| p.require_login_after) {
                Some(after) => state.auth_time >= after,
                None => pending.is_some() || !request.prompt_login,
            };
            let too_old = request
                .max_age
                .is_some_and(|max_age| now - state.auth_time > max_age);
            let other_user = request
                .hint_subject
                .as_ref()
                .is_some_and(|sub| *sub != state.account_id.to_string());
            !fresh_enough || too_old || other_user
        }
    };
    if needs_login {
        if request.prompt_none {
            return redirect_error(
                app,
                &request.target,
                "login_required",
                "the user is not signed in",
            );
        }
        let parked = PendingRequest {
            request: request.clone(),
            require_login_after: Some(now),
        };
        return match park(
            app,
            client,
            &parked,
            pending.map(|(id, _)| id),
            visitor,
            now,
        )
        .await
        {
            Ok(id) => Redirect::to(&format!("/login?request={id}")).into_response(),
            Err(e) => e.into_response(),
        };
    }
    let Some((state, account)) = login else {
        return PageError::server_error("signed-in state missing after the sign-in check")
            .into_response();
    };

    // `api` lets the app act with the person's own rights (an admin's, for an admin): it is
    // asked for every time, even of apps that skip consent, and never remembered.
    let needs_consent = if request.scopes.contains(Scope::Api) {
        true
    } else if client.skip_consent {
        false
    } else if request.prompt_consent {
        true
    } else {
        match app
            .store
            .find_consent(account.account_id, client.client_id)
            .await
        {
            Ok(consented) => {
                !consented.is_some_and(|granted| ScopeSet::parse(&granted).covers(request.scopes))
            }
            Err(e) => return PageError::from(e).into_response(),
        }
    };
    if needs_consent {
        if request.prompt_none {
            return redirect_error(
                app,
                &request.target,
                "consent_required",
                "the user has not consented",
            );
        }
        let parked = PendingRequest {
            request: request.clone(),
            require_login_after: None,
        };
        return match park(
            app,
            client,
            &parked,
            pending.map(|(id, _)| id),
            visitor,
            now,
        )
        .await
        {
            Ok(id) => Redirect::to(&format!("/consent?request={id}")).into_response(),
            Err(e) => e.into_response(),
        };
    }

    if let Some((id, _)) = pending {
        match app.store.delete_pending_authorization(id).await {
            Ok(true) => {}
            Ok(false) => return PageError::already_answered().into_response(),
            Err(e) => return PageError::from(e).into_response(),
        }
    }
    issue_code(app, request, state, account, now).await
}

/// Stores (or keeps) the parked request, bound to the visitor's browser, and returns its id.
/// New ones are counted per address: each is a row written before anyone has signed in.
async fn park(
    app: &AppState,
    client: &ClientRow,
    parked: &PendingRequest,
    existing: Option<Uuid>,
    visitor: &Visitor<'_>,
    now: i64,
) -> Result<Uuid, PageError> {
    if let Some(id) = existing {
        return Ok(id);
    }
    let limit = app.config.anonymous_starts_per_ip;
    if !throttle::count_anonymous_start(&app.store, visitor.ip, limit, now).await? {
        return Err(PageError::too_many_starts());
    }
    let params = serde_json::to_string(parked).map_err(PageError::server_error)?;
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
) -> Response {
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
    match app.store.insert_grant_with_code(grant, new_code, now).await {
        Ok(_) => respond(app, &request.target, vec![("code", code)]),
        Err(e) => PageError::from(e).into_response(),
    }
}

fn error_response(app: &AppState, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(page) => page.into_response(),
        AuthorizeError::Redirect(target, code, description) => {
            redirect_error(app, &target, code, &description)
        }
    }
}

pub fn redirect_error(
    app: &AppState,
    target: &RedirectTarget,
    code: &str,
    description: &str,
) -> Response {
    respond(
        app,
        target,
        vec![
            ("error", code.to_owned()),
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
