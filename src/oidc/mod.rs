//! OpenID Connect / OAuth 2.0 protocol endpoints. Each file holds one endpoint's handlers (the
//! token endpoint's grants in `grants/`); `jwt.rs` the tokens we sign, `error.rs` the errors.

pub mod authorize;
pub mod backchannel;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod error;
pub mod form;
pub mod grants;
pub mod introspect;
pub mod jwt;
pub mod logout;
pub mod par;
pub mod revoke;
pub mod scopes;
pub mod token;
pub mod userinfo;
