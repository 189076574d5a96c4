//! `hccc-sso client …`: register and change client applications from a shell, with the same
//! rules as the API and the admin pages; problems are named by the flags that set them.

use clap::{Args, Subcommand};
use serde_json::json;

use super::{connect, emit};
use crate::clients::{self, ClientChange, ClientError};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::DerivedKeys;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an application; prints its client_id and (once) its secret.
    Create(ClientFlags),
    /// Change an application's settings; only the flags given change.
    Update(ClientUpdate),
}

/// Client settings, shared by `client create` and `client update`.
#[derive(Debug, Args, Default)]
pub struct ClientFlags {
    /// The name people see on the consent page.
    #[arg(long)]
    pub name: Option<String>,
    /// An exact redirect URI; repeat for several (replaces the list on update).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send people afterwards; repeat for several.
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Receives Back-Channel Logout tokens ("" removes it).
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// authorization_code, refresh_token, client_credentials or urn:ietf:params:oauth:grant-type:device_code; repeat.
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// client_secret_basic (default), client_secret_post, client_secret_jwt, private_key_jwt or none.
    #[arg(long)]
    pub token_endpoint_auth_method: Option<String>,
    /// The client's public keys for private_key_jwt, fetched when needed ("" removes it).
    #[arg(long)]
    pub jwks_uri: Option<String>,
    /// A file with the client's public keys (a JWKS) for private_key_jwt.
    #[arg(long, conflicts_with = "jwks_uri")]
    pub jwks_file: Option<std::path::PathBuf>,
    /// Require Pushed Authorization Requests (`--require-par=false` to lift).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub require_par: Option<bool>,
    /// Require a second factor of everyone who signs in to the app (`--require-mfa=false` to lift).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub require_mfa: Option<bool>,
    /// Skip the consent page, for the college's own applications (`--skip-consent=false` to ask again).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub skip_consent: Option<bool>,
    /// A public client (browser or native app) with no secret; PKCE is then required.
    #[arg(long)]
    pub public: bool,
    /// The ID token signing algorithm: RS256 (default) or ES256.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    /// A role the client itself holds at /api/v1 with client_credentials tokens (e.g. admin); repeat.
    #[arg(long = "api-role")]
    pub api_roles: Vec<String>,
    /// A scope the client may obtain for a person (openid, profile, email, roles, offline_access,
    /// api); repeat. Replaces the list; the default is openid profile email offline_access.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ClientUpdate {
    /// The client_id to change.
    pub client_id: String,
    #[command(flatten)]
    pub flags: ClientFlags,
    /// Issue a new client secret (printed once); the old one stops working.
    #[arg(long)]
    pub rotate_secret: bool,
}

impl ClientFlags {
    fn into_change(self) -> anyhow::Result<ClientChange> {
        let optional = |v: Option<String>| v.map(|s| (!s.trim().is_empty()).then_some(s));
        let jwks = match &self.jwks_file {
            Some(path) => {
                Some(Some(std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("--jwks-file {}: {e}", path.display())
                })?))
            }
            None => None,
        };
        let method = match (self.public, self.token_endpoint_auth_method) {
            (true, Some(m)) if m != "none" => {
                anyhow::bail!("--public means --token-endpoint-auth-method none")
            }
            (true, _) => Some("none".to_owned()),
            (false, m) => m,
        };
        Ok(ClientChange {
            name: self.name,
            redirect_uris: (!self.redirect_uris.is_empty()).then_some(self.redirect_uris),
            post_logout_redirect_uris: (!self.post_logout_redirect_uris.is_empty())
                .then_some(self.post_logout_redirect_uris),
            grant_types: (!self.grant_types.is_empty()).then_some(self.grant_types),
            token_endpoint_auth_method: method,
            skip_consent: self.skip_consent,
            require_par: self.require_par,
            require_mfa: self.require_mfa,
            backchannel_logout_uri: optional(self.backchannel_logout_uri),
            jwks,
            jwks_uri: optional(self.jwks_uri),
            id_token_alg: self.id_token_alg,
            api_roles: (!self.api_roles.is_empty()).then_some(self.api_roles),
            allowed_scopes: (!self.scopes.is_empty()).then_some(self.scopes),
            rotate_secret: false,
        })
    }
}

