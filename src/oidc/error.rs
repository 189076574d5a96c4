//! Protocol errors of the OAuth endpoints (RFC 6749 §5.2, RFC 6750 §3, RFC 8628 §3.5, OIDC Core
//! §3.1.2.6): one code enum, rendered as `{"error","error_description"}` or, at the authorization
//! endpoint, sent to the client's redirect URI.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::keys::KeyError;
use crate::store::StoreError;
use crate::telemetry::ErrorCause;

/// Every error code we answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidToken,
    InsufficientScope,
    ServerError,
    TemporarilyUnavailable,
    /// RFC 8628 device polling.
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    /// The authorization endpoint's own.
    UnsupportedResponseType,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
        }
    }

    /// The status of a JSON error answer with this code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[derive(Debug)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// A server-side cause, logged once with the request and never rendered.
    cause: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    error_description: &'a str,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
            cause: None,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> OAuthError {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> OAuthError {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> OAuthError {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> OAuthError {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> OAuthError {
        Self::new(ErrorCode::InvalidScope, d)
    }
    pub fn invalid_token(d: impl Into<String>) -> OAuthError {
        Self::new(ErrorCode::InvalidToken, d)
    }
    pub fn insufficient_scope(d: impl Into<String>) -> OAuthError {
        Self::new(ErrorCode::InsufficientScope, d)
    }
    pub fn server_error(cause: impl std::fmt::Display) -> OAuthError {
        OAuthError {
            code: ErrorCode::ServerError,
            description: "the server could not complete the request".into(),
            cause: Some(cause.to_string()),
        }
    }
    pub fn unavailable(cause: impl std::fmt::Display) -> OAuthError {
        OAuthError {
            code: ErrorCode::TemporarilyUnavailable,
            description: "the service is temporarily unavailable".into(),
            cause: Some(cause.to_string()),
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            OAuthError::unavailable(e)
        } else {
            OAuthError::server_error(e)
        }
    }
}

impl From<KeyError> for OAuthError {
    fn from(e: KeyError) -> Self {
        OAuthError::server_error(e)
    }
}

impl From<josekit::JoseError> for OAuthError {
    fn from(e: josekit::JoseError) -> Self {
        OAuthError::server_error(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code.as_str(),
            error_description: &self.description,
        };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.code == ErrorCode::InvalidClient {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"hccc-sso\""),
            );
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ErrorCause(cause));
        }
        response
    }
}

/// Errors at a protected resource (userinfo), rendered with `WWW-Authenticate: Bearer` (RFC 6750 §3).
#[derive(Debug)]
pub enum BearerError {
    /// No credentials at all: RFC 6750 §3.1 says to omit the error code.
    Missing,
    Failed(OAuthError),
}

impl From<OAuthError> for BearerError {
    fn from(e: OAuthError) -> Self {
        BearerError::Failed(e)
    }
}

impl From<StoreError> for BearerError {
    fn from(e: StoreError) -> Self {
        BearerError::Failed(e.into())
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let e = match self {
            BearerError::Missing => {
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"hccc-sso\""),
                );
                return response;
            }
            BearerError::Failed(e) => e,
        };
        let challenge = format!(
            "Bearer realm=\"hccc-sso\", error=\"{}\", error_description=\"{}\"",
            e.code.as_str(),
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
