//! The secret key that seals private keys, links and CSRF tokens: `HCCC_SSO_SECRET_KEY`, or for
//! an http issuer a file in the data directory, generated on first start.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::source::Source;
use crate::crypto;

/// The secret key, and the file it is still to be saved in when it was just generated. Required
/// for an https issuer; otherwise, when every other setting is valid, read from the data
/// directory or generated (and saved by `save` once start-up has checked the database).
pub fn read(
    source: &impl Source,
    issuer: &str,
    data_dir: &Path,
    errors: &mut Vec<String>,
) -> (Vec<u8>, Option<PathBuf>) {
    match source.get("HCCC_SSO_SECRET_KEY") {
        Some(raw) => {
            let secret = decode_secret(&raw)
                .map_err(|e| errors.push(format!("HCCC_SSO_SECRET_KEY: {e}")))
                .unwrap_or_default();
            (secret, None)
        }
        None if issuer.starts_with("https://") => {
            errors.push("HCCC_SSO_SECRET_KEY: required when the issuer is https (generate one with `openssl rand -base64 32`)".into());
            (Vec::new(), None)
        }
        None if errors.is_empty() => match load_or_generate_secret(data_dir) {
            Ok((secret, generated)) => (secret, generated.then(|| secret_path(data_dir))),
            Err(e) => {
                errors.push(format!("HCCC_SSO_SECRET_KEY: not set, and {e}"));
                (Vec::new(), None)
            }
        },
        None => (Vec::new(), None),
    }
}

/// Accepts 32 or more bytes as base64 (standard or URL-safe) or hex.
fn decode_secret(raw: &str) -> Result<Vec<u8>, String> {
    let raw = raw.trim();
    let decoded = if raw.len() >= 64 && raw.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..raw.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(raw.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .ok()
    } else {
        STANDARD
            .decode(raw)
            .ok()
            .or_else(|| URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')).ok())
    };
    match decoded {
        Some(bytes) if bytes.len() >= 32 => Ok(bytes),
        Some(_) => {
            Err("must hold at least 32 bytes of randomness (e.g. `openssl rand -base64 32`)".into())
        }
        None => Err("must be base64 or hex (e.g. `openssl rand -base64 32`)".into()),
    }
}

fn secret_path(data_dir: &Path) -> PathBuf {
    data_dir.join("secret.key")
}

/// The secret in the data directory's file, or a new one (`true`) that is not saved yet.
fn load_or_generate_secret(data_dir: &Path) -> Result<(Vec<u8>, bool), String> {
    let path = secret_path(data_dir);
    if let Ok(raw) = std::fs::read_to_string(&path) {
        return decode_secret(&raw)
            .map(|s| (s, false))
            .map_err(|e| format!("{} {e}", path.display()));
    }
    Ok((crypto::random_bytes::<32>().to_vec(), true))
}

/// Saves a secret that `read` generated, with owner-only permissions.
pub fn save(path: &Path, data_dir: &Path, secret: &[u8]) -> Result<(), String> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    match write_private_file(path, &STANDARD.encode(secret)) {
        Ok(()) => Ok(()),
        // Another process starting in the same folder saved one first: it is the one to use.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
            "{} was created by another process while this one started; start again",
            path.display()
        )),
        Err(e) => Err(format!("cannot write {}: {e}", path.display())),
    }
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_or_garbled_secrets_are_refused() {
        assert!(decode_secret("c2hvcnQ=").is_err());
        assert!(decode_secret("!!!not base64!!!").is_err());
        assert_eq!(decode_secret(&"ab".repeat(32)).map(|s| s.len()), Ok(32));
        assert_eq!(
            decode_secret(&STANDARD.encode([7u8; 48])).map(|s| s.len()),
            Ok(48)
        );
    }
}
