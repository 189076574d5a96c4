//! Settings from environment variables (and `.env`). Every problem is reported at once, by name.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use url::Url;

use crate::crypto;

#[derive(Clone)]
pub struct Config {
    /// The issuer identifier, without a trailing slash.
    pub issuer: String,
    pub bind: SocketAddr,
    pub database_url: String,
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before answering 503.
    pub db_acquire_timeout_ms: u64,
    pub data_dir: PathBuf,
    pub secret_key: Vec<u8>,
    /// Set when `secret_key` was just generated: the file it is to be saved in once start-up has
    /// checked that the database holds nothing sealed under another key (`save_generated_secret`).
    pub secret_to_save: Option<PathBuf>,
    pub cors_origins: Vec<String>,
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    pub refresh_token_ttl: i64,
    /// A browser session ends after this long without a page request (idle timeout).
    pub session_ttl: i64,
    /// ... and this long after sign-in whatever happens (absolute lifetime).
    pub session_max: i64,
    /// "Keep me signed in on this device": a persistent cookie for this long (0: not offered).
    pub remember_me: i64,
    /// Authorization requests parked and QR sign-ins started per client address in 10 minutes.
    pub anonymous_starts_per_ip: i64,
    /// How long a new signing key is published in the JWKS before it signs anything.
    pub key_publish_lead: i64,
    /// Signing keys older than this are rotated automatically (0 turns it off).
    pub key_rotation_days: i64,
    /// Audit entries older than this many days are deleted (HCCC_SSO_AUDIT_RETENTION_DAYS,
    /// default 400; 0 keeps them all).
    pub audit_retention_days: i64,
    pub admin_password: Option<String>,
    pub log_format: LogFormat,
    pub login: LoginPolicy,
    /// Proxies whose X-Forwarded-For we believe (addresses or CIDR ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A separate address for /metrics; when set, the main listener does not serve it.
    pub metrics_bind: Option<SocketAddr>,
    /// A bearer token that /metrics requires wherever it is served; without it (and without
    /// `metrics_bind`) the public listener does not serve /metrics at all.
    pub metrics_token: Option<String>,
    /// The college's name, help line and look (pages and e-mails).
    pub branding: crate::http::ui::Branding,
    /// A folder of files that replace or add to the built-in static files (`img/logo.svg`,
    /// `css/custom.css`).
    pub branding_dir: Option<PathBuf>,
    /// Outgoing e-mail: the relay, the sender and the links' lifetimes.
    pub mail: crate::mail::settings::MailSettings,
    /// Who must use a second factor, and how long they may put off enrolling.
    pub mfa: MfaPolicy,
}

/// `HCCC_SSO_MFA_REQUIRED_ROLES` and `HCCC_SSO_MFA_GRACE_DAYS`.
#[derive(Debug, Clone)]
pub struct MfaPolicy {
    /// Accounts holding any of these roles must use a second factor (default `admin`).
    pub required_roles: Vec<String>,
    /// Seconds from the first sign-in without one until enrolment is enforced (default 0).
    pub grace: i64,
    /// The WebAuthn relying-party id (`HCCC_SSO_WEBAUTHN_RP_ID`); the issuer's host when unset.
    /// Changing it makes every registered passkey unusable.
    pub webauthn_rp_id: Option<String>,
    /// Seconds a browser may skip the second step once the person asks (HCCC_SSO_MFA_REMEMBER_DAYS,
    /// default 30, at most 30; 0 turns the offer off).
    pub remember: i64,
    /// Networks of shared computers (HCCC_SSO_SHARED_NETWORKS, CIDRs): no browser there is
    /// remembered, nor skips the second step.
    pub shared_networks: Vec<ipnet::IpNet>,
}

/// A comma-separated list of IP addresses and CIDR ranges; one error per entry that is neither.
fn networks(source: &impl Source, errors: &mut Vec<String>, name: &str) -> Vec<ipnet::IpNet> {
    let mut nets = Vec::new();
    for entry in source.get(name).unwrap_or_default().split(',') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let parsed = entry
            .parse::<ipnet::IpNet>()
            .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        match parsed {
            // Requests' addresses are compared in IPv4 form: so are the lists.
            Ok(net) => nets.push(crate::http::canonical_net(net)),
            Err(_) => errors.push(format!(
                "{name}: {entry:?} is not an IP address or CIDR range such as 172.18.0.0/16"
            )),
        }
    }
    nets
}

