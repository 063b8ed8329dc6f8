//! Reading and validating create, update and resize bodies. The rules are the create page's
//! (`shared/seeds/003_*.txt`) and the API definitions' (`CreateInstanceByEngine.json`); the
//! codes are DMS's (see `errors` in mod.rs). Checks run in the page's field order, except that
//! storage space and broker count are checked after the flavor they depend on.

use cloudtwin_core::billing::Period;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalog::{Catalog, Flavor};
use super::errors::{self, bad_body};
use cloudtwin_huawei::HwError;

/// The create body, as `CreateInstanceByEngineReq` (a superset of `CreatePostPaidInstanceReq`).
#[derive(Debug, Default, Deserialize)]
pub struct CreateBody {
    pub name: Option<String>,
    pub description: Option<String>,
    pub engine: Option<String>,
    pub engine_version: Option<String>,
    pub storage_space: Option<i64>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_id: Option<String>,
    pub available_zones: Option<Vec<String>>,
    pub product_id: Option<String>,
    pub ssl_enable: Option<bool>,
    pub storage_spec_code: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub enable_acl: Option<bool>,
    pub ipv6_enable: Option<bool>,
    pub ipv6_broker_address: Option<String>,
    pub ipv6_namesrv_address: Option<String>,
    pub proxy_enable: Option<bool>,
    pub enable_publicip: Option<bool>,
    pub disk_encrypted_enable: Option<bool>,
    pub disk_encrypted_key: Option<String>,
    pub publicip_id: Option<String>,
    pub broker_num: Option<i64>,
    pub arch_type: Option<String>,
    pub tls_mode: Option<String>,
    pub bss_param: Option<BssParam>,
    /// Not in the 3.1.219 models; accepted for older clients and stored sealed only.
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BssParam {
    pub is_auto_renew: Option<bool>,
    pub charging_mode: Option<String>,
    /// `false` leaves the order unpaid and the instance invisible until BSS pays it.
    pub is_auto_pay: Option<bool>,
    pub period_type: Option<String>,
    pub period_num: Option<i64>,
}

/// A create that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCreate {
    pub name: String,
    pub description: String,
    pub engine_version: String,
    pub storage_space: i64,
    pub vpc_id: String,
    pub subnet_id: String,
    pub security_group_id: String,
    pub available_zones: Vec<String>,
    pub product_id: String,
    pub ssl_enable: bool,
    pub storage_spec_code: String,
    pub enterprise_project_id: String,
    pub enable_acl: bool,
    pub ipv6_enable: bool,
    pub ipv6_broker_address: String,
    pub ipv6_namesrv_address: String,
    pub proxy_enable: bool,
    pub enable_publicip: bool,
    pub publicip_id: String,
    pub broker_num: i64,
    pub arch_type: String,
    pub tls_mode: String,
    pub disk_encrypted: bool,
    pub disk_encrypted_key: String,
    /// 1 pay-per-use, 0 yearly/monthly (ShowInstance's `charging_mode`).
    pub charging_mode: i64,
    /// prePaid: the period bought, whether it renews itself, whether it is paid at once.
    pub prepaid: Option<Prepaid>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prepaid {
    pub period: Period,
    pub auto_renew: bool,
    pub auto_pay: bool,
}

/// A JSON body into `T`; absent body → 400 `DMS.00400004`, wrong types → `DMS.00400005`.
pub fn body_of<T: DeserializeOwned>(body: &Value) -> Result<T, HwError> {
    match body {
        Value::Null => Err(errors::body_empty()),
        Value::Object(_) => serde_path_to_error::deserialize(body.clone()).map_err(|e| {
            bad_body(format!(
                "The message body contains an invalid field: {} ({})",
                e.path(),
                e.inner()
            ))
        }),
        _ => Err(bad_body(
            "The message body is not in JSON format or contains invalid characters: a JSON object is expected.",
        )),
    }
}

/// Name: starts with a letter, 4–64 letters, digits, `_` or `-`.
pub fn validate_name(name: &str) -> Result<(), HwError> {
    let len = name.chars().count();
    let ok = (4..=64).contains(&len)
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(errors::bad_name())
    }
}

/// Description: 0–1024 characters.
pub fn validate_description(d: &str) -> Result<(), HwError> {
    if d.chars().count() > 1024 {
        return Err(errors::bad_description());
    }
    Ok(())
}

