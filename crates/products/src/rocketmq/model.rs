//! What a RocketMQ instance keeps (`Instance::doc`) and how show, list and the task calls
//! render it: the key names and JSON types of the SDK's `ShowInstanceResponse`,
//! `InstanceDetail` and `ListBackgroundTasksRespTasks`.

use cloudtwin_core::billing::Subscription;
use cloudtwin_core::billing::UsageLedger;
use cloudtwin_core::{Document, Instance, Job, JobState};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::catalog::Catalog;
use super::create::ValidCreate;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    // First: billing reads them by name on every transition (`billing::SUBSCRIPTION_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    /// The pay-per-use rate history (`billing::stamp_usage`), kept through typed rewrites.
    #[serde(default, skip_serializing_if = "UsageLedger::is_empty")]
    pub usage: UsageLedger,
    // Next: what a term bills, read by name on every transition (`billed_items`).
    pub product_id: String,
    pub broker_num: i64,
    pub storage_spec_code: String,
    pub storage_space: i64,
    pub description: String,
    pub engine_version: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub security_group_id: String,
    pub available_zones: Vec<String>,
    pub ssl_enable: bool,
    pub enterprise_project_id: String,
    pub enable_acl: bool,
    pub ipv6_enable: bool,
    #[serde(default)]
    pub ipv6_broker_address: String,
    #[serde(default)]
    pub ipv6_namesrv_address: String,
    pub proxy_enable: bool,
    pub enable_publicip: bool,
    pub publicip_id: String,
    pub arch_type: String,
    pub tls_mode: String,
    pub disk_encrypted: bool,
    pub disk_encrypted_key: String,
    pub charging_mode: i64,
    pub extend_times: i64,
    /// The caller's access key id (`user_id`/`user_name` of tasks and show).
    pub user_name: String,
    /// AES-256-GCM ciphertext of a password sent with the create (older clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_sealed: Option<String>,
    /// The last resize's parameters, for the task list.
    #[serde(default)]
    pub last_resize: Value,
    /// prePaid: the order that bought the instance (Terraform reads it from ShowInstance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

impl Doc {
    pub fn new(v: &ValidCreate, user_name: &str, password_sealed: Option<String>) -> Self {
        Self {
            usage: UsageLedger::default(),
            description: v.description.clone(),
            engine_version: v.engine_version.clone(),
            storage_space: v.storage_space,
            vpc_id: v.vpc_id.clone(),
            subnet_id: v.subnet_id.clone(),
            security_group_id: v.security_group_id.clone(),
            available_zones: v.available_zones.clone(),
            product_id: v.product_id.clone(),
            ssl_enable: v.ssl_enable,
            storage_spec_code: v.storage_spec_code.clone(),
            enterprise_project_id: v.enterprise_project_id.clone(),
            enable_acl: v.enable_acl,
            ipv6_enable: v.ipv6_enable,
            ipv6_broker_address: v.ipv6_broker_address.clone(),
            ipv6_namesrv_address: v.ipv6_namesrv_address.clone(),
            proxy_enable: v.proxy_enable,
            enable_publicip: v.enable_publicip,
            publicip_id: v.publicip_id.clone(),
            broker_num: v.broker_num,
            arch_type: v.arch_type.clone(),
            tls_mode: v.tls_mode.clone(),
            disk_encrypted: v.disk_encrypted,
            disk_encrypted_key: v.disk_encrypted_key.clone(),
            charging_mode: v.charging_mode,
            extend_times: 0,
            user_name: user_name.to_owned(),
            password_sealed,
            last_resize: Value::Null,
            order_id: None,
            subscription: None,
        }
    }

    /// What a term bills: each broker of the flavor, and the storage.
    pub fn billed_items(&self) -> Vec<(String, i64)> {
        items(
            &self.product_id,
            self.broker_num,
            &self.storage_spec_code,
            self.storage_space,
        )
    }

    pub fn from_instance(i: &Instance) -> Result<Self, serde_json::Error> {
        i.doc.parse()
    }

    pub fn document(&self) -> Document {
        Document::of(self)
    }
}

/// The billed items of a flavor and storage: [`Doc::billed_items`].
pub(crate) fn items(
    product_id: &str,
    broker_num: i64,
    storage_spec_code: &str,
    storage_space: i64,
) -> Vec<(String, i64)> {
    vec![
        (["flavor.", product_id].concat(), broker_num),
        (["storage.", storage_spec_code].concat(), storage_space),
    ]
}

/// A stable private address for the instance: `192.168.<a>.<b>`.
fn address(instance_id: &str, n: u8) -> String {
    let bytes = instance_id.as_bytes();
    let sum: u32 = bytes.iter().map(|b| *b as u32).sum();
    format!("192.168.{}.{}", (sum % 200) + 1, 10 + n)
}

