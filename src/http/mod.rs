//! Shared HTTP plumbing: the request's edge (`edge`), parameter parsing (`params`), the client's
//! address (`address`) and device, cookies, pages, static files.

pub mod address;
pub mod assets;
pub mod edge;
pub mod page;
pub mod params;
pub mod ui;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

pub use address::{canonical_ip, canonical_net, client_address};
pub use edge::{LARGE_BODY_PATH, MAX_BODY_BYTES, MAX_LARGE_BODY_BYTES, edge};
pub use params::{
    Controls, MAX_PARAM_LEN, Params, ParamsError, form_params, has_forbidden_control, is_form,
    read_form,
};

/// The client's address: the connecting peer, or, when that peer is one of our trusted proxies,
/// the address those proxies saw (X-Forwarded-For).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<crate::state::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientIp("unknown".into()));
        };
        let forwarded = parts.headers.get_all("x-forwarded-for");
        // Canonical (`client_address`): a server bound to `[::]` sees IPv4 peers as `::ffff:…`.
        let ip = client_address(peer.ip(), forwarded.iter(), &app.config.trusted_proxies);
        Ok(ClientIp(ip.to_string()))
    }
}

/// Where a request comes from, as a person's activity list shows it: the client's address and
/// the browser's User-Agent (cut to 300 characters; it is the client's to say, and only shown).
#[derive(Debug, Clone)]
pub struct Device {
    pub ip: String,
    pub user_agent: String,
    /// The "remember this browser" token of the second factor, if the browser holds one.
    pub remembered: Option<String>,
}

/// The value of the request's cookie `name`.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// Whether a cookie value is one of our random tokens (32 bytes, base64url): anything else a
/// browser sends is ignored.
pub fn is_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The cookie that remembers a browser for the second factor (`__Host-` under https).
pub fn remembered_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-hccc_sso_mfa"
    } else {
        "hccc_sso_mfa"
    }
}

impl FromRequestParts<crate::state::AppState> for Device {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, app).await;
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(300)
                    .collect()
            })
            .unwrap_or_default();
        let name = remembered_cookie_name(app.config.is_https());
        let remembered = cookie(&parts.headers, name).filter(|v| is_token(v));
        Ok(Device {
            ip,
            user_agent,
            remembered,
        })
    }
}

/// "Chrome on Windows 10" for a User-Agent, or `None` when it names nothing known.
pub fn describe_user_agent(user_agent: &str) -> Option<String> {
    let parsed = woothee::parser::Parser::new().parse(user_agent)?;
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match (known(parsed.name), known(parsed.os)) {
        (true, true) => Some(format!("{} · {}", parsed.name, parsed.os)),
        (true, false) => Some(parsed.name.to_owned()),
        (false, true) => Some(parsed.os.to_owned()),
        (false, false) => None,
    }
}
