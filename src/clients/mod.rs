//! Registering and changing client applications: validation shared by the CLI, the JSON API and
//! the admin pages, so every entry point enforces the same rules. Problems are field errors named
//! as the API names its fields; the CLI and the pages translate them for their people.

mod rules;

use uuid::Uuid;

use crate::crypto;
use crate::domain::{AuthMethod, FieldError, GrantType};
use crate::store::{ClientRow, ClientSettings, NewClient, Store, StoreError};

use rules::changed;

/// A change to a client as people and scripts write it: `None` leaves a setting as it is.
#[derive(Debug, Default, Clone)]
pub struct ClientChange {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub skip_consent: Option<bool>,
    pub require_par: Option<bool>,
    pub require_mfa: Option<bool>,
    /// `Some(None)` removes the setting.
    pub backchannel_logout_uri: Option<Option<String>>,
    pub jwks: Option<Option<String>>,
    pub jwks_uri: Option<Option<String>>,
    pub id_token_alg: Option<String>,
    pub api_roles: Option<Vec<String>>,
    /// The scopes the client may obtain for a person (replaces the list).
    pub allowed_scopes: Option<Vec<String>>,
    /// Issue a new secret (shown once).
    pub rotate_secret: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the client has invalid settings: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    #[error("no client with that client_id")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.english()))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<StoreError> for ClientError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ClientError::NotFound,
            other => ClientError::Store(other),
        }
    }
}

/// What the audit log records of an app, wherever it was registered or changed (the admin
/// pages, the command line): never its secret.
pub fn audit_detail(client: &ClientRow) -> serde_json::Value {
    serde_json::json!({
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "skip_consent": client.skip_consent,
        "api_roles": client.settings.api_roles,
        "allowed_scopes": client.settings.allowed_scopes.names(),
    })
}

/// Gives the client a new secret when its method uses one, returning it (to be shown once).
fn issue_secret(
    client: &mut ClientRow,
    key_encryption: &[u8; 32],
) -> Result<Option<String>, ClientError> {
    let method = client.token_endpoint_auth_method;
    if !method.uses_secret() {
        client.secret_hash = None;
        client.settings.secret_encrypted = None;
        return Ok(None);
    }
    let secret = crypto::random_token();
    client.secret_hash = Some(crypto::sha256(secret.as_bytes()).to_vec());
    client.settings.secret_encrypted = if method == AuthMethod::ClientSecretJwt {
        let sealed = crypto::seal(
            key_encryption,
            client.client_id.as_bytes(),
            secret.as_bytes(),
        )
        .map_err(|e| ClientError::Store(StoreError::Corrupt(e.to_string())))?;
        Some(sealed)
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
    let blank = ClientRow {
        client_id: Uuid::nil(),
        name: String::new(),
        secret_hash: None,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        skip_consent: false,
        created_at: now,
        updated_at: now,
        settings: ClientSettings::default(),
    };
    let client = changed(blank, change)?;
    // The secret is sealed with the client_id as associated data, so insert first, then seal.
    let new = NewClient {
        name: client.name.clone(),
        secret_hash: None,
        redirect_uris: client.redirect_uris.clone(),
        post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
        grant_types: client.grant_types.clone(),
        token_endpoint_auth_method: client.token_endpoint_auth_method,
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
    let before = store
        .find_client(client_id)
        .await?
        .ok_or(ClientError::NotFound)?;
    let old_method = before.token_endpoint_auth_method;
    let mut client = changed(before, change)?;
    let method = client.token_endpoint_auth_method;
    let needs_secret = match method {
        AuthMethod::ClientSecretJwt => client.settings.secret_encrypted.is_none(),
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
            client.secret_hash.is_none()
        }
        _ => false,
    };
    let drops_secret = !method.uses_secret() && old_method != method;
    let secret = if change.rotate_secret || needs_secret || drops_secret {
        issue_secret(&mut client, key_encryption)?
    } else {
        None
    };
    Ok((store.update_client(&client, now).await?, secret))
}
