//! The bulk import page: upload a CSV, see the dry run, then import it (all rows or none).

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::{Admin, Denied};
use crate::accounts::import::{self, ImportError, PlannedRow, RejectedRow};
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::state::AppState;

/// Rows of each kind shown on the dry-run page; the counts are always complete.
const SHOWN: usize = 200;

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    csrf_token: String,
    error: Option<Message>,
    /// Set after a dry run: the file itself, carried to the import button.
    csv: Option<String>,
    created: usize,
    updated: usize,
    unchanged: usize,
    rejected: Vec<RejectedRow>,
    creates: Vec<PlannedRow>,
    updates: Vec<PlannedRow>,
    more_creates: usize,
    more_updates: usize,
}

impl ImportPage {
    fn empty(csrf_token: String) -> ImportPage {
        ImportPage {
            csrf_token,
            error: None,
            csv: None,
            created: 0,
            updated: 0,
            unchanged: 0,
            rejected: Vec::new(),
            creates: Vec::new(),
            updates: Vec::new(),
            more_creates: 0,
            more_updates: 0,
        }
    }
}

impl ImportPage {
    /// What the file would do, counted.
    fn summary(&self) -> Message {
        Message::new("admin-import-summary")
            .with("created", self.created)
            .with("updated", self.updated)
            .with("unchanged", self.unchanged)
            .with("rejected", self.rejected.len())
    }
}

pub async fn form(admin: Admin) -> Result<Response, Denied> {
    Ok(render(StatusCode::OK, &ImportPage::empty(admin.csrf_token)))
}

/// The posted form: which button, the CSRF token, and the CSV (uploaded file or carried text).
#[derive(Default)]
struct Upload {
    csrf_token: Option<String>,
    commit: bool,
    data: Option<Vec<u8>>,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        tracing::debug!(error = %e, "an upload could not be read");
        PageError::bad_request("error-upload-title", "error-upload")
    };
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf_token" => upload.csrf_token = Some(field.text().await.map_err(bad)?),
            "action" => upload.commit = field.text().await.map_err(bad)? == "import",
            "file" | "csv" => {
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    upload.data = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    Ok(upload)
}

pub async fn submit(
    State(app): State<AppState>,
    admin: Admin,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Denied> {
    let multipart =
        multipart.map_err(|_| PageError::bad_request("error-upload-title", "error-upload"))?;
    let upload = read_upload(multipart).await?;
    if !admin
        .csrf_matches(&app, upload.csrf_token.as_deref())
        .await?
    {
        return Err(PageError::form_expired().into());
    }
    let mut page = ImportPage::empty(admin.csrf_token.clone());
    let Some(data) = upload.data else {
        page.error = Some(Message::new("admin-import-choose-file"));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let plan = match import::plan(&app.store, &data).await {
        Ok(plan) => plan,
        Err(ImportError::File(message)) => {
            page.error = Some(message);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
        Err(e) => return Err(PageError::server_error(e).into()),
    };
    if upload.commit && plan.rejected.is_empty() {
        import::apply(&app.store, &plan, app.clock.now())
            .await
            .map_err(PageError::server_error)?;
        admin.audit(&app, "user.import", None, plan.summary()).await;
        return Ok(Redirect::to("/admin/users?done=imported").into_response());
    }
    page.created = plan.creates.len();
    page.updated = plan.updates.len();
    page.unchanged = plan.unchanged;
    page.more_creates = plan.creates.len().saturating_sub(SHOWN);
    page.more_updates = plan.updates.len().saturating_sub(SHOWN);
    page.creates = plan
        .creates
        .into_iter()
        .take(SHOWN)
        .map(|(row, _)| row)
        .collect();
    page.updates = plan
        .updates
        .into_iter()
        .take(SHOWN)
        .map(|(row, _)| row)
        .collect();
    page.rejected = plan.rejected;
    if page.rejected.is_empty() {
        page.csv = Some(String::from_utf8_lossy(&data).into_owned());
    } else {
        page.error =
            Some(Message::new("admin-import-rows-rejected").with("count", page.rejected.len()));
    }
    let status = if page.rejected.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(status, &page))
}
