//! The behaviour every backend must show. Backends call [`run_all`] from their tests
//! with a fresh, empty store.

use std::sync::Arc;

use cloudtwin_core::billing::{Order, OrderKind, OrderStatus, Period, PeriodUnit};
use cloudtwin_core::{AccessKey, Account, Instance, Job, JobOutcome, JobState, Product, Tag};
use serde_json::json;

use crate::{IamPassword, IdempotencyRecord, InstanceQuery, Mutation, Store, StoreError};

pub async fn run_all(store: Arc<dyn Store>) {
    accounts_and_keys(store.as_ref()).await;
    iam_passwords(store.as_ref()).await;
    instances_insert_update_list(store.as_ref()).await;
    failed_batch_leaves_no_trace(store.as_ref()).await;
    jobs_are_claimed_once_and_leases_expire(store.as_ref()).await;
    idempotency_records(store.as_ref()).await;
    orders_commit_with_their_instance(store.as_ref()).await;
    concurrent_batches_all_commit(store.clone()).await;
}

pub fn account(id: &str, name: &str) -> Account {
    Account {
        id: id.into(),
        name: name.into(),
        domain_id: format!("{id:0>32}"),
        created_ms: 1,
    }
}

pub fn instance(id: &str, account_id: &str, name: &str, created_ms: i64) -> Instance {
    Instance {
        id: id.into(),
        account_id: account_id.into(),
        product: Product::StarRocks,
        region: "cn-hangzhou".into(),
        name: name.into(),
        status: "creating".into(),
        resource_group_id: "rg-1".into(),
        tags: vec![Tag {
            key: "k".into(),
            value: "v".into(),
        }],
        doc: json!({"nodeGroups": [{"cu": 8}]}),
        created_ms,
        updated_ms: created_ms,
        deleted: false,
        version: 1,
    }
}

pub fn job(id: &str, instance_id: &str, due_ms: i64) -> Job {
    Job {
        id: id.into(),
        account_id: "acc".into(),
        product: Product::StarRocks,
        instance_id: instance_id.into(),
        operation: "CreateInstance".into(),
        state: JobState::Pending,
        outcome: JobOutcome {
            status: "running".into(),
            doc: None,
            remove: false,
        },
        created_ms: 0,
        due_ms,
        finished_ms: None,
        attempts: 0,
        lease_owner: None,
        lease_until_ms: 0,
    }
}

async fn accounts_and_keys(store: &dyn Store) {
    store
        .commit(vec![Mutation::InsertAccount(account("acc", "default"))])
        .await
        .unwrap();
    let dup = store
        .commit(vec![Mutation::InsertAccount(account("acc2", "default"))])
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(_))),
        "duplicate name: {dup:?}"
    );
    assert_eq!(
        store.account_by_name("default").await.unwrap().unwrap().id,
        "acc"
    );
    assert!(store.account("acc2").await.unwrap().is_none());

    let key = AccessKey {
        id: "AK1".into(),
        account_id: "acc".into(),
        secret_ciphertext: vec![1, 2, 3],
        created_ms: 5,
    };
    store
        .commit(vec![Mutation::PutAccessKey(key.clone())])
        .await
        .unwrap();
    let replaced = AccessKey {
        secret_ciphertext: vec![9],
        ..key.clone()
    };
    store
        .commit(vec![Mutation::PutAccessKey(replaced.clone())])
        .await
        .unwrap();
    assert_eq!(store.access_key("AK1").await.unwrap(), Some(replaced));
    assert_eq!(store.access_keys("acc").await.unwrap().len(), 1);
    assert!(store.access_key("nope").await.unwrap().is_none());
    assert_eq!(store.accounts().await.unwrap().len(), 1);
}

/// Runs after `accounts_and_keys`, which creates the account `acc`.
async fn iam_passwords(store: &dyn Store) {
    assert_eq!(store.iam_password("acc").await.unwrap(), None);
    let first = IamPassword {
        account_id: "acc".into(),
        hash: "pbkdf2-sha256$100000$00$01".into(),
        updated_ms: 10,
    };
    store
        .commit(vec![Mutation::PutIamPassword(first.clone())])
        .await
        .unwrap();
    assert_eq!(store.iam_password("acc").await.unwrap(), Some(first));
    let second = IamPassword {
        account_id: "acc".into(),
        hash: "pbkdf2-sha256$100000$02$03".into(),
        updated_ms: 20,
    };
    store
        .commit(vec![Mutation::PutIamPassword(second.clone())])
        .await
        .unwrap();
    assert_eq!(store.iam_password("acc").await.unwrap(), Some(second));
    let orphan = store
        .commit(vec![Mutation::PutIamPassword(IamPassword {
            account_id: "no-such-account".into(),
            hash: "x".into(),
            updated_ms: 1,
        })])
        .await;
    assert!(
        matches!(orphan, Err(StoreError::Conflict(_))),
        "a password for a missing account: {orphan:?}"
    );
    assert_eq!(store.iam_password("no-such-account").await.unwrap(), None);
}

