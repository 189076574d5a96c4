//! Outgoing e-mail: letters rendered in the person's language (`letters.rs`), queued in the
//! outbox in the same transaction as the link they carry, and sent by a worker on every replica
//! (`deliver_due`), each message claimed by one of them, retried with back-off while the relay is
//! down. Without a relay (`HCCC_SSO_SMTP_URL` unset) messages wait and admins hand links over.

pub mod letters;
pub mod relay;

use std::time::Duration;

use futures_util::StreamExt;
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use uuid::Uuid;

use crate::crypto;
use crate::state::AppState;
use crate::store::{MailRow, NewMail, StoreError};
pub use relay::Mail;
use relay::PARALLEL_SENDS;

/// Seconds before attempt n+1 after n failures. A message with a link is retried until its link
/// expires (then it is not worth sending); a notice is given up after the last.
const BACKOFF: [i64; 12] = [15, 30, 60, 120, 300, 600, 900, 1800, 1800, 1800, 1800, 1800];
/// Messages taken from the outbox per round.
const BATCH: i64 = 256;

/// A letter ready to queue: to whom, for which account and purpose, and its link if any.
pub struct Outgoing {
    pub account_id: Option<Uuid>,
    pub purpose: &'static str,
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub link: Option<String>,
    pub expires_at: Option<i64>,
    /// The letter's language tag (`en`, `es`), for its Content-Language.
    pub language: String,
}

macro_rules! plain_header {
    ($type:ident, $name:literal) => {
        #[derive(Clone)]
        struct $type(String);
        impl lettre::message::header::Header for $type {
            fn name() -> lettre::message::header::HeaderName {
                lettre::message::header::HeaderName::new_from_ascii_str($name)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($type(s.to_owned()))
            }
            fn display(&self) -> lettre::message::header::HeaderValue {
                lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}
plain_header!(ContentLanguage, "Content-Language");
// RFC 3834: out-of-office and other auto-responders do not answer our letters.
plain_header!(AutoSubmitted, "Auto-Submitted");

/// The outbox row of a letter: the formatted message and its link sealed under the secret key,
/// with the message's id as associated data (a sealed body cannot be moved to another row).
pub fn seal(app: &AppState, letter: Outgoing) -> Result<NewMail, StoreError> {
    let mail_id = Uuid::now_v7();
    let message = lettre::Message::builder()
        .from(app.mail.from.clone())
        .to(letter.to.clone())
        .subject(letter.subject)
        .message_id(Some(format!("<{mail_id}@{}>", message_domain(app))))
        .header(ContentLanguage(letter.language.clone()))
        .header(AutoSubmitted("auto-generated".to_owned()))
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            letter.text,
            letter.html,
        ))
        .map_err(|e| StoreError::Corrupt(format!("an e-mail could not be built: {e}")))?;
    let sealed = |bytes: &[u8]| {
        crypto::seal(&app.key_encryption, mail_id.as_bytes(), bytes)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    Ok(NewMail {
        mail_id,
        account_id: letter.account_id,
        purpose: letter.purpose,
        recipient: letter.to.email.to_string(),
        sealed: sealed(&message.formatted())?,
        link_sealed: letter
            .link
            .as_deref()
            .map(|l| sealed(l.as_bytes()))
            .transpose()?,
        expires_at: letter.expires_at,
    })
}

/// The domain of our Message-IDs: the sender's.
fn message_domain(app: &AppState) -> String {
    app.mail.from.email.domain().to_owned()
}

/// A pending link, opened for an admin to hand over.
pub fn open_link(app: &AppState, mail_id: Uuid, sealed: &[u8]) -> Option<String> {
    crypto::open(&app.key_encryption, mail_id.as_bytes(), sealed)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
}

/// Queues letters (no link of their own) and wakes the worker.
pub async fn queue(app: &AppState, letters: Vec<Outgoing>) -> Result<(), StoreError> {
    let mails = letters
        .into_iter()
        .map(|l| seal(app, l))
        .collect::<Result<Vec<_>, _>>()?;
    app.store.issue_links(&[], &mails, app.clock.now()).await?;
    app.mail.wake();
    Ok(())
}

/// The worker of one replica: sends what is due whenever a message is queued, and every few
/// seconds for retries.
pub async fn run(app: AppState) {
    if !app.mail.configured() {
        return;
    }
    loop {
        while deliver_due(&app).await > 0 {}
        let _ = tokio::time::timeout(Duration::from_secs(5), app.mail.wake.notified()).await;
    }
}

/// Sends one batch of due messages; returns how many were attempted. Safe on several replicas
/// at once: each message is claimed by one of them before it is sent.
pub async fn deliver_due(app: &AppState) -> usize {
    let Some(transport) = &app.mail.transport else {
        return 0;
    };
    let now = app.clock.now();
    let due = match app.store.due_mail(now, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading the outbox failed");
            return 0;
        }
    };
    // Claim and send overlap, PARALLEL_SENDS at a time: a slow message holds one slot, not a
    // whole chunk.
    let attempts = due.into_iter().map(|row| async move {
        let wait = BACKOFF
            .get(row.attempts as usize)
            .or(BACKOFF.last())
            .copied()
            .unwrap_or(1800);
        match app.store.claim_mail(&row, now + wait).await {
            Ok(true) => {
                send(app, transport, &row).await;
                1
            }
            Ok(false) => 0, // another replica has it
            Err(e) => {
                tracing::warn!(error = %e, "claiming a message failed");
                0
            }
        }
    });
    futures_util::stream::iter(attempts)
        .buffer_unordered(PARALLEL_SENDS)
        .fold(0, |sum, sent| async move { sum + sent })
        .await
}

async fn send(app: &AppState, transport: &AsyncSmtpTransport<Tokio1Executor>, row: &MailRow) {
    let attempt = row.attempts + 1;
    let outcome = match crypto::open(&app.key_encryption, row.mail_id.as_bytes(), &row.sealed) {
        Err(e) => Err(format!("the sealed message does not open: {e}")),
        Ok(bytes) => match envelope(&app.mail.from, &row.recipient) {
            Err(e) => Err(e),
            Ok(envelope) => transport
                .send_raw(&envelope, &bytes)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        },
    };
    let finished = match &outcome {
        Ok(()) => {
            tracing::info!(mail_id = %row.mail_id, attempt, "e-mail sent");
            crate::telemetry_metrics::mail("sent");
            true
        }
        Err(reason) if attempt as usize >= BACKOFF.len() && row.expires_at.is_none() => {
            tracing::warn!(mail_id = %row.mail_id, attempt, reason = %reason, "e-mail given up");
            crate::telemetry_metrics::mail("given_up");
            true
        }
        Err(reason) => {
            tracing::info!(mail_id = %row.mail_id, attempt, reason = %reason, "e-mail will be retried");
            crate::telemetry_metrics::mail("retried");
            if let Err(e) = app.store.note_mail_failure(row.mail_id, reason).await {
                tracing::warn!(error = %e, "noting an e-mail failure failed");
            }
            false
        }
    };
    if finished && let Err(e) = app.store.delete_mail(row.mail_id).await {
        tracing::warn!(error = %e, "removing a sent e-mail failed");
    }
}

fn envelope(from: &Mailbox, recipient: &str) -> Result<Envelope, String> {
    let to = recipient
        .parse()
        .map_err(|e| format!("the recipient {recipient:?} is not an address: {e}"))?;
    Envelope::new(Some(from.email.clone()), vec![to]).map_err(|e| e.to_string())
}
