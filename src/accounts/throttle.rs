//! Counting attempts in the database, so limits hold across replicas: sign-in attempts per account
//! and per address, wrong device codes per address, anonymous starts (parked authorization
//! requests, QR sign-ins) per address, and requests that send mail per account and per address.

use crate::config::LoginPolicy;
use crate::store::{Store, StoreError};

/// The window anonymous starts are counted in (seconds).
pub const START_WINDOW: i64 = 600;

/// The window requests that send mail are counted in (seconds).
pub const MAIL_WINDOW: i64 = 3600;

/// The key failed sign-ins of an existing account are counted under, whichever of its
/// identifiers (username or e-mail) was typed.
pub fn account_key(account_id: uuid::Uuid) -> String {
    format!("account:{account_id}")
}

/// The key for a name that matches no account.
pub fn unknown_name_key(login: &str) -> String {
    format!("user:{}", crate::store::normalize_key(login))
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

pub fn device_key(ip: &str) -> String {
    format!("device:{ip}")
}

/// Seconds until `key` may try again, if it is locked out now.
pub async fn locked(store: &Store, key: &str, now: i64) -> Result<Option<i64>, StoreError> {
    Ok(store
        .find_throttle(key)
        .await?
        .map(|row| row.locked_until)
        .filter(|until| *until > now)
        .map(|until| until - now))
}

/// Counts one failure for `key`; at `limit` failures within the policy's window the key is locked
/// for the policy's lockout, and the lockout is returned.
pub async fn count_failure(
    store: &Store,
    key: &str,
    limit: i64,
    policy: &LoginPolicy,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let row = store.record_login_failure(key, now, policy.window).await?;
    if row.failures >= limit {
        store.lock_throttle(key, now + policy.lockout).await?;
        return Ok(Some(policy.lockout));
    }
    Ok(None)
}

/// An attempt counted before it is evaluated: its count (attempts in flight included) and the
/// window it was counted in, per key.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub count: i64,
    pub window_started_at: i64,
}

/// What counting an attempt before evaluating it decided.
#[derive(Debug)]
pub enum Admission {
    /// Evaluate it; the counts are in the order of the keys.
    Evaluate(Vec<Counted>),
    /// Refuse it unevaluated: a key is locked, or its limit's attempts are already counted
    /// (evaluating them will lock it, or a success will give its count back).
    Refuse { retry_after: i64 },
}

/// Counts an attempt under each of `keys` (with its limit) before the password or code is
/// evaluated, in one atomic statement that returns the counts: of N parallel guesses at most the
/// limit are evaluated, where a check made before any was counted let them all through. A
/// refused attempt gives its counts back, since it was never evaluated.
pub async fn admit(
    store: &Store,
    keys: &[(&str, i64)],
    policy: &LoginPolicy,
    now: i64,
) -> Result<Admission, StoreError> {
    let names: Vec<&str> = keys.iter().map(|(key, _)| *key).collect();
    let rows = store.count_attempts(&names, now, policy.window).await?;
    let locked = rows
        .iter()
        .filter(|row| row.locked_until > now)
        .map(|row| row.locked_until - now)
        .max();
    let over = rows
        .iter()
        .zip(keys)
        .any(|(row, (_, limit))| row.locked_until <= now && row.failures > *limit);
    if locked.is_some() || over {
        // A key locked now was not counted; the others were.
        let counted: Vec<(&str, i64)> = rows
            .iter()
            .zip(&names)
            .filter(|(row, _)| row.locked_until <= now)
            .map(|(row, key)| (*key, row.window_started_at))
            .collect();
        store.give_back_attempts(&counted).await?;
        return Ok(Admission::Refuse {
            retry_after: locked.unwrap_or(policy.lockout),
        });
    }
    Ok(Admission::Evaluate(
        rows.iter()
            .map(|row| Counted {
                count: row.failures,
                window_started_at: row.window_started_at,
            })
            .collect(),
    ))
}

/// An admitted attempt on `key` (its `count`) was wrong: at the limit the key is locked for
/// the policy's lockout, which is returned.
pub async fn failed(
    store: &Store,
    key: &str,
    count: i64,
    limit: i64,
    policy: &LoginPolicy,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if count < limit {
        return Ok(None);
    }
    store.lock_throttle(key, now + policy.lockout).await?;
    Ok(Some(policy.lockout))
}

/// The key mail for an account is counted under, per kind (`LinkPurpose::as_str`): requests by
/// the person or at the anonymous reset form, or, apart from them, by admins, so strangers at
/// the reset form never use up what the help desk may send.
pub fn mail_account_key(kind: &str, account_id: uuid::Uuid, by_admin: bool) -> String {
    match by_admin {
        false => format!("mail:{kind}:{account_id}"),
        true => format!("mail-admin:{kind}:{account_id}"),
    }
}

/// The key mail requested from one address is counted under, whatever its kind or account.
pub fn mail_ip_key(ip: &str) -> String {
    format!("mail-ip:{ip}")
}

/// Counts a request that sends mail under each of `keys` (with its limit) in `MAIL_WINDOW`,
/// before anything is sent, in one atomic statement: of N parallel requests at most the limit
/// pass. Returns the seconds until the window ends when a key is past its limit (the request
/// is not sent; like every request it still counts).
pub async fn count_mail(
    store: &Store,
    keys: &[(&str, i64)],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let names: Vec<&str> = keys.iter().map(|(key, _)| *key).collect();
    let rows = store.count_attempts(&names, now, MAIL_WINDOW).await?;
    Ok(rows
        .iter()
        .zip(keys)
        .filter(|(row, (_, limit))| row.failures > *limit)
        .map(|(row, _)| (row.window_started_at + MAIL_WINDOW - now).max(1))
        .max())
}

/// `count_mail` for many keys of one limit at once (a bulk invitation), each on its own: `None`
/// for a key within the limit, else the seconds until its window ends.
pub async fn count_mail_each(
    store: &Store,
    keys: &[&str],
    limit: i64,
    now: i64,
) -> Result<Vec<Option<i64>>, StoreError> {
    let rows = store.count_attempts(keys, now, MAIL_WINDOW).await?;
    Ok(rows
        .iter()
        .map(|row| {
            (row.failures > limit).then(|| (row.window_started_at + MAIL_WINDOW - now).max(1))
        })
        .collect())
}

/// Counts a start that stores rows for a visitor not signed in yet; false once the address has
/// made `limit` of them in `START_WINDOW` (generous: a campus shares a few addresses).
pub async fn count_anonymous_start(
    store: &Store,
    ip: &str,
    limit: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let row = store
        .record_login_failure(&format!("start:{ip}"), now, START_WINDOW)
        .await?;
    Ok(row.failures <= limit)
}
