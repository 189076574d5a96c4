//! An in-memory copy of the rows every token and userinfo request reads (clients; a live grant
//! with its account), so those requests skip the PostgreSQL round trip.
//!
//! It is correct across replicas because PostgreSQL tells every replica of every change:
//! statement-level triggers on the tables behind these rows `NOTIFY hccc_sso_invalidate`
//! (migration 0004), whoever writes (a replica, the CLI, an operator's SQL), and each replica
//! empties its cache on every notification. The replica that writes also empties it at once,
//! so its own next request never sees the old row. The cache serves only while the replica is
//! listening: when the LISTEN connection drops, everything cached is dropped and reads go to the
//! database until it listens again. A generation counter keeps a read that raced with a change
//! from storing the row it read before the change. Entries also expire after `ENTRY_TTL`, which
//! bounds staleness should a notification ever be missed without the connection dropping.
//!
//! SQLite has no cache: its reads are in-process, and a CLI process writing the same file could
//! not tell the server.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{ClientRow, UserinfoRow};

/// The PostgreSQL channel the invalidation triggers notify.
pub const INVALIDATION_CHANNEL: &str = "hccc_sso_invalidate";
const ENTRY_TTL: Duration = Duration::from_secs(30);
/// A full map is emptied rather than evicted entry by entry: refilling costs one query a key.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct ReadCache {
    /// True while this replica listens for invalidations; nothing is served or stored otherwise.
    listening: AtomicBool,
    /// Bumped by every invalidation; a fill that started in an older generation is dropped.
    generation: AtomicU64,
    clients: Mutex<HashMap<Uuid, Entry<ClientRow>>>,
    userinfo: Mutex<HashMap<(Uuid, String), Entry<UserinfoRow>>>,
}

struct Entry<T> {
    stored_at: Instant,
    value: T,
}

/// Taken before the database read whose result may be stored.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl ReadCache {
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    pub fn client(&self, client_id: Uuid) -> Option<ClientRow> {
        count("client", self.get(&self.clients, &client_id))
    }

    pub fn store_client(&self, ticket: Ticket, row: &ClientRow) {
        self.put(&self.clients, ticket, row.client_id, row.clone());
    }

    pub fn userinfo(&self, grant_id: Uuid, jti: &str) -> Option<UserinfoRow> {
        count(
            "userinfo",
            self.get(&self.userinfo, &(grant_id, jti.to_owned())),
        )
    }

    pub fn store_userinfo(&self, ticket: Ticket, grant_id: Uuid, jti: &str, row: &UserinfoRow) {
        self.put(
            &self.userinfo,
            ticket,
            (grant_id, jti.to_owned()),
            row.clone(),
        );
    }

    /// Forgets everything: called for every notification and after every local write.
    pub fn invalidate(&self) {
        // Bump first: a fill holding the old ticket then fails its check under the map's lock,
        // whether it takes the lock before or after the clear below.
        self.generation.fetch_add(1, Ordering::AcqRel);
        lock(&self.clients).clear();
        lock(&self.userinfo).clear();
    }

    pub fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Release);
        self.invalidate();
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    fn get<K: Eq + Hash, T: Clone>(&self, map: &Mutex<HashMap<K, Entry<T>>>, key: &K) -> Option<T> {
        if !self.is_listening() {
            return None;
        }
        lock(map)
            .get(key)
            .filter(|entry| entry.stored_at.elapsed() < ENTRY_TTL)
            .map(|entry| entry.value.clone())
    }

    fn put<K: Eq + Hash, T>(
        &self,
        map: &Mutex<HashMap<K, Entry<T>>>,
        ticket: Ticket,
        key: K,
        value: T,
    ) {
        let mut map = lock(map);
        // Checked under the lock that `invalidate` clears under: see there.
        if !self.is_listening() || self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        let stored_at = Instant::now();
        map.insert(key, Entry { stored_at, value });
    }
}

/// `read_cache_lookups_total{rows, result}` on /metrics: hits, and misses that went to the database.
fn count<T>(rows: &'static str, found: Option<T>) -> Option<T> {
    let result = if found.is_some() { "hit" } else { "miss" };
    metrics::counter!("read_cache_lookups_total", "rows" => rows, "result" => result).increment(1);
    found
}

/// A panic while holding the lock cannot leave a map half-written (every operation is one call),
/// so a poisoned lock is still safe to use.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Map = Mutex<HashMap<u32, Entry<&'static str>>>;

    #[test]
    fn serves_nothing_until_listening_and_forgets_on_invalidate() {
        let cache = ReadCache::default();
        let map = Map::default();
        cache.put(&map, cache.ticket(), 1, "a");
        assert_eq!(cache.get(&map, &1), None, "stored while not listening");

        cache.set_listening(true);
        cache.put(&map, cache.ticket(), 1, "a");
        assert_eq!(cache.get(&map, &1), Some("a"));
        assert_eq!(cache.get(&map, &2), None);

        // `invalidate` clears the maps it owns; a stale ticket also keeps this one from refilling.
        let old = cache.ticket();
        cache.invalidate();
        cache.put(&map, old, 2, "b");
        assert_eq!(cache.get(&map, &2), None);

        cache.set_listening(false);
        assert_eq!(
            cache.get(&map, &1),
            None,
            "served after the listener dropped"
        );
    }

    #[test]
    fn a_full_map_starts_over_instead_of_growing() {
        let cache = ReadCache::default();
        cache.set_listening(true);
        let ticket = cache.ticket();
        let map = Map::default();
        cache.put(&map, ticket, 7, "x");
        for key in 100..100 + MAX_ENTRIES as u32 {
            cache.put(&map, ticket, key, "y");
        }
        assert!(lock(&map).len() <= MAX_ENTRIES);
        assert_eq!(
            cache.get(&map, &7),
            None,
            "the oldest fill survived a full map"
        );
        assert_eq!(cache.get(&map, &(99 + MAX_ENTRIES as u32)), Some("y"));
    }
}
