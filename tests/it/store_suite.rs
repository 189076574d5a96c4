//! The storage interface, run against both backends; and the two schemas kept in lockstep.

use std::collections::BTreeSet;

use hccc_sso::store::{
    CodeRedemption, Db, NewAccount, NewAuthCode, NewGrant, RefreshRotation, SessionRows, Store,
    StoreError,
};
use sqlx::Connection;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};
use uuid::Uuid;

use crate::harness::{Backend, TestApp, TestDb, on_both_backends};

fn account(username: &str, email: &str) -> NewAccount {
    NewAccount {
        username: username.into(),
        email: email.into(),
        email_verified: false,
        given_name: None,
        family_name: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
        roles: vec!["student".into(), "staff".into()],
        groups: vec!["Class of 2027".into(), "Nursing".into()],
        must_change_password: false,
        locale: None,
        recovery_email: None,
    }
}

async fn accounts_are_unique_by_username_and_email_ignoring_case(app: TestApp) {
    let store = app.store();
    let now = app.clock.now();
    let created = store
        .insert_account(account("MixedCase", "Mixed@HCCC.edu"), now)
        .await
        .expect("insert");
    assert_eq!(
        created.username, "MixedCase",
        "the username is kept as typed"
    );
    assert_eq!(created.roles.0, vec!["student", "staff"]);
    assert_eq!(created.groups.0, vec!["Class of 2027", "Nursing"]);
    for (username, email) in [("mixedcase", "other@hccc.edu"), ("other", "mixed@hccc.edu")] {
        let err = store
            .insert_account(account(username, email), now)
            .await
            .expect_err("duplicate");
        assert!(
            matches!(err, StoreError::Conflict),
            "{username}/{email}: {err:?}"
        );
    }
    for login in ["MIXEDCASE", "mixed@hccc.EDU", " mixedcase "] {
        let found = store
            .find_account_by_login(login)
            .await
            .expect("find")
            .expect("found");
        assert_eq!(found.account_id, created.account_id, "{login}");
    }
    assert!(
        store
            .find_account_by_login("nobody")
            .await
            .expect("find")
            .is_none()
    );
    assert_eq!(store.count_accounts().await.expect("count"), 1);
    assert!(matches!(
        store.set_account_disabled(Uuid::new_v4(), true, now).await,
        Err(StoreError::NotFound)
    ));
}

async fn codes_are_single_use_and_reuse_revokes_the_grant(app: TestApp) {
    let store = app.store();
    let now = app.clock.now();
    let user = app.create_user("codeowner").await;
    let client = app.create_client(false, false).await;
    let client_id = Uuid::parse_str(&client.client_id).expect("uuid");
    let grant_id = store
        .insert_grant_with_code(
            NewGrant {
                account_id: user.account_id,
                client_id,
                scope: "openid".into(),
                sid: Uuid::new_v4(),
                auth_time: now,
                amr: vec!["pwd".into()],
                claims: "{}".into(),
            },
            NewAuthCode {
                code_hash: vec![7; 32],
                redirect_uri: "http://127.0.0.1:8765/cb".into(),
                nonce: Some("n".into()),
                code_challenge: None,
                expires_at: now + 60,
            },
            now,
        )
        .await
        .expect("insert");
    // Another client presenting the code neither spends it nor learns that it is valid.
    let other = Uuid::parse_str(&app.create_client(false, false).await.client_id).expect("uuid");
    assert!(matches!(
        store
            .redeem_auth_code(&[7; 32], other, now)
            .await
            .expect("thief"),
        CodeRedemption::Unknown
    ));
    match store
        .redeem_auth_code(&[7; 32], client_id, now)
        .await
        .expect("redeem")
    {
        CodeRedemption::Redeemed(row) => {
            assert_eq!(row.grant_id, grant_id);
            assert_eq!(row.nonce.as_deref(), Some("n"));
        }
        other => panic!("expected Redeemed, got {other:?}"),
    }
    store
        .insert_refresh_token(&[9; 32], grant_id, now, now + 100)
        .await
        .expect("refresh");
    assert!(matches!(
        store
            .redeem_auth_code(&[7; 32], client_id, now)
            .await
            .expect("again"),
        CodeRedemption::Reused
    ));
    assert!(
        store
            .find_grant(grant_id)
            .await
            .expect("grant")
            .expect("exists")
            .revoked_at
            .is_some()
    );
    assert!(
        store
            .find_userinfo(grant_id, "any-jti")
            .await
            .expect("userinfo")
            .is_none()
    );
    assert!(
        matches!(
            store
                .rotate_refresh_token(&[9; 32], client_id, &[10; 32], now + 100, now)
                .await
                .expect("rotate"),
            RefreshRotation::Unknown
        ),
        "revocation deleted the refresh tokens"
    );
    assert!(matches!(
        store
            .redeem_auth_code(&[8; 32], client_id, now)
            .await
            .expect("unknown"),
        CodeRedemption::Unknown
    ));
}

