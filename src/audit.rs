//! The audit log of administrative changes: who, what, when and from where.

use uuid::Uuid;

use crate::state::AppState;
use crate::store::AuditEntry;

/// Who makes a change, for permission checks and the audit log.
#[derive(Debug, Clone)]
pub enum Actor {
    User { id: Uuid, username: String },
    Client { id: Uuid, name: String },
    Cli,
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::User { id, username } => format!("user {username} ({id})"),
            Actor::Client { id, name } => format!("client {name} ({id})"),
            // `cli NAME (UID)`: the operating-system user who ran the command.
            Actor::Cli => cli_operator().to_owned(),
        }
    }

    pub(crate) fn account_id(&self) -> Option<Uuid> {
        match self {
            Actor::User { id, .. } => Some(*id),
            _ => None,
        }
    }
}

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
pub async fn record_cli(
    store: &crate::store::Store,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
) {
    let entry = AuditEntry {
        actor: Actor::Cli.label(),
        action: action.to_owned(),
        target,
        detail,
        client_ip: None,
    };
    tracing::info!(actor = %entry.actor, action = %entry.action, target = ?entry.target, "audit");
    let now = crate::clock::Clock::system().now();
    if let Err(e) = store.insert_audit(&entry, now).await {
        tracing::error!(error = %e, action, "writing the audit log failed");
    }
}

/// Who runs this command line, as the audit log names it: `cli NAME (UID)`. The uid is the
/// kernel's (the owner of `/proc/self`), the name the password database's for it, or `$USER`
/// where there is none (a container's uid often has no entry). A person who logs in as a shared
/// account is that account here: the log says which one, and the host's own logs say who.
pub fn cli_operator() -> &'static str {
    static OPERATOR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OPERATOR.get_or_init(|| {
        let uid = process_uid();
        let from_env = || {
            ["USER", "LOGNAME"]
                .iter()
                .filter_map(|name| std::env::var(name).ok())
                .find(|v| !v.trim().is_empty())
        };
        let name = uid
            .and_then(|uid| {
                let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
                user_of(&passwd, uid)
            })
            .or_else(from_env)
            .unwrap_or_else(|| "unknown".to_owned());
        let name: String = name
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '(' | ')'))
            .take(64)
            .collect();
        match uid {
            Some(uid) => format!("cli {name} ({uid})"),
            None => format!("cli {name}"),
        }
    })
}

#[cfg(unix)]
fn process_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

#[cfg(not(unix))]
fn process_uid() -> Option<u32> {
    None
}

/// The name of `uid` in a passwd file (`name:x:uid:gid:…`).
fn user_of(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let id = fields.next()?.parse::<u32>().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_is_named_by_the_uid_in_the_password_database() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\n\
                      hccc:x:1000:1000::/home/hccc:/bin/sh\n:x:7:7::/:/bin/sh\n";
        assert_eq!(user_of(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_of(passwd, 1000).as_deref(), Some("hccc"));
        assert_eq!(user_of(passwd, 7), None, "an empty name is no name");
        assert_eq!(user_of(passwd, 1001), None);
        let label = cli_operator();
        assert!(label.starts_with("cli "), "{label}");
        // Read back by the audit page as a name and an id.
        assert_eq!(Actor::Cli.label(), label);
    }
}
