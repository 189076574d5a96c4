//! Searching the directory: the admin list's filter as SQL, its page and capped count, and the
//! accounts an invitation run selects with the same filter.

use uuid::Uuid;

use super::accounts::ACCOUNT_COLUMNS;
use super::listing::{COUNT_CAP, Count, like_pattern};
use super::{AccountFilter, AccountRow, Store, StoreError, on_pool};

/// The pattern a directory search matches with: a part of the text for three characters or
/// more (what a trigram index can find), the start of it for one or two.
fn search_pattern(term: &str) -> String {
    let pattern = like_pattern(term);
    if term.chars().count() >= 3 {
        pattern
    } else {
        pattern.strip_prefix('%').unwrap_or(&pattern).to_owned()
    }
}

/// A WHERE clause of conditions joined by `and`, each binding at most one string, numbered in
/// order (`$1`, `$2`, … on both backends).
pub(super) struct Conditions {
    clauses: Vec<String>,
    pub binds: Vec<String>,
}

impl Conditions {
    pub fn new() -> Conditions {
        Conditions {
            clauses: Vec::new(),
            binds: Vec::new(),
        }
    }

    /// A condition that binds nothing itself: its values are ours, never the caller's text, or
    /// bound already by `placeholder`.
    pub fn fixed(&mut self, clause: &str) {
        self.clauses.push(clause.to_owned());
    }

    /// `<left> $n`, binding `value` as the next placeholder.
    pub fn bound(&mut self, left: &str, value: String) {
        self.binds.push(value);
        self.clauses.push(format!("{left} ${}", self.binds.len()));
    }

    /// Binds `value` as the next placeholder and returns it (`$n`), for a clause that uses it
    /// several times or binds several values.
    pub fn placeholder(&mut self, value: String) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("where {}", self.clauses.join(" and "))
        }
    }
}

/// The part of a search term that finds e-mail addresses by the trigram index: the part before
/// an `@` when it has three characters or more. Every address of a college shares its domain's
/// trigrams, so a whole address read their posting lists of every account (26 ms at a million
/// accounts) where the part before the `@` alone finds the few candidates in 1 to 2 ms.
fn email_fragment(term: &str) -> Option<&str> {
    let (local, _) = term.split_once('@')?;
    (local.chars().count() >= 3).then_some(local)
}

/// The directory filter as conditions: a search of username, e-mail and name, a role, a status.
/// The name expression is the one `account_name_trgm` indexes on PostgreSQL.
fn account_conditions(filter: &AccountFilter) -> Conditions {
    let mut conditions = Conditions::new();
    if let Some(search) = filter.search.as_deref() {
        let term = conditions.placeholder(search_pattern(search));
        let email = match email_fragment(search) {
            // The whole term is checked on `lower(email_key)`, which no index covers, so
            // PostgreSQL scans the index for the fragment alone and checks the term on the
            // rows it finds (a fragment of the term matches wherever the term does).
            Some(fragment) => {
                let fragment = conditions.placeholder(like_pattern(fragment));
                format!(
                    "(email_key like {fragment} escape '\\' and lower(email_key) like {term} escape '\\')"
                )
            }
            None => format!("email_key like {term} escape '\\'"),
        };
        conditions.fixed(&format!(
            "(username_key like {term} escape '\\' or {email} \
             or lower(coalesce(given_name, '') || ' ' || coalesce(family_name, '')) like {term} escape '\\')"
        ));
    }
    // Role names are validated against the fixed list, so they carry no LIKE wildcards.
    if let Some(role) = filter.role.as_deref() {
        conditions.bound("roles like", format!("%\"{role}\"%"));
    }
    // A literal rather than a parameter, so PostgreSQL can use the partial index of disabled accounts.
    match filter.disabled {
        Some(true) => conditions.fixed("disabled"),
        Some(false) => conditions.fixed("not disabled"),
        None => {}
    }
    conditions
}

impl Store {
    /// Enabled accounts without a password that match: by the list's filter, a group, or ids (any
    /// left out matches all), for invitations.
    pub async fn accounts_to_invite(
        &self,
        filter: &AccountFilter,
        group: Option<&str>,
        ids: Option<&[Uuid]>,
    ) -> Result<Vec<AccountRow>, StoreError> {
        // The same filter as the list the admin is looking at, so "invite all filtered" invites
        // what the list showed.
        let mut conditions = account_conditions(filter);
        conditions.fixed("password_hash is null and not disabled");
        if let Some(group) = group {
            conditions.bound(
                "groups like",
                format!("%{}%", serde_json::Value::from(group)),
            );
        }
        let first_id = conditions.binds.len() + 1;
        let ids = ids.map(|ids| ids.get(..1000).unwrap_or(ids));
        if let Some(ids) = ids {
            let list = if ids.is_empty() {
                "null".to_owned()
            } else {
                (first_id..first_id + ids.len())
                    .map(|n| format!("${n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            conditions.fixed(&format!("account_id in ({list})"));
        }
        let sql = format!(
            "select {ACCOUNT_COLUMNS} from account {} order by username_key",
            conditions.sql()
        );
        Ok(on_pool!(self, pool => {
            let mut query = sqlx::query_as::<_, AccountRow>(&sql);
            for bind in &conditions.binds {
                query = query.bind(bind);
            }
            for id in ids.unwrap_or_default() {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?)
    }

    /// One page of accounts, ordered by username, and how many match, counted up to
    /// `COUNT_CAP` (a count past that would read every matching row of a large directory).
    pub async fn list_accounts(
        &self,
        filter: &AccountFilter,
    ) -> Result<(Vec<AccountRow>, Count), StoreError> {
        let conditions = account_conditions(filter);
        let where_sql = conditions.sql();
        let n = conditions.binds.len();
        let count_sql = format!(
            "select count(*) from (select 1 from account {where_sql} limit {}) matched",
            COUNT_CAP + 1
        );
        let page_sql = format!(
            "select {ACCOUNT_COLUMNS} from account {where_sql} order by username_key limit ${} offset ${}",
            n + 1,
            n + 2
        );
        on_pool!(self, pool => {
            let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
            let mut page = sqlx::query_as::<_, AccountRow>(&page_sql);
            for bind in &conditions.binds {
                count = count.bind(bind);
                page = page.bind(bind);
            }
            // Two connections at once: the count and the page each take a few milliseconds.
            let (matched, rows) = tokio::try_join!(
                count.fetch_one(pool),
                page.bind(filter.limit).bind(filter.offset).fetch_all(pool)
            )?;
            Ok((rows, Count::capped(matched)))
        })
    }
}
