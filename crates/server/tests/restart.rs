//! A server that was killed while holding jobs: the next server on the same data directory
//! carries them on at once, not when their leases run out.

mod common;

use std::time::{Duration, Instant};

use cloudtwin_core::JobState;
use cloudtwin_server::OpsOptions;
use cloudtwin_store::conformance::{instance, job};
use cloudtwin_store::{Mutation, SqliteStore, Store};

const HOUR_MS: i64 = 3_600_000;

#[tokio::test]
async fn jobs_leased_by_a_dead_server_go_on_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cloudtwin.db");
    {
        // What a killed server leaves behind: a job claimed for an hour, never finished.
        let store = SqliteStore::open(&db).unwrap();
        store
            .commit(vec![
                Mutation::InsertInstance(instance("c-orphan", "acc", "orphan", 1)),
                Mutation::PutJob(job("j-orphan", "c-orphan", 1)),
            ])
            .await
            .unwrap();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let claimed = store
            .claim_jobs(now_ms, "killed", HOUR_MS, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
    }

    let running = common::start_with("127.0.0.1:0", dir.path(), OpsOptions::default()).await;
    let reader = SqliteStore::open(&db).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let finished = loop {
        let jobs = reader.instance_jobs("acc", "c-orphan").await.unwrap();
        if jobs[0].state == JobState::Succeeded {
            break jobs[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the job is still {:?} after 10 s: {jobs:?}",
            jobs[0].state
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(finished.attempts, 2, "{finished:?}");
    assert_ne!(finished.lease_owner.as_deref(), Some("killed"));
    let orphan = reader.instance("acc", "c-orphan").await.unwrap().unwrap();
    assert_eq!(orphan.status, "running");
    running.stop().await;
}

#[tokio::test]
async fn a_stopped_server_leaves_an_empty_wal_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let running = common::start_with("127.0.0.1:0", dir.path(), OpsOptions::default()).await;
    let wal = dir.path().join("cloudtwin.db-wal");
    // Starting wrote the default account and key.
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    running.stop().await;
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
}

/// A client token recorded before fingerprints were typed (a hash of the body's JSON
/// without the token) still replays its answer for the same request after an upgrade, and
/// still refuses a different request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_tokens_recorded_with_the_old_fingerprint_still_replay() {
    use cloudtwin_core::Product;
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cloudtwin.db");
    let mut body = common::seed_create();
    body["ClientToken"] = json!("tok-before-upgrade");
    let create = |body: serde_json::Value, addr| {
        tokio::task::spawn_blocking(move || {
            common::Req::new("CreateInstanceV1", "/webapi/cluster/createV1")
                .json(body)
                .send(addr)
        })
    };

    let running = common::start_with("127.0.0.1:0", dir.path(), OpsOptions::default()).await;
    let (status, first) = create(body.clone(), running.addr).await.unwrap();
    assert_eq!(status, 200, "{first}");
    running.stop().await;

    // Rewrite the record as the earlier release wrote it.
    {
        let store = SqliteStore::open(&db).unwrap();
        let account = store
            .access_key(common::AK)
            .await
            .unwrap()
            .unwrap()
            .account_id;
        let mut record = store
            .idempotency(
                &account,
                Product::StarRocks,
                "CreateInstanceV1",
                "tok-before-upgrade",
            )
            .await
            .unwrap()
            .unwrap();
        assert!(record
            .request_hash
            .starts_with(cloudtwin_products::TYPED_HASH_PREFIX));
        record.request_hash =
            cloudtwin_products::request_hash(&body, &["ClientToken", "clientToken"]);
        store
            .commit(vec![Mutation::InsertIdempotency {
                expire_before_ms: record.created_ms + 1,
                record,
            }])
            .await
            .unwrap();
    }

    let running = common::start_with("127.0.0.1:0", dir.path(), OpsOptions::default()).await;
    let (status, again) = create(body.clone(), running.addr).await.unwrap();
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["Data"], first["Data"], "the first answer, replayed");
    body["InstanceName"] = json!("another-name");
    let (status, refused) = create(body, running.addr).await.unwrap();
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["Code"], "IdempotentParameterMismatch");
    running.stop().await;
}
