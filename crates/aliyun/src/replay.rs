//! Replay protection: a signature nonce is accepted once per access key within the
//! timestamp window. Kept in memory: a restart forgets, which the window bounds.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct NonceCache {
    window_ms: i64,
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl NonceCache {
    pub fn new(window_ms: i64) -> Self {
        Self {
            window_ms,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Records the nonce; false if it was already used within the window.
    pub fn first_use(&self, access_key_id: &str, nonce: &str, now_ms: i64) -> bool {
        let mut seen = self.seen.lock().expect("nonce cache lock");
        if seen.len() > 100_000 {
            seen.retain(|_, expires| *expires > now_ms);
        }
        let key = (access_key_id.to_owned(), nonce.to_owned());
        match seen.get(&key) {
            Some(expires) if *expires > now_ms => false,
            _ => {
                seen.insert(key, now_ms + 2 * self.window_ms);
                true
            }
        }
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
}
