//! `CreateInstance`: its form parameters, the `Component` JSON inside them, and every
//! rule they must satisfy, each failing with its own error code (see [`Code`]).

use cloudtwin_aliyun::{AliError, Input};
use serde_json::{Map, Value};

use super::catalog::Catalog;
use crate::params::text;

/// The product's error codes, in the form of the page's own (`Openanalytics.<What>.Exception`).
/// Only `NotFound`, `Unauthorized` and `Internal` are on the page; the rest are cloudtwin's,
/// one per validation rule so that a client can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `ChargeType` is not one the catalog offers (only `POSTPAY`).
    InvalidChargeType,
    /// `InstanceType` is not `CU_SPARK` or `CU_PRESTO`.
    InvalidInstanceType,
    /// `RegionId` is neither a region id nor a region's display name.
    InvalidRegionId,
    /// `Component` is not a JSON object, or a field is absent or of the wrong type.
    InvalidComponent,
    /// The component's `engine` is not the engine of `InstanceType`.
    EngineMismatch,
    /// `min_cu` or `max_cu` is not a whole number in its range.
    InvalidCu,
    /// `min_cu` is greater than `max_cu`.
    InvalidCuRange,
    /// The component's `region` is not `RegionId`.
    RegionMismatch,
    /// `instance_name` breaks the virtual-cluster name rule.
    InvalidInstanceName,
    /// A live instance of the account already uses the name in the region.
    InstanceNameExists,
    /// The page's: the instance does not exist (or is another account's).
    NotFound,
    /// The page's: an internal error (answered with HTTP 500, never the page's 600).
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidChargeType => "Openanalytics.InvalidChargeType.Exception",
            Code::InvalidInstanceType => "Openanalytics.InvalidInstanceType.Exception",
            Code::InvalidRegionId => "Openanalytics.InvalidRegionId.Exception",
            Code::InvalidComponent => "Openanalytics.InvalidComponent.Exception",
            Code::EngineMismatch => "Openanalytics.EngineMismatch.Exception",
            Code::InvalidCu => "Openanalytics.InvalidCu.Exception",
            Code::InvalidCuRange => "Openanalytics.InvalidCuRange.Exception",
            Code::RegionMismatch => "Openanalytics.RegionMismatch.Exception",
            Code::InvalidInstanceName => "Openanalytics.InvalidInstanceName.Exception",
            Code::InstanceNameExists => "Openanalytics.InstanceNameExists.Exception",
            Code::NotFound => "Openanalytics.NotFound.Exception",
            Code::Internal => "Openanalytics.Internal.Exception",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Code::NotFound => 404,
            Code::Internal => 500,
            _ => 400,
        }
    }

    pub fn error(self, message: impl Into<String>) -> AliError {
        AliError::new(self.status(), self.as_str(), message)
    }
}

/// A create request that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub charge_type: String,
    pub instance_type: String,
    pub region_id: String,
    /// The virtual-cluster name (the component's `instance_name`).
    pub name: String,
    pub engine: String,
    pub min_cu: i64,
    pub max_cu: i64,
    pub operable: bool,
    pub app_name: Option<String>,
    pub app_version_name: Option<String>,
}

fn required<'a>(input: &'a Input, name: &str) -> Result<&'a str, AliError> {
    text(input, name).ok_or_else(|| AliError::missing(name))
}