pub fn validate_engine(catalog: &Catalog, engine: Option<&str>) -> Result<(), HwError> {
    match engine {
        Some(e) if catalog.is_engine(e) => Ok(()),
        other => Err(errors::bad_engine(other.unwrap_or(""), catalog)),
    }
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The EIP ids of `publicip_id` (comma separated), each non-empty and distinct.
pub fn public_ip_ids(enabled: bool, ids: Option<&str>) -> Result<Vec<String>, HwError> {
    let raw = ids.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        if enabled {
            return Err(bad_body(
                "publicip_id is mandatory when public access is enabled (enable_publicip is true).",
            ));
        }
        return Ok(Vec::new());
    }
    let list: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
    if list.iter().any(String::is_empty) {
        return Err(bad_body(format!(
            "publicip_id {raw:?} contains an empty EIP ID: separate EIP IDs with single commas."
        )));
    }
    for (i, id) in list.iter().enumerate() {
        if list[..i].contains(id) {
            return Err(bad_body(format!("publicip_id lists the EIP {id:?} twice.")));
        }
    }
    Ok(list)
}

/// Broker count and storage space against a flavor: `broker_num` in the flavor's range, and
/// `storage_space` (the instance total) between the per-broker minimum and maximum times it.
pub fn validate_size(flavor: &Flavor, broker_num: i64, storage_space: i64) -> Result<(), HwError> {
    if !(flavor.min_broker..=flavor.max_broker).contains(&broker_num) {
        return Err(bad_body(format!(
            "broker_num {broker_num} is out of range: flavor {} takes {} to {} brokers.",
            flavor.product_id, flavor.min_broker, flavor.max_broker
        )));
    }
    let (min, max) = (
        flavor.min_storage_per_broker * broker_num,
        flavor.max_storage_per_broker * broker_num,
    );
    if !(min..=max).contains(&storage_space) {
        return Err(bad_body(format!(
            "storage_space {storage_space} GB is out of range: flavor {} with {broker_num} broker(s) takes {min} to {max} GB ({} to {} GB per broker).",
            flavor.product_id, flavor.min_storage_per_broker, flavor.max_storage_per_broker
        )));
    }
    Ok(())
}

