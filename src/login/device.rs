//! The `/device` page (RFC 8628 §3.3): a person signed in on their phone confirms the user code
//! that a device, or a shared computer's QR sign-in, shows.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::sign_in_first;
use crate::accounts::throttle::{self, Admission};
use crate::domain::protocol::paths;
use crate::http::ClientIp;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::oidc::authorize::{self, Decision};
use crate::oidc::device::{display_user_code, normalize_user_code};
use crate::oidc::scopes::{Scope, ScopeSet};
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, CsrfForm, LoginState};
use crate::state::AppState;
use crate::store::{AccountRow, DeviceRow};
use crate::store::{DeviceApproval, encode_string_list};

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    csrf_token: String,
    user_code: String,
    /// Set once the code is found: who is asking (the app by name), and for what (catalog keys).
    asking: Option<Message>,
    scopes: Vec<&'static str>,
    error: Option<Message>,
    /// For a QR sign-in: the computer that asks, named before the person approves.
    computer: Option<Computer>,
}

/// The computer that started a QR sign-in, as the phone shows it.
struct Computer {
    ip: String,
    browser: String,
    started: String,
}

impl Computer {
    fn of(row: &DeviceRow) -> Option<Computer> {
        if row.client_id.is_some() {
            return None;
        }
        let agent = row.requester_agent.as_deref().unwrap_or_default();
        Some(Computer {
            ip: row.requester_ip.clone().unwrap_or_default(),
            browser: crate::http::describe_user_agent(agent)
                .unwrap_or_else(|| crate::i18n::current().text("device-unknown-browser")),
            started: crate::clock::format_utc(row.created_at),
        })
    }
}

#[derive(Template)]
#[template(path = "device_done.html")]
struct DeviceDonePage {
    approved: bool,
}

#[derive(Deserialize)]
pub struct CodeQuery {
    user_code: Option<String>,
}

fn device_path(code: &str) -> String {
    if code.is_empty() {
        paths::DEVICE.to_owned()
    } else {
        format!("{}?user_code={}", paths::DEVICE, display_user_code(code))
    }
}

pub async fn get_device(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    Query(q): Query<CodeQuery>,
) -> Result<Response, PageError> {
    let code = q
        .user_code
        .as_deref()
        .map(normalize_user_code)
        .unwrap_or_default();
    if session::current_login(&app, &session).await?.is_none() {
        return Ok(sign_in_first(&device_path(&code)));
    }
    let mut page = DevicePage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        user_code: display_user_code(&code),
        asking: None,
        scopes: Vec::new(),
        error: None,
        computer: None,
    };
    if code.is_empty() {
        return Ok(render(StatusCode::OK, &page));
    }
    let now = app.clock.now();
    let row = match look_up_code(&app, &ip, &code, now).await? {
        CodeLookup::Found(row) => row,
        CodeLookup::TooMany(retry_after) => return Ok(too_many_codes(retry_after)),
        CodeLookup::Unknown => {
            page.error = Some(Message::new("device-code-invalid"));
            return Ok(render(StatusCode::BAD_REQUEST, &page));
        }
    };
    page.asking = Some(asking(&app, &row).await?);
    page.scopes = ScopeSet::parse(&row.scope).iter().map(Scope::key).collect();
    page.computer = Computer::of(&row);
    Ok(render(StatusCode::OK, &page))
}

/// Who is asking, by the app's name: a device's app, or the app a shared computer's QR sign-in
/// was started for (a QR sign-in from our own page names no app).
async fn asking(app: &AppState, row: &DeviceRow) -> Result<Message, PageError> {
    let (key, client_id) = match (row.client_id, row.for_client_id) {
        (Some(id), _) => ("device-asking", id),
        (None, Some(id)) => ("device-asking-qr-app", id),
        (None, None) => return Ok(Message::new("device-asking-qr")),
    };
    Ok(match app.store.find_client(client_id).await? {
        Some(client) => Message::new(key).with("app", client.name),
        // Deleted since: the code still signs in, so say who is asking without a name.
        None => Message::new("device-asking-qr"),
    })
}