/// Checks every rule but name uniqueness (which needs the store).
pub fn validate(input: &Input, catalog: &Catalog) -> Result<Valid, AliError> {
    let charge_type = required(input, "ChargeType")?;
    let component = required(input, "Component")?;
    let instance_type = required(input, "InstanceType")?;
    let region = required(input, "RegionId")?;

    if !catalog.charge_types.iter().any(|t| t == charge_type) {
        return Err(Code::InvalidChargeType.error(format!(
            "ChargeType {charge_type:?} is not supported; valid values: [{}]. Only pay-as-you-go instances can be created.",
            catalog.charge_types.join(", ")
        )));
    }
    let Some(type_engine) = catalog.instance_types.get(instance_type) else {
        return Err(Code::InvalidInstanceType.error(format!(
            "InstanceType {instance_type:?} is not supported; valid values: [{}].",
            catalog
                .instance_types
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let region_id = catalog.region_id(region).ok_or_else(|| {
        Code::InvalidRegionId.error(format!(
            "RegionId {region:?} is not a region id or region name; valid region ids: [{}].",
            catalog.region_ids()
        ))
    })?;

    let fields = component_object(component)?;
    let engine = string_field(&fields, "engine")?.to_ascii_lowercase();
    let name = string_field(&fields, "instance_name")?;
    let min_cu = cu_field(&fields, "min_cu")?;
    let max_cu = cu_field(&fields, "max_cu")?;
    let component_region = string_field(&fields, "region")?;
    let operable = match fields.get("operable") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(Code::InvalidComponent.error(format!(
                "Component.operable must be true or false, got {other}"
            )))
        }
    };
    let app_name = optional_text(&fields, "app_name", catalog.text_max_length)?;
    let app_version_name = optional_text(&fields, "app_version_name", catalog.text_max_length)?;

    if engine != *type_engine {
        return Err(Code::EngineMismatch.error(format!(
            "Component.engine {engine:?} does not match InstanceType {instance_type}, whose engine is {type_engine:?}."
        )));
    }
    for (field, value, range) in [
        ("min_cu", min_cu, catalog.min_cu),
        ("max_cu", max_cu, catalog.max_cu),
    ] {
        if !range.contains(value) {
            return Err(Code::InvalidCu.error(format!(
                "Component.{field} must be between {} and {}, got {value}.",
                range.min, range.max
            )));
        }
    }
    if min_cu > max_cu {
        return Err(Code::InvalidCuRange.error(format!(
            "Component.min_cu ({min_cu}) must not be greater than Component.max_cu ({max_cu})."
        )));
    }
    validate_name(name, catalog).map_err(|m| Code::InvalidInstanceName.error(m))?;
    if catalog.region_id(component_region) != Some(region_id) {
        return Err(Code::RegionMismatch.error(format!(
            "Component.region {component_region:?} must be the region of the request, RegionId {region_id:?}."
        )));
    }
    Ok(Valid {
        charge_type: charge_type.to_owned(),
        instance_type: instance_type.to_owned(),
        region_id: region_id.to_owned(),
        name: name.to_owned(),
        engine,
        min_cu,
        max_cu,
        operable,
        app_name,
        app_version_name,
    })
}

/// The virtual-cluster name rule (also what `ValidateVirtualClusterName` checks).
/// Answers why a name is refused.
pub fn validate_name(name: &str, catalog: &Catalog) -> Result<(), String> {
    let rule = &catalog.name;
    let len = name.chars().count();
    let ok = (rule.min_length..=rule.max_length).contains(&len)
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !name.ends_with(['-', '_']);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "The virtual cluster name {name:?} is invalid: {} to {} characters; {}.",
            rule.min_length, rule.max_length, rule.rule
        ))
    }
}

/// `Component` is JSON text holding an object. The page's sample request shows it
/// JSON-encoded once more (a quoted string): that form is unwrapped too.
fn component_object(text: &str) -> Result<Map<String, Value>, AliError> {
    let bad = |detail: String| {
        Code::InvalidComponent.error(format!(
            "Component must be the JSON serialization of an object: {detail}"
        ))
    };
    let mut value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if let Value::String(inner) = &value {
        value = serde_json::from_str(inner).map_err(|e| bad(e.to_string()))?;
    }
    match value {
        Value::Object(map) => Ok(map),
        other => Err(bad(format!("got {}", kind(&other)))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string_field<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, AliError> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(Code::InvalidComponent.error(format!(
            "Component.{name} is mandatory and is not supplied."
        ))),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        Some(Value::String(_)) => {
            Err(Code::InvalidComponent.error(format!("Component.{name} must not be empty.")))
        }
        Some(other) => Err(Code::InvalidComponent.error(format!(
            "Component.{name} must be a string, got {}.",
            kind(other)
        ))),
    }
}

/// A CU count: a JSON number or a string of decimal digits (the page sends `"8"`).
fn cu_field(fields: &Map<String, Value>, name: &str) -> Result<i64, AliError> {
    let value = fields.get(name).filter(|v| !v.is_null()).ok_or_else(|| {
        Code::InvalidComponent.error(format!(
            "Component.{name} is mandatory and is not supplied."
        ))
    })?;
    let parsed = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        Code::InvalidCu.error(format!(
            "Component.{name} must be a whole number of CUs (a number or a string of digits), got {value}."
        ))
    })
}

