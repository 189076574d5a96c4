//! Admin pages over HTTP: who may reach them, CSRF on every form, and the temporary password
//! that must be replaced at the next sign-in.

use hccc_sso::domain::GrantType;
use reqwest::StatusCode;

use crate::flows::{form_value, location, submit_login};
use crate::harness::{PASSWORD, TestApp, browser, on_both_backends};

async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let session = browser();
    let response = submit_login(app, &session, "/login", username, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session
}

async fn promote(app: &TestApp, username: &str) -> uuid::Uuid {
    let before = app.create_user(username).await;
    let mut account = before.clone();
    account.roles.0 = vec!["admin".into()];
    app.store()
        .update_account(&before, &account, app.clock.now())
        .await
        .expect("promote");
    account.account_id
}

async fn only_signed_in_admins_reach_admin_pages(app: TestApp) {
    let anonymous = browser();
    for path in [
        "/admin/users",
        "/admin/clients",
        "/admin/keys",
        "/admin/audit",
        "/admin/import",
    ] {
        let response = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let target = location(&response);
        assert!(
            target.starts_with("/login?return_to=%2Fadmin"),
            "{path} → {target}"
        );
    }
    app.create_user("pupil").await;
    let student = signed_in(&app, "pupil").await;
    let response = student.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Administrators only")
    );
    // A student's posted form is refused too, even with a valid CSRF token of their own session.
    let home = student
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_value(&home, "csrf_token").expect("csrf");
    let response = student
        .post(app.url("/admin/keys/rotate"))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    promote(&app, "chief").await;
    let admin = signed_in(&app, "chief").await;
    let page = admin
        .get(app.url("/admin/users?role=student&status=active&search=pup"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(">pupil</a>") && !html.contains(">chief</a>"),
        "filtered list"
    );
    for bad in [
        "/admin/users?role=wizard",
        "/admin/users?page=0",
        "/admin/audit?page=x",
    ] {
        let response = admin.get(app.url(bad)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    for missing in [
        "/admin/users/not-a-uuid",
        &format!("/admin/clients/{}", uuid::Uuid::new_v4()),
    ] {
        let response = admin.get(app.url(missing)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

async fn admin_forms_need_the_csrf_token(app: TestApp) {
    let chief = promote(&app, "chief").await;
    let victim = app.create_user("victim").await;
    let admin = signed_in(&app, "chief").await;
    for (path, form) in [
        (
            format!("/admin/users/{}/status", victim.account_id),
            vec![("status", "disabled")],
        ),
        (
            format!("/admin/users/{}/delete", victim.account_id),
            vec![("confirm", "on")],
        ),
        ("/admin/keys/rotate".to_owned(), vec![]),
    ] {
        let mut with_wrong_token = form.clone();
        with_wrong_token.push(("csrf_token", "forged"));
        for body in [form, with_wrong_token] {
            let response = admin.post(app.url(&path)).form(&body).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        }
    }
    let still = app
        .store()
        .find_account(victim.account_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!still.disabled, "nothing changed without the token");
    assert_eq!(app.store().list_audit(10, 0).await.unwrap().1.value, 0);

    // An admin cannot disable or demote themselves through the page either.
    let page = admin
        .get(app.url(&format!("/admin/users/{chief}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_value(&page, "csrf_token").expect("csrf");
    let response = admin
        .post(app.url(&format!("/admin/users/{chief}/status")))
        .form(&[("csrf_token", csrf.as_str()), ("status", "disabled")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("cannot disable your own account")
    );
}

async fn a_temporary_password_must_be_replaced_at_the_next_sign_in(app: TestApp) {
    promote(&app, "chief").await;
    let student = app.create_user("forgetful").await;
    let student_session = signed_in(&app, "forgetful").await;
    let admin = signed_in(&app, "chief").await;
    let page = admin
        .get(app.url(&format!("/admin/users/{}", student.account_id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_value(&page, "csrf_token").expect("csrf");
    let path = format!("/admin/users/{}/password", student.account_id);
    let weak = admin
        .post(app.url(&path))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("temporary_password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = admin
        .post(app.url(&path))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("temporary_password", "temporary pass 2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // The student's existing session has ended.
    let home = student_session
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("You are signed in"), "session ended");

    let fresh = browser();
    let response = submit_login(&app, &fresh, "/login", "forgetful", "temporary pass 2026").await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the change-password page, not a redirect"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("Choose a new password"));
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let home = fresh
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !home.contains("You are signed in"),
        "not signed in before choosing"
    );
    for (new, again, expected) in [
        (
            "a fresh passphrase",
            "a different one!!",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "forgetful1234",
            "forgetful1234",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a fresh passphrase",
            "a fresh passphrase",
            StatusCode::SEE_OTHER,
        ),
    ] {
        let response = fresh
            .post(app.url("/login/password"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("new_password", new),
                ("confirm_password", again),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{new}/{again}");
    }
    let home = fresh
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("You are signed in"));
    let again = submit_login(
        &app,
        &browser(),
        "/login",
        "forgetful",
        "temporary pass 2026",
    )
    .await;
    assert_eq!(
        again.status(),
        StatusCode::UNAUTHORIZED,
        "the temporary password is gone"
    );
    let account = app
        .store()
        .find_account(student.account_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!account.must_change_password);
}

/// Posts a form from an admin page with its CSRF token.
async fn post_form(
    app: &TestApp,
    session: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = session
        .get(app.url(page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_value(&html, "csrf_token").expect("csrf");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    session
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn admins_register_apps_rotate_secrets_and_keys_on_pages(app: TestApp) {
    promote(&app, "chief").await;
    let admin = signed_in(&app, "chief").await;
    let bad = post_form(
        &app,
        &admin,
        "/admin/clients/new",
        "/admin/clients/new",
        &[
            ("name", "Help desk"),
            ("redirect_uris", "http://helpdesk.hccc.edu/cb"),
            ("grant_authorization_code", "on"),
            ("token_endpoint_auth_method", "client_secret_basic"),
        ],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("must use https") && html.contains("value=\"Help desk\""),
        "shown back with the reason"
    );

    let created = post_form(
        &app,
        &admin,
        "/admin/clients/new",
        "/admin/clients/new",
        &[
            ("name", "Help desk"),
            (
                "redirect_uris",
                "https://helpdesk.hccc.edu/cb\nhttps://helpdesk.hccc.edu/cb2",
            ),
            ("grant_authorization_code", "on"),
            ("grant_refresh_token", "on"),
            ("grant_client_credentials", "on"),
            ("scope_openid", "on"),
            ("scope_profile", "on"),
            ("scope_roles", "on"),
            ("token_endpoint_auth_method", "client_secret_basic"),
            ("skip_consent", "on"),
        ],
    )
    .await;
    assert_eq!(created.status(), StatusCode::OK);
    let html = created.text().await.unwrap();
    let grab = |html: &str, id: &str| {
        let start = html.find(&format!("id=\"{id}\">")).expect(id) + id.len() + 6;
        html[start..start + html[start..].find('<').unwrap()].to_owned()
    };
    let client_id = grab(&html, "client-id");
    let first = grab(&html, "client-secret");
    let row = app
        .store()
        .find_client(uuid::Uuid::parse_str(&client_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.redirect_uris.len(), 2);
    assert!(row.skip_consent && row.allows_grant(GrantType::ClientCredentials));
    let edit = format!("/admin/clients/{client_id}");
    let page = admin
        .get(app.url(&edit))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&first), "the secret is never shown again");

    let rotated = post_form(&app, &admin, &edit, &format!("{edit}/secret"), &[]).await;
    let second = grab(&rotated.text().await.unwrap(), "client-secret");
    assert_ne!(first, second);
    let old = crate::harness::TestClient {
        client_id: client_id.clone(),
        secret: Some(first),
    };
    let new = crate::harness::TestClient {
        client_id: client_id.clone(),
        secret: Some(second),
    };
    let cc = [("grant_type", "client_credentials")];
    assert_eq!(
        crate::flows::token_request(&app, &old, &cc).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        crate::flows::token_request(&app, &new, &cc).await.0,
        StatusCode::OK
    );

    let unconfirmed = post_form(&app, &admin, &edit, &format!("{edit}/delete"), &[]).await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = post_form(
        &app,
        &admin,
        &edit,
        &format!("{edit}/delete"),
        &[("confirm", "on")],
    )
    .await;
    assert_eq!(location(&deleted), "/admin/clients?done=deleted");
    assert_eq!(
        crate::flows::token_request(&app, &new, &cc).await.0,
        StatusCode::UNAUTHORIZED
    );

    let keys_before = app
        .store()
        .list_published_keys(app.clock.now())
        .await
        .unwrap()
        .len();
    let rotated = post_form(&app, &admin, "/admin/keys", "/admin/keys/rotate", &[]).await;
    assert_eq!(location(&rotated), "/admin/keys?done=rotated");
    let keys_after = app
        .store()
        .list_published_keys(app.clock.now())
        .await
        .unwrap()
        .len();
    assert_eq!(
        keys_after,
        keys_before + 2,
        "a new RS256 and ES256 key are published"
    );
    let page = admin
        .get(app.url("/admin/keys"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("published, not yet signing"));
    let (entries, _) = app.store().list_audit(20, 0).await.unwrap();
    let mut actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    actions.reverse();
    assert_eq!(
        actions,
        [
            "client.create",
            "client.rotate_secret",
            "client.delete",
            "keys.rotate"
        ]
    );
    let audit = admin
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        audit.contains("client.rotate_secret") && !audit.contains(&client_id.replace('-', "x"))
    );
}

on_both_backends!(
    admins_register_apps_rotate_secrets_and_keys_on_pages,
    only_signed_in_admins_reach_admin_pages,
    admin_forms_need_the_csrf_token,
    a_temporary_password_must_be_replaced_at_the_next_sign_in,
);
