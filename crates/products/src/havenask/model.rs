//! The Havenask instance document as stored, and its views on the wire (camelCase, as
//! the SDK's models read them). The description is the instance's `name`.

use cloudtwin_core::billing::UsageLedger;
use std::collections::BTreeMap;

use cloudtwin_core::billing::{Subscription, TimeScale};
use cloudtwin_core::{Document, Instance};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::catalog::Catalog;
use super::create::spec_component;

/// Product state kept in the instance's `doc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Doc {
    // First: billing reads them by name on every transition (`billing::SUBSCRIPTION_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    /// The pay-per-use rate history (`billing::stamp_usage`), kept through typed rewrites.
    #[serde(default, skip_serializing_if = "UsageLedger::is_empty")]
    pub usage: UsageLedger,
    pub charge_type: String,
    /// `vector` or `engine` (the `instance_type` component).
    pub edition: String,
    pub vpc_id: String,
    pub v_switch_id: String,
    /// Every component code with its value, as the buy page would show it.
    pub components: BTreeMap<String, String>,
    pub qrs: NodeResource,
    pub search: NodeResource,
    pub pricing_cycle: String,
    pub duration: i64,
    pub auto_renew: bool,
    /// The end of the first term, as created; reads show the subscription's current end.
    pub expire_ms: i64,
    /// Set for a read: the term ran out unrenewed (`lockMode` `LockByExpiration`).
    #[serde(skip)]
    pub lapsed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeResource {
    pub category: String,
    pub spec: String,
    pub cpu: i64,
    pub mem: i64,
    pub disk: i64,
    pub node_count: i64,
}

