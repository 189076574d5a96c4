//! The settings' unit tests: every problem reported by name, the second-factor policy, the issuer
//! and a generated secret.

use super::*;

#[test]
fn every_bad_setting_is_reported_by_name() {
    let err = Config::load(&[
        ("HCCC_SSO_ISSUER", "ftp://example.org"),
        ("HCCC_SSO_BIND", "not-an-address"),
        ("HCCC_SSO_ACCESS_TOKEN_TTL_SECONDS", "-5"),
        (
            "HCCC_SSO_CORS_ORIGINS",
            "https://ok.example, https://bad.example/path",
        ),
        ("HCCC_SSO_LOG_FORMAT", "xml"),
        ("DATABASE_URL", "mysql://x"),
    ])
    .expect_err("invalid settings must fail");
    let message = err.to_string();
    for name in [
        "HCCC_SSO_ISSUER",
        "HCCC_SSO_BIND",
        "HCCC_SSO_ACCESS_TOKEN_TTL_SECONDS",
        "HCCC_SSO_CORS_ORIGINS",
        "HCCC_SSO_LOG_FORMAT",
        "DATABASE_URL",
    ] {
        assert!(message.contains(name), "{name} missing from: {message}");
    }
    assert!(
        !message.contains("ok.example"),
        "a valid origin was reported: {message}"
    );
}

#[test]
fn admins_need_a_second_factor_unless_the_operator_says_otherwise() {
    let secret = "ab".repeat(32);
    let issuer = ("HCCC_SSO_ISSUER", "http://127.0.0.1:8080");
    let key = ("HCCC_SSO_SECRET_KEY", secret.as_str());
    let (config, _) = Config::load(&[issuer, key]).expect("valid");
    assert_eq!(config.mfa.required_roles, vec!["admin".to_owned()]);
    assert_eq!(config.mfa.grace, 0);
    let (config, _) = Config::load(&[
        issuer,
        key,
        ("HCCC_SSO_MFA_REQUIRED_ROLES", " Admin, staff ,"),
        ("HCCC_SSO_MFA_GRACE_DAYS", "7"),
    ])
    .expect("valid");
    assert_eq!(config.mfa.required_roles, vec!["admin", "staff"]);
    assert_eq!(config.mfa.grace, 7 * 86_400);
    for nobody in ["", "none"] {
        let roles = ("HCCC_SSO_MFA_REQUIRED_ROLES", nobody);
        let (config, _) = Config::load(&[issuer, key, roles]).expect("valid");
        assert!(config.mfa.required_roles.is_empty(), "{nobody:?}");
    }
    let message = Config::load(&[
        issuer,
        key,
        ("HCCC_SSO_MFA_REQUIRED_ROLES", "admin,dean"),
        ("HCCC_SSO_MFA_GRACE_DAYS", "400"),
    ])
    .expect_err("invalid")
    .to_string();
    assert!(message.contains("\"dean\" is not a role"), "{message}");
    assert!(message.contains("HCCC_SSO_MFA_GRACE_DAYS"), "{message}");
}

#[test]
fn https_issuer_requires_a_secret_key() {
    let err = Config::load(&[("HCCC_SSO_ISSUER", "https://sso.hccc.edu")]).expect_err("must fail");
    assert!(err.to_string().contains("HCCC_SSO_SECRET_KEY"));
}

#[test]
fn issuer_loses_its_trailing_slash() {
    assert_eq!(
        parse_issuer("https://sso.hccc.edu/"),
        Ok("https://sso.hccc.edu".to_string())
    );
    assert_eq!(
        parse_issuer("https://hccc.edu/sso/"),
        Ok("https://hccc.edu/sso".to_string())
    );
    assert!(parse_issuer("https://sso.hccc.edu/?x=1").is_err());
}

#[test]
fn a_generated_secret_is_kept_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_string_lossy().to_string();
    let (first, notes) = Config::load(&[("HCCC_SSO_DATA_DIR", data_dir.as_str())]).expect("loads");
    assert!(notes.generated_secret_at.is_some());
    assert!(
        !dir.path().join("secret.key").exists(),
        "nothing is written before start-up checks the database"
    );
    first.save_generated_secret().expect("saved");
    let (second, notes) = Config::load(&[("HCCC_SSO_DATA_DIR", data_dir.as_str())]).expect("loads");
    assert!(notes.generated_secret_at.is_none());
    assert_eq!(first.secret_key, second.secret_key);
    assert_eq!(first.secret_key.len(), 32);
}
