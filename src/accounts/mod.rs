//! Accounts: password hashing and sign-in verification with throttling; directory changes and
//! the bulk import in submodules.

pub mod directory;
pub mod factors;
pub mod import;
pub mod links;
pub mod passkeys;
pub mod passwords;
pub mod self_service;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

use argon2_rust::params::Memory;
use argon2_rust::{Algorithm, Argon2, Params, Version};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::LoginPolicy;
use crate::crypto;
use crate::store::{AccountRow, NewAccount, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing was cancelled")]
    Cancelled,
}

/// argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), computed by `argon2-rust` (SIMD
/// chosen at run time; PHC strings identical to the `argon2` crate's). Hashing runs on the blocking
/// pool, at most one per core at a time, so a burst of sign-ins cannot starve the async workers.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so both cases cost the same.
    dummy_hash: Arc<str>,
    /// Passwords verified since start (dummy hashes included): what the throttles bound, so
    /// tests and `/metrics` can see how many guesses were really evaluated.
    verifications: Arc<AtomicU64>,
}

/// A turn at the hasher: held while an attempt is counted and then verified, so an attempt is
/// counted only when it is about to be evaluated (see `check_password`).
pub struct Turn<'a> {
    _permit: SemaphorePermit<'a>,
    hasher: &'a PasswordHasher,
}

/// OWASP's argon2id parameters. The same values, with more passes and lanes allowed, bound what a
/// stored hash may ask for, so a tampered row cannot make verification allocate gigabytes.
fn params(memory_kib: u64, passes: u32, lanes: u32) -> Result<Params, HashError> {
    Params::builder()
        .memory(Memory::kib(memory_kib))
        .passes(passes)
        .lanes(lanes)
        .threads(1)
        .build()
        .map_err(|e| HashError::Hash(e.to_string()))
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    let argon2 = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        params(19 * 1024, 2, 1)?,
    );
    argon2
        .hash_password(password.as_bytes(), &crypto::random_bytes::<16>())
        .map_err(|e| HashError::Hash(e.to_string()))
}

fn verify_blocking(hash: &str, password: &str) -> bool {
    // The stored PHC string carries its own parameters, so older hashes keep verifying; the
    // ceiling (64 MiB, 8 passes, 4 lanes on one thread) refuses absurd ones before allocating.
    let Ok(ceiling) = params(64 * 1024, 8, 4) else {
        return false;
    };
    Argon2::verify_encoded_bounded(hash, password.as_bytes(), Algorithm::Argon2id, &ceiling).is_ok()
}

impl PasswordHasher {
    pub fn new() -> Result<PasswordHasher, HashError> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let dummy = hash_blocking(&crypto::random_token())?;
        Ok(PasswordHasher {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: dummy.into(),
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Cancelled)?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|_| HashError::Cancelled)?
    }

    /// Waits for a turn to verify (one per core at a time).
    pub async fn turn(&self) -> Result<Turn<'_>, HashError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Cancelled)?;
        Ok(Turn {
            _permit: permit,
            hasher: self,
        })
    }

    /// Verifies against `hash`, or against a dummy hash when there is none (unknown account or no
    /// password set), which always fails but takes as long.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> bool {
        match self.turn().await {
            Ok(turn) => turn.verify(hash, password).await,
            Err(_) => false,
        }
    }

    /// Passwords verified since this hasher was made.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

impl Turn<'_> {
    /// Verifies against `hash`, or against a dummy hash when there is none (unknown account or no
    /// password set), which always fails but takes as long. Ends the turn.
    pub async fn verify(self, hash: Option<&str>, password: &str) -> bool {
        self.hasher.verifications.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("password_verifications_total").increment(1);
        let (hash, real) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.hasher.dummy_hash.to_string(), false),
        };
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || verify_blocking(&hash, &password))
            .await
            .unwrap_or(false);
        verified && real
    }
}

/// Why a sign-in did not succeed. The message shown never says whether the account exists.
#[derive(Debug)]
pub enum SignInError {
    /// `account_id`: the account the name belongs to, when one does (never shown to the person).
    InvalidCredentials {
        account_id: Option<Uuid>,
    },
    /// Too many failures for this account name or address; try again after `retry_after` seconds.
    Locked {
        retry_after: i64,
        account_id: Option<Uuid>,
    },
    Store(StoreError),
}

impl From<StoreError> for SignInError {
    fn from(e: StoreError) -> Self {
        SignInError::Store(e)
    }
}

/// Where a sign-in attempt came from, for the throttles and the account's activity list.
pub struct SignInOrigin<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// `password` (the sign-in page), `reauthentication`, `api`.
    pub method: &'a str,
}

