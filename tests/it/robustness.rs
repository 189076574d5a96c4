//! Bad and oversized input never causes a 500; headers, discovery, JWKS, CORS and health.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{Backend, TestApp, on_both_backends, reqwest, start_with};

async fn malformed_and_oversized_input_never_answers_500(app: TestApp) {
    let client = app.create_client(false, false).await;
    let http = crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let long_param = "y".repeat(5000);
    let cases: Vec<(reqwest::RequestBuilder, StatusCode)> = vec![
        (
            http.get(app.url(&format!(
                "/authorize?client_id={}&state={}",
                client.client_id,
                "z".repeat(9000)
            ))),
            StatusCode::URI_TOO_LONG,
        ),
        (
            http.get(app.url(&format!(
                "/authorize?client_id={}&state={long_param}",
                client.client_id
            ))),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.get(app.url("/authorize?%FF%FE=%C0%AF&client_id=%00")),
            StatusCode::BAD_REQUEST,
        ),
        (http.get(app.url("/authorize")), StatusCode::BAD_REQUEST),
        (
            http.post(app.url("/authorize")).body("client_id=x"),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.post(app.url("/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(vec![0xff, 0xfe, 0x00, 0x26, 0x3d]),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.post(app.url("/login")).body("username=a"),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.post(app.url("/consent"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("request=..&decision=allow"),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.post(app.url("/logout"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("confirm=yes"),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.get(app.url("/logout?id_token_hint=not.a.jwt")),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.get(
                app.url("/logout?client_id=nope&post_logout_redirect_uri=https%3A%2F%2Fx.example"),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.post(app.url("/revoke")).form(&[("token", "x")]),
            StatusCode::UNAUTHORIZED,
        ),
        (
            http.post(app.url("/introspect")).body("token=x"),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.post(app.url("/userinfo"))
                .header("content-type", "text/plain")
                .body("access_token=x"),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.get(app.url("/userinfo"))
                .header("authorization", "Bearer "),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.get(app.url("/login?request=%FF")),
            StatusCode::BAD_REQUEST,
        ),
        (
            http.delete(app.url("/token")),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (http.get(app.url("/no/such/page")), StatusCode::NOT_FOUND),
    ];
    for (request, expected) in cases {
        let request = request.build().expect("request");
        let description = format!("{} {}", request.method(), request.url().path());
        let response = http.execute(request).await.expect("send");
        assert_eq!(response.status(), expected, "{description}");
    }
    // Path traversal, sent raw: an HTTP client's URL parser would normalise `..` away first.
    for path in [
        "/static/../Cargo.toml",
        "/static/../../etc/passwd",
        "/static/%2e%2e/Cargo.toml",
        "/static/css/../../src/main.rs",
        "/static/..%2fCargo.toml",
    ] {
        let answer = raw_get(&app, path).await;
        assert!(
            answer.starts_with("HTTP/1.1 404") || answer.starts_with("HTTP/1.1 400"),
            "{path}: {answer}"
        );
        assert!(
            !answer.contains("[package]") && !answer.contains("root:"),
            "{path}"
        );
    }
    // Oversized bodies are refused from Content-Length alone, before any of the body is read: send
    // only the headers over a raw socket and read the answer (an HTTP client still uploading may see
    // the connection close first).
    for path in ["/token", "/login", "/authorize", "/userinfo"] {
        let head = headers_only_post(&app, path, 100 * 1024).await;
        assert!(
            head.starts_with("http/1.1 413"),
            "POST {path} with a 100 KiB body: {head}"
        );
        // The unread body makes the connection unusable; a client must not queue its next request
        // on it.
        assert!(head.contains("\r\nconnection: close\r\n"), "{path}: {head}");
    }
    // A long username and password are refused like any wrong credentials.
    let b = crate::harness::browser();
    let response =
        crate::flows::submit_login(&app, &b, "/login", &"u".repeat(300), &"p".repeat(2000)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// A GET of `path` exactly as written, over a raw socket; the whole answer.
async fn raw_get(app: &TestApp, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("answered")
    .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends a POST's headers announcing `length` bytes, sends no body, and returns the answer's head.
async fn headers_only_post(app: &TestApp, path: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("answered without the body")
            .expect("read");
        assert!(read > 0, "closed before the head: {answer:?}");
        answer.extend_from_slice(&chunk[..read]);
    }
    String::from_utf8_lossy(&answer).to_ascii_lowercase()
}

async fn pages_carry_security_headers(app: TestApp) {
    let http = crate::harness::http();
    for path in [
        "/login",
        "/",
        "/authorize",
        "/.well-known/openid-configuration",
    ] {
        let response = http.get(app.url(path)).send().await.expect("get");
        let headers = response.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(
            !header("content-security-policy").contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert!(!header("x-request-id").is_empty(), "{path}");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "no HSTS on http"
        );
    }
    let login = http.get(app.url("/login")).send().await.expect("get");
    assert_eq!(
        login
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let html = login.text().await.expect("html");
    assert!(
        html.contains("<label for=\"username\">") && html.contains("<label for=\"password\">"),
        "labelled fields"
    );
    assert!(html.contains("name=\"viewport\""), "works on a phone");
    let css = http
        .get(app.url("/static/css/app.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .starts_with("text/css")
    );
}

/// A proxy's request id is kept so its logs and ours line up; an overlong one is replaced, since it
/// would go into every log line of the request.
async fn request_ids_are_kept_when_short_and_made_otherwise(app: TestApp) {
    let http = crate::harness::http();
    let id_for = |sent: Option<String>| {
        let mut request = http.get(app.url("/jwks.json"));
        if let Some(sent) = sent {
            request = request.header("x-request-id", sent);
        }
        async move {
            let response = request.send().await.expect("get");
            assert_eq!(response.status(), StatusCode::OK);
            response.headers()["x-request-id"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    assert_eq!(id_for(Some("traefik-7f3a".into())).await, "traefik-7f3a");
    let long = "x".repeat(129);
    let replaced = id_for(Some(long.clone())).await;
    assert_ne!(replaced, long);
    assert!(uuid::Uuid::parse_str(&replaced).is_ok(), "{replaced}");
    let made = id_for(None).await;
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    assert_ne!(made, id_for(None).await, "each request gets its own id");
}

async fn discovery_and_jwks_describe_exactly_what_is_served(app: TestApp) {
    let http = crate::harness::http();
    let response = http
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("get");
    assert!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .contains("max-age")
    );
    let doc: Value = response.json().await.expect("json");
    assert_eq!(doc["issuer"], app.base);
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ] {
        let url = doc[endpoint].as_str().expect(endpoint);
        assert!(url.starts_with(&app.base), "{endpoint}");
        let status = http.get(url).send().await.expect("endpoint").status();
        assert_ne!(status, StatusCode::NOT_FOUND, "{endpoint} is served");
    }
    let rfc8414: Value = http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(rfc8414["issuer"], app.base);
    assert_eq!(rfc8414["token_endpoint"], doc["token_endpoint"]);

    let jwks_response = http
        .get(doc["jwks_uri"].as_str().expect("jwks"))
        .send()
        .await
        .expect("jwks");
    assert!(
        jwks_response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .contains("max-age=300")
    );
    let jwks: Value = jwks_response.json().await.expect("json");
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2, "one RS256 and one ES256 key");
    for key in keys {
        assert!(
            key.get("d").is_none() && key.get("p").is_none(),
            "no private parts are published"
        );
        assert_eq!(key["use"], "sig");
        // kid is the RFC 7638 thumbprint, computed here independently.
        let member = |name: &str| key[name].as_str().expect(name).to_owned();
        let canonical = match key["kty"].as_str() {
            Some("RSA") => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                member("e"),
                member("n")
            ),
            _ => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                member("crv"),
                member("x"),
                member("y")
            ),
        };
        let thumbprint = hccc_sso::crypto::b64url(&hccc_sso::crypto::sha256(canonical.as_bytes()));
        assert_eq!(key["kid"], thumbprint);
    }
    let rsa = keys.iter().find(|k| k["kty"] == "RSA").expect("an RSA key");
    assert_eq!(rsa["alg"], "RS256");
    use base64::Engine;
    let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(rsa["n"].as_str().expect("n"))
        .expect("n");
    assert!(modulus.len() * 8 >= 2048, "RSA key of at least 2048 bits");
    let ec = keys.iter().find(|k| k["kty"] == "EC").expect("an EC key");
    assert_eq!(
        (ec["alg"].clone(), ec["crv"].clone()),
        (serde_json::json!("ES256"), serde_json::json!("P-256"))
    );
}

async fn health_reports_the_database_and_503_when_it_is_gone(app: TestApp) {
    let http = crate::harness::http();
    let response = http.get(app.url("/health")).send().await.expect("health");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    match app.store().db() {
        hccc_sso::store::Db::Postgres(pool) => pool.close().await,
        hccc_sso::store::Db::Sqlite(pool) => pool.close().await,
    }
    let started = std::time::Instant::now();
    let response = http.get(app.url("/health")).send().await.expect("health");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "answers quickly"
    );
    let token = http
        .post(app.url("/token"))
        .form(&[("client_id", "00000000-0000-0000-0000-000000000000")])
        .send()
        .await
        .expect("token");
    assert_eq!(
        token.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a database outage is 503, not 500"
    );
}

on_both_backends!(
    malformed_and_oversized_input_never_answers_500,
    pages_carry_security_headers,
    request_ids_are_kept_when_short_and_made_otherwise,
    discovery_and_jwks_describe_exactly_what_is_served,
    health_reports_the_database_and_503_when_it_is_gone,
);

#[tokio::test]
async fn cors_is_allowed_only_for_configured_origins() {
    let app = start_with(Backend::Sqlite, |c| {
        c.cors_origins = vec!["https://lms.hccc.edu".into()]
    })
    .await
    .expect("app");
    let http = crate::harness::http();
    let allowed = http
        .get(app.url("/jwks.json"))
        .header("origin", "https://lms.hccc.edu")
        .send()
        .await
        .expect("get");
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://lms.hccc.edu")
    );
    let other = http
        .get(app.url("/jwks.json"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("get");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = http
        .request(reqwest::Method::OPTIONS, app.url("/token"))
        .header("origin", "https://lms.hccc.edu")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    assert!(
        preflight
            .headers()
            .get("access-control-allow-methods")
            .is_some()
    );
    // Pages are not cross-origin resources.
    let page = http
        .get(app.url("/login"))
        .header("origin", "https://lms.hccc.edu")
        .send()
        .await
        .expect("get");
    assert!(page.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn an_https_issuer_uses_host_prefixed_secure_cookies_and_hsts() {
    let app = start_with(Backend::Sqlite, |c| {
        c.issuer = "https://sso.hccc.edu".into()
    })
    .await
    .expect("app");
    app.create_user("secure").await;
    let b = crate::harness::browser();
    let response = b.get(app.url("/login")).send().await.expect("get");
    let binding = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_owned();
    let html = response.text().await.expect("html");
    let csrf = crate::flows::form_value(&html, "csrf_token").expect("csrf");
    // The cookie jar keeps Secure cookies only for https URLs: send the binding cookie by hand.
    let pair = binding.split(';').next().unwrap_or_default().to_owned();
    let signed_in = crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("cookie", pair)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "secure"),
            ("password", crate::harness::PASSWORD),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER);
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-hccc_sso="))
        .expect("session cookie")
        .to_owned();
    for cookie in [&binding, &session] {
        assert!(
            (cookie.starts_with("__Host-hccc_sso=") || cookie.starts_with("__Host-hccc_sso_b="))
                && cookie.contains("Secure")
                && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(!cookie.contains("Domain="), "__Host- cookies are host-only");
    }
    assert!(
        signed_in
            .headers()
            .get("strict-transport-security")
            .is_some()
    );
}
