//! `/account/password`: the signed-in person changes their password, which ends every other
//! session and app signed in with the old one (this browser stays signed in).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tower_sessions::Session;

use super::{proof_of, refusal};
use crate::accounts::passwords;
use crate::accounts::self_service::SelfServiceError;
use crate::domain::FieldError;
use crate::http::Device;
use crate::http::page::FormErrors;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::login::person::{FormPage, Person, PersonForm};
use crate::sessions as session;
use crate::sessions::browser::BrowserKey;
use crate::state::AppState;
use crate::store::KeepGrants;

/// The password page, where its form is.
pub struct PasswordPage;

impl FormPage for PasswordPage {
    const PATH: &'static str = "/account/password";
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordView {
    csrf_token: String,
    user_name: String,
    errors: Vec<FieldError>,
    done: bool,
}

impl FormErrors for PasswordView {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

/// The page for this person, with its form's problems or the notice that it was changed.
async fn page(
    app: &AppState,
    (session, browser): (&Session, &BrowserKey),
    person: &Person,
    status: StatusCode,
    errors: Vec<FieldError>,
    done: bool,
) -> Result<Response, PageError> {
    let page = PasswordView {
        csrf_token: session::csrf_token(app, session, browser).await?,
        user_name: person.account.display_name(),
        errors,
        done,
    };
    Ok(render(status, &page))
}

pub async fn get_password(
    State(app): State<AppState>,
    person: Person,
    session: Session,
    browser: BrowserKey,
) -> Result<Response, PageError> {
    let form = (&session, &browser);
    page(&app, form, &person, StatusCode::OK, Vec::new(), false).await
}

pub async fn post_password(
    State(app): State<AppState>,
    device: Device,
    PersonForm { person, csrf, .. }: PersonForm<PasswordPage>,
) -> Result<Response, PageError> {
    let form = (&csrf.session, &csrf.browser);
    let new_password = csrf.form.get("new_password").unwrap_or_default();
    if csrf.form.get("confirm_password").unwrap_or_default() != new_password {
        let mismatch = FieldError::new("confirm_password", Message::new("password-mismatch"));
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return page(&app, form, &person, status, vec![mismatch], false).await;
    }
    // Checked like a sign-in, so guessing the current password is throttled the same way.
    let proof = proof_of(&csrf.form, &device);
    let keep = KeepGrants::OfSession(person.login.sid);
    let changed =
        passwords::change_own_password(&app, &person.account, &proof, new_password, keep).await;
    let (status, errors) = match changed {
        Ok(set) => {
            let version = set.credential_version;
            session::follow_credential_change(&app, &csrf.session, &person.login, version).await?;
            return page(&app, form, &person, StatusCode::OK, Vec::new(), true).await;
        }
        // The directory's rules name the field `password`: here it is the new one.
        Err(SelfServiceError::Invalid(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors
                .into_iter()
                .map(|e| FieldError::new("new_password", e.message))
                .collect(),
        ),
        Err(e) => refusal(e)?,
    };
    page(&app, form, &person, status, errors, false).await
}
