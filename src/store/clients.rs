use uuid::Uuid;

use crate::domain::{AuthMethod, GrantType, ScopeSet};

use super::{Store, StoreError, decode_string_list, encode_string_list, on_pool};

#[derive(sqlx::FromRow)]
struct ClientRecord {
    client_id: Uuid,
    name: String,
    secret_hash: Option<Vec<u8>>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    token_endpoint_auth_method: String,
    skip_consent: bool,
    created_at: i64,
    updated_at: i64,
    backchannel_logout_uri: Option<String>,
    frontchannel_logout_uri: Option<String>,
    jwks: Option<String>,
    jwks_uri: Option<String>,
    require_par: bool,
    id_token_alg: String,
    secret_encrypted: Option<Vec<u8>>,
    api_roles: String,
    allowed_scopes: String,
    require_mfa: bool,
}

/// A registered relying party. `secret_hash` is SHA-256 of a 256-bit random secret.
#[derive(Clone)]
pub struct ClientRow {
    pub client_id: Uuid,
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub token_endpoint_auth_method: AuthMethod,
    pub skip_consent: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub settings: ClientSettings,
}

/// Settings an operator may change after registration (besides name, URIs and grants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    /// Inline JWKS (JSON text) for private_key_jwt.
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub require_par: bool,
    /// RS256 (default) or ES256.
    pub id_token_alg: String,
    /// The secret itself, sealed, kept only for client_secret_jwt clients.
    pub secret_encrypted: Option<Vec<u8>>,
    /// Roles the client holds itself at /api/v1 with client_credentials tokens (e.g. `admin`).
    pub api_roles: Vec<String>,
    /// The scopes the client may obtain for a person; anything else it asks for is dropped.
    pub allowed_scopes: ScopeSet,
    /// Everyone signing in to this app uses a second factor.
    pub require_mfa: bool,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            jwks: None,
            jwks_uri: None,
            require_par: false,
            id_token_alg: "RS256".into(),
            secret_encrypted: None,
            api_roles: Vec::new(),
            require_mfa: false,
            allowed_scopes: ScopeSet::CLIENT_DEFAULT,
        }
    }
}

impl std::fmt::Debug for ClientRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRow")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ClientRow {
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == AuthMethod::None
    }

    pub fn allows_grant(&self, grant_type: GrantType) -> bool {
        self.grant_types.contains(&grant_type)
    }
}

fn decode_grants(raw: &str) -> Result<Vec<GrantType>, StoreError> {
    decode_string_list("client.grant_types", raw)?
        .iter()
        .map(|name| {
            GrantType::from_name(name)
                .ok_or_else(|| StoreError::Corrupt(format!("client.grant_types: {name:?}")))
        })
        .collect()
}

fn encode_grants(grants: &[GrantType]) -> String {
    serde_json::Value::from(grants.iter().map(|g| g.as_str()).collect::<Vec<_>>()).to_string()
}

impl TryFrom<ClientRecord> for ClientRow {
    type Error = StoreError;
    fn try_from(r: ClientRecord) -> Result<Self, StoreError> {
        Ok(ClientRow {
            client_id: r.client_id,
            name: r.name,
            secret_hash: r.secret_hash,
            redirect_uris: decode_string_list("client.redirect_uris", &r.redirect_uris)?,
            post_logout_redirect_uris: decode_string_list(
                "client.post_logout_redirect_uris",
                &r.post_logout_redirect_uris,
            )?,
            grant_types: decode_grants(&r.grant_types)?,
            token_endpoint_auth_method: AuthMethod::from_name(&r.token_endpoint_auth_method)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "client.token_endpoint_auth_method: {:?}",
                        r.token_endpoint_auth_method
                    ))
                })?,
            skip_consent: r.skip_consent,
            created_at: r.created_at,
            updated_at: r.updated_at,
            settings: ClientSettings {
                backchannel_logout_uri: r.backchannel_logout_uri,
                frontchannel_logout_uri: r.frontchannel_logout_uri,
                jwks: r.jwks,
                jwks_uri: r.jwks_uri,
                require_par: r.require_par,
                id_token_alg: r.id_token_alg,
                secret_encrypted: r.secret_encrypted,
                api_roles: decode_string_list("client.api_roles", &r.api_roles)?,
                // Names no longer known are dropped rather than failing every request.
                allowed_scopes: ScopeSet::parse(
                    &decode_string_list("client.allowed_scopes", &r.allowed_scopes)?.join(" "),
                ),
                require_mfa: r.require_mfa,
            },
        })
    }
}

