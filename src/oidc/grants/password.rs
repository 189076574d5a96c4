//! The resource owner password grant (RFC 6749 §4.3): legacy, for scripts, and only for clients
//! an admin enabled it for. Same throttling as the sign-in page; no consent (the admin chose).

use super::{TokenResponse, issue_new_grant};
use crate::accounts::factors::{self, Next};
use crate::accounts::{self, SignInError};
use crate::domain::ScopeSet;
use crate::oidc::authorize::{self, Decision, Login};
use crate::oidc::error::OAuthError;
use crate::state::AppState;
use crate::store::{ClientRow, NewGrant};

pub struct PasswordRequest {
    pub username: String,
    pub password: String,
    pub scope: Option<String>,
}

pub async fn sign_in(
    app: &AppState,
    client: &ClientRow,
    request: PasswordRequest,
    client_ip: &str,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let requested = ScopeSet::parse(request.scope.as_deref().unwrap_or("openid api"));
    let scope = requested
        .intersect(client.settings.allowed_scopes)
        .to_string();
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "none of the requested scopes is known and allowed for this client",
        ));
    }
    let outcome = accounts::sign_in(
        &app.store,
        &app.hasher,
        &app.config.login,
        &request.username,
        &request.password,
        &accounts::SignInOrigin {
            ip: client_ip,
            user_agent: "",
            method: "password_grant",
        },
        now,
    )
    .await;
    let account = match outcome {
        Ok(account) => account,
        Err(SignInError::InvalidCredentials { .. }) => {
            crate::telemetry_metrics::login("failed");
            return Err(OAuthError::invalid_grant(
                "the username or password is incorrect",
            ));
        }
        Err(SignInError::Locked { .. }) => {
            crate::telemetry_metrics::login("locked");
            return Err(OAuthError::invalid_grant(
                "too many failed attempts; sign-in is paused for this account or address",
            ));
        }
        Err(SignInError::Store(e)) => return Err(e.into()),
    };
    crate::telemetry_metrics::login("succeeded");
    // The same decision as every other door: a temporary password, the app's or the role
    // policy's second factor. This grant cannot ask for a code, so an account that has a
    // factor (which every sign-in asks for) is refused too.
    let next = factors::after_password(app, &account, client.settings.require_mfa, now).await?;
    let login = Login {
        account_id: account.account_id,
        auth_time: now,
        mfa: false,
    };
    let scopes = ScopeSet::parse(&scope);
    match authorize::decide_at_door(app, login, &account, Some(client), scopes, now).await? {
        Decision::SignIn => {
            return Err(OAuthError::invalid_grant(
                "the password is temporary: sign in on the web page to choose a new one",
            ));
        }
        Decision::IssueCode if next == Next::Done => {}
        _ => {
            return Err(OAuthError::invalid_grant(
                "this sign-in needs a second factor: use the web sign-in (authorization code flow)",
            ));
        }
    }
    let new = NewGrant {
        account_id: account.account_id,
        client_id: client.client_id,
        scope,
        sid: uuid::Uuid::new_v4(),
        auth_time: now,
        amr: vec!["pwd".into()],
        claims: "{}".into(),
    };
    issue_new_grant(app, client, new, now).await
}