pub fn validate_create(
    catalog: &Catalog,
    region: &str,
    body: CreateBody,
) -> Result<ValidCreate, HwError> {
    let name = body.name.clone().unwrap_or_default();
    validate_name(&name)?;
    let description = body.description.clone().unwrap_or_default();
    validate_description(&description)?;
    validate_engine(catalog, body.engine.as_deref())?;
    let version = body.engine_version.clone().unwrap_or_default();
    if !catalog.versions.contains(&version) {
        return Err(errors::bad_version(&version, catalog));
    }
    let storage_space = body
        .storage_space
        .ok_or_else(|| bad_body("storage_space is mandatory."))?;
    let vpc_id = non_empty(&body.vpc_id)
        .ok_or_else(errors::no_vpc)?
        .to_owned();
    let subnet_id = non_empty(&body.subnet_id)
        .ok_or_else(|| bad_body("subnet_id in the request is empty."))?
        .to_owned();
    let security_group_id = non_empty(&body.security_group_id)
        .ok_or_else(errors::no_security_group)?
        .to_owned();
    let zones = validate_zones(catalog, region, body.available_zones.as_deref())?;
    let product_id = body.product_id.clone().unwrap_or_default();
    let flavor = catalog
        .flavor(&product_id)
        .filter(|f| f.engine_version == version)
        .ok_or_else(|| errors::bad_product(&product_id, &version))?;
    let ssl_enable = body.ssl_enable.unwrap_or(false);
    let storage_spec_code = body.storage_spec_code.clone().unwrap_or_default();
    if !flavor.offers_io(&storage_spec_code) {
        let offered: Vec<&str> = flavor.ios.iter().map(|i| i.io_spec.as_str()).collect();
        return Err(bad_body(format!(
            "storage_spec_code {storage_spec_code:?} is not offered with flavor {product_id}: use one of [{}].",
            offered.join(", ")
        )));
    }
    let broker_num = body
        .broker_num
        .ok_or_else(|| bad_body("broker_num is mandatory."))?;
    validate_size(flavor, broker_num, storage_space)?;
    let enable_publicip = body.enable_publicip.unwrap_or(false);
    let eips = public_ip_ids(enable_publicip, body.publicip_id.as_deref())?;
    let tls_mode = body.tls_mode.clone().unwrap_or_default();
    if !tls_mode.is_empty() && !catalog.tls_modes.contains(&tls_mode) {
        return Err(bad_body(format!(
            "tls_mode {tls_mode:?} is invalid: use one of [{}].",
            catalog.tls_modes.join(", ")
        )));
    }
    let arch_type = body.arch_type.clone().unwrap_or_default();
    if !arch_type.is_empty() && !flavor.arch_types.contains(&arch_type) {
        return Err(bad_body(format!(
            "arch_type {arch_type:?} is not offered with flavor {product_id}: use one of [{}].",
            flavor.arch_types.join(", ")
        )));
    }
    let disk_encrypted = body.disk_encrypted_enable.unwrap_or(false);
    let disk_encrypted_key = non_empty(&body.disk_encrypted_key).unwrap_or("").to_owned();
    if disk_encrypted && disk_encrypted_key.is_empty() {
        return Err(bad_body(
            "disk_encrypted_key is mandatory when disk encryption is enabled (disk_encrypted_enable is true).",
        ));
    }
    let (charging_mode, prepaid) = match &body.bss_param {
        None => (1, None),
        Some(b) => validate_bss(b)?,
    };
    Ok(ValidCreate {
        name,
        description,
        engine_version: version,
        storage_space,
        vpc_id,
        subnet_id,
        security_group_id,
        available_zones: zones,
        product_id,
        ssl_enable,
        storage_spec_code,
        enterprise_project_id: body.enterprise_project_id.unwrap_or_else(|| "0".into()),
        enable_acl: body.enable_acl.unwrap_or(false),
        ipv6_enable: body.ipv6_enable.unwrap_or(false),
        ipv6_broker_address: body.ipv6_broker_address.unwrap_or_default(),
        ipv6_namesrv_address: body.ipv6_namesrv_address.unwrap_or_default(),
        proxy_enable: body.proxy_enable.unwrap_or(false),
        enable_publicip,
        publicip_id: eips.join(","),
        broker_num,
        arch_type: if arch_type.is_empty() {
            "X86".into()
        } else {
            arch_type
        },
        tls_mode: if tls_mode.is_empty() {
            if ssl_enable { "SSL" } else { "PLAINTEXT" }.into()
        } else {
            tls_mode
        },
        disk_encrypted,
        disk_encrypted_key,
        charging_mode,
        prepaid,
        password: body.password.filter(|p| !p.is_empty()),
    })
}

/// AZs: a non-empty list of distinct AZ ids of the region; one AZ or at least three.
pub fn validate_zones(
    catalog: &Catalog,
    region: &str,
    zones: Option<&[String]>,
) -> Result<Vec<String>, HwError> {
    let zones = zones.unwrap_or_default();
    if zones.is_empty() || zones.iter().any(|z| z.trim().is_empty()) {
        return Err(bad_body(
            "available_zones cannot be empty or contain an empty AZ ID.",
        ));
    }
    for (i, z) in zones.iter().enumerate() {
        if zones[..i].contains(z) {
            return Err(bad_body(format!(
                "available_zones lists the AZ {z:?} twice."
            )));
        }
        if catalog.zone(region, z).is_none() {
            return Err(bad_body(format!(
                "available_zones: {z:?} is not the ID of an AZ of region {region} with available resources (see ListAvailableZones)."
            )));
        }
    }
    if zones.len() == 2 {
        return Err(bad_body(
            "available_zones: brokers are deployed in one AZ or in three or more AZs, not two.",
        ));
    }
    Ok(zones.to_vec())
}

/// `bss_param`: `postPaid` (default) or `prePaid` with a month (1–9) or year (1–3) period.
fn validate_bss(b: &BssParam) -> Result<(i64, Option<Prepaid>), HwError> {
    match b.charging_mode.as_deref().unwrap_or("postPaid") {
        "postPaid" => Ok((1, None)),
        "prePaid" => {
            let range = match b.period_type.as_deref() {
                Some("month") => 1..=9,
                Some("year") => 1..=3,
                other => {
                    return Err(bad_body(format!(
                        "bss_param.period_type {:?} is invalid: use month or year for prePaid.",
                        other.unwrap_or("")
                    )))
                }
            };
            match b.period_num {
                Some(n) if range.contains(&n) => Ok((
                    0,
                    Some(Prepaid {
                        period: crate::billing::period(b.period_type.as_deref(), Some(n))
                            .expect("month and year are periods"),
                        auto_renew: b.is_auto_renew.unwrap_or(false),
                        // Terraform sends true; the API's default is false.
                        auto_pay: b.is_auto_pay.unwrap_or(false),
                    }),
                )),
                other => Err(bad_body(format!(
                    "bss_param.period_num {} is invalid: {} to {} for period_type {}.",
                    other.map_or("(none)".to_string(), |n| n.to_string()),
                    range.start(),
                    range.end(),
                    b.period_type.as_deref().unwrap_or("")
                ))),
            }
        }
        other => Err(bad_body(format!(
            "bss_param.charging_mode {other:?} is invalid: use prePaid or postPaid."
        ))),
    }
}

