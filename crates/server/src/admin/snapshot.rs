//! Snapshots: the whole state (or one account's) as a versioned JSON document, and back.
//!
//! A document names its `format_version`. Loading runs the upgrade steps from that version
//! to [`FORMAT_VERSION`] on the raw JSON, one version at a time ([`UPGRADES`]), then reads
//! the current shape. A newer or unknown version is refused, and so is a document sealed
//! under another master key (its access key secrets would not open).
//!
//! Versions: 1, the first (accounts, keys, IAM passwords, instances, jobs, idempotency
//! records); 2 adds the orders ledger. Signature nonces are never in a snapshot: they
//! are replay protection for requests in flight, not state.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cloudtwin_core::billing::Order;
use cloudtwin_core::{AccessKey, Account, Instance, Job, JobState, Product};
use cloudtwin_store::{IamPassword, IdempotencyRecord, StateDump, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{error, store_error, AdminState};

/// The format this build writes.
pub const FORMAT_VERSION: u64 = 2;

/// Snapshots are bigger than API calls.
pub const MAX_SNAPSHOT_BYTES: usize = 256 * 1024 * 1024;

/// One step upgrades a document of version `i + 1` to version `i + 2`, on the raw JSON.
/// A document of any older version loads by running every step after its own; a new
/// version appends its step here.
type Upgrade = fn(Value) -> Result<Value, String>;
const UPGRADES: &[Upgrade] = &[v1_to_v2];

/// Version 1 predates billing: its server held no orders, so it loads with an empty ledger.
fn v1_to_v2(mut doc: Value) -> Result<Value, String> {
    let fields = doc
        .as_object_mut()
        .ok_or("the document is not a JSON object")?;
    if fields.contains_key("orders") {
        return Err("orders are not part of format_version 1".into());
    }
    fields.insert("orders".into(), json!([]));
    Ok(doc)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format_version: u64,
    /// The cloudtwin that wrote it, for people; not checked.
    pub cloudtwin_version: String,
    pub exported_ms: i64,
    /// The fingerprint of the master key that sealed the access key secrets.
    pub master_key_id: String,
    /// The one account exported, or `None` for everything.
    pub account: Option<String>,
    pub accounts: Vec<Account>,
    pub access_keys: Vec<SnapshotKey>,
    pub iam_passwords: Vec<SnapshotPassword>,
    pub instances: Vec<Instance>,
    pub jobs: Vec<Job>,
    pub idempotency: Vec<SnapshotIdempotency>,
    /// The orders ledger (since version 2), oldest first.
    pub orders: Vec<Order>,
}

/// An access key with its secret as sealed ciphertext (hex), never in the clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotKey {
    pub id: String,
    pub account_id: String,
    pub secret_ciphertext_hex: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotPassword {
    pub account_id: String,
    /// The salted PBKDF2 hash, as stored.
    pub hash: String,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotIdempotency {
    pub account_id: String,
    pub product: Product,
    pub action: String,
    pub token: String,
    pub request_hash: String,
    pub response: String,
    pub created_ms: i64,
}

/// Why a snapshot was not written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("no account {0:?}")]
    NoSuchAccount(String),
    #[error("the snapshot is not valid: {0}")]
    Invalid(String),
    #[error("{0}")]
    UnsupportedVersion(String),
    #[error("the snapshot's access keys are sealed under master key {theirs}, this server's master key is {ours}; start this server with the exporting server's master key (CLOUDTWIN_MASTER_KEY or its <data-dir>/master.key)")]
    MasterKeyMismatch { theirs: String, ours: String },
    #[error("the server is not empty (it holds accounts or instances); reset it first with POST /_cloudtwin/reset {{\"all\": true}}")]
    NotEmpty,
    #[error(transparent)]
    Store(StoreError),
}

impl SnapshotError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            SnapshotError::NoSuchAccount(_) => (StatusCode::NOT_FOUND, "AccountNotFound"),
            SnapshotError::Invalid(_) => (StatusCode::BAD_REQUEST, "InvalidSnapshot"),
            SnapshotError::UnsupportedVersion(_) => {
                (StatusCode::BAD_REQUEST, "UnsupportedFormatVersion")
            }
            SnapshotError::MasterKeyMismatch { .. } => {
                (StatusCode::BAD_REQUEST, "MasterKeyMismatch")
            }
            SnapshotError::NotEmpty => (StatusCode::CONFLICT, "ServerNotEmpty"),
            SnapshotError::Store(e) => return store_error(e.clone()),
        };
        error(status, code, self)
    }
}

