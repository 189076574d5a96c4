//! Second factors: TOTP (RFC 6238) with recovery codes, and the policy that says who must use
//! one. No axum types: the pages and the API call these.
//!
//! A TOTP code is accepted for the current or the previous 30-second step, once: the store
//! accepts a step only if it is later than every step accepted before for that account, in one
//! conditional UPDATE, so a code replayed on another replica is refused too. Wrong codes and
//! wrong recovery codes count against the account like wrong passwords.

use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

use super::throttle;
use crate::accounts::directory::Actor;
use crate::config::Config;
use crate::crypto;
use crate::mail::letters::{self, Letter, SecurityChange};
use crate::state::AppState;
use crate::store::{AccountRow, MfaRow, StoreError};

pub use crate::domain::acr::{ACR_PASSWORD, REFEDS_MFA, acr_of};
/// What Google Authenticator, Microsoft Authenticator, FreeOTP and Aegis all read: SHA-1,
/// six digits, 30 seconds.
const STEP_SECONDS: i64 = 30;
const DIGITS: usize = 6;
/// 160-bit keys, as RFC 4226 recommends.
const KEY_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;
/// A recovery code: 10 characters of the unambiguous base32 alphabet (50 bits), shown as
/// `xxxxx-xxxxx`.
const RECOVERY_CODE_CHARS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error("the code is not right")]
    Wrong,
    #[error("too many wrong codes; retry in {retry_after} s")]
    Locked { retry_after: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Crypto(String),
}

/// Whether the policy makes this account use a second factor: one of its roles is listed in
/// `HCCC_SSO_MFA_REQUIRED_ROLES`, or an admin required it.
pub fn required_of(config: &Config, account: &AccountRow, mfa: &MfaRow) -> bool {
    mfa.required
        || config
            .mfa
            .required_roles
            .iter()
            .any(|r| account.roles.contains_str(r))
}

/// What a sign-in needs after the password.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing more.
    Done,
    /// The second factor the account has.
    Verify,
    /// The account must enrol one first.
    Enrol,
}

/// What comes after the password: the account's factor whenever it has one; enrolment when
/// the policy, the app or the request (`demanded`) requires one the account lacks. A policy
/// requirement waits out the grace period from the first sign-in that found none.
pub async fn after_password(
    app: &AppState,
    account: &AccountRow,
    demanded: bool,
    now: i64,
) -> Result<Next, StoreError> {
    let mfa = app.store.find_mfa(account.account_id).await?;
    if mfa.has_factor() {
        return Ok(Next::Verify);
    }
    if demanded || policy_requires(app, account, &mfa, now).await? {
        return Ok(Next::Enrol);
    }
    Ok(Next::Done)
}

/// Whether the policy (a role, or an admin's mark) requires a second factor of this account
/// now: past the grace period, if one is set, counted from the first time it was asked.
pub async fn policy_requires_now(
    app: &AppState,
    account: &AccountRow,
    now: i64,
) -> Result<bool, StoreError> {
    let mfa = app.store.find_mfa(account.account_id).await?;
    policy_requires(app, account, &mfa, now).await
}

