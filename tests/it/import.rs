//! Bulk import of the student information system's CSV: dry run, idempotence, all-or-nothing,
//! a semester-sized file, and the CLI command.

use hccc_sso::accounts::import::{self, ImportError};
use hccc_sso::store::AccountFilter;

use crate::harness::{TestApp, on_both_backends};

const HEADER: &str = "username,email,given_name,family_name,roles,groups\n";

async fn count(app: &TestApp) -> i64 {
    app.store().count_accounts().await.expect("count")
}

async fn a_dry_run_reports_every_row_and_writes_nothing(app: TestApp) {
    app.create_user("existing").await; // existing@students.hccc.edu, student, Class of 2027
    app.create_user("bystander").await;
    let csv = format!(
        "{HEADER}\
         newone,newone@students.hccc.edu,New,One,student,Nursing;Class of 2028\n\
         existing,existing@students.hccc.edu,Ada,Lovelace,student;faculty,Class of 2027\n\
         bad name,bad@students.hccc.edu,Bad,Name,student,\n\
         newtwo,not-an-email,New,Two,student,\n\
         newone,again@students.hccc.edu,Dup,Licate,student,\n\
         stealer,bystander@students.hccc.edu,Steal,Er,student,\n\
         boss,boss@hccc.edu,Bo,Ss,admin,\n\
         roleless,roleless@hccc.edu,Ro,Le,wizard,\n"
    );
    let before = count(&app).await;
    let plan = import::plan(app.store(), csv.as_bytes())
        .await
        .expect("plan");
    assert_eq!(plan.creates.len(), 1);
    assert_eq!(plan.creates[0].0.username, "newone");
    assert_eq!(plan.updates.len(), 1, "existing gains the faculty role");
    assert_eq!(plan.updates[0].1.roles.0, vec!["faculty", "student"]);
    let rejected: Vec<(u64, String)> = plan.rejected.iter().map(|r| (r.line, r.reason())).collect();
    assert_eq!(rejected.len(), 6, "{rejected:?}");
    let lines: Vec<u64> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(
        lines,
        vec![4, 5, 6, 7, 8, 9],
        "line numbers count the header as line 1"
    );
    assert!(rejected[0].1.starts_with("username:"), "{rejected:?}");
    assert!(rejected[1].1.starts_with("email:"));
    assert!(rejected[2].1.contains("appears earlier"));
    assert!(rejected[3].1.contains("belongs to another account"));
    assert!(rejected[4].1.contains("admin role"));
    assert!(rejected[5].1.starts_with("roles:"));
    // Rejected rows block the whole file.
    assert!(matches!(
        import::apply(app.store(), &plan, app.clock.now()).await,
        Err(ImportError::Rejected(6))
    ));
    assert_eq!(count(&app).await, before, "nothing was written");
}

async fn an_import_is_idempotent_and_matches_by_username(app: TestApp) {
    let csv = format!(
        "{HEADER}\
         ana,ana@students.hccc.edu,Ana,Diaz,student,Nursing\n\
         pat.oneil,oneil@students.hccc.edu,\"Pat, Jr.\",O'Neil,student;staff,\"Class of 2027; Work study\"\n"
    );
    let plan = import::plan(app.store(), csv.as_bytes())
        .await
        .expect("plan");
    assert_eq!(
        (plan.creates.len(), plan.updates.len(), plan.unchanged),
        (2, 0, 0)
    );
    import::apply(app.store(), &plan, app.clock.now())
        .await
        .expect("apply");
    let pat = app
        .store()
        .find_account_by_login("PAT.ONEIL")
        .await
        .expect("db")
        .expect("imported");
    assert_eq!(pat.given_name.as_deref(), Some("Pat, Jr."));
    assert_eq!(pat.roles.0, vec!["staff", "student"]);
    assert_eq!(pat.groups.0, vec!["Class of 2027", "Work study"]);
    assert!(
        pat.password_hash.is_none(),
        "imported accounts get no password"
    );

    // The same file again: nothing to do.
    let plan = import::plan(app.store(), csv.as_bytes())
        .await
        .expect("plan");
    assert_eq!(
        (plan.creates.len(), plan.updates.len(), plan.unchanged),
        (0, 0, 2)
    );
    // A changed row updates in place, matched by username in any case.
    let changed = csv.replace(
        "ana,ana@students.hccc.edu,Ana,Diaz",
        "ANA,ana.diaz@students.hccc.edu,Ana,Díaz",
    );
    let plan = import::plan(app.store(), changed.as_bytes())
        .await
        .expect("plan");
    assert_eq!((plan.creates.len(), plan.updates.len()), (0, 1));
    import::apply(app.store(), &plan, app.clock.now())
        .await
        .expect("apply");
    let ana = app
        .store()
        .find_account_by_login("ana")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            ana.email.as_str(),
            ana.family_name.as_deref(),
            ana.username.as_str()
        ),
        ("ana.diaz@students.hccc.edu", Some("Díaz"), "ana")
    );
}

async fn malformed_files_are_refused_whole(app: TestApp) {
    for (csv, fragment) in [
        ("user,email\nx,y@hccc.edu\n", "unknown column"),
        ("username,given_name\nx,y\n", "email column"),
        ("username,email,email\nx,y@hccc.edu,z\n", "appears twice"),
        ("username,email\nx,y@hccc.edu,extra\n", "line 2"),
        ("", "username column"),
    ] {
        match import::plan(app.store(), csv.as_bytes()).await {
            Err(ImportError::File(message)) => {
                assert!(message.to_string().contains(fragment), "{csv:?}: {message}")
            }
            other => panic!("{csv:?} was accepted: {:?}", other.map(|p| p.summary())),
        }
    }
    let not_utf8 = b"username,email\n\xff\xfe,x@hccc.edu\n";
    assert!(matches!(
        import::plan(app.store(), not_utf8).await,
        Err(ImportError::File(_))
    ));
    // A byte-order mark (spreadsheet exports) is fine.
    let with_bom = "\u{feff}username,email\nbom.user,bom@hccc.edu\n";
    let plan = import::plan(app.store(), with_bom.as_bytes())
        .await
        .expect("plan");
    assert_eq!(plan.creates.len(), 1);
}

/// A semester's intake in one file: all 20,000 rows land, in one transaction.
async fn twenty_thousand_students_import_in_one_go(app: TestApp) {
    let mut csv = String::from(HEADER);
    for i in 0..20_000 {
        csv.push_str(&format!(
            "s{i:05},s{i:05}@students.hccc.edu,Student,Number{i},student,Class of 2027;Cohort {}\n",
            i % 40
        ));
    }
    let plan = import::plan(app.store(), csv.as_bytes())
        .await
        .expect("plan");
    assert_eq!((plan.creates.len(), plan.rejected.len()), (20_000, 0));
    import::apply(app.store(), &plan, app.clock.now())
        .await
        .expect("apply");
    assert_eq!(count(&app).await, 20_000);
    let (_, cohort) = app
        .store()
        .list_accounts(&AccountFilter {
            search: Some("s1999".into()),
            role: Some("student".into()),
            disabled: Some(false),
            limit: 100,
            offset: 0,
        })
        .await
        .expect("list");
    assert_eq!(cohort.value, 10, "s19990..s19999");
    let again = import::plan(app.store(), csv.as_bytes())
        .await
        .expect("plan");
    assert_eq!(again.unchanged, 20_000);
}

on_both_backends!(
    a_dry_run_reports_every_row_and_writes_nothing,
    an_import_is_idempotent_and_matches_by_username,
    malformed_files_are_refused_whole,
    twenty_thousand_students_import_in_one_go,
);
