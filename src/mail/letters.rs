//! The letters we send, in the person's language: an invitation, a password reset, an e-mail
//! address to confirm, and notices of a changed password and of an address changing, then
//! changed. Text plus simple HTML; no tracking, no remote images.

use askama::Template;
use lettre::message::Mailbox;

use super::Outgoing;
use crate::i18n::{Lang, Message};
use crate::state::AppState;
use crate::store::AccountRow;

/// What a letter says, before it is put into words.
pub enum Letter<'a> {
    Invitation {
        link: &'a str,
        expires_at: i64,
    },
    PasswordReset {
        link: &'a str,
        minutes: i64,
    },
    ConfirmAddress {
        link: &'a str,
        address: &'a str,
        expires_at: i64,
    },
    /// To the old address, when a new one was asked for.
    AddressChanging {
        new_address: &'a str,
    },
    /// To the old address, when the new one was confirmed and replaced it.
    AddressChanged {
        new_address: &'a str,
        at: i64,
    },
    PasswordChanged {
        at: i64,
    },
    /// A change to the account's second factors.
    SecurityNotice {
        change: SecurityChange,
        at: i64,
    },
}

/// What changed in an account's second factors, for the notice to its owner.
#[derive(Debug, Clone, Copy)]
pub enum SecurityChange {
    TotpAdded,
    TotpRemoved,
    PasskeyAdded,
    PasskeyRemoved,
    RecoveryCodeUsed,
    RecoveryCodesRenewed,
    /// By an admin.
    FactorsReset,
}

impl SecurityChange {
    /// The catalog keys of the notice's subject and body.
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            SecurityChange::TotpAdded => ("mail-totp-added-subject", "mail-totp-added-body"),
            SecurityChange::TotpRemoved => ("mail-totp-removed-subject", "mail-totp-removed-body"),
            SecurityChange::PasskeyAdded => {
                ("mail-passkey-added-subject", "mail-passkey-added-body")
            }
            SecurityChange::PasskeyRemoved => {
                ("mail-passkey-removed-subject", "mail-passkey-removed-body")
            }
            SecurityChange::RecoveryCodeUsed => (
                "mail-recovery-code-used-subject",
                "mail-recovery-code-used-body",
            ),
            SecurityChange::RecoveryCodesRenewed => (
                "mail-recovery-codes-renewed-subject",
                "mail-recovery-codes-renewed-body",
            ),
            SecurityChange::FactorsReset => {
                ("mail-factors-reset-subject", "mail-factors-reset-body")
            }
        }
    }
}

