//! The operator CLI, run as the real binary against a test database.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{exchange_code, pkce};
use crate::harness::{REDIRECT_URI, TestApp, TestClient, browser, on_both_backends, secret_key};

pub(crate) fn cli(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    cli_with(app, args, stdin, &[])
}

/// `cli` with environment variables set or (empty value) removed, run in `app.db.dir()`.
pub(crate) fn cli_with(
    app: &TestApp,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    cli_on(&app.db, args, stdin, env)
}

/// The CLI against a test database that no app serves in this process, run in `db.dir()`.
pub(crate) fn cli_on(
    db: &crate::harness::TestDb,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hccc-sso"));
    command
        .args(args)
        .current_dir(db.dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("HCCC_SSO_SECRET_KEY", secret_key())
        .env("HCCC_SSO_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hccc-sso");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("output")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

async fn an_operator_registers_an_app_and_a_user_who_then_signs_in(app: TestApp) {
    let migrated = json_of(&cli(&app, &["migrate", "--json"], None));
    assert_eq!(migrated["migrated"], true);
    let user = json_of(&cli(
        &app,
        &[
            "user",
            "create",
            "--username",
            "clistudent",
            "--email",
            "cli@students.hccc.edu",
            "--given-name",
            "Cli",
            "--password-stdin",
            "--json",
        ],
        Some("a long enough password\n"),
    ));
    assert_eq!(user["username"], "clistudent");
    let created = json_of(&cli(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Library",
            "--redirect-uri",
            REDIRECT_URI,
            "--skip-consent",
            "--json",
        ],
        None,
    ));
    let client = TestClient {
        client_id: created["client_id"].as_str().expect("client_id").to_owned(),
        secret: Some(
            created["client_secret"]
                .as_str()
                .expect("secret")
                .to_owned(),
        ),
    };
    let public = json_of(&cli(
        &app,
        &[
            "client",
            "create",
            "--name",
            "App",
            "--redirect-uri",
            REDIRECT_URI,
            "--public",
            "--json",
        ],
        None,
    ));
    assert!(
        public["client_secret"].is_null(),
        "public clients get no secret"
    );

    let p = pkce();
    let mut url = crate::flows::authorize_url(&app, &client, &p, &[]);
    url = url.replace("scope=openid+profile+email", "scope=openid+profile");
    let b = browser();
    let response = b.get(&url).send().await.expect("authorize");
    let login = crate::flows::location(&response);
    let response =
        crate::flows::submit_login(&app, &b, &login, "clistudent", "a long enough password").await;
    let params = crate::flows::query_of(&crate::flows::location(&response));
    let (status, tokens) = exchange_code(&app, &client, &params["code"], &p.verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    let text = cli(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Portal",
            "--redirect-uri",
            "https://portal.hccc.edu/cb",
        ],
        None,
    );
    assert!(text.status.success());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("client_id: ")
            && stdout.contains("client_secret: ")
            && stdout.contains("shown only once")
    );
}

