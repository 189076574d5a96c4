//! hccc-sso: the OpenID Connect provider of Hudson County Community College.

// Request paths must never panic on outside data: these are errors in library code (tests may use them).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::too_many_lines
    )
)]

pub mod accounts;
pub mod admin;
pub mod api;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clients;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod keys;
pub mod login;
pub mod mail;
pub mod oidc;
pub mod outbound;
pub mod sessions;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod telemetry_metrics;
