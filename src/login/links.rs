//! The pages e-mailed links open, and "Forgot your password?". A link's GET (or a mail
//! scanner's HEAD) only shows a form; the form's POST spends the link.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use tower_sessions::Session;

use super::{Onward, SignedIn, Visit, continue_after_sign_in, local_path};
use crate::accounts::links;
use crate::accounts::self_service::{self, SelfServiceError};
use crate::domain::FieldError;
use crate::domain::protocol::paths;
use crate::http::Device;
use crate::http::page::FormErrors;
use crate::http::page::{PageError, page_query, render};
use crate::i18n::Message;
use crate::oidc::authorize::{load_pending, load_pending_if};
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, CsrfForm};
use crate::state::AppState;
use crate::store::LinkPurpose;

/// The answer to any link we cannot honour, whatever the reason (no oracle for tokens).
fn link_invalid() -> PageError {
    PageError::bad_request("link-invalid-title", "link-invalid")
}

/// Whole minutes, rounded up, of a wait in seconds.
fn minutes(seconds: i64) -> i64 {
    (seconds + 59) / 60
}

/// Too many requests that send mail (429): when to try again, in the person's language.
pub fn mail_throttled(retry_after: i64) -> PageError {
    PageError::too_many_requests(
        "mail-throttled-title",
        Message::new("mail-throttled").with("minutes", minutes(retry_after)),
    )
}

fn page_error(e: SelfServiceError) -> PageError {
    match e {
        SelfServiceError::LinkInvalid => link_invalid(),
        SelfServiceError::AddressTaken => {
            PageError::bad_request("link-invalid-title", "confirm-address-taken")
        }
        SelfServiceError::Throttled { retry_after } => PageError::too_many_requests(
            "forgot-throttled-title",
            Message::new("forgot-throttled").with("minutes", minutes(retry_after)),
        ),
        SelfServiceError::Store(e) => e.into(),
        other => PageError::server_error(other),
    }
}

#[derive(Template)]
#[template(path = "link_password.html")]
struct LinkPasswordPage {
    csrf_token: String,
    /// `welcome` or `reset`: the catalog keys' prefix and the form's path.
    kind: &'static str,
    token: String,
    username: String,
    errors: Vec<FieldError>,
}

impl FormErrors for LinkPasswordPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl LinkPasswordPage {
    fn key(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.kind)
    }
}

fn kind_of(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::Invitation => "welcome",
        _ => "reset",
    }
}

