//! The protocol facts this provider implements, declared once: endpoint paths, grant types,
//! client authentication methods and the claims it can release. The router, discovery, client
//! validation and client authentication all read them from here.

/// Endpoint paths, relative to the issuer.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const JWKS: &str = "/jwks.json";
    pub const AUTHORIZE: &str = "/authorize";
    pub const AUTHORIZE_CONTINUE: &str = "/authorize/continue";
    pub const PAR: &str = "/par";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const INTROSPECT: &str = "/introspect";
    pub const REVOKE: &str = "/revoke";
    pub const END_SESSION: &str = "/logout";
    pub const DEVICE_AUTHORIZATION: &str = "/device_authorization";
    /// Where a person confirms a device's user code.
    pub const DEVICE: &str = "/device";
    /// A shared computer's QR sign-in page.
    pub const QR_LOGIN: &str = "/login/qr";
    /// The pages a parked authorization request waits at.
    pub const LOGIN: &str = "/login";
    pub const SECOND_FACTOR: &str = "/login/second-factor";
    pub const CONSENT: &str = "/consent";
    /// A sign-in's second step when the account must enrol an authenticator app first: its
    /// first code, and going on once the recovery codes were shown.
    pub const SECOND_FACTOR_ENROL: &str = "/login/second-factor/enrol";
    pub const SECOND_FACTOR_CONTINUE: &str = "/login/second-factor/continue";
    /// The home page, where a sign-in that no app asked for ends.
    pub const HOME: &str = "/";

    /// A page of the sign-in, for the parked authorization request `request` when there is one.
    pub fn with_request(page: &str, request: Option<impl std::fmt::Display>) -> String {
        match request {
            Some(id) => format!("{page}?request={id}"),
            None => page.to_owned(),
        }
    }

    /// The endpoints a client assertion may name as its audience (besides the issuer).
    pub const ASSERTION_AUDIENCES: [&str; 5] =
        [TOKEN, PAR, INTROSPECT, REVOKE, DEVICE_AUTHORIZATION];
}

/// Defines a closed set of protocol names: the enum, `ALL`, `as_str` and `from_name`.
macro_rules! protocol_names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn from_name(name: &str) -> Option<$name> {
                match name { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every name, for messages and discovery.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

protocol_names!(
    /// The grants of the token endpoint.
    GrantType {
        AuthorizationCode = "authorization_code",
        RefreshToken = "refresh_token",
        ClientCredentials = "client_credentials",
        /// RFC 8628.
        DeviceCode = "urn:ietf:params:oauth:grant-type:device_code",
        /// RFC 6749 §4.3: legacy, for scripts only, and only when an admin turns it on.
        Password = "password",
    }
);

protocol_names!(
    /// How a client authenticates at the token, PAR, introspection and revocation endpoints.
    AuthMethod {
        ClientSecretBasic = "client_secret_basic",
        ClientSecretPost = "client_secret_post",
        ClientSecretJwt = "client_secret_jwt",
        PrivateKeyJwt = "private_key_jwt",
        /// A public client (browser or native app): PKCE instead of a secret.
        None = "none",
    }
);

impl GrantType {
    /// The catalog key of the grant's name in words (the admin pages).
    pub fn key(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "grant-authorization-code",
            GrantType::RefreshToken => "grant-refresh-token",
            GrantType::ClientCredentials => "grant-client-credentials",
            GrantType::DeviceCode => "grant-device-code",
            GrantType::Password => "grant-password",
        }
    }
}

impl AuthMethod {
    /// The methods of confidential clients (introspection accepts only these).
    pub const CONFIDENTIAL: [AuthMethod; 4] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
    ];

    /// Whether the client has a shared secret we issue.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            AuthMethod::ClientSecretBasic
                | AuthMethod::ClientSecretPost
                | AuthMethod::ClientSecretJwt
        )
    }
}

/// Algorithms client assertions may be signed with (per method: RS256/ES256 for private_key_jwt,
/// HS256 for client_secret_jwt).
pub const ASSERTION_ALGS: [&str; 3] = ["RS256", "ES256", "HS256"];

/// The user claims we can release, by scope or one by one through the claims parameter.
pub const USER_CLAIMS: [&str; 10] = [
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "updated_at",
    "locale",
    "email",
    "email_verified",
    "roles",
    "groups",
];

/// The claims of an ID token besides the user's.
pub const ID_TOKEN_CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "sid",
    "acr",
    "amr",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for grant in GrantType::ALL {
            assert_eq!(GrantType::from_name(grant.as_str()), Some(*grant));
        }
        for method in AuthMethod::ALL {
            assert_eq!(AuthMethod::from_name(method.as_str()), Some(*method));
        }
        assert_eq!(GrantType::from_name("implicit"), None);
        assert!(!AuthMethod::CONFIDENTIAL.contains(&AuthMethod::None));
    }

    #[test]
    fn a_page_names_its_parked_request_only_when_there_is_one() {
        let id = uuid::Uuid::from_u128(7);
        assert_eq!(
            paths::with_request(paths::LOGIN, Some(id)),
            format!("/login?request={id}")
        );
        assert_eq!(
            paths::with_request(paths::LOGIN, None::<uuid::Uuid>),
            "/login"
        );
    }
}
