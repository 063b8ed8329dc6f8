//! The RocketMQ catalog: engines, versions, flavors (with broker and storage limits) and the
//! AZs of each region. Data, kept in `catalog/rocketmq-catalog.json` with its sources.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

const EMBEDDED: &str = include_str!("../../../../catalog/rocketmq-catalog.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Catalog {
    /// Engine names a request may use (`reliability` and its alias `rocketmq`).
    pub engines: Vec<String>,
    /// What show and list answer as `engine`.
    pub display_engine: String,
    pub versions: Vec<String>,
    /// Every storage I/O code the API knows; a flavor offers some of them.
    pub storage_spec_codes: Vec<String>,
    pub tls_modes: Vec<String>,
    pub arch_types: Vec<String>,
    pub products: Vec<Flavor>,
    /// Region id → its AZs.
    pub available_zones: BTreeMap<String, Vec<Zone>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Flavor {
    pub product_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub engine_version: String,
    pub ecs_flavor_id: String,
    pub billing_code: String,
    pub arch_types: Vec<String>,
    pub charging_mode: Vec<String>,
    pub ios: Vec<Io>,
    pub support_features: Vec<String>,
    pub min_broker: i64,
    pub max_broker: i64,
    pub min_storage_per_broker: i64,
    pub max_storage_per_broker: i64,
    /// ListEngineProducts' `properties`, strings as the API answers them.
    pub properties: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Io {
    pub io_spec: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Zone {
    pub id: String,
    pub code: String,
    pub name: String,
    pub port: String,
    pub default_az: bool,
}

impl Catalog {
    pub fn embedded() -> Self {
        serde_json::from_str(EMBEDDED).expect("catalog/rocketmq-catalog.json is valid")
    }

    pub fn is_engine(&self, engine: &str) -> bool {
        self.engines.iter().any(|e| e == engine)
    }

    pub fn flavor(&self, product_id: &str) -> Option<&Flavor> {
        self.products.iter().find(|p| p.product_id == product_id)
    }

    pub fn zones(&self, region: &str) -> &[Zone] {
        self.available_zones
            .get(region)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn zone(&self, region: &str, id: &str) -> Option<&Zone> {
        self.zones(region).iter().find(|z| z.id == id)
    }
}

impl Flavor {
    pub fn offers_io(&self, code: &str) -> bool {
        self.ios.iter().any(|i| i.io_spec == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_example_is_in_the_catalog() {
        let c = Catalog::embedded();
        assert!(c.is_engine("reliability") && c.is_engine("rocketmq"));
        let f = c.flavor("c6.4u8g.cluster").unwrap();
        assert_eq!(f.engine_version, "4.8.0");
        assert!(f.offers_io("dms.physical.storage.ultra.v2"));
        assert!(f.min_storage_per_broker <= 600 && 600 <= f.max_storage_per_broker);
        assert!(c
            .zone("cn-north-4", "9f1c5806706d4c1fb0eb72f0a9b18c77")
            .is_some());
        for f in &c.products {
            assert!(c.versions.contains(&f.engine_version), "{}", f.product_id);
            assert!(f.min_broker >= 1 && f.min_broker <= f.max_broker);
            for io in &f.ios {
                assert!(c.storage_spec_codes.contains(&io.io_spec));
            }
        }
        for zones in c.available_zones.values() {
            assert!(
                zones.len() >= 3,
                "one or at least three AZs must be possible"
            );
        }
    }
}
