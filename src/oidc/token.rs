//! The token endpoint (RFC 6749 §3.2): authorization_code and refresh_token grants.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::authorize::is_pkce_value;
use super::client_auth;
use super::device::DEVICE_GRANT;
use super::error::OAuthError;
use super::scopes::{Scope, ScopeSet};
use super::tokens::{MintInput, mint_client_token, mint_user_tokens};
use crate::crypto;
use crate::http::{ClientIp, Params, form_params};
use crate::state::AppState;
use crate::store::{
    AccountRow, ClientRow, CodeRedemption, DevicePoll, GrantRow, NewGrant, RefreshRotation,
};

#[derive(Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    scope: String,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = Json(self).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

pub async fn post_token(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<TokenResponse, OAuthError> {
    let params = form_params(&headers, &body).map_err(OAuthError::invalid_request)?;
    let client = client_auth::authenticate(&app, &headers, &params).await?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let now = app.clock.now();
    const SUPPORTED: [&str; 5] = [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        DEVICE_GRANT,
        "password",
    ];
    if !SUPPORTED.contains(&grant_type) {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            "grant_type must be authorization_code, refresh_token, client_credentials, device_code or password",
        ));
    }
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use {grant_type}"
        )));
    }
    let issued = match grant_type {
        "authorization_code" => exchange_code(&app, &client, &params, now).await,
        "refresh_token" => refresh(&app, &client, &params, now).await,
        DEVICE_GRANT => device_code(&app, &client, &params, now).await,
        "password" => password(&app, &client, &params, &ip, now).await,
        _ => client_credentials(&app, &client, &params, now),
    };
    if issued.is_ok() {
        crate::telemetry_metrics::token_issued(grant_type);
    }
    issued
}

/// A service client's own token (RFC 6749 §4.4). It carries no user, so OpenID scopes do not apply;
/// the one scope available is `api`, to clients an admin gave API roles (and the default for them).
fn client_credentials(
    app: &AppState,
    client: &ClientRow,
    params: &Params,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "public clients may not use client_credentials",
        ));
    }
    let has_api_roles = !client.settings.api_roles.is_empty();
    let scope = match params.get("scope").map(str::trim).filter(|s| !s.is_empty()) {
        None if has_api_roles => "api",
        None => "",
        Some("api") if has_api_roles => "api",
        Some(_) => {
            return Err(OAuthError::invalid_scope(if has_api_roles {
                "the only scope available to client_credentials is api"
            } else {
                "no scopes are available to this client's client_credentials grant"
            }));
        }
    };
    let ttl = app.config.access_token_ttl;
    let access_token = mint_client_token(
        &app.keys,
        &app.config.issuer,
        &client.client_id.to_string(),
        scope,
        now,
        ttl,
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: None,
        id_token: None,
        scope: scope.to_owned(),
    })
}

/// The resource owner password grant (RFC 6749 §4.3): legacy, for scripts, and only for clients an
/// admin enabled it for. Same throttling as the sign-in page; no consent (the admin chose).
async fn password(
    app: &AppState,
    client: &ClientRow,
    params: &Params,
    ip: &str,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let (Some(username), Some(password)) = (params.get("username"), params.get("password")) else {
        return Err(OAuthError::invalid_request(
            "username and password are required",
        ));
    };
    let requested = ScopeSet::parse(params.get("scope").unwrap_or("openid api"));
    let scope = requested
        .intersect(client.settings.allowed_scopes)
        .to_string();
    if scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "none of the requested scopes is known and allowed for this client",
        ));
    }
    let account = match crate::accounts::sign_in(
        &app.store,
        &app.hasher,
        &app.config.login,
        username,
        password,
        ip,
        now,
    )
    .await
    {
        Ok(account) => account,
        Err(crate::accounts::SignInError::InvalidCredentials) => {
            return Err(OAuthError::invalid_grant(
                "the username or password is incorrect",
            ));
        }
        Err(crate::accounts::SignInError::Locked { .. }) => {
            return Err(OAuthError::invalid_grant(
                "too many failed attempts; sign-in is paused for this account or address",
            ));
        }
        Err(crate::accounts::SignInError::Store(e)) => return Err(e.into()),
    };
    crate::telemetry_metrics::login("succeeded");
    if account.must_change_password {
        return Err(OAuthError::invalid_grant(
            "the password is temporary: sign in on the web page to choose a new one",
        ));
    }
    let new = NewGrant {
        account_id: account.account_id,
        client_id: client.client_id,
        scope: scope.clone(),
        sid: uuid::Uuid::new_v4(),
        auth_time: now,
        amr: vec!["pwd".into()],
        claims: "{}".into(),
    };
    let grant_id = app.store.insert_grant(new, now).await?;
    let (grant, account) = live_grant(app, client, grant_id).await?;
    let subject = Subject {
        grant: &grant,
        account: &account,
        scope: &scope,
        nonce: None,
    };
    issue(app, client, subject, RefreshToken::New, now).await
}

