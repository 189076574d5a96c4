//! Where settings come from (the process environment, which `main` fills from `.env` first; a
//! fixed list in tests), and the readers of each kind of value. A reader reports a bad value in
//! `errors`, by the setting's name, and goes on with the default: every problem is reported at once.

use std::net::SocketAddr;

use url::Url;

use crate::http::address::canonical_net;

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

/// A comma-separated list of IP addresses and CIDR ranges; one error per entry that is neither.
pub fn networks(source: &impl Source, errors: &mut Vec<String>, name: &str) -> Vec<ipnet::IpNet> {
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
            Ok(net) => nets.push(canonical_net(net)),
            Err(_) => errors.push(format!(
                "{name}: {entry:?} is not an IP address or CIDR range such as 172.18.0.0/16"
            )),
        }
    }
    nets
}

/// A line of text of at most `max` characters, without control characters.
pub fn text_setting(
    source: &impl Source,
    errors: &mut Vec<String>,
    name: &str,
    max: usize,
) -> Option<String> {
    let value = source.get(name)?.trim().to_owned();
    if value.chars().count() > max || value.chars().any(char::is_control) {
        errors.push(format!(
            "{name}: must be at most {max} characters, without control characters"
        ));
        return None;
    }
    Some(value)
}

/// An `address:port` to listen on (`example` is shown when the value is not one).
pub fn socket_address(
    source: &impl Source,
    errors: &mut Vec<String>,
    name: &str,
    example: &str,
) -> Option<SocketAddr> {
    let raw = source.get(name)?;
    match raw.parse::<SocketAddr>() {
        Ok(address) => Some(address),
        Err(_) => {
            errors.push(format!(
                "{name}: {raw:?} is not an address:port such as {example}"
            ));
            None
        }
    }
}

/// A comma-separated list of web origins (`https://app.hccc.edu`: a scheme and host, no path,
/// no trailing slash); one error per entry that is not one.
pub fn origins(source: &impl Source, errors: &mut Vec<String>, name: &str) -> Vec<String> {
    let mut origins = Vec::new();
    for origin in source.get(name).unwrap_or_default().split(',') {
        let origin = origin.trim();
        if origin.is_empty() {
            continue;
        }
        match Url::parse(origin) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.origin().ascii_serialization() == origin =>
            {
                origins.push(origin.to_string())
            }
            _ => errors.push(format!(
                "{name}: {origin:?} is not an origin such as https://app.hccc.edu (no path, no trailing slash)"
            )),
        }
    }
    origins
}
