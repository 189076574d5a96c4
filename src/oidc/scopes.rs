//! The scopes we know, what each means to a person, and claims asked for one by one.

use crate::domain::protocol::USER_CLAIMS;
pub use crate::domain::{Scope, ScopeSet};

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
                    .filter(|k| USER_CLAIMS.contains(&k.as_str()))
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
