//! The signed-in person behind a page, as extractors: a visitor who is not signed in (or whose
//! session ended) is sent to sign in first, and comes back to the page.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::sign_in_first;
use crate::accounts::directory::Actor;
use crate::http::page::PageError;
use crate::sessions::{self as session, CsrfForm, LoginState};
use crate::state::AppState;
use crate::store::AccountRow;

/// The person signed in to this browser's session: the session's state and the account as it is
/// now. As an extractor (for pages shown by GET), a visitor who is not signed in signs in first
/// and comes back to the page's path (without its query, which only names a notice).
pub struct Person {
    pub login: LoginState,
    pub account: AccountRow,
}

impl Person {
    /// The person signed in to `session`, if anyone is (see `sessions::current_login`).
    pub async fn of(app: &AppState, session: &Session) -> Result<Option<Person>, PageError> {
        let login = session::current_login(app, session).await?;
        Ok(login.map(|(login, account)| Person { login, account }))
    }

    /// The person as the audit log names them.
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.account.account_id,
            username: self.account.username.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Person {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Person, Response> {
        let session = Session::from_request_parts(parts, app)
            .await
            .map_err(|(_, why)| {
                PageError::server_error(format!("session layer: {why}")).into_response()
            })?;
        match Person::of(app, &session).await {
            Ok(Some(person)) => Ok(person),
            Ok(None) => Err(sign_in_first(parts.uri.path())),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The page a person's form is on: where a visitor whose session ended comes back to after
/// signing in (the page, not the address the form posts to).
pub trait FormPage {
    const PATH: &'static str;
}

/// A posted form of a person's page: its CSRF token checked first (a stale form is refused as
/// one, signed in or not), then the person signed in, or the sign-in page first and back to
/// the form's page `P`.
pub struct PersonForm<P: FormPage> {
    pub person: Person,
    pub csrf: CsrfForm,
    page: PhantomData<P>,
}

impl<P: FormPage> FromRequest<AppState> for PersonForm<P> {
    type Rejection = Response;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, Response> {
        let csrf = CsrfForm::from_request(request, app)
            .await
            .map_err(IntoResponse::into_response)?;
        match Person::of(app, &csrf.session).await {
            Ok(Some(person)) => Ok(PersonForm {
                person,
                csrf,
                page: PhantomData,
            }),
            Ok(None) => Err(sign_in_first(P::PATH)),
            Err(e) => Err(e.into_response()),
        }
    }
}
