//! IAM tokens (`X-Auth-Token`, issued as `X-Subject-Token`). Stateless: the token carries its
//! claims and an HMAC-SHA256 over them, keyed by a key derived from the master key, so
//! replicas sharing `CLOUDTWIN_MASTER_KEY` accept each other's tokens and a restart keeps
//! them valid. Tokens live 24 hours, as Huawei's do; they cannot be revoked before that
//! (changing the master key revokes them all).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use cloudtwin_core::MasterKey;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a token is valid (Huawei: "The validity period of a token is 24 hours").
pub const TOKEN_TTL_MS: i64 = 24 * 3600 * 1000;

const PREFIX: &str = "CTW1";
const DERIVATION_LABEL: &[u8] = b"cloudtwin/huawei/iam-token-key/v1";

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    #[serde(rename = "a")]
    pub account_id: String,
    #[serde(rename = "u")]
    pub user_id: String,
    /// The project the token is scoped to, if any.
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(rename = "m")]
    pub methods: Vec<String>,
    #[serde(rename = "i")]
    pub issued_ms: i64,
    #[serde(rename = "e")]
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of this form, or its MAC does not check out (another key, tampering).
    #[error("decrypt token fail")]
    Invalid,
    /// Past its expiry.
    #[error("the token expired at {0}")]
    Expired(String),
}

/// The key tokens are signed with.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl TokenKey {
    /// Derived from the master key: AES-256-GCM is a pseudo-random function of its key, so
    /// sealing a fixed label under a fixed, label-specific nonce gives bytes only the master
    /// key's holders can compute; their sha256 is the HMAC key. (The nonce is never used for
    /// any other plaintext, so the fixed nonce does not weaken the secrets sealed elsewhere.)
    pub fn derive(master: &MasterKey) -> Self {
        let digest = Sha256::digest(DERIVATION_LABEL);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&digest[..12]);
        let sealed = master.seal(DERIVATION_LABEL, nonce);
        let mut h = Sha256::new();
        h.update(DERIVATION_LABEL);
        h.update(&sealed);
        Self(h.finalize().into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    pub fn issue(&self, claims: &TokenClaims) -> String {
        let payload = B64.encode(serde_json::to_vec(claims).expect("plain data serializes"));
        let mut mac = self.mac();
        mac.update(PREFIX.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        let tag = B64.encode(mac.finalize().into_bytes());
        format!("{PREFIX}.{payload}.{tag}")
    }

    /// Checks the MAC (constant time), then the expiry.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<TokenClaims, TokenError> {
        let mut parts = token.trim().split('.');
        let (Some(PREFIX), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let tag = B64.decode(tag).map_err(|_| TokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(PREFIX.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).map_err(|_| TokenError::Invalid)?;
        let bytes = B64.decode(payload).map_err(|_| TokenError::Invalid)?;
        let claims: TokenClaims =
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Invalid)?;
        if now_ms >= claims.expires_ms {
            return Err(TokenError::Expired(iso_ms(claims.expires_ms)));
        }
        Ok(claims)
    }
}

/// `2025-01-02T03:04:05.000000Z`, the form IAM uses for `expires_at`/`issued_at`.
pub fn iso_ms(unix_ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}000Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        unix_ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64) -> TokenClaims {
        TokenClaims {
            account_id: "1234".into(),
            user_id: "u".into(),
            project_id: Some("p".repeat(32)),
            methods: vec!["password".into()],
            issued_ms: now,
            expires_ms: now + TOKEN_TTL_MS,
        }
    }

    #[test]
    fn round_trip_expiry_and_tampering() {
        let key = TokenKey::derive(&MasterKey::from_bytes(&[7u8; 32]));
        let now = 1_735_787_045_000;
        let token = key.issue(&claims(now));
        assert_eq!(key.verify(&token, now + 1000).unwrap(), claims(now));
        assert_eq!(
            key.verify(&token, now + TOKEN_TTL_MS),
            Err(TokenError::Expired("2025-01-03T03:04:05.000000Z".into()))
        );
        // Another master key (another deployment) does not accept it.
        let other = TokenKey::derive(&MasterKey::from_bytes(&[8u8; 32]));
        assert_eq!(other.verify(&token, now), Err(TokenError::Invalid));
        // The same master key (a replica) does.
        let replica = TokenKey::derive(&MasterKey::from_bytes(&[7u8; 32]));
        assert!(replica.verify(&token, now).is_ok());
        // Changed claims with the old tag.
        let mut forged = claims(now);
        forged.account_id = "9999".into();
        let forged_payload = key.issue(&forged).split('.').nth(1).unwrap().to_owned();
        let parts: Vec<&str> = token.split('.').collect();
        let spliced = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(key.verify(&spliced, now), Err(TokenError::Invalid));
        for bad in ["", "CTW1", "CTW1.a.b", "x.y.z", &format!("{token}.x")] {
            assert_eq!(key.verify(bad, now), Err(TokenError::Invalid), "{bad}");
        }
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.verify(std::str::from_utf8(&flipped).unwrap(), now),
            Err(TokenError::Invalid)
        );
    }
}
