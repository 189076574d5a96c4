//! HTML pages: the error page type and the askama templates shared by the login flow.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::store::StoreError;

/// An error shown to a person as a page. Internal causes are logged, never shown.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
    cause: Option<String>,
}

impl PageError {
    pub fn bad_request(title: &str, message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            title: title.into(),
            message: message.into(),
            cause: None,
        }
    }

    pub fn forbidden(title: &str, message: &str) -> PageError {
        PageError {
            status: StatusCode::FORBIDDEN,
            title: title.into(),
            message: message.into(),
            cause: None,
        }
    }

    pub fn too_many_requests(title: &str, message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::TOO_MANY_REQUESTS,
            ..PageError::bad_request(title, message)
        }
    }

    /// Too many sign-ins started from one address (each stores rows before anyone signs in).
    pub fn too_many_starts() -> PageError {
        PageError::too_many_requests(
            "Too many sign-ins from your network",
            "Too many sign-ins were started from your network in the last few minutes. Please wait a few minutes and try again.",
        )
    }

    pub fn not_found() -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            title: "Page not found".into(),
            message: "There is nothing at this address.".into(),
            cause: None,
        }
    }

    /// A form whose CSRF token does not match this browser's (an old page, or another site's).
    pub fn form_expired() -> PageError {
        PageError::bad_request(
            "This form had expired",
            "Go back, reload the page and try again.",
        )
    }

    pub fn expired_request() -> PageError {
        PageError::bad_request(
            "This sign-in has expired",
            "Return to the application you were using and start signing in again.",
        )
    }

    pub fn already_answered() -> PageError {
        PageError::bad_request(
            "This sign-in was already completed",
            "Return to the application you were using; if you are not signed in there, start again.",
        )
    }

    pub fn server_error(cause: impl std::fmt::Display) -> PageError {
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Something went wrong".into(),
            message: "We could not complete your request. Please try again in a moment.".into(),
            cause: Some(cause.to_string()),
        }
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> PageError {
        PageError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: "Sign-in is temporarily unavailable".into(),
            message: "Please try again in a few minutes.".into(),
            cause: Some(cause.to_string()),
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
    title: &'a str,
    message: &'a str,
    /// Shown on our own failures, so the help desk can find the request in the logs.
    reference: Option<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let reference = self
            .status
            .is_server_error()
            .then(crate::http::current_request_id)
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
                .insert(crate::http::ErrorCause(cause));
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
                .insert(crate::http::ErrorCause(format!(
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
            .map_err(|e| PageError::bad_request("Invalid form", e))
    }
}

/// A page's query string, with the protocol's rules; `title` heads the error page.
pub fn page_query(raw: Option<String>, title: &str) -> Result<crate::http::Params, PageError> {
    crate::http::Params::parse(raw.unwrap_or_default().as_bytes())
        .map_err(|e| PageError::bad_request(title, e.to_string()))
}
