//! What people do with their own accounts, without an admin: set a first password from an
//! invitation, reset a forgotten one, confirm an address, change it, end their sessions and take
//! back what an app was allowed. Pages and the API call these; they never see axum types.
//! (Proving ownership and changing one's own password are in `passwords`.)

use uuid::Uuid;

use super::directory::{Actor, DirectoryError};
use super::links::{self, LinkError};
use super::passwords;
// Where the proof of ownership lived before `passwords`; the second step's enrolment names it so.
pub use super::passwords::{Proof, prove_owner};
use super::throttle;
use crate::domain::{self, FieldError};
use crate::i18n::Message;
use crate::mail::letters::{self, Letter};
use crate::state::AppState;
use crate::store::{AccountRow, KeepGrants, LinkPurpose, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SelfServiceError {
    /// The link is unknown, expired, spent, superseded or of another purpose: all look alike.
    #[error("the link is not valid")]
    LinkInvalid,
    #[error("the form has problems")]
    Invalid(Vec<FieldError>),
    /// The new address belongs to another account by now.
    #[error("the address is in use")]
    AddressTaken,
    /// Too many requests that send mail, for the account or from the address: try again in
    /// `retry_after` seconds (when the hour they are counted in ends).
    #[error("too many requests")]
    Throttled { retry_after: i64 },
    /// The proof a sensitive change asks for (the current password) is wrong.
    #[error("the current password is incorrect")]
    WrongPassword,
    /// Too many wrong proofs: like a sign-in, paused for `retry_after` seconds.
    #[error("too many failed attempts")]
    Locked { retry_after: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("{0}")]
    Directory(String),
}

impl From<DirectoryError> for SelfServiceError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Invalid(errors) => SelfServiceError::Invalid(errors),
            DirectoryError::Duplicate => SelfServiceError::AddressTaken,
            DirectoryError::Store(e) => SelfServiceError::Store(e),
            other => SelfServiceError::Directory(other.to_string()),
        }
    }
}

pub(super) fn actor_of(account: &AccountRow) -> Actor {
    Actor::User {
        id: account.account_id,
        username: account.username.clone(),
    }
}

async fn audit(
    app: &AppState,
    account: &AccountRow,
    ip: Option<&str>,
    action: &str,
    detail: serde_json::Value,
) {
    let target = Some(format!("user:{}", account.account_id));
    crate::audit::record(app, &actor_of(account), ip, action, target, detail).await;
}

/// The new password of a link's form: the rules, and the confirmation matching (field errors
/// under `new_password` and `confirm_password`).
pub fn check_new_password(
    account: &AccountRow,
    password: &str,
    confirm: &str,
) -> Result<(), SelfServiceError> {
    if let Err(message) = domain::validate_password(password, &account.username) {
        return Err(SelfServiceError::Invalid(vec![FieldError::new(
            "new_password",
            message,
        )]));
    }
    if confirm != password {
        let mismatch = Message::new("password-mismatch");
        return Err(SelfServiceError::Invalid(vec![FieldError::new(
            "confirm_password",
            mismatch,
        )]));
    }
    Ok(())
}

