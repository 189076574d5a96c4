//! README's settings table and `.env.example` name exactly the variables the server reads.
//!
//! What the server reads is taken two ways and joined: the names `Config::load` asks its
//! `Source` for (the truth at run time, whatever file the reading code lives in), and the names
//! written as whole string literals in the settings code outside its tests (which also catches a
//! read that happens only when another setting has some value).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hccc_sso::config::{Config, Source};

/// The line that starts `.env.example`'s section of variables only docker-compose.yml reads.
const COMPOSE_SECTION: &str = "# --- Docker Compose";

/// Read by the server outside `Config`: the log filter is tracing-subscriber's, read in this file.
const READ_OUTSIDE_CONFIG: [(&str, &str); 1] = [("RUST_LOG", "src/telemetry.rs")];

fn root() -> PathBuf {
    // At run time when cargo gives it, so that the checks can be pointed at another tree's files.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A configuration source that answers from a fixed list and remembers every name asked for.
struct Recording {
    given: Vec<(&'static str, String)>,
    asked: RefCell<BTreeSet<String>>,
}

impl Source for Recording {
    fn get(&self, name: &str) -> Option<String> {
        self.asked.borrow_mut().insert(name.to_owned());
        self.given
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }
}

/// The names `Config::load` asks for. The secret key is given so that nothing is generated or
/// written; every other setting takes its default.
fn names_config_asks_for() -> BTreeSet<String> {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let source = Recording {
        given: vec![
            ("HCCC_SSO_SECRET_KEY", "ab".repeat(32)),
            (
                "HCCC_SSO_DATA_DIR",
                data_dir.path().to_string_lossy().into_owned(),
            ),
        ],
        asked: RefCell::new(BTreeSet::new()),
    };
    if let Err(e) = Config::load(&source) {
        panic!("the defaults must load: {e}");
    }
    source.asked.into_inner()
}

fn is_setting_name(s: &str) -> bool {
    let ours = s.strip_prefix("HCCC_SSO_").is_some_and(|rest| {
        !rest.is_empty()
            && !rest.ends_with('_')
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    });
    ours || s == "DATABASE_URL" || s == "RUST_LOG"
}

/// Whole string literals that are a setting's name, in the code before its `#[cfg(test)]` module.
fn names_in_code(code: &str) -> BTreeSet<String> {
    let code = code.split("#[cfg(test)]").next().unwrap_or_default();
    // Between quotes are the odd pieces; a literal such as "HCCC_SSO_X: {e}" is a message, not a name.
    code.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| is_setting_name(s))
        .map(str::to_owned)
        .collect()
}

/// The settings code: config.rs or a config/ folder (without its unit tests, `tests.rs`), and the
/// mail settings wherever they live.
fn settings_code(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["src/config.rs", "src/mail/settings.rs"]
        .iter()
        .map(|f| root.join(f))
        .filter(|p| p.is_file())
        .collect();
    if let Ok(dir) = std::fs::read_dir(root.join("src/config")) {
        files.extend(
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .filter(|p| p.file_name().is_some_and(|name| name != "tests.rs")),
        );
    }
    assert!(
        !files.is_empty(),
        "no settings code under {}",
        root.display()
    );
    files
}

fn names_the_server_reads(root: &Path) -> BTreeSet<String> {
    let mut names = names_config_asks_for();
    for file in settings_code(root) {
        names.extend(names_in_code(&read(&file)));
    }
    for (name, file) in READ_OUTSIDE_CONFIG {
        let code = read(&root.join(file));
        if code.contains(&format!("\"{name}\"")) {
            names.insert(name.to_owned());
        }
    }
    names
}

/// The first column of the table in README's "## Configuration" section.
struct Table {
    /// Setting names, in order (a name twice is kept twice).
    names: Vec<String>,
    /// Any other backticked `HCCC_SSO_…`, such as a wildcard: a row must name its settings in full.
    not_names: Vec<String>,
}

fn readme_table_names(readme: &str) -> Result<Table, String> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Configuration\n"))
        .ok_or("README has no \"## Configuration\" section")?;
    let mut lines = section
        .lines()
        .skip_while(|l| !l.starts_with("| variable |"));
    lines
        .next()
        .ok_or("README's Configuration section has no table headed \"| variable |\"")?;
    let (mut names, mut not_names) = (Vec::new(), Vec::new());
    for row in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for quoted in first.split('`').skip(1).step_by(2) {
            if is_setting_name(quoted) {
                names.push(quoted.to_owned());
            } else if quoted.starts_with("HCCC_SSO_") {
                not_names.push(quoted.to_owned());
            }
        }
    }
    if names.is_empty() {
        return Err("README's settings table names no setting".into());
    }
    Ok(Table { names, not_names })
}

