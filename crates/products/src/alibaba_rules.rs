//! Rules every Alibaba product applies the same way (tags, resource groups); each product
//! names the parameters as its own API spells them.

use cloudtwin_aliyun::AliError;
use cloudtwin_core::Tag;

use crate::params::Bad;

/// How a product spells its tag parameters in messages (`Tags`/`Tag Key`/`Tag Value`).
pub struct TagNames {
    pub list: &'static str,
    pub key: &'static str,
    pub value: &'static str,
}

/// At most 20 tags; keys 1–128 characters not starting with `aliyun` or `acs:`; values up
/// to 128 characters; no key twice.
pub fn validate_tags(
    tags: impl IntoIterator<Item = (Option<String>, Option<String>)>,
    names: &TagNames,
    bad: Bad,
) -> Result<Vec<Tag>, AliError> {
    let mut out: Vec<Tag> = Vec::new();
    for (key, value) in tags {
        if out.len() == 20 {
            return Err(bad(format!("{} can hold at most 20 tags", names.list)));
        }
        let key = key.unwrap_or_default();
        let value = value.unwrap_or_default();
        let len = key.chars().count();
        if len == 0 || len > 128 {
            return Err(bad(format!("{} must be 1 to 128 characters", names.key)));
        }
        let lower = key.to_ascii_lowercase();
        if lower.starts_with("aliyun") || lower.starts_with("acs:") {
            return Err(bad(format!(
                "{} {key:?} must not start with aliyun or acs:",
                names.key
            )));
        }
        if value.chars().count() > 128 {
            return Err(bad(format!(
                "{} must be at most 128 characters",
                names.value
            )));
        }
        if out.iter().any(|o| o.key == key) {
            return Err(bad(format!("{} {key:?} is given twice", names.key)));
        }
        out.push(Tag { key, value });
    }
    Ok(out)
}

/// A resource group id: `rg-` and at most 64 characters.
pub fn validate_resource_group(id: &str, param: &str, bad: Bad) -> Result<(), AliError> {
    if !id.starts_with("rg-") || id.len() < 4 || id.len() > 64 {
        return Err(bad(format!(
            "{param} {id:?} is not a resource group id (rg-...)"
        )));
    }
    Ok(())
}