async fn the_cli_refuses_bad_input_with_a_clear_message(app: TestApp) {
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec![
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                "http://evil.example/cb",
            ],
            None,
            "--redirect-uri",
        ),
        (
            vec![
                "client",
                "create",
                "--name",
                "",
                "--redirect-uri",
                REDIRECT_URI,
            ],
            None,
            "--name",
        ),
        (
            vec![
                "user",
                "create",
                "--username",
                "shorty",
                "--email",
                "s@hccc.edu",
                "--password-stdin",
            ],
            Some("short\n"),
            "at least 12",
        ),
        (
            vec![
                "user",
                "create",
                "--username",
                "bad name",
                "--email",
                "s@hccc.edu",
                "--password-stdin",
            ],
            Some("long enough password\n"),
            "username",
        ),
        (
            vec![
                "user",
                "create",
                "--username",
                "okname",
                "--email",
                "not-an-email",
                "--password-stdin",
            ],
            Some("long enough password\n"),
            "e-mail",
        ),
        (
            vec![
                "user",
                "create",
                "--username",
                "okname",
                "--email",
                "ok@hccc.edu",
            ],
            None,
            "--password-stdin",
        ),
        (vec!["frobnicate"], None, "unrecognized subcommand"),
    ];
    for (args, stdin, expected) in cases {
        let output = cli(&app, &args, stdin);
        assert!(!output.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A duplicate user is refused without creating anything.
    let args = [
        "user",
        "create",
        "--username",
        "twice",
        "--email",
        "twice@hccc.edu",
        "--password-stdin",
    ];
    assert!(
        cli(&app, &args, Some("long enough password\n"))
            .status
            .success()
    );
    let again = cli(&app, &args, Some("long enough password\n"));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

async fn keys_rotate_publishes_a_second_key(app: TestApp) {
    let rotated = json_of(&cli(&app, &["keys", "rotate", "--json"], None));
    let kid = rotated["kid"].as_str().expect("kid").to_owned();
    app.state
        .keys
        .reload(app.store(), app.clock.now())
        .await
        .expect("reload");
    let jwks = String::from_utf8_lossy(&app.state.keys.jwks_json()).into_owned();
    assert!(
        jwks.contains(&kid),
        "the new key is published after the next reload"
    );
    assert_ne!(
        app.state.keys.signing_kid(),
        Some(kid),
        "but does not sign during the publish lead time"
    );
}

async fn client_update_changes_every_setting_and_refuses_bad_ones(app: TestApp) {
    let created = json_of(&cli(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Help desk",
            "--redirect-uri",
            REDIRECT_URI,
            "--json",
        ],
        None,
    ));
    let id = created["client_id"].as_str().expect("client_id").to_owned();
    let dir = app.db.dir();
    let key = josekit::jws::RS256.generate_key_pair(2048).expect("key");
    let mut jwks = josekit::jwk::JwkSet::new();
    jwks.push_key(key.to_jwk_public_key());
    let jwks_path = dir.join("jwks.json");
    std::fs::write(&jwks_path, jwks.to_string()).expect("write jwks");
    let jwks_arg = jwks_path.display().to_string();
    let updated = json_of(&cli(
        &app,
        &[
            "client",
            "update",
            &id,
            "--json",
            "--post-logout-redirect-uri",
            "https://helpdesk.hccc.edu/bye",
            "--backchannel-logout-uri",
            "https://helpdesk.hccc.edu/bcl",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "client_credentials",
            "--token-endpoint-auth-method",
            "private_key_jwt",
            "--jwks-file",
            &jwks_arg,
            "--require-par",
            "--skip-consent",
        ],
        None,
    ));
    assert_eq!(
        updated["post_logout_redirect_uris"],
        serde_json::json!(["https://helpdesk.hccc.edu/bye"])
    );
    assert_eq!(
        updated["backchannel_logout_uri"],
        "https://helpdesk.hccc.edu/bcl"
    );
    assert_eq!(
        updated["grant_types"],
        serde_json::json!(["authorization_code", "client_credentials"])
    );
    assert_eq!(updated["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(
        (
            updated["require_par"].clone(),
            updated["skip_consent"].clone()
        ),
        (Value::Bool(true), Value::Bool(true))
    );
    assert!(updated["jwks"]["keys"].is_array());
    assert!(
        updated["client_secret"].is_null(),
        "private_key_jwt has no secret"
    );
    assert_eq!(
        updated["redirect_uris"],
        serde_json::json!([REDIRECT_URI]),
        "flags not given are kept"
    );

    let back = json_of(&cli(
        &app,
        &[
            "client",
            "update",
            &id,
            "--token-endpoint-auth-method",
            "client_secret_basic",
            "--skip-consent=false",
            "--require-par=false",
            "--json",
        ],
        None,
    ));
    assert!(
        back["client_secret"].is_string(),
        "moving back to a secret method issues a secret"
    );
    assert_eq!(
        (back["require_par"].clone(), back["skip_consent"].clone()),
        (Value::Bool(false), Value::Bool(false))
    );
    let rotated = json_of(&cli(
        &app,
        &["client", "update", &id, "--rotate-secret", "--json"],
        None,
    ));
    assert_ne!(rotated["client_secret"], back["client_secret"]);

    let private = dir.join("private.json");
    std::fs::write(
        &private,
        format!("{{\"keys\":[{}]}}", key.to_jwk_private_key()),
    )
    .expect("write");
    let private_arg = private.display().to_string();
    let fresh = json_of(&cli(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Keyless",
            "--redirect-uri",
            REDIRECT_URI,
            "--json",
        ],
        None,
    ));
    let fresh = fresh["client_id"].as_str().expect("client_id").to_owned();
    let bad: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["client", "update", &id, "--grant-type", "bogus"],
            "--grant-type",
        ),
        (
            vec![
                "client",
                "update",
                &fresh,
                "--token-endpoint-auth-method",
                "private_key_jwt",
            ],
            "--jwks-file or --jwks-uri",
        ),
        (
            vec![
                "client",
                "update",
                &id,
                "--token-endpoint-auth-method",
                "private_key_jwt",
                "--jwks-file",
                &private_arg,
            ],
            "private key",
        ),
        (
            vec![
                "client",
                "update",
                &id,
                "--backchannel-logout-uri",
                "http://helpdesk.hccc.edu/bcl",
            ],
            "--backchannel-logout-uri",
        ),
        (
            vec![
                "client",
                "update",
                &id,
                "--public",
                "--grant-type",
                "client_credentials",
            ],
            "confidential",
        ),
        (
            vec![
                "client",
                "update",
                "00000000-0000-0000-0000-000000000000",
                "--name",
                "x",
            ],
            "no client",
        ),
        (
            vec!["client", "update", "not-a-uuid", "--name", "x"],
            "CLIENT_ID",
        ),
    ];
    for (args, expected) in bad {
        let output = cli(&app, &args, None);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

on_both_backends!(
    client_update_changes_every_setting_and_refuses_bad_ones,
    an_operator_registers_an_app_and_a_user_who_then_signs_in,
    the_cli_refuses_bad_input_with_a_clear_message,
    keys_rotate_publishes_a_second_key,
);

#[test]
fn invalid_settings_stop_start_up_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_hccc-sso"))
        .arg("serve")
        .env_clear()
        .env("HCCC_SSO_ISSUER", "https://sso.hccc.edu")
        .env("HCCC_SSO_BIND", "nonsense")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("HCCC_SSO_BIND") && stderr.contains("HCCC_SSO_SECRET_KEY"),
        "{stderr}"
    );
}
