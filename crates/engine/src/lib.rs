//! The lifecycle engine: workers lease due jobs from the store, let the provisioner do
//! the work, and apply each job's outcome to its instance in the same commit that
//! finishes the job. Jobs are durable, so a restart resumes whatever was under way.

mod provisioner;

use std::sync::Arc;
use std::time::Duration;

use cloudtwin_core::billing::EXPIRE_OPERATION;
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
            wake: Notify::new(),
        })
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
            .claim_jobs(now, &self.owner, LEASE_MS, CLAIM_BATCH)
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
        // A released instance stays released: a late job (an expiry) must not touch it.
        if instance.deleted && !job.outcome.remove {
            return self.finish(job, JobState::Failed, None).await;
        }
        // A term that ends during a change lapses once the change is over, so the change's
        // outcome does not overwrite the expired status.
        if job.operation == EXPIRE_OPERATION && self.busy_with_another(&job).await? {
            let later = Job {
                state: JobState::Pending,
                due_ms: self.clock.now_ms() + 1_000,
                lease_owner: None,
                lease_until_ms: 0,
                ..job
            };
            return self.store.commit(vec![Mutation::PutJob(later)]).await;
        }
        match self.provisioner.advance(&job, &instance).await {
            Ok(()) => self.finish(job, JobState::Succeeded, Some(instance)).await,
            Err(reason) if job.attempts >= MAX_ATTEMPTS => {
                tracing::error!(job = %job.id, %reason, "job failed for good");
                self.finish(job, JobState::Failed, None).await
            }
            Err(reason) => {
                let backoff = 1_000i64 << job.attempts.clamp(0, 6);
                tracing::warn!(job = %job.id, %reason, backoff_ms = backoff, "job step failed; retrying");
                let retry = Job {
                    state: JobState::Pending,
                    due_ms: self.clock.now_ms() + backoff,
                    lease_owner: None,
                    lease_until_ms: 0,
                    ..job
                };
                self.store.commit(vec![Mutation::PutJob(retry)]).await
            }
        }
    }

    /// Whether another job of the same instance is unfinished.
    async fn busy_with_another(&self, job: &Job) -> Result<bool, StoreError> {
        let jobs = self
            .store
            .instance_jobs(&job.account_id, &job.instance_id)
            .await?;
        Ok(jobs
            .iter()
            .any(|j| j.id != job.id && !j.state.is_terminal()))
    }

    /// Ends the job; on success its outcome lands on the instance in the same commit.
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
                lease_owner: None,
                lease_until_ms: 0,
                ..job.clone()
            };
            // The document now lives on the instance; the history needs only the status.
            done.outcome.doc = None;
            let mut batch = vec![Mutation::PutJob(done)];
            if let Some(mut inst) = instance.take() {
                apply_outcome(&mut inst, &job.outcome, now);
                batch.insert(0, Mutation::UpdateInstance(inst));
            }
            match self.store.commit(batch).await {
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

    #[tokio::test]
    async fn an_expiry_waits_for_a_change_under_way() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Fixed(5_000)).await;
        let inst = instance();
        let change = engine.job(
            "j-change".into(),
            &inst,
            "ModifyCu",
            TransitionKind::Change,
            JobOutcome {
                status: "running".into(),
                doc: None,
                remove: false,
            },
        );
        let mut expire = engine.job(
            "exp-c-1".into(),
            &inst,
            EXPIRE_OPERATION,
            TransitionKind::Change,
            JobOutcome {
                status: "disable".into(),
                doc: None,
                remove: false,
            },
        );
        expire.due_ms = 1_000;
        store
            .commit(vec![
                Mutation::InsertInstance(inst),
                Mutation::PutJob(change),
                Mutation::PutJob(expire),
            ])
            .await
            .unwrap();
        assert_eq!(engine.run_due().await.unwrap(), 1, "the expiry is due");
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.status, "creating", "not applied during the change");
        clock.advance(5_000);
        engine.run_due().await.unwrap();
        clock.advance(1_000);
        engine.run_due().await.unwrap();
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.status, "disable", "applied once the change ended");
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