/// Sets the password an invitation or reset link's form chose, spending the link. Every
/// session and refresh token of the account ends (its apps are told), and so do its other
/// unspent invitation, reset and e-mail-change links; an invitation that reached the account's
/// own address verifies it; a reset sends a "password changed" notice.
pub async fn set_password_from_link(
    app: &AppState,
    purpose: LinkPurpose,
    token: &str,
    password: &str,
    confirm: &str,
    ip: &str,
) -> Result<AccountRow, SelfServiceError> {
    // Checked before the link is spent, so a rejected password leaves it usable.
    let (_, account) = links::peek(app, purpose, token)
        .await?
        .ok_or(SelfServiceError::LinkInvalid)?;
    check_new_password(&account, password, confirm)?;
    let (link, account) = links::spend(app, purpose, token)
        .await?
        .ok_or(SelfServiceError::LinkInvalid)?;
    let now = app.clock.now();
    let set = match purpose {
        // Written only while the account still has no password: one set another way meanwhile
        // (an admin, a reset) is never replaced by an invitation.
        LinkPurpose::Invitation => passwords::set_first_password(app, &account, password, now)
            .await?
            .ok_or(SelfServiceError::LinkInvalid)?,
        _ => passwords::set_password(app, &account, password, false, KeepGrants::None, now).await?,
    };
    let mut account = account;
    account.must_change_password = false;
    account.credential_version = set.credential_version;
    let reached_own_address = link.detail.as_deref() == Some(account.email.as_str());
    if purpose == LinkPurpose::Invitation && reached_own_address && !account.email_verified {
        let mut verified = account.clone();
        verified.email_verified = true;
        account = app.store.update_account(&account, &verified, now).await?;
    }
    let action = match purpose {
        LinkPurpose::Invitation => "user.accept_invitation",
        _ => "user.reset_password",
    };
    let detail = serde_json::json!({"grants_ended": set.ended.len(), "email_verified": account.email_verified});
    audit(app, &account, Some(ip), action, detail).await;
    if purpose == LinkPurpose::PasswordReset {
        notify(
            app,
            &account,
            links::recovery_address(&account),
            &Letter::PasswordChanged { at: now },
        )
        .await?;
    }
    tracing::info!(account_id = %account.account_id, purpose = purpose.as_str(), "password set from a link");
    Ok(account)
}

/// A notice without a link (password changed, address changing).
async fn notify(
    app: &AppState,
    account: &AccountRow,
    to: &str,
    letter: &Letter<'_>,
) -> Result<(), SelfServiceError> {
    let outgoing = letters::compose(app, account, to, letter, None).map_err(LinkError::Letter)?;
    crate::mail::queue(app, vec![outgoing]).await?;
    Ok(())
}

/// Counts a request for mail of `purpose` about `account` by the person (or anyone at the reset
/// form), under the account and, when given, the address it came from.
async fn count_mail(
    app: &AppState,
    account: &AccountRow,
    purpose: LinkPurpose,
    ip: Option<&str>,
) -> Result<(), SelfServiceError> {
    let mail = &app.config.mail;
    let account_key = throttle::mail_account_key(purpose.as_str(), account.account_id, false);
    let ip_key = ip.map(throttle::mail_ip_key);
    let mut keys = vec![(account_key.as_str(), mail.requests_per_account)];
    keys.extend(ip_key.as_deref().map(|key| (key, mail.requests_per_ip)));
    match throttle::count_mail(&app.store, &keys, app.clock.now()).await? {
        Some(retry_after) => Err(SelfServiceError::Throttled { retry_after }),
        None => Ok(()),
    }
}

/// Counts mail of `purpose` an admin sends to `account`: per account, never per admin address
/// (the help desk works from a few addresses), and apart from what the person and strangers ask.
async fn count_admin_mail(
    app: &AppState,
    account: &AccountRow,
    purpose: LinkPurpose,
) -> Result<(), SelfServiceError> {
    let key = throttle::mail_account_key(purpose.as_str(), account.account_id, true);
    let keys = [(key.as_str(), app.config.mail.requests_per_account)];
    match throttle::count_mail(&app.store, &keys, app.clock.now()).await? {
        Some(retry_after) => Err(SelfServiceError::Throttled { retry_after }),
        None => Ok(()),
    }
}

/// "Forgot your password?": counts the request against the address (refused past the limit),
/// then looks up the account and sends the link in the background, so the answer and its
/// timing are the same whether an account matched or not.
pub async fn request_reset(app: &AppState, login: &str, ip: &str) -> Result<(), SelfServiceError> {
    // Only the address is counted here: a refusal for the account would say it exists.
    let key = throttle::mail_ip_key(ip);
    let per_ip = [(key.as_str(), app.config.mail.requests_per_ip)];
    if let Some(retry_after) = throttle::count_mail(&app.store, &per_ip, app.clock.now()).await? {
        return Err(SelfServiceError::Throttled { retry_after });
    }
    let app = app.clone();
    let login = login.to_owned();
    let ip = ip.to_owned();
    tokio::spawn(async move {
        if let Err(e) = send_requested_reset(&app, &login, &ip).await {
            tracing::error!(error = %e, "sending a reset link failed");
        }
    });
    Ok(())
}

