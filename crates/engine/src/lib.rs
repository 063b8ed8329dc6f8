//! The lifecycle engine: workers lease due jobs from the store, let the provisioner do
//! the work, and apply each job's outcome to its instance in the same commit that
//! finishes the job. Jobs are durable, so a restart resumes whatever was under way.

mod provisioner;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cloudtwin_core::{Clock, Instance, Job, JobOutcome, JobState, Lifecycle, TransitionKind};
use cloudtwin_store::{Mutation, Store, StoreError};
use tokio::sync::{watch, Notify};

pub use provisioner::{Provisioner, Simulated};

/// How long a worker holds a job before another may take it over.
const LEASE_MS: i64 = 30_000;
/// Longest sleep between polls, so jobs written by another process are noticed.
const MAX_IDLE_MS: i64 = 1_000;
const CLAIM_BATCH: usize = 64;
const MAX_ATTEMPTS: i32 = 8;

pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    lifecycle: Lifecycle,
    provisioner: Arc<dyn Provisioner>,
    owner: String,
    lease_ms: i64,
    wake: Notify,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        lifecycle: Lifecycle,
        provisioner: Arc<dyn Provisioner>,
        owner: String,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock,
            lifecycle,
            provisioner,
            owner,
            lease_ms: LEASE_MS,
            wake: Notify::new(),
        })
    }

    /// The same engine with leases of `lease_ms` (renewed every third of it); call before
    /// the engine is shared.
    pub fn with_lease_ms(mut self: Arc<Self>, lease_ms: i64) -> Arc<Self> {
        Arc::get_mut(&mut self)
            .expect("the lease is set before the engine is shared")
            .lease_ms = lease_ms.max(3);
        self
    }

    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    /// A new pending job that turns `instance` into `outcome` after the mode's delay.
    pub fn job(
        &self,
        id: String,
        instance: &Instance,
        operation: &str,
        kind: TransitionKind,
        outcome: JobOutcome,
    ) -> Job {
        let now = self.clock.now_ms();
        Job {
            id,
            account_id: instance.account_id.clone(),
            product: instance.product,
            instance_id: instance.id.clone(),
            operation: operation.to_owned(),
            state: JobState::Pending,
            outcome,
            created_ms: now,
            due_ms: now + self.lifecycle.delay_ms(kind),
            finished_ms: None,
            attempts: 0,
            lease_owner: None,
            lease_until_ms: 0,
        }
    }

    /// Tells the workers a job was just committed.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Runs the worker loop until `shutdown` turns true.
    pub fn spawn(
        self: &Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                if *shutdown.borrow() {
                    return;
                }
                let sleep_ms = match engine.run_due().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => engine.idle_ms().await,
                    Err(e) => {
                        tracing::warn!(error = %e, "job worker could not reach the store");
                        MAX_IDLE_MS
                    }
                };
                tokio::select! {
                    _ = engine.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(sleep_ms as u64)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        })
    }

    async fn idle_ms(&self) -> i64 {
        match self.store.next_job_due_ms().await {
            Ok(Some(due)) => (due - self.clock.now_ms()).clamp(1, MAX_IDLE_MS),
            _ => MAX_IDLE_MS,
        }
    }

    /// Claims and runs every job that is due now; returns how many it ran.
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_ms();
        let jobs = self
            .store
            .claim_jobs(now, &self.owner, self.lease_ms, CLAIM_BATCH)
            .await?;
        let n = jobs.len();
        // Together, so their commits share the writer's group commits.
        let results =
            futures_util::future::join_all(jobs.into_iter().map(|job| self.run(job))).await;
        for e in results.into_iter().filter_map(Result::err) {
            tracing::warn!(error = %e, "job could not be finished; it will be retried");
        }
        Ok(n)
    }

    async fn run(&self, job: Job) -> Result<(), StoreError> {
        let Some(instance) = self
            .store
            .instance(&job.account_id, &job.instance_id)
            .await?
        else {
            return self.finish(job, JobState::Failed, None).await;
        };
        let advanced = self
            .holding_lease(&job, self.provisioner.advance(&job, &instance))
            .await;
        let Some(advanced) = advanced else {
            tracing::info!(job = %job.id, "another worker took the job over; dropped here");
            return Ok(());
        };
        match advanced {
            Ok(()) => self.finish(job, JobState::Succeeded, Some(instance)).await,
            Err(reason) if job.attempts >= MAX_ATTEMPTS => {
                tracing::error!(job = %job.id, %reason, "job failed for good");
                self.finish(job, JobState::Failed, None).await
            }
            Err(reason) => {
                let backoff = 1_000i64 << job.attempts.clamp(0, 6);
                tracing::warn!(job = %job.id, %reason, backoff_ms = backoff, "job step failed; retrying");
                let job_id = job.id.clone();
                let retry = Job {
                    state: JobState::Pending,
                    due_ms: self.clock.now_ms() + backoff,
                    lease_owner: None,
                    lease_until_ms: 0,
                    ..job
                };
                let given_back = Mutation::UpdateClaimedJob {
                    job: retry,
                    owner: self.owner.clone(),
                };
                match self.store.commit(vec![given_back]).await {
                    // Only the lease check can conflict: another worker has the job now.
                    Err(StoreError::Conflict(_)) => {
                        tracing::info!(job = %job_id, "another worker took the job over; dropped here");
                        Ok(())
                    }
                    other => other,
                }
            }
        }
    }

    /// Runs `work` while renewing the job's lease every third of its length, so a long
    /// provisioning step is not taken over. `None` once the lease is lost: the work is
    /// dropped unfinished and the new owner carries the job on.
    async fn holding_lease<T>(&self, job: &Job, work: impl Future<Output = T>) -> Option<T> {
        let period = Duration::from_millis((self.lease_ms / 3).max(1) as u64);
        let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return Some(out),
                _ = beat.tick() => {
                    let renew = Mutation::ExtendLease {
                        job_id: job.id.clone(),
                        owner: self.owner.clone(),
                        attempts: job.attempts,
                        until_ms: self.clock.now_ms() + self.lease_ms,
                    };
                    match self.store.commit(vec![renew]).await {
                        Ok(()) => {}
                        Err(StoreError::Conflict(_)) => return None,
                        // The lease may still hold; if it lapses, the finish is refused.
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "lease not renewed"),
                    }
                }
            }
        }
    }

    /// Whether this worker's claim is still the job's lease (after a conflicting write).
    async fn still_leased(&self, job: &Job) -> Result<bool, StoreError> {
        let jobs = self
            .store
            .instance_jobs(&job.account_id, &job.instance_id)
            .await?;
        Ok(jobs.iter().any(|j| {
            j.id == job.id
                && j.state == JobState::Running
                && j.attempts == job.attempts
                && j.lease_owner.as_deref() == Some(self.owner.as_str())
        }))
    }

    /// Ends the job; on success its outcome lands on the instance in the same commit.
    /// Only while the claim still holds: a job taken over by another worker is left to it.
    async fn finish(
        &self,
        job: Job,
        state: JobState,
        instance: Option<Instance>,
    ) -> Result<(), StoreError> {
        let mut instance = instance;
        for _ in 0..8 {
            let now = self.clock.now_ms();
            let mut done = Job {
                state,
                finished_ms: Some(now),
                // Kept: who finished the job.
                lease_owner: Some(self.owner.clone()),
                lease_until_ms: 0,
                ..job.clone()
            };
            // The document now lives on the instance; the history needs only the status.
            done.outcome.doc = None;
            let mut batch = vec![Mutation::UpdateClaimedJob {
                job: done,
                owner: self.owner.clone(),
            }];
            if let Some(mut inst) = instance.take() {
                apply_outcome(&mut inst, &job.outcome, now);
                batch.insert(0, Mutation::UpdateInstance(inst));
            }
            match self.store.commit(batch).await {
                Err(StoreError::Conflict(_)) if !self.still_leased(&job).await? => {
                    tracing::info!(job = %job.id, "another worker took the job over; dropped here");
                    return Ok(());
                }
                // Someone changed the instance meanwhile (a rename, a tag): re-read and apply again.
                Err(StoreError::Conflict(_)) if state == JobState::Succeeded => {
                    instance = self
                        .store
                        .instance(&job.account_id, &job.instance_id)
                        .await?;
                }
                other => return other,
            }
        }
        Err(StoreError::Conflict(format!(
            "instance {} kept changing",
            job.instance_id
        )))
    }
}