async fn policy_requires(
    app: &AppState,
    account: &AccountRow,
    mfa: &MfaRow,
    now: i64,
) -> Result<bool, StoreError> {
    if !required_of(&app.config, account, mfa) {
        return Ok(false);
    }
    let grace = app.config.mfa.grace;
    if grace > 0 {
        let from = app.store.start_mfa_grace(account.account_id, now).await?;
        if now - from < grace {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether a browser at `ip` may be remembered for the second factor: the offer is on and the
/// address is not in a network of shared computers.
pub fn may_remember(config: &Config, ip: &str) -> bool {
    config.mfa.remember > 0
        && ip.parse().map(crate::http::canonical_ip).is_ok_and(|ip| {
            !config
                .mfa
                .shared_networks
                .iter()
                .any(|net| net.contains(&ip))
        })
}

/// Remembers this browser for the account's second factor (`methods`, the amr values it
/// proved): the cookie's token, to set, and its lifetime in seconds.
pub async fn remember_browser(
    app: &AppState,
    account: &AccountRow,
    methods: &[&str],
    device: &crate::http::Device,
    now: i64,
) -> Result<(String, i64), StoreError> {
    let token = crypto::b64url(&crypto::random_bytes::<32>());
    let row = crate::store::RememberedRow {
        remembered_id: Uuid::new_v4(),
        account_id: account.account_id,
        methods: methods.join(" "),
        user_agent: Some(device.user_agent.clone()),
        ip: Some(device.ip.clone()),
        created_at: now,
        expires_at: now + app.config.mfa.remember,
        last_used_at: None,
    };
    app.store
        .insert_remembered(&row, &crypto::sha256(token.as_bytes()))
        .await?;
    Ok((token, app.config.mfa.remember))
}

/// The second factor a remembered browser stands in for (its amr values), when the browser's
/// token is live for this account and the browser is not on a shared network.
pub async fn remembered(
    app: &AppState,
    account: &AccountRow,
    device: &crate::http::Device,
    now: i64,
) -> Result<Option<Vec<String>>, StoreError> {
    let Some(token) = device.remembered.as_deref() else {
        return Ok(None);
    };
    if !may_remember(&app.config, &device.ip) {
        return Ok(None);
    }
    let row = app
        .store
        .use_remembered(account.account_id, &crypto::sha256(token.as_bytes()), now)
        .await?;
    Ok(row.map(|r| r.methods.split(' ').map(str::to_owned).collect()))
}

/// The person forgets one of their remembered browsers (`which`), or all of them (`None`): each
/// asks for the second factor again at its next sign-in.
pub async fn forget_browsers(
    app: &AppState,
    account: &AccountRow,
    which: Option<Uuid>,
    ip: Option<&str>,
) -> Result<(), StoreError> {
    app.store
        .forget_remembered(account.account_id, which)
        .await?;
    audit(app, &actor_of(account), account, ip, "user.forget_browsers").await;
    Ok(())
}

/// A new TOTP key, to show once for enrolment.
pub fn new_totp_key() -> Vec<u8> {
    crypto::random_bytes::<KEY_BYTES>().to_vec()
}

fn totp(key: &[u8], issuer: &str, account_name: &str) -> Result<TOTP, FactorError> {
    // The otpauth label may not hold a colon; a username cannot either, this is belt and braces.
    let label = account_name.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECONDS as u64,
        key.to_vec(),
        Some(issuer.replace(':', "_")),
        label,
    )
    .map_err(|e| FactorError::Crypto(format!("TOTP parameters: {e}")))
}

/// What an authenticator app needs: the `otpauth://` URI (for the QR code) and the key as
/// text, grouped by four for people who type it.
pub struct Enrolment {
    pub uri: String,
    pub key_text: String,
}

pub fn enrolment(key: &[u8], issuer: &str, account_name: &str) -> Result<Enrolment, FactorError> {
    let totp = totp(key, issuer, account_name)?;
    let base32 = totp.get_secret_base32();
    let key_text = base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Enrolment {
        uri: totp.get_url(),
        key_text,
    })
}

/// The time step `code` is right for (the current or the previous one), if any. Spaces are
/// ignored; anything but six digits is wrong.
pub fn matching_step(key: &[u8], code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(key, "x", "x").ok()?;
    let current = now.div_euclid(STEP_SECONDS);
    [current, current - 1].into_iter().find(|step| {
        let expected = totp.generate((step * STEP_SECONDS).max(0) as u64);
        crypto::constant_time_eq(expected.as_bytes(), code.as_bytes())
    })
}

/// The key sealed for the database (bound to the account: a row copied to another account
/// does not open).
pub fn seal_key(app: &AppState, account_id: Uuid, key: &[u8]) -> Result<Vec<u8>, FactorError> {
    crypto::seal(&app.key_encryption, account_id.as_bytes(), key)
        .map_err(|e| FactorError::Crypto(e.to_string()))
}

fn open_key(app: &AppState, account_id: Uuid, sealed: &[u8]) -> Result<Vec<u8>, FactorError> {
    crypto::open(&app.key_encryption, account_id.as_bytes(), sealed)
        .map_err(|e| FactorError::Crypto(e.to_string()))
}

pub(super) fn throttle_key(account_id: Uuid) -> String {
    format!("factor:{}", account_id)
}

/// Refuses while the account's second-factor attempts are locked out.
pub(super) async fn not_locked(
    app: &AppState,
    account_id: Uuid,
    now: i64,
) -> Result<(), FactorError> {
    match throttle::locked(&app.store, &throttle_key(account_id), now).await? {
        Some(retry_after) => Err(FactorError::Locked { retry_after }),
        None => Ok(()),
    }
}

/// Counts a wrong code; the lockout when it is one too many.
pub(super) async fn wrong(app: &AppState, account_id: Uuid, now: i64) -> FactorError {
    let policy = &app.config.login;
    match throttle::count_failure(
        &app.store,
        &throttle_key(account_id),
        policy.max_failures_per_account,
        policy,
        now,
    )
    .await
    {
        Ok(Some(retry_after)) => FactorError::Locked { retry_after },
        Ok(None) => FactorError::Wrong,
        Err(e) => FactorError::Store(e),
    }
}

/// Counts a code before it is evaluated (see `throttle::admit`): its count, or the lockout.
async fn admitted(app: &AppState, account_id: Uuid, now: i64) -> Result<i64, FactorError> {
    let policy = &app.config.login;
    let key = throttle_key(account_id);
    let limits = [(key.as_str(), policy.max_failures_per_account)];
    match throttle::admit(&app.store, &limits, policy, now).await? {
        throttle::Admission::Evaluate(counts) => Ok(counts.first().map_or(0, |c| c.count)),
        throttle::Admission::Refuse { retry_after } => Err(FactorError::Locked { retry_after }),
    }
}

/// An admitted code (`count`) was wrong; the lockout when it reached the limit.
async fn wrong_at(app: &AppState, account_id: Uuid, count: i64, now: i64) -> FactorError {
    let policy = &app.config.login;
    let key = throttle_key(account_id);
    let limit = policy.max_failures_per_account;
    match throttle::failed(&app.store, &key, count, limit, policy, now).await {
        Ok(Some(retry_after)) => FactorError::Locked { retry_after },
        Ok(None) => FactorError::Wrong,
        Err(e) => FactorError::Store(e),
    }
}

/// Checks a TOTP code of an enrolled account and spends its step.
pub async fn verify_totp(
    app: &AppState,
    account: &AccountRow,
    code: &str,
    now: i64,
) -> Result<(), FactorError> {
    let count = admitted(app, account.account_id, now).await?;
    let mfa = app.store.find_mfa(account.account_id).await?;
    let Some(sealed) = mfa.totp_sealed else {
        return Err(wrong_at(app, account.account_id, count, now).await);
    };
    let key = open_key(app, account.account_id, &sealed)?;
    let spent = match matching_step(&key, code, now) {
        Some(step) => {
            app.store
                .spend_totp_step(account.account_id, step, now)
                .await?
        }
        None => false,
    };
    if !spent {
        return Err(wrong_at(app, account.account_id, count, now).await);
    }
    app.store
        .clear_throttle(&throttle_key(account.account_id))
        .await?;
    Ok(())
}

/// Confirms a new key by its first code and stores it (replacing any earlier key). Returns new
/// recovery codes when the account had none left, to show once.
pub async fn enrol_totp(
    app: &AppState,
    account: &AccountRow,
    key: &[u8],
    code: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<Vec<String>>, FactorError> {
    let count = admitted(app, account.account_id, now).await?;
    let Some(step) = matching_step(key, code, now) else {
        return Err(wrong_at(app, account.account_id, count, now).await);
    };
    let sealed = seal_key(app, account.account_id, key)?;
    app.store
        .set_totp(account.account_id, &sealed, step, now)
        .await?;
    app.store
        .clear_throttle(&throttle_key(account.account_id))
        .await?;
    let mfa = app.store.find_mfa(account.account_id).await?;
    let codes = if mfa.recovery_codes_left == 0 {
        Some(issue_recovery_codes(app, account, now).await?)
    } else {
        None
    };
    audit(app, &actor_of(account), account, ip, "user.enrol_totp").await;
    notify(app, account, SecurityChange::TotpAdded, now).await;
    Ok(codes)
}

/// The person removes their own authenticator app (and with it their recovery codes, unless a
/// passkey or security key is left).
pub async fn remove_totp(
    app: &AppState,
    account: &AccountRow,
    ip: Option<&str>,
    now: i64,
) -> Result<(), FactorError> {
    app.store.remove_totp(account.account_id).await?;
    audit(app, &actor_of(account), account, ip, "user.remove_totp").await;
    notify(app, account, SecurityChange::TotpRemoved, now).await;
    Ok(())
}

/// An admin removes every factor of an account (a lost phone); the person is told by e-mail
/// and enrols again at the next sign-in if the policy requires it.
pub async fn reset(
    app: &AppState,
    admin: &Actor,
    account: &AccountRow,
    ip: Option<&str>,
    now: i64,
) -> Result<(), FactorError> {
    app.store.remove_factors(account.account_id).await?;
    app.store
        .forget_remembered(account.account_id, None)
        .await?;
    audit(app, admin, account, ip, "user.reset_factors").await;
    notify(app, account, SecurityChange::FactorsReset, now).await;
    Ok(())
}

/// An admin requires (or stops requiring) a second factor of one account.
pub async fn set_required(
    app: &AppState,
    admin: &Actor,
    account: &AccountRow,
    required: bool,
    ip: Option<&str>,
) -> Result<(), FactorError> {
    app.store
        .set_mfa_required(account.account_id, required)
        .await?;
    let action = if required {
        "user.require_mfa"
    } else {
        "user.unrequire_mfa"
    };
    audit(app, admin, account, ip, action).await;
    Ok(())
}

/// An account's first second factor ends what was signed in with the password alone (other
/// browsers, and apps' grants of sign-ins without a factor), except the session `keep_sid` that
/// enrolled it: an intruder who had the password once keeps nothing. Their apps are told.
pub async fn end_password_only_sign_ins(
    app: &AppState,
    account: &AccountRow,
    keep_sid: Option<Uuid>,
    now: i64,
) -> Result<(), StoreError> {
    let ended = app
        .store
        .end_password_only_sign_ins(account.account_id, keep_sid, now)
        .await?;
    crate::oidc::backchannel::notify_ended(app, &ended, now).await
}

/// Recovery codes are compared through an HMAC under the secret key, per account.
fn recovery_code_hash(app: &AppState, account_id: Uuid, code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // HMAC-SHA-256 with a 32-byte key cannot fail; a zero hash matches nothing stored.
    crypto::hmac_sha256(
        &app.key_encryption,
        format!("recovery-code|{account_id}|{normal}").as_bytes(),
    )
    .unwrap_or([0; 32])
}

/// Ten new recovery codes; the old set ends. Returned once, to show.
pub async fn issue_recovery_codes(
    app: &AppState,
    account: &AccountRow,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789"; // no 0/o, 1/l/i
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let mut code = String::with_capacity(RECOVERY_CODE_CHARS + 1);
            for (i, b) in crypto::random_bytes::<RECOVERY_CODE_CHARS>()
                .iter()
                .enumerate()
            {
                if i == RECOVERY_CODE_CHARS / 2 {
                    code.push('-');
                }
                // 31 letters: the modulo bias (256 = 8·31 + 8) is far below what matters here.
                let letter = ALPHABET.get(*b as usize % ALPHABET.len()).copied();
                code.push(char::from(letter.unwrap_or(b'a')));
            }
            code
        })
        .collect();
    let hashes: Vec<[u8; 32]> = codes
        .iter()
        .map(|c| recovery_code_hash(app, account.account_id, c))
        .collect();
    app.store
        .replace_recovery_codes(account.account_id, &hashes, now)
        .await?;
    Ok(codes)
}

