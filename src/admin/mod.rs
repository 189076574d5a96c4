//! Admin pages under /admin: users, client apps, signing keys, the audit log and the bulk import.
//! Only signed-in admins reach them; every form carries the session's CSRF token; every change is
//! written to the audit log.

mod clients;
mod import;
mod users;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_sessions::Session;

use crate::accounts::directory::Actor;
use crate::audit;
use crate::http::{ClientIp, Params, page_form_params};
use crate::keys::KeyRing;
use crate::login::page::{PageError, render};
use crate::login::session;
use crate::state::AppState;
use crate::store::AccountRow;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/users", get(users::list))
        .route("/admin/users/new", get(users::new_form).post(users::create))
        .route("/admin/users/{id}", get(users::edit_form).post(users::save))
        .route("/admin/users/{id}/status", post(users::set_status))
        .route("/admin/users/{id}/password", post(users::set_password))
        .route("/admin/users/{id}/delete", post(users::delete))
        .route("/admin/clients", get(clients::list))
        .route(
            "/admin/clients/new",
            get(clients::new_form).post(clients::create),
        )
        .route(
            "/admin/clients/{id}",
            get(clients::edit_form).post(clients::save),
        )
        .route("/admin/clients/{id}/secret", post(clients::rotate_secret))
        .route("/admin/clients/{id}/delete", post(clients::delete))
        .route("/admin/keys", get(keys_page))
        .route("/admin/keys/rotate", post(rotate_keys))
        .route("/admin/audit", get(audit_page))
        .route(
            crate::http::LARGE_BODY_PATH,
            get(import::form)
                .post(import::submit)
                // A semester's CSV export is larger than any other form.
                .layer(DefaultBodyLimit::max(crate::http::MAX_LARGE_BODY_BYTES)),
        )
}

/// The signed-in admin behind a page request.
pub struct Admin {
    pub account: AccountRow,
    pub csrf_token: String,
    pub client_ip: String,
}

impl Admin {
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.account.account_id,
            username: self.account.username.clone(),
        }
    }

    pub async fn audit(
        &self,
        app: &AppState,
        action: &str,
        target: Option<String>,
        detail: serde_json::Value,
    ) {
        audit::record(
            app,
            &self.actor(),
            Some(&self.client_ip),
            action,
            target,
            detail,
        )
        .await;
    }
}

/// What a page does when the visitor is not an admin: sign in first, or a 403 page.
pub enum Denied {
    SignIn(String),
    Page(PageError),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::SignIn(target) => Redirect::to(&target).into_response(),
            Denied::Page(e) => e.into_response(),
        }
    }
}

impl From<PageError> for Denied {
    fn from(e: PageError) -> Self {
        Denied::Page(e)
    }
}

/// Requires a signed-in admin (checked against the account as it is now).
pub async fn require_admin(
    app: &AppState,
    session: &Session,
    uri: &Uri,
    ip: &str,
) -> Result<Admin, Denied> {
    let Some((_, account)) = session::current_login(app, session).await? else {
        let back = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/admin");
        let target: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        return Err(Denied::SignIn(format!("/login?return_to={target}")));
    };
    if !account.is_active_admin() {
        return Err(Denied::Page(PageError::forbidden(
            "Administrators only",
            "Your account does not have the admin role. Ask the IT Help Desk if you need it.",
        )));
    }
    Ok(Admin {
        account,
        csrf_token: session::session_csrf_token(session).await?,
        client_ip: ip.to_owned(),
    })
}

/// A posted admin form: the admin, after the CSRF check, and the form's fields.
pub async fn admin_form(
    app: &AppState,
    session: &Session,
    uri: &Uri,
    ip: &str,
    headers: &HeaderMap,
    body: &axum::body::Bytes,
) -> Result<(Admin, Params), Denied> {
    let admin = require_admin(app, session, uri, ip).await?;
    let form =
        page_form_params(headers, body).map_err(|e| PageError::bad_request("Invalid form", e))?;
    if !session::session_csrf_valid(session, form.get("csrf_token")).await? {
        return Err(PageError::bad_request(
            "This form had expired",
            "Go back, reload the page and try again.",
        )
        .into());
    }
    Ok((admin, form))
}

