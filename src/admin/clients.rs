//! Admin pages for client applications (relying parties and service clients). The form of one
//! client is in `clients/form.rs`.

mod form;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use form::{ClientPage, change_from};

use super::{Admin, AdminForm, Denied, Pager, notice, page_number, query_params};
use crate::clients::{self, ClientChange, ClientError, audit_detail};
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
            record(
                &app,
                &admin,
                "client.create",
                &client,
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

/// Saves a change by the rules the CLI and the API share.
async fn apply(
    app: &AppState,
    client_id: Uuid,
    change: &ClientChange,
) -> Result<(ClientRow, Option<String>), ClientError> {
    clients::update(
        &app.store,
        client_id,
        change,
        &app.key_encryption,
        app.clock.now(),
    )
    .await
}

/// An audit entry about a client, by the admin.
async fn record(
    app: &AppState,
    admin: &Admin,
    action: &str,
    client: &ClientRow,
    detail: serde_json::Value,
) {
    let target = Some(format!("client:{}", client.client_id));
    admin.audit(app, action, target, detail).await;
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
    match apply(&app, client.client_id, &change).await {
        Ok((updated, secret)) => {
            record(
                &app,
                &admin,
                "client.update",
                &updated,
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
    let (client, secret) = apply(&app, client.client_id, &change)
        .await
        .map_err(client_error)?;
    let detail = serde_json::json!({"name": client.name});
    record(&app, &admin, "client.rotate_secret", &client, detail).await;
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
    record(
        &app,
        &admin,
        "client.delete",
        &client,
        audit_detail(&client),
    )
    .await;
    Ok(Redirect::to("/admin/clients?done=deleted").into_response())
}
