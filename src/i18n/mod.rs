//! Every string a person sees comes from the Fluent catalogs in `locales/<language>/main.ftl`,
//! compiled into the binary: adding a language is adding its folder and file.
//!
//! The language of a request is chosen in this order: the one the person picked with the switcher
//! (a cookie), the `ui_locales` of the authorization request in progress, the account's own
//! preference once signed in, the browser's `Accept-Language` (every `es-*` is `es`), then English.
//! The page middleware sets what it can see (cookie, header); handlers add what they learn
//! (`prefer_request`, `prefer_account`) before rendering.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would reach pages and e-mails as
        // invisible characters.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages we have catalogs for, English first.
static LANGUAGES: LazyLock<Vec<LanguageIdentifier>> = LazyLock::new(|| {
    let mut all: Vec<LanguageIdentifier> = LOCALES.locales().cloned().collect();
    all.sort_by_key(|l| (l.language.as_str() != "en", l.to_string()));
    all
});

/// A language we have a catalog for (an index into the list, so it is `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lang(usize);

impl Lang {
    pub const ENGLISH: Lang = Lang(0);

    /// Every language, English first.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..LANGUAGES.len()).map(Lang)
    }

    fn id(self) -> &'static LanguageIdentifier {
        // The index always comes from `all` or `from_tag`, so it is in range; English otherwise.
        LANGUAGES
            .get(self.0)
            .or_else(|| LANGUAGES.first())
            .unwrap_or(&FALLBACK)
    }

    /// `en`, `es`: the tag of `<html lang>`, the cookie and the account's preference.
    pub fn tag(self) -> String {
        self.id().to_string()
    }

    /// A language by its tag or any regional form of it (`es-US`, `es-419`, `ES`).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let requested: LanguageIdentifier = tag.trim().parse().ok()?;
        LANGUAGES
            .iter()
            .position(|l| l.language == requested.language)
            .map(Lang)
    }

    /// The first language of an `Accept-Language` header (or a space-separated `ui_locales`
    /// list) we have, in the order the person prefers.
    pub fn from_preferences(header: &str) -> Option<Lang> {
        // fluent-langneg reads the tags but keeps them in written order: weigh them by `q`
        // (RFC 9110 §12.5.4; a stable sort keeps the written order among equals).
        let mut weighed: Vec<(u16, &str)> = header
            .split([',', ' '])
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1000), |q| {
                        q.trim().parse::<f32>().ok().map(|q| (q * 1000.0) as u16)
                    })?;
                (!tag.is_empty() && q > 0).then_some((q, tag))
            })
            .collect();
        weighed.sort_by_key(|w| std::cmp::Reverse(w.0));
        weighed.iter().find_map(|(_, tag)| {
            fluent_langneg::accepted_languages::parse(tag)
                .first()
                .and_then(|l| Lang::from_tag(&l.to_string()))
        })
    }

    /// The text of `key` in this language (English where this catalog lacks it; the key itself
    /// when no catalog has it, which the catalog tests refuse).
    pub fn text(self, key: &str) -> String {
        LOCALES
            .try_lookup(self.id(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The text of `key`, if a catalog has it.
    pub fn try_text(self, key: &str) -> Option<String> {
        LOCALES.try_lookup(self.id(), key)
    }

    /// The text of `key` with its arguments (`{ $name }` in the catalog).
    pub fn text_with(self, key: &str, args: &[(&str, Arg)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| (Cow::Owned((*name).to_owned()), value.to_fluent()))
            .collect();
        LOCALES
            .try_lookup_with_args(self.id(), key, &args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The language's own name for itself (for the switcher).
    pub fn own_name(self) -> String {
        self.text("language-name")
    }
}

static FALLBACK: LazyLock<LanguageIdentifier> = LazyLock::new(|| "en".parse().unwrap_or_default());

/// An argument of a message: text or a number (numbers choose plural forms).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl Arg {
    fn to_fluent(&self) -> FluentValue<'static> {
        match self {
            Arg::Text(text) => FluentValue::from(text.clone()),
            Arg::Number(n) => FluentValue::from(*n),
        }
    }
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Number(n)
    }
}

/// A message to show: a catalog key and its arguments, translated when it is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

impl Message {
    pub const fn new(key: &'static str) -> Message {
        Message {
            key,
            args: Vec::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Message {
        self.args.push((name, value.into()));
        self
    }

    pub fn in_lang(&self, lang: Lang) -> String {
        lang.text_with(self.key, &self.args)
    }
}

/// In English: for logs, API answers and the command line.
impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_lang(Lang::ENGLISH))
    }
}

