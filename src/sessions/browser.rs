//! The browser-binding cookie: a random key a browser gets on its first page, with no database
//! write. It binds parked authorization requests to the browser that started them (another
//! browser's session cannot finish them: no login CSRF), and keys the CSRF token of the forms
//! shown before there is a session, so a visitor who only looks at the sign-in page stores nothing.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::crypto;

/// The browser's key (43 base64url characters); `fresh` when made for this request.
#[derive(Clone)]
pub struct BrowserKey {
    key: String,
    fresh: bool,
}

impl std::fmt::Debug for BrowserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BrowserKey(<redacted>)")
    }
}

impl BrowserKey {
    fn new() -> BrowserKey {
        BrowserKey {
            key: crypto::random_token(),
            fresh: true,
        }
    }

    /// What a parked request stores to know its browser again (never the key itself).
    pub fn binding(&self) -> [u8; 32] {
        crypto::sha256(self.key.as_bytes())
    }

    /// Whether `stored` is this browser's binding.
    pub fn owns(&self, stored: Option<&[u8]>) -> bool {
        stored.is_some_and(|stored| crypto::constant_time_eq(stored, &self.binding()))
    }

    /// The CSRF token of forms shown to this browser before it has a session.
    pub fn csrf_token(&self, csrf_key: &[u8; 32]) -> String {
        // HMAC-SHA-256 with a 32-byte key cannot fail; an empty token would match no form.
        crypto::hmac_sha256(csrf_key, format!("csrf|{}", self.key).as_bytes())
            .map(|m| crypto::b64url(&m))
            .unwrap_or_default()
    }
}

/// The cookie's name: `__Host-` under https (Secure, host-only, path /: no subdomain can set it).
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-hccc_sso_b"
    } else {
        "hccc_sso_b"
    }
}

/// Gives every page request a `BrowserKey`, setting the cookie when the browser had none. The
/// cookie lasts as long as the browser session (no Max-Age) and is HttpOnly and SameSite=Lax.
pub async fn bind_browser(https: bool, mut request: Request<Body>, next: Next) -> Response {
    let name = cookie_name(https);
    // Only keys we could have made: anything else is replaced.
    let key =
        match crate::http::cookie(request.headers(), name).filter(|v| crate::http::is_token(v)) {
            Some(key) => BrowserKey { key, fresh: false },
            None => BrowserKey::new(),
        };
    request.extensions_mut().insert(key.clone());
    let mut response = next.run(request).await;
    if key.fresh {
        let secure = if https { "; Secure" } else { "" };
        let cookie = format!("{name}={}; Path=/; HttpOnly; SameSite=Lax{secure}", key.key);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for BrowserKey {
    type Rejection = std::convert::Infallible;

    /// Outside the pages' middleware there is no cookie to bind to: a key of its own then,
    /// which nothing stored will match.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<BrowserKey>()
            .cloned()
            .unwrap_or_else(BrowserKey::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_and_csrf_tokens_belong_to_one_browser() {
        let (a, b) = (BrowserKey::new(), BrowserKey::new());
        assert!(a.owns(Some(&a.binding())));
        assert!(!a.owns(Some(&b.binding())));
        assert!(!a.owns(None));
        let key = [7u8; 32];
        assert_eq!(a.csrf_token(&key), a.csrf_token(&key));
        assert_ne!(a.csrf_token(&key), b.csrf_token(&key));
        assert_ne!(a.csrf_token(&key), a.csrf_token(&[8u8; 32]));
        assert_eq!(a.csrf_token(&key).len(), 43);
    }
}
