//! Admin pages for user accounts: the list, and what an admin does to one account. The
//! account's form page is in `users/form.rs`.

mod form;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{Admin, AdminForm, Denied, Pager, notice, page_number, query_params};
use crate::accounts::directory::{
    self, DirectoryError, FieldError, NewUser, UserChange, audit_view,
};
use crate::accounts::passwords;
use crate::domain::ROLES;
use crate::http::Params;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::state::AppState;
use crate::store::{AccountFilter, AccountRow, KeepGrants};
use form::{UserPage, directory_error, groups_from, roles_from};

const PER_PAGE: i64 = 25;

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    csrf_token: String,
    notice: Option<&'static str>,
    /// How many were invited, after an invitation.
    invited: Option<i64>,
    /// How many were skipped by it because their invitation still works.
    skipped: i64,
    /// Whether the notice says how many were sent: not "none needed one" when some were skipped.
    sent_sentence: bool,
    users: Vec<AccountRow>,
    search: String,
    role: String,
    status: String,
    roles: [&'static str; 4],
    pager: super::Pager,
}

pub async fn list(
    State(app): State<AppState>,
    admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
    let query = query_params(query)?;
    let filter = directory::account_filter(&query)
        .map_err(|e| PageError::bad_request_with("error-invalid-filter-title", e))?;
    let page = page_number(&query)?;
    let filter = AccountFilter {
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
        ..filter
    };
    let (users, total) = app
        .store
        .list_accounts(&filter)
        .await
        .map_err(PageError::from)?;
    let search = filter.search.clone().unwrap_or_default();
    let role = filter.role.clone().unwrap_or_default();
    let status = query.get("status").unwrap_or("all").to_owned();
    let base_query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("search", &search)
        .append_pair("role", &role)
        .append_pair("status", &status)
        .finish();
    let invited: Option<i64> = (query.get("done") == Some("invited"))
        .then(|| query.get("count").and_then(|c| c.parse().ok()))
        .flatten();
    let skipped = query
        .get("skipped")
        .and_then(|c| c.parse().ok())
        .filter(|n: &i64| *n > 0)
        .unwrap_or(0);
    Ok(render(
        StatusCode::OK,
        &ListPage {
            csrf_token: admin.csrf_token.clone(),
            notice: notice(&query),
            invited,
            skipped,
            sent_sentence: invited != Some(0) || skipped == 0,
            users,
            search,
            role,
            status,
            roles: ROLES,
            pager: Pager::new(page, PER_PAGE, total, base_query),
        },
    ))
}

pub async fn new_form(admin: Admin) -> Result<Response, Denied> {
    Ok(render(StatusCode::OK, &UserPage::blank(&admin)))
}

pub async fn create(
    State(app): State<AppState>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let field = |name: &str| form.get(name).map(str::to_owned);
    let new = NewUser {
        username: field("username").unwrap_or_default(),
        email: field("email").unwrap_or_default(),
        email_verified: form.contains("email_verified"),
        given_name: field("given_name"),
        family_name: field("family_name"),
        roles: roles_from(&form),
        groups: groups_from(&form),
        password: field("password"),
        must_change_password: form.contains("must_change_password"),
        locale: field("locale"),
        recovery_email: field("recovery_email"),
    };
    match directory::create_user(&app.store, &app.hasher, new, app.clock.now()).await {
        Ok(account) => {
            admin
                .audit(
                    &app,
                    "user.create",
                    Some(format!("user:{}", account.account_id)),
                    audit_view(&account),
                )
                .await;
            Ok(back_to(account.account_id, "created"))
        }
        Err(e) => Ok(UserPage::blank(&admin).with_form(&form, e)),
    }
}

