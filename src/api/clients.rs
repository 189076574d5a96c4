//! /api/v1/clients: the college's applications, for admins. Same rules as the CLI and admin pages.

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
use crate::clients::{self, ClientChange};
use crate::domain::{AuthMethod, GrantType};
use crate::state::AppState;
use crate::store::ClientRow;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/clients", get(list_clients).post(create_client))
        .route(
            "/api/v1/clients/{id}",
            get(get_client)
                .put(put_client)
                .patch(patch_client)
                .delete(delete_client),
        )
        .route("/api/v1/clients/{id}/secret", post(rotate_secret))
}

/// A client application as the API shows it (never its secret, except once when issued).
#[derive(Serialize, ToSchema)]
pub struct Client {
    client_id: Uuid,
    name: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    token_endpoint_auth_method: String,
    skip_consent: bool,
    require_par: bool,
    /// Everyone signing in to this app uses a second factor.
    require_mfa: bool,
    backchannel_logout_uri: Option<String>,
    jwks_uri: Option<String>,
    id_token_alg: String,
    api_roles: Vec<String>,
    /// The scopes the client may obtain for a person (`api` only when an admin allowed it).
    allowed_scopes: Vec<String>,
    created_at: String,
    updated_at: String,
    /// Present only in the answer that issued it: store it then, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

impl Client {
    fn new(c: ClientRow, client_secret: Option<String>) -> Client {
        Client {
            client_id: c.client_id,
            name: c.name,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            token_endpoint_auth_method: c.token_endpoint_auth_method.as_str().to_owned(),
            skip_consent: c.skip_consent,
            require_par: c.settings.require_par,
            require_mfa: c.settings.require_mfa,
            backchannel_logout_uri: c.settings.backchannel_logout_uri,
            jwks_uri: c.settings.jwks_uri,
            id_token_alg: c.settings.id_token_alg,
            api_roles: c.settings.api_roles,
            allowed_scopes: c.settings.allowed_scopes.names(),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            client_secret,
        }
    }
}

/// A client's settings. In POST and PUT, fields left out take their defaults; in PATCH they stay.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    /// authorization_code, refresh_token, client_credentials, the device_code URN, password (legacy).
    grant_types: Option<Vec<String>>,
    /// client_secret_basic (default), client_secret_post, client_secret_jwt, private_key_jwt, none.
    token_endpoint_auth_method: Option<String>,
    skip_consent: Option<bool>,
    require_par: Option<bool>,
    /// Everyone signing in to this app must use a second factor.
    require_mfa: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    backchannel_logout_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    jwks_uri: Option<Option<String>>,
    /// The client's public keys (a JWKS object) for private_key_jwt.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    jwks: Option<Option<serde_json::Value>>,
    id_token_alg: Option<String>,
    /// Roles the client itself holds at this API with client_credentials tokens (e.g. admin).
    api_roles: Option<Vec<String>>,
    /// Scopes the client may obtain for a person: openid, profile, email, roles, offline_access,
    /// api. Default: openid profile email offline_access.
    allowed_scopes: Option<Vec<String>>,
}

impl ClientBody {
    fn into_change(self) -> ClientChange {
        ClientChange {
            name: self.name,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            grant_types: self.grant_types,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            skip_consent: self.skip_consent,
            require_par: self.require_par,
            require_mfa: self.require_mfa,
            backchannel_logout_uri: self.backchannel_logout_uri,
            jwks: self.jwks.map(|j| j.map(|v| v.to_string())),
            jwks_uri: self.jwks_uri,
            id_token_alg: self.id_token_alg,
            api_roles: self.api_roles,
            allowed_scopes: self.allowed_scopes,
            rotate_secret: false,
        }
    }

