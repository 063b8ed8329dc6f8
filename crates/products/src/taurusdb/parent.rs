//! Parent TaurusDB (GaussDB for MySQL) instances: create, show, list, delete. Enough of the
//! instance for Terraform's `huaweicloud_taurusdb_instance` (which waits for `BUILD` →
//! `ACTIVE`, and for a 404 after delete) and for HTAP StarRocks to need a real parent.

use cloudtwin_core::{Document, FailedOutcome, Instance, JobOutcome, Product, Tag, TransitionKind};
use cloudtwin_huawei::{Call, HwError, Reply};
use cloudtwin_store::InstanceQuery;
use serde_json::{json, Value};

use super::validate::{self as v, param};
use super::{gauss_time, internal, kept_changing, tree, Step, TaurusDb, PARENT_SUFFIX};
use crate::WRITE_RETRIES;

pub const BUILD: &str = "BUILD";
pub const ACTIVE: &str = "ACTIVE";
/// The SDK's status for a create that failed.
pub const FAILED: &str = "FAILED";

impl TaurusDb {
    pub(super) async fn create_parent(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let account = call.caller()?.account_id.clone();
        let region = call.project()?.region.clone();
        let project_id = call.project()?.id.clone();
        let body = v::object(call.json()?)?;
        let c = &self.catalog.parent;

        let name = v::req_str(body, "name", "name")?;
        v::check_name(name)?;
        let req_region = v::req_str(body, "region", "region")?;
        if req_region != region {
            return Err(v::invalid_region());
        }
        let ds = v::req_obj(body, "datastore")?;
        let ds_type = v::req_str(ds, "type", "datastore.type")?;
        let ds_version = v::req_str(ds, "version", "datastore.version")?;
        let datastore = c
            .datastores
            .iter()
            .find(|d| d.kind.eq_ignore_ascii_case(ds_type))
            .ok_or_else(v::engine_unsupported)?;
        if datastore.version != ds_version {
            return Err(v::invalid_version());
        }
        let mode = v::req_str(body, "mode", "mode")?;
        let mode = c
            .modes
            .iter()
            .find(|m| m.eq_ignore_ascii_case(mode))
            .ok_or_else(v::invalid_ha_mode)?
            .clone();
        let flavor_ref = v::req_str(body, "flavor_ref", "flavor_ref")?;
        let flavor = self
            .catalog
            .parent_flavor(flavor_ref)
            .ok_or_else(v::flavor_not_found)?;
        let vpc_id = v::req_str(body, "vpc_id", "vpc_id")?;
        let subnet_id = v::req_str(body, "subnet_id", "subnet_id")?;
        let sg = v::opt_str(body, "security_group_id", "security_group_id")?;
        let configuration_id = v::opt_str(body, "configuration_id", "configuration_id")?;
        let password = v::req_str(body, "password", "password")?;
        v::check_password(password, &self.catalog.htap.weak_passwords)?;
        let tz = v::opt_str(body, "time_zone", "time_zone")?
            .unwrap_or(&c.default_time_zone)
            .to_owned();
        v::check_time_zone(&tz)?;
        let az_mode = v::req_str(body, "availability_zone_mode", "availability_zone_mode")?
            .to_ascii_lowercase();
        if az_mode != "single" && az_mode != "multi" {
            return Err(param("availability_zone_mode must be single or multi."));
        }
        let master_az = v::opt_str(body, "master_availability_zone", "master_availability_zone")?;
        let master_az =
            match (az_mode.as_str(), master_az) {
                ("multi", None) => return Err(param(
                    "master_availability_zone is mandatory when availability_zone_mode is multi.",
                )),
                (_, Some(az)) if !c.az_codes.iter().any(|a| a == az) => return Err(v::invalid_az()),
                (_, Some(az)) => az.to_owned(),
                (_, None) => c.az_codes[0].clone(),
            };
        let slave_count = match body.get("slave_count") {
            None | Some(Value::Null) => 1,
            Some(n) => n
                .as_i64()
                .filter(|n| c.slave_count.contains(*n))
                .ok_or_else(|| {
                    param(format!(
                        "slave_count must be an integer from {} to {}.",
                        c.slave_count.min, c.slave_count.max
                    ))
                })?,
        };
        if let Some(charge) = v::opt_obj(body, "charge_info")? {
            let mode = v::opt_str(charge, "charge_mode", "charge_info.charge_mode")?;
            if mode.is_some_and(|m| !m.eq_ignore_ascii_case("postPaid")) {
                return Err(param(
                    "charge_info.charge_mode: cloudtwin serves pay-per-use (postPaid) instances only.",
                ));
            }
        }
        let mut tags = Vec::new();
        match body.get("tags") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for t in items {
                    let t = t
                        .as_object()
                        .ok_or_else(|| param("tags must hold objects."))?;
                    tags.push(Tag {
                        key: v::req_str(t, "key", "tags.key")?.to_owned(),
                        value: v::opt_str(t, "value", "tags.value")?
                            .unwrap_or("")
                            .to_owned(),
                    });
                }
            }
            Some(_) => return Err(param("tags must be an array.")),
        }
        let enterprise_project_id =
            v::opt_str(body, "enterprise_project_id", "enterprise_project_id")?.unwrap_or("0");

        let id = self.new_id(PARENT_SUFFIX);
        let now = self.ctx.clock.now_ms();
        let sg = match sg {
            Some(s) => s.to_owned(),
            None => uuid_like(&self.ctx.ids.sortable_hex(32)),
        };
        let doc = json!({
            "project_id": project_id,
            "datastore": {"type": datastore.kind, "version": datastore.version, "kernel_version": datastore.kernel_version},
            "mode": mode,
            "flavor_ref": flavor.spec_code,
            "vcpus": flavor.vcpus,
            "ram": flavor.ram,
            "vpc_id": vpc_id,
            "subnet_id": subnet_id,
            "security_group_id": sg,
            "configuration_id": configuration_id.unwrap_or(""),
            "password": self.ctx.seal(password),
            "time_zone": tz,
            "az_mode": az_mode,
            "master_az": master_az,
            "slave_count": slave_count,
            "enterprise_project_id": enterprise_project_id,
            "private_ip": private_ip(&id),
            "deleting": false,
        });
        let instance = Instance {
            id: id.clone(),
            account_id: account,
            product: Product::TaurusDb,
            region,
            name: name.to_owned(),
            status: BUILD.into(),
            resource_group_id: enterprise_project_id.to_owned(),
            tags,
            doc: Document::of(&doc),
            created_ms: now,
            updated_ms: now,
            deleted: false,
            version: 0,
        };
        let answer = json!({
            "instance": {
                "id": id,
                "name": name,
                "status": BUILD,
                "datastore": doc["datastore"],
                "mode": doc["mode"],
                "configuration_id": doc["configuration_id"],
                "port": "3306",
                "backup_strategy": {"start_time": "00:00-01:00", "keep_days": "7"},
                "enterprise_project_id": enterprise_project_id,
                "region": instance.region,
                "availability_zone_mode": doc["az_mode"],
                "master_availability_zone": doc["master_az"],
                "vpc_id": vpc_id,
                "security_group_id": doc["security_group_id"],
                "subnet_id": subnet_id,
                "flavor_ref": flavor.spec_code,
                "charge_info": {"charge_mode": "postPaid"},
            },
        });
        let step = Step {
            operation: "CreateGaussDBforMySQLInstance",
            kind: TransitionKind::Create,
            status: BUILD.into(),
            doc_during: instance.doc.clone(),
            outcome: JobOutcome::new(ACTIVE, None, FailedOutcome::new(FAILED, None)),
        };
        let job_id = self.insert(instance, step).await?;
        let mut answer = answer;
        answer["job_id"] = json!(job_id);
        Ok(Reply::created(answer))
    }

    /// The caller's live TaurusDB instance in the call's region.
    pub(super) async fn parent(&self, call: &Call<'_>, id: &str) -> Result<Instance, HwError> {
        self.live(call, Product::TaurusDb, id)
            .await?
            .ok_or_else(v::parent_not_found)
    }

    pub(super) async fn show_parent(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let id = call.path_param("instance_id").unwrap_or_default();
        let p = self.parent(call, id).await?;
        Ok(Reply::ok(
            json!({"instance": parent_detail(&p, &tree(&p)?)}),
        ))
    }

    pub(super) async fn list_parents(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let account = call.caller()?.account_id.clone();
        let region = call.project()?.region.clone();
        let offset = int_query(call, "offset", 0, 0, i64::MAX)?;
        let limit = int_query(call, "limit", 100, 1, 100)?;
        let all = self
            .ctx
            .store
            .instances(&InstanceQuery {
                account_id: account,
                product: Some(Product::TaurusDb),
                region: Some(region),
                ..Default::default()
            })
            .await
            .map_err(internal)?;
        let mut all = all
            .into_iter()
            .map(|i| Ok((tree(&i)?, i)))
            .collect::<Result<Vec<_>, HwError>>()?;
        let eq = |_field: &str, want: Option<&str>, got: &str| {
            want.is_none_or(|w| w.is_empty() || w == got)
        };
        all.retain(|(d, i)| {
            eq("id", call.query("id"), &i.id)
                && eq("name", call.query("name"), &i.name)
                && eq("type", call.query("type"), d["mode"].as_str().unwrap_or(""))
                && eq(
                    "datastore_type",
                    call.query("datastore_type"),
                    d["datastore"]["type"].as_str().unwrap_or(""),
                )
                && eq(
                    "vpc_id",
                    call.query("vpc_id"),
                    d["vpc_id"].as_str().unwrap_or(""),
                )
                && eq(
                    "subnet_id",
                    call.query("subnet_id"),
                    d["subnet_id"].as_str().unwrap_or(""),
                )
        });
        let total = all.len();
        let page: Vec<Value> = all
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(d, p)| parent_list_item(p, d))
            .collect();
        Ok(Reply::ok(json!({"instances": page, "total_count": total})))
    }

    pub(super) async fn delete_parent(&self, call: &Call<'_>) -> Result<Reply, HwError> {
        let id = call
            .path_param("instance_id")
            .unwrap_or_default()
            .to_owned();
        for _ in 0..WRITE_RETRIES {
            let p = self.parent(call, &id).await?;
            // Counted after the parent was read: an HTAP create writes the parent too, so
            // one committed since makes `start` fail, and the count is taken again.
            if !self.children(&p).await?.is_empty() {
                return Err(HwError::new(
                    409,
                    "DBS.200019",
                    "Another operation is being performed on the DB instance or the DB instance is faulty: delete its HTAP instances first.",
                ));
            }
            let step = delete_step(&p)?;
            if let Some(job_id) = self.start(p, step).await? {
                return Ok(Reply::with_status(202, json!({"job_id": job_id})));
            }
        }
        Err(kept_changing(&id))
    }

    /// The live HTAP StarRocks instances under a TaurusDB instance.
    pub(super) async fn children(&self, parent: &Instance) -> Result<Vec<Instance>, HwError> {
        let mut all = self
            .ctx
            .store
            .instances(&InstanceQuery {
                account_id: parent.account_id.clone(),
                product: Some(Product::HtapStarRocks),
                region: Some(parent.region.clone()),
                ..Default::default()
            })
            .await
            .map_err(internal)?;
        all.retain(|i| i.doc.field::<String>("parent_id").as_deref() == Some(parent.id.as_str()));
        Ok(all)
    }
}