/// Reads the state (or one account's) into a snapshot document.
pub async fn build(
    store: &dyn Store,
    master_key_id: &str,
    account: Option<&str>,
    now_ms: i64,
) -> Result<Snapshot, SnapshotError> {
    if let Some(id) = account {
        match store.account(id).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(SnapshotError::NoSuchAccount(id.to_owned())),
            Err(e) => return Err(SnapshotError::Store(e)),
        }
    }
    let dump = store.export(account).await.map_err(SnapshotError::Store)?;
    Ok(Snapshot {
        format_version: FORMAT_VERSION,
        cloudtwin_version: env!("CARGO_PKG_VERSION").to_owned(),
        exported_ms: now_ms,
        master_key_id: master_key_id.to_owned(),
        account: account.map(str::to_owned),
        accounts: dump.accounts,
        access_keys: dump
            .access_keys
            .into_iter()
            .map(|k| SnapshotKey {
                id: k.id,
                account_id: k.account_id,
                secret_ciphertext_hex: hex::encode(k.secret_ciphertext),
                created_ms: k.created_ms,
            })
            .collect(),
        iam_passwords: dump
            .iam_passwords
            .into_iter()
            .map(|p| SnapshotPassword {
                account_id: p.account_id,
                hash: p.hash,
                updated_ms: p.updated_ms,
            })
            .collect(),
        instances: dump.instances,
        jobs: dump.jobs,
        idempotency: dump
            .idempotency
            .into_iter()
            .map(|r| SnapshotIdempotency {
                account_id: r.account_id,
                product: r.product,
                action: r.action,
                token: r.token,
                request_hash: r.request_hash,
                response: r.response,
                created_ms: r.created_ms,
            })
            .collect(),
        orders: dump.orders,
    })
}

/// Reads a document of any supported version, upgraded to the current shape.
pub fn parse(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| SnapshotError::Invalid(format!("not JSON: {e}")))?;
    let doc = upgrade(doc, UPGRADES)?;
    serde_path_to_error::deserialize(doc)
        .map_err(|e| SnapshotError::Invalid(format!("at {}: {}", e.path(), e.inner())))
}

/// Runs the upgrade steps from the document's version to the newest `steps` reach.
fn upgrade(mut doc: Value, steps: &[Upgrade]) -> Result<Value, SnapshotError> {
    let current = steps.len() as u64 + 1;
    let version = doc
        .get("format_version")
        .ok_or_else(|| SnapshotError::Invalid("format_version is missing".into()))?
        .as_u64()
        .ok_or_else(|| {
            SnapshotError::UnsupportedVersion(
                "format_version must be a positive whole number".into(),
            )
        })?;
    if version == 0 {
        return Err(SnapshotError::UnsupportedVersion(
            "format_version 0 is not a cloudtwin snapshot format".into(),
        ));
    }
    if version > current {
        return Err(SnapshotError::UnsupportedVersion(format!(
            "the snapshot has format_version {version}, newer than this cloudtwin reads ({current}); load it with a newer cloudtwin"
        )));
    }
    for (i, step) in steps.iter().enumerate().skip(version as usize - 1) {
        doc = step(doc).map_err(|e| {
            SnapshotError::Invalid(format!(
                "upgrading from format_version {} to {}: {e}",
                i + 1,
                i + 2
            ))
        })?;
        doc["format_version"] = json!(i + 2);
    }
    Ok(doc)
}

