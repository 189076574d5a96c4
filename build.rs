//! Marks the integration tests that need something this machine may lack as ignored when it is
//! missing, so that `cargo test` reports them as skipped instead of passing them untried: the
//! PostgreSQL half (no TEST_DATABASE_URL), and the tests that run outside tools (Chromium and
//! Playwright, Apache's mod_auth_openidc, openid-client, PostgreSQL's server binaries,
//! docker-compose, hunspell). Under `CI=true` every one is marked present: CI must run them all,
//! and a missing tool fails its test.
//!
//! Each tool is looked for where `.ci/run` installs it. A present one is watched for changes; for a
//! missing one the nearest folder that exists is watched (a path that does not exist would make
//! Cargo run this script, and rebuild the crate, on every build).

use std::path::{Path, PathBuf};

/// (cfg, the files it needs; an npm package by its package.json).
const TOOLS: &[(&str, &[&str])] = &[
    (
        "browser_tests",
        &[
            "/usr/bin/chromium",
            "tests/browser/node_modules/playwright-core/package.json",
        ],
    ),
    (
        "mod_auth_openidc_tests",
        &[
            "/usr/sbin/apache2",
            "/usr/lib/apache2/modules/mod_auth_openidc.so",
            "/usr/bin/chromium",
            "tests/browser/node_modules/playwright-core/package.json",
        ],
    ),
    (
        "openid_client_tests",
        &["tests/openid-client/node_modules/openid-client/package.json"],
    ),
    ("docker_compose_tests", &["/usr/bin/docker-compose"]),
    (
        "hunspell_tests",
        &["/usr/bin/hunspell", "/usr/share/hunspell/es_US.dic"],
    ),
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }

    println!("cargo::rerun-if-env-changed=CI");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    for (cfg, needs) in TOOLS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        let mut present = true;
        for need in *needs {
            present &= found_and_watched(Path::new(need));
        }
        if present || ci {
            println!("cargo::rustc-cfg={cfg}");
        }
    }

    // A private PostgreSQL cluster (tests/it/outage.rs): initdb and pg_ctl of any installed version.
    println!("cargo::rustc-check-cfg=cfg(postgres_server_tests)");
    let versions = Path::new("/usr/lib/postgresql");
    let installed = std::fs::read_dir(versions)
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"))
        .any(|bin| {
            bin.join("initdb").is_file()
                && bin.join("pg_ctl").is_file()
                && watch(&bin.join("pg_ctl"))
        });
    if !installed {
        watch(&nearest_existing(versions));
    }
    if installed || ci {
        println!("cargo::rustc-cfg=postgres_server_tests");
    }
}

/// Whether the file `path` exists; watches it, or the nearest folder above it.
fn found_and_watched(path: &Path) -> bool {
    let found = path.is_file();
    if found {
        watch(path);
    } else {
        watch(&nearest_existing(path));
    }
    found
}

fn nearest_existing(path: &Path) -> PathBuf {
    path.ancestors()
        .skip(1)
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"))
        .to_path_buf()
}

fn watch(path: &Path) -> bool {
    println!("cargo::rerun-if-changed={}", path.display());
    true
}
