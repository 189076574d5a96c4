//! The relay connection, the sender and the worker's bell: what the server holds for outgoing
//! e-mail from start-up on (`state::Inner::mail`). Queuing and sending are in `mail/mod.rs`.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use tokio::sync::Notify;

use crate::config::mail::{MailSettings, Security};

/// Messages sent at once by one replica (the relay's connections are pooled).
pub(super) const PARALLEL_SENDS: usize = 16;
/// The relay and sender, and the bell that wakes the worker when a message is queued.
pub struct Mail {
    pub(super) transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    pub from: Mailbox,
    pub(super) wake: Notify,
}

impl Mail {
    pub fn new(settings: &MailSettings) -> Result<Mail, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("HCCC_SSO_MAIL_FROM: {e}"))?;
        let transport = match &settings.smtp {
            None => None,
            Some(smtp) => {
                let builder = match smtp.security {
                    Security::Plain => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                    }
                    Security::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                            .map_err(|e| format!("HCCC_SSO_SMTP_URL: {e}"))?
                    }
                    Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                        .map_err(|e| format!("HCCC_SSO_SMTP_URL: {e}"))?,
                };
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(Duration::from_secs(15)))
                    .pool_config(PoolConfig::new().max_size(PARALLEL_SENDS as u32));
                if let Some(user) = &smtp.user {
                    builder = builder.credentials(Credentials::new(
                        user.clone(),
                        smtp.password.clone().unwrap_or_default(),
                    ));
                }
                Some(builder.build())
            }
        };
        Ok(Mail {
            transport,
            from,
            wake: Notify::new(),
        })
    }

    pub fn configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Rings the worker's bell: a message was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
