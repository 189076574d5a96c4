//! Operator commands: serve, migrate, user create, client create, keys rotate.

use std::io::{BufRead, Write};

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::accounts::directory::Actor;
use crate::accounts::self_service::EarlierInvitation;
use crate::accounts::{self, PasswordHasher};
use crate::app::App;
use crate::clients::{self, ClientChange, ClientError};
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::{self, DerivedKeys};
use crate::keys::KeyRing;
use crate::state::AppState;
use crate::store::{NewAccount, Store};

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
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create(UserCreate),
    /// Import accounts from a CSV file (username, email, given_name, family_name, roles, groups;
    /// roles and groups `;`-separated): matched by username, all rows or none.
    Import(UserImport),
    /// E-mail invitations (a link to choose a password) to accounts that have none yet.
    Invite(UserInvite),
    /// Print an account's links that have not gone out by e-mail (no SMTP relay, or it is down).
    Links(UserLinks),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["username", "group", "role", "all_without_password"])))]
pub struct UserInvite {
    /// One account.
    #[arg(long)]
    pub username: Option<String>,
    /// Every account of a group.
    #[arg(long)]
    pub group: Option<String>,
    /// Every account with a role (admin, staff, faculty, student).
    #[arg(long)]
    pub role: Option<String>,
    /// Every account that has no password yet.
    #[arg(long)]
    pub all_without_password: bool,
    /// Also send a new link to accounts whose invitation still works: their earlier link stops
    /// working. Without it they are skipped (and counted). `--username` always sends a new one.
    #[arg(long)]
    pub resend: bool,
}

#[derive(Debug, Args)]
pub struct UserLinks {
    #[arg(long)]
    pub username: String,
}

