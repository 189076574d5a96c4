use super::*;

// RFC 6238 appendix B, SHA-1 (its key is the ASCII "12345678901234567890"), cut to 6 digits.
const RFC_KEY: &[u8] = b"12345678901234567890";

#[test]
fn codes_of_the_current_and_previous_step_match_and_no_others() {
    // At T = 59 s the RFC's 8-digit code is 94287082: six digits 287082, step 1.
    assert_eq!(matching_step(RFC_KEY, "287082", 59), Some(1));
    assert_eq!(matching_step(RFC_KEY, "287 082", 59), Some(1));
    // 30 s later it is the previous step, still accepted; 60 s later it is not.
    assert_eq!(matching_step(RFC_KEY, "287082", 89), Some(1));
    assert_eq!(matching_step(RFC_KEY, "287082", 90), None);
    // A code of the next step is never accepted early.
    assert_eq!(matching_step(RFC_KEY, "287082", 29), None);
    // T = 1111111109: 07081804 → 081804.
    assert_eq!(
        matching_step(RFC_KEY, "081804", 1_111_111_109),
        Some(1_111_111_109 / 30)
    );
}

#[test]
fn malformed_codes_never_match() {
    for code in [
        "",
        "28708",
        "2870822",
        "28708a",
        "２８７０８２",
        "287082\0",
        "-87082",
    ] {
        assert_eq!(matching_step(RFC_KEY, code, 59), None, "{code:?}");
    }
    assert_eq!(matching_step(RFC_KEY, &"2".repeat(10_000), 59), None);
}

#[test]
fn the_otpauth_uri_names_the_college_and_account_with_the_default_parameters() {
    let e = enrolment(RFC_KEY, "HCCC", "jdoe").expect("enrolment");
    assert!(e.uri.starts_with("otpauth://totp/HCCC:jdoe?"), "{}", e.uri);
    assert!(e.uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
    assert!(e.uri.contains("issuer=HCCC"));
    // SHA1, 6 digits and 30 s are the defaults the apps assume; sent or left out, never other.
    assert!(!e.uri.contains("algorithm=SHA256"));
    assert_eq!(e.key_text, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
}
