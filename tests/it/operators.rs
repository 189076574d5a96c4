//! What operators found (issue 24, items 6 and 7): one form for every address, invitation runs
//! that leave working links alone, an audit entry for every command that changes something, a
//! reason for every refused authorization request, the sweep of remembered browsers, and the
//! first-start line in the log's own format.

use std::process::Stdio;

use hccc_sso::store::{AuditFilter, AuditRow, NewAccount, RememberedRow};
use reqwest::StatusCode;
use serde_json::Value;

use crate::api::make_admin;
use crate::cli::{cli, cli_on};
use crate::flows::{form_value, location, query_of, submit_login};
use crate::harness::{Backend, PASSWORD, TestApp, TestDb, browser, on_both_backends};
use crate::operations::{failed_login_from, stop_and_read};

// ---------------------------------------------------------------------------------------------
// One form for every address

/// Two wrong passwords from the client as a proxy wrote it in IPv6 form and in IPv4 form count
/// against one address; a third client behind the same proxy is not locked out.
async fn mapped_and_plain_forms_share_one_throttle(app: &TestApp) {
    assert_eq!(
        failed_login_from(app, "::ffff:203.0.113.9", "nobody0").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        failed_login_from(app, "203.0.113.9", "nobody1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        failed_login_from(app, "::FFFF:203.0.113.9", "nobody2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the third failure of one address, in whichever form, locks it"
    );
    assert_eq!(
        failed_login_from(app, "203.0.113.10", "nobody3").await,
        StatusCode::UNAUTHORIZED,
        "another client behind the proxy is not locked: the proxy's header was believed"
    );
    // A real IPv6 client is its own address, not an IPv4 one.
    assert_eq!(
        failed_login_from(app, "2001:db8::9", "nobody4").await,
        StatusCode::UNAUTHORIZED
    );
}

/// Behind a trusted proxy on 127.0.0.1, `X-Forwarded-For: ::ffff:203.0.113.9` is 203.0.113.9.
async fn a_mapped_forwarded_address_is_throttled_as_its_ipv4_form(backend: Backend) {
    let app = crate::harness::start_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
        c.login.max_failures_per_ip = 3;
    })
    .await
    .expect("TEST_DATABASE_URL was set when the tests were built");
    mapped_and_plain_forms_share_one_throttle(&app).await;
}

