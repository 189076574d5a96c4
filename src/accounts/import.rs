//! Bulk import of the student information system's CSV export: planned first (the dry run),
//! then applied in one transaction, all rows or none. Rows are matched to accounts by username,
//! so importing the same file twice changes nothing the second time.

use std::collections::{HashMap, HashSet};

use super::directory::{NewUser, check_new_user};
use crate::domain::{FieldError, MAX_IMPORT_BYTES};
use crate::i18n::Message;
use crate::store::{AccountRow, NewAccount, Store, StoreError, normalize_key};

pub const MAX_IMPORT_ROWS: usize = 100_000;
pub const COLUMNS: [&str; 8] = [
    "username",
    "email",
    "given_name",
    "family_name",
    "roles",
    "groups",
    "locale",
    "recovery_email",
];

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file as a whole cannot be read (not CSV, wrong header, too big).
    #[error("{0}")]
    File(Message),
    #[error("{0} rows were rejected; nothing was imported")]
    Rejected(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A row that cannot be imported; `line` is the file's line number (the header is line 1).
/// Its problems name their fields; a problem of the row as a whole names none (`""`).
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub line: u64,
    pub username: String,
    pub problems: Vec<FieldError>,
}

impl RejectedRow {
    /// The problems in English, `field: problem; …` (the CLI, the audit log).
    pub fn reason(&self) -> String {
        self.problems
            .iter()
            .map(|p| match p.field.as_str() {
                "" => p.english(),
                field => format!("{field}: {}", p.english()),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl serde::Serialize for RejectedRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("RejectedRow", 3)?;
        out.serialize_field("line", &self.line)?;
        out.serialize_field("username", &self.username)?;
        out.serialize_field("reason", &self.reason())?;
        out.end()
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedRow {
    pub line: u64,
    pub username: String,
}

/// What an import would do.
#[derive(Default)]
pub struct ImportPlan {
    pub creates: Vec<(PlannedRow, NewAccount)>,
    pub updates: Vec<(PlannedRow, AccountRow)>,
    pub unchanged: usize,
    pub rejected: Vec<RejectedRow>,
}

impl ImportPlan {
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "created": self.creates.len(),
            "updated": self.updates.len(),
            "unchanged": self.unchanged,
            "rejected": self.rejected.len(),
        })
    }
}

struct CsvRow {
    line: u64,
    fields: HashMap<&'static str, String>,
}

/// `a; b ;c` → `["a", "b", "c"]`: roles and groups are `;`-separated within their cell.
fn split_list(cell: &str) -> Vec<String> {
    cell.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn read_rows(data: &[u8]) -> Result<Vec<CsvRow>, ImportError> {
    if data.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::File(
            Message::new("import-too-large").with("mib", MAX_IMPORT_BYTES / 1024 / 1024),
        ));
    }
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(data);
    let header = reader
        .headers()
        .map_err(|_| ImportError::File(Message::new("import-bad-header")))?
        .clone();
    let mut positions = Vec::new();
    for (index, name) in header.iter().enumerate() {
        let name = name.to_lowercase();
        let Some(column) = COLUMNS.iter().find(|c| **c == name) else {
            return Err(ImportError::File(
                Message::new("import-unknown-column")
                    .with("column", crate::domain::shown(&name))
                    .with("columns", COLUMNS.join(", ")),
            ));
        };
        if positions.iter().any(|(_, c)| c == column) {
            return Err(ImportError::File(
                Message::new("import-repeated-column").with("column", crate::domain::shown(&name)),
            ));
        }
        positions.push((index, *column));
    }
    for required in ["username", "email"] {
        if !positions.iter().any(|(_, c)| *c == required) {
            return Err(ImportError::File(
                Message::new("import-missing-column").with("column", required),
            ));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ImportError::File(Message::new("import-bad-line").with("line", line))
        })?;
        if rows.len() >= MAX_IMPORT_ROWS {
            return Err(ImportError::File(
                Message::new("import-too-many-rows").with("max", MAX_IMPORT_ROWS),
            ));
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let fields = positions
            .iter()
            .map(|(index, column)| (*column, record.get(*index).unwrap_or("").to_owned()))
            .collect();
        rows.push(CsvRow { line, fields });
    }
    Ok(rows)
}

