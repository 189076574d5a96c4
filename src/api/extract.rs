//! What a handler of the API takes from a request: who calls (`Caller`, from the bearer token)
//! and a JSON body (`JsonBody`), each refusing with the API's problem answers.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ApiError;
use crate::accounts::SignInOrigin;
use crate::accounts::directory::{Actor, FieldError};
use crate::accounts::factors;
use crate::accounts::passwords::Proof;
use crate::domain::{Scope, ScopeSet};
use crate::i18n::Message;
use crate::oidc::jwt::{AccessTokenProblem, validate_access_token};
use crate::state::AppState;
use crate::store::AccountRow;

/// Who calls the API: a person (by a user token) or a service client (client_credentials).
pub struct Caller {
    pub actor: Actor,
    /// The person's account, as it is now (not as it was when the token was issued).
    pub account: Option<AccountRow>,
    pub is_admin: bool,
    pub client_ip: String,
    /// The grant the person's token belongs to (None for client_credentials tokens).
    pub grant_id: Option<Uuid>,
    /// A person's token from a sign-in that used a second factor (its `acr` is the MFA profile).
    pub with_factor: bool,
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs the admin role"))
        }
    }

    pub fn require_person(&self) -> Result<&AccountRow, ApiError> {
        self.account
            .as_ref()
            .ok_or_else(|| ApiError::forbidden("this needs a token issued to a person"))
    }

    /// An audit entry of what the caller did, with who they are and where they called from.
    pub async fn audit(
        &self,
        app: &AppState,
        action: &str,
        target: String,
        detail: serde_json::Value,
    ) {
        crate::audit::record(
            app,
            &self.actor,
            Some(&self.client_ip),
            action,
            Some(target),
            detail,
        )
        .await;
    }

    /// The caller's current password as the proof a change asks for: checked, and throttled,
    /// like a sign-in through the API.
    pub fn password_proof<'a>(&'a self, current_password: &'a str) -> Proof<'a> {
        Proof {
            current_password,
            origin: SignInOrigin {
                ip: &self.client_ip,
                user_agent: "",
                method: "api",
            },
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let client_ip = crate::http::ClientIp::from_request_parts(parts, app)
            .await
            .map(|ip| ip.0)
            .unwrap_or_default();
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("a bearer access token is required", None))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .map(|(_, token)| token.trim())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "Authorization must use the Bearer scheme",
                    Some("invalid_request"),
                )
            })?;
        let live = validate_access_token(app, token)
            .await
            .map_err(|problem| match problem {
                AccessTokenProblem::Invalid(why) => {
                    ApiError::unauthorized(why, Some("invalid_token"))
                }
                AccessTokenProblem::Store(e) => e.into(),
            })?;
        if !ScopeSet::parse(&live.claims.scope).contains(Scope::Api) {
            return Err(ApiError::forbidden("the access token lacks the api scope"));
        }
        match live.user {
            Some(user) => {
                // A person's token acts here only while its app is still allowed `api`.
                let app_allowed = match Uuid::parse_str(&live.claims.client_id) {
                    Ok(id) => app
                        .store
                        .find_client(id)
                        .await?
                        .is_some_and(|c| c.settings.allowed_scopes.contains(Scope::Api)),
                    Err(_) => false,
                };
                if !app_allowed {
                    return Err(ApiError::forbidden(
                        "the application that obtained this token is not allowed the api scope",
                    ));
                }
                let account = user.account;
                // An account the policy makes use a second factor is an admin here only with a
                // token from a sign-in that used one.
                let with_factor = live.claims.acr.as_deref() == Some(factors::REFEDS_MFA);
                let mfa_ok = with_factor
                    || !factors::required_of(
                        &app.config,
                        &account,
                        &app.store.find_mfa(account.account_id).await?,
                    );
                Ok(Caller {
                    actor: Actor::User {
                        id: account.account_id,
                        username: account.username.clone(),
                    },
                    is_admin: account.is_active_admin() && mfa_ok,
                    account: Some(account),
                    client_ip,
                    grant_id: live.claims.gid,
                    with_factor,
                })
            }
            None => {
                let client_id = Uuid::parse_str(&live.claims.sub).map_err(|_| {
                    ApiError::unauthorized("token is invalid", Some("invalid_token"))
                })?;
                let client = app.store.find_client(client_id).await?.ok_or_else(|| {
                    ApiError::unauthorized("the client no longer exists", Some("invalid_token"))
                })?;
                Ok(Caller {
                    is_admin: client.settings.api_roles.iter().any(|r| r == "admin"),
                    actor: Actor::Client {
                        id: client.client_id,
                        name: client.name,
                    },
                    account: None,
                    client_ip,
                    grant_id: None,
                    with_factor: false,
                })
            }
        }
    }
}

/// A JSON request body: 415 unless declared JSON, 400 when not JSON at all, 422 when the JSON
/// does not fit (unknown fields, wrong types, missing fields).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || v.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be application/json",
            ));
        }
        let body = Bytes::from_request(req, app).await.map_err(|e| {
            ApiError::new(
                e.status(),
                "the request body is too large or could not be read",
            )
        })?;
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
        if let Some(field) = field_with_control(&value, "") {
            let problem = FieldError::new(&field, Message::new("invalid-control"));
            return Err(
                ApiError::unprocessable(format!("{field} contains a control character"))
                    .with_errors(vec![problem]),
            );
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError::unprocessable(format!("the JSON does not fit: {e}")))
    }
}

/// The path of the first string (or key) holding NUL or another control character other than
/// tab and line breaks: nothing we store needs them, and PostgreSQL refuses NUL in text.
fn field_with_control(value: &serde_json::Value, path: &str) -> Option<String> {
    let bad = |s: &str| crate::http::has_forbidden_control(s, crate::http::Controls::LineBreaks);
    let name = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) if bad(s) => Some(if path.is_empty() {
            "body".into()
        } else {
            path.to_owned()
        }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            field_with_control(
                item,
                &format!("{}[{i}]", if path.is_empty() { "body" } else { path }),
            )
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            if bad(key) {
                Some(name("?"))
            } else {
                field_with_control(item, &name(key))
            }
        }),
        _ => None,
    }
}