/// The person asks for a new set of recovery codes (the old set ends; audited, notified).
pub async fn renew_recovery_codes(
    app: &AppState,
    account: &AccountRow,
    ip: Option<&str>,
    now: i64,
) -> Result<Vec<String>, FactorError> {
    let codes = issue_recovery_codes(app, account, now).await?;
    audit(
        app,
        &actor_of(account),
        account,
        ip,
        "user.renew_recovery_codes",
    )
    .await;
    notify(app, account, SecurityChange::RecoveryCodesRenewed, now).await;
    Ok(codes)
}

/// Spends a recovery code in place of a TOTP code (audited; the person is told by e-mail).
pub async fn use_recovery_code(
    app: &AppState,
    account: &AccountRow,
    code: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<(), FactorError> {
    let count = admitted(app, account.account_id, now).await?;
    let well_formed = code.len() <= 64;
    let hash = recovery_code_hash(app, account.account_id, code);
    let spent = well_formed
        && app
            .store
            .spend_recovery_code(account.account_id, &hash, now)
            .await?;
    if !spent {
        return Err(wrong_at(app, account.account_id, count, now).await);
    }
    app.store
        .clear_throttle(&throttle_key(account.account_id))
        .await?;
    audit(
        app,
        &actor_of(account),
        account,
        ip,
        "user.use_recovery_code",
    )
    .await;
    notify(app, account, SecurityChange::RecoveryCodeUsed, now).await;
    Ok(())
}

pub(super) fn actor_of(account: &AccountRow) -> Actor {
    Actor::User {
        id: account.account_id,
        username: account.username.clone(),
    }
}

pub(super) async fn audit(
    app: &AppState,
    actor: &Actor,
    account: &AccountRow,
    ip: Option<&str>,
    action: &str,
) {
    let target = Some(format!("user:{}", account.account_id));
    crate::audit::record(app, actor, ip, action, target, serde_json::json!({})).await;
}

/// Tells the person of a change to their factors. A notice that cannot be queued is logged,
/// not a reason to undo the change.
pub(super) async fn notify(app: &AppState, account: &AccountRow, change: SecurityChange, now: i64) {
    let to = super::links::recovery_address(account);
    let letter = Letter::SecurityNotice { change, at: now };
    let queued = match letters::compose(app, account, to, &letter, None) {
        Ok(outgoing) => crate::mail::queue(app, vec![outgoing])
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Err(e) = queued {
        tracing::warn!(account_id = %account.account_id, error = %e, "a security notice was not queued");
    }
}

#[cfg(test)]
mod tests;
