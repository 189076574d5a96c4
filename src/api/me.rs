//! /api/v1/users/me and below: the caller's own account, password, sessions, connected apps,
//! sign-in activity and address change, as the account page offers them.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::users::{User, audit_change};
use super::{ApiError, Caller, JsonBody, Problem, nullable, parse_id, rfc3339};
use crate::accounts::directory::{self, UserChange};
use crate::accounts::passwords;
use crate::accounts::self_service::{self, SelfServiceError, Sessions};
use crate::domain::FieldError;
use crate::domain::scopes::ScopeSet;
use crate::state::AppState;
use crate::store::KeepGrants;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/me", get(get_me).patch(patch_me))
        .route("/api/v1/users/me/password", post(change_my_password))
        .route("/api/v1/users/me/sessions", get(list_sessions))
        .route("/api/v1/users/me/sessions/{sid}", delete(end_session))
        .route("/api/v1/users/me/apps", get(list_apps))
        .route("/api/v1/users/me/apps/{client_id}", delete(revoke_app))
        .route("/api/v1/users/me/activity", get(activity))
        .route("/api/v1/users/me/email", post(change_email))
}

impl From<SelfServiceError> for ApiError {
    fn from(e: SelfServiceError) -> Self {
        match e {
            SelfServiceError::Invalid(errors) => {
                ApiError::from(crate::accounts::directory::DirectoryError::Invalid(errors))
            }
            SelfServiceError::Store(e) => e.into(),
            SelfServiceError::Throttled { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many e-mails of this kind were asked for in the last hour; try again in {} minutes",
                    (retry_after + 59) / 60
                ),
            ),
            SelfServiceError::WrongPassword => {
                ApiError::forbidden("the current password is incorrect")
            }
            SelfServiceError::Locked { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed attempts; try again in {retry_after} seconds"),
            ),
            other => ApiError::internal(StatusCode::INTERNAL_SERVER_ERROR, other),
        }
    }
}

/// What a person may change of their own profile.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    family_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    locale: Option<Option<String>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_me(caller: Caller) -> Result<axum::Json<User>, ApiError> {
    Ok(axum::Json(caller.require_person()?.clone().into()))
}

/// Changes the caller's own e-mail address or names (never roles: unknown fields are refused).
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = ProfilePatch,
    responses((status = 200, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_me(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> Result<axum::Json<User>, ApiError> {
    let me = caller.require_person()?;
    // A new address is taken only once its link is followed: POST /api/v1/users/me/email.
    if body.email.as_deref().is_some_and(|e| e.trim() != me.email) {
        return Err(email_changes_by_confirmation());
    }
    let change = UserChange {
        given_name: body.given_name,
        family_name: body.family_name,
        locale: body.locale,
        ..UserChange::default()
    };
    let (before, after) = directory::update_user(
        &app.store,
        &caller.actor,
        me.account_id,
        &change,
        app.clock.now(),
    )
    .await?;
    audit_change(&app, &caller, "user.update_profile", &before, &after).await;
    Ok(axum::Json(after.into()))
}

/// Changes the caller's own password; the current one is required.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn change_my_password(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let me = caller.require_person()?;
    // Checked like a sign-in, so the same throttling applies to guessing the current password.
    let proof = caller.password_proof(&body.current_password);
    // Other sessions and apps signed in with the old password end; the caller's own grant stays.
    let keep = caller.grant_id.map_or(KeepGrants::None, KeepGrants::Grant);
    passwords::change_own_password(&app, me, &proof, &body.new_password, keep).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A browser signed in to the account.
#[derive(Serialize, ToSchema)]
pub struct BrowserSession {
    id: Uuid,
    /// How it signed in: `password`, `qr`, `invitation`, `reset`.
    method: String,
    /// "Chrome · Windows 10", when the User-Agent names it.
    device: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    signed_in_at: String,
    last_seen_at: String,
}

/// The caller's browser sessions, most recently used first.
#[utoipa::path(get, path = "/api/v1/users/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<BrowserSession>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_sessions(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<BrowserSession>>, ApiError> {
    let me = caller.require_person()?;
    let rows = app
        .store
        .list_browser_sessions(me.account_id, app.clock.now())
        .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|s| BrowserSession {
                id: s.sid,
                method: s.method,
                device: s
                    .user_agent
                    .as_deref()
                    .and_then(crate::http::describe_user_agent),
                ip: s.ip,
                user_agent: s.user_agent,
                signed_in_at: rfc3339(s.created_at),
                last_seen_at: rfc3339(s.last_seen_at),
            })
            .collect(),
    ))
}

