//! The Openanalytics catalog: regions (id and display name), instance types with their
//! engines, CU ranges and the virtual-cluster name rule. Data, kept in
//! `catalog/openanalytics.json` with its sources.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub charge_types: Vec<String>,
    /// Instance type → the `engine` its component must name.
    pub instance_types: BTreeMap<String, String>,
    pub min_cu: Range,
    pub max_cu: Range,
    pub name: NameRule,
    /// The longest free-text component field (`app_name`, `app_version_name`).
    pub text_max_length: usize,
    pub regions: Vec<Region>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    #[serde(rename = "RegionId")]
    pub region_id: String,
    #[serde(rename = "RegionName")]
    pub region_name: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Range {
    pub min: i64,
    pub max: i64,
}

impl Range {
    pub fn contains(&self, v: i64) -> bool {
        (self.min..=self.max).contains(&v)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameRule {
    pub min_length: usize,
    pub max_length: usize,
    /// The rule in words, for error messages.
    pub rule: String,
}

impl Catalog {
    pub fn embedded() -> Self {
        serde_json::from_str(include_str!("../../../../catalog/openanalytics.json"))
            .expect("catalog/openanalytics.json is valid")
    }

    /// The region id for an id or a display name (`China (Beijing)` → `cn-beijing`),
    /// both matched without regard to case or surrounding blanks.
    pub fn region_id(&self, id_or_name: &str) -> Option<&str> {
        let wanted = id_or_name.trim();
        self.regions
            .iter()
            .find(|r| {
                r.region_id.eq_ignore_ascii_case(wanted)
                    || r.region_name.eq_ignore_ascii_case(wanted)
            })
            .map(|r| r.region_id.as_str())
    }

    pub fn region_ids(&self) -> String {
        self.regions
            .iter()
            .map(|r| r.region_id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_holds_the_page_examples() {
        let c = Catalog::embedded();
        assert_eq!(c.region_id("China (Beijing)"), Some("cn-beijing"));
        assert_eq!(c.region_id(" china (beijing) "), Some("cn-beijing"));
        assert_eq!(c.region_id("cn-hangzhou"), Some("cn-hangzhou"));
        assert_eq!(c.region_id("mars-1"), None);
        assert_eq!(c.instance_types["CU_SPARK"], "spark");
        assert_eq!(c.instance_types["CU_PRESTO"], "presto");
        assert!(c.charge_types.iter().any(|t| t == "POSTPAY"));
        assert!(c.min_cu.contains(0) && c.max_cu.contains(8));
    }
}
