//! Languages: the catalogs (same keys, every key the code uses, Spanish spelling), the choice of
//! language in its order (switcher, `ui_locales`, account, `Accept-Language`, English) through a
//! whole sign-in, the account's `locale` and its claim, compression and caching headers.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_ENCODING, VARY};
use serde_json::Value;

use crate::flows::{authorize_url, exchange_code, form_value, location, pkce, query_of};
use crate::harness::{PASSWORD, TestApp, on_both_backends, reqwest};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Each message of a catalog with the arguments it uses.
fn catalog(lang: &str) -> BTreeMap<String, BTreeSet<String>> {
    let path = format!("{ROOT}/locales/{lang}/main.ftl");
    let text = std::fs::read_to_string(&path).expect("catalog");
    let mut messages = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some((key, _)) = line.split_once(" =")
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !key.is_empty()
        {
            assert!(
                messages.insert(key.to_owned(), BTreeSet::new()).is_none(),
                "{lang}: {key} twice"
            );
            current = Some(key.to_owned());
        } else if line.starts_with('#') || line.trim().is_empty() {
            current = None;
            continue;
        }
        let Some(key) = &current else { continue };
        let args = messages.get_mut(key).expect("current key");
        for piece in line.split("{ $").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            args.insert(name);
        }
    }
    messages
}

/// Every string literal of the Rust sources and every key the templates ask for.
fn literals_in_code() -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut visit = |path: &std::path::Path, text: &str| {
        let rust = path.extension().is_some_and(|e| e == "rs");
        let mut rest = text;
        // In templates only what the page asks the catalog for (`ui.t("…"`, `ui.t1(`, `ui.t2(`).
        let opener = if rust { "\"" } else { "ui.t" };
        while let Some(at) = rest.find(opener) {
            rest = &rest[at + opener.len()..];
            let literal = if rust {
                rest
            } else {
                match rest.split_once("(\"") {
                    Some((call, after)) if call.len() <= 1 => after,
                    _ => continue,
                }
            };
            let Some(end) = literal.find('"') else { break };
            let candidate = &literal[..end];
            if rust {
                rest = &literal[end + 1..];
            }
            found
                .entry(candidate.to_owned())
                .or_insert_with(|| path.display().to_string());
        }
    };
    for dir in ["src", "templates"] {
        let mut stack = vec![std::path::PathBuf::from(format!("{ROOT}/{dir}"))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    visit(&path, &text);
                }
            }
        }
    }
    found
}

