//! What every request passes through at the edge of the service: the size limits, the request
//! id, the access log line, the request metrics and the security headers.

use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::telemetry::ErrorCause;

/// Longest request URI (path and query) we accept.
pub const MAX_URI_LEN: usize = 8192;
/// Largest request body we accept anywhere.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The one route that takes larger bodies: the admin CSV upload.
pub const LARGE_BODY_PATH: &str = "/admin/import";
pub const MAX_LARGE_BODY_BYTES: usize = 2 * crate::domain::MAX_IMPORT_BYTES + 64 * 1024;

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Everything every request passes through, as one middleware: a request id (kept from the
/// request or made), the URI length and declared body limits (413 at once, before any of the body
/// is read; bodies without a length are cut off by the extractors' `DefaultBodyLimit`), the log
/// span, the security headers, and the request metrics. One layer rather than five: each tower
/// layer costs a boxed future and a service clone per request, which was half the CPU of a JWKS
/// request (bench/README.md).
pub async fn edge(https: bool, mut request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    // A caller's own id is kept (it ties our logs to a proxy's), but only a short one.
    let request_id = match request.headers().get(REQUEST_ID) {
        Some(id) if id.len() <= MAX_REQUEST_ID_LEN => id.clone(),
        _ => {
            let id = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or(HeaderValue::from_static("-"));
            request.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    let method = crate::telemetry_metrics::method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    // The path only: query strings carry codes and state.
    // (A `Uri` clones by reference count.)
    let uri = request.uri().clone();
    let path = uri.path();
    let mut response = if request_too_long(&request) {
        (StatusCode::URI_TOO_LONG, "The request URI is too long.").into_response()
    } else if body_too_large(&request) {
        (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response()
    } else {
        // A header value clones by reference count: no copy of the id per request.
        crate::telemetry::serving(request_id.clone(), next.run(request)).await
    };
    let status = response.status();
    let latency = started.elapsed();
    // The access line carries the request's fields itself rather than through the span: the JSON
    // formatter re-reads a span's fields for every line inside it, which was a third of the
    // default logging's cost per request (bench/README.md).
    let latency_ms = latency.as_secs_f64() * 1000.0;
    let id = request_id.to_str().unwrap_or("");
    if status.is_server_error() {
        // The one log line of a failed request, with the cause its error attached.
        let cause = response
            .extensions()
            .get::<ErrorCause>()
            .map(|c| c.0.as_str());
        tracing::error!(
            method,
            path,
            request_id = id,
            status = status.as_u16(),
            latency_ms,
            cause,
            "response failed"
        );
    } else {
        let line = crate::telemetry::AccessLine {
            method,
            path,
            request_id: id,
            status: status.as_u16(),
            latency_ms,
        };
        if !crate::telemetry::access(&line) {
            tracing::info!(
                method,
                path,
                request_id = id,
                status = status.as_u16(),
                latency_ms,
                "response"
            );
        }
    }
    crate::telemetry_metrics::record_request(
        method,
        route.as_ref().map(MatchedPath::as_str),
        status,
        latency,
    );
    let headers = response.headers_mut();
    headers.insert(REQUEST_ID, request_id);
    security_headers(https, headers);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body is never read, so the connection cannot carry another request: say
        // so, or a client reusing it races the close and loses its next request.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

const REQUEST_ID: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 128;

fn request_too_long(request: &Request<Body>) -> bool {
    let uri_len = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().len())
        .unwrap_or(0);
    uri_len > MAX_URI_LEN
}

fn body_too_large(request: &Request<Body>) -> bool {
    let limit = if request.uri().path() == LARGE_BODY_PATH {
        MAX_LARGE_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length > limit as u64)
}

/// The security headers of every response; responses are uncacheable unless the handler chose a
/// caching policy.
fn security_headers(https: bool, headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000"),
        );
    }
}
