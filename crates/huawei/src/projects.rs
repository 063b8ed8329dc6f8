//! Huawei regions and IAM projects. Every account has one project per region of the catalog
//! (`catalog/huawei-regions.json`), named after the region as IAM's own projects are. A
//! project id is derived, not stored: the first 32 hex characters of
//! `sha256("cloudtwin/huawei/project\0" + account_id + "\0" + region)`, so every replica
//! computes the same ids and a project id maps back to (account, region) among the account's
//! ids, derived once per account and kept in memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// How many accounts' project ids [`Regions`] keeps (~2 KB each).
const CACHED_ACCOUNTS: usize = 4096;

const EMBEDDED: &str = include_str!("../../../catalog/huawei-regions.json");

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Region {
    pub id: String,
    /// Display name, empty where unknown.
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Regions {
    pub regions: Vec<Region>,
    /// Each account's project ids in catalog order, derived once: a lookup by id would
    /// otherwise hash one id per region on every call (the catalog has dozens of regions).
    /// One entry per account that has called (at most `CACHED_ACCOUNTS`); shared by clones.
    #[serde(skip)]
    project_ids: Arc<RwLock<HashMap<String, Arc<[String]>>>>,
}

impl Regions {
    /// The catalog compiled into the binary.
    pub fn embedded() -> Self {
        serde_json::from_str(EMBEDDED).expect("catalog/huawei-regions.json is valid")
    }

    pub fn get(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    /// The region of one of `account_id`'s projects; `None` for any other id, whether it
    /// belongs to another account or to nobody (the two are indistinguishable on purpose).
    pub fn region_of_project(&self, account_id: &str, project_id: &str) -> Option<&Region> {
        if project_id.len() != 32 {
            return None;
        }
        let ids = self.project_ids_of(account_id);
        let index = ids.iter().position(|id| id == project_id)?;
        self.regions.get(index)
    }

    fn project_ids_of(&self, account_id: &str) -> Arc<[String]> {
        let cached = self.project_ids.read().expect("project id cache lock");
        if let Some(ids) = cached.get(account_id) {
            return ids.clone();
        }
        drop(cached);
        let ids: Arc<[String]> = self
            .regions
            .iter()
            .map(|r| project_id_for(account_id, &r.id))
            .collect();
        let mut cache = self.project_ids.write().expect("project id cache lock");
        // Accounts come and go (a reset, a test suite's own): start over rather than grow.
        if cache.len() >= CACHED_ACCOUNTS {
            cache.clear();
        }
        cache.insert(account_id.to_owned(), ids.clone());
        ids
    }
}

fn derived(label: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    for p in parts {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    let mut s = hex::encode(h.finalize());
    s.truncate(32);
    s
}

/// The id of `account_id`'s project in `region` (32 lowercase hex).
pub fn project_id_for(account_id: &str, region: &str) -> String {
    derived("cloudtwin/huawei/project", &[account_id, region])
}

/// The id of an account's IAM user (the one the `accounts password` command gives a password).
pub fn user_id_for(account_id: &str) -> String {
    derived("cloudtwin/huawei/user", &[account_id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_the_required_regions() {
        let r = Regions::embedded();
        for id in [
            "cn-north-4",
            "cn-north-1",
            "cn-east-3",
            "cn-east-2",
            "cn-south-1",
            "ap-southeast-1",
            "ap-southeast-3",
            "la-south-2",
        ] {
            assert!(r.get(id).is_some(), "{id}");
        }
        let mut ids: Vec<_> = r.regions.iter().map(|r| &r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), r.regions.len(), "region ids are unique");
    }

    #[test]
    fn project_ids_are_deterministic_and_map_back() {
        let r = Regions::embedded();
        let a = project_id_for("1234567890123456", "cn-north-4");
        assert_eq!(a.len(), 32);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(a, project_id_for("1234567890123456", "cn-north-4"));
        assert_ne!(a, project_id_for("1234567890123456", "cn-north-1"));
        assert_ne!(a, project_id_for("1234567890123457", "cn-north-4"));
        assert_eq!(
            r.region_of_project("1234567890123456", &a).unwrap().id,
            "cn-north-4"
        );
        assert!(r.region_of_project("1234567890123457", &a).is_none());
        assert!(r
            .region_of_project("1234567890123456", "{project_id}")
            .is_none());
        assert!(r
            .region_of_project("1234567890123456", &"0".repeat(32))
            .is_none());
        // No separator ambiguity between account and region.
        assert_ne!(project_id_for("a", "bc"), project_id_for("ab", "c"));
        assert_eq!(user_id_for("x").len(), 32);
    }

    #[test]
    fn every_region_maps_back_from_a_clone_and_again() {
        let r = Regions::embedded();
        let clone = r.clone();
        for _ in 0..2 {
            for region in &r.regions {
                let id = project_id_for("1234567890123456", &region.id);
                assert_eq!(r.region_of_project("1234567890123456", &id), Some(region));
                assert_eq!(
                    clone.region_of_project("1234567890123456", &id),
                    Some(region)
                );
                assert_eq!(clone.region_of_project("9234567890123456", &id), None);
            }
        }
    }
}