/// A user, a client and a grant of theirs with an unspent code: (user, client id, grant id).
async fn grant_with_code(
    app: &TestApp,
    username: &str,
    code_hash: &[u8],
) -> (hccc_sso::store::AccountRow, Uuid, Uuid) {
    let now = app.clock.now();
    let user = app.create_user(username).await;
    let client = app.create_client(false, false).await;
    let client_id = Uuid::parse_str(&client.client_id).expect("uuid");
    let grant_id = app
        .store()
        .insert_grant_with_code(
            NewGrant {
                account_id: user.account_id,
                client_id,
                scope: "openid".into(),
                sid: Uuid::new_v4(),
                auth_time: now,
                amr: vec![],
                claims: "{}".into(),
            },
            NewAuthCode {
                code_hash: code_hash.to_vec(),
                redirect_uri: "x".into(),
                nonce: None,
                code_challenge: None,
                expires_at: now + 60,
            },
            now,
        )
        .await
        .expect("grant");
    (user, client_id, grant_id)
}

async fn refresh_tokens_rotate_once_and_expire(app: TestApp) {
    let store = app.store();
    let now = app.clock.now();
    let (user, client_id, grant_id) = grant_with_code(&app, "rotating", &[1; 32]).await;
    store
        .insert_refresh_token(&[2; 32], grant_id, now, now + 100)
        .await
        .expect("insert");
    store
        .insert_refresh_token(&[3; 32], grant_id, now, now + 10)
        .await
        .expect("insert");
    let rotate = |old: u8, new: u8, at: i64| async move {
        store
            .rotate_refresh_token(&[old; 32], client_id, &[new; 32], at + 100, at)
            .await
    };
    // Another client's attempt is unknown to it and leaves the token as it was.
    let other = Uuid::parse_str(&app.create_client(false, false).await.client_id).expect("uuid");
    assert!(matches!(
        store
            .rotate_refresh_token(&[2; 32], other, &[9; 32], now + 100, now)
            .await
            .expect("thief"),
        RefreshRotation::Unknown
    ));
    assert!(
        matches!(rotate(2, 4, now).await.expect("rotate"), RefreshRotation::Rotated { grant, account } if grant.grant_id == grant_id && account.account_id == user.account_id)
    );
    // The replacement stored with the rotation continues the chain.
    assert!(
        matches!(rotate(4, 5, now).await.expect("rotate the replacement"), RefreshRotation::Rotated { grant, .. } if grant.grant_id == grant_id && grant.scope == "openid")
    );
    assert!(matches!(
        rotate(3, 6, now + 11).await.expect("expired"),
        RefreshRotation::Unknown
    ));
    assert!(
        matches!(
            rotate(6, 7, now).await.expect("never stored"),
            RefreshRotation::Unknown
        ),
        "an expired token's rotation stored no replacement"
    );
    assert!(matches!(
        rotate(2, 8, now).await.expect("reuse"),
        RefreshRotation::Reused
    ));
    assert!(
        matches!(
            rotate(5, 9, now).await.expect("family"),
            RefreshRotation::Unknown
        ),
        "reuse revoked the whole family, the latest replacement too"
    );
    assert!(
        store
            .find_grant(grant_id)
            .await
            .expect("grant")
            .expect("exists")
            .revoked_at
            .is_some()
    );
}

