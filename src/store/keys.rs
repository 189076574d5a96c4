use uuid::Uuid;

use super::{Store, StoreError, on_pool};

/// A signing key as stored: the private part is AES-256-GCM encrypted under the secret key.
#[derive(Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub key_id: Uuid,
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub private_key_encrypted: Vec<u8>,
    pub created_at: i64,
    pub activates_at: i64,
    pub expires_at: Option<i64>,
}

impl Store {
    pub async fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError> {
        const SQL: &str = "insert into signing_key (key_id, kid, alg, public_jwk, private_key_encrypted, \
            created_at, activates_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(key.key_id)
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.public_jwk)
            .bind(&key.private_key_encrypted)
            .bind(key.created_at)
            .bind(key.activates_at)
            .bind(key.expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Keys still published at `now`: keys not scheduled for retirement first, then newest activation.
    pub async fn list_published_keys(&self, now: i64) -> Result<Vec<SigningKeyRow>, StoreError> {
        const SQL: &str = "select key_id, kid, alg, public_jwk, private_key_encrypted, created_at, \
            activates_at, expires_at from signing_key where expires_at is null or expires_at > $1 \
            order by case when expires_at is null then 0 else 1 end, activates_at desc, created_at desc, key_id";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, SigningKeyRow>(SQL)
            .bind(now).fetch_all(pool).await)?,
        )
    }

    /// Schedules the end of publication for every key activated by `before` that has none yet
    /// (called before the replacing key is inserted).
    pub async fn schedule_key_expiry(
        &self,
        before: i64,
        expires_at: i64,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "update signing_key set expires_at = $2 where activates_at <= $1 and expires_at is null";
        Ok(
            on_pool!(self, pool => sqlx::query(SQL).bind(before).bind(expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?,
        )
    }
}

impl Store {
    /// Takes the named lease until `until` if nobody holds it at `now`: one replica wins.
    pub async fn take_lease(&self, name: &str, now: i64, until: i64) -> Result<bool, StoreError> {
        const SQL: &str =
            "update maintenance_lease set held_until = $3 where name = $1 and held_until <= $2";
        let n = on_pool!(self, pool => sqlx::query(SQL).bind(name).bind(now).bind(until)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
