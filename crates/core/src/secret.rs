//! Secrets at rest: AES-256-GCM under a master key that is never in the store.
//! Ciphertext layout: key id (4 bytes) | nonce (12 bytes) | sealed data.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// The master key is not 64 hex characters.
    #[error("the master key must be 64 hexadecimal characters (32 bytes)")]
    BadKey,
    /// The ciphertext was sealed under another master key.
    #[error(
        "this secret was encrypted under master key {found}, but the server runs with {expected}"
    )]
    WrongKey { found: String, expected: String },
    /// The ciphertext is truncated or was tampered with.
    #[error("a stored secret is corrupt")]
    Corrupt,
}

#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    id: [u8; 4],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

impl MasterKey {
    pub fn from_bytes(key: &[u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        Self {
            cipher: Aes256Gcm::new(key.into()),
            id: [digest[0], digest[1], digest[2], digest[3]],
        }
    }

    pub fn from_hex(s: &str) -> Result<Self, SecretError> {
        let bytes = hex::decode(s.trim()).map_err(|_| SecretError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self::from_bytes(&key))
    }

    /// A short public fingerprint, recorded beside ciphertext.
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }

    /// `nonce` must be 12 fresh random bytes.
    pub fn seal(&self, plaintext: &[u8], nonce: [u8; 12]) -> Vec<u8> {
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(16 + sealed.len());
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, ciphertext: &[u8]) -> Result<Vec<u8>, SecretError> {
        if ciphertext.len() < 16 {
            return Err(SecretError::Corrupt);
        }
        if ciphertext[..4] != self.id {
            return Err(SecretError::WrongKey {
                found: hex::encode(&ciphertext[..4]),
                expected: self.id(),
            });
        }
        self.cipher
            .decrypt(Nonce::from_slice(&ciphertext[4..16]), &ciphertext[16..])
            .map_err(|_| SecretError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let k1 = MasterKey::from_bytes(&[7u8; 32]);
        let k2 = MasterKey::from_bytes(&[8u8; 32]);
        let sealed = k1.seal(b"s3cret", [1u8; 12]);
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(k1.open(&sealed).unwrap(), b"s3cret");
        assert!(matches!(
            k2.open(&sealed),
            Err(SecretError::WrongKey { .. })
        ));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(k1.open(&tampered), Err(SecretError::Corrupt));
        assert_eq!(k1.open(&sealed[..10]), Err(SecretError::Corrupt));
    }

    #[test]
    fn hex_keys() {
        assert!(MasterKey::from_hex(&"ab".repeat(32)).is_ok());
        assert_eq!(MasterKey::from_hex("abc").unwrap_err(), SecretError::BadKey);
    }
}
