//! Signing keys: RSA-2048 for RS256 (the default) and P-256 for ES256 (per client, for ID tokens),
//! both through OpenSSL (constant-time), kid = RFC 7638 thumbprint.
//! The published set and the signers are kept in memory and reloaded from the database, so every
//! replica signs with the same keys and a rotation reaches all of them.

mod rotation;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader, JwsSigner, JwsVerifier, RS256};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::crypto::{self, CryptoError};
use crate::store::{SigningKeyRow, Store, StoreError};

pub use rotation::{confirm_secret_key, opens_stored_keys, rotate_if_due};

/// The algorithms we sign with; each always has a key.
pub const ALGORITHMS: [&str; 2] = ["RS256", "ES256"];

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("key {kid}: {message}")]
    Unusable { kid: String, message: String },
    #[error("no signing key is active")]
    NoActiveKey,
    #[error("JOSE error: {0}")]
    Jose(#[from] josekit::JoseError),
}

/// Why a presented JWT was not accepted. Deliberately coarse: callers map it to protocol errors.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token")]
    Malformed,
    #[error("signature does not verify with a published key")]
    BadSignature,
    #[error("wrong token type")]
    WrongType,
}

type Signer = (String, Box<dyn JwsSigner>);

struct KeySet {
    /// Per algorithm, the newest activated key that is not being retired.
    signers: HashMap<&'static str, Signer>,
    /// Per kid, its algorithm and verifier: a kid verifies only with its own algorithm.
    verifiers: HashMap<String, (&'static str, Box<dyn JwsVerifier>)>,
    jwks_json: axum::body::Bytes,
    /// Identifies the loaded set so reloads can skip unchanged data.
    fingerprint: Vec<(Uuid, i64, Option<i64>)>,
}

#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<RwLock<Arc<KeySet>>>,
    encryption_key: [u8; 32],
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing(<keys redacted>)")
    }
}

#[derive(Serialize)]
struct Jwks<'a> {
    keys: Vec<&'a serde_json::Map<String, serde_json::Value>>,
}

impl KeyRing {
    /// Loads the published keys, creating a first key for any algorithm that has none.
    pub async fn load_or_init(
        store: &Store,
        encryption_key: [u8; 32],
        now: i64,
    ) -> Result<KeyRing, KeyError> {
        // Replicas starting together race for a lease: one generates, the others wait and load.
        for _ in 0..50 {
            let published = store.list_published_keys(now).await?;
            let missing: Vec<&str> = ALGORITHMS
                .into_iter()
                .filter(|alg| !published.iter().any(|k| k.alg == *alg))
                .collect();
            if missing.is_empty() {
                break;
            }
            if store.take_lease("key_rotation", now, now + 30).await? {
                for alg in missing {
                    generate_and_store(store, &encryption_key, alg, now, now).await?;
                }
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let set = build_set(store.list_published_keys(now).await?, &encryption_key, now)?;
        Ok(KeyRing {
            inner: Arc::new(RwLock::new(Arc::new(set))),
            encryption_key,
        })
    }

    fn current(&self) -> Arc<KeySet> {
        match self.inner.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the published keys; cheap when nothing changed.
    pub async fn reload(&self, store: &Store, now: i64) -> Result<(), KeyError> {
        let rows = store.list_published_keys(now).await?;
        if fingerprint_of(&rows, now) == self.current().fingerprint {
            return Ok(());
        }
        let set = Arc::new(build_set(rows, &self.encryption_key, now)?);
        match self.inner.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
        Ok(())
    }

    /// The JWKS document, prebuilt.
    pub fn jwks_json(&self) -> axum::body::Bytes {
        self.current().jwks_json.clone()
    }

    /// The kid that signs RS256 tokens now.
    pub fn signing_kid(&self) -> Option<String> {
        self.signing_kid_for("RS256")
    }

    pub fn signing_kid_for(&self, alg: &str) -> Option<String> {
        self.current().signers.get(alg).map(|(kid, _)| kid.clone())
    }

    /// Signs `claims` as a compact JWS with RS256, `kid` and the given `typ`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        self.sign_with("RS256", typ, claims)
    }

    /// Signs with the current key of `alg` (RS256 or ES256).
    pub fn sign_with<T: Serialize>(
        &self,
        alg: &str,
        typ: &str,
        claims: &T,
    ) -> Result<String, KeyError> {
        let set = self.current();
        let (kid, signer) = set.signers.get(alg).ok_or(KeyError::NoActiveKey)?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(kid);
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Unusable {
            kid: kid.clone(),
            message: format!("claims do not serialize: {e}"),
        })?;
        Ok(josekit::jws::serialize_compact(
            &payload,
            &header,
            signer.as_ref(),
        )?)
    }

    /// Verifies a JWT we issued: a published `kid` used with its own algorithm (so no `none`, no
    /// HMAC, no algorithm swapping), and the expected `typ`.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        expected_typ: &str,
    ) -> Result<T, VerifyError> {
        let set = self.current();
        let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
            let verifier = header.key_id().and_then(|kid| set.verifiers.get(kid));
            Ok(verifier
                .filter(|(alg, _)| header.algorithm() == Some(*alg))
                .map(|(_, v)| v.as_ref()))
        })
        .map_err(|e| match e {
            josekit::JoseError::InvalidSignature(_) => VerifyError::BadSignature,
            _ => VerifyError::Malformed,
        })?;
        if header.token_type() != Some(expected_typ) {
            return Err(VerifyError::WrongType);
        }
        serde_json::from_slice(&payload).map_err(|_| VerifyError::Malformed)
    }

    /// Publishes a new key per algorithm now; they sign after `publish_lead` seconds, and the keys
    /// they replace stay published until every token those signed has expired. Returns the new
    /// RS256 kid.
    pub async fn rotate(
        store: &Store,
        encryption_key: &[u8; 32],
        now: i64,
        publish_lead: i64,
        max_token_ttl: i64,
    ) -> Result<String, KeyError> {
        let activates_at = now + publish_lead;
        // Old keys keep signing until the new ones activate, so their tokens live until then + ttl.
        store
            .schedule_key_expiry(activates_at, activates_at + max_token_ttl + 60)
            .await?;
        let rsa = generate_and_store(store, encryption_key, "RS256", now, activates_at).await?;
        generate_and_store(store, encryption_key, "ES256", now, activates_at).await?;
        Ok(rsa)
    }
}

