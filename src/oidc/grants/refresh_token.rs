//! The refresh token grant (RFC 6749 §6), rotating the token on every use.

use super::{RefreshToken, Subject, TokenResponse, check_live, issue};
use crate::crypto;
use crate::domain::ScopeSet;
use crate::oidc::error::OAuthError;
use crate::state::AppState;
use crate::store::{ClientRow, RefreshRotation};

pub struct RefreshRequest {
    pub refresh_token: String,
    pub scope: Option<String>,
}

/// Rotates the client's refresh token: the replacement is stored with the rotation, a rotated
/// token presented again revokes its grant, and the scope may narrow but never widen.
pub async fn rotate(
    app: &AppState,
    client: &ClientRow,
    request: RefreshRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let replacement = crypto::random_token();
    let presented = crypto::sha256(request.refresh_token.as_bytes());
    let replacement_hash = crypto::sha256(replacement.as_bytes());
    let rotation = app.store.rotate_refresh_token(
        &presented,
        client.client_id,
        &replacement_hash,
        now + app.config.refresh_token_ttl,
        now,
    );
    let (grant, account) = match rotation.await? {
        RefreshRotation::Rotated { grant, account } => check_live(client, *grant, *account)?,
        RefreshRotation::Reused => {
            tracing::warn!(client_id = %client.client_id, "rotated refresh token presented again; grant revoked");
            return Err(OAuthError::invalid_grant("refresh token was already used"));
        }
        RefreshRotation::Unknown => {
            return Err(OAuthError::invalid_grant(
                "refresh token is invalid or expired",
            ));
        }
    };
    // What an admin has since taken from the client is not renewed.
    let granted = ScopeSet::parse(&grant.scope).intersect(client.settings.allowed_scopes);
    let scope = match request.scope.as_deref() {
        None => granted.to_string(),
        Some(requested) => {
            let wanted = ScopeSet::parse(requested);
            if wanted.is_empty() || !granted.covers(wanted) {
                return Err(OAuthError::invalid_scope("scope exceeds what was granted"));
            }
            wanted.to_string()
        }
    };
    let subject = Subject {
        grant: &grant,
        account: &account,
        scope: &scope,
        nonce: None,
    };
    issue(app, client, subject, RefreshToken::Stored(replacement), now).await
}
