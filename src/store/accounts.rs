use uuid::Uuid;

use super::authorization::{GRANT_COLUMNS, GrantRecord};
use super::links::{LinkPurpose, end_links_sql};
use super::{Db, GrantRow, Store, StoreError, encode_string_list, on_pool};

/// Which of an account's grants outlive a password change.
#[derive(Debug, Clone, Copy)]
pub enum KeepGrants {
    /// None: an admin set the password, or the old one was temporary.
    None,
    /// Those of the browser session the person changed it from.
    OfSession(Uuid),
    /// The grant of the token that changed it through the API.
    Grant(Uuid),
}

/// The refresh tokens of an account's revoked grants (`$1` the account), deleted with them.
pub(super) const DROP_TOKENS: &str = "delete from refresh_token where grant_id in \
    (select grant_id from oauth_grant where account_id = $1 and revoked_at is not null)";
/// An account's browser sessions (`$1`) but one (`$2`, or none): they end at their next request.
pub(super) const END_SESSIONS: &str =
    "delete from browser_session where account_id = $1 and ($2 is null or sid <> $2)";

/// What a password change did.
#[derive(Debug)]
pub struct PasswordSet {
    pub credential_version: i64,
    /// The grants it revoked, whose apps get a back-channel logout.
    pub ended: Vec<GrantRow>,
}

/// A JSON array of strings kept in a text column (roles, groups).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringList(pub Vec<String>);

impl TryFrom<String> for StringList {
    type Error = serde_json::Error;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        serde_json::from_str(&raw).map(StringList)
    }
}

impl std::ops::Deref for StringList {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.0
    }
}

impl StringList {
    pub fn contains_str(&self, value: &str) -> bool {
        self.0.iter().any(|v| v == value)
    }
}

#[derive(Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: Uuid,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(try_from = "String")]
    pub roles: StringList,
    #[sqlx(try_from = "String")]
    pub groups: StringList,
    pub must_change_password: bool,
    /// Bumped by every password change; sessions signed in under an older value are over.
    pub credential_version: i64,
    /// The language the person prefers (`en`, `es`), if they chose one.
    pub locale: Option<String>,
    /// Where invitations and resets go when there is one (the college mailbox may itself be
    /// behind this sign-on).
    pub recovery_email: Option<String>,
}

impl std::fmt::Debug for AccountRow {
    // The password hash stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("account_id", &self.account_id)
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl AccountRow {
    /// `given family`, or the username when neither is known.
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            self.username.clone()
        } else {
            parts.join(" ")
        }
    }

    pub fn is_active_admin(&self) -> bool {
        !self.disabled && self.roles.contains_str("admin")
    }
}

pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub must_change_password: bool,
    pub locale: Option<String>,
    pub recovery_email: Option<String>,
}

/// What a directory listing is narrowed to.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    /// Matches part of the username, e-mail address or name, case-insensitively.
    pub search: Option<String>,
    pub role: Option<String>,
    /// `Some(true)` only disabled accounts, `Some(false)` only active ones.
    pub disabled: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

pub(super) const ACCOUNT_COLUMNS: &str = "account_id, username, email, email_verified, given_name, family_name, \
    password_hash, disabled, created_at, updated_at, roles, groups, must_change_password, credential_version, \
    locale, recovery_email";

/// Case-insensitive uniqueness is kept in a normalized column (portable across backends).
pub fn normalize_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// `%value%` for LIKE with `\` escaping the wildcards in the value.
pub(super) fn like_pattern(value: &str) -> String {
    let mut pattern = String::with_capacity(value.len() + 2);
    pattern.push('%');
    for c in value.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How far a listing counts its matches: "more than 1,000" is all an admin needs to narrow a
/// search, and each counted match is a row read (at a million accounts, counting 10,000 matches
/// of a name took 66 ms; 1,000 take a tenth of that).
pub const COUNT_CAP: i64 = 1_000;

/// How many rows matched, up to `COUNT_CAP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub value: i64,
    /// More than `value` matched (the count stopped at the cap).
    pub more: bool,
}

impl Count {
    pub fn exact(value: i64) -> Count {
        Count { value, more: false }
    }

    /// From a count of up to `COUNT_CAP + 1` rows.
    pub fn capped(counted: i64) -> Count {
        Count {
            value: counted.min(COUNT_CAP),
            more: counted > COUNT_CAP,
        }
    }
}

