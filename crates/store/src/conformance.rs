//! The behaviour every backend must show. Backends call [`run_all`] from their tests
//! with a fresh, empty store.

use std::sync::Arc;

use cloudtwin_core::billing::{Order, OrderKind, OrderStatus, Period, PeriodUnit};
use cloudtwin_core::{
    AccessKey, Account, FailedOutcome, Instance, Job, JobError, JobOutcome, JobState, Product, Tag,
};
use serde_json::json;

use crate::{
    IamPassword, IdempotencyRecord, InstanceQuery, JobQuery, Mutation, NameClaim, Store, StoreError,
};

pub async fn run_all(store: Arc<dyn Store>) {
    accounts_and_keys(store.as_ref()).await;
    iam_passwords(store.as_ref()).await;
    instances_insert_update_list(store.as_ref()).await;
    failed_batch_leaves_no_trace(store.as_ref()).await;
    jobs_are_claimed_once_and_leases_expire(store.as_ref()).await;
    claimed_jobs_are_written_only_under_their_lease(store.as_ref()).await;
    parked_jobs_wait_listed_until_stepped_once(store.as_ref()).await;
    idempotency_records(store.as_ref()).await;
    nonces_are_accepted_once_until_they_expire(store.clone()).await;
    orders_commit_with_their_instance(store.as_ref()).await;
    concurrent_batches_all_commit(store.clone()).await;
    names_are_claimed_in_the_commit(store.clone()).await;
    // Last: it ends the leases earlier tests left behind.
    ended_leases_are_taken_over_at_once(store.as_ref()).await;
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
        doc: json!({"nodeGroups": [{"cu": 8}]}).into(),
        created_ms,
        updated_ms: created_ms,
        deleted: false,
        version: 1,
    }
}

/// The lookup a [`NameClaim`] runs in the commit of a create or rename: the backends'
/// tests check that their planners take the partial name index for it.
pub fn name_lookup(product: Product) -> InstanceQuery {
    NameClaim {
        account_id: "acc".into(),
        product,
        region: Some("cn-hangzhou".into()),
        name: "n".into(),
        except_id: None,
    }
    .query()
}

