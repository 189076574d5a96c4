//! Counting attempts in the database, so limits hold across replicas: failed sign-ins per account
//! and per address, wrong device codes per address, and anonymous starts (parked authorization
//! requests, QR sign-ins) per address.

use crate::config::LoginPolicy;
use crate::store::{Store, StoreError};

/// The window anonymous starts are counted in (seconds).
pub const START_WINDOW: i64 = 600;

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