async fn throttle_windows_restart_and_expired_rows_are_swept(app: TestApp) {
    let store = app.store();
    let now = app.clock.now();
    assert_eq!(
        store
            .record_login_failure("user:x", now, 900)
            .await
            .expect("1")
            .failures,
        1
    );
    assert_eq!(
        store
            .record_login_failure("user:x", now + 10, 900)
            .await
            .expect("2")
            .failures,
        2
    );
    let restarted = store
        .record_login_failure("user:x", now + 901, 900)
        .await
        .expect("3");
    assert_eq!(
        (restarted.failures, restarted.window_started_at),
        (1, now + 901),
        "a new window starts after 900 s"
    );
    store.lock_throttle("user:x", now + 50).await.expect("lock");
    assert_eq!(
        store
            .find_throttle("user:x")
            .await
            .expect("find")
            .expect("row")
            .locked_until,
        now + 50
    );
    store.clear_throttle("user:x").await.expect("clear");
    assert!(store.find_throttle("user:x").await.expect("find").is_none());

    let client = app.create_client(false, false).await;
    let client_id = Uuid::parse_str(&client.client_id).expect("uuid");
    let id = store
        .insert_pending_authorization(client_id, "{}", &[1; 32], now, now + 5)
        .await
        .expect("pending");
    assert!(
        store
            .find_pending_authorization(id, now)
            .await
            .expect("find")
            .is_some()
    );
    assert!(
        store
            .find_pending_authorization(id, now + 5)
            .await
            .expect("find")
            .is_none(),
        "expired requests are not found"
    );
    assert!(store.delete_expired(now + 6, 400, 10).await.expect("sweep") >= 1);
    assert!(
        !store
            .delete_pending_authorization(id)
            .await
            .expect("delete"),
        "already swept"
    );
}

async fn sessions_are_created_once_and_read_back_by_the_library(app: TestApp) {
    let store = app.store().clone();
    match app.store().db() {
        Db::Postgres(pool) => session_round_trip(PostgresStore::new(pool.clone()), store).await,
        Db::Sqlite(pool) => session_round_trip(SqliteStore::new(pool.clone()), store).await,
    }
}

/// Our `create` writes what tower-sessions-sqlx-store reads, and never overwrites a session.
async fn session_round_trip<S: SessionStore + Clone>(library: S, store: Store) {
    let lifetime = hccc_sso::store::SessionLifetime {
        idle: 7200,
        remembered: 30 * 86_400,
    };
    let rows = SessionRows::new(library.clone(), store, lifetime);
    let expiry_date = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let record = |csrf: &str, id: Id| Record {
        id,
        data: [("csrf".to_owned(), serde_json::json!(csrf))].into(),
        expiry_date,
    };
    let taken = Id::default();
    let mut first = record("abc", taken);
    rows.create(&mut first).await.expect("create");
    assert_eq!(first.id, taken, "a free id is kept");
    let loaded = library.load(&taken).await.expect("load").expect("stored");
    assert_eq!(loaded.data["csrf"], "abc");

    let mut second = record("other", taken);
    rows.create(&mut second).await.expect("create");
    assert_ne!(second.id, taken, "a taken id is drawn again");
    let first_again = library.load(&taken).await.expect("load").expect("first");
    assert_eq!(
        first_again.data["csrf"], "abc",
        "the first session was not overwritten"
    );
    let second_loaded = library
        .load(&second.id)
        .await
        .expect("load")
        .expect("second");
    assert_eq!(second_loaded.data["csrf"], "other");

    // tower-sessions stores browser-session cookies' records for two weeks: the row lives only
    // as long as the idle timeout, or the remembered lifetime when the person chose it.
    let two_weeks = time::OffsetDateTime::now_utc() + time::Duration::weeks(2);
    let login = |remember: bool| {
        serde_json::json!({"account_id": uuid::Uuid::new_v4(), "sid": uuid::Uuid::new_v4(),
            "auth_time": 1, "amr": ["pwd"], "remember": remember})
    };
    for (data, lives) in [
        (serde_json::json!(null), time::Duration::hours(2)),
        (login(false), time::Duration::hours(2)),
        (login(true), time::Duration::days(30)),
    ] {
        let mut record = Record {
            id: Id::default(),
            data: [("login".to_owned(), data)].into(),
            expiry_date: two_weeks,
        };
        rows.create(&mut record).await.expect("create");
        let stored = library
            .load(&record.id)
            .await
            .expect("load")
            .expect("stored");
        let expected = time::OffsetDateTime::now_utc() + lives.min(time::Duration::weeks(2));
        let off = (stored.expiry_date - expected).whole_seconds().abs();
        assert!(off < 30, "expiry {} vs {expected}", stored.expiry_date);
    }
}

