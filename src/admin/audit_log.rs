//! The audit log page: every administrative change in words, with the names it concerns, what
//! changed field by field, filters by who, what, which target and when, and pages.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::{Admin, Denied, Pager, page_number, query_params, when};
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::state::AppState;
use crate::store::{AuditFilter, AuditRow};

const PER_PAGE: i64 = 50;
/// Typed filters are cut to this many characters.
const MAX_FILTER: usize = 200;

/// Every action written to the log, with the catalog key of its description.
pub const ACTIONS: [(&str, &str); 39] = [
    ("user.create", "audit-user-create"),
    ("user.update", "audit-user-update"),
    ("user.update_profile", "audit-user-update-profile"),
    ("user.disable", "audit-user-disable"),
    ("user.enable", "audit-user-enable"),
    (
        "user.set_temporary_password",
        "audit-user-set-temporary-password",
    ),
    ("user.change_password", "audit-user-change-password"),
    ("user.delete", "audit-user-delete"),
    ("user.import", "audit-user-import"),
    ("user.invite", "audit-user-invite"),
    ("user.accept_invitation", "audit-user-accept-invitation"),
    ("user.send_reset", "audit-user-send-reset"),
    ("user.request_reset", "audit-user-request-reset"),
    ("user.reset_password", "audit-user-reset-password"),
    ("user.send_verification", "audit-user-send-verification"),
    ("user.verify_email", "audit-user-verify-email"),
    (
        "user.request_email_change",
        "audit-user-request-email-change",
    ),
    ("user.change_email", "audit-user-change-email"),
    ("user.cancel_email_change", "audit-user-cancel-email-change"),
    ("user.end_sessions", "audit-user-end-sessions"),
    ("user.revoke_app", "audit-user-revoke-app"),
    ("user.mark_email_verified", "audit-user-mark-email-verified"),
    ("user.show_links", "audit-user-show-links"),
    ("user.enrol_totp", "audit-user-enrol-totp"),
    ("user.remove_totp", "audit-user-remove-totp"),
    (
        "user.renew_recovery_codes",
        "audit-user-renew-recovery-codes",
    ),
    ("user.use_recovery_code", "audit-user-use-recovery-code"),
    ("user.reset_factors", "audit-user-reset-factors"),
    ("user.require_mfa", "audit-user-require-mfa"),
    ("user.unrequire_mfa", "audit-user-unrequire-mfa"),
    ("user.add_passkey", "audit-user-add-passkey"),
    ("user.remove_passkey", "audit-user-remove-passkey"),
    ("user.forget_browsers", "audit-user-forget-browsers"),
    ("client.create", "audit-client-create"),
    ("client.update", "audit-client-update"),
    ("client.rotate_secret", "audit-client-rotate-secret"),
    ("client.delete", "audit-client-delete"),
    ("keys.rotate", "audit-keys-rotate"),
    ("database.migrate", "audit-database-migrate"),
];

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    entries: Vec<EntryView>,
    pager: Pager,
    /// The filters as typed, shown back in the form.
    actor: String,
    target: String,
    action: String,
    from: String,
    to: String,
    actions: [(&'static str, &'static str); ACTIONS.len()],
    filtered: bool,
}

/// One entry as people read it.
struct EntryView {
    at: String,
    /// Who: a name, and the id or kind beside it.
    actor: Message,
    client_ip: String,
    /// The action in words, or the raw action of an unknown one.
    action: Message,
    /// What it concerns: the name recorded with it, and the target's id.
    target_name: Option<String>,
    target_id: Option<String>,
    changes: Vec<Change>,
}

/// One field of the details: what it was (for changes) and what it became.
struct Change {
    field: String,
    before: Option<Shown>,
    after: Shown,
}

/// A recorded value as people read it.
#[derive(Debug, PartialEq)]
enum Shown {
    Text(String),
    Yes,
    No,
    Nothing,
}