fn apply_outcome(instance: &mut Instance, outcome: &JobOutcome, now_ms: i64) {
    instance.status = outcome.status.clone();
    if let Some(doc) = &outcome.doc {
        instance.doc = doc.clone();
    }
    if outcome.remove {
        instance.deleted = true;
    }
    instance.updated_ms = now_ms;
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudtwin_core::{ManualClock, Product};
    use cloudtwin_store::SqliteStore;
    use serde_json::json;

    fn instance() -> Instance {
        Instance {
            id: "c-1".into(),
            account_id: "acc".into(),
            product: Product::StarRocks,
            region: "cn-hangzhou".into(),
            name: "n".into(),
            status: "creating".into(),
            resource_group_id: String::new(),
            tags: vec![],
            doc: json!({"cu": 8}),
            created_ms: 0,
            updated_ms: 0,
            deleted: false,
            version: 1,
        }
    }

    async fn setup(
        lifecycle: Lifecycle,
    ) -> (tempfile::TempDir, Arc<dyn Store>, ManualClock, Arc<Engine>) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).unwrap());
        let clock = ManualClock::new(1_000);
        let engine = Engine::new(
            store.clone(),
            Arc::new(clock.clone()),
            lifecycle,
            Arc::new(Simulated),
            "test".into(),
        );
        (dir, store, clock, engine)
    }

    #[tokio::test]
    async fn job_applies_outcome_when_due() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Fixed(5_000)).await;
        let inst = instance();
        let outcome = JobOutcome {
            status: "running".into(),
            doc: Some(json!({"cu": 16})),
            remove: false,
        };
        let job = engine.job(
            "j1".into(),
            &inst,
            "CreateInstance",
            TransitionKind::Create,
            outcome,
        );
        assert_eq!(job.due_ms, 6_000);
        store
            .commit(vec![Mutation::InsertInstance(inst), Mutation::PutJob(job)])
            .await
            .unwrap();
        assert_eq!(engine.run_due().await.unwrap(), 0, "not due yet");
        clock.advance(5_000);
        assert_eq!(engine.run_due().await.unwrap(), 1);
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.status, "running");
        assert_eq!(got.doc, json!({"cu": 16}));
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs[0].state, JobState::Succeeded);
        assert_eq!(jobs[0].finished_ms, Some(6_000));
        assert_eq!(
            engine.run_due().await.unwrap(),
            0,
            "a finished job never runs again"
        );
    }

    #[tokio::test]
    async fn outcome_survives_a_concurrent_rename() {
        let (_dir, store, _clock, engine) = setup(Lifecycle::Instant).await;
        let inst = instance();
        let outcome = JobOutcome {
            status: "deleting-done".into(),
            doc: None,
            remove: true,
        };
        let job = engine.job(
            "j1".into(),
            &inst,
            "ReleaseInstance",
            TransitionKind::Delete,
            outcome,
        );
        store
            .commit(vec![
                Mutation::InsertInstance(inst.clone()),
                Mutation::PutJob(job),
            ])
            .await
            .unwrap();
        let claimed = store.claim_jobs(1_000, "test", LEASE_MS, 10).await.unwrap();
        let stale = store.instance("acc", "c-1").await.unwrap();
        let mut renamed = stale.clone().unwrap();
        renamed.name = "renamed".into();
        store
            .commit(vec![Mutation::UpdateInstance(renamed)])
            .await
            .unwrap();
        engine
            .finish(claimed[0].clone(), JobState::Succeeded, stale)
            .await
            .unwrap();
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert!(got.deleted);
        assert_eq!(got.name, "renamed");
    }

    fn running_outcome() -> JobOutcome {
        JobOutcome {
            status: "running".into(),
            doc: None,
            remove: false,
        }
    }

    async fn engine_named(
        store: &Arc<dyn Store>,
        clock: &ManualClock,
        provisioner: Arc<dyn Provisioner>,
        owner: &str,
        lease_ms: i64,
    ) -> Arc<Engine> {
        Engine::new(
            store.clone(),
            Arc::new(clock.clone()),
            Lifecycle::Instant,
            provisioner,
            owner.into(),
        )
        .with_lease_ms(lease_ms)
    }

    /// Holds every job until the test lets one through.
    struct Gate(tokio::sync::Semaphore);

    #[async_trait::async_trait]
    impl Provisioner for Gate {
        async fn advance(&self, _job: &Job, _instance: &Instance) -> Result<(), String> {
            self.0.acquire().await.expect("gate open").forget();
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_job_taken_over_is_finished_once_by_its_new_owner() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Instant).await;
        let inst = instance();
        let job = engine.job(
            "j1".into(),
            &inst,
            "CreateInstance",
            TransitionKind::Create,
            running_outcome(),
        );
        store
            .commit(vec![
                Mutation::InsertInstance(inst.clone()),
                Mutation::PutJob(job),
            ])
            .await
            .unwrap();
        // The first worker claims the job, then stalls past its lease.
        let stalled = store.claim_jobs(1_000, "test", 1_000, 10).await.unwrap();
        clock.advance(1_500);
        let other = engine_named(&store, &clock, Arc::new(Simulated), "other", 1_000).await;
        assert_eq!(other.run_due().await.unwrap(), 1);
        // The stalled worker wakes up and tries to finish: dropped, nothing applied twice.
        engine
            .finish(stalled[0].clone(), JobState::Succeeded, Some(inst.clone()))
            .await
            .unwrap();
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!((got.status.as_str(), got.version), ("running", 2));
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].state, JobState::Succeeded);
        assert_eq!(
            jobs[0].lease_owner.as_deref(),
            Some("other"),
            "who finished it"
        );
        assert_eq!(jobs[0].attempts, 2, "claimed twice, finished once");
    }

    async fn wait_for<F, Fut>(mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..500 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not met within 5 s");
    }

    #[tokio::test]
    async fn a_long_step_keeps_its_lease_and_a_lost_lease_stops_the_worker() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).unwrap());
        let clock = ManualClock::new(1_000);
        let gate = Arc::new(Gate(tokio::sync::Semaphore::new(0)));
        let engine = engine_named(&store, &clock, gate.clone(), "slow", 300).await;
        let inst = instance();
        let job = engine.job(
            "j1".into(),
            &inst,
            "CreateInstance",
            TransitionKind::Create,
            running_outcome(),
        );
        store
            .commit(vec![Mutation::InsertInstance(inst), Mutation::PutJob(job)])
            .await
            .unwrap();
        let worker = tokio::spawn({
            let engine = engine.clone();
            async move { engine.run_due().await }
        });
        let lease_of = |id: &'static str| {
            let store = store.clone();
            async move {
                let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
                let job = jobs.into_iter().find(|j| j.id == id).unwrap();
                (job.lease_owner, job.lease_until_ms)
            }
        };
        let slow = Some("slow".to_string());
        wait_for(|| async { lease_of("j1").await == (slow.clone(), 1_300) }).await;
        // Heartbeats every 100 ms (real time) renew the lease from the clock.
        clock.advance(200);
        wait_for(|| async { lease_of("j1").await.1 == 1_500 }).await;
        clock.advance(200);
        assert!(
            store
                .claim_jobs(clock.now_ms(), "thief", 300, 10)
                .await
                .unwrap()
                .is_empty(),
            "past the first lease end, the renewed lease still holds"
        );
        gate.0.add_permits(1);
        assert_eq!(worker.await.unwrap().unwrap(), 1);
        let done = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(done[0].state, JobState::Succeeded);
        assert_eq!(done[0].lease_owner.as_deref(), Some("slow"));

        // A second job whose lease lapses (the clock jumps) and is taken over before the
        // next heartbeat: the heartbeat finds out, and the worker drops the job unfinished.
        let inst = store.instance("acc", "c-1").await.unwrap().unwrap();
        let job = engine.job(
            "j2".into(),
            &inst,
            "ModifyCu",
            TransitionKind::Change,
            running_outcome(),
        );
        store.commit(vec![Mutation::PutJob(job)]).await.unwrap();
        let worker = tokio::spawn({
            let engine = engine.clone();
            async move { engine.run_due().await }
        });
        wait_for(|| async { lease_of("j2").await.0 == slow }).await;
        clock.advance(10_000);
        // Beyond any renewal made at the current time, so the thief wins whatever the timing.
        let taken = store
            .claim_jobs(clock.now_ms() + 1_000, "thief", 60_000, 10)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        let ran = tokio::time::timeout(Duration::from_secs(2), worker).await;
        assert_eq!(ran.expect("the worker stops").unwrap().unwrap(), 1);
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(
            (jobs[1].state, jobs[1].lease_owner.as_deref()),
            (JobState::Running, Some("thief"))
        );
        assert_eq!(gate.0.available_permits(), 0);
    }

    #[tokio::test]
    async fn a_job_without_its_instance_fails() {
        let (_dir, store, _clock, engine) = setup(Lifecycle::Instant).await;
        let inst = instance();
        let outcome = JobOutcome {
            status: "running".into(),
            doc: None,
            remove: false,
        };
        let job = engine.job(
            "j1".into(),
            &inst,
            "CreateInstance",
            TransitionKind::Create,
            outcome,
        );
        store.commit(vec![Mutation::PutJob(job)]).await.unwrap();
        assert_eq!(engine.run_due().await.unwrap(), 1);
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs[0].state, JobState::Failed);
    }
}
