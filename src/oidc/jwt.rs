//! The claims of the tokens we sign, and how they are minted.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto;
use crate::domain::{Scope, ScopeSet, acr};
use crate::keys::{KeyError, KeyRing};
use crate::state::AppState;
use crate::store::{AccountRow, GrantRow, StoreError, UserinfoRow};

/// RFC 9068 JWT access token. `gid` (private) names the grant, so revoking it ends the token.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<Uuid>,
    /// With the `roles` scope, so resource servers can authorize without calling userinfo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// How the person signed in (RFC 9068 §2.2.3): the API's admin operations need MFA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// The claims a person's scopes release, shared by the ID token and userinfo.
#[derive(Debug, Default, Serialize)]
pub struct ProfileClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// The language the person chose (`en`, `es`); absent until they choose one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl ProfileClaims {
    /// The claims `scope` releases, plus those asked for one by one (`individually`).
    pub fn release(account: &AccountRow, scope: &str, individually: &[String]) -> ProfileClaims {
        let scopes = ScopeSet::parse(scope);
        let profile = scopes.contains(Scope::Profile);
        let email = scopes.contains(Scope::Email);
        let roles = scopes.contains(Scope::Roles);
        let wants =
            |claim: &str, by_scope: bool| by_scope || individually.iter().any(|c| c == claim);
        ProfileClaims {
            name: wants("name", profile).then(|| account.display_name()),
            given_name: account
                .given_name
                .clone()
                .filter(|_| wants("given_name", profile)),
            family_name: account
                .family_name
                .clone()
                .filter(|_| wants("family_name", profile)),
            preferred_username: wants("preferred_username", profile)
                .then(|| account.username.clone()),
            updated_at: wants("updated_at", profile).then_some(account.updated_at),
            locale: account.locale.clone().filter(|_| wants("locale", profile)),
            email: wants("email", email).then(|| account.email.clone()),
            email_verified: wants("email_verified", email).then_some(account.email_verified),
            roles: wants("roles", roles).then(|| account.roles.0.clone()),
            groups: wants("groups", roles).then(|| account.groups.0.clone()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct IdTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    pub azp: String,
    pub at_hash: String,
    pub sid: String,
    pub acr: &'static str,
    pub amr: &'a [String],
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = crypto::sha256(access_token.as_bytes());
    crypto::b64url(&digest[..16])
}

pub struct IssuedTokens {
    pub access_token: String,
    /// Only for a grant that includes `openid`: a plain OAuth grant gets no ID token to sign.
    pub id_token: Option<String>,
}

pub struct MintInput<'a> {
    pub issuer: &'a str,
    pub grant: &'a GrantRow,
    pub account: &'a AccountRow,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub now: i64,
    pub access_token_ttl: i64,
    pub id_token_ttl: i64,
    /// The client's ID token algorithm (RS256 or ES256); at_hash uses SHA-256 for both.
    pub id_token_alg: &'a str,
}

/// Signs an access token for a user's grant, and an ID token if the grant includes `openid`.
pub fn mint_user_tokens(keys: &KeyRing, input: MintInput<'_>) -> Result<IssuedTokens, KeyError> {
    let client_id = input.grant.client_id.to_string();
    let sub = input.account.account_id.to_string();
    let scopes = ScopeSet::parse(input.scope);
    let wants_roles = scopes.contains(Scope::Roles);
    let access = AccessTokenClaims {
        iss: input.issuer.to_owned(),
        sub: sub.clone(),
        aud: input.issuer.to_owned(),
        exp: input.now + input.access_token_ttl,
        iat: input.now,
        jti: crypto::random_token(),
        client_id: client_id.clone(),
        scope: input.scope.to_owned(),
        auth_time: Some(input.grant.auth_time),
        sid: Some(input.grant.sid.to_string()),
        gid: Some(input.grant.grant_id),
        roles: wants_roles.then(|| input.account.roles.0.clone()),
        groups: wants_roles.then(|| input.account.groups.0.clone()),
        acr: Some(acr::acr_of(&input.grant.amr).to_owned()),
    };
    let access_token = keys.sign("at+jwt", &access)?;
    if !scopes.contains(Scope::Openid) {
        return Ok(IssuedTokens {
            access_token,
            id_token: None,
        });
    }
    let asked = super::scopes::ClaimsRequest::from_json(&input.grant.claims);
    let id = IdTokenClaims {
        iss: input.issuer,
        sub,
        aud: client_id.clone(),
        exp: input.now + input.id_token_ttl,
        iat: input.now,
        auth_time: input.grant.auth_time,
        nonce: input.nonce,
        azp: client_id,
        at_hash: at_hash(&access_token),
        sid: input.grant.sid.to_string(),
        // The access token says what the sign-in reached (the API reads it); the ID token says
        // which of the app's preferred classes was met.
        acr: acr::stated(asked.acr.as_deref(), &input.grant.amr),
        amr: &input.grant.amr,
        profile: ProfileClaims::release(input.account, input.scope, &asked.id_token),
    };
    let id_token = keys.sign_with(input.id_token_alg, "JWT", &id)?;
    Ok(IssuedTokens {
        access_token,
        id_token: Some(id_token),
    })
}

/// A client's own access token from the client_credentials grant: no user, no grant.
pub fn mint_client_token(
    keys: &KeyRing,
    issuer: &str,
    client_id: &str,
    scope: &str,
    now: i64,
    ttl: i64,
) -> Result<String, KeyError> {
    let claims = AccessTokenClaims {
        iss: issuer.to_owned(),
        sub: client_id.to_owned(),
        aud: issuer.to_owned(),
        exp: now + ttl,
        iat: now,
        jti: crypto::random_token(),
        client_id: client_id.to_owned(),
        scope: scope.to_owned(),
        auth_time: None,
        sid: None,
        gid: None,
        roles: None,
        groups: None,
        acr: None,
    };
    keys.sign("at+jwt", &claims)
}

/// An access token that verified and is still live.
pub struct LiveAccessToken {
    pub claims: AccessTokenClaims,
    /// The signed-in user, for tokens issued to a person (None for client_credentials tokens).
    pub user: Option<UserinfoRow>,
}

/// Why an access token is not live, in words safe to show the bearer.
pub enum AccessTokenProblem {
    Invalid(&'static str),
    Store(StoreError),
}

impl From<StoreError> for AccessTokenProblem {
    fn from(e: StoreError) -> Self {
        AccessTokenProblem::Store(e)
    }
}

/// Verifies signature, type, issuer and expiry, then checks in the database that neither the
/// token, its grant nor its user has been revoked or disabled.
pub async fn validate_access_token(
    app: &AppState,
    token: &str,
) -> Result<LiveAccessToken, AccessTokenProblem> {
    let claims: AccessTokenClaims = app
        .keys
        .verify(token, "at+jwt")
        .map_err(|_| AccessTokenProblem::Invalid("token is invalid"))?;
    if claims.iss != app.config.issuer {
        return Err(AccessTokenProblem::Invalid(
            "token was issued by another issuer",
        ));
    }
    if claims.exp <= app.clock.now() {
        return Err(AccessTokenProblem::Invalid("token has expired"));
    }
    let user = match claims.gid {
        Some(grant_id) => {
            let row = app
                .store
                .find_userinfo(grant_id, &claims.jti)
                .await?
                .filter(|row| row.account.account_id.to_string() == claims.sub)
                .ok_or(AccessTokenProblem::Invalid("token has been revoked"))?;
            Some(row)
        }
        None => {
            if app.store.is_access_token_revoked(&claims.jti).await? {
                return Err(AccessTokenProblem::Invalid("token has been revoked"));
            }
            None
        }
    };
    Ok(LiveAccessToken { claims, user })
}
