//! Shared HTTP plumbing: parameter parsing, client address, security headers, static files.

pub mod assets;
pub mod page;
pub mod ui;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// A server-side cause attached to an error response (500, 503): the edge middleware logs it once,
/// with the request it belongs to. Error types attach it instead of logging themselves.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

/// Longest value we accept for any single protocol parameter.
pub const MAX_PARAM_LEN: usize = 4096;
/// Longest request URI (path and query) we accept.
pub const MAX_URI_LEN: usize = 8192;
/// Largest request body we accept anywhere.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The one route that takes larger bodies: the admin CSV upload.
pub const LARGE_BODY_PATH: &str = "/admin/import";
pub const MAX_LARGE_BODY_BYTES: usize = 2 * crate::accounts::import::MAX_IMPORT_BYTES + 64 * 1024;

/// Form or query parameters with the checks RFC 6749 §3.1 asks for: each at most once, none oversized.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Params(HashMap<String, String>);

#[derive(Debug, PartialEq, Eq)]
pub enum ParamsError {
    Duplicate(String),
    TooLong(String),
    /// NUL and other control characters: PostgreSQL cannot store NUL, and no parameter needs them.
    ControlCharacter(String),
}

impl std::fmt::Display for ParamsError {
    /// In English, for OAuth and API answers (pages show `message()` in the person's language).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().in_lang(crate::i18n::Lang::ENGLISH))
    }
}

impl ParamsError {
    pub fn message(&self) -> crate::i18n::Message {
        use crate::i18n::Message;
        match self {
            ParamsError::Duplicate(name) => {
                Message::new("error-param-repeated").with("name", name.as_str())
            }
            ParamsError::TooLong(name) => Message::new("error-param-too-long")
                .with("name", name.as_str())
                .with("max", MAX_PARAM_LEN as i64),
            ParamsError::ControlCharacter(name) => {
                Message::new("error-param-control").with("name", name.as_str())
            }
        }
    }
}

/// Which characters a parameter value may hold besides printable text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controls {
    /// Protocol parameters (OAuth, OIDC): no control character at all (RFC 6749 Appendix A).
    None,
    /// Page forms, whose text areas hold one entry per line: tab, CR and LF only.
    LineBreaks,
}

/// A control character `controls` does not allow: C0, DEL and C1 (`char::is_control`).
pub fn has_forbidden_control(value: &str, controls: Controls) -> bool {
    value.chars().any(|c| {
        c.is_control() && !(controls == Controls::LineBreaks && matches!(c, '\t' | '\n' | '\r'))
    })
}

impl Params {
    /// Protocol parameters: no control characters.
    pub fn parse(encoded: &[u8]) -> Result<Params, ParamsError> {
        Self::parse_with(encoded, Controls::None)
    }

    /// Page forms: line breaks allowed in values.
    pub fn parse_form(encoded: &[u8]) -> Result<Params, ParamsError> {
        Self::parse_with(encoded, Controls::LineBreaks)
    }

