//! `/account`: the signed-in person's own account. The page shows the name and language, the
//! address (changed by confirming the new one), second factors, active sessions, connected apps,
//! remembered browsers and recent sign-in activity; its forms post to the files named for what
//! they change. Every form reads the same way: the person and the checked form (`AccountForm`),
//! a use case of `accounts`, then a redirect with a notice or the page again with the problem.

mod passkeys;
mod password;
mod profile;
mod proof;
mod sessions;
mod totp;

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::person::{FormPage, Person, PersonForm};
use crate::accounts::SignInOrigin;
use crate::accounts::factors;
use crate::accounts::passwords::Proof;
use crate::accounts::self_service::SelfServiceError;
use crate::domain::FieldError;
use crate::domain::scopes::ScopeSet;
use crate::http::page::FormErrors;
use crate::http::page::{PageError, page_query, render};
use crate::http::{Device, Params, describe_user_agent};
use crate::i18n::Message;
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, CsrfForm, LoginState};
use crate::state::AppState;
use crate::store::{AccountRow, LinkPurpose};

pub use passkeys::{post_passkey_finish, post_passkey_remove, post_passkey_start};
pub use password::{get_password, post_password};
pub use profile::{post_cancel_email, post_email, post_profile, post_send_verification};
pub use sessions::{post_end_sessions, post_forget_browsers, post_revoke_app};
pub use totp::{post_recovery_codes, post_totp_confirm, post_totp_remove, post_totp_start};

const PATH: &str = "/account";

/// The account page, where all its forms but the password's are.
pub struct AccountPage;

impl FormPage for AccountPage {
    const PATH: &'static str = PATH;
}

/// A posted form of the account page, from its signed-in person.
type AccountForm = PersonForm<AccountPage>;

pub struct SessionView {
    pub sid: String,
    pub current: bool,
    pub device: String,
    pub ip: String,
    pub method: String,
    pub signed_in: String,
    pub last_seen: String,
}

pub struct AppView {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<&'static str>,
    pub since: String,
}

pub struct EventView {
    pub at: String,
    pub succeeded: bool,
    pub result: String,
    pub method: String,
    pub ip: String,
    pub device: String,
}

/// A passkey or security key as the account page lists it (never its key).
struct PasskeyView {
    id: String,
    name: String,
    kind: String,
    added: String,
    last_used: Option<String>,
}

