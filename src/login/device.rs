//! Signing in across devices: the `/device` page where a signed-in person confirms a user code
//! (RFC 8628), and the QR sign-in page for shared computers built on it.

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::browser::BrowserKey;
use super::page::{PageError, render};
use super::session;
use crate::accounts::throttle;
use crate::crypto;
use crate::http::{ClientIp, form_params};
use crate::oidc::device::{self, display_user_code, normalize_user_code};
use crate::oidc::scopes;
use crate::state::AppState;
use crate::store::{DeviceApproval, DevicePoll, encode_string_list};

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    csrf_token: String,
    user_code: String,
    /// Set once the code is found: who is asking, and for what.
    client_name: Option<String>,
    scopes: Vec<&'static str>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "device_done.html")]
struct DeviceDonePage {
    approved: bool,
}

#[derive(Template)]
#[template(path = "qr_login.html")]
struct QrLoginPage {
    csrf_token: String,
    qr_svg: String,
    user_code: String,
    verification_uri: String,
    interval_ms: i64,
}

#[derive(Deserialize)]
pub struct CodeQuery {
    user_code: Option<String>,
}

/// The person who opens a device link must be signed in on that device (their phone) first.
fn login_first(path_and_query: &str) -> Response {
    let encoded: String = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    Redirect::to(&format!("/login?return_to={encoded}")).into_response()
}

