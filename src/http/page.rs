//! HTML pages: the error page type and the askama templates shared by the login flow.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::domain::FieldError;
use crate::i18n::Message;
use crate::store::StoreError;

/// An error shown to a person as a page, in their language. Internal causes are logged, never
/// shown.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: Message,
    pub message: Message,
    cause: Option<String>,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: Message) -> PageError {
        PageError {
            status,
            title: Message::new(title),
            message,
            cause: None,
        }
    }

    /// A 400 page: `title` and `message` are catalog keys.
    pub fn bad_request(title: &'static str, message: &'static str) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, title, Message::new(message))
    }

    /// A 400 page whose message has arguments.
    pub fn bad_request_with(title: &'static str, message: Message) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, title, message)
    }

    pub fn forbidden(title: &'static str, message: &'static str) -> PageError {
        PageError::new(StatusCode::FORBIDDEN, title, Message::new(message))
    }

    pub fn too_many_requests(title: &'static str, message: Message) -> PageError {
        PageError::new(StatusCode::TOO_MANY_REQUESTS, title, message)
    }

    /// Too many sign-ins started from one address (each stores rows before anyone signs in).
    pub fn too_many_starts() -> PageError {
        PageError::too_many_requests(
            "error-too-many-starts-title",
            Message::new("error-too-many-starts"),
        )
    }

    pub fn not_found() -> PageError {
        PageError::new(
            StatusCode::NOT_FOUND,
            "error-not-found-title",
            Message::new("error-not-found"),
        )
    }

    /// A form that could not be read (its content type, a repeated or malformed field).
    pub fn invalid_form(problem: Message) -> PageError {
        PageError::bad_request_with("error-invalid-form-title", problem)
    }

    /// A form whose CSRF token does not match this browser's (an old page, or another site's).
    pub fn form_expired() -> PageError {
        PageError::bad_request("error-form-expired-title", "error-form-expired")
    }

    /// A step's page whose state this session no longer holds (taken, or too old).
    pub fn page_expired() -> PageError {
        PageError::bad_request("error-page-expired-title", "error-page-expired")
    }

    pub fn expired_request() -> PageError {
        PageError::bad_request("error-sign-in-expired-title", "error-sign-in-expired")
    }

    pub fn already_answered() -> PageError {
        PageError::bad_request("error-already-answered-title", "error-already-answered")
    }

    pub fn server_error(cause: impl std::fmt::Display) -> PageError {
        PageError {
            cause: Some(cause.to_string()),
            ..PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-server-title",
                Message::new("error-server"),
            )
        }
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> PageError {
        PageError {
            cause: Some(cause.to_string()),
            ..PageError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "error-unavailable-title",
                Message::new("error-unavailable"),
            )
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            PageError::unavailable(e)
        } else {
            PageError::server_error(e)
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a Message,
    message: &'a Message,
    /// Shown on our own failures, so the help desk can find the request in the logs.
    reference: Option<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let reference = self
            .status
            .is_server_error()
            .then(crate::telemetry::current_request_id)
            .flatten();
        let mut response = render(
            self.status,
            &ErrorPage {
                title: &self.title,
                message: &self.message,
                reference,
            },
        );
        if let Some(cause) = self.cause {
            response
                .extensions_mut()
                .insert(crate::telemetry::ErrorCause(cause));
        }
        response
    }
}

/// Renders a template as an HTML response; a render failure is logged and answered with a bare 500.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            let mut response =
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
            response
                .extensions_mut()
                .insert(crate::telemetry::ErrorCause(format!(
                    "template failed to render: {e}"
                )));
            response
        }
    }
}

/// OAuth 2.0 Form Post Response Mode: a form that submits itself to the client.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// A page's form body: refused with the error page. No control characters: page forms with
/// text areas (the admin's) read their bodies with line breaks allowed instead.
pub struct PageForm(pub crate::http::Params);

impl<S: Send + Sync> axum::extract::FromRequest<S> for PageForm {
    type Rejection = PageError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, PageError> {
        crate::http::read_form(request, state, crate::http::Controls::None)
            .await
            .map(PageForm)
            .map_err(PageError::invalid_form)
    }
}

/// A page whose form's fields can have problems: its template asks `self.error_for(field)` for
/// the problem to show beside a field and `self.invalid(field)` for its attributes.
pub trait FormErrors {
    fn errors(&self) -> &[FieldError];

    fn error_for(&self, field: &str) -> Option<&Message> {
        error_for(self.errors(), field)
    }

    fn invalid(&self, field: &str) -> String {
        invalid(self.errors(), field)
    }
}

/// The problem with one field of a form, to show beside it.
pub fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a Message> {
    errors.iter().find(|e| e.field == field).map(|e| &e.message)
}

/// ` aria-invalid="true" aria-describedby="<field>-error"` when the field has a problem, so a
/// screen reader reads the problem with the field. `field` is always one of our literals.
pub fn invalid(errors: &[FieldError], field: &str) -> String {
    if error_for(errors, field).is_some() {
        format!(r#" aria-invalid="true" aria-describedby="{field}-error""#)
    } else {
        String::new()
    }
}

/// A page's query string, with the protocol's rules; `title` (a catalog key) heads the error page.
pub fn page_query(
    raw: Option<String>,
    title: &'static str,
) -> Result<crate::http::Params, PageError> {
    crate::http::Params::parse(raw.unwrap_or_default().as_bytes())
        .map_err(|e| PageError::bad_request_with(title, e.message()))
}