struct RememberedView {
    id: String,
    device: String,
    since: String,
    until: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountView {
    csrf_token: String,
    user_name: String,
    username: String,
    email: String,
    email_verified: bool,
    /// A new address waiting for its confirmation.
    pending_email: Option<String>,
    given_name: String,
    family_name: String,
    locale: String,
    sessions: Vec<SessionView>,
    apps: Vec<AppView>,
    activity: Vec<EventView>,
    /// When the authenticator app was added, and last used.
    totp_since: Option<String>,
    totp_last_used: Option<String>,
    recovery_left: i64,
    /// The policy or an admin requires a second factor of this account.
    mfa_required: bool,
    /// Any second factor (recovery codes can be renewed).
    has_factor: bool,
    /// This server can use passkeys (the issuer's host is a domain name).
    passkeys_on: bool,
    passkeys: Vec<PasskeyView>,
    /// Browsers that skip the second step (until when).
    remembered: Vec<RememberedView>,
    notice: Option<Message>,
    errors: Vec<FieldError>,
}

impl FormErrors for AccountView {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

fn device_of(user_agent: Option<&str>, lang: crate::i18n::Lang) -> String {
    user_agent
        .and_then(describe_user_agent)
        .unwrap_or_else(|| lang.text("account-device-unknown"))
}

/// Everything the page shows of the account, for this browser's session.
async fn page(
    app: &AppState,
    csrf_token: String,
    login: &LoginState,
    account: &AccountRow,
    notice: Option<Message>,
    errors: Vec<FieldError>,
) -> Result<AccountView, PageError> {
    let lang = crate::i18n::current();
    let now = app.clock.now();
    let when = crate::clock::format_utc;
    let method = |m: &str| lang.text(&format!("account-method-{}", m.replace('_', "-")));
    let sessions = app
        .store
        .list_browser_sessions(account.account_id, now)
        .await?;
    let apps = app.store.connected_apps(account.account_id).await?;
    let events = app.store.recent_sign_ins(account.account_id, 20).await?;
    let pending_email = app
        .store
        .live_link_detail(account.account_id, LinkPurpose::EmailChange, now)
        .await?;
    let mfa = app.store.find_mfa(account.account_id).await?;
    let passkeys = app.store.list_webauthn(account.account_id).await?;
    let remembered = app.store.list_remembered(account.account_id, now).await?;
    Ok(AccountView {
        csrf_token,
        user_name: account.display_name(),
        username: account.username.clone(),
        email: account.email.clone(),
        email_verified: account.email_verified,
        pending_email,
        given_name: account.given_name.clone().unwrap_or_default(),
        family_name: account.family_name.clone().unwrap_or_default(),
        locale: account.locale.clone().unwrap_or_default(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionView {
                sid: s.sid.to_string(),
                current: s.sid == login.sid,
                device: device_of(s.user_agent.as_deref(), lang),
                ip: s.ip.unwrap_or_default(),
                method: method(&s.method),
                signed_in: when(s.created_at),
                last_seen: when(s.last_seen_at),
            })
            .collect(),
        apps: apps
            .into_iter()
            .map(|a| AppView {
                client_id: a.client_id.to_string(),
                name: a.name,
                scopes: ScopeSet::parse(&a.scope).iter().map(|s| s.key()).collect(),
                since: when(a.since),
            })
            .collect(),
        activity: events
            .into_iter()
            .map(|e| EventView {
                at: when(e.at),
                succeeded: e.result == "succeeded",
                result: lang.text(&format!("account-result-{}", e.result)),
                method: method(&e.method),
                ip: e.ip.unwrap_or_default(),
                device: device_of(e.user_agent.as_deref(), lang),
            })
            .collect(),
        totp_since: mfa.totp_enrolled_at.filter(|_| mfa.has_totp()).map(when),
        totp_last_used: mfa.totp_last_used_at.filter(|_| mfa.has_totp()).map(when),
        recovery_left: mfa.recovery_codes_left,
        mfa_required: factors::required_of(&app.config, account, &mfa),
        has_factor: mfa.has_factor(),
        passkeys_on: app.webauthn.is_some(),
        passkeys: passkeys
            .into_iter()
            .map(|p| PasskeyView {
                kind: lang.text(&format!("account-kind-{}", p.kind.replace('_', "-"))),
                id: p.credential_id,
                name: p.name,
                added: when(p.created_at),
                last_used: p.last_used_at.map(when),
            })
            .collect(),
        remembered: remembered
            .into_iter()
            .map(|r| RememberedView {
                id: r.remembered_id.to_string(),
                device: device_of(r.user_agent.as_deref(), lang),
                since: when(r.created_at),
                until: when(r.expires_at),
            })
            .collect(),
        notice,
        errors,
    })
}

/// The notices a redirect after a change names (`?done=`).
fn notice_of(done: Option<&str>) -> Option<Message> {
    let key = match done? {
        "profile" => "account-saved",
        "language" => "home-language-saved",
        "email" => "account-email-sent",
        "email_cancelled" => "account-email-cancelled",
        "verification" => "account-verification-sent",
        "session" => "account-session-ended",
        "sessions" => "account-sessions-ended",
        "app" => "account-app-revoked",
        "totp" => "account-totp-added",
        "totp_removed" => "account-totp-removed",
        "passkey" => "account-passkey-added",
        "passkey_removed" => "account-passkey-removed",
        "forgotten" => "account-remembered-forgotten",
        "factor_proved" => "account-factor-proved",
        _ => return None,
    };
    Some(Message::new(key))
}

/// The page's query, read before the person is looked up (a malformed address is a bad request
/// whoever asks).
pub struct PageQuery(Params);

impl FromRequestParts<AppState> for PageQuery {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, PageError> {
        let raw = parts.uri.query().map(str::to_owned);
        page_query(raw, "error-invalid-address-title").map(PageQuery)
    }
}

pub async fn get_account(
    State(app): State<AppState>,
    PageQuery(query): PageQuery,
    Person { login, account }: Person,
    session: Session,
    browser: BrowserKey,
) -> Result<Response, PageError> {
    let csrf_token = session::csrf_token(&app, &session, &browser).await?;
    let notice = notice_of(query.get("done"));
    let page = page(&app, csrf_token, &login, &account, notice, Vec::new()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// A form of the account page that was refused: the page again, with the problem by its field.
async fn refused(
    app: &AppState,
    csrf: &CsrfForm,
    person: &Person,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let csrf_token = session::csrf_token(app, &csrf.session, &csrf.browser).await?;
    let page = page(
        app,
        csrf_token,
        &person.login,
        &person.account,
        None,
        errors,
    )
    .await?;
    Ok(render(status, &page))
}

/// The account page again, with the notice of what was done.
fn done(what: &str) -> Response {
    Redirect::to(&format!("{PATH}?done={what}")).into_response()
}

fn id_field(form: &Params, name: &str) -> Result<Uuid, PageError> {
    form.get(name)
        .and_then(|raw| Uuid::parse_str(raw).ok())
        .ok_or_else(|| PageError::invalid_form(Message::new("account-unknown-item")))
}

/// The current password a form of the person's gives (`current_password`), as the proof of
/// ownership from this browser: a reauthentication in the account's activity.
fn proof_of<'a>(form: &'a Params, device: &'a Device) -> Proof<'a> {
    Proof {
        current_password: form.get("current_password").unwrap_or_default(),
        origin: SignInOrigin {
            ip: &device.ip,
            user_agent: &device.user_agent,
            method: "reauthentication",
        },
    }
}

/// How the person's pages show a refused self-service change: the status, and the problems by
/// their fields (a wrong or locked-out current password under `current_password`), or the error
/// page for what no field explains.
fn refusal(e: SelfServiceError) -> Result<(StatusCode, Vec<FieldError>), PageError> {
    let field = "current_password";
    match e {
        SelfServiceError::Invalid(errors) => Ok((StatusCode::UNPROCESSABLE_ENTITY, errors)),
        SelfServiceError::WrongPassword => {
            let wrong = Message::new("password-current-incorrect");
            Ok((StatusCode::FORBIDDEN, vec![FieldError::new(field, wrong)]))
        }
        SelfServiceError::Locked { retry_after } => {
            let locked = super::sign_in::locked_message(retry_after);
            Ok((
                StatusCode::TOO_MANY_REQUESTS,
                vec![FieldError::new(field, locked)],
            ))
        }
        SelfServiceError::Throttled { retry_after } => {
            Err(super::links::mail_throttled(retry_after))
        }
        SelfServiceError::Store(e) => Err(e.into()),
        e => Err(PageError::server_error(e)),
    }
}
