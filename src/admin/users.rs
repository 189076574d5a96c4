//! Admin pages for user accounts.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{Admin, AdminForm, Denied, Pager, notice, page_number, query_params, when};
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

/// The user form, for a new account (`account_id` None) or an existing one.
#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    csrf_token: String,
    notice: Option<&'static str>,
    errors: Vec<FieldError>,
    error: Option<Message>,
    account_id: Option<Uuid>,
    is_self: bool,
    disabled: bool,
    must_change_password: bool,
    created: String,
    username: String,
    email: String,
    email_verified: bool,
    given_name: String,
    family_name: String,
    roles: Vec<(&'static str, bool)>,
    groups: String,
    /// The account's language tag, or empty for none chosen.
    locale: String,
    recovery_email: String,
    has_password: bool,
    /// Links that have not gone out by e-mail yet, for the admin to hand over.
    pending_links: Vec<super::links::PendingLink>,
    mail_configured: bool,
    factors: super::links::FactorsView,
}

impl UserPage {
    fn error_for(&self, field: &str) -> Option<&Message> {
        super::error_for(&self.errors, field)
    }

    fn invalid(&self, field: &str) -> String {
        super::invalid(&self.errors, field)
    }

    fn blank(admin: &Admin) -> UserPage {
        UserPage {
            csrf_token: admin.csrf_token.clone(),
            notice: None,
            errors: Vec::new(),
            error: None,
            account_id: None,
            is_self: false,
            disabled: false,
            must_change_password: false,
            created: String::new(),
            username: String::new(),
            email: String::new(),
            email_verified: false,
            given_name: String::new(),
            family_name: String::new(),
            roles: ROLES.iter().map(|r| (*r, *r == "student")).collect(),
            groups: String::new(),
            locale: String::new(),
            recovery_email: String::new(),
            has_password: false,
            pending_links: Vec::new(),
            mail_configured: false,
            factors: super::links::FactorsView::default(),
        }
    }

    fn of(admin: &Admin, a: &AccountRow) -> UserPage {
        UserPage {
            account_id: Some(a.account_id),
            is_self: a.account_id == admin.account.account_id,
            disabled: a.disabled,
            must_change_password: a.must_change_password,
            created: when(a.created_at),
            username: a.username.clone(),
            email: a.email.clone(),
            email_verified: a.email_verified,
            given_name: a.given_name.clone().unwrap_or_default(),
            family_name: a.family_name.clone().unwrap_or_default(),
            roles: ROLES
                .iter()
                .map(|r| (*r, a.roles.contains_str(r)))
                .collect(),
            groups: a.groups.join("\n"),
            locale: a.locale.clone().unwrap_or_default(),
            recovery_email: a.recovery_email.clone().unwrap_or_default(),
            has_password: a.password_hash.is_some(),
            ..UserPage::blank(admin)
        }
    }

    /// Shows what was typed back with the problems found.
    fn with_form(mut self, form: &Params, error: DirectoryError) -> Response {
        let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
        self.username = field("username");
        self.email = field("email");
        self.email_verified = form.contains("email_verified");
        self.given_name = field("given_name");
        self.family_name = field("family_name");
        self.roles = ROLES
            .iter()
            .map(|r| (*r, form.contains(&format!("role_{r}"))))
            .collect();
        self.groups = field("groups");
        self.locale = field("locale");
        self.recovery_email = field("recovery_email");
        let status = match &error {
            DirectoryError::Invalid(errors) => {
                self.errors = errors.clone();
                StatusCode::UNPROCESSABLE_ENTITY
            }
            DirectoryError::Duplicate | DirectoryError::LastAdmin => {
                self.error = Some(error.message());
                StatusCode::CONFLICT
            }
            DirectoryError::Forbidden(_) => {
                self.error = Some(error.message());
                StatusCode::FORBIDDEN
            }
            _ => return directory_error(error).into_response(),
        };
        render(status, &self)
    }
}

fn directory_error(e: DirectoryError) -> PageError {
    match e {
        DirectoryError::NotFound => PageError::not_found(),
        DirectoryError::Store(e) => e.into(),
        other => PageError::bad_request_with("error-not-changed-title", other.message()),
    }
}

fn roles_from(form: &Params) -> Vec<String> {
    ROLES
        .iter()
        .filter(|r| form.contains(&format!("role_{r}")))
        .map(|r| r.to_string())
        .collect()
}

/// Groups typed one per line (or separated by `;`).
fn groups_from(form: &Params) -> Vec<String> {
    form.get("groups")
        .unwrap_or_default()
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| PageError::not_found())
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
            Ok(
                Redirect::to(&format!("/admin/users/{}?done=created", account.account_id))
                    .into_response(),
            )
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
    let id = parse_id(&id)?;
    let account = app
        .store
        .find_account(id)
        .await
        .map_err(PageError::from)?
        .ok_or_else(PageError::not_found)?;
    let mut page = UserPage::of(&admin, &account);
    page.notice = notice(&query);
    page.pending_links = super::links::pending(&app, &account).await?;
    page.mail_configured = app.mail.configured();
    page.factors = super::links::factors_of(&app, &account).await?;
    Ok(render(StatusCode::OK, &page))
}

/// Loads the account a posted form is about.
async fn target(app: &AppState, id: &str) -> Result<AccountRow, PageError> {
    app.store
        .find_account(parse_id(id)?)
        .await?
        .ok_or_else(PageError::not_found)
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
            Ok(
                Redirect::to(&format!("/admin/users/{}?done={done}", after.account_id))
                    .into_response(),
            )
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
            Ok(Redirect::to(&format!(
                "/admin/users/{}?done=password",
                account.account_id
            ))
            .into_response())
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
