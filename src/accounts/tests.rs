use super::*;

#[test]
fn hashes_verify_and_wrong_passwords_do_not() {
    let hash = hash_blocking("correct horse battery staple").expect("hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(verify_blocking(&hash, "correct horse battery staple"));
    assert!(!verify_blocking(&hash, "correct horse battery stapler"));
    assert_ne!(
        hash,
        hash_blocking("correct horse battery staple").expect("hash")
    );
}

#[test]
fn hashes_written_by_the_argon2_crate_still_verify() {
    // Written by RustCrypto's `argon2` 0.5 (used before `argon2-rust`) for this password.
    let stored = "$argon2id$v=19$m=19456,t=2,p=1$aGNjYy1zc28tdmVjdG9yIQ$xJsDXUuLfZ6MWfp6cC2ksYf3OAM02psCBrilN9QrvM4";
    assert!(verify_blocking(stored, "correct horse battery staple"));
    assert!(!verify_blocking(stored, "Correct horse battery staple"));
}

#[test]
fn malformed_or_absurd_stored_hashes_fail_without_hashing() {
    for stored in [
        "",
        "not a hash",
        "$argon2i$v=19$m=19456,t=2,p=1$aGNjYy1zc28tdmVjdG9yIQ$xJsDXUuLfZ6MWfp6cC2ksYf3OAM02psCBrilN9QrvM4",
        // 4 GiB of memory: refused by the ceiling before anything is allocated.
        "$argon2id$v=19$m=4194304,t=2,p=1$aGNjYy1zc28tdmVjdG9yIQ$xJsDXUuLfZ6MWfp6cC2ksYf3OAM02psCBrilN9QrvM4",
        "$argon2id$v=19$m=19456,t=1000,p=1$aGNjYy1zc28tdmVjdG9yIQ$xJsDXUuLfZ6MWfp6cC2ksYf3OAM02psCBrilN9QrvM4",
    ] {
        assert!(
            !verify_blocking(stored, "correct horse battery staple"),
            "{stored}"
        );
    }
}
