//! CreateInstanceV1: the request as the SDK sends it, and every rule it must pass.
//! Rules come from the seed page, the SDK model and the product docs (see the catalog).

use std::fmt;

use cloudtwin_aliyun::AliError;
use cloudtwin_core::Tag;
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, GroupDefaults};
use super::invalid;
use crate::alibaba_rules::{self, TagNames};

const TAG_NAMES: TagNames = TagNames {
    list: "Tags",
    key: "Tag Key",
    value: "Tag Value",
};

pub fn validate_tags(tags: &[TagSpec]) -> Result<Vec<Tag>, AliError> {
    let pairs = tags.iter().map(|t| (t.key.clone(), t.value.clone()));
    alibaba_rules::validate_tags(pairs, &TAG_NAMES, invalid)
}

pub fn validate_resource_group(id: &str) -> Result<(), AliError> {
    alibaba_rules::validate_resource_group(id, "ResourceGroupId", invalid)
}

/// Serialized only into its fingerprint for the client token, which it leaves out.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRequest {
    pub admin_password: Option<String>,
    /// Pays a prePaid order at once (the default); `false` leaves it unpaid.
    pub auto_pay: Option<bool>,
    pub auto_renew: Option<bool>,
    pub backend_node_groups: Option<Vec<GroupSpec>>,
    #[serde(alias = "clientToken", skip_serializing)]
    pub client_token: Option<String>,
    pub duration: Option<i64>,
    pub enable_multi_az: Option<bool>,
    pub encrypted: Option<bool>,
    pub frontend_node_groups: Option<Vec<GroupSpec>>,
    pub instance_name: Option<String>,
    pub kms_key_id: Option<String>,
    pub observer_node_groups: Option<Vec<GroupSpec>>,
    pub oss_accessing_role_name: Option<String>,
    pub package_type: Option<String>,
    pub pay_type: Option<String>,
    pub pricing_cycle: Option<String>,
    pub region_id: Option<String>,
    pub resource_group_id: Option<String>,
    pub run_mode: Option<String>,
    pub tags: Option<Vec<TagSpec>>,
    #[serde(rename = "VSwitches")]
    pub v_switches: Option<Vec<VSwitchSpec>>,
    pub version: Option<String>,
    pub vpc_id: Option<String>,
    pub zone_id: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSpec {
    pub cu: Option<i64>,
    pub disk_number: Option<i64>,
    pub local_storage_instance_type: Option<String>,
    pub resident_node_number: Option<i64>,
    pub spec_type: Option<String>,
    pub storage_performance_level: Option<String>,
    pub storage_size: Option<i64>,
    pub zone_id: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagSpec {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VSwitchSpec {
    pub vsw_id: Option<String>,
    pub zone_id: Option<String>,
}

/// A request that passed every rule, with defaults filled in.
#[derive(Debug, Clone)]
pub struct ValidCreate {
    pub instance_name: String,
    pub admin_password: String,
    pub version: String,
    pub run_mode: String,
    pub region_id: String,
    pub package_type: String,
    pub pay_type: String,
    pub vpc_id: String,
    pub zone_id: String,
    pub pricing_cycle: Option<String>,
    pub duration: Option<i64>,
    pub auto_renew: bool,
    pub v_switches: Vec<(String, String)>,
    pub frontend: Vec<Group>,
    pub backend: Vec<Group>,
    pub observer: Vec<Group>,
    pub tags: Vec<Tag>,
    pub resource_group_id: String,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub oss_accessing_role_name: Option<String>,
    pub enable_multi_az: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub cu: i64,
    pub resident_node_number: i64,
    pub storage_size: i64,
    pub storage_performance_level: String,
    pub disk_number: i64,
    pub spec_type: String,
    pub zone_id: String,
    pub local_storage_instance_type: Option<String>,
}

fn required<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, AliError> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Ok(v.as_deref().unwrap_or_default()),
        _ => Err(AliError::missing(name)),
    }
}

