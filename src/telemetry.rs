//! Logging: JSON lines (for Loki) or pretty text for humans. The server logs to standard output;
//! every other command logs to standard error, so that `--json` output on standard output is one
//! JSON document a script can parse.
//!
//! Lines go through one in-memory batch that a thread of its own writes out every 50 ms (or at
//! 64 KiB): a request appends its line under a short lock and never waits on a pipe or a log
//! driver, and nothing wakes per line. Written with one `write` per line on the request's thread,
//! the default `info` logging cost as much as the JWKS request itself; a channel to a writer
//! thread (`tracing-appender`) cost as much again in wake-ups (bench/README.md). If the output
//! stalls and 8 MiB wait, further lines are dropped and counted
//! (`log_lines_dropped_total` in /metrics) rather than growing memory or making sign-ins wait.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use axum::http::HeaderValue;
use tracing::Instrument as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// A server-side cause attached to an error response (500, 503): the edge middleware
/// (`http::edge`) logs it once, on the line of the request it belongs to. Error types attach it
/// instead of logging themselves.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    Stderr,
}

/// PostgreSQL's NOTICEs ("relation … already exists, skipping" from `create … if not exists` in
/// migrations) are noise at info, and so are tower-sessions' spans (one `call` span and one per
/// session read or save, on every page request, costing their creation and never shown): they go
/// out at warn unless RUST_LOG names them itself. Their warnings and errors still come through.
/// webauthn-rs is off: at debug and trace it writes whole registrations and assertions
/// (credential ids, public keys, attestation certificates), and its few warnings say nothing our
/// own "refused" lines do not. (A target matches by prefix: `tower_sessions` covers
/// `tower_sessions_core`, `webauthn_rs` covers `webauthn_rs_core` and `webauthn_rs_proto`.)
const QUIETED: [(&str, &str); 3] = [
    ("sqlx::postgres::notice", "warn"),
    ("tower_sessions", "warn"),
    ("webauthn_rs", "off"),
];

/// `spec` with each quieted target at its level unless the spec names it.
fn quieted(spec: &str) -> String {
    let mut full = spec.to_owned();
    for (target, level) in QUIETED {
        if !spec.contains(target) {
            full.push_str(&format!(",{target}={level}"));
        }
    }
    full
}

pub fn filter() -> EnvFilter {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let spec = quieted(from_env.as_deref().unwrap_or("info,sqlx=warn"));
    EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new(quieted("info,sqlx=warn")))
}

/// Lines dropped because the output fell behind, for the metrics.
static DROPPED: AtomicU64 = AtomicU64::new(0);

pub fn dropped_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

const WRITE_EVERY: Duration = Duration::from_millis(50);
const WRITE_AT: usize = 64 * 1024;
const DROP_PAST: usize = 8 * 1024 * 1024;

/// The lines not yet written, shared by every thread that logs and the one that writes.
struct Batch {
    lines: Mutex<Vec<u8>>,
    ready: Condvar,
    closing: AtomicBool,
}

impl Batch {
    /// Appends one line with `write`, or drops and counts it when too much is waiting; wakes the
    /// writer early once a full buffer's worth waits.
    fn append(&self, write: impl FnOnce(&mut Vec<u8>)) {
        // A poisoned lock only means a thread panicked while appending: the bytes are still there.
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() > DROP_PAST {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        write(&mut lines);
        if lines.len() >= WRITE_AT {
            self.ready.notify_one();
        }
    }
}

/// What tracing's formatter writes each finished line into.
#[derive(Clone)]
pub struct BatchWriter(Arc<Batch>);

impl Write for BatchWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.0.append(|lines| lines.extend_from_slice(line));
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;

    fn make_writer(&'a self) -> BatchWriter {
        self.clone()
    }
}

