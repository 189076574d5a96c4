//! The e-mail settings: the SMTP relay (`HCCC_SSO_SMTP_URL`), the sender (`HCCC_SSO_MAIL_FROM`)
//! and how long each kind of link lasts.

use url::Url;

use super::source::{Source, number_setting};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: no TLS, for a relay on the same host or network.
    Plain,
    /// `smtp://…?tls=starttls`: upgraded before anything is sent, or nothing is sent.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Tls,
}

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpSettings {
    // The relay's password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    /// None: no relay. Messages wait in the outbox; admins hand links over themselves.
    pub smtp: Option<SmtpSettings>,
    /// `Name <address>` or a bare address.
    pub from: String,
    pub invitation_ttl: i64,
    pub reset_ttl: i64,
    pub verification_ttl: i64,
    /// Requests that send mail (reset, confirmation, address change) one address may make per
    /// hour, whichever accounts they are for.
    pub requests_per_ip: i64,
    /// Requests that send mail of one kind (reset, confirmation, address change, invitation)
    /// one account may be the subject of per hour: from the person or strangers, and separately
    /// from admins.
    pub requests_per_account: i64,
}

/// Reads the e-mail settings, adding each problem to `errors`.
pub fn load(source: &impl Source, issuer: &str, errors: &mut Vec<String>) -> MailSettings {
    let smtp = source
        .get("HCCC_SSO_SMTP_URL")
        .and_then(|raw| match parse_smtp_url(raw.trim()) {
            Ok(smtp) => Some(smtp),
            Err(why) => {
                errors.push(format!("HCCC_SSO_SMTP_URL: {why}"));
                None
            }
        });
    let host = Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    let from = source
        .get("HCCC_SSO_MAIL_FROM")
        .unwrap_or_else(|| format!("HCCC sign-in <no-reply@{host}>"));
    if from.parse::<lettre::message::Mailbox>().is_err() {
        errors.push(format!(
            "HCCC_SSO_MAIL_FROM: {from:?} is not an address such as \"HCCC sign-in <no-reply@hccc.edu>\""
        ));
    }
    let mut number =
        |name: &str, default: i64| number_setting(source, errors, name, default, 300, 30 * 86_400);
    MailSettings {
        smtp,
        from,
        invitation_ttl: number("HCCC_SSO_INVITATION_TTL_SECONDS", 7 * 86_400),
        reset_ttl: number("HCCC_SSO_RESET_TTL_SECONDS", 1800),
        verification_ttl: number("HCCC_SSO_VERIFICATION_TTL_SECONDS", 86_400),
        // The reset form's limit came first; its old name still sets the one for all mail.
        requests_per_ip: match source.get("HCCC_SSO_MAIL_REQUESTS_PER_IP") {
            Some(_) => number_setting(
                source,
                errors,
                "HCCC_SSO_MAIL_REQUESTS_PER_IP",
                20,
                1,
                100_000,
            ),
            None => number_setting(
                source,
                errors,
                "HCCC_SSO_RESET_REQUESTS_PER_IP",
                20,
                1,
                100_000,
            ),
        },
        requests_per_account: number_setting(
            source,
            errors,
            "HCCC_SSO_MAIL_REQUESTS_PER_ACCOUNT",
            3,
            1,
            1_000,
        ),
    }
}

/// `smtp://[user[:password]@]host[:port][?tls=starttls]` or `smtps://…`.
fn parse_smtp_url(raw: &str) -> Result<SmtpSettings, String> {
    let url =
        Url::parse(raw).map_err(|_| "must be a URL such as smtp://relay.hccc.edu:25".to_owned())?;
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let security = match (url.scheme(), tls.as_deref()) {
        ("smtp", None | Some("none")) => Security::Plain,
        ("smtp", Some("starttls" | "required")) => Security::StartTls,
        ("smtps", None) => Security::Tls,
        ("smtp" | "smtps", Some(other)) => {
            return Err(format!("tls={other:?} is not one of none, starttls"));
        }
        (other, _) => return Err(format!("the scheme {other:?} is not smtp or smtps")),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("names no host")?
        .trim_matches(['[', ']'])
        .to_owned();
    let default_port = match security {
        Security::Plain => 25,
        Security::StartTls => 587,
        Security::Tls => 465,
    };
    let decode = |v: &str| {
        url::form_urlencoded::parse(format!("v={v}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let user = Some(url.username()).filter(|u| !u.is_empty()).map(decode);
    let password = url.password().map(decode);
    if password.is_some() && security == Security::Plain && !is_local(&host) {
        return Err(
            "sends a password without TLS to another host; use ?tls=starttls or smtps://".into(),
        );
    }
    Ok(SmtpSettings {
        host,
        port: url.port().unwrap_or(default_port),
        security,
        user,
        password,
    })
}

fn is_local(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_their_security_and_port() {
        let plain = parse_smtp_url("smtp://127.0.0.1:2525").expect("plain");
        assert_eq!(
            (plain.security, plain.port, plain.user),
            (Security::Plain, 2525, None)
        );
        let m365 = parse_smtp_url("smtp://sso%40hccc.edu:p%40ss@smtp.office365.com?tls=starttls")
            .expect("starttls");
        assert_eq!(m365.security, Security::StartTls);
        assert_eq!(m365.port, 587);
        assert_eq!(m365.user.as_deref(), Some("sso@hccc.edu"));
        assert_eq!(m365.password.as_deref(), Some("p@ss"));
        assert_eq!(
            parse_smtp_url("smtps://smtp.gmail.com").expect("tls").port,
            465
        );
        assert!(
            !format!("{m365:?}").contains("p@ss"),
            "no password in Debug"
        );
        for bad in [
            "http://relay",
            "smtp://",
            "smtp://relay?tls=maybe",
            "smtp://u:p@relay.hccc.edu",
            "not a url",
        ] {
            assert!(parse_smtp_url(bad).is_err(), "{bad}");
        }
        assert!(
            parse_smtp_url("smtp://u:p@127.0.0.1:25").is_ok(),
            "a local relay may take a password"
        );
    }
}
