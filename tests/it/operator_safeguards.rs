//! What keeps an operator's tools from doing harm: partial account updates that leave a concurrent
//! change alone, the first-start admin's password working once, `/metrics` behind a token or off,
//! the CLI's `--json` stdout and its refusal to make a second secret key, and migration 0005.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flows::submit_login;
use crate::harness::{Backend, TestApp, browser, on_both_backends, reqwest, start_with};
use crate::session_endings::signed_in;

/// An admin's change and a concurrent one to another field both stay: the store writes only
/// what a change changes.
async fn a_concurrent_change_to_another_field_is_not_undone(app: TestApp) {
    let before = app.create_user("moving").await;
    // An admin disables the account while another admin's edit, read before it, renames it.
    app.store()
        .set_account_disabled(before.account_id, true, app.clock.now())
        .await
        .unwrap();
    let mut renamed = before.clone();
    renamed.given_name = Some("Augusta".into());
    let stored = app
        .store()
        .update_account(&before, &renamed, app.clock.now())
        .await
        .unwrap();
    assert_eq!(stored.given_name.as_deref(), Some("Augusta"));
    assert!(stored.disabled, "the disable was kept");
}

/// The generated first-start password works once: it opens the page to choose a new one.
async fn the_first_start_admin_must_choose_a_password(app: TestApp) {
    let password = hccc_sso::cli::bootstrap_admin(&app.state)
        .await
        .unwrap()
        .expect("created");
    let b = browser();
    let response = submit_login(&app, &b, "/login", "admin", &password).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Choose a new password")
    );
    assert!(!signed_in(&app, &b).await);
}

/// `/metrics` needs its own port or a bearer token.
async fn metrics_need_a_token_on_the_public_listener(app: TestApp) {
    let http = crate::harness::http();
    let status =
        |request: reqwest::RequestBuilder| async move { request.send().await.unwrap().status() };
    assert_eq!(
        status(http.get(app.url("/metrics"))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            http.get(app.url("/metrics"))
                .bearer_auth("metrics-token-for-tests-0123456780")
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            http.get(app.url("/metrics"))
                .bearer_auth(crate::harness::METRICS_TOKEN)
        )
        .await,
        StatusCode::OK
    );
}

/// Without a token or a port of its own, /metrics is not served on the public listener at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_on_the_public_listener_by_default() {
    let app = start_with(Backend::Sqlite, |c| c.metrics_token = None)
        .await
        .expect("app");
    let status = crate::harness::http()
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The CLI's `--json` output is one JSON document on stdout even with `RUST_LOG=info` (whose
/// lines, and PostgreSQL's notices, go to stderr or nowhere).
async fn the_cli_prints_one_json_document_with_info_logging(app: TestApp) {
    for args in [
        vec!["migrate", "--json"],
        vec![
            "client",
            "create",
            "--name",
            "Registrar",
            "--redirect-uri",
            "https://registrar.hccc.edu/cb",
            "--scope",
            "openid",
            "--scope",
            "api",
            "--json",
        ],
    ] {
        for level in ["info", "debug"] {
            let output = crate::cli::cli_with(&app, &args, None, &[("RUST_LOG", level)]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{stderr}");
            let document: Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
            assert!(document.is_object());
            if args[0] == "client" {
                assert_eq!(document["allowed_scopes"], json!(["openid", "api"]));
            }
            if level == "debug" {
                // sqlx logs each statement at debug: the lines are there, on stderr.
                assert!(stderr.lines().count() > 3, "{stderr}");
            } else {
                assert!(
                    !stderr.contains("already exists, skipping"),
                    "PostgreSQL's notices are not logged at info: {stderr}"
                );
            }
        }
    }
}

/// A command run without the server's secret key refuses to make a second one while the database
/// holds keys sealed under the first.
async fn a_command_without_the_servers_secret_key_refuses_to_make_another(app: TestApp) {
    let elsewhere = tempfile::tempdir().unwrap();
    for (secret, why) in [
        ("", "Refusing to generate a new one"),
        (
            "c29tZSBvdGhlciBzZWNyZXQga2V5IG9mIHRoaXJ0eS10d28gYnl0ZXM=",
            "does not open the signing keys",
        ),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_hccc-sso"))
            .args([
                "client",
                "create",
                "--name",
                "Elsewhere",
                "--redirect-uri",
                "https://x.hccc.edu/cb",
                "--json",
            ])
            .current_dir(elsewhere.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.db.url)
            .env("HCCC_SSO_SECRET_KEY", secret)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(why), "{stderr}");
        assert!(output.stdout.is_empty());
        assert!(!elsewhere.path().join("data/secret.key").exists());
    }
    let (clients, _) = app.store().list_clients(100, 0).await.unwrap();
    assert!(clients.iter().all(|c| c.name != "Elsewhere"));
}

/// Migration 0005 gives clients that existed before it what they could get then, minus `api`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0005_keeps_existing_clients_scopes_but_api() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = crate::harness::TestDb::fresh(backend).await else {
            continue;
        };
        let store = hccc_sso::store::Store::connect(&db.url, 1).await.unwrap();
        let folder = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let run = |sql: String| {
            let store = store.clone();
            async move {
                match store.db() {
                    hccc_sso::store::Db::Postgres(pool) => {
                        sqlx::raw_sql(&sql).execute(pool).await.map(|_| ())
                    }
                    hccc_sso::store::Db::Sqlite(pool) => {
                        sqlx::raw_sql(&sql).execute(pool).await.map(|_| ())
                    }
                }
                .unwrap()
            }
        };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in &files {
            if file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("0005")
            {
                let id = match backend {
                    Backend::Sqlite => "x'000102030405060708090a0b0c0d0e0f'",
                    Backend::Postgres => "'00010203-0405-0607-0809-0a0b0c0d0e0f'",
                };
                run(format!(
                    "insert into client (client_id, name, redirect_uris, post_logout_redirect_uris, grant_types, \
                     token_endpoint_auth_method, skip_consent, created_at, updated_at, require_par, id_token_alg) \
                     values ({id}, 'Old app', '[]', '[]', '[\"client_credentials\"]', 'client_secret_basic', false, 1, 1, false, 'RS256')"
                ))
                .await;
            }
            run(std::fs::read_to_string(file).unwrap()).await;
        }
        let scopes: String = match store.db() {
            hccc_sso::store::Db::Postgres(pool) => {
                sqlx::query_scalar("select allowed_scopes from client")
                    .fetch_one(pool)
                    .await
            }
            hccc_sso::store::Db::Sqlite(pool) => {
                sqlx::query_scalar("select allowed_scopes from client")
                    .fetch_one(pool)
                    .await
            }
        }
        .unwrap();
        assert_eq!(
            scopes, r#"["openid","profile","email","roles","offline_access"]"#,
            "{folder}"
        );
    }
}

on_both_backends!(
    a_concurrent_change_to_another_field_is_not_undone,
    the_first_start_admin_must_choose_a_password,
    metrics_need_a_token_on_the_public_listener,
    the_cli_prints_one_json_document_with_info_logging,
    a_command_without_the_servers_secret_key_refuses_to_make_another,
);
