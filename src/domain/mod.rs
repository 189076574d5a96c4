//! Validation of values that come from outside: pure functions, no I/O.

pub mod acr;
pub mod protocol;
pub mod scopes;

pub use protocol::{AuthMethod, GrantType};
pub use scopes::{Scope, ScopeSet};

use crate::i18n::{Lang, Message};

/// A field that failed validation, named as the API names it. Its message is a catalog message:
/// pages show it in the person's language, the API and the CLI in English.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: Message,
}

impl FieldError {
    pub fn new(field: &str, message: Message) -> FieldError {
        FieldError {
            field: field.to_owned(),
            message,
        }
    }

    /// The message in English (API answers, the CLI, the audit log).
    pub fn english(&self) -> String {
        self.message.in_lang(Lang::ENGLISH)
    }
}

impl serde::Serialize for FieldError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("FieldError", 2)?;
        out.serialize_field("field", &self.field)?;
        out.serialize_field("message", &self.english())?;
        out.end()
    }
}

/// A value shown back in a message: at most 80 characters, controls replaced.
pub(crate) fn shown(value: &str) -> String {
    value
        .chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

use url::Url;

pub const MAX_USERNAME: usize = 64;
pub const MAX_EMAIL: usize = 254;
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 256;

/// Letters, digits, `.`, `_` and `-`, starting with a letter or digit, 2 to 64 characters.
pub fn validate_username(raw: &str) -> Result<String, Message> {
    let name = raw.trim();
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.len() < 2 || name.len() > MAX_USERNAME || !valid_chars || !starts_well {
        return Err(Message::new("invalid-username").with("max", MAX_USERNAME as i64));
    }
    Ok(name.to_string())
}

/// The addresses colleges hand out: an ASCII local part of letters, digits and `. _ % + - '`
/// (no leading, trailing or doubled dot) and a dotted domain of letters, digits and hyphens. Quoted
/// local parts, comments and markup (`<>()"`, spaces, `\`) are refused: no college address has
/// them, and the address is released to every app as the `email` claim.
pub fn validate_email(raw: &str) -> Result<String, Message> {
    let email = raw.trim();
    let bad = || Err(Message::new("invalid-email").with("value", shown(email)));
    if email.len() > MAX_EMAIL {
        return bad();
    }
    let Some((local, domain)) = email.split_once('@') else {
        return bad();
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\''));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    if !local_ok || !domain_ok {
        return bad();
    }
    Ok(email.to_string())
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters (the same rule covers verifiers and S256
/// challenges).
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Text that is stored and shown (names of apps, URIs): no control characters at all.
pub fn has_control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// NIST SP 800-63B: length matters, composition rules do not; the password may not contain the username.
pub fn validate_password(password: &str, username: &str) -> Result<(), Message> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return Err(Message::new("invalid-password-short").with("min", MIN_PASSWORD as i64));
    }
    if length > MAX_PASSWORD {
        return Err(Message::new("invalid-password-long").with("max", MAX_PASSWORD as i64));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(Message::new("invalid-password-username"));
    }
    if is_common_password(password) {
        return Err(Message::new("invalid-password-common"));
    }
    Ok(())
}

/// The passwords of at least 12 characters among the 20,000 most common in breaches (Django's
/// common-passwords list, after Royce Williams); shorter ones already fail the length rule.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn is_common_password(password: &str) -> bool {
    let candidate = password.trim().to_lowercase();
    COMMON_PASSWORDS.lines().any(|line| line == candidate)
}

/// The roles an account may hold; each is also a value of the `roles` claim.
pub const ROLES: [&str; 4] = ["admin", "staff", "faculty", "student"];
pub const MAX_GROUPS: usize = 100;
pub const MAX_GROUP_LEN: usize = 100;

/// The largest CSV file an account import takes. The upload route's body limit is sized from it
/// (`http::edge`), so the limit and the import's own check cannot drift apart.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

/// Known roles only, sorted, without repeats.
pub fn validate_roles(raw: &[String]) -> Result<Vec<String>, Message> {
    let mut roles = Vec::new();
    for role in raw {
        let role = role.trim().to_lowercase();
        if !ROLES.contains(&role.as_str()) {
            return Err(Message::new("invalid-role")
                .with("value", shown(&role))
                .with("roles", ROLES.join(", ")));
        }
        roles.push(role);
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Free-form group names: 1 to 100 printable characters without ';' (the CSV list separator),
/// at most 100 groups, kept in the order given without repeats.
pub fn validate_groups(raw: &[String]) -> Result<Vec<String>, Message> {
    if raw.len() > MAX_GROUPS {
        return Err(Message::new("invalid-groups-count").with("max", MAX_GROUPS as i64));
    }
    let mut groups: Vec<String> = Vec::new();
    for group in raw {
        let group = group.trim();
        if group.is_empty()
            || group.chars().count() > MAX_GROUP_LEN
            || group.chars().any(|c| c.is_control() || c == ';')
        {
            return Err(Message::new("invalid-group")
                .with("value", shown(group))
                .with("max", MAX_GROUP_LEN as i64));
        }
        if !groups.iter().any(|g| g == group) {
            groups.push(group.to_owned());
        }
    }
    Ok(groups)
}

/// A given or family name: at most 100 characters, no control characters; blank means none.
pub fn validate_name(raw: Option<&str>) -> Result<Option<String>, Message> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Message::new("invalid-name").with("max", 100));
    }
    Ok(Some(name.to_owned()))
}

