//! The URL table: every route with its middleware (sessions, CORS, limits, headers), and the
//! health endpoints. The admin pages and the JSON API each keep a table of their own.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_sessions::cookie::Key;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::crypto::DerivedKeys;
use crate::domain::protocol::paths;
use crate::http::{MAX_BODY_BYTES, assets, edge};
use crate::login;
use crate::oidc::{authorize, device, discovery, introspect, logout, par, revoke, token, userinfo};
use crate::state::AppState;
use crate::store::{Db, SessionRows};
use crate::telemetry_metrics;

/// All routes with their middleware. Every URL is routed here to its handler, except the admin
/// pages (`admin::routes`) and the JSON API (`api::router`), each one table of its own.
pub fn router(state: AppState) -> anyhow::Result<Router> {
    let config = &state.config;
    let cookie_key = Key::from(&DerivedKeys::derive(&config.secret_key)?.cookie_signing);
    let lifetime = crate::store::SessionLifetime {
        idle: config.session_ttl,
        remembered: config.remember_me,
    };
    let router = match state.store.db() {
        Db::Postgres(pool) => {
            let rows = SessionRows::new(
                PostgresStore::new(pool.clone()),
                state.store.clone(),
                lifetime,
            );
            routes(state.clone(), rows, cookie_key)
        }
        Db::Sqlite(pool) => {
            let rows = SessionRows::new(
                SqliteStore::new(pool.clone()),
                state.store.clone(),
                lifetime,
            );
            routes(state.clone(), rows, cookie_key)
        }
    };
    Ok(router)
}

/// The second step of a sign-in, and the account page's own two-step forms.
fn second_factor_routes() -> Router<AppState> {
    Router::new()
        .route(
            login::second_factor::PATH,
            get(login::second_factor::get_second_factor)
                .post(login::second_factor::post_second_factor),
        )
        .route(
            "/login/second-factor/enrol",
            post(login::second_factor::post_enrol),
        )
        .route(
            "/login/second-factor/continue",
            post(login::second_factor::post_continue),
        )
        .route("/account/totp", post(login::account::post_totp_start))
        .route(
            "/account/totp/confirm",
            post(login::account::post_totp_confirm),
        )
        .route(
            "/account/totp/remove",
            post(login::account::post_totp_remove),
        )
        .route(
            "/account/recovery-codes",
            post(login::account::post_recovery_codes),
        )
        .merge(passkey_routes())
}

/// Passkeys and security keys: sign-in, the second step, and the account page's list.
fn passkey_routes() -> Router<AppState> {
    use login::{account, passkeys, second_factor};
    Router::new()
        .route("/login/passkey/options", post(passkeys::post_options))
        .route("/login/passkey", post(passkeys::post_sign_in))
        .route(
            "/login/second-factor/key/options",
            post(second_factor::post_key_options),
        )
        .route("/login/second-factor/key", post(second_factor::post_key))
        .route("/account/passkeys", post(account::post_passkey_start))
        .route(
            "/account/passkeys/finish",
            post(account::post_passkey_finish),
        )
        .route(
            "/account/passkeys/remove",
            post(account::post_passkey_remove),
        )
        .route(
            "/account/remembered/forget",
            post(account::post_forget_browsers),
        )
}