/// Catalog keys are lowercase words joined by `-` (field names keep their `_`).
fn looks_like_key(s: &str) -> bool {
    s.contains('-')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Hyphenated literals of the code that are not messages: HTML ids and classes, headers, tags.
const NOT_KEYS: [&str; 24] = [
    "log-writer",
    "api-role",
    "grant-type",
    "no-store",
    "no-cache",
    "no-referrer",
    "x-forwarded-for",
    "x-request-id",
    "utf-8",
    "es-419",
    "es-es",
    "not-an-address",
    "not-an-ip",
    "kid-1",
    "kid-2",
    "subject-1",
    "hccc-sso",
    "no-such-key",
    "client-secret",
    "client-id",
    "one-time-code",
    "redirect-uri",
    "post-logout-redirect-uri",
    "auto-generated",
];

#[test]
fn both_catalogs_define_the_same_messages_with_the_same_arguments() {
    let en = catalog("en");
    let es = catalog("es");
    let only_en: Vec<&String> = en.keys().filter(|k| !es.contains_key(*k)).collect();
    let only_es: Vec<&String> = es.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(only_en.is_empty(), "missing in Spanish: {only_en:?}");
    assert!(only_es.is_empty(), "missing in English: {only_es:?}");
    for (key, args) in &en {
        assert_eq!(args, &es[key], "{key}: the arguments differ");
    }
    assert!(en.len() > 300, "{} messages", en.len());
}

#[test]
fn every_message_the_code_names_exists() {
    let en = catalog("en");
    let mut missing = Vec::new();
    for (literal, file) in literals_in_code() {
        if looks_like_key(&literal)
            && !en.contains_key(&literal)
            && !NOT_KEYS.contains(&literal.as_str())
        {
            missing.push(format!("{literal} ({file})"));
        }
    }
    assert!(missing.is_empty(), "not in the catalogs: {missing:?}");
    // Keys made from names: every role, scope, grant and field a form can report.
    for role in hccc_sso::domain::ROLES {
        assert!(en.contains_key(&format!("role-{role}")), "role-{role}");
    }
    for scope in hccc_sso::domain::Scope::ALL {
        assert!(en.contains_key(scope.key()), "{}", scope.key());
    }
    for grant in hccc_sso::domain::GrantType::ALL {
        assert!(en.contains_key(grant.key()), "{}", grant.key());
    }
    // Field names of validation problems, as the code reports them.
    let sources = literals_in_code();
    let fields = sources.keys().filter(|l| {
        l.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && en.contains_key(&format!("field-{l}"))
    });
    assert!(fields.count() >= 20, "the field names are in the catalog");
    for field in [
        "username",
        "email",
        "given_name",
        "family_name",
        "roles",
        "groups",
        "password",
        "locale",
        "temporary_password",
        "current_password",
        "new_password",
        "confirm_password",
    ] {
        assert!(en.contains_key(&format!("field-{field}")), "field-{field}");
    }
    for field in [
        "name",
        "redirect_uris",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "grant_types",
        "token_endpoint_auth_method",
        "allowed_scopes",
        "api_roles",
        "jwks",
        "jwks_uri",
        "id_token_alg",
    ] {
        assert!(en.contains_key(&format!("field-{field}")), "field-{field}");
    }
}

#[test]
fn every_message_formats_in_both_languages_without_errors() {
    for lang in hccc_sso::i18n::Lang::all() {
        for (key, args) in catalog("en") {
            let args: Vec<(&str, hccc_sso::i18n::Arg)> = args
                .iter()
                .map(|a| (a.as_str(), hccc_sso::i18n::Arg::Number(2)))
                .collect();
            let text = lang.text_with(&key, &args);
            assert_ne!(text, key, "{key} in {}", lang.tag());
            assert!(
                !text.contains("{$") && !text.contains("{ $") && !text.contains('\u{2068}'),
                "{key} in {}: {text}",
                lang.tag()
            );
        }
    }
    let es = hccc_sso::i18n::Lang::from_tag("es").expect("es");
    assert_eq!(
        es.text_with("login-locked", &[("minutes", 1.into())]),
        "Hubo demasiados intentos fallidos. Por su seguridad, el inicio de sesión está en pausa; inténtelo de nuevo en 1 minuto."
    );
    assert!(
        es.text_with("login-locked", &[("minutes", 5.into())])
            .ends_with("5 minutos.")
    );
}

/// Words of the Spanish catalog hunspell does not know and that are right here: names, and the
/// technical words and protocol names a page shows as they are.
const ALLOWED_IN_SPANISH: [&str; 35] = [
    "HCCC",
    "Hudson",
    "County",
    "Community",
    "College",
    "API",
    "URI",
    "URL",
    "JWKS",
    "CSV",
    "QR",
    "KiB",
    "MiB",
    "PAR",
    "RS256",
    "ES256",
    "token",
    "tokens",
    "redirección",
    "https",
    "http",
    "localhost",
    "openid",
    "none",
    "jwks",
    "scripts",
    "RS",
    "api",
    // Authenticator apps named on the enrolment page.
    "Microsoft",
    "Authenticator",
    "FreeOTP",
    "Aegis",
    // What passkeys and security keys need and use.
    "JavaScript",
    "NFC",
    "USB",
];

#[test]
#[cfg_attr(
    not(hunspell_tests),
    ignore = "hunspell or its Spanish dictionary is not installed (apt-get install hunspell hunspell-es)"
)]
fn the_spanish_catalog_is_spelled_correctly() {
    crate::harness::require(
        std::process::Command::new("hunspell")
            .arg("-v")
            .output()
            .is_ok(),
        "hunspell (apt-get install hunspell hunspell-es)",
    );
    let text = std::fs::read_to_string(format!("{ROOT}/locales/es/main.ftl")).expect("catalog");
    // The values only: no keys, comments, placeables, variant names or protocol identifiers.
    let mut words = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.split_once(" = ").map_or(line, |(_, v)| v);
        let mut plain = String::new();
        let mut depth = 0;
        for c in value.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ if depth == 0 => plain.push(c),
                _ => {}
            }
        }
        let plain = plain.trim_start().trim_start_matches('*');
        let plain = plain
            .strip_prefix('[')
            .and_then(|p| p.split_once(']'))
            .map_or(plain, |(_, rest)| rest);
        for word in plain.split_whitespace() {
            // Protocol identifiers (`redirect_uri`, `application/…`) and selector variables.
            if !word.contains(['_', '/', '$']) && word != "->" {
                words.push_str(word);
                words.push('\n');
            }
        }
    }
    let mut child = std::process::Command::new("hunspell")
        .args(["-d", "es_US", "-l"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("hunspell");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(words.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("hunspell output");
    assert!(output.status.success(), "hunspell -d es_US failed");
    let unknown: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|w| !ALLOWED_IN_SPANISH.contains(w))
        .map(str::to_owned)
        .collect();
    assert!(unknown.is_empty(), "misspelled in Spanish: {unknown:?}");
    assert!(words.lines().count() > 2000, "the words were read");
}

/// The text of a page fetched with `headers`, after checking it is HTML in `lang`.
async fn page_in(
    browser: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    lang: &str,
) -> String {
    let mut request = browser.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("page");
    let html = response.text().await.expect("html");
    assert!(
        html.contains(&format!("<html lang=\"{lang}\">")),
        "{url} should be in {lang}: {}",
        &html[..html.len().min(300)]
    );
    html
}

async fn every_spanish_browser_gets_spanish_and_the_rest_english(app: TestApp) {
    let browser = crate::harness::http();
    for tag in ["es", "es-US", "es-419", "es-MX", "es-ES;q=0.9, en;q=0.8"] {
        let html = page_in(
            &browser,
            &app.url("/login"),
            &[("accept-language", tag)],
            "es",
        )
        .await;
        assert!(html.contains("Iniciar sesión"), "{tag}");
        assert!(
            !html.contains("Sign in with your phone"),
            "{tag}: no English left"
        );
    }
    for tag in ["en-US", "fr-CA, de", "", "en;q=0.9, es;q=0.5"] {
        let html = page_in(
            &browser,
            &app.url("/login"),
            &[("accept-language", tag)],
            "en",
        )
        .await;
        assert!(html.contains("Username or college e-mail"), "{tag}");
    }
    let response = browser
        .get(app.url("/login"))
        .header(ACCEPT_LANGUAGE, "es")
        .send()
        .await
        .expect("page");
    let vary = response
        .headers()
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    assert!(
        vary.contains("Accept-Language") && vary.contains("Cookie"),
        "{vary}"
    );
    // The switcher names each language in itself, with its own lang.
    let html = page_in(&browser, &app.url("/"), &[("accept-language", "es")], "es").await;
    assert!(
        html.contains("lang=\"en\" hreflang=\"en\">English</a>"),
        "{html}"
    );
    assert!(html.contains("lang=\"es\" hreflang=\"es\" aria-current=\"true\">Español</a>"));
    // An error page is in the person's language too.
    let html = page_in(
        &browser,
        &app.url("/no/such/page"),
        &[("accept-language", "es-US")],
        "es",
    )
    .await;
    assert!(html.contains("No se encontró la página"), "{html}");
    let discovery: Value = browser
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(
        discovery["ui_locales_supported"],
        serde_json::json!(["en", "es"])
    );
    assert!(
        discovery["claims_supported"]
            .as_array()
            .expect("claims")
            .contains(&"locale".into())
    );
}

async fn the_switcher_sets_a_cookie_that_outranks_everything(app: TestApp) {
    let browser = crate::harness::browser();
    let back = "/login?return_to=%2Faccount%2Fpassword";
    let switch = browser
        .get(app.url(&format!(
            "/language?set=en&next={}",
            url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
        )))
        .send()
        .await
        .expect("switch");
    assert_eq!(switch.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&switch), back, "back to the page it was picked on");
    let cookie = switch
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.starts_with("hccc_sso_lang=en;") && cookie.contains("Max-Age=31536000"),
        "{cookie}"
    );
    // Spanish browser, English picked: English.
    let html = page_in(
        &browser,
        &app.url("/login"),
        &[("accept-language", "es")],
        "en",
    )
    .await;
    assert!(html.contains("Sign in"));
    // The other way round, by the cookie alone.
    let html = page_in(
        &crate::harness::http(),
        &app.url("/login"),
        &[("accept-language", "en"), ("cookie", "hccc_sso_lang=es")],
        "es",
    )
    .await;
    assert!(html.contains("Iniciar sesión"));
    // Another site's address, or a language we do not have, changes nothing but the page.
    let away = browser
        .get(app.url("/language?set=fr&next=//evil.example/x"))
        .send()
        .await
        .expect("switch");
    assert_eq!(location(&away), "/");
    assert!(away.headers().get("set-cookie").is_none());
    let bad = browser
        .get(app.url("/language?set=es&set=en"))
        .send()
        .await
        .expect("switch");
    assert_eq!(
        bad.status(),
        StatusCode::BAD_REQUEST,
        "a repeated parameter"
    );
}

