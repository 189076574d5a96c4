//! Back-Channel Logout 1.0: signed logout tokens POSTed to clients, retried with backoff from a
//! database queue, so a client that is down neither blocks the user nor misses the logout.

use serde::Serialize;
use serde_json::json;

use super::scopes::{Scope, ScopeSet};
use crate::crypto;
use crate::keys::KeyError;
use crate::state::AppState;
use crate::store::{
    BackchannelDeliveryRow, ClientRow, GrantRow, NewBackchannelDelivery, StoreError,
};

/// Seconds to wait before attempt n+1 after n failed attempts; the delivery is dropped after the last.
const BACKOFF: [i64; 7] = [30, 120, 600, 1800, 3600, 7200, 14_400];

#[derive(Serialize)]
struct LogoutTokenClaims<'a> {
    iss: &'a str,
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
    sid: String,
    events: serde_json::Value,
}

/// Queues a logout token for every client of `grants` that registered a back-channel logout URI:
/// one per client and browser session (`sid`) among them.
async fn enqueue_for_session(
    app: &AppState,
    grants: &[GrantRow],
    clients: &[ClientRow],
    now: i64,
) -> Result<(), StoreError> {
    let mut deliveries = Vec::new();
    let mut told: Vec<(uuid::Uuid, uuid::Uuid)> = Vec::new();
    for grant in grants {
        let Some(client) = clients.iter().find(|c| c.client_id == grant.client_id) else {
            continue;
        };
        let Some(uri) = &client.settings.backchannel_logout_uri else {
            continue;
        };
        if told.contains(&(client.client_id, grant.sid)) {
            continue;
        }
        told.push((client.client_id, grant.sid));
        match logout_token(app, client, grant, now) {
            Ok(token) => deliveries.push(NewBackchannelDelivery {
                client_id: client.client_id,
                uri: uri.clone(),
                logout_token: token,
            }),
            Err(e) => {
                tracing::error!(client_id = %client.client_id, error = %e, "cannot sign a logout token")
            }
        }
    }
    app.store.enqueue_backchannel(deliveries, now).await
}

/// Tells the apps of grants that were just ended (a password change, an account disabled) over
/// the back channel: queued now, sent in the background.
pub async fn notify_ended(app: &AppState, grants: &[GrantRow], now: i64) -> Result<(), StoreError> {
    if grants.is_empty() {
        return Ok(());
    }
    let mut clients: Vec<ClientRow> = Vec::new();
    for grant in grants {
        if !clients.iter().any(|c| c.client_id == grant.client_id)
            && let Some(client) = app.store.find_client(grant.client_id).await?
        {
            clients.push(client);
        }
    }
    enqueue_for_session(app, grants, &clients, now).await?;
    let app = app.clone();
    tokio::spawn(async move { deliver_due(&app).await });
    Ok(())
}

/// Ends what a browser session signed in to: its grants are revoked (but offline_access ones,
/// which outlive the session by design) and its apps are told over the back channel.
pub async fn end_session_grants(
    app: &AppState,
    sid: uuid::Uuid,
    now: i64,
) -> Result<(), StoreError> {
    let grants = app.store.live_grants_for_session(sid).await?;
    for grant in &grants {
        if !ScopeSet::parse(&grant.scope).contains(Scope::OfflineAccess) {
            app.store.revoke_grant(grant.grant_id, now).await?;
        }
    }
    notify_ended(app, &grants, now).await
}

fn logout_token(
    app: &AppState,
    client: &ClientRow,
    grant: &GrantRow,
    now: i64,
) -> Result<String, KeyError> {
    let claims = LogoutTokenClaims {
        iss: &app.config.issuer,
        sub: grant.account_id.to_string(),
        aud: client.client_id.to_string(),
        iat: now,
        exp: now + 120,
        jti: crypto::random_token(),
        sid: grant.sid.to_string(),
        events: json!({ "http://schemas.openid.net/event/backchannel-logout": {} }),
    };
    app.keys.sign("logout+jwt", &claims)
}

/// Sends every delivery that is due. Safe to call from several replicas at once.
pub async fn deliver_due(app: &AppState) {
    let now = app.clock.now();
    let due = match app.store.due_backchannel(now, 100).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading due back-channel logouts failed");
            return;
        }
    };
    let mut sends = Vec::new();
    for row in due {
        let wait = BACKOFF
            .get(row.attempts as usize)
            .or(BACKOFF.last())
            .copied()
            .unwrap_or(14_400);
        match app.store.claim_backchannel(&row, now + wait).await {
            Ok(true) => sends.push(send(app, row)),
            Ok(false) => {} // another replica has it
            Err(e) => tracing::warn!(error = %e, "claiming a back-channel logout failed"),
        }
    }
    futures_util::future::join_all(sends).await;
}

async fn send(app: &AppState, row: BackchannelDeliveryRow) {
    let attempt = row.attempts + 1;
    let result = app
        .http
        .post(&row.uri)
        .form(&[("logout_token", row.logout_token.as_str())])
        .send()
        .await;
    let outcome = match result {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("HTTP {}", response.status().as_u16())),
        Err(e) => Err(e.without_url().to_string()),
    };
    let finished = match &outcome {
        Ok(()) => {
            tracing::info!(client_id = %row.client_id, attempt, "back-channel logout delivered");
            true
        }
        Err(reason) if attempt as usize >= BACKOFF.len() => {
            tracing::warn!(client_id = %row.client_id, attempt, reason = %reason, "back-channel logout given up");
            true
        }
        Err(reason) => {
            tracing::info!(client_id = %row.client_id, attempt, reason = %reason, "back-channel logout will be retried");
            false
        }
    };
    if finished && let Err(e) = app.store.delete_backchannel(row.delivery_id).await {
        tracing::warn!(error = %e, "removing a delivered back-channel logout failed");
    }
}
