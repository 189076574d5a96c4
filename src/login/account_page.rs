//! `/account`: the signed-in person's own account. Name and language, the address (changed by
//! confirming the new one), active sessions (end one or all others), connected apps (revoke)
//! and recent sign-in activity. Changing the address asks for the current password every time;
//! a change waiting for its confirmation can be cancelled.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::second_factor::{EnrolPage, RecoveryCodesPage};
use super::sign_in_first;
use crate::accounts::directory::{self, Actor, DirectoryError, UserChange};
use crate::accounts::factors::{self, FactorError};
use crate::accounts::passkeys::{self, Kind, PasskeyError};
use crate::accounts::self_service::{self, SelfServiceError, Sessions};
use crate::accounts::{self, SignInError};
use crate::domain::FieldError;
use crate::domain::protocol::paths;
use crate::domain::scopes::ScopeSet;
use crate::http::page::{PageError, page_query, render};
use crate::http::{Device, Params, describe_user_agent};
use crate::i18n::Message;
use crate::sessions::browser::BrowserKey;
use crate::sessions::{self as session, CsrfForm, LoginState};
use crate::state::AppState;
use crate::store::{AccountRow, LinkPurpose};

const PATH: &str = "/account";
/// A sign-in this recent lets `reauthenticated` skip the password. No form relies on it now: the
/// address change asks for the password every time (`self_service::prove_owner`), and the
/// second factors' forms through `password_again`, which ignores it.
pub const RECENT_SIGN_IN: i64 = 600;

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
struct AccountPage {
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

impl AccountPage {
    fn error_for(&self, field: &str) -> Option<&Message> {
        crate::http::page::error_for(&self.errors, field)
    }

