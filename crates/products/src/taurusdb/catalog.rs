//! The TaurusDB catalogs: HTAP StarRocks flavors, storage types and engine versions, and the
//! parent instances' datastores and flavors. Data, kept in `catalog/taurusdb-*.json` with
//! their sources.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct HtapCatalog {
    pub engine_names: Vec<String>,
    pub datastores: Vec<Datastore>,
    pub az_codes: Vec<String>,
    pub flavors: Vec<HtapFlavor>,
    pub storage_types: Vec<StorageType>,
    pub fe_count: Range,
    pub be_count: Range,
    pub ha_modes: Vec<String>,
    pub max_htap_instances_per_taurus: usize,
    pub default_time_zone: String,
    pub weak_passwords: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Datastore {
    pub id: String,
    pub name: String,
    pub kernel_version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HtapFlavor {
    pub id: String,
    pub spec_code: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub vcpus: String,
    pub ram: String,
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageType {
    pub name: String,
    pub min_volume_size: i64,
    pub max_volume_size: i64,
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
pub struct ParentCatalog {
    pub datastores: Vec<ParentDatastore>,
    pub modes: Vec<String>,
    pub flavors: Vec<ParentFlavor>,
    pub az_codes: Vec<String>,
    pub slave_count: Range,
    pub default_time_zone: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ParentDatastore {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: String,
    pub kernel_version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ParentFlavor {
    pub spec_code: String,
    pub vcpus: String,
    pub ram: String,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub htap: HtapCatalog,
    pub parent: ParentCatalog,
}

impl Catalog {
    pub fn embedded() -> Self {
        Self {
            htap: serde_json::from_str(include_str!("../../../../catalog/taurusdb-htap.json"))
                .expect("catalog/taurusdb-htap.json is valid"),
            parent: serde_json::from_str(include_str!("../../../../catalog/taurusdb-parent.json"))
                .expect("catalog/taurusdb-parent.json is valid"),
        }
    }

    pub fn htap_flavor(&self, id: &str) -> Option<&HtapFlavor> {
        self.htap.flavors.iter().find(|f| f.id == id)
    }

    pub fn datastore(&self, version: &str) -> Option<&Datastore> {
        self.htap.datastores.iter().find(|d| d.name == version)
    }

    pub fn storage_type(&self, name: &str) -> Option<&StorageType> {
        self.htap.storage_types.iter().find(|s| s.name == name)
    }

    pub fn parent_flavor(&self, spec: &str) -> Option<&ParentFlavor> {
        self.parent.flavors.iter().find(|f| f.spec_code == spec)
    }

    /// Whether `name` names the StarRocks engine (`star-rocks`, `starrocks`, any casing).
    pub fn is_starrocks(&self, name: &str) -> bool {
        self.htap
            .engine_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_holds_the_page_example() {
        let c = Catalog::embedded();
        assert!(c
            .htap_flavor("afef3bfd-ac7c-32e1-ba44-c388acbb196a")
            .is_some());
        assert!(c
            .htap_flavor("de565db8-0a96-37ea-9388-61167624712c")
            .is_some());
        assert!(c.datastore("3.1").is_some());
        assert!(c.storage_type("SSD").is_some());
        assert!(c.htap.az_codes.iter().any(|a| a == "az"));
        assert!(c.is_starrocks("Star-Rocks"));
        assert!(c.is_starrocks("STARROCKS"));
        assert!(!c.is_starrocks("clickhouse"));
        assert!(!c.htap.weak_passwords.iter().any(|p| p == "Test@123!"));
    }
}
