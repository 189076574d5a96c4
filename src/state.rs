//! Application state, passed explicitly to every handler.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;

use crate::accounts::PasswordHasher;
use crate::clock::Clock;
use crate::config::{Branding, Config};
use crate::http::assets::Assets;
use crate::keys::KeyRing;
use crate::mail::relay::Mail;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub keys: KeyRing,
    pub hasher: PasswordHasher,
    pub clock: Clock,
    /// Seals private keys and client_secret_jwt secrets at rest.
    pub key_encryption: [u8; 32],
    /// Keys the CSRF tokens of forms shown before a session exists.
    pub csrf_key: [u8; 32],
    /// For outbound calls (client JWKS URIs, back-channel logout).
    pub http: reqwest::Client,
    /// Static files (built in, and the college's branding folder), fingerprinted and compressed.
    pub assets: Arc<Assets>,
    pub branding: Arc<Branding>,
    /// Outgoing e-mail: the relay (if any), the sender, the worker's bell.
    pub mail: Mail,
    /// The WebAuthn relying party (passkeys and security keys); None when the issuer's host is
    /// an IP address and no `HCCC_SSO_WEBAUTHN_RP_ID` is set.
    pub webauthn: Option<std::sync::Arc<webauthn_rs::Webauthn>>,
    /// Discovery documents, serialized once at start-up.
    pub openid_configuration: axum::body::Bytes,
    pub oauth_metadata: axum::body::Bytes,
}

impl AppState {
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The static-file handlers take only the files: `http::assets` needs nothing else of the state.
impl FromRef<AppState> for Arc<Assets> {
    fn from_ref(app: &AppState) -> Arc<Assets> {
        app.assets.clone()
    }
}
