//! OpenID Connect / OAuth 2.0 protocol endpoints.

pub mod authorize;
pub mod backchannel;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod error;
pub mod introspect;
pub mod logout;
pub mod par;
pub mod scopes;
pub mod token;
pub mod tokens;
pub mod userinfo;
