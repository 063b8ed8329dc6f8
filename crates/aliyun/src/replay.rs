//! Replay protection: a signature nonce is accepted once per access key within the
//! timestamp window. Kept in memory: a restart forgets, which the window bounds.
//!
//! Entries expire in the order they were added, so a queue beside the set drops them in
//! amortised O(1). Keys are 64-bit keyed hashes of (access key, nonce) to keep each entry
//! small; the set is capped, and past the cap the oldest entries go first.

use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::Mutex;

use cloudtwin_core::prehashed::PrehashedSet;

/// At ~40 bytes an entry, about 40 MiB at most.
const DEFAULT_CAPACITY: usize = 1_000_000;

pub struct NonceCache {
    window_ms: i64,
    capacity: usize,
    hasher: RandomState,
    state: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    keys: PrehashedSet,
    /// (expiry, key), oldest first.
    order: VecDeque<(i64, u64)>,
}

impl NonceCache {
    pub fn new(window_ms: i64) -> Self {
        Self::with_capacity(window_ms, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(window_ms: i64, capacity: usize) -> Self {
        Self {
            window_ms,
            capacity: capacity.max(1),
            hasher: RandomState::new(),
            state: Mutex::new(Seen::default()),
        }
    }

    /// Records the nonce; false if it was already used within the window.
    pub fn first_use(&self, access_key_id: &str, nonce: &str, now_ms: i64) -> bool {
        let key = self.hasher.hash_one((access_key_id, nonce));
        let mut seen = self.state.lock().expect("nonce cache lock");
        while let Some(&(expires, old)) = seen.order.front() {
            if expires > now_ms {
                break;
            }
            seen.order.pop_front();
            seen.keys.remove(&old);
        }
        if seen.keys.contains(&key) {
            return false;
        }
        if seen.order.len() >= self.capacity {
            if let Some((_, old)) = seen.order.pop_front() {
                seen.keys.remove(&old);
            }
        }
        seen.keys.insert(key);
        // Twice the window: a timestamp may be up to one window in the future.
        seen.order.push_back((now_ms + 2 * self.window_ms, key));
        true
    }
}

/// Each entry is kept for twice the window from its first use, which covers any
/// `expires_ms` the gateway asks for (a timestamp at most one window ahead, plus one).
#[async_trait::async_trait]
impl cloudtwin_core::NonceLedger for NonceCache {
    async fn first_use(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
        _expires_ms: i64,
    ) -> Result<bool, cloudtwin_core::LookupError> {
        Ok(NonceCache::first_use(self, access_key_id, nonce, now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_use_is_refused_until_it_expires() {
        let cache = NonceCache::new(1000);
        assert!(cache.first_use("ak", "n1", 0));
        assert!(!cache.first_use("ak", "n1", 10));
        assert!(cache.first_use("other", "n1", 10), "nonces are per key");
        assert!(cache.first_use("ak", "n1", 2001));
    }

    #[test]
    fn capacity_bounds_memory_oldest_first() {
        let cache = NonceCache::with_capacity(1000, 3);
        for n in ["a", "b", "c", "d"] {
            assert!(cache.first_use("ak", n, 0));
        }
        assert!(!cache.first_use("ak", "d", 0), "recent ones are kept");
        assert!(
            cache.first_use("ak", "a", 0),
            "the oldest was dropped at the cap"
        );
        assert!(cache.state.lock().unwrap().keys.len() <= 3);
    }
}
