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