/// `name` is formatted only for the error: a node group's names cost a `format!` each.
fn one_of(value: &str, allowed: &[String], name: impl fmt::Display) -> Result<(), AliError> {
    if allowed.iter().any(|a| a == value) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{name} should be select from set [{}], got {value:?}",
            allowed.join(", ")
        )))
    }
}

pub fn validate_client_token(token: &str) -> Result<(), AliError> {
    if token.is_empty() || token.len() > 64 || !token.is_ascii() {
        return Err(invalid(
            "ClientToken must be 1 to 64 ASCII characters".to_string(),
        ));
    }
    Ok(())
}

pub fn validate_name(name: &str, param: &str) -> Result<(), AliError> {
    let n = name.chars().count();
    if n == 0 || n > 64 || name.trim() != name {
        return Err(invalid(format!(
            "{param} must be 1 to 64 characters without leading or trailing spaces"
        )));
    }
    Ok(())
}

fn zone_of(
    catalog: &Catalog,
    region: &str,
    zone: &str,
    param: impl fmt::Display,
) -> Result<(), AliError> {
    let zones = &catalog.region(region).expect("region checked first").zones;
    if zones.iter().any(|z| z == zone) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{param} should be select from set [{}], got {zone:?}",
            zones.join(", ")
        )))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Frontend,
    Backend,
    Observer,
}

impl Component {
    pub fn param(self) -> &'static str {
        match self {
            Component::Frontend => "FrontendNodeGroups",
            Component::Backend => "BackendNodeGroups",
            Component::Observer => "ObserverNodeGroups",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Component::Frontend => "FE",
            Component::Backend => "BE",
            Component::Observer => "OBSERVER",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "FE" => Some(Component::Frontend),
            "BE" => Some(Component::Backend),
            "OBSERVER" => Some(Component::Observer),
            _ => None,
        }
    }

    /// FE-like groups (FE and observers) have the FE's narrower choices.
    fn is_frontend_like(self) -> bool {
        self != Component::Backend
    }
}

pub fn check_cu(catalog: &Catalog, component: Component, cu: i64) -> Result<(), AliError> {
    let allowed = if component.is_frontend_like() {
        &catalog.fe_cu
    } else {
        &catalog.be_cu
    };
    if allowed.contains(&cu) {
        return Ok(());
    }
    let list = allowed
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(invalid(format!(
        "{}.cu should be select from set [{list}], got {cu}",
        component.param()
    )))
}

