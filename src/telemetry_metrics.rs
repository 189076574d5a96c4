//! Prometheus metrics: requests by route and status with latencies, sign-ins, tokens issued by
//! grant, and database pool use.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;
use crate::store::{Db, Store};

/// The process-wide recorder (metrics are per process, like the process itself).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            const BUCKETS: [f64; 12] = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &BUCKETS,
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Counts every request by method, route template (never the raw path; "unmatched" for none) and
/// status, and records its latency by method and route. Called by `http::edge` for every request,
/// so the handles are looked up once per thread and key: building the labels and hashing them in
/// the registry on every call cost more than serving a JWKS request.
pub fn record_request(
    method: &'static str,
    route: Option<&str>,
    status: StatusCode,
    latency: Duration,
) {
    type Handles = Vec<(&'static str, u16, Counter, Histogram)>;
    thread_local! {
        static HANDLES: RefCell<HashMap<String, Handles>> = RefCell::new(HashMap::new());
    }
    let route = route.unwrap_or("unmatched");
    let status = status.as_u16();
    HANDLES.with_borrow_mut(|by_route| {
        if !by_route.contains_key(route) {
            by_route.insert(route.to_owned(), Vec::new());
        }
        let Some(handles) = by_route.get_mut(route) else {
            return;
        };
        let seconds = latency.as_secs_f64();
        if let Some((_, _, counter, histogram)) = handles
            .iter()
            .find(|(m, s, _, _)| *m == method && *s == status)
        {
            counter.increment(1);
            histogram.record(seconds);
            return;
        }
        let labels = [("method", method.to_owned()), ("route", route.to_owned())];
        let histogram = metrics::histogram!("http_request_duration_seconds", &labels);
        let with_status = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        let counter = metrics::counter!("http_requests_total", &with_status);
        counter.increment(1);
        histogram.record(seconds);
        handles.push((method, status, counter, histogram));
    });
}

/// The method as a label without allocating; methods outside HTTP's own set count as "other".
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub fn login(result: &'static str) {
    metrics::counter!("logins_total", "result" => result).increment(1);
}

/// An outgoing e-mail's attempt: `sent`, `retried`, `given_up`.
pub fn mail(result: &'static str) {
    metrics::counter!("mail_total", "result" => result).increment(1);
}

pub fn token_issued(grant: &str) {
    metrics::counter!("tokens_issued_total", "grant" => grant.to_owned()).increment(1);
}

fn record_pool(store: &Store) {
    let (size, idle, max) = match store.db() {
        Db::Postgres(pool) => (
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        ),
        Db::Sqlite(pool) => (
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        ),
    };
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(size.saturating_sub(idle as u32) as f64);
    metrics::gauge!("db_pool_max_connections").set(max as f64);
}

/// `GET /metrics` in the Prometheus text format.
/// With `HCCC_SSO_METRICS_TOKEN` set, only `Authorization: Bearer <token>` may read them.
pub async fn get_metrics(State(app): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(expected) = &app.config.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let authorized = presented.is_some_and(|token| {
            crate::crypto::constant_time_eq(
                &crate::crypto::sha256(token.as_bytes()),
                &crate::crypto::sha256(expected.as_bytes()),
            )
        });
        if !authorized {
            return (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"metrics\""),
                )],
                "a bearer token is required",
            )
                .into_response();
        }
    }
    let Some(handle) = handle() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response();
    };
    record_pool(&app.store);
    metrics::counter!("log_lines_dropped_total").absolute(crate::telemetry::dropped_lines());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// Keeps histogram memory bounded; called by the maintenance loop.
pub fn upkeep() {
    if let Some(handle) = handle() {
        handle.run_upkeep();
    }
}
