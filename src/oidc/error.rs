//! Protocol errors of the token and userinfo endpoints (RFC 6749 §5.2, RFC 6750 §3).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::keys::KeyError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
    /// A server-side cause, logged once and never rendered.
    cause: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    error_description: &'a str,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
            cause: None,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> OAuthError {
        Self::new("invalid_request", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> OAuthError {
        Self::new("invalid_client", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> OAuthError {
        Self::new("invalid_grant", d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> OAuthError {
        Self::new("unauthorized_client", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> OAuthError {
        Self::new("invalid_scope", d)
    }
    pub fn invalid_token(d: impl Into<String>) -> OAuthError {
        Self::new("invalid_token", d)
    }
    pub fn insufficient_scope(d: impl Into<String>) -> OAuthError {
        Self::new("insufficient_scope", d)
    }
    pub fn server_error(cause: impl std::fmt::Display) -> OAuthError {
        OAuthError {
            code: "server_error",
            description: "the server could not complete the request".into(),
            cause: Some(cause.to_string()),
        }
    }

    fn status(&self) -> StatusCode {
        match self.code {
            "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
            "insufficient_scope" => StatusCode::FORBIDDEN,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => OAuthError {
                code: "temporarily_unavailable",
                description: "the service is temporarily unavailable".into(),
                cause: Some(e.to_string()),
            },
            other => OAuthError::server_error(other),
        }
    }
}

impl From<KeyError> for OAuthError {
    fn from(e: KeyError) -> Self {
        OAuthError::server_error(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = self.code, cause = %cause, "request failed");
        }
        let status = self.status();
        let body = Body {
            error: self.code,
            error_description: &self.description,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.code == "invalid_client" {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"hccc-sso\""),
            );
        }
        response
    }
}

/// Errors at a protected resource (userinfo), rendered with `WWW-Authenticate: Bearer` (RFC 6750 §3).
#[derive(Debug)]
pub struct BearerError(pub OAuthError);

impl BearerError {
    /// No credentials at all: RFC 6750 §3.1 says to omit the error code.
    pub fn missing() -> BearerError {
        BearerError(OAuthError::new("", ""))
    }
}

impl From<OAuthError> for BearerError {
    fn from(e: OAuthError) -> Self {
        BearerError(e)
    }
}

impl From<StoreError> for BearerError {
    fn from(e: StoreError) -> Self {
        BearerError(e.into())
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.code.is_empty() {
            let mut response = StatusCode::UNAUTHORIZED.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"hccc-sso\""),
            );
            return response;
        }
        let challenge = format!(
            "Bearer realm=\"hccc-sso\", error=\"{}\", error_description=\"{}\"",
            e.code,
            e.description.replace(['"', '\\'], "'")
        );
        let mut response = e.into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
