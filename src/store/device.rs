//! Device authorization grant (RFC 8628) state.

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub user_code: String,
    pub client_id: Option<Uuid>,
    /// A QR sign-in started from this app's sign-in page (its `client_id` is none).
    pub for_client_id: Option<Uuid>,
    pub scope: String,
    pub expires_at: i64,
    pub poll_interval: i64,
    pub status: String,
    pub account_id: Option<Uuid>,
    pub sid: Option<Uuid>,
    pub auth_time: Option<i64>,
    pub amr: Option<String>,
    /// The computer that started a QR sign-in: its address and User-Agent.
    pub requester_ip: Option<String>,
    pub requester_agent: Option<String>,
    pub created_at: i64,
    /// The approving account's credential version at approval.
    pub approved_version: Option<i64>,
}

pub struct NewDevice<'a> {
    pub device_code_hash: &'a [u8],
    pub user_code: &'a str,
    pub client_id: Option<Uuid>,
    pub for_client_id: Option<Uuid>,
    pub scope: &'a str,
    pub expires_at: i64,
    pub poll_interval: i64,
    /// The requesting computer of a QR sign-in (None for a device of an app).
    pub requester: Option<(&'a str, &'a str)>,
}

/// Who approved a device request, recorded so the grant can carry the same session facts.
pub struct DeviceApproval {
    pub account_id: Uuid,
    pub sid: Uuid,
    pub auth_time: i64,
    pub amr: String,
    pub credential_version: i64,
}

/// The answer to one poll of a device code.
#[derive(Debug)]
pub enum DevicePoll {
    Unknown,
    Expired,
    SlowDown,
    Pending,
    Denied,
    /// Approved and now consumed: the caller issues tokens (or a session) exactly once.
    Approved(Box<DeviceRow>),
}

const COLUMNS: &str = "user_code, client_id, for_client_id, scope, expires_at, poll_interval, status, account_id, \
    sid, auth_time, amr, requester_ip, requester_agent, created_at, approved_version";

impl Store {
    pub async fn insert_device(&self, new: NewDevice<'_>, now: i64) -> Result<(), StoreError> {
        const SQL: &str = "insert into device_authorization (device_code_hash, user_code, client_id, scope, \
            created_at, expires_at, poll_interval, status, for_client_id, requester_ip, requester_agent) \
            values ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10)";
        let (ip, agent) = new.requester.unzip();
        on_pool!(self, pool => sqlx::query(SQL).bind(new.device_code_hash).bind(new.user_code).bind(new.client_id)
            .bind(new.scope).bind(now).bind(new.expires_at).bind(new.poll_interval).bind(new.for_client_id)
            .bind(ip).bind(agent).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A pending, unexpired request by its user code.
    pub async fn find_pending_device(
        &self,
        user_code: &str,
        now: i64,
    ) -> Result<Option<DeviceRow>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from device_authorization where user_code = $1 and status = 'pending' and expires_at > $2"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, DeviceRow>(&sql)
            .bind(user_code).bind(now).fetch_optional(pool).await)?)
    }

    /// Approves (with who approved) or denies a pending request; false if it was no longer pending.
    pub async fn decide_device(
        &self,
        user_code: &str,
        approval: Option<DeviceApproval>,
        now: i64,
    ) -> Result<bool, StoreError> {
        const APPROVE: &str = "update device_authorization set status = 'approved', account_id = $3, sid = $4, \
            auth_time = $5, amr = $6, approved_version = $7 where user_code = $1 and status = 'pending' and expires_at > $2";
        const DENY: &str = "update device_authorization set status = 'denied' \
            where user_code = $1 and status = 'pending' and expires_at > $2";
        let n = match approval {
            Some(a) => {
                on_pool!(self, pool => sqlx::query(APPROVE).bind(user_code).bind(now).bind(a.account_id)
                .bind(a.sid).bind(a.auth_time).bind(&a.amr).bind(a.credential_version).execute(pool).await.map(|r| r.rows_affected()))?
            }
            None => on_pool!(self, pool => sqlx::query(DENY).bind(user_code).bind(now)
                .execute(pool).await.map(|r| r.rows_affected()))?,
        };
        Ok(n == 1)
    }

    /// One poll: enforces the polling interval (slow_down adds 5 s, RFC 8628 §3.5) and hands out an
    /// approval exactly once.
    /// `client_id` is the polling client (None for the QR sign-in); another's code is Unknown.
    pub async fn poll_device(
        &self,
        device_code_hash: &[u8],
        client_id: Option<Uuid>,
        now: i64,
    ) -> Result<DevicePoll, StoreError> {
        let sql = format!("select {COLUMNS} from device_authorization where device_code_hash = $1");
        let Some(row) = on_pool!(self, pool => sqlx::query_as::<_, DeviceRow>(&sql)
            .bind(device_code_hash).fetch_optional(pool).await)?
        else {
            return Ok(DevicePoll::Unknown);
        };
        if row.client_id != client_id {
            return Ok(DevicePoll::Unknown);
        }
        if row.expires_at <= now {
            return Ok(DevicePoll::Expired);
        }
        if row.status == "approved" {
            const CONSUME: &str = "update device_authorization set status = 'consumed' \
                where device_code_hash = $1 and status = 'approved'";
            let n = on_pool!(self, pool => sqlx::query(CONSUME).bind(device_code_hash)
                .execute(pool).await.map(|r| r.rows_affected()))?;
            return Ok(if n == 1 {
                DevicePoll::Approved(Box::new(row))
            } else {
                DevicePoll::Unknown
            });
        }
        const PACED: &str = "update device_authorization set last_polled_at = $2 where device_code_hash = $1 \
            and (last_polled_at is null or last_polled_at + poll_interval <= $2)";
        const SLOW_DOWN: &str = "update device_authorization set poll_interval = poll_interval + 5, \
            last_polled_at = $2 where device_code_hash = $1";
        let paced = on_pool!(self, pool => sqlx::query(PACED).bind(device_code_hash).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        if paced == 0 {
            on_pool!(self, pool => sqlx::query(SLOW_DOWN).bind(device_code_hash).bind(now)
                .execute(pool).await.map(|r| r.rows_affected()))?;
            return Ok(DevicePoll::SlowDown);
        }
        Ok(match row.status.as_str() {
            "pending" => DevicePoll::Pending,
            "denied" => DevicePoll::Denied,
            _ => DevicePoll::Unknown,
        })
    }
}
