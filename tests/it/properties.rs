//! Property tests (proptest) for parsers of outside input: none panics on anything, and each
//! keeps the round-trip or invariant it promises.

use hccc_sso::domain::scopes::ScopeSet;
use hccc_sso::domain::{is_pkce_value, validate_email, validate_redirect_uri, validate_username};
use hccc_sso::http::Params;
use hccc_sso::i18n::Lang;
use proptest::prelude::*;

proptest! {
    /// Form and query decoding: any bytes give a value or an error; names and values that
    /// were encoded come back as they were.
    #[test]
    fn params_decode_anything_and_round_trip(
        raw in proptest::collection::vec(any::<u8>(), 0..512),
        pairs in proptest::collection::btree_map("[a-z_]{1,12}", "[ -~]{1,40}", 0..8),
    ) {
        let _ = Params::parse(&raw);
        let _ = Params::parse_form(&raw);
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter())
            .finish();
        let params = Params::parse(encoded.as_bytes()).expect("printable pairs decode");
        for (name, value) in &pairs {
            prop_assert_eq!(params.get(name), Some(value.as_str()));
        }
    }

    /// A repeated parameter is refused (RFC 6749 §3.1), whatever its values.
    #[test]
    fn params_refuse_repeats(name in "[a-z]{1,10}", a in "[a-z0-9]{1,10}", b in "[a-z0-9]{1,10}") {
        let encoded = format!("{name}={a}&{name}={b}");
        prop_assert!(Params::parse(encoded.as_bytes()).is_err());
    }

    /// Scopes: anything parses; a set written out parses back to itself.
    #[test]
    fn scopes_parse_anything_and_round_trip(raw in "\\PC{0,200}", words in proptest::collection::vec("openid|profile|email|offline_access|roles|api|[a-z]{1,8}", 0..8)) {
        let parsed = ScopeSet::parse(&raw);
        prop_assert_eq!(ScopeSet::parse(&parsed.names().join(" ")), parsed);
        let set = ScopeSet::parse(&words.join(" "));
        prop_assert_eq!(ScopeSet::parse(&set.names().join(" ")), set);
    }

    /// Redirect URIs: anything gives a verdict; an accepted one is accepted again unchanged
    /// (exact matching compares what was stored).
    #[test]
    fn redirect_uris_are_judged_once_and_stably(raw in "\\PC{0,300}", host in "[a-z]{1,10}(\\.[a-z]{2,5}){1,2}", path in "(/[a-zA-Z0-9._~-]{0,10}){0,4}") {
        if let Ok(kept) = validate_redirect_uri(&raw) {
            prop_assert_eq!(validate_redirect_uri(&kept), Ok(kept.clone()));
        }
        let uri = format!("https://{host}{path}");
        let kept = validate_redirect_uri(&uri);
        prop_assert!(kept.is_ok(), "{} refused: {:?}", uri, kept);
        if let Ok(kept) = kept {
            prop_assert_eq!(validate_redirect_uri(&kept), Ok(kept.clone()));
        }
    }

    /// PKCE values: exactly RFC 7636's 43–128 unreserved characters.
    #[test]
    fn pkce_values_follow_rfc_7636(raw in "\\PC{0,200}", good in "[A-Za-z0-9._~-]{43,128}") {
        let expected = (43..=128).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        prop_assert_eq!(is_pkce_value(&raw), expected);
        prop_assert!(is_pkce_value(&good));
    }

    /// Usernames and addresses: a verdict for anything; what is kept is kept again as is.
    #[test]
    fn account_fields_normalise_once(raw in "\\PC{0,300}") {
        if let Ok(name) = validate_username(&raw) {
            prop_assert_eq!(validate_username(&name), Ok(name.clone()));
        }
        if let Ok(email) = validate_email(&raw) {
            prop_assert_eq!(validate_email(&email), Ok(email.clone()));
        }
    }

    /// Accept-Language: anything gives a language or none; Spanish first (any region, any
    /// weight above the rest) gives Spanish.
    #[test]
    fn accept_language_never_panics_and_honours_the_first_choice(raw in "\\PC{0,300}", region in "[A-Z]{2}|419", q in 1u16..1000) {
        let _ = Lang::from_preferences(&raw);
        let header = format!("en;q=0.{:03}, es-{region};q=1", q.min(999));
        let es = Lang::from_tag("es").expect("Spanish");
        prop_assert_eq!(Lang::from_preferences(&header), Some(es));
    }

    /// Passkey names: a verdict for anything; a kept name is kept again and fits the page.
    #[test]
    fn passkey_names_are_cleaned_once(raw in "\\PC{0,100}") {
        if let Ok(name) = hccc_sso::accounts::passkeys::clean_name(&raw) {
            prop_assert!(name.chars().count() <= 64 && !name.is_empty());
            prop_assert_eq!(hccc_sso::accounts::passkeys::clean_name(&name).ok(), Some(name.clone()));
        }
    }
}