/// The sweep deletes in batches of 2,000 and stops at its budget, leaving the rest for the next
/// run; it never touches live rows; audit entries go after the retention (and never with 0).
async fn the_sweep_works_in_bounded_batches_and_keeps_what_is_live(app: TestApp) {
    use hccc_sso::store::{AuditEntry, SWEEP_BATCH};
    let store = app.store();
    let now = app.clock.now();
    let (_, client_id, grant_id) = grant_with_code(&app, "swept", &[7; 32]).await;
    // 5,000 expired refresh tokens and one live one.
    for n in 0u32..5_000 {
        let hash = hccc_sso::crypto::sha256(&n.to_be_bytes());
        store
            .insert_refresh_token(&hash, grant_id, now - 100, now - 1)
            .await
            .expect("token");
    }
    store
        .insert_refresh_token(&[42; 32], grant_id, now, now + 3600)
        .await
        .expect("live token");
    let entry = AuditEntry {
        actor: "admin".into(),
        action: "user.update".into(),
        target: None,
        detail: serde_json::json!({}),
        client_ip: None,
    };
    store
        .insert_audit(&entry, now - 401 * 86_400)
        .await
        .expect("old audit");
    store
        .insert_audit(&entry, now - 10)
        .await
        .expect("new audit");

    let at = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).expect("time");
    let sessions_before = app.session_rows().await;
    assert!(
        store
            .insert_new_session("expired-session", b"x", at(now - 5))
            .await
            .expect("session")
    );
    assert!(
        store
            .insert_new_session("live-session", b"x", at(now + 3600))
            .await
            .expect("session")
    );

    let first = store.delete_expired(now, 0, 1).await.expect("sweep");
    assert_eq!(
        first,
        SWEEP_BATCH + 1,
        "one batch of refresh tokens (then that table's budget is spent) and the expired session"
    );
    assert_eq!(
        app.session_rows().await,
        sessions_before + 1,
        "the live session is kept"
    );
    assert_eq!(
        store.list_audit(10, 0).await.expect("audit").1.value,
        2,
        "retention 0 keeps all"
    );

    let rest = store.delete_expired(now, 400, 1_000).await.expect("sweep");
    assert_eq!(
        rest,
        5_000 - SWEEP_BATCH + 1,
        "the other expired tokens and the old audit entry"
    );
    let (entries, count) = store.list_audit(10, 0).await.expect("audit");
    assert_eq!(count.value, 1);
    assert_eq!(entries[0].at, now - 10);
    assert_eq!(
        store.delete_expired(now, 400, 1_000).await.expect("sweep"),
        0
    );
    let live = store
        .rotate_refresh_token(&[42; 32], client_id, &[43; 32], now + 3600, now)
        .await
        .expect("rotate");
    assert!(
        matches!(live, hccc_sso::store::RefreshRotation::Rotated { .. }),
        "the live token survived the sweep"
    );
}

