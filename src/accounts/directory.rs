//! Directory changes made by admins (API, admin pages, CLI): one set of rules for every entry point.

use uuid::Uuid;

use super::PasswordHasher;
use crate::domain;
use crate::i18n::Message;
use crate::store::{
    AccountFilter, AccountRow, KeepGrants, NewAccount, PasswordSet, Store, StoreError,
};

/// Who makes a change: the audit log's `Actor`, also asked here for permission checks.
pub use crate::audit::Actor;

pub use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("an account with this username or e-mail address already exists")]
    Duplicate,
    #[error("no such account")]
    NotFound,
    /// A rule of who may change what; the catalog key of its explanation.
    #[error("{}", crate::i18n::Lang::ENGLISH.text(.0))]
    Forbidden(&'static str),
    #[error("the last active admin cannot be removed, disabled or demoted")]
    LastAdmin,
    #[error(transparent)]
    Store(StoreError),
    #[error("password hashing failed")]
    Hash,
}

impl DirectoryError {
    /// What a page says of a refusal that is not about one field.
    pub fn message(&self) -> crate::i18n::Message {
        use crate::i18n::Message;
        match self {
            DirectoryError::Duplicate => Message::new("error-account-exists"),
            DirectoryError::NotFound => Message::new("error-not-found"),
            DirectoryError::Forbidden(key) => Message::new(key),
            DirectoryError::LastAdmin => Message::new("error-last-admin"),
            DirectoryError::Invalid(_) => Message::new("form-has-problems"),
            DirectoryError::Store(_) | DirectoryError::Hash => Message::new("error-server"),
        }
    }
}

impl From<StoreError> for DirectoryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => DirectoryError::NotFound,
            StoreError::Conflict => DirectoryError::Duplicate,
            StoreError::LastAdmin => DirectoryError::LastAdmin,
            other => DirectoryError::Store(other),
        }
    }
}

/// Collects field errors so a form or API call reports all of them at once.
#[derive(Default)]
struct Checks(Vec<FieldError>);

impl Checks {
    fn take<T>(&mut self, field: &str, result: Result<T, Message>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.0.push(FieldError {
                    field: field.into(),
                    message,
                });
                None
            }
        }
    }

    fn finish(self) -> Result<(), DirectoryError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DirectoryError::Invalid(self.0))
        }
    }
}

/// A new account as an admin describes it. Without a password the account cannot sign in until
/// an admin sets one (imported students, for instance).
#[derive(Debug, Default, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub password: Option<String>,
    /// The password is temporary: it must be changed at the next sign-in.
    pub must_change_password: bool,
    /// The person's language (`en`, `es`, or a regional form of one), if known.
    pub locale: Option<String>,
    /// Another address for invitations and resets, if the college mailbox is behind this sign-on.
    pub recovery_email: Option<String>,
}

/// A change to an account: `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct UserChange {
    pub username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    pub disabled: Option<bool>,
    /// `Some(None)` clears the preference.
    pub locale: Option<Option<String>>,
    /// `Some(None)` removes the recovery address.
    pub recovery_email: Option<Option<String>>,
}

/// An optional e-mail address (blank is none).
pub fn validate_optional_email(raw: Option<&str>) -> Result<Option<String>, Message> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(address) => domain::validate_email(address).map(Some),
    }
}

/// A language we have a catalog for, as its tag (`es-US` is `es`); blank means none.
pub fn validate_locale(raw: Option<&str>) -> Result<Option<String>, Message> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(tag) => crate::i18n::Lang::from_tag(tag)
            .map(|lang| Some(lang.tag()))
            .ok_or_else(|| {
                let known: Vec<String> = crate::i18n::Lang::all().map(|l| l.tag()).collect();
                Message::new("invalid-locale").with("languages", known.join(", "))
            }),
    }
}

