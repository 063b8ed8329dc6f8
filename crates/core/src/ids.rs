//! Identifier generation. Randomness is injected so tests can be deterministic.

use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// A source of random bytes for ids and secrets.
pub trait IdSource: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]);

    /// `len` lowercase hex characters.
    fn hex(&self, len: usize) -> String {
        let mut bytes = vec![0u8; len.div_ceil(2)];
        self.fill(&mut bytes);
        let mut s = hex::encode(bytes);
        s.truncate(len);
        s
    }

    /// `len` characters from `alphabet`.
    fn chars(&self, alphabet: &[u8], len: usize) -> String {
        let mut bytes = vec![0u8; len];
        self.fill(&mut bytes);
        bytes
            .iter()
            .map(|b| alphabet[*b as usize % alphabet.len()] as char)
            .collect()
    }

    /// `len` decimal digits, the first one non-zero.
    fn digits(&self, len: usize) -> String {
        let mut s = self.chars(b"0123456789", len);
        if s.starts_with('0') {
            s.replace_range(0..1, "1");
        }
        s
    }
}

/// Operating-system randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn fill(&self, buf: &mut [u8]) {
        rand::thread_rng().fill(buf);
    }
}

/// A deterministic sequence for tests.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn fill(&self, buf: &mut [u8]) {
        let mut n = self.0.fetch_add(1, Ordering::SeqCst);
        for b in buf.iter_mut().rev() {
            *b = n as u8;
            n >>= 8;
        }
    }
}

pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_has_requested_length() {
        let ids = RandomIds;
        assert_eq!(ids.hex(16).len(), 16);
        assert_eq!(ids.hex(15).len(), 15);
        assert!(ids.hex(32).chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn digits_never_start_with_zero() {
        let ids = SequentialIds::default();
        for _ in 0..20 {
            let d = ids.digits(16);
            assert_eq!(d.len(), 16);
            assert!(!d.starts_with('0'));
        }
    }
}
