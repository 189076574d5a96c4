//! Passkeys and security keys (WebAuthn, through webauthn-rs). No axum types: the pages call
//! these with the browser's JSON and keep each ceremony's state in the session, server-side.
//!
//! A **passkey** is discoverable and verifies the person (PIN, fingerprint, face): it signs in
//! alone from the sign-in page, without a username, and counts as multi-factor. A **security
//! key** is a second factor after the password. Both kinds live in one table and either serves
//! as the second step after a password, in one ceremony over all of the account's credentials.
//!
//! A ceremony's state is single use (the page takes it out of the session before finishing)
//! and short-lived ([`CEREMONY_TTL`]); the challenge inside it ties the browser's answer to it,
//! the origin is checked against the issuer's, and the credential must be the account's.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, AuthenticatorAttachment, Credential, DiscoverableAuthentication, Passkey,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey,
    SecurityKeyAuthentication, SecurityKeyRegistration, Url, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::factors::{self, FactorError};
use crate::config::Config;
use crate::crypto;
use crate::mail::letters::SecurityChange;
use crate::state::AppState;
use crate::store::{AccountRow, StoreError, WebauthnRow};

/// How long a ceremony waits for the authenticator (the browser is told the same).
pub const CEREMONY_TTL: i64 = 300;
/// The browser's answer to a ceremony is a few KiB; anything far larger is not one.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// A credential's name, as the person typed it.
pub const MAX_NAME_CHARS: usize = 64;

/// What kind of credential, as the table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Passkey,
    SecurityKey,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Passkey => "passkey",
            Kind::SecurityKey => "security_key",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "passkey" => Some(Kind::Passkey),
            "security_key" => Some(Kind::SecurityKey),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("passkeys are off on this server (the issuer's host is not a domain name)")]
    Off,
    /// The browser's answer does not prove what it must: another challenge, origin or user, a
    /// malformed or tampered response, an unknown or disabled credential.
    #[error("the authenticator's answer was refused: {0}")]
    Refused(String),
    #[error("this credential is registered already")]
    Duplicate,
    #[error("the name is empty or too long")]
    BadName,
    #[error("too many failed attempts; retry in {retry_after} s")]
    Locked { retry_after: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<FactorError> for PasskeyError {
    fn from(e: FactorError) -> Self {
        match e {
            FactorError::Locked { retry_after } => PasskeyError::Locked { retry_after },
            FactorError::Wrong => PasskeyError::Refused("refused".into()),
            FactorError::Store(e) => PasskeyError::Store(e),
            FactorError::Crypto(e) => PasskeyError::Internal(e),
        }
    }
}

fn refused(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Refused(e.to_string())
}

/// The relying party of the issuer: its id is `HCCC_SSO_WEBAUTHN_RP_ID` or the issuer's host,
/// its origin the issuer's. `None` when the issuer's host is an IP address and no id is set
/// (browsers refuse an IP address as a relying-party id).
pub fn relying_party(config: &Config, name: &str) -> Result<Option<Webauthn>, String> {
    let origin = Url::parse(&config.issuer).map_err(|e| format!("HCCC_SSO_ISSUER: {e}"))?;
    let Some(host) = origin.domain() else {
        return Ok(None);
    };
    let rp_id = config.mfa.webauthn_rp_id.as_deref().unwrap_or(host);
    let origin = Url::parse(&origin.origin().ascii_serialization())
        .map_err(|e| format!("HCCC_SSO_ISSUER: {e}"))?;
    let webauthn = WebauthnBuilder::new(rp_id, &origin)
        .map_err(|_| {
            format!("HCCC_SSO_WEBAUTHN_RP_ID: {rp_id:?} is not the issuer's host or a parent domain of it")
        })?
        .rp_name(name)
        // A security key after the password proves possession; asking for its PIN as well
        // would refuse keys that have none (and Chromium refuses credProtect's "user
        // verification required" for a key that cannot verify). Passkeys still verify.
        .danger_set_user_presence_only_security_keys(true)
        .timeout(std::time::Duration::from_secs(CEREMONY_TTL as u64))
        .build()
        .map_err(|e| format!("WebAuthn: {e}"))?;
    Ok(Some(webauthn))
}

fn webauthn(app: &AppState) -> Result<&Webauthn, PasskeyError> {
    app.webauthn.as_deref().ok_or(PasskeyError::Off)
}

/// One WebAuthn ceremony under way, kept in the session until its answer comes.
#[derive(Serialize, Deserialize)]
pub enum Ceremony {
    RegisterPasskey {
        account_id: Uuid,
        name: String,
        state: PasskeyRegistration,
        started_at: i64,
    },
    RegisterSecurityKey {
        account_id: Uuid,
        name: String,
        state: SecurityKeyRegistration,
        started_at: i64,
    },
    /// A passkey sign-in without a username.
    SignIn {
        state: DiscoverableAuthentication,
        started_at: i64,
    },
    /// Any of the account's credentials, after its password (or for a step-up).
    SecondFactor {
        account_id: Uuid,
        state: SecurityKeyAuthentication,
        started_at: i64,
    },
}

impl Ceremony {
    fn started_at(&self) -> i64 {
        match self {
            Ceremony::RegisterPasskey { started_at, .. }
            | Ceremony::RegisterSecurityKey { started_at, .. }
            | Ceremony::SignIn { started_at, .. }
            | Ceremony::SecondFactor { started_at, .. } => *started_at,
        }
    }

    /// Whether it may still be finished at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        (0..=CEREMONY_TTL).contains(&(now - self.started_at()))
    }
}

