//! When the signing keys rotate (one replica at a time), and start-up's check that the secret key
//! opens the keys the database holds.

use super::{KeyError, KeyRing};
use crate::crypto;
use crate::store::Store;

/// Rotates when the newest RS256 key is older than `max_age` and no newer key is waiting to
/// activate. Replicas race for a lease, so exactly one rotates. Returns the new kid, if any.
pub async fn rotate_if_due(
    store: &Store,
    encryption_key: &[u8; 32],
    now: i64,
    max_age: i64,
    publish_lead: i64,
    max_token_ttl: i64,
) -> Result<Option<String>, KeyError> {
    let keys = store.list_published_keys(now).await?;
    let newest = keys
        .iter()
        .filter(|k| k.alg == "RS256")
        .map(|k| k.activates_at)
        .max();
    let due = match newest {
        Some(activated) => activated <= now - max_age, // a future activation means a rotation is under way
        None => true,
    };
    if !due || !store.take_lease("key_rotation", now, now + 300).await? {
        return Ok(None);
    }
    KeyRing::rotate(store, encryption_key, now, publish_lead, max_token_ttl)
        .await
        .map(Some)
}

/// Whether `encryption_key` opens the signing keys stored in the database: None when there are
/// none yet (a new database).
pub async fn opens_stored_keys(
    store: &Store,
    encryption_key: &[u8; 32],
    now: i64,
) -> Result<Option<bool>, KeyError> {
    let rows = store.list_published_keys(now).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(rows.iter().all(|row| {
        crypto::open(
            encryption_key,
            row.kid.as_bytes(),
            &row.private_key_encrypted,
        )
        .is_ok()
    })))
}

/// Start-up's check of the secret key against the database, before anything is sealed with it.
/// A secret generated just now (no HCCC_SSO_SECRET_KEY, no file in the data directory) is saved
/// only when the database holds no keys sealed under another: a command run from another folder
/// must not quietly make a second key that seals what the server cannot open.
pub async fn confirm_secret_key(
    config: &crate::config::Config,
    store: &Store,
    encryption_key: &[u8; 32],
    now: i64,
) -> Result<(), String> {
    let opens = opens_stored_keys(store, encryption_key, now)
        .await
        .map_err(|e| e.to_string())?;
    match (opens, &config.secret_to_save) {
        (Some(false), Some(path)) => Err(format!(
            "HCCC_SSO_SECRET_KEY is not set and there is no {}, but the database already holds \
             signing keys sealed under another secret key. Refusing to generate a new one, which would \
             seal data the server cannot open: run this from the folder whose data/secret.key the \
             server uses, set HCCC_SSO_DATA_DIR to that folder, or set HCCC_SSO_SECRET_KEY.",
            path.display()
        )),
        (Some(false), None) => Err(
            "HCCC_SSO_SECRET_KEY (or data/secret.key) does not open the signing keys in the database: \
             it differs from the one they were stored with"
                .into(),
        ),
        _ => config.save_generated_secret(),
    }
}