async fn send_requested_reset(
    app: &AppState,
    login: &str,
    ip: &str,
) -> Result<(), SelfServiceError> {
    let Some(account) = app
        .store
        .find_account_by_login(login)
        .await?
        .filter(|a| !a.disabled)
    else {
        return Ok(());
    };
    let purpose = LinkPurpose::PasswordReset;
    if let Err(SelfServiceError::Throttled { .. }) = count_mail(app, &account, purpose, None).await
    {
        tracing::warn!(account_id = %account.account_id, "reset links to this account are paused for the hour");
        return Ok(());
    }
    links::send(app, &account, LinkPurpose::PasswordReset, None).await?;
    audit(
        app,
        &account,
        Some(ip),
        "user.request_reset",
        serde_json::json!({}),
    )
    .await;
    Ok(())
}

/// Which confirmation a link is: of the account's address, or of a new one it asked for.
pub async fn peek_confirmation(
    app: &AppState,
    token: &str,
) -> Result<(LinkPurpose, String), SelfServiceError> {
    for purpose in [LinkPurpose::EmailVerification, LinkPurpose::EmailChange] {
        if let Some((link, account)) = links::peek(app, purpose, token).await? {
            crate::i18n::prefer_account(account.locale.as_deref());
            return Ok((purpose, link.detail.unwrap_or(account.email)));
        }
    }
    Err(SelfServiceError::LinkInvalid)
}

/// Confirms an address by its link's form: the account's address becomes verified, or the new
/// address it asked for replaces the old one, verified.
pub async fn confirm_address(
    app: &AppState,
    token: &str,
    ip: &str,
) -> Result<AccountRow, SelfServiceError> {
    let (purpose, _) = peek_confirmation(app, token).await?;
    let (link, account) = links::spend(app, purpose, token)
        .await?
        .ok_or(SelfServiceError::LinkInvalid)?;
    let address = link.detail.unwrap_or_else(|| account.email.clone());
    let mut after = account.clone();
    match purpose {
        LinkPurpose::EmailChange => after.email = address.clone(),
        // The address changed since the link was sent: it proves nothing about the new one.
        _ if address != account.email => return Err(SelfServiceError::LinkInvalid),
        _ => {}
    }
    after.email_verified = true;
    let now = app.clock.now();
    let after = match app.store.update_account(&account, &after, now).await {
        Err(StoreError::Conflict) => return Err(SelfServiceError::AddressTaken),
        other => other?,
    };
    let action = match purpose {
        LinkPurpose::EmailChange => "user.change_email",
        _ => "user.verify_email",
    };
    audit(
        app,
        &after,
        Some(ip),
        action,
        serde_json::json!({"from": account.email, "to": after.email}),
    )
    .await;
    if purpose == LinkPurpose::EmailChange {
        // The old address hears that it is no longer the account's: if the owner did not make
        // the change, this is where they learn of it (the new address now gets the resets).
        let changed = Letter::AddressChanged {
            new_address: &after.email,
            at: now,
        };
        notify(app, &after, &account.email, &changed).await?;
    }
    Ok(after)
}

/// Starts a change of the account's address, after `proof` (asked every time: a session left
/// open must not be enough to move the account to another address, from which "Forgot your
/// password?" would hand it over). A confirmation goes to the new address and a notice to the
/// old one; the old one stays in use until the new one is confirmed. Whether the new address
/// belongs to another account is not said here (it is at confirmation).
pub async fn start_email_change(
    app: &AppState,
    account: &AccountRow,
    raw: &str,
    proof: &Proof<'_>,
) -> Result<String, SelfServiceError> {
    let mut errors = Vec::new();
    let address = match domain::validate_email(raw) {
        Ok(address)
            if crate::store::normalize_key(&address)
                == crate::store::normalize_key(&account.email) =>
        {
            errors.push(FieldError::new("email", Message::new("account-email-same")));
            None
        }
        Ok(address) => Some(address),
        Err(message) => {
            errors.push(FieldError::new("email", message));
            None
        }
    };
    // Every blank or malformed field at once, before the password is checked (and counted).
    errors.extend(proof.missing());
    let Some(address) = address.filter(|_| errors.is_empty()) else {
        return Err(SelfServiceError::Invalid(errors));
    };
    prove_owner(app, account, proof).await?;
    let ip = proof.origin.ip;
    count_mail(app, account, LinkPurpose::EmailChange, Some(ip)).await?;
    links::send(app, account, LinkPurpose::EmailChange, Some(&address)).await?;
    notify(
        app,
        account,
        &account.email,
        &Letter::AddressChanging {
            new_address: &address,
        },
    )
    .await?;
    audit(
        app,
        account,
        Some(ip),
        "user.request_email_change",
        serde_json::json!({"to": address}),
    )
    .await;
    Ok(address)
}