impl std::fmt::Debug for Config {
    // Secrets and the database URL (which may hold a password) stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("issuer", &self.issuer)
            .field("bind", &self.bind)
            .field("database", &database_kind(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("cors_origins", &self.cors_origins)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("id_token_ttl", &self.id_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

fn database_kind(url: &str) -> &'static str {
    if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Sign-in throttling: failures are counted per account name and per client IP.
#[derive(Clone, Debug)]
pub struct LoginPolicy {
    /// Failures within `window` after which each further attempt is slowed down.
    pub slowdown_after: i64,
    /// Extra delay per failure past `slowdown_after`, in milliseconds (capped at 5 s).
    pub slowdown_step_ms: u64,
    /// Failures within `window` for one account name that lock it for `lockout`.
    pub max_failures_per_account: i64,
    /// Failures within `window` from one IP address that lock that address for `lockout`.
    pub max_failures_per_ip: i64,
    pub window: i64,
    pub lockout: i64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            slowdown_after: 3,
            slowdown_step_ms: 500,
            max_failures_per_account: 10,
            max_failures_per_ip: 100,
            window: 900,
            lockout: 900,
        }
    }
}

/// Where the configuration is read from: the process environment, or a map in tests.
pub trait Source {
    /// A setting, with blank values treated as unset.
    fn get(&self, name: &str) -> Option<String>;

    /// A setting whose empty value means something ("" roles: nobody needs MFA).
    fn get_even_empty(&self, name: &str) -> Option<String> {
        self.get(name)
    }
}

pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }

