//! The language switcher and the account's own preference.
//!
//! The switcher is a link on every page: it remembers the choice for this browser in a cookie and
//! goes back to the page it was picked on. It writes nothing else, so a link from another site
//! changes no account. The account's preference (used where no cookie is set, released as the
//! `locale` claim, and for e-mails) is a form on the home page.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::{local_path, sign_in_first};
use crate::accounts::directory::validate_locale;
use crate::domain::protocol::paths;
use crate::http::page::{PageError, page_query};
use crate::http::ui::LANG_COOKIE;
use crate::i18n::Lang;
use crate::sessions::{self as session, CsrfForm};
use crate::state::AppState;

/// `GET /language?set=es&next=/login?request=…`
pub async fn get_language(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = page_query(query, "error-invalid-address-title")?;
    let back = local_path(query.get("next")).unwrap_or_else(|| paths::HOME.into());
    let mut response = Redirect::to(&back).into_response();
    if let Some(lang) = query.get("set").and_then(Lang::from_tag) {
        remember(&app, &mut response, lang);
    }
    Ok(response)
}

/// `POST /account/language`: the signed-in person's preference, for this browser too.
pub async fn post_account_language(
    State(app): State<AppState>,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let CsrfForm { form, session, .. } = csrf;
    let Some((_, account)) = session::current_login(&app, &session).await? else {
        return Ok(sign_in_first(paths::HOME));
    };
    let chosen = validate_locale(form.get("locale")).map_err(PageError::invalid_form)?;
    let mut after = account.clone();
    after.locale = chosen.clone();
    if after.locale != account.locale {
        app.store
            .update_account(&account, &after, app.clock.now())
            .await?;
    }
    let back = if form.get("from") == Some("account") {
        "/account?done=language"
    } else {
        "/?done=language"
    };
    let mut response = Redirect::to(back).into_response();
    if let Some(lang) = chosen.as_deref().and_then(Lang::from_tag) {
        remember(&app, &mut response, lang);
    }
    Ok(response)
}

/// Sets the switcher's cookie for a year.
fn remember(app: &AppState, response: &mut Response, lang: Lang) {
    let secure = if app.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        lang.tag()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