/// Cancels a change of address waiting for its confirmation: its link ends, and its letter if
/// not sent yet. Returns the address that was waiting, if one was.
pub async fn cancel_email_change(
    app: &AppState,
    account: &AccountRow,
    ip: Option<&str>,
) -> Result<Option<String>, SelfServiceError> {
    let now = app.clock.now();
    let pending = app
        .store
        .live_link_detail(account.account_id, LinkPurpose::EmailChange, now)
        .await?;
    app.store
        .end_links(account.account_id, &[LinkPurpose::EmailChange], now)
        .await?;
    if let Some(address) = &pending {
        let detail = serde_json::json!({"to": address});
        audit(app, account, ip, "user.cancel_email_change", detail).await;
    }
    Ok(pending)
}

/// Sends a confirmation of the account's current address.
pub async fn send_verification(
    app: &AppState,
    account: &AccountRow,
    actor: &Actor,
    ip: Option<&str>,
) -> Result<(), SelfServiceError> {
    let purpose = LinkPurpose::EmailVerification;
    match actor {
        Actor::User { id, .. } if *id == account.account_id => {
            count_mail(app, account, purpose, ip).await?
        }
        _ => count_admin_mail(app, account, purpose).await?,
    }
    links::send(app, account, purpose, None).await?;
    let target = Some(format!("user:{}", account.account_id));
    crate::audit::record(
        app,
        actor,
        ip,
        "user.send_verification",
        target,
        serde_json::json!({"to": account.email}),
    )
    .await;
    Ok(())
}

/// Which of an account's sessions to end.
#[derive(Debug, Clone, Copy)]
pub enum Sessions {
    One(Uuid),
    AllBut(Uuid),
}

/// Ends sessions of an account: each one's browser is signed out at its next request, and the
/// apps it signed in to get a logout token. Returns how many ended.
pub async fn end_sessions(
    app: &AppState,
    account: &AccountRow,
    which: Sessions,
    ip: Option<&str>,
) -> Result<usize, SelfServiceError> {
    let (only, keep) = match which {
        Sessions::One(sid) => (Some(sid), None),
        Sessions::AllBut(sid) => (None, Some(sid)),
    };
    let ended = app
        .store
        .end_browser_sessions(account.account_id, only, keep)
        .await?;
    let now = app.clock.now();
    for sid in &ended {
        crate::oidc::backchannel::end_session_grants(app, *sid, now).await?;
    }
    if !ended.is_empty() {
        let sids: Vec<String> = ended.iter().map(Uuid::to_string).collect();
        audit(
            app,
            account,
            ip,
            "user.end_sessions",
            serde_json::json!({"sessions": sids}),
        )
        .await;
    }
    Ok(ended.len())
}

/// Takes back what an app was allowed: consent and every grant with its refresh tokens; the app
/// is told over the back channel. False when the account had nothing with that app.
pub async fn revoke_app(
    app: &AppState,
    account: &AccountRow,
    client_id: Uuid,
    ip: Option<&str>,
) -> Result<bool, SelfServiceError> {
    let connected = app.store.connected_apps(account.account_id).await?;
    let Some(client) = connected.iter().find(|c| c.client_id == client_id) else {
        return Ok(false);
    };
    let now = app.clock.now();
    let grants = app
        .store
        .revoke_app(account.account_id, client_id, now)
        .await?;
    crate::oidc::backchannel::notify_ended(app, &grants, now).await?;
    let detail = serde_json::json!({"client_id": client_id, "client": client.name, "grants_ended": grants.len()});
    audit(app, account, ip, "user.revoke_app", detail).await;
    Ok(true)
}

/// Invitations sent by one request at most (the whole of a large import fits).
pub const MAX_INVITATIONS: usize = 100_000;
/// Letters composed and stored per transaction.
const INVITATION_BATCH: usize = 5_000;

