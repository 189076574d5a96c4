//! Property tests (proptest) for parsers of outside input: none panics on anything, and each
//! keeps the round-trip or invariant it promises.

use hccc_sso::domain::scopes::ScopeSet;
use hccc_sso::domain::{is_pkce_value, validate_email, validate_redirect_uri, validate_username};
use hccc_sso::http::Params;
use hccc_sso::i18n::Lang;
use proptest::prelude::*;
use reqwest::StatusCode;

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

proptest! {
    /// The `claims` parameter: anything parses or is refused, never panics; what is kept are known
    /// claims only, exactly those of the request's members; what is stored reads back the same.
    #[test]
    fn claims_requests_keep_known_claims_and_round_trip(
        raw in "\\PC{0,300}",
        userinfo in proptest::collection::btree_set("sub|name|email|email_verified|locale|[a-z_]{1,12}", 0..8),
        id_token in proptest::collection::btree_set("given_name|family_name|preferred_username|[a-z_]{1,12}", 0..8),
    ) {
        use hccc_sso::domain::protocol::USER_CLAIMS;
        use hccc_sso::oidc::scopes::ClaimsRequest;
        if let Ok(parsed) = ClaimsRequest::parse(&raw) {
            prop_assert!(parsed.userinfo.iter().chain(&parsed.id_token).all(|c| USER_CLAIMS.contains(&c.as_str())));
        }
        let member = |names: &std::collections::BTreeSet<String>| -> serde_json::Value {
            names.iter().map(|n| (n.clone(), serde_json::json!({"essential": true}))).collect::<serde_json::Map<_, _>>().into()
        };
        let request = serde_json::json!({"userinfo": member(&userinfo), "id_token": member(&id_token)}).to_string();
        let parsed = ClaimsRequest::parse(&request).expect("a well-formed request parses");
        let known = |names: &std::collections::BTreeSet<String>| -> Vec<String> {
            names.iter().filter(|n| USER_CLAIMS.contains(&n.as_str())).cloned().collect()
        };
        let mut got = parsed.userinfo.clone();
        got.sort();
        prop_assert_eq!(got, known(&userinfo));
        let mut got = parsed.id_token.clone();
        got.sort();
        prop_assert_eq!(got, known(&id_token));
        prop_assert_eq!(ClaimsRequest::from_json(&parsed.to_json()), parsed);
    }
}

/// A runtime for the property tests that need the store or the server.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The CSV import's planner on any bytes: a plan or a clear error, never a panic; a file of
/// well-formed rows with fresh usernames plans every row as a new account, none rejected.
#[test]
fn the_csv_import_plans_anything_and_creates_every_well_formed_row() {
    let runtime = runtime();
    let store = runtime.block_on(async {
        let store = hccc_sso::store::Store::connect("sqlite::memory:", 1)
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        store
    });
    let header = "username,email,given_name,family_name,roles,groups,locale\n";
    let row = "[a-z][a-z0-9]{2,12},[A-Za-z ]{0,20},[A-Za-z]{0,20},(student|staff|student;staff)?,[A-Za-z0-9 ;]{0,30},(en|es)?";
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
    let anything = proptest::collection::vec(any::<u8>(), 0..2048);
    runner
        .run(&anything, |bytes| {
            let mut data = header.as_bytes().to_vec();
            data.extend_from_slice(&bytes);
            let _ = runtime.block_on(hccc_sso::accounts::import::plan(&store, &bytes));
            let _ = runtime.block_on(hccc_sso::accounts::import::plan(&store, &data));
            Ok(())
        })
        .expect("no input panics the planner");
    let rows = proptest::collection::btree_map(
        "[a-z][a-z0-9]{2,12}",
        proptest::string::string_regex(row).expect("regex"),
        1..20,
    );
    runner
        .run(&rows, |rows| {
            let mut csv = header.to_owned();
            for (username, rest) in &rows {
                let mut cells = rest.splitn(6, ',');
                let (_, given, family, roles, groups, locale) = (
                    cells.next(),
                    cells.next().unwrap_or_default(),
                    cells.next().unwrap_or_default(),
                    cells.next().unwrap_or_default(),
                    cells.next().unwrap_or_default(),
                    cells.next().unwrap_or_default(),
                );
                csv.push_str(&format!(
                    "{username},{username}@students.hccc.edu,{given},{family},{roles},{groups},{locale}\n"
                ));
            }
            let plan = runtime
                .block_on(hccc_sso::accounts::import::plan(&store, csv.as_bytes()))
                .map_err(|e| TestCaseError::fail(format!("{e}: {csv}")))?;
            prop_assert!(plan.rejected.is_empty(), "{:?}", plan.rejected.iter().map(|r| r.reason()).collect::<Vec<_>>());
            prop_assert_eq!(plan.creates.len(), rows.len());
            Ok(())
        })
        .expect("well-formed rows are all created");
}