/// A 32-hex string shaped as a UUID.
pub(super) fn uuid_like(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A stable private address in 192.168.0.0/16 for an instance.
pub(super) fn private_ip(id: &str) -> String {
    let b = id.as_bytes();
    let (x, y) = (
        b[0] as u32 * 7 + b[1] as u32,
        b[2] as u32 * 11 + b[3] as u32,
    );
    format!("192.168.{}.{}", x % 254 + 1, y % 253 + 2)
}

fn int_query(
    call: &Call<'_>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, HwError> {
    match call.query(name) {
        None => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| param(format!("{name} must be an integer from {min} to {max}."))),
    }
}

fn node_count(d: &Value) -> i64 {
    if d["mode"] == "Single" {
        1
    } else {
        1 + d["slave_count"].as_i64().unwrap_or(1)
    }
}

fn tags_json(p: &Instance) -> Value {
    Value::Array(
        p.tags
            .iter()
            .map(|t| json!({"key": t.key, "value": t.value}))
            .collect(),
    )
}

fn parent_detail(p: &Instance, d: &Value) -> Value {
    let n = node_count(d);
    let nodes: Vec<Value> = (0..n)
        .map(|k| {
            json!({
                "id": format!("{}no07{k}", &p.id[..28]),
                "name": format!("{}_node0{k}", p.name),
                "type": if k == 0 { "master" } else { "slave" },
                "status": p.status,
                "port": 3306,
                "private_read_ips": [d["private_ip"]],
                "volume": {"type": "POOL", "used": "0.01", "size": 10},
                "az_code": d["master_az"],
                "region_code": p.region,
                "created": gauss_time(p.created_ms),
                "updated": gauss_time(p.updated_ms),
                "flavor_id": "",
                "flavor_ref": d["flavor_ref"],
                "max_connections": "10000",
                "vcpus": d["vcpus"],
                "ram": d["ram"],
                "need_restart": false,
                "priority": 1,
            })
        })
        .collect();
    json!({
        "id": p.id,
        "name": p.name,
        "project_id": d["project_id"],
        "status": p.status,
        "port": "3306",
        "alias": "",
        "type": d["mode"],
        "charge_info": {"charge_mode": "postPaid", "order_id": ""},
        "node_count": n,
        "datastore": d["datastore"],
        "backup_used_space": 0,
        "created": gauss_time(p.created_ms),
        "updated": gauss_time(p.updated_ms),
        "private_write_ips": [d["private_ip"]],
        "private_dns_names": [],
        "public_ips": "",
        "db_user_name": "root",
        "vpc_id": d["vpc_id"],
        "subnet_id": d["subnet_id"],
        "security_group_id": d["security_group_id"],
        "configuration_id": d["configuration_id"],
        "backup_strategy": {"start_time": "00:00-01:00", "keep_days": "7"},
        "nodes": nodes,
        "enterprise_project_id": d["enterprise_project_id"],
        "time_zone": d["time_zone"],
        "az_mode": d["az_mode"],
        "master_az_code": d["master_az"],
        "maintenance_window": "02:00-06:00",
        "tags": tags_json(p),
        "dedicated_resource_id": "",
        "proxies": [],
    })
}