/// A started ceremony: the options for `navigator.credentials` (JSON) and the state to keep.
pub struct Started {
    pub options: String,
    pub ceremony: Ceremony,
}

fn options_json(options: &impl Serialize) -> Result<String, PasskeyError> {
    serde_json::to_string(options).map_err(|e| PasskeyError::Internal(e.to_string()))
}

fn credential_of(row: &WebauthnRow) -> Result<Credential, PasskeyError> {
    serde_json::from_str(&row.credential)
        .map_err(|e| PasskeyError::Store(StoreError::Corrupt(format!("webauthn credential: {e}"))))
}

/// A credential name as kept: trimmed, without control characters, 1 to 64 characters.
pub fn clean_name(name: &str) -> Result<String, PasskeyError> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(PasskeyError::BadName);
    }
    Ok(name)
}

/// Starts registering a credential of `kind` named `name` to the account.
pub async fn start_registration(
    app: &AppState,
    account: &AccountRow,
    kind: Kind,
    name: &str,
    now: i64,
) -> Result<Started, PasskeyError> {
    let webauthn = webauthn(app)?;
    let name = clean_name(name)?;
    let handle = app.store.webauthn_handle(account.account_id).await?;
    // Credentials already registered are excluded: the authenticator says so instead of
    // registering one twice.
    let exclude = app
        .store
        .list_webauthn(account.account_id)
        .await?
        .iter()
        .map(|row| credential_of(row).map(|c| c.cred_id))
        .collect::<Result<Vec<_>, _>>()?;
    let display = account.display_name();
    let account_id = account.account_id;
    match kind {
        Kind::Passkey => {
            let (mut options, state) = webauthn
                .start_passkey_registration(handle, &account.username, &display, Some(exclude))
                .map_err(|e| PasskeyError::Internal(e.to_string()))?;
            // webauthn-rs leaves residency to the authenticator; signing in without a
            // username needs a discoverable credential, so require one.
            if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
                selection.resident_key = Some(ResidentKeyRequirement::Required);
                selection.require_resident_key = true;
            }
            Ok(Started {
                options: options_json(&options)?,
                ceremony: Ceremony::RegisterPasskey {
                    account_id,
                    name,
                    state,
                    started_at: now,
                },
            })
        }
        Kind::SecurityKey => {
            let (options, state) = webauthn
                .start_securitykey_registration(
                    handle,
                    &account.username,
                    &display,
                    Some(exclude),
                    None,
                    Some(AuthenticatorAttachment::CrossPlatform),
                )
                .map_err(|e| PasskeyError::Internal(e.to_string()))?;
            Ok(Started {
                options: options_json(&options)?,
                ceremony: Ceremony::RegisterSecurityKey {
                    account_id,
                    name,
                    state,
                    started_at: now,
                },
            })
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(response: &str) -> Result<T, PasskeyError> {
    if response.len() > MAX_RESPONSE_BYTES {
        return Err(refused("the response is too large"));
    }
    // Not serde's message: it quotes what it could not read, which may be a credential id or
    // key, and the reason is logged.
    serde_json::from_str(response).map_err(|e| {
        refused(format_args!(
            "the answer does not read as WebAuthn ({:?} at column {})",
            e.classify(),
            e.column()
        ))
    })
}

/// Finishes a registration with the browser's answer. Returns new recovery codes when this is
/// the account's first second factor, to show once.
pub async fn finish_registration(
    app: &AppState,
    account: &AccountRow,
    ceremony: Ceremony,
    response: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<Vec<String>>, PasskeyError> {
    let webauthn = webauthn(app)?;
    if !ceremony.is_live(now) {
        return Err(refused("the ceremony expired"));
    }
    let answer: RegisterPublicKeyCredential = parse(response)?;
    let (kind, name, credential): (Kind, String, Credential) = match ceremony {
        Ceremony::RegisterPasskey {
            account_id,
            name,
            state,
            ..
        } if account_id == account.account_id => {
            let passkey = webauthn
                .finish_passkey_registration(&answer, &state)
                .map_err(refused)?;
            (Kind::Passkey, name, passkey.into())
        }
        Ceremony::RegisterSecurityKey {
            account_id,
            name,
            state,
            ..
        } if account_id == account.account_id => {
            let key = webauthn
                .finish_securitykey_registration(&answer, &state)
                .map_err(refused)?;
            (Kind::SecurityKey, name, key.into())
        }
        _ => return Err(refused("no registration of this account is under way")),
    };
    let row = WebauthnRow {
        credential_id: crypto::b64url(&credential.cred_id),
        account_id: account.account_id,
        kind: kind.as_str().to_owned(),
        name,
        credential: serde_json::to_string(&credential)
            .map_err(|e| PasskeyError::Internal(e.to_string()))?,
        created_at: now,
        last_used_at: None,
    };
    if !app.store.insert_webauthn(&row).await? {
        return Err(PasskeyError::Duplicate);
    }
    let mfa = app.store.find_mfa(account.account_id).await?;
    let codes = if mfa.recovery_codes_left == 0 {
        Some(factors::issue_recovery_codes(app, account, now).await?)
    } else {
        None
    };
    factors::audit(
        app,
        &factors::actor_of(account),
        account,
        ip,
        "user.add_passkey",
    )
    .await;
    factors::notify(app, account, SecurityChange::PasskeyAdded, now).await;
    Ok(codes)
}

/// RFC 8176's name for the key that answered: a passkey that may be synced between devices
/// (backup eligible) is a software-secured key, one bound to its device a hardware one.
fn key_amr(credential: &Credential) -> &'static str {
    if credential.backup_eligible {
        "swk"
    } else {
        "hwk"
    }
}

/// Records a use: the new sign counter and backup flags, and when.
async fn record_use(
    app: &AppState,
    row: &WebauthnRow,
    credential: Credential,
    result: &AuthenticationResult,
    now: i64,
) -> Result<Credential, PasskeyError> {
    let mut passkey = Passkey::from(credential);
    passkey.update_credential(result);
    let credential = Credential::from(passkey);
    let json =
        serde_json::to_string(&credential).map_err(|e| PasskeyError::Internal(e.to_string()))?;
    app.store
        .touch_webauthn(&row.credential_id, &json, now)
        .await?;
    Ok(credential)
}

/// Starts a passkey sign-in: any discoverable passkey of this site may answer.
pub fn start_sign_in(app: &AppState, now: i64) -> Result<Started, PasskeyError> {
    let (options, state) = webauthn(app)?
        .start_discoverable_authentication()
        .map_err(|e| PasskeyError::Internal(e.to_string()))?;
    Ok(Started {
        options: options_json(&options)?,
        ceremony: Ceremony::SignIn {
            state,
            started_at: now,
        },
    })
}

/// Finishes a passkey sign-in: the account it signs in, and how (`amr`).
pub async fn finish_sign_in(
    app: &AppState,
    ceremony: Ceremony,
    response: &str,
    now: i64,
) -> Result<(AccountRow, Vec<String>), PasskeyError> {
    let webauthn = webauthn(app)?;
    if !ceremony.is_live(now) {
        return Err(refused("the ceremony expired"));
    }
    let Ceremony::SignIn { state, .. } = ceremony else {
        return Err(refused("no passkey sign-in is under way"));
    };
    let answer: PublicKeyCredential = parse(response)?;
    let (handle, credential_id) = webauthn
        .identify_discoverable_authentication(&answer)
        .map_err(refused)?;
    let row = app
        .store
        .find_webauthn(&crypto::b64url(credential_id))
        .await?
        .filter(|row| row.kind == Kind::Passkey.as_str())
        .ok_or_else(|| refused("no such passkey"))?;
    // The user handle the authenticator returned must be the one the credential was made for.
    if app.store.account_of_webauthn_handle(handle).await? != Some(row.account_id) {
        return Err(refused("the passkey belongs to another user"));
    }
    let account = app
        .store
        .find_account(row.account_id)
        .await?
        .filter(|a| !a.disabled)
        .ok_or_else(|| refused("the account is disabled"))?;
    let credential = credential_of(&row)?;
    let result = webauthn
        .finish_discoverable_authentication_v2(&answer, state, &credential)
        .map_err(refused)?;
    if !result.user_verified() {
        return Err(refused("the authenticator did not verify the person"));
    }
    let credential = record_use(app, &row, credential, &result, now).await?;
    let amr = vec![key_amr(&credential).into(), "user".into(), "mfa".into()];
    Ok((account, amr))
}

/// Starts the second step with any of the account's passkeys and security keys; `None` when
/// it has none.
pub async fn start_second_factor(
    app: &AppState,
    account: &AccountRow,
    now: i64,
) -> Result<Option<Started>, PasskeyError> {
    let webauthn = webauthn(app)?;
    let keys = app
        .store
        .list_webauthn(account.account_id)
        .await?
        .iter()
        .map(|row| credential_of(row).map(SecurityKey::from))
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Ok(None);
    }
    let (options, state) = webauthn
        .start_securitykey_authentication(&keys)
        .map_err(|e| PasskeyError::Internal(e.to_string()))?;
    Ok(Some(Started {
        options: options_json(&options)?,
        ceremony: Ceremony::SecondFactor {
            account_id: account.account_id,
            state,
            started_at: now,
        },
    }))
}

/// Finishes the second step: how it was made (`amr`, after the password's `pwd`). A refused
/// answer counts against the account like a wrong code.
pub async fn finish_second_factor(
    app: &AppState,
    account: &AccountRow,
    ceremony: Ceremony,
    response: &str,
    now: i64,
) -> Result<Vec<String>, PasskeyError> {
    let webauthn = webauthn(app)?;
    factors::not_locked(app, account.account_id, now).await?;
    if !ceremony.is_live(now) {
        return Err(refused("the ceremony expired"));
    }
    let Ceremony::SecondFactor {
        account_id, state, ..
    } = ceremony
    else {
        return Err(refused("no second step is under way"));
    };
    if account_id != account.account_id {
        return Err(refused("the second step is another account's"));
    }
    let checked = match parse::<PublicKeyCredential>(response) {
        Ok(answer) => webauthn
            .finish_securitykey_authentication(&answer, &state)
            .map_err(refused),
        Err(e) => Err(e),
    };
    let result = match checked {
        Ok(result) => result,
        Err(e) => {
            return match factors::wrong(app, account.account_id, now).await {
                FactorError::Wrong => Err(e),
                other => Err(other.into()),
            };
        }
    };
    let row = app
        .store
        .find_webauthn(&crypto::b64url(result.cred_id()))
        .await?
        .filter(|row| row.account_id == account.account_id)
        .ok_or_else(|| refused("the key is not this account's"))?;
    let credential = record_use(app, &row, credential_of(&row)?, &result, now).await?;
    app.store
        .clear_throttle(&factors::throttle_key(account.account_id))
        .await?;
    Ok(vec![key_amr(&credential).into(), "mfa".into()])
}

/// The person removes one of their passkeys or security keys (audited, notified).
pub async fn remove(
    app: &AppState,
    account: &AccountRow,
    credential_id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<bool, PasskeyError> {
    if !app
        .store
        .delete_webauthn(account.account_id, credential_id)
        .await?
    {
        return Ok(false);
    }
    app.store
        .drop_orphan_recovery_codes(account.account_id)
        .await?;
    factors::audit(
        app,
        &factors::actor_of(account),
        account,
        ip,
        "user.remove_passkey",
    )
    .await;
    factors::notify(app, account, SecurityChange::PasskeyRemoved, now).await;
    Ok(true)
}

#[cfg(test)]
mod tests;
