//! The scopes we know, and what each means to a person.

pub const SUPPORTED_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Plain-language text for the consent page.
pub fn describe(scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some("Confirm who you are (your account identifier)"),
        "profile" => Some("Your name and username"),
        "email" => Some("Your e-mail address"),
        "offline_access" => Some("Stay connected to your account when you are not using the app"),
        _ => None,
    }
}

/// Keeps the known scopes of a space-separated list, in a stable order, without repeats.
/// Unknown scopes are dropped (RFC 6749 §3.3 lets the server grant less than asked).
pub fn normalize(requested: &str) -> Vec<String> {
    SUPPORTED_SCOPES
        .iter()
        .filter(|known| requested.split(' ').any(|s| s == **known))
        .map(|s| s.to_string())
        .collect()
}

/// Whether `granted` (space-separated) covers every scope in `wanted`.
pub fn covers(granted: &str, wanted: &[String]) -> bool {
    wanted.iter().all(|w| granted.split(' ').any(|g| g == w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_known_scopes_in_order() {
        assert_eq!(
            normalize("email bogus openid email"),
            vec!["openid", "email"]
        );
        assert!(normalize("").is_empty());
    }

    #[test]
    fn covers_checks_every_scope() {
        let wanted = vec!["openid".to_string(), "email".to_string()];
        assert!(covers("openid profile email", &wanted));
        assert!(!covers("openid profile", &wanted));
    }
}