fn parent_list_item(p: &Instance, d: &Value) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "status": p.status,
        "private_ips": [d["private_ip"]],
        "proxy_ips": [],
        "readonly_private_ips": [],
        "public_ips": [],
        "port": "3306",
        "type": d["mode"],
        "region": p.region,
        "datastore": d["datastore"],
        "created": gauss_time(p.created_ms),
        "updated": gauss_time(p.updated_ms),
        "db_user_name": "root",
        "vpc_id": d["vpc_id"],
        "subnet_id": d["subnet_id"],
        "security_group_id": d["security_group_id"],
        "flavor_ref": d["flavor_ref"],
        "flavor_info": {"vcpus": d["vcpus"], "ram": d["ram"]},
        "volume": {"type": "POOL", "size": "10"},
        "backup_strategy": {"start_time": "00:00-01:00", "keep_days": "7"},
        "enterprise_project_id": d["enterprise_project_id"],
        "time_zone": d["time_zone"],
        "charge_info": {"charge_mode": "postPaid"},
        "dedicated_resource_id": "",
        "tags": tags_json(p),
    })
}

/// The step that deletes a settled TaurusDB instance (a failed create can be deleted, as on
/// the cloud).
fn delete_step(i: &Instance) -> Result<Step, HwError> {
    let settled = i.status == ACTIVE || i.status == FAILED;
    if !settled || i.doc.field::<bool>("deleting") == Some(true) {
        return Err(v::busy());
    }
    let mut doc = i.doc.clone();
    doc.set_field("deleting", &true);
    // Terraform waits for the delete with ACTIVE as a pending state.
    Ok(Step {
        operation: "DeleteGaussDBforMySQLInstance",
        kind: TransitionKind::Delete,
        status: ACTIVE.into(),
        doc_during: doc,
        // A failed delete leaves the instance as it was (the SDK has no failed value for
        // it), deletable again.
        outcome: JobOutcome::new(
            "DELETED",
            None,
            FailedOutcome::new(ACTIVE, Some(i.doc.clone())),
        )
        .releasing(),
    })
}
