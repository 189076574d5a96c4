//! A third relying party: Apache's mod_auth_openidc protects a page on 127.0.0.1, and headless
//! Chromium (Debian's, driven by Playwright) signs in to it through our login page and signs out.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use hccc_sso::crypto;

use crate::harness::{PASSWORD, TestApp, on_both_backends};

const APACHE: &str = "/usr/sbin/apache2";
const MODULES: &str = "/usr/lib/apache2/modules";
const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Apache with mod_auth_openidc, Chromium and Playwright (.ci/run installs them all).
fn require_apache_and_browser() {
    crate::harness::require(
        Path::new(APACHE).exists()
            && Path::new(MODULES).join("mod_auth_openidc.so").exists()
            && Path::new(CHROMIUM).exists()
            && browser_dir().join("node_modules/playwright-core").is_dir(),
        "apache2, libapache2-mod-auth-openidc, chromium and tests/browser's npm packages",
    );
}

use crate::harness::free_port;

fn write(path: &Path, contents: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, contents).expect("write");
}

/// Lets Apache's unprivileged children read the site (the temp dir is private by default).
fn open_up(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in [
        dir.to_path_buf(),
        dir.join("htdocs"),
        dir.join("htdocs/protected"),
    ] {
        let _ = std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o755));
    }
}

async fn mod_auth_openidc_protects_a_page_that_chromium_signs_in_and_out_of(app: TestApp) {
    require_apache_and_browser();
    app.create_user("apacheuser").await;
    let port = free_port();
    let site = format!("http://127.0.0.1:{port}");
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |row| {
        row.redirect_uris = vec![format!("{site}/protected/redirect_uri")];
        row.post_logout_redirect_uris = vec![format!("{site}/loggedout.html")];
    })
    .await;

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("htdocs/protected/index.shtml"),
        "<!doctype html><p id=\"user\"><!--#echo var=\"REMOTE_USER\" --></p>\n",
    );
    write(
        &root.join("htdocs/loggedout.html"),
        "<!doctype html><p>Signed out of the app</p>\n",
    );
    let run_as = if unsafe_is_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let config = format!(
        r#"ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel warn auth_openidc:info
{run_as}LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule include_module {MODULES}/mod_include.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
DocumentRoot "{root}/htdocs"
DirectoryIndex index.shtml index.html
TypesConfig /etc/mime.types
AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
<Directory "{root}/htdocs">
  Options +Includes
  Require all granted
</Directory>
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {secret}
OIDCRedirectURI {site}/protected/redirect_uri
OIDCCryptoPassphrase {passphrase}
OIDCScope "openid profile email"
OIDCPKCEMethod S256
OIDCRemoteUserClaim preferred_username
OIDCCacheType shm
<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
"#,
        root = root.display(),
        issuer = app.base,
        client_id = client.client_id,
        secret = client.secret.as_deref().expect("secret"),
        passphrase = crypto::random_token(),
    );
    write(&root.join("httpd.conf"), &config);
    open_up(root);

    let mut apache = tokio::process::Command::new(APACHE)
        .args([
            "-f",
            &root.join("httpd.conf").display().to_string(),
            "-DFOREGROUND",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start apache");
    let mut ready = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        ready,
        "apache did not start: {}",
        std::fs::read_to_string(root.join("error.log")).unwrap_or_default()
    );

    let output = tokio::process::Command::new("node")
        .arg("mod_auth_openidc.mjs")
        .current_dir(browser_dir())
        .env("APP_URL", &site)
        .env("USERNAME", "apacheuser")
        .env("PASSWORD", PASSWORD)
        .env("EXPECT_NAME", "apacheuser")
        .output()
        .await
        .expect("run node");
    let _ = tokio::process::Command::new("kill")
        .arg(apache.id().map(|p| p.to_string()).unwrap_or_default())
        .status()
        .await;
    let _ = apache.wait().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let log = std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "browser run failed:\n{stdout}\n{}\napache log:\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    for step in ["sign-in", "logout", "signed-out"] {
        assert!(
            stdout.contains(&format!("PASS  {step}")),
            "{step} missing:\n{stdout}"
        );
    }
}

/// Apache refuses to run as root without a User to switch to.
fn unsafe_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

on_both_backends!(
    needs mod_auth_openidc_tests,
    "apache2, mod_auth_openidc, Chromium or tests/browser's npm packages are missing";
    mod_auth_openidc_protects_a_page_that_chromium_signs_in_and_out_of,
);
