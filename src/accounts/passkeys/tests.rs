use super::*;

fn config(issuer: &str, rp_id: Option<&str>) -> Config {
    let secret = "ab".repeat(32);
    let vars = [
        ("HCCC_SSO_ISSUER", issuer),
        ("HCCC_SSO_SECRET_KEY", secret.as_str()),
        ("HCCC_SSO_WEBAUTHN_RP_ID", rp_id.unwrap_or("")),
    ];
    Config::load(&vars).expect("valid").0
}

#[test]
fn the_relying_party_is_the_issuers_host_or_a_parent_and_never_an_ip_address() {
    let on = |issuer, id| relying_party(&config(issuer, id), "HCCC");
    assert!(on("https://sso.hccc.edu", None).expect("ok").is_some());
    assert!(
        on("https://sso.hccc.edu", Some("hccc.edu"))
            .expect("ok")
            .is_some()
    );
    assert!(on("http://localhost:8080", None).expect("ok").is_some());
    // An IP address cannot be a relying party: off, not an error.
    assert!(on("http://127.0.0.1:8080", None).expect("ok").is_none());
    // Another domain, or a suffix that is not a parent, stops start-up with the setting named.
    for wrong in ["other.edu", "cc.edu", "sso.hccc.edu.evil.example"] {
        let e = on("https://sso.hccc.edu", Some(wrong)).expect_err(wrong);
        assert!(e.contains("HCCC_SSO_WEBAUTHN_RP_ID"), "{e}");
    }
}

#[test]
fn names_are_trimmed_cleaned_and_bounded() {
    assert_eq!(
        clean_name("  Work laptop ").ok().as_deref(),
        Some("Work laptop")
    );
    assert_eq!(clean_name("Key\u{0}\n1").ok().as_deref(), Some("Key1"));
    assert!(matches!(clean_name("   "), Err(PasskeyError::BadName)));
    assert!(clean_name(&"é".repeat(64)).is_ok());
    assert!(matches!(
        clean_name(&"é".repeat(65)),
        Err(PasskeyError::BadName)
    ));
}

#[test]
fn kinds_round_trip_and_nothing_else_parses() {
    for kind in [Kind::Passkey, Kind::SecurityKey] {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(Kind::parse("Passkey"), None);
    assert_eq!(Kind::parse(""), None);
}

/// The reason of a refused answer is logged: it never quotes the answer, whose ids and keys
/// serde would otherwise repeat ("unknown variant `…`", "invalid type: string \"…\"").
#[test]
fn an_unreadable_answer_is_refused_without_quoting_it() {
    for answer in [
        r#""Y3JlZC1pZC1zZWNyZXQ""#,
        r#"{"id": "x", "rawId": "eA", "response": "Y3JlZC1pZC1zZWNyZXQ"}"#,
        r#"{"id": "Y3JlZC1pZC1zZWNyZXQ", "rawId": 5}"#,
        r#"{"id": "Y3JlZC1pZC1zZWNyZXQ""#,
    ] {
        let e = parse::<PublicKeyCredential>(answer).expect_err(answer);
        let text = e.to_string();
        assert!(matches!(e, PasskeyError::Refused(_)), "{text}");
        assert!(!text.contains("Y3JlZC1pZC1zZWNyZXQ"), "{text}");
        assert!(text.contains("does not read as WebAuthn"), "{text}");
    }
}