/// An object's members, printed in the byte order of their names, the order in which a
/// tree prints them, without building the tree (its map and a `String` per key).
pub struct Members(Vec<(&'static str, Value)>);

impl Members {
    fn new(mut members: Vec<(&'static str, Value)>) -> Members {
        // Stable: it merges the runs already in order (the views list their members
        // sorted), where an unstable sort of ~80 members was a tenth of a describe.
        members.sort_by_key(|(name, _)| *name);
        debug_assert!(
            members.windows(2).all(|w| w[0].0 != w[1].0),
            "a member named twice"
        );
        Members(members)
    }
}

impl Serialize for Members {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
    }
}

/// ShowInstance's body (and, with `disk_encrypted_key`, a ListInstances element).
pub fn instance_view(i: &Instance, d: &Doc, catalog: &Catalog, list: bool) -> Members {
    let zones = catalog.zones(&i.region);
    let zone_names: Vec<&str> = d
        .available_zones
        .iter()
        .map(|id| {
            zones
                .iter()
                .find(|z| &z.id == id)
                .map_or("", |z| z.name.as_str())
        })
        .collect();
    let flavor = catalog.flavor(&d.product_id);
    let alias = flavor
        .and_then(|f| f.properties.get("product_alias"))
        .and_then(Value::as_str)
        .unwrap_or(&d.product_id);
    let kind = flavor.map_or("cluster", |f| f.kind.as_str());
    let cluster = d.engine_version == "4.8.0";
    let specification = if cluster {
        format!("{alias} * {} broker", d.broker_num)
    } else {
        alias.to_owned()
    };
    let namesrv = (0..2)
        .map(|n| format!("{}:8100", address(&i.id, n)))
        .collect::<Vec<_>>()
        .join(",");
    let broker = (0..d.broker_num.clamp(1, 50) as u8)
        .map(|n| format!("{}:10100", address(&i.id, 2 + n)))
        .collect::<Vec<_>>()
        .join(",");
    let public = |port: u16| {
        if d.enable_publicip {
            format!("100.85.{}.{}:{port}", 1 + (i.id.len() % 200), 10)
        } else {
            String::new()
        }
    };
    let subnet_cidr = format!("{}.0/24", address(&i.id, 0).rsplit_once('.').unwrap().0);
    let mut members: Vec<(&'static str, Value)> = vec![
        ("arch_type", json!(d.arch_type)),
        ("auto_volume_expand_enable", json!(false)),
        ("available_zone_names", json!(zone_names)),
        ("available_zones", json!(d.available_zones)),
        ("broker_address", json!(broker)),
        ("broker_num", json!(d.broker_num)),
        ("ces_version", json!("linux,v1,v2")),
        ("charging_mode", json!(d.charging_mode)),
        ("config_ssl_need_restart_process", json!(false)),
        ("consume_portion", json!(1)),
        ("created_at", json!(i.created_ms.to_string())),
        ("cross_vpc_info", json!("")),
        ("description", json!(d.description)),
        ("disk_encrypted", json!(d.disk_encrypted)),
        ("dns_enable", json!(false)),
        ("dr_enable", json!(false)),
        ("enable_acl", json!(d.enable_acl)),
        ("enable_elastic_tps", json!(false)),
        ("enable_log_collection", json!(false)),
        ("enable_publicip", json!(d.enable_publicip)),
        ("engine", json!(catalog.display_engine)),
        ("engine_version", json!(d.engine_version)),
        ("enterprise_project_id", json!(d.enterprise_project_id)),
        ("extend_times", json!(d.extend_times)),
        (
            "grpc_address",
            json!(if cluster {
                String::new()
            } else {
                format!("{}:8080", address(&i.id, 0))
            }),
        ),
        ("grpc_domain_name", json!("")),
        ("instance_id", json!(i.id)),
        ("ipv6_broker_address", json!(d.ipv6_broker_address)),
        ("ipv6_enable", json!(d.ipv6_enable)),
        ("ipv6_namesrv_address", json!(d.ipv6_namesrv_address)),
        ("maintain_begin", json!("02:00:00")),
        ("maintain_end", json!("06:00:00")),
        (
            "max_msg_process_tps",
            json!(flavor
                .and_then(|f| f.properties.get("max_tps_per_rcu"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0)),
        ),
        ("name", json!(i.name)),
        ("namesrv_address", json!(namesrv)),
        ("namesrv_domain_name", json!("")),
        ("new_spec_billing_enable", json!(true)),
        (
            "node_num",
            json!(if cluster {
                2 * d.broker_num + 1
            } else {
                d.broker_num
            }),
        ),
        ("produce_portion", json!(1)),
        ("product_id", json!(d.product_id)),
        ("public_broker_address", json!(public(10101))),
        (
            "public_grpc_address",
            json!(if cluster { String::new() } else { public(8081) }),
        ),
        ("public_grpc_domain_name", json!("")),
        ("public_namesrv_address", json!(public(8200))),
        ("public_namesrv_domain_name", json!("")),
        (
            "publicip_address",
            json!(if d.enable_publicip {
                public(0).trim_end_matches(":0").to_owned()
            } else {
                String::new()
            }),
        ),
        ("publicip_id", json!(d.publicip_id)),
        ("quota_address", json!("")),
        ("resource_spec_code", json!("")),
        ("security_group_id", json!(d.security_group_id)),
        ("security_group_name", json!("")),
        ("service_type", json!("advanced")),
        ("specification", json!(specification)),
        ("ssl_enable", json!(d.ssl_enable)),
        ("status", json!(i.status)),
        ("storage_resource_id", json!(format!("{}-storage", i.id))),
        ("storage_space", json!(d.storage_space)),
        ("storage_spec_code", json!(d.storage_spec_code)),
        ("storage_type", json!("hec")),
        ("subnet_cidr", json!(subnet_cidr)),
        ("subnet_id", json!(d.subnet_id)),
        ("subnet_name", json!("")),
        ("support_features", json!("")),
        (
            "tags",
            json!(i
                .tags
                .iter()
                .map(|t| json!({"key": t.key, "value": t.value}))
                .collect::<Vec<_>>()),
        ),
        ("tls_mode", json!(d.tls_mode)),
        ("total_storage_space", json!(d.storage_space)),
        ("type", json!(kind)),
        ("used_storage_space", json!(0)),
        ("user_id", json!(d.user_name)),
        ("user_name", json!(d.user_name)),
        ("vpc_id", json!(d.vpc_id)),
        ("vpc_name", json!("")),
    ];
    if let Some(order_id) = &d.order_id {
        members.push(("order_id", json!(order_id)));
    }
    if list {
        members.push(("disk_encrypted_key", json!(d.disk_encrypted_key)));
        members.retain(|(name, _)| *name != "auto_volume_expand_enable");
    }
    Members::new(members)
}

/// ISO-8601 UTC with milliseconds, as the task list shows times.
pub fn iso_ms(ms: i64) -> String {
    let s = cloudtwin_huawei::tokens::iso_ms(ms);
    match s.strip_suffix("000Z") {
        Some(head) => format!("{head}Z"),
        None => s,
    }
}

/// `YYYYMMDDHHmmss` (the task list's `begin_time`/`end_time`) → epoch ms.
pub fn parse_compact_time(s: &str) -> Option<i64> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0, 4)?,
        n(4, 6)?,
        n(6, 8)?,
        n(8, 10)?,
        n(10, 12)?,
        n(12, 14)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000)
}

