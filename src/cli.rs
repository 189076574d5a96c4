//! Operator commands: serve, migrate, user create, client create, keys rotate.

use std::io::{BufRead, Write};

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::accounts::{self, PasswordHasher};
use crate::app::App;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::{self, DerivedKeys};
use crate::keys::KeyRing;
use crate::state::AppState;
use crate::store::{NewAccount, NewClient, Store};

#[derive(Debug, Parser)]
#[command(
    name = "hccc-sso",
    version,
    about = "HCCC single sign-on: an OpenID Connect provider"
)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage client applications (relying parties).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create(UserCreate),
}

#[derive(Debug, Args)]
pub struct UserCreate {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub given_name: Option<String>,
    #[arg(long)]
    pub family_name: Option<String>,
    /// Give the account the admin role.
    #[arg(long)]
    pub admin: bool,
    /// Read the password from the first line of standard input (required: never pass it as an argument).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an application; prints its client_id and (once) its secret.
    Create(ClientCreate),
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    #[arg(long)]
    pub name: String,
    /// An exact redirect URI; repeat for several.
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// A public client (browser or native app) with no secret; PKCE is then required.
    #[arg(long)]
    pub public: bool,
    /// Skip the consent page (for the college's own applications).
    #[arg(long)]
    pub skip_consent: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Publish a new signing key; it signs after HCCC_SSO_KEY_PUBLISH_LEAD_SECONDS.
    Rotate,
}

/// Runs a command to completion. Errors are for the operator: they name what is wrong.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    let json_output = cli.json;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = connect(&config).await?;
            emit(
                json_output,
                json!({"migrated": true, "backend": store.backend_name()}),
                "migrations applied",
            );
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => create_user(config, args, json_output).await,
        Command::Client(ClientCommand::Create(args)) => {
            create_client(config, args, json_output).await
        }
        Command::Keys(KeysCommand::Rotate) => {
            let store = connect(&config).await?;
            let derived = DerivedKeys::derive(&config.secret_key)?;
            let now = Clock::system().now();
            // Make sure the current key exists and decrypts before adding another.
            KeyRing::load_or_init(&store, derived.key_encryption, now).await?;
            let max_ttl = config.access_token_ttl.max(config.id_token_ttl);
            let kid = KeyRing::rotate(
                &store,
                &derived.key_encryption,
                now,
                config.key_publish_lead,
                max_ttl,
            )
            .await?;
            let activates_at = now + config.key_publish_lead;
            emit(
                json_output,
                json!({"kid": kid, "published_at": now, "activates_at": activates_at}),
                &format!(
                    "new signing key {kid} published; it signs from {activates_at} (epoch seconds)"
                ),
            );
            Ok(())
        }
    }
}

fn emit(json_output: bool, value: serde_json::Value, text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = if json_output {
        writeln!(out, "{value}")
    } else {
        writeln!(out, "{text}")
    };
}

async fn connect(config: &Config) -> anyhow::Result<Store> {
    config.ensure_data_dir()?;
    let store = Store::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    Ok(store)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("HCCC_SSO_BIND: cannot listen on {}: {e}", config.bind))?;
    let app = App::bind(config, listener, Clock::system()).await?;
    bootstrap_admin(app.state()).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, issuer = %app.state().config.issuer, backend = app.state().store.backend_name(), "serving");
    app.serve(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// On first start with no accounts, creates `admin` with HCCC_SSO_ADMIN_PASSWORD or a random
/// password printed once to standard error (not to the structured log).
pub async fn bootstrap_admin(app: &AppState) -> anyhow::Result<Option<String>> {
    if app.store.count_accounts().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &app.config.admin_password {
        Some(p) => (p.clone(), false),
        None => (crypto::random_token(), true),
    };
    let new = NewAccount {
        username: "admin".into(),
        email: "admin@hccc-sso.local".into(),
        email_verified: false,
        given_name: None,
        family_name: Some("Administrator".into()),
        password_hash: None,
        roles: vec!["admin".into()],
    };
    accounts::create_account(&app.store, &app.hasher, new, &password, app.clock.now())
        .await
        .map_err(|e| match generated {
            false => anyhow::anyhow!("HCCC_SSO_ADMIN_PASSWORD: {e}"),
            true => anyhow::anyhow!("creating the first admin account: {e}"),
        })?;
    if generated {
        eprintln!(
            "\n================================================================\n\
             First start: created the admin account.\n  username: admin\n  password: {password}\n\
             This password is shown only once. Sign in and change it.\n\
             ================================================================\n"
        );
    } else {
        eprintln!("First start: created the admin account `admin` with HCCC_SSO_ADMIN_PASSWORD.");
    }
    Ok(Some(password))
}

async fn create_user(config: Config, args: UserCreate, json_output: bool) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let store = connect(&config).await?;
    let hasher = PasswordHasher::new()?;
    let new = NewAccount {
        username: args.username,
        email: args.email,
        email_verified: false,
        given_name: args.given_name,
        family_name: args.family_name,
        password_hash: None,
        roles: if args.admin {
            vec!["admin".into()]
        } else {
            Vec::new()
        },
    };
    let account = accounts::create_account(&store, &hasher, new, password, Clock::system().now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    emit(
        json_output,
        json!({"id": account.account_id, "username": account.username, "email": account.email, "admin": args.admin}),
        &format!(
            "created user {} (id {})",
            account.username, account.account_id
        ),
    );
    Ok(())
}

async fn create_client(
    config: Config,
    args: ClientCreate,
    json_output: bool,
) -> anyhow::Result<()> {
    let name = args.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        anyhow::bail!("--name must be 1 to 200 characters");
    }
    let redirect_uris = args
        .redirect_uris
        .iter()
        .map(|u| crate::domain::validate_redirect_uri(u))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("--redirect-uri: {e}"))?;
    let secret = (!args.public).then(crypto::random_token);
    let store = connect(&config).await?;
    let client = store
        .insert_client(
            NewClient {
                name,
                secret_hash: secret
                    .as_ref()
                    .map(|s| crypto::sha256(s.as_bytes()).to_vec()),
                redirect_uris,
                post_logout_redirect_uris: Vec::new(),
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                token_endpoint_auth_method: if args.public {
                    "none"
                } else {
                    "client_secret_basic"
                }
                .into(),
                skip_consent: args.skip_consent,
                settings: Default::default(),
            },
            Clock::system().now(),
        )
        .await?;
    let mut text = format!("client_id: {}", client.client_id);
    if let Some(secret) = &secret {
        text.push_str(&format!(
            "\nclient_secret: {secret}\n(the secret is shown only once: store it now)"
        ));
    }
    emit(
        json_output,
        json!({
            "client_id": client.client_id,
            "client_secret": secret,
            "name": client.name,
            "redirect_uris": client.redirect_uris,
            "public": args.public,
            "skip_consent": client.skip_consent,
        }),
        &text,
    );
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
