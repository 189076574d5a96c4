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
        crate::harness::skip("chromium or tests/browser npm packages missing");
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

async fn an_admin_creates_a_student_gives_a_role_disables_and_imports(app: TestApp) {
    if !browser_available() {
        crate::harness::skip("chromium or tests/browser npm packages missing");
        return;
    }
    let before = app.create_user("chief").await;
    let mut chief = before.clone();
    chief.roles.0 = vec!["admin".into()];
    app.store()
        .update_account(&before, &chief, app.clock.now())
        .await
        .expect("promote");
    let stdout = run_script("admin.mjs", &app.base, "chief", "").await;
    for step in [
        "admin-sign-in",
        "create-user",
        "assign-role",
        "disable",
        "disabled-sign-in",
        "import-bad-row",
        "import",
        "docs",
    ] {
        assert!(
            stdout.contains(&format!("PASS  {step} ")),
            "{step} missing:\n{stdout}"
        );
    }
    // What the pages did is what the directory holds, and the audit log says who did it.
    let student = app
        .store()
        .find_account_by_login("newstudent")
        .await
        .expect("db")
        .expect("created");
    assert!(student.disabled);
    assert_eq!(student.roles.0, vec!["faculty", "student"]);
    let two = app
        .store()
        .find_account_by_login("imp.two")
        .await
        .expect("db")
        .expect("imported");
    assert_eq!(two.groups.0, vec!["Nursing", "Work study"]);
    assert!(
        app.store()
            .find_account_by_login("imp.one")
            .await
            .expect("db")
            .is_some()
    );
    let (entries, _) = app.store().list_audit(50, 0).await.expect("audit");
    let mut actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    actions.reverse();
    assert_eq!(
        actions,
        vec!["user.create", "user.update", "user.disable", "user.import"]
    );
    assert!(
        entries
            .iter()
            .all(|e| e.actor.starts_with("user chief (") && e.client_ip.is_some())
    );
}

on_both_backends!(
    the_qr_page_signs_a_shared_computer_in_once_a_phone_approves,
    an_admin_creates_a_student_gives_a_role_disables_and_imports,
);