impl Letter<'_> {
    fn purpose(&self) -> &'static str {
        match self {
            Letter::Invitation { .. } => "invitation",
            Letter::PasswordReset { .. } => "reset",
            Letter::ConfirmAddress { .. } => "verification",
            Letter::AddressChanging { .. } => "email_change_notice",
            Letter::AddressChanged { .. } => "email_changed_notice",
            Letter::PasswordChanged { .. } => "password_changed",
            Letter::SecurityNotice { .. } => "security_notice",
        }
    }

    fn link(&self) -> Option<&str> {
        match self {
            Letter::Invitation { link, .. }
            | Letter::PasswordReset { link, .. }
            | Letter::ConfirmAddress { link, .. } => Some(link),
            _ => None,
        }
    }

    /// Subject, paragraphs before the button, the button's label, paragraphs after.
    fn words(&self, username: &str) -> (Message, Vec<Message>, Option<Message>, Vec<Message>) {
        let user = |key| Message::new(key).with("username", username);
        match self {
            Letter::Invitation { expires_at, .. } => (
                Message::new("mail-invitation-subject"),
                vec![user("mail-invitation-body")],
                Some(Message::new("mail-invitation-button")),
                vec![
                    Message::new("mail-link-expires")
                        .with("when", crate::clock::format_utc(*expires_at)),
                ],
            ),
            Letter::PasswordReset { minutes, .. } => (
                Message::new("mail-reset-subject"),
                vec![user("mail-reset-body")],
                Some(Message::new("mail-reset-button")),
                vec![
                    Message::new("mail-reset-expires").with("minutes", *minutes),
                    Message::new("mail-reset-ignore"),
                ],
            ),
            Letter::ConfirmAddress {
                address,
                expires_at,
                ..
            } => (
                Message::new("mail-confirm-subject"),
                vec![user("mail-confirm-body").with("address", *address)],
                Some(Message::new("mail-confirm-button")),
                vec![
                    Message::new("mail-link-expires")
                        .with("when", crate::clock::format_utc(*expires_at)),
                ],
            ),
            Letter::AddressChanging { new_address } => (
                Message::new("mail-address-changing-subject"),
                vec![
                    user("mail-address-changing-body").with("address", *new_address),
                    Message::new("mail-not-you"),
                ],
                None,
                Vec::new(),
            ),
            Letter::AddressChanged { new_address, at } => (
                Message::new("mail-address-changed-subject"),
                vec![
                    user("mail-address-changed-body")
                        .with("address", *new_address)
                        .with("when", crate::clock::format_utc(*at)),
                    // Not "reset your password": a reset would now go to the new address.
                    Message::new("mail-address-changed-not-you"),
                ],
                None,
                Vec::new(),
            ),
            Letter::SecurityNotice { change, at } => (
                Message::new(change.keys().0),
                vec![
                    user(change.keys().1).with("when", crate::clock::format_utc(*at)),
                    Message::new("mail-not-you"),
                ],
                None,
                Vec::new(),
            ),
            Letter::PasswordChanged { at } => (
                Message::new("mail-password-changed-subject"),
                vec![
                    user("mail-password-changed-body").with("when", crate::clock::format_utc(*at)),
                    Message::new("mail-not-you"),
                ],
                None,
                Vec::new(),
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "mail/letter.txt")]
struct TextLetter<'a> {
    body: &'a Body,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct HtmlLetter<'a> {
    body: &'a Body,
}

/// A letter in words.
struct Body {
    lang: String,
    subject: String,
    greeting: String,
    before: Vec<String>,
    /// The button's label and the link.
    action: Option<(String, String)>,
    fallback: String,
    after: Vec<String>,
    footer: String,
}

/// The language of an account's letters: its own, else the page's it was asked from.
pub fn language_of(account: &AccountRow) -> Lang {
    account
        .locale
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_else(crate::i18n::current)
}

/// Puts a letter to `to` into words, ready to queue.
pub fn compose(
    app: &AppState,
    account: &AccountRow,
    to: &str,
    letter: &Letter<'_>,
    expires_at: Option<i64>,
) -> Result<Outgoing, String> {
    let lang = language_of(account);
    let college = app
        .branding
        .college_name
        .clone()
        .unwrap_or_else(|| lang.text("college-name"));
    let (subject, before, button, after) = letter.words(&account.username);
    let name = account.display_name();
    let body = Body {
        lang: lang.tag(),
        subject: subject.with("college", college.as_str()).in_lang(lang),
        greeting: Message::new("mail-greeting")
            .with("name", name)
            .in_lang(lang),
        // Every paragraph may name the college.
        before: before
            .iter()
            .map(|m| m.clone().with("college", college.as_str()).in_lang(lang))
            .collect(),
        action: button
            .zip(letter.link())
            .map(|(label, link)| (label.in_lang(lang), link.to_owned())),
        fallback: lang.text("mail-link-fallback"),
        after: after.iter().map(|m| m.in_lang(lang)).collect(),
        footer: Message::new("mail-footer")
            .with("college", college.as_str())
            .in_lang(lang),
    };
    let text = TextLetter { body: &body }
        .render()
        .map_err(|e| e.to_string())?;
    let html = HtmlLetter { body: &body }
        .render()
        .map_err(|e| e.to_string())?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("{to:?} is not an address: {e}"))?;
    Ok(Outgoing {
        account_id: Some(account.account_id),
        purpose: letter.purpose(),
        to,
        subject: body.subject,
        text,
        html,
        link: letter.link().map(str::to_owned),
        expires_at,
        language: lang.tag(),
    })
}