/// A sign-in whose app asks for Spanish, in an English browser: every page of it is Spanish,
/// until the person picks English with the switcher.
async fn ui_locales_survives_the_whole_sign_in_and_consent(app: TestApp) {
    app.create_user("lucia").await;
    let client = app.create_client(false, false).await;
    let pkce = pkce();
    let browser = crate::harness::browser();
    let url = authorize_url(&app, &client, &pkce, &[("ui_locales", "es-MX en")]);
    let start = browser
        .get(&url)
        .header(ACCEPT_LANGUAGE, "en-US")
        .send()
        .await
        .expect("authorize");
    let login_path = location(&start);
    assert!(login_path.starts_with("/login?request="), "{login_path}");
    let en = [("accept-language", "en-US")];
    let login = page_in(&browser, &app.url(&login_path), &en, "es").await;
    assert!(login.contains("para continuar a College LMS"), "{login}");
    // A wrong password: the form comes back in Spanish, and its switcher keeps the request.
    let request = form_value(&login, "request").expect("request");
    let wrong = browser
        .post(app.url("/login"))
        .header(ACCEPT_LANGUAGE, "en-US")
        .form(&[
            (
                "csrf_token",
                form_value(&login, "csrf_token").expect("csrf"),
            ),
            ("request", request.clone()),
            ("username", "lucia".into()),
            ("password", "not the password".into()),
        ])
        .send()
        .await
        .expect("wrong password");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.expect("html");
    assert!(html.contains("<html lang=\"es\">"));
    assert!(
        html.contains("El usuario o la contraseña no son correctos."),
        "{html}"
    );
    let back_here = format!("next=%2Flogin%3Frequest%3D{request}");
    assert!(
        html.contains(&back_here),
        "the switcher returns to this sign-in"
    );
    // Signed in: the consent page is Spanish, with the scopes in Spanish.
    let signed_in =
        crate::flows::submit_login(&app, &browser, &login_path, "lucia", PASSWORD).await;
    let consent_path = location(&signed_in);
    assert!(
        consent_path.starts_with("/consent?request="),
        "{consent_path}"
    );
    let consent = page_in(&browser, &app.url(&consent_path), &en, "es").await;
    assert!(
        consent.contains("¿Permitir que College LMS use su cuenta?"),
        "{consent}"
    );
    assert!(consent.contains("Su correo electrónico"));
    assert!(!consent.contains("Your e-mail address"));
    // The switcher outranks the app's wish for the rest of the sign-in.
    let switch = browser
        .get(app.url(&format!(
            "/language?set=en&next={}",
            url::form_urlencoded::byte_serialize(consent_path.as_bytes()).collect::<String>()
        )))
        .send()
        .await
        .expect("switch");
    assert_eq!(location(&switch), consent_path);
    let consent = page_in(&browser, &app.url(&consent_path), &en, "en").await;
    assert!(consent.contains("Your e-mail address"), "{consent}");
    let done = crate::flows::submit_consent(&app, &browser, &consent_path, "allow").await;
    let code = query_of(&location(&done))["code"].clone();
    let (status, _) = exchange_code(&app, &client, &code, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK, "the sign-in completes");
}

