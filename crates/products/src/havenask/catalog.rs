//! The Havenask catalog: regions, billing enums, node specs and the component codes a
//! create may carry. Data, kept in `catalog/havenask.json` with its sources.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub commodity_code: String,
    pub version: String,
    pub bs_version: String,
    pub regions: Vec<Region>,
    pub charge_types: Vec<String>,
    pub refused_charge_types: Vec<String>,
    pub pricing_cycles: Vec<String>,
    pub durations: Vec<i64>,
    pub order_types: Vec<String>,
    /// Node type (`qrs`, `search`, `index`, `cluster`) → the specs it may take.
    pub specs: BTreeMap<String, Vec<Spec>>,
    pub storage_category: String,
    /// Component code → its rule.
    pub components: BTreeMap<String, ComponentRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub region_id: String,
    pub local_name: String,
    pub local_name_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub name: String,
    pub cpu: i64,
    pub mem: i64,
    pub min_disk: i64,
    pub max_disk: i64,
}

/// What one component code accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind")]
pub enum Kind {
    /// One of `values`.
    #[serde(rename = "enum")]
    Enum { values: Vec<String> },
    /// A resource id with this prefix (`vpc-`, `vsw-`).
    #[serde(rename = "id")]
    Id { prefix: String },
    /// A decimal integer in `min..=max`.
    #[serde(rename = "int")]
    Int { min: i64, max: i64 },
    /// A spec name of `spec_type` (`4C16G`).
    #[serde(rename = "spec")]
    Spec {
        #[serde(rename = "specType")]
        spec_type: String,
    },
    /// A disk size in GB within the chosen spec's `minDisk..=maxDisk`.
    #[serde(rename = "disk")]
    Disk {
        #[serde(rename = "specType")]
        spec_type: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRule {
    #[serde(flatten)]
    pub kind: Kind,
    #[serde(default)]
    pub required: bool,
    pub default: Option<String>,
    #[serde(default)]
    pub updatable: bool,
}

impl Catalog {
    pub fn embedded() -> Self {
        serde_json::from_str(include_str!("../../../../catalog/havenask.json"))
            .expect("catalog/havenask.json is valid")
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.region_id == id)
    }

    pub fn specs_of(&self, spec_type: &str) -> &[Spec] {
        self.specs.get(spec_type).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn spec(&self, spec_type: &str, name: &str) -> Option<&Spec> {
        self.specs_of(spec_type).iter().find(|s| s.name == name)
    }

    pub fn codes(&self) -> String {
        self.components
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_is_consistent() {
        let c = Catalog::embedded();
        assert!(c.region("cn-hangzhou").is_some());
        assert_eq!(c.durations, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]);
        assert!(
            !c.durations.contains(&29),
            "the page's example 29 is refused"
        );
        assert!(c
            .refused_charge_types
            .iter()
            .all(|t| c.charge_types.contains(t)));
        // Every default passes its own rule, and every spec kind names a known spec list.
        for (code, rule) in &c.components {
            match &rule.kind {
                Kind::Spec { spec_type } => {
                    let d = rule.default.as_deref().unwrap();
                    assert!(c.spec(spec_type, d).is_some(), "{code} default {d}");
                }
                Kind::Disk { spec_type } => assert!(!c.specs_of(spec_type).is_empty()),
                Kind::Enum { values } => {
                    assert!(values.contains(rule.default.as_ref().unwrap()), "{code}")
                }
                Kind::Int { min, max } => {
                    let d: i64 = rule.default.as_deref().unwrap().parse().unwrap();
                    assert!((*min..=*max).contains(&d), "{code}");
                }
                Kind::Id { .. } => assert!(rule.required || rule.default.is_some()),
            }
        }
        // The probe's components are all known codes.
        for code in [
            "instance_type",
            "vpc_id",
            "vswitch",
            "qrs_resource",
            "searcherdocsize",
        ] {
            assert!(c.components.contains_key(code), "{code}");
        }
    }
}