/// Ends one of the caller's browser sessions: that browser is signed out and its apps get a
/// back-channel logout.
#[utoipa::path(delete, path = "/api/v1/users/me/sessions/{sid}", tag = "me", security(("bearer" = [])),
    params(("sid" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn end_session(
    State(app): State<AppState>,
    caller: Caller,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let me = caller.require_person()?;
    let sid = parse_id(&sid)?;
    let ended =
        self_service::end_sessions(&app, me, Sessions::One(sid), Some(&caller.client_ip)).await?;
    if ended == 0 {
        return Err(ApiError::not_found("no such session of yours"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// An app the caller allowed.
#[derive(Serialize, ToSchema)]
pub struct ConnectedApp {
    client_id: Uuid,
    name: String,
    /// What it may do.
    scopes: Vec<String>,
    since: String,
    /// Its live sign-ins (grants) with the account.
    grants: i64,
}

#[utoipa::path(get, path = "/api/v1/users/me/apps", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<ConnectedApp>), (status = 401, body = Problem)))]
pub async fn list_apps(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<ConnectedApp>>, ApiError> {
    let me = caller.require_person()?;
    let rows = app.store.connected_apps(me.account_id).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|a| ConnectedApp {
                client_id: a.client_id,
                name: a.name,
                scopes: ScopeSet::parse(&a.scope).names(),
                since: rfc3339(a.since),
                grants: a.live_grants,
            })
            .collect(),
    ))
}

/// Takes back what an app was allowed: its consent, and every grant with its refresh tokens.
#[utoipa::path(delete, path = "/api/v1/users/me/apps/{client_id}", tag = "me", security(("bearer" = [])),
    params(("client_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_app(
    State(app): State<AppState>,
    caller: Caller,
    Path(client_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let me = caller.require_person()?;
    let client_id = parse_id(&client_id)?;
    if !self_service::revoke_app(&app, me, client_id, Some(&caller.client_ip)).await? {
        return Err(ApiError::not_found(
            "no app of that id has access to your account",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A sign-in attempt on the account.
#[derive(Serialize, ToSchema)]
pub struct SignInEvent {
    at: String,
    /// `succeeded`, `failed`, `locked`.
    result: String,
    method: String,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// The caller's 50 most recent sign-in attempts.
#[utoipa::path(get, path = "/api/v1/users/me/activity", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<SignInEvent>), (status = 401, body = Problem)))]
pub async fn activity(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<SignInEvent>>, ApiError> {
    let me = caller.require_person()?;
    let rows = app.store.recent_sign_ins(me.account_id, 50).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|e| SignInEvent {
                at: rfc3339(e.at),
                result: e.result,
                method: e.method,
                ip: e.ip,
                user_agent: e.user_agent,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChange {
    email: String,
    /// Required every time: missing or blank is a 422 naming this field.
    #[serde(default)]
    current_password: String,
}

/// Starts a change of the caller's address, after the current password (asked every time): a
/// confirmation link goes to the new address and a notice to the current one, which stays in
/// use until the link is followed.
#[utoipa::path(post, path = "/api/v1/users/me/email", tag = "me", security(("bearer" = [])),
    request_body = EmailChange,
    responses((status = 202), (status = 403, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn change_email(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<EmailChange>,
) -> Result<StatusCode, ApiError> {
    let me = caller.require_person()?;
    // Resets go to the address: an account with a second factor moves it only with a token
    // from a sign-in that used the factor, besides the password.
    if !caller.with_factor && app.store.find_mfa(me.account_id).await?.has_factor() {
        return Err(ApiError::forbidden(
            "this account uses a second factor: change the address with a token from a sign-in that used it",
        ));
    }
    let proof = caller.password_proof(&body.current_password);
    self_service::start_email_change(&app, me, &body.email, &proof).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The field error of an address changed by PATCH (it changes only by confirmation).
pub fn email_changes_by_confirmation() -> ApiError {
    let message = crate::i18n::Message::new("api-email-by-confirmation");
    ApiError::from(crate::accounts::directory::DirectoryError::Invalid(vec![
        FieldError::new("email", message),
    ]))
}