async fn the_accounts_language_is_used_once_signed_in_and_released_as_locale(app: TestApp) {
    let account = app.create_user("marta").await;
    let mut after = account.clone();
    after.locale = Some("es".into());
    app.store()
        .update_account(&account, &after, app.clock.now())
        .await
        .expect("locale");
    let client = app.create_client(false, true).await;
    let pkce = pkce();
    let browser = crate::harness::browser();
    let params = crate::flows::sign_in_for_code(
        &app,
        &browser,
        &authorize_url(&app, &client, &pkce, &[]),
        "marta",
    )
    .await;
    // The account's preference outranks the browser's.
    let home = page_in(&browser, &app.url("/"), &[("accept-language", "en")], "es").await;
    assert!(home.contains("Ha iniciado sesión"), "{home}");
    let (_, tokens) = exchange_code(&app, &client, &params["code"], &pkce.verifier).await;
    let userinfo: Value = crate::harness::http()
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(userinfo["locale"], "es", "{userinfo}");
    let id_token = crate::token::decode_segment(tokens["id_token"].as_str().expect("id token"), 1);
    assert_eq!(id_token["locale"], "es");
    // Without the profile scope, no locale; and an account without one releases none.
    let pkce2 = crate::flows::pkce();
    let url = authorize_url(&app, &client, &pkce2, &[("scope", "openid email")]);
    let url = url.replacen("scope=openid+profile+email&", "", 1);
    let params = crate::flows::sign_in_for_code(&app, &browser, &url, "marta").await;
    let (_, tokens) = exchange_code(&app, &client, &params["code"], &pkce2.verifier).await;
    let userinfo: Value = crate::harness::http()
        .get(app.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert!(userinfo.get("locale").is_none(), "{userinfo}");
    // The person changes it on the home page (a form with its CSRF token) …
    let home = page_in(&browser, &app.url("/"), &[], "es").await;
    let csrf = form_value(&home, "csrf_token").expect("csrf");
    let forged = browser
        .post(app.url("/account/language"))
        .form(&[("csrf_token", "forged"), ("locale", "en")])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let unknown = browser
        .post(app.url("/account/language"))
        .form(&[("csrf_token", csrf.as_str()), ("locale", "klingon")])
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let saved = browser
        .post(app.url("/account/language"))
        .form(&[("csrf_token", csrf.as_str()), ("locale", "en")])
        .send()
        .await
        .expect("post");
    assert_eq!(location(&saved), "/?done=language");
    let stored = app
        .store()
        .find_account(account.account_id)
        .await
        .expect("db")
        .expect("account");
    assert_eq!(stored.locale.as_deref(), Some("en"));
    let home = page_in(
        &browser,
        &app.url("/?done=language"),
        &[("accept-language", "es")],
        "en",
    )
    .await;
    assert!(
        home.contains("Your language has been saved."),
        "the cookie follows the choice"
    );
}

async fn admins_the_api_and_the_import_set_the_locale(app: TestApp) {
    let csv =
        "username,email,locale\nrosa,rosa@students.hccc.edu,es-US\npat,pat@students.hccc.edu,\n";
    let plan = hccc_sso::accounts::import::plan(app.store(), csv.as_bytes())
        .await
        .expect("plan");
    assert_eq!(plan.creates.len(), 2);
    assert_eq!(
        plan.creates[0].1.locale.as_deref(),
        Some("es"),
        "es-US is es"
    );
    assert_eq!(plan.creates[1].1.locale, None, "an empty cell is none");
    let bad = "username,email,locale\nkim,kim@students.hccc.edu,fr\n";
    let plan = hccc_sso::accounts::import::plan(app.store(), bad.as_bytes())
        .await
        .expect("plan");
    assert_eq!(plan.rejected.len(), 1);
    assert!(
        plan.rejected[0]
            .reason()
            .starts_with("locale: must be one of en, es")
    );
    // The API: an admin sets it, a person sets their own; a language we do not have is refused
    // by name.
    use crate::api::{call, make_admin, password_token, script_client};
    use reqwest::Method;
    make_admin(&app, "registrar").await;
    let script = script_client(&app).await;
    let admin = password_token(&app, &script, "registrar").await;
    let body = serde_json::json!({"username": "ines", "email": "ines@students.hccc.edu", "locale": "es-419"});
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(&admin),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["locale"], "es");
    let path = format!("/api/v1/users/{}", created["id"].as_str().expect("id"));
    let french = serde_json::json!({"locale": "fr"});
    let (status, problem) = call(&app, Method::PATCH, &path, Some(&admin), Some(french)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "locale", "{problem}");
    assert_eq!(problem["errors"][0]["message"], "must be one of en, es");
    let none = serde_json::json!({"locale": null});
    let (status, changed) = call(&app, Method::PATCH, &path, Some(&admin), Some(none)).await;
    assert_eq!(
        (status, changed["locale"].clone()),
        (StatusCode::OK, Value::Null)
    );
    let own = serde_json::json!({"locale": "es"});
    let (status, me) = call(
        &app,
        Method::PATCH,
        "/api/v1/users/me",
        Some(&admin),
        Some(own),
    )
    .await;
    assert_eq!(
        (status, me["locale"].clone()),
        (StatusCode::OK, "es".into()),
        "{me}"
    );
}