fn fingerprint_of(rows: &[SigningKeyRow], now: i64) -> Vec<(Uuid, i64, Option<i64>)> {
    // Includes whether each key is active yet, so a scheduled activation triggers a rebuild.
    rows.iter()
        .map(|r| (r.key_id, (r.activates_at <= now) as i64, r.expires_at))
        .collect()
}

fn build_set(
    rows: Vec<SigningKeyRow>,
    encryption_key: &[u8; 32],
    now: i64,
) -> Result<KeySet, KeyError> {
    let fingerprint = fingerprint_of(&rows, now);
    let mut verifiers: HashMap<String, (&'static str, Box<dyn JwsVerifier>)> = HashMap::new();
    let mut signers: HashMap<&'static str, Signer> = HashMap::new();
    let mut public_jwks = Vec::new();
    for row in &rows {
        let unusable = |message: String| KeyError::Unusable {
            kid: row.kid.clone(),
            message,
        };
        let alg = ALGORITHMS
            .into_iter()
            .find(|a| *a == row.alg)
            .ok_or_else(|| unusable(format!("unsupported algorithm {}", row.alg)))?;
        let jwk =
            Jwk::from_bytes(row.public_jwk.as_bytes()).map_err(|e| unusable(e.to_string()))?;
        let verifier: Box<dyn JwsVerifier> = match alg {
            "RS256" => Box::new(RS256.verifier_from_jwk(&jwk)?),
            _ => Box::new(ES256.verifier_from_jwk(&jwk)?),
        };
        verifiers.insert(row.kid.clone(), (alg, verifier));
        public_jwks.push(jwk);
        // Rows come unretiring keys first, newest activation first: the first active one signs.
        if !signers.contains_key(alg) && row.activates_at <= now {
            let der = crypto::open(encryption_key, row.kid.as_bytes(), &row.private_key_encrypted).map_err(|_| {
                unusable("private key does not decrypt: HCCC_SSO_SECRET_KEY differs from the one it was stored with".into())
            })?;
            let signer: Box<dyn JwsSigner> = match alg {
                "RS256" => Box::new(RS256.signer_from_der(&der)?),
                _ => Box::new(ES256.signer_from_der(&der)?),
            };
            signers.insert(alg, (row.kid.clone(), signer));
        }
    }
    let jwks = Jwks {
        keys: public_jwks.iter().map(|j| j.as_ref()).collect(),
    };
    let jwks_json = serde_json::to_string(&jwks).map_err(|e| KeyError::Unusable {
        kid: String::new(),
        message: e.to_string(),
    })?;
    Ok(KeySet {
        signers,
        verifiers,
        jwks_json: axum::body::Bytes::from(jwks_json),
        fingerprint,
    })
}

async fn generate_and_store(
    store: &Store,
    encryption_key: &[u8; 32],
    alg: &str,
    now: i64,
    activates_at: i64,
) -> Result<String, KeyError> {
    let (mut public, der) = match alg {
        "RS256" => {
            let pair = RS256.generate_key_pair(2048)?;
            (pair.to_jwk_public_key(), pair.to_der_private_key())
        }
        _ => {
            let pair = ES256.generate_key_pair()?;
            (pair.to_jwk_public_key(), pair.to_der_private_key())
        }
    };
    let kid = rfc7638_thumbprint(&public)?;
    public.set_key_id(&kid);
    public.set_key_use("sig");
    public.set_algorithm(alg);
    let row = SigningKeyRow {
        key_id: Uuid::new_v4(),
        kid: kid.clone(),
        alg: alg.into(),
        public_jwk: public.to_string(),
        private_key_encrypted: crypto::seal(encryption_key, kid.as_bytes(), &der)?,
        created_at: now,
        activates_at,
        expires_at: None,
    };
    store.insert_signing_key(&row).await?;
    Ok(kid)
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
fn rfc7638_thumbprint(public: &Jwk) -> Result<String, KeyError> {
    let member = |name: &str| {
        public
            .parameter(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| KeyError::Unusable {
                kid: String::new(),
                message: format!("public key lacks {name}"),
            })
    };
    let canonical = match public.key_type() {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv")?,
            member("x")?,
            member("y")?
        ),
        _ => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            member("e")?,
            member("n")?
        ),
    };
    Ok(crypto::b64url(&crypto::sha256(canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_the_rfc_7638_example() {
        // RFC 7638 section 3.1.
        let jwk = Jwk::from_bytes(
            br#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .expect("jwk");
        assert_eq!(
            rfc7638_thumbprint(&jwk).expect("thumbprint"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