async fn exchange_code(
    app: &AppState,
    client: &ClientRow,
    params: &Params,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let code = match app
        .store
        .redeem_auth_code(&crypto::sha256(code.as_bytes()), client.client_id, now)
        .await?
    {
        CodeRedemption::Redeemed(code) => code,
        CodeRedemption::Reused => {
            tracing::warn!(client_id = %client.client_id, "authorization code reused; its grant is revoked");
            return Err(OAuthError::invalid_grant(
                "authorization code was already used",
            ));
        }
        CodeRedemption::Unknown => {
            return Err(OAuthError::invalid_grant("authorization code is invalid"));
        }
    };
    if code.expires_at <= now {
        return Err(OAuthError::invalid_grant("authorization code has expired"));
    }
    let (grant, account) = live_grant(app, client, code.grant_id).await?;
    if params.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&code.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let computed = crypto::b64url(&crypto::sha256(verifier.as_bytes()));
            if !is_pkce_value(verifier)
                || !crypto::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
            {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier given but no code_challenge was",
            ));
        }
        (None, None) => {}
    }
    let subject = Subject {
        grant: &grant,
        account: &account,
        scope: &grant.scope,
        nonce: code.nonce.as_deref(),
    };
    issue(app, client, subject, RefreshToken::New, now).await
}

/// RFC 8628 §3.4: the device polls until the user approves, denies, or the code expires.
async fn device_code(
    app: &AppState,
    client: &ClientRow,
    params: &Params,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .get("device_code")
        .ok_or_else(|| OAuthError::invalid_request("device_code is required"))?;
    let hash = crypto::sha256(code.as_bytes());
    let row = match app
        .store
        .poll_device(&hash, Some(client.client_id), now)
        .await?
    {
        DevicePoll::Approved(row) => row,
        DevicePoll::Pending => {
            return Err(OAuthError::new(
                "authorization_pending",
                "the user has not answered yet",
            ));
        }
        DevicePoll::SlowDown => {
            return Err(OAuthError::new(
                "slow_down",
                "polling too fast; wait 5 more seconds",
            ));
        }
        DevicePoll::Denied => return Err(OAuthError::new("access_denied", "the user declined")),
        DevicePoll::Expired => {
            return Err(OAuthError::new(
                "expired_token",
                "the device code has expired",
            ));
        }
        DevicePoll::Unknown => return Err(OAuthError::invalid_grant("device_code is invalid")),
    };
    let (Some(account_id), Some(sid), Some(auth_time)) = (row.account_id, row.sid, row.auth_time)
    else {
        return Err(OAuthError::server_error(
            "an approved device request lacks its approval",
        ));
    };
    let amr = row
        .amr
        .as_deref()
        .map(|a| crate::store::decode_string_list("amr", a))
        .transpose()?
        .unwrap_or_default();
    let new = NewGrant {
        account_id,
        client_id: client.client_id,
        scope: row.scope.clone(),
        sid,
        auth_time,
        amr,
        claims: "{}".into(),
    };
    let grant_id = app.store.insert_grant(new, now).await?;
    let (grant, account) = live_grant(app, client, grant_id).await?;
    let subject = Subject {
        grant: &grant,
        account: &account,
        scope: &grant.scope,
        nonce: None,
    };
    issue(app, client, subject, RefreshToken::New, now).await
}