/// Client assertions (`private_key_jwt`) at the token endpoint: whatever the JWT's header,
/// payload and signature, the answer is 401 `invalid_client` (or 400 for a malformed request),
/// never a 500 and never a token.
#[test]
fn any_client_assertion_is_refused_as_invalid_client() {
    use base64::Engine as _;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (app, client_id) = runtime.block_on(async {
        let app = crate::harness::start(crate::harness::Backend::Sqlite)
            .await
            .expect("app");
        let client = app.create_client(false, true).await;
        // A private_key_jwt client with one registered RSA key (not the one any assertion is signed with).
        let key = josekit::jwk::alg::rsa::RsaKeyPair::generate(2048).expect("key");
        let mut public = key.to_jwk_public_key();
        public.set_key_id("registered");
        let jwks =
            serde_json::json!({"keys": [serde_json::Value::Object(public.as_ref().clone())]})
                .to_string();
        app.edit_client(&client.client_id, |c| {
            c.token_endpoint_auth_method = hccc_sso::domain::AuthMethod::PrivateKeyJwt;
            c.settings.jwks = Some(jwks.clone());
        })
        .await;
        (app, client.client_id)
    });
    let http = crate::harness::http();
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let header = (
        "none|HS256|RS256|ES256|PS256|[A-Za-z0-9]{0,8}",
        proptest::option::of("registered|[a-z0-9]{0,12}"),
        proptest::option::of("JWT|[a-z+]{0,8}"),
    );
    let payload = (
        proptest::option::of(Just(client_id.clone())),
        proptest::option::of("[ -~]{0,40}"),
        any::<i64>(),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
    runner
        .run(
            &(header, payload, proptest::collection::vec(any::<u8>(), 0..300), "[ -~]{0,200}"),
            |((alg, kid, typ), (sub, jti, exp), signature, raw)| {
                let header = serde_json::json!({"alg": alg, "kid": kid, "typ": typ});
                let claims = serde_json::json!({"iss": sub, "sub": sub, "aud": app.url("/token"), "jti": jti, "exp": exp});
                let jwt = format!(
                    "{}.{}.{}",
                    b64(header.to_string().as_bytes()),
                    b64(claims.to_string().as_bytes()),
                    b64(&signature)
                );
                for assertion in [jwt.as_str(), raw.as_str()] {
                    let response = runtime.block_on(
                        http.post(app.url("/token"))
                            .form(&[
                                ("grant_type", "client_credentials"),
                                ("client_id", client_id.as_str()),
                                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                                ("client_assertion", assertion),
                            ])
                            .send(),
                    ).expect("token");
                    let status = response.status();
                    let body: serde_json::Value = runtime.block_on(response.json()).unwrap_or_default();
                    prop_assert!(
                        (status == StatusCode::UNAUTHORIZED && body["error"] == "invalid_client")
                            || (status == StatusCode::BAD_REQUEST && body["error"] == "invalid_request"),
                        "{} {} for {}", status, body, assertion
                    );
                }
                Ok(())
            },
        )
        .expect("every assertion is refused cleanly");
}
