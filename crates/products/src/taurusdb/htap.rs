//! HTAP StarRocks instances under a TaurusDB instance: create (every rule of the create
//! page), show, list under the parent, delete, resize flavor, restart; and the HTAP catalog
//! calls (flavors, storage types, engine versions).
//!
//! Status: the create answer reads `creating` (the page's example); show and list read
//! `pending` until the creation job lands `normal` with empty `actions[]` and every node
//! `normal` (what Terraform waits for). Changes (resize, restart) keep `normal` and show
//! the operation in `actions[]` until their job lands; delete shows `deleting`.

use cloudtwin_core::billing::{OrderKind, Period, PeriodUnit, Subscription};
use cloudtwin_core::{
    Document, FailedOutcome, Instance, JobError, JobOutcome, JobState, Product, TransitionKind,
};
use cloudtwin_huawei::{Call, HwError, Reply};
use cloudtwin_store::Mutation;
use serde::de::IgnoredAny;
use serde_json::{json, Map, Value};

use super::parent::{private_ip, ACTIVE};
use super::validate::{self as v, param};
use super::{internal, tree, Step, TaurusDb, HTAP_SUFFIX};
use crate::billing::set_subscription;
use crate::{Context, WRITE_RETRIES};

pub const PENDING: &str = "pending";
pub const NORMAL: &str = "normal";
pub const DELETING: &str = "deleting";
/// The SDK's status for a create that failed; Terraform stops waiting on it at once.
pub const CREATEFAIL: &str = "createfail";
/// The SDK's status for an instance an operation left broken (a failed resize, restart
/// or delete); Terraform stops waiting on it at once, as on `createfail`.
pub const ABNORMAL: &str = "abnormal";
const CREATE_OPERATION: &str = "CreateStarRocksInstance";

/// Reads a `{io_type, capacity_in_gb}` volume and checks it.
fn volume(tdb: &TaurusDb, body: &Map<String, Value>, key: &str) -> Result<Value, HwError> {
    let vol = v::req_obj(body, key)?;
    let io_type = v::req_str(vol, "io_type", &format!("{key}.io_type"))?;
    let size = v::req_int(vol, "capacity_in_gb", &format!("{key}.capacity_in_gb"))?;
    v::check_volume(&tdb.catalog, key, io_type, size)?;
    Ok(json!({"io_type": io_type, "capacity_in_gb": size}))
}

impl TaurusDb {
    /// A flavor id that exists and serves the engine version.
    fn htap_flavor_checked(&self, id: &str, version: &str) -> Result<(), HwError> {
        match self.catalog.htap_flavor(id) {
            Some(f) if f.versions.iter().any(|v| v == version) => Ok(()),
            _ => Err(v::flavor_not_found()),
        }
    }

    fn count(
        &self,
        body: &Map<String, Value>,
        key: &str,
        range: super::catalog::Range,
    ) -> Result<i64, HwError> {
        let n = v::req_int(body, key, key)?;
        if !range.contains(n) {
            return Err(param(format!(
                "{key} must be from {} to {}.",
                range.min, range.max
            )));
        }
        Ok(n)
    }

    pub(super) async fn create_htap(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        for _ in 0..WRITE_RETRIES {
            if let Some(reply) = self.try_create_htap(call).await? {
                return Ok(reply);
            }
        }
        Err(v::busy())
    }

