//! Small wrappers over OpenSSL: randomness, hashes, constant-time comparison, AEAD, key derivation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};

#[derive(Debug, thiserror::Error)]
#[error("cryptographic operation failed: {0}")]
pub struct CryptoError(String);

impl From<openssl::error::ErrorStack> for CryptoError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        CryptoError(e.to_string())
    }
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // OpenSSL's CSPRNG only fails if the OS has no entropy source, which we cannot run without.
    #[allow(clippy::panic)]
    openssl::rand::rand_bytes(&mut buf).unwrap_or_else(|e| panic!("no entropy source: {e}"));
    buf
}

/// A 256-bit random token, base64url without padding (43 characters).
pub fn random_token() -> String {
    b64url(&random_bytes::<32>())
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(data)
}

/// Equal-length inputs are compared in constant time; a length mismatch returns early,
/// which only reveals the length (all our secrets and hashes have a fixed length).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<[u8; 32], CryptoError> {
    let pkey = PKey::hmac(key)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &pkey)?;
    signer.update(data)?;
    let mac = signer.sign_to_vec()?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&mac);
    Ok(out)
}

/// AES-256-GCM; output is nonce (12) || ciphertext || tag (16). `aad` binds the ciphertext to its owner.
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce = random_bytes::<12>();
    let mut tag = [0u8; 16];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(&nonce),
        aad,
        plaintext,
        &mut tag,
    )?;
    let mut out = Vec::with_capacity(12 + ciphertext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out.extend_from_slice(&tag);
    Ok(out)
}

pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 12 + 16 {
        return Err(CryptoError("sealed data too short".into()));
    }
    let (nonce, rest) = sealed.split_at(12);
    let (ciphertext, tag) = rest.split_at(rest.len() - 16);
    Ok(decrypt_aead(
        Cipher::aes_256_gcm(),
        key,
        Some(nonce),
        aad,
        ciphertext,
        tag,
    )?)
}

/// Keys derived from the one operator secret, each for one purpose.
#[derive(Clone)]
pub struct DerivedKeys {
    pub key_encryption: [u8; 32],
    pub cookie_signing: [u8; 64],
    /// Keys the CSRF tokens of forms shown before there is a session (HMAC of the browser key).
    pub csrf: [u8; 32],
}

impl std::fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKeys(<redacted>)")
    }
}

impl DerivedKeys {
    pub fn derive(secret: &[u8]) -> Result<DerivedKeys, CryptoError> {
        let key_encryption = hmac_sha256(secret, b"hccc-sso/v1/signing-key-encryption")?;
        let cookie_a = hmac_sha256(secret, b"hccc-sso/v1/cookie-signing/1")?;
        let cookie_b = hmac_sha256(secret, b"hccc-sso/v1/cookie-signing/2")?;
        let mut cookie_signing = [0u8; 64];
        cookie_signing[..32].copy_from_slice(&cookie_a);
        cookie_signing[32..].copy_from_slice(&cookie_b);
        Ok(DerivedKeys {
            key_encryption,
            cookie_signing,
            csrf: hmac_sha256(secret, b"hccc-sso/v1/csrf")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_aad() {
        let key = random_bytes::<32>();
        let sealed = seal(&key, b"kid-1", b"private key").expect("seal");
        assert_eq!(open(&key, b"kid-1", &sealed).expect("open"), b"private key");
        assert!(open(&key, b"kid-2", &sealed).is_err());
        assert!(open(&random_bytes::<32>(), b"kid-1", &sealed).is_err());
        assert!(open(&key, b"kid-1", &sealed[..20]).is_err());
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
