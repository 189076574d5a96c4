//! Operator commands: serve, migrate, user …, client …, keys rotate, healthcheck. Each group of
//! subcommands lives in its own file; this one parses and dispatches, and holds what they share.

mod clients;
mod serve;
mod users;

use std::io::Write;

use clap::{Parser, Subcommand};
use serde_json::json;

pub use clients::{ClientCommand, ClientFlags, ClientUpdate};
pub use serve::{bootstrap_admin, shutdown_signal};
pub use users::{UserCommand, UserCreate, UserImport, UserInvite, UserLinks};

use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::DerivedKeys;
use crate::keys::KeyRing;
use crate::store::Store;

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
    /// Exit 0 if the server on HCCC_SSO_BIND answers /health/live (for container health checks).
    Healthcheck,
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
        Command::Serve => serve::serve(config).await,
        Command::Healthcheck => {
            let port = config.bind.port();
            let url = format!("http://127.0.0.1:{port}/health/live");
            let response = crate::outbound::client()?.get(&url).send().await?;
            if !response.status().is_success() {
                anyhow::bail!("{url} answered {}", response.status());
            }
            Ok(())
        }
        Command::Migrate => {
            let store = connect(&config).await?;
            let detail = json!({"backend": store.backend_name()});
            crate::audit::record_cli(&store, "database.migrate", None, detail).await;
            emit(
                json_output,
                json!({"migrated": true, "backend": store.backend_name()}),
                "migrations applied",
            );
            Ok(())
        }
        Command::User(command) => users::run(config, command, json_output).await,
        Command::Client(command) => clients::run(config, command, json_output).await,
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
            let detail = json!({"activates_at": activates_at});
            crate::audit::record_cli(&store, "keys.rotate", Some(format!("key:{kid}")), detail)
                .await;
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

/// Prints a command's result: the JSON value with `--json`, the text otherwise.
fn emit(json_output: bool, value: serde_json::Value, text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = if json_output {
        writeln!(out, "{value}")
    } else {
        writeln!(out, "{text}")
    };
}

/// The database for a one-off command, migrated, with the secret key confirmed against it.
async fn connect(config: &Config) -> anyhow::Result<Store> {
    config.ensure_data_dir()?;
    let store = Store::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    crate::app::migrate_session_store(&store).await?;
    let derived = DerivedKeys::derive(&config.secret_key)?;
    crate::keys::confirm_secret_key(
        config,
        &store,
        &derived.key_encryption,
        Clock::system().now(),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    Ok(store)
}
