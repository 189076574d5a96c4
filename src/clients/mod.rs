//! Registering and changing client applications: validation shared by the CLI (and later the
//! admin API and pages), so every entry point enforces the same rules.

use josekit::jwk::JwkSet;
use uuid::Uuid;

use crate::crypto;
use crate::domain::{Scope, ScopeSet, validate_redirect_uri};
use crate::store::{ClientRow, ClientSettings, NewClient, Store, StoreError};

/// `password` (RFC 6749 §4.3) is legacy: for scripts only, and only when an admin turns it on.
pub const GRANT_TYPES: [&str; 5] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
    "password",
];
pub const AUTH_METHODS: [&str; 5] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];

/// A change to a client: `None` leaves a setting as it is.
#[derive(Debug, Default, Clone)]
pub struct ClientChange {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub skip_consent: Option<bool>,
    pub require_par: Option<bool>,
    /// `Some(None)` removes the setting.
    pub backchannel_logout_uri: Option<Option<String>>,
    pub jwks: Option<Option<String>>,
    pub jwks_uri: Option<Option<String>>,
    pub id_token_alg: Option<String>,
    pub api_roles: Option<Vec<String>>,
    /// The scopes the client may obtain for a person (replaces the list).
    pub allowed_scopes: Option<Vec<String>>,
    /// Issue a new secret (printed once).
    pub rotate_secret: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(String),
    #[error("no client with that client_id")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ClientError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ClientError::NotFound,
            other => ClientError::Store(other),
        }
    }
}

fn invalid(message: impl Into<String>) -> ClientError {
    ClientError::Invalid(message.into())
}

/// https, or http on a loopback host: for server-to-server URIs (back-channel logout, JWKS).
fn validate_server_uri(flag: &str, raw: &str) -> Result<String, ClientError> {
    if crate::domain::has_control(raw) || raw.len() > 2000 {
        return Err(invalid(format!(
            "{flag}: must be at most 2000 characters, without control characters"
        )));
    }
    let url =
        url::Url::parse(raw).map_err(|e| invalid(format!("{flag}: {raw:?} is not a URL ({e})")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => Ok(raw.to_owned()),
        "http" if loopback => Ok(raw.to_owned()),
        _ => Err(invalid(format!(
            "{flag}: {raw:?} must use https (http only for localhost)"
        ))),
    }
}

/// Checks a JWKS document holds public keys only.
pub fn validate_jwks(raw: &str) -> Result<String, ClientError> {
    if raw.len() > 64 * 1024 {
        return Err(invalid("--jwks-file: larger than 64 KiB"));
    }
    let set = JwkSet::from_bytes(raw.as_bytes())
        .map_err(|e| invalid(format!("--jwks-file: not a JWKS ({e})")))?;
    if set.keys().is_empty() {
        return Err(invalid("--jwks-file: the JWKS has no keys"));
    }
    if set.keys().iter().any(|k| k.parameter("d").is_some()) {
        return Err(invalid(
            "--jwks-file: contains a private key; register only public keys",
        ));
    }
    Ok(raw.to_owned())
}

/// Validates the whole client as it would be stored.
fn check(client: &ClientRow) -> Result<(), ClientError> {
    let name = client.name.trim();
    if name.is_empty() || name.chars().count() > 200 || crate::domain::has_control(name) {
        return Err(invalid(
            "--name must be 1 to 200 characters, without control characters",
        ));
    }
    for grant in &client.grant_types {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            return Err(invalid(format!(
                "--grant-type: {grant:?} is not one of {}",
                GRANT_TYPES.join(", ")
            )));
        }
    }
    if client.grant_types.is_empty() {
        return Err(invalid("--grant-type: at least one grant type is needed"));
    }
    let method = client.token_endpoint_auth_method.as_str();
    if !AUTH_METHODS.contains(&method) {
        return Err(invalid(format!(
            "--token-endpoint-auth-method: {method:?} is not one of {}",
            AUTH_METHODS.join(", ")
        )));
    }
    if client.allows_grant("authorization_code") && client.redirect_uris.is_empty() {
        return Err(invalid(
            "--redirect-uri: the authorization_code grant needs at least one",
        ));
    }
    if method == "none" && client.allows_grant("client_credentials") {
        return Err(invalid(
            "--grant-type client_credentials needs a confidential client (not --public)",
        ));
    }
    if method == "private_key_jwt"
        && client.settings.jwks.is_none()
        && client.settings.jwks_uri.is_none()
    {
        return Err(invalid(
            "--token-endpoint-auth-method private_key_jwt needs --jwks-file or --jwks-uri",
        ));
    }
    if !client.settings.api_roles.is_empty() && !client.allows_grant("client_credentials") {
        return Err(invalid(
            "--api-role: API roles are used with the client_credentials grant; add --grant-type client_credentials",
        ));
    }
    let signs_people_in = client.allows_grant("authorization_code")
        || client.allows_grant("urn:ietf:params:oauth:grant-type:device_code");
    if signs_people_in && !client.settings.allowed_scopes.contains(Scope::Openid) {
        return Err(invalid(
            "--scope: a client that signs people in (authorization_code or device_code) needs openid",
        ));
    }
    if !matches!(client.settings.id_token_alg.as_str(), "RS256" | "ES256") {
        return Err(invalid("--id-token-alg must be RS256 or ES256"));
    }
    Ok(())
}

