//! Tenants and their access keys. One account is one tenant on both clouds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Alibaba-style numeric account id (16 digits).
    pub id: String,
    pub name: String,
    /// Huawei domain id (32 lowercase hex).
    pub domain_id: String,
    pub created_ms: i64,
}

/// An access key; the secret is kept only as ciphertext under the master key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub account_id: String,
    pub secret_ciphertext: Vec<u8>,
    pub created_ms: i64,
}

/// Who signed a request, once its signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    pub access_key_id: String,
}

/// Why a dialect could not consult cloudtwin's state before serving a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Out of reach for now (the database is down): the client should retry (503).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (500).
    #[error("{0}")]
    Failed(String),
}

/// Finds the account and plaintext secret of an access key id, for signature checks.
#[async_trait::async_trait]
pub trait KeyResolver: Send + Sync + 'static {
    /// `Ok(None)` when no such key exists.
    async fn resolve(&self, access_key_id: &str) -> Result<Option<ResolvedKey>, LookupError>;
}

/// Remembers the signature nonces of accepted requests, so each signed request is
/// accepted once per access key, whichever replica it reaches.
#[async_trait::async_trait]
pub trait NonceLedger: Send + Sync + 'static {
    /// Records the nonce and answers true, or false if it is already recorded and has not
    /// expired at `now_ms`. A record is kept at least until `expires_ms`.
    async fn first_use(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool, LookupError>;
}

#[derive(Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    pub account_id: String,
    pub secret: String,
}

impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("account_id", &self.account_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}