/// A server bound to `[::]` sees its IPv4 peers as `::ffff:127.0.0.1`: they still match the
/// trusted proxy `127.0.0.1/32` (and its forwarded header is believed), as on `0.0.0.0`.
async fn a_server_bound_to_every_address_sees_ipv4_peers_as_ipv4(backend: Backend) {
    let app = crate::harness::start_bound(backend, "[::]:0", "127.0.0.1", |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
        c.login.max_failures_per_ip = 3;
    })
    .await
    .expect("TEST_DATABASE_URL was set when the tests were built");
    mapped_and_plain_forms_share_one_throttle(&app).await;
    // The audit log and the account's activity record the address in IPv4 form too: an admin
    // signing in through the proxy from the mapped form of 198.51.100.4.
    make_admin(&app, "chief").await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        reqwest::header::HeaderValue::from_static("::ffff:198.51.100.4"),
    );
    let admin = crate::harness::client_builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client");
    let signed_in = submit_login(&app, &admin, "/login", "chief", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    imported(&app, "mapped1").await;
    let invited = post_admin_invite(&app, &admin, &[("scope", "all")]).await;
    assert_eq!(invited.status(), StatusCode::SEE_OTHER);
    let entry = audit_rows(&app)
        .await
        .into_iter()
        .find(|r| r.action == "user.invite")
        .expect("the invitation's entry");
    assert_eq!(entry.client_ip.as_deref(), Some("198.51.100.4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_forwarded_address_is_throttled_as_its_ipv4_form_on_sqlite() {
    a_mapped_forwarded_address_is_throttled_as_its_ipv4_form(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn a_mapped_forwarded_address_is_throttled_as_its_ipv4_form_on_postgres() {
    a_mapped_forwarded_address_is_throttled_as_its_ipv4_form(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_bound_to_every_address_sees_ipv4_peers_as_ipv4_on_sqlite() {
    a_server_bound_to_every_address_sees_ipv4_peers_as_ipv4(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn a_server_bound_to_every_address_sees_ipv4_peers_as_ipv4_on_postgres() {
    a_server_bound_to_every_address_sees_ipv4_peers_as_ipv4(Backend::Postgres).await;
}

/// A network of shared computers holds its addresses in whichever form they arrive or are
/// configured: no browser there is offered "remember this browser".
#[test]
fn shared_networks_hold_mapped_addresses_in_either_form() {
    let config = |networks: &str| {
        hccc_sso::config::Config::load(&[
            ("HCCC_SSO_ISSUER", "https://sso.hccc.edu"),
            ("HCCC_SSO_SECRET_KEY", crate::harness::secret_key()),
            ("HCCC_SSO_SHARED_NETWORKS", networks),
        ])
        .expect("valid")
        .0
    };
    let may = hccc_sso::accounts::factors::may_remember;
    for networks in ["10.20.0.0/16", "::ffff:10.20.0.0/112", "::ffff:10.20.1.5"] {
        let lab = config(networks);
        for inside in ["10.20.1.5", "::ffff:10.20.1.5", "::FFFF:a14:105"] {
            assert!(!may(&lab, inside), "{inside} is in {networks}");
        }
        assert!(may(&lab, "10.21.0.1"), "outside {networks}");
        assert!(may(&lab, "2001:db8::1"), "a real IPv6 address is outside");
        assert!(!may(&lab, "not an address"), "garbage is never remembered");
    }
}

/// QR sign-in, offered on the shared networks only, finds a mapped address on them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_sign_in_finds_a_mapped_address_on_a_shared_network() {
    let app = crate::harness::start_with(Backend::Sqlite, |c| {
        c.mfa.shared_networks = vec!["10.20.0.0/16".parse().expect("net")];
    })
    .await
    .expect("app");
    let offered = |ip: &str| hccc_sso::login::qr::offered(&app.state, ip);
    assert!(offered("10.20.1.5"));
    assert!(offered("::ffff:10.20.1.5"));
    assert!(!offered("::ffff:10.21.1.5"));
    assert!(!offered("2001:db8::1"));
}

// ---------------------------------------------------------------------------------------------
// Invitations: a second run leaves working links alone

/// An imported student: no password yet.
async fn imported(app: &TestApp, username: &str) -> hccc_sso::store::AccountRow {
    let new = NewAccount {
        username: username.into(),
        email: format!("{username}@students.hccc.edu"),
        email_verified: false,
        given_name: Some("Rosa".into()),
        family_name: Some("Parks".into()),
        password_hash: None,
        roles: vec!["student".into()],
        groups: vec!["Class of 2028".into()],
        must_change_password: false,
        locale: None,
        recovery_email: None,
    };
    app.store()
        .insert_account(new, app.clock.now())
        .await
        .expect("insert")
}

/// The tokens of the account's invitation links waiting in the outbox (no relay in tests).
async fn waiting_invitations(app: &TestApp, account: &hccc_sso::store::AccountRow) -> Vec<String> {
    app.store()
        .pending_links(account.account_id, app.clock.now())
        .await
        .expect("pending")
        .into_iter()
        .filter(|row| row.purpose == "invitation")
        .map(|row| {
            let link = hccc_sso::mail::open_link(&app.state, row.mail_id, &row.link_sealed)
                .expect("the link opens");
            query_of(&link)["token"].clone()
        })
        .collect()
}

/// The one invitation waiting for `account`.
async fn the_invitation(app: &TestApp, account: &hccc_sso::store::AccountRow) -> String {
    let mut tokens = waiting_invitations(app, account).await;
    assert_eq!(tokens.len(), 1, "one letter waits for {}", account.username);
    tokens.remove(0)
}

/// The status of the invitation page for `token`: 200 while it works, 400 once it does not.
async fn welcome(app: &TestApp, token: &str) -> StatusCode {
    crate::harness::http()
        .get(app.url(&format!("/account/welcome?token={token}")))
        .send()
        .await
        .expect("welcome")
        .status()
}

async fn post_admin_invite(
    app: &TestApp,
    admin: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = admin
        .get(app.url("/admin/users"))
        .send()
        .await
        .expect("users")
        .text()
        .await
        .expect("html");
    let mut form = vec![("csrf_token", form_value(&html, "csrf_token").expect("csrf"))];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    admin
        .post(app.url("/admin/users/invite"))
        .form(&form)
        .send()
        .await
        .expect("invite")
}

async fn audit_rows(app: &TestApp) -> Vec<AuditRow> {
    let filter = AuditFilter {
        limit: 500,
        ..AuditFilter::default()
    };
    app.store().search_audit(&filter).await.expect("audit").0
}

/// "Invite every account without a password" twice: the second run skips the accounts whose
/// invitation still works and says so; ticking "send a new link" replaces them.
async fn a_second_invitation_run_on_the_admin_page_leaves_working_links_alone(app: TestApp) {
    make_admin(&app, "chief").await;
    let admin = browser();
    let signed_in = submit_login(&app, &admin, "/login", "chief", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let ana = imported(&app, "ana").await;
    let ben = imported(&app, "ben").await;

    let first = post_admin_invite(&app, &admin, &[("scope", "all")]).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&first),
        "/admin/users?done=invited&count=2&skipped=0"
    );
    let ana_first = the_invitation(&app, &ana).await;
    let ben_first = the_invitation(&app, &ben).await;
    assert_eq!(welcome(&app, &ana_first).await, StatusCode::OK);

    // Minutes later, the same button: nothing is sent, and the page says why.
    app.clock.advance(300);
    let second = post_admin_invite(&app, &admin, &[("scope", "all")]).await;
    assert_eq!(
        location(&second),
        "/admin/users?done=invited&count=0&skipped=2"
    );
    let page = admin
        .get(app.url(&location(&second)))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("2 accounts were skipped: their invitations still work."),
        "the result names the skipped accounts"
    );
    assert!(
        !page.contains("each already has a password"),
        "and does not say they have passwords"
    );
    assert_eq!(
        welcome(&app, &ana_first).await,
        StatusCode::OK,
        "still works"
    );
    assert_eq!(
        welcome(&app, &ben_first).await,
        StatusCode::OK,
        "still works"
    );
    assert_eq!(
        waiting_invitations(&app, &ana).await,
        vec![ana_first.clone()]
    );

    // A new account is invited; the others are still skipped. By the filter form too, and by
    // the selection.
    let cy = imported(&app, "cy").await;
    let third = post_admin_invite(&app, &admin, &[("scope", "all")]).await;
    assert_eq!(
        location(&third),
        "/admin/users?done=invited&count=1&skipped=2"
    );
    let cy_first = the_invitation(&app, &cy).await;
    let filtered = post_admin_invite(
        &app,
        &admin,
        &[("scope", "filtered"), ("search", ""), ("role", "student")],
    )
    .await;
    assert_eq!(
        location(&filtered),
        "/admin/users?done=invited&count=0&skipped=3"
    );
    let select = format!("select_{}", ana.account_id);
    let selected = post_admin_invite(&app, &admin, &[(select.as_str(), "yes")]).await;
    assert_eq!(
        location(&selected),
        "/admin/users?done=invited&count=0&skipped=1"
    );
    let page = admin
        .get(app.url(&location(&selected)))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("One account was skipped: its invitation still works."));
    assert_eq!(welcome(&app, &ana_first).await, StatusCode::OK);

    // The named choice replaces them: the earlier links stop working, the new ones work.
    let resent = post_admin_invite(&app, &admin, &[("scope", "all"), ("resend", "yes")]).await;
    assert_eq!(
        location(&resent),
        "/admin/users?done=invited&count=3&skipped=0"
    );
    for (account, earlier) in [(&ana, &ana_first), (&ben, &ben_first), (&cy, &cy_first)] {
        assert_eq!(
            welcome(&app, earlier).await,
            StatusCode::BAD_REQUEST,
            "replaced"
        );
        let new = the_invitation(&app, account).await;
        assert_ne!(&new, earlier);
        assert_eq!(welcome(&app, &new).await, StatusCode::OK);
    }

    // Once they expire, a plain run sends again (signed in afresh: a week ends the session).
    app.clock.advance(app.state.config.mail.invitation_ttl + 1);
    let admin = browser();
    let signed_in = submit_login(&app, &admin, "/login", "chief", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let expired = post_admin_invite(&app, &admin, &[("scope", "all")]).await;
    assert_eq!(
        location(&expired),
        "/admin/users?done=invited&count=3&skipped=0"
    );

    // The audit log has one entry per run that sent something, with what it skipped.
    let runs: Vec<Value> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.action == "user.invite")
        .map(|r| serde_json::from_str(&r.detail).expect("detail"))
        .collect();
    assert_eq!(runs.len(), 4, "{runs:?}");
    // Newest first: the run after expiry, the resend, the third run, the first.
    assert_eq!(runs[1]["resend"], true);
    assert_eq!(runs[1]["skipped"], 0);
    assert_eq!(runs[2]["skipped"], 2);
    assert_eq!(runs[2]["resend"], false);

    // The page offers the choice, labelled, in both languages' catalogs.
    let html = admin
        .get(app.url("/admin/users"))
        .send()
        .await
        .expect("users")
        .text()
        .await
        .expect("html");
    for id in ["resend-selected", "resend-filtered", "resend-all"] {
        assert!(html.contains(&format!("<label for=\"{id}\">")), "{id}");
    }
    assert!(html.contains("their earlier link stops working"));
}

/// `user invite` on the command line: the second run skips and counts, `--resend` replaces,
/// `--username` names one account and always sends it a new link.
async fn a_second_invitation_run_on_the_command_line_leaves_working_links_alone(app: TestApp) {
    let ana = imported(&app, "ana").await;
    let ben = imported(&app, "ben").await;
    let run = |args: &[&str]| {
        let mut all = vec!["user", "invite"];
        all.extend_from_slice(args);
        let output = cli(&app, &all, None);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };
    let json = |output: std::process::Output| -> Value {
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    let first = json(run(&["--all-without-password", "--json"]));
    assert_eq!(
        (first["invited"].clone(), first["skipped"].clone()),
        (2.into(), 0.into())
    );
    let ana_first = the_invitation(&app, &ana).await;
    assert_eq!(welcome(&app, &ana_first).await, StatusCode::OK);

    let second = json(run(&["--all-without-password", "--json"]));
    assert_eq!(
        (second["invited"].clone(), second["skipped"].clone()),
        (0.into(), 2.into())
    );
    let by_role = run(&["--role", "student"]);
    let text = String::from_utf8_lossy(&by_role.stdout);
    assert!(
        text.contains("queued 0 invitations")
            && text.contains("skipped 2 whose invitation still works"),
        "{text}"
    );
    assert!(
        text.contains("--resend"),
        "the text names the choice: {text}"
    );
    assert_eq!(
        welcome(&app, &ana_first).await,
        StatusCode::OK,
        "still works"
    );
    assert_eq!(
        waiting_invitations(&app, &ana).await,
        vec![ana_first.clone()]
    );

    let resent = json(run(&["--all-without-password", "--resend", "--json"]));
    assert_eq!(
        (resent["invited"].clone(), resent["skipped"].clone()),
        (2.into(), 0.into())
    );
    assert_eq!(
        welcome(&app, &ana_first).await,
        StatusCode::BAD_REQUEST,
        "replaced"
    );
    let ana_second = the_invitation(&app, &ana).await;
    assert_eq!(welcome(&app, &ana_second).await, StatusCode::OK);

    // One named account: a new link, whatever it had.
    let named = json(run(&["--username", "ben", "--json"]));
    assert_eq!(
        (named["invited"].clone(), named["skipped"].clone()),
        (1.into(), 0.into())
    );
    assert_eq!(the_invitation(&app, &ben).await.len(), 43);
    assert_eq!(
        welcome(&app, &ana_second).await,
        StatusCode::OK,
        "ana untouched"
    );

    // Bad input changes nothing: an unknown account, an account with a password.
    app.create_user("haspass").await;
    for bad in [["--username", "nobody"], ["--username", "haspass"]] {
        let mut all = vec!["user", "invite"];
        all.extend_from_slice(&bad);
        let output = cli(&app, &all, None);
        assert!(!output.status.success(), "{bad:?}");
    }
    let runs = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.action == "user.invite")
        .count();
    assert_eq!(
        runs, 3,
        "the runs that sent something: first, resend, named"
    );
}

// ---------------------------------------------------------------------------------------------
// The command line leaves an audit entry for every change

/// `cli NAME (UID)`: this process's uid, which the CLI it starts shares.
fn this_uid() -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").expect("proc").uid()
}

fn ok_json(output: std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

async fn every_command_line_change_leaves_an_audit_entry(app: TestApp) {
    ok_json(cli(&app, &["migrate", "--json"], None));
    let user = ok_json(cli(
        &app,
        &[
            "user",
            "create",
            "--username",
            "dean",
            "--email",
            "dean@hccc.edu",
            "--admin",
            "--password-stdin",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    ));
    // A service app with full admin rights to the API.
    let service = ok_json(cli(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Roster sync",
            "--grant-type",
            "client_credentials",
            "--api-role",
            "admin",
            "--json",
        ],
        None,
    ));
    let service_id = service["client_id"].as_str().expect("id").to_owned();
    ok_json(cli(
        &app,
        &[
            "client",
            "update",
            &service_id,
            "--rotate-secret",
            "--require-mfa",
            "--json",
        ],
        None,
    ));
    let key = ok_json(cli(&app, &["keys", "rotate", "--json"], None));
    imported(&app, "newbie").await;
    ok_json(cli(
        &app,
        &["user", "invite", "--username", "newbie", "--json"],
        None,
    ));
    ok_json(cli(
        &app,
        &["user", "links", "--username", "newbie", "--json"],
        None,
    ));

    // Refused commands change nothing and write nothing.
    let duplicate = cli(
        &app,
        &[
            "user",
            "create",
            "--username",
            "dean",
            "--email",
            "other@hccc.edu",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(!duplicate.status.success());
    let invalid = cli(
        &app,
        &[
            "client",
            "create",
            "--name",
            "Bad",
            "--redirect-uri",
            "ftp://x.example/cb",
        ],
        None,
    );
    assert!(!invalid.status.success());

    let rows = audit_rows(&app).await;
    let uid = this_uid();
    let of =
        |action: &str| -> Vec<&AuditRow> { rows.iter().filter(|r| r.action == action).collect() };
    for (action, count) in [
        ("database.migrate", 1),
        ("user.create", 1),
        ("client.create", 1),
        ("client.update", 1),
        ("keys.rotate", 1),
        ("user.invite", 1),
        ("user.show_links", 1),
    ] {
        let entries = of(action);
        assert_eq!(entries.len(), count, "{action}: {rows:?}");
        for entry in entries {
            assert!(
                entry.actor.starts_with("cli ") && entry.actor.ends_with(&format!(" ({uid})")),
                "{action} by {}",
                entry.actor
            );
            assert_eq!(entry.client_ip, None);
        }
    }
    let created = of("user.create")[0];
    assert_eq!(
        created.target.as_deref(),
        Some(format!("user:{}", user["id"].as_str().expect("id")).as_str())
    );
    let detail: Value = serde_json::from_str(&created.detail).expect("detail");
    assert_eq!(detail["username"], "dean");
    assert_eq!(detail["roles"], serde_json::json!(["admin"]));
    assert!(!created.detail.contains(PASSWORD) && !created.detail.contains("argon2"));

    let client = of("client.create")[0];
    assert_eq!(
        client.target.as_deref(),
        Some(format!("client:{service_id}").as_str())
    );
    let detail: Value = serde_json::from_str(&client.detail).expect("detail");
    assert_eq!(detail["api_roles"], serde_json::json!(["admin"]));
    assert_eq!(
        detail["grant_types"],
        serde_json::json!(["client_credentials"])
    );
    let secret = service["client_secret"].as_str().expect("secret");
    assert!(
        !rows.iter().any(|r| r.detail.contains(secret)),
        "no secret in the log"
    );

    let updated: Value = serde_json::from_str(&of("client.update")[0].detail).expect("detail");
    assert_eq!(updated["secret_rotated"], true);
    assert_eq!(updated["require_mfa"], true);
    assert_eq!(
        of("keys.rotate")[0].target.as_deref(),
        Some(format!("key:{}", key["kid"].as_str().expect("kid")).as_str())
    );

    // The audit page names the operator.
    make_admin(&app, "chief").await;
    let admin = browser();
    submit_login(&app, &admin, "/login", "chief", PASSWORD).await;
    let html = admin
        .get(app.url("/admin/audit?action=client.create"))
        .send()
        .await
        .expect("audit page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("The command line on the server, as")
            && html.contains(&format!("(user id {uid})")),
        "the audit page names the operator"
    );
}

// ---------------------------------------------------------------------------------------------
// Expired remembered browsers are swept

async fn expired_remembered_browsers_are_swept(app: TestApp) {
    let account = app.create_user("roamer").await;
    let now = app.clock.now();
    let row = |expires_at: i64| RememberedRow {
        remembered_id: uuid::Uuid::new_v4(),
        account_id: account.account_id,
        methods: "otp".into(),
        user_agent: Some("Firefox".into()),
        ip: Some("203.0.113.9".into()),
        created_at: now - 40 * 86_400,
        expires_at,
        last_used_at: None,
    };
    // It expires in ten seconds: the app's own sweep (which runs at start, on the app's clock,
    // which the test does not move) must not take it before the first count.
    let expired = row(now + 10);
    let live = row(now + 86_400);
    for (n, r) in [&expired, &live].into_iter().enumerate() {
        app.store()
            .insert_remembered(r, &[n as u8; 32])
            .await
            .expect("insert");
    }
    let store = app.store().clone();
    let remembered = |at: i64| {
        let store = store.clone();
        async move {
            store
                .list_remembered(account.account_id, at)
                .await
                .expect("list")
                .into_iter()
                .map(|r| r.remembered_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        remembered(0).await.len(),
        2,
        "both are stored before the sweep"
    );
    app.store()
        .delete_expired(now + 11, 400, 10)
        .await
        .expect("sweep");
    assert_eq!(
        remembered(0).await,
        vec![live.remembered_id],
        "the expired row is gone"
    );
    // The live one goes at its own expiry.
    app.store()
        .delete_expired(now + 86_401, 400, 10)
        .await
        .expect("sweep");
    assert!(remembered(0).await.is_empty());
}

on_both_backends!(
    a_second_invitation_run_on_the_admin_page_leaves_working_links_alone,
    a_second_invitation_run_on_the_command_line_leaves_working_links_alone,
    every_command_line_change_leaves_an_audit_entry,
    expired_remembered_browsers_are_swept,
);

// ---------------------------------------------------------------------------------------------
// The log: refusals with a reason, the first start in the log's format

/// The server binary on `db` with JSON logs on stdout, standard error piped, and `env` set (or,
/// with an empty value, removed).
async fn serve_logging(db: &TestDb, env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let port = crate::harness::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hccc-sso"));
    command
        .arg("serve")
        .current_dir(db.dir())
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("HCCC_SSO_SECRET_KEY", crate::harness::secret_key())
        .env("HCCC_SSO_BIND", format!("127.0.0.1:{port}"))
        .env("HCCC_SSO_ISSUER", &base)
        .env("HCCC_SSO_ADMIN_PASSWORD", "logging operator passphrase")
        .env("HCCC_SSO_DATA_DIR", db.dir())
        .env("HCCC_SSO_LOG_FORMAT", "json")
        .env("RUST_LOG", "info");
    for (name, value) in env {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    for _ in 0..200 {
        if reqwest::get(format!("{base}/health/live")).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (child, base)
}

/// Stops the server; its JSON log lines (every stdout line must be JSON) and its standard error.
async fn stop_with_stderr(mut child: tokio::process::Child) -> (Vec<Value>, String) {
    use tokio::io::AsyncReadExt as _;
    let mut stderr = child.stderr.take().expect("stderr");
    let lines = stop_and_read(child).await;
    let mut text = String::new();
    stderr.read_to_string(&mut text).await.expect("stderr");
    (lines, text)
}

/// Unknown client, unregistered redirect URI, a request the client gets an error for, an unknown
/// pushed request, and /par's refusals: each leaves one warning with the client id, the redirect
/// URI as sent and the reason, tied to its request, and never the state, nonce or a secret.
#[tokio::test]
async fn every_refused_authorization_request_logs_one_warning_with_its_reason() {
    let Some(db) = TestDb::fresh(Backend::Sqlite).await else {
        return;
    };
    let registered = ok_json(cli_on(
        &db,
        &[
            "client",
            "create",
            "--name",
            "Refusal RP",
            "--redirect-uri",
            "https://rp.example/cb",
            "--json",
        ],
        None,
        &[],
    ));
    let client_id = registered["client_id"].as_str().expect("id").to_owned();
    let secret = registered["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let (child, base) = serve_logging(&db, &[]).await;
    let http = crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let unknown = uuid::Uuid::new_v4().to_string();
    let authorize = |id: &str, client: &str, redirect: &str, scope: &str| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client)
            .append_pair("redirect_uri", redirect)
            .append_pair("response_type", "code")
            .append_pair("scope", scope)
            .append_pair("state", "STATE-SECRET-1")
            .append_pair("nonce", "NONCE-SECRET-1")
            .finish();
        http.get(format!("{base}/authorize?{query}"))
            .header("x-request-id", id)
            .send()
    };
    let good = "https://rp.example/cb";
    let cases = [
        ("refused-unknown", unknown.as_str(), good, "openid"),
        ("refused-garbled", "not-a-client-id", good, "openid"),
        (
            "refused-redirect",
            client_id.as_str(),
            "https://evil.example/cb?x=1",
            "openid",
        ),
        ("refused-scope", client_id.as_str(), good, "profile"),
    ];
    for (id, client, redirect, scope) in cases {
        let response = authorize(id, client, redirect, scope)
            .await
            .expect("authorize");
        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::SEE_OTHER,
            "{id}: {status}"
        );
    }
    // Accepted: it goes to sign in, and no warning.
    let accepted = authorize("accepted", &client_id, good, "openid")
        .await
        .expect("authorize");
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    assert!(
        location_of(&accepted).starts_with("/login"),
        "{}",
        location_of(&accepted)
    );
    let pushed_unknown = http
        .get(format!(
            "{base}/authorize?client_id={client_id}&request_uri=urn:ietf:params:oauth:request_uri:{}",
            uuid::Uuid::new_v4()
        ))
        .header("x-request-id", "refused-request-uri")
        .send()
        .await
        .expect("authorize");
    assert_eq!(pushed_unknown.status(), StatusCode::BAD_REQUEST);
    let par = |id: &'static str, secret: String, redirect: &'static str| {
        http.post(format!("{base}/par"))
            .basic_auth(&client_id, Some(secret))
            .header("x-request-id", id)
            .form(&[
                ("redirect_uri", redirect),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "STATE-SECRET-1"),
            ])
            .send()
    };
    let par_bad = par("refused-par", secret.clone(), "https://evil.example/cb")
        .await
        .expect("par");
    assert_eq!(par_bad.status(), StatusCode::BAD_REQUEST);
    let par_auth = par("refused-par-auth", "wrong secret".into(), good)
        .await
        .expect("par");
    assert_eq!(par_auth.status(), StatusCode::UNAUTHORIZED);
    let par_good = par("accepted-par", secret.clone(), good)
        .await
        .expect("par");
    assert_eq!(par_good.status(), StatusCode::CREATED);

    let (lines, _) = stop_with_stderr(child).await;
    let refusals: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "authorization request refused")
        .collect();
    let of = |id: &str| -> Vec<&Value> {
        refusals
            .iter()
            .copied()
            .filter(|l| l["span"]["request_id"] == id)
            .collect()
    };
    let one = |id: &str| -> &Value {
        let found = of(id);
        assert_eq!(found.len(), 1, "{id}: one warning: {refusals:?}");
        found[0]
    };
    let unknown_line = one("refused-unknown");
    assert_eq!(unknown_line["level"], "WARN");
    assert_eq!(unknown_line["client_id"], unknown.as_str());
    assert_eq!(unknown_line["redirect_uri"], good);
    assert_eq!(
        unknown_line["reason"],
        "The application that sent you here is not registered with HCCC sign-in."
    );
    assert_eq!(one("refused-garbled")["client_id"], "not-a-client-id");
    let redirect_line = one("refused-redirect");
    assert_eq!(redirect_line["client_id"], client_id.as_str());
    assert_eq!(redirect_line["redirect_uri"], "https://evil.example/cb?x=1");
    assert!(
        redirect_line["reason"]
            .as_str()
            .is_some_and(|r| r.contains("an address it has not registered")),
        "{redirect_line}"
    );
    let scope_line = one("refused-scope");
    assert_eq!(scope_line["error"], "invalid_scope");
    assert_eq!(scope_line["reason"], "scope must include openid");
    assert_eq!(one("refused-request-uri")["error"], "invalid_request_uri");
    let par_line = one("refused-par");
    assert_eq!(par_line["pushed"], true);
    assert_eq!(par_line["client_id"], client_id.as_str());
    assert_eq!(par_line["redirect_uri"], "https://evil.example/cb");
    assert_eq!(one("refused-par-auth")["error"], "invalid_client");
    assert!(of("accepted").is_empty() && of("accepted-par").is_empty());
    assert_eq!(refusals.len(), 7, "one per refused request: {refusals:?}");
    let raw = serde_json::to_string(&lines).unwrap_or_default();
    for secret in [
        "STATE-SECRET",
        "NONCE-SECRET",
        secret.as_str(),
        "wrong secret",
    ] {
        assert!(!raw.contains(secret), "{secret} is logged");
    }
}

fn location_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The first start's line about the admin account is a JSON log line like any other, with the
/// account and where its password came from; a generated password is printed once, to standard
/// error, and never into the log. The account's creation is audited.
#[tokio::test]
async fn the_first_start_line_is_in_the_logs_format_and_the_password_stays_out_of_it() {
    let Some(db) = TestDb::fresh(Backend::Sqlite).await else {
        return;
    };
    let (child, _) = serve_logging(&db, &[("HCCC_SSO_ADMIN_PASSWORD", "")]).await;
    let (lines, stderr) = stop_with_stderr(child).await;
    let first = lines
        .iter()
        .find(|l| l["message"] == "first start: created the admin account")
        .unwrap_or_else(|| panic!("a JSON line for the first start: {lines:?}\n{stderr}"));
    assert_eq!(first["username"], "admin");
    assert_eq!(first["must_change_password"], true);
    assert_eq!(
        first["password"],
        "generated: printed once to standard error"
    );
    let password = stderr
        .lines()
        .skip_while(|l| !l.contains("password of the admin account"))
        .nth(1)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        password.len(),
        43,
        "the password on standard error: {stderr}"
    );
    let raw = serde_json::to_string(&lines).unwrap_or_default();
    assert!(!raw.contains(&password), "the password is not in the log");
    assert_eq!(stderr.matches(&password).count(), 1, "printed once");

    // Started again: the account exists, no line and no password.
    let (child, _) = serve_logging(&db, &[("HCCC_SSO_ADMIN_PASSWORD", "")]).await;
    let (again, stderr) = stop_with_stderr(child).await;
    assert!(again.iter().all(|l| l["message"] != first["message"]));
    assert!(!stderr.contains("password of the admin account"));

    let store = hccc_sso::store::Store::connect(&db.url, 1)
        .await
        .expect("store");
    let filter = AuditFilter {
        action: Some("user.create".into()),
        limit: 10,
        ..AuditFilter::default()
    };
    let (rows, _) = store.search_audit(&filter).await.expect("audit");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].actor.starts_with("cli "), "{}", rows[0].actor);
    assert!(!rows[0].detail.contains(&password));

    // With HCCC_SSO_ADMIN_PASSWORD: the line says so, and the password is nowhere.
    let Some(db) = TestDb::fresh(Backend::Sqlite).await else {
        return;
    };
    let (child, _) = serve_logging(&db, &[]).await;
    let (lines, stderr) = stop_with_stderr(child).await;
    let first = lines
        .iter()
        .find(|l| l["message"] == "first start: created the admin account")
        .unwrap_or_else(|| panic!("a JSON line for the first start: {lines:?}"));
    assert_eq!(first["password"], "HCCC_SSO_ADMIN_PASSWORD");
    assert_eq!(first["must_change_password"], false);
    let raw = serde_json::to_string(&lines).unwrap_or_default();
    for out in [raw.as_str(), stderr.as_str()] {
        assert!(!out.contains("logging operator passphrase"));
    }
    assert!(
        stderr.trim().is_empty(),
        "nothing outside the log without a password to show: {stderr}"
    );
}
