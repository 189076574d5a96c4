//! Form and query parameters, parsed by the rules RFC 6749 §3.1 sets (each at most once, none
//! oversized, no control characters): pure parsing, no server state.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};

/// Longest value we accept for any single protocol parameter.
pub const MAX_PARAM_LEN: usize = 4096;

/// Form or query parameters with the checks RFC 6749 §3.1 asks for: each at most once, none oversized.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Params(HashMap<String, String>);

#[derive(Debug, PartialEq, Eq)]
pub enum ParamsError {
    Duplicate(String),
    TooLong(String),
    /// NUL and other control characters: PostgreSQL cannot store NUL, and no parameter needs them.
    ControlCharacter(String),
}

impl std::fmt::Display for ParamsError {
    /// In English, for OAuth and API answers (pages show `message()` in the person's language).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().in_lang(crate::i18n::Lang::ENGLISH))
    }
}

impl ParamsError {
    pub fn message(&self) -> crate::i18n::Message {
        use crate::i18n::Message;
        match self {
            ParamsError::Duplicate(name) => {
                Message::new("error-param-repeated").with("name", name.as_str())
            }
            ParamsError::TooLong(name) => Message::new("error-param-too-long")
                .with("name", name.as_str())
                .with("max", MAX_PARAM_LEN as i64),
            ParamsError::ControlCharacter(name) => {
                Message::new("error-param-control").with("name", name.as_str())
            }
        }
    }
}

/// Which characters a parameter value may hold besides printable text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controls {
    /// Protocol parameters (OAuth, OIDC): no control character at all (RFC 6749 Appendix A).
    None,
    /// Page forms, whose text areas hold one entry per line: tab, CR and LF only.
    LineBreaks,
}

/// A control character `controls` does not allow: C0, DEL and C1 (`char::is_control`).
pub fn has_forbidden_control(value: &str, controls: Controls) -> bool {
    value.chars().any(|c| {
        c.is_control() && !(controls == Controls::LineBreaks && matches!(c, '\t' | '\n' | '\r'))
    })
}

impl Params {
    /// Protocol parameters: no control characters.
    pub fn parse(encoded: &[u8]) -> Result<Params, ParamsError> {
        Self::parse_with(encoded, Controls::None)
    }

    /// Page forms: line breaks allowed in values.
    pub fn parse_form(encoded: &[u8]) -> Result<Params, ParamsError> {
        Self::parse_with(encoded, Controls::LineBreaks)
    }

    fn parse_with(encoded: &[u8], controls: Controls) -> Result<Params, ParamsError> {
        let mut map = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(encoded) {
            if value.len() > MAX_PARAM_LEN {
                return Err(ParamsError::TooLong(truncate(&name)));
            }
            if has_forbidden_control(&name, Controls::None)
                || has_forbidden_control(&value, controls)
            {
                return Err(ParamsError::ControlCharacter(printable(&name)));
            }
            // RFC 6749: parameters sent without a value are treated as omitted.
            if value.is_empty() {
                continue;
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(ParamsError::Duplicate(truncate(&name)));
            }
        }
        Ok(Params(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn insert(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    pub fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// The names that start with `prefix`, without it (a list's checkboxes: `select_<id>`).
    pub fn suffixes<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.keys().filter_map(move |k| k.strip_prefix(prefix))
    }
}

fn truncate(name: &str) -> String {
    printable(name)
}

/// A parameter name fit for an error message: at most 40 characters, controls replaced.
fn printable(name: &str) -> String {
    name.chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// True when the request body is declared as `application/x-www-form-urlencoded`.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads a form body for an extractor: declared as a form, within the body limit, parsed with the
/// RFC 6749 rules (each parameter once, none oversized) and `controls`.
pub async fn read_form<S: Send + Sync>(
    request: axum::extract::Request,
    state: &S,
    controls: Controls,
) -> Result<Params, crate::i18n::Message> {
    use crate::i18n::Message;
    if !is_form(request.headers()) {
        return Err(Message::new("error-form-content-type"));
    }
    let body = <Bytes as axum::extract::FromRequest<S>>::from_request(request, state)
        .await
        .map_err(|_| Message::new("error-form-unreadable"))?;
    Params::parse_with(&body, controls).map_err(|e| e.message())
}

/// Parses a protocol request's form body, checking its content type.
pub fn form_params(headers: &HeaderMap, body: &Bytes) -> Result<Params, String> {
    if !is_form(headers) {
        return Err("the request body must be application/x-www-form-urlencoded".into());
    }
    Params::parse_with(body, Controls::None).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_refuse_repeats_and_oversized_values_and_drop_empty_ones() {
        let p = Params::parse(b"a=1&b=&c=%20x").expect("parses");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some(" x"));
        assert_eq!(
            Params::parse(b"a=1&a=2").err(),
            Some(ParamsError::Duplicate("a".into()))
        );
        let long = format!("a={}", "x".repeat(MAX_PARAM_LEN + 1));
        assert_eq!(
            Params::parse(long.as_bytes()).err(),
            Some(ParamsError::TooLong("a".into()))
        );
    }

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_in_forms() {
        for raw in [
            "a=x%00y", "a=%01", "a=%7F", "a=%C2%85", "a%00b=1", "a=x%0Ay",
        ] {
            assert!(
                matches!(
                    Params::parse(raw.as_bytes()),
                    Err(ParamsError::ControlCharacter(_))
                ),
                "{raw}"
            );
        }
        for raw in ["a=x%00y", "a=%1B", "a%0Ab=1"] {
            assert!(
                matches!(
                    Params::parse_form(raw.as_bytes()),
                    Err(ParamsError::ControlCharacter(_))
                ),
                "{raw}"
            );
        }
        let form = Params::parse_form(b"uris=https%3A%2F%2Fa%2Fcb%0D%0Ahttps%3A%2F%2Fb%2Fcb%09")
            .expect("parses");
        assert_eq!(form.get("uris"), Some("https://a/cb\r\nhttps://b/cb\t"));
        assert_eq!(
            Params::parse(b"a%00b=1").err().map(|e| e.to_string()),
            Some("The parameter a?b contains a control character.".into())
        );
    }
}
