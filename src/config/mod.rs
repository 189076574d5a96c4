//! Settings from environment variables (and `.env`). Every problem is reported at once, by name.
//!
//! `source.rs` says where values come from and reads each kind; this file names every setting
//! with its default and bounds, and checks the ones that depend on each other; `mail.rs` holds
//! the e-mail settings, `policy.rs` the sign-in policies and `secret.rs` the secret key.

pub mod mail;
mod policy;
mod secret;
mod source;

use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

pub use policy::{LoginPolicy, MfaPolicy};
pub use source::{ProcessEnv, Source};
use source::{networks, number_setting, origins, socket_address, text_setting};

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
    pub branding: Branding,
    /// A folder of files that replace or add to the built-in static files (`img/logo.svg`,
    /// `css/custom.css`).
    pub branding_dir: Option<PathBuf>,
    /// Outgoing e-mail: the relay, the sender and the links' lifetimes.
    pub mail: mail::MailSettings,
    /// Who must use a second factor, and how long they may put off enrolling.
    pub mfa: MfaPolicy,
}

/// The college's name and help line (HCCC_SSO_COLLEGE_NAME, HCCC_SSO_HELP_URL,
/// HCCC_SSO_HELP_TEXT); its logo and stylesheet come from HCCC_SSO_BRANDING_DIR (`http::assets`).
#[derive(Debug, Clone, Default)]
pub struct Branding {
    pub college_name: Option<String>,
    pub help_url: Option<String>,
    pub help_text: Option<String>,
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

        let issuer = parse_issuer(
            source
                .get("HCCC_SSO_ISSUER")
                .as_deref()
                .unwrap_or("http://localhost:8080"),
        )
        .map_err(|e| errors.push(format!("HCCC_SSO_ISSUER: {e}")))
        .unwrap_or_default();
        let bind = socket_address(source, &mut errors, "HCCC_SSO_BIND", "0.0.0.0:8080")
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
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
        let metrics_bind =
            socket_address(source, &mut errors, "HCCC_SSO_METRICS_BIND", "0.0.0.0:9100");

        let metrics_token = source.get("HCCC_SSO_METRICS_TOKEN");
        if metrics_token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            errors.push("HCCC_SSO_METRICS_TOKEN: must be at least 16 characters (e.g. `openssl rand -hex 32`)".into());
        }

        let college_name = text_setting(source, &mut errors, "HCCC_SSO_COLLEGE_NAME", 120);
        let help_text = text_setting(source, &mut errors, "HCCC_SSO_HELP_TEXT", 300);
        let help_url = text_setting(source, &mut errors, "HCCC_SSO_HELP_URL", 500);
        if let Some(url) = &help_url {
            let ok = Url::parse(url)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http" | "mailto" | "tel"));
            if !ok {
                errors.push(format!(
                    "HCCC_SSO_HELP_URL: {url:?} must be an https, mailto: or tel: URL"
                ));
            }
        }
        let mail = mail::load(source, &issuer, &mut errors);
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

        let cors_origins = origins(source, &mut errors, "HCCC_SSO_CORS_ORIGINS");

        let (secret_key, secret_to_save) = secret::read(source, &issuer, &data_dir, &mut errors);

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
                secret_to_save: secret_to_save.clone(),
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
                branding: Branding {
                    college_name,
                    help_url,
                    help_text,
                },
                branding_dir,
                mail,
                mfa,
            },
            ConfigNotes {
                generated_secret_at: secret_to_save,
            },
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

impl Config {
    /// Saves a secret that `load` generated, with owner-only permissions.
    pub fn save_generated_secret(&self) -> Result<(), String> {
        match &self.secret_to_save {
            None => Ok(()),
            Some(path) => secret::save(path, &self.data_dir, &self.secret_key),
        }
    }
}

#[cfg(test)]
mod tests;
