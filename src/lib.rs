//! hccc-sso: the OpenID Connect provider of Hudson County Community College.

pub mod accounts;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod keys;
pub mod login;
pub mod oidc;
pub mod state;
pub mod store;
pub mod telemetry;
