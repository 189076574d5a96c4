//! A real SMTP server for the tests: Python's aiosmtpd (tests/smtp/sink.py) on a loopback port,
//! writing each message it accepts to a folder the tests read.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::harness::free_port;

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// A message as the relay received it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub content_language: Option<String>,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl Delivered {
    /// The first link in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let at = self.text.find(prefix)?;
        let rest = &self.text[at..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut sink = SmtpSink {
            port: free_port(),
            dir,
            child: None,
        };
        sink.resume().await;
        sink
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, as to a local relay.
    #[allow(dead_code)]
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and folder.
    pub async fn resume(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/sink.py");
        // Debian's python3-aiosmtpd is for Debian's interpreter, whatever else is first on PATH.
        let python = if std::path::Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let mut child = Command::new(python)
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "python3 runs tests/smtp/sink.py (Debian python3-aiosmtpd; .ci/run installs it)",
            );
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink starts within 20 s")
            .expect("read");
        assert_eq!(
            ready.as_deref(),
            Some("ready"),
            "the SMTP sink did not start"
        );
        self.child = Some(child);
    }

    /// Stops the server: the relay is down until `resume`.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Every message received so far, in order of arrival.
    pub fn messages(&self) -> Vec<Delivered> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read the sink's folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|path| parse(path)).collect()
    }

    /// Waits (up to 20 s) until at least `count` messages arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Delivered> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let messages = self.messages();
            if messages.len() >= count || tokio::time::Instant::now() > deadline {
                assert!(
                    messages.len() >= count,
                    "expected {count} messages, the relay got {}",
                    messages.len()
                );
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last message to `to`, waiting for it.
    pub async fn last_to(&self, to: &str) -> Delivered {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(m) = self
                .messages()
                .into_iter()
                .rev()
                .find(|m| m.to.contains(to))
            {
                return m;
            }
            assert!(tokio::time::Instant::now() < deadline, "no message to {to}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn parse(path: &std::path::Path) -> Delivered {
    let raw = std::fs::read(path).expect("read message");
    let parsed = mailparse::parse_mail(&raw).expect("a well-formed message");
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
    };
    let mut text = String::new();
    let mut html = String::new();
    for part in parsed.parts() {
        match part.ctype.mimetype.as_str() {
            "text/plain" => text = part.get_body().expect("text part"),
            "text/html" => html = part.get_body().expect("html part"),
            _ => {}
        }
    }
    Delivered {
        to: header("To").unwrap_or_default(),
        from: header("From").unwrap_or_default(),
        subject: header("Subject").unwrap_or_default(),
        content_language: header("Content-Language"),
        text,
        html,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    }
}
