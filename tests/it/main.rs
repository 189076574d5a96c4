//! The one integration test binary: every test starts the real server on 127.0.0.1.

mod flows;
mod hardening;
mod harness;

mod admin;
mod api;
mod authorize;
mod browser;
mod cli;
mod conformance;
mod deploy;
mod device;
mod doors;
mod factors;
mod i18n;
mod import;
mod keys;
mod link_lifetimes;
mod mail;
mod mod_auth_openidc;
mod oidc_flow;
mod openid_client;
mod operations;
mod operators;
mod outage;
mod par;
mod properties;
mod replicas;
mod robustness;
mod rp;
mod self_service;
mod store_suite;
mod throttles;
mod token;
mod token_admin;
mod userinfo;