/// `UpdateInstanceReq`.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateBody {
    pub name: Option<String>,
    pub description: Option<String>,
    pub security_group_id: Option<String>,
    pub enable_acl: Option<bool>,
    pub enable_publicip: Option<bool>,
    pub publicip_id: Option<String>,
    pub enterprise_project_id: Option<String>,
}

/// `ResizeEngineInstanceReq`.
#[derive(Debug, Default, Deserialize)]
pub struct ResizeBody {
    pub oper_type: Option<String>,
    pub new_storage_space: Option<i64>,
    pub new_product_id: Option<String>,
    pub new_broker_num: Option<i64>,
    pub publicip_id: Option<String>,
}

/// The instance's size after a resize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSize {
    pub product_id: String,
    pub broker_num: i64,
    pub storage_space: i64,
    pub publicip_id: Option<String>,
}

/// A resize against the instance's current size (the definition of `ResizeEngineInstanceReq`):
/// `storage` adds at least 100 GB per broker; `horizontal` adds brokers on 4.8.0 (storage per
/// broker kept) or changes the flavor on 5.x; `vertical` changes a 4.8.0 flavor.
pub fn validate_resize(
    catalog: &Catalog,
    current: &NewSize,
    version: &str,
    public_ip: bool,
    body: &ResizeBody,
) -> Result<NewSize, HwError> {
    let flavor = catalog
        .flavor(&current.product_id)
        .ok_or_else(|| HwError::internal("the instance's flavor left the catalog"))?;
    let mut next = current.clone();
    match body.oper_type.as_deref().unwrap_or("") {
        "storage" => {
            let s = body.new_storage_space.ok_or_else(|| {
                bad_body("new_storage_space is mandatory when oper_type is storage.")
            })?;
            if s < current.storage_space + 100 * current.broker_num {
                return Err(bad_body(format!(
                    "new_storage_space {s} GB must add at least 100 GB per broker to the current {} GB.",
                    current.storage_space
                )));
            }
            validate_size(flavor, current.broker_num, s)?;
            next.storage_space = s;
        }
        "horizontal" if version == "4.8.0" => {
            let b = body.new_broker_num.ok_or_else(|| {
                bad_body("new_broker_num is mandatory when oper_type is horizontal.")
            })?;
            if b <= current.broker_num {
                return Err(bad_body(format!(
                    "new_broker_num {b} must be greater than the current {}.",
                    current.broker_num
                )));
            }
            let per_broker = current.storage_space / current.broker_num.max(1);
            next.broker_num = b;
            next.storage_space = per_broker * b;
            validate_size(flavor, b, next.storage_space)?;
            let eips = public_ip_ids(public_ip, body.publicip_id.as_deref())?;
            if !eips.is_empty() {
                next.publicip_id = Some(eips.join(","));
            }
        }
        kind @ ("horizontal" | "vertical") => {
            if kind == "vertical" && version != "4.8.0" {
                return Err(bad_body(
                    "oper_type vertical applies only to RocketMQ 4.8.0 instances.",
                ));
            }
            let p = body.new_product_id.clone().unwrap_or_default();
            let f = catalog
                .flavor(&p)
                .filter(|f| f.engine_version == version)
                .ok_or_else(|| errors::bad_product(&p, version))?;
            if p == current.product_id {
                return Err(bad_body(format!(
                    "new_product_id {p} is the instance's current flavor."
                )));
            }
            validate_size(f, current.broker_num, current.storage_space)?;
            next.product_id = p;
        }
        other => {
            return Err(bad_body(format!(
                "oper_type {other:?} is invalid: use storage, horizontal or vertical."
            )))
        }
    }
    Ok(next)
}

