//! The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636).

use super::{RefreshToken, Subject, TokenResponse, issue, live_grant};
use crate::crypto;
use crate::domain::is_pkce_value;
use crate::oidc::error::OAuthError;
use crate::state::AppState;
use crate::store::{ClientRow, CodeRedemption};

pub struct CodeRequest {
    pub code: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// Redeems a code of this client, once: it must repeat the authorization request's redirect URI
/// and present the PKCE verifier if a challenge was sent (and none if none was).
pub async fn exchange(
    app: &AppState,
    client: &ClientRow,
    request: CodeRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let hash = crypto::sha256(request.code.as_bytes());
    let code = match app
        .store
        .redeem_auth_code(&hash, client.client_id, now)
        .await?
    {
        CodeRedemption::Redeemed(code) => code,
        CodeRedemption::Reused => {
            tracing::warn!(client_id = %client.client_id, "authorization code reused; its grant is revoked");
            return Err(OAuthError::invalid_grant(
                "authorization code was already used",
            ));
        }
        CodeRedemption::Unknown => {
            return Err(OAuthError::invalid_grant("authorization code is invalid"));
        }
    };
    if code.expires_at <= now {
        return Err(OAuthError::invalid_grant("authorization code has expired"));
    }
    let (grant, account) = live_grant(app, client, code.grant_id).await?;
    if request.redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&code.code_challenge, request.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) => {
            let computed = crypto::b64url(&crypto::sha256(verifier.as_bytes()));
            if !is_pkce_value(verifier)
                || !crypto::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
            {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier given but no code_challenge was",
            ));
        }
        (None, None) => {}
    }
    let subject = Subject {
        grant: &grant,
        account: &account,
        scope: &grant.scope,
        nonce: code.nonce.as_deref(),
    };
    issue(app, client, subject, RefreshToken::New, now).await
}
