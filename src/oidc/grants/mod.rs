//! The grants of the token endpoint, one file each. Each takes its typed request and the client
//! that authenticated, and answers a token response or an OAuth error; what they share (checking
//! the grant is live, minting and storing tokens) is here.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod password;
pub mod refresh_token;

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ErrorCode, OAuthError};
use super::jwt::{MintInput, mint_user_tokens};
use crate::crypto;
use crate::domain::GrantType;
use crate::http::Params;
use crate::state::AppState;
use crate::store::{AccountRow, ClientRow, GrantRow, NewGrant};

/// A token request, by grant type, with the parameters that grant reads.
pub enum TokenRequest {
    AuthorizationCode(authorization_code::CodeRequest),
    RefreshToken(refresh_token::RefreshRequest),
    ClientCredentials(client_credentials::ClientCredentialsRequest),
    DeviceCode(device_code::DeviceCodeRequest),
    Password(password::PasswordRequest),
}

/// A parameter the grant cannot do without.
fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    params
        .get(name)
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
}

impl TokenRequest {
    /// Reads the grant type and the parameters it needs (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6,
    /// RFC 8628 §3.4).
    pub fn parse(params: &Params) -> Result<TokenRequest, OAuthError> {
        let grant_type = required(params, "grant_type")?;
        let grant = GrantType::from_name(grant_type).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type must be one of {}",
                    GrantType::names().join(", ")
                ),
            )
        })?;
        let owned = |name: &str| params.get(name).map(str::to_owned);
        Ok(match grant {
            GrantType::AuthorizationCode => {
                TokenRequest::AuthorizationCode(authorization_code::CodeRequest {
                    code: required(params, "code")?.to_owned(),
                    redirect_uri: owned("redirect_uri"),
                    code_verifier: owned("code_verifier"),
                })
            }
            GrantType::RefreshToken => TokenRequest::RefreshToken(refresh_token::RefreshRequest {
                refresh_token: required(params, "refresh_token")?.to_owned(),
                scope: owned("scope"),
            }),
            GrantType::ClientCredentials => {
                TokenRequest::ClientCredentials(client_credentials::ClientCredentialsRequest {
                    scope: owned("scope"),
                })
            }
            GrantType::DeviceCode => TokenRequest::DeviceCode(device_code::DeviceCodeRequest {
                device_code: required(params, "device_code")?.to_owned(),
            }),
            GrantType::Password => {
                let (Some(username), Some(password)) = (owned("username"), owned("password"))
                else {
                    return Err(OAuthError::invalid_request(
                        "username and password are required",
                    ));
                };
                TokenRequest::Password(password::PasswordRequest {
                    username,
                    password,
                    scope: owned("scope"),
                })
            }
        })
    }

    pub fn grant_type(&self) -> GrantType {
        match self {
            TokenRequest::AuthorizationCode(_) => GrantType::AuthorizationCode,
            TokenRequest::RefreshToken(_) => GrantType::RefreshToken,
            TokenRequest::ClientCredentials(_) => GrantType::ClientCredentials,
            TokenRequest::DeviceCode(_) => GrantType::DeviceCode,
            TokenRequest::Password(_) => GrantType::Password,
        }
    }
}

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

/// Stores a grant started at the token endpoint (the device and password grants) and answers
/// with its first tokens.
async fn issue_new_grant(
    app: &AppState,
    client: &ClientRow,
    new: NewGrant,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
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

/// Mints the access and ID tokens of a person's grant and answers with them (and a refresh token).
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
        RefreshToken::New if client.allows_grant(GrantType::RefreshToken) => {
            let token = crypto::random_token();
            let hash = crypto::sha256(token.as_bytes());
            app.store
                .insert_refresh_token(&hash, grant.grant_id, now, now + config.refresh_token_ttl)
                .await?;
            Some(token)
        }
        RefreshToken::New => None,
    };
    Ok(TokenResponse {
        access_token: tokens.access_token,
        token_type: "Bearer",
        expires_in: config.access_token_ttl,
        refresh_token,
        id_token: tokens.id_token,
        scope: scope.to_owned(),
    })
}