async fn password_form(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    purpose: LinkPurpose,
    query: Option<String>,
) -> Result<Response, PageError> {
    let params = page_query(query, "link-invalid-title")?;
    let token = params.get("token").unwrap_or_default();
    let (_, account) = links::peek(app, purpose, token)
        .await?
        .ok_or_else(link_invalid)?;
    // The letter was in the account's language: so is the page it opens.
    crate::i18n::prefer_account(account.locale.as_deref());
    let page = LinkPasswordPage {
        csrf_token: session::csrf_token(app, session, browser).await?,
        kind: kind_of(purpose),
        token: token.to_owned(),
        username: account.username,
        errors: Vec::new(),
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn get_welcome(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    password_form(&app, &session, &browser, LinkPurpose::Invitation, query).await
}

pub async fn get_reset(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    password_form(&app, &session, &browser, LinkPurpose::PasswordReset, query).await
}

pub async fn post_welcome(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    set_password(&app, &device, csrf, LinkPurpose::Invitation).await
}

pub async fn post_reset(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    set_password(&app, &device, csrf, LinkPurpose::PasswordReset).await
}

/// Sets the password the link's form chose, then signs the person in here and continues the
/// app sign-in this browser started, if one is waiting.
async fn set_password(
    app: &AppState,
    device: &Device,
    csrf: CsrfForm,
    purpose: LinkPurpose,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = csrf;
    let token = form.get("token").unwrap_or_default();
    let password = form.get("new_password").unwrap_or_default();
    let confirm = form.get("confirm_password").unwrap_or_default();
    let outcome =
        self_service::set_password_from_link(app, purpose, token, password, confirm, &device.ip)
            .await;
    let account = match outcome {
        Ok(account) => account,
        Err(SelfServiceError::Invalid(errors)) => {
            let (_, account) = links::peek(app, purpose, token)
                .await?
                .ok_or_else(link_invalid)?;
            crate::i18n::prefer_account(account.locale.as_deref());
            let page = LinkPasswordPage {
                csrf_token: session::csrf_token(app, &session, &browser).await?,
                kind: kind_of(purpose),
                token: token.to_owned(),
                username: account.username,
                errors,
            };
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
        Err(e) => return Err(page_error(e)),
    };
    let now = app.clock.now();
    let pending = match app
        .store
        .latest_pending_of_browser(&browser.binding(), now)
        .await?
    {
        Some(id) => load_pending(app, &id.to_string(), &browser).await.ok(),
        None => None,
    };
    let method = match purpose {
        LinkPurpose::Invitation => "invitation",
        _ => "reset",
    };
    let signed_in = SignedIn {
        account,
        remember: false,
        now,
        method,
    };
    let visit = Visit {
        session: &session,
        browser: &browser,
        device,
    };
    let onward = Onward {
        pending,
        return_to: None,
    };
    continue_after_sign_in(app, &visit, signed_in, onward).await
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    csrf_token: String,
    request_id: Option<String>,
    return_to: Option<String>,
    login: String,
    error: Option<Message>,
    /// The answer: shown whether or not an account matched.
    sent: bool,
    minutes: i64,
}

impl ForgotPage {
    fn back_to_sign_in(&self) -> String {
        paths::with_request(paths::LOGIN, self.request_id.as_ref())
    }
}

async fn forgot_page(
    app: &AppState,
    session: &Session,
    browser: &BrowserKey,
    params: &crate::http::Params,
) -> Result<ForgotPage, PageError> {
    // The app sign-in this came from, kept so the person can go back to it.
    let request_id = load_pending_if(app, params.get("request"), browser)
        .await?
        .map(|pending| pending.id.to_string());
    Ok(ForgotPage {
        csrf_token: session::csrf_token(app, session, browser).await?,
        request_id,
        return_to: local_path(params.get("return_to")),
        login: String::new(),
        error: None,
        sent: false,
        minutes: (app.config.mail.reset_ttl + 59) / 60,
    })
}

pub async fn get_forgot(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = page_query(query, "error-invalid-address-title")?;
    let page = forgot_page(&app, &session, &browser, &params).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn post_forgot(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = csrf;
    let mut page = forgot_page(&app, &session, &browser, &form).await?;
    let login = form.get("login").unwrap_or_default().trim();
    if login.is_empty() || login.len() > crate::domain::MAX_EMAIL {
        page.login = login.chars().take(crate::domain::MAX_EMAIL).collect();
        page.error = Some(Message::new("forgot-missing"));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    self_service::request_reset(&app, login, &device.ip)
        .await
        .map_err(page_error)?;
    page.sent = true;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "confirm_address.html")]
struct ConfirmPage {
    csrf_token: String,
    token: String,
    address: String,
    done: bool,
}

pub async fn get_confirm(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = page_query(query, "link-invalid-title")?;
    let token = params.get("token").unwrap_or_default();
    let (_, address) = self_service::peek_confirmation(&app, token)
        .await
        .map_err(page_error)?;
    let page = ConfirmPage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        token: token.to_owned(),
        address,
        done: false,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn post_confirm(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm {
        form,
        session,
        browser,
    } = csrf;
    let token = form.get("token").unwrap_or_default();
    let account = self_service::confirm_address(&app, token, &device.ip)
        .await
        .map_err(page_error)?;
    let page = ConfirmPage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        token: String::new(),
        address: account.email,
        done: true,
    };
    Ok(render(StatusCode::OK, &page))
}
