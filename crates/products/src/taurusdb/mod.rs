//! Huawei TaurusDB (GaussDB for MySQL), served over the GaussDB v3 API that
//! huaweicloudsdkgaussdb's `GaussDBClient` calls: parent TaurusDB instances and the HTAP
//! StarRocks instances that hang under them.
//!
//! Served: CreateGaussMySqlInstance, ShowGaussMySqlInstanceInfo, ListGaussMySqlInstances,
//! DeleteGaussMySqlInstance (parent, `BUILD` → `ACTIVE`); CreateStarrocksInstance,
//! ListStarrocksInstanceInfo (show), ListHtapInstanceInfo, DeleteStarrocksInstance,
//! ResizeStarRocksFlavor, RestartStarrocksInstance (HTAP, `pending` → `normal`);
//! ShowGaussMySqlJobInfo (jobs); ListHtapFlavor, ListHtapStorageType, ListHtapDataStore
//! (catalog). Every other operation of the SDK answers 501.
//!
//! Ids: instance ids are 32 hex characters and a suffix (`in07` TaurusDB, `in17` HTAP), as
//! Huawei's are; the last 8 hex characters are a checksum of the first 24. A job id is a
//! UUID whose first 24 hex characters are its instance's, so the jobs API finds a job (and
//! its instance, released or not) from the id alone, without an index.
//!
//! Jobs: every transition is one durable engine job whose outcome is applied in the same
//! commit that completes it, so an instance reads `ACTIVE`/`normal` before (never after)
//! its job reads `Completed`.

mod catalog;
mod htap;
mod parent;
mod routes;
mod validate;

use async_trait::async_trait;
use cloudtwin_core::{Document, Instance, Job, JobOutcome, JobState, Product, TransitionKind};
use cloudtwin_huawei::{Call, HuaweiApi, HwError, Reply, Route};
use cloudtwin_store::{Mutation, StoreError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use catalog::Catalog;
pub(crate) use htap::billed_items;
pub use routes::ROUTES;

use crate::{Context, WRITE_RETRIES};

/// The id suffixes Huawei gives TaurusDB and HTAP StarRocks instances.
pub const PARENT_SUFFIX: &str = "in07";
pub const HTAP_SUFFIX: &str = "in17";

pub struct TaurusDb {
    ctx: Context,
    catalog: Catalog,
}

/// A transition an operation starts: the instance shows `status`/`doc_during` until the
/// job applies `outcome`.
struct Step {
    operation: &'static str,
    kind: TransitionKind,
    status: String,
    doc_during: Document,
    outcome: JobOutcome,
}

fn internal(e: StoreError) -> HwError {
    crate::hw_store_error(e)
}

fn kept_changing(id: &str) -> HwError {
    HwError::internal(format!(
        "instance {id} kept changing under concurrent requests"
    ))
}

/// An instance's document as a tree, for the views that read it member by member.
fn tree(i: &Instance) -> Result<Value, HwError> {
    i.doc.to_value().map_err(HwError::internal)
}

fn checksum(hex24: &str) -> String {
    hex::encode(Sha256::digest(hex24.as_bytes()))[..8].to_owned()
}

/// `2025-01-02T03:04:05+0000`, the form GaussDB answers times in.
pub fn gauss_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = cloudtwin_core::billing::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

impl TaurusDb {
    pub fn new(ctx: Context, catalog: Catalog) -> Self {
        Self { ctx, catalog }
    }

    /// A new instance id with the given suffix.
    fn new_id(&self, suffix: &str) -> String {
        let head = self.ctx.ids.sortable_hex(24);
        format!("{head}{}{suffix}", checksum(&head))
    }

    /// A new job id for an instance: a UUID carrying the instance id's first 24 hex.
    fn new_job_id(&self, instance_id: &str) -> String {
        let hex = format!("{}{}", &instance_id[..24], self.ctx.ids.hex(8));
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    /// The instances a job id can belong to.
    fn job_instances(job_id: &str) -> Vec<String> {
        let hex: String = job_id.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Vec::new();
        }
        let head = hex[..24].to_ascii_lowercase();
        let check = checksum(&head);
        [PARENT_SUFFIX, HTAP_SUFFIX]
            .iter()
            .map(|s| format!("{head}{check}{s}"))
            .collect()
    }

    fn job(&self, instance: &Instance, step: Step) -> Job {
        let id = self.new_job_id(&instance.id);
        self.ctx
            .engine
            .job(id, instance, step.operation, step.kind, step.outcome)
    }

    /// A live instance of the caller's account, product and project region.
    async fn live(
        &self,
        call: &Call<'_>,
        product: Product,
        id: &str,
    ) -> Result<Option<Instance>, HwError> {
        let account = &call.caller()?.account_id;
        let region = &call.project()?.region;
        Ok(self
            .ctx
            .live_instance(account, product, id)
            .await
            .map_err(internal)?
            .filter(|i| &i.region == region))
    }

    /// Writes a new instance and its creation job in one commit.
    async fn insert(&self, instance: Instance, step: Step) -> Result<String, HwError> {
        let job = self.job(&instance, step);
        let job_id = job.id.clone();
        self.ctx
            .engine
            .commit(vec![
                Mutation::InsertInstance(instance),
                Mutation::PutJob(job),
            ])
            .await
            .map_err(internal)?;
        Ok(job_id)
    }

    /// Reads, changes and writes an instance (again if another write got there first);
    /// `change` answers the transition to start. Returns the job id.
    async fn change(
        &self,
        call: &Call<'_>,
        product: Product,
        id: &str,
        not_found: fn() -> HwError,
        mut change: impl FnMut(&mut Instance) -> Result<Step, HwError>,
    ) -> Result<String, HwError> {
        for _ in 0..WRITE_RETRIES {
            let mut instance = self.live(call, product, id).await?.ok_or_else(not_found)?;
            let step = change(&mut instance)?;
            if let Some(job_id) = self.start(instance, step).await? {
                return Ok(job_id);
            }
        }
        Err(kept_changing(id))
    }

    /// Writes `instance`, as read and changed, moved into `step`, with the step's job.
    /// `None` if another write changed the instance since it was read: read it again.
    async fn start(&self, mut instance: Instance, step: Step) -> Result<Option<String>, HwError> {
        instance.updated_ms = self.ctx.clock.now_ms();
        instance.status = step.status.clone();
        instance.doc = step.doc_during.clone();
        let job = self.job(&instance, step);
        self.ctx
            .billing
            .stamp_usage(None, &mut instance, self.ctx.clock.now_ms());
        let job_id = job.id.clone();
        let batch = vec![Mutation::UpdateInstance(instance), Mutation::PutJob(job)];
        let committed = self
            .ctx
            .engine
            .commit_unless_changed(batch)
            .await
            .map_err(internal)?;
        Ok(committed.then_some(job_id))
    }

    /// ShowGaussMySqlJobInfo: one job of the caller's account, released instances included.
    async fn show_job(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let account = &call.caller()?.account_id;
        let region = &call.project()?.region;
        let id = call
            .query("id")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| validate::param("id is mandatory."))?;
        for instance_id in Self::job_instances(id) {
            let Some(instance) = self
                .ctx
                .store
                .instance(account, &instance_id)
                .await
                .map_err(internal)?
            else {
                continue;
            };
            if &instance.region != region
                || !matches!(instance.product, Product::TaurusDb | Product::HtapStarRocks)
            {
                continue;
            }
            let jobs = self
                .ctx
                .store
                .instance_jobs(account, &instance_id)
                .await
                .map_err(internal)?;
            if let Some(job) = jobs.iter().find(|j| j.id == id) {
                return Ok(Reply::ok(json!({"job": self.job_json(job, &instance)})));
            }
        }
        Err(validate::job_not_found(id))
    }

    fn job_json(&self, job: &Job, instance: &Instance) -> Value {
        let status = match job.state {
            JobState::Pending | JobState::Parked => "Pending",
            JobState::Running => "Running",
            JobState::Succeeded => "Completed",
            JobState::Failed | JobState::Cancelled => "Failed",
        };
        let now = self.ctx.clock.now_ms();
        json!({
            "id": job.id,
            "name": job.operation,
            "status": status,
            "created": gauss_time(job.created_ms),
            "ended": job.finished_ms.map(gauss_time).unwrap_or_default(),
            "process": format!("{}%", job.progress(now)),
            "instance": {"id": instance.id, "name": instance.name},
            "entities": {},
            "fail_reason": match (&job.outcome.error, job.state) {
                (Some(e), JobState::Failed) => format!("{}: {}", e.code, e.message),
                (None, JobState::Failed) => "The job failed.".to_owned(),
                _ => String::new(),
            },
        })
    }
}