/// Validates the profile fields of a new account into what would be stored (no password).
pub fn check_new_user(user: &NewUser) -> Result<NewAccount, Vec<FieldError>> {
    let mut checks = Checks::default();
    let username = checks.take("username", domain::validate_username(&user.username));
    let email = checks.take("email", domain::validate_email(&user.email));
    let given_name = checks.take(
        "given_name",
        domain::validate_name(user.given_name.as_deref()),
    );
    let family_name = checks.take(
        "family_name",
        domain::validate_name(user.family_name.as_deref()),
    );
    let roles = checks.take("roles", domain::validate_roles(&user.roles));
    let locale = checks.take("locale", validate_locale(user.locale.as_deref()));
    let recovery_email = checks.take(
        "recovery_email",
        validate_optional_email(user.recovery_email.as_deref()),
    );
    let groups = checks.take("groups", domain::validate_groups(&user.groups));
    if let (Some(password), Some(name)) = (&user.password, &username) {
        checks.take("password", domain::validate_password(password, name));
    }
    if !checks.0.is_empty() {
        return Err(checks.0);
    }
    Ok(NewAccount {
        username: username.unwrap_or_default(),
        email: email.unwrap_or_default(),
        email_verified: user.email_verified,
        given_name: given_name.flatten(),
        family_name: family_name.flatten(),
        password_hash: None,
        roles: roles.unwrap_or_default(),
        groups: groups.unwrap_or_default(),
        must_change_password: user.must_change_password && user.password.is_some(),
        locale: locale.flatten(),
        recovery_email: recovery_email.flatten(),
    })
}

pub async fn create_user(
    store: &Store,
    hasher: &PasswordHasher,
    user: NewUser,
    now: i64,
) -> Result<AccountRow, DirectoryError> {
    let mut new = check_new_user(&user).map_err(DirectoryError::Invalid)?;
    if let Some(password) = &user.password {
        new.password_hash = Some(
            hasher
                .hash(password)
                .await
                .map_err(|_| DirectoryError::Hash)?,
        );
    }
    Ok(store.insert_account(new, now).await?)
}

/// Applies `change` to `account` with validation, without storing it.
pub fn apply_change(account: &mut AccountRow, change: &UserChange) -> Result<(), DirectoryError> {
    let mut checks = Checks::default();
    if let Some(v) = &change.username
        && let Some(name) = checks.take("username", domain::validate_username(v))
    {
        account.username = name;
    }
    if let Some(v) = &change.email
        && let Some(email) = checks.take("email", domain::validate_email(v))
    {
        account.email = email;
    }
    if let Some(v) = change.email_verified {
        account.email_verified = v;
    }
    if let Some(v) = &change.given_name
        && let Some(name) = checks.take("given_name", domain::validate_name(v.as_deref()))
    {
        account.given_name = name;
    }
    if let Some(v) = &change.family_name
        && let Some(name) = checks.take("family_name", domain::validate_name(v.as_deref()))
    {
        account.family_name = name;
    }
    if let Some(v) = &change.roles
        && let Some(roles) = checks.take("roles", domain::validate_roles(v))
    {
        account.roles.0 = roles;
    }
    if let Some(v) = &change.groups
        && let Some(groups) = checks.take("groups", domain::validate_groups(v))
    {
        account.groups.0 = groups;
    }
    if let Some(v) = change.disabled {
        account.disabled = v;
    }
    if let Some(v) = &change.locale
        && let Some(locale) = checks.take("locale", validate_locale(v.as_deref()))
    {
        account.locale = locale;
    }
    if let Some(v) = &change.recovery_email
        && let Some(address) = checks.take("recovery_email", validate_optional_email(v.as_deref()))
    {
        account.recovery_email = address;
    }
    checks.finish()
}