/// The directory search: three characters or more match anywhere in username, e-mail or name,
/// one or two only at the start; filters combine; counts stop at `COUNT_CAP` and say so.
async fn directory_searches_match_parts_and_counts_stop_at_the_cap(app: TestApp) {
    use hccc_sso::store::{AccountFilter, COUNT_CAP};
    let store = app.store();
    let now = app.clock.now();
    for n in 0..(COUNT_CAP + 5) {
        let mut new = account(&format!("s{n:05}"), &format!("s{n:05}@students.hccc.edu"));
        new.given_name = Some(if n % 2 == 0 { "Maria" } else { "Luis" }.into());
        new.family_name = Some(if n == 7 { "Garcia-Rodriguez" } else { "Ortiz" }.into());
        new.roles = if n == 3 {
            vec!["admin".into()]
        } else {
            vec!["student".into()]
        };
        store.insert_account(new, now).await.expect("account");
    }
    let list = |search: Option<&str>, role: Option<&str>, disabled: Option<bool>| {
        let filter = AccountFilter {
            search: search.map(str::to_owned),
            role: role.map(str::to_owned),
            disabled,
            limit: 50,
            offset: 0,
        };
        async move { store.list_accounts(&filter).await.expect("list") }
    };
    let (rows, count) = list(None, None, None).await;
    assert_eq!(
        (rows.len(), count.value, count.more),
        (50, COUNT_CAP, true),
        "capped"
    );
    assert_eq!(rows[0].username, "s00000", "ordered by username");
    let (rows, count) = list(Some("rodrig"), None, None).await;
    assert_eq!((count.value, count.more), (1, false));
    assert_eq!(rows[0].username, "s00007", "a part of the family name");
    let (_, count) = list(Some("RIA"), None, None).await;
    assert_eq!(
        (count.value, count.more),
        (503, false),
        "a part of the given name, any case"
    );
    let (_, count) = list(Some("ma"), None, None).await;
    assert_eq!(count.value, 503, "two letters: the start of the given name");
    let (_, count) = list(Some("ri"), None, None).await;
    assert_eq!(
        (count.value, count.more),
        (0, false),
        "two letters never match inside a word"
    );
    let (rows, count) = list(Some("s0100"), None, None).await;
    assert_eq!((count.value, rows.len()), (5, 5), "s01000..s01004");
    let (rows, _) = list(Some("%"), None, None).await;
    assert!(rows.is_empty(), "wildcards are literal");
    let (rows, count) = list(None, Some("admin"), Some(false)).await;
    assert_eq!((count.value, rows[0].username.as_str()), (1, "s00003"));
    let (_, count) = list(Some("maria"), None, Some(true)).await;
    assert_eq!(count.value, 0, "no disabled accounts");
}

on_both_backends!(
    directory_searches_match_parts_and_counts_stop_at_the_cap,
    the_sweep_works_in_bounded_batches_and_keeps_what_is_live,
    accounts_are_unique_by_username_and_email_ignoring_case,
    sessions_are_created_once_and_read_back_by_the_library,
    codes_are_single_use_and_reuse_revokes_the_grant,
    refresh_tokens_rotate_once_and_expire,
    throttle_windows_restart_and_expired_rows_are_swept,
);

#[test]
fn both_backends_have_the_same_migration_files() {
    let names = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("migrations folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
    };
    assert_eq!(names("postgres"), names("sqlite"));
    assert!(!names("postgres").is_empty());
}

/// Both schemas have the same tables and columns (types differ only by dialect).
#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "TEST_DATABASE_URL is not set")]
async fn both_backends_end_up_with_the_same_columns() {
    let Some(pg) = TestDb::fresh(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let lite = TestDb::fresh(Backend::Sqlite).await.expect("sqlite");
    hccc_sso::store::Store::connect(&pg.url, 1)
        .await
        .expect("pg")
        .migrate()
        .await
        .expect("migrate pg");
    let sqlite_store = hccc_sso::store::Store::connect(&lite.url, 1)
        .await
        .expect("sqlite");
    sqlite_store.migrate().await.expect("migrate sqlite");

    let mut conn = sqlx::PgConnection::connect(&pg.url).await.expect("connect");
    let pg_columns: BTreeSet<(String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text from information_schema.columns \
         where table_schema = 'public' and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("pg columns")
    .into_iter()
    .collect();
    let hccc_sso::store::Db::Sqlite(pool) = sqlite_store.db() else {
        unreachable!("sqlite store")
    };
    let sqlite_columns: BTreeSet<(String, String)> = sqlx::query_as(
        "select m.name, p.name from sqlite_master m join pragma_table_info(m.name) p \
         where m.type = 'table' and m.name not like 'sqlite_%' and m.name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("sqlite columns")
    .into_iter()
    .collect();
    assert!(pg_columns.len() > 40, "{pg_columns:?}");
    assert_eq!(pg_columns, sqlite_columns);
}
