//! The admin API's `api` scope, as a hostile app would go after it: an app not allowed `api`
//! never gets it, with or without consent, nor by refresh or the device grant; an allowed one
//! only after the consent page, every time, and not after an admin takes it back.

use hccc_sso::domain::{GrantType, Scope, ScopeSet};
use reqwest::StatusCode;
use serde_json::Value;

use crate::flows::{
    authorize_url, exchange_code, location, pkce, query_of, submit_consent, submit_login,
    token_request, token_request_at,
};
use crate::harness::{PASSWORD, REDIRECT_URI, TestApp, browser, on_both_backends, reqwest};

/// Makes an account that holds the admin role.
pub(crate) async fn admin(app: &TestApp, username: &str) -> hccc_sso::store::AccountRow {
    let before = app.create_user(username).await;
    let mut after = before.clone();
    after.roles.0 = vec!["admin".into(), "staff".into()];
    app.store()
        .update_account(&before, &after, app.clock.now())
        .await
        .expect("promote")
}

fn with_scope(url: &str, scope: &str) -> String {
    url.replace(
        "scope=openid+profile+email",
        &format!("scope={}", scope.replace(' ', "+")),
    )
}

pub(crate) async fn api_get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let response = crate::harness::http()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("api");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The confused deputy: an admin signs in to an app that skips consent and asks for `api`; the
/// app was never allowed `api`, so it gets a token without it, with or without a consent page.
async fn an_app_not_allowed_api_never_gets_it_with_or_without_consent(app: TestApp) {
    admin(&app, "chief").await;
    for skip_consent in [true, false] {
        let client = app.create_client(false, skip_consent).await;
        let p = pkce();
        let url = with_scope(
            &authorize_url(&app, &client, &p, &[]),
            "openid api offline_access",
        );
        let b = browser();
        let first = b.get(&url).send().await.expect("authorize");
        let login = location(&first);
        let after_login = submit_login(&app, &b, &login, "chief", PASSWORD).await;
        let next = location(&after_login);
        let next = if skip_consent {
            assert!(next.starts_with(REDIRECT_URI), "no consent page: {next}");
            next
        } else {
            let page = b.get(app.url(&next)).send().await.expect("consent");
            let html = page.text().await.expect("html");
            assert!(!html.contains("Act as you"), "api is not even asked for");
            location(&submit_consent(&app, &b, &next, "allow").await)
        };
        let code = query_of(&next)["code"].clone();
        let (status, tokens) = exchange_code(&app, &client, &code, &p.verifier).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert_eq!(tokens["scope"], "openid offline_access", "api was dropped");
        let access = tokens["access_token"].as_str().unwrap();
        let (status, body) = api_get(&app, "/api/v1/users", access).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _) = api_get(&app, "/api/v1/users/me", access).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Nor can a refresh widen the grant to it.
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let (status, body) = token_request(
            &app,
            &client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("scope", "openid api"),
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_scope"))
        );
    }
    // The device grant drops it as well.
    let device = app.create_client(false, true).await;
    app.edit_client(&device.client_id, |c| {
        c.grant_types.push(GrantType::DeviceCode)
    })
    .await;
    let (status, started) = token_request_at(
        &app,
        "/device_authorization",
        &device,
        &[("scope", "openid api")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let code = started["user_code"].as_str().unwrap().replace('-', "");
    let row = app
        .store()
        .find_pending_device(&code, app.clock.now())
        .await
        .unwrap()
        .expect("pending device request");
    assert_eq!(row.scope, "openid");
}

/// An app an admin did allow `api` gets it only through the consent page, every time, even when
/// it skips consent otherwise; taking `api` back from the app ends what it obtained.
async fn an_app_allowed_api_gets_it_only_after_the_consent_page_every_time(app: TestApp) {
    admin(&app, "chief").await;
    let client = app.create_client(false, true).await;
    app.edit_client(&client.client_id, |c| {
        c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT.with(Scope::Api)
    })
    .await;
    let b = browser();
    for round in 0..2 {
        let p = pkce();
        let url = with_scope(&authorize_url(&app, &client, &p, &[]), "openid api");
        let first = b.get(&url).send().await.expect("authorize");
        let mut next = location(&first);
        if round == 0 {
            next = location(&submit_login(&app, &b, &next, "chief", PASSWORD).await);
        }
        assert!(next.starts_with("/consent"), "round {round}: {next}");
        let page = b.get(app.url(&next)).send().await.expect("consent");
        let html = page.text().await.expect("html");
        assert!(html.contains("Act as you"), "{html}");
        assert!(html.contains("asked each time"), "{html}");
        let redirect = location(&submit_consent(&app, &b, &next, "allow").await);
        let code = query_of(&redirect)["code"].clone();
        let (status, tokens) = exchange_code(&app, &client, &code, &p.verifier).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert_eq!(tokens["scope"], "openid api");
        let (status, me) = api_get(
            &app,
            "/api/v1/users/me",
            tokens["access_token"].as_str().unwrap(),
        )
        .await;
        assert_eq!(
            (status, me["username"].as_str()),
            (StatusCode::OK, Some("chief"))
        );
        if round == 1 {
            // Taken back: the token stops working at the API and a refresh no longer has it.
            app.edit_client(&client.client_id, |c| {
                c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT
            })
            .await;
            let access = tokens["access_token"].as_str().unwrap();
            let (status, body) = api_get(&app, "/api/v1/users/me", access).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
            let (status, refreshed) = token_request(
                &app,
                &client,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ],
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{refreshed}");
            assert_eq!(refreshed["scope"], "openid");
        }
    }
    // Without a page to show, there is no consent: prompt=none answers consent_required.
    app.edit_client(&client.client_id, |c| {
        c.settings.allowed_scopes = ScopeSet::CLIENT_DEFAULT.with(Scope::Api)
    })
    .await;
    let url = with_scope(
        &authorize_url(&app, &client, &pkce(), &[("prompt", "none")]),
        "openid api",
    );
    let answer = location(&b.get(&url).send().await.expect("authorize"));
    assert_eq!(query_of(&answer)["error"], "consent_required", "{answer}");
}

on_both_backends!(
    an_app_not_allowed_api_never_gets_it_with_or_without_consent,
    an_app_allowed_api_gets_it_only_after_the_consent_page_every_time,
);
