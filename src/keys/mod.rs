//! Signing keys: RSA-2048 for RS256 through OpenSSL (constant-time), kid = RFC 7638 thumbprint.
//! The published set and the signer are kept in memory and reloaded from the database, so every
//! replica signs with the same key and a rotation reaches all of them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use josekit::jwk::Jwk;
use josekit::jws::alg::rsassa::{RsassaJwsSigner, RsassaJwsVerifier};
use josekit::jws::{JwsHeader, RS256};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::crypto::{self, CryptoError};
use crate::store::{SigningKeyRow, Store, StoreError};

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

struct KeySet {
    /// The newest activated key; `None` only if the database has no active key.
    signer: Option<(String, RsassaJwsSigner)>,
    verifiers: HashMap<String, RsassaJwsVerifier>,
    jwks_json: Arc<str>,
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
    /// Loads the published keys, creating the first one if the database has none.
    pub async fn load_or_init(
        store: &Store,
        encryption_key: [u8; 32],
        now: i64,
    ) -> Result<KeyRing, KeyError> {
        if store.list_published_keys(now).await?.is_empty() {
            generate_and_store(store, &encryption_key, now, now).await?;
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
        let fingerprint = fingerprint_of(&rows, now);
        if fingerprint == self.current().fingerprint {
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
    pub fn jwks_json(&self) -> Arc<str> {
        self.current().jwks_json.clone()
    }

    pub fn signing_kid(&self) -> Option<String> {
        self.current().signer.as_ref().map(|(kid, _)| kid.clone())
    }

    /// Signs `claims` as a compact JWS with RS256, `kid` and the given `typ`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        let set = self.current();
        let (kid, signer) = set.signer.as_ref().ok_or(KeyError::NoActiveKey)?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(kid);
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Unusable {
            kid: kid.clone(),
            message: format!("claims do not serialize: {e}"),
        })?;
        Ok(josekit::jws::serialize_compact(&payload, &header, signer)?)
    }

    /// Verifies a JWT we issued: RS256 only (no `none`, no HMAC), a published `kid`, the expected `typ`.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        expected_typ: &str,
    ) -> Result<T, VerifyError> {
        let set = self.current();
        let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
            if header.algorithm() != Some("RS256") {
                return Ok(None);
            }
            Ok(header
                .key_id()
                .and_then(|kid| set.verifiers.get(kid))
                .map(|v| v as &dyn josekit::jws::JwsVerifier))
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

    /// Publishes a new key now; it starts signing after `publish_lead` seconds, and the keys it
    /// replaces stay published until every token they signed has expired.
    pub async fn rotate(
        store: &Store,
        encryption_key: &[u8; 32],
        now: i64,
        publish_lead: i64,
        max_token_ttl: i64,
    ) -> Result<String, KeyError> {
        let activates_at = now + publish_lead;
        // Old keys keep signing until the new one activates, so their tokens live until then + ttl.
        store
            .schedule_key_expiry(activates_at, activates_at + max_token_ttl + 60)
            .await?;
        generate_and_store(store, encryption_key, now, activates_at).await
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
    let mut verifiers = HashMap::new();
    let mut public_jwks = Vec::new();
    let mut signer = None;
    for row in &rows {
        let unusable = |message: String| KeyError::Unusable {
            kid: row.kid.clone(),
            message,
        };
        if row.alg != "RS256" {
            return Err(unusable(format!("unsupported algorithm {}", row.alg)));
        }
        let jwk =
            Jwk::from_bytes(row.public_jwk.as_bytes()).map_err(|e| unusable(e.to_string()))?;
        verifiers.insert(row.kid.clone(), RS256.verifier_from_jwk(&jwk)?);
        public_jwks.push(jwk);
        // Rows come unretiring keys first, newest activation first: the first active one signs.
        if signer.is_none() && row.activates_at <= now {
            let der = crypto::open(encryption_key, row.kid.as_bytes(), &row.private_key_encrypted).map_err(|_| {
                unusable("private key does not decrypt: HCCC_SSO_SECRET_KEY differs from the one it was stored with".into())
            })?;
            signer = Some((row.kid.clone(), RS256.signer_from_der(&der)?));
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
        signer,
        verifiers,
        jwks_json: jwks_json.into(),
        fingerprint,
    })
}

async fn generate_and_store(
    store: &Store,
    encryption_key: &[u8; 32],
    now: i64,
    activates_at: i64,
) -> Result<String, KeyError> {
    let pair = RS256.generate_key_pair(2048)?;
    let mut public = pair.to_jwk_public_key();
    let kid = rfc7638_thumbprint(&public)?;
    public.set_key_id(&kid);
    public.set_key_use("sig");
    public.set_algorithm("RS256");
    let der = pair.to_der_private_key();
    let row = SigningKeyRow {
        key_id: Uuid::new_v4(),
        kid: kid.clone(),
        alg: "RS256".into(),
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
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        member("e")?,
        member("n")?
    );
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