    /// An HTAP create against the parent as read now; `None` if the parent changed before
    /// the commit (another HTAP instance created under it, a delete begun): the commit
    /// writes the parent too, so its checks and the new instance land together or not at
    /// all, and two creates cannot both take the last place under the quota.
    async fn try_create_htap(&self, call: &Call<'_>) -> Result<Option<Reply>, HwError> {
        let parent_id = call.path_param("instance_id").unwrap_or_default();
        let parent = self.parent(call, parent_id).await?;
        let body = v::object(call.json()?)?;
        let c = &self.catalog.htap;

        // In the page's order.
        let name = v::req_str(body, "name", "name")?;
        v::check_name(name)?;
        let engine = v::req_obj(body, "engine")?;
        let engine_type = v::req_str(engine, "type", "engine.type")?;
        if !self.catalog.is_starrocks(engine_type) {
            return Err(v::engine_unsupported());
        }
        let version = v::req_str(engine, "version", "engine.version")?;
        let datastore = self
            .catalog
            .datastore(version)
            .ok_or_else(v::invalid_version)?
            .clone();
        let ha = v::req_obj(body, "ha")?;
        let ha_mode = v::req_str(ha, "mode", "ha.mode")?;
        let ha_mode = c
            .ha_modes
            .iter()
            .find(|m| m.eq_ignore_ascii_case(ha_mode))
            .ok_or_else(v::invalid_ha_mode)?
            .clone();
        let fe_flavor = v::req_str(body, "fe_flavor_id", "fe_flavor_id")?;
        self.htap_flavor_checked(fe_flavor, version)?;
        let be_flavor = v::req_str(body, "be_flavor_id", "be_flavor_id")?;
        self.htap_flavor_checked(be_flavor, version)?;
        let pwd = v::req_str(body, "db_root_pwd", "db_root_pwd")?;
        v::check_password(pwd, &c.weak_passwords)?;
        let fe_count = self.count(body, "fe_count", c.fe_count)?;
        let be_count = self.count(body, "be_count", c.be_count)?;
        let az_mode = v::req_str(body, "az_mode", "az_mode")?;
        if !az_mode.eq_ignore_ascii_case("single") {
            return Err(param("az_mode: only single is supported."));
        }
        let fe_volume = volume(self, body, "fe_volume")?;
        let be_volume = volume(self, body, "be_volume")?;
        let az_code = v::req_str(body, "az_code", "az_code")?;
        if !c.az_codes.iter().any(|a| a == az_code) {
            return Err(v::invalid_az());
        }
        let time_zone = v::opt_str(body, "time_zone", "time_zone")?
            .unwrap_or(&c.default_time_zone)
            .to_owned();
        v::check_time_zone(&time_zone)?;
        let tags_info = v::req_obj(body, "tags_info")?;
        let sys_tags = match tags_info.get("sys_tags") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|t| {
                    let t = t
                        .as_object()
                        .ok_or_else(|| param("tags_info.sys_tags must hold objects."))?;
                    let key = v::req_str(t, "key", "tags_info.sys_tags.key")?;
                    let value = match t.get("value") {
                        Some(Value::String(s)) => s.as_str(),
                        _ => return Err(param("tags_info.sys_tags.value is mandatory.")),
                    };
                    Ok(json!({"key": key, "value": value}))
                })
                .collect::<Result<Vec<_>, HwError>>()?,
            None | Some(Value::Null) => return Err(param("tags_info.sys_tags is mandatory.")),
            Some(_) => return Err(param("tags_info.sys_tags must be an array.")),
        };
        let sg = v::opt_str(body, "security_group_id", "security_group_id")?
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                parent
                    .doc
                    .field::<String>("security_group_id")
                    .unwrap_or_default()
            });
        let prepaid = match v::opt_obj(body, "pay_info")? {
            Some(pay) => prepaid(pay)?,
            None => None,
        };
        v::opt_str(body, "region_code", "region_code")?;

        // The parent must be available and have room.
        if parent.status != ACTIVE || parent.doc.field::<bool>("deleting") == Some(true) {
            return Err(v::busy());
        }
        if self.children(&parent).await?.len() >= c.max_htap_instances_per_taurus {
            return Err(v::quota());
        }

        let id = self.new_id(HTAP_SUFFIX);
        let now = self.ctx.clock.now_ms();
        let enterprise_project_id = sys_tags
            .iter()
            .find(|t| t["key"] == "_sys_enterprise_project_id")
            .and_then(|t| t["value"].as_str())
            .unwrap_or("0")
            .to_owned();
        let mut doc = json!({
            "parent_id": parent.id,
            "project_id": call.project()?.id,
            "engine_type": "star-rocks",
            "engine_version": version,
            "datastore_id": datastore.id,
            "kernel_version": datastore.kernel_version,
            "ha_mode": ha_mode,
            "fe_flavor_id": fe_flavor,
            "be_flavor_id": be_flavor,
            "fe_count": fe_count,
            "be_count": be_count,
            "fe_volume": fe_volume,
            "be_volume": be_volume,
            "az_mode": "single",
            "az_code": az_code,
            "time_zone": time_zone,
            "sys_tags": sys_tags,
            "enterprise_project_id": enterprise_project_id,
            "security_group_id": sg,
            "vpc_id": parent.doc.field::<Value>("vpc_id"),
            "subnet_id": parent.doc.field::<Value>("subnet_id"),
            "data_vip": private_ip(&id),
            "db_root_pwd": self.ctx.seal(pwd),
            "node_status": NORMAL,
            "actions": [],
        });
        let subscription = prepaid.map(|(period, auto_renew)| {
            Subscription::start(period, now, auto_renew, self.ctx.billing.scale)
        });
        if subscription.is_some() {
            doc["pay_model"] = json!("1");
        }
        let mut outcome_doc = Document::of(&doc);
        set_subscription(&mut outcome_doc, subscription.as_ref());
        let mut during = outcome_doc.clone();
        during.set_field("node_status", PENDING);
        let instance = Instance {
            id: id.clone(),
            account_id: parent.account_id.clone(),
            product: Product::HtapStarRocks,
            region: parent.region.clone(),
            name: name.to_owned(),
            status: PENDING.into(),
            resource_group_id: enterprise_project_id.clone(),
            tags: Vec::new(),
            doc: during.clone(),
            created_ms: now,
            updated_ms: now,
            deleted: false,
            version: 0,
        };
        let answer_instance = json!({
            "id": id,
            "az_code": az_code,
            "az_mode": "single",
            "name": name,
            "engine": {"type": engine_type, "version": version},
            "vpc_id": doc["vpc_id"],
            "security_group_id": doc["security_group_id"],
            "sub_net_id": doc["subnet_id"],
            "db_user": "root",
            "port": 3306,
            "ha_mode": ha_mode,
            "pay_info": {"pay_model": "0", "order_id": null, "period": null, "period_type": null, "is_auto_renew": null},
            "enable_ssl": false,
            "status": "creating",
            "region": instance.region,
            "tags_info": {"tags": [], "sys_tags": doc["sys_tags"]},
        });
        let step = Step {
            operation: CREATE_OPERATION,
            kind: TransitionKind::Create,
            status: PENDING.into(),
            doc_during: during,
            outcome: JobOutcome::new(
                NORMAL,
                Some(outcome_doc),
                FailedOutcome::new(CREATEFAIL, None),
            ),
        };
        let Some((period, _)) = prepaid else {
            let job = self.job(&instance, step);
            let job_id = job.id.clone();
            let batch = vec![Mutation::InsertInstance(instance), Mutation::PutJob(job)];
            if !self.commit_under(parent, batch).await? {
                return Ok(None);
            }
            return Ok(Some(Reply::created(
                json!({"instance": answer_instance, "job_id": job_id}),
            )));
        };
        // prePaid: the order waits for BSS payment (Terraform pays it), its job parked.
        let monthly = self
            .ctx
            .monthly_cents(
                Product::HtapStarRocks,
                &billed_items(&instance.doc).map_err(HwError::internal)?,
            )
            .map_err(param)?;
        let mut job = self.job(&instance, step);
        Context::park(&mut job);
        let mut order = self.ctx.order(
            &instance,
            OrderKind::New,
            period.price_cents(monthly),
            Some(period),
            false,
        );
        order.job_id = Some(job.id.clone());
        order.status_on_pay = Some(PENDING.into());
        let mut instance = instance;
        instance.doc.set_field("order_id", &order.id);
        if let Some(j) = job.outcome.doc.as_mut() {
            j.set_field("order_id", &order.id);
        }
        let mut answer_instance = answer_instance;
        answer_instance["pay_info"] = json!({
            "pay_model": "1",
            "order_id": order.id,
            "period": period.count.to_string(),
            "period_type": if period.unit == PeriodUnit::Year { "3" } else { "2" },
            "is_auto_renew": if prepaid.is_some_and(|p| p.1) { "1" } else { "0" },
        });
        let job_id = job.id.clone();
        let batch = vec![
            Mutation::InsertInstance(instance),
            Mutation::PutJob(job),
            Mutation::PutOrder(order),
        ];
        if !self.commit_under(parent, batch).await? {
            return Ok(None);
        }
        Ok(Some(Reply::created(
            json!({"instance": answer_instance, "job_id": job_id}),
        )))
    }

    /// Commits `batch` with `parent` written back as it was read: false, and nothing
    /// written, if the parent changed meanwhile.
    async fn commit_under(&self, parent: Instance, batch: Vec<Mutation>) -> Result<bool, HwError> {
        let mut guarded = vec![Mutation::UpdateInstance(parent)];
        guarded.extend(batch);
        self.ctx
            .engine
            .commit_unless_changed(guarded)
            .await
            .map_err(internal)
    }

    /// The HTAP instance `sr_id` under the TaurusDB instance `parent_id`; anything else
    /// (missing, released, another account's, another parent's) reads as missing.
    async fn htap_under(
        &self,
        call: &Call<'_>,
        parent_id: &str,
        sr_id: &str,
    ) -> Result<Instance, HwError> {
        if self
            .live(call, Product::TaurusDb, parent_id)
            .await?
            .is_none()
        {
            return Err(v::htap_not_found());
        }
        self.live(call, Product::HtapStarRocks, sr_id)
            .await?
            .filter(|i| i.doc.field::<String>("parent_id").as_deref() == Some(parent_id))
            .ok_or_else(v::htap_not_found)
    }

    pub(super) async fn show_htap(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let parent_id = call.path_param("instance_id").unwrap_or_default();
        let sr_id = call.path_param("starrocks_instance_id").unwrap_or_default();
        let sr = self.htap_under(call, parent_id, sr_id).await?;
        let mut detail = self.htap_detail(&sr, &tree(&sr)?);
        if let Some(e) = self.create_failure(&sr).await? {
            detail["create_fail_error_code"] = json!(e.code);
        }
        Ok(Reply::ok(json!({"instances": [detail]})))
    }

    /// Why the instance's create failed, when it shows `createfail`.
    async fn create_failure(&self, i: &Instance) -> Result<Option<JobError>, HwError> {
        if i.status != CREATEFAIL {
            return Ok(None);
        }
        let jobs = self
            .ctx
            .store
            .instance_jobs(&i.account_id, &i.id)
            .await
            .map_err(super::internal)?;
        Ok(jobs
            .into_iter()
            .find(|j| j.operation == CREATE_OPERATION && j.state == JobState::Failed)
            .and_then(|j| j.outcome.error))
    }

    pub(super) async fn list_htap(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let parent_id = call.path_param("instance_id").unwrap_or_default();
        let parent = self.parent(call, parent_id).await?;
        let children = self.children(&parent).await?;
        let mut items = Vec::with_capacity(children.len());
        for child in &children {
            let mut item = htap_list_item(child, &tree(child)?);
            if let Some(e) = self.create_failure(child).await? {
                item["instance_state"]["create_fail_error_code"] = json!(e.code);
                item["instance_state"]["fail_message"] = json!(e.message);
            }
            items.push(item);
        }
        Ok(Reply::ok(json!({
            "total": items.len(),
            "instances": items,
            "max_htap_instance_num_of_taurus": self.catalog.htap.max_htap_instances_per_taurus,
        })))
    }

    pub(super) async fn delete_htap(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let parent_id = call.path_param("instance_id").unwrap_or_default();
        let sr_id = call.path_param("starrocks_instance_id").unwrap_or_default();
        self.htap_under(call, parent_id, sr_id).await?;
        let now = self.ctx.clock.now_ms();
        let job_id = self
            .change(
                call,
                Product::HtapStarRocks,
                sr_id,
                v::htap_not_found,
                |i| {
                    // A failed instance can still be deleted, as on the cloud.
                    if ![CREATEFAIL, ABNORMAL].contains(&i.status.as_str()) {
                        ensure_idle(i)?;
                    }
                    let mut doc = i.doc.clone();
                    doc.set_field("actions", &[action("delete", &i.id, now)]);
                    Ok(Step {
                        operation: "DeleteStarRocksInstance",
                        kind: TransitionKind::Delete,
                        status: DELETING.into(),
                        doc_during: doc,
                        outcome: JobOutcome::new(
                            "deleted",
                            None,
                            FailedOutcome::new(ABNORMAL, Some(i.doc.clone())),
                        )
                        .releasing(),
                    })
                },
            )
            .await?;
        Ok(Reply::ok(json!({"workflow_id": job_id})))
    }

    pub(super) async fn resize_htap(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let sr_id = call
            .path_param("instance_id")
            .unwrap_or_default()
            .to_owned();
        let body = v::object(call.json()?)?;
        let fe = v::opt_str(body, "fe_flavor_id", "fe_flavor_id")?.filter(|s| !s.is_empty());
        let be = v::opt_str(body, "be_flavor_id", "be_flavor_id")?.filter(|s| !s.is_empty());
        if fe.is_none() && be.is_none() {
            return Err(param("fe_flavor_id or be_flavor_id is mandatory."));
        }
        let current = self
            .live(call, Product::HtapStarRocks, &sr_id)
            .await?
            .ok_or_else(v::htap_not_found)?;
        let version = current
            .doc
            .field::<String>("engine_version")
            .unwrap_or_default();
        for f in [fe, be].into_iter().flatten() {
            self.htap_flavor_checked(f, &version)?;
        }
        let (fe, be) = (fe.map(str::to_owned), be.map(str::to_owned));
        let now = self.ctx.clock.now_ms();
        let job_id = self
            .change(
                call,
                Product::HtapStarRocks,
                &sr_id,
                v::htap_not_found,
                |i| {
                    ensure_idle(i)?;
                    let mut after = i.doc.clone();
                    if let Some(f) = &fe {
                        after.set_field("fe_flavor_id", f);
                    }
                    if let Some(b) = &be {
                        after.set_field("be_flavor_id", b);
                    }
                    if after == i.doc {
                        return Err(param("The new flavors are the instance's current flavors."));
                    }
                    let mut during = i.doc.clone();
                    during.set_field("actions", &[action("resize_flavor", &i.id, now)]);
                    Ok(Step {
                        operation: "ResizeStarRocksFlavor",
                        kind: TransitionKind::Change,
                        status: NORMAL.into(),
                        doc_during: during,
                        outcome: JobOutcome::new(
                            NORMAL,
                            Some(after),
                            FailedOutcome::new(ABNORMAL, Some(i.doc.clone())),
                        ),
                    })
                },
            )
            .await?;
        Ok(Reply::ok(json!({"job_id": job_id})))
    }

    pub(super) async fn restart_htap(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let sr_id = call
            .path_param("starrocks_instance_id")
            .unwrap_or_default()
            .to_owned();
        let now = self.ctx.clock.now_ms();
        let job_id = self
            .change(
                call,
                Product::HtapStarRocks,
                &sr_id,
                v::htap_not_found,
                |i| {
                    ensure_idle(i)?;
                    let mut during = i.doc.clone();
                    during.set_field("actions", &[action("restart", &i.id, now)]);
                    Ok(Step {
                        operation: "RestartStarRocksInstance",
                        kind: TransitionKind::Change,
                        status: NORMAL.into(),
                        doc_during: during,
                        outcome: JobOutcome::new(
                            NORMAL,
                            Some(i.doc.clone()),
                            FailedOutcome::new(ABNORMAL, Some(i.doc.clone())),
                        ),
                    })
                },
            )
            .await?;
        Ok(Reply::ok(json!({"workflow_id": job_id})))
    }

    fn engine_path_checked(&self, call: &Call<'_>, param_name: &str) -> Result<(), HwError> {
        let engine = call.path_param(param_name).unwrap_or_default();
        if self.catalog.is_starrocks(engine) {
            Ok(())
        } else {
            Err(v::engine_unsupported())
        }
    }

    fn az_status(&self) -> Value {
        Value::Object(
            self.catalog
                .htap
                .az_codes
                .iter()
                .map(|a| (a.clone(), json!("normal")))
                .collect(),
        )
    }

    /// ListHtapFlavor: `GET /v3/{project_id}/htap/flavors/{engine_name}`.
    pub(super) fn htap_flavors(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        self.engine_path_checked(call, "engine_name")?;
        let az_mode = call.query("availability_zone_mode").unwrap_or("single");
        let version = call.query("version_name").filter(|s| !s.is_empty());
        let spec = call.query("spec_code").filter(|s| !s.is_empty());
        let flavors: Vec<Value> = if az_mode.eq_ignore_ascii_case("single") {
            self.catalog
                .htap
                .flavors
                .iter()
                .filter(|f| version.is_none_or(|v| f.versions.iter().any(|x| x == v)))
                .filter(|f| spec.is_none_or(|s| f.spec_code == s))
                .map(|f| {
                    json!({
                        "type": f.kind,
                        "vcpus": f.vcpus,
                        "ram": f.ram,
                        "id": f.id,
                        "spec_code": f.spec_code,
                        "version_name": version.unwrap_or(&f.versions[0]),
                        "instance_mode": "single",
                        "az_status": self.az_status(),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Reply::ok(json!({"flavors": flavors})))
    }

    /// ListHtapStorageType: `GET /v3/{project_id}/htap/storage-type/{database}`.
    pub(super) fn htap_storage_types(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        self.engine_path_checked(call, "database")?;
        if let Some(v) = call.query("version_name").filter(|s| !s.is_empty()) {
            if self.catalog.datastore(v).is_none() {
                return Err(v::invalid_version());
            }
        }
        let types: Vec<Value> = self
            .catalog
            .htap
            .storage_types
            .iter()
            .map(|s| {
                json!({"name": s.name, "az_status": self.az_status(), "min_volume_size": s.min_volume_size})
            })
            .collect();
        Ok(Reply::ok(json!({"storage_type": types})))
    }

    /// ListHtapDataStore: `GET /v3/{project_id}/htap/datastores/{engine_name}`.
    pub(super) fn htap_datastores(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        self.engine_path_checked(call, "engine_name")?;
        let ds: Vec<Value> = self
            .catalog
            .htap
            .datastores
            .iter()
            .map(|d| json!({"id": d.id, "name": d.name, "kernel_version": d.kernel_version}))
            .collect();
        Ok(Reply::ok(json!({"datastores": ds})))
    }

    fn htap_detail(&self, i: &Instance, d: &Value) -> Value {
        let groups: Vec<Value> = ["fe", "be"]
            .iter()
            .map(|kind| {
                let count = d[format!("{kind}_count")].as_i64().unwrap_or(0);
                let flavor_id = d[format!("{kind}_flavor_id")].as_str().unwrap_or("");
                let flavor = self.catalog.htap_flavor(flavor_id);
                let vol = &d[format!("{kind}_volume")];
                let nodes: Vec<Value> = (1..=count)
                    .map(|k| {
                        json!({
                            "id": format!("{}{kind}{k:02}no17", &i.id[..26]),
                            "name": format!("{}_{kind}_{k}", i.name),
                            "type": kind,
                            "status": d["node_status"],
                            "period": "",
                            "volume": {"type": vol["io_type"], "size": vol["capacity_in_gb"].to_string()},
                            "cpu": flavor.map(|f| f.vcpus.as_str()).unwrap_or(""),
                            "mem": flavor.map(|f| f.ram.as_str()).unwrap_or(""),
                            "datastore": {"id": d["datastore_id"], "type": "star-rocks", "version": d["kernel_version"]},
                            "actions": [],
                            "priority": k,
                            "frozen_flag": 0,
                            "db_port": 3306,
                            "pay_model": pay_model(d),
                            "order_id": order_id(d),
                            "traffic_ip": private_ip(&format!("{kind}{k}{}", i.id)),
                            "traffic_ipv6": "",
                            "az_code": d["az_code"],
                            "az_description": d["az_code"],
                            "az_type": "single",
                            "region_code": i.region,
                            "create_at": i.created_ms,
                            "update_at": i.updated_ms,
                            "flavor_id": flavor_id,
                            "flavor_ref": flavor.map(|f| f.spec_code.as_str()).unwrap_or(""),
                            "iass_flavor_ref": flavor.map(|f| f.spec_code.as_str()).unwrap_or(""),
                            "max_connections": "1024",
                            "vpc_id": d["vpc_id"],
                            "subnet_id": d["subnet_id"],
                            "need_restart": false,
                            "sg_id": d["security_group_id"],
                            "param_group": {},
                        })
                    })
                    .collect();
                json!({
                    "id": format!("{}{kind}gr17", &i.id[..26]),
                    "name": format!("{kind}_group"),
                    "nodes": nodes,
                    "group_type_name": if *kind == "fe" { "FE" } else { "BE" },
                    "group_node_type": kind,
                })
            })
            .collect();
        let bytes =
            |k: &str| (d[k]["capacity_in_gb"].as_i64().unwrap_or(0) * 1_000_000_000).to_string();
        let head = json!({
            "id": i.id,
            "name": i.name,
            "project_id": d["project_id"],
            "public_ip": "",
            "data_vip": d["data_vip"],
            "can_enable_public_access": false,
            "current_backup_node_id": "",
            "cluster_mode": d["ha_mode"],
            "status": i.status,
            "is_frozen": 0,
            "frozen_time": 0,
            "db_user": "root",
            "bak_period": "",
            "bak_keep_day": 0,
            "bak_expected_start_time": 0,
            "data_store_version_id": d["datastore_id"],
            "data_store_version": d["kernel_version"],
            "data_store_type": "star-rocks",
            "create_at": i.created_ms,
            "update_at": i.updated_ms,
            "delete_at": 0,
        });
        let rest = json!({
            "db_port": "3306",
            "param_group": "",
            "actions": d["actions"],
            "create_fail_error_code": "",
            "users_sync_switch_on": false,
            "groups": groups,
            "ops_window": {"period": "", "start_time": "02:00", "end_time": "06:00"},
            "tags_info": {"tags": [], "sys_tags": d["sys_tags"]},
            "time_zone": d["time_zone"],
            "backup_used_space": "0",
            "az_mode": d["az_mode"],
            "enterprise_project_id": d["enterprise_project_id"],
            "port_info": {"mysql_port": 3306},
            "fe_node_volume_code": d["fe_volume"]["io_type"],
            "be_node_volume_code": d["be_volume"]["io_type"],
            "fe_node_volume_size": bytes("fe_volume"),
            "be_node_volume_size": bytes("be_volume"),
            "support_data_replication": true,
            "new_version_available": false,
            "ssl_option": false,
            "dedicated_resource_id": "",
            "pay_model": pay_model(d),
        });
        let mut out = head;
        if let (Some(o), Value::Object(r)) = (out.as_object_mut(), rest) {
            o.extend(r);
        }
        out
    }
}

/// A change needs the instance `normal` with nothing under way.
fn ensure_idle(i: &Instance) -> Result<(), HwError> {
    let busy = i.status != NORMAL
        || i.doc
            .field::<Vec<IgnoredAny>>("actions")
            .is_some_and(|a| !a.is_empty());
    if busy {
        Err(v::busy())
    } else {
        Ok(())
    }
}

/// `pay_info`: `pay_model` 0 (pay-per-use, the default) or 1 (yearly/monthly) with
/// `period_type` 2 (month, 1–9) or 3 (year, 1–3), `period` and `is_auto_renew` (0 or 1).
fn prepaid(pay: &Map<String, Value>) -> Result<Option<(Period, bool)>, HwError> {
    let model = v::opt_str(pay, "pay_model", "pay_info.pay_model")?.unwrap_or("0");
    for k in ["period", "period_type", "is_auto_renew"] {
        v::opt_str(pay, k, &format!("pay_info.{k}"))?;
    }
    match model {
        "0" => return Ok(None),
        "1" => {}
        _ => {
            return Err(param(
                "pay_info.pay_model: use 0 (pay-per-use) or 1 (yearly/monthly).",
            ))
        }
    }
    let unit = v::opt_str(pay, "period_type", "pay_info.period_type")?
        .and_then(PeriodUnit::parse)
        .filter(|u| matches!(u, PeriodUnit::Month | PeriodUnit::Year))
        .ok_or_else(|| {
            param("pay_info.period_type: use 2 (month) or 3 (year) for yearly/monthly billing.")
        })?;
    let max = if unit == PeriodUnit::Year { 3 } else { 9 };
    let count = v::opt_str(pay, "period", "pay_info.period")?
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| param(format!("pay_info.period: 1 to {max} for this period_type.")))?;
    let auto_renew = match v::opt_str(pay, "is_auto_renew", "pay_info.is_auto_renew")? {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(_) => return Err(param("pay_info.is_auto_renew: use 0 or 1.")),
    };
    Ok(Some((Period { unit, count }, auto_renew)))
}

/// What an HTAP term bills: each FE and BE node of its flavor, and each node's volume.
pub(crate) fn billed_items(doc: &Document) -> Result<Vec<(String, i64)>, String> {
    let d = &doc.to_value().map_err(|e| e.to_string())?;
    let mut items = Vec::new();
    for kind in ["fe", "be"] {
        let count = d[format!("{kind}_count")].as_i64().unwrap_or(0);
        let flavor = d[format!("{kind}_flavor_id")].as_str().unwrap_or("");
        let vol = &d[format!("{kind}_volume")];
        items.push((format!("flavor.{flavor}"), count));
        items.push((
            format!("storage.{}", vol["io_type"].as_str().unwrap_or("")),
            count * vol["capacity_in_gb"].as_i64().unwrap_or(0),
        ));
    }
    Ok(items)
}

fn pay_model(d: &Value) -> Value {
    d.get("pay_model").cloned().unwrap_or_else(|| json!("0"))
}

fn order_id(d: &Value) -> Value {
    d.get("order_id").cloned().unwrap_or_else(|| json!(""))
}

fn action(name: &str, object_id: &str, at_ms: i64) -> Value {
    json!({
        "id": format!("{name}-{object_id}"),
        "action": name,
        "object_id": object_id,
        "type": "instance",
        "job_id": "",
        "status": "running",
        "created_at": at_ms,
        "updated_at": at_ms,
    })
}

fn htap_list_item(i: &Instance, d: &Value) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "engine_name": "star-rocks",
        "engine_version": d["engine_version"],
        "project_id": d["project_id"],
        "instance_state": {
            "instance_status": i.status,
            "create_fail_error_code": "",
            "fail_message": "",
            "wait_restart_for_params": false,
        },
        "create_at": i.created_ms,
        "is_frozen": false,
        "ha_mode": d["ha_mode"],
        "pay_model": pay_model(d),
        "order_id": order_id(d),
        "alter_order_id": "",
        "data_vip": d["data_vip"],
        "readable_node_infos": [],
        "proxy_ips": [],
        "data_vip_v6": "",
        "port": 3306,
        "available_zones": [{"code": d["az_code"], "description": d["az_code"], "az_type": "single"}],
        "current_actions": d["actions"],
        "volume_type": d["be_volume"]["io_type"],
        "server_type": "",
        "enterprise_project_id": d["enterprise_project_id"],
        "dedicated_resource_id": "",
        "network": {"vpc_id": d["vpc_id"], "sub_net_id": d["subnet_id"], "security_group_id": d["security_group_id"]},
        "ch_master_node_id": "",
        "node_num": d["fe_count"].as_i64().unwrap_or(0) + d["be_count"].as_i64().unwrap_or(0),
    })
}