#[derive(Debug, Args)]
pub struct UserImport {
    /// The CSV file.
    pub file: std::path::PathBuf,
    /// Show what would be created, updated and rejected, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
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
    /// A role (admin, staff, faculty, student); repeat for several.
    #[arg(long = "role")]
    pub roles: Vec<String>,
    /// A group; repeat for several.
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Read the password from the first line of standard input (required: never pass it as an argument).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

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
        Command::User(UserCommand::Create(args)) => create_user(config, args, json_output).await,
        Command::User(UserCommand::Import(args)) => import_users(config, args, json_output).await,
        Command::User(UserCommand::Invite(args)) => invite_users(config, args, json_output).await,
        Command::User(UserCommand::Links(args)) => print_links(config, args, json_output).await,
        Command::Client(ClientCommand::Create(flags)) => {
            if flags.name.is_none() {
                anyhow::bail!("--name is required");
            }
            let change = flags.into_change()?;
            save_client(config, None, change, json_output).await
        }
        Command::Client(ClientCommand::Update(args)) => {
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

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("HCCC_SSO_BIND: cannot listen on {}: {e}", config.bind))?;
    let app = App::bind(config, listener, Clock::system()).await?;
    bootstrap_admin(app.state()).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, issuer = %app.state().config.issuer, backend = app.state().store.backend_name(), "serving");
    if !app.state().mail.configured() {
        tracing::warn!(
            "no SMTP relay (HCCC_SSO_SMTP_URL): e-mails wait in the outbox; admins can copy a pending \
             link from the user's admin page or with `hccc-sso user links`"
        );
    }
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
        groups: Vec::new(),
        // A generated password was printed to a console or a log: it only opens the page to
        // choose a new one.
        must_change_password: generated,
        locale: None,
        recovery_email: None,
    };
    let account =
        match accounts::create_account(&app.store, &app.hasher, new, &password, app.clock.now())
            .await
        {
            // Another replica starting at the same time created it first.
            Err(accounts::CreateAccountError::Duplicate) => return Ok(None),
            other => other,
        }
        .map_err(|e| match generated {
            false => anyhow::anyhow!("HCCC_SSO_ADMIN_PASSWORD: {e}"),
            true => anyhow::anyhow!("creating the first admin account: {e}"),
        })?;
    let target = Some(format!("user:{}", account.account_id));
    let detail = crate::accounts::directory::audit_view(&account);
    crate::audit::record(app, &Actor::Cli, None, "user.create", target, detail).await;
    // The line goes through the log in its format (JSON by default); the generated password
    // does not: it is printed once, to standard error, for the person starting the server.
    let password_from = if generated {
        "generated: printed once to standard error"
    } else {
        "HCCC_SSO_ADMIN_PASSWORD"
    };
    tracing::warn!(
        username = %account.username,
        account_id = %account.account_id,
        password = password_from,
        must_change_password = generated,
        "first start: created the admin account"
    );
    if generated {
        eprintln!(
            "\n================================================================\n\
             First start: the password of the admin account `admin` is\n  {password}\n\
             It is shown only once, and works once: signing in with it asks for a\n\
             new password.\n\
             ================================================================\n"
        );
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
        roles: crate::domain::validate_roles(
            &args
                .roles
                .iter()
                .cloned()
                .chain(args.admin.then(|| "admin".to_owned()))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| anyhow::anyhow!("--role: {e}"))?,
        groups: crate::domain::validate_groups(&args.groups)
            .map_err(|e| anyhow::anyhow!("--group: {e}"))?,
        must_change_password: false,
        locale: None,
        recovery_email: None,
    };
    let account = accounts::create_account(&store, &hasher, new, password, Clock::system().now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let target = Some(format!("user:{}", account.account_id));
    let detail = crate::accounts::directory::audit_view(&account);
    crate::audit::record_cli(&store, "user.create", target, detail).await;
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

/// `user import`: prints the plan (dry run) or applies it; exits non-zero when rows are rejected.
async fn invite_users(config: Config, args: UserInvite, json_output: bool) -> anyhow::Result<()> {
    let app = crate::app::build_state(config, Clock::system()).await?;
    let filter = crate::store::AccountFilter {
        search: None,
        role: args.role.clone(),
        disabled: None,
        limit: 0,
        offset: 0,
    };
    let accounts = match &args.username {
        Some(username) => {
            let account = app
                .store
                .find_account_by_login(username)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no account {username:?}"))?;
            if account.password_hash.is_some() {
                anyhow::bail!(
                    "{username} already has a password: send a reset link from the admin page instead"
                );
            }
            vec![account]
        }
        None => {
            app.store
                .accounts_to_invite(&filter, args.group.as_deref(), None)
                .await?
        }
    };
    let started = std::time::Instant::now();
    let scope = json!({"username": args.username, "group": args.group, "role": args.role,
        "all_without_password": args.all_without_password});
    // A named account is sent a new link (that is what naming it asks for); a run over many
    // leaves a link that still works alone unless --resend says to replace it.
    let earlier = if args.resend || args.username.is_some() {
        EarlierInvitation::Replace
    } else {
        EarlierInvitation::Keep
    };
    let invited = crate::accounts::self_service::invite_with(
        &app,
        accounts,
        &Actor::Cli,
        None,
        scope,
        earlier,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let next = if app.mail.configured() {
        "the server sends them"
    } else {
        "no SMTP relay is set (HCCC_SSO_SMTP_URL): hand the links over with `user links --username …`"
    };
    let skipped = match invited.skipped {
        0 => String::new(),
        n => format!(
            "; skipped {n} whose invitation still works (--resend sends them a new link, which ends the earlier one)"
        ),
    };
    emit(
        json_output,
        json!({"invited": invited.sent, "skipped": invited.skipped,
            "ms": started.elapsed().as_millis() as u64, "smtp": app.mail.configured()}),
        &format!(
            "queued {} invitations in {} ms{skipped}; {next}",
            invited.sent,
            started.elapsed().as_millis()
        ),
    );
    Ok(())
}

async fn print_links(config: Config, args: UserLinks, json_output: bool) -> anyhow::Result<()> {
    let app = crate::app::build_state(config, Clock::system()).await?;
    let account = app
        .store
        .find_account_by_login(&args.username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account {:?}", args.username))?;
    let rows = app
        .store
        .pending_links(account.account_id, app.clock.now())
        .await?;
    let links: Vec<serde_json::Value> = rows
        .iter()
        .filter_map(|row| {
            let link = crate::mail::open_link(&app, row.mail_id, &row.link_sealed)?;
            Some(
                json!({"purpose": row.purpose, "to": row.recipient, "link": link,
                "expires_at": row.expires_at.map(crate::clock::format_utc)}),
            )
        })
        .collect();
    crate::audit::record_cli(
        &app.store,
        "user.show_links",
        Some(format!("user:{}", account.account_id)),
        json!({"username": account.username, "count": links.len()}),
    )
    .await;
    let text = if links.is_empty() {
        format!(
            "{}: no link waiting (sent already, spent or expired)",
            account.username
        )
    } else {
        links
            .iter()
            .map(|l| {
                format!(
                    "{} to {} (until {}):\n  {}",
                    l["purpose"].as_str().unwrap_or_default(),
                    l["to"].as_str().unwrap_or_default(),
                    l["expires_at"].as_str().unwrap_or_default(),
                    l["link"].as_str().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    emit(
        json_output,
        json!({"username": account.username, "links": links}),
        &text,
    );
    Ok(())
}

async fn import_users(config: Config, args: UserImport, json_output: bool) -> anyhow::Result<()> {
    use crate::accounts::import;
    let data =
        std::fs::read(&args.file).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let store = connect(&config).await?;
    let started = std::time::Instant::now();
    let plan = import::plan(&store, &data)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let applied = if args.dry_run || !plan.rejected.is_empty() {
        false
    } else {
        import::apply(&store, &plan, Clock::system().now())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::audit::record_cli(
            &store,
            "user.import",
            None,
            json!({"file": args.file.display().to_string(), "summary": plan.summary()}),
        )
        .await;
        true
    };
    let mut text = format!(
        "{}: {} to create, {} to update, {} unchanged, {} rejected ({} ms)",
        if applied { "imported" } else { "dry run" },
        plan.creates.len(),
        plan.updates.len(),
        plan.unchanged,
        plan.rejected.len(),
        started.elapsed().as_millis()
    );
    for row in &plan.rejected {
        text.push_str(&format!(
            "\nline {}: {}: {}",
            row.line,
            row.username,
            row.reason()
        ));
    }
    emit(
        json_output,
        json!({
            "applied": applied,
            "summary": plan.summary(),
            "rejected": plan.rejected,
            "created": plan.creates.iter().map(|(row, _)| row).collect::<Vec<_>>(),
            "updated": plan.updates.iter().map(|(row, _)| row).collect::<Vec<_>>(),
        }),
        &text,
    );
    if !plan.rejected.is_empty() {
        anyhow::bail!(
            "{} rows were rejected; nothing was imported",
            plan.rejected.len()
        );
    }
    Ok(())
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