    fn get_even_empty(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

/// A whole-number setting within bounds; a bad value is reported and the default used.
pub fn number_setting(
    source: &impl Source,
    errors: &mut Vec<String>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> i64 {
    match source.get(name) {
        None => default,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => v,
            _ => {
                errors.push(format!(
                    "{name}: {raw:?} must be a whole number from {min} to {max}"
                ));
                default
            }
        },
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

/// What start-up may say about the configuration (printed after logging is up).
#[derive(Debug, Default)]
pub struct ConfigNotes {
    pub generated_secret_at: Option<PathBuf>,
}

impl Config {
    /// Reads the configuration. A missing secret for an http issuer is generated under the data directory.
    // One variable after another, each with its default and bounds: long, and flat.
    #[allow(clippy::too_many_lines)]
    pub fn load(source: &impl Source) -> Result<(Config, ConfigNotes), ConfigError> {
        let mut errors = Vec::new();
        let mut notes = ConfigNotes::default();

        let issuer = parse_issuer(
            source
                .get("HCCC_SSO_ISSUER")
                .as_deref()
                .unwrap_or("http://localhost:8080"),
        )
        .map_err(|e| errors.push(format!("HCCC_SSO_ISSUER: {e}")))
        .unwrap_or_default();
        let bind = source
            .get("HCCC_SSO_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind
            .parse::<SocketAddr>()
            .map_err(|_| {
                errors.push(format!(
                    "HCCC_SSO_BIND: {bind:?} is not an address:port such as 0.0.0.0:8080"
                ))
            })
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let data_dir = PathBuf::from(
            source
                .get("HCCC_SSO_DATA_DIR")
                .unwrap_or_else(|| "./data".into()),
        );
        let database_url = source
            .get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("hccc-sso.db").display()));
        if !["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|p| database_url.starts_with(p))
        {
            errors
                .push("DATABASE_URL: must start with postgres://, postgresql:// or sqlite:".into());
        }
        let mut number = |name: &str, default: i64, min: i64, max: i64| -> i64 {
            number_setting(source, &mut errors, name, default, min, max)
        };
        let access_token_ttl = number("HCCC_SSO_ACCESS_TOKEN_TTL_SECONDS", 600, 30, 86_400);
        let id_token_ttl = number("HCCC_SSO_ID_TOKEN_TTL_SECONDS", 3600, 30, 86_400);
        let refresh_token_ttl = number(
            "HCCC_SSO_REFRESH_TOKEN_TTL_SECONDS",
            30 * 86_400,
            60,
            365 * 86_400,
        );
        let session_ttl = number("HCCC_SSO_SESSION_TTL_SECONDS", 2 * 3600, 60, 30 * 86_400);
        let session_max = number("HCCC_SSO_SESSION_MAX_SECONDS", 12 * 3600, 60, 30 * 86_400);
        let remember_me = number("HCCC_SSO_REMEMBER_ME_SECONDS", 30 * 86_400, 0, 365 * 86_400);
        let anonymous_starts_per_ip =
            number("HCCC_SSO_ANONYMOUS_STARTS_PER_IP", 10_000, 1, 1_000_000);
        let key_publish_lead = number("HCCC_SSO_KEY_PUBLISH_LEAD_SECONDS", 900, 0, 7 * 86_400);
        let key_rotation_days = number("HCCC_SSO_KEY_ROTATION_DAYS", 90, 0, 3650);
        let audit_retention_days = number("HCCC_SSO_AUDIT_RETENTION_DAYS", 400, 0, 36_500);
        let db_max_connections = number("HCCC_SSO_DB_MAX_CONNECTIONS", 10, 1, 1000) as u32;
        let db_acquire_timeout_ms =
            number("HCCC_SSO_DB_ACQUIRE_TIMEOUT_MS", 1000, 50, 60_000) as u64;
        let defaults = LoginPolicy::default();
        let login = LoginPolicy {
            max_failures_per_account: number(
                "HCCC_SSO_LOGIN_MAX_FAILURES",
                defaults.max_failures_per_account,
                1,
                1000,
            ),
            max_failures_per_ip: number(
                "HCCC_SSO_LOGIN_MAX_FAILURES_PER_IP",
                defaults.max_failures_per_ip,
                1,
                100_000,
            ),
            lockout: number(
                "HCCC_SSO_LOGIN_LOCKOUT_SECONDS",
                defaults.lockout,
                1,
                86_400,
            ),
            ..defaults
        };

        let trusted_proxies = networks(source, &mut errors, "HCCC_SSO_TRUSTED_PROXIES");
        let metrics_bind = match source.get("HCCC_SSO_METRICS_BIND") {
            None => None,
            Some(raw) => {
                match raw.parse::<SocketAddr>() {
                    Ok(addr) => Some(addr),
                    Err(_) => {
                        errors.push(format!("HCCC_SSO_METRICS_BIND: {raw:?} is not an address:port such as 0.0.0.0:9100"));
                        None
                    }
                }
            }
        };

        let metrics_token = source.get("HCCC_SSO_METRICS_TOKEN");
        if metrics_token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            errors.push("HCCC_SSO_METRICS_TOKEN: must be at least 16 characters (e.g. `openssl rand -hex 32`)".into());
        }

        let text_setting = |name: &str, max: usize, errors: &mut Vec<String>| {
            let value = source.get(name)?.trim().to_owned();
            if value.chars().count() > max || value.chars().any(char::is_control) {
                errors.push(format!(
                    "{name}: must be at most {max} characters, without control characters"
                ));
                return None;
            }
            Some(value)
        };
        let college_name = text_setting("HCCC_SSO_COLLEGE_NAME", 120, &mut errors);
        let help_text = text_setting("HCCC_SSO_HELP_TEXT", 300, &mut errors);
        let help_url = text_setting("HCCC_SSO_HELP_URL", 500, &mut errors);
        if let Some(url) = &help_url {
            let ok = Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http" | "mailto" | "tel"));
            if !ok {
                errors.push(format!(
                    "HCCC_SSO_HELP_URL: {url:?} must be an https, mailto: or tel: URL"
                ));
            }
        }
        let mail = crate::mail::settings::load(source, &issuer, &mut errors);
        let mut required_roles = Vec::new();
        for role in source
            .get_even_empty("HCCC_SSO_MFA_REQUIRED_ROLES")
            .unwrap_or_else(|| "admin".into())
            .split(',')
            .map(|r| r.trim().to_ascii_lowercase())
            .filter(|r| !r.is_empty() && r != "none")
        {
            if crate::domain::ROLES.contains(&role.as_str()) {
                required_roles.push(role);
            } else {
                errors.push(format!(
                    "HCCC_SSO_MFA_REQUIRED_ROLES: {role:?} is not a role ({})",
                    crate::domain::ROLES.join(", ")
                ));
            }
        }
        let mfa = MfaPolicy {
            required_roles,
            grace: number_setting(source, &mut errors, "HCCC_SSO_MFA_GRACE_DAYS", 0, 0, 90)
                * 86_400,
            webauthn_rp_id: source
                .get("HCCC_SSO_WEBAUTHN_RP_ID")
                .map(|id| id.trim().to_ascii_lowercase())
                .filter(|id| !id.is_empty()),
            remember: number_setting(source, &mut errors, "HCCC_SSO_MFA_REMEMBER_DAYS", 30, 0, 30)
                * 86_400,
            shared_networks: networks(source, &mut errors, "HCCC_SSO_SHARED_NETWORKS"),
        };
        let branding_dir = source.get("HCCC_SSO_BRANDING_DIR").map(PathBuf::from);
        if let Some(dir) = &branding_dir
            && !dir.is_dir()
        {
            errors.push(format!(
                "HCCC_SSO_BRANDING_DIR: {} is not a folder",
                dir.display()
            ));
        }

        let log_format = match source.get("HCCC_SSO_LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                errors.push(format!(
                    "HCCC_SSO_LOG_FORMAT: {other:?} must be json or pretty"
                ));
                LogFormat::Json
            }
        };

        let mut cors_origins = Vec::new();
        for origin in source
            .get("HCCC_SSO_CORS_ORIGINS")
            .unwrap_or_default()
            .split(',')
        {
            let origin = origin.trim();
            if origin.is_empty() {
                continue;
            }
            match Url::parse(origin) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.origin().ascii_serialization() == origin => {
                    cors_origins.push(origin.to_string())
                }
                _ => errors.push(format!(
                    "HCCC_SSO_CORS_ORIGINS: {origin:?} is not an origin such as https://app.hccc.edu (no path, no trailing slash)"
                )),
            }
        }

