//! The scopes we know, and what each means to a person.

/// `roles` releases the roles and groups claims; `api` lets an access token call /api/v1.
pub const SUPPORTED_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "roles",
    "offline_access",
    "api",
];

/// The user claims we can release, by scope or one by one through the claims parameter.
pub const SUPPORTED_CLAIMS: [&str; 9] = [
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "updated_at",
    "email",
    "email_verified",
    "roles",
    "groups",
];

/// Claims asked for one by one (OIDC Core §5.5), limited to the ones we know.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClaimsRequest {
    #[serde(default)]
    pub userinfo: Vec<String>,
    #[serde(default)]
    pub id_token: Vec<String>,
}

impl ClaimsRequest {
    /// Parses the claims parameter: a JSON object with optional `userinfo` and `id_token` members,
    /// each naming claims (with `null` or `{"essential": …}`). Unknown claims are ignored.
    pub fn parse(raw: &str) -> Result<ClaimsRequest, &'static str> {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|_| "claims must be a JSON object")?;
        let object = value.as_object().ok_or("claims must be a JSON object")?;
        let names = |member: &str| -> Result<Vec<String>, &'static str> {
            match object.get(member) {
                None | Some(serde_json::Value::Null) => Ok(Vec::new()),
                Some(serde_json::Value::Object(claims)) => Ok(claims
                    .keys()
                    .filter(|k| SUPPORTED_CLAIMS.contains(&k.as_str()))
                    .cloned()
                    .collect()),
                Some(_) => Err("claims members userinfo and id_token must be objects"),
            }
        };
        Ok(ClaimsRequest {
            userinfo: names("userinfo")?,
            id_token: names("id_token")?,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads what was stored with a grant; anything unreadable counts as no individual claims.
    pub fn from_json(raw: &str) -> ClaimsRequest {
        serde_json::from_str(raw).unwrap_or_default()
    }
}

/// Plain-language text for the consent page.
pub fn describe(scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some("Confirm who you are (your account identifier)"),
        "profile" => Some("Your name and username"),
        "email" => Some("Your e-mail address"),
        "roles" => Some("Your roles and groups at the college"),
        "offline_access" => Some("Stay connected to your account when you are not using the app"),
        "api" => {
            Some("Manage your account for you (and the directory, if you are an administrator)")
        }
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