pub fn job(id: &str, instance_id: &str, due_ms: i64) -> Job {
    Job {
        id: id.into(),
        account_id: "acc".into(),
        product: Product::StarRocks,
        instance_id: instance_id.into(),
        operation: "CreateInstance".into(),
        state: JobState::Pending,
        outcome: JobOutcome::new("running", None, FailedOutcome::new("creating_failed", None)),
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
    changed.doc = json!({"x": 1}).into();
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
    let hiding_a_status = InstanceQuery {
        status_not_in: vec!["creating".into(), "gone".into()],
        ..base.clone()
    };
    assert_eq!(ids(all(hiding_a_status.clone()).await), ["c-a"]);
    // A full page of one: the total is counted with the same filter.
    let page = store.instances_page(&hiding_a_status, 0, 1).await.unwrap();
    assert_eq!((ids(page.items), page.total), (vec!["c-a".to_owned()], 1));
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
    // Pages that show their total and pages that must count give the same totals.
    let page_shape = |offset: usize, limit: usize, q: InstanceQuery| async move {
        let page = store.instances_page(&q, offset, limit).await.unwrap();
        (page.total, page.items.len())
    };
    assert_eq!(page_shape(0, 1, base.clone()).await, (2, 1), "full page");
    assert_eq!(
        page_shape(1, 1, base.clone()).await,
        (2, 1),
        "full last page"
    );
    assert_eq!(page_shape(0, 0, base.clone()).await, (2, 0), "empty limit");
    assert_eq!(
        page_shape(0, 5, base.clone()).await,
        (2, 2),
        "all on one page"
    );
    let one = InstanceQuery {
        id: Some("c-a".into()),
        ..base.clone()
    };
    assert_eq!(page_shape(0, 10, one.clone()).await, (1, 1), "one by id");
    assert_eq!(page_shape(1, 10, one).await, (1, 0), "by id, past it");
    let unknown = InstanceQuery {
        id: Some("c-none".into()),
        ..base.clone()
    };
    assert_eq!(page_shape(0, 10, unknown).await, (0, 0), "unknown id");

    let mut gone = store.instance("acc", "c-b").await.unwrap().unwrap();
    gone.deleted = true;
    store
        .commit(vec![Mutation::UpdateInstance(gone)])
        .await
        .unwrap();
    assert_eq!(
        ids(all(base.clone()).await),
        ["c-a"],
        "released instances are not listed"
    );
    let with_released = InstanceQuery {
        include_released: true,
        ..base.clone()
    };
    assert_eq!(
        ids(all(with_released).await),
        ["c-b", "c-a"],
        "unless asked for"
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

/// Runs after `jobs_are_claimed_once_and_leases_expire`, which leaves `j2` leased until 1300.
async fn claimed_jobs_are_written_only_under_their_lease(store: &dyn Store) {
    store
        .commit(vec![Mutation::PutJob(job("j-lease", "c-lease", 500))])
        .await
        .unwrap();
    let ids = |jobs: &[Job]| jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>();
    let first = store.claim_jobs(600, "w1", 100, 10).await.unwrap();
    assert_eq!(ids(&first), ["j-lease"]);
    let extend = |owner: &str, attempts: i32, until_ms: i64| Mutation::ExtendLease {
        job_id: "j-lease".into(),
        owner: owner.into(),
        attempts,
        until_ms,
    };
    // A heartbeat keeps the job from being taken over...
    store.commit(vec![extend("w1", 1, 800)]).await.unwrap();
    assert!(store
        .claim_jobs(750, "w2", 100, 10)
        .await
        .unwrap()
        .is_empty());
    // ...until the lease ends; then w2 takes over and w1's writes are refused.
    let taken = store.claim_jobs(850, "w2", 100, 10).await.unwrap();
    assert_eq!(ids(&taken), ["j-lease"]);
    assert_eq!(taken[0].attempts, 2);
    let late = store.commit(vec![extend("w1", 1, 2000)]).await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    let stale_finish = Job {
        state: JobState::Succeeded,
        finished_ms: Some(900),
        lease_until_ms: 0,
        ..first[0].clone()
    };
    let refused = store
        .commit(vec![Mutation::UpdateClaimedJob {
            job: stale_finish.clone(),
            owner: "w1".into(),
        }])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // The same worker name with an older claim is refused too: the attempt tells claims apart.
    let old_claim = store
        .commit(vec![Mutation::UpdateClaimedJob {
            job: Job {
                lease_owner: Some("w2".into()),
                ..stale_finish.clone()
            },
            owner: "w2".into(),
        }])
        .await;
    assert!(
        matches!(old_claim, Err(StoreError::Conflict(_))),
        "{old_claim:?}"
    );
    let stored = store.instance_jobs("acc", "c-lease").await.unwrap();
    assert_eq!(
        (stored[0].state, stored[0].lease_owner.as_deref()),
        (JobState::Running, Some("w2"))
    );

    let done = Job {
        state: JobState::Succeeded,
        finished_ms: Some(900),
        lease_until_ms: 0,
        ..taken[0].clone()
    };
    store
        .commit(vec![Mutation::UpdateClaimedJob {
            job: done.clone(),
            owner: "w2".into(),
        }])
        .await
        .unwrap();
    assert_eq!(store.instance_jobs("acc", "c-lease").await.unwrap(), [done]);
    // Finished: no claim, no second finish, no heartbeat.
    let again = store
        .commit(vec![Mutation::UpdateClaimedJob {
            job: taken[0].clone(),
            owner: "w2".into(),
        }])
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let beat = store.commit(vec![extend("w2", 2, 5000)]).await;
    assert!(matches!(beat, Err(StoreError::Conflict(_))), "{beat:?}");
    assert!(store
        .claim_jobs(1200, "w3", 100, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn ended_leases_are_taken_over_at_once(store: &dyn Store) {
    // Far in the future, so jobs earlier tests left due are claimed here too.
    const T: i64 = 1_000_000;
    store
        .commit(vec![Mutation::PutJob(job("j-crash", "c-crash", T))])
        .await
        .unwrap();
    let crashed = |jobs: &[Job]| jobs.iter().find(|j| j.id == "j-crash").cloned();
    let first = store.claim_jobs(T, "dead", 30_000, 100).await.unwrap();
    let first = crashed(&first).expect("j-crash is claimed");
    assert_eq!(
        crashed(&store.claim_jobs(T + 1, "next", 30_000, 100).await.unwrap()),
        None
    );
    assert!(store.end_leases().await.unwrap() >= 1);
    let taken = crashed(&store.claim_jobs(T + 1, "next", 30_000, 100).await.unwrap())
        .expect("j-crash is taken over at once");
    assert_eq!(taken.attempts, 2);
    // The dead holder's finish is refused: the attempt count moved on.
    let late = store
        .commit(vec![Mutation::UpdateClaimedJob {
            job: Job {
                state: JobState::Succeeded,
                finished_ms: Some(T + 2),
                ..first
            },
            owner: "dead".into(),
        }])
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    let done = Job {
        state: JobState::Succeeded,
        finished_ms: Some(T + 3),
        lease_until_ms: 0,
        ..taken
    };
    store
        .commit(vec![Mutation::UpdateClaimedJob {
            job: done.clone(),
            owner: "next".into(),
        }])
        .await
        .unwrap();
    assert_eq!(store.instance_jobs("acc", "c-crash").await.unwrap(), [done]);
}

async fn parked_jobs_wait_listed_until_stepped_once(store: &dyn Store) {
    let parked = |id: &str, created_ms: i64| Job {
        product: Product::Havenask,
        state: JobState::Parked,
        created_ms,
        ..job(id, "c-p", 0)
    };
    let mut failing = job("p-fail", "c-q", 0);
    failing.outcome.error = Some(JobError {
        code: "Boom.1".into(),
        message: "injected".into(),
    });
    store
        .commit(vec![
            Mutation::PutJob(parked("p2", 20)),
            Mutation::PutJob(parked("p1", 10)),
            Mutation::PutJob(failing),
        ])
        .await
        .unwrap();
    let claimed = store.claim_jobs(10_000, "w1", 1000, 100).await.unwrap();
    assert!(
        claimed.iter().all(|j| j.instance_id != "c-p"),
        "a parked job is never claimed"
    );
    let failing = claimed.iter().find(|j| j.id == "p-fail").expect("claimed");
    assert_eq!(
        failing.outcome.error.as_ref().map(|e| e.code.as_str()),
        Some("Boom.1"),
        "the planned failure is stored with the job"
    );

    let query = JobQuery {
        state: Some(JobState::Parked),
        limit: 10,
        ..JobQuery::default()
    };
    let listed = store.jobs(&query).await.unwrap();
    assert_eq!(
        listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        ["p1", "p2"],
        "oldest first"
    );
    let by_instance = JobQuery {
        instance_id: Some("c-p".into()),
        product: Some(Product::Havenask),
        limit: 1,
        ..JobQuery::default()
    };
    assert_eq!(store.jobs(&by_instance).await.unwrap()[0].id, "p1");
    let other_product = JobQuery {
        instance_id: Some("c-p".into()),
        product: Some(Product::StarRocks),
        limit: 10,
        ..JobQuery::default()
    };
    assert!(store.jobs(&other_product).await.unwrap().is_empty());

    let step = || Mutation::UnparkJob {
        id: "p1".into(),
        due_ms: 20_000,
    };
    store.commit(vec![step()]).await.unwrap();
    assert!(
        matches!(
            store.commit(vec![step()]).await,
            Err(StoreError::Conflict(_))
        ),
        "a job is stepped once"
    );
    assert!(matches!(
        store
            .commit(vec![Mutation::UnparkJob {
                id: "missing".into(),
                due_ms: 0
            }])
            .await,
        Err(StoreError::Conflict(_))
    ));
    let by_id = JobQuery {
        id: Some("p1".into()),
        limit: 1,
        ..JobQuery::default()
    };
    let stepped = store.jobs(&by_id).await.unwrap();
    assert_eq!(stepped[0].state, JobState::Pending);
    assert_eq!(stepped[0].due_ms, 20_000);
    let claimed = store.claim_jobs(20_000, "w1", 1000, 100).await.unwrap();
    assert!(claimed.iter().any(|j| j.id == "p1"));
    assert!(claimed.iter().all(|j| j.id != "p2"));
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

async fn nonces_are_accepted_once_until_they_expire(store: Arc<dyn Store>) {
    let nonce = |ak: &str, n: &str, expires_ms: i64, now_ms: i64| {
        vec![Mutation::InsertNonce {
            access_key_id: ak.into(),
            nonce: n.into(),
            expires_ms,
            now_ms,
        }]
    };
    let conflict = |r: crate::Result<()>| matches!(r, Err(StoreError::Conflict(_)));
    store
        .commit(nonce("AK1", "n1", 2_000, 1_000))
        .await
        .unwrap();
    assert!(conflict(
        store.commit(nonce("AK1", "n1", 3_000, 1_500)).await
    ));
    store
        .commit(nonce("AK2", "n1", 2_000, 1_500))
        .await
        .unwrap();
    store
        .commit(nonce("AK1", "n2", 2_000, 1_500))
        .await
        .unwrap();
    // Expired at 2_000: accepted again, and kept until its new expiry.
    store
        .commit(nonce("AK1", "n1", 5_000, 2_000))
        .await
        .unwrap();
    assert!(conflict(
        store.commit(nonce("AK1", "n1", 6_000, 4_999)).await
    ));
    // A purge drops only what has expired.
    store
        .commit(vec![Mutation::PurgeNonces { now_ms: 2_500 }])
        .await
        .unwrap();
    assert!(conflict(
        store.commit(nonce("AK1", "n1", 6_000, 3_000)).await
    ));
    store
        .commit(nonce("AK2", "n1", 6_000, 3_000))
        .await
        .unwrap();

    // The same fresh nonce sent many times at once is accepted exactly once.
    let mut tries = Vec::new();
    for _ in 0..16 {
        let store = store.clone();
        tries.push(tokio::spawn(async move {
            store
                .commit(vec![Mutation::InsertNonce {
                    access_key_id: "AK1".into(),
                    nonce: "race".into(),
                    expires_ms: 9_000,
                    now_ms: 3_000,
                }])
                .await
        }));
    }
    let mut accepted = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(()) => accepted += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(accepted, 1);
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

async fn names_are_claimed_in_the_commit(store: Arc<dyn Store>) {
    fn named(id: &str, region: &str, name: &str) -> Instance {
        Instance {
            product: Product::RocketMq,
            region: region.into(),
            ..instance(id, "names", name, 1)
        }
    }
    fn claim(region: Option<&str>, name: &str, except_id: Option<&str>) -> Mutation {
        Mutation::RequireNameFree(NameClaim {
            account_id: "names".into(),
            product: Product::RocketMq,
            region: region.map(Into::into),
            name: name.into(),
            except_id: except_id.map(Into::into),
        })
    }
    let create = |id: &str, region: &'static str, name: &str| {
        vec![
            claim(Some(region), name, None),
            Mutation::InsertInstance(named(id, region, name)),
        ]
    };
    let taken = |holder: &str| StoreError::NameTaken {
        name: "n".into(),
        holder_id: holder.into(),
    };
    store.commit(create("c-n1", "r1", "n")).await.unwrap();
    assert_eq!(
        store.commit(create("c-n2", "r1", "n")).await,
        Err(taken("c-n1"))
    );
    assert!(
        store.instance("names", "c-n2").await.unwrap().is_none(),
        "a refused claim leaves no trace"
    );
    store.commit(create("c-n3", "r2", "n")).await.unwrap();
    store.commit(create("c-n4", "r1", "other")).await.unwrap();
    let anywhere = store.commit(vec![claim(None, "n", Some("c-n3"))]).await;
    assert_eq!(
        anywhere,
        Err(taken("c-n1")),
        "without a region, every region counts"
    );
    assert_eq!(
        store
            .commit(vec![claim(Some("r1"), "n", Some("c-n1"))])
            .await,
        Ok(()),
        "an instance does not block its own name"
    );
    // A rename checks the new name in the same commit as the update.
    let mut renamed = named("c-n4", "r1", "n");
    assert_eq!(
        store
            .commit(vec![
                claim(Some("r1"), "n", Some("c-n4")),
                Mutation::UpdateInstance(renamed.clone()),
            ])
            .await,
        Err(taken("c-n1"))
    );
    let mut released = named("c-n1", "r1", "n");
    released.deleted = true;
    store
        .commit(vec![Mutation::UpdateInstance(released)])
        .await
        .unwrap();
    renamed.name = "n".into();
    store
        .commit(vec![
            claim(Some("r1"), "n", Some("c-n4")),
            Mutation::UpdateInstance(renamed),
        ])
        .await
        .expect("a released instance holds no name");
    let other_product = Mutation::RequireNameFree(NameClaim {
        product: Product::Openanalytics,
        ..match claim(Some("r1"), "n", None) {
            Mutation::RequireNameFree(c) => c,
            _ => unreachable!(),
        }
    });
    store.commit(vec![other_product]).await.unwrap();

    // Claims of one name that arrive together: exactly one commits.
    let mut tasks = Vec::new();
    for n in 0..16 {
        let store = store.clone();
        let batch = create(&format!("c-race-{n}"), "r3", "race");
        tasks.push(tokio::spawn(async move { store.commit(batch).await }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::NameTaken { name, .. }) => assert_eq!(name, "race"),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
    let holders = store
        .instances(&InstanceQuery {
            account_id: "names".into(),
            region: Some("r3".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(holders.len(), 1);
}

/// Readiness, reset, counts and snapshots. Takes two fresh, empty stores of the backend.
/// Every table of a backend's schema (its own bookkeeping aside). Snapshots and resets
/// were written table by table: each backend's test compares its schema with this list,
/// so a new table fails it until the table is placed here and handled in `export`,
/// `import` and `reset` (and covered in [`operations`]).
pub const STATE_TABLES: &[&str] = &[
    "access_keys",
    "accounts",
    "iam_passwords",
    "idempotency",
    "instances",
    "jobs",
    "orders",
];
/// Tables that are not state: never exported, cleared by a full reset. Signature nonces
/// are replay protection for requests in flight and expire within minutes.
pub const TRANSIENT_TABLES: &[&str] = &["nonces"];

/// Checks a backend's table names (sorted) against [`STATE_TABLES`] and [`TRANSIENT_TABLES`].
pub fn assert_schema_is_covered(mut tables: Vec<String>) {
    tables.sort();
    let mut known: Vec<&str> = STATE_TABLES
        .iter()
        .chain(TRANSIENT_TABLES)
        .copied()
        .collect();
    known.sort_unstable();
    assert_eq!(
        tables, known,
        "a table was added or removed: decide whether snapshots carry it, make export, import \
         and reset handle it on every backend, and update STATE_TABLES or TRANSIENT_TABLES"
    );
}

pub async fn operations(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    use crate::{ResetScope, StateDump};

    a.ping().await.unwrap();
    fill_for_operations(a.as_ref()).await;
    assert!(
        matches!(
            a.commit(vec![ops_nonce()]).await,
            Err(StoreError::Conflict(_))
        ),
        "the filled nonce is live"
    );

    let counts = a.state_counts().await.unwrap();
    assert_eq!(
        counts.jobs,
        vec![(JobState::Pending, 1), (JobState::Succeeded, 2)],
        "jobs by state, ordered by state name"
    );
    assert_eq!(
        counts.instances,
        vec![
            (Product::RocketMq, "RUNNING".to_owned(), 1),
            (Product::StarRocks, "running".to_owned(), 2),
        ],
        "live instances only"
    );

    let all = a.export(None).await.unwrap();
    assert_eq!(all.accounts.len(), 2);
    assert_eq!(all.access_keys.len(), 2);
    assert_eq!(all.iam_passwords.len(), 1);
    assert_eq!(
        all.instances.len(),
        4,
        "released instances are exported too"
    );
    assert_eq!(all.jobs.len(), 3);
    assert_eq!(all.idempotency.len(), 2);
    assert_eq!(
        all.orders.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["ops-o1", "ops-o2", "ops-o3"],
        "orders, oldest first"
    );
    assert_eq!(
        all.orders[1],
        a.order("ops-1", "ops-o2").await.unwrap().unwrap(),
        "exported as stored, payment included"
    );
    let stored = a.instance("ops-1", "ops-i3").await.unwrap().unwrap();
    assert_eq!(
        all.instances.iter().find(|i| i.id == "ops-i3"),
        Some(&stored),
        "exported as stored, version included"
    );

    let one = a.export(Some("ops-2")).await.unwrap();
    assert_eq!(one.accounts.len(), 1);
    assert_eq!(one.accounts[0].id, "ops-2");
    assert!(one.access_keys.iter().all(|k| k.account_id == "ops-2"));
    assert_eq!(one.instances.len(), 1);
    assert_eq!(one.jobs.len(), 1);
    assert!(one.iam_passwords.is_empty());
    assert!(one.idempotency.is_empty());
    assert_eq!(one.orders.len(), 1);
    assert_eq!(one.orders[0].account_id, "ops-2");

    b.import(all.clone()).await.unwrap();
    assert_eq!(
        b.export(None).await.unwrap(),
        all,
        "import writes rows as they are"
    );
    assert_eq!(
        b.instance_orders("ops-1", "ops-i1").await.unwrap().len(),
        2,
        "imported orders are read by instance"
    );
    let imported = b.instance("ops-1", "ops-i3").await.unwrap().unwrap();
    let mut next = imported.clone();
    next.status = "stopped".into();
    b.commit(vec![Mutation::UpdateInstance(next)])
        .await
        .expect("the imported version is the one to update from");

    let again = b.import(all.clone()).await;
    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "import into a store that holds accounts: {again:?}"
    );
    let mut bad = StateDump {
        instances: all.instances.clone(),
        ..StateDump::default()
    };
    bad.instances.push(all.instances[0].clone());

    a.reset(ResetScope::Product(Product::StarRocks))
        .await
        .unwrap();
    let after = a.export(None).await.unwrap();
    assert_eq!(after.accounts.len(), 2, "accounts stay");
    assert_eq!(after.access_keys.len(), 2, "keys stay");
    assert_eq!(after.iam_passwords.len(), 1);
    assert!(after
        .instances
        .iter()
        .all(|i| i.product == Product::RocketMq));
    assert_eq!(after.instances.len(), 1);
    assert!(after.jobs.iter().all(|j| j.product == Product::RocketMq));
    assert!(after
        .idempotency
        .iter()
        .all(|r| r.product == Product::RocketMq));
    assert_eq!(after.idempotency.len(), 1);
    assert_eq!(
        after
            .orders
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ["ops-o3"],
        "the product's orders go, the others stay"
    );

    a.reset(ResetScope::All).await.unwrap();
    assert!(a.export(None).await.unwrap().is_empty());
    assert_eq!(a.state_counts().await.unwrap(), Default::default());
    a.commit(vec![ops_nonce()])
        .await
        .expect("a full reset forgets signature nonces too");

    // A failed import leaves nothing behind: the duplicate instance fails the whole dump.
    let failed = a.import(bad).await;
    assert!(failed.is_err(), "a duplicate row fails the import");
    assert!(a.export(None).await.unwrap().is_empty());
    let mut twice = all.clone();
    twice.orders.push(all.orders[0].clone());
    let failed = a.import(twice).await;
    assert!(
        matches!(failed, Err(StoreError::Conflict(_))),
        "a duplicate order fails the import: {failed:?}"
    );
    assert!(a.export(None).await.unwrap().is_empty());
    a.import(all.clone()).await.unwrap();
    assert_eq!(a.export(None).await.unwrap(), all);
}

async fn fill_for_operations(store: &dyn Store) {
    let mut batch = vec![
        Mutation::InsertAccount(account("ops-1", "ops-one")),
        Mutation::InsertAccount(Account {
            created_ms: 2,
            ..account("ops-2", "ops-two")
        }),
    ];
    for (id, acc) in [("AKOPS1", "ops-1"), ("AKOPS2", "ops-2")] {
        batch.push(Mutation::PutAccessKey(AccessKey {
            id: id.into(),
            account_id: acc.into(),
            secret_ciphertext: vec![1, 2, 3, id.len() as u8],
            created_ms: 3,
        }));
    }
    batch.push(Mutation::PutIamPassword(IamPassword {
        account_id: "ops-1".into(),
        hash: "pbkdf2-sha256$1$00$00".into(),
        updated_ms: 4,
    }));
    let mut running1 = instance("ops-i1", "ops-1", "one", 10);
    running1.status = "running".into();
    let mut running2 = instance("ops-i2", "ops-1", "two", 11);
    running2.status = "running".into();
    let mut released = instance("ops-i3", "ops-1", "three", 12);
    released.deleted = true;
    released.status = "deleted".into();
    let mut mq = instance("ops-i4", "ops-2", "mq", 13);
    mq.product = Product::RocketMq;
    mq.status = "RUNNING".into();
    for i in [running1, running2, released, mq] {
        batch.push(Mutation::InsertInstance(i));
    }
    let mut j1 = job("ops-j1", "ops-i1", 100);
    j1.account_id = "ops-1".into();
    j1.state = JobState::Succeeded;
    j1.finished_ms = Some(100);
    let mut j2 = job("ops-j2", "ops-i2", 200);
    j2.account_id = "ops-1".into();
    j2.state = JobState::Succeeded;
    j2.finished_ms = Some(200);
    let mut j3 = job("ops-j3", "ops-i4", 300);
    j3.account_id = "ops-2".into();
    j3.product = Product::RocketMq;
    for j in [j1, j2, j3] {
        batch.push(Mutation::PutJob(j));
    }
    for (product, token) in [(Product::StarRocks, "t1"), (Product::RocketMq, "t2")] {
        batch.push(Mutation::InsertIdempotency {
            record: IdempotencyRecord {
                account_id: "ops-1".into(),
                product,
                action: "Create".into(),
                token: token.into(),
                request_hash: "h".into(),
                response: "{}".into(),
                created_ms: 5,
            },
            expire_before_ms: 0,
        });
    }
    let o1 = order("ops-o1", "ops-1", "ops-i1", 20);
    let mut o2 = order("ops-o2", "ops-1", "ops-i1", 21);
    o2.kind = OrderKind::Renew;
    o2.pay(22).unwrap();
    let mut o3 = order("ops-o3", "ops-2", "ops-i4", 23);
    o3.product = Product::RocketMq;
    o3.job_id = None;
    for o in [o1, o2, o3] {
        batch.push(Mutation::PutOrder(o));
    }
    batch.push(ops_nonce());
    store.commit(batch).await.unwrap();
    // Bump a version so the export must carry it.
    let mut i3 = store.instance("ops-1", "ops-i3").await.unwrap().unwrap();
    i3.name = "three-renamed".into();
    store
        .commit(vec![Mutation::UpdateInstance(i3)])
        .await
        .unwrap();
}

/// A nonce that is live for the whole test: recording it twice conflicts until a reset.
fn ops_nonce() -> Mutation {
    Mutation::InsertNonce {
        access_key_id: "AKOPS1".into(),
        nonce: "ops-nonce".into(),
        expires_ms: i64::MAX,
        now_ms: 0,
    }
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
    assert_eq!(all, vec![paid.clone(), renew.clone()]);

    // An id collision (another instance's or time's order) is refused, not an overwrite.
    for (instance_id, created_ms) in [("c-other", 20), ("c-ord", 21)] {
        let mut clash = order("o-2", "ord", instance_id, created_ms);
        clash.amount_cents = 1;
        let err = store
            .commit(vec![Mutation::PutOrder(clash)])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
    assert_eq!(store.order("ord", "o-2").await.unwrap(), Some(renew));
    assert!(store
        .instance_orders("other", "c-ord")
        .await
        .unwrap()
        .is_empty());
}
