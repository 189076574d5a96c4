//! Requests this server makes to others: client JWKS URIs and back-channel logout.

use std::time::Duration;

/// The client for outbound calls: short timeouts, no redirects (a redirect could point anywhere).
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("hccc-sso/", env!("CARGO_PKG_VERSION")))
        .build()
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