/// Compressed where it pays: pages and JSON on the fly, static files precompressed, each with
/// the caching its content allows.
async fn responses_are_compressed_and_cached_as_their_content_allows(app: TestApp) {
    let http = crate::harness::client_builder()
        .no_gzip()
        .no_brotli()
        .build()
        .expect("client");
    let login = http
        .get(app.url("/login"))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .expect("page");
    assert_eq!(login.headers()[CONTENT_ENCODING], "br");
    assert_eq!(login.headers()[CACHE_CONTROL], "no-store");
    let html = http
        .get(app.url("/login"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let css = html
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|h| h.ends_with("app.css")))
        .expect("stylesheet link")
        .to_owned();
    assert!(css.starts_with("/assets/"), "fingerprinted: {css}");
    for (encoding, expected) in [
        ("br", Some("br")),
        ("gzip", Some("gzip")),
        ("identity", None),
    ] {
        let response = http
            .get(app.url(&css))
            .header("accept-encoding", encoding)
            .send()
            .await
            .expect("css");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get(CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap_or("")),
            expected,
            "{encoding}"
        );
        assert_eq!(
            response.headers()[CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(
            response.headers()[VARY]
                .to_str()
                .unwrap_or("")
                .contains("Accept-Encoding")
        );
        let body = response.bytes().await.expect("body");
        if expected.is_none() {
            assert!(
                String::from_utf8_lossy(&body).contains("--focus"),
                "plain CSS"
            );
        }
    }
    // Another fingerprint (a replica a version behind or ahead, mid-deploy) still gets the file,
    // but only for minutes: it may not be the content that address names.
    let other = http
        .get(app.url("/assets/000000000000/css/app.css"))
        .send()
        .await
        .expect("other fingerprint");
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(other.headers()[CACHE_CONTROL], "public, max-age=300");
    let missing = http
        .get(app.url("/assets/000000000000/css/nothing.css"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // The OpenAPI document is compressed; discovery, small and cached by every client, is not.
    let openapi = http
        .get(app.url("/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("openapi");
    assert_eq!(openapi.headers()[CONTENT_ENCODING], "gzip");
    let discovery = http
        .get(app.url("/.well-known/openid-configuration"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("discovery");
    assert!(discovery.headers().get(CONTENT_ENCODING).is_none());
}

/// A college's name, help line and logo, from the environment and a folder of its own files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_college_brands_the_pages_with_its_name_help_line_and_logo() {
    let folder = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(folder.path().join("img")).expect("mkdir");
    std::fs::create_dir_all(folder.path().join("css")).expect("mkdir");
    std::fs::write(
        folder.path().join("img/logo.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .expect("logo");
    std::fs::write(
        folder.path().join("css/custom.css"),
        ".brand { background: #00563f; }",
    )
    .expect("css");
    let dir = folder.path().to_owned();
    let app = crate::harness::start_with(crate::harness::Backend::Sqlite, move |config| {
        config.branding = hccc_sso::config::Branding {
            college_name: Some("Hudson County Community College".into()),
            help_url: Some("https://www.hccc.edu/it-help".into()),
            help_text: Some("IT Help Desk: 201-360-4000".into()),
        };
        config.branding_dir = Some(dir);
    })
    .await
    .expect("app");
    let html = page_in(&crate::harness::http(), &app.url("/login"), &[], "en").await;
    assert!(
        html.contains("<a href=\"https://www.hccc.edu/it-help\">IT Help Desk: 201-360-4000</a>"),
        "{html}"
    );
    assert!(html.contains("· Hudson County Community College</title>"));
    let logo = html
        .split("<img class=\"logo-image\" src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the college's logo")
        .to_owned();
    assert!(
        logo.starts_with("/assets/") && logo.ends_with("/img/logo.svg"),
        "{logo}"
    );
    let css = html
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.ends_with("/css/custom.css"))
        .expect("the college's stylesheet")
        .to_owned();
    let served = reqwest::get(app.url(&css))
        .await
        .expect("css")
        .text()
        .await
        .expect("text");
    assert!(served.contains("#00563f"));
    let served = reqwest::get(app.url(&logo)).await.expect("logo");
    assert_eq!(served.headers()["content-type"], "image/svg+xml");
    // Without branding: the catalog's name and help line, and our mark.
    let plain = crate::harness::start(crate::harness::Backend::Sqlite)
        .await
        .expect("app");
    let html = page_in(
        &crate::harness::http(),
        &plain.url("/login"),
        &[("accept-language", "es")],
        "es",
    )
    .await;
    assert!(html.contains("¿Necesita ayuda? Comuníquese con la mesa de ayuda de TI."));
    assert!(!html.contains("logo-image") && html.contains("class=\"logo\""));
}

on_both_backends!(
    every_spanish_browser_gets_spanish_and_the_rest_english,
    the_switcher_sets_a_cookie_that_outranks_everything,
    ui_locales_survives_the_whole_sign_in_and_consent,
    the_accounts_language_is_used_once_signed_in_and_released_as_locale,
    admins_the_api_and_the_import_set_the_locale,
    responses_are_compressed_and_cached_as_their_content_allows,
);
