//! Admin pages for client applications (relying parties and service clients).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{Admin, AdminForm, Denied, Pager, notice, page_number, query_params};
use crate::clients::{self, ClientChange, ClientError, audit_detail};
use crate::domain::{AuthMethod, FieldError, GrantType, ROLES, Scope, ScopeSet};
use crate::http::Params;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::state::AppState;
use crate::store::{ClientRow, Count};

const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/clients.html")]
struct ListPage {
    notice: Option<&'static str>,
    clients: Vec<ClientRow>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/client.html")]
struct ClientPage {
    csrf_token: String,
    notice: Option<&'static str>,
    error: Option<Message>,
    /// Problems with what was typed, each shown beside its field.
    errors: Vec<FieldError>,
    client_id: Option<Uuid>,
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: String,
    /// The grant's name (a catalog key), its checkbox, whether it is ticked.
    grants: Vec<(&'static str, &'static str, bool)>,
    methods: Vec<(&'static str, bool)>,
    skip_consent: bool,
    require_par: bool,
    require_mfa: bool,
    api_roles: Vec<(&'static str, bool)>,
    scopes: Vec<(&'static str, bool)>,
}

/// A checkbox name per grant type (the device grant's URN is not a friendly field name).
fn grant_field(grant: GrantType) -> &'static str {
    match grant {
        GrantType::AuthorizationCode => "grant_authorization_code",
        GrantType::RefreshToken => "grant_refresh_token",
        GrantType::ClientCredentials => "grant_client_credentials",
        GrantType::Password => "grant_password",
        GrantType::DeviceCode => "grant_device_code",
    }
}

impl ClientPage {
    /// The problem with one field, to show beside it.
    fn error_for(&self, field: &str) -> Option<&Message> {
        super::error_for(&self.errors, field)
    }

    /// `aria-invalid` and the id of the field's error, when it has one.
    fn invalid(&self, field: &str) -> String {
        super::invalid(&self.errors, field)
    }

    /// What a scope means, for the scope named by its checkbox.
    fn scope_key(&self, name: &str) -> &'static str {
        Scope::from_name(name).map_or("", Scope::key)
    }

    fn of(admin: &Admin, c: Option<&ClientRow>) -> ClientPage {
        let has_grant = |g: GrantType| match c {
            Some(c) => c.allows_grant(g),
            None => matches!(g, GrantType::AuthorizationCode | GrantType::RefreshToken),
        };
        let method = c.map_or(AuthMethod::ClientSecretBasic, |c| {
            c.token_endpoint_auth_method
        });
        ClientPage {
            csrf_token: admin.csrf_token.clone(),
            notice: None,
            error: None,
            errors: Vec::new(),
            client_id: c.map(|c| c.client_id),
            name: c.map(|c| c.name.clone()).unwrap_or_default(),
            redirect_uris: c.map(|c| c.redirect_uris.join("\n")).unwrap_or_default(),
            post_logout_redirect_uris: c
                .map(|c| c.post_logout_redirect_uris.join("\n"))
                .unwrap_or_default(),
            backchannel_logout_uri: c
                .and_then(|c| c.settings.backchannel_logout_uri.clone())
                .unwrap_or_default(),
            grants: GrantType::ALL
                .iter()
                .map(|g| (g.key(), grant_field(*g), has_grant(*g)))
                .collect(),
            methods: AuthMethod::ALL
                .iter()
                .map(|m| (m.as_str(), *m == method))
                .collect(),
            skip_consent: c.is_some_and(|c| c.skip_consent),
            require_par: c.is_some_and(|c| c.settings.require_par),
            require_mfa: c.is_some_and(|c| c.settings.require_mfa),
            api_roles: ROLES
                .iter()
                .map(|r| {
                    (
                        *r,
                        c.is_some_and(|c| c.settings.api_roles.iter().any(|x| x == r)),
                    )
                })
                .collect(),
            scopes: Scope::ALL
                .iter()
                .map(|scope| {
                    let allowed = c.map_or(ScopeSet::CLIENT_DEFAULT, |c| c.settings.allowed_scopes);
                    (scope.as_str(), allowed.contains(*scope))
                })
                .collect(),
        }
    }

    /// What was typed, shown back with its problems.
    fn with_form(mut self, form: &Params, errors: Vec<FieldError>) -> Response {
        let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
        self.name = field("name");
        self.redirect_uris = field("redirect_uris");
        self.post_logout_redirect_uris = field("post_logout_redirect_uris");
        self.backchannel_logout_uri = field("backchannel_logout_uri");
        for grant in &mut self.grants {
            grant.2 = form.contains(grant.1);
        }
        let method = form.get("token_endpoint_auth_method").unwrap_or_default();
        for m in &mut self.methods {
            m.1 = m.0 == method;
        }
        self.skip_consent = form.contains("skip_consent");
        self.require_par = form.contains("require_par");
        self.require_mfa = form.contains("require_mfa");
        for role in &mut self.api_roles {
            role.1 = form.contains(&format!("api_role_{}", role.0));
        }
        for scope in &mut self.scopes {
            scope.1 = form.contains(&format!("scope_{}", scope.0));
        }
        self.errors = errors;
        render(StatusCode::UNPROCESSABLE_ENTITY, &self)
    }
}

fn lines(form: &Params, name: &str) -> Vec<String> {
    form.get(name)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn change_from(form: &Params) -> ClientChange {
    let backchannel = form
        .get("backchannel_logout_uri")
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    ClientChange {
        name: Some(form.get("name").unwrap_or_default().to_owned()),
        redirect_uris: Some(lines(form, "redirect_uris")),
        post_logout_redirect_uris: Some(lines(form, "post_logout_redirect_uris")),
        grant_types: Some(
            GrantType::ALL
                .iter()
                .filter(|g| form.contains(grant_field(**g)))
                .map(|g| g.as_str().to_owned())
                .collect(),
        ),
        token_endpoint_auth_method: form.get("token_endpoint_auth_method").map(str::to_owned),
        skip_consent: Some(form.contains("skip_consent")),
        require_par: Some(form.contains("require_par")),
        require_mfa: Some(form.contains("require_mfa")),
        backchannel_logout_uri: Some(backchannel),
        api_roles: Some(
            ROLES
                .iter()
                .filter(|r| form.contains(&format!("api_role_{r}")))
                .map(|r| r.to_string())
                .collect(),
        ),
        allowed_scopes: Some(
            Scope::ALL
                .iter()
                .filter(|s| form.contains(&format!("scope_{}", s.as_str())))
                .map(|s| s.as_str().to_owned())
                .collect(),
        ),
        ..ClientChange::default()
    }
}

fn client_error(e: ClientError) -> PageError {
    match e {
        ClientError::NotFound => PageError::not_found(),
        ClientError::Store(e) => e.into(),
        // Only a secret's rotation reaches here (its form has no fields), and it stores the
        // client as it is: its first problem says what to fix on the client's page.
        ClientError::Invalid(errors) => match errors.into_iter().next() {
            Some(first) => PageError::bad_request_with("error-invalid-client-title", first.message),
            None => PageError::bad_request("error-invalid-client-title", "error-invalid-client"),
        },
    }
}

#[derive(Template)]
#[template(path = "admin/secret.html")]
struct SecretPage {
    client_id: Uuid,
    name: String,
    secret: Option<String>,
}

fn secret_page(client: &ClientRow, secret: Option<String>) -> Response {
    render(
        StatusCode::OK,
        &SecretPage {
            client_id: client.client_id,
            name: client.name.clone(),
            secret,
        },
    )
}

pub async fn list(
    State(app): State<AppState>,
    _admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
    let query = query_params(query)?;
    let page = page_number(&query)?;
    let (clients, total) = app
        .store
        .list_clients(PER_PAGE, (page - 1) * PER_PAGE)
        .await
        .map_err(PageError::from)?;
    Ok(render(
        StatusCode::OK,
        &ListPage {
            notice: notice(&query),
            clients,
            pager: Pager::new(page, PER_PAGE, Count::exact(total), String::new()),
        },
    ))
}

pub async fn new_form(admin: Admin) -> Result<Response, Denied> {
    Ok(render(StatusCode::OK, &ClientPage::of(&admin, None)))
}

pub async fn create(
    State(app): State<AppState>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let change = change_from(&form);
    match clients::register(&app.store, &change, &app.key_encryption, app.clock.now()).await {
        Ok((client, secret)) => {
            admin
                .audit(
                    &app,
                    "client.create",
                    Some(format!("client:{}", client.client_id)),
                    audit_detail(&client),
                )
                .await;
            Ok(secret_page(&client, secret))
        }
        Err(ClientError::Invalid(errors)) => {
            Ok(ClientPage::of(&admin, None).with_form(&form, errors))
        }
        Err(e) => Err(client_error(e).into()),
    }
}

async fn target(app: &AppState, id: &str) -> Result<ClientRow, PageError> {
    let id = Uuid::parse_str(id).map_err(|_| PageError::not_found())?;
    app.store
        .find_client(id)
        .await?
        .ok_or_else(PageError::not_found)
}

pub async fn edit_form(
    State(app): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
    let query = query_params(query)?;
    let client = target(&app, &id).await?;
    let mut page = ClientPage::of(&admin, Some(&client));
    page.notice = notice(&query);
    Ok(render(StatusCode::OK, &page))
}

pub async fn save(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let client = target(&app, &id).await?;
    let change = change_from(&form);
    match clients::update(
        &app.store,
        client.client_id,
        &change,
        &app.key_encryption,
        app.clock.now(),
    )
    .await
    {
        Ok((updated, secret)) => {
            admin
                .audit(
                    &app,
                    "client.update",
                    Some(format!("client:{}", updated.client_id)),
                    audit_detail(&updated),
                )
                .await;
            // A change of authentication method can issue a secret: it must be shown now.
            if secret.is_some() {
                return Ok(secret_page(&updated, secret));
            }
            Ok(
                Redirect::to(&format!("/admin/clients/{}?done=saved", updated.client_id))
                    .into_response(),
            )
        }
        Err(ClientError::Invalid(errors)) => {
            Ok(ClientPage::of(&admin, Some(&client)).with_form(&form, errors))
        }
        Err(e) => Err(client_error(e).into()),
    }
}

pub async fn rotate_secret(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, .. }: AdminForm,
) -> Result<Response, Denied> {
    let client = target(&app, &id).await?;
    let change = ClientChange {
        rotate_secret: true,
        ..ClientChange::default()
    };
    let (client, secret) = clients::update(
        &app.store,
        client.client_id,
        &change,
        &app.key_encryption,
        app.clock.now(),
    )
    .await
    .map_err(client_error)?;
    admin
        .audit(
            &app,
            "client.rotate_secret",
            Some(format!("client:{}", client.client_id)),
            serde_json::json!({"name": client.name}),
        )
        .await;
    Ok(secret_page(&client, secret))
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let client = target(&app, &id).await?;
    if !form.contains("confirm") {
        let mut page = ClientPage::of(&admin, Some(&client));
        page.error = Some(Message::new("admin-confirm-delete-needed"));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    app.store
        .delete_client(client.client_id)
        .await
        .map_err(PageError::from)?;
    admin
        .audit(
            &app,
            "client.delete",
            Some(format!("client:{}", client.client_id)),
            audit_detail(&client),
        )
        .await;
    Ok(Redirect::to("/admin/clients?done=deleted").into_response())
}
