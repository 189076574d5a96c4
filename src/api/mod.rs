//! The JSON API under /api/v1, authenticated with this provider's own access tokens (scope `api`).
//! Every error is RFC 9457 problem+json. The OpenAPI document is generated from these handlers.

mod clients;
mod me;
mod users;

use crate::accounts::factors;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use uuid::Uuid;

use crate::accounts::directory::{Actor, DirectoryError, FieldError};
use crate::clients::ClientError;
use crate::domain::{Scope, ScopeSet};
use crate::i18n::Message;
use crate::oidc::jwt::{AccessTokenProblem, validate_access_token};
use crate::state::AppState;
use crate::store::{AccountRow, StoreError};

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

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    status: u16,
    detail: String,
    /// The fields that failed validation, when that is the problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    errors: Vec<FieldError>,
    /// For 401: the WWW-Authenticate error code (RFC 6750).
    bearer_error: Option<&'static str>,
    cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            bearer_error: None,
            cause: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    fn unauthorized(detail: &str, bearer_error: Option<&'static str>) -> ApiError {
        ApiError {
            bearer_error,
            ..ApiError::new(StatusCode::UNAUTHORIZED, detail)
        }
    }

    fn internal(status: StatusCode, cause: impl std::fmt::Display) -> ApiError {
        ApiError {
            cause: Some(cause.to_string()),
            ..ApiError::new(
                status,
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    "the service is temporarily unavailable; try again shortly"
                } else {
                    "the server could not complete the request"
                },
            )
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("not found"),
            StoreError::Conflict => {
                ApiError::new(StatusCode::CONFLICT, "conflicts with an existing record")
            }
            StoreError::LastAdmin => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            e if e.is_unavailable() => ApiError::internal(StatusCode::SERVICE_UNAVAILABLE, e),
            other => ApiError::internal(StatusCode::INTERNAL_SERVER_ERROR, other),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Invalid(errors) => ApiError {
                errors,
                ..ApiError::unprocessable("the request has invalid fields")
            },
            DirectoryError::Duplicate => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            DirectoryError::LastAdmin => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            DirectoryError::NotFound => ApiError::not_found("no such user"),
            DirectoryError::Forbidden(why) => ApiError::forbidden(why),
            DirectoryError::Store(e) => e.into(),
            DirectoryError::Hash => ApiError::internal(StatusCode::INTERNAL_SERVER_ERROR, e),
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid(errors) => ApiError {
                errors,
                ..ApiError::unprocessable("the client has invalid settings")
            },
            ClientError::NotFound => ApiError::not_found("no such client"),
            ClientError::Store(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            let value = match self.bearer_error {
                Some(code) => format!("Bearer realm=\"hccc-sso\", error=\"{code}\""),
                None => "Bearer realm=\"hccc-sso\"".to_owned(),
            };
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(cause) = self.cause {
            response
                .extensions_mut()
                .insert(crate::telemetry::ErrorCause(cause));
        }
        response
    }
}

