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

use serde::Serialize;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
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

/// The JSON batch, when the server logs JSON: access lines go straight into it.
static ACCESS: OnceLock<BatchWriter> = OnceLock::new();

/// One request's access line, as JSON (the fields a tracing event would carry, in one pass of
/// serde_json: formatted through tracing, the line cost six times the instructions of the JWKS
/// request it describes).
#[derive(Serialize)]
pub struct AccessLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub request_id: &'a str,
    pub status: u16,
    pub latency_ms: f64,
}

#[derive(Serialize)]
struct AccessRecord<'a> {
    timestamp: &'a str,
    level: &'static str,
    target: &'static str,
    message: &'static str,
    #[serde(flatten)]
    line: &'a AccessLine<'a>,
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
    let timestamp = access_timestamp(time::OffsetDateTime::now_utc());
    let record = AccessRecord {
        timestamp: &timestamp,
        level: "INFO",
        target: "hccc_sso::http",
        message: "response",
        line,
    };
    batch.append(|lines| {
        if serde_json::to_writer(&mut *lines, &record).is_ok() {
            lines.push(b'\n');
        }
    });
    true
}

thread_local! {
    /// This thread's last second of access-line timestamps, formatted: the date and time change
    /// once a second, so only the microseconds are written per line.
    static FORMATTED_SECOND: std::cell::RefCell<(i64, String)> =
        const { std::cell::RefCell::new((i64::MIN, String::new())) };
}

/// RFC 3339 in UTC to the microsecond, as tracing's JSON lines have it.
fn access_timestamp(now: time::OffsetDateTime) -> String {
    const TO_THE_SECOND: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let now = now.to_offset(time::UtcOffset::UTC);
    FORMATTED_SECOND.with_borrow_mut(|(second, formatted)| {
        if *second != now.unix_timestamp() {
            *formatted = now.format(TO_THE_SECOND).unwrap_or_default();
            *second = now.unix_timestamp();
        }
        let mut timestamp = String::with_capacity(formatted.len() + 8);
        timestamp.push_str(formatted);
        // Writing to a String cannot fail.
        let _ =
            std::fmt::Write::write_fmt(&mut timestamp, format_args!(".{:06}Z", now.microsecond()));
        timestamp
    })
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
        LogFormat::Json => json_subscriber::fmt()
            .with_env_filter(filter())
            .with_file(true)
            .with_line_number(true)
            .with_target(true)
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .try_init(),
        LogFormat::Pretty => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_file(true)
            .with_line_number(true)
            .with_target(true)
            .with_span_events(FmtSpan::NONE)
            .pretty()
            .with_writer(writer)
            .try_init(),
    };
    if installed.is_err() {
        return None;
    }
    // Only once our subscriber is the one installed: its writer thread is the one that runs.
    if format == LogFormat::Json {
        let _ = ACCESS.set(access);
    }
    Some(guard)
}

/// Logging for a process that never ends its logging on purpose (the tests): the writer thread
/// lives as long as the process.
pub fn init(format: LogFormat) {
    std::mem::forget(init_to(format, LogTarget::Stdout));
}

#[cfg(test)]
mod tests {
    use super::access_timestamp;
    use time::macros::datetime;

    #[test]
    fn access_timestamps_match_a_full_rfc_3339_format_within_and_across_seconds() {
        let full = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        for instant in [
            datetime!(2026-12-31 23:59:59.000_001 UTC),
            datetime!(2026-12-31 23:59:59.999_999 UTC),
            datetime!(2027-01-01 00:00:00 UTC),
            datetime!(2027-01-01 00:00:00.5 UTC),
            // Not UTC: written as the same instant in UTC.
            datetime!(2027-01-01 01:00:00.25 +01:00),
            datetime!(2026-03-08 02:30:00.000_042 UTC),
        ] {
            let expected = instant
                .to_offset(time::UtcOffset::UTC)
                .format(full)
                .expect("format");
            assert_eq!(access_timestamp(instant), expected);
        }
    }
}