/// Checks a username (or e-mail) and password, counting failures per account and per IP. Every
/// attempt on an account that exists goes into its recent activity.
pub async fn sign_in(
    store: &Store,
    hasher: &PasswordHasher,
    policy: &LoginPolicy,
    login: &str,
    password: &str,
    origin: &SignInOrigin<'_>,
    now: i64,
) -> Result<AccountRow, SignInError> {
    let outcome = check_password(store, hasher, policy, login, password, origin.ip, now).await;
    let (account_id, result) = match &outcome {
        Ok(account) => (Some(account.account_id), "succeeded"),
        Err(SignInError::InvalidCredentials { account_id }) => (*account_id, "failed"),
        Err(SignInError::Locked { account_id, .. }) => (*account_id, "locked"),
        Err(SignInError::Store(_)) => (None, ""),
    };
    if let Some(account_id) = account_id {
        let event = crate::store::NewSignInEvent {
            account_id,
            result,
            method: origin.method,
            ip: origin.ip,
            user_agent: origin.user_agent,
        };
        store.record_sign_in(&event, now).await?;
    }
    outcome
}

async fn check_password(
    store: &Store,
    hasher: &PasswordHasher,
    policy: &LoginPolicy,
    login: &str,
    password: &str,
    client_ip: &str,
    now: i64,
) -> Result<AccountRow, SignInError> {
    // Failures count against the account whichever identifier was typed, so guesses by
    // username and by e-mail share one limit; names of no account have a counter of their own.
    let account = store.find_account_by_login(login).await?;
    let account_id = account.as_ref().map(|a| a.account_id);
    let account_key = match &account {
        Some(account) => throttle::account_key(account.account_id),
        None => throttle::unknown_name_key(login),
    };
    let ip_key = throttle::ip_key(client_ip);
    // A key locked already is refused by this read, without waiting for a turn at the hasher.
    let throttles = store.find_throttle_pair([&account_key, &ip_key]).await?;
    if let Some(locked_until) = throttles
        .iter()
        .flatten()
        .map(|row| row.locked_until)
        .filter(|until| *until > now)
        .max()
    {
        return Err(SignInError::Locked {
            retry_after: locked_until - now,
            account_id,
        });
    }

    // The attempt is counted before the password is verified (a failure recorded only after the
    // slow check let a burst of parallel guesses all pass the check above), and counted while
    // holding a turn at the hasher: then the address's count holds its failures plus at most a
    // turn's worth of sign-ins being verified, not a whole queue of a NAT address's students.
    let turn = hasher
        .turn()
        .await
        .map_err(|_| SignInError::InvalidCredentials { account_id })?;
    let limits = [
        (account_key.as_str(), policy.max_failures_per_account),
        (ip_key.as_str(), policy.max_failures_per_ip),
    ];
    let (per_account, per_ip) = match throttle::admit(store, &limits, policy, now).await? {
        throttle::Admission::Evaluate(counts) => match counts.as_slice() {
            [per_account, per_ip] => (*per_account, *per_ip),
            _ => return Err(StoreError::Corrupt("two keys, two counts".into()).into()),
        },
        throttle::Admission::Refuse { retry_after } => {
            return Err(SignInError::Locked {
                retry_after,
                account_id,
            });
        }
    };
    let hash = account
        .as_ref()
        .filter(|a| !a.disabled)
        .and_then(|a| a.password_hash.as_deref());
    let verified = turn.verify(hash, password).await;
    match account {
        Some(account) if verified => {
            // A success forgives the account's failures, and gives the address back the attempt
            // it counted: successes from one address never add up to its limit.
            store
                .forgive_sign_in(&account_key, &ip_key, per_ip.window_started_at, now)
                .await?;
            Ok(account)
        }
        _ => {
            for (key, counted, limit) in [
                (&account_key, per_account, policy.max_failures_per_account),
                (&ip_key, per_ip, policy.max_failures_per_ip),
            ] {
                if let Some(retry_after) =
                    throttle::failed(store, key, counted.count, limit, policy, now).await?
                {
                    return Err(SignInError::Locked {
                        retry_after,
                        account_id,
                    });
                }
            }
            let excess = per_account.count.max(per_ip.count) - policy.slowdown_after;
            if excess > 0 {
                let delay = policy
                    .slowdown_step_ms
                    .saturating_mul(excess as u64)
                    .min(5_000);
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            Err(SignInError::InvalidCredentials { account_id })
        }
    }
}

/// Creates an account with a password (CLI and first start): the directory's rules, with its
/// errors folded into the three a command line needs.
pub async fn create_account(
    store: &Store,
    hasher: &PasswordHasher,
    new: NewAccount,
    password: &str,
    now: i64,
) -> Result<AccountRow, CreateAccountError> {
    let user = directory::NewUser {
        username: new.username,
        email: new.email,
        email_verified: new.email_verified,
        given_name: new.given_name,
        family_name: new.family_name,
        roles: new.roles,
        groups: new.groups,
        password: Some(password.to_owned()),
        must_change_password: new.must_change_password,
        locale: new.locale,
        recovery_email: new.recovery_email,
    };
    directory::create_user(store, hasher, user, now)
        .await
        .map_err(|e| match e {
            directory::DirectoryError::Invalid(errors) => CreateAccountError::Invalid(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.english()))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            directory::DirectoryError::Duplicate => CreateAccountError::Duplicate,
            directory::DirectoryError::Store(e) => CreateAccountError::Store(e),
            other => CreateAccountError::Invalid(other.to_string()),
        })
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("an account with this username or e-mail address already exists")]
    Duplicate,
    #[error(transparent)]
    Store(StoreError),
}

#[cfg(test)]
mod tests;