/// The pattern a directory search matches with: a part of the text for three characters or
/// more (what a trigram index can find), the start of it for one or two.
pub(super) fn search_pattern(term: &str) -> String {
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

const INSERT_ACCOUNT: &str = "insert into account (account_id, username, username_key, email, email_key, \
    email_verified, given_name, family_name, password_hash, disabled, created_at, updated_at, roles, groups, \
    must_change_password, locale, recovery_email) ";

/// An account's active admins are counted under a row lock on PostgreSQL, so two concurrent
/// demotions cannot both pass; SQLite serializes writers anyway.
const ACTIVE_ADMINS_PG: &str = "select account_id from account \
    where roles like '%\"admin\"%' and disabled = false for update";
const ACTIVE_ADMINS_SQLITE: &str =
    "select account_id from account where roles like '%\"admin\"%' and disabled = false";

/// What the import changes of an existing account, and nothing else.
const IMPORT_UPDATE: &str = "update account set email = $2, email_key = $3, given_name = $4, family_name = $5, \
    roles = $6, groups = $7, updated_at = $8, locale = coalesce($9, locale), \
    recovery_email = coalesce($10, recovery_email) where account_id = $1";

const REVOKE_ACCOUNT_GRANTS: &str =
    "update oauth_grant set revoked_at = $2 where account_id = $1 and revoked_at is null";

impl Store {
    pub async fn insert_account(
        &self,
        new: NewAccount,
        now: i64,
    ) -> Result<AccountRow, StoreError> {
        let account_id = Uuid::new_v4();
        let sql = format!(
            "{INSERT_ACCOUNT} values ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10, $10, $11, $12, $13, $14, $15)"
        );
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(account_id)
            .bind(&new.username)
            .bind(normalize_key(&new.username))
            .bind(&new.email)
            .bind(normalize_key(&new.email))
            .bind(new.email_verified)
            .bind(&new.given_name)
            .bind(&new.family_name)
            .bind(&new.password_hash)
            .bind(now)
            .bind(encode_string_list(&new.roles))
            .bind(encode_string_list(&new.groups))
            .bind(new.must_change_password)
            .bind(&new.locale)
            .bind(&new.recovery_email)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        self.find_account(account_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn find_account(&self, account_id: Uuid) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("select {ACCOUNT_COLUMNS} from account where account_id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, AccountRow>(&sql)
            .bind(account_id).fetch_optional(pool).await)?)
    }

    /// Looks an account up by username or e-mail address, case-insensitively.
    pub async fn find_account_by_login(
        &self,
        login: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "select {ACCOUNT_COLUMNS} from account where username_key = $1 or email_key = $1 \
             order by case when username_key = $1 then 0 else 1 end limit 1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, AccountRow>(&sql)
            .bind(normalize_key(login)).fetch_optional(pool).await)?)
    }

    pub async fn count_accounts(&self) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from account";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, i64>(SQL).fetch_one(pool).await)?)
    }

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

    /// Writes the fields in which `after` differs from `before`, and only those, so a change made
    /// meanwhile to another field (an admin disabling the account while another renames it) is
    /// kept. When the change disables the account, its grants are revoked in the same transaction
    /// (ending refresh and access tokens), and its unspent e-mailed links end. Refuses with
    /// `LastAdmin` a change that would leave no active admin, judged against the rows as they are
    /// inside the transaction.
    pub async fn update_account(
        &self,
        before: &AccountRow,
        after: &AccountRow,
        now: i64,
    ) -> Result<AccountRow, StoreError> {
        let roles_change = after.roles != before.roles;
        let disabled_change = after.disabled != before.disabled;
        let stays_admin = (!roles_change || after.roles.contains_str("admin"))
            && (!disabled_change || !after.disabled);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let admins_sql = match self.db() { Db::Postgres(_) => ACTIVE_ADMINS_PG, Db::Sqlite(_) => ACTIVE_ADMINS_SQLITE };
            let admins: Vec<Uuid> = sqlx::query_scalar(admins_sql).fetch_all(&mut *tx).await?;
            if admins.contains(&after.account_id) && !stays_admin && admins.len() == 1 {
                return Err(StoreError::LastAdmin);
            }
            let mut update = sqlx::QueryBuilder::new("update account set updated_at = ");
            update.push_bind(now);
            if after.username != before.username {
                update.push(", username = ").push_bind(after.username.clone());
                update.push(", username_key = ").push_bind(normalize_key(&after.username));
            }
            if after.email != before.email {
                update.push(", email = ").push_bind(after.email.clone());
                update.push(", email_key = ").push_bind(normalize_key(&after.email));
            }
            if after.email_verified != before.email_verified {
                update.push(", email_verified = ").push_bind(after.email_verified);
            }
            if after.given_name != before.given_name {
                update.push(", given_name = ").push_bind(after.given_name.clone());
            }
            if after.family_name != before.family_name {
                update.push(", family_name = ").push_bind(after.family_name.clone());
            }
            if roles_change {
                update.push(", roles = ").push_bind(encode_string_list(&after.roles));
            }
            if after.groups != before.groups {
                update.push(", groups = ").push_bind(encode_string_list(&after.groups));
            }
            if disabled_change {
                update.push(", disabled = ").push_bind(after.disabled);
            }
            if after.must_change_password != before.must_change_password {
                update.push(", must_change_password = ").push_bind(after.must_change_password);
            }
            if after.locale != before.locale {
                update.push(", locale = ").push_bind(after.locale.clone());
            }
            if after.recovery_email != before.recovery_email {
                update
                    .push(", recovery_email = ")
                    .push_bind(after.recovery_email.clone());
            }
            update.push(" where account_id = ").push_bind(after.account_id);
            let updated = update.build().execute(&mut *tx).await?.rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            if disabled_change && after.disabled {
                sqlx::query(REVOKE_ACCOUNT_GRANTS).bind(after.account_id).bind(now).execute(&mut *tx).await?;
                // Ended, not only refused while disabled: re-enabling must not bring a link back.
                let (end_links, drop_mail) = end_links_sql(&LinkPurpose::ALL);
                sqlx::query(&end_links).bind(after.account_id).bind(now).execute(&mut *tx).await?;
                sqlx::query(&drop_mail).bind(after.account_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        self.find_account(after.account_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Deletes an account (its grants, consents and device requests go with it by cascade).
    pub async fn delete_account(&self, account_id: Uuid) -> Result<(), StoreError> {
        const DELETE: &str = "delete from account where account_id = $1";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let admins_sql = match self.db() { Db::Postgres(_) => ACTIVE_ADMINS_PG, Db::Sqlite(_) => ACTIVE_ADMINS_SQLITE };
            let admins: Vec<Uuid> = sqlx::query_scalar(admins_sql).fetch_all(&mut *tx).await?;
            if admins.contains(&account_id) && admins.len() == 1 {
                return Err(StoreError::LastAdmin);
            }
            let deleted = sqlx::query(DELETE).bind(account_id).execute(&mut *tx).await?.rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        Ok(())
    }

    /// Sets a new password hash and ends what was signed in with the old one: the credential
    /// version moves on and their browser sessions' rows go (so they end at their next request), and
    /// every live grant of the account but `keep` is revoked with its refresh tokens, in one
    /// transaction. The same transaction ends the account's unspent invitation, reset and
    /// e-mail-change links (`LinkPurpose::ENDED_BY_A_PASSWORD`), whatever set the password.
    /// Returns the new version and the grants ended, whose apps are told (logout).
    pub async fn set_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        must_change: bool,
        keep: KeepGrants,
        now: i64,
    ) -> Result<PasswordSet, StoreError> {
        self.write_password(account_id, password_hash, must_change, keep, false, now)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Sets the first password of an account that has none (an invitation's): `None`, and
    /// nothing written, when the account got a password another way meanwhile (an admin, a
    /// reset), which an invitation must not replace. Ends what `set_password` ends.
    pub async fn set_first_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<PasswordSet>, StoreError> {
        self.write_password(
            account_id,
            password_hash,
            false,
            KeepGrants::None,
            true,
            now,
        )
        .await
    }

    /// `set_password`, or with `first_only` only where the account has no password yet (judged
    /// by the update itself, so a password set at the same moment is never replaced).
    async fn write_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        must_change: bool,
        keep: KeepGrants,
        first_only: bool,
        now: i64,
    ) -> Result<Option<PasswordSet>, StoreError> {
        const SQL: &str = "update account set password_hash = $2, must_change_password = $3, updated_at = $4, \
            credential_version = credential_version + 1 where account_id = $1 \
            and ($5 = false or password_hash is null) returning credential_version";
        let end_grants = format!(
            "update oauth_grant set revoked_at = $2 where account_id = $1 and revoked_at is null \
             and ($3 is null or sid <> $3) and ($4 is null or grant_id <> $4) returning {GRANT_COLUMNS}"
        );
        let (end_links, drop_mail) = end_links_sql(&LinkPurpose::ENDED_BY_A_PASSWORD);
        let (keep_sid, keep_grant) = match keep {
            KeepGrants::None => (None, None),
            KeepGrants::OfSession(sid) => (Some(sid), None),
            KeepGrants::Grant(grant_id) => (None, Some(grant_id)),
        };
        let written = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let version = sqlx::query_scalar::<_, i64>(SQL).bind(account_id).bind(password_hash)
                .bind(must_change).bind(now).bind(first_only).fetch_optional(&mut *tx).await?;
            match version {
                // Nothing written: the transaction rolls back as it is dropped.
                None => None,
                Some(version) => {
                    let ended = sqlx::query_as::<_, GrantRecord>(&end_grants).bind(account_id).bind(now)
                        .bind(keep_sid).bind(keep_grant).fetch_all(&mut *tx).await?;
                    sqlx::query(DROP_TOKENS).bind(account_id).execute(&mut *tx).await?;
                    sqlx::query(END_SESSIONS).bind(account_id).bind(keep_sid).execute(&mut *tx).await?;
                    sqlx::query(&end_links).bind(account_id).bind(now).execute(&mut *tx).await?;
                    sqlx::query(&drop_mail).bind(account_id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Some((version, ended))
                }
            }
        });
        let Some((credential_version, records)) = written else {
            return Ok(None);
        };
        self.cache.invalidate();
        Ok(Some(PasswordSet {
            credential_version,
            ended: records
                .into_iter()
                .map(GrantRow::try_from)
                .collect::<Result<_, _>>()?,
        }))
    }

    pub async fn set_account_disabled(
        &self,
        account_id: Uuid,
        disabled: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let before = self
            .find_account(account_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut after = before.clone();
        after.disabled = disabled;
        self.update_account(&before, &after, now).await.map(|_| ())
    }

    /// The accounts with these usernames (compared case-insensitively), for the bulk import.
    pub async fn find_accounts_by_usernames(
        &self,
        usernames: &[String],
    ) -> Result<Vec<AccountRow>, StoreError> {
        let mut found = Vec::new();
        for chunk in usernames.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select {ACCOUNT_COLUMNS} from account where username_key in ({})",
                placeholders.join(", ")
            );
            on_pool!(self, pool => {
                let mut query = sqlx::query_as::<_, AccountRow>(&sql);
                for name in chunk {
                    query = query.bind(normalize_key(name));
                }
                found.extend(query.fetch_all(pool).await?);
            });
        }
        Ok(found)
    }

    /// The e-mail keys in use by accounts other than those named, to check an import's addresses.
    pub async fn find_email_owners(
        &self,
        emails: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found = Vec::new();
        for chunk in emails.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select email_key, username_key from account where email_key in ({})",
                placeholders.join(", ")
            );
            on_pool!(self, pool => {
                let mut query = sqlx::query_as::<_, (String, String)>(&sql);
                for email in chunk {
                    query = query.bind(normalize_key(email));
                }
                found.extend(query.fetch_all(pool).await?);
            });
        }
        Ok(found)
    }

    /// Creates and updates accounts in one transaction: all of them or none. Updates write only
    /// what an import changes (e-mail, names, roles, groups), never the status or password.
    pub async fn apply_account_import(
        &self,
        creates: &[&NewAccount],
        updates: &[&AccountRow],
        now: i64,
    ) -> Result<(), StoreError> {
        // 17 values a row; 400 rows keep each statement under both backends' bind limits.
        const ROWS_PER_INSERT: usize = 400;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for chunk in creates.chunks(ROWS_PER_INSERT) {
                let mut builder = sqlx::QueryBuilder::new(INSERT_ACCOUNT);
                builder.push_values(chunk, |mut row, new| {
                    row.push_bind(Uuid::new_v4())
                        .push_bind(new.username.clone())
                        .push_bind(normalize_key(&new.username))
                        .push_bind(new.email.clone())
                        .push_bind(normalize_key(&new.email))
                        .push_bind(new.email_verified)
                        .push_bind(new.given_name.clone())
                        .push_bind(new.family_name.clone())
                        .push_bind(new.password_hash.clone())
                        .push_bind(false)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(encode_string_list(&new.roles))
                        .push_bind(encode_string_list(&new.groups))
                        .push_bind(new.must_change_password)
                        .push_bind(new.locale.clone())
                        .push_bind(new.recovery_email.clone());
                });
                builder.build().execute(&mut *tx).await?;
            }
            for account in updates {
                sqlx::query(IMPORT_UPDATE)
                    .bind(account.account_id)
                    .bind(&account.email)
                    .bind(normalize_key(&account.email))
                    .bind(&account.given_name)
                    .bind(&account.family_name)
                    .bind(encode_string_list(&account.roles))
                    .bind(encode_string_list(&account.groups))
                    .bind(now)
                    .bind(&account.locale)
                    .bind(&account.recovery_email)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        self.cache.invalidate();
        Ok(())
    }
}
