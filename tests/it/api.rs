//! The JSON API under /api/v1: authentication, users and clients, validation and problem details,
//! the password and client_credentials grants for scripts, roles in tokens, and the OpenAPI docs.

use hccc_sso::domain::{GrantType, Scope, ScopeSet};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flows::{authorize_url, exchange_code, pkce, sign_in_for_code, token_request};
use crate::harness::{PASSWORD, TestApp, TestClient, browser, on_both_backends};
use crate::token::decode_segment;

/// Makes `username` an admin directly in the store (as the first-start admin would be).
pub(crate) async fn make_admin(app: &TestApp, username: &str) -> uuid::Uuid {
    let before = app.create_user(username).await;
    let mut account = before.clone();
    account.roles.0 = vec!["admin".into(), "staff".into()];
    app.store()
        .update_account(&before, &account, app.clock.now())
        .await
        .expect("promote");
    account.account_id
}

/// A confidential client that may use the password grant (a script's client).
pub(crate) async fn script_client(app: &TestApp) -> TestClient {
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |c| {
        c.grant_types = vec![GrantType::Password, GrantType::RefreshToken];
        c.settings.allowed_scopes = ScopeSet::parse("openid profile email roles api");
    })
    .await;
    client
}

pub(crate) async fn password_token(app: &TestApp, client: &TestClient, username: &str) -> String {
    let (status, body) = token_request(
        app,
        client,
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", PASSWORD),
            ("scope", "openid api roles"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

pub(crate) async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = crate::harness::http().request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("api call");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    if !status.is_success() {
        assert_eq!(
            content_type, "application/problem+json",
            "{path}: errors are problem+json"
        );
        assert_eq!(body["status"], status.as_u16(), "{body}");
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
    }
    (status, body)
}

use reqwest::Method;

async fn the_api_needs_a_bearer_token_with_the_api_scope(app: TestApp) {
    let (status, body) = call(&app, Method::GET, "/api/v1/health", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );

    let response = crate::harness::http()
        .get(app.url("/api/v1/users/me"))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let (status, _) = call(
        &app,
        Method::GET,
        "/api/v1/users/me",
        Some("not.a.jwt"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A relying party's ordinary token (openid profile email) cannot use the API.
    let (_, tokens) = crate::flows::signed_in_tokens(&app, "plainrp").await;
    let rp_token = tokens["access_token"].as_str().unwrap();
    let (status, body) = call(&app, Method::GET, "/api/v1/users/me", Some(rp_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("api scope"));
}

async fn the_password_grant_is_off_until_an_admin_enables_it(app: TestApp) {
    app.create_user("scripter").await;
    let client = app.create_client(false, true).await;
    let form = [
        ("grant_type", "password"),
        ("username", "scripter"),
        ("password", PASSWORD),
    ];
    let (status, body) = token_request(&app, &client, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
    );

    app.edit_client(&client.client_id, |c| {
        c.grant_types.push(GrantType::Password)
    })
    .await;
    let (status, body) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "scripter"),
            ("password", "wrong password!!"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, body) = token_request(
        &app,
        &client,
        &[("grant_type", "password"), ("username", "scripter")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    // Enabled, but not yet allowed `api`: the scope is dropped and the token cannot use the API.
    let (status, body) = token_request(&app, &client, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["scope"], "openid",
        "api is dropped until an admin allows it"
    );
    let token = body["access_token"].as_str().unwrap();
    let (status, _) = call(&app, Method::GET, "/api/v1/users/me", Some(token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    app.edit_client(&client.client_id, |c| {
        c.settings.allowed_scopes = c.settings.allowed_scopes.with(Scope::Api)
    })
    .await;
    let (status, body) = token_request(&app, &client, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "openid api", "the default scope for scripts");
    assert!(body["id_token"].is_string() && body["refresh_token"].is_string());
    let token = body["access_token"].as_str().unwrap();
    let (status, me) = call(&app, Method::GET, "/api/v1/users/me", Some(token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "scripter");
    assert_eq!(me["roles"], json!(["student"]));
    assert_eq!(me["groups"], json!(["Class of 2027"]));
    for field in [
        "id",
        "email",
        "email_verified",
        "given_name",
        "family_name",
        "disabled",
        "created_at",
        "updated_at",
    ] {
        assert!(me.get(field).is_some(), "{field} missing from {me}");
    }
    assert!(me.get("password_hash").is_none() && !me.to_string().contains("argon2"));
}

async fn admins_manage_users_and_bad_input_gets_problem_details(app: TestApp) {
    make_admin(&app, "director").await;
    let client = script_client(&app).await;
    let admin_token = password_token(&app, &client, "director").await;
    let admin = Some(admin_token.as_str());
    let new_user = json!({
        "username": "jstudent", "email": "jstudent@students.hccc.edu", "given_name": "Jo",
        "family_name": "Student", "roles": ["student"], "groups": ["Nursing"],
        "password": "a long and unusual passphrase"
    });
    let response = crate::harness::http()
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin_token)
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/users/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["roles"], json!(["student"]));

    // Duplicates, by username or e-mail in any case.
    let mut dup = new_user.clone();
    dup["username"] = json!("JSTUDENT");
    dup["email"] = json!("other@hccc.edu");
    assert_eq!(
        call(&app, Method::POST, "/api/v1/users", admin, Some(dup))
            .await
            .0,
        StatusCode::CONFLICT
    );

    // Invalid fields: each named in `errors`.
    let cases = [
        (
            json!({"username": "a b", "email": "x@hccc.edu"}),
            "username",
        ),
        (
            json!({"username": "okname", "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"username": "okname", "email": "ok@hccc.edu", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "okname", "email": "ok@hccc.edu", "password": "qwerty123456"}),
            "password",
        ),
        (
            json!({"username": "okname", "email": "ok@hccc.edu", "password": "okname is my password"}),
            "password",
        ),
        (
            json!({"username": "okname", "email": "ok@hccc.edu", "roles": ["superuser"]}),
            "roles",
        ),
        (
            json!({"username": "okname", "email": "ok@hccc.edu", "groups": ["a;b"]}),
            "groups",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = call(
            &app,
            Method::POST,
            "/api/v1/users",
            admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // Unknown or mistyped fields, and a missing one.
    for body in [
        json!({"username": "okname", "email": "ok@hccc.edu", "is_admin": true}),
        json!({"username": "okname", "email": "ok@hccc.edu", "roles": "admin"}),
        json!({"username": "okname"}),
    ] {
        let (status, _) = call(
            &app,
            Method::POST,
            "/api/v1/users",
            admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // Not JSON, or not declared as JSON.
    let raw = |content_type: &'static str, body: &'static str| {
        crate::harness::http()
            .post(app.url("/api/v1/users"))
            .bearer_auth(&admin_token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(
        raw("application/json", "{\"username\":")
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        raw("text/plain", "{}").await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = format!("{{\"username\": \"{}\"}}", "x".repeat(100 * 1024));
    let response = crate::harness::http()
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin_token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Ids: malformed → 400, unknown → 404.
    assert_eq!(
        call(&app, Method::GET, "/api/v1/users/not-a-uuid", admin, None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let unknown = format!("/api/v1/users/{}", uuid::Uuid::new_v4());
    assert_eq!(
        call(&app, Method::GET, &unknown, admin, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            Method::PATCH,
            &unknown,
            admin,
            Some(json!({"disabled": true}))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // Lists: search, role and status filters, paging.
    for name in ["amy", "bob", "cal"] {
        app.create_user(name).await;
    }
    let (status, page) = call(
        &app,
        Method::GET,
        "/api/v1/users?per_page=2&page=2",
        admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            page["total"].as_i64(),
            page["page"].as_i64(),
            page["per_page"].as_i64()
        ),
        (Some(5), Some(2), Some(2))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, page) = call(&app, Method::GET, "/api/v1/users?search=JSTUD", admin, None).await;
    assert_eq!(page["items"][0]["username"], "jstudent");
    assert_eq!(page["total"], 1);
    let (_, page) = call(
        &app,
        Method::GET,
        "/api/v1/users?search=jo+stud&role=student",
        admin,
        None,
    )
    .await;
    assert_eq!(page["total"], 1, "search matches names too: {page}");
    // A whole e-mail address, or a part of one across its `@`, finds exactly its account
    // (PostgreSQL finds candidates by the part before the `@` and checks the whole term).
    for (term, total) in [
        ("amy%40students", 1),
        ("AMY%40STUDENTS.HCCC.EDU", 1),
        ("my%40stu", 1),
        ("amy%40", 1),
        ("amy%40nowhere", 0),
        ("am%25%40students", 0),
        ("students.hccc", 5),
    ] {
        let (status, page) = call(
            &app,
            Method::GET,
            &format!("/api/v1/users?search={term}"),
            admin,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], total, "search {term}: {page}");
        if total == 1 {
            assert_eq!(page["items"][0]["username"], "amy", "search {term}");
        }
    }
    let (_, page) = call(&app, Method::GET, "/api/v1/users?role=admin", admin, None).await;
    assert_eq!(page["items"][0]["username"], "director");
    assert_eq!(page["total"], 1);
    let (_, page) = call(&app, Method::GET, "/api/v1/users?search=%25", admin, None).await;
    assert_eq!(page["total"], 0, "LIKE wildcards in a search are literal");
    for bad in [
        "per_page=0",
        "per_page=101",
        "page=0",
        "page=x",
        "role=wizard",
        "status=gone",
        "page=1&page=2",
    ] {
        let (status, _) = call(
            &app,
            Method::GET,
            &format!("/api/v1/users?{bad}"),
            admin,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // PATCH, PUT, DELETE.
    let path = format!("/api/v1/users/{}", created["id"].as_str().unwrap());
    let (status, patched) = call(
        &app,
        Method::PATCH,
        &path,
        admin,
        Some(json!({"given_name": null, "roles": ["faculty", "staff"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["given_name"], Value::Null);
    assert_eq!(patched["roles"], json!(["faculty", "staff"]));
    assert_eq!(patched["family_name"], "Student", "fields left out stay");
    let (status, put) = call(
        &app,
        Method::PUT,
        &path,
        admin,
        Some(json!({"username": "jstudent", "email": "new@hccc.edu"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            put["email"].as_str(),
            put["roles"].clone(),
            put["family_name"].clone()
        ),
        (Some("new@hccc.edu"), json!([]), Value::Null)
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        admin,
        Some(json!({"email": "amy@students.hccc.edu"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "another account's e-mail");
    assert_eq!(
        call(&app, Method::DELETE, &path, admin, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, Method::GET, &path, admin, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, Method::DELETE, &path, admin, None).await.0,
        StatusCode::NOT_FOUND
    );

    // Every change is in the audit log, with who and from where.
    let (entries, _) = app.store().list_audit(100, 0).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "user.update").count(),
        2,
        "{actions:?}"
    );
    assert!(actions.contains(&"user.create") && actions.contains(&"user.delete"));
    assert!(
        entries
            .iter()
            .all(|e| e.actor.starts_with("user director (")
                && e.client_ip.as_deref() == Some("127.0.0.1"))
    );
    assert!(
        entries
            .iter()
            .all(|e| !e.detail.contains("passphrase") && !e.detail.contains("argon2"))
    );

    // A student's token is refused the admin endpoints.
    let student = password_token(&app, &client, "amy").await;
    for (method, path) in [
        (Method::GET, "/api/v1/users"),
        (Method::GET, "/api/v1/clients"),
    ] {
        assert_eq!(
            call(&app, method, path, Some(&student), None).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/users",
        Some(&student),
        Some(new_user),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn nobody_grants_themselves_roles_and_the_last_admin_stays(app: TestApp) {
    let admin_id = make_admin(&app, "onlyadmin").await;
    app.create_user("selfish").await;
    let client = script_client(&app).await;
    let student = password_token(&app, &client, "selfish").await;
    let (status, _) = call(
        &app,
        Method::PATCH,
        "/api/v1/users/me",
        Some(&student),
        Some(json!({"roles": ["admin"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, me) = call(
        &app,
        Method::PATCH,
        "/api/v1/users/me",
        Some(&student),
        Some(json!({"given_name": "Sal"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (me["given_name"].as_str(), me["roles"].clone()),
        (Some("Sal"), json!(["student"]))
    );
    // The address changes only by confirming the new one (POST /users/me/email).
    let (status, problem) = call(
        &app,
        Method::PATCH,
        "/api/v1/users/me",
        Some(&student),
        Some(json!({"email": "sal@hccc.edu"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "email");

    let admin = password_token(&app, &client, "onlyadmin").await;
    let own = format!("/api/v1/users/{admin_id}");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &own,
        Some(&admin),
        Some(json!({"roles": ["admin", "faculty"]})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "not even an admin changes their own roles"
    );
    assert_eq!(
        call(&app, Method::DELETE, &own, Some(&admin), None).await.0,
        StatusCode::FORBIDDEN
    );

    // A service client with the admin API role may act on others, but not remove the last admin.
    let service = app.create_client(false, true).await;
    app.edit_client(&service.client_id, |c| {
        c.grant_types = vec![GrantType::ClientCredentials];
        c.settings.api_roles = vec!["admin".into()];
    })
    .await;
    let (status, body) =
        token_request(&app, &service, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, body["scope"].as_str()),
        (StatusCode::OK, Some("api"))
    );
    let service_token = body["access_token"].as_str().unwrap().to_owned();
    for change in [json!({"roles": ["staff"]}), json!({"disabled": true})] {
        let (status, problem) = call(
            &app,
            Method::PATCH,
            &own,
            Some(&service_token),
            Some(change),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    }
    assert_eq!(
        call(&app, Method::DELETE, &own, Some(&service_token), None)
            .await
            .0,
        StatusCode::CONFLICT
    );
    // With a second admin, the first may be demoted.
    make_admin(&app, "secondadmin").await;
    let (status, body) = call(
        &app,
        Method::PATCH,
        &own,
        Some(&service_token),
        Some(json!({"roles": ["staff"]})),
    )
    .await;
    assert_eq!(
        (status, body["roles"].clone()),
        (StatusCode::OK, json!(["staff"]))
    );
    // The demoted admin's token no longer opens admin endpoints: roles are read live.
    assert_eq!(
        call(&app, Method::GET, "/api/v1/users", Some(&admin), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

async fn own_password_change_needs_the_current_password(app: TestApp) {
    app.create_user("changer").await;
    let client = script_client(&app).await;
    let token = password_token(&app, &client, "changer").await;
    let path = "/api/v1/users/me/password";
    let (status, _) = call(
        &app,
        Method::POST,
        path,
        Some(&token),
        Some(
            json!({"current_password": "nope nope nope", "new_password": "a brand new passphrase"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = call(
        &app,
        Method::POST,
        path,
        Some(&token),
        Some(json!({"current_password": PASSWORD, "new_password": "password1234"})),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    let (status, _) = call(
        &app,
        Method::POST,
        path,
        Some(&token),
        Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "changer"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the old password no longer works"
    );
    let (status, _) = token_request(
        &app,
        &client,
        &[
            ("grant_type", "password"),
            ("username", "changer"),
            ("password", "a brand new passphrase"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

async fn disabling_a_user_ends_sessions_and_revokes_tokens_at_once(app: TestApp) {
    make_admin(&app, "boss").await;
    let (client, tokens) = crate::flows::signed_in_tokens(&app, "leaver").await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        crate::flows::userinfo_status(&app, access).await,
        StatusCode::OK
    );
    // The person's browser session, signed in a moment ago.
    let session = browser();
    let pkce = pkce();
    sign_in_for_code(
        &app,
        &session,
        &authorize_url(&app, &client, &pkce, &[]),
        "leaver",
    )
    .await;

    let admin = password_token(&app, &script_client(&app).await, "boss").await;
    let leaver = app
        .store()
        .find_account_by_login("leaver")
        .await
        .unwrap()
        .unwrap();
    let path = format!("/api/v1/users/{}", leaver.account_id);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(
        (status, body["disabled"].clone()),
        (StatusCode::OK, json!(true))
    );

    assert_eq!(
        crate::flows::userinfo_status(&app, access).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = token_request(
        &app,
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let silent = authorize_url(&app, &client, &pkce, &[("prompt", "none")]);
    let response = session.get(&silent).send().await.unwrap();
    let redirect = crate::flows::location(&response);
    assert!(
        redirect.contains("error=login_required"),
        "the session ended: {redirect}"
    );
    let (status, body) = token_request(
        &app,
        &script_client(&app).await,
        &[
            ("grant_type", "password"),
            ("username", "leaver"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // Enabling again does not bring the old tokens back.
    call(
        &app,
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(
        crate::flows::userinfo_status(&app, access).await,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_roles_scope_puts_roles_and_groups_in_every_token(app: TestApp) {
    let (status, discovery) = call(
        &app,
        Method::GET,
        "/.well-known/openid-configuration",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        discovery["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("roles"))
    );
    assert!(
        discovery["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("groups"))
    );

    app.create_user("rolly").await;
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |c| {
        c.settings.allowed_scopes = c.settings.allowed_scopes.with(Scope::Roles)
    })
    .await;
    for (scope, expect_roles) in [("openid roles", true), ("openid profile", false)] {
        let p = pkce();
        let url = authorize_url(&app, &client, &p, &[]).replace(
            "scope=openid+profile+email",
            &format!("scope={}", scope.replace(' ', "+")),
        );
        let params = sign_in_for_code(&app, &browser(), &url, "rolly").await;
        let (status, tokens) = exchange_code(&app, &client, &params["code"], &p.verifier).await;
        assert_eq!(status, StatusCode::OK);
        let id = decode_segment(tokens["id_token"].as_str().unwrap(), 1);
        let access = decode_segment(tokens["access_token"].as_str().unwrap(), 1);
        let (_, userinfo) = crate::harness::http()
            .get(app.url("/userinfo"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .map(|r| (r.status(), r))
            .unwrap();
        let userinfo: Value = userinfo.json().await.unwrap();
        for claims in [&id, &access, &userinfo] {
            if expect_roles {
                assert_eq!(claims["roles"], json!(["student"]), "{claims}");
                assert_eq!(claims["groups"], json!(["Class of 2027"]), "{claims}");
            } else {
                assert!(
                    claims.get("roles").is_none() && claims.get("groups").is_none(),
                    "{claims}"
                );
            }
        }
    }
}

async fn service_clients_reach_the_api_only_with_api_roles(app: TestApp) {
    let plain = app.create_client(false, true).await;
    app.edit_client(&plain.client_id, |c| {
        c.grant_types = vec![GrantType::ClientCredentials]
    })
    .await;
    let (status, body) = token_request(
        &app,
        &plain,
        &[("grant_type", "client_credentials"), ("scope", "api")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let (status, body) = token_request(&app, &plain, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        call(&app, Method::GET, "/api/v1/users", Some(token), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // API roles need the client_credentials grant, in the API as in the CLI.
    make_admin(&app, "keeper").await;
    let admin = password_token(&app, &script_client(&app).await, "keeper").await;
    let (status, problem) = call(&app, Method::POST, "/api/v1/clients", Some(&admin), Some(json!({
        "name": "Roster sync", "grant_types": ["authorization_code"], "redirect_uris": ["https://sync.hccc.edu/cb"], "api_roles": ["admin"]
    }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "api_roles", "{problem}");
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/v1/clients",
        Some(&admin),
        Some(json!({
            "name": "Roster sync", "grant_types": ["client_credentials"], "api_roles": ["admin"]
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let service = TestClient {
        client_id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    };
    let (_, body) = token_request(
        &app,
        &service,
        &[("grant_type", "client_credentials"), ("scope", "api")],
    )
    .await;
    let token = body["access_token"].as_str().unwrap();
    let (status, page) = call(
        &app,
        Method::GET,
        "/api/v1/users?role=admin",
        Some(token),
        None,
    )
    .await;
    assert_eq!((status, page["total"].as_i64()), (StatusCode::OK, Some(1)));
    assert_eq!(
        call(&app, Method::GET, "/api/v1/users/me", Some(token), None)
            .await
            .0,
        StatusCode::FORBIDDEN,
        "a service has no profile"
    );
}

async fn admins_manage_client_apps_and_see_secrets_once(app: TestApp) {
    make_admin(&app, "appkeeper").await;
    let admin = password_token(&app, &script_client(&app).await, "appkeeper").await;
    let admin = Some(admin.as_str());
    let (status, created) = call(&app, Method::POST, "/api/v1/clients", admin, Some(json!({
        "name": "Library", "redirect_uris": ["https://library.hccc.edu/cb"], "skip_consent": true,
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"]
    }))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["client_id"].as_str().unwrap().to_owned();
    let first_secret = created["client_secret"]
        .as_str()
        .expect("secret shown at creation")
        .to_owned();
    let path = format!("/api/v1/clients/{id}");
    let (status, shown) = call(&app, Method::GET, &path, admin, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown.get("client_secret").is_none() && !shown.to_string().contains(&first_secret));

    for (body, what) in [
        (
            json!({"redirect_uris": ["http://library.hccc.edu/cb"]}),
            "redirect_uris",
        ),
        (
            json!({"redirect_uris": ["https://library.hccc.edu/cb#frag"]}),
            "redirect_uris",
        ),
        (json!({"grant_types": ["implicit"]}), "grant_types"),
        (
            json!({"token_endpoint_auth_method": "telepathy"}),
            "token_endpoint_auth_method",
        ),
        (json!({"name": ""}), "name"),
    ] {
        let (status, problem) = call(&app, Method::PATCH, &path, admin, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(problem["errors"][0]["field"], what, "{problem}");
    }
    assert_eq!(
        call(
            &app,
            Method::PATCH,
            &path,
            admin,
            Some(json!({"secret": "mine"}))
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/api/v1/clients",
            admin,
            Some(json!({"redirect_uris": []}))
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, patched) = call(
        &app,
        Method::PATCH,
        &path,
        admin,
        Some(json!({"post_logout_redirect_uris": ["https://library.hccc.edu/bye"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        patched["redirect_uris"],
        json!(["https://library.hccc.edu/cb"]),
        "PATCH keeps other fields"
    );

    let (status, rotated) = call(&app, Method::POST, &format!("{path}/secret"), admin, None).await;
    assert_eq!(status, StatusCode::OK);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, first_secret);
    let old = TestClient {
        client_id: id.clone(),
        secret: Some(first_secret),
    };
    let new = TestClient {
        client_id: id.clone(),
        secret: Some(new_secret.to_owned()),
    };
    assert_eq!(
        token_request(&app, &old, &[("grant_type", "client_credentials")])
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_request(&app, &new, &[("grant_type", "client_credentials")])
            .await
            .0,
        StatusCode::OK
    );

    let (_, list) = call(
        &app,
        Method::GET,
        "/api/v1/clients?per_page=100",
        admin,
        None,
    )
    .await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Library")
    );
    assert_eq!(
        call(&app, Method::DELETE, &path, admin, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, Method::GET, &path, admin, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, Method::POST, &format!("{path}/secret"), admin, None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, Method::GET, "/api/v1/clients/zzz", admin, None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

async fn the_openapi_document_and_its_docs_are_served_locally(app: TestApp) {
    let (status, doc) = call(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/me",
        "/api/v1/users/me/password",
        "/api/v1/users/me/sessions",
        "/api/v1/users/me/sessions/{sid}",
        "/api/v1/users/me/apps",
        "/api/v1/users/me/apps/{client_id}",
        "/api/v1/users/me/activity",
        "/api/v1/users/me/email",
        "/api/v1/users/{id}/invite",
        "/api/v1/clients",
        "/api/v1/clients/{id}/secret",
        "/api/v1/health",
    ] {
        assert!(paths.contains_key(path), "{path} not documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let docs = reqwest::get(app.url("/docs/")).await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let html = docs.text().await.unwrap();
    assert!(html.contains("<redoc spec-url=\"/openapi.json\""), "{html}");
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "no assets from elsewhere: {html}"
    );
    let script = html
        .split("<script src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the Redoc script")
        .to_owned();
    assert!(
        script.starts_with("/assets/") && script.ends_with("/vendor/redoc/redoc.standalone.js"),
        "{script}"
    );
    let http = crate::harness::client_builder().no_gzip().build().unwrap();
    let bundle = http
        .get(app.url(&script))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert_eq!(bundle.headers()["content-encoding"], "br");
    assert_eq!(
        bundle.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let compressed = bundle.bytes().await.unwrap().len();
    assert!(
        compressed < 400 * 1024,
        "a megabyte of script goes out as {compressed} bytes"
    );
    let moved = crate::harness::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
}

on_both_backends!(
    the_api_needs_a_bearer_token_with_the_api_scope,
    the_password_grant_is_off_until_an_admin_enables_it,
    admins_manage_users_and_bad_input_gets_problem_details,
    nobody_grants_themselves_roles_and_the_last_admin_stays,
    own_password_change_needs_the_current_password,
    disabling_a_user_ends_sessions_and_revokes_tokens_at_once,
    the_roles_scope_puts_roles_and_groups_in_every_token,
    service_clients_reach_the_api_only_with_api_roles,
    admins_manage_client_apps_and_see_secrets_once,
    the_openapi_document_and_its_docs_are_served_locally,
);
