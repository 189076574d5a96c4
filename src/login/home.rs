//! The home page: who is signed in here, their language, and a sign-out button.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use tower_sessions::Session;

use crate::http::page::{PageError, page_query, render};
use crate::sessions as session;
use crate::sessions::browser::BrowserKey;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    csrf_token: String,
    user_name: Option<String>,
    /// The account's language tag, empty when none is chosen.
    locale: String,
    /// A catalog key, after a change.
    notice: Option<&'static str>,
}

pub async fn get_home(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = page_query(query, "error-invalid-address-title")?;
    let login = session::current_login(&app, &session).await?;
    let page = HomePage {
        csrf_token: session::csrf_token(&app, &session, &browser).await?,
        locale: login
            .as_ref()
            .and_then(|(_, account)| account.locale.clone())
            .unwrap_or_default(),
        user_name: login.map(|(_, account)| account.display_name()),
        notice: (query.get("done") == Some("language")).then_some("home-language-saved"),
    };
    Ok(render(StatusCode::OK, &page))
}