/// What an import loaded.
#[derive(Debug, Serialize)]
pub struct Loaded {
    pub accounts: usize,
    pub instances: usize,
    pub jobs: usize,
    pub orders: usize,
}

/// Loads a snapshot into an empty store.
pub async fn load(
    store: &dyn Store,
    master_key_id: &str,
    snapshot: Snapshot,
) -> Result<Loaded, SnapshotError> {
    if snapshot.master_key_id != master_key_id {
        return Err(SnapshotError::MasterKeyMismatch {
            theirs: snapshot.master_key_id,
            ours: master_key_id.to_owned(),
        });
    }
    let mut access_keys = Vec::with_capacity(snapshot.access_keys.len());
    for k in snapshot.access_keys {
        let secret_ciphertext = hex::decode(&k.secret_ciphertext_hex).map_err(|_| {
            SnapshotError::Invalid(format!(
                "access key {}: secret_ciphertext_hex is not hex",
                k.id
            ))
        })?;
        access_keys.push(AccessKey {
            id: k.id,
            account_id: k.account_id,
            secret_ciphertext,
            created_ms: k.created_ms,
        });
    }
    let jobs = snapshot
        .jobs
        .into_iter()
        .map(|mut j| {
            // A lease belongs to a worker of the exporting server: here the job waits again.
            // A finished job keeps the name of the worker that finished it.
            if j.state == JobState::Running {
                j.state = JobState::Pending;
                j.lease_owner = None;
            }
            j.lease_until_ms = 0;
            j
        })
        .collect();
    let dump = StateDump {
        accounts: snapshot.accounts,
        access_keys,
        iam_passwords: snapshot
            .iam_passwords
            .into_iter()
            .map(|p| IamPassword {
                account_id: p.account_id,
                hash: p.hash,
                updated_ms: p.updated_ms,
            })
            .collect(),
        instances: snapshot.instances,
        jobs,
        idempotency: snapshot
            .idempotency
            .into_iter()
            .map(|r| IdempotencyRecord {
                account_id: r.account_id,
                product: r.product,
                action: r.action,
                token: r.token,
                request_hash: r.request_hash,
                response: r.response,
                created_ms: r.created_ms,
            })
            .collect(),
        orders: snapshot.orders,
    };
    let loaded = Loaded {
        accounts: dump.accounts.len(),
        instances: dump.instances.len(),
        jobs: dump.jobs.len(),
        orders: dump.orders.len(),
    };
    match store.import(dump).await {
        Ok(()) => Ok(loaded),
        Err(StoreError::Conflict(m)) if m.contains("not empty") => Err(SnapshotError::NotEmpty),
        Err(StoreError::Conflict(m)) => Err(SnapshotError::Invalid(format!(
            "the snapshot contradicts itself: {m}"
        ))),
        Err(e) => Err(SnapshotError::Store(e)),
    }
}

