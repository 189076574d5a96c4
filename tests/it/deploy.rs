//! The production files: Dockerfile, docker-compose.yml and traefik/ are wired as README says.

use std::collections::BTreeSet;
use std::path::PathBuf;

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(path)).expect(path);
    YamlLoader::load_from_str(&text)
        .expect("valid YAML")
        .into_iter()
        .next()
        .expect("a document")
}

fn labels(service: &Yaml) -> Vec<String> {
    service["labels"]
        .as_vec()
        .expect("labels")
        .iter()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect()
}

/// Every environment variable the app reads, taken from its configuration code.
fn variables_the_app_reads() -> BTreeSet<String> {
    // Settings are read in config/ (e-mail's in config/mail.rs).
    let code = std::fs::read_dir(root().join("src/config"))
        .expect("settings folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|x| x == "rs"))
        .map(|path| std::fs::read_to_string(path).expect("settings source"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut names: BTreeSet<String> = code
        .split('"')
        .filter(|s| {
            s.starts_with("HCCC_SSO_") && s.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
        .map(str::to_owned)
        .collect();
    names.insert("DATABASE_URL".into());
    names.insert("RUST_LOG".into()); // read by tracing-subscriber's EnvFilter
    names
}

#[test]
fn compose_runs_two_healthy_replicas_behind_traefik_with_postgres() {
    let compose = load("docker-compose.yml");
    let services = &compose["services"];
    let (app, db, traefik) = (&services["app"], &services["db"], &services["traefik"]);

    assert_eq!(app["deploy"]["replicas"].as_i64(), Some(2));
    assert!(
        app["ports"].is_badvalue(),
        "the app is reached only through Traefik"
    );
    assert!(db["ports"].is_badvalue(), "the database is not published");
    let app_health = app["healthcheck"]["test"]
        .as_vec()
        .expect("app health check");
    assert!(app_health.iter().any(|t| t.as_str() == Some("healthcheck")));
    assert_eq!(
        app["depends_on"]["db"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert!(
        db["healthcheck"]["test"]
            .as_vec()
            .expect("db health")
            .iter()
            .any(|t| t.as_str().is_some_and(|s| s.contains("pg_isready")))
    );
    assert!(db["volumes"].as_vec().expect("db volume").iter().any(|v| {
        v.as_str()
            .is_some_and(|s| s.ends_with(":/var/lib/postgresql/data"))
    }));

    let ports: Vec<&str> = traefik["ports"]
        .as_vec()
        .expect("ports")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert_eq!(ports, ["80:80", "443:443"]);
    let labels = labels(app);
    let has = |wanted: &str| labels.iter().any(|l| l == wanted);
    assert!(has("traefik.enable=true"));
    assert!(has(
        "traefik.http.routers.sso.rule=Host(`${HCCC_SSO_DOMAIN}`)"
    ));
    assert!(has("traefik.http.routers.sso.entrypoints=websecure"));
    assert!(has("traefik.http.routers.sso.tls=true"));
    assert!(has(
        "traefik.http.routers.sso.tls.certresolver=${HCCC_SSO_CERT_RESOLVER-letsencrypt}"
    ));
    assert!(has(
        "traefik.http.routers.sso.middlewares=security-headers@file"
    ));
    assert!(has(
        "traefik.http.services.sso.loadbalancer.server.port=8080"
    ));
    assert!(has(
        "traefik.http.services.sso.loadbalancer.healthcheck.path=/health/ready"
    ));
    let command: Vec<&str> = traefik["command"]
        .as_vec()
        .expect("command")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        command
            .iter()
            .any(|c| c.starts_with("--certificatesresolvers.letsencrypt.acme.email=${ACME_EMAIL"))
    );

    // The app listens where Traefik sends traffic, and reads every variable it is given.
    let environment = app["environment"].as_hash().expect("environment");
    assert_eq!(
        environment[&Yaml::from_str("HCCC_SSO_BIND")].as_str(),
        Some("0.0.0.0:8080")
    );
    assert!(
        environment[&Yaml::from_str("HCCC_SSO_ISSUER")]
            .as_str()
            .is_some_and(|i| i.starts_with("https://"))
    );
    assert!(
        environment[&Yaml::from_str("DATABASE_URL")]
            .as_str()
            .is_some_and(|u| u.starts_with("postgres://") && u.contains("@db:5432/"))
    );
    let known = variables_the_app_reads();
    for key in environment.keys() {
        let key = key.as_str().expect("name");
        assert!(known.contains(key), "the app does not read {key}");
    }
}

#[test]
fn traefik_redirects_to_https_issues_certificates_and_adds_security_headers() {
    let config = load("traefik/traefik.yml");
    let web = &config["entryPoints"]["web"];
    assert_eq!(web["address"].as_str(), Some(":80"));
    assert_eq!(
        web["http"]["redirections"]["entryPoint"]["to"].as_str(),
        Some("websecure")
    );
    assert_eq!(
        web["http"]["redirections"]["entryPoint"]["scheme"].as_str(),
        Some("https")
    );
    assert_eq!(
        config["entryPoints"]["websecure"]["address"].as_str(),
        Some(":443")
    );
    assert_eq!(
        config["providers"]["docker"]["exposedByDefault"].as_bool(),
        Some(false)
    );
    assert_eq!(
        config["providers"]["file"]["filename"].as_str(),
        Some("/etc/traefik/dynamic.yml")
    );
    assert!(
        config["certificatesResolvers"]["letsencrypt"]["acme"]["storage"]
            .as_str()
            .is_some()
    );
    assert!(
        !config["ping"].is_badvalue(),
        "the ping endpoint backs Traefik's own health check"
    );

    let dynamic = load("traefik/dynamic.yml");
    let headers = &dynamic["http"]["middlewares"]["security-headers"]["headers"];
    assert!(
        headers["stsSeconds"]
            .as_i64()
            .is_some_and(|s| s >= 31_536_000)
    );
    assert_eq!(headers["contentTypeNosniff"].as_bool(), Some(true));
    assert_eq!(headers["frameDeny"].as_bool(), Some(true));
    assert_eq!(
        dynamic["tls"]["options"]["default"]["minVersion"].as_str(),
        Some("VersionTLS12")
    );

    let compose = std::fs::read_to_string(root().join("docker-compose.yml")).expect("compose");
    assert!(compose.contains("./traefik/traefik.yml:/etc/traefik/traefik.yml:ro"));
    assert!(compose.contains("./traefik/dynamic.yml:/etc/traefik/dynamic.yml:ro"));
}

#[test]
fn the_image_runs_unprivileged_with_a_health_check() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.matches("FROM ").count() >= 2, "multi-stage");
    assert!(dockerfile.contains("USER 10001"));
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("\"healthcheck\""));
    assert!(dockerfile.contains("HCCC_SSO_BIND=0.0.0.0:8080"));
    for folder in ["src", "migrations", "templates", "static"] {
        assert!(
            dockerfile.contains(&format!("COPY {folder} {folder}")),
            "{folder} is copied"
        );
    }
}

/// Debian's docker-compose validates the file (no Docker engine is needed for `config`).
#[test]
#[cfg_attr(not(docker_compose_tests), ignore = "docker-compose is not installed")]
fn docker_compose_accepts_the_file() {
    crate::harness::require(
        std::process::Command::new("docker-compose")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "docker-compose",
    );
    let settings = [
        ("HCCC_SSO_DOMAIN", "sso.hccc.edu"),
        ("ACME_EMAIL", "it@hccc.edu"),
        ("POSTGRES_PASSWORD", "pw"),
        ("HCCC_SSO_SECRET_KEY", "key"),
    ];
    let ok = std::process::Command::new("docker-compose")
        .arg("config")
        .current_dir(root())
        .envs(settings)
        .output()
        .expect("run");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let rendered = String::from_utf8_lossy(&ok.stdout);
    assert!(
        rendered.contains("Host(`sso.hccc.edu`)") && rendered.contains("acme.email=it@hccc.edu")
    );
    let missing = std::process::Command::new("docker-compose")
        .arg("config")
        .current_dir(root())
        .env_remove("ACME_EMAIL")
        .envs(settings.iter().filter(|(k, _)| *k != "ACME_EMAIL").copied())
        .output()
        .expect("run");
    assert!(!missing.status.success(), "required settings are enforced");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("set "));
}