fn apply(client: &mut ClientRow, change: &ClientChange) -> Result<(), ClientError> {
    let uris = |flag: &str, list: &[String]| -> Result<Vec<String>, ClientError> {
        list.iter()
            .map(|u| validate_redirect_uri(u).map_err(|e| invalid(format!("{flag}: {e}"))))
            .collect()
    };
    if let Some(name) = &change.name {
        client.name = name.trim().to_owned();
    }
    if let Some(list) = &change.redirect_uris {
        client.redirect_uris = uris("--redirect-uri", list)?;
    }
    if let Some(list) = &change.post_logout_redirect_uris {
        client.post_logout_redirect_uris = uris("--post-logout-redirect-uri", list)?;
    }
    if let Some(grants) = &change.grant_types {
        let mut grants = grants.clone();
        grants.dedup();
        client.grant_types = grants;
    }
    if let Some(method) = &change.token_endpoint_auth_method {
        client.token_endpoint_auth_method = method.clone();
    }
    if let Some(skip) = change.skip_consent {
        client.skip_consent = skip;
    }
    let s = &mut client.settings;
    if let Some(par) = change.require_par {
        s.require_par = par;
    }
    if let Some(uri) = &change.backchannel_logout_uri {
        s.backchannel_logout_uri = uri
            .as_deref()
            .map(|u| validate_server_uri("--backchannel-logout-uri", u))
            .transpose()?;
    }
    if let Some(jwks) = &change.jwks {
        s.jwks = jwks.as_deref().map(validate_jwks).transpose()?;
    }
    if let Some(uri) = &change.jwks_uri {
        s.jwks_uri = uri
            .as_deref()
            .map(|u| validate_server_uri("--jwks-uri", u))
            .transpose()?;
    }
    if let Some(alg) = &change.id_token_alg {
        s.id_token_alg = alg.clone();
    }
    if let Some(scopes) = &change.allowed_scopes {
        s.allowed_scopes =
            ScopeSet::from_names(scopes).map_err(|e| invalid(format!("--scope: {e}")))?;
    }
    if let Some(roles) = &change.api_roles {
        s.api_roles = crate::domain::validate_roles(roles)
            .map_err(|e| invalid(format!("--api-role: {e}")))?;
    }
    Ok(())
}

/// Gives the client a new secret when its method uses one, returning it (to be shown once).
fn issue_secret(
    client: &mut ClientRow,
    key_encryption: &[u8; 32],
) -> Result<Option<String>, ClientError> {
    let method = client.token_endpoint_auth_method.as_str();
    if !matches!(
        method,
        "client_secret_basic" | "client_secret_post" | "client_secret_jwt"
    ) {
        client.secret_hash = None;
        client.settings.secret_encrypted = None;
        return Ok(None);
    }
    let secret = crypto::random_token();
    client.secret_hash = Some(crypto::sha256(secret.as_bytes()).to_vec());
    client.settings.secret_encrypted = if method == "client_secret_jwt" {
        Some(
            crypto::seal(
                key_encryption,
                client.client_id.as_bytes(),
                secret.as_bytes(),
            )
            .map_err(|e| invalid(e.to_string()))?,
        )
    } else {
        None
    };
    Ok(Some(secret))
}

/// Registers a client. Returns it with its secret, shown this once.
pub async fn register(
    store: &Store,
    change: &ClientChange,
    key_encryption: &[u8; 32],
    now: i64,
) -> Result<(ClientRow, Option<String>), ClientError> {
    let mut client = ClientRow {
        client_id: Uuid::nil(),
        name: String::new(),
        secret_hash: None,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        token_endpoint_auth_method: "client_secret_basic".into(),
        skip_consent: false,
        created_at: now,
        updated_at: now,
        settings: ClientSettings::default(),
    };
    apply(&mut client, change)?;
    check(&client)?;
    // The secret is sealed with the client_id as associated data, so insert first, then seal.
    let new = NewClient {
        name: client.name.clone(),
        secret_hash: None,
        redirect_uris: client.redirect_uris.clone(),
        post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
        grant_types: client.grant_types.clone(),
        token_endpoint_auth_method: client.token_endpoint_auth_method.clone(),
        skip_consent: client.skip_consent,
        settings: client.settings.clone(),
    };
    let mut stored = store.insert_client(new, now).await?;
    let secret = issue_secret(&mut stored, key_encryption)?;
    let stored = store.update_client(&stored, now).await?;
    Ok((stored, secret))
}

/// Changes a client. A new secret is issued when asked, or when the method changes to one that
/// needs a secret the server does not have (client_secret_jwt needs it recoverable).
pub async fn update(
    store: &Store,
    client_id: Uuid,
    change: &ClientChange,
    key_encryption: &[u8; 32],
    now: i64,
) -> Result<(ClientRow, Option<String>), ClientError> {
    let mut client = store
        .find_client(client_id)
        .await?
        .ok_or(ClientError::NotFound)?;
    let old_method = client.token_endpoint_auth_method.clone();
    apply(&mut client, change)?;
    check(&client)?;
    let method = client.token_endpoint_auth_method.as_str();
    let needs_secret = match method {
        "client_secret_jwt" => client.settings.secret_encrypted.is_none(),
        "client_secret_basic" | "client_secret_post" => client.secret_hash.is_none(),
        _ => false,
    };
    let drops_secret = matches!(method, "none" | "private_key_jwt") && old_method != method;
    let secret = if change.rotate_secret || needs_secret || drops_secret {
        issue_secret(&mut client, key_encryption)?
    } else {
        None
    };
    Ok((store.update_client(&client, now).await?, secret))
}
