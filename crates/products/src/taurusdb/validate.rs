//! TaurusDB's error codes and the validation rules of its create calls, in one place.
//!
//! Codes and messages are the `DBS.*` codes of Huawei's database services' error-code pages
//! (GaussDB / TaurusDB / RDS "Error Codes": DBS.200001 parameter error, DBS.200006 empty
//! request, DBS.200021 name, DBS.200023 volume range, DBS.200024 region, DBS.200025 AZ,
//! DBS.200026 storage type, DBS.200027 10 GB steps, DBS.200040 engine, DBS.200041 version,
//! DBS.200046 quota, DBS.200051 HA mode, DBS.200052 root password, DBS.200053 flavor,
//! DBS.200019 busy (409), DBS.200002 instance not found (404)). A missing HTAP instance is
//! 400 `DBS.05000044`, the code the Terraform provider turns into "gone"
//! (`resource_huaweicloud_taurusdb_htap_starrocks_instance.go`).

use cloudtwin_huawei::HwError;
use serde_json::Value;

use super::catalog::Catalog;

pub fn param(detail: impl std::fmt::Display) -> HwError {
    HwError::new(400, "DBS.200001", format!("Parameter error. {detail}"))
}

pub fn empty_body() -> HwError {
    HwError::new(
        400,
        "DBS.200006",
        "The request is null. Enter a request parameter.",
    )
}

pub fn invalid_name() -> HwError {
    HwError::new(400, "DBS.200021", "Invalid DB instance name.")
}

pub fn volume_range(field: &str, min: i64, max: i64) -> HwError {
    HwError::new(
        400,
        "DBS.200023",
        format!("Storage space is out of range. {field} must be from {min} to {max} GB."),
    )
}

pub fn invalid_region() -> HwError {
    HwError::new(400, "DBS.200024", "Invalid region.")
}

pub fn invalid_az() -> HwError {
    HwError::new(400, "DBS.200025", "Invalid AZ.")
}

pub fn invalid_storage_type() -> HwError {
    HwError::new(400, "DBS.200026", "Invalid storage type.")
}

pub fn volume_step() -> HwError {
    HwError::new(400, "DBS.200027", "Storage space must be a multiple of 10.")
}

pub fn engine_unsupported() -> HwError {
    HwError::new(
        400,
        "DBS.200040",
        "The DB engine or version is not supported.",
    )
}

pub fn invalid_version() -> HwError {
    HwError::new(400, "DBS.200041", "Invalid database version.")
}

pub fn quota() -> HwError {
    HwError::new(
        413,
        "DBS.200046",
        "The number of HTAP instances has reached the quota of this TaurusDB instance.",
    )
}

pub fn invalid_ha_mode() -> HwError {
    HwError::new(400, "DBS.200051", "Invalid HA mode.")
}

pub fn invalid_password() -> HwError {
    HwError::new(400, "DBS.200052", "Invalid database root password.")
}

pub fn flavor_not_found() -> HwError {
    HwError::new(
        400,
        "DBS.200053",
        "The selected specifications do not exist.",
    )
}

pub fn busy() -> HwError {
    HwError::new(
        409,
        "DBS.200019",
        "Another operation is being performed on the DB instance or the DB instance is faulty.",
    )
}

/// A TaurusDB instance that is missing, released, or another account's.
pub fn parent_not_found() -> HwError {
    HwError::new(404, "DBS.200002", "The DB instance does not exist.")
}

/// An HTAP StarRocks instance that is missing, released, another account's, or not under
/// the TaurusDB instance named in the path.
pub fn htap_not_found() -> HwError {
    HwError::new(
        400,
        "DBS.05000044",
        "The HTAP instance does not exist or has been deleted.",
    )
}

pub fn job_not_found(id: &str) -> HwError {
    param(format!("The job {id:?} does not exist."))
}

/// The body as a JSON object; an empty body is DBS.200006.
pub fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, HwError> {
    match body {
        Value::Null => Err(empty_body()),
        Value::Object(m) if m.is_empty() => Err(empty_body()),
        Value::Object(m) => Ok(m),
        _ => Err(param("The request body must be a JSON object.")),
    }
}