pub async fn export(
    State(state): State<Arc<AdminState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(other) = query.keys().find(|k| k.as_str() != "account") {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            format!("unknown query parameter {other:?}; the only one is account=<account id>"),
        );
    }
    let account = query.get("account").map(String::as_str);
    if account == Some("") {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "account must be an account id",
        );
    }
    let now = state.keyring.clock.now_ms();
    match build(
        state.store.as_ref(),
        &state.keyring.master_key.id(),
        account,
        now,
    )
    .await
    {
        Ok(snapshot) => Json(snapshot).into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn import(State(state): State<Arc<AdminState>>, body: Bytes) -> Response {
    let snapshot = match parse(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    match load(
        state.store.as_ref(),
        &state.keyring.master_key.id(),
        snapshot,
    )
    .await
    {
        Ok(loaded) => {
            state.keyring.forget_resolved_keys();
            state.engine.notify();
            tracing::info!(
                accounts = loaded.accounts,
                instances = loaded.instances,
                jobs = loaded.jobs,
                orders = loaded.orders,
                "snapshot imported"
            );
            (StatusCode::OK, Json(json!({ "imported": loaded }))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest document of `version`: version 1 has no orders.
    fn minimal(version: u64) -> Value {
        let mut doc = json!({
            "format_version": version,
            "cloudtwin_version": "0.1.0",
            "exported_ms": 1,
            "master_key_id": "abcd0123",
            "account": null,
            "accounts": [],
            "access_keys": [],
            "iam_passwords": [],
            "instances": [],
            "jobs": [],
            "idempotency": []
        });
        if version >= 2 {
            doc["orders"] = json!([]);
        }
        doc
    }

    #[test]
    fn version_one_loads_with_an_empty_ledger() {
        let bytes = serde_json::to_vec(&minimal(1)).unwrap();
        let s = parse(&bytes).unwrap();
        assert_eq!(s.format_version, FORMAT_VERSION);
        assert_eq!(s.master_key_id, "abcd0123");
        assert!(s.orders.is_empty());
        let mut with_orders = minimal(1);
        with_orders["orders"] = json!([]);
        let e = parse(&serde_json::to_vec(&with_orders).unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("from format_version 1 to 2"),
            "a version-1 document has no orders: {e}"
        );
    }

    #[test]
    fn version_two_needs_its_orders() {
        assert!(parse(&serde_json::to_vec(&minimal(2)).unwrap()).is_ok());
        let mut without = minimal(2);
        without.as_object_mut().unwrap().remove("orders");
        let e = parse(&serde_json::to_vec(&without).unwrap()).unwrap_err();
        assert!(e.to_string().contains("orders"), "{e}");
    }

    #[test]
    fn newer_zero_and_missing_versions_are_refused() {
        let newer = parse(&serde_json::to_vec(&minimal(FORMAT_VERSION + 1)).unwrap());
        assert!(
            matches!(&newer, Err(SnapshotError::UnsupportedVersion(m)) if m.contains("newer")),
            "{newer:?}"
        );
        assert!(matches!(
            parse(&serde_json::to_vec(&minimal(0)).unwrap()),
            Err(SnapshotError::UnsupportedVersion(_))
        ));
        let mut missing = minimal(1);
        missing.as_object_mut().unwrap().remove("format_version");
        assert!(matches!(
            parse(&serde_json::to_vec(&missing).unwrap()),
            Err(SnapshotError::Invalid(m)) if m.contains("format_version")
        ));
        let mut text = minimal(1);
        text["format_version"] = json!("1");
        assert!(matches!(
            parse(&serde_json::to_vec(&text).unwrap()),
            Err(SnapshotError::UnsupportedVersion(_))
        ));
    }

    #[test]
    fn older_versions_run_every_later_step_in_order() {
        fn one_to_two(mut doc: Value) -> Result<Value, String> {
            doc["steps"] = json!(["1->2"]);
            Ok(doc)
        }
        fn two_to_three(mut doc: Value) -> Result<Value, String> {
            doc["steps"]
                .as_array_mut()
                .ok_or("no steps")?
                .push(json!("2->3"));
            Ok(doc)
        }
        let steps: &[Upgrade] = &[one_to_two, two_to_three];
        let from_one = upgrade(json!({"format_version": 1}), steps).unwrap();
        assert_eq!(from_one["format_version"], 3);
        assert_eq!(from_one["steps"], json!(["1->2", "2->3"]));
        let from_two = upgrade(json!({"format_version": 2, "steps": []}), steps).unwrap();
        assert_eq!(from_two["steps"], json!(["2->3"]));
        let current = upgrade(json!({"format_version": 3}), steps).unwrap();
        assert!(current.get("steps").is_none());
        assert!(upgrade(json!({"format_version": 4}), steps).is_err());
    }

    #[test]
    fn unknown_fields_are_refused_with_their_place() {
        let mut doc = minimal(FORMAT_VERSION);
        doc["surprise"] = json!(1);
        let e = parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
        assert!(e.to_string().contains("surprise"), "{e}");
    }
}