/// The task name Huawei's console shows for an operation.
fn task_name(operation: &str) -> &str {
    match operation {
        "CreateInstance" => "createInstance",
        "ResizeInstance" => "extendInstance",
        "DeleteInstance" => "deleteInstance",
        other => other,
    }
}

/// One background task from one engine job. Tasks Terraform waits on go `CREATED` →
/// `SUCCESS` (client-flows B.3); a running job is `EXECUTING`, a failed one `FAILED`.
pub fn task_view(job: &Job, user: &str, params: &Value) -> Value {
    let status = match job.state {
        JobState::Pending | JobState::Parked => "CREATED",
        JobState::Running => "EXECUTING",
        JobState::Succeeded => "SUCCESS",
        JobState::Failed | JobState::Cancelled => "FAILED",
    };
    json!({
        "id": job.id,
        "name": task_name(&job.operation),
        "user_name": user,
        "user_id": user,
        "params": if params.is_null() { String::new() } else { params.to_string() },
        "status": status,
        "created_at": iso_ms(job.created_ms),
        "updated_at": iso_ms(job.finished_ms.unwrap_or(job.created_ms)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_print_as_the_tree_of_the_same_members() {
        let members = Members::new(vec![
            ("status", json!("RUNNING")),
            ("broker_num", json!(1)),
            ("broker_address", json!("a")),
            ("brokeraddress", json!(null)),
            ("Upper", json!([1, {"y": 2, "x": 1}])),
        ]);
        let tree = serde_json::to_value(&members).unwrap();
        assert_eq!(serde_json::to_string(&members).unwrap(), tree.to_string());
    }

    #[test]
    fn compact_times() {
        assert_eq!(parse_compact_time("19700101000000"), Some(0));
        assert_eq!(
            parse_compact_time("20200623030003"),
            Some(1_592_881_203_000)
        );
        assert_eq!(parse_compact_time("2020062303000"), None);
        assert_eq!(parse_compact_time("20201323030003"), None);
        assert_eq!(parse_compact_time("2020-06-23T03:0"), None);
    }

    #[test]
    fn addresses_are_stable_and_private() {
        let a = address("8959ab1c-7n1a-yyb1-a05t-93dfc361b32d", 0);
        assert_eq!(a, address("8959ab1c-7n1a-yyb1-a05t-93dfc361b32d", 0));
        assert!(a.starts_with("192.168."));
    }
}