async fn instances_insert_update_list(store: &dyn Store) {
    let a = instance("c-a", "acc", "alpha", 10);
    let b = instance("c-b", "acc", "beta", 20);
    let other = instance("c-o", "other", "alpha", 30);
    store
        .commit(vec![
            Mutation::InsertInstance(a.clone()),
            Mutation::InsertInstance(b.clone()),
            Mutation::InsertInstance(other),
        ])
        .await
        .unwrap();
    let again = store
        .commit(vec![Mutation::InsertInstance(a.clone())])
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));

    let got = store.instance("acc", "c-a").await.unwrap().unwrap();
    assert_eq!(got, a);
    assert!(
        store.instance("other", "c-a").await.unwrap().is_none(),
        "tenant isolation"
    );

    let mut changed = got.clone();
    changed.status = "running".into();
    changed.doc = json!({"x": 1});
    store
        .commit(vec![Mutation::UpdateInstance(changed.clone())])
        .await
        .unwrap();
    let stale = store.commit(vec![Mutation::UpdateInstance(changed)]).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict(_))),
        "stale version: {stale:?}"
    );
    let now = store.instance("acc", "c-a").await.unwrap().unwrap();
    assert_eq!((now.status.as_str(), now.version), ("running", 2));
    assert_eq!(now.doc, json!({"x": 1}));

    let all = |q: InstanceQuery| async move { store.instances(&q).await.unwrap() };
    let base = InstanceQuery {
        account_id: "acc".into(),
        product: Some(Product::StarRocks),
        ..Default::default()
    };
    let ids = |v: Vec<Instance>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(all(base.clone()).await), ["c-b", "c-a"], "newest first");
    let by_name = InstanceQuery {
        name_contains: Some("lph".into()),
        ..base.clone()
    };
    assert_eq!(ids(all(by_name).await), ["c-a"]);
    let by_status = InstanceQuery {
        status: Some("creating".into()),
        ..base.clone()
    };
    assert_eq!(ids(all(by_status).await), ["c-b"]);
    let by_id = InstanceQuery {
        id: Some("c-b".into()),
        ..base.clone()
    };
    assert_eq!(ids(all(by_id).await), ["c-b"]);

    let tagged = InstanceQuery {
        tags: vec![Tag {
            key: "k".into(),
            value: "v".into(),
        }],
        ..base.clone()
    };
    assert_eq!(ids(all(tagged).await).len(), 2);
    let any_value = InstanceQuery {
        tags: vec![Tag {
            key: "k".into(),
            value: String::new(),
        }],
        ..base.clone()
    };
    assert_eq!(ids(all(any_value).await).len(), 2);
    let wrong_value = InstanceQuery {
        tags: vec![Tag {
            key: "k".into(),
            value: "other".into(),
        }],
        ..base.clone()
    };
    assert!(all(wrong_value).await.is_empty());
    let exact = InstanceQuery {
        name_equals: Some("alpha".into()),
        ..base.clone()
    };
    assert_eq!(ids(all(exact).await), ["c-a"]);
    let page = store.instances_page(&base, 1, 5).await.unwrap();
    assert_eq!((page.total, page.items.len()), (2, 1));
    assert_eq!(page.items[0].id, "c-a", "second newest");
    let beyond = store.instances_page(&base, 5, 5).await.unwrap();
    assert_eq!((beyond.total, beyond.items.len()), (2, 0));

    let mut gone = store.instance("acc", "c-b").await.unwrap().unwrap();
    gone.deleted = true;
    store
        .commit(vec![Mutation::UpdateInstance(gone)])
        .await
        .unwrap();
    assert_eq!(
        ids(all(base).await),
        ["c-a"],
        "released instances are not listed"
    );
    assert!(store.instance("acc", "c-b").await.unwrap().unwrap().deleted);
}

async fn failed_batch_leaves_no_trace(store: &dyn Store) {
    let result = store
        .commit(vec![
            Mutation::InsertInstance(instance("c-new", "acc", "new", 40)),
            Mutation::PutJob(job("j-new", "c-new", 0)),
            Mutation::InsertInstance(instance("c-a", "acc", "dup", 40)),
        ])
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))));
    assert!(store.instance("acc", "c-new").await.unwrap().is_none());
    assert!(store
        .instance_jobs("acc", "c-new")
        .await
        .unwrap()
        .is_empty());
}

