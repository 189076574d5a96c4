//! Links admins send for people: invitations (one account, the list's selection or filter, or
//! every account without a password), password resets and address confirmations; and the
//! pending links an admin can hand over when there is no SMTP relay.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::{AdminForm, Denied};
use crate::accounts::directory;
use crate::accounts::factors;
use crate::accounts::self_service::{self, EarlierInvitation, SelfServiceError};
use crate::http::page::PageError;
use crate::i18n::Message;
use crate::state::AppState;
use crate::store::{AccountFilter, AccountRow};

/// A link waiting in the outbox, as the user page shows it.
pub struct PendingLink {
    pub purpose: String,
    pub recipient: String,
    pub link: String,
    pub expires: String,
}

/// The account's links that have not gone out yet (no relay, or it is down).
pub async fn pending(app: &AppState, account: &AccountRow) -> Result<Vec<PendingLink>, PageError> {
    let rows = app
        .store
        .pending_links(account.account_id, app.clock.now())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let link = crate::mail::open_link(app, row.mail_id, &row.link_sealed)?;
            Some(PendingLink {
                purpose: format!("admin-link-{}", row.purpose.replace('_', "-")),
                recipient: row.recipient,
                link,
                expires: row.expires_at.map(super::when).unwrap_or_default(),
            })
        })
        .collect())
}

fn failed(e: SelfServiceError) -> Denied {
    match e {
        SelfServiceError::Store(e) => PageError::from(e).into(),
        SelfServiceError::Throttled { retry_after } => {
            crate::login::links::mail_throttled(retry_after).into()
        }
        other => PageError::server_error(other).into(),
    }
}

/// `POST /admin/users/{id}/send`: `what` is `invitation`, `reset` or `verification`.
pub async fn send(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let account = super::users::target(&app, &id).await?;
    let actor = admin.actor();
    let ip = Some(admin.client_ip.as_str());
    let refuse = |key: &'static str| -> Result<Response, Denied> {
        Err(PageError::invalid_form(Message::new(key)).into())
    };
    if account.disabled {
        return refuse("admin-send-disabled");
    }
    let done = match form.get("what") {
        Some("invitation") if account.password_hash.is_some() => {
            return refuse("admin-invite-has-password");
        }
        Some("invitation") => {
            let scope = serde_json::json!("one");
            self_service::invite(&app, vec![account.clone()], &actor, ip, scope)
                .await
                .map_err(failed)?;
            "invited"
        }
        Some("reset") => {
            self_service::send_reset(&app, &account, &actor, ip)
                .await
                .map_err(failed)?;
            "reset"
        }
        Some("verification") => {
            self_service::send_verification(&app, &account, &actor, ip)
                .await
                .map_err(failed)?;
            "verification"
        }
        _ => return refuse("admin-send-choice"),
    };
    Ok(super::users::back_to(account.account_id, done))
}