/// Who calls the API: a person (by a user token) or a service client (client_credentials).
pub struct Caller {
    pub actor: Actor,
    /// The person's account, as it is now (not as it was when the token was issued).
    pub account: Option<AccountRow>,
    pub is_admin: bool,
    pub client_ip: String,
    /// The grant the person's token belongs to (None for client_credentials tokens).
    pub grant_id: Option<Uuid>,
    /// A person's token from a sign-in that used a second factor (its `acr` is the MFA profile).
    pub with_factor: bool,
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs the admin role"))
        }
    }

    pub fn require_person(&self) -> Result<&AccountRow, ApiError> {
        self.account
            .as_ref()
            .ok_or_else(|| ApiError::forbidden("this needs a token issued to a person"))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let client_ip = crate::http::ClientIp::from_request_parts(parts, app)
            .await
            .map(|ip| ip.0)
            .unwrap_or_default();
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("a bearer access token is required", None))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .map(|(_, token)| token.trim())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "Authorization must use the Bearer scheme",
                    Some("invalid_request"),
                )
            })?;
        let live = validate_access_token(app, token)
            .await
            .map_err(|problem| match problem {
                AccessTokenProblem::Invalid(why) => {
                    ApiError::unauthorized(why, Some("invalid_token"))
                }
                AccessTokenProblem::Store(e) => e.into(),
            })?;
        if !ScopeSet::parse(&live.claims.scope).contains(Scope::Api) {
            return Err(ApiError::forbidden("the access token lacks the api scope"));
        }
        match live.user {
            Some(user) => {
                // A person's token acts here only while its app is still allowed `api`.
                let app_allowed = match Uuid::parse_str(&live.claims.client_id) {
                    Ok(id) => app
                        .store
                        .find_client(id)
                        .await?
                        .is_some_and(|c| c.settings.allowed_scopes.contains(Scope::Api)),
                    Err(_) => false,
                };
                if !app_allowed {
                    return Err(ApiError::forbidden(
                        "the application that obtained this token is not allowed the api scope",
                    ));
                }
                let account = user.account;
                // An account the policy makes use a second factor is an admin here only with a
                // token from a sign-in that used one.
                let with_factor = live.claims.acr.as_deref() == Some(factors::REFEDS_MFA);
                let mfa_ok = with_factor
                    || !factors::required_of(
                        &app.config,
                        &account,
                        &app.store.find_mfa(account.account_id).await?,
                    );
                Ok(Caller {
                    actor: Actor::User {
                        id: account.account_id,
                        username: account.username.clone(),
                    },
                    is_admin: account.is_active_admin() && mfa_ok,
                    account: Some(account),
                    client_ip,
                    grant_id: live.claims.gid,
                    with_factor,
                })
            }
            None => {
                let client_id = Uuid::parse_str(&live.claims.sub).map_err(|_| {
                    ApiError::unauthorized("token is invalid", Some("invalid_token"))
                })?;
                let client = app.store.find_client(client_id).await?.ok_or_else(|| {
                    ApiError::unauthorized("the client no longer exists", Some("invalid_token"))
                })?;
                Ok(Caller {
                    is_admin: client.settings.api_roles.iter().any(|r| r == "admin"),
                    actor: Actor::Client {
                        id: client.client_id,
                        name: client.name,
                    },
                    account: None,
                    client_ip,
                    grant_id: None,
                    with_factor: false,
                })
            }
        }
    }
}

/// A JSON request body: 415 unless declared JSON, 400 when not JSON at all, 422 when the JSON
/// does not fit (unknown fields, wrong types, missing fields).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || v.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be application/json",
            ));
        }
        let body = Bytes::from_request(req, app).await.map_err(|e| {
            ApiError::new(
                e.status(),
                "the request body is too large or could not be read",
            )
        })?;
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
        if let Some(field) = field_with_control(&value, "") {
            return Err(ApiError {
                errors: vec![FieldError::new(&field, Message::new("invalid-control"))],
                ..ApiError::unprocessable(format!("{field} contains a control character"))
            });
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError::unprocessable(format!("the JSON does not fit: {e}")))
    }
}

/// The path of the first string (or key) holding NUL or another control character other than
/// tab and line breaks: nothing we store needs them, and PostgreSQL refuses NUL in text.
fn field_with_control(value: &serde_json::Value, path: &str) -> Option<String> {
    let bad = |s: &str| crate::http::has_forbidden_control(s, crate::http::Controls::LineBreaks);
    let name = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) if bad(s) => Some(if path.is_empty() {
            "body".into()
        } else {
            path.to_owned()
        }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            field_with_control(
                item,
                &format!("{}[{i}]", if path.is_empty() { "body" } else { path }),
            )
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            if bad(key) {
                Some(name("?"))
            } else {
                field_with_control(item, &name(key))
            }
        }),
        _ => None,
    }
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
