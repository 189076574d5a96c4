//! End-user pages: sign in, consent, the signed-in home page, sign out.

pub mod account;
pub mod browser;
pub mod device;
pub mod page;
pub mod session;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use crate::accounts::{self, SignInError};
use crate::http::{ClientIp, form_params};
use crate::oidc::authorize::{self, PendingRequest};
use crate::oidc::scopes;
use crate::state::AppState;
use crate::store::{ClientRow, KeepGrants};
use browser::BrowserKey;
use page::{PageError, render};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf_token: String,
    request_id: Option<String>,
    client_name: Option<String>,
    username: String,
    error: Option<String>,
    return_to: Option<String>,
    /// "Keep me signed in on this device" is offered (HCCC_SSO_REMEMBER_ME_SECONDS > 0).
    offer_remember: bool,
    remember: bool,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    csrf_token: String,
    request_id: String,
    client_name: String,
    user_name: String,
    scopes: Vec<&'static str>,
    /// The request includes `api`, which is asked for every time.
    asks_each_time: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    csrf_token: String,
    user_name: Option<String>,
}

#[derive(Deserialize)]
pub struct RequestRef {
    request: Option<String>,
    return_to: Option<String>,
}

/// A same-site path to return to after sign-in; anything else (other hosts, `//host`, `/\\host`) is dropped.
fn local_path(target: Option<&str>) -> Option<String> {
    target
        .filter(|t| {
            t.starts_with('/') && !t.starts_with("//") && !t.contains('\\') && t.len() <= 512
        })
        .filter(|t| !t.chars().any(char::is_control))
        .map(str::to_owned)
}

/// Loads a parked authorization request and its client. It must belong to this browser: a
/// request started in another browser (sent as a link, say) cannot be finished here.
pub(crate) async fn load_pending(
    app: &AppState,
    raw_id: &str,
    browser: &BrowserKey,
) -> Result<(Uuid, PendingRequest, ClientRow), PageError> {
    let id = Uuid::parse_str(raw_id).map_err(|_| PageError::expired_request())?;
    let row = app
        .store
        .find_pending_authorization(id, app.clock.now())
        .await?
        .filter(|row| browser.owns(row.browser_hash.as_deref()))
        .ok_or_else(PageError::expired_request)?;
    let pending: PendingRequest =
        serde_json::from_str(&row.params).map_err(PageError::server_error)?;
    let client = app
        .store
        .find_client(row.client_id)
        .await?
        .ok_or_else(PageError::expired_request)?;
    Ok((id, pending, client))
}