async fn jobs_are_claimed_once_and_leases_expire(store: &dyn Store) {
    store
        .commit(vec![
            Mutation::PutJob(job("j1", "c-a", 100)),
            Mutation::PutJob(job("j2", "c-a", 200)),
        ])
        .await
        .unwrap();
    assert_eq!(store.next_job_due_ms().await.unwrap(), Some(100));
    assert!(
        store
            .claim_jobs(50, "w1", 1000, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due"
    );
    let claimed = store.claim_jobs(150, "w1", 1000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, "j1");
    assert_eq!(claimed[0].state, JobState::Running);
    assert_eq!(claimed[0].lease_owner.as_deref(), Some("w1"));
    assert_eq!(claimed[0].attempts, 1);
    // Leased: nobody else gets it until the lease ends.
    let second = store.claim_jobs(300, "w2", 1000, 10).await.unwrap();
    assert_eq!(
        second.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["j2"]
    );
    let expired = store.claim_jobs(1200, "w2", 1000, 10).await.unwrap();
    assert_eq!(
        expired.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["j1"]
    );
    assert_eq!(expired[0].attempts, 2);

    let mut done = expired[0].clone();
    done.state = JobState::Succeeded;
    done.finished_ms = Some(1300);
    store.commit(vec![Mutation::PutJob(done)]).await.unwrap();
    let jobs = store.instance_jobs("acc", "c-a").await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0].state, JobState::Succeeded);
    assert!(store
        .instance_jobs("other", "c-a")
        .await
        .unwrap()
        .is_empty());
    // j2 is leased until 1300.
    assert_eq!(store.next_job_due_ms().await.unwrap(), Some(1300));
}

async fn idempotency_records(store: &dyn Store) {
    let rec = IdempotencyRecord {
        account_id: "acc".into(),
        product: Product::StarRocks,
        action: "CreateInstanceV1".into(),
        token: "tok".into(),
        request_hash: "h1".into(),
        response: "{\"InstanceId\":\"c-a\"}".into(),
        created_ms: 1000,
    };
    let insert = |r: IdempotencyRecord, expire_before_ms| Mutation::InsertIdempotency {
        record: r,
        expire_before_ms,
    };
    store.commit(vec![insert(rec.clone(), 0)]).await.unwrap();
    let dup = store.commit(vec![insert(rec.clone(), 0)]).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let got = store
        .idempotency("acc", Product::StarRocks, "CreateInstanceV1", "tok")
        .await
        .unwrap();
    assert_eq!(got, Some(rec.clone()));
    assert!(store
        .idempotency("other", Product::StarRocks, "CreateInstanceV1", "tok")
        .await
        .unwrap()
        .is_none());
    // Once expired, the token may be used again.
    let fresh = IdempotencyRecord {
        request_hash: "h2".into(),
        created_ms: 9000,
        ..rec
    };
    store
        .commit(vec![insert(fresh.clone(), 5000)])
        .await
        .unwrap();
    let got = store
        .idempotency("acc", Product::StarRocks, "CreateInstanceV1", "tok")
        .await
        .unwrap();
    assert_eq!(got, Some(fresh));
}

async fn concurrent_batches_all_commit(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for n in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("c-par-{n}");
            store
                .commit(vec![
                    Mutation::InsertInstance(instance(&id, "par", "p", 100 + n)),
                    Mutation::PutJob(job(&format!("j-par-{n}"), &id, 0)),
                ])
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let listed = store
        .instances(&InstanceQuery {
            account_id: "par".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 64);
}

pub fn order(id: &str, account_id: &str, instance_id: &str, created_ms: i64) -> Order {
    Order {
        id: id.into(),
        account_id: account_id.into(),
        product: Product::StarRocks,
        instance_id: instance_id.into(),
        kind: OrderKind::New,
        status: OrderStatus::Unpaid,
        amount_cents: 123_456,
        currency: "CNY".into(),
        period: Some(Period {
            unit: PeriodUnit::Month,
            count: 1,
        }),
        created_ms,
        paid_ms: None,
        job_id: Some("j-order".into()),
        status_on_pay: Some("creating".into()),
    }
}

/// Orders are written in the batch of the instance change they pay for, read back by id
/// and by instance (oldest first), scoped to their account, and updated in place.
async fn orders_commit_with_their_instance(store: &dyn Store) {
    store
        .commit(vec![Mutation::InsertAccount(account("ord", "orders"))])
        .await
        .unwrap();
    let first = order("o-1", "ord", "c-ord", 10);
    store
        .commit(vec![
            Mutation::InsertInstance(instance("c-ord", "ord", "paid-for", 10)),
            Mutation::PutOrder(first.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.order("ord", "o-1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.order("other", "o-1").await.unwrap(), None, "scoped");

    // A batch that fails writes neither the instance change nor the order.
    let dup = Mutation::InsertInstance(instance("c-ord", "ord", "again", 11));
    let err = store
        .commit(vec![
            Mutation::PutOrder(order("o-lost", "ord", "c-ord", 11)),
            dup,
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.order("ord", "o-lost").await.unwrap(), None);

    let mut renew = order("o-2", "ord", "c-ord", 20);
    renew.kind = OrderKind::Renew;
    let mut paid = first.clone();
    paid.pay(30).unwrap();
    store
        .commit(vec![
            Mutation::PutOrder(renew.clone()),
            Mutation::PutOrder(paid.clone()),
        ])
        .await
        .unwrap();
    let all = store.instance_orders("ord", "c-ord").await.unwrap();
    assert_eq!(all, vec![paid, renew]);
    assert!(store
        .instance_orders("other", "c-ord")
        .await
        .unwrap()
        .is_empty());
}
