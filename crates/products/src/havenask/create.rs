//! CreateInstance and UpdateInstance: the requests as the SDK sends them (camelCase JSON
//! bodies) and every rule they must pass. Rules come from the CreateInstance page
//! (seeds/004), shared/DESIGN.md ("Decisions") and the catalog.

use std::collections::BTreeMap;

use cloudtwin_aliyun::AliError;
use cloudtwin_core::Tag;
use serde::Deserialize;
use serde_json::Value;

use super::catalog::{Catalog, Kind};
use super::invalid;
use crate::alibaba_rules::{self, TagNames};

/// The billing method new instances get when `chargeType` is absent (DESIGN.md).
pub const DEFAULT_CHARGE_TYPE: &str = "PREPAY";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub charge_type: Option<String>,
    pub components: Option<Vec<ComponentSpec>>,
    /// The page's `paymentInfo`: the SDK names it `order`.
    pub order: Option<OrderSpec>,
    pub resource_group_id: Option<String>,
    pub tags: Option<Vec<TagSpec>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ComponentSpec {
    pub code: Option<String>,
    /// A string on the SDK's wire; numbers and booleans from hand-written requests are read as text.
    pub value: Option<Value>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSpec {
    pub auto_renew: Option<bool>,
    pub duration: Option<i64>,
    pub pricing_cycle: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct TagSpec {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRequest {
    pub components: Option<Vec<ComponentSpec>>,
    pub description: Option<String>,
    pub order_type: Option<String>,
}

/// A create that passed every rule, with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCreate {
    pub charge_type: String,
    /// Every component code of the catalog with its value (given or default).
    pub components: BTreeMap<String, String>,
    pub pricing_cycle: String,
    pub duration: i64,
    pub auto_renew: bool,
    pub resource_group_id: String,
    pub tags: Vec<Tag>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

impl CreateRequest {
    pub fn validate(&self, catalog: &Catalog) -> Result<ValidCreate, AliError> {
        let charge_type = given(&self.charge_type).unwrap_or(DEFAULT_CHARGE_TYPE);
        if !catalog.charge_types.iter().any(|t| t == charge_type) {
            return Err(invalid(format!(
                "chargeType should be one of [{}], got {charge_type:?}",
                catalog.charge_types.join(", ")
            )));
        }
        if catalog
            .refused_charge_types
            .iter()
            .any(|t| t == charge_type)
        {
            return Err(invalid(format!(
                "chargeType {charge_type} (pay-as-you-go) is not supported; use PREPAY"
            )));
        }
        // PREPAY needs the payment info (the page's paymentInfo, the SDK's order).
        let order = self
            .order
            .as_ref()
            .ok_or_else(|| AliError::missing("order"))?;
        let duration = order
            .duration
            .ok_or_else(|| AliError::missing("order.duration"))?;
        if !catalog.durations.contains(&duration) {
            return Err(invalid(format!(
                "order.duration should be one of [{}], got {duration}",
                catalog
                    .durations
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let pricing_cycle =
            given(&order.pricing_cycle).ok_or_else(|| AliError::missing("order.pricingCycle"))?;
        if !catalog.pricing_cycles.iter().any(|c| c == pricing_cycle) {
            return Err(invalid(format!(
                "order.pricingCycle should be one of [{}], got {pricing_cycle:?}",
                catalog.pricing_cycles.join(", ")
            )));
        }
        let components = merge_components(
            catalog,
            self.components.as_deref().unwrap_or_default(),
            None,
        )?;
        let resource_group_id = match given(&self.resource_group_id) {
            Some(rg) => {
                validate_resource_group(rg)?;
                rg.to_owned()
            }
            None => String::new(),
        };
        let tags = validate_tags(self.tags.as_deref().unwrap_or_default())?;
        Ok(ValidCreate {
            charge_type: charge_type.to_owned(),
            components,
            pricing_cycle: pricing_cycle.to_owned(),
            duration,
            auto_renew: order.auto_renew.unwrap_or(false),
            resource_group_id,
            tags,
        })
    }
}

/// A component value as text: strings as they are, numbers and booleans printed.
fn value_text(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// Checks `given` components and lays them over `base` (an update) or over the catalog's
/// defaults (a create). Answers every code of the catalog with its value.
pub fn merge_components(
    catalog: &Catalog,
    given: &[ComponentSpec],
    base: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>, AliError> {
    let mut out: BTreeMap<String, String> = match base {
        Some(b) => b.clone(),
        None => catalog
            .components
            .iter()
            .filter_map(|(code, rule)| Some((code.clone(), rule.default.clone()?)))
            .collect(),
    };
    let mut seen: Vec<&str> = Vec::new();
    for c in given {
        let code = c
            .code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AliError::missing("components.code"))?;
        let rule = catalog.components.get(code).ok_or_else(|| {
            invalid(format!(
                "components code {code:?} is unknown; valid codes are [{}]",
                catalog.codes()
            ))
        })?;
        if seen.contains(&code) {
            return Err(invalid(format!("components code {code:?} is given twice")));
        }
        seen.push(code);
        let value = value_text(&c.value)
            .ok_or_else(|| AliError::missing(&format!("components.{code}.value")))?;
        if base.is_some() && !rule.updatable && out.get(code) != Some(&value) {
            return Err(invalid(format!(
                "components code {code:?} cannot be changed after the instance is created"
            )));
        }
        check_value(catalog, code, &rule.kind, &value)?;
        out.insert(code.to_owned(), value);
    }
    for (code, rule) in &catalog.components {
        if rule.required && !out.contains_key(code) {
            return Err(AliError::missing(&format!("components.{code}")));
        }
    }
    // Disk sizes depend on the spec chosen beside them.
    for (code, rule) in &catalog.components {
        if let Kind::Disk { spec_type } = &rule.kind {
            let Some(value) = out.get(code) else { continue };
            let size: i64 = value.parse().map_err(|_| {
                invalid(format!(
                    "components {code} must be an integer (GB), got {value:?}"
                ))
            })?;
            let spec_name = spec_component(catalog, spec_type)
                .and_then(|c| out.get(c))
                .map(String::as_str)
                .unwrap_or_default();
            if let Some(spec) = catalog.spec(spec_type, spec_name) {
                if !(spec.min_disk..=spec.max_disk).contains(&size) {
                    return Err(invalid(format!(
                        "components {code} must be between {} and {} GB for spec {}, got {size}",
                        spec.min_disk, spec.max_disk, spec.name
                    )));
                }
            }
            if let Some(before) = base.and_then(|b| b.get(code)) {
                if before.parse::<i64>().is_ok_and(|b| size < b) {
                    return Err(invalid(format!(
                        "components {code} cannot shrink from {before} to {size} GB"
                    )));
                }
            }
        }
    }
    Ok(out)
}

/// The component code that picks the spec of `spec_type`.
pub fn spec_component<'a>(catalog: &'a Catalog, spec_type: &str) -> Option<&'a str> {
    catalog
        .components
        .iter()
        .find_map(|(code, rule)| match &rule.kind {
            Kind::Spec { spec_type: t } if t == spec_type => Some(code.as_str()),
            _ => None,
        })
}

fn check_value(catalog: &Catalog, code: &str, kind: &Kind, value: &str) -> Result<(), AliError> {
    match kind {
        Kind::Enum { values } => {
            if !values.iter().any(|v| v == value) {
                return Err(invalid(format!(
                    "components {code} should be one of [{}], got {value:?}",
                    values.join(", ")
                )));
            }
        }
        Kind::Id { prefix } => {
            let rest = value.strip_prefix(prefix.as_str()).unwrap_or_default();
            let ok = !rest.is_empty()
                && value.len() <= 64
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*');
            if !ok {
                return Err(invalid(format!(
                    "components {code} must be an id starting with {prefix:?}, got {value:?}"
                )));
            }
        }
        Kind::Int { min, max } => {
            let n: i64 = value.parse().map_err(|_| {
                invalid(format!(
                    "components {code} must be an integer, got {value:?}"
                ))
            })?;
            if !(*min..=*max).contains(&n) {
                return Err(invalid(format!(
                    "components {code} must be between {min} and {max}, got {n}"
                )));
            }
        }
        Kind::Spec { spec_type } => {
            if catalog.spec(spec_type, value).is_none() {
                return Err(invalid(format!(
                    "components {code} should be one of [{}], got {value:?}",
                    catalog
                        .specs_of(spec_type)
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        // Checked once every component is known (it depends on the spec).
        Kind::Disk { .. } => {}
    }
    Ok(())
}

/// Descriptions are free text up to 64 characters (cloudtwin's limit; the docs give none).
pub fn validate_description(d: &str) -> Result<(), AliError> {
    if d.chars().count() > 64 {
        return Err(invalid("description must be at most 64 characters".into()));
    }
    Ok(())
}

pub fn validate_order_type(catalog: &Catalog, t: &str) -> Result<(), AliError> {
    if !catalog.order_types.iter().any(|o| o == t) {
        return Err(invalid(format!(
            "orderType should be one of [{}], got {t:?}",
            catalog.order_types.join(", ")
        )));
    }
    Ok(())
}

const TAG_NAMES: TagNames = TagNames {
    list: "tags",
    key: "tags key",
    value: "tags value",
};

pub fn validate_tags(tags: &[TagSpec]) -> Result<Vec<Tag>, AliError> {
    let pairs = tags.iter().map(|t| (t.key.clone(), t.value.clone()));
    alibaba_rules::validate_tags(pairs, &TAG_NAMES, invalid)
}

pub fn validate_resource_group(id: &str) -> Result<(), AliError> {
    alibaba_rules::validate_resource_group(id, "resourceGroupId", invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        Catalog::embedded()
    }

    /// The probe's request (sdk-probes/probe_havenask_alibaba.py).
    fn probe() -> Value {
        json!({"chargeType":"PREPAY","components":[
            {"code":"instance_type","value":"vector"},
            {"code":"vpc_id","value":"vpc-bp1fll2mci6d7pw8m0001"},
            {"code":"vswitch","value":"vsw-bp19mlh98tm9teyyd0001"},
            {"code":"qrs_resource","value":"1"}],
            "order":{"autoRenew":true,"duration":1,"pricingCycle":"Month"},
            "resourceGroupId":"rg-acfmxxx","tags":[{"key":"k1","value":"v1"}]})
    }

    fn check(body: Value) -> Result<ValidCreate, AliError> {
        let req: CreateRequest = serde_json::from_value(body).unwrap();
        req.validate(&catalog())
    }

    fn code_of(body: Value) -> String {
        check(body).unwrap_err().code
    }

    fn with(mut body: Value, path: &[&str], v: Value) -> Value {
        let mut at = &mut body;
        for p in &path[..path.len() - 1] {
            at = at.get_mut(*p).unwrap();
        }
        let last = path[path.len() - 1];
        if v.is_null() {
            at.as_object_mut().unwrap().remove(last);
        } else {
            at[last] = v;
        }
        body
    }

    #[test]
    fn the_probe_request_passes_with_defaults_filled() {
        let v = check(probe()).unwrap();
        assert_eq!(v.charge_type, "PREPAY");
        assert_eq!(v.components["qrs_resource"], "1");
        assert_eq!(v.components["search_spec"], "4C16G");
        assert_eq!(v.components["instance_type"], "vector");
        assert_eq!(
            (v.duration, v.pricing_cycle.as_str(), v.auto_renew),
            (1, "Month", true)
        );
        assert_eq!(
            v.tags,
            vec![Tag {
                key: "k1".into(),
                value: "v1".into()
            }]
        );
    }

    #[test]
    fn charge_type_defaults_to_prepay_and_refuses_postpay() {
        assert_eq!(
            check(with(probe(), &["chargeType"], Value::Null))
                .unwrap()
                .charge_type,
            "PREPAY"
        );
        assert_eq!(
            check(with(probe(), &["chargeType"], json!("")))
                .unwrap()
                .charge_type,
            "PREPAY"
        );
        let e = check(with(probe(), &["chargeType"], json!("POSTPAY"))).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "InvalidParameter"));
        assert!(e.message.contains("POSTPAY"));
        assert_eq!(
            code_of(with(probe(), &["chargeType"], json!("prepay"))),
            "InvalidParameter"
        );
    }

    #[test]
    fn order_rules_of_the_page() {
        assert_eq!(
            code_of(with(probe(), &["order"], Value::Null)),
            "MissingParameter"
        );
        for d in [1, 10, 12] {
            assert!(
                check(with(probe(), &["order", "duration"], json!(d))).is_ok(),
                "{d}"
            );
        }
        for d in [0, 11, 13, 29, -1] {
            assert_eq!(
                code_of(with(probe(), &["order", "duration"], json!(d))),
                "InvalidParameter",
                "{d}"
            );
        }
        assert_eq!(
            code_of(with(probe(), &["order", "duration"], Value::Null)),
            "MissingParameter"
        );
        assert!(check(with(probe(), &["order", "pricingCycle"], json!("Year"))).is_ok());
        assert_eq!(
            code_of(with(probe(), &["order", "pricingCycle"], json!("Week"))),
            "InvalidParameter"
        );
        assert_eq!(
            code_of(with(probe(), &["order", "pricingCycle"], json!(""))),
            "MissingParameter"
        );
        let v = check(with(probe(), &["order", "autoRenew"], Value::Null)).unwrap();
        assert!(!v.auto_renew);
    }

    #[test]
    fn component_rules() {
        let comps = |extra: Value| {
            let mut list = probe()["components"].as_array().unwrap().clone();
            list.push(extra);
            with(probe(), &["components"], Value::Array(list))
        };
        assert_eq!(
            code_of(comps(json!({"code":"nope","value":"1"}))),
            "InvalidParameter"
        );
        assert_eq!(
            code_of(comps(json!({"code":"","value":"1"}))),
            "MissingParameter"
        );
        assert_eq!(
            code_of(comps(json!({"code":"search_spec","value":""}))),
            "MissingParameter"
        );
        assert_eq!(
            code_of(comps(json!({"code":"qrs_resource","value":"2"}))),
            "InvalidParameter",
            "twice"
        );
        assert_eq!(
            code_of(comps(json!({"code":"search_resource","value":"0"}))),
            "InvalidParameter"
        );
        assert_eq!(
            code_of(comps(json!({"code":"search_resource","value":"x"}))),
            "InvalidParameter"
        );
        assert!(
            check(comps(json!({"code":"search_resource","value":3}))).is_ok(),
            "numbers read as text"
        );
        assert_eq!(
            code_of(comps(json!({"code":"search_spec","value":"3C7G"}))),
            "InvalidParameter"
        );
        assert_eq!(
            code_of(comps(json!({"code":"searcherdocsize","value":"10"}))),
            "InvalidParameter"
        );
        assert!(
            check(comps(json!({"code":"searcherdocsize","value":"200"}))).is_ok(),
            "the docs' example"
        );
        let mut no_vpc = probe();
        no_vpc["components"].as_array_mut().unwrap().remove(1);
        let e = check(no_vpc).unwrap_err();
        assert_eq!(e.code, "MissingParameter");
        assert!(e.message.contains("vpc_id"));
        let mut bad_vpc = probe();
        bad_vpc["components"][1]["value"] = json!("vsw-123");
        assert_eq!(code_of(bad_vpc), "InvalidParameter");
        let mut bad_edition = probe();
        bad_edition["components"][0]["value"] = json!("industry");
        assert_eq!(code_of(bad_edition), "InvalidParameter");
    }

    #[test]
    fn tags_and_resource_group() {
        assert_eq!(
            code_of(with(probe(), &["resourceGroupId"], json!("group-1"))),
            "InvalidParameter"
        );
        assert_eq!(
            code_of(with(
                probe(),
                &["tags"],
                json!([{"key":"aliyun:x","value":"v"}])
            )),
            "InvalidParameter"
        );
        assert_eq!(
            code_of(with(probe(), &["tags"], json!([{"key":"","value":"v"}]))),
            "InvalidParameter"
        );
        assert_eq!(
            code_of(with(
                probe(),
                &["tags"],
                json!([{"key":"a","value":"1"},{"key":"a","value":"2"}])
            )),
            "InvalidParameter"
        );
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
            .collect();
        assert_eq!(
            code_of(with(probe(), &["tags"], Value::Array(many))),
            "InvalidParameter"
        );
    }

    #[test]
    fn updates_keep_fixed_codes_and_never_shrink_disks() {
        let c = catalog();
        let base = check(probe()).unwrap().components;
        let spec = |code: &str, value: &str| ComponentSpec {
            code: Some(code.into()),
            value: Some(json!(value)),
        };
        let up = merge_components(&c, &[spec("qrs_resource", "3")], Some(&base)).unwrap();
        assert_eq!(up["qrs_resource"], "3");
        assert_eq!(up["vpc_id"], base["vpc_id"]);
        let e = merge_components(&c, &[spec("vpc_id", "vpc-other")], Some(&base)).unwrap_err();
        assert_eq!(e.code, "InvalidParameter");
        // Restating a fixed value is fine.
        assert!(merge_components(&c, &[spec("vpc_id", &base["vpc_id"])], Some(&base)).is_ok());
        let bigger = merge_components(&c, &[spec("searcherdocsize", "300")], Some(&base)).unwrap();
        let e = merge_components(&c, &[spec("searcherdocsize", "200")], Some(&bigger)).unwrap_err();
        assert!(e.message.contains("shrink"));
        assert_eq!(validate_order_type(&c, "UPGRADE"), Ok(()));
        assert_eq!(
            validate_order_type(&c, "up").unwrap_err().code,
            "InvalidParameter"
        );
        assert!(validate_description(&"x".repeat(65)).is_err());
    }
}