    fn invalid(&self, field: &str) -> String {
        crate::http::page::invalid(&self.errors, field)
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
) -> Result<AccountPage, PageError> {
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
    Ok(AccountPage {
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

pub async fn get_account(
    State(app): State<AppState>,
    session: tower_sessions::Session,
    browser: BrowserKey,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = page_query(query, "error-invalid-address-title")?;
    let Some((login, account)) = session::current_login(&app, &session).await? else {
        return Ok(sign_in_first(PATH));
    };
    let csrf_token = session::csrf_token(&app, &session, &browser).await?;
    let notice = notice_of(query.get("done"));
    let page = page(&app, csrf_token, &login, &account, notice, Vec::new()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// A form of the account page that was refused: the page again, with the problem by its field.
async fn refused(
    app: &AppState,
    csrf: &CsrfForm,
    login: &LoginState,
    account: &AccountRow,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let csrf_token = session::csrf_token(app, &csrf.session, &csrf.browser).await?;
    let page = page(app, csrf_token, login, account, None, errors).await?;
    Ok(render(status, &page))
}

fn done(what: &str) -> Response {
    Redirect::to(&format!("{PATH}?done={what}")).into_response()
}

/// The signed-in person of an account form, or the sign-in page first.
async fn signed_in(
    app: &AppState,
    csrf: &CsrfForm,
) -> Result<Option<(LoginState, AccountRow)>, PageError> {
    session::current_login(app, &csrf.session).await
}

pub async fn post_profile(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    let name = |field: &str| {
        Some(
            csrf.form
                .get(field)
                .map(str::to_owned)
                .filter(|s| !s.trim().is_empty()),
        )
    };
    let change = UserChange {
        given_name: name("given_name"),
        family_name: name("family_name"),
        ..UserChange::default()
    };
    let actor = Actor::User {
        id: account.account_id,
        username: account.username.clone(),
    };
    let now = app.clock.now();
    match directory::update_user(&app.store, &actor, account.account_id, &change, now).await {
        Ok((before, after)) => {
            let detail = serde_json::json!({"before": directory::audit_view(&before), "after": directory::audit_view(&after)});
            let target = Some(format!("user:{}", account.account_id));
            crate::audit::record(
                &app,
                &actor,
                Some(&device.ip),
                "user.update_profile",
                target,
                detail,
            )
            .await;
            Ok(done("profile"))
        }
        Err(DirectoryError::Invalid(errors)) => {
            refused(
                &app,
                &csrf,
                &login,
                &account,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await
        }
        Err(e) => Err(PageError::server_error(e)),
    }
}

/// Whether the person proved themselves recently enough for a sensitive change: a sign-in in
/// the last ten minutes, or the current password now (checked and throttled like a sign-in).
async fn reauthenticated(
    app: &AppState,
    form: &Params,
    login: &LoginState,
    account: &AccountRow,
    device: &Device,
) -> Result<Result<(), (StatusCode, FieldError)>, PageError> {
    let now = app.clock.now();
    if now - login.auth_time <= RECENT_SIGN_IN {
        return Ok(Ok(()));
    }
    let origin = accounts::SignInOrigin {
        ip: &device.ip,
        user_agent: &device.user_agent,
        method: "reauthentication",
    };
    let current = form.get("current_password").unwrap_or_default();
    let login_policy = &app.config.login;
    let checked = accounts::sign_in(
        &app.store,
        &app.hasher,
        login_policy,
        &account.username,
        current,
        &origin,
        now,
    )
    .await;
    Ok(match checked {
        Ok(_) => Ok(()),
        Err(SignInError::InvalidCredentials { .. }) => Err((
            StatusCode::FORBIDDEN,
            FieldError::new(
                "current_password",
                Message::new("password-current-incorrect"),
            ),
        )),
        Err(SignInError::Locked { retry_after, .. }) => Err((
            StatusCode::TOO_MANY_REQUESTS,
            FieldError::new(
                "current_password",
                super::sign_in::locked_message(retry_after),
            ),
        )),
        Err(SignInError::Store(e)) => return Err(e.into()),
    })
}

pub async fn post_email(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    // The address is where resets go: moving it needs the second factor too, where there is one.
    if let Some(step_up) = fresh_factor_first(&app, &login, &account).await? {
        return Ok(step_up);
    }
    let raw = csrf.form.get("email").unwrap_or_default();
    let proof = self_service::Proof {
        current_password: csrf.form.get("current_password").unwrap_or_default(),
        origin: accounts::SignInOrigin {
            ip: &device.ip,
            user_agent: &device.user_agent,
            method: "reauthentication",
        },
    };
    let (status, errors) = match self_service::start_email_change(&app, &account, raw, &proof).await
    {
        Ok(_) => return Ok(done("email")),
        Err(SelfServiceError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(SelfServiceError::WrongPassword) => {
            let wrong = Message::new("password-current-incorrect");
            let error = FieldError::new("current_password", wrong);
            (StatusCode::FORBIDDEN, vec![error])
        }
        Err(SelfServiceError::Locked { retry_after }) => {
            let locked = super::sign_in::locked_message(retry_after);
            let error = FieldError::new("current_password", locked);
            (StatusCode::TOO_MANY_REQUESTS, vec![error])
        }
        Err(SelfServiceError::Throttled { retry_after }) => {
            return Err(super::links::mail_throttled(retry_after));
        }
        Err(SelfServiceError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(PageError::server_error(e)),
    };
    refused(&app, &csrf, &login, &account, status, errors).await
}

/// Cancels the change of address waiting for its confirmation: its link stops working.
pub async fn post_cancel_email(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((_, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    self_service::cancel_email_change(&app, &account, Some(&device.ip))
        .await
        .map_err(PageError::server_error)?;
    Ok(done("email_cancelled"))
}

pub async fn post_send_verification(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((_, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    if account.email_verified {
        return Ok(done("verification"));
    }
    let actor = Actor::User {
        id: account.account_id,
        username: account.username.clone(),
    };
    match self_service::send_verification(&app, &account, &actor, Some(&device.ip)).await {
        Ok(()) => Ok(done("verification")),
        Err(SelfServiceError::Throttled { retry_after }) => {
            Err(super::links::mail_throttled(retry_after))
        }
        Err(e) => Err(PageError::server_error(e)),
    }
}

fn id_field(form: &Params, name: &str) -> Result<Uuid, PageError> {
    form.get(name)
        .and_then(|raw| Uuid::parse_str(raw).ok())
        .ok_or_else(|| PageError::invalid_form(Message::new("account-unknown-item")))
}

/// Ends one of the account's other sessions (`sid`), or all others (`sid=others`).
pub async fn post_end_sessions(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    let which = match csrf.form.get("sid") {
        Some("others") => Sessions::AllBut(login.sid),
        _ => Sessions::One(id_field(&csrf.form, "sid")?),
    };
    // This browser's own session ends by signing out.
    if matches!(which, Sessions::One(sid) if sid == login.sid) {
        return Ok(Redirect::to("/logout").into_response());
    }
    self_service::end_sessions(&app, &account, which, Some(&device.ip))
        .await
        .map_err(PageError::server_error)?;
    Ok(done(match which {
        Sessions::One(_) => "session",
        Sessions::AllBut(_) => "sessions",
    }))
}

pub async fn post_revoke_app(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((_, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    let client_id = id_field(&csrf.form, "client_id")?;
    self_service::revoke_app(&app, &account, client_id, Some(&device.ip))
        .await
        .map_err(PageError::server_error)?;
    Ok(done("app"))
}

/// An account form that changes second factors: the current password, always (a session left
/// open on a shared computer must not be enough to add or remove a factor), and on an account
/// that has a factor, a fresh proof of one (the password alone must not replace the owner's
/// authenticator): without one, the second step first, then back here.
async fn password_again(
    app: &AppState,
    csrf: &CsrfForm,
    login: &LoginState,
    account: &AccountRow,
    device: &Device,
) -> Result<Option<Response>, PageError> {
    if let Some(step_up) = fresh_factor_first(app, login, account).await? {
        return Ok(Some(step_up));
    }
    let forced = LoginState {
        auth_time: 0,
        ..login.clone()
    };
    match reauthenticated(app, &csrf.form, &forced, account, device).await? {
        Ok(()) => Ok(None),
        Err((status, error)) => {
            let error = FieldError::new("factor_password", error.message);
            Ok(Some(
                refused(app, csrf, login, account, status, vec![error]).await?,
            ))
        }
    }
}

/// The second step, when the account has a factor and this session has not proved one in the
/// last ten minutes; then back to the account page, which says the change can be made now.
pub(crate) async fn fresh_factor_first(
    app: &AppState,
    login: &LoginState,
    account: &AccountRow,
) -> Result<Option<Response>, PageError> {
    let now = app.clock.now();
    if login.factor_is_fresh(now) || !app.store.find_mfa(account.account_id).await?.has_factor() {
        return Ok(None);
    }
    let back: String =
        url::form_urlencoded::byte_serialize(format!("{PATH}?done=factor_proved").as_bytes())
            .collect();
    Ok(Some(
        Redirect::to(&format!("{}?return_to={back}", paths::SECOND_FACTOR)).into_response(),
    ))
}

const ENROLMENT_KEY: &str = "totp_enrolment";
/// How long a key shown for enrolment waits for its first code.
const ENROLMENT_TTL: i64 = 600;

/// A new key shown on the account page, waiting for its first code (sealed).
#[derive(serde::Serialize, serde::Deserialize)]
struct Enrolment {
    sealed: Vec<u8>,
    started_at: i64,
}

fn session_error(e: tower_sessions::session::Error) -> PageError {
    PageError::server_error(format!("session store: {e}"))
}

/// Adds (or replaces) the authenticator app: shows a new key to scan.
pub async fn post_totp_start(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    if let Some(refusal) = password_again(&app, &csrf, &login, &account, &device).await? {
        return Ok(refusal);
    }
    let sealed = factors::seal_key(&app, account.account_id, &factors::new_totp_key())
        .map_err(PageError::server_error)?;
    let enrolment = Enrolment {
        sealed,
        started_at: app.clock.now(),
    };
    csrf.session
        .insert(ENROLMENT_KEY, &enrolment)
        .await
        .map_err(session_error)?;
    enrol_page(
        &app,
        &csrf,
        &account,
        &enrolment,
        StatusCode::OK,
        Vec::new(),
    )
    .await
}

async fn enrol_page(
    app: &AppState,
    csrf: &CsrfForm,
    account: &AccountRow,
    enrolment: &Enrolment,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    let csrf_token = session::csrf_token(app, &csrf.session, &csrf.browser).await?;
    let page = EnrolPage::build(
        app,
        account,
        &enrolment.sealed,
        csrf_token,
        "/account/totp/confirm",
        errors,
    )?;
    Ok(render(status, &page))
}

/// The first code of the new authenticator app: stored, and the recovery codes shown if the
/// account had none. This session counts as multi-factor from now on.
pub async fn post_totp_confirm(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    let now = app.clock.now();
    let enrolment = csrf
        .session
        .get::<Enrolment>(ENROLMENT_KEY)
        .await
        .map_err(session_error)?
        .filter(|e| now - e.started_at <= ENROLMENT_TTL)
        .ok_or_else(|| PageError::bad_request("error-page-expired-title", "error-page-expired"))?;
    let key = crate::crypto::open(
        &app.key_encryption,
        account.account_id.as_bytes(),
        &enrolment.sealed,
    )
    .map_err(PageError::server_error)?;
    let code = csrf.form.get("code").unwrap_or_default();
    // A factor that appeared since the key was shown (added in another browser) is replaced
    // only with a fresh proof of it, as any factor change.
    if let Some(step_up) = fresh_factor_first(&app, &login, &account).await? {
        return Ok(step_up);
    }
    let first = !app.store.find_mfa(account.account_id).await?.has_factor();
    let codes = match factors::enrol_totp(&app, &account, &key, code, Some(&device.ip), now).await {
        Ok(codes) => codes,
        Err(FactorError::Wrong) => {
            let error = FieldError::new("code", Message::new("mfa-code-wrong"));
            let status = StatusCode::UNAUTHORIZED;
            return enrol_page(&app, &csrf, &account, &enrolment, status, vec![error]).await;
        }
        Err(FactorError::Locked { retry_after }) => {
            let error = FieldError::new("code", super::sign_in::locked_message(retry_after));
            let status = StatusCode::TOO_MANY_REQUESTS;
            return enrol_page(&app, &csrf, &account, &enrolment, status, vec![error]).await;
        }
        Err(e) => return Err(PageError::server_error(e)),
    };
    csrf.session
        .remove::<Enrolment>(ENROLMENT_KEY)
        .await
        .map_err(session_error)?;
    if first {
        factors::end_password_only_sign_ins(&app, &account, Some(login.sid), now).await?;
    }
    session::add_second_factor(&app, &csrf.session, &login, &["otp", "mfa"]).await?;
    match codes {
        Some(codes) => recovery_codes_page(&app, &csrf, codes).await,
        None => Ok(done("totp")),
    }
}

async fn recovery_codes_page(
    app: &AppState,
    csrf: &CsrfForm,
    codes: Vec<String>,
) -> Result<Response, PageError> {
    let page = RecoveryCodesPage {
        csrf_token: session::csrf_token(app, &csrf.session, &csrf.browser).await?,
        codes,
        continue_action: None,
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn post_totp_remove(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    if let Some(refusal) = password_again(&app, &csrf, &login, &account, &device).await? {
        return Ok(refusal);
    }
    factors::remove_totp(&app, &account, Some(&device.ip), app.clock.now())
        .await
        .map_err(PageError::server_error)?;
    Ok(done("totp_removed"))
}

/// A new set of recovery codes (the old set ends), shown once.
pub async fn post_recovery_codes(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    if let Some(refusal) = password_again(&app, &csrf, &login, &account, &device).await? {
        return Ok(refusal);
    }
    let has_factor = app.store.find_mfa(account.account_id).await?.has_factor();
    if !has_factor {
        return Ok(done("totp_removed"));
    }
    let codes = factors::renew_recovery_codes(&app, &account, Some(&device.ip), app.clock.now())
        .await
        .map_err(PageError::server_error)?;
    recovery_codes_page(&app, &csrf, codes).await
}

/// The page that runs the registration ceremony in the browser.
#[derive(Template)]
#[template(path = "register_passkey.html")]
struct RegisterPasskeyPage {
    csrf_token: String,
    security_key: bool,
    name: String,
    /// The options for `navigator.credentials.create` (JSON).
    options: String,
}

/// Starts adding a passkey or a security key (after the password): the page that asks the
/// browser to make one.
pub async fn post_passkey_start(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    let kind = csrf
        .form
        .get("kind")
        .and_then(Kind::parse)
        .ok_or_else(|| PageError::invalid_form(Message::new("passkey-kind-missing")))?;
    if let Some(refusal) = password_again(&app, &csrf, &login, &account, &device).await? {
        return Ok(refusal);
    }
    // Unnamed, it is called after the browser and system it was added on ("Chrome on Android").
    let typed = csrf.form.get("passkey_name").unwrap_or_default().trim();
    let lang = crate::i18n::current();
    let name = match typed {
        "" => device_of(Some(&device.user_agent), lang),
        typed => typed.to_owned(),
    };
    let started =
        match passkeys::start_registration(&app, &account, kind, &name, app.clock.now()).await {
            Ok(started) => started,
            Err(PasskeyError::BadName) => {
                let error = FieldError::new("passkey_name", Message::new("passkey-name-too-long"));
                return refused(
                    &app,
                    &csrf,
                    &login,
                    &account,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    vec![error],
                )
                .await;
            }
            Err(e) => return Err(super::passkeys::start_error(e)),
        };
    let name = passkeys::clean_name(&name).unwrap_or_default();
    let options = super::passkeys::keep(&csrf.session, started).await?;
    let page = RegisterPasskeyPage {
        csrf_token: session::csrf_token(&app, &csrf.session, &csrf.browser).await?,
        security_key: kind == Kind::SecurityKey,
        name,
        options,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The browser made the credential: kept, and the recovery codes shown if it is the account's
/// first second factor.
pub async fn post_passkey_finish(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    let now = app.clock.now();
    let Some(ceremony) = super::passkeys::take(&csrf.session).await? else {
        return Err(PageError::bad_request(
            "error-page-expired-title",
            "error-page-expired",
        ));
    };
    let answer = csrf.form.get("credential").unwrap_or_default();
    if let Some(step_up) = fresh_factor_first(&app, &login, &account).await? {
        return Ok(step_up);
    }
    let first = !app.store.find_mfa(account.account_id).await?.has_factor();
    let registered =
        passkeys::finish_registration(&app, &account, ceremony, answer, Some(&device.ip), now)
            .await;
    if first && registered.is_ok() {
        factors::end_password_only_sign_ins(&app, &account, Some(login.sid), now).await?;
    }
    let problem = match registered {
        Ok(Some(codes)) => return recovery_codes_page(&app, &csrf, codes).await,
        Ok(None) => return Ok(done("passkey")),
        Err(PasskeyError::Refused(why)) => {
            tracing::info!(account_id = %account.account_id, reason = %why, "a passkey registration was refused");
            "passkey-register-refused"
        }
        Err(PasskeyError::Duplicate) => "passkey-register-duplicate",
        Err(e) => return Err(PageError::server_error(e)),
    };
    let error = FieldError::new("passkey_name", Message::new(problem));
    refused(
        &app,
        &csrf,
        &login,
        &account,
        StatusCode::UNPROCESSABLE_ENTITY,
        vec![error],
    )
    .await
}

/// Removes one of the person's passkeys or security keys (after the password).
pub async fn post_passkey_remove(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((login, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    if let Some(refusal) = password_again(&app, &csrf, &login, &account, &device).await? {
        return Ok(refusal);
    }
    let id = csrf.form.get("credential_id").unwrap_or_default();
    passkeys::remove(&app, &account, id, Some(&device.ip), app.clock.now())
        .await
        .map_err(PageError::server_error)?;
    Ok(done("passkey_removed"))
}

/// Forgets one remembered browser (`remembered_id`), or all of them (`all`): each asks for the
/// second factor again at its next sign-in.
pub async fn post_forget_browsers(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let Some((_, account)) = signed_in(&app, &csrf).await? else {
        return Ok(sign_in_first(PATH));
    };
    let which = match csrf.form.get("remembered_id") {
        Some("all") => None,
        _ => Some(id_field(&csrf.form, "remembered_id")?),
    };
    app.store
        .forget_remembered(account.account_id, which)
        .await?;
    let target = Some(format!("user:{}", account.account_id));
    let actor = Actor::User {
        id: account.account_id,
        username: account.username.clone(),
    };
    crate::audit::record(
        &app,
        &actor,
        Some(&device.ip),
        "user.forget_browsers",
        target,
        serde_json::json!({}),
    )
    .await;
    Ok(done("forgotten"))
}
