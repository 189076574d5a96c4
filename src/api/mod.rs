//! The JSON API under /api/v1, authenticated with this provider's own access tokens (scope `api`).
//! Every error is RFC 9457 problem+json. The OpenAPI document is generated from these handlers.

mod clients;
mod error;
mod extract;
mod me;
mod users;

pub use error::{ApiError, Problem};
pub use extract::{Caller, JsonBody};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use uuid::Uuid;

use crate::state::AppState;

/// The API's routes, the OpenAPI document at /openapi.json and its interactive docs at /docs.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .merge(users::routes())
        .merge(me::routes())
        .merge(clients::routes())
        .merge(docs())
}

/// The OpenAPI document, and the API reference rendering it at /docs/ (Redoc, vendored and
/// served from our assets). Redoc styles itself with inline `<style>` elements and searches in a
/// worker made from a blob, so its page allows those; scripts stay `'self'` only.
fn docs() -> Router<AppState> {
    const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
        img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; \
        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route(
            "/docs",
            get(|| async { axum::response::Redirect::permanent("/docs/") }),
        )
        .route("/docs/", get(docs_page))
        .layer(axum::middleware::map_response(
            |mut response: Response| async move {
                response.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(DOCS_CSP),
                );
                response
            },
        ))
}

/// Built once: the document does not change while the server runs.
static OPENAPI_JSON: std::sync::LazyLock<Bytes> = std::sync::LazyLock::new(|| {
    Bytes::from(ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
});

async fn openapi_json() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        OPENAPI_JSON.clone(),
    )
        .into_response()
}

#[derive(askama::Template)]
#[template(path = "docs.html")]
struct DocsPage {
    script: String,
}

async fn docs_page(State(app): State<AppState>) -> Response {
    let page = DocsPage {
        script: app.assets.url("vendor/redoc/redoc.standalone.js"),
    };
    crate::http::page::render(StatusCode::OK, &page)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hccc-sso API",
        description = "Accounts and client applications of HCCC single sign-on. Authenticate with an \
            access token from this provider's /token endpoint carrying the `api` scope: the \
            client_credentials grant for a service client an admin gave API roles, or the \
            (legacy, opt-in) password grant for a script acting as a person. Errors are RFC 9457 \
            problem+json."
    ),
    paths(
        health,
        me::get_me, me::patch_me, me::change_my_password,
        users::list_users, users::create_user, users::get_user, users::put_user, users::patch_user,
        users::delete_user,
        me::list_sessions, me::end_session, me::list_apps, me::revoke_app, me::activity,
        me::change_email, users::invite,
        clients::list_clients, clients::create_client, clients::get_client, clients::put_client,
        clients::patch_client, clients::delete_client, clients::rotate_secret,
    ),
    modifiers(&BearerAuth),
    tags((name = "users"), (name = "me"), (name = "clients"), (name = "health"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
    database: &'static str,
}

/// Whether the service and its database answer.
#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
async fn health(State(app): State<AppState>) -> Result<axum::Json<Health>, ApiError> {
    app.store.ping().await?;
    Ok(axum::Json(Health {
        status: "ok",
        database: "ok",
    }))
}

/// A list's query string: 400 for repeated, oversized or control-character parameters.
pub fn query_params(raw: Option<String>) -> Result<crate::http::Params, ApiError> {
    crate::http::Params::parse(raw.unwrap_or_default().as_bytes())
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A resource id from the path: 400 unless a UUID.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad_request(format!("{raw:?} is not a valid id (a UUID)")))
}

/// For PATCH: tells a field sent as `null` (Some(None)) from one left out (None).
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// RFC 3339 UTC for a stored epoch second.
pub fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `page` and `per_page` from a query: 1-based, at most 100 a page.
pub fn paging(page: Option<&str>, per_page: Option<&str>) -> Result<(i64, i64), ApiError> {
    let number = |name: &str, raw: Option<&str>, default: i64, max: i64| match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("{name} must be a whole number from 1 to {max}"))
            }),
    };
    Ok((
        number("page", page, 1, 1_000_000)?,
        number("per_page", per_page, 20, 100)?,
    ))
}

/// 201 Created for a new resource: where it lives, and what it is now.
pub fn created(location: String, body: impl Serialize) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(body),
    )
        .into_response()
}

/// One page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// How many match, counted up to 1,000.
    pub total: i64,
    /// More than `total` match (the count stopped at 1,000): narrow the filter to see them all.
    pub more: bool,
    pub page: i64,
    pub per_page: i64,
}
