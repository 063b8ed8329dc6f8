//! The StarRocks catalog: regions, zones, versions and the ranges validation uses.
//! Data, kept in `catalog/starrocks.json` with its sources.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub regions: Vec<Region>,
    /// Major version → the minor version new instances get.
    pub versions: BTreeMap<String, String>,
    pub run_modes: Vec<String>,
    pub package_types: Vec<String>,
    pub pay_types: Vec<String>,
    pub pricing_cycles: BTreeMap<String, Range>,
    pub spec_types: Vec<String>,
    pub fe_spec_types: Vec<String>,
    pub performance_levels: Vec<String>,
    pub fe_performance_levels: Vec<String>,
    pub be_cu: Vec<i64>,
    pub fe_cu: Vec<i64>,
    pub fe_node_numbers: Vec<i64>,
    pub be_node_number: Range,
    pub storage_size: Range,
    pub disk_number: Range,
    pub defaults: Defaults,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    #[serde(rename = "RegionId")]
    pub region_id: String,
    #[serde(rename = "RegionName")]
    pub region_name: String,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "DescriptionEn")]
    pub description_en: String,
    pub zones: Vec<String>,
    #[serde(rename = "trialZones")]
    pub trial_zones: Vec<String>,
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
pub struct Defaults {
    pub frontend: GroupDefaults,
    pub backend: GroupDefaults,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDefaults {
    pub cu: i64,
    pub resident_node_number: i64,
    pub storage_size: i64,
    pub storage_performance_level: String,
    pub disk_number: i64,
    pub spec_type: String,
}

impl Catalog {
    pub fn embedded() -> Self {
        serde_json::from_str(include_str!("../../../../catalog/starrocks.json"))
            .expect("catalog/starrocks.json is valid")
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.region_id == id)
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
    fn embedded_catalog_holds_the_seed_examples() {
        let c = Catalog::embedded();
        let hz = c.region("cn-hangzhou").unwrap();
        assert!(hz.zones.iter().any(|z| z == "cn-hangzhou-i"));
        assert!(c.versions.contains_key("3"));
        assert!(c.run_modes.iter().any(|m| m == "shared_data"));
        assert!(c.be_cu.contains(&8) && c.fe_cu.contains(&8));
        assert!(c.storage_size.contains(100));
        for r in &c.regions {
            for z in &r.trial_zones {
                assert!(r.zones.contains(z), "{z} is a zone of {}", r.region_id);
            }
        }
    }
}