/// Ends the writing thread when dropped, after it has written every line still waiting.
pub struct LogGuard {
    batch: Arc<Batch>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.batch.closing.store(true, Ordering::Release);
        self.batch.ready.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

tokio::task_local! {
    /// The id of the request this task serves: error pages show it (the help desk asks for
    /// it), and every other line logged while serving it carries it.
    static CURRENT_REQUEST: HeaderValue;
}

/// Whether the logging installed is the pretty one, which ties a request's lines together by
/// a tracing span; the JSON lines read the request's id from the task instead.
static REQUEST_SPANS: AtomicBool = AtomicBool::new(false);

/// Runs `serve` as the request `request_id`. A tracing span per request (its creation, an
/// entry and exit at every poll, its closing) cost more than a JWKS request's access line, so
/// the JSON lines carry the id from the task-local instead (bench/README.md).
pub async fn serving<F: Future>(request_id: HeaderValue, serve: F) -> F::Output {
    let span = if REQUEST_SPANS.load(Ordering::Relaxed) {
        tracing::info_span!("request", request_id = request_id.to_str().unwrap_or(""))
    } else {
        tracing::Span::none()
    };
    CURRENT_REQUEST
        .scope(request_id, serve.instrument(span))
        .await
}

/// The id of the request this task serves, if it runs under `serving`.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST
        .try_with(|id| id.to_str().map(str::to_owned).ok())
        .ok()
        .flatten()
}

/// The `span` of a JSON line logged while serving a request, as json-subscriber writes a
/// current span: `{"request_id": …, "name": "request"}`.
fn request_span_field() -> Option<serde_json::Value> {
    current_request_id().map(|id| serde_json::json!({ "request_id": id, "name": "request" }))
}

/// The JSON batch, when the server logs JSON: access lines go straight into it.
static ACCESS: OnceLock<BatchWriter> = OnceLock::new();

/// One request's access line, as JSON. Written by hand around serde_json's escaping of the two
/// strings a client chooses, so the keys and fixed values cost nothing per line: formatted
/// through tracing, the line cost six times the instructions of the JWKS request it describes.
pub struct AccessLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub request_id: &'a str,
    pub status: u16,
    pub latency_ms: f64,
}

/// The line as tracing's JSON lines have it (same keys, same order), ending in a newline.
fn write_access_line(out: &mut Vec<u8>, now: time::OffsetDateTime, line: &AccessLine<'_>) {
    // Writing to a Vec cannot fail; serde_json escapes what the client sent.
    out.extend_from_slice(b"{\"timestamp\":\"");
    write_timestamp(out, now);
    out.extend_from_slice(
        b"\",\"level\":\"INFO\",\"target\":\"hccc_sso::http\",\"message\":\"response\",\"method\":",
    );
    let _ = serde_json::to_writer(&mut *out, line.method);
    out.extend_from_slice(b",\"path\":");
    let _ = serde_json::to_writer(&mut *out, line.path);
    out.extend_from_slice(b",\"request_id\":");
    let _ = serde_json::to_writer(&mut *out, line.request_id);
    out.extend_from_slice(b",\"status\":");
    let _ = serde_json::to_writer(&mut *out, &line.status);
    out.extend_from_slice(b",\"latency_ms\":");
    let _ = serde_json::to_writer(&mut *out, &line.latency_ms);
    out.extend_from_slice(b"}\n");
}