/// Changes an account as `actor`. Nobody changes their own roles or disables themselves; the last
/// active admin stays. Disabling revokes the account's tokens (and its sessions end at their next
/// request, which checks the account).
pub async fn update_user(
    store: &Store,
    actor: &Actor,
    account_id: Uuid,
    change: &UserChange,
    now: i64,
) -> Result<(AccountRow, AccountRow), DirectoryError> {
    let before = store
        .find_account(account_id)
        .await?
        .ok_or(DirectoryError::NotFound)?;
    let mut after = before.clone();
    apply_change(&mut after, change)?;
    if actor.account_id() == Some(account_id) {
        if after.roles != before.roles {
            return Err(DirectoryError::Forbidden("forbidden-own-roles"));
        }
        if after.disabled && !before.disabled {
            return Err(DirectoryError::Forbidden("forbidden-disable-self"));
        }
    }
    let stored = store.update_account(&before, &after, now).await?;
    Ok((before, stored))
}

pub async fn delete_user(
    store: &Store,
    actor: &Actor,
    account_id: Uuid,
) -> Result<AccountRow, DirectoryError> {
    if actor.account_id() == Some(account_id) {
        return Err(DirectoryError::Forbidden("forbidden-delete-self"));
    }
    let account = store
        .find_account(account_id)
        .await?
        .ok_or(DirectoryError::NotFound)?;
    store.delete_account(account_id).await?;
    Ok(account)
}

/// Sets a password after the policy check, ending the account's other sessions and grants
/// (`keep` says which survive) and its unspent invitation, reset and e-mail-change links.
/// `temporary` makes the person change it at the next sign-in.
pub async fn set_password(
    store: &Store,
    hasher: &PasswordHasher,
    account: &AccountRow,
    password: &str,
    temporary: bool,
    keep: KeepGrants,
    now: i64,
) -> Result<PasswordSet, DirectoryError> {
    let hash = checked_hash(hasher, account, password).await?;
    Ok(store
        .set_password(account.account_id, &hash, temporary, keep, now)
        .await?)
}

/// Sets the first password of an account that has none (from an invitation), after the policy
/// check: `None` when it got one another way meanwhile, which this must not replace.
pub async fn set_first_password(
    store: &Store,
    hasher: &PasswordHasher,
    account: &AccountRow,
    password: &str,
    now: i64,
) -> Result<Option<PasswordSet>, DirectoryError> {
    let hash = checked_hash(hasher, account, password).await?;
    Ok(store
        .set_first_password(account.account_id, &hash, now)
        .await?)
}

/// The hash of a password that passes the policy (field errors under `password`).
async fn checked_hash(
    hasher: &PasswordHasher,
    account: &AccountRow,
    password: &str,
) -> Result<String, DirectoryError> {
    let mut checks = Checks::default();
    checks.take(
        "password",
        domain::validate_password(password, &account.username),
    );
    checks.finish()?;
    hasher
        .hash(password)
        .await
        .map_err(|_| DirectoryError::Hash)
}

/// The filters of a user list (the API's query and the admin page's): `search`, `role`, `status`.
pub fn account_filter(params: &crate::http::params::Params) -> Result<AccountFilter, Message> {
    let search = params
        .get("search")
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > 100) {
        return Err(Message::new("invalid-search").with("max", 100));
    }
    let role = match params.get("role") {
        None => None,
        Some(role) if crate::domain::ROLES.contains(&role) => Some(role.to_owned()),
        Some(_) => return Err(Message::new("invalid-role-filter")),
    };
    let disabled = match params.get("status") {
        None | Some("all") => None,
        Some("active") => Some(false),
        Some("disabled") => Some(true),
        Some(_) => return Err(Message::new("invalid-status-filter")),
    };
    Ok(AccountFilter {
        search: search.map(str::to_owned),
        role,
        disabled,
        limit: 20,
        offset: 0,
    })
}

/// What an audit entry records about an account: never the password hash.
pub fn audit_view(account: &AccountRow) -> serde_json::Value {
    serde_json::json!({
        "username": account.username,
        "email": account.email,
        "email_verified": account.email_verified,
        "given_name": account.given_name,
        "family_name": account.family_name,
        "roles": account.roles.0,
        "groups": account.groups.0,
        "disabled": account.disabled,
        "locale": account.locale,
        "recovery_email": account.recovery_email,
    })
}
