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

/// Runs a script in tests/browser with the given environment, failing on a failed run.
async fn run_with(script: &str, vars: &[(&str, String)]) -> String {
    let mut command = tokio::process::Command::new("node");
    command.arg(script).current_dir(browser_dir());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().await.expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    // The suite's table is the evidence: print it with the test's output.
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The people and the app every page needs: an admin, a student, one with a temporary password,
/// and an app that asks for consent.
async fn people_and_an_app(app: &TestApp) -> Vec<(&'static str, String)> {
    let before = app.create_user("chief").await;
    let mut chief = before.clone();
    chief.roles.0 = vec!["admin".into()];
    app.store()
        .update_account(&before, &chief, app.clock.now())
        .await
        .expect("promote");
    app.create_user("pupil").await;
    let temp = app.create_user("newcomer").await;
    hccc_sso::accounts::directory::set_password(
        app.store(),
        &app.state.hasher,
        &temp,
        "temporary password 1",
        true,
        hccc_sso::store::KeepGrants::None,
        app.clock.now(),
    )
    .await
    .expect("temporary password");
    let client = app.create_client(false, false).await;
    let pkce = crate::flows::pkce();
    vec![
        ("APP_URL", app.base.clone()),
        ("ADMIN", "chief".into()),
        ("STUDENT", "pupil".into()),
        ("TEMP_USER", "newcomer".into()),
        ("PASSWORD", PASSWORD.into()),
        ("TEMP_PASSWORD", "temporary password 1".into()),
        (
            "AUTHORIZE_URL",
            crate::flows::authorize_url(app, &client, &pkce, &[]),
        ),
        ("REDIRECT_URI", crate::harness::REDIRECT_URI.into()),
        ("LOCALES", format!("{}/locales", env!("CARGO_MANIFEST_DIR"))),
    ]
}

/// axe-core on every page and state, in both languages, at phone and desktop sizes. The pages do
/// not depend on the backend, so this runs on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_both_languages_at_both_sizes() {
    if !browser_available() {
        crate::harness::skip("chromium or tests/browser npm packages missing");
        return;
    }
    let app = crate::harness::start_with(crate::harness::Backend::Sqlite, |config| {
        // A lockout reached in a few tries, for its page.
        config.login.max_failures_per_account = 3;
    })
    .await
    .expect("app");
    let vars = people_and_an_app(&app).await;
    let stdout = run_with("a11y.mjs", &vars).await;
    assert!(stdout.contains("PASS  axe "), "{stdout}");
    let checks = stdout
        .lines()
        .find_map(|l| l.strip_prefix("axe: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("the summary line");
    assert!(checks >= 4 * 40, "every page was visited: {checks} checks");
}

/// Keyboard only: sign-in, consent, the QR page and creating a user; tab order and focus rings
/// on every page passed through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_consent_qr_and_admin_work_by_keyboard_alone() {
    if !browser_available() {
        crate::harness::skip("chromium or tests/browser npm packages missing");
        return;
    }
    let app = crate::harness::start(crate::harness::Backend::Sqlite)
        .await
        .expect("app");
    let vars = people_and_an_app(&app).await;
    let stdout = run_with("keyboard.mjs", &vars).await;
    for step in [
        "keyboard-sign-in-consent",
        "keyboard-qr",
        "keyboard-admin",
        "keyboard",
    ] {
        assert!(
            stdout.contains(&format!("PASS  {step} ")),
            "{step}:\n{stdout}"
        );
    }
}

on_both_backends!(
    the_qr_page_signs_a_shared_computer_in_once_a_phone_approves,
    an_admin_creates_a_student_gives_a_role_disables_and_imports,
);