/// Names assigned in `.env.example`, set or commented out (`NAME=` or `# NAME=`): those before
/// the Compose section, and those in it.
fn env_example_names(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (server, compose) = match text.find(COMPOSE_SECTION) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let names = |part: &str| -> BTreeSet<String> {
        part.lines()
            .filter_map(|l| {
                let l = l.trim_start().trim_start_matches('#').trim_start();
                let (name, _) = l.split_once('=')?;
                (!name.is_empty()
                    && name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .then(|| name.to_owned())
            })
            .collect()
    };
    (names(server), names(compose))
}

/// Variables docker-compose.yml substitutes: `${NAME}`, `${NAME:-x}`, `${NAME-x}`, `${NAME:?x}`.
fn compose_substitutions(compose: &str) -> BTreeSet<String> {
    compose
        .split("${")
        .skip(1)
        .filter_map(|s| {
            let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
            Some(s[..end].to_owned()).filter(|n| !n.is_empty())
        })
        .collect()
}

/// What differs between the names read and the names documented, as readable lines.
fn differences(what: &str, read: &BTreeSet<String>, documented: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let missing: Vec<_> = read.difference(documented).collect();
    if !missing.is_empty() {
        out.push(format!(
            "read by the server but missing from {what}: {missing:?}"
        ));
    }
    let stale: Vec<_> = documented.difference(read).collect();
    if !stale.is_empty() {
        out.push(format!("in {what} but not read by the server: {stale:?}"));
    }
    out
}

#[test]
fn readme_table_and_env_example_name_exactly_the_settings_the_server_reads() {
    let root = root();
    let read_names = names_the_server_reads(&root);
    // The ones every operator needs must be among them, or the collection itself is broken.
    for name in [
        "HCCC_SSO_ISSUER",
        "DATABASE_URL",
        "HCCC_SSO_SECRET_KEY",
        "HCCC_SSO_SMTP_URL",
        "HCCC_SSO_RESET_REQUESTS_PER_IP",
        "RUST_LOG",
    ] {
        assert!(
            read_names.contains(name),
            "{name} not found: {read_names:?}"
        );
    }

    let mut problems = Vec::new();

    match readme_table_names(&read(&root.join("README.md"))) {
        Err(e) => problems.push(e),
        Ok(Table {
            names: rows,
            not_names,
        }) => {
            if !not_names.is_empty() {
                problems.push(format!(
                    "README's table has rows that do not name their settings in full: {not_names:?}"
                ));
            }
            let table: BTreeSet<String> = rows.iter().cloned().collect();
            if table.len() != rows.len() {
                let mut seen = BTreeSet::new();
                let twice: Vec<_> = rows.iter().filter(|n| !seen.insert(*n)).collect();
                problems.push(format!(
                    "README's table names these more than once: {twice:?}"
                ));
            }
            problems.extend(differences("README's settings table", &read_names, &table));
        }
    }

    let (server, compose_only) = env_example_names(&read(&root.join(".env.example")));
    problems.extend(differences(
        ".env.example (before its Compose section)",
        &read_names,
        &server,
    ));
    let compose = read(&root.join("docker-compose.yml"));
    let substituted = compose_substitutions(&compose);
    for name in &compose_only {
        if read_names.contains(name) {
            problems.push(format!(
                "{name} is read by the server: .env.example lists it under the Compose section"
            ));
        } else if !substituted.contains(name) {
            problems.push(format!(
                "{name} is in .env.example's Compose section but docker-compose.yml does not use it"
            ));
        }
    }
    // Whatever the Compose file substitutes, an operator finds explained in .env.example.
    let explained: BTreeSet<String> = server.union(&compose_only).cloned().collect();
    let unexplained: Vec<_> = substituted.difference(&explained).collect();
    if !unexplained.is_empty() {
        problems.push(format!(
            "docker-compose.yml substitutes variables .env.example does not list: {unexplained:?}"
        ));
    }

    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The checks themselves: each kind of drift between code and documents is caught.
#[test]
fn the_checks_catch_each_kind_of_drift() {
    let read: BTreeSet<String> = ["HCCC_SSO_ISSUER", "HCCC_SSO_BIND", "DATABASE_URL"]
        .map(String::from)
        .into();

    // A literal that is a message or a prefix is not a name; test code is not read.
    let code = r#"
        source.get("HCCC_SSO_ISSUER");
        errors.push(format!("HCCC_SSO_BIND: {bind:?} is bad"));
        let prefix = "HCCC_SSO_";
        number("HCCC_SSO_LOGIN_MAX_FAILURES", 10, 1, 1000);
        #[cfg(test)]
        mod tests { fn t() { load(&[("HCCC_SSO_OLD_NAME", "1")]); } }
    "#;
    assert_eq!(
        names_in_code(code),
        ["HCCC_SSO_ISSUER", "HCCC_SSO_LOGIN_MAX_FAILURES"]
            .map(String::from)
            .into()
    );

    let table = |rows: &str| {
        format!(
            "# x\n\n## Configuration\n\ntext\n\n| variable | default | meaning |\n|---|---|---|\n{rows}\ntext after\n\n## Production\n\n| `HCCC_SSO_DOMAIN` | | |\n"
        )
    };
    // Complete: nothing to report (and the Production section's table is not the settings table).
    let full = table(
        "| `HCCC_SSO_ISSUER` | x | y |\n| `HCCC_SSO_BIND`, `DATABASE_URL` | x | `HCCC_SSO_NOT_A_ROW_NAME` |",
    );
    let Table { names, not_names } = readme_table_names(&full).expect("a table");
    assert_eq!(names, ["HCCC_SSO_ISSUER", "HCCC_SSO_BIND", "DATABASE_URL"]);
    assert!(not_names.is_empty(), "{not_names:?}");
    assert!(differences("t", &read, &names.into_iter().collect()).is_empty());
    // A setting added to the code without a row.
    let missing = readme_table_names(&table(
        "| `HCCC_SSO_ISSUER` | x | y |\n| `DATABASE_URL` | x | y |",
    ))
    .expect("a table")
    .names;
    assert_eq!(
        differences("t", &read, &missing.into_iter().collect()),
        ["read by the server but missing from t: [\"HCCC_SSO_BIND\"]"]
    );
    // A row for a setting no longer read.
    let stale = readme_table_names(&table(
        "| `HCCC_SSO_ISSUER`, `HCCC_SSO_BIND` | x | y |\n| `DATABASE_URL` | x | y |\n| `HCCC_SSO_GONE` | x | y |",
    ))
    .expect("a table")
    .names;
    assert_eq!(
        differences("t", &read, &stale.into_iter().collect()),
        ["in t but not read by the server: [\"HCCC_SSO_GONE\"]"]
    );
    // A wildcard row hides which settings exist; no section or no table is an error too.
    let wildcard = readme_table_names(&table(
        "| `HCCC_SSO_ISSUER` | x | y |\n| `HCCC_SSO_*_TTL_SECONDS` | x | y |\n| `HCCC_SSO_` | | |",
    ))
    .expect("a table");
    assert_eq!(wildcard.names, ["HCCC_SSO_ISSUER"]);
    assert_eq!(wildcard.not_names, ["HCCC_SSO_*_TTL_SECONDS", "HCCC_SSO_"]);
    assert!(readme_table_names("# x\n\n## Configuration\n\nno table\n").is_err());
    assert!(
        readme_table_names(
            "# x\n\n## Settings\n\n| variable | a | b |\n|---|---|---|\n| `HCCC_SSO_BIND` | | |\n"
        )
        .is_err()
    );

    // .env.example: set and commented-out names count; prose and URLs do not; the Compose
    // section is apart.
    let env = "# The issuer.\nHCCC_SSO_ISSUER=http://localhost:8080\n# HCCC_SSO_BIND=0.0.0.0:8080\n\
               #   Microsoft 365:  smtp://user:pass@host:587?tls=starttls\n# DATABASE_URL=sqlite://x\n\
               # Log filter, e.g. info,hccc_sso=debug\n\n# --- Docker Compose (production) ---\n\
               # HCCC_SSO_DOMAIN=sso.hccc.edu\nPOSTGRES_PASSWORD=\n";
    let (server, compose_only) = env_example_names(env);
    assert_eq!(server, read);
    assert_eq!(
        compose_only,
        ["HCCC_SSO_DOMAIN", "POSTGRES_PASSWORD"]
            .map(String::from)
            .into()
    );

    assert_eq!(
        compose_substitutions(
            "a: https://${HCCC_SSO_DOMAIN:?set it}\nb: ${RUST_LOG:-info}\nc: ${X-y} ${Y}\nd: $$HOME"
        ),
        ["HCCC_SSO_DOMAIN", "RUST_LOG", "X", "Y"]
            .map(String::from)
            .into()
    );
}
