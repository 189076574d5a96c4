//! `hccc-sso user …`: create, import, invite and hand over links from a shell.

use std::io::BufRead;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{connect, emit};
use crate::accounts::directory::Actor;
use crate::accounts::self_service::EarlierInvitation;
use crate::accounts::{self, PasswordHasher};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::NewAccount;

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

pub(super) async fn run(
    config: Config,
    command: UserCommand,
    json_output: bool,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Create(args) => create_user(config, args, json_output).await,
        UserCommand::Import(args) => import_users(config, args, json_output).await,
        UserCommand::Invite(args) => invite_users(config, args, json_output).await,
        UserCommand::Links(args) => print_links(config, args, json_output).await,
    }
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

/// `user invite`: queues invitations for one account or a selection; prints how many went.
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

/// `user import`: prints the plan (dry run) or applies it; exits non-zero when rows are rejected.
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
