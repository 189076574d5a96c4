//! The form of one account on the admin pages: what it shows, and what an admin typed into it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::accounts::directory::{DirectoryError, FieldError};
use crate::admin::{Admin, when};
use crate::domain::ROLES;
use crate::http::Params;
use crate::http::page::FormErrors;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::store::AccountRow;

/// The user form, for a new account (`account_id` None) or an existing one.
#[derive(Template)]
#[template(path = "admin/user.html")]
pub(super) struct UserPage {
    csrf_token: String,
    pub(super) notice: Option<&'static str>,
    pub(super) errors: Vec<FieldError>,
    pub(super) error: Option<Message>,
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
    pub(super) pending_links: Vec<crate::admin::links::PendingLink>,
    pub(super) mail_configured: bool,
    pub(super) factors: crate::admin::links::FactorsView,
}

impl FormErrors for UserPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl UserPage {
    pub(super) fn blank(admin: &Admin) -> UserPage {
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
            factors: crate::admin::links::FactorsView::default(),
        }
    }

    pub(super) fn of(admin: &Admin, a: &AccountRow) -> UserPage {
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
    pub(super) fn with_form(mut self, form: &Params, error: DirectoryError) -> Response {
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

pub(super) fn directory_error(e: DirectoryError) -> PageError {
    match e {
        DirectoryError::NotFound => PageError::not_found(),
        DirectoryError::Store(e) => e.into(),
        other => PageError::bad_request_with("error-not-changed-title", other.message()),
    }
}

pub(super) fn roles_from(form: &Params) -> Vec<String> {
    ROLES
        .iter()
        .filter(|r| form.contains(&format!("role_{r}")))
        .map(|r| r.to_string())
        .collect()
}

/// Groups typed one per line (or separated by `;`).
pub(super) fn groups_from(form: &Params) -> Vec<String> {
    form.get("groups")
        .unwrap_or_default()
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}
