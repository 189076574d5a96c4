//! The API's errors: each an RFC 9457 problem+json answer, mapped once from the errors below.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::directory::{DirectoryError, FieldError};
use crate::clients::ClientError;
use crate::store::StoreError;

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

    /// The same error naming the fields that failed validation.
    pub(super) fn with_errors(self, errors: Vec<FieldError>) -> ApiError {
        ApiError { errors, ..self }
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

    pub(super) fn unauthorized(detail: &str, bearer_error: Option<&'static str>) -> ApiError {
        ApiError {
            bearer_error,
            ..ApiError::new(StatusCode::UNAUTHORIZED, detail)
        }
    }

    pub(super) fn internal(status: StatusCode, cause: impl std::fmt::Display) -> ApiError {
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
