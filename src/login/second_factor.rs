//! The second step of a sign-in: a TOTP code (or a recovery code) after the password, enrolling
//! an authenticator app first when the account must use one, and the step-up of a signed-in
//! session that an app or `/admin` needs multi-factor. The session is established only after the
//! second factor: until then the browser holds a short-lived `Waiting` and nothing else.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

use super::{KeptOnward, Proof, SignedIn, Visit, finish_sign_in, local_path};
use crate::accounts::factors::{self, FactorError, Next};
use crate::accounts::passkeys::{self, PasskeyError};
use crate::accounts::self_service::{self, SelfServiceError};
use crate::domain::FieldError;
use crate::domain::protocol::paths;
use crate::http::Device;
use crate::http::page::FormErrors;
use crate::http::page::{PageError, render};
use crate::i18n::Message;
use crate::oidc::authorize::{Stage, load_pending};
use crate::sessions::browser::BrowserKey;
use crate::sessions::session_error;
use crate::sessions::{self as session, CsrfForm};
use crate::state::AppState;
use crate::store::AccountRow;

const KEY: &str = "second_factor";
/// How long the second step waits after the password.
const TTL: i64 = 600;
/// The second step's page (the router and `/admin` name it).
pub const PATH: &str = paths::SECOND_FACTOR;
/// What a TOTP or recovery code adds to a sign-in (RFC 8176).
const OTP_AMR: [&str; 2] = ["otp", "mfa"];

/// Kept in the session between the password and the second factor.
#[derive(Serialize, Deserialize)]
struct Waiting {
    account_id: Uuid,
    /// Where the sign-in goes afterwards.
    #[serde(flatten)]
    onward: KeptOnward,
    started_at: i64,
    remember: bool,
    method: String,
    /// The account is signed in in this session already (a step-up).
    step_up: bool,
    /// A new TOTP key (sealed) waiting for its first code, while enrolling.
    new_key: Option<Vec<u8>>,
    /// The factor is proved; only the recovery codes were left to show.
    proved: bool,
    /// The account's credential version when the password was checked: any credential change
    /// since (a new password, a first factor) voids this half-finished sign-in.
    #[serde(default)]
    credential_version: i64,
}

/// The sign-in methods a `Waiting` may name, as the session list spells them.
fn method_name(method: &str) -> &'static str {
    match method {
        "invitation" => "invitation",
        "reset" => "reset",
        _ => "password",
    }
}

/// Parks the sign-in after a right password and sends the browser to its second step.
pub async fn ask(
    app: &AppState,
    session: &Session,
    signed_in: &SignedIn,
    onward: KeptOnward,
    next: Next,
) -> Result<Response, PageError> {
    let account_id = signed_in.account.account_id;
    let waiting = Waiting {
        account_id,
        onward,
        started_at: signed_in.now,
        remember: signed_in.remember,
        method: signed_in.method.to_owned(),
        step_up: false,
        new_key: new_key_if(app, account_id, &next)?,
        proved: false,
        credential_version: signed_in.account.credential_version,
    };
    // A new session id for the half-signed-in state, as for a sign-in.
    session.cycle_id().await.map_err(session_error)?;
    session.insert(KEY, &waiting).await.map_err(session_error)?;
    Ok(Redirect::to(paths::SECOND_FACTOR).into_response())
}

fn new_key_if(app: &AppState, account_id: Uuid, next: &Next) -> Result<Option<Vec<u8>>, PageError> {
    if *next != Next::Enrol {
        return Ok(None);
    }
    factors::seal_key(app, account_id, &factors::new_totp_key())
        .map(Some)
        .map_err(PageError::server_error)
}

