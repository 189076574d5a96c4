//! A second relying-party library in another language: openid-client (Node), see tests/openid-client.

use std::path::PathBuf;

use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, on_both_backends};

fn rp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openid-client")
}

async fn openid_client_signs_in_refreshes_revokes_and_logs_out(app: TestApp) {
    crate::harness::require(
        rp_dir().join("node_modules/openid-client").is_dir(),
        "tests/openid-client's npm packages (`npm ci` there)",
    );
    app.create_user("nodeuser").await;
    let client = app.create_client(false, false).await;
    let post_logout = "http://127.0.0.1:8765/logged-out";
    app.edit_client(&client.client_id, |row| {
        row.post_logout_redirect_uris = vec![post_logout.into()]
    })
    .await;

    let output = tokio::process::Command::new("node")
        .arg("rp.mjs")
        .current_dir(rp_dir())
        .env("ISSUER", &app.base)
        .env("CLIENT_ID", &client.client_id)
        .env("CLIENT_SECRET", client.secret.as_deref().expect("secret"))
        .env("REDIRECT_URI", REDIRECT_URI)
        .env("POST_LOGOUT_REDIRECT_URI", post_logout)
        .env("USERNAME", "nodeuser")
        .env("PASSWORD", PASSWORD)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "openid-client RP failed:\n{stdout}\n{stderr}"
    );
    for step in [
        "discovery",
        "login",
        "code_exchange",
        "userinfo",
        "refresh",
        "revocation",
        "logout",
    ] {
        assert!(
            stdout.contains(&format!("PASS  {step}")),
            "step {step} missing:\n{stdout}"
        );
    }
}

on_both_backends!(
    needs openid_client_tests, "tests/openid-client's npm packages are missing (`npm ci` there)";
    openid_client_signs_in_refreshes_revokes_and_logs_out,
);
