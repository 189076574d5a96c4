//! The form body of an OAuth endpoint, refused with the endpoint's own error (`invalid_request`).

use axum::extract::{FromRequest, Request};

use super::error::OAuthError;
use crate::http::{Controls, Params, read_form};

/// Form parameters of a back-channel request (token, PAR, revocation, introspection, device
/// authorization, userinfo): no control characters, each at most once.
pub struct OAuthForm(pub Params);

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, OAuthError> {
        read_form(request, state, Controls::None)
            .await
            .map(OAuthForm)
            .map_err(|m| OAuthError::invalid_request(m.in_lang(crate::i18n::Lang::ENGLISH)))
    }
}
