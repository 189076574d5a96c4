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
    /// The `acr` the request chose (§5.5.1.1, `acr_values`): the first value it prefers that we
    /// offer. Stored with the grant so the ID token can say which one was met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// An `acr` claim asked for in the claims parameter (OIDC Core §5.5.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrClaimRequest {
    pub essential: bool,
    /// `values` (or the single `value`), in order of preference.
    pub values: Vec<String>,
}

/// The `acr` claim request of a claims parameter, if it names one with a value or values (in the
/// ID token's member, else userinfo's). A malformed parameter has none: `parse` refuses it.
pub fn acr_claim_request(raw: &str) -> Option<AcrClaimRequest> {
    let value: serde_json::Value = serde_json::from_str(raw).ok()?;
    let member = |name: &str| value.get(name)?.get("acr")?.as_object().cloned();
    let acr = member("id_token").or_else(|| member("userinfo"))?;
    let essential = acr
        .get("essential")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let values: Vec<String> = match (acr.get("values"), acr.get("value")) {
        (Some(serde_json::Value::Array(list)), _) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .take(16)
            .collect(),
        (_, Some(serde_json::Value::String(one))) => vec![one.clone()],
        _ => return None,
    };
    Some(AcrClaimRequest { essential, values })
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
            acr: None,
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