    fn parse_with(encoded: &[u8], controls: Controls) -> Result<Params, ParamsError> {
        let mut map = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(encoded) {
            if value.len() > MAX_PARAM_LEN {
                return Err(ParamsError::TooLong(truncate(&name)));
            }
            if has_forbidden_control(&name, Controls::None)
                || has_forbidden_control(&value, controls)
            {
                return Err(ParamsError::ControlCharacter(printable(&name)));
            }
            // RFC 6749: parameters sent without a value are treated as omitted.
            if value.is_empty() {
                continue;
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(ParamsError::Duplicate(truncate(&name)));
            }
        }
        Ok(Params(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn insert(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    pub fn remove(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// The names that start with `prefix`, without it (a list's checkboxes: `select_<id>`).
    pub fn suffixes<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.keys().filter_map(move |k| k.strip_prefix(prefix))
    }
}

fn truncate(name: &str) -> String {
    printable(name)
}

/// A parameter name fit for an error message: at most 40 characters, controls replaced.
fn printable(name: &str) -> String {
    name.chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// True when the request body is declared as `application/x-www-form-urlencoded`.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads a form body for an extractor: declared as a form, within the body limit, parsed with the
/// RFC 6749 rules (each parameter once, none oversized) and `controls`.
pub async fn read_form<S: Send + Sync>(
    request: axum::extract::Request,
    state: &S,
    controls: Controls,
) -> Result<Params, crate::i18n::Message> {
    use crate::i18n::Message;
    if !is_form(request.headers()) {
        return Err(Message::new("error-form-content-type"));
    }
    let body = <Bytes as axum::extract::FromRequest<S>>::from_request(request, state)
        .await
        .map_err(|_| Message::new("error-form-unreadable"))?;
    Params::parse_with(&body, controls).map_err(|e| e.message())
}

/// Parses a protocol request's form body, checking its content type.
pub fn form_params(headers: &HeaderMap, body: &Bytes) -> Result<Params, String> {
    if !is_form(headers) {
        return Err("the request body must be application/x-www-form-urlencoded".into());
    }
    Params::parse_with(body, Controls::None).map_err(|e| e.to_string())
}

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

/// One form for every address: an IPv4 address written as IPv6 (`::ffff:10.20.1.5`, as a socket
/// bound to `[::]` reports its IPv4 peers, or as a proxy may forward them) becomes the IPv4
/// address, so that network lists, throttle keys, audit entries and logs see one address as one.
pub fn canonical_ip(ip: std::net::IpAddr) -> std::net::IpAddr {
    ip.to_canonical()
}

/// A configured network in the same form: `::ffff:10.20.0.0/112` is `10.20.0.0/16` (a range that
/// only partly covers the mapped addresses is kept as written: no IPv4 address is in it).
pub fn canonical_net(net: ipnet::IpNet) -> ipnet::IpNet {
    match net {
        ipnet::IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(|v4| ipnet::IpNet::V4(v4.trunc()))
                .unwrap_or(net),
            None => net,
        },
        other => other,
    }
}

/// Walks X-Forwarded-For from the right past trusted proxies; the first other hop is the client.
/// Entries to its left were written by the client itself and are never believed, and a hop that
/// does not parse ends the walk at the last trusted address: what lies beyond it is unknown.
/// Every address is made canonical (`canonical_ip`) before it is compared or returned.
pub fn client_address<'a>(
    peer: std::net::IpAddr,
    forwarded: impl Iterator<Item = &'a HeaderValue>,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = canonical_ip(peer);
    if !is_trusted(&peer) {
        return peer;
    }
    // Several header lines read as one list, in order.
    let lines: Vec<&HeaderValue> = forwarded.collect();
    let mut last_trusted = peer;
    for line in lines.iter().rev() {
        let Ok(line) = line.to_str() else {
            return last_trusted;
        };
        for hop in line.rsplit(',') {
            match hop.trim().parse::<std::net::IpAddr>().map(canonical_ip) {
                Ok(ip) if is_trusted(&ip) => last_trusted = ip,
                Ok(ip) => return ip,
                Err(_) => return last_trusted,
            }
        }
    }
    last_trusted
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Everything every request passes through, as one middleware: a request id (kept from the
/// request or made), the URI length and declared body limits (413 at once, before any of the body
/// is read; bodies without a length are cut off by the extractors' `DefaultBodyLimit`), the log
/// span, the security headers, and the request metrics. One layer rather than five: each tower
/// layer costs a boxed future and a service clone per request, which was half the CPU of a JWKS
/// request (bench/README.md).
pub async fn edge(https: bool, mut request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    // A caller's own id is kept (it ties our logs to a proxy's), but only a short one.
    let request_id = match request.headers().get(REQUEST_ID) {
        Some(id) if id.len() <= MAX_REQUEST_ID_LEN => id.clone(),
        _ => {
            let id = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or(HeaderValue::from_static("-"));
            request.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    let method = crate::telemetry_metrics::method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    // The path only: query strings carry codes and state.
    // (A `Uri` clones by reference count.)
    let uri = request.uri().clone();
    let path = uri.path();
    let mut response = if request_too_long(&request) {
        (StatusCode::URI_TOO_LONG, "The request URI is too long.").into_response()
    } else if body_too_large(&request) {
        (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response()
    } else {
        // A header value clones by reference count: no copy of the id per request.
        crate::telemetry::serving(request_id.clone(), next.run(request)).await
    };
    let status = response.status();
    let latency = started.elapsed();
    // The access line carries the request's fields itself rather than through the span: the JSON
    // formatter re-reads a span's fields for every line inside it, which was a third of the
    // default logging's cost per request (bench/README.md).
    let latency_ms = latency.as_secs_f64() * 1000.0;
    let id = request_id.to_str().unwrap_or("");
    if status.is_server_error() {
        // The one log line of a failed request, with the cause its error attached.
        let cause = response
            .extensions()
            .get::<ErrorCause>()
            .map(|c| c.0.as_str());
        tracing::error!(
            method,
            path,
            request_id = id,
            status = status.as_u16(),
            latency_ms,
            cause,
            "response failed"
        );
    } else {
        let line = crate::telemetry::AccessLine {
            method,
            path,
            request_id: id,
            status: status.as_u16(),
            latency_ms,
        };
        if !crate::telemetry::access(&line) {
            tracing::info!(
                method,
                path,
                request_id = id,
                status = status.as_u16(),
                latency_ms,
                "response"
            );
        }
    }
    crate::telemetry_metrics::record_request(
        method,
        route.as_ref().map(MatchedPath::as_str),
        status,
        latency,
    );
    let headers = response.headers_mut();
    headers.insert(REQUEST_ID, request_id);
    security_headers(https, headers);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is never read, so the connection cannot carry another request: say
        // so, or a client reusing it races the close and loses its next request.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

const REQUEST_ID: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 128;

fn request_too_long(request: &Request<Body>) -> bool {
    let uri_len = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().len())
        .unwrap_or(0);
    uri_len > MAX_URI_LEN
}

fn body_too_large(request: &Request<Body>) -> bool {
    let limit = if request.uri().path() == LARGE_BODY_PATH {
        MAX_LARGE_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length > limit as u64)
}

/// The security headers of every response; responses are uncacheable unless the handler chose a
/// caching policy.
fn security_headers(https: bool, headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_refuse_repeats_and_oversized_values_and_drop_empty_ones() {
        let p = Params::parse(b"a=1&b=&c=%20x").expect("parses");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some(" x"));
        assert_eq!(
            Params::parse(b"a=1&a=2").err(),
            Some(ParamsError::Duplicate("a".into()))
        );
        let long = format!("a={}", "x".repeat(MAX_PARAM_LEN + 1));
        assert_eq!(
            Params::parse(long.as_bytes()).err(),
            Some(ParamsError::TooLong("a".into()))
        );
    }

    #[test]
    fn control_characters_are_refused_and_line_breaks_only_in_forms() {
        for raw in [
            "a=x%00y", "a=%01", "a=%7F", "a=%C2%85", "a%00b=1", "a=x%0Ay",
        ] {
            assert!(
                matches!(
                    Params::parse(raw.as_bytes()),
                    Err(ParamsError::ControlCharacter(_))
                ),
                "{raw}"
            );
        }
        for raw in ["a=x%00y", "a=%1B", "a%0Ab=1"] {
            assert!(
                matches!(
                    Params::parse_form(raw.as_bytes()),
                    Err(ParamsError::ControlCharacter(_))
                ),
                "{raw}"
            );
        }
        let form = Params::parse_form(b"uris=https%3A%2F%2Fa%2Fcb%0D%0Ahttps%3A%2F%2Fb%2Fcb%09")
            .expect("parses");
        assert_eq!(form.get("uris"), Some("https://a/cb\r\nhttps://b/cb\t"));
        assert_eq!(
            Params::parse(b"a%00b=1").err().map(|e| e.to_string()),
            Some("The parameter a?b contains a control character.".into())
        );
    }
}

#[cfg(test)]
mod client_address_tests {
    use super::*;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let header = HeaderValue::from_static("198.51.100.7, 203.0.113.9, 10.0.0.3");
        // From a trusted proxy: the first untrusted hop from the right (the left part is client-written).
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::once(&header), &trusted),
            ip("203.0.113.9")
        );
        // From anyone else, the header is ignored.
        assert_eq!(
            client_address(ip("192.0.2.1"), std::iter::once(&header), &trusted),
            ip("192.0.2.1")
        );
        // A trusted peer with no header is itself the client.
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::empty(), &trusted),
            ip("10.0.0.2")
        );
        let garbage = HeaderValue::from_static("not-an-ip");
        assert_eq!(
            client_address(ip("10.0.0.2"), std::iter::once(&garbage), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_hop_that_does_not_parse_ends_the_walk_at_the_last_trusted_address() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let walk = |value: &'static str| {
            client_address(
                ip("10.0.0.2"),
                std::iter::once(&HeaderValue::from_static(value)),
                &trusted,
            )
        };
        // The client wrote "198.51.100.7, garbage": before, the walk stopped at the garbage from
        // the left and believed 198.51.100.7; the proxy chain ends at 10.0.0.3.
        assert_eq!(walk("198.51.100.7, garbage, 10.0.0.3"), ip("10.0.0.3"));
        assert_eq!(
            walk("198.51.100.7, 203.0.113.9:4711, 10.0.0.3"),
            ip("10.0.0.3")
        );
        assert_eq!(walk("198.51.100.7,,10.0.0.3"), ip("10.0.0.3"));
        assert_eq!(walk("garbage"), ip("10.0.0.2"));
        // Only trusted hops: the leftmost of them.
        assert_eq!(walk("10.0.0.9, 10.0.0.3"), ip("10.0.0.9"));
        // Header lines are one list: the last line is nearest.
        let lines = [
            HeaderValue::from_static("198.51.100.7"),
            HeaderValue::from_static("203.0.113.9, 10.0.0.3"),
        ];
        assert_eq!(
            client_address(ip("10.0.0.2"), lines.iter(), &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv4_written_as_ipv6_is_one_address_with_its_ipv4_form() {
        let trusted: Vec<ipnet::IpNet> = vec!["127.0.0.1/32".parse().expect("net")];
        let walk = |peer: &str, value: &'static str| {
            client_address(
                ip(peer),
                std::iter::once(&HeaderValue::from_static(value)),
                &trusted,
            )
        };
        // A server bound to [::] sees its IPv4 proxy as ::ffff:127.0.0.1: still the trusted proxy.
        assert_eq!(walk("::ffff:127.0.0.1", "10.20.1.5"), ip("10.20.1.5"));
        // The client as the proxy wrote it in IPv6 form lands on the IPv4 address.
        assert_eq!(walk("127.0.0.1", "::ffff:10.20.1.5"), ip("10.20.1.5"));
        assert_eq!(
            walk("::ffff:127.0.0.1", "::FFFF:10.20.1.5"),
            ip("10.20.1.5")
        );
        // A mapped hop of the trusted proxy is skipped like its IPv4 form.
        assert_eq!(
            walk("127.0.0.1", "198.51.100.7, ::ffff:127.0.0.1"),
            ip("198.51.100.7")
        );
        // An untrusted peer is itself the client, in IPv4 form, and its header is ignored.
        assert_eq!(walk("::ffff:192.0.2.1", "10.20.1.5"), ip("192.0.2.1"));
        // Real IPv6 addresses are kept, and so is the old IPv4-compatible form (not a mapping).
        assert_eq!(walk("2001:db8::1", "10.20.1.5"), ip("2001:db8::1"));
        assert_eq!(walk("127.0.0.1", "2001:db8::7"), ip("2001:db8::7"));
        assert_eq!(walk("::7f00:1", "10.20.1.5"), ip("::7f00:1"));
        // Trusted to the end: the leftmost trusted hop, in IPv4 form.
        assert_eq!(walk("127.0.0.1", "::ffff:127.0.0.1"), ip("127.0.0.1"));
        // Garbage after a mapped proxy ends the walk at that proxy, in IPv4 form.
        assert_eq!(walk("::ffff:127.0.0.1", "::ffff:zz"), ip("127.0.0.1"));
    }

    #[test]
    fn configured_networks_in_ipv6_form_cover_the_ipv4_addresses() {
        let net = |s: &str| -> ipnet::IpNet { s.parse().expect("net") };
        assert_eq!(
            canonical_net(net("::ffff:10.20.0.0/112")),
            net("10.20.0.0/16")
        );
        assert_eq!(
            canonical_net(net("::ffff:10.20.1.5/128")),
            net("10.20.1.5/32")
        );
        assert_eq!(canonical_net(net("::ffff:0:0/96")), net("0.0.0.0/0"));
        // Host bits are dropped as the IPv4 range would have them.
        assert_eq!(
            canonical_net(net("::ffff:10.20.1.5/112")),
            net("10.20.0.0/16")
        );
        // Ranges that are not within the mapped block are kept as written.
        for kept in [
            "2001:db8::/32",
            "::/0",
            "::ffff:0:0/95",
            "10.0.0.0/8",
            "fd00::/8",
        ] {
            assert_eq!(canonical_net(net(kept)), net(kept), "{kept}");
        }
        assert!(
            canonical_net(net("::ffff:10.20.0.0/112"))
                .contains(&canonical_ip(ip("::ffff:10.20.9.9")))
        );
    }
}