pub async fn get_login(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    Query(q): Query<RequestRef>,
) -> Response {
    let result = async {
        let (request_id, client_name, hint) = match q.request.as_deref() {
            Some(raw) => {
                let (id, pending, client) = load_pending(&app, raw, &browser).await?;
                (
                    Some(id.to_string()),
                    Some(client.name),
                    pending.request.login_hint,
                )
            }
            None => (None, None, None),
        };
        let page = LoginPage {
            csrf_token: session::csrf_token(&app, &session, &browser).await?,
            request_id,
            client_name,
            username: hint.unwrap_or_default(),
            error: None,
            return_to: local_path(q.return_to.as_deref()),
            offer_remember: app.config.remember_me > 0,
            remember: false,
        };
        Ok::<_, PageError>(render(StatusCode::OK, &page))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn post_login(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    login(&app, &session, &browser, &ip, &headers, &body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn login(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    ip: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, PageError> {
    let form = form_params(headers, body).map_err(|e| PageError::bad_request("Invalid form", e))?;
    let pending = match form.get("request") {
        Some(raw) => Some(load_pending(app, raw, browser).await?),
        None => None,
    };
    let remember = app.config.remember_me > 0 && form.get("remember") == Some("yes");
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let again = |status: StatusCode, error: &str| {
        let username = username.clone();
        let pending = pending
            .as_ref()
            .map(|(id, _, client)| (id.to_string(), client.name.clone()));
        let error = error.to_owned();
        let return_to = local_path(form.get("return_to"));
        async move {
            let page = LoginPage {
                csrf_token: session::csrf_token(app, session, browser).await?,
                request_id: pending.as_ref().map(|(id, _)| id.clone()),
                client_name: pending.map(|(_, name)| name),
                username,
                error: Some(error),
                return_to,
                offer_remember: app.config.remember_me > 0,
                remember,
            };
            Ok::<_, PageError>(render(status, &page))
        }
    };

    if !session::csrf_valid(app, session, browser, form.get("csrf_token")).await? {
        return again(
            StatusCode::BAD_REQUEST,
            "This form had expired. Please sign in again.",
        )
        .await;
    }
    let password = form.get("password").unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your username and password.",
        )
        .await;
    }
    if username.len() > crate::domain::MAX_EMAIL || password.len() > 4 * crate::domain::MAX_PASSWORD
    {
        return again(
            StatusCode::UNAUTHORIZED,
            "The username or password is incorrect.",
        )
        .await;
    }
    let now = app.clock.now();
    let outcome = accounts::sign_in(
        &app.store,
        &app.hasher,
        &app.config.login,
        &username,
        password,
        ip,
        now,
    )
    .await;
    crate::telemetry_metrics::login(match &outcome {
        Ok(_) => "succeeded",
        Err(SignInError::InvalidCredentials) => "failed",
        Err(SignInError::Locked { .. }) => "locked",
        Err(SignInError::Store(_)) => "error",
    });
    let account = match outcome {
        Ok(account) => account,
        Err(SignInError::InvalidCredentials) => {
            return again(
                StatusCode::UNAUTHORIZED,
                "The username or password is incorrect.",
            )
            .await;
        }
        Err(SignInError::Locked { retry_after }) => {
            let minutes = (retry_after + 59) / 60;
            let message = format!(
                "Too many failed sign-in attempts. For your security, sign-in is paused; try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            return again(StatusCode::TOO_MANY_REQUESTS, &message).await;
        }
        Err(SignInError::Store(e)) => return Err(e.into()),
    };
    if account.must_change_password {
        // A temporary password only opens the page to choose a new one.
        let change = PasswordChangeState {
            account_id: account.account_id,
            request: pending.as_ref().map(|(id, _, _)| id.to_string()),
            return_to: local_path(form.get("return_to")),
            started_at: now,
            remember,
        };
        session
            .insert(PASSWORD_CHANGE_KEY, &change)
            .await
            .map_err(PageError::server_error)?;
        return password_change_page(app, session, browser, StatusCode::OK, Vec::new()).await;
    }
    tracing::info!(account_id = %account.account_id, "signed in");
    let signed_in = SignedIn {
        account,
        remember,
        now,
    };
    let visitor = authorize::Visitor { ip, browser };
    continue_after_sign_in(
        app,
        session,
        &visitor,
        signed_in,
        pending,
        local_path(form.get("return_to")),
    )
    .await
}

/// A password sign-in that succeeded.
struct SignedIn {
    account: crate::store::AccountRow,
    remember: bool,
    now: i64,
}

/// Establishes the SSO session and continues the app's authorization request (or goes home).
async fn continue_after_sign_in(
    app: &AppState,
    session: &Session,
    visitor: &authorize::Visitor<'_>,
    signed_in: SignedIn,
    pending: Option<(Uuid, PendingRequest, ClientRow)>,
    return_to: Option<String>,
) -> Result<Response, PageError> {
    let SignedIn {
        account,
        remember,
        now,
    } = signed_in;
    let state =
        session::establish(app, session, &account, vec!["pwd".into()], remember, now).await?;
    Ok(match pending {
        Some((id, pending, client)) => {
            let login = (state, account);
            authorize::proceed(
                app,
                &client,
                &pending.request,
                Some(&login),
                Some((id, &pending)),
                visitor,
                now,
            )
            .await
        }
        None => Redirect::to(&return_to.unwrap_or_else(|| "/".into())).into_response(),
    })
}

const PASSWORD_CHANGE_KEY: &str = "password_change";
/// How long the page to replace a temporary password stays valid after signing in with it.
const PASSWORD_CHANGE_TTL: i64 = 600;

/// Kept in the session between signing in with a temporary password and choosing a new one.
#[derive(serde::Serialize, Deserialize)]
struct PasswordChangeState {
    account_id: Uuid,
    request: Option<String>,
    return_to: Option<String>,
    started_at: i64,
    #[serde(default)]
    remember: bool,
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct PasswordChangePage {
    csrf_token: String,
    errors: Vec<String>,
}

async fn password_change_page(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let page = PasswordChangePage {
        csrf_token: session::csrf_token(app, session, browser).await?,
        errors,
    };
    Ok(render(status, &page))
}

pub async fn post_password_change(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    password_change(&app, &session, &browser, &ip, &headers, &body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn password_change(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    ip: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, PageError> {
    let form = form_params(headers, body).map_err(|e| PageError::bad_request("Invalid form", e))?;
    if !session::csrf_valid(app, session, browser, form.get("csrf_token")).await? {
        return Err(PageError::bad_request(
            "This form had expired",
            "Sign in again with your temporary password.",
        ));
    }
    let now = app.clock.now();
    let state = session
        .get::<PasswordChangeState>(PASSWORD_CHANGE_KEY)
        .await
        .map_err(PageError::server_error)?
        .filter(|s| now - s.started_at <= PASSWORD_CHANGE_TTL)
        .ok_or_else(|| {
            PageError::bad_request(
                "This page has expired",
                "Sign in again with your temporary password.",
            )
        })?;
    let account = app
        .store
        .find_account(state.account_id)
        .await?
        .filter(|a| !a.disabled && a.must_change_password)
        .ok_or_else(|| PageError::bad_request("This page has expired", "Sign in again."))?;
    let password = form.get("new_password").unwrap_or_default();
    if form.get("confirm_password").unwrap_or_default() != password {
        return password_change_page(
            app,
            session,
            browser,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["The two passwords are not the same.".into()],
        )
        .await;
    }
    let set = match crate::accounts::directory::set_password(
        &app.store,
        &app.hasher,
        &account,
        password,
        false,
        KeepGrants::None,
        now,
    )
    .await
    {
        Ok(set) => set,
        Err(crate::accounts::directory::DirectoryError::Invalid(errors)) => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            return password_change_page(
                app,
                session,
                browser,
                StatusCode::UNPROCESSABLE_ENTITY,
                messages,
            )
            .await;
        }
        Err(e) => return Err(PageError::server_error(e)),
    };
    session
        .remove::<PasswordChangeState>(PASSWORD_CHANGE_KEY)
        .await
        .map_err(PageError::server_error)?;
    tracing::info!(account_id = %account.account_id, "temporary password replaced; signed in");
    let pending = match &state.request {
        Some(raw) => Some(load_pending(app, raw, browser).await?),
        None => None,
    };
    let mut account = account;
    account.must_change_password = false;
    account.credential_version = set.credential_version;
    let signed_in = SignedIn {
        account,
        remember: state.remember,
        now,
    };
    let visitor = authorize::Visitor { ip, browser };
    continue_after_sign_in(app, session, &visitor, signed_in, pending, state.return_to).await
}

pub async fn get_consent(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    Query(q): Query<RequestRef>,
) -> Response {
    let result = async {
        let raw = q
            .request
            .as_deref()
            .ok_or_else(PageError::expired_request)?;
        let (id, pending, client) = load_pending(&app, raw, &browser).await?;
        let Some((_, account)) = session::current_login(&app, &session).await? else {
            return Ok(Redirect::to(&format!("/login?request={id}")).into_response());
        };
        let page = ConsentPage {
            csrf_token: session::session_csrf_token(&session).await?,
            request_id: id.to_string(),
            client_name: client.name,
            user_name: account.display_name(),
            scopes: pending
                .request
                .scopes
                .iter()
                .map(scopes::describe)
                .collect(),
            asks_each_time: pending.request.scopes.contains(scopes::Scope::Api),
        };
        Ok::<_, PageError>(render(StatusCode::OK, &page))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn post_consent(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    consent(&app, &session, &browser, &headers, &body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn consent(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, PageError> {
    let form = form_params(headers, body).map_err(|e| PageError::bad_request("Invalid form", e))?;
    if !session::session_csrf_valid(session, form.get("csrf_token")).await? {
        return Err(PageError::bad_request(
            "This form had expired",
            "Return to the application you were using and start signing in again.",
        ));
    }
    let raw = form.get("request").ok_or_else(PageError::expired_request)?;
    let (id, pending, client) = load_pending(app, raw, browser).await?;
    let now = app.clock.now();
    let login = session::current_login(app, session).await?;
    let signed_in_freshly = match (&login, pending.require_login_after) {
        (Some((state, _)), Some(after)) => state.auth_time >= after,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let Some((state, account)) = login.filter(|_| signed_in_freshly) else {
        return Ok(Redirect::to(&format!("/login?request={id}")).into_response());
    };
    if !app.store.delete_pending_authorization(id).await? {
        return Err(PageError::already_answered());
    }
    let request = &pending.request;
    if form.get("decision") != Some("allow") {
        return Ok(authorize::redirect_error(
            app,
            &request.target,
            "access_denied",
            "the user declined",
        ));
    }
    // `api` is asked for each time, so it is not remembered with the rest.
    let remembered = request.scopes.without(scopes::Scope::Api);
    app.store
        .save_consent(
            account.account_id,
            client.client_id,
            &remembered.to_string(),
            now,
        )
        .await?;
    Ok(authorize::issue_code(app, request, &state, &account, now).await)
}

pub async fn get_home(State(app): State<AppState>, session: Session) -> Response {
    let result = async {
        let login = session::current_login(&app, &session).await?;
        // A visitor who is not signed in has no form here, and so nothing to store.
        let csrf_token = match &login {
            Some(_) => session::session_csrf_token(&session).await?,
            None => String::new(),
        };
        let page = HomePage {
            csrf_token,
            user_name: login.map(|(_, account)| account.display_name()),
        };
        Ok::<_, PageError>(render(StatusCode::OK, &page))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}
