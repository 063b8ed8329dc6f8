//! Signature nonces kept in the shared store, for replicas: a replayed request is refused
//! whichever replica it reaches. With SQLite one process owns the state, and the
//! gateway's in-memory cache does the same job faster.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use cloudtwin_core::{LookupError, NonceLedger};
use cloudtwin_store::{Mutation, Store, StoreError};
use sha2::{Digest, Sha256};

/// Expired nonces are deleted at most this often per replica, off the request path.
const PURGE_EVERY_MS: i64 = 60_000;

pub struct StoreNonces {
    store: Arc<dyn Store>,
    next_purge_ms: AtomicI64,
}

impl StoreNonces {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            next_purge_ms: AtomicI64::new(0),
        }
    }

    fn purge_if_due(&self, now_ms: i64) {
        let due = self.next_purge_ms.load(Ordering::Relaxed);
        if now_ms < due
            || self
                .next_purge_ms
                .compare_exchange(
                    due,
                    now_ms + PURGE_EVERY_MS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.commit(vec![Mutation::PurgeNonces { now_ms }]).await {
                tracing::warn!(error = %e, "expired signature nonces not purged");
            }
        });
    }
}

#[async_trait]
impl NonceLedger for StoreNonces {
    async fn first_use(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool, LookupError> {
        self.purge_if_due(now_ms);
        // A digest, so a client's arbitrarily long nonce still fits an index entry.
        let nonce = format!("{:x}", Sha256::digest(nonce.as_bytes()));
        let insert = Mutation::InsertNonce {
            access_key_id: access_key_id.to_owned(),
            nonce,
            expires_ms,
            now_ms,
        };
        match self.store.commit(vec![insert]).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(StoreError::Unavailable(m)) => Err(LookupError::Unavailable(m)),
            Err(e @ (StoreError::Corrupt(_) | StoreError::NameTaken { .. })) => {
                Err(LookupError::Failed(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudtwin_store::SqliteStore;

    #[tokio::test]
    async fn a_nonce_is_accepted_once_per_key_and_long_ones_fit() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).unwrap());
        let ledger = StoreNonces::new(store.clone());
        let long = "n".repeat(100_000);
        assert!(ledger.first_use("AK", &long, 1_000, 5_000).await.unwrap());
        assert!(!ledger.first_use("AK", &long, 2_000, 6_000).await.unwrap());
        assert!(ledger.first_use("AK2", &long, 2_000, 6_000).await.unwrap());
        assert!(
            ledger.first_use("AK", &long, 5_000, 9_000).await.unwrap(),
            "expired"
        );
    }
}