pub async fn edit_form(
    State(app): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, Denied> {
    let query = query_params(query)?;
    let account = target(&app, &id).await?;
    let mut page = UserPage::of(&admin, &account);
    page.notice = notice(&query);
    page.pending_links = super::links::pending(&app, &account).await?;
    page.mail_configured = app.mail.configured();
    page.factors = super::links::factors_of(&app, &account).await?;
    Ok(render(StatusCode::OK, &page))
}

/// The account a page's path names: not found unless the id is one.
pub(super) async fn target(app: &AppState, id: &str) -> Result<AccountRow, PageError> {
    let id = Uuid::parse_str(id).map_err(|_| PageError::not_found())?;
    app.store
        .find_account(id)
        .await?
        .ok_or_else(PageError::not_found)
}

/// Back to an account's page, whose notice says what was done.
pub(super) fn back_to(account_id: Uuid, done: &str) -> Response {
    Redirect::to(&format!("/admin/users/{account_id}?done={done}")).into_response()
}

pub async fn save(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let account = target(&app, &id).await?;
    let field = |name: &str| form.get(name).map(str::to_owned);
    let change = UserChange {
        username: Some(field("username").unwrap_or_default()),
        email: Some(field("email").unwrap_or_default()),
        email_verified: Some(form.contains("email_verified")),
        given_name: Some(field("given_name")),
        family_name: Some(field("family_name")),
        roles: Some(roles_from(&form)),
        groups: Some(groups_from(&form)),
        disabled: None,
        locale: Some(field("locale")),
        recovery_email: Some(field("recovery_email")),
    };
    apply(
        &app,
        &admin,
        &account,
        &change,
        "user.update",
        "saved",
        &form,
    )
    .await
}

async fn apply(
    app: &AppState,
    admin: &Admin,
    account: &AccountRow,
    change: &UserChange,
    action: &str,
    done: &str,
    form: &Params,
) -> Result<Response, Denied> {
    match directory::update_user(
        &app.store,
        &admin.actor(),
        account.account_id,
        change,
        app.clock.now(),
    )
    .await
    {
        Ok((before, after)) => {
            admin
                .audit(
                    app,
                    action,
                    Some(format!("user:{}", after.account_id)),
                    serde_json::json!({"before": audit_view(&before), "after": audit_view(&after)}),
                )
                .await;
            // An address an admin vouches for, rather than one proven by its link: its own entry.
            if after.email_verified && !(before.email_verified && before.email == after.email) {
                let detail = serde_json::json!({"email": after.email});
                let target = Some(format!("user:{}", after.account_id));
                admin
                    .audit(app, "user.mark_email_verified", target, detail)
                    .await;
            }
            Ok(back_to(after.account_id, done))
        }
        Err(e @ (DirectoryError::NotFound | DirectoryError::Store(_))) => {
            Err(directory_error(e).into())
        }
        Err(e) if action == "user.update" => Ok(UserPage::of(admin, account).with_form(form, e)),
        Err(e) => {
            let mut page = UserPage::of(admin, account);
            page.error = Some(e.message());
            Ok(render(StatusCode::CONFLICT, &page))
        }
    }
}

pub async fn set_status(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let account = target(&app, &id).await?;
    let disable = match form.get("status") {
        Some("disabled") => true,
        Some("active") => false,
        _ => {
            let problem = Message::new("admin-user-status-choice");
            return Err(PageError::invalid_form(problem).into());
        }
    };
    let change = UserChange {
        disabled: Some(disable),
        ..UserChange::default()
    };
    let (action, done) = if disable {
        ("user.disable", "disabled")
    } else {
        ("user.enable", "enabled")
    };
    apply(&app, &admin, &account, &change, action, done, &form).await
}

pub async fn set_password(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let account = target(&app, &id).await?;
    let password = form.get("temporary_password").unwrap_or_default();
    let now = app.clock.now();
    match passwords::set_password(&app, &account, password, true, KeepGrants::None, now).await {
        Ok(_) => {
            admin
                .audit(
                    &app,
                    "user.set_temporary_password",
                    Some(format!("user:{}", account.account_id)),
                    serde_json::json!({"username": account.username}),
                )
                .await;
            Ok(back_to(account.account_id, "password"))
        }
        Err(DirectoryError::Invalid(errors)) => {
            let mut page = UserPage::of(&admin, &account);
            // The rules name the field `password`: on this page it is the temporary one.
            page.errors = errors
                .into_iter()
                .map(|e| FieldError::new("temporary_password", e.message))
                .collect();
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(directory_error(e).into()),
    }
}

pub async fn delete(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let account = target(&app, &id).await?;
    if !form.contains("confirm") {
        let mut page = UserPage::of(&admin, &account);
        page.error = Some(Message::new("admin-confirm-delete-needed"));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    match directory::delete_user(&app.store, &admin.actor(), account.account_id).await {
        Ok(deleted) => {
            admin
                .audit(
                    &app,
                    "user.delete",
                    Some(format!("user:{}", deleted.account_id)),
                    audit_view(&deleted),
                )
                .await;
            Ok(Redirect::to("/admin/users?done=deleted").into_response())
        }
        Err(e @ (DirectoryError::Forbidden(_) | DirectoryError::LastAdmin)) => {
            let mut page = UserPage::of(&admin, &account);
            page.error = Some(e.message());
            Ok(render(StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(directory_error(e).into()),
    }
}