/// What an invitation does to an account whose earlier invitation still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlierInvitation {
    /// Skip the account: the link it was mailed keeps working (a bulk run's default, so that a
    /// second run does not kill the links students got minutes before).
    Keep,
    /// Send a new link, which ends the earlier one (a named account, or the "resend" choice).
    Replace,
}

/// What an invitation run did: links sent, and accounts skipped because their earlier
/// invitation still works.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invited {
    pub sent: usize,
    pub skipped: usize,
}

/// Invites accounts that have no password yet (others are left out), each with a new link that
/// ends its older invitations: for accounts named one by one. `scope` says in the audit log how
/// they were chosen. Returns how many were invited.
pub async fn invite(
    app: &AppState,
    accounts: Vec<AccountRow>,
    actor: &Actor,
    ip: Option<&str>,
    scope: serde_json::Value,
) -> Result<usize, SelfServiceError> {
    let invited = invite_with(app, accounts, actor, ip, scope, EarlierInvitation::Replace).await?;
    Ok(invited.sent)
}

/// Invites accounts that have no password yet (others are left out); `earlier` says whether an
/// account whose invitation still works is skipped or sent a new link that ends it.
pub async fn invite_with(
    app: &AppState,
    accounts: Vec<AccountRow>,
    actor: &Actor,
    ip: Option<&str>,
    scope: serde_json::Value,
    earlier: EarlierInvitation,
) -> Result<Invited, SelfServiceError> {
    let mut accounts: Vec<AccountRow> = accounts
        .into_iter()
        .filter(|a| a.password_hash.is_none() && !a.disabled)
        .collect();
    let mut skipped = 0;
    if earlier == EarlierInvitation::Keep && !accounts.is_empty() {
        let live = app
            .store
            .accounts_with_live_invitation(app.clock.now())
            .await?;
        let before = accounts.len();
        accounts.retain(|a| !live.contains(&a.account_id));
        skipped = before - accounts.len();
    }
    accounts.truncate(MAX_INVITATIONS);
    // Counted per invited account (admins invite thousands at once from one address); one
    // account named alone is refused past its limit, a bulk run leaves such accounts out.
    let keys: Vec<String> = accounts
        .iter()
        .map(|a| throttle::mail_account_key(LinkPurpose::Invitation.as_str(), a.account_id, true))
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let limit = app.config.mail.requests_per_account;
    let waits = throttle::count_mail_each(&app.store, &keys, limit, app.clock.now()).await?;
    if let [Some(retry_after)] = waits.as_slice() {
        return Err(SelfServiceError::Throttled {
            retry_after: *retry_after,
        });
    }
    let mut waits = waits.into_iter();
    accounts.retain(|_| waits.next().flatten().is_none());
    for chunk in accounts.chunks(INVITATION_BATCH) {
        links::send_many(app, chunk, LinkPurpose::Invitation).await?;
    }
    let resend = earlier == EarlierInvitation::Replace;
    if let [one] = accounts.as_slice() {
        let target = Some(format!("user:{}", one.account_id));
        let detail = serde_json::json!({"to": links::recovery_address(one), "scope": scope,
            "skipped": skipped, "resend": resend});
        crate::audit::record(app, actor, ip, "user.invite", target, detail).await;
    } else if !accounts.is_empty() {
        let detail = serde_json::json!({"count": accounts.len(), "scope": scope,
            "skipped": skipped, "resend": resend});
        crate::audit::record(app, actor, ip, "user.invite", None, detail).await;
    }
    Ok(Invited {
        sent: accounts.len(),
        skipped,
    })
}

/// A reset link sent for an account by an admin (the person asked the help desk).
pub async fn send_reset(
    app: &AppState,
    account: &AccountRow,
    actor: &Actor,
    ip: Option<&str>,
) -> Result<(), SelfServiceError> {
    count_admin_mail(app, account, LinkPurpose::PasswordReset).await?;
    links::send(app, account, LinkPurpose::PasswordReset, None).await?;
    let target = Some(format!("user:{}", account.account_id));
    let detail = serde_json::json!({"to": links::recovery_address(account)});
    crate::audit::record(app, actor, ip, "user.send_reset", target, detail).await;
    Ok(())
}