fn routes<S: SessionStore + Clone>(state: AppState, session_store: S, cookie_key: Key) -> Router {
    let config = &state.config;
    let https = config.is_https();
    // `__Host-` cookies must be Secure, path=/ and host-only, which holds only under https.
    let cookie_name = if https { "__Host-hccc_sso" } else { "hccc_sso" };
    let sessions = SessionManagerLayer::new(session_store)
        .with_name(cookie_name)
        .with_secure(https)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        // A browser-session cookie: closing the browser of a shared computer signs out. Sessions
        // the person asked to keep get a persistent cookie at sign-in (sessions).
        .with_expiry(Expiry::OnSessionEnd)
        .with_signed(cookie_key);

    // Endpoints that browsers of relying parties may call directly.
    let cross_origin = Router::new()
        .route(paths::DISCOVERY, get(discovery::get_openid_configuration))
        .route(paths::OAUTH_METADATA, get(discovery::get_oauth_metadata))
        .route(paths::JWKS, get(discovery::get_jwks))
        .route(paths::TOKEN, post(token::post_token))
        .route(paths::REVOKE, post(revoke::post_revoke))
        .route(paths::PAR, post(par::post_par))
        .route(
            paths::DEVICE_AUTHORIZATION,
            post(device::post_device_authorization),
        )
        .route(
            paths::USERINFO,
            get(userinfo::get_userinfo).post(userinfo::post_userinfo),
        )
        .layer(cors(&config.cors_origins));

    let pages = Router::new()
        .merge(second_factor_routes())
        .route("/", get(login::home::get_home))
        .route(
            paths::AUTHORIZE,
            get(authorize::get_authorize).post(authorize::post_authorize),
        )
        .route(
            "/login",
            get(login::sign_in::get_login).post(login::sign_in::post_login),
        )
        .route(
            "/login/password",
            get(login::sign_in::get_password_change).post(login::sign_in::post_password_change),
        )
        .route(
            "/account/language",
            post(login::language::post_account_language),
        )
        .route(
            "/account/password",
            get(login::account::get_password).post(login::account::post_password),
        )
        .route("/account", get(login::account::get_account))
        .route("/account/profile", post(login::account::post_profile))
        .route("/account/email", post(login::account::post_email))
        .route(
            "/account/email/cancel",
            post(login::account::post_cancel_email),
        )
        .route(
            "/account/email/verify",
            post(login::account::post_send_verification),
        )
        .route(
            "/account/sessions/end",
            post(login::account::post_end_sessions),
        )
        .route(
            "/account/apps/revoke",
            post(login::account::post_revoke_app),
        )
        .route(
            "/account/welcome",
            get(login::links::get_welcome).post(login::links::post_welcome),
        )
        .route(
            "/account/reset",
            get(login::links::get_reset).post(login::links::post_reset),
        )
        .route(
            "/account/forgot",
            get(login::links::get_forgot).post(login::links::post_forgot),
        )
        .route(
            "/account/confirm",
            get(login::links::get_confirm).post(login::links::post_confirm),
        )
        .route(paths::AUTHORIZE_CONTINUE, get(authorize::get_continue))
        .route(
            paths::DEVICE,
            get(login::device::get_device).post(login::device::post_device),
        )
        .route(paths::QR_LOGIN, get(login::qr::get_qr_login))
        .route("/login/qr/poll", post(login::qr::post_qr_poll))
        .route(
            "/consent",
            get(login::consent::get_consent).post(login::consent::post_consent),
        )
        .route(
            paths::END_SESSION,
            get(logout::get_end_session).post(logout::post_end_session),
        )
        .route("/language", get(login::language::get_language))
        .merge(crate::admin::routes())
        .fallback(not_found)
        .layer(sessions)
        .layer(axum::middleware::from_fn(move |req, next| {
            crate::sessions::browser::bind_browser(https, req, next)
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::ui::page_context,
        ))
        // Pages are HTML made per request: compressed on the fly (they are few and small).
        .layer(tower_http::compression::CompressionLayer::new());

    // On the public listener only behind a token: request counts and pool use are not for
    // everyone. Compose serves them on HCCC_SSO_METRICS_BIND, a private port.
    let metrics_here = if config.metrics_bind.is_none() && config.metrics_token.is_some() {
        Router::new().route("/metrics", get(telemetry_metrics::get_metrics))
    } else {
        Router::new()
    };
    Router::new()
        .merge(cross_origin)
        .merge(pages)
        .merge(metrics_here)
        // JSON lists and the OpenAPI document pay for compression; discovery and JWKS are small,
        // hot and cached by every client, tokens are small and secret: neither is compressed.
        .merge(crate::api::router().layer(tower_http::compression::CompressionLayer::new()))
        .route(paths::INTROSPECT, post(introspect::post_introspect))
        .route("/health", get(health))
        .route("/health/ready", get(health))
        .route("/health/live", get(live))
        .route("/assets/{hash}/{*path}", get(assets::get_asset))
        .route("/static/{*path}", get(assets::get_static))
        .route(
            "/favicon.ico",
            get(|state, headers| {
                assets::get_static(
                    state,
                    axum::extract::Path("img/favicon.svg".into()),
                    headers,
                )
            }),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(move |req, next| {
            edge(https, req, next)
        }))
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600))
}

async fn not_found() -> Response {
    crate::http::page::PageError::not_found().into_response()
}

/// The process is up and serving (for restarts by an orchestrator); says nothing of the database.
async fn live() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// Readiness: liveness and database reachability, as JSON; 503 when the database does not answer.
async fn health(State(app): State<AppState>) -> Response {
    let database = tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await;
    let (status, db) = match database {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "unreachable"),
    };
    let body = json!({
        "status": if status == StatusCode::OK { "ok" } else { "unavailable" },
        "database": db,
        "backend": app.store.backend_name(),
    });
    (status, axum::Json(body)).into_response()
}