impl Shown {
    fn text(&self, ui: &crate::http::ui::Ui) -> String {
        match self {
            Shown::Text(text) => text.clone(),
            Shown::Yes => ui.t("admin-yes"),
            Shown::No => ui.t("admin-no"),
            Shown::Nothing => "—".to_owned(),
        }
    }
}

pub async fn page(
    State(app): State<AppState>,
    _admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
    let query = query_params(query)?;
    let page = page_number(&query)?;
    let typed = |name: &str| -> String {
        query
            .get(name)
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_FILTER)
            .collect()
    };
    let (actor, target, action, from, to) = (
        typed("actor"),
        typed("target"),
        typed("action"),
        typed("from"),
        typed("to"),
    );
    let filter = AuditFilter {
        actor: Some(actor.clone()).filter(|a| !a.is_empty()),
        target: Some(target.clone()).filter(|t| !t.is_empty()),
        action: match action.as_str() {
            "" => None,
            known if ACTIONS.iter().any(|(a, _)| *a == known) => Some(known.to_owned()),
            _ => return Err(invalid_filter("admin-audit-action").into()),
        },
        from: day(&from, 0)?,
        // The "to" day is included: entries before the start of the next day.
        to: day(&to, 86_400)?,
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
    };
    let (rows, total) = app
        .store
        .search_audit(&filter)
        .await
        .map_err(PageError::from)?;
    let base_query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &actor)
        .append_pair("target", &target)
        .append_pair("action", &action)
        .append_pair("from", &from)
        .append_pair("to", &to)
        .finish();
    let filtered = [&actor, &target, &action, &from, &to]
        .iter()
        .any(|f| !f.is_empty());
    Ok(render(
        StatusCode::OK,
        &AuditPage {
            entries: rows.into_iter().map(view).collect(),
            pager: Pager::new(page, PER_PAGE, total, base_query),
            actor,
            target,
            action,
            from,
            to,
            actions: ACTIONS,
            filtered,
        },
    ))
}

fn invalid_filter(field_key: &'static str) -> PageError {
    PageError::bad_request_with(
        "error-invalid-filter-title",
        Message::new("invalid-audit-filter").with("field", crate::i18n::current().text(field_key)),
    )
}

/// `YYYY-MM-DD` (what a date field sends) as seconds since the epoch at its start (UTC), plus
/// `offset`; empty is no limit.
fn day(raw: &str, offset: i64) -> Result<Option<i64>, PageError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format)
        .map(|d| Some(d.midnight().assume_utc().unix_timestamp() + offset))
        .map_err(|_| invalid_filter("admin-audit-dates"))
}

fn view(row: AuditRow) -> EntryView {
    let detail: Value = serde_json::from_str(&row.detail).unwrap_or(Value::Null);
    let action = match ACTIONS.iter().find(|(a, _)| *a == row.action) {
        Some((_, key)) => Message::new(key),
        None => Message::new("audit-unknown-action").with("action", row.action.as_str()),
    };
    EntryView {
        at: when(row.at),
        actor: actor(&row.actor),
        client_ip: row.client_ip.unwrap_or_default(),
        action,
        target_name: target_name(&detail),
        target_id: row.target,
        changes: changes(&detail),
    }
}

/// `user ada (…id…)`, `client LMS (…id…)`, `cli root (0)` (the operating-system user and uid of
/// a command) or, in entries from before that, `command line`, as the log records actors.
fn actor(label: &str) -> Message {
    let named = |rest: &str, key: &'static str| {
        let (name, id) = rest
            .rsplit_once(" (")
            .map_or((rest, ""), |(n, id)| (n, id.trim_end_matches(')')));
        Message::new(key).with("name", name).with("id", id)
    };
    if let Some(rest) = label.strip_prefix("user ") {
        named(rest, "audit-actor-user")
    } else if let Some(rest) = label.strip_prefix("client ") {
        named(rest, "audit-actor-client")
    } else if let Some(rest) = label.strip_prefix("cli ") {
        named(rest, "audit-actor-cli-user")
    } else if label == "command line" {
        Message::new("audit-actor-cli")
    } else {
        Message::new("audit-actor-other").with("name", label)
    }
}