pub struct NewClient {
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub token_endpoint_auth_method: AuthMethod,
    pub skip_consent: bool,
    pub settings: ClientSettings,
}

const CLIENT_COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
    grant_types, token_endpoint_auth_method, skip_consent, created_at, updated_at, backchannel_logout_uri, \
    frontchannel_logout_uri, jwks, jwks_uri, require_par, id_token_alg, secret_encrypted, api_roles, allowed_scopes, require_mfa";

/// Binds a client's nineteen values in `CLIENT_COLUMNS` order (`created_at` and `updated_at`
/// share `$9`), from a `NewClient` or a `ClientRow`: an insert and an update bind the same list.
macro_rules! bind_client {
    ($query:expr, $client_id:expr, $client:expr, $now:expr) => {{
        let c = $client;
        let s = &c.settings;
        $query
            .bind($client_id)
            .bind(&c.name)
            .bind(&c.secret_hash)
            .bind(encode_string_list(&c.redirect_uris))
            .bind(encode_string_list(&c.post_logout_redirect_uris))
            .bind(encode_grants(&c.grant_types))
            .bind(c.token_endpoint_auth_method.as_str())
            .bind(c.skip_consent)
            .bind($now)
            .bind(&s.backchannel_logout_uri)
            .bind(&s.frontchannel_logout_uri)
            .bind(&s.jwks)
            .bind(&s.jwks_uri)
            .bind(s.require_par)
            .bind(&s.id_token_alg)
            .bind(&s.secret_encrypted)
            .bind(encode_string_list(&s.api_roles))
            .bind(encode_string_list(&s.allowed_scopes.names()))
            .bind(s.require_mfa)
    }};
}

impl Store {
    pub async fn insert_client(&self, new: NewClient, now: i64) -> Result<ClientRow, StoreError> {
        let sql = format!(
            "insert into client ({CLIENT_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        );
        let client_id = Uuid::new_v4();
        on_pool!(self, pool => bind_client!(sqlx::query(&sql), client_id, &new, now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        self.find_client(client_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Replaces every setting of a client but its id and creation time.
    pub async fn update_client(
        &self,
        client: &ClientRow,
        now: i64,
    ) -> Result<ClientRow, StoreError> {
        const SQL: &str = "update client set name = $2, secret_hash = $3, redirect_uris = $4, \
            post_logout_redirect_uris = $5, grant_types = $6, token_endpoint_auth_method = $7, \
            skip_consent = $8, updated_at = $9, backchannel_logout_uri = $10, frontchannel_logout_uri = $11, \
            jwks = $12, jwks_uri = $13, require_par = $14, id_token_alg = $15, secret_encrypted = $16, \
            api_roles = $17, allowed_scopes = $18, require_mfa = $19 where client_id = $1";
        let updated = on_pool!(self, pool => bind_client!(sqlx::query(SQL), client.client_id, client, now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        self.cache.invalidate();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        self.find_client(client.client_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One page of clients by name, with the total count.
    pub async fn list_clients(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ClientRow>, i64), StoreError> {
        const COUNT: &str = "select count(*) from client";
        let sql = format!(
            "select {CLIENT_COLUMNS} from client order by lower(name), client_id limit $1 offset $2"
        );
        let (records, total) = on_pool!(self, pool => {
            let total = sqlx::query_scalar::<_, i64>(COUNT).fetch_one(pool).await?;
            let records = sqlx::query_as::<_, ClientRecord>(&sql).bind(limit).bind(offset).fetch_all(pool).await?;
            (records, total)
        });
        let rows = records
            .into_iter()
            .map(ClientRow::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
    }

    /// Deletes a client; its grants, codes and tokens go with it by cascade.
    pub async fn delete_client(&self, client_id: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "delete from client where client_id = $1";
        let deleted = on_pool!(self, pool => sqlx::query(SQL).bind(client_id).execute(pool).await
            .map(|r| r.rows_affected()))?;
        self.cache.invalidate();
        if deleted == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Every token request reads its client, so live clients are served from the read cache.
    pub async fn find_client(&self, client_id: Uuid) -> Result<Option<ClientRow>, StoreError> {
        if let Some(row) = self.cache.client(client_id) {
            return Ok(Some(row));
        }
        let ticket = self.cache.ticket();
        let sql = format!("select {CLIENT_COLUMNS} from client where client_id = $1");
        let record = on_pool!(self, pool => sqlx::query_as::<_, ClientRecord>(&sql)
            .bind(client_id).fetch_optional(pool).await)?;
        let row = record.map(ClientRow::try_from).transpose()?;
        if let Some(row) = &row {
            self.cache.store_client(ticket, row);
        }
        Ok(row)
    }
}