impl From<&String> for Arg {
    fn from(text: &String) -> Arg {
        Arg::Text(text.clone())
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<&i64> for Arg {
    fn from(n: &i64) -> Arg {
        Arg::Number(*n)
    }
}

impl From<i32> for Arg {
    fn from(n: i32) -> Arg {
        Arg::Number(n.into())
    }
}

impl From<&usize> for Arg {
    fn from(n: &usize) -> Arg {
        Arg::from(*n)
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// What is known about the language of the request being served.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// Picked with the switcher.
    pub cookie: Option<Lang>,
    /// `ui_locales` of the authorization request in progress.
    pub request: Option<Lang>,
    /// The signed-in account's preference.
    pub account: Option<Lang>,
    /// From `Accept-Language`.
    pub browser: Option<Lang>,
}

impl Choice {
    pub fn lang(&self) -> Lang {
        self.cookie
            .or(self.request)
            .or(self.account)
            .or(self.browser)
            .unwrap_or(Lang::ENGLISH)
    }
}

tokio::task_local! {
    static CHOICE: RefCell<Choice>;
}

/// Serves `future` with `choice` as its language choice (the page middleware does this).
pub async fn scope<F: Future>(choice: Choice, future: F) -> F::Output {
    CHOICE.scope(RefCell::new(choice), future).await
}

/// The language of the request being served (English outside a request).
pub fn current() -> Lang {
    CHOICE
        .try_with(|c| c.borrow().lang())
        .unwrap_or(Lang::ENGLISH)
}

/// The authorization request in progress asks for these languages (`ui_locales`).
pub fn prefer_request(ui_locales: Option<&str>) {
    let lang = ui_locales.and_then(Lang::from_preferences);
    let _ = CHOICE.try_with(|c| c.borrow_mut().request = lang);
}

/// The signed-in account prefers this language.
pub fn prefer_account(locale: Option<&str>) {
    let lang = locale.and_then(Lang::from_tag);
    let _ = CHOICE.try_with(|c| c.borrow_mut().account = lang);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es() -> Lang {
        Lang::from_tag("es").expect("a Spanish catalog")
    }

    #[test]
    fn every_spanish_tag_is_spanish_and_unknown_ones_are_nothing() {
        for tag in ["es", "es-US", "es-419", "es-MX", "ES", "es-es"] {
            assert_eq!(Lang::from_tag(tag), Some(es()), "{tag}");
        }
        assert_eq!(Lang::from_tag("en-GB"), Some(Lang::ENGLISH));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::from_tag("not a tag!"), None);
        assert_eq!(Lang::all().next(), Some(Lang::ENGLISH));
    }

    #[test]
    fn preferences_are_read_in_the_order_of_their_quality() {
        assert_eq!(
            Lang::from_preferences("fr-CA, es-US;q=0.9, en;q=0.8"),
            Some(es())
        );
        assert_eq!(Lang::from_preferences("en;q=0.5, es-MX"), Some(es()));
        assert_eq!(Lang::from_preferences("de, fr"), None);
        assert_eq!(
            Lang::from_preferences("es-419 en"),
            Some(es()),
            "ui_locales is space-separated"
        );
        assert_eq!(Lang::from_preferences(""), None);
        assert_eq!(
            Lang::from_preferences("es;q=0, en;q=0.1"),
            Some(Lang::ENGLISH),
            "q=0 is refusal"
        );
        assert_eq!(Lang::from_preferences("*"), None);
    }

    #[test]
    fn the_choice_follows_its_order() {
        let mut choice = Choice {
            browser: Some(es()),
            ..Choice::default()
        };
        assert_eq!(choice.lang(), es());
        choice.account = Some(Lang::ENGLISH);
        assert_eq!(choice.lang(), Lang::ENGLISH, "the account over the browser");
        choice.request = Some(es());
        assert_eq!(choice.lang(), es(), "ui_locales over the account");
        choice.cookie = Some(Lang::ENGLISH);
        assert_eq!(choice.lang(), Lang::ENGLISH, "the switcher over everything");
    }

    #[test]
    fn messages_are_translated_with_their_arguments() {
        assert_eq!(Lang::ENGLISH.own_name(), "English");
        assert_eq!(es().own_name(), "Español");
        assert_eq!(Lang::ENGLISH.text("no-such-key"), "no-such-key");
    }
}