/// What the doc keeps of a resize request, for the task's `params`.
pub fn resize_params(body: &ResizeBody) -> Value {
    json!({
        "oper_type": body.oper_type,
        "new_storage_space": body.new_storage_space,
        "new_product_id": body.new_product_id,
        "new_broker_num": body.new_broker_num,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Value {
        json!({
            "name": "reliability-1751840557", "description": "", "engine": "reliability",
            "engine_version": "4.8.0", "storage_space": 600,
            "vpc_id": "3db8490c-4d6d-4d8f-8d3f-047b0de4c5cf",
            "subnet_id": "0a0f1fcb-f019-458d-b9e5-301867394d50",
            "security_group_id": "23c5977f-ff33-4b95-a73e-08d8a0bc4e6c",
            "available_zones": ["9f1c5806706d4c1fb0eb72f0a9b18c77"],
            "product_id": "c6.4u8g.cluster", "enterprise_project_id": "0", "ssl_enable": false,
            "storage_spec_code": "dms.physical.storage.ultra.v2", "ipv6_enable": false,
            "enable_publicip": false, "publicip_id": "", "broker_num": 1
        })
    }

    fn check(body: Value) -> Result<ValidCreate, HwError> {
        validate_create(&Catalog::embedded(), "cn-north-4", body_of(&body)?)
    }

    fn code_of(body: Value) -> String {
        check(body).unwrap_err().code
    }

    fn with(key: &str, v: Value) -> Value {
        let mut b = seed();
        b[key] = v;
        b
    }

    #[test]
    fn the_seed_example_is_valid() {
        let v = check(seed()).unwrap();
        assert_eq!(v.broker_num, 1);
        assert_eq!(v.charging_mode, 1);
        assert_eq!(v.tls_mode, "PLAINTEXT");
    }

    #[test]
    fn names() {
        for ok in ["abcd", "a_b-c", &"a".repeat(64)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "abc",
            "1abc",
            "_abc",
            "ab cd",
            "abc.d",
            &"a".repeat(65),
            "ab中文",
        ] {
            assert_eq!(
                validate_name(bad).unwrap_err().code,
                "DMS.00400010",
                "{bad}"
            );
        }
        assert_eq!(code_of(with("name", Value::Null)), "DMS.00400010");
    }

    #[test]
    fn every_rule_has_its_code() {
        assert_eq!(
            code_of(with("description", json!("x".repeat(1025)))),
            "DMS.00400011"
        );
        assert!(check(with("description", json!("x".repeat(1024)))).is_ok());
        assert_eq!(code_of(with("engine", json!("kafka"))), "DMS.00400007");
        assert!(check(with("engine", json!("rocketmq"))).is_ok());
        assert_eq!(
            code_of(with("engine_version", json!("4.9.0"))),
            "DMS.00400008"
        );
        assert_eq!(code_of(with("vpc_id", json!(""))), "DMS.00400013");
        assert_eq!(code_of(with("subnet_id", json!(""))), "DMS.00400005");
        assert_eq!(
            code_of(with("security_group_id", json!(""))),
            "DMS.00400014"
        );
        assert_eq!(
            code_of(with("product_id", json!("c6.2u4g.cluster"))),
            "DMS.00400009"
        );
        assert_eq!(
            code_of(with("product_id", json!("rocketmq.b1.large.1"))),
            "DMS.00400009"
        );
        assert_eq!(
            code_of(with(
                "storage_spec_code",
                json!("dms.physical.storage.normal")
            )),
            "DMS.00400005"
        );
        assert_eq!(code_of(with("storage_space", json!(299))), "DMS.00400005");
        assert_eq!(code_of(with("storage_space", json!(60001))), "DMS.00400005");
        assert_eq!(code_of(with("storage_space", json!("600"))), "DMS.00400005");
        assert_eq!(code_of(with("broker_num", json!(0))), "DMS.00400005");
        assert_eq!(code_of(with("broker_num", json!(11))), "DMS.00400005");
        assert_eq!(code_of(with("tls_mode", json!("TLS"))), "DMS.00400005");
        assert_eq!(code_of(json!([])), "DMS.00400005");
        assert_eq!(check_null(), "DMS.00400004");
    }

    fn check_null() -> String {
        body_of::<CreateBody>(&Value::Null).unwrap_err().code
    }

    #[test]
    fn storage_scales_with_brokers() {
        let mut b = with("broker_num", json!(3));
        assert_eq!(code_of(b.clone()), "DMS.00400005", "600 GB < 3 × 300 GB");
        b["storage_space"] = json!(900);
        assert!(check(b).is_ok());
        let mut small = with("product_id", json!("c6.4u8g.cluster.small"));
        small["broker_num"] = json!(3);
        small["storage_space"] = json!(900);
        assert_eq!(
            code_of(small),
            "DMS.00400005",
            "the small flavor takes at most 2 brokers"
        );
    }

    #[test]
    fn zones_are_one_or_at_least_three() {
        let azs = [
            "8c90c2a4e2594c0782faa6b205afeca7",
            "d539378ec1314c85b76fefa3f7071458",
            "9f1c5806706d4c1fb0eb72f0a9b18c77",
        ];
        assert_eq!(code_of(with("available_zones", json!([]))), "DMS.00400005");
        assert_eq!(
            code_of(with("available_zones", json!(&azs[..2]))),
            "DMS.00400005"
        );
        assert!(check(with("available_zones", json!(azs))).is_ok());
        assert_eq!(
            code_of(with("available_zones", json!(["nope"]))),
            "DMS.00400005"
        );
        assert_eq!(
            code_of(with("available_zones", json!([azs[0], azs[0], azs[1]]))),
            "DMS.00400005"
        );
        let other_region =
            validate_create(&Catalog::embedded(), "cn-east-3", body_of(&seed()).unwrap());
        assert_eq!(other_region.unwrap_err().code, "DMS.00400005");
    }

    #[test]
    fn public_ip_rules() {
        let mut b = with("enable_publicip", json!(true));
        assert_eq!(code_of(b.clone()), "DMS.00400005");
        b["publicip_id"] = json!("eip-1,,eip-2");
        assert_eq!(code_of(b.clone()), "DMS.00400005");
        b["publicip_id"] = json!("eip-1,eip-1");
        assert_eq!(code_of(b.clone()), "DMS.00400005");
        b["publicip_id"] = json!("eip-1, eip-2");
        assert_eq!(check(b).unwrap().publicip_id, "eip-1,eip-2");
    }

    #[test]
    fn prepaid_needs_a_period() {
        let mut b = with("bss_param", json!({"charging_mode": "prePaid"}));
        assert_eq!(code_of(b.clone()), "DMS.00400005");
        b["bss_param"] =
            json!({"charging_mode": "prePaid", "period_type": "year", "period_num": 4});
        assert_eq!(code_of(b.clone()), "DMS.00400005");
        b["bss_param"] =
            json!({"charging_mode": "prePaid", "period_type": "month", "period_num": 9});
        assert_eq!(check(b).unwrap().charging_mode, 0);
        assert!(check(with(
            "bss_param",
            json!({"charging_mode": "prePaid", "period_type": "month", "period_num": 1})
        ))
        .unwrap()
        .prepaid
        .is_some());
    }

    #[test]
    fn resizes() {
        let c = Catalog::embedded();
        let cur = NewSize {
            product_id: "c6.4u8g.cluster".into(),
            broker_num: 2,
            storage_space: 1200,
            publicip_id: None,
        };
        let rb = |v: Value| -> ResizeBody { body_of(&v).unwrap() };
        let n = validate_resize(
            &c,
            &cur,
            "4.8.0",
            false,
            &rb(json!({"oper_type": "horizontal", "new_broker_num": 4})),
        )
        .unwrap();
        assert_eq!((n.broker_num, n.storage_space), (4, 2400));
        let n = validate_resize(
            &c,
            &cur,
            "4.8.0",
            false,
            &rb(json!({"oper_type": "storage", "new_storage_space": 1400})),
        )
        .unwrap();
        assert_eq!(n.storage_space, 1400);
        let e = validate_resize(
            &c,
            &cur,
            "4.8.0",
            false,
            &rb(json!({"oper_type": "storage", "new_storage_space": 1300})),
        )
        .unwrap_err();
        assert_eq!(e.code, "DMS.00400005");
        let n = validate_resize(
            &c,
            &cur,
            "4.8.0",
            false,
            &rb(json!({"oper_type": "vertical", "new_product_id": "c6.8u16g.cluster"})),
        )
        .unwrap();
        assert_eq!(n.product_id, "c6.8u16g.cluster");
        let e = validate_resize(
            &c,
            &cur,
            "4.8.0",
            false,
            &rb(json!({"oper_type": "shrink"})),
        )
        .unwrap_err();
        assert_eq!(e.code, "DMS.00400005");
    }
}
