//! The audit log of administrative changes: who, what, when and from where.

use crate::accounts::directory::Actor;
use crate::state::AppState;
use crate::store::AuditEntry;

/// Records a change that has been made. A failure to write is logged, not returned: the change
/// itself is already committed and the caller's answer should say so.
pub async fn record(
    app: &AppState,
    actor: &Actor,
    client_ip: Option<&str>,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
) {
    let entry = AuditEntry {
        actor: actor.label(),
        action: action.to_owned(),
        target,
        detail,
        client_ip: client_ip.map(str::to_owned),
    };
    tracing::info!(actor = %entry.actor, action = %entry.action, target = ?entry.target, "audit");
    if let Err(e) = app.store.insert_audit(&entry, app.clock.now()).await {
        tracing::error!(error = %e, action = %entry.action, "writing the audit log failed");
    }
}

/// Records a change made from the command line (no server state at hand).
pub async fn record_cli(store: &crate::store::Store, action: &str, detail: serde_json::Value) {
    let entry = AuditEntry {
        actor: Actor::Cli.label(),
        action: action.to_owned(),
        target: None,
        detail,
        client_ip: None,
    };
    let now = crate::clock::Clock::system().now();
    if let Err(e) = store.insert_audit(&entry, now).await {
        tracing::error!(error = %e, action, "writing the audit log failed");
    }
}
