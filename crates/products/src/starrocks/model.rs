//! The StarRocks instance document as stored, and its views on the wire.

use cloudtwin_core::billing::UsageLedger;
use cloudtwin_core::billing::{Subscription, TimeScale};
use cloudtwin_core::{Document, Instance};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Product state kept in the instance's `doc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Doc {
    pub version: String,
    pub minor_version: String,
    pub run_mode: String,
    pub package_type: String,
    pub pay_type: String,
    pub pricing_cycle: Option<String>,
    pub duration: Option<i64>,
    pub auto_renew: bool,
    pub vpc_id: String,
    pub zone_id: String,
    pub v_switches: Vec<VSwitch>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub oss_accessing_role_name: Option<String>,
    pub enable_multi_az: bool,
    /// The administrator password, sealed under the master key (hex); never on the wire.
    pub admin_password: String,
    /// The prePaid term; `None` for postPaid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    /// The pay-per-use rate history (`billing::stamp_usage`), kept through typed rewrites.
    #[serde(default, skip_serializing_if = "UsageLedger::is_empty")]
    pub usage: UsageLedger,
    pub node_groups: Vec<NodeGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VSwitch {
    pub vsw_id: String,
    pub zone_id: String,
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroup {
    pub id: String,
    pub name: String,
    /// `FE`, `BE` or `OBSERVER`.
    pub component: String,
    pub cu: i64,
    pub resident_node_number: i64,
    pub storage_size: i64,
    pub storage_performance_level: String,
    pub disk_number: i64,
    pub spec_type: String,
    pub zone_id: String,
    pub local_storage_instance_type: Option<String>,
    /// Upper case, as the node-group API shows it (`RUNNING`).
    pub status: String,
    pub created_ms: i64,
}

impl Doc {
    pub fn from_instance(instance: &Instance) -> Result<Doc, serde_json::Error> {
        instance.doc.parse()
    }

    pub fn document(&self) -> Document {
        Document::of(self)
    }

    /// The term's end as clients see it (an auto-renewing term rolls over).
    pub fn expire_ms(&self, now_ms: i64, scale: TimeScale) -> Option<i64> {
        self.subscription.map(|s| s.visible_end_ms(now_ms, scale))
    }

    /// The same document with every node group in `status`.
    pub fn with_group_status(&self, status: &str) -> Doc {
        let mut doc = self.clone();
        for g in &mut doc.node_groups {
            g.status = status.to_owned();
        }
        doc
    }
}

fn tags_view(instance: &Instance) -> Value {
    Value::Array(
        instance
            .tags
            .iter()
            .map(|t| json!({"Key": t.key, "Value": t.value}))
            .collect(),
    )
}

/// One element of DescribeInstances' `Data`.
pub fn instance_view(instance: &Instance, doc: &Doc, now_ms: i64, expire_ms: Option<i64>) -> Value {
    let running_ms = if instance.status == "creating" || instance.status == "unpaid" {
        0
    } else {
        (now_ms - instance.created_ms).max(0)
    };
    json!({
        "InstanceId": instance.id,
        "InstanceName": instance.name,
        "InstanceStatus": instance.status,
        "RegionId": instance.region,
        "Version": doc.version,
        "MinorVersion": doc.minor_version,
        "RunMode": doc.run_mode,
        "PackageType": doc.package_type,
        "PayType": doc.pay_type,
        "VpcId": doc.vpc_id,
        "VSwitches": doc.v_switches.iter().map(|v| json!({
            "VswId": v.vsw_id, "ZoneId": v.zone_id, "Primary": v.primary,
        })).collect::<Vec<_>>(),
        "Tags": tags_view(instance),
        "ResourceGroupId": instance.resource_group_id,
        "BeginTime": instance.created_ms,
        "ExpireTime": expire_ms,
        "RunningTime": running_ms,
        "Encrypted": doc.encrypted,
        "KmsKeyId": doc.kms_key_id,
        "EnableMultiAz": doc.enable_multi_az,
        "EnableSSL": false,
        "Architecture": "x86",
        "OssAccessingRoleName": doc.oss_accessing_role_name,
    })
}

/// One element of DescribeNodeGroups' `Data`.
pub fn node_group_view(
    instance: &Instance,
    doc: &Doc,
    group: &NodeGroup,
    expire_ms: Option<i64>,
) -> Value {
    json!({
        "NodeGroupId": group.id,
        "NodeGroupName": group.name,
        "InstanceId": instance.id,
        "RegionId": instance.region,
        "ZoneId": group.zone_id,
        "ComponentType": group.component,
        "Cu": group.cu,
        "ResidentNodeNumber": group.resident_node_number,
        "ElasticNodeNumber": 0,
        "TargetElasticNodeNumber": 0,
        "StorageSize": group.storage_size,
        "StoragePerformanceLevel": group.storage_performance_level,
        "DiskNumber": group.disk_number,
        "SpecType": group.spec_type,
        "LocalStorageInstanceType": group.local_storage_instance_type,
        "MemoryCpuRatio": 4,
        "Architecture": "x86",
        "Status": group.status,
        "PayType": doc.pay_type,
        "BeginTime": group.created_ms,
        "ExpireTime": expire_ms,
        "DefaultGroup": true,
        "Description": "",
        "EnablePublicNetwork": false,
        "Tags": tags_view(instance),
        "NodeInfo": (0..group.resident_node_number)
            .map(|n| json!({"NodeId": format!("{}-{n}", group.id)}))
            .collect::<Vec<_>>(),
    })
}
