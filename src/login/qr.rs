//! The QR sign-in of a shared computer: it shows a QR code (a device request with no client),
//! the student approves it on their phone at `/device`, and this browser is signed in by its poll.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use crate::accounts::throttle;
use crate::crypto;
use crate::domain::ScopeSet;
use crate::domain::protocol::paths;
use crate::http::Device;
use crate::http::page::{PageError, PageForm, render};
use crate::oidc::authorize::{self, Decision, Login, load_pending_if};
use crate::oidc::device::{self, display_user_code};
use crate::oidc::grants::device_code::approving_session_lives;
use crate::sessions as session;
use crate::sessions::browser::BrowserKey;
use crate::sessions::session_error;
use crate::state::AppState;
use crate::store::DevicePoll;

#[derive(Template)]
#[template(path = "qr_login.html")]
struct QrLoginPage {
    csrf_token: String,
    qr_svg: String,
    user_code: String,
    verification_uri: String,
    interval_ms: i64,
    /// A new code, for the same sign-in (offered in place when this one expires).
    renew_href: String,
    /// The password sign-in, for the same sign-in.
    password_href: String,
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

/// Shows a QR code that a student scans with their phone to sign this browser in.
pub async fn get_qr_login(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    device: Device,
    Query(q): Query<RequestQuery>,
) -> Result<Response, PageError> {
    let ip = &device.ip;
    // Offered only to the college's shared computers: anywhere else a QR code is a lure an
    // attacker can show a victim's phone (SPEC §4.2).
    if !offered(&app, ip) {
        return Err(PageError::not_found());
    }
    let now = app.clock.now();
    // Each visit stores a device request and a session: bounded per address.
    let limit = app.config.anonymous_starts_per_ip;
    if !throttle::count_anonymous_start(&app.store, ip, limit, now).await? {
        return Err(PageError::too_many_starts());
    }
    // The app's sign-in in progress, continued after the QR sign-in and named on the phone.
    let pending = load_pending_if(&app, q.request.as_deref(), &browser).await?;
    let request = pending.as_ref().map(|p| p.id);
    let for_client = pending.as_ref().map(|p| p.client.client_id);
    let requester = Some((ip.as_str(), device.user_agent.as_str()));
    let started = device::start(&app, None, for_client, "openid", requester, now).await?;
    let wait = QrWait {
        device_code: started.device_code,
        request,
    };
    session.insert(QR_KEY, &wait).await.map_err(session_error)?;
    let user_code = display_user_code(&started.user_code);
    let verification_uri = app.config.url(paths::DEVICE);
    let complete = format!("{verification_uri}?user_code={user_code}");
    let qr_svg = qr_svg(&complete)?;
    let page = QrLoginPage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        qr_svg,
        user_code,
        verification_uri,
        interval_ms: device::POLL_INTERVAL * 1000,
        renew_href: paths::with_request(paths::QR_LOGIN, request),
        password_href: paths::with_request(paths::LOGIN, request),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Polled by the QR page: signs this browser in once the phone approves.
pub async fn post_qr_poll(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    device: Device,
    PageForm(form): PageForm,
) -> Result<Response, PageError> {
    let status = |status: &str| Json(json!({ "status": status })).into_response();
    if !session::csrf_valid(&app, &session, &browser, form.get("csrf_token")).await? {
        return Ok((StatusCode::FORBIDDEN, status("expired")).into_response());
    }
    let Some(wait) = session.get::<QrWait>(QR_KEY).await.map_err(session_error)? else {
        return Ok(status("expired"));
    };
    let now = app.clock.now();
    let hash = crypto::sha256(wait.device_code.as_bytes());
    let row = match app.store.poll_device(&hash, None, now).await? {
        DevicePoll::Pending | DevicePoll::SlowDown => return Ok(status("pending")),
        DevicePoll::Denied => return Ok(status("denied")),
        DevicePoll::Expired | DevicePoll::Unknown => return Ok(status("expired")),
        DevicePoll::Approved(row) => row,
    };
    let account = match row.account_id {
        Some(id) => app.store.find_account(id).await?.filter(|a| !a.disabled),
        None => None,
    };
    // The approval holds only while the account's credentials are those it was given under.
    let Some(account) = account.filter(|a| row.approved_version == Some(a.credential_version))
    else {
        return Ok(status("denied"));
    };
    // ... and while the phone's session that approved it is still signed in.
    if !approving_session_lives(&app, &row, account.account_id).await? {
        return Ok(status("denied"));
    }
    // The computer proved nothing itself: its session never borrows the phone's factor
    // (`mca`: confirmed over a second channel, the phone). The account's own demands decide.
    let login = Login {
        account_id: account.account_id,
        auth_time: now,
        mfa: false,
    };
    let decision =
        authorize::decide_at_door(&app, login, &account, None, ScopeSet::default(), now).await?;
    if !matches!(decision, Decision::IssueCode | Decision::StepUp) {
        tracing::info!(account_id = %account.account_id, ?decision, "a QR sign-in was refused by the account's state");
        return Ok(status("denied"));
    }
    session
        .remove::<QrWait>(QR_KEY)
        .await
        .map_err(session_error)?;
    // A shared computer: never a persistent cookie.
    let how = session::How {
        amr: vec![QR_AMR.to_owned()],
        method: "qr",
        remember: false,
        factor_now: false,
    };
    session::establish(&app, &session, &account, how, &device, now).await?;
    tracing::info!(account_id = %account.account_id, "signed in by QR code");
    let mut next = match wait.request {
        Some(id) => paths::with_request(paths::AUTHORIZE_CONTINUE, Some(id)),
        None => paths::HOME.to_owned(),
    };
    if decision == Decision::StepUp {
        // The policy wants a second factor of this account: on this computer, before anything.
        let back: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        next = format!("{}?return_to={back}", paths::SECOND_FACTOR);
    }
    Ok(Json(json!({"status": "approved", "next": next})).into_response())
}

/// The `amr` of a QR sign-in's computer session: RFC 8176 `mca`, confirmed over a second
/// channel. Never `mfa`, whatever the phone proved.
pub const QR_AMR: &str = "mca";

/// QR sign-in is offered only on `HCCC_SSO_SHARED_NETWORKS` (off where none is set).
pub fn offered(app: &AppState, ip: &str) -> bool {
    ip.parse().map(crate::http::canonical_ip).is_ok_and(|ip| {
        app.config
            .mfa
            .shared_networks
            .iter()
            .any(|net| net.contains(&ip))
    })
}

/// A QR code of `data` as inline SVG, in the college's dark blue on white.
pub fn qr_svg(data: &str) -> Result<String, PageError> {
    Ok(qrcode::QrCode::new(data.as_bytes())
        .map_err(PageError::server_error)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(232, 232)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#072a66"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}
