//! IAM user passwords at rest: PBKDF2-HMAC-SHA256 with a random 16-byte salt, stored as
//! `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`. Slow on purpose; only the token
//! request and the `accounts password` command pay for it. Never logged.

use subtle::ConstantTimeEq;

/// At least 100,000 (the project's floor). Stored with each hash, so it can be raised
/// later without invalidating existing passwords.
pub const ITERATIONS: u32 = 100_000;
const SCHEME: &str = "pbkdf2-sha256";

/// Hashes `password` with `salt` (16 fresh random bytes).
pub fn hash_password(password: &str, salt: [u8; 16]) -> String {
    hash_with(password, &salt, ITERATIONS)
}

/// A well-formed hash that no password matches (its digest is all zeros), for users that
/// do not exist: verifying against it costs what a real one does, and building it costs
/// nothing (hashing a dummy password at start-up delayed the first answer).
pub fn unmatchable_hash() -> String {
    format!(
        "{SCHEME}${ITERATIONS}${}${}",
        hex::encode([0u8; 16]),
        hex::encode([0u8; 32])
    )
}

fn hash_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut out);
    format!(
        "{SCHEME}${iterations}${}${}",
        hex::encode(salt),
        hex::encode(out)
    )
}

/// Whether `password` matches a stored hash (constant-time compare). A stored value that
/// is not of this scheme never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(SCHEME), Some(iterations), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Ok(iterations), Ok(salt), Ok(hash)) = (
        iterations.parse::<u32>(),
        hex::decode(salt),
        hex::decode(hash),
    ) else {
        return false;
    };
    if iterations == 0 || hash.len() != 32 {
        return false;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, iterations, &mut out);
    bool::from(out.ct_eq(&hash[..]))
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_unmatchable_hash_is_well_formed_and_matches_nothing() {
        let hash = unmatchable_hash();
        assert!(hash.starts_with(&format!("{SCHEME}${ITERATIONS}$")));
        for password in ["", "cloudtwin-no-such-user", "secret"] {
            assert!(!verify_password(password, &hash));
        }
    }

    use super::*;

    #[test]
    fn rfc_7914_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64 (first 32).
        let h = hash_with("passwd", b"salt", 1);
        assert!(
            h.ends_with("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"),
            "{h}"
        );
    }

    #[test]
    fn hash_and_verify() {
        let stored = hash_password("s3cret pass", [9u8; 16]);
        assert!(stored.starts_with("pbkdf2-sha256$100000$09090909"));
        assert!(!stored.contains("s3cret"));
        assert!(verify_password("s3cret pass", &stored));
        assert!(!verify_password("s3cret pasS", &stored));
        assert_ne!(stored, hash_password("s3cret pass", [8u8; 16]), "salted");
        for bad in ["", "plain", "pbkdf2-sha256$0$00$00", "md5$1$00$00"] {
            assert!(!verify_password("x", bad));
        }
    }
}