pub(super) async fn run(
    config: Config,
    command: ClientCommand,
    json_output: bool,
) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create(flags) => {
            if flags.name.is_none() {
                anyhow::bail!("--name is required");
            }
            let change = flags.into_change()?;
            save_client(config, None, change, json_output).await
        }
        ClientCommand::Update(args) => {
            let client_id = uuid::Uuid::parse_str(&args.client_id).map_err(|_| {
                anyhow::anyhow!(
                    "CLIENT_ID: {:?} is not a client_id (a UUID)",
                    args.client_id
                )
            })?;
            let mut change = args.flags.into_change()?;
            change.rotate_secret = args.rotate_secret;
            save_client(config, Some(client_id), change, json_output).await
        }
    }
}

async fn save_client(
    config: Config,
    client_id: Option<uuid::Uuid>,
    change: ClientChange,
    json_output: bool,
) -> anyhow::Result<()> {
    let store = connect(&config).await?;
    let key_encryption = DerivedKeys::derive(&config.secret_key)?.key_encryption;
    let now = Clock::system().now();
    let rotated = change.rotate_secret;
    let (client, secret) = match client_id {
        None => clients::register(&store, &change, &key_encryption, now).await,
        Some(id) => clients::update(&store, id, &change, &key_encryption, now).await,
    }
    .map_err(|e| match e {
        ClientError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("{}: {}", flag_of(&e.field), in_flags(&e.english())))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => anyhow::anyhow!("{other}"),
    })?;
    // The same entry as the admin pages write, so that an app given API roles from a shell is
    // as visible as one given them on a page.
    let action = match client_id {
        None => "client.create",
        Some(_) => "client.update",
    };
    let mut detail = clients::audit_detail(&client);
    if let Some(fields) = detail.as_object_mut() {
        fields.insert("require_mfa".into(), json!(client.settings.require_mfa));
        fields.insert("require_par".into(), json!(client.settings.require_par));
        if client_id.is_some() {
            fields.insert("secret_rotated".into(), json!(rotated));
        }
    }
    let target = Some(format!("client:{}", client.client_id));
    crate::audit::record_cli(&store, action, target, detail).await;
    let mut text = format!("client_id: {}\nname: {}", client.client_id, client.name);
    if let Some(secret) = &secret {
        text.push_str(&format!(
            "\nclient_secret: {secret}\n(the secret is shown only once: store it now)"
        ));
    }
    let s = &client.settings;
    emit(
        json_output,
        json!({
            "client_id": client.client_id,
            "client_secret": secret,
            "name": client.name,
            "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
            "grant_types": client.grant_types,
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
            "public": client.is_public(),
            "skip_consent": client.skip_consent,
            "require_par": s.require_par,
            "require_mfa": s.require_mfa,
            "backchannel_logout_uri": s.backchannel_logout_uri,
            "jwks_uri": s.jwks_uri,
            "jwks": s.jwks.as_deref().and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()),
            "id_token_alg": s.id_token_alg,
            "api_roles": s.api_roles,
            "allowed_scopes": s.allowed_scopes.names(),
        }),
        &text,
    );
    Ok(())
}

/// Client fields as the API names them, with the flags that set them (validation speaks the
/// API's names; the command line speaks its flags).
const CLIENT_FLAGS: [(&str, &str); 11] = [
    ("post_logout_redirect_uris", "--post-logout-redirect-uri"),
    ("token_endpoint_auth_method", "--token-endpoint-auth-method"),
    ("backchannel_logout_uri", "--backchannel-logout-uri"),
    ("allowed_scopes", "--scope"),
    ("redirect_uris", "--redirect-uri"),
    ("id_token_alg", "--id-token-alg"),
    ("grant_types", "--grant-type"),
    ("api_roles", "--api-role"),
    ("jwks_uri", "--jwks-uri"),
    ("jwks", "--jwks-file"),
    ("name", "--name"),
];

/// A validation message with the fields it mentions written as flags.
fn in_flags(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
            match CLIENT_FLAGS
                .iter()
                .find(|(field, _)| *field == bare && bare != "name")
            {
                Some((field, flag)) => word.replacen(field, flag, 1),
                None => word.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command-line flag that sets a client field.
fn flag_of(field: &str) -> &str {
    CLIENT_FLAGS
        .iter()
        .find(|(name, _)| *name == field)
        .map_or(field, |(_, flag)| flag)
}