pub fn check_node_number(catalog: &Catalog, component: Component, n: i64) -> Result<(), AliError> {
    let ok = if component.is_frontend_like() {
        catalog.fe_node_numbers.contains(&n)
    } else {
        catalog.be_node_number.contains(n)
    };
    if ok {
        return Ok(());
    }
    let allowed = if component.is_frontend_like() {
        format!(
            "one of [{}]",
            catalog
                .fe_node_numbers
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(
            "between {} and {}",
            catalog.be_node_number.min, catalog.be_node_number.max
        )
    };
    Err(invalid(format!(
        "{}.residentNodeNumber must be {allowed}, got {n}",
        component.param()
    )))
}

pub fn check_storage_size(
    catalog: &Catalog,
    component: Component,
    size: i64,
) -> Result<(), AliError> {
    let r = catalog.storage_size;
    if r.contains(size) {
        return Ok(());
    }
    Err(invalid(format!(
        "{}.storageSize must be between {} and {} GiB, got {size}",
        component.param(),
        r.min,
        r.max
    )))
}

fn group(
    catalog: &Catalog,
    component: Component,
    spec: &GroupSpec,
    defaults: &GroupDefaults,
    region: &str,
    primary_zone: &str,
) -> Result<Group, AliError> {
    let param = component.param();
    let g = Group {
        cu: spec.cu.unwrap_or(defaults.cu),
        resident_node_number: spec
            .resident_node_number
            .unwrap_or(defaults.resident_node_number),
        storage_size: spec.storage_size.unwrap_or(defaults.storage_size),
        storage_performance_level: spec
            .storage_performance_level
            .clone()
            .unwrap_or_else(|| defaults.storage_performance_level.clone()),
        disk_number: spec.disk_number.unwrap_or(defaults.disk_number),
        spec_type: spec
            .spec_type
            .clone()
            .unwrap_or_else(|| defaults.spec_type.clone()),
        zone_id: spec
            .zone_id
            .clone()
            .unwrap_or_else(|| primary_zone.to_owned()),
        local_storage_instance_type: spec
            .local_storage_instance_type
            .clone()
            .filter(|s| !s.is_empty()),
    };
    check_cu(catalog, component, g.cu)?;
    check_node_number(catalog, component, g.resident_node_number)?;
    check_storage_size(catalog, component, g.storage_size)?;
    let (levels, specs) = if component.is_frontend_like() {
        (&catalog.fe_performance_levels, &catalog.fe_spec_types)
    } else {
        (&catalog.performance_levels, &catalog.spec_types)
    };
    one_of(
        &g.storage_performance_level,
        levels,
        format_args!("{param}.storagePerformanceLevel"),
    )?;
    one_of(&g.spec_type, specs, format_args!("{param}.specType"))?;
    if !catalog.disk_number.contains(g.disk_number) {
        return Err(invalid(format!(
            "{param}.diskNumber must be between {} and {}, got {}",
            catalog.disk_number.min, catalog.disk_number.max, g.disk_number
        )));
    }
    if component.is_frontend_like() && g.local_storage_instance_type.is_some() {
        return Err(invalid(format!(
            "{param}.localStorageInstanceType does not apply to FE or observer groups"
        )));
    }
    zone_of(catalog, region, &g.zone_id, format_args!("{param}.zoneId"))?;
    Ok(g)
}

impl CreateRequest {
    pub fn validate(&self, catalog: &Catalog) -> Result<ValidCreate, AliError> {
        let instance_name = required(&self.instance_name, "InstanceName")?;
        let admin_password = required(&self.admin_password, "AdminPassword")?;
        let version = required(&self.version, "Version")?;
        let run_mode = required(&self.run_mode, "RunMode")?;
        let region_id = required(&self.region_id, "RegionId")?;
        let package_type = required(&self.package_type, "PackageType")?;
        let pay_type = required(&self.pay_type, "PayType")?;
        let vpc_id = required(&self.vpc_id, "VpcId")?;
        let zone_id = required(&self.zone_id, "ZoneId")?;

        validate_name(instance_name, "InstanceName")?;
        let pw_len = admin_password.chars().count();
        if !(8..=32).contains(&pw_len) || !admin_password.chars().all(|c| c.is_ascii_graphic()) {
            return Err(invalid(
                "AdminPassword must be 8 to 32 printable ASCII characters without spaces"
                    .to_string(),
            ));
        }
        let versions: Vec<String> = catalog.versions.keys().cloned().collect();
        one_of(version, &versions, "Version")?;
        one_of(run_mode, &catalog.run_modes, "RunMode")?;
        if catalog.region(region_id).is_none() {
            return Err(invalid(format!(
                "Region id should be select from set [{}]",
                catalog.region_ids()
            )));
        }
        one_of(package_type, &catalog.package_types, "PackageType")?;
        one_of(pay_type, &catalog.pay_types, "PayType")?;
        if !vpc_id.starts_with("vpc-") {
            return Err(invalid(format!(
                "VpcId {vpc_id:?} is not a VPC id (vpc-...)"
            )));
        }
        zone_of(catalog, region_id, zone_id, "ZoneId")?;

        let mut v_switches = Vec::new();
        for v in self.v_switches.iter().flatten() {
            let vsw = required(&v.vsw_id, "VSwitches.VswId")?;
            if !vsw.starts_with("vsw-") {
                return Err(invalid(format!(
                    "VSwitches.VswId {vsw:?} is not a vSwitch id (vsw-...)"
                )));
            }
            let zone = v.zone_id.as_deref().unwrap_or(zone_id);
            zone_of(catalog, region_id, zone, "VSwitches.ZoneId")?;
            v_switches.push((vsw.to_owned(), zone.to_owned()));
        }

        let (pricing_cycle, duration) = if pay_type == "prePaid" {
            let cycle = required(&self.pricing_cycle, "PricingCycle")?;
            let cycles: Vec<String> = catalog.pricing_cycles.keys().cloned().collect();
            one_of(cycle, &cycles, "PricingCycle")?;
            let Some(duration) = self.duration else {
                return Err(AliError::missing("Duration"));
            };
            let range = catalog.pricing_cycles[cycle];
            if !range.contains(duration) {
                return Err(invalid(format!(
                    "Duration must be between {} and {} for PricingCycle {cycle}, got {duration}",
                    range.min, range.max
                )));
            }
            (Some(cycle.to_owned()), Some(duration))
        } else {
            (None, None)
        };

        let groups = |component: Component,
                      given: &Option<Vec<GroupSpec>>,
                      defaults: &GroupDefaults,
                      default_one: bool| {
            let specs = match given {
                Some(list) if !list.is_empty() => list.clone(),
                _ if default_one => vec![GroupSpec::default()],
                _ => vec![],
            };
            specs
                .iter()
                .map(|s| group(catalog, component, s, defaults, region_id, zone_id))
                .collect::<Result<Vec<_>, _>>()
        };
        let frontend = groups(
            Component::Frontend,
            &self.frontend_node_groups,
            &catalog.defaults.frontend,
            true,
        )?;
        if frontend.len() > 1 {
            return Err(invalid(
                "FrontendNodeGroups can hold only one FE node group".to_string(),
            ));
        }
        let backend = groups(
            Component::Backend,
            &self.backend_node_groups,
            &catalog.defaults.backend,
            true,
        )?;
        let observer = groups(
            Component::Observer,
            &self.observer_node_groups,
            &catalog.defaults.frontend,
            false,
        )?;
        for o in &observer {
            let fe = &frontend[0];
            if o.cu != fe.cu || o.spec_type != fe.spec_type {
                return Err(invalid(
                    "ObserverNodeGroups must have the same specifications (cu, specType) as the FE node group".to_string(),
                ));
            }
        }

        let tags = validate_tags(self.tags.as_deref().unwrap_or_default())?;
        let resource_group_id = match self.resource_group_id.as_deref().filter(|s| !s.is_empty()) {
            Some(rg) => {
                validate_resource_group(rg)?;
                rg.to_owned()
            }
            None => String::new(),
        };
        if let Some(token) = self.client_token.as_deref() {
            validate_client_token(token)?;
        }
        let encrypted = self.encrypted.unwrap_or(false);
        let kms_key_id = self.kms_key_id.clone().filter(|s| !s.is_empty());
        if encrypted && kms_key_id.is_none() {
            // Required only with encryption: absent is a missing parameter.
            return Err(AliError::missing("KmsKeyId"));
        }

        Ok(ValidCreate {
            instance_name: instance_name.to_owned(),
            admin_password: admin_password.to_owned(),
            version: version.to_owned(),
            run_mode: run_mode.to_owned(),
            region_id: region_id.to_owned(),
            package_type: package_type.to_owned(),
            pay_type: pay_type.to_owned(),
            vpc_id: vpc_id.to_owned(),
            zone_id: zone_id.to_owned(),
            pricing_cycle,
            duration,
            auto_renew: self.auto_renew.unwrap_or(false),
            v_switches,
            frontend,
            backend,
            observer,
            tags,
            resource_group_id,
            encrypted,
            kms_key_id,
            oss_accessing_role_name: self
                .oss_accessing_role_name
                .clone()
                .filter(|s| !s.is_empty()),
            enable_multi_az: self.enable_multi_az.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn seed() -> Value {
        json!({
            "AdminPassword": "password_example", "AutoRenew": true,
            "BackendNodeGroups": [{"cu": 8, "diskNumber": 1, "residentNodeNumber": 3, "specType": "standard",
                "storagePerformanceLevel": "pl1", "storageSize": 100, "zoneId": "cn-hangzhou-i"}],
            "ClientToken": "123e4567-e89b-12d3-a456-426655440000", "Duration": 1, "Encrypted": false,
            "FrontendNodeGroups": [{"cu": 8, "diskNumber": 1, "residentNodeNumber": 3, "specType": "standard",
                "storagePerformanceLevel": "pl1", "storageSize": 100, "zoneId": "cn-hangzhou-i"}],
            "InstanceName": "c1", "OssAccessingRoleName": "AliyunEMRStarRocksAccessingOSSRole",
            "PackageType": "official", "PayType": "prePaid", "PricingCycle": "Month", "RegionId": "cn-hangzhou",
            "ResourceGroupId": "rg-aekzllkih7jqxxx", "RunMode": "shared_data", "Tags": [{"Key": "k1", "Value": "v1"}],
            "VSwitches": [{"VswId": "vsw-bp19mlh98tm9teyyd****", "ZoneId": "cn-hangzhou-i"}],
            "Version": "3", "VpcId": "vpc-bp1fll2mci6d7pw8m****", "ZoneId": "cn-hangzhou-i"
        })
    }

    fn check(body: Value) -> Result<ValidCreate, AliError> {
        serde_json::from_value::<CreateRequest>(body)
            .unwrap()
            .validate(&Catalog::embedded())
    }

    fn code_of(change: impl FnOnce(&mut Value)) -> (String, String) {
        let mut body = seed();
        change(&mut body);
        let e = check(body).expect_err("must be refused");
        assert_eq!(e.status, 400);
        (e.code, e.message)
    }

    #[test]
    fn the_seed_example_is_valid() {
        let v = check(seed()).unwrap();
        assert_eq!(v.frontend.len(), 1);
        assert_eq!(v.backend[0].cu, 8);
        assert_eq!(v.pricing_cycle.as_deref(), Some("Month"));
        assert_eq!(v.tags[0].key, "k1");
    }

    #[test]
    fn node_groups_default_when_absent() {
        let mut body = seed();
        body.as_object_mut().unwrap().remove("BackendNodeGroups");
        body.as_object_mut().unwrap().remove("FrontendNodeGroups");
        let v = check(body).unwrap();
        assert_eq!(
            (v.frontend.len(), v.backend.len(), v.observer.len()),
            (1, 1, 0)
        );
        assert_eq!(v.frontend[0].zone_id, "cn-hangzhou-i", "the primary zone");
    }

    #[test]
    fn every_required_field_is_named() {
        for field in [
            "InstanceName",
            "AdminPassword",
            "Version",
            "RunMode",
            "RegionId",
            "PackageType",
            "PayType",
            "VpcId",
            "ZoneId",
        ] {
            let (code, message) = code_of(|b| {
                b.as_object_mut().unwrap().remove(field);
            });
            assert_eq!(code, "MissingParameter", "{field}");
            assert!(message.contains(field), "{field}: {message}");
        }
    }

    #[test]
    fn bad_values_are_invalid_params() {
        type Change = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "InstanceName",
                Box::new(|b| b["InstanceName"] = json!("x".repeat(65))),
            ),
            (
                "AdminPassword",
                Box::new(|b| b["AdminPassword"] = json!("short")),
            ),
            (
                "AdminPassword",
                Box::new(|b| b["AdminPassword"] = json!("has a space")),
            ),
            ("Version", Box::new(|b| b["Version"] = json!("2"))),
            ("RunMode", Box::new(|b| b["RunMode"] = json!("shared"))),
            (
                "Region id",
                Box::new(|b| b["RegionId"] = json!("cn-nowhere")),
            ),
            (
                "PackageType",
                Box::new(|b| b["PackageType"] = json!("free")),
            ),
            ("PayType", Box::new(|b| b["PayType"] = json!("PrePaid"))),
            ("VpcId", Box::new(|b| b["VpcId"] = json!("net-1"))),
            ("ZoneId", Box::new(|b| b["ZoneId"] = json!("cn-beijing-h"))),
            (
                "VswId",
                Box::new(|b| b["VSwitches"][0]["VswId"] = json!("x-1")),
            ),
            ("Duration", Box::new(|b| b["Duration"] = json!(10))),
            (
                "PricingCycle",
                Box::new(|b| b["PricingCycle"] = json!("Week")),
            ),
            (
                "BackendNodeGroups.cu",
                Box::new(|b| b["BackendNodeGroups"][0]["cu"] = json!(7)),
            ),
            (
                "FrontendNodeGroups.cu",
                Box::new(|b| b["FrontendNodeGroups"][0]["cu"] = json!(96)),
            ),
            (
                "FrontendNodeGroups.residentNodeNumber",
                Box::new(|b| b["FrontendNodeGroups"][0]["residentNodeNumber"] = json!(2)),
            ),
            (
                "BackendNodeGroups.residentNodeNumber",
                Box::new(|b| b["BackendNodeGroups"][0]["residentNodeNumber"] = json!(101)),
            ),
            (
                "storageSize",
                Box::new(|b| b["BackendNodeGroups"][0]["storageSize"] = json!(10)),
            ),
            (
                "storagePerformanceLevel",
                Box::new(|b| b["FrontendNodeGroups"][0]["storagePerformanceLevel"] = json!("pl2")),
            ),
            (
                "specType",
                Box::new(|b| b["FrontendNodeGroups"][0]["specType"] = json!("localSSD")),
            ),
            (
                "zoneId",
                Box::new(|b| b["BackendNodeGroups"][0]["zoneId"] = json!("cn-shanghai-e")),
            ),
            (
                "FrontendNodeGroups",
                Box::new(|b| b["FrontendNodeGroups"] = json!([{}, {}])),
            ),
            (
                "Tag Key",
                Box::new(|b| b["Tags"] = json!([{"Key": "aliyun-x", "Value": "v"}])),
            ),
            (
                "20 tags",
                Box::new(|b| {
                    b["Tags"] = json!((0..21)
                        .map(|i| json!({"Key": format!("k{i}")}))
                        .collect::<Vec<_>>())
                }),
            ),
            (
                "ResourceGroupId",
                Box::new(|b| b["ResourceGroupId"] = json!("group-1")),
            ),
            (
                "ClientToken",
                Box::new(|b| b["ClientToken"] = json!("t".repeat(65))),
            ),
        ];
        for (name, change) in cases {
            let (code, message) = code_of(change);
            assert_eq!(code, "InvalidParams", "{name}: {message}");
            assert!(message.starts_with("Invalid params: ["), "{message}");
            assert!(message.contains(name), "{name}: {message}");
        }
    }

    #[test]
    fn prepaid_needs_its_period_and_postpaid_does_not() {
        let (code, message) = code_of(|b| {
            b.as_object_mut().unwrap().remove("PricingCycle");
        });
        assert_eq!(
            (code.as_str(), message.contains("PricingCycle")),
            ("MissingParameter", true)
        );
        let mut post = seed();
        post["PayType"] = json!("postPaid");
        post.as_object_mut().unwrap().remove("PricingCycle");
        post.as_object_mut().unwrap().remove("Duration");
        assert_eq!(check(post).unwrap().pricing_cycle, None);
    }

    proptest::proptest! {
        #[test]
        fn names_of_1_to_64_characters_pass(name in "[a-zA-Z0-9_\\-\\p{Han}]{1,64}") {
            proptest::prop_assert!(validate_name(&name, "InstanceName").is_ok());
        }

        #[test]
        fn longer_names_fail(name in "[a-z]{65,80}") {
            proptest::prop_assert!(validate_name(&name, "InstanceName").is_err());
        }

        #[test]
        fn cu_is_accepted_exactly_from_the_catalog(cu in 0i64..300) {
            let catalog = Catalog::embedded();
            let ok = check_cu(&catalog, Component::Backend, cu).is_ok();
            proptest::prop_assert_eq!(ok, catalog.be_cu.contains(&cu));
        }
    }
}