/// The name recorded with the change: the account's username or the client's name.
fn target_name(detail: &Value) -> Option<String> {
    let of = |v: &Value| {
        v.get("username")
            .or_else(|| v.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    detail.get("after").and_then(of).or_else(|| of(detail))
}

/// The fields that changed (`before` and `after` details), or every field recorded.
fn changes(detail: &Value) -> Vec<Change> {
    if let (Some(Value::Object(before)), Some(Value::Object(after))) =
        (detail.get("before"), detail.get("after"))
    {
        return after
            .iter()
            .filter(|(field, value)| before.get(*field) != Some(*value))
            .map(|(field, value)| Change {
                field: field.clone(),
                before: before.get(field).map(shown),
                after: shown(value),
            })
            .collect();
    }
    let Value::Object(fields) = detail else {
        return Vec::new();
    };
    fields
        .iter()
        .flat_map(|(field, value)| match value {
            // A nested summary (the import's counts) reads as its own fields.
            Value::Object(inner) => inner
                .iter()
                .map(|(f, v)| Change {
                    field: f.clone(),
                    before: None,
                    after: shown(v),
                })
                .collect::<Vec<_>>(),
            _ => vec![Change {
                field: field.clone(),
                before: None,
                after: shown(value),
            }],
        })
        .collect()
}

/// A recorded value: lists joined, yes or no, nothing as a dash.
fn shown(value: &Value) -> Shown {
    let text = |value: &Value| match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Value::Null => Shown::Nothing,
        Value::Bool(true) => Shown::Yes,
        Value::Bool(false) => Shown::No,
        Value::String(s) if s.is_empty() => Shown::Nothing,
        Value::Array(items) if items.is_empty() => Shown::Nothing,
        Value::Array(items) => Shown::Text(items.iter().map(text).collect::<Vec<_>>().join(", ")),
        other => Shown::Text(text(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_lists_only_the_fields_that_changed() {
        let detail = serde_json::json!({
            "before": {"username": "ada", "roles": ["student"], "disabled": false},
            "after": {"username": "ada", "roles": ["student", "faculty"], "disabled": true},
        });
        let changes = changes(&detail);
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["roles", "disabled"], "in the order recorded");
        assert_eq!(changes[0].before, Some(Shown::Text("student".into())));
        assert_eq!(changes[0].after, Shown::Text("student, faculty".into()));
        assert_eq!(changes[1].before, Some(Shown::No));
        assert_eq!(changes[1].after, Shown::Yes);
        assert_eq!(target_name(&detail).as_deref(), Some("ada"));
    }

    #[test]
    fn actors_are_read_back_into_name_and_id() {
        let m = actor("user ada (0190-ab)");
        assert_eq!(m.key, "audit-actor-user");
        assert_eq!(m.args[0].1, crate::i18n::Arg::Text("ada".into()));
        assert_eq!(m.args[1].1, crate::i18n::Arg::Text("0190-ab".into()));
        assert_eq!(actor("command line").key, "audit-actor-cli");
        let m = actor("cli hccc (1000)");
        assert_eq!(m.key, "audit-actor-cli-user");
        assert_eq!(m.args[0].1, crate::i18n::Arg::Text("hccc".into()));
        assert_eq!(m.args[1].1, crate::i18n::Arg::Text("1000".into()));
        assert_eq!(actor("something else").key, "audit-actor-other");
    }

    #[test]
    fn dates_are_whole_days_and_bad_ones_are_refused() {
        assert_eq!(day("", 0).ok(), Some(None));
        assert_eq!(day("2026-12-02", 0).ok(), Some(Some(1_796_169_600)));
        assert_eq!(day("2026-12-02", 86_400).ok(), Some(Some(1_796_256_000)));
        assert!(day("12/02/2026", 0).is_err());
    }
}
