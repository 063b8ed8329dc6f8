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
    // First: billing reads them by name on every transition (`billing::SUBSCRIPTION_KEY`).
    /// The prePaid term; `None` for postPaid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    /// The pay-per-use rate history (`billing::stamp_usage`), kept through typed rewrites.
    #[serde(default, skip_serializing_if = "UsageLedger::is_empty")]
    pub usage: UsageLedger,
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

fn tags_view(instance: &Instance) -> Vec<TagView<'_>> {
    instance
        .tags
        .iter()
        .map(|t| TagView {
            key: &t.key,
            value: &t.value,
        })
        .collect()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagView<'a> {
    key: &'a str,
    value: &'a str,
}

/// One element of DescribeInstances' `Data`, printed straight from the instance and its
/// document. The fields are in the byte order of their names, the order in which a JSON
/// object tree prints them (as every other answer is printed).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceView<'a> {
    architecture: &'static str,
    begin_time: i64,
    enable_multi_az: bool,
    #[serde(rename = "EnableSSL")]
    enable_ssl: bool,
    encrypted: bool,
    expire_time: Option<i64>,
    instance_id: &'a str,
    instance_name: &'a str,
    instance_status: &'a str,
    kms_key_id: Option<&'a str>,
    minor_version: &'a str,
    oss_accessing_role_name: Option<&'a str>,
    package_type: &'a str,
    pay_type: &'a str,
    region_id: &'a str,
    resource_group_id: &'a str,
    run_mode: &'a str,
    running_time: i64,
    tags: Vec<TagView<'a>>,
    #[serde(rename = "VSwitches")]
    v_switches: Vec<VSwitchView<'a>>,
    version: &'a str,
    vpc_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VSwitchView<'a> {
    primary: bool,
    vsw_id: &'a str,
    zone_id: &'a str,
}

/// One element of DescribeInstances' `Data`.
pub fn instance_view<'a>(
    instance: &'a Instance,
    doc: &'a Doc,
    now_ms: i64,
    expire_ms: Option<i64>,
) -> InstanceView<'a> {
    let running_ms = if instance.status == "creating" || instance.status == "unpaid" {
        0
    } else {
        (now_ms - instance.created_ms).max(0)
    };
    InstanceView {
        architecture: "x86",
        begin_time: instance.created_ms,
        enable_multi_az: doc.enable_multi_az,
        enable_ssl: false,
        encrypted: doc.encrypted,
        expire_time: expire_ms,
        instance_id: &instance.id,
        instance_name: &instance.name,
        instance_status: &instance.status,
        kms_key_id: doc.kms_key_id.as_deref(),
        minor_version: &doc.minor_version,
        oss_accessing_role_name: doc.oss_accessing_role_name.as_deref(),
        package_type: &doc.package_type,
        pay_type: &doc.pay_type,
        region_id: &instance.region,
        resource_group_id: &instance.resource_group_id,
        run_mode: &doc.run_mode,
        running_time: running_ms,
        tags: tags_view(instance),
        v_switches: doc
            .v_switches
            .iter()
            .map(|v| VSwitchView {
                primary: v.primary,
                vsw_id: &v.vsw_id,
                zone_id: &v.zone_id,
            })
            .collect(),
        version: &doc.version,
        vpc_id: &doc.vpc_id,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use cloudtwin_core::{Product, Tag};

    fn instance(doc: &Doc) -> Instance {
        Instance {
            id: "c-1".into(),
            account_id: "acc".into(),
            product: Product::StarRocks,
            region: "cn-hangzhou".into(),
            name: "sr \"one\"".into(),
            status: "running".into(),
            resource_group_id: "rg-1".into(),
            tags: vec![Tag {
                key: "team".into(),
                value: "data".into(),
            }],
            doc: doc.document(),
            created_ms: 1_000,
            updated_ms: 1_000,
            deleted: false,
            version: 1,
        }
    }

    fn doc() -> Doc {
        serde_json::from_value(json!({
            "version": "3", "minorVersion": "3.3.9", "runMode": "shared_data",
            "packageType": "official", "payType": "postPaid", "pricingCycle": null,
            "duration": null, "autoRenew": false, "vpcId": "vpc-1", "zoneId": "cn-hangzhou-i",
            "vSwitches": [{"vswId": "vsw-1", "zoneId": "cn-hangzhou-i", "primary": true}],
            "encrypted": false, "kmsKeyId": null, "ossAccessingRoleName": "Role",
            "enableMultiAz": false, "adminPassword": "sealed", "nodeGroups": []
        }))
        .unwrap()
    }

    #[test]
    fn the_printed_instance_view_is_the_tree_a_client_always_got() {
        let doc = doc();
        let instance = instance(&doc);
        let view = instance_view(&instance, &doc, 5_000, None);
        let printed = serde_json::to_string(&view).unwrap();
        // A tree prints its keys in byte order: the struct must print them the same way.
        let tree = serde_json::to_value(&view).unwrap();
        assert_eq!(printed, tree.to_string());
        assert_eq!(
            tree,
            json!({
                "Architecture": "x86", "BeginTime": 1_000, "EnableMultiAz": false,
                "EnableSSL": false, "Encrypted": false, "ExpireTime": null,
                "InstanceId": "c-1", "InstanceName": "sr \"one\"", "InstanceStatus": "running",
                "KmsKeyId": null, "MinorVersion": "3.3.9", "OssAccessingRoleName": "Role",
                "PackageType": "official", "PayType": "postPaid", "RegionId": "cn-hangzhou",
                "ResourceGroupId": "rg-1", "RunMode": "shared_data", "RunningTime": 4_000,
                "Tags": [{"Key": "team", "Value": "data"}],
                "VSwitches": [{"Primary": true, "VswId": "vsw-1", "ZoneId": "cn-hangzhou-i"}],
                "Version": "3", "VpcId": "vpc-1"
            })
        );
    }
}