        let mut secret_to_save = None;
        let secret_key = match source.get("HCCC_SSO_SECRET_KEY") {
            Some(raw) => decode_secret(&raw)
                .map_err(|e| errors.push(format!("HCCC_SSO_SECRET_KEY: {e}")))
                .unwrap_or_default(),
            None if issuer.starts_with("https://") => {
                errors.push("HCCC_SSO_SECRET_KEY: required when the issuer is https (generate one with `openssl rand -base64 32`)".into());
                Vec::new()
            }
            None if errors.is_empty() => match load_or_generate_secret(&data_dir) {
                Ok((secret, generated)) => {
                    if generated {
                        notes.generated_secret_at = Some(secret_path(&data_dir));
                        secret_to_save = Some(secret_path(&data_dir));
                    }
                    secret
                }
                Err(e) => {
                    errors.push(format!("HCCC_SSO_SECRET_KEY: not set, and {e}"));
                    Vec::new()
                }
            },
            None => Vec::new(),
        };

        if !errors.is_empty() {
            return Err(ConfigError(errors));
        }
        Ok((
            Config {
                issuer,
                bind,
                database_url,
                db_max_connections,
                db_acquire_timeout_ms,
                data_dir,
                secret_key,
                secret_to_save,
                cors_origins,
                access_token_ttl,
                id_token_ttl,
                refresh_token_ttl,
                session_ttl,
                session_max,
                remember_me,
                anonymous_starts_per_ip,
                key_publish_lead,
                key_rotation_days,
                audit_retention_days,
                admin_password: source.get("HCCC_SSO_ADMIN_PASSWORD"),
                log_format,
                login,
                trusted_proxies,
                metrics_bind,
                metrics_token: metrics_token.map(|t| t.trim().to_owned()),
                branding: crate::http::ui::Branding {
                    college_name,
                    help_url,
                    help_text,
                },
                branding_dir,
                mail,
                mfa,
            },
            notes,
        ))
    }

    pub fn is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// An absolute URL for a path under the issuer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// Creates the data directory when the database is a SQLite file inside it.
    pub fn ensure_data_dir(&self) -> std::io::Result<()> {
        if self.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&self.data_dir)?;
        }
        Ok(())
    }
}

