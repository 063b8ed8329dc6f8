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
