//! The UserInfo endpoint (OIDC Core §5.3), a protected resource under RFC 6750.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{BearerError, OAuthError};
use super::jwt::{AccessTokenProblem, ProfileClaims, validate_access_token};
use super::scopes::{ClaimsRequest, Scope, ScopeSet};
use crate::http::form_params;
use crate::state::AppState;

#[derive(Serialize)]
struct UserinfoResponse {
    sub: String,
    #[serde(flatten)]
    profile: ProfileClaims,
}

fn bearer_from_header(headers: &HeaderMap) -> Result<Option<String>, BearerError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| OAuthError::invalid_request("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(OAuthError::invalid_request("Authorization must use the Bearer scheme").into()),
    }
}

pub async fn get_userinfo(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, BearerError> {
    let token = bearer_from_header(&headers)?.ok_or(BearerError::Missing)?;
    userinfo(&app, &token).await
}

pub async fn post_userinfo(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, BearerError> {
    let from_header = bearer_from_header(&headers)?;
    let from_body = if body.is_empty() {
        None
    } else {
        form_params(&headers, &body)
            .map_err(OAuthError::invalid_request)?
            .get("access_token")
            .map(str::to_owned)
    };
    let token = match (from_header, from_body) {
        (Some(_), Some(_)) => {
            return Err(
                OAuthError::invalid_request("send the access token in one place only").into(),
            );
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Err(BearerError::Missing),
    };
    userinfo(&app, &token).await
}

async fn userinfo(app: &AppState, token: &str) -> Result<Response, BearerError> {
    let live = validate_access_token(app, token)
        .await
        .map_err(|problem| match problem {
            AccessTokenProblem::Invalid(why) => BearerError::from(OAuthError::invalid_token(why)),
            AccessTokenProblem::Store(e) => e.into(),
        })?;
    let row = live
        .user
        .ok_or_else(|| OAuthError::invalid_token("token does not represent a user"))?;
    let claims = live.claims;
    if !ScopeSet::parse(&claims.scope).contains(Scope::Openid) {
        return Err(OAuthError::insufficient_scope("the openid scope is required").into());
    }
    let body = UserinfoResponse {
        sub: claims.sub,
        profile: ProfileClaims::release(
            &row.account,
            &claims.scope,
            &ClaimsRequest::from_json(&row.claims).userinfo,
        ),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
