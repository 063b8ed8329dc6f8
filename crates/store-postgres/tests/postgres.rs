//! The PostgreSQL store against a real server: `CLOUDTWIN_TEST_PG`, else the local one at
//! 127.0.0.1:5432 (as `postgres`, then `root`). Each test makes its own database with a
//! random name and drops it at the end. With no server, the tests say so loudly and pass.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudtwin_core::{AccessKey, Product};
use cloudtwin_store::conformance::{self, account, instance, job};
use cloudtwin_store::{IdempotencyRecord, Mutation, Store, StoreError};
use cloudtwin_store_postgres::testing::{client, tcp_upstream, with_db};
use cloudtwin_store_postgres::{PostgresConfig, PostgresOptions, PostgresStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SUITE: &str = "PostgreSQL store tests";

async fn open(config: &PostgresConfig, options: PostgresOptions) -> Arc<PostgresStore> {
    Arc::new(
        PostgresStore::connect_config(config.clone(), options)
            .await
            .expect("connect to the test database"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_conformance() {
    with_db(SUITE, |config| async move {
        let store = open(&config, PostgresOptions::default()).await;
        conformance::run_all(store).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_operations_conformance() {
    with_db(SUITE, |config| async move {
        // Two stores on one database would share state: the second gets its own.
        let a = open(&config, PostgresOptions::default()).await;
        with_db(SUITE, |other| async move {
            let b = open(&other, PostgresOptions::default()).await;
            conformance::operations(a, b).await;
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn every_table_is_covered_by_snapshots_and_reset() {
    with_db(SUITE, |config| async move {
        drop(open(&config, PostgresOptions::default()).await);
        let client = client(&config).await;
        let rows = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name <> 'schema_version'",
                &[],
            )
            .await
            .unwrap();
        conformance::assert_schema_is_covered(rows.iter().map(|r| r.get(0)).collect());
    })
    .await;
}

#[tokio::test]
async fn a_batch_with_a_conflicting_insert_leaves_no_trace() {
    with_db(SUITE, |config| async move {
        // One connection: the one that saw the failed batch must serve the next ones.
        let options = PostgresOptions {
            max_connections: 1,
            ..PostgresOptions::default()
        };
        let store = open(&config, options).await;
        store
            .commit(vec![Mutation::InsertAccount(account("acc", "one"))])
            .await
            .unwrap();
        let token = IdempotencyRecord {
            account_id: "acc".into(),
            product: Product::StarRocks,
            action: "CreateInstance".into(),
            token: "tok".into(),
            request_hash: "h".into(),
            response: "{}".into(),
            created_ms: 5,
        };
        let key = AccessKey {
            id: "AK1".into(),
            account_id: "acc".into(),
            secret_ciphertext: vec![1, 2, 3],
            created_ms: 5,
        };
        let good = vec![
            Mutation::InsertInstance(instance("c-1", "acc", "x", 10)),
            Mutation::PutJob(job("j-1", "c-1", 0)),
            Mutation::InsertIdempotency {
                record: token.clone(),
                expire_before_ms: 0,
            },
            Mutation::PutAccessKey(key.clone()),
        ];
        let mut bad = good.clone();
        bad.push(Mutation::InsertAccount(account("acc2", "one")));
        let result = store.commit(bad).await;
        assert!(
            matches!(result, Err(StoreError::Conflict(_))),
            "duplicate account name: {result:?}"
        );
        assert!(store.instance("acc", "c-1").await.unwrap().is_none());
        assert!(store.instance_jobs("acc", "c-1").await.unwrap().is_empty());
        assert!(store
            .idempotency("acc", Product::StarRocks, "CreateInstance", "tok")
            .await
            .unwrap()
            .is_none());
        assert!(store.access_key("AK1").await.unwrap().is_none());
        assert!(store.account("acc2").await.unwrap().is_none());
        assert_eq!(store.next_job_due_ms().await.unwrap(), None);

        store.commit(good).await.unwrap();
        assert!(store.instance("acc", "c-1").await.unwrap().is_some());
        assert_eq!(store.instance_jobs("acc", "c-1").await.unwrap().len(), 1);
        assert_eq!(
            store
                .idempotency("acc", Product::StarRocks, "CreateInstance", "tok")
                .await
                .unwrap(),
            Some(token)
        );
        assert_eq!(store.access_key("AK1").await.unwrap(), Some(key));
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_url_is_unavailable_quickly() {
    // Nothing listens on port 1: refused at once.
    let started = Instant::now();
    let refused = PostgresStore::connect("postgres://postgres@127.0.0.1:1/postgres").await;
    assert!(
        matches!(&refused, Err(StoreError::Unavailable(_))),
        "{:?}",
        refused.err()
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // A server that accepts but never answers: the connect timeout ends the wait.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let options = PostgresOptions {
        connect_timeout: Duration::from_secs(1),
        ..PostgresOptions::default()
    };
    let started = Instant::now();
    let hung = PostgresStore::connect_with(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        options,
    )
    .await;
    assert!(
        matches!(&hung, Err(StoreError::Unavailable(_))),
        "{:?}",
        hung.err()
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    drop(silent);

    let invalid = PostgresStore::connect("postgres://postgres@127.0.0.1:notaport/postgres").await;
    assert!(matches!(invalid, Err(StoreError::Unavailable(_))));
}

#[tokio::test]
async fn refuses_a_newer_schema() {
    with_db(SUITE, |config| async move {
        drop(open(&config, PostgresOptions::default()).await);
        let client = client(&config).await;
        client
            .batch_execute("INSERT INTO schema_version (version) VALUES (99)")
            .await
            .unwrap();
        let err = PostgresStore::connect_config(config.clone(), PostgresOptions::default())
            .await
            .err()
            .unwrap();
        assert!(
            matches!(&err, StoreError::Corrupt(m) if m.contains("newer")),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn reopening_keeps_state_and_killed_connections_are_replaced() {
    with_db(SUITE, |config| async move {
        let store = open(&config, PostgresOptions::default()).await;
        store
            .commit(vec![Mutation::InsertAccount(account("a1", "one"))])
            .await
            .unwrap();
        // A second store on the same database (another replica) sees it; migration is a no-op.
        let other = open(&config, PostgresOptions::default()).await;
        assert_eq!(other.account("a1").await.unwrap().unwrap().name, "one");

        let client = client(&config).await;
        client
            .batch_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(store.accounts().await.unwrap().len(), 1);
        assert_eq!(other.accounts().await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claimers_never_share_a_job() {
    with_db(SUITE, |config| async move {
        let store = open(&config, PostgresOptions::default()).await;
        let jobs = (0..60)
            .map(|n| Mutation::PutJob(job(&format!("j-{n:02}"), "c-1", n)))
            .collect();
        store.commit(jobs).await.unwrap();
        let mut workers = Vec::new();
        for w in 0..4 {
            let store = store.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim_jobs(1_000, &format!("w{w}"), 60_000, 4)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|j| j.id));
                }
            }));
        }
        let mut seen = HashSet::new();
        for w in workers {
            for id in w.await.unwrap() {
                assert!(seen.insert(id.clone()), "{id} was claimed twice");
            }
        }
        assert_eq!(seen.len(), 60);
        assert_eq!(store.next_job_due_ms().await.unwrap(), Some(61_000));
    })
    .await;
}

/// A loopback proxy to `upstream` that holds every byte while `frozen` is set: a server
/// that is still connected but no longer answers.
async fn freezable_proxy(upstream: String) -> (u16, Arc<AtomicBool>) {
    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        frozen: Arc<AtomicBool>,
    ) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            while frozen.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let frozen = Arc::new(AtomicBool::new(false));
    let flag = frozen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pump(client_read, server_write, flag.clone()));
            tokio::spawn(pump(server_read, client_write, flag.clone()));
        }
    });
    (port, frozen)
}

#[tokio::test]
async fn a_silent_server_gives_unavailable_not_a_hang() {
    with_db(SUITE, |config| async move {
        let Some(upstream) = tcp_upstream(&config) else {
            return;
        };
        let (port, frozen) = freezable_proxy(upstream).await;
        let mut via = PostgresConfig::new();
        via.host("127.0.0.1")
            .port(port)
            .user(config.get_user().expect("the test URL names a user"))
            .dbname(config.get_dbname().expect("the test database"));
        if let Some(password) = config.get_password() {
            via.password(password);
        }
        let options = PostgresOptions {
            connect_timeout: Duration::from_secs(1),
            operation_timeout: Duration::from_secs(1),
            ..PostgresOptions::default()
        };
        let store = PostgresStore::connect_config(via, options).await.unwrap();
        store
            .commit(vec![Mutation::InsertAccount(account("a1", "one"))])
            .await
            .unwrap();

        frozen.store(true, Ordering::SeqCst);
        let started = Instant::now();
        let read = store.accounts().await;
        assert!(matches!(&read, Err(StoreError::Unavailable(_))), "{read:?}");
        let write = store
            .commit(vec![Mutation::InsertAccount(account("a2", "two"))])
            .await;
        assert!(
            matches!(&write, Err(StoreError::Unavailable(_))),
            "{write:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(4));

        // Once the server answers again, a fresh connection replaces the stuck one.
        frozen.store(false, Ordering::SeqCst);
        assert!(store.account("a1").await.unwrap().is_some());
    })
    .await;
}