/// Reads and checks the whole file against the directory, writing nothing.
pub async fn plan(store: &Store, data: &[u8]) -> Result<ImportPlan, ImportError> {
    let rows = read_rows(data)?;
    let field = |row: &CsvRow, name: &str| row.fields.get(name).cloned().unwrap_or_default();
    let usernames: Vec<String> = rows.iter().map(|r| field(r, "username")).collect();
    let emails: Vec<String> = rows.iter().map(|r| field(r, "email")).collect();
    let existing: HashMap<String, AccountRow> = store
        .find_accounts_by_usernames(&usernames)
        .await?
        .into_iter()
        .map(|a| (normalize_key(&a.username), a))
        .collect();
    let email_owners: HashMap<String, String> = store
        .find_email_owners(&emails)
        .await?
        .into_iter()
        .collect();

    let mut plan = ImportPlan::default();
    let mut seen_usernames = HashSet::new();
    let mut seen_emails = HashSet::new();
    for row in rows {
        let username = field(&row, "username");
        let reject = |key: &'static str| RejectedRow {
            line: row.line,
            username: username.clone(),
            problems: vec![FieldError::new("", Message::new(key))],
        };
        let roles = split_list(&field(&row, "roles"));
        let user = NewUser {
            username: username.clone(),
            email: field(&row, "email"),
            email_verified: false,
            given_name: Some(field(&row, "given_name")),
            family_name: Some(field(&row, "family_name")),
            roles: roles.clone(),
            groups: split_list(&field(&row, "groups")),
            password: None,
            must_change_password: false,
            locale: row.fields.get("locale").cloned(),
            recovery_email: row.fields.get("recovery_email").cloned(),
        };
        let new = match check_new_user(&user) {
            Ok(new) => new,
            Err(problems) => {
                plan.rejected.push(RejectedRow {
                    line: row.line,
                    username: username.clone(),
                    problems,
                });
                continue;
            }
        };
        let username_key = normalize_key(&new.username);
        let email_key = normalize_key(&new.email);
        if !seen_usernames.insert(username_key.clone()) {
            plan.rejected.push(reject("import-repeated-username"));
            continue;
        }
        if !seen_emails.insert(email_key.clone()) {
            plan.rejected.push(reject("import-repeated-email"));
            continue;
        }
        if let Some(owner) = email_owners.get(&email_key)
            && *owner != username_key
        {
            plan.rejected.push(reject("import-email-taken"));
            continue;
        }
        let planned = PlannedRow {
            line: row.line,
            username: new.username.clone(),
        };
        // Admin rights are given one person at a time, never by a file.
        let grants_admin = new.roles.iter().any(|r| r == "admin");
        match existing.get(&username_key) {
            None if grants_admin => plan.rejected.push(reject("import-admin-role")),
            None => plan.creates.push((planned, new)),
            Some(current) => {
                let is_admin = current.roles.contains_str("admin");
                if is_admin != grants_admin {
                    plan.rejected.push(reject("import-admin-role-change"));
                    continue;
                }
                let mut after = current.clone();
                after.email = new.email;
                after.given_name = new.given_name;
                after.family_name = new.family_name;
                after.roles.0 = new.roles;
                after.groups.0 = new.groups;
                // Without a locale column (or with an empty cell) the preference is kept.
                if new.locale.is_some() {
                    after.locale = new.locale;
                }
                if new.recovery_email.is_some() {
                    after.recovery_email = new.recovery_email;
                }
                let changed = after.email != current.email
                    || after.given_name != current.given_name
                    || after.family_name != current.family_name
                    || after.roles != current.roles
                    || after.groups != current.groups
                    || after.locale != current.locale
                    || after.recovery_email != current.recovery_email;
                if changed {
                    plan.updates.push((planned, after));
                } else {
                    plan.unchanged += 1;
                }
            }
        }
    }
    Ok(plan)
}

/// Writes a plan: refused as a whole when any row was rejected.
pub async fn apply(store: &Store, plan: &ImportPlan, now: i64) -> Result<(), ImportError> {
    if !plan.rejected.is_empty() {
        return Err(ImportError::Rejected(plan.rejected.len()));
    }
    let creates: Vec<&NewAccount> = plan.creates.iter().map(|(_, new)| new).collect();
    let updates: Vec<&AccountRow> = plan.updates.iter().map(|(_, a)| a).collect();
    store.apply_account_import(&creates, &updates, now).await?;
    Ok(())
}
