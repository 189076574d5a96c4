//! The log lines' unit tests: the access line's JSON, the quieted targets, the timestamps.

use super::{AccessLine, EnvFilter, quieted, write_access_line, write_timestamp};
use std::io::Write;
use std::sync::{Arc, Mutex};
use time::macros::datetime;

proptest::proptest! {
    /// Whatever path and request id a client sends, the access line is one line of JSON
    /// that reads back as what was sent, with the keys tracing's lines have.
    #[test]
    fn an_access_line_is_one_json_line_whatever_the_client_sent(
        path in proptest::prelude::any::<String>(),
        request_id in proptest::prelude::any::<String>(),
        status in 100u16..600,
        latency_ms in 0.0f64..1e7,
    ) {
        let mut written = Vec::new();
        let line = AccessLine { method: "GET", path: &path, request_id: &request_id, status, latency_ms };
        write_access_line(&mut written, datetime!(2026-12-04 19:00:00.000_042 UTC), &line);
        proptest::prop_assert_eq!(written.iter().filter(|b| **b == b'\n').count(), 1);
        proptest::prop_assert_eq!(written.last(), Some(&b'\n'));
        let read: serde_json::Value = serde_json::from_slice(&written).expect("one JSON object");
        proptest::prop_assert_eq!(&read["timestamp"], "2026-12-04T19:00:00.000042Z");
        proptest::prop_assert_eq!(&read["level"], "INFO");
        proptest::prop_assert_eq!(&read["target"], "hccc_sso::http");
        proptest::prop_assert_eq!(&read["message"], "response");
        proptest::prop_assert_eq!(&read["method"], "GET");
        proptest::prop_assert_eq!(&read["path"], path.as_str());
        proptest::prop_assert_eq!(&read["request_id"], request_id.as_str());
        proptest::prop_assert_eq!(&read["status"], status);
        // serde_json reads floats back to within one unit in the last place.
        let read_ms = read["latency_ms"].as_f64().unwrap_or(f64::NAN);
        proptest::prop_assert!((read_ms - latency_ms).abs() <= latency_ms * 1e-15);
        proptest::prop_assert_eq!(read.as_object().map(|o| o.len()), Some(9));
    }
}

#[test]
fn noisy_targets_are_quieted_unless_named() {
    assert_eq!(
        quieted("info,sqlx=warn"),
        "info,sqlx=warn,sqlx::postgres::notice=warn,tower_sessions=warn,webauthn_rs=off"
    );
    assert_eq!(
        quieted("debug,tower_sessions_core=trace"),
        "debug,tower_sessions_core=trace,sqlx::postgres::notice=warn,webauthn_rs=off"
    );
    assert_eq!(
        quieted("sqlx::postgres::notice=info,tower_sessions=debug,webauthn_rs_core=debug"),
        "sqlx::postgres::notice=info,tower_sessions=debug,webauthn_rs_core=debug"
    );
}

/// webauthn-rs logs whole credentials at debug and trace: even `RUST_LOG=trace` keeps them
/// out, while our own lines at those levels still come through.
#[test]
fn webauthn_rs_is_silent_at_every_level_unless_named() {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut lines) = self.0.lock() {
                lines.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for spec in ["trace", "debug", "info,sqlx=warn"] {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(quieted(spec)))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "webauthn_rs_core::core", cred_id = "Y3JlZC1pZA", "reg");
            tracing::debug!(target: "webauthn_rs_core::attestation", "cert = MIIB-public-key");
            tracing::warn!(target: "webauthn_rs_core::internals", "cred_id_len (4) exceeds");
            tracing::trace!(target: "webauthn_rs::interface", "finish -> Y3JlZC1pZA");
            tracing::warn!(target: "hccc_sso::login::passkeys", "ours");
        });
        let written =
            String::from_utf8_lossy(&captured.0.lock().map(|l| l.clone()).unwrap_or_default())
                .into_owned();
        assert!(written.contains("ours"), "{spec}: our own line: {written}");
        for leaked in ["Y3JlZC1pZA", "MIIB", "cred_id_len"] {
            assert!(!written.contains(leaked), "{spec}: {leaked} in {written}");
        }
    }
}

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
        let mut written = Vec::new();
        write_timestamp(&mut written, instant);
        assert_eq!(String::from_utf8_lossy(&written), expected);
    }
}
