//! Builds the application from its configuration and serves it. Its URLs are in `routes.rs`.

mod routes;

pub use routes::router;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::accounts::PasswordHasher;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::DerivedKeys;
use crate::keys::KeyRing;
use crate::oidc::{backchannel, discovery};
use crate::state::{AppState, Inner};
use crate::store::{Db, Store};
use crate::telemetry_metrics;

pub struct App {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

/// Connects to the database, applies migrations and loads the signing keys.
pub async fn build_state(config: Config, clock: Clock) -> anyhow::Result<AppState> {
    config.ensure_data_dir()?;
    telemetry_metrics::handle(); // installs the recorder before the first request counts
    let acquire_timeout = Duration::from_millis(config.db_acquire_timeout_ms);
    let store = Store::connect_with(
        &config.database_url,
        config.db_max_connections,
        acquire_timeout,
    )
    .await?;
    store.migrate().await?;
    migrate_session_store(&store).await?;
    let derived = DerivedKeys::derive(&config.secret_key)?;
    crate::keys::confirm_secret_key(&config, &store, &derived.key_encryption, clock.now())
        .await
        .map_err(anyhow::Error::msg)?;
    let keys = KeyRing::load_or_init(&store, derived.key_encryption, clock.now()).await?;
    let metadata = discovery::provider_metadata(&config);
    let assets = crate::http::assets::Assets::load(config.branding_dir.as_deref());
    let mail = crate::mail::Mail::new(&config.mail).map_err(anyhow::Error::msg)?;
    let rp_name = config
        .branding
        .college_name
        .clone()
        .unwrap_or_else(|| "Hudson County Community College".into());
    let webauthn =
        crate::accounts::passkeys::relying_party(&config, &rp_name).map_err(anyhow::Error::msg)?;
    if webauthn.is_none() {
        tracing::warn!(
            issuer = %config.issuer,
            "passkeys and security keys are off: the issuer's host is an IP address, which \
             browsers refuse as a WebAuthn relying party (set HCCC_SSO_ISSUER to a host name)"
        );
    }
    Ok(AppState::new(Inner {
        mail,
        webauthn: webauthn.map(std::sync::Arc::new),
        assets: std::sync::Arc::new(assets),
        branding: std::sync::Arc::new(config.branding.clone()),
        openid_configuration: axum::body::Bytes::from(metadata.to_string()),
        oauth_metadata: axum::body::Bytes::from(metadata.to_string()),
        hasher: PasswordHasher::new()?,
        key_encryption: derived.key_encryption,
        csrf_key: derived.csrf,
        http: crate::outbound::client()?,
        config,
        store,
        keys,
        clock,
    }))
}

/// The session library's table and the index our sweep finds expired sessions by.
pub async fn migrate_session_store(store: &Store) -> anyhow::Result<()> {
    let attempt = || async {
        match store.db() {
            Db::Postgres(pool) => PostgresStore::new(pool.clone()).migrate().await,
            Db::Sqlite(pool) => SqliteStore::new(pool.clone()).migrate().await,
        }?;
        store.index_session_expiry().await?;
        anyhow::Ok(())
    };
    // Replicas starting together race on the table and on its index (PostgreSQL's `if not
    // exists` is not safe against a concurrent creation): a second attempt finds them made.
    if attempt().await.is_err() {
        tokio::time::sleep(Duration::from_millis(300)).await;
        attempt().await?;
    }
    Ok(())
}

impl App {
    /// Builds the app on an already bound listener (tests bind 127.0.0.1:0).
    pub async fn bind(config: Config, listener: TcpListener, clock: Clock) -> anyhow::Result<App> {
        let state = build_state(config, clock).await?;
        let router = router(state.clone())?;
        Ok(App {
            listener,
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let maintenance = tokio::spawn(maintain(self.state.clone()));
        let mail = tokio::spawn(crate::mail::run(self.state.clone()));
        let store = self.state.store.clone();
        let invalidations = tokio::spawn(async move { store.follow_invalidations().await });
        let metrics_server = match self.state.config.metrics_bind {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await?;
                let router = Router::new()
                    .route("/metrics", get(telemetry_metrics::get_metrics))
                    .with_state(self.state.clone());
                Some(tokio::spawn(
                    async move { axum::serve(listener, router).await },
                ))
            }
            None => None,
        };
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        maintenance.abort();
        mail.abort();
        invalidations.abort();
        if let Some(server) = metrics_server {
            server.abort();
        }
        result
    }
}

/// Periodic work every replica does: pick up rotated keys, retry back-channel logouts, delete expired rows.
async fn maintain(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        let now = app.clock.now();
        rotate_keys_if_due(&app, now).await;
        if let Err(e) = app.keys.reload(&app.store, now).await {
            tracing::error!(error = %e, "reloading signing keys failed");
        }
        backchannel::deliver_due(&app).await;
        telemetry_metrics::upkeep();
        // Up to 1,000 batches a table a run: a backlog of millions is worked off over a few runs.
        match app
            .store
            .delete_expired(now, app.config.audit_retention_days, 1_000)
            .await
        {
            Ok(deleted) if deleted >= crate::store::SWEEP_BATCH => {
                tracing::info!(deleted, "deleted expired rows");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deleting expired rows failed"),
        }
    }
}

/// The scheduled rotation of signing keys (HCCC_SSO_KEY_ROTATION_DAYS).
pub async fn rotate_keys_if_due(app: &AppState, now: i64) {
    let config = &app.config;
    if config.key_rotation_days == 0 {
        return;
    }
    let max_ttl = config.access_token_ttl.max(config.id_token_ttl);
    let max_age = config.key_rotation_days * 86_400;
    match crate::keys::rotate_if_due(
        &app.store,
        &app.key_encryption,
        now,
        max_age,
        config.key_publish_lead,
        max_ttl,
    )
    .await
    {
        Ok(Some(kid)) => tracing::info!(kid = %kid, "signing keys rotated on schedule"),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "scheduled key rotation failed"),
    }
}
