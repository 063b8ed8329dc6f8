//! The products: each maps its API's typed requests onto the core domain and back
//! into that product's exact response shapes, status strings and error codes.

pub mod starrocks;

use std::sync::Arc;

use cloudtwin_aliyun::AliyunApi;

use cloudtwin_core::{Clock, IdSource, MasterKey};
use cloudtwin_engine::Engine;
use cloudtwin_store::Store;
use sha2::{Digest, Sha256};

/// What every product service works with.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub master_key: Arc<MasterKey>,
}

impl Context {
    /// Encrypts a secret (an admin password) for storage.
    pub fn seal(&self, secret: &str) -> String {
        let mut nonce = [0u8; 12];
        self.ids.fill(&mut nonce);
        hex::encode(self.master_key.seal(secret.as_bytes(), nonce))
    }
}

/// How long a client token is remembered.
pub const CLIENT_TOKEN_TTL_MS: i64 = 24 * 3600 * 1000;

/// A stable fingerprint of request parameters: JSON objects serialize with sorted keys.
pub fn request_hash(params: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(params.to_string().as_bytes()))
}

/// Every API served over the Alibaba dialect.
pub fn aliyun_apis(ctx: &Context) -> Vec<Arc<dyn AliyunApi>> {
    vec![Arc::new(starrocks::StarRocks::new(
        ctx.clone(),
        starrocks::Catalog::embedded(),
    ))]
}
