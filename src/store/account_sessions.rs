//! What an account's owner sees of it: its browser sessions, the apps it allowed, and its recent
//! sign-ins.

use uuid::Uuid;

use super::accounts::ACCOUNT_COLUMNS;
use super::{AccountRow, Store, StoreError, on_pool};

/// One signed-in browser of an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrowserSessionRow {
    pub sid: Uuid,
    pub method: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub struct NewBrowserSession<'a> {
    pub sid: Uuid,
    pub account_id: Uuid,
    /// `password`, `qr`, `invitation`, `reset`.
    pub method: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub expires_at: i64,
}

/// An app an account allowed: its consent and live grants.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectedAppRow {
    pub client_id: Uuid,
    pub name: String,
    /// The consented scopes, or the granted ones of an app that skips consent.
    pub scope: String,
    pub since: i64,
    pub live_grants: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignInEventRow {
    pub at: i64,
    pub result: String,
    pub method: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct NewSignInEvent<'a> {
    pub account_id: Uuid,
    /// `succeeded`, `failed`, `locked`.
    pub result: &'a str,
    pub method: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

impl Store {
    pub async fn insert_browser_session(
        &self,
        new: &NewBrowserSession<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into browser_session (sid, account_id, method, ip, user_agent, created_at, \
            last_seen_at, expires_at) values ($1, $2, $3, $4, $5, $6, $6, $7)";
        on_pool!(self, pool => sqlx::query(SQL).bind(new.sid).bind(new.account_id).bind(new.method)
            .bind(new.ip).bind(new.user_agent).bind(now).bind(new.expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The account of a browser session that has not been ended; one query for every page.
    pub async fn find_session_account(&self, sid: Uuid) -> Result<Option<AccountRow>, StoreError> {
        let columns = ACCOUNT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "select {columns} from browser_session s join account a on a.account_id = s.account_id \
             where s.sid = $1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, AccountRow>(&sql)
            .bind(sid).fetch_optional(pool).await)?)
    }

    /// Activity and the lifetime a session now has (a remembered one is extended).
    pub async fn touch_browser_session(
        &self,
        sid: Uuid,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "update browser_session set last_seen_at = $2, expires_at = $3 where sid = $1";
        on_pool!(self, pool => sqlx::query(SQL).bind(sid).bind(now).bind(expires_at)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The account's sessions, most recently used first.
    pub async fn list_browser_sessions(
        &self,
        account_id: Uuid,
        now: i64,
    ) -> Result<Vec<BrowserSessionRow>, StoreError> {
        const SQL: &str = "select sid, method, ip, user_agent, created_at, last_seen_at from browser_session \
            where account_id = $1 and expires_at > $2 order by last_seen_at desc limit 100";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, BrowserSessionRow>(SQL)
            .bind(account_id).bind(now).fetch_all(pool).await)?,
        )
    }

    /// Ends sessions of an account: one (`only`), or all but `keep`. Returns the ended ones.
    pub async fn end_browser_sessions(
        &self,
        account_id: Uuid,
        only: Option<Uuid>,
        keep: Option<Uuid>,
    ) -> Result<Vec<Uuid>, StoreError> {
        const SQL: &str = "delete from browser_session where account_id = $1 \
            and ($2 is null or sid = $2) and ($3 is null or sid <> $3) returning sid";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, Uuid>(SQL)
            .bind(account_id).bind(only).bind(keep).fetch_all(pool).await)?)
    }

    pub async fn record_sign_in(
        &self,
        event: &NewSignInEvent<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into sign_in_event (event_id, account_id, at, result, method, ip, user_agent) \
            values ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, pool => sqlx::query(SQL).bind(Uuid::now_v7()).bind(event.account_id).bind(now)
            .bind(event.result).bind(event.method).bind(event.ip).bind(event.user_agent)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn recent_sign_ins(
        &self,
        account_id: Uuid,
        limit: i64,
    ) -> Result<Vec<SignInEventRow>, StoreError> {
        const SQL: &str = "select at, result, method, ip, user_agent from sign_in_event \
            where account_id = $1 order by at desc, event_id desc limit $2";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, SignInEventRow>(SQL)
            .bind(account_id).bind(limit).fetch_all(pool).await)?,
        )
    }

    /// The apps an account signed in to: those it consented to, and those with live grants.
    pub async fn connected_apps(
        &self,
        account_id: Uuid,
    ) -> Result<Vec<ConnectedAppRow>, StoreError> {
        const SQL: &str = "select c.client_id, c.name, \
              coalesce(cs.scope, (select g.scope from oauth_grant g where g.account_id = $1 \
                  and g.client_id = c.client_id and g.revoked_at is null order by g.created_at desc limit 1)) as scope, \
              coalesce(cs.created_at, (select min(g.created_at) from oauth_grant g where g.account_id = $1 \
                  and g.client_id = c.client_id and g.revoked_at is null)) as since, \
              (select count(*) from oauth_grant g where g.account_id = $1 and g.client_id = c.client_id \
                  and g.revoked_at is null) as live_grants \
            from client c left join consent cs on cs.client_id = c.client_id and cs.account_id = $1 \
            where cs.account_id is not null or exists (select 1 from oauth_grant g where g.account_id = $1 \
                and g.client_id = c.client_id and g.revoked_at is null) \
            order by c.name";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, ConnectedAppRow>(SQL)
            .bind(account_id).fetch_all(pool).await)?,
        )
    }

    /// Takes back what an app was allowed: its consent goes, and every grant (refresh tokens
    /// included) is revoked. Returns the revoked grants, for their logout tokens.
    pub async fn revoke_app(
        &self,
        account_id: Uuid,
        client_id: Uuid,
        now: i64,
    ) -> Result<Vec<super::GrantRow>, StoreError> {
        let grants: Vec<super::GrantRow> = self
            .live_grants_for_account(account_id)
            .await?
            .into_iter()
            .filter(|g| g.client_id == client_id)
            .collect();
        const CONSENT: &str = "delete from consent where account_id = $1 and client_id = $2";
        const GRANTS: &str = "update oauth_grant set revoked_at = $3 \
            where account_id = $1 and client_id = $2 and revoked_at is null";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(CONSENT).bind(account_id).bind(client_id).execute(&mut *tx).await?;
            sqlx::query(GRANTS).bind(account_id).bind(client_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.cache.invalidate();
        Ok(grants)
    }
}
