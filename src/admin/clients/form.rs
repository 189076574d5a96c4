//! The form of one client application on the admin pages: what it shows, and the change an
//! admin typed into it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::admin::Admin;
use crate::clients::ClientChange;
use crate::domain::{AuthMethod, FieldError, GrantType, ROLES, Scope, ScopeSet};
use crate::http::Params;
use crate::http::page::FormErrors;
use crate::http::page::render;
use crate::i18n::Message;
use crate::store::ClientRow;

#[derive(Template)]
#[template(path = "admin/client.html")]
pub(super) struct ClientPage {
    csrf_token: String,
    pub(super) notice: Option<&'static str>,
    pub(super) error: Option<Message>,
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

impl FormErrors for ClientPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl ClientPage {
    /// What a scope means, for the scope named by its checkbox.
    fn scope_key(&self, name: &str) -> &'static str {
        Scope::from_name(name).map_or("", Scope::key)
    }

    pub(super) fn of(admin: &Admin, c: Option<&ClientRow>) -> ClientPage {
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
    pub(super) fn with_form(mut self, form: &Params, errors: Vec<FieldError>) -> Response {
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

pub(super) fn change_from(form: &Params) -> ClientChange {
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