async fn refresh(
    app: &AppState,
    client: &ClientRow,
    params: &Params,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let token = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let replacement = crypto::random_token();
    let (presented_hash, replacement_hash) = (
        crypto::sha256(token.as_bytes()),
        crypto::sha256(replacement.as_bytes()),
    );
    let rotation = app.store.rotate_refresh_token(
        &presented_hash,
        client.client_id,
        &replacement_hash,
        now + app.config.refresh_token_ttl,
        now,
    );
    let (grant, account) = match rotation.await? {
        RefreshRotation::Rotated { grant, account } => check_live(client, *grant, *account)?,
        RefreshRotation::Reused => {
            tracing::warn!(client_id = %client.client_id, "rotated refresh token presented again; grant revoked");
            return Err(OAuthError::invalid_grant("refresh token was already used"));
        }
        RefreshRotation::Unknown => {
            return Err(OAuthError::invalid_grant(
                "refresh token is invalid or expired",
            ));
        }
    };
    // What an admin has since taken from the client is not renewed.
    let granted = ScopeSet::parse(&grant.scope).intersect(client.settings.allowed_scopes);
    let scope = match params.get("scope") {
        None => granted.to_string(),
        Some(requested) => {
            let wanted = ScopeSet::parse(requested);
            if wanted.is_empty() || !granted.covers(wanted) {
                return Err(OAuthError::invalid_scope("scope exceeds what was granted"));
            }
            wanted.to_string()
        }
    };
    let subject = Subject {
        grant: &grant,
        account: &account,
        scope: &scope,
        nonce: None,
    };
    issue(app, client, subject, RefreshToken::Stored(replacement), now).await
}

/// The grant a token request continues, with its account: both must still be live, and the
/// grant the requesting client's.
async fn live_grant(
    app: &AppState,
    client: &ClientRow,
    grant_id: uuid::Uuid,
) -> Result<(GrantRow, AccountRow), OAuthError> {
    let (grant, account) = app
        .store
        .find_grant_with_account(grant_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("grant not found"))?;
    check_live(client, grant, account)
}

fn check_live(
    client: &ClientRow,
    grant: GrantRow,
    account: AccountRow,
) -> Result<(GrantRow, AccountRow), OAuthError> {
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the grant was issued to another client",
        ));
    }
    if grant.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("the grant has been revoked"));
    }
    if account.disabled {
        return Err(OAuthError::invalid_grant(
            "the account is disabled or no longer exists",
        ));
    }
    Ok((grant, account))
}

/// Whom the tokens are for, and within which grant.
struct Subject<'a> {
    grant: &'a GrantRow,
    account: &'a AccountRow,
    scope: &'a str,
    nonce: Option<&'a str>,
}

/// Where a token response's refresh token comes from.
enum RefreshToken {
    /// A new one, stored here, if the client may refresh.
    New,
    /// One already stored: a refresh rotation stores its replacement with the rotation.
    Stored(String),
}

async fn issue(
    app: &AppState,
    client: &ClientRow,
    subject: Subject<'_>,
    refresh: RefreshToken,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let config = &app.config;
    let Subject {
        grant,
        account,
        scope,
        nonce,
    } = subject;
    let tokens = mint_user_tokens(
        &app.keys,
        MintInput {
            issuer: &config.issuer,
            grant,
            account,
            scope,
            nonce,
            now,
            access_token_ttl: config.access_token_ttl,
            id_token_ttl: config.id_token_ttl,
            id_token_alg: &client.settings.id_token_alg,
        },
    )?;
    let refresh_token = match refresh {
        RefreshToken::Stored(token) => Some(token),
        RefreshToken::New if client.allows_grant("refresh_token") => {
            let token = crypto::random_token();
            let hash = crypto::sha256(token.as_bytes());
            app.store
                .insert_refresh_token(&hash, grant.grant_id, now, now + config.refresh_token_ttl)
                .await?;
            Some(token)
        }
        RefreshToken::New => None,
    };
    let openid = ScopeSet::parse(scope).contains(Scope::Openid);
    Ok(TokenResponse {
        access_token: tokens.access_token,
        token_type: "Bearer",
        expires_in: config.access_token_ttl,
        refresh_token,
        id_token: openid.then_some(tokens.id_token),
        scope: scope.to_owned(),
    })
}