thread_local! {
    /// This thread's access line being written: formatted outside the batch's lock, so the
    /// lock is held for a copy only.
    static ACCESS_LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Writes the access line of a successful request if the server logs JSON and `RUST_LOG` lets
/// `hccc_sso::http` through at info; false if it did not (the caller then logs it as an event).
pub fn access(line: &AccessLine<'_>) -> bool {
    let Some(BatchWriter(batch)) = ACCESS.get() else {
        return false;
    };
    if !tracing::enabled!(target: "hccc_sso::http", tracing::Level::INFO) {
        return true;
    }
    ACCESS_LINE.with_borrow_mut(|formatted| {
        formatted.clear();
        write_access_line(formatted, time::OffsetDateTime::now_utc(), line);
        batch.append(|lines| lines.extend_from_slice(formatted));
    });
    true
}

thread_local! {
    /// This thread's last second of access-line timestamps, formatted: the date and time change
    /// once a second, so only the microseconds are written per line.
    static FORMATTED_SECOND: std::cell::RefCell<(i64, String)> =
        const { std::cell::RefCell::new((i64::MIN, String::new())) };
}

/// Writes `now` in RFC 3339, UTC, to the microsecond, as tracing's JSON lines have it.
fn write_timestamp(out: &mut Vec<u8>, now: time::OffsetDateTime) {
    const TO_THE_SECOND: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let now = now.to_offset(time::UtcOffset::UTC);
    FORMATTED_SECOND.with_borrow_mut(|(second, formatted)| {
        if *second != now.unix_timestamp() {
            *formatted = now.format(TO_THE_SECOND).unwrap_or_default();
            *second = now.unix_timestamp();
        }
        out.extend_from_slice(formatted.as_bytes());
    });
    out.push(b'.');
    let micros = now.microsecond();
    for place in [100_000, 10_000, 1_000, 100, 10, 1] {
        // A digit, 0 to 9.
        out.push(b'0' + (micros / place % 10) as u8);
    }
    out.push(b'Z');
}

/// Starts the thread that writes the batch to `target`.
fn start_writer(target: LogTarget) -> std::io::Result<(BatchWriter, LogGuard)> {
    let batch = Arc::new(Batch {
        lines: Mutex::new(Vec::with_capacity(WRITE_AT)),
        ready: Condvar::new(),
        closing: AtomicBool::new(false),
    });
    let shared = batch.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            let mut out: Box<dyn Write> = match target {
                LogTarget::Stdout => Box::new(std::io::stdout()),
                LogTarget::Stderr => Box::new(std::io::stderr()),
            };
            let mut spare = Vec::with_capacity(WRITE_AT);
            loop {
                let closing = {
                    let lines = shared.lines.lock().unwrap_or_else(|e| e.into_inner());
                    let (mut lines, _) = shared
                        .ready
                        .wait_timeout(lines, WRITE_EVERY)
                        .unwrap_or_else(|e| e.into_inner());
                    std::mem::swap(&mut *lines, &mut spare);
                    shared.closing.load(Ordering::Acquire)
                };
                if !spare.is_empty() {
                    // Nowhere to report a failed write of the log itself; the next batch tries again.
                    let _ = out.write_all(&spare).and_then(|()| out.flush());
                    spare.clear();
                }
                if closing {
                    break;
                }
            }
        })?;
    Ok((
        BatchWriter(batch.clone()),
        LogGuard {
            batch,
            thread: Some(thread),
        },
    ))
}

/// Starts logging. Keep the guard until the process ends: dropping it writes what is left.
pub fn init_to(format: LogFormat, target: LogTarget) -> Option<LogGuard> {
    let (writer, guard) = match start_writer(target) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("error: could not start the log writer thread: {e}");
            return None;
        }
    };
    let access = writer.clone();
    // `try_init` fails only if a subscriber is already set (tests); that one is kept.
    let installed = match format {
        // json-subscriber writes the same lines as tracing-subscriber's JSON format at a fraction
        // of the cost: it formats a span's fields once, not again for every line inside it.
        LogFormat::Json => {
            // The keys of json-subscriber's `fmt()` with a flattened event, its `span` read
            // from the task rather than from a span.
            let mut json = json_subscriber::JsonLayer::new(writer);
            json.with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime);
            json.with_level("level");
            json.with_target("target");
            json.with_file("filename");
            json.with_line_number("line_number");
            json.with_flattened_event();
            json.add_dynamic_field("span", |_, _| request_span_field());
            tracing_subscriber::registry()
                .with(json)
                .with(filter())
                .try_init()
                .map_err(|e| e.to_string())
        }
        LogFormat::Pretty => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_file(true)
            .with_line_number(true)
            .with_target(true)
            .with_span_events(FmtSpan::NONE)
            .pretty()
            .with_writer(writer)
            .try_init()
            .map_err(|e| e.to_string()),
    };
    if installed.is_err() {
        return None;
    }
    // Only once our subscriber is the one installed: its writer thread is the one that runs.
    match format {
        LogFormat::Json => {
            let _ = ACCESS.set(access);
        }
        LogFormat::Pretty => REQUEST_SPANS.store(true, Ordering::Relaxed),
    }
    Some(guard)
}

/// Logging for a process that never ends its logging on purpose (the tests): the writer thread
/// lives as long as the process.
pub fn init(format: LogFormat) {
    std::mem::forget(init_to(format, LogTarget::Stdout));
}

#[cfg(test)]
mod tests;
