//! The rules a client's settings follow: each change applied field by field, then the client
//! checked as a whole, every problem collected so one answer names them all.

use josekit::jwk::JwkSet;

use super::{ClientChange, ClientError};
use crate::domain::{AuthMethod, FieldError, GrantType, Scope, ScopeSet, validate_redirect_uri};
use crate::i18n::Message;
use crate::store::ClientRow;

/// Collects every problem of a change, so a form or an API call reports all of them at once.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: &str, message: Message) {
        self.0.push(FieldError::new(field, message));
    }

    fn finish(self) -> Result<(), ClientError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ClientError::Invalid(self.0))
        }
    }
}

/// https, or http on a loopback host: for server-to-server URIs (back-channel logout, JWKS).
fn validate_server_uri(raw: &str) -> Result<String, Message> {
    if crate::domain::has_control(raw) || raw.len() > 2000 {
        return Err(Message::new("invalid-uri-long").with("max", 2000_usize));
    }
    let shown = crate::domain::shown(raw);
    let url = url::Url::parse(raw)
        .map_err(|_| Message::new("invalid-uri-absolute").with("value", &shown))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(raw.to_owned()),
        "http" if loopback => Ok(raw.to_owned()),
        _ => Err(Message::new("invalid-uri-https").with("value", shown)),
    }
}

/// Checks a JWKS document holds public keys only.
fn validate_jwks(raw: &str) -> Result<String, Message> {
    if raw.len() > 64 * 1024 {
        return Err(Message::new("invalid-jwks-large"));
    }
    let set = JwkSet::from_bytes(raw.as_bytes()).map_err(|_| Message::new("invalid-jwks"))?;
    if set.keys().is_empty() {
        return Err(Message::new("invalid-jwks-empty"));
    }
    if set.keys().iter().any(|k| k.parameter("d").is_some()) {
        return Err(Message::new("invalid-jwks-private"));
    }
    Ok(raw.to_owned())
}

/// The rules that concern the client as a whole, as it would be stored.
fn check(client: &ClientRow, problems: &mut Problems) {
    let name = client.name.trim();
    if name.is_empty() || name.chars().count() > 200 || crate::domain::has_control(name) {
        problems.add(
            "name",
            Message::new("invalid-client-name").with("max", 200_usize),
        );
    }
    if client.grant_types.is_empty() {
        problems.add("grant_types", Message::new("invalid-grants-none"));
    }
    let method = client.token_endpoint_auth_method;
    if client.allows_grant(GrantType::AuthorizationCode) && client.redirect_uris.is_empty() {
        problems.add("redirect_uris", Message::new("invalid-redirect-none"));
    }
    if method == AuthMethod::None && client.allows_grant(GrantType::ClientCredentials) {
        problems.add("grant_types", Message::new("invalid-grants-public"));
    }
    if method == AuthMethod::PrivateKeyJwt
        && client.settings.jwks.is_none()
        && client.settings.jwks_uri.is_none()
    {
        problems.add(
            "token_endpoint_auth_method",
            Message::new("invalid-method-keys"),
        );
    }
    if !client.settings.api_roles.is_empty() && !client.allows_grant(GrantType::ClientCredentials) {
        problems.add("api_roles", Message::new("invalid-api-roles-grant"));
    }
    let signs_people_in = client.allows_grant(GrantType::AuthorizationCode)
        || client.allows_grant(GrantType::DeviceCode);
    if signs_people_in && !client.settings.allowed_scopes.contains(Scope::Openid) {
        problems.add("allowed_scopes", Message::new("invalid-scopes-openid"));
    }
    if !matches!(client.settings.id_token_alg.as_str(), "RS256" | "ES256") {
        problems.add("id_token_alg", Message::new("invalid-id-token-alg"));
    }
}