#[async_trait]
impl HuaweiApi for TaurusDb {
    fn product(&self) -> &'static str {
        "taurusdb"
    }

    fn service(&self) -> &'static str {
        "gaussdb"
    }

    fn routes(&self) -> &'static [Route] {
        ROUTES
    }

    async fn call(&self, call: Call<'_>) -> Result<Reply, HwError> {
        let op = call.route.operation;
        match op {
            "CreateGaussMySqlInstance" => self.create_parent(&call).await,
            "ShowGaussMySqlInstanceInfo" => self.show_parent(&call).await,
            "ListGaussMySqlInstances" => self.list_parents(&call).await,
            "DeleteGaussMySqlInstance" => self.delete_parent(&call).await,
            "CreateStarrocksInstance" => self.create_htap(&call).await,
            "ListStarrocksInstanceInfo" => self.show_htap(&call).await,
            "ListHtapInstanceInfo" => self.list_htap(&call).await,
            "DeleteStarrocksInstance" => self.delete_htap(&call).await,
            "ResizeStarRocksFlavor" => self.resize_htap(&call).await,
            "RestartStarrocksInstance" => self.restart_htap(&call).await,
            "ShowGaussMySqlJobInfo" => self.show_job(&call).await,
            "ListHtapFlavor" => self.htap_flavors(&call),
            "ListHtapStorageType" => self.htap_storage_types(&call),
            "ListHtapDataStore" => self.htap_datastores(&call),
            _ => Err(HwError::not_implemented(op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_gauss_formatted() {
        assert_eq!(gauss_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(gauss_time(1_735_787_045_000), "2025-01-02T03:04:05+0000");
        assert_eq!(gauss_time(951_782_400_000), "2000-02-29T00:00:00+0000");
    }

    #[test]
    fn job_ids_lead_back_to_their_instance() {
        let head = "0123456789abcdef01234567";
        let id = format!("{head}{}{HTAP_SUFFIX}", checksum(head));
        let job = format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &format!("{}{}", &id[20..24], "deadbeef")
        );
        assert!(TaurusDb::job_instances(&job).contains(&id));
        assert!(TaurusDb::job_instances("not-a-job").is_empty());
        assert!(TaurusDb::job_instances("cf0b7506-1505-450f-9d95-ce9d93b6b5cz").is_empty());
    }

    #[test]
    fn every_sdk_operation_is_routed_once() {
        assert_eq!(ROUTES.len(), 290);
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.path)), "{} {}", r.method, r.path);
        }
    }
}