pub async fn post_device(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm { form, session, .. } = csrf;
    let code = normalize_user_code(form.get("user_code").unwrap_or_default());
    let Some((login, account)) = session::current_login(&app, &session).await? else {
        return Ok(sign_in_first(&device_path(&code)));
    };
    let allow = match form.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        // Only a code was entered: show what it asks for, so the person can decide.
        _ => return Ok(Redirect::to(&device_path(&code)).into_response()),
    };
    let now = app.clock.now();
    let row = match look_up_code(&app, &ip, &code, now).await? {
        CodeLookup::Found(row) => row,
        CodeLookup::TooMany(retry_after) => return Ok(too_many_codes(retry_after)),
        CodeLookup::Unknown => {
            return Err(PageError::bad_request(
                "error-code-used-title",
                "error-code-used",
            ));
        }
    };
    let approval = if allow {
        // The approval is a door: the app's (or the account's) demands on this session first.
        if let Some(next) = approval_refused(&app, &login, &account, &row, &code, now).await? {
            return Ok(next);
        }
        Some(DeviceApproval {
            account_id: login.account_id,
            sid: login.sid,
            auth_time: login.auth_time,
            amr: encode_string_list(&login.amr),
            credential_version: account.credential_version,
        })
    } else {
        None
    };
    let approved = approval.is_some();
    if !app.store.decide_device(&code, approval, now).await? {
        return Err(PageError::bad_request(
            "error-code-used-title",
            "error-code-used",
        ));
    }
    Ok(render(StatusCode::OK, &DeviceDonePage { approved }))
}

/// Where the person goes instead of approving, when the decision asks for more: a second factor
/// (then back to this code), or a fresh sign-in.
async fn approval_refused(
    app: &AppState,
    login: &LoginState,
    account: &AccountRow,
    row: &DeviceRow,
    code: &str,
    now: i64,
) -> Result<Option<Response>, PageError> {
    let client = match row.client_id {
        Some(id) => app.store.find_client(id).await?,
        None => None,
    };
    let scopes = ScopeSet::parse(&row.scope);
    let decision = authorize::decide_at_door(
        app,
        authorize::login_of(login),
        account,
        client.as_ref(),
        scopes,
        now,
    )
    .await?;
    let back: String = url::form_urlencoded::byte_serialize(device_path(code).as_bytes()).collect();
    Ok(match decision {
        Decision::IssueCode | Decision::Consent => None,
        Decision::StepUp => Some(
            Redirect::to(&format!("{}?return_to={back}", paths::SECOND_FACTOR)).into_response(),
        ),
        Decision::SignIn | Decision::Refuse(..) => Some(sign_in_first(&device_path(code))),
    })
}

/// A user code looked up.
enum CodeLookup {
    Found(Box<DeviceRow>),
    Unknown,
    /// Too many wrong codes from this address: retry after this many seconds.
    TooMany(i64),
}

/// Looks a user code up, counted per address before the lookup like a sign-in (RFC 8628 §5.1: a
/// code is short enough to be guessed online otherwise): of N parallel guesses at most the limit
/// are looked up. A code found gives its count back; the limit's wrong one locks the address.
async fn look_up_code(
    app: &AppState,
    ip: &str,
    code: &str,
    now: i64,
) -> Result<CodeLookup, PageError> {
    let policy = &app.config.login;
    let key = throttle::device_key(ip);
    let limit = policy.max_failures_per_ip;
    let counted = match throttle::admit(&app.store, &[(&key, limit)], policy, now).await? {
        Admission::Refuse { retry_after } => return Ok(CodeLookup::TooMany(retry_after)),
        Admission::Evaluate(counts) => counts.first().copied(),
    };
    let Some(counted) = counted else {
        return Err(PageError::server_error(
            "a counted attempt without its count",
        ));
    };
    match app.store.find_pending_device(code, now).await? {
        Some(row) => {
            let window = counted.window_started_at;
            app.store.give_back_attempts(&[(&key, window)]).await?;
            Ok(CodeLookup::Found(Box::new(row)))
        }
        None => Ok(
            match throttle::failed(&app.store, &key, counted.count, limit, policy, now).await? {
                Some(retry_after) => CodeLookup::TooMany(retry_after),
                None => CodeLookup::Unknown,
            },
        ),
    }
}

fn too_many_codes(retry_after: i64) -> Response {
    let minutes = (retry_after + 59) / 60;
    PageError::too_many_requests(
        "error-too-many-codes-title",
        Message::new("error-too-many-codes").with("minutes", minutes),
    )
    .into_response()
}