/// `POST /admin/users/invite`: the selected accounts (`select_<id>`), or those the list's filter
/// matches (`scope=filtered`, with its `search`, `role` and `status`), or every account without
/// a password (`scope=all`). Accounts with a password are skipped, and so are those whose
/// invitation still works unless `resend` is ticked (their new link ends the earlier one).
pub async fn invite_many(
    State(app): State<AppState>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let everyone = AccountFilter {
        search: None,
        role: None,
        disabled: None,
        limit: 0,
        offset: 0,
    };
    let (accounts, scope) = match form.get("scope") {
        Some("all") => (
            app.store.accounts_to_invite(&everyone, None, None).await,
            serde_json::json!("all without a password"),
        ),
        Some("filtered") => {
            let filter = directory::account_filter(&form).map_err(PageError::invalid_form)?;
            let scope = serde_json::json!({"search": filter.search, "role": filter.role});
            (
                app.store.accounts_to_invite(&filter, None, None).await,
                scope,
            )
        }
        _ => {
            let ids: Vec<Uuid> = form
                .suffixes("select_")
                .filter_map(|raw| Uuid::parse_str(raw).ok())
                .collect();
            if ids.is_empty() {
                return Err(
                    PageError::invalid_form(Message::new("admin-invite-none-selected")).into(),
                );
            }
            (
                app.store
                    .accounts_to_invite(&everyone, None, Some(&ids))
                    .await,
                serde_json::json!("selected"),
            )
        }
    };
    let accounts = accounts.map_err(PageError::from)?;
    // A second run must not end the links the first one mailed: replacing them is its own box.
    let earlier = match form.get("resend") {
        Some(_) => EarlierInvitation::Replace,
        None => EarlierInvitation::Keep,
    };
    let invited = self_service::invite_with(
        &app,
        accounts,
        &admin.actor(),
        Some(&admin.client_ip),
        scope,
        earlier,
    )
    .await
    .map_err(failed)?;
    Ok(Redirect::to(&format!(
        "/admin/users?done=invited&count={}&skipped={}",
        invited.sent, invited.skipped
    ))
    .into_response())
}

/// What the user page shows of an account's second factors (never a secret).
#[derive(Default)]
pub struct FactorsView {
    pub totp_since: Option<String>,
    pub totp_last_used: Option<String>,
    pub recovery_left: i64,
    /// An admin required a second factor of this account.
    pub required: bool,
    /// One of its roles requires one (HCCC_SSO_MFA_REQUIRED_ROLES).
    pub by_role: bool,
    /// Its passkeys and security keys: name, kind, added, last used.
    pub keys: Vec<String>,
}

pub async fn factors_of(app: &AppState, account: &AccountRow) -> Result<FactorsView, PageError> {
    let mfa = app.store.find_mfa(account.account_id).await?;
    let by_role = factors::required_of(&app.config, account, &crate::store::MfaRow::default());
    let lang = crate::i18n::current();
    let keys = app
        .store
        .list_webauthn(account.account_id)
        .await?
        .into_iter()
        .map(|key| {
            let kind = lang.text(&format!("account-kind-{}", key.kind.replace('_', "-")));
            let used = match key.last_used_at {
                Some(at) => super::when(at),
                None => lang.text("account-passkey-unused"),
            };
            format!(
                "{} · {kind} · {} · {used}",
                key.name,
                super::when(key.created_at)
            )
        })
        .collect();
    Ok(FactorsView {
        keys,
        totp_since: mfa
            .totp_enrolled_at
            .filter(|_| mfa.has_totp())
            .map(super::when),
        totp_last_used: mfa
            .totp_last_used_at
            .filter(|_| mfa.has_totp())
            .map(super::when),
        recovery_left: mfa.recovery_codes_left,
        required: mfa.required,
        by_role,
    })
}

/// `POST /admin/users/{id}/factors`: `what` is `reset` (remove every factor; the person is
/// told by e-mail), `require` or `unrequire` (an admin's demand beyond the role policy).
pub async fn factors(
    State(app): State<AppState>,
    Path(id): Path<String>,
    AdminForm { admin, form }: AdminForm,
) -> Result<Response, Denied> {
    let account = super::users::target(&app, &id).await?;
    let actor = admin.actor();
    let ip = Some(admin.client_ip.as_str());
    let outcome = match form.get("what") {
        Some("reset") => factors::reset(&app, &actor, &account, ip, app.clock.now())
            .await
            .map(|()| "factors_reset"),
        Some("require") => factors::set_required(&app, &actor, &account, true, ip)
            .await
            .map(|()| "mfa_required"),
        Some("unrequire") => factors::set_required(&app, &actor, &account, false, ip)
            .await
            .map(|()| "mfa_unrequired"),
        _ => return Err(PageError::invalid_form(Message::new("admin-send-choice")).into()),
    };
    let done = outcome.map_err(PageError::server_error)?;
    Ok(super::users::back_to(account.account_id, done))
}