/// Applies a change, recording what does not parse as a problem of its field.
fn apply(client: &mut ClientRow, change: &ClientChange, problems: &mut Problems) {
    let mut uris = |field: &str, list: &[String]| -> Vec<String> {
        list.iter()
            .filter_map(|u| match validate_redirect_uri(u) {
                Ok(uri) => Some(uri),
                Err(e) => {
                    problems.add(field, e);
                    None
                }
            })
            .collect()
    };
    let redirect_uris = change
        .redirect_uris
        .as_ref()
        .map(|list| uris("redirect_uris", list));
    let post_logout = change
        .post_logout_redirect_uris
        .as_ref()
        .map(|list| uris("post_logout_redirect_uris", list));
    if let Some(list) = redirect_uris {
        client.redirect_uris = list;
    }
    if let Some(list) = post_logout {
        client.post_logout_redirect_uris = list;
    }
    if let Some(name) = &change.name {
        client.name = name.trim().to_owned();
    }
    if let Some(grants) = &change.grant_types {
        let mut parsed = Vec::new();
        for name in grants {
            match GrantType::from_name(name.trim()) {
                Some(grant) if !parsed.contains(&grant) => parsed.push(grant),
                Some(_) => {}
                None => problems.add(
                    "grant_types",
                    Message::new("invalid-grant")
                        .with("value", crate::domain::shown(name))
                        .with("grants", GrantType::names().join(", ")),
                ),
            }
        }
        client.grant_types = parsed;
    }
    if let Some(method) = &change.token_endpoint_auth_method {
        match AuthMethod::from_name(method.trim()) {
            Some(method) => client.token_endpoint_auth_method = method,
            None => problems.add(
                "token_endpoint_auth_method",
                Message::new("invalid-method")
                    .with("value", crate::domain::shown(method))
                    .with("methods", AuthMethod::names().join(", ")),
            ),
        }
    }
    if let Some(skip) = change.skip_consent {
        client.skip_consent = skip;
    }
    let s = &mut client.settings;
    if let Some(par) = change.require_par {
        s.require_par = par;
    }
    if let Some(mfa) = change.require_mfa {
        s.require_mfa = mfa;
    }
    let mut setting =
        |field: &str, value: &Option<String>, check: fn(&str) -> Result<String, Message>| {
            match value.as_deref().map(check).transpose() {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.add(field, e);
                    None
                }
            }
        };
    if let Some(uri) = &change.backchannel_logout_uri
        && let Some(v) = setting("backchannel_logout_uri", uri, validate_server_uri)
    {
        s.backchannel_logout_uri = v;
    }
    if let Some(jwks) = &change.jwks
        && let Some(v) = setting("jwks", jwks, validate_jwks)
    {
        s.jwks = v;
    }
    if let Some(uri) = &change.jwks_uri
        && let Some(v) = setting("jwks_uri", uri, validate_server_uri)
    {
        s.jwks_uri = v;
    }
    if let Some(alg) = &change.id_token_alg {
        s.id_token_alg = alg.clone();
    }
    if let Some(scopes) = &change.allowed_scopes {
        match ScopeSet::from_names(scopes) {
            Ok(set) => s.allowed_scopes = set,
            Err(e) => problems.add("allowed_scopes", e),
        }
    }
    if let Some(roles) = &change.api_roles {
        match crate::domain::validate_roles(roles) {
            Ok(roles) => s.api_roles = roles,
            Err(e) => problems.add("api_roles", e),
        }
    }
}

/// Applies a change and checks the result: the client as it would be stored, or every problem.
pub(super) fn changed(
    mut client: ClientRow,
    change: &ClientChange,
) -> Result<ClientRow, ClientError> {
    let mut problems = Problems::default();
    apply(&mut client, change, &mut problems);
    if problems.0.is_empty() {
        check(&client, &mut problems);
    }
    problems.finish()?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::store::ClientSettings;

    fn blank() -> ClientRow {
        ClientRow {
            client_id: Uuid::nil(),
            name: String::new(),
            secret_hash: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            grant_types: vec![GrantType::AuthorizationCode],
            token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
            skip_consent: false,
            created_at: 0,
            updated_at: 0,
            settings: ClientSettings::default(),
        }
    }

    #[test]
    fn every_problem_is_reported_by_its_field() {
        let change = ClientChange {
            name: Some("App".into()),
            redirect_uris: Some(vec!["http://lms.hccc.edu/cb".into()]),
            grant_types: Some(vec!["authorization_code".into(), "implicit".into()]),
            token_endpoint_auth_method: Some("magic".into()),
            allowed_scopes: Some(vec!["openid".into(), "admin".into()]),
            backchannel_logout_uri: Some(Some("ftp://x".into())),
            ..ClientChange::default()
        };
        let Err(ClientError::Invalid(errors)) = changed(blank(), &change) else {
            panic!("invalid change accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "redirect_uris",
                "grant_types",
                "token_endpoint_auth_method",
                "backchannel_logout_uri",
                "allowed_scopes"
            ]
        );
    }

    #[test]
    fn whole_client_rules_name_the_field_to_change() {
        let change = ClientChange {
            name: Some("Kiosk".into()),
            grant_types: Some(vec!["client_credentials".into()]),
            token_endpoint_auth_method: Some("none".into()),
            ..ClientChange::default()
        };
        let Err(ClientError::Invalid(errors)) = changed(blank(), &change) else {
            panic!("public client_credentials accepted");
        };
        assert_eq!(errors[0].field, "grant_types", "{errors:?}");
        let ok = ClientChange {
            name: Some("LMS".into()),
            redirect_uris: Some(vec!["https://lms.hccc.edu/cb".into()]),
            ..ClientChange::default()
        };
        let client = changed(blank(), &ok).expect("valid");
        assert_eq!(client.grant_types, [GrantType::AuthorizationCode]);
    }
}
