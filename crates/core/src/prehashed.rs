//! Sets and maps whose `u64` keys are already keyed hashes (a `RandomState` hash of what
//! they stand for): hashing them again with SipHash only cost time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

pub type PrehashedSet = HashSet<u64, BuildHasherDefault<Prehashed>>;
pub type PrehashedMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// Passes a `u64` key through as its own hash.
#[derive(Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are meant to reach here (`write_u64`); anything else still hashes.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_their_own_hash_and_behave_as_in_any_set() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<Prehashed>::default();
        assert_eq!(build.hash_one(0xdead_beef_u64), 0xdead_beef);
        let mut set = PrehashedSet::default();
        assert!(set.insert(7));
        assert!(!set.insert(7));
        assert!(set.contains(&7) && !set.contains(&8));
        assert!(set.remove(&7) && set.is_empty());
    }
}