    /// PUT: every setting left out goes back to its default.
    fn with_defaults(self) -> ClientChange {
        let mut change = self.into_change();
        change.redirect_uris.get_or_insert_with(Vec::new);
        change
            .post_logout_redirect_uris
            .get_or_insert_with(Vec::new);
        change.grant_types.get_or_insert_with(|| {
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
                .map(|g| g.as_str().to_owned())
                .to_vec()
        });
        change
            .token_endpoint_auth_method
            .get_or_insert_with(|| AuthMethod::ClientSecretBasic.as_str().to_owned());
        change.skip_consent.get_or_insert(false);
        change.require_par.get_or_insert(false);
        change.require_mfa.get_or_insert(false);
        change.backchannel_logout_uri.get_or_insert(None);
        change.jwks.get_or_insert(None);
        change.jwks_uri.get_or_insert(None);
        change.id_token_alg.get_or_insert_with(|| "RS256".into());
        change.api_roles.get_or_insert_with(Vec::new);
        change
            .allowed_scopes
            .get_or_insert_with(|| crate::domain::ScopeSet::CLIENT_DEFAULT.names());
        change
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuedSecret {
    client_id: Uuid,
    client_secret: String,
}

/// Lists client applications by name.
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])),
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = Page<Client>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list_clients(
    State(app): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Page<Client>>, ApiError> {
    caller.require_admin()?;
    let params = super::query_params(query)?;
    let (page, per_page) = paging(params.get("page"), params.get("per_page"))?;
    let (rows, total) = app
        .store
        .list_clients(per_page, (page - 1) * per_page)
        .await?;
    Ok(axum::Json(Page {
        items: rows.into_iter().map(|c| Client::new(c, None)).collect(),
        total,
        more: false,
        page,
        per_page,
    }))
}

/// Registers a client application; the answer carries its secret, this once.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", security(("bearer" = [])),
    request_body = ClientBody,
    responses((status = 201, body = Client), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_client(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ClientBody>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    if body.name.is_none() {
        return Err(ApiError::unprocessable("name is required"));
    }
    let change = body.with_defaults();
    let (client, secret) =
        clients::register(&app.store, &change, &app.key_encryption, app.clock.now()).await?;
    audit_client(&app, &caller, "client.create", &client).await;
    let location = format!("/api/v1/clients/{}", client.client_id);
    Ok(created(location, Client::new(client, secret)))
}

/// One client application.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Client), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn get_client(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Client>, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let client = app
        .store
        .find_client(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such client"))?;
    Ok(axum::Json(Client::new(client, None)))
}

/// Replaces a client's settings (those left out return to their defaults).
#[utoipa::path(put, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ClientBody,
    responses((status = 200, body = Client), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_client(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ClientBody>,
) -> Result<axum::Json<Client>, ApiError> {
    if body.name.is_none() {
        caller.require_admin()?;
        return Err(ApiError::unprocessable("name is required"));
    }
    change_client(&app, &caller, &id, body.with_defaults()).await
}

/// Changes some of a client's settings.
#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ClientBody,
    responses((status = 200, body = Client), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_client(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ClientBody>,
) -> Result<axum::Json<Client>, ApiError> {
    change_client(&app, &caller, &id, body.into_change()).await
}

async fn change_client(
    app: &AppState,
    caller: &Caller,
    id: &str,
    change: ClientChange,
) -> Result<axum::Json<Client>, ApiError> {
    caller.require_admin()?;
    let (client, secret) = save(app, parse_id(id)?, &change).await?;
    audit_client(app, caller, "client.update", &client).await;
    Ok(axum::Json(Client::new(client, secret)))
}

/// Deletes a client application and every grant and token issued to it.
#[utoipa::path(delete, path = "/api/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_client(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    app.store.delete_client(id).await.map_err(|e| match e {
        crate::store::StoreError::NotFound => ApiError::not_found("no such client"),
        other => other.into(),
    })?;
    record(&app, &caller, "client.delete", id, serde_json::json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a new secret (shown this once); the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/clients/{id}/secret", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = IssuedSecret), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn rotate_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<IssuedSecret>, ApiError> {
    caller.require_admin()?;
    let id = parse_id(&id)?;
    let change = ClientChange {
        rotate_secret: true,
        ..ClientChange::default()
    };
    let (client, secret) = save(&app, id, &change).await?;
    let client_secret = secret.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "this client authenticates without a secret (none or private_key_jwt)",
        )
    })?;
    let detail = serde_json::json!({"name": client.name});
    record(&app, &caller, "client.rotate_secret", id, detail).await;
    Ok(axum::Json(IssuedSecret {
        client_id: client.client_id,
        client_secret,
    }))
}

/// Saves a change by the rules the CLI and the admin pages share.
async fn save(
    app: &AppState,
    id: Uuid,
    change: &ClientChange,
) -> Result<(ClientRow, Option<String>), clients::ClientError> {
    clients::update(&app.store, id, change, &app.key_encryption, app.clock.now()).await
}

/// An audit entry about a client, by the API's caller.
async fn record(
    app: &AppState,
    caller: &Caller,
    action: &str,
    client_id: Uuid,
    detail: serde_json::Value,
) {
    caller
        .audit(app, action, format!("client:{client_id}"), detail)
        .await;
}

/// An audit entry about a client the API registered or changed: what the admin pages and the
/// CLI record (`clients::audit_detail`) but the allowed scopes, which the API's entries have
/// never carried.
async fn audit_client(app: &AppState, caller: &Caller, action: &str, client: &ClientRow) {
    let mut detail = clients::audit_detail(client);
    if let Some(fields) = detail.as_object_mut() {
        fields.remove("allowed_scopes");
    }
    record(app, caller, action, client.client_id, detail).await;
}
