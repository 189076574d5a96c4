//! /api/v1/users: the directory, for admins (the caller's own account is in `me.rs`).

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    ApiError, Caller, JsonBody, Page, Problem, created, nullable, paging, parse_id, rfc3339,
};
use crate::accounts::directory::{self, NewUser, UserChange, audit_view};
use crate::accounts::self_service;
use crate::state::AppState;
use crate::store::{AccountFilter, AccountRow};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}/invite", post(invite))
        .route(
            "/api/v1/users/{id}",
            get(get_user)
                .put(put_user)
                .patch(patch_user)
                .delete(delete_user),
        )
}

/// An account as the API shows it (never its password hash).
#[derive(Serialize, ToSchema)]
pub struct User {
    id: Uuid,
    username: String,
    email: String,
    email_verified: bool,
    given_name: Option<String>,
    family_name: Option<String>,
    roles: Vec<String>,
    groups: Vec<String>,
    disabled: bool,
    /// The person's language (`en`, `es`), or null when not chosen.
    locale: Option<String>,
    /// Where invitations and password resets go instead of `email`, when set.
    recovery_email: Option<String>,
    /// RFC 3339.
    created_at: String,
    updated_at: String,
}

impl From<AccountRow> for User {
    fn from(a: AccountRow) -> User {
        User {
            id: a.account_id,
            username: a.username,
            email: a.email,
            email_verified: a.email_verified,
            given_name: a.given_name,
            family_name: a.family_name,
            roles: a.roles.0,
            groups: a.groups.0,
            disabled: a.disabled,
            locale: a.locale,
            recovery_email: a.recovery_email,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    username: String,
    email: String,
    #[serde(default)]
    email_verified: bool,
    given_name: Option<String>,
    family_name: Option<String>,
    /// admin, staff, faculty, student.
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    /// At least 12 characters, not a common breached password, not containing the username.
    /// Without one the account cannot sign in until a password is set.
    password: Option<String>,
    /// The password is temporary: the person must choose a new one at their next sign-in.
    #[serde(default)]
    must_change_password: bool,
    /// `en` or `es` (any regional form, e.g. `es-US`).
    locale: Option<String>,
    /// Where invitations and password resets go instead of `email`.
    recovery_email: Option<String>,
}

/// Every field of an account (PUT replaces them all).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    username: String,
    email: String,
    #[serde(default)]
    email_verified: bool,
    given_name: Option<String>,
    family_name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    disabled: bool,
    locale: Option<String>,
    recovery_email: Option<String>,
}

/// The fields to change; `null` clears a name.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    username: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    family_name: Option<Option<String>>,
    roles: Option<Vec<String>>,
    groups: Option<Vec<String>>,
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    recovery_email: Option<Option<String>>,
}

/// Lists accounts, newest filters first: `search` (username, e-mail or name), `role`, `status`
/// (active, disabled or all), `page`, `per_page` (at most 100).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    params(
        ("search" = Option<String>, Query, description = "part of the username, e-mail address or name"),
        ("role" = Option<String>, Query, description = "admin, staff, faculty or student"),
        ("status" = Option<String>, Query, description = "active, disabled or all (default)"),
        ("page" = Option<i64>, Query, description = "from 1"),
        ("per_page" = Option<i64>, Query, description = "1 to 100, default 20"),
    ),
    responses((status = 200, body = Page<User>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list_users(
    State(app): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Page<User>>, ApiError> {
    caller.require_admin()?;
    let params = super::query_params(query)?;
    let filter =
        directory::account_filter(&params).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (page, per_page) = paging(params.get("page"), params.get("per_page"))?;
    let filter = AccountFilter {
        limit: per_page,
        offset: (page - 1) * per_page,
        ..filter
    };
    let (rows, count) = app.store.list_accounts(&filter).await?;
    Ok(axum::Json(Page {
        items: rows.into_iter().map(User::from).collect(),
        total: count.value,
        more: count.more,
        page,
        per_page,
    }))
}

/// Creates an account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUserBody,
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewUserBody>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let new = NewUser {
        username: body.username,
        email: body.email,
        email_verified: body.email_verified,
        given_name: body.given_name,
        family_name: body.family_name,
        roles: body.roles,
        groups: body.groups,
        password: body.password,
        must_change_password: body.must_change_password,
        locale: body.locale,
        recovery_email: body.recovery_email,
    };
    let account = directory::create_user(&app.store, &app.hasher, new, app.clock.now()).await?;
    caller
        .audit(
            &app,
            "user.create",
            format!("user:{}", account.account_id),
            audit_view(&account),
        )
        .await;
    let location = format!("/api/v1/users/{}", account.account_id);
    Ok(created(location, User::from(account)))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn get_user(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<User>, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let account = find_user(&app, id).await?;
    Ok(axum::Json(account.into()))
}

/// Replaces an account's fields. Disabling ends the person's sessions and revokes their tokens.
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UserBody,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_user(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UserBody>,
) -> Result<axum::Json<User>, ApiError> {
    let change = UserChange {
        username: Some(body.username),
        email: Some(body.email),
        email_verified: Some(body.email_verified),
        given_name: Some(body.given_name),
        family_name: Some(body.family_name),
        roles: Some(body.roles),
        groups: Some(body.groups),
        disabled: Some(body.disabled),
        locale: Some(body.locale),
        recovery_email: Some(body.recovery_email),
    };
    change_user(&app, &caller, &id, &change).await
}

/// Changes some of an account's fields.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_user(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UserPatch>,
) -> Result<axum::Json<User>, ApiError> {
    let change = UserChange {
        username: body.username,
        email: body.email,
        email_verified: body.email_verified,
        given_name: body.given_name,
        family_name: body.family_name,
        roles: body.roles,
        groups: body.groups,
        disabled: body.disabled,
        locale: body.locale,
        recovery_email: body.recovery_email,
    };
    change_user(&app, &caller, &id, &change).await
}

async fn change_user(
    app: &AppState,
    caller: &Caller,
    id: &str,
    change: &UserChange,
) -> Result<axum::Json<User>, ApiError> {
    caller.require_admin()?;
    let id = parse_id(id)?;
    let (before, after) =
        directory::update_user(&app.store, &caller.actor, id, change, app.clock.now()).await?;
    audit_change(app, caller, "user.update", &before, &after).await;
    Ok(axum::Json(after.into()))
}

pub(super) async fn audit_change(
    app: &AppState,
    caller: &Caller,
    action: &str,
    before: &AccountRow,
    after: &AccountRow,
) {
    let detail = serde_json::json!({"before": audit_view(before), "after": audit_view(after)});
    caller
        .audit(app, action, format!("user:{}", after.account_id), detail)
        .await;
}

/// The account of an id from the path, or 404.
async fn find_user(app: &AppState, id: Uuid) -> Result<AccountRow, ApiError> {
    app.store
        .find_account(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such user"))
}

/// Deletes an account, its sessions and its tokens.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_user(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let account = directory::delete_user(&app.store, &caller.actor, id).await?;
    caller
        .audit(
            &app,
            "user.delete",
            format!("user:{id}"),
            audit_view(&account),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends an invitation (a link to choose a password) to an account that has none yet.
#[utoipa::path(post, path = "/api/v1/users/{id}/invite", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn invite(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let account = find_user(&app, id).await?;
    if account.password_hash.is_some() || account.disabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the account already has a password or is disabled; send a reset instead",
        ));
    }
    self_service::invite(
        &app,
        vec![account],
        &caller.actor,
        Some(&caller.client_ip),
        serde_json::json!("one"),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}