fn parse_issuer(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} must be an http or https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{raw:?} must not have a query or fragment"));
    }
    if url.host_str().is_none() {
        return Err(format!("{raw:?} has no host"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
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

impl Config {
    /// Saves a secret that `load` generated, with owner-only permissions.
    pub fn save_generated_secret(&self) -> Result<(), String> {
        let Some(path) = &self.secret_to_save else {
            return Ok(());
        };
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", self.data_dir.display()))?;
        match write_private_file(path, &STANDARD.encode(&self.secret_key)) {
            Ok(()) => Ok(()),
            // Another process starting in the same folder saved one first: it is the one to use.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
                "{} was created by another process while this one started; start again",
                path.display()
            )),
            Err(e) => Err(format!("cannot write {}: {e}", path.display())),
        }
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
    fn every_bad_setting_is_reported_by_name() {
        let err = Config::load(&[
            ("HCCC_SSO_ISSUER", "ftp://example.org"),
            ("HCCC_SSO_BIND", "not-an-address"),
            ("HCCC_SSO_ACCESS_TOKEN_TTL_SECONDS", "-5"),
            (
                "HCCC_SSO_CORS_ORIGINS",
                "https://ok.example, https://bad.example/path",
            ),
            ("HCCC_SSO_LOG_FORMAT", "xml"),
            ("DATABASE_URL", "mysql://x"),
        ])
        .expect_err("invalid settings must fail");
        let message = err.to_string();
        for name in [
            "HCCC_SSO_ISSUER",
            "HCCC_SSO_BIND",
            "HCCC_SSO_ACCESS_TOKEN_TTL_SECONDS",
            "HCCC_SSO_CORS_ORIGINS",
            "HCCC_SSO_LOG_FORMAT",
            "DATABASE_URL",
        ] {
            assert!(message.contains(name), "{name} missing from: {message}");
        }
        assert!(
            !message.contains("ok.example"),
            "a valid origin was reported: {message}"
        );
    }

    #[test]
    fn admins_need_a_second_factor_unless_the_operator_says_otherwise() {
        let secret = "ab".repeat(32);
        let issuer = ("HCCC_SSO_ISSUER", "http://127.0.0.1:8080");
        let key = ("HCCC_SSO_SECRET_KEY", secret.as_str());
        let (config, _) = Config::load(&[issuer, key]).expect("valid");
        assert_eq!(config.mfa.required_roles, vec!["admin".to_owned()]);
        assert_eq!(config.mfa.grace, 0);
        let (config, _) = Config::load(&[
            issuer,
            key,
            ("HCCC_SSO_MFA_REQUIRED_ROLES", " Admin, staff ,"),
            ("HCCC_SSO_MFA_GRACE_DAYS", "7"),
        ])
        .expect("valid");
        assert_eq!(config.mfa.required_roles, vec!["admin", "staff"]);
        assert_eq!(config.mfa.grace, 7 * 86_400);
        for nobody in ["", "none"] {
            let roles = ("HCCC_SSO_MFA_REQUIRED_ROLES", nobody);
            let (config, _) = Config::load(&[issuer, key, roles]).expect("valid");
            assert!(config.mfa.required_roles.is_empty(), "{nobody:?}");
        }
        let message = Config::load(&[
            issuer,
            key,
            ("HCCC_SSO_MFA_REQUIRED_ROLES", "admin,dean"),
            ("HCCC_SSO_MFA_GRACE_DAYS", "400"),
        ])
        .expect_err("invalid")
        .to_string();
        assert!(message.contains("\"dean\" is not a role"), "{message}");
        assert!(message.contains("HCCC_SSO_MFA_GRACE_DAYS"), "{message}");
    }

    #[test]
    fn https_issuer_requires_a_secret_key() {
        let err =
            Config::load(&[("HCCC_SSO_ISSUER", "https://sso.hccc.edu")]).expect_err("must fail");
        assert!(err.to_string().contains("HCCC_SSO_SECRET_KEY"));
    }

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

    #[test]
    fn issuer_loses_its_trailing_slash() {
        assert_eq!(
            parse_issuer("https://sso.hccc.edu/"),
            Ok("https://sso.hccc.edu".to_string())
        );
        assert_eq!(
            parse_issuer("https://hccc.edu/sso/"),
            Ok("https://hccc.edu/sso".to_string())
        );
        assert!(parse_issuer("https://sso.hccc.edu/?x=1").is_err());
    }

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().to_string_lossy().to_string();
        let (first, notes) =
            Config::load(&[("HCCC_SSO_DATA_DIR", data_dir.as_str())]).expect("loads");
        assert!(notes.generated_secret_at.is_some());
        assert!(
            !dir.path().join("secret.key").exists(),
            "nothing is written before start-up checks the database"
        );
        first.save_generated_secret().expect("saved");
        let (second, notes) =
            Config::load(&[("HCCC_SSO_DATA_DIR", data_dir.as_str())]).expect("loads");
        assert!(notes.generated_secret_at.is_none());
        assert_eq!(first.secret_key, second.secret_key);
        assert_eq!(first.secret_key.len(), 32);
    }
}
