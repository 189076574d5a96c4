//! `hccc-sso serve`: listen, create the first admin on a first start, stop on a signal.

use crate::accounts::{self, directory::Actor};
use crate::app::App;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto;
use crate::state::AppState;
use crate::store::NewAccount;

pub(super) async fn serve(config: Config) -> anyhow::Result<()> {
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
