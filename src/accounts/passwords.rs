//! The person's password as a use case, written once for the pages, the API and the admin
//! forms: proving ownership with the current password (checked and throttled like a sign-in),
//! changing one's own password, and setting any password so that the apps of the grants it ends
//! are always told.

use super::directory::{self, DirectoryError};
use super::self_service::{SelfServiceError, actor_of};
use super::{SignInError, SignInOrigin};
use crate::domain::FieldError;
use crate::i18n::Message;
use crate::state::AppState;
use crate::store::{AccountRow, KeepGrants, PasswordSet};

/// What a person gives at a sensitive change to show they are the account's owner now, not only
/// someone at a browser (or holding a token) signed in to it: the current password, asked every
/// time, however recent the sign-in. (A second factor, where the account has one, belongs here
/// too: `missing` and `reauthenticate` are the two places that check a proof.)
pub struct Proof<'a> {
    pub current_password: &'a str,
    /// Where the attempt came from, for the throttles and the account's activity.
    pub origin: SignInOrigin<'a>,
}

impl Proof<'_> {
    /// The proof's fields left blank, as field errors: nothing is checked (or counted) then.
    pub fn missing(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.current_password.is_empty() {
            let missing = Message::new("password-current-missing");
            errors.push(FieldError::new("current_password", missing));
        }
        errors
    }
}

/// Checks the current password of `proof` against the account, as a sign-in: throttled per
/// account and address, and in the account's activity as `origin.method`. A blank password is
/// checked (and counted) like any other; `prove_owner` refuses blanks first.
pub async fn reauthenticate(
    app: &AppState,
    account: &AccountRow,
    proof: &Proof<'_>,
    now: i64,
) -> Result<(), SelfServiceError> {
    let checked = super::sign_in(
        &app.store,
        &app.hasher,
        &app.config.login,
        &account.username,
        proof.current_password,
        &proof.origin,
        now,
    )
    .await;
    match checked {
        Ok(signed) if signed.account_id == account.account_id => Ok(()),
        Ok(_) | Err(SignInError::InvalidCredentials { .. }) => Err(SelfServiceError::WrongPassword),
        Err(SignInError::Locked { retry_after, .. }) => {
            Err(SelfServiceError::Locked { retry_after })
        }
        Err(SignInError::Store(e)) => Err(e.into()),
    }
}

/// Checks a proof of ownership: its blank fields refused as field errors without counting,
/// then the current password as `reauthenticate` checks it.
pub async fn prove_owner(
    app: &AppState,
    account: &AccountRow,
    proof: &Proof<'_>,
) -> Result<(), SelfServiceError> {
    let missing = proof.missing();
    if !missing.is_empty() {
        return Err(SelfServiceError::Invalid(missing));
    }
    reauthenticate(app, account, proof, app.clock.now()).await
}

/// Sets a password after the policy check (field errors under `password`), ending the account's
/// other sessions, grants (`keep` says which survive) and unspent links; the apps of the ended
/// grants get a back-channel logout. `temporary` makes the person change it at the next sign-in.
pub async fn set_password(
    app: &AppState,
    account: &AccountRow,
    password: &str,
    temporary: bool,
    keep: KeepGrants,
    now: i64,
) -> Result<PasswordSet, DirectoryError> {
    let set = directory::set_password(
        &app.store,
        &app.hasher,
        account,
        password,
        temporary,
        keep,
        now,
    )
    .await?;
    crate::oidc::backchannel::notify_ended(app, &set.ended, now).await?;
    Ok(set)
}

/// Sets the first password of an account that has none (an invitation's), as `set_password`
/// does: `None` when it got one another way meanwhile, which this must not replace.
pub async fn set_first_password(
    app: &AppState,
    account: &AccountRow,
    password: &str,
    now: i64,
) -> Result<Option<PasswordSet>, DirectoryError> {
    let set =
        directory::set_first_password(&app.store, &app.hasher, account, password, now).await?;
    if let Some(set) = &set {
        crate::oidc::backchannel::notify_ended(app, &set.ended, now).await?;
    }
    Ok(set)
}

/// The person changes their own password: the current one first (`reauthenticate`), then the
/// new one is set. Every other session and app signed in with the old one ends (`keep`: the
/// browser session or the token it was changed from stays), and so do the account's unspent
/// links; audited and logged.
pub async fn change_own_password(
    app: &AppState,
    account: &AccountRow,
    proof: &Proof<'_>,
    new_password: &str,
    keep: KeepGrants,
) -> Result<PasswordSet, SelfServiceError> {
    let now = app.clock.now();
    reauthenticate(app, account, proof, now).await?;
    let set = set_password(app, account, new_password, false, keep, now).await?;
    let detail = serde_json::json!({"sessions_ended": true, "grants_ended": set.ended.len()});
    let target = Some(format!("user:{}", account.account_id));
    let ip = Some(proof.origin.ip);
    crate::audit::record(
        app,
        &actor_of(account),
        ip,
        "user.change_password",
        target,
        detail,
    )
    .await;
    tracing::info!(account_id = %account.account_id, ended = set.ended.len(), "password changed by its owner");
    Ok(set)
}
