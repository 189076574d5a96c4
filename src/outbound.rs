//! Requests this server makes to others: client JWKS URIs and back-channel logout.

use std::sync::OnceLock;
use std::time::Duration;

/// The client for outbound calls: short timeouts, no redirects (a redirect could point anywhere).
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls()?)
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hccc-sso/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// One TLS configuration a process: OpenSSL 3 parses the whole system CA bundle each time one is
/// made (tens of milliseconds of CPU), and a process that builds several apps (the tests) needs
/// it once.
fn tls() -> Result<native_tls::TlsConnector, native_tls::Error> {
    static TLS: OnceLock<native_tls::TlsConnector> = OnceLock::new();
    if let Some(tls) = TLS.get() {
        return Ok(tls.clone());
    }
    let tls = native_tls::TlsConnector::new()?;
    Ok(TLS.get_or_init(|| tls).clone())
}

/// GETs `url` and returns its body, refusing bodies over `max_bytes` and non-2xx answers.
pub async fn fetch_limited(
    http: &reqwest::Client,
    url: &str,
    max_bytes: usize,
) -> Result<Vec<u8>, String> {
    let mut response = http
        .get(url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(format!("response larger than {max_bytes} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