async fn waiting(app: &AppState, session: &Session) -> Result<Option<Waiting>, PageError> {
    let now = app.clock.now();
    Ok(session
        .get::<Waiting>(KEY)
        .await
        .map_err(session_error)?
        .filter(|w| now - w.started_at <= TTL))
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct VerifyPage {
    csrf_token: String,
    /// The account has an authenticator app (its code is asked for).
    totp: bool,
    /// The account has passkeys or security keys (and this server can use them).
    keys: bool,
    /// "Don't ask again on this browser" is offered (not on a shared computer's network).
    offer_remember: bool,
    remember_days: i64,
    errors: Vec<FieldError>,
}

impl FormErrors for VerifyPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

/// The page to enrol an authenticator app: here during a sign-in, and on the account page.
#[derive(Template)]
#[template(path = "enrol_totp.html")]
pub struct EnrolPage {
    pub csrf_token: String,
    pub action: &'static str,
    /// The account must use a second factor (said at sign-in).
    pub required: bool,
    pub qr_svg: String,
    pub otpauth_uri: String,
    pub key_text: String,
    pub errors: Vec<FieldError>,
    /// The current password is asked with the first code: a step-up's enrolment, where the
    /// session alone (a QR-signed-in computer, a browser left open) must not add the account's
    /// first factor.
    pub ask_password: bool,
}

impl FormErrors for EnrolPage {
    fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl EnrolPage {
    /// The page for a (sealed) new key of `account`.
    pub fn build(
        app: &AppState,
        account: &AccountRow,
        sealed_key: &[u8],
        csrf_token: String,
        action: &'static str,
        errors: Vec<FieldError>,
    ) -> Result<EnrolPage, PageError> {
        let key = crate::crypto::open(
            &app.key_encryption,
            account.account_id.as_bytes(),
            sealed_key,
        )
        .map_err(PageError::server_error)?;
        let issuer = app
            .branding
            .college_name
            .clone()
            .unwrap_or_else(|| crate::i18n::current().text("college-name"));
        let enrolment = factors::enrolment(&key, &issuer, &account.username)
            .map_err(PageError::server_error)?;
        Ok(EnrolPage {
            csrf_token,
            action,
            required: action == ENROL_PATH,
            qr_svg: super::qr::qr_svg(&enrolment.uri)?,
            otpauth_uri: enrolment.uri,
            key_text: enrolment.key_text,
            errors,
            ask_password: false,
        })
    }
}

const ENROL_PATH: &str = paths::SECOND_FACTOR_ENROL;

/// The recovery codes, shown once, and how to go on.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub csrf_token: String,
    pub codes: Vec<String>,
    /// Where the "Continue" form posts during a sign-in; None on the account page.
    pub continue_action: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct StepUpQuery {
    request: Option<String>,
    return_to: Option<String>,
}

/// The second step's page. Opened by a signed-in person (an app or `/admin` asked for a second
/// factor), it starts a step-up.
pub async fn get_second_factor(
    State(app): State<AppState>,
    session: Session,
    browser: BrowserKey,
    device: Device,
    Query(q): Query<StepUpQuery>,
) -> Result<Response, PageError> {
    let mut current = waiting(&app, &session).await?;
    if q.request.is_some() || q.return_to.is_some() || current.is_none() {
        let Some((state, account)) = session::current_login(&app, &session).await? else {
            return Ok(match current {
                Some(_) => Redirect::to(paths::SECOND_FACTOR).into_response(),
                None => Redirect::to(paths::LOGIN).into_response(),
            });
        };
        // A request parked for this session's step-up, and no other.
        let request = match q.request.as_deref() {
            Some(raw) => {
                let pending = load_pending(&app, raw, &browser).await?;
                if !pending.parked.answerable(Stage::StepUp, Some(state.sid)) {
                    return Err(PageError::expired_request());
                }
                Some(pending.id)
            }
            None => None,
        };
        let now = app.clock.now();
        let mfa = app.store.find_mfa(account.account_id).await?;
        let next = if mfa.has_factor() {
            Next::Verify
        } else {
            Next::Enrol
        };
        let step_up = Waiting {
            account_id: account.account_id,
            onward: KeptOnward {
                request,
                return_to: local_path(q.return_to.as_deref()),
            },
            started_at: now,
            remember: false,
            method: "password".into(),
            step_up: true,
            new_key: new_key_if(&app, account.account_id, &next)?,
            proved: false,
            credential_version: account.credential_version,
        };
        session.insert(KEY, &step_up).await.map_err(session_error)?;
        current = Some(step_up);
    }
    let Some(current) = current else {
        return Ok(Redirect::to(paths::LOGIN).into_response());
    };
    let csrf_token = session::csrf_token(&app, &session, &browser).await?;
    show(
        &app,
        &current,
        &device,
        csrf_token,
        StatusCode::OK,
        Vec::new(),
    )
    .await
}

async fn show(
    app: &AppState,
    waiting: &Waiting,
    device: &Device,
    csrf_token: String,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response, PageError> {
    match &waiting.new_key {
        Some(sealed) => {
            let account = account_of(app, waiting).await?;
            let mut page = EnrolPage::build(app, &account, sealed, csrf_token, ENROL_PATH, errors)?;
            page.ask_password = waiting.step_up;
            Ok(render(status, &page))
        }
        None => {
            let mfa = app.store.find_mfa(waiting.account_id).await?;
            let page = VerifyPage {
                csrf_token,
                totp: mfa.has_totp(),
                keys: mfa.webauthn_credentials > 0 && app.webauthn.is_some(),
                offer_remember: factors::may_remember(&app.config, &device.ip),
                remember_days: app.config.mfa.remember / 86_400,
                errors,
            };
            Ok(render(status, &page))
        }
    }
}

/// The account of a half-finished sign-in, as long as nothing changed since its password was
/// checked: not disabled, no temporary password, no credential change.
async fn account_of(app: &AppState, waiting: &Waiting) -> Result<AccountRow, PageError> {
    app.store
        .find_account(waiting.account_id)
        .await?
        .filter(|a| {
            !a.disabled
                && !a.must_change_password
                && a.credential_version == waiting.credential_version
        })
        .ok_or_else(PageError::page_expired)
}

/// A refused code: the form again with the problem under the field it came from.
fn problem(field: &'static str, e: FactorError) -> Result<(StatusCode, FieldError), PageError> {
    match e {
        FactorError::Wrong => Ok((
            StatusCode::UNAUTHORIZED,
            FieldError::new(field, Message::new("mfa-code-wrong")),
        )),
        FactorError::Locked { retry_after } => Ok((
            StatusCode::TOO_MANY_REQUESTS,
            FieldError::new(field, super::sign_in::locked_message(retry_after)),
        )),
        e => Err(PageError::server_error(e)),
    }
}

/// A TOTP code or a recovery code.
pub async fn post_second_factor(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let current = waiting(&app, &csrf.session)
        .await?
        .ok_or_else(PageError::page_expired)?;
    if current.new_key.is_some() || current.proved {
        return Err(PageError::page_expired());
    }
    let account = account_of(&app, &current).await?;
    let now = app.clock.now();
    let (field, checked) = match csrf.form.get("recovery_code") {
        Some(code) => (
            "recovery_code",
            factors::use_recovery_code(&app, &account, code, Some(&device.ip), now).await,
        ),
        None => {
            let code = csrf.form.get("code").unwrap_or_default();
            (
                "code",
                factors::verify_totp(&app, &account, code, now).await,
            )
        }
    };
    if let Err(e) = checked {
        let (status, error) = problem(field, e)?;
        let csrf_token = session::csrf_token(&app, &csrf.session, &csrf.browser).await?;
        return show(&app, &current, &device, csrf_token, status, vec![error]).await;
    }
    finish(&app, &csrf, &device, current, account, &OTP_AMR).await
}

/// Options for the second step with a passkey or security key (fetched by the page's script).
pub async fn post_key_options(
    State(app): State<AppState>,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let current = waiting(&app, &csrf.session)
        .await?
        .ok_or_else(PageError::page_expired)?;
    let account = account_of(&app, &current).await?;
    let started = passkeys::start_second_factor(&app, &account, app.clock.now())
        .await
        .map_err(super::passkeys::start_error)?
        .ok_or_else(PageError::not_found)?;
    let options = super::passkeys::keep(&csrf.session, started).await?;
    Ok(super::passkeys::options_response(options))
}

/// The passkey's or security key's answer in the second step.
pub async fn post_key(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let current = waiting(&app, &csrf.session)
        .await?
        .ok_or_else(PageError::page_expired)?;
    if current.new_key.is_some() || current.proved {
        return Err(PageError::page_expired());
    }
    let account = account_of(&app, &current).await?;
    let now = app.clock.now();
    let answer = csrf.form.get("credential").unwrap_or_default();
    let checked = match super::passkeys::take(&csrf.session).await? {
        Some(ceremony) => {
            passkeys::finish_second_factor(&app, &account, ceremony, answer, now).await
        }
        None => Err(PasskeyError::Refused("no ceremony under way".into())),
    };
    let error = match checked {
        Ok(methods) => {
            let methods: Vec<&str> = methods.iter().map(String::as_str).collect();
            return finish(&app, &csrf, &device, current, account, &methods).await;
        }
        Err(PasskeyError::Refused(why)) => {
            tracing::info!(account_id = %account.account_id, reason = %why, "a security key was refused");
            (
                StatusCode::UNAUTHORIZED,
                FieldError::new("webauthn", Message::new("passkey-refused")),
            )
        }
        Err(PasskeyError::Locked { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            FieldError::new("webauthn", super::sign_in::locked_message(retry_after)),
        ),
        Err(e) => return Err(PageError::server_error(e)),
    };
    let csrf_token = session::csrf_token(&app, &csrf.session, &csrf.browser).await?;
    show(&app, &current, &device, csrf_token, error.0, vec![error.1]).await
}

/// The first code from a newly added authenticator app.
pub async fn post_enrol(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let mut current = waiting(&app, &csrf.session)
        .await?
        .ok_or_else(PageError::page_expired)?;
    let sealed = current
        .new_key
        .clone()
        .ok_or_else(PageError::page_expired)?;
    let account = account_of(&app, &current).await?;
    // A step-up's enrolment asks for the password too: the session alone must not add a factor.
    if current.step_up
        && let Some((status, error)) = password_refused(&app, &csrf, &account, &device).await?
    {
        let csrf_token = session::csrf_token(&app, &csrf.session, &csrf.browser).await?;
        return show(&app, &current, &device, csrf_token, status, vec![error]).await;
    }
    // Enrolment is for an account without a factor: one that appeared meanwhile (the owner
    // enrolled elsewhere) is never replaced from here.
    if app.store.find_mfa(account.account_id).await?.has_factor() {
        csrf.session
            .remove::<Waiting>(KEY)
            .await
            .map_err(session_error)?;
        return Err(PageError::page_expired());
    }
    let key = crate::crypto::open(&app.key_encryption, account.account_id.as_bytes(), &sealed)
        .map_err(PageError::server_error)?;
    let now = app.clock.now();
    let code = csrf.form.get("code").unwrap_or_default();
    let enrolled = factors::enrol_totp(&app, &account, &key, code, Some(&device.ip), now).await;
    if enrolled.is_ok() {
        // The first factor: what was signed in with the password alone ends (but this
        // session, when it is a step-up of one).
        let keep = match current.step_up {
            true => session::current_login(&app, &csrf.session)
                .await?
                .map(|(state, _)| state.sid),
            false => None,
        };
        factors::end_password_only_sign_ins(&app, &account, keep, now).await?;
    }
    match enrolled {
        Ok(None) => finish(&app, &csrf, &device, current, account, &OTP_AMR).await,
        Ok(Some(codes)) => {
            current.new_key = None;
            current.proved = true;
            csrf.session
                .insert(KEY, &current)
                .await
                .map_err(session_error)?;
            let page = RecoveryCodesPage {
                csrf_token: session::csrf_token(&app, &csrf.session, &csrf.browser).await?,
                codes,
                continue_action: Some(CONTINUE_PATH),
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => {
            let (status, error) = problem("code", e)?;
            let csrf_token = session::csrf_token(&app, &csrf.session, &csrf.browser).await?;
            show(&app, &current, &device, csrf_token, status, vec![error]).await
        }
    }
}

/// The current password of a step-up's enrolment, checked and throttled like a sign-in: the
/// problem to show under its field, if it is not right.
async fn password_refused(
    app: &AppState,
    csrf: &CsrfForm,
    account: &AccountRow,
    device: &Device,
) -> Result<Option<(StatusCode, FieldError)>, PageError> {
    let proof = self_service::Proof {
        current_password: csrf.form.get("current_password").unwrap_or_default(),
        origin: crate::accounts::SignInOrigin {
            ip: &device.ip,
            user_agent: &device.user_agent,
            method: "reauthentication",
        },
    };
    let field = "current_password";
    Ok(
        match self_service::prove_owner(app, account, &proof).await {
            Ok(()) => None,
            // Never read as "proved": an invalid proof without a named problem is still refused.
            Err(SelfServiceError::Invalid(mut errors)) => Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                errors.pop().unwrap_or_else(|| {
                    FieldError::new(field, Message::new("password-current-missing"))
                }),
            )),
            Err(SelfServiceError::WrongPassword) => Some((
                StatusCode::FORBIDDEN,
                FieldError::new(field, Message::new("password-current-incorrect")),
            )),
            Err(SelfServiceError::Locked { retry_after }) => Some((
                StatusCode::TOO_MANY_REQUESTS,
                FieldError::new(field, super::sign_in::locked_message(retry_after)),
            )),
            Err(e) => return Err(PageError::server_error(e)),
        },
    )
}

const CONTINUE_PATH: &str = paths::SECOND_FACTOR_CONTINUE;

/// After the recovery codes were shown: on with the sign-in.
pub async fn post_continue(
    State(app): State<AppState>,
    device: Device,
    csrf: CsrfForm,
) -> Result<Response, PageError> {
    let current = waiting(&app, &csrf.session)
        .await?
        .ok_or_else(PageError::page_expired)?;
    if !current.proved {
        return Err(PageError::page_expired());
    }
    let account = account_of(&app, &current).await?;
    finish(&app, &csrf, &device, current, account, &OTP_AMR).await
}

/// The second factor (`methods`, RFC 8176) is proved: sign in (or step up), remember this
/// browser if the person asked (and may), and continue where the person was going.
async fn finish(
    app: &AppState,
    csrf: &CsrfForm,
    device: &Device,
    waiting: Waiting,
    account: AccountRow,
    methods: &[&str],
) -> Result<Response, PageError> {
    let mut response = proceed(app, csrf, device, waiting, account.clone(), methods).await?;
    // A recovery code stands in for a lost phone: it never remembers a browser. Remembered
    // only once the sign-in went through.
    let remember = csrf.form.get("remember_browser") == Some("yes")
        && csrf.form.get("recovery_code").is_none()
        && factors::may_remember(&app.config, &device.ip);
    if remember {
        let now = app.clock.now();
        let (token, max_age) =
            factors::remember_browser(app, &account, methods, device, now).await?;
        let https = app.config.is_https();
        let name = crate::http::remembered_cookie_name(https);
        let secure = if https { "; Secure" } else { "" };
        let cookie =
            format!("{name}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
        if let Ok(cookie) = axum::http::HeaderValue::from_str(&cookie) {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, cookie);
        }
    }
    Ok(response)
}

async fn proceed(
    app: &AppState,
    csrf: &CsrfForm,
    device: &Device,
    waiting: Waiting,
    account: AccountRow,
    methods: &[&str],
) -> Result<Response, PageError> {
    let CsrfForm {
        session, browser, ..
    } = csrf;
    session
        .remove::<Waiting>(KEY)
        .await
        .map_err(session_error)?;
    let onward = waiting.onward.load(app, browser).await?;
    let now = app.clock.now();
    tracing::info!(account_id = %account.account_id, step_up = waiting.step_up, "second factor proved");
    let visit = Visit {
        session,
        browser,
        device,
    };
    if !waiting.step_up {
        let signed_in = SignedIn {
            account,
            remember: waiting.remember,
            now,
            method: method_name(&waiting.method),
        };
        let amr = std::iter::once("pwd")
            .chain(methods.iter().copied())
            .map(str::to_owned)
            .collect();
        return finish_sign_in(app, &visit, signed_in, Proof::with_factor(amr), onward).await;
    }
    // A step-up: the session must still be this account's.
    let Some((state, current)) = session::current_login(app, session).await? else {
        return Err(PageError::page_expired());
    };
    if current.account_id != account.account_id {
        return Err(PageError::page_expired());
    }
    let state = session::add_second_factor(app, session, &state, methods).await?;
    if let Some(pending) = &onward.pending
        && !pending.parked.answerable(Stage::StepUp, Some(state.sid))
    {
        return Err(PageError::expired_request());
    }
    onward
        .go(app, &visit.visitor(), &(state, current), now)
        .await
}
