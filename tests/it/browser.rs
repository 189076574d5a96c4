//! Pages in a real browser: Debian's headless Chromium driven by Playwright (tests/browser).

use std::path::{Path, PathBuf};

use crate::harness::{Backend, PASSWORD, TestApp, on_both_backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn the_qr_page_signs_a_shared_computer_in_on_sqlite() {
    the_qr_page_signs_a_shared_computer_in_once_a_phone_approves(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
#[cfg_attr(
    all(postgres_tests, not(browser_tests)),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn the_qr_page_signs_a_shared_computer_in_on_postgres() {
    the_qr_page_signs_a_shared_computer_in_once_a_phone_approves(Backend::Postgres).await
}

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Chromium and Playwright (.ci/run installs both).
pub fn require_browser() {
    crate::harness::require(
        Path::new("/usr/bin/chromium").exists()
            && browser_dir().join("node_modules/playwright-core").is_dir(),
        "/usr/bin/chromium and tests/browser's npm packages",
    );
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

/// The QR page on a lab computer (on the shared network, where it is offered), approved on a
/// phone that is not.
async fn the_qr_page_signs_a_shared_computer_in_once_a_phone_approves(backend: Backend) {
    require_browser();
    let app = crate::harness::start_with(backend, crate::harness::lab_network)
        .await
        .expect("TEST_DATABASE_URL was set when the tests were built");
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
    require_browser();
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
    // Links for the pages e-mail opens (no relay here: they wait in the outbox, shown on the
    // invited account's admin page). Opening them spends nothing, so every run reuses them.
    let invited = app
        .store()
        .insert_account(
            hccc_sso::store::NewAccount {
                username: "invitee".into(),
                email: "invitee@students.hccc.edu".into(),
                email_verified: false,
                given_name: None,
                family_name: None,
                password_hash: None,
                roles: vec!["student".into()],
                groups: Vec::new(),
                must_change_password: false,
                locale: None,
                recovery_email: None,
            },
            app.clock.now(),
        )
        .await
        .expect("invitee");
    let pupil = app
        .store()
        .find_account_by_login("pupil")
        .await
        .expect("find")
        .expect("pupil");
    use hccc_sso::accounts::links::send;
    use hccc_sso::store::LinkPurpose;
    send(&app.state, &invited, LinkPurpose::Invitation, None)
        .await
        .expect("invitation");
    send(&app.state, &pupil, LinkPurpose::PasswordReset, None)
        .await
        .expect("reset");
    send(
        &app.state,
        &pupil,
        LinkPurpose::EmailChange,
        Some("pupil@new.example"),
    )
    .await
    .expect("confirmation");
    let link = |account: uuid::Uuid, purpose: &'static str| {
        let app = app.state.clone();
        async move {
            app.store
                .pending_links(account, app.clock.now())
                .await
                .expect("pending")
                .into_iter()
                .find(|l| l.purpose == purpose)
                .and_then(|l| hccc_sso::mail::open_link(&app, l.mail_id, &l.link_sealed))
                .expect("a pending link")
        }
    };
    // Accounts with an authenticator app (one per language and size: each run spends a code of
    // the frozen clock's step), and one that must enrol at sign-in.
    let key = b"12345678901234567890";
    for n in 1..=4 {
        let guard = app.create_user(&format!("guard-{n}")).await;
        let sealed =
            hccc_sso::accounts::factors::seal_key(&app.state, guard.account_id, key).expect("seal");
        app.store()
            .set_totp(guard.account_id, &sealed, 0, app.clock.now())
            .await
            .expect("totp");
        // A security key listed (never used here: the record is not a real credential), so the
        // second step and the account page show theirs.
        let listed = hccc_sso::store::WebauthnRow {
            credential_id: format!("key-of-guard-{n}"),
            account_id: guard.account_id,
            kind: "security_key".into(),
            name: "Blue key".into(),
            credential: "{}".into(),
            created_at: app.clock.now(),
            last_used_at: None,
        };
        assert!(app.store().insert_webauthn(&listed).await.expect("key"));
    }
    let staffer = app.create_user("staffer").await;
    app.store()
        .set_mfa_required(staffer.account_id, true)
        .await
        .expect("require");
    let welcome = link(invited.account_id, "invitation").await;
    let reset = link(pupil.account_id, "reset").await;
    let confirm = link(pupil.account_id, "email_change").await;
    vec![
        ("WELCOME_URL", welcome),
        ("RESET_URL", reset),
        ("CONFIRM_URL", confirm),
        ("INVITEE_ID", invited.account_id.to_string()),
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
        ("TOTP_KEY", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into()),
        ("CLOCK_NOW", app.clock.now().to_string()),
    ]
}

/// axe-core on every page and state, in both languages, at phone and desktop sizes. The pages do
/// not depend on the backend, so this runs on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn every_page_passes_axe_in_both_languages_at_both_sizes() {
    require_browser();
    // On localhost, so that the passkey parts of the pages are there too.
    let app = crate::harness::start_as(crate::harness::Backend::Sqlite, "localhost", |config| {
        // A lockout reached in a few tries, for its page.
        config.login.max_failures_per_account = 3;
        crate::harness::lab_network(config);
        // One student changes the address in each of the four language and size runs.
        config.mail.requests_per_account = 10;
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
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn sign_in_consent_qr_and_admin_work_by_keyboard_alone() {
    require_browser();
    let app =
        crate::harness::start_with(crate::harness::Backend::Sqlite, crate::harness::lab_network)
            .await
            .expect("app");
    let vars = people_and_an_app(&app).await;
    let stdout = run_with("keyboard.mjs", &vars).await;
    for step in [
        "keyboard-sign-in-consent",
        "keyboard-step-up",
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

/// The story end to end in Chromium, with a real SMTP server and a relying party built
/// on the `openidconnect` crate: import, invite, first password into the app, reset past a mail
/// scanner, address change, a session ended elsewhere (back-channel logout), an app revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn a_student_runs_their_own_account_from_invitation_to_revoking_an_app() {
    require_browser();
    let sink = std::sync::Arc::new(crate::mail::SmtpSink::start().await);
    let relay = hccc_sso::config::mail::SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port,
        security: hccc_sso::config::mail::Security::Plain,
        user: None,
        password: None,
    };
    let app = crate::harness::start_with(crate::harness::Backend::Sqlite, |config| {
        config.mail.smtp = Some(relay);
    })
    .await
    .expect("app");
    let before = app.create_user("registrar").await;
    let mut registrar = before.clone();
    registrar.roles.0 = vec!["admin".into()];
    app.store()
        .update_account(&before, &registrar, app.clock.now())
        .await
        .expect("promote");
    let library = crate::rp::start(&app, sink.clone()).await;
    let stdout = run_with(
        "self_service.mjs",
        &[
            ("APP_URL", app.base.clone()),
            ("RP_URL", library.url.clone()),
            ("ADMIN", "registrar".into()),
            ("PASSWORD", PASSWORD.into()),
        ],
    )
    .await;
    for step in [
        "import-invite",
        "invitation-to-app",
        "reset-after-scanner",
        "email-cancel",
        "email-change",
        "end-session",
        "revoke-app",
    ] {
        assert!(
            stdout.contains(&format!("PASS  {step} ")),
            "{step}:\n{stdout}"
        );
    }
    assert!(
        library.logout_tokens() >= 2,
        "the library heard of the reset and the ended session"
    );
    let julia = app
        .store()
        .find_account_by_login("jdiaz")
        .await
        .expect("find")
        .expect("account");
    assert_eq!(
        (julia.email.as_str(), julia.email_verified),
        ("julia@new-mail.example", true)
    );
}

/// A passkey does not sign in an account whose password an admin replaced with a temporary one
/// (after a compromise): the person replaces the temporary password first. Chromium's virtual
/// authenticator holds the passkey across the change (tests/browser/passkey_temporary.mjs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn a_passkey_does_not_sign_in_past_a_temporary_password() {
    require_browser();
    let app = crate::harness::start_as(crate::harness::Backend::Sqlite, "localhost", |_| {})
        .await
        .expect("app");
    let kim = app.create_user("kim").await;
    let credential = app.db.dir().join("credential.json");
    let vars = |phase: &str| {
        vec![
            ("APP_URL", app.base.clone()),
            ("USERNAME", "kim".into()),
            ("PASSWORD", PASSWORD.into()),
            ("PHASE", phase.into()),
            ("CREDENTIAL_FILE", credential.display().to_string()),
        ]
    };
    let stdout = run_with("passkey_temporary.mjs", &vars("register")).await;
    assert!(stdout.contains("PASS  passkey-before "), "{stdout}");
    let hash = app
        .state
        .hasher
        .hash("temporary password 1")
        .await
        .expect("hash");
    app.store()
        .set_password(
            kim.account_id,
            &hash,
            true,
            hccc_sso::store::KeepGrants::None,
            app.clock.now(),
        )
        .await
        .expect("temporary password");
    let stdout = run_with("passkey_temporary.mjs", &vars("after")).await;
    assert!(stdout.contains("PASS  passkey-temporary "), "{stdout}");
}

/// Changing a factor with a factor proved over ten minutes ago asks for a code first, then
/// goes through (tests/browser/factor_change.mjs, the server's clock moved between its runs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn a_factor_change_asks_for_a_code_when_the_last_one_is_old() {
    require_browser();
    let app = crate::harness::start(crate::harness::Backend::Sqlite)
        .await
        .expect("app");
    app.create_user("rafa").await;
    let state = app.db.dir().join("state.json");
    let key = app.db.dir().join("key.txt");
    let vars = |phase: &str| {
        vec![
            ("APP_URL", app.base.clone()),
            ("USERNAME", "rafa".into()),
            ("PASSWORD", PASSWORD.into()),
            ("PHASE", phase.into()),
            ("STATE_FILE", state.display().to_string()),
            ("KEY_FILE", key.display().to_string()),
            ("CLOCK_NOW", app.clock.now().to_string()),
        ]
    };
    let stdout = run_with("factor_change.mjs", &vars("enrol")).await;
    assert!(stdout.contains("PASS  factor-enrolled "), "{stdout}");
    app.clock.advance(11 * 60);
    let stdout = run_with("factor_change.mjs", &vars("change")).await;
    assert!(
        stdout.contains("PASS  factor-change-asks-code "),
        "{stdout}"
    );
}

/// Issue 14's admin story in Chromium with virtual authenticators (tests/browser/passkeys.mjs),
/// on an issuer at `http://localhost:PORT` (an IP address cannot be a WebAuthn relying party).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_tests),
    ignore = "Chromium or tests/browser's npm packages are missing"
)]
async fn an_admin_enrols_uses_a_recovery_code_and_signs_in_with_a_passkey_alone() {
    require_browser();
    let app = crate::harness::start_as(crate::harness::Backend::Sqlite, "localhost", |config| {
        config.mfa.required_roles = vec!["admin".into()];
    })
    .await
    .expect("app");
    let before = app.create_user("dean").await;
    let mut dean = before.clone();
    dean.roles.0 = vec!["admin".into()];
    app.store()
        .update_account(&before, &dean, app.clock.now())
        .await
        .expect("promote");
    let stdout = run_with(
        "passkeys.mjs",
        &[
            ("APP_URL", app.base.clone()),
            ("USERNAME", "dean".into()),
            ("PASSWORD", PASSWORD.into()),
            ("CLOCK_NOW", app.clock.now().to_string()),
        ],
    )
    .await;
    for step in [
        "enrol-at-sign-in",
        "recovery-code",
        "register-passkey",
        "replayed-registration",
        "passkey-autofill",
        "passkey-alone",
        "forged-answers",
        "security-key",
        "remove-passkey",
    ] {
        assert!(
            stdout.contains(&format!("PASS  {step} ")),
            "{step}:\n{stdout}"
        );
    }
    // What is left: the security key alone, used once, with its counter kept.
    let keys = app
        .store()
        .list_webauthn(dean.account_id)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(
        (keys[0].kind.as_str(), keys[0].name.as_str()),
        ("security_key", "Blue key")
    );
    assert!(keys[0].last_used_at.is_some());
    let (audit, _) = app.store().list_audit(100, 0).await.expect("audit");
    let count = |action: &str| audit.iter().filter(|e| e.action == action).count();
    assert_eq!(
        (
            count("user.enrol_totp"),
            count("user.use_recovery_code"),
            count("user.add_passkey"),
            count("user.remove_passkey")
        ),
        (1, 3, 2, 1)
    );
}

on_both_backends!(
    needs browser_tests, "Chromium or tests/browser's npm packages are missing";
    an_admin_creates_a_student_gives_a_role_disables_and_imports,
);