/// The node resources the components describe.
fn resource(
    catalog: &Catalog,
    components: &BTreeMap<String, String>,
    spec_type: &str,
    count_code: &str,
    disk_code: Option<&str>,
) -> NodeResource {
    let spec_name = spec_component(catalog, spec_type)
        .and_then(|c| components.get(c))
        .cloned()
        .unwrap_or_default();
    let spec = catalog.spec(spec_type, &spec_name);
    let int = |code: Option<&str>| {
        code.and_then(|c| components.get(c))
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    NodeResource {
        category: catalog.storage_category.clone(),
        cpu: spec.map_or(0, |s| s.cpu),
        mem: spec.map_or(0, |s| s.mem),
        disk: int(disk_code),
        node_count: int(Some(count_code)),
        spec: spec_name,
    }
}

impl Doc {
    /// What a term bills: every QRS and searcher vCPU, and every searcher's disk.
    pub fn billed_items(&self) -> Vec<(String, i64)> {
        vec![
            (
                "vcpu".to_string(),
                self.qrs.cpu * self.qrs.node_count + self.search.cpu * self.search.node_count,
            ),
            (
                "disk.gb".to_string(),
                self.search.disk * self.search.node_count,
            ),
        ]
    }

    /// The document as a read at `now_ms` shows it: the current term's end, and whether
    /// it lapsed. Havenask has no expired status: an expired instance is locked.
    pub fn at(mut self, now_ms: i64, scale: TimeScale) -> Doc {
        if let Some(s) = self.subscription {
            self.expire_ms = s.visible_end_ms(now_ms, scale);
            self.lapsed = s.lapsed(now_ms);
        }
        self
    }

    /// Builds the document of validated components.
    pub fn new(
        catalog: &Catalog,
        charge_type: String,
        components: BTreeMap<String, String>,
        (pricing_cycle, duration, auto_renew): (String, i64, bool),
        expire_ms: i64,
    ) -> Doc {
        let mut doc = Doc {
            usage: UsageLedger::default(),
            charge_type,
            edition: String::new(),
            vpc_id: String::new(),
            v_switch_id: String::new(),
            qrs: resource(catalog, &components, "qrs", "qrs_resource", None),
            search: resource(catalog, &components, "search", "search_resource", None),
            components: BTreeMap::new(),
            pricing_cycle,
            duration,
            auto_renew,
            expire_ms,
            subscription: None,
            lapsed: false,
        };
        doc.set_components(catalog, components);
        doc
    }

    /// The same document with other components (an update).
    pub fn set_components(&mut self, catalog: &Catalog, components: BTreeMap<String, String>) {
        let text = |code: &str| components.get(code).cloned().unwrap_or_default();
        self.edition = text("instance_type");
        self.vpc_id = text("vpc_id");
        self.v_switch_id = text("vswitch");
        self.qrs = resource(catalog, &components, "qrs", "qrs_resource", None);
        self.search = resource(
            catalog,
            &components,
            "search",
            "search_resource",
            Some("searcherdocsize"),
        );
        self.components = components;
    }

    pub fn from_instance(instance: &Instance) -> Result<Doc, serde_json::Error> {
        instance.doc.parse()
    }

    pub fn document(&self) -> Document {
        Document::of(self)
    }
}

/// Milliseconds since the epoch as ISO 8601 UTC, `2024-07-16T08:00:00Z`.
pub fn iso_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn tags_view(instance: &Instance) -> Value {
    Value::Array(
        instance
            .tags
            .iter()
            .map(|t| json!({"key": t.key, "value": t.value}))
            .collect(),
    )
}

fn resource_view(r: &NodeResource) -> Value {
    json!({
        "category": r.category,
        "cpu": r.cpu,
        "mem": r.mem,
        "disk": r.disk,
        "nodeCount": r.node_count,
    })
}

fn network_view(instance: &Instance, doc: &Doc) -> Value {
    json!({
        "vpcId": doc.vpc_id,
        "vSwitchId": doc.v_switch_id,
        "endpoint": format!("{}.ha.aliyuncs.com", instance.id),
        "publicEndpoint": "",
        "allow": "",
    })
}

/// The fields UpdateInstance answers, which Get and List answer too.
pub fn update_view(instance: &Instance, doc: &Doc, catalog: &Catalog) -> Value {
    json!({
        "instanceId": instance.id,
        "status": instance.status,
        "chargeType": doc.charge_type,
        "commodityCode": catalog.commodity_code,
        "description": instance.name,
        "createTime": iso_time(instance.created_ms),
        "updateTime": iso_time(instance.updated_ms),
        "expiredTime": iso_time(doc.expire_ms),
        "inDebt": false,
        "lockMode": if doc.lapsed { "LockByExpiration" } else { "Unlock" },
        "resourceGroupId": instance.resource_group_id,
    })
}

/// GetInstance's `result`.
pub fn instance_view(instance: &Instance, doc: &Doc, catalog: &Catalog) -> Value {
    let mut v = update_view(instance, doc, catalog);
    let map = v.as_object_mut().expect("an object");
    for (k, val) in [
        ("edition", json!(doc.edition)),
        ("userName", json!(instance.account_id)),
        ("version", json!(catalog.version)),
        ("bsVersion", json!(catalog.bs_version)),
        ("newMode", json!(true)),
        ("noQrs", json!(false)),
        ("zoneCount", json!(1)),
        ("network", network_view(instance, doc)),
        (
            "spec",
            json!({
                "qrsResource": resource_view(&doc.qrs),
                "searchResource": resource_view(&doc.search),
            }),
        ),
        ("tags", tags_view(instance)),
    ] {
        map.insert(k.into(), val);
    }
    v
}

/// One element of ListInstances' `result`.
pub fn list_view(instance: &Instance, doc: &Doc, catalog: &Catalog) -> Value {
    let mut v = instance_view(instance, doc, catalog);
    let map = v.as_object_mut().expect("an object");
    for k in ["bsVersion", "newMode", "zoneCount"] {
        map.remove(k);
    }
    map.insert("dataSourceDetails".into(), json!([]));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_time(1_721_116_800_000), "2024-07-16T08:00:00Z");
        assert_eq!(iso_time(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso_time(4_102_444_799_999), "2099-12-31T23:59:59Z");
    }
}
