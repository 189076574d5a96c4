//! Pages in a real browser: Debian's headless Chromium driven by Playwright (tests/browser).

use std::path::{Path, PathBuf};

use crate::harness::{PASSWORD, TestApp, on_both_backends};

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Chromium and Playwright; under CI both must be there (.ci/run installs them).
pub fn browser_available() -> bool {
    let present = Path::new("/usr/bin/chromium").exists()
        && browser_dir().join("node_modules/playwright-core").is_dir();
    if !present && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but /usr/bin/chromium or tests/browser's npm packages are missing");
    }
    present
}

/// Runs a script in tests/browser against `app` and returns its output, failing on a failed run.
pub async fn run_script(script: &str, app_url: &str, username: &str, expect_name: &str) -> String {
    let output = tokio::process::Command::new("node")
        .arg(script)
        .current_dir(browser_dir())
        .env("APP_URL", app_url)
        .env("USERNAME", username)
        .env("PASSWORD", PASSWORD)
        .env("EXPECT_NAME", expect_name)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn the_qr_page_signs_a_shared_computer_in_once_a_phone_approves(app: TestApp) {
    if !browser_available() {
        eprintln!("skipped: chromium or tests/browser npm packages missing");
        return;
    }
    app.create_user("phoneuser").await;
    let stdout = run_script("qr_login.mjs", &app.base, "phoneuser", "Ada Lovelace").await;
    for step in ["qr-page", "phone", "lab"] {
        assert!(
            stdout.contains(&format!("PASS  {step}")),
            "{step} missing:\n{stdout}"
        );
    }
}

on_both_backends!(the_qr_page_signs_a_shared_computer_in_once_a_phone_approves);