/// Notices shown after a change, chosen by a fixed code so no text comes from the address bar.
pub fn notice(query: &Params) -> Option<&'static str> {
    Some(match query.get("done")? {
        "created" => "Created.",
        "saved" => "Saved.",
        "disabled" => {
            "The account is disabled: its sessions have ended and its tokens are revoked."
        }
        "enabled" => "The account is enabled.",
        "password" => {
            "Temporary password set. The person must choose a new one at their next sign-in."
        }
        "deleted" => "Deleted.",
        "rotated" => {
            "New signing keys are published; they start signing after the publish lead time."
        }
        "imported" => "Import complete.",
        _ => return None,
    })
}

pub fn query_params(raw: Option<String>) -> Result<Params, PageError> {
    Params::parse(raw.unwrap_or_default().as_bytes())
        .map_err(|e| PageError::bad_request("Invalid address", e.to_string()))
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn when(epoch: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Page numbers for a list: the current one, the last one, and the links' query without `page`.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub base_query: String,
}

impl Pager {
    pub fn new(page: i64, per_page: i64, total: i64, base_query: String) -> Pager {
        Pager {
            page,
            pages: ((total + per_page - 1) / per_page).max(1),
            total,
            base_query,
        }
    }
}

pub fn page_number(query: &Params) -> Result<i64, PageError> {
    match query.get("page") {
        None => Ok(1),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| PageError::bad_request("Invalid page", "The page number is not valid.")),
    }
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    csrf_token: String,
    notice: Option<&'static str>,
    keys: Vec<KeyView>,
}

struct KeyView {
    kid: String,
    alg: String,
    created: String,
    activates: String,
    expires: String,
    state: &'static str,
}

async fn keys_page(
    State(app): State<AppState>,
    session: Session,
    uri: Uri,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
    let admin = require_admin(&app, &session, &uri, &ip).await?;
    let query = query_params(query)?;
    let now = app.clock.now();
    let signing = [
        app.keys.signing_kid_for("RS256"),
        app.keys.signing_kid_for("ES256"),
    ];
    let keys = app
        .store
        .list_published_keys(now)
        .await
        .map_err(PageError::from)?
        .into_iter()
        .map(|k| KeyView {
            state: if signing.iter().flatten().any(|s| *s == k.kid) {
                "signing"
            } else if k.activates_at > now {
                "published, not yet signing"
            } else {
                "published, verifying only"
            },
            kid: k.kid,
            alg: k.alg,
            created: when(k.created_at),
            activates: when(k.activates_at),
            expires: k.expires_at.map(when).unwrap_or_else(|| "—".into()),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &KeysPage {
            csrf_token: admin.csrf_token,
            notice: notice(&query),
            keys,
        },
    ))
}

async fn rotate_keys(
    State(app): State<AppState>,
    session: Session,
    uri: Uri,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Denied> {
    let (admin, _) = admin_form(&app, &session, &uri, &ip, &headers, &body).await?;
    let config = &app.config;
    let now = app.clock.now();
    let kid = KeyRing::rotate(
        &app.store,
        &app.key_encryption,
        now,
        config.key_publish_lead,
        config.access_token_ttl.max(config.id_token_ttl),
    )
    .await
    .map_err(PageError::server_error)?;
    if let Err(e) = app.keys.reload(&app.store, now).await {
        tracing::error!(error = %e, "reloading keys after rotation failed");
    }
    admin
        .audit(
            &app,
            "keys.rotate",
            Some(format!("key:{kid}")),
            serde_json::json!({}),
        )
        .await;
    Ok(Redirect::to("/admin/keys?done=rotated").into_response())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    entries: Vec<AuditView>,
    pager: Pager,
}

struct AuditView {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
    client_ip: String,
}

async fn audit_page(
    State(app): State<AppState>,
    session: Session,
    uri: Uri,
    ClientIp(ip): ClientIp,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
    require_admin(&app, &session, &uri, &ip).await?;
    let query = query_params(query)?;
    let page = page_number(&query)?;
    const PER_PAGE: i64 = 50;
    let (rows, total) = app
        .store
        .list_audit(PER_PAGE, (page - 1) * PER_PAGE)
        .await
        .map_err(PageError::from)?;
    let entries = rows
        .into_iter()
        .map(|r| AuditView {
            at: when(r.at),
            actor: r.actor,
            action: r.action,
            target: r.target.unwrap_or_default(),
            detail: r.detail,
            client_ip: r.client_ip.unwrap_or_default(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &AuditPage {
            entries,
            pager: Pager::new(page, PER_PAGE, total, String::new()),
        },
    ))
}