/// A mandatory string field, at `path` (dotted) for messages.
pub fn req_str<'a>(
    obj: &'a serde_json::Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, HwError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(param(format!("{path} is mandatory."))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(param(format!("{path} is mandatory.")))
        }
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(param(format!("{path} must be a string."))),
    }
}

pub fn opt_str<'a>(
    obj: &'a serde_json::Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, HwError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(param(format!("{path} must be a string."))),
    }
}

pub fn req_int(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<i64, HwError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(param(format!("{path} is mandatory."))),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| param(format!("{path} must be an integer."))),
    }
}

pub fn req_obj<'a>(
    obj: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<&'a serde_json::Map<String, Value>, HwError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(param(format!("{key} is mandatory."))),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(param(format!("{key} must be an object."))),
    }
}

pub fn opt_obj<'a>(
    obj: &'a serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<&'a serde_json::Map<String, Value>>, HwError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(param(format!("{key} must be an object."))),
    }
}

/// Instance name: 4–64 characters, starting with a letter; letters, digits, `-` and `_`.
pub fn check_name(name: &str) -> Result<(), HwError> {
    let ok = (4..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid_name())
    }
}

/// The special characters the page allows in a root password.
pub const PASSWORD_SPECIALS: &str = "~!@#$%^*-_=+?,()&|.";

/// Root password: 8–32 characters from the four classes, at least three of them, and not a
/// weak (dictionary) password.
pub fn check_password(pwd: &str, weak: &[String]) -> Result<(), HwError> {
    if !(8..=32).contains(&pwd.chars().count()) {
        return Err(invalid_password());
    }
    let (mut upper, mut lower, mut digit, mut special) = (false, false, false, false);
    for c in pwd.chars() {
        match c {
            'A'..='Z' => upper = true,
            'a'..='z' => lower = true,
            '0'..='9' => digit = true,
            c if PASSWORD_SPECIALS.contains(c) => special = true,
            _ => return Err(invalid_password()),
        }
    }
    if [upper, lower, digit, special]
        .iter()
        .filter(|b| **b)
        .count()
        < 3
    {
        return Err(invalid_password());
    }
    if weak.iter().any(|w| w.eq_ignore_ascii_case(pwd)) {
        return Err(invalid_password());
    }
    Ok(())
}

/// A volume: known storage type, within the type's range, in 10 GB steps.
pub fn check_volume(
    catalog: &Catalog,
    field: &str,
    io_type: &str,
    capacity_gb: i64,
) -> Result<(), HwError> {
    let st = catalog
        .storage_type(io_type)
        .ok_or_else(invalid_storage_type)?;
    if capacity_gb % 10 != 0 {
        return Err(volume_step());
    }
    if !(st.min_volume_size..=st.max_volume_size).contains(&capacity_gb) {
        return Err(volume_range(field, st.min_volume_size, st.max_volume_size));
    }
    Ok(())
}