fn optional_text(
    fields: &Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<Option<String>, AliError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(Code::InvalidComponent.error(format!(
            "Component.{name} must be at most {max} characters."
        ))),
        Some(other) => Err(Code::InvalidComponent.error(format!(
            "Component.{name} must be a string, got {}.",
            kind(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        Catalog::embedded()
    }

    /// The page's example request, with `InstanceType` fixed to agree with `engine: spark`.
    fn component() -> Value {
        json!({"operable": "false", "max_cu": "8", "instance_name": "api-test-9", "min_cu": "0",
               "engine": "spark", "region": "cn-hangzhou", "app_name": "xx", "app_version_name": "xx"})
    }

    fn input(component: &Value, changes: &[(&str, &str)]) -> Input {
        let mut query: std::collections::BTreeMap<String, String> = [
            ("ChargeType", "POSTPAY"),
            ("InstanceType", "CU_SPARK"),
            ("RegionId", "cn-hangzhou"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        query.insert("Component".into(), component.to_string());
        for (k, v) in changes {
            query.insert(k.to_string(), v.to_string());
        }
        Input {
            query,
            ..Input::default()
        }
    }

    fn with(field: &str, value: Value) -> Value {
        let mut c = component();
        c[field] = value;
        c
    }

    fn code(input: &Input) -> String {
        validate(input, &catalog()).unwrap_err().code
    }

    #[test]
    fn the_corrected_page_example_passes() {
        let v = validate(&input(&component(), &[]), &catalog()).unwrap();
        assert_eq!(v.name, "api-test-9");
        assert_eq!((v.min_cu, v.max_cu), (0, 8));
        assert_eq!(v.engine, "spark");
        assert!(!v.operable);
        assert_eq!(v.app_name.as_deref(), Some("xx"));
    }

    #[test]
    fn the_page_example_itself_is_refused() {
        // CU_PRESTO with engine spark (DESIGN.md decision).
        let i = input(&component(), &[("InstanceType", "CU_PRESTO")]);
        assert_eq!(code(&i), Code::EngineMismatch.as_str());
    }

    #[test]
    fn cu_values_may_be_numbers_or_strings() {
        let c = with("max_cu", json!(16));
        let v = validate(&input(&c, &[]), &catalog()).unwrap();
        assert_eq!(v.max_cu, 16);
        let c = with("min_cu", json!(" 2 "));
        assert_eq!(validate(&input(&c, &[]), &catalog()).unwrap().min_cu, 2);
    }

    #[test]
    fn region_names_are_region_ids() {
        let c = with("region", json!("cn-beijing"));
        let v = validate(&input(&c, &[("RegionId", "China (Beijing)")]), &catalog()).unwrap();
        assert_eq!(v.region_id, "cn-beijing");
        let c = with("region", json!("China (Beijing)"));
        assert!(validate(&input(&c, &[("RegionId", "cn-beijing")]), &catalog()).is_ok());
    }

    #[test]
    fn double_encoded_component_is_unwrapped() {
        let mut i = input(&component(), &[]);
        i.query.insert(
            "Component".into(),
            Value::String(component().to_string()).to_string(),
        );
        assert!(validate(&i, &catalog()).is_ok());
    }

    #[test]
    fn each_rule_has_its_code() {
        let c = component();
        let cases: Vec<(Input, &str)> = vec![
            (input(&c, &[("ChargeType", "")]), "MissingParameter"),
            (input(&c, &[("RegionId", "")]), "MissingParameter"),
            (
                input(&c, &[("ChargeType", "PREPAY")]),
                Code::InvalidChargeType.as_str(),
            ),
            (
                input(&c, &[("InstanceType", "CU_HIVE")]),
                Code::InvalidInstanceType.as_str(),
            ),
            (
                input(&c, &[("RegionId", "China (Atlantis)")]),
                Code::InvalidRegionId.as_str(),
            ),
            (
                input(&c, &[("Component", "{not json")]),
                Code::InvalidComponent.as_str(),
            ),
            (
                input(&c, &[("Component", "[1]")]),
                Code::InvalidComponent.as_str(),
            ),
            (
                input(&with("engine", Value::Null), &[]),
                Code::InvalidComponent.as_str(),
            ),
            (
                input(&with("instance_name", json!(7)), &[]),
                Code::InvalidComponent.as_str(),
            ),
            (
                input(&with("operable", json!("maybe")), &[]),
                Code::InvalidComponent.as_str(),
            ),
            (
                input(&with("app_name", json!("x".repeat(129))), &[]),
                Code::InvalidComponent.as_str(),
            ),
            (
                input(&with("engine", json!("presto")), &[]),
                Code::EngineMismatch.as_str(),
            ),
            (
                input(&with("max_cu", json!("8.5")), &[]),
                Code::InvalidCu.as_str(),
            ),
            (
                input(&with("max_cu", json!(0)), &[]),
                Code::InvalidCu.as_str(),
            ),
            (
                input(&with("min_cu", json!(-1)), &[]),
                Code::InvalidCu.as_str(),
            ),
            (
                input(&with("max_cu", json!(1025)), &[]),
                Code::InvalidCu.as_str(),
            ),
            (
                input(&with("min_cu", json!("9")), &[]),
                Code::InvalidCuRange.as_str(),
            ),
            (
                input(&with("instance_name", json!("9lives")), &[]),
                Code::InvalidInstanceName.as_str(),
            ),
            (
                input(&with("region", json!("cn-beijing")), &[]),
                Code::RegionMismatch.as_str(),
            ),
        ];
        for (i, want) in cases {
            assert_eq!(code(&i), want, "{:?}", i.query);
        }
    }

    #[test]
    fn names() {
        let c = catalog();
        for ok in ["a", "abc123", "api-test-9", "spark_vc", &"a".repeat(64)] {
            assert!(validate_name(ok, &c).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Abc",
            "9abc",
            "abc-",
            "abc_",
            "a b",
            "ab.c",
            "名字",
            &"a".repeat(65),
        ] {
            assert!(validate_name(bad, &c).is_err(), "{bad}");
        }
    }
}
