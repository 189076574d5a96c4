//! Links sent by e-mail, one design for every purpose: 32 random bytes in the link, their SHA-256
//! stored with the purpose, account and expiry; single use; a new link of a purpose ends the
//! older ones. A link's page only shows a form: the link is spent by that form's POST, never by a
//! GET or HEAD (mail scanners open every link first). Links are built from the configured issuer,
//! never from a request's Host header.

use crate::crypto;
use crate::mail::letters::{self, Letter};
use crate::state::AppState;
use crate::store::{AccountRow, LinkPurpose, LinkRow, NewLink, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the e-mail could not be made: {0}")]
    Letter(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The page a purpose's link opens.
pub fn path_of(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::Invitation => "/account/welcome",
        LinkPurpose::PasswordReset => "/account/reset",
        LinkPurpose::EmailVerification | LinkPurpose::EmailChange => "/account/confirm",
    }
}

fn ttl_of(app: &AppState, purpose: LinkPurpose) -> i64 {
    let mail = &app.config.mail;
    match purpose {
        LinkPurpose::Invitation => mail.invitation_ttl,
        LinkPurpose::PasswordReset => mail.reset_ttl,
        LinkPurpose::EmailVerification | LinkPurpose::EmailChange => mail.verification_ttl,
    }
}

/// The SHA-256 a link's secret is stored as. Anything longer than a secret is no secret of ours.
pub fn hash_of(token: &str) -> Option<[u8; 32]> {
    (token.len() <= 64).then(|| crypto::sha256(token.as_bytes()))
}

/// Where invitations and resets go: the recovery address when there is one (the college mailbox
/// may itself be behind this sign-on).
pub fn recovery_address(account: &AccountRow) -> &str {
    account.recovery_email.as_deref().unwrap_or(&account.email)
}

/// A new link of `purpose` for `account`, with its letter to `to`: (the link row, its letter).
fn make(
    app: &AppState,
    account: &AccountRow,
    purpose: LinkPurpose,
    to: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<(NewLink, crate::store::NewMail), LinkError> {
    let token = crypto::random_token();
    let link = format!("{}?token={token}", app.config.url(path_of(purpose)));
    let expires_at = now + ttl_of(app, purpose);
    let letter = match purpose {
        LinkPurpose::Invitation => Letter::Invitation {
            link: &link,
            expires_at,
        },
        LinkPurpose::PasswordReset => Letter::PasswordReset {
            link: &link,
            minutes: (ttl_of(app, purpose) + 59) / 60,
        },
        LinkPurpose::EmailVerification | LinkPurpose::EmailChange => Letter::ConfirmAddress {
            link: &link,
            address: to,
            expires_at,
        },
    };
    let outgoing =
        letters::compose(app, account, to, &letter, Some(expires_at)).map_err(LinkError::Letter)?;
    let mut mail = crate::mail::seal(app, outgoing)?;
    // Filed under the link's purpose, so a newer link of it drops this message if still unsent.
    mail.purpose = purpose.as_str();
    // `detail`: the address the link was sent to (an invitation proves the address it reached),
    // or the new address of an e-mail change.
    Ok((
        NewLink {
            token_hash: crypto::sha256(token.as_bytes()),
            purpose,
            account_id: account.account_id,
            detail: Some(detail.unwrap_or(to).to_owned()),
            expires_at,
        },
        mail,
    ))
}

/// Sends links of one purpose to many accounts at once (invitations after an import): every
/// link and letter is stored in one transaction, then the worker sends them.
pub async fn send_many(
    app: &AppState,
    accounts: &[AccountRow],
    purpose: LinkPurpose,
) -> Result<usize, LinkError> {
    let now = app.clock.now();
    let mut links = Vec::with_capacity(accounts.len());
    let mut mails = Vec::with_capacity(accounts.len());
    for account in accounts {
        let (link, mail) = make(app, account, purpose, recovery_address(account), None, now)?;
        links.push(link);
        mails.push(mail);
    }
    app.store.issue_links(&links, &mails, now).await?;
    app.mail.wake();
    Ok(links.len())
}

/// Sends one link: an invitation or reset to the recovery address, a confirmation to the
/// address it confirms (`address`; for an e-mail change, the new one).
pub async fn send(
    app: &AppState,
    account: &AccountRow,
    purpose: LinkPurpose,
    address: Option<&str>,
) -> Result<(), LinkError> {
    let now = app.clock.now();
    let to = address.unwrap_or_else(|| match purpose {
        LinkPurpose::Invitation | LinkPurpose::PasswordReset => recovery_address(account),
        _ => &account.email,
    });
    let (link, mail) = make(app, account, purpose, to, address, now)?;
    app.store.issue_links(&[link], &[mail], now).await?;
    app.mail.wake();
    Ok(())
}

/// Whether a link of `purpose` may still act on `account`: never on a disabled one, and an
/// invitation never on one that has a password (it got one another way: an admin, a reset).
fn usable(purpose: LinkPurpose, account: &AccountRow) -> bool {
    let would_replace_a_password =
        purpose == LinkPurpose::Invitation && account.password_hash.is_some();
    !(account.disabled || would_replace_a_password)
}

/// A link that is valid now, and its account, without spending it (for its page).
pub async fn peek(
    app: &AppState,
    purpose: LinkPurpose,
    token: &str,
) -> Result<Option<(LinkRow, AccountRow)>, StoreError> {
    let Some(hash) = hash_of(token) else {
        return Ok(None);
    };
    let Some(link) = app.store.find_link(&hash, purpose, app.clock.now()).await? else {
        return Ok(None);
    };
    with_account(app, purpose, link).await
}

/// A link with its account, unless the account can no longer use a link of this purpose.
async fn with_account(
    app: &AppState,
    purpose: LinkPurpose,
    link: LinkRow,
) -> Result<Option<(LinkRow, AccountRow)>, StoreError> {
    Ok(app
        .store
        .find_account(link.account_id)
        .await?
        .filter(|a| usable(purpose, a))
        .map(|account| (link, account)))
}

/// Spends a valid link: exactly one caller gets it.
pub async fn spend(
    app: &AppState,
    purpose: LinkPurpose,
    token: &str,
) -> Result<Option<(LinkRow, AccountRow)>, StoreError> {
    let Some(hash) = hash_of(token) else {
        return Ok(None);
    };
    let Some(link) = app
        .store
        .spend_link(&hash, purpose, app.clock.now())
        .await?
    else {
        return Ok(None);
    };
    with_account(app, purpose, link).await
}