/// `UTC+08:00`, `UTC-03:30`, `UTC+00:00`.
pub fn check_time_zone(tz: &str) -> Result<(), HwError> {
    let bad = || {
        param(format!(
            "time_zone {tz:?} is not a time zone such as UTC+08:00."
        ))
    };
    let rest = tz.strip_prefix("UTC").ok_or_else(bad)?;
    let b = rest.as_bytes();
    if b.len() != 6 || !(b[0] == b'+' || b[0] == b'-') || b[3] != b':' {
        return Err(bad());
    }
    let num = |s: &[u8]| -> Option<u32> { std::str::from_utf8(s).ok()?.parse().ok() };
    let (h, m) = (
        num(&b[1..3]).ok_or_else(bad)?,
        num(&b[4..6]).ok_or_else(bad)?,
    );
    let max_h = if b[0] == b'+' { 14 } else { 12 };
    if h > max_h || !matches!(m, 0 | 30 | 45) || (h == max_h && m != 0) {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak() -> Vec<String> {
        Catalog::embedded().htap.weak_passwords
    }

    #[test]
    fn names() {
        for ok in ["htap-ff64", "abcd", "A_b-1", &"a".repeat(64)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "abc",
            "1abc",
            "-abc",
            "ab c",
            "htap.ff",
            "名字名字",
            &"a".repeat(65),
            "",
        ] {
            assert_eq!(check_name(bad).unwrap_err().code, "DBS.200021", "{bad}");
        }
    }

    #[test]
    fn password_classes_and_length() {
        let w = weak();
        assert!(
            check_password("Test@123!", &w).is_ok(),
            "the page's example"
        );
        assert!(check_password("abcdEF12", &w).is_ok(), "upper+lower+digit");
        assert!(
            check_password("abcd~~12", &w).is_ok(),
            "lower+special+digit"
        );
        for bad in [
            "Ab1!",                              // too short
            "Abcdefg1!Abcdefg1!Abcdefg1!Abcdef", // 33
            "abcdefgh1",                         // two classes
            "ABCDEFGH!",                         // two classes
            "Abcdefg1 ",                         // space is not allowed
            "Abcdefg1/",                         // nor is /
            "Abcdéfg1!",                         // nor non-ASCII
        ] {
            assert_eq!(
                check_password(bad, &w).unwrap_err().code,
                "DBS.200052",
                "{bad}"
            );
        }
    }

    #[test]
    fn weak_passwords_are_refused_in_any_case() {
        let w = weak();
        assert_eq!(
            check_password("Admin@123", &w).unwrap_err().code,
            "DBS.200052"
        );
        assert_eq!(
            check_password("pASSW0RD!", &w).unwrap_err().code,
            "DBS.200052"
        );
    }

    #[test]
    fn volumes() {
        let c = Catalog::embedded();
        assert!(check_volume(&c, "fe_volume", "SSD", 50).is_ok());
        assert!(check_volume(&c, "be_volume", "ESSD", 10000).is_ok());
        assert_eq!(
            check_volume(&c, "fe_volume", "SSD", 55).unwrap_err().code,
            "DBS.200027"
        );
        assert_eq!(
            check_volume(&c, "fe_volume", "SSD", 40).unwrap_err().code,
            "DBS.200023"
        );
        assert_eq!(
            check_volume(&c, "fe_volume", "SSD", 10010)
                .unwrap_err()
                .code,
            "DBS.200023"
        );
        assert_eq!(
            check_volume(&c, "fe_volume", "HDD", 50).unwrap_err().code,
            "DBS.200026"
        );
    }

    #[test]
    fn flavors() {
        let c = Catalog::embedded();
        let f = c
            .htap_flavor("afef3bfd-ac7c-32e1-ba44-c388acbb196a")
            .unwrap();
        assert!(f.versions.iter().any(|v| v == "3.1"));
        assert!(c.htap_flavor("no-such-flavor").is_none());
        assert!(c.parent_flavor("gaussdb.mysql.xlarge.x86.4").is_some());
    }

    #[test]
    fn time_zones() {
        for ok in [
            "UTC+08:00",
            "UTC-03:30",
            "UTC+00:00",
            "UTC+05:45",
            "UTC+14:00",
        ] {
            assert!(check_time_zone(ok).is_ok(), "{ok}");
        }
        for bad in [
            "UTC+8",
            "GMT+08:00",
            "UTC+15:00",
            "UTC+08:10",
            "utc+08:00",
            "UTC+14:30",
        ] {
            assert_eq!(
                check_time_zone(bad).unwrap_err().code,
                "DBS.200001",
                "{bad}"
            );
        }
    }

    #[test]
    fn bodies() {
        assert_eq!(object(&Value::Null).unwrap_err().code, "DBS.200006");
        assert_eq!(
            object(&serde_json::json!({})).unwrap_err().code,
            "DBS.200006"
        );
        assert_eq!(
            object(&serde_json::json!([1])).unwrap_err().code,
            "DBS.200001"
        );
        let o = serde_json::json!({"a": "x", "n": "1"});
        let o = o.as_object().unwrap();
        assert_eq!(req_int(o, "n", "n").unwrap_err().code, "DBS.200001");
        assert_eq!(req_str(o, "b", "b").unwrap_err().code, "DBS.200001");
    }
}
