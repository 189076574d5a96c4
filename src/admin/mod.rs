//! Admin pages under /admin: users, client apps, signing keys, the audit log and the bulk import.
//! Only signed-in admins reach them; every form carries the session's CSRF token; every change is
//! written to the audit log.

mod audit_log;
mod clients;
mod import;
mod links;
mod users;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_sessions::Session;

use crate::accounts::directory::Actor;
use crate::audit;

use crate::http::page::{PageError, render};
use crate::http::{ClientIp, Controls, Params, read_form};
use crate::keys::KeyRing;
use crate::login::person::Person;
use crate::sessions as session;
use crate::sessions::browser::BrowserKey;
use crate::state::AppState;
use crate::store::{AccountRow, Count};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/users", get(users::list))
        .route("/admin/users/new", get(users::new_form).post(users::create))
        .route("/admin/users/{id}", get(users::edit_form).post(users::save))
        .route("/admin/users/{id}/status", post(users::set_status))
        .route("/admin/users/{id}/password", post(users::set_password))
        .route("/admin/users/{id}/delete", post(users::delete))
        .route("/admin/users/{id}/send", post(links::send))
        .route("/admin/users/{id}/factors", post(links::factors))
        .route("/admin/users/invite", post(links::invite_many))
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
        .route("/admin/audit", get(audit_log::page))
        .route(
            crate::http::LARGE_BODY_PATH,
            get(import::form)
                .post(import::submit)
                // A semester's CSV export is larger than any other form.
                .layer(DefaultBodyLimit::max(crate::http::MAX_LARGE_BODY_BYTES)),
        )
}

/// The signed-in admin behind a page request (the account as it is now). As an extractor, it
/// sends a visitor who is not signed in to sign in first, and answers 403 to anyone else.
pub struct Admin {
    pub account: AccountRow,
    pub csrf_token: String,
    pub client_ip: String,
    session: Session,
    browser: BrowserKey,
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

    /// Whether a form's token is this page's (for forms no `AdminForm` reads, the upload).
    pub async fn csrf_matches(
        &self,
        app: &AppState,
        presented: Option<&str>,
    ) -> Result<bool, PageError> {
        session::csrf_valid(app, &self.session, &self.browser, presented).await
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

impl From<crate::store::StoreError> for Denied {
    fn from(e: crate::store::StoreError) -> Self {
        Denied::Page(e.into())
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Denied;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Admin, Denied> {
        let session = Session::from_request_parts(parts, app)
            .await
            .map_err(|(_, why)| PageError::server_error(format!("session layer: {why}")))?;
        let Ok(browser) = BrowserKey::from_request_parts(parts, app).await;
        let Ok(ClientIp(client_ip)) = ClientIp::from_request_parts(parts, app).await;
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/admin");
        let target: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        let Some(Person { login, account }) = Person::of(app, &session).await? else {
            return Err(Denied::SignIn(format!("/login?return_to={target}")));
        };
        if !account.is_active_admin() {
            return Err(Denied::Page(PageError::forbidden(
                "error-admins-only-title",
                "error-admins-only",
            )));
        }
        // An admin the policy makes use a second factor proves one first (enrolling if need be).
        if !login.amr.iter().any(|m| m == "mfa") {
            let mfa = app.store.find_mfa(account.account_id).await?;
            if crate::accounts::factors::required_of(&app.config, &account, &mfa) {
                return Err(Denied::SignIn(format!(
                    "{}?return_to={target}",
                    crate::login::second_factor::PATH
                )));
            }
        }
        let csrf_token = session::csrf_token(app, &session, &browser).await?;
        crate::http::ui::set_admin_bar(crate::http::ui::AdminBar {
            name: account.display_name(),
            csrf_token: csrf_token.clone(),
        });
        Ok(Admin {
            account,
            csrf_token,
            client_ip,
            session,
            browser,
        })
    }
}

/// A posted admin form, after the admin check and the CSRF check. Admin forms have text areas
/// (one redirect URI or group per line), so tab and line breaks are allowed in their values.
pub struct AdminForm {
    pub admin: Admin,
    pub form: Params,
}

impl FromRequest<AppState> for AdminForm {
    type Rejection = Denied;

    async fn from_request(request: Request, app: &AppState) -> Result<AdminForm, Denied> {
        let (mut parts, body) = request.into_parts();
        let admin = Admin::from_request_parts(&mut parts, app).await?;
        let request = Request::from_parts(parts, body);
        let form = read_form(request, app, Controls::LineBreaks)
            .await
            .map_err(PageError::invalid_form)?;
        if !admin.csrf_matches(app, form.get("csrf_token")).await? {
            return Err(PageError::form_expired().into());
        }
        Ok(AdminForm { admin, form })
    }
}

/// Notices shown after a change (catalog keys), chosen by a fixed code so no text comes from the
/// address bar.
pub fn notice(query: &Params) -> Option<&'static str> {
    Some(match query.get("done")? {
        "created" => "notice-created",
        "saved" => "notice-saved",
        "disabled" => "notice-disabled",
        "enabled" => "notice-enabled",
        "password" => "notice-password",
        "deleted" => "notice-deleted",
        "rotated" => "notice-rotated",
        "imported" => "notice-imported",
        "invited" => "notice-invited-one",
        "reset" => "notice-reset-sent",
        "verification" => "notice-verification-sent",
        "factors_reset" => "notice-factors-reset",
        "mfa_required" => "notice-mfa-required",
        "mfa_unrequired" => "notice-mfa-unrequired",
        _ => return None,
    })
}

pub fn query_params(raw: Option<String>) -> Result<Params, PageError> {
    crate::http::page::page_query(raw, "error-invalid-address-title")
}

pub use crate::http::page::{error_for, invalid};

pub use crate::clock::format_utc as when;

/// Page numbers for a list: the current one, the last one, and the links' query without `page`.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// More than `total` matched: counts stop at `store::COUNT_CAP`.
    pub more: bool,
    pub base_query: String,
}

impl Pager {
    pub fn new(page: i64, per_page: i64, count: Count, base_query: String) -> Pager {
        Pager {
            page,
            pages: ((count.value + per_page - 1) / per_page).max(1),
            total: count.value,
            more: count.more,
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
            .ok_or_else(|| {
                PageError::bad_request("error-invalid-address-title", "error-invalid-page")
            }),
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
    expires: Option<String>,
    /// A catalog key.
    state: &'static str,
}

async fn keys_page(
    State(app): State<AppState>,
    admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
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
                "admin-key-signing"
            } else if k.activates_at > now {
                "admin-key-published"
            } else {
                "admin-key-verifying"
            },
            kid: k.kid,
            alg: k.alg,
            created: when(k.created_at),
            activates: when(k.activates_at),
            expires: k.expires_at.map(when),
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
    AdminForm { admin, .. }: AdminForm,
) -> Result<Response, Denied> {
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
