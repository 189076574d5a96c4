//! Which accounts hold an invitation that still works, so that a bulk invitation can leave them
//! be rather than end the link they were mailed minutes ago.

use std::collections::HashSet;

use uuid::Uuid;

use super::{Store, StoreError, on_pool};

impl Store {
    /// The accounts with an unspent, unexpired invitation link. One short read by the links'
    /// expiry index; a directory's worth of ids (16 bytes each) fits in memory.
    pub async fn accounts_with_live_invitation(
        &self,
        now: i64,
    ) -> Result<HashSet<Uuid>, StoreError> {
        const SQL: &str = "select distinct account_id from account_link \
            where purpose = $1 and used_at is null and expires_at > $2";
        let ids = on_pool!(self, pool => sqlx::query_scalar::<_, Uuid>(SQL)
            .bind(super::LinkPurpose::Invitation.as_str()).bind(now).fetch_all(pool).await)?;
        Ok(ids.into_iter().collect())
    }
}
