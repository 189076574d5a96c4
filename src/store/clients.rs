use uuid::Uuid;

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
}

/// A registered relying party. `secret_hash` is SHA-256 of a 256-bit random secret.
#[derive(Clone)]
pub struct ClientRow {
    pub client_id: Uuid,
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub skip_consent: bool,
    pub created_at: i64,
    pub updated_at: i64,
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
        self.token_endpoint_auth_method == "none"
    }

    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
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
            grant_types: decode_string_list("client.grant_types", &r.grant_types)?,
            token_endpoint_auth_method: r.token_endpoint_auth_method,
            skip_consent: r.skip_consent,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub struct NewClient {
    pub name: String,
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub skip_consent: bool,
}

impl Store {
    pub async fn insert_client(&self, new: NewClient, now: i64) -> Result<ClientRow, StoreError> {
        const SQL: &str = "insert into client (client_id, name, secret_hash, redirect_uris, \
            post_logout_redirect_uris, grant_types, token_endpoint_auth_method, skip_consent, created_at, updated_at) \
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
        let client_id = Uuid::new_v4();
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(client_id)
            .bind(&new.name)
            .bind(&new.secret_hash)
            .bind(encode_string_list(&new.redirect_uris))
            .bind(encode_string_list(&new.post_logout_redirect_uris))
            .bind(encode_string_list(&new.grant_types))
            .bind(&new.token_endpoint_auth_method)
            .bind(new.skip_consent)
            .bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        self.find_client(client_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn find_client(&self, client_id: Uuid) -> Result<Option<ClientRow>, StoreError> {
        const SQL: &str = "select client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, \
            grant_types, token_endpoint_auth_method, skip_consent, created_at, updated_at \
            from client where client_id = $1";
        let record = on_pool!(self, pool => sqlx::query_as::<_, ClientRecord>(SQL)
            .bind(client_id).fetch_optional(pool).await)?;
        record.map(ClientRow::try_from).transpose()
    }
}
