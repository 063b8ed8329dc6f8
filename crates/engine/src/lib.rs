//! The lifecycle engine: workers lease due jobs from the store, let the provisioner do
//! the work, and apply each job's outcome to its instance in the same commit that
//! finishes the job. Jobs are durable, so a restart resumes whatever was under way.

mod provisioner;

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use cloudtwin_core::billing::EXPIRE_OPERATION;
use cloudtwin_core::{
    Clock, Document, Instance, Job, JobError, JobOutcome, JobState, KnownOperations, Lifecycle,
    Rule, StateControl, TransitionKind,
};
use cloudtwin_store::{JobQuery, Mutation, Store, StoreError};
use tokio::sync::{watch, Notify};

pub use provisioner::{Provisioner, Simulated};

/// How long a worker holds a job before another may take it over.
const LEASE_MS: i64 = 30_000;
/// Longest sleep between polls, so jobs written by another process are noticed.
const MAX_IDLE_MS: i64 = 1_000;
const CLAIM_BATCH: usize = 64;
const MAX_ATTEMPTS: i32 = 8;
/// The code a job shows when its provisioner gave up on it.
pub const PROVISIONING_FAILED: &str = "InternalError";

/// Why a step could not be taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StepError {
    #[error("no job {0}")]
    NoSuchJob(String),
    #[error("job {id} is {state}, not parked; only a parked job can be stepped")]
    NotParked { id: String, state: &'static str },
    #[error("instance {0} has no parked job")]
    NothingParked(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    lifecycle: Lifecycle,
    provisioner: Arc<dyn Provisioner>,
    owner: String,
    lease_ms: i64,
    wake: Notify,
    /// When the sleeping workers wake by themselves (clock ms; `i64::MAX` while they run):
    /// a commit wakes them only for a job due before then. Each wake costs a claim through
    /// the writer, and a prepaid create without auto-renewal writes an expiry job due a
    /// whole term ahead.
    wakes_at_ms: AtomicI64,
    /// State-control rules: in memory, per process. Jobs carry what they decided.
    control: RwLock<StateControl>,
    /// The operations the products' jobs carry, once declared: rules are checked against them.
    operations: OnceLock<&'static KnownOperations>,
    /// What the products add when a job's outcome lands (the usage ledger), once set.
    outcome_hook: OnceLock<Arc<dyn OutcomeHook>>,
}

/// Called when a job's outcome lands on its instance, in the same commit: `replaced_doc` is
/// the document the outcome replaced (`None` if the instance kept its own), `after` the
/// instance as the outcome leaves it.
pub trait OutcomeHook: Send + Sync {
    fn on_outcome(&self, replaced_doc: Option<&Document>, after: &mut Instance, now_ms: i64);
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
            wakes_at_ms: AtomicI64::new(i64::MAX),
            control: RwLock::new(StateControl::default()),
            operations: OnceLock::new(),
            outcome_hook: OnceLock::new(),
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

    /// Declares the operations the products' jobs carry; later declarations are ignored.
    pub fn declare_operations(&self, operations: &'static KnownOperations) {
        let _ = self.operations.set(operations);
    }

    /// Sets the hook run when outcomes land; later calls are ignored.
    pub fn set_outcome_hook(&self, hook: Arc<dyn OutcomeHook>) {
        let _ = self.outcome_hook.set(hook);
    }

    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    /// The state-control rules in force, in the order they were set.
    pub fn rules(&self) -> Vec<Rule> {
        self.control.read().expect("rules lock").rules().to_vec()
    }

    /// Adds a rule (replacing one for the same product and operation); it governs jobs
    /// created from now on. Refused if it names an operation no job carries.
    pub fn set_rule(&self, rule: Rule) -> Result<(), String> {
        if let Some(known) = self.operations.get() {
            rule.check_operation(known)?;
        }
        self.control.write().expect("rules lock").set(rule);
        Ok(())
    }

    /// Removes every rule; answers how many there were.
    pub fn clear_rules(&self) -> usize {
        self.control.write().expect("rules lock").clear()
    }

    /// A new job that turns `instance` into `outcome`: due after the global mode's delay,
    /// unless a state-control rule for its product and operation says otherwise.
    pub fn job(
        &self,
        id: String,
        instance: &Instance,
        operation: &str,
        kind: TransitionKind,
        outcome: JobOutcome,
    ) -> Job {
        debug_assert!(
            self.operations.get().is_none_or(|known| known
                .iter()
                .any(|(p, ops)| *p == instance.product && ops.contains(&operation))),
            "{} job operation {operation} is not declared",
            instance.product.as_str()
        );
        let now = self.clock.now_ms();
        let plan = self.control.read().expect("rules lock").plan(
            instance.product,
            operation,
            kind,
            self.lifecycle,
            now,
        );
        Job {
            id,
            account_id: instance.account_id.clone(),
            product: instance.product,
            instance_id: instance.id.clone(),
            operation: operation.to_owned(),
            state: plan.state,
            outcome: JobOutcome {
                error: plan.error,
                ..outcome
            },
            created_ms: now,
            due_ms: plan.due_ms,
            finished_ms: None,
            attempts: 0,
            lease_owner: None,
            lease_until_ms: 0,
        }
    }

    /// Jobs of every account matching the query, oldest first.
    pub async fn jobs(&self, query: &JobQuery) -> Result<Vec<Job>, StoreError> {
        self.store.jobs(query).await
    }

    /// Releases a parked job: it becomes due now. Durable once this returns.
    pub async fn step_job(&self, id: &str) -> Result<Job, StepError> {
        let query = JobQuery {
            id: Some(id.to_owned()),
            limit: 1,
            ..JobQuery::default()
        };
        let job = self
            .store
            .jobs(&query)
            .await?
            .pop()
            .ok_or_else(|| StepError::NoSuchJob(id.to_owned()))?;
        if job.state != JobState::Parked {
            return Err(StepError::NotParked {
                id: id.to_owned(),
                state: job.state.as_str(),
            });
        }
        match self.unpark(job).await? {
            Some(job) => Ok(job),
            // Stepped by someone else between the read and the write.
            None => Err(StepError::NotParked {
                id: id.to_owned(),
                state: JobState::Pending.as_str(),
            }),
        }
    }

    /// Releases the oldest parked job of an instance, so it takes one transition.
    pub async fn step_instance(&self, instance_id: &str) -> Result<Job, StepError> {
        let query = JobQuery {
            instance_id: Some(instance_id.to_owned()),
            state: Some(JobState::Parked),
            limit: 1,
            ..JobQuery::default()
        };
        // Concurrent steps each release a different job: lose the race, take the next.
        loop {
            let Some(job) = self.store.jobs(&query).await?.pop() else {
                return Err(StepError::NothingParked(instance_id.to_owned()));
            };
            if let Some(job) = self.unpark(job).await? {
                return Ok(job);
            }
        }
    }

    /// The job, pending and due now; `None` if it was no longer parked.
    async fn unpark(&self, job: Job) -> Result<Option<Job>, StoreError> {
        let due_ms = self.clock.now_ms();
        let step = Mutation::UnparkJob {
            id: job.id.clone(),
            due_ms,
        };
        match self.store.commit(vec![step]).await {
            Ok(()) => {
                self.notify();
                Ok(Some(Job {
                    state: JobState::Pending,
                    due_ms,
                    ..job
                }))
            }
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Tells the workers a job was just committed.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Wakes the workers for a job committed with `due_ms`, unless they will wake by
    /// then anyway. Read after the commit: workers that planned their sleep before it
    /// either saw the job or published their wake time first (see [`Engine::spawn`]).
    fn notify_due(&self, due_ms: i64) {
        let wakes_at_ms = self.wakes_at_ms.load(Ordering::SeqCst);
        if wakes_sooner(due_ms, wakes_at_ms, self.clock.now_ms()) {
            self.notify();
        }
    }

    /// Commits a product's batch, then wakes the workers for the jobs it wrote. A job
    /// that would finish the moment a worker claimed it (due now, no decided failure, no
    /// provisioning work) for an instance the same batch creates is settled in this very
    /// commit instead: the new instance has no other job, so nothing can come between.
    pub async fn commit(&self, mut batch: Vec<Mutation>) -> Result<(), StoreError> {
        if !self.provisioner.needs_worker() {
            self.settle_instant_creations(&mut batch);
        }
        let earliest_due = batch
            .iter()
            .filter_map(|m| match m {
                Mutation::PutJob(job) if !job.state.is_terminal() => Some(job.due_ms),
                _ => None,
            })
            .min();
        self.store.commit(batch).await?;
        if let Some(due_ms) = earliest_due {
            self.notify_due(due_ms);
        }
        Ok(())
    }

    /// [`Engine::commit`] for a batch written against instances as they were read: `false`,
    /// with nothing written, when another write got there first (a version check, or any
    /// other conflict), so the caller reads again and retries.
    pub async fn commit_unless_changed(&self, batch: Vec<Mutation>) -> Result<bool, StoreError> {
        match self.commit(batch).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether `job`, committed in the same batch as the instance it creates, is finished
    /// by that commit (see [`Engine::commit`]): the instance then never shows its interim
    /// state, so a product need not build that document.
    pub fn settles_inline(&self, job: &Job) -> bool {
        Self::settles_at(job, self.clock.now_ms())
    }

    fn settles_at(job: &Job, now_ms: i64) -> bool {
        job.state == JobState::Pending
            && job.due_ms <= now_ms
            && job.outcome.error.is_none()
            // An expiry has its own rules (it waits for a change under way).
            && job.operation != EXPIRE_OPERATION
    }

    /// Finishes in `batch` the first instant job of each instance the batch inserts, as a
    /// worker would have (one attempt, succeeded, outcome applied and billed).
    fn settle_instant_creations(&self, batch: &mut [Mutation]) {
        let now = self.clock.now_ms();
        let mut settled: Vec<usize> = Vec::new();
        for j in 0..batch.len() {
            let Mutation::PutJob(job) = &batch[j] else {
                continue;
            };
            if !Self::settles_at(job, now) {
                continue;
            }
            let inserted = batch.iter().position(|m| {
                matches!(m, Mutation::InsertInstance(inst)
                    if inst.id == job.instance_id
                        && inst.account_id == job.account_id
                        && !inst.deleted)
            });
            let Some(i) = inserted.filter(|i| !settled.contains(i)) else {
                continue;
            };
            settled.push(i);
            let (job_slot, inst_slot) = pick_two(batch, j, i);
            let (Mutation::PutJob(job), Mutation::InsertInstance(inst)) = (job_slot, inst_slot)
            else {
                unreachable!("positions found above");
            };
            self.settle(job, JobState::Succeeded, Some(inst), now);
            // As if claimed once.
            job.attempts = 1;
        }
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
                // Awake: every commit of a job notifies until the next sleep is planned.
                engine.wakes_at_ms.store(i64::MAX, Ordering::SeqCst);
                let sleep_ms = match engine.run_due().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => engine.idle_ms().await,
                    Err(e) => {
                        tracing::warn!(error = %e, "job worker could not reach the store");
                        MAX_IDLE_MS
                    }
                };
                // Published after the store was read: a job committed since then finds
                // either this time or `i64::MAX`, and a notify before the wait below
                // leaves a permit that ends it at once.
                engine
                    .wakes_at_ms
                    .store(engine.clock.now_ms() + sleep_ms, Ordering::SeqCst);
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
        // A released instance stays released: a late job (an expiry) has nothing to do.
        if instance.deleted && !job.outcome.remove {
            return self.finish(job, JobState::Cancelled, None).await;
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
            return self.give_back(later).await;
        }
        // A `fail` rule decided this job's end when it was created.
        if job.outcome.error.is_some() {
            return self.finish(job, JobState::Failed, Some(instance)).await;
        }
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
                let mut job = job;
                job.outcome.error = Some(JobError {
                    code: PROVISIONING_FAILED.into(),
                    message: reason,
                });
                self.finish(job, JobState::Failed, Some(instance)).await
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
                self.give_back(retry).await
            }
        }
    }

    /// Returns a claimed job to the queue (pending again), while the claim still holds.
    async fn give_back(&self, job: Job) -> Result<(), StoreError> {
        let job_id = job.id.clone();
        let given_back = Mutation::UpdateClaimedJob {
            job,
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

    /// Ends the job; its outcome (on failure, its failure outcome) lands on the instance
    /// in the same commit, so the instance never stays transitional behind a dead job.
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
            let mut inst = instance.take();
            let mut done = job.clone();
            self.settle(&mut done, state, inst.as_mut(), now);
            let mut batch = vec![Mutation::UpdateClaimedJob {
                job: done,
                owner: self.owner.clone(),
            }];
            if let Some(inst) = inst {
                batch.insert(0, Mutation::UpdateInstance(inst));
            }
            let applies_to_instance = batch.len() > 1;
            match self.store.commit(batch).await {
                Err(StoreError::Conflict(_)) if !self.still_leased(&job).await? => {
                    tracing::info!(job = %job.id, "another worker took the job over; dropped here");
                    return Ok(());
                }
                // Someone changed the instance meanwhile (a rename, a tag): re-read and apply again.
                Err(StoreError::Conflict(_)) if applies_to_instance => {
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

    /// Ends `job` in `state` at `now_ms` as this engine, moving its outcome onto its
    /// instance (and billing it).
    fn settle(&self, job: &mut Job, state: JobState, instance: Option<&mut Instance>, now_ms: i64) {
        job.state = state;
        job.finished_ms = Some(now_ms);
        // Kept: who finished the job.
        job.lease_owner = Some(self.owner.clone());
        job.lease_until_ms = 0;
        // The document now lives on the instance; the history needs only the status.
        let doc = job.outcome.doc.take();
        let failed_doc = job.outcome.on_failure.as_mut().and_then(|f| f.doc.take());
        if let Some(inst) = instance {
            let doc = if state == JobState::Failed {
                failed_doc
            } else {
                doc
            };
            let replaced = doc.map(|doc| std::mem::replace(&mut inst.doc, doc));
            apply_outcome(inst, &job.outcome, state, now_ms);
            if let Some(hook) = self.outcome_hook.get() {
                hook.on_outcome(replaced.as_ref(), inst, now_ms);
            }
        }
    }
}

/// Whether a job due at `due_ms` needs workers that wake by themselves at `wakes_at_ms`
/// woken now. A clock moved past their planned wake (a manual one) still wakes them for
/// work that is due.
fn wakes_sooner(due_ms: i64, wakes_at_ms: i64, now_ms: i64) -> bool {
    due_ms < wakes_at_ms || due_ms <= now_ms
}

/// Two distinct elements of `items`, mutably.
fn pick_two<T>(items: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b, "two distinct positions");
    if a < b {
        let (left, right) = items.split_at_mut(b);
        (&mut left[a], &mut right[0])
    } else {
        let (left, right) = items.split_at_mut(a);
        (&mut right[0], &mut left[b])
    }
}

/// What a job that ended in `state` makes of its instance, besides its document.
fn apply_outcome(instance: &mut Instance, outcome: &JobOutcome, state: JobState, now_ms: i64) {
    if state == JobState::Failed {
        if let Some(failed) = &outcome.on_failure {
            instance.status = failed.status.clone();
        }
    } else {
        instance.status = outcome.status.clone();
        if outcome.remove {
            instance.deleted = true;
        }
    }
    instance.updated_ms = now_ms;
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use cloudtwin_core::{FailedOutcome, ManualClock, Product};
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
            doc: json!({"cu": 8}).into(),
            created_ms: 0,
            updated_ms: 0,
            deleted: false,
            version: 1,
        }
    }

    async fn setup(
        lifecycle: Lifecycle,
    ) -> (tempfile::TempDir, Arc<dyn Store>, ManualClock, Arc<Engine>) {
        setup_with(lifecycle, Arc::new(Simulated)).await
    }

    async fn setup_with(
        lifecycle: Lifecycle,
        provisioner: Arc<dyn Provisioner>,
    ) -> (tempfile::TempDir, Arc<dyn Store>, ManualClock, Arc<Engine>) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).unwrap());
        let clock = ManualClock::new(1_000);
        let engine = Engine::new(
            store.clone(),
            Arc::new(clock.clone()),
            lifecycle,
            provisioner,
            "test".into(),
        );
        (dir, store, clock, engine)
    }

    /// A creation that ends `running` at cu 16, or `creating_failed`.
    fn create_outcome() -> JobOutcome {
        JobOutcome::new(
            "running",
            Some(json!({"cu": 16}).into()),
            FailedOutcome::new("creating_failed", None),
        )
    }

    /// A change from cu 8 to cu 16 that goes back to cu 8 and `running` if it fails.
    fn modify_outcome() -> JobOutcome {
        JobOutcome::new(
            "running",
            Some(json!({"cu": 16}).into()),
            FailedOutcome::new("running", Some(json!({"cu": 8}).into())),
        )
    }

    /// Commits `inst` (showing `status`) with a new job for `operation`; answers the job.
    async fn start(
        store: &Arc<dyn Store>,
        engine: &Engine,
        status: &str,
        operation: &str,
        outcome: JobOutcome,
    ) -> Job {
        let mut inst = instance();
        inst.status = status.into();
        inst.doc = json!({"cu": 16, "during": true}).into();
        let id = format!(
            "j-{}",
            store
                .jobs(&JobQuery {
                    limit: 100,
                    ..JobQuery::default()
                })
                .await
                .unwrap()
                .len()
        );
        let job = engine.job(id, &inst, operation, TransitionKind::Change, outcome);
        let mut batch = vec![Mutation::PutJob(job.clone())];
        if store.instance("acc", "c-1").await.unwrap().is_none() {
            batch.insert(0, Mutation::InsertInstance(inst));
        }
        store.commit(batch).await.unwrap();
        job
    }

    fn failure(code: &str) -> Option<JobError> {
        Some(JobError {
            code: code.into(),
            message: "injected".into(),
        })
    }

    #[test]
    fn sleeping_workers_are_woken_only_for_a_job_due_before_they_wake() {
        assert!(
            wakes_sooner(1_500, 2_000, 1_000),
            "due before the planned wake"
        );
        assert!(
            !wakes_sooner(9_000, 2_000, 1_000),
            "due after it: the wake finds it"
        );
        assert!(
            wakes_sooner(9_000, i64::MAX, 1_000),
            "the workers are awake"
        );
        assert!(
            wakes_sooner(3_000, 2_000, 3_000),
            "a clock moved past the planned wake"
        );
    }

    #[tokio::test]
    async fn sleeping_workers_run_a_job_committed_due_now_at_once() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Fixed(1)).await;
        let (stop, shutdown) = watch::channel(false);
        let worker = engine.spawn(shutdown);
        // Asleep until the next self-wake, at most MAX_IDLE_MS away.
        while engine.wakes_at_ms.load(Ordering::SeqCst) == i64::MAX {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Far-off work leaves them asleep; work due now wakes them.
        let later = instance();
        let mut expiry = engine.job(
            "j-later".into(),
            &later,
            "ModifyCu",
            TransitionKind::Change,
            modify_outcome(),
        );
        expiry.due_ms = clock.now_ms() + 3_600_000;
        engine
            .commit(vec![
                Mutation::InsertInstance(later),
                Mutation::PutJob(expiry),
            ])
            .await
            .unwrap();
        let mut job = engine.job(
            "j-now".into(),
            &instance(),
            "ModifyCu",
            TransitionKind::Change,
            modify_outcome(),
        );
        job.due_ms = clock.now_ms();
        engine
            .commit(vec![Mutation::PutJob(job.clone())])
            .await
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
            if jobs
                .iter()
                .any(|j| j.id == job.id && j.state == JobState::Succeeded)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_millis(MAX_IDLE_MS as u64 / 2),
                "the due job waited for the workers' own wake"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        stop.send(true).unwrap();
        engine.notify();
        worker.await.unwrap();
    }

    #[tokio::test]
    async fn a_fail_rule_ends_the_job_failed_and_the_instance_in_its_failure_status() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Fixed(1_000)).await;
        engine
            .set_rule("starrocks:ModifyCu=fail:Boom.1:injected".parse().unwrap())
            .unwrap();
        let job = start(&store, &engine, "scaling_up", "ModifyCu", modify_outcome()).await;
        assert_eq!(job.state, JobState::Pending);
        assert_eq!(
            job.due_ms, 2_000,
            "the failure takes the global mode's time"
        );
        assert_eq!(engine.run_due().await.unwrap(), 0);
        clock.advance(1_000);
        assert_eq!(engine.run_due().await.unwrap(), 1);
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(
            got.status, "running",
            "the product's status for a failed change"
        );
        assert_eq!(got.doc, json!({"cu": 8}), "the change is undone");
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs[0].state, JobState::Failed);
        assert_eq!(jobs[0].outcome.error, failure("Boom.1"));
    }

    #[tokio::test]
    async fn a_rule_for_another_operation_changes_nothing() {
        let (_dir, store, _clock, engine) = setup(Lifecycle::Instant).await;
        engine
            .set_rule("starrocks:ReleaseInstance=fail".parse().unwrap())
            .unwrap();
        start(&store, &engine, "scaling_up", "ModifyCu", modify_outcome()).await;
        engine.run_due().await.unwrap();
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.status, "running");
        assert_eq!(got.doc, json!({"cu": 16}));
        assert_eq!(
            store.instance_jobs("acc", "c-1").await.unwrap()[0].state,
            JobState::Succeeded
        );
    }

    struct Broken;

    #[async_trait]
    impl Provisioner for Broken {
        async fn advance(&self, _job: &Job, _instance: &Instance) -> Result<(), String> {
            Err("the node pool is exhausted".into())
        }
    }

    #[tokio::test]
    async fn a_job_that_keeps_failing_ends_in_the_failure_status() {
        let (_dir, store, clock, engine) = setup_with(Lifecycle::Instant, Arc::new(Broken)).await;
        start(
            &store,
            &engine,
            "creating",
            "CreateInstance",
            JobOutcome::new("running", None, FailedOutcome::new("creating_failed", None)),
        )
        .await;
        for _ in 0..MAX_ATTEMPTS - 1 {
            assert_eq!(engine.run_due().await.unwrap(), 1);
            let got = store.instance("acc", "c-1").await.unwrap().unwrap();
            assert_eq!(got.status, "creating", "still retrying, with a live job");
            let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
            assert!(jobs[0].state.is_live());
            clock.advance(3_600_000);
        }
        assert_eq!(engine.run_due().await.unwrap(), 1);
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.status, "creating_failed");
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs[0].state, JobState::Failed);
        assert_eq!(jobs[0].attempts, MAX_ATTEMPTS);
        assert_eq!(
            jobs[0].outcome.error,
            Some(JobError {
                code: PROVISIONING_FAILED.into(),
                message: "the node pool is exhausted".into(),
            })
        );
    }

    #[tokio::test]
    async fn a_manual_job_waits_parked_until_stepped_one_transition_at_a_time() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Instant).await;
        engine
            .set_rule("starrocks:*=manual".parse().unwrap())
            .unwrap();
        let first = start(
            &store,
            &engine,
            "creating",
            "CreateInstance",
            modify_outcome(),
        )
        .await;
        let second = start(&store, &engine, "creating", "ModifyCu", modify_outcome()).await;
        assert_eq!(first.state, JobState::Parked);
        clock.advance(3_600_000);
        assert_eq!(
            engine.run_due().await.unwrap(),
            0,
            "parked jobs never run by themselves"
        );
        assert_eq!(
            engine.step_job("nope").await,
            Err(StepError::NoSuchJob("nope".into()))
        );

        let stepped = engine.step_instance("c-1").await.unwrap();
        assert_eq!(stepped.id, first.id, "the oldest parked job first");
        assert_eq!(
            engine.step_job(&first.id).await,
            Err(StepError::NotParked {
                id: first.id.clone(),
                state: "pending"
            })
        );
        assert_eq!(engine.run_due().await.unwrap(), 1);
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs[0].state, JobState::Succeeded);
        assert_eq!(jobs[1].state, JobState::Parked);

        assert_eq!(engine.step_job(&second.id).await.unwrap().id, second.id);
        assert_eq!(
            engine.step_instance("c-1").await,
            Err(StepError::NothingParked("c-1".into()))
        );
        assert_eq!(engine.run_due().await.unwrap(), 1);
        assert_eq!(
            store.instance_jobs("acc", "c-1").await.unwrap()[1].state,
            JobState::Succeeded
        );
    }

    #[tokio::test]
    async fn a_rule_naming_an_undeclared_operation_is_refused() {
        let (_dir, _store, _clock, engine) = setup(Lifecycle::Instant).await;
        engine
            .set_rule("starrocks:Anything=manual".parse().unwrap())
            .unwrap();
        engine.clear_rules();
        engine.declare_operations(&[(Product::StarRocks, &["CreateInstance"])]);
        let err = engine
            .set_rule("starrocks:CreateCluster=manual".parse().unwrap())
            .unwrap_err();
        assert!(err.contains("CreateInstance"), "{err}");
        assert!(engine.rules().is_empty(), "a refused rule is not kept");
        engine
            .set_rule("starrocks:CreateInstance=manual".parse().unwrap())
            .unwrap();
        assert_eq!(engine.rules().len(), 1);
    }

    #[tokio::test]
    async fn instant_and_delay_rules_override_the_global_mode() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Realistic).await;
        engine.set_rule("*:*=delay:2s".parse().unwrap()).unwrap();
        engine
            .set_rule("starrocks:CreateInstance=instant".parse().unwrap())
            .unwrap();
        let instant = start(
            &store,
            &engine,
            "creating",
            "CreateInstance",
            modify_outcome(),
        )
        .await;
        assert_eq!(instant.due_ms, 1_000);
        let delayed = start(&store, &engine, "creating", "ModifyCu", modify_outcome()).await;
        assert_eq!(delayed.due_ms, 3_000);
        assert_eq!(engine.run_due().await.unwrap(), 1);
        clock.advance(2_000);
        assert_eq!(engine.run_due().await.unwrap(), 1);
        assert_eq!(engine.clear_rules(), 2);
        assert!(engine.rules().is_empty());
        let realistic = start(&store, &engine, "creating", "ModifyCu", modify_outcome()).await;
        assert_eq!(realistic.due_ms, 3_000 + 5_000);
    }

    #[tokio::test]
    async fn job_applies_outcome_when_due() {
        let (_dir, store, clock, engine) = setup(Lifecycle::Fixed(5_000)).await;
        let batch = create_batch(&engine, "j1");
        let Mutation::PutJob(job) = &batch[1] else {
            unreachable!("create_batch puts the job second")
        };
        assert_eq!(job.due_ms, 6_000);
        store.commit(batch).await.unwrap();
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
        let outcome = JobOutcome::new(
            "deleting-done",
            None,
            FailedOutcome::new("deleting_failed", None),
        )
        .releasing();
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
            on_failure: None,
            error: None,
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
                on_failure: None,
                error: None,
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
                on_failure: None,
                error: None,
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
        let outcome = JobOutcome::new("running", None, FailedOutcome::new("creating_failed", None));
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

    /// Marks the instance it bills, so a test sees the hook ran with the replaced document.
    struct StampReplaced;

    impl OutcomeHook for StampReplaced {
        fn on_outcome(&self, replaced_doc: Option<&Document>, after: &mut Instance, now_ms: i64) {
            let mut doc = after.doc.to_value().unwrap();
            doc["billed_from"] =
                replaced_doc.map_or(json!("kept"), |d| d.to_value().unwrap()["cu"].clone());
            doc["billed_at"] = json!(now_ms);
            after.doc = doc.into();
        }
    }

    fn create_batch(engine: &Engine, job_id: &str) -> Vec<Mutation> {
        let inst = instance();
        let job = engine.job(
            job_id.into(),
            &inst,
            "CreateInstance",
            TransitionKind::Create,
            create_outcome(),
        );
        vec![Mutation::InsertInstance(inst), Mutation::PutJob(job)]
    }

    #[tokio::test]
    async fn an_instant_creation_is_settled_in_the_commit_that_creates_it() {
        let (_dir, store, _clock, engine) = setup(Lifecycle::Instant).await;
        engine.set_outcome_hook(Arc::new(StampReplaced));
        engine.commit(create_batch(&engine, "j1")).await.unwrap();
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.status, "running");
        assert_eq!(
            got.doc,
            json!({"cu": 16, "billed_from": 8, "billed_at": 1_000})
        );
        assert_eq!(got.updated_ms, 1_000);
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs.len(), 1);
        let job = &jobs[0];
        assert_eq!(job.state, JobState::Succeeded);
        assert_eq!(job.finished_ms, Some(1_000));
        assert_eq!(job.attempts, 1);
        assert_eq!(job.lease_owner.as_deref(), Some("test"), "who finished it");
        assert_eq!(job.lease_until_ms, 0);
        assert_eq!(job.outcome.doc, None, "the document lives on the instance");
        assert_eq!(
            engine.run_due().await.unwrap(),
            0,
            "nothing left for a worker"
        );
    }

    #[tokio::test]
    async fn delayed_parked_and_failing_creations_go_through_the_workers() {
        for rule in [
            "starrocks:*=delay:2s",
            "starrocks:*=manual",
            "starrocks:*=fail",
        ] {
            let (_dir, store, _clock, engine) = setup(Lifecycle::Instant).await;
            engine.set_rule(rule.parse().unwrap()).unwrap();
            engine.commit(create_batch(&engine, "j1")).await.unwrap();
            let got = store.instance("acc", "c-1").await.unwrap().unwrap();
            assert_eq!(got.status, "creating", "{rule}");
            let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
            assert!(!jobs[0].state.is_terminal(), "{rule}");
            assert_eq!(jobs[0].attempts, 0, "{rule}");
        }
        let gate = Arc::new(Gate(tokio::sync::Semaphore::new(0)));
        let (_dir, store, _clock, engine) = setup_with(Lifecycle::Instant, gate).await;
        engine.commit(create_batch(&engine, "j1")).await.unwrap();
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(
            jobs[0].state,
            JobState::Pending,
            "a provisioner with work to do gets every job"
        );
    }

    #[tokio::test]
    async fn a_job_for_an_instance_the_batch_does_not_create_goes_through_the_workers() {
        let (_dir, store, _clock, engine) = setup(Lifecycle::Instant).await;
        let mut batch = create_batch(&engine, "j1");
        let job = batch.pop().unwrap();
        store.commit(batch).await.unwrap();
        engine.commit(vec![job]).await.unwrap();
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(jobs[0].state, JobState::Pending);
        assert_eq!(engine.run_due().await.unwrap(), 1);
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.status, "running");
    }

    #[tokio::test]
    async fn only_the_first_instant_job_of_a_new_instance_is_settled_inline() {
        let (_dir, store, _clock, engine) = setup(Lifecycle::Instant).await;
        let mut batch = create_batch(&engine, "j1");
        let inst = instance();
        let second = engine.job(
            "j2".into(),
            &inst,
            "ModifyCu",
            TransitionKind::Change,
            JobOutcome::new(
                "running",
                Some(json!({"cu": 32}).into()),
                FailedOutcome::new("x", None),
            ),
        );
        batch.push(Mutation::PutJob(second));
        engine.commit(batch).await.unwrap();
        let jobs = store.instance_jobs("acc", "c-1").await.unwrap();
        assert_eq!(
            (jobs[0].state, jobs[1].state),
            (JobState::Succeeded, JobState::Pending)
        );
        assert_eq!(engine.run_due().await.unwrap(), 1);
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.doc, json!({"cu": 32}));
    }
}