pub async fn get_device(
    State(app): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    Query(q): Query<CodeQuery>,
) -> Response {
    let result = async {
        let code = q
            .user_code
            .as_deref()
            .map(normalize_user_code)
            .unwrap_or_default();
        if session::current_login(&app, &session).await?.is_none() {
            let target = if code.is_empty() {
                "/device".to_owned()
            } else {
                format!("/device?user_code={}", display_user_code(&code))
            };
            return Ok(login_first(&target));
        }
        let mut page = DevicePage {
            csrf_token: session::session_csrf_token(&session).await?,
            user_code: display_user_code(&code),
            client_name: None,
            scopes: Vec::new(),
            error: None,
        };
        if !code.is_empty() {
            let now = app.clock.now();
            if let Some(retry_after) = device_codes_locked(&app, &ip, now).await? {
                return Ok(too_many_codes(retry_after));
            }
            match app.store.find_pending_device(&code, now).await? {
                Some(row) => {
                    page.client_name = Some(match row.client_id {
                        Some(id) => app
                            .store
                            .find_client(id)
                            .await?
                            .map(|c| c.name)
                            .unwrap_or_else(|| "An application".into()),
                        None => "HCCC sign-in on another computer".into(),
                    });
                    page.scopes = scopes::ScopeSet::parse(&row.scope)
                        .iter()
                        .map(scopes::describe)
                        .collect();
                }
                None => {
                    if let Some(retry_after) = count_wrong_code(&app, &ip, now).await? {
                        return Ok(too_many_codes(retry_after));
                    }
                    page.error = Some(
                        "That code is not valid or has expired. Check the code on the other screen."
                            .into(),
                    )
                }
            }
        }
        let status = if page.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        Ok::<_, PageError>(render(status, &page))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn post_device(
    State(app): State<AppState>,
    session: Session,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form =
            form_params(&headers, &body).map_err(|e| PageError::bad_request("Invalid form", e))?;
        if !session::session_csrf_valid(&session, form.get("csrf_token")).await? {
            return Err(PageError::bad_request(
                "This form had expired",
                "Open the link or scan the code again.",
            ));
        }
        let code = normalize_user_code(form.get("user_code").unwrap_or_default());
        let Some((login, _)) = session::current_login(&app, &session).await? else {
            return Ok(login_first(&format!(
                "/device?user_code={}",
                display_user_code(&code)
            )));
        };
        let approval = match form.get("decision") {
            Some("allow") => Some(DeviceApproval {
                account_id: login.account_id,
                sid: login.sid,
                auth_time: login.auth_time,
                amr: encode_string_list(&login.amr),
            }),
            Some("deny") => None,
            // Only a code was entered: show what it asks for, so the person can decide.
            _ => {
                return Ok(Redirect::to(&format!(
                    "/device?user_code={}",
                    display_user_code(&code)
                ))
                .into_response());
            }
        };
        let approved = approval.is_some();
        let now = app.clock.now();
        if let Some(retry_after) = device_codes_locked(&app, &ip, now).await? {
            return Ok(too_many_codes(retry_after));
        }
        if !app.store.decide_device(&code, approval, now).await? {
            if let Some(retry_after) = count_wrong_code(&app, &ip, now).await? {
                return Ok(too_many_codes(retry_after));
            }
            return Err(PageError::bad_request(
                "That code is no longer valid",
                "It expired or was already used. Start again on the other screen.",
            ));
        }
        Ok(render(StatusCode::OK, &DeviceDonePage { approved }))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

/// What the browser of a shared computer waits for, kept in its session.
#[derive(Serialize, Deserialize)]
struct QrWait {
    device_code: String,
    /// A parked authorization request to continue after sign-in.
    request: Option<Uuid>,
}

const QR_KEY: &str = "qr_login";

#[derive(Deserialize)]
pub struct RequestQuery {
    request: Option<String>,
}

fn session_error(e: tower_sessions::session::Error) -> PageError {
    PageError::server_error(format!("session store: {e}"))
}

/// Shows a QR code that a student scans with their phone to sign this browser in.
pub async fn get_qr_login(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    ClientIp(ip): ClientIp,
    Query(q): Query<RequestQuery>,
) -> Response {
    let result = async {
        let now = app.clock.now();
        // Each visit stores a device request and a session: bounded per address.
        let limit = app.config.anonymous_starts_per_ip;
        if !throttle::count_anonymous_start(&app.store, &ip, limit, now).await? {
            return Err(PageError::too_many_starts());
        }
        let request = q.request.as_deref().and_then(|r| Uuid::parse_str(r).ok());
        let started = device::start(&app, None, "openid", now).await?;
        let wait = QrWait {
            device_code: started.device_code,
            request,
        };
        session.insert(QR_KEY, &wait).await.map_err(session_error)?;
        let user_code = display_user_code(&started.user_code);
        let verification_uri = app.config.url("/device");
        let complete = format!("{verification_uri}?user_code={user_code}");
        let qr_svg = qrcode::QrCode::new(complete.as_bytes())
            .map_err(PageError::server_error)?
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(232, 232)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#072a66"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build();
        let page = QrLoginPage {
            csrf_token: session::csrf_token(&app, &session, &browser).await?,
            qr_svg,
            user_code,
            verification_uri,
            interval_ms: device::POLL_INTERVAL * 1000,
        };
        Ok::<_, PageError>(render(StatusCode::OK, &page))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

/// Polled by the QR page: signs this browser in once the phone approves.
pub async fn post_qr_poll(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form = form_params(&headers, &body)
            .map_err(|e| PageError::bad_request("Invalid request", e))?;
        if !session::csrf_valid(&app, &session, &browser, form.get("csrf_token")).await? {
            return Ok((StatusCode::FORBIDDEN, Json(json!({"status": "expired"}))).into_response());
        }
        let Some(wait) = session.get::<QrWait>(QR_KEY).await.map_err(session_error)? else {
            return Ok(Json(json!({"status": "expired"})).into_response());
        };
        let now = app.clock.now();
        let hash = crypto::sha256(wait.device_code.as_bytes());
        let status = match app.store.poll_device(&hash, None, now).await? {
            DevicePoll::Pending | DevicePoll::SlowDown => "pending",
            DevicePoll::Denied => "denied",
            DevicePoll::Expired | DevicePoll::Unknown => "expired",
            DevicePoll::Approved(row) => {
                let account = match row.account_id {
                    Some(id) => app.store.find_account(id).await?.filter(|a| !a.disabled),
                    None => None,
                };
                let Some(account) = account else {
                    return Ok(Json(json!({"status": "denied"})).into_response());
                };
                let amr = row
                    .amr
                    .as_deref()
                    .and_then(|a| serde_json::from_str::<Vec<String>>(a).ok())
                    .unwrap_or_default();
                session
                    .remove::<QrWait>(QR_KEY)
                    .await
                    .map_err(session_error)?;
                // A shared computer: never a persistent cookie.
                session::establish(&app, &session, &account, amr, false, now).await?;
                tracing::info!(account_id = %account.account_id, "signed in by QR code");
                let next = match wait.request {
                    Some(id) => format!("/authorize/continue?request={id}"),
                    None => "/".to_owned(),
                };
                return Ok(Json(json!({"status": "approved", "next": next})).into_response());
            }
        };
        Ok::<_, PageError>(Json(json!({"status": status})).into_response())
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

/// Wrong user codes are counted per address, like failed sign-ins (RFC 8628 §5.1): a code is
/// short enough to be guessed online otherwise.
async fn device_codes_locked(app: &AppState, ip: &str, now: i64) -> Result<Option<i64>, PageError> {
    Ok(throttle::locked(&app.store, &throttle::device_key(ip), now).await?)
}

async fn count_wrong_code(app: &AppState, ip: &str, now: i64) -> Result<Option<i64>, PageError> {
    let policy = &app.config.login;
    Ok(throttle::count_failure(
        &app.store,
        &throttle::device_key(ip),
        policy.max_failures_per_ip,
        policy,
        now,
    )
    .await?)
}

fn too_many_codes(retry_after: i64) -> Response {
    let minutes = (retry_after + 59) / 60;
    PageError::too_many_requests(
        "Too many wrong codes",
        format!(
            "Too many codes that did not match were entered from your network. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ),
    )
    .into_response()
}
