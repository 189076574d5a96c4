//! Logging: JSON lines (for Loki) or pretty text for humans. The server logs to standard output;
//! every other command logs to standard error, so that `--json` output on standard output is one
//! JSON document a script can parse.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// PostgreSQL's NOTICEs ("relation … already exists, skipping" from `create … if not exists` in
/// migrations) are noise at info: they go out at warn unless RUST_LOG names them itself.
const QUIET_NOTICES: &str = "sqlx::postgres::notice=warn";

pub fn filter() -> EnvFilter {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let spec = match from_env {
        Some(spec) if spec.contains("sqlx::postgres::notice") => spec,
        Some(spec) => format!("{spec},{QUIET_NOTICES}"),
        None => format!("info,sqlx=warn,{QUIET_NOTICES}"),
    };
    EnvFilter::try_new(&spec)
        .unwrap_or_else(|_| EnvFilter::new(format!("info,sqlx=warn,{QUIET_NOTICES}")))
}

pub fn init(format: LogFormat) {
    init_to(format, LogTarget::Stdout);
}

pub fn init_to(format: LogFormat, target: LogTarget) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_file(true)
        .with_line_number(true)
        .with_target(true)
        .with_span_events(FmtSpan::NONE);
    let writer = move || -> Box<dyn std::io::Write> {
        match target {
            LogTarget::Stdout => Box::new(std::io::stdout()),
            LogTarget::Stderr => Box::new(std::io::stderr()),
        }
    };
    // `try_init` fails only if a subscriber is already set (tests); that one is kept.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .try_init(),
        LogFormat::Pretty => builder.pretty().with_writer(writer).try_init(),
    };
}
