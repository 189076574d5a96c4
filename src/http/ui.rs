//! What every page's template needs besides its own fields: the language and its texts, the
//! language switcher, the college's branding and the fingerprinted asset URLs. The page middleware
//! sets it up per request; templates read it through their `ui` field.

use std::cell::RefCell;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;

use super::assets::Assets;
use crate::config::Branding;
use crate::i18n::{self, Arg, Choice, Lang, Message};
use crate::state::AppState;

/// The switcher's cookie: the language a person picked.
pub const LANG_COOKIE: &str = "hccc_sso_lang";

tokio::task_local! {
    static PAGE: PageRequest;
    /// What handlers add while serving the page.
    static EXTRAS: RefCell<Extras>;
}

#[derive(Default)]
struct Extras {
    /// Set by the admin pages' extractor: who is signed in, for the bar with the sign-out button.
    admin_bar: Option<AdminBar>,
    /// Where the language switcher comes back to, when not this address (a page answering a
    /// form post names the address that shows it again).
    back: Option<String>,
}

/// "Signed in as … · Sign out" on every admin page (they are used on shared computers).
#[derive(Clone)]
pub struct AdminBar {
    pub name: String,
    pub csrf_token: String,
}

/// The admin pages' extractor says who is signed in.
pub fn set_admin_bar(bar: AdminBar) {
    let _ = EXTRAS.try_with(|e| e.borrow_mut().admin_bar = Some(bar));
}

/// The language switcher of this page comes back to `path` (a local path and query).
pub fn switch_back_to(path: String) {
    let _ = EXTRAS.try_with(|e| e.borrow_mut().back = Some(path));
}

/// What the middleware knows of the page request being served.
#[derive(Clone)]
struct PageRequest {
    /// The path and query, for the switcher to come back to.
    path: String,
    branding: Arc<Branding>,
    assets: Arc<Assets>,
}

/// Sets up the language choice and page context of every page request.
pub async fn page_context(
    State(app): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let choice = Choice {
        cookie: super::cookie(request.headers(), LANG_COOKIE).and_then(|tag| Lang::from_tag(&tag)),
        browser: request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_preferences),
        ..Choice::default()
    };
    let page = PageRequest {
        path: request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        branding: app.branding.clone(),
        assets: app.assets.clone(),
    };
    let serve = i18n::scope(choice, next.run(request));
    let mut response = PAGE
        .scope(page, EXTRAS.scope(RefCell::default(), serve))
        .await;
    // The same address answers in several languages.
    response.headers_mut().append(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}

/// One entry of the language switcher.
pub struct LanguageOption {
    pub tag: String,
    pub name: String,
    pub href: String,
    pub current: bool,
}

/// The `ui` field of every page template.
#[derive(Clone)]
pub struct Ui {
    pub lang: Lang,
    path: String,
    branding: Arc<Branding>,
    assets: Option<Arc<Assets>>,
}

impl Ui {
    /// The page context of the request being served (English and no branding outside one).
    pub fn current() -> Ui {
        let page = PAGE.try_with(Clone::clone).ok();
        Ui {
            lang: i18n::current(),
            path: page
                .as_ref()
                .map_or_else(|| "/".to_owned(), |p| p.path.clone()),
            assets: page.as_ref().map(|p| p.assets.clone()),
            branding: page.map(|p| p.branding).unwrap_or_default(),
        }
    }

    /// The text of `key`.
    pub fn t(&self, key: &str) -> String {
        self.lang.text(key)
    }

    /// The text of `key` with one argument.
    pub fn t1(&self, key: &str, name: &str, value: impl Into<Arg>) -> String {
        self.lang.text_with(key, &[(name, value.into())])
    }

    /// The text of `key` with two arguments.
    pub fn t2(
        &self,
        key: &str,
        n1: &str,
        v1: impl Into<Arg>,
        n2: &str,
        v2: impl Into<Arg>,
    ) -> String {
        self.lang
            .text_with(key, &[(n1, v1.into()), (n2, v2.into())])
    }

    /// A role's name (`role-admin` …).
    pub fn role(&self, role: &str) -> String {
        self.t(&format!("role-{role}"))
    }

    /// A form field's name, for the list of problems (`field-email` …).
    pub fn field(&self, field: &str) -> String {
        self.t(&format!("field-{field}"))
    }

    /// A recorded field's name in words where the catalog has it, else as recorded.
    pub fn field_or_raw(&self, field: &str) -> String {
        self.lang
            .try_text(&format!("field-{field}"))
            .unwrap_or_else(|| field.to_owned())
    }

    /// A message chosen by the code, in this page's language.
    pub fn m(&self, message: &Message) -> String {
        message.in_lang(self.lang)
    }

    pub fn lang_tag(&self) -> String {
        self.lang.tag()
    }

    /// Whether this page is `section` or under it (the navigation marks it `aria-current`).
    pub fn in_section(&self, section: &str) -> bool {
        let path = self.path.split('?').next().unwrap_or_default();
        path == section || path.starts_with(&format!("{section}/"))
    }

    /// The signed-in admin, on admin pages.
    pub fn admin_bar(&self) -> Option<AdminBar> {
        EXTRAS
            .try_with(|e| e.borrow().admin_bar.clone())
            .ok()
            .flatten()
    }

    /// Every language, each named in itself, linking to the switcher.
    pub fn languages(&self) -> Vec<LanguageOption> {
        let back = EXTRAS
            .try_with(|e| e.borrow().back.clone())
            .ok()
            .flatten()
            .unwrap_or_else(|| self.path.clone());
        let back: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        Lang::all()
            .map(|lang| LanguageOption {
                tag: lang.tag(),
                name: lang.own_name(),
                href: format!("/language?set={}&next={back}", lang.tag()),
                current: lang == self.lang,
            })
            .collect()
    }

    pub fn college(&self) -> String {
        self.branding
            .college_name
            .clone()
            .unwrap_or_else(|| self.t("college-name"))
    }

    pub fn help_text(&self) -> String {
        self.branding
            .help_text
            .clone()
            .unwrap_or_else(|| self.t("footer-help"))
    }

    pub fn help_url(&self) -> Option<String> {
        self.branding.help_url.clone()
    }

    /// Whether the branding folder has this file (its logo, its own stylesheet).
    pub fn has_asset(&self, path: &str) -> bool {
        self.assets.as_ref().is_some_and(|a| a.contains(path))
    }

    /// The fingerprinted URL of a static file (cached for a year).
    pub fn asset(&self, path: &str) -> String {
        match &self.assets {
            Some(assets) => assets.url(path),
            None => format!("/static/{path}"),
        }
    }
}
