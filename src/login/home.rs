//! The home page: who is signed in here, with a sign-out button.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tower_sessions::Session;

use crate::http::page::{PageError, render};
use crate::sessions as session;
use crate::sessions::browser::BrowserKey;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    csrf_token: String,
    user_name: Option<String>,
}

pub async fn get_home(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
) -> Result<Response, PageError> {
    let login = session::current_login(&app, &session).await?;
    let page = HomePage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        user_name: login.map(|(_, account)| account.display_name()),
    };
    Ok(render(StatusCode::OK, &page))
}