/// A redirect URI a client may register: absolute, no fragment; https, or http only for loopback
/// hosts (RFC 8252 native apps and local development).
pub fn validate_redirect_uri(raw: &str) -> Result<String, Message> {
    let uri_problem = |key: &'static str| Message::new(key).with("value", shown(raw));
    if has_control(raw) {
        return Err(Message::new("invalid-uri-control"));
    }
    let url = Url::parse(raw).map_err(|_| uri_problem("invalid-uri-absolute"))?;
    if url.fragment().is_some() {
        return Err(uri_problem("invalid-uri-fragment"));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(uri_problem("invalid-uri-http")),
        scheme if scheme.contains('.') => {} // private-use scheme of a native app, e.g. edu.hccc.app
        _ => return Err(uri_problem("invalid-uri-https")),
    }
    if raw.len() > 2000 {
        return Err(Message::new("invalid-uri-long").with("max", 2000));
    }
    // Registered as given: matching at /authorize is exact string comparison.
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(validate_username(" jdoe.2 ").as_deref(), Ok("jdoe.2"));
        for bad in [
            "",
            "a",
            ".hidden",
            "has space",
            "ünï",
            &"x".repeat(65),
            "semi;colon",
        ] {
            assert!(validate_username(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn emails() {
        for good in [
            "jdoe@hccc.edu",
            "Jane.Doe+lms@students.hccc.edu",
            "o'brien@hccc.edu",
            "j_doe-2@mail.hccc-nj.edu",
        ] {
            assert_eq!(
                validate_email(good).as_deref(),
                Ok(good),
                "{good:?} refused"
            );
        }
        for bad in [
            "",
            "jdoe",
            "@hccc.edu",
            "jdoe@",
            "jdoe@hccc",
            "j doe@hccc.edu",
            "a@b@hccc.edu",
            "j@hccc..edu",
            "<script>alert(1)</script>@example.edu",
            "\"quoted\"@hccc.edu",
            "jdoe(comment)@hccc.edu",
            "j\\doe@hccc.edu",
            ".jdoe@hccc.edu",
            "jdoe.@hccc.edu",
            "jd..oe@hccc.edu",
            "jdoe@-hccc.edu",
            "jdoe@hccc.e",
            "jdoe@hccc.123",
            "jdoe@h\u{e9}ccc.edu",
            "jd\u{0}oe@hccc.edu",
            "jdoe@hccc.edu>",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords() {
        assert!(validate_password("correct horse battery", "jdoe").is_ok());
        assert!(validate_password("short", "jdoe").is_err());
        assert!(validate_password("my name is JDOE ok!", "jdoe").is_err());
        assert!(validate_password(&"x".repeat(300), "jdoe").is_err());
        assert!(validate_password("qwerty123456", "jdoe").is_err());
        assert!(validate_password("QWERTY123456", "jdoe").is_err());
        assert!(validate_password("qwerty1234567", "jdoe").is_ok());
    }

    #[test]
    fn roles_and_groups() {
        let raw = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            validate_roles(&raw(&["Student", "admin", "student"])),
            Ok(raw(&["admin", "student"]))
        );
        assert!(validate_roles(&raw(&["superuser"])).is_err());
        assert_eq!(
            validate_groups(&raw(&[" Class of 2027 ", "Nursing", "Nursing"])),
            Ok(raw(&["Class of 2027", "Nursing"]))
        );
        for bad in ["", "a;b", "tab\there", &"g".repeat(101)] {
            assert!(validate_groups(&raw(&[bad])).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn redirect_uris() {
        assert!(validate_redirect_uri("https://lms.hccc.edu/cb").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:8765/cb").is_ok());
        assert!(validate_redirect_uri("http://localhost/cb").is_ok());
        assert!(validate_redirect_uri("edu.hccc.app:/cb").is_ok());
        for bad in [
            "http://lms.hccc.edu/cb",
            "https://lms.hccc.edu/cb#x",
            "/relative",
            "javascript:alert(1)",
            "https://lms.hccc.edu/cb\u{0}",
            "https://lms.hccc.edu/c\nb",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad:?} accepted");
        }
    }
}
