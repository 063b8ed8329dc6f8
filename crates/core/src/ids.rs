//! Identifier generation. Randomness is injected so tests can be deterministic.

use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// Lowercase hex of `bytes`, written in place: `hex::encode` collects its digits char by
/// char, ~20 instructions each, which showed in a create's profile (bench finding 86).
pub fn lower_hex(bytes: &[u8]) -> String {
    let mut digits = vec![0u8; bytes.len() * 2];
    hex::encode_to_slice(bytes, &mut digits).expect("two digits per byte");
    String::from_utf8(digits).expect("hex digits are ASCII")
}

/// A source of random bytes for ids and secrets.
pub trait IdSource: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]);

    /// `len` lowercase hex characters.
    fn hex(&self, len: usize) -> String {
        let mut bytes = vec![0u8; len.div_ceil(2)];
        self.fill(&mut bytes);
        let mut s = lower_hex(&bytes);
        s.truncate(len);
        s
    }

    /// `len` lowercase hex characters that roughly sort by creation time, for the ids that
    /// key stored rows (see [`RandomIds`]). A deterministic source keeps its own order.
    fn sortable_hex(&self, len: usize) -> String {
        self.hex(len)
    }

    /// `len` characters from `alphabet`, which is ASCII.
    fn chars(&self, alphabet: &[u8], len: usize) -> String {
        let mut bytes = vec![0u8; len];
        self.fill(&mut bytes);
        for b in &mut bytes {
            *b = alphabet[*b as usize % alphabet.len()];
        }
        String::from_utf8(bytes).expect("an ASCII alphabet")
    }

    /// `len` decimal digits, the first one non-zero.
    fn digits(&self, len: usize) -> String {
        let mut s = self.chars(b"0123456789", len);
        if s.starts_with('0') {
            s.replace_range(0..1, "1");
        }
        s
    }

    /// [`IdSource::digits`] that roughly sort by creation time, as
    /// [`IdSource::sortable_hex`] for hex.
    fn sortable_digits(&self, len: usize) -> String {
        self.digits(len)
    }
}

/// Operating-system randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn fill(&self, buf: &mut [u8]) {
        rand::thread_rng().fill(buf);
    }

    /// The first 6 hex digits count 4-ms ticks (wrapping every 18.6 hours), the rest are
    /// random. New rows then land beside each other in the store's id indexes instead of on
    /// random pages: ~1.6× the creates per second (bench/README.md). Ids of 16 digits and
    /// more keep at least 40 random bits, and only ids made in the same tick (or a multiple
    /// of 18.6 h apart) can share a prefix, so collisions stay as rare as with random ids.
    fn sortable_hex(&self, len: usize) -> String {
        let mut id = self.hex(len);
        if len >= SORTABLE_MIN_LEN {
            stamp_tick(&mut id, now_ms());
        }
        id
    }

    /// The first 5 digits count 4-ms ticks from 10000 to 99999 (wrapping every 6 minutes),
    /// the rest are random. For the same reason and with the same argument as
    /// [`RandomIds::sortable_hex`]: the tick splits the id space into buckets filled evenly
    /// over time, so an id collides no more often than a fully random one of `len` digits.
    fn sortable_digits(&self, len: usize) -> String {
        let mut id = self.digits(len);
        if len >= SORTABLE_MIN_DIGITS {
            stamp_decimal_tick(&mut id, now_ms());
        }
        id
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Shorter ids would keep too few random bits beside the tick: they stay random.
const SORTABLE_MIN_LEN: usize = 16;
const SORTABLE_MIN_DIGITS: usize = 12;
const TICK_MS: u64 = 4;
const TICK_DIGITS: usize = 6;
const DECIMAL_TICK_DIGITS: usize = 5;

/// Replaces the first [`TICK_DIGITS`] of `id` with the tick of `now_ms`.
fn stamp_tick(id: &mut String, now_ms: u64) {
    let tick = (now_ms / TICK_MS) % (1 << (4 * TICK_DIGITS));
    // The low three bytes are the six digits.
    let digits = lower_hex(&tick.to_be_bytes()[8 - TICK_DIGITS / 2..]);
    id.replace_range(..TICK_DIGITS, &digits);
}

/// Replaces the first [`DECIMAL_TICK_DIGITS`] of `id` with the tick of `now_ms`, kept in
/// 10000..=99999 so the id never starts with a zero.
fn stamp_decimal_tick(id: &mut String, now_ms: u64) {
    let tick = 10_000 + (now_ms / TICK_MS) % 90_000;
    id.replace_range(..DECIMAL_TICK_DIGITS, &tick.to_string());
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
    fn lower_hex_matches_the_hex_crate() {
        for bytes in [&[][..], &[0x00, 0x0f, 0xa5, 0xff][..]] {
            assert_eq!(lower_hex(bytes), hex::encode(bytes));
        }
    }

    #[test]
    fn hex_has_requested_length() {
        let ids = RandomIds;
        assert_eq!(ids.hex(16).len(), 16);
        assert_eq!(ids.hex(15).len(), 15);
        assert!(ids.hex(32).chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn sortable_ids_order_by_tick_and_keep_their_random_tail() {
        let mut earlier = "ffffffffffffffff".to_owned();
        let mut later = "0000000000000000".to_owned();
        stamp_tick(&mut earlier, 1_000);
        stamp_tick(&mut later, 1_004);
        assert_eq!(earlier, "0000faffffffffff");
        assert_eq!(later, "0000fb0000000000");
        assert!(earlier < later);
        let mut wrapped = "0123456789abcdef".to_owned();
        stamp_tick(&mut wrapped, 4 << 24);
        assert_eq!(
            wrapped, "0000006789abcdef",
            "the tick wraps after 2^24 ticks"
        );
        let mut every_digit = "0000000000000000".to_owned();
        stamp_tick(&mut every_digit, 0xabcdef * 4);
        assert_eq!(every_digit, "abcdef0000000000");
        assert_eq!(RandomIds.sortable_hex(16).len(), 16);
    }

    #[test]
    fn sortable_digits_order_by_tick_and_never_start_with_zero() {
        let mut earlier = "999999999999999".to_owned();
        let mut later = "100000000000000".to_owned();
        stamp_decimal_tick(&mut earlier, 1_000);
        stamp_decimal_tick(&mut later, 1_004);
        assert_eq!(earlier, "102509999999999");
        assert_eq!(later, "102510000000000");
        assert!(earlier < later);
        let mut wrapped = "123456789012345".to_owned();
        stamp_decimal_tick(&mut wrapped, 4 * 90_000);
        assert_eq!(
            wrapped, "100006789012345",
            "the tick wraps after 90,000 ticks"
        );
        for _ in 0..100 {
            let id = RandomIds.sortable_digits(15);
            assert_eq!(id.len(), 15);
            assert!(id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'));
        }
        assert_eq!(RandomIds.sortable_hex(11).len(), 11);
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
