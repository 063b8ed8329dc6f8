//! DMS's error codes, in one place. Codes and messages are those of Huawei's DMS error-code
//! tables: the RabbitMQ page of the same DMS API family (`DMS.00400004`…`DMS.00400014`, with
//! the same numbers and texts on the ROMA MQS page), the RocketMQ page (`DMS.00400055`,
//! `DMS.00400060`, `DMS.00400061`), the MQS page (`00400026`, state), and the Terraform provider
//! (`DMS.00404022` "This instance does not exist.", the not-found it polls for). A rule the
//! tables give no code of (subnet, AZs, storage, brokers, public IPs, list parameters) answers
//! `DMS.00400005`, the family's "invalid field" code, with a message naming the rule.

use cloudtwin_huawei::HwError;

use super::catalog::Catalog;

pub fn body_empty() -> HwError {
    HwError::new(400, "DMS.00400004", "The request body is empty.")
}

pub fn bad_body(detail: impl std::fmt::Display) -> HwError {
    HwError::new(400, "DMS.00400005", detail.to_string())
}

pub fn bad_engine(engine: &str, catalog: &Catalog) -> HwError {
    HwError::new(
        400,
        "DMS.00400007",
        format!(
            "Unsupported type: engine {engine:?}; use one of [{}].",
            catalog.engines.join(", ")
        ),
    )
}

pub fn bad_version(version: &str, catalog: &Catalog) -> HwError {
    HwError::new(
        400,
        "DMS.00400008",
        format!(
            "Unsupported version: engine_version {version:?}; use one of [{}].",
            catalog.versions.join(", ")
        ),
    )
}

pub fn bad_product(product_id: &str, version: &str) -> HwError {
    HwError::new(
        400,
        "DMS.00400009",
        format!("Invalid product_id: {product_id:?} is not a RocketMQ {version} flavor (see ListEngineProducts)."),
    )
}

pub fn bad_name() -> HwError {
    HwError::new(
        400,
        "DMS.00400010",
        "Invalid instance name. The name must be 4 to 64 characters long, start with a letter, and contain only letters, digits, underscores (_), and hyphens (-).",
    )
}

pub fn bad_description() -> HwError {
    HwError::new(
        400,
        "DMS.00400011",
        "The instance description can contain a maximum of 1024 characters.",
    )
}

pub fn no_vpc() -> HwError {
    HwError::new(400, "DMS.00400013", "vpc_id in the request is empty.")
}

pub fn no_security_group() -> HwError {
    HwError::new(
        400,
        "DMS.00400014",
        "security_group_id in the request is empty.",
    )
}

pub fn wrong_status(status: &str) -> HwError {
    HwError::new(
        400,
        "DMS.00400026",
        format!(
            "This operation is not allowed when the instance is in the current state ({status})."
        ),
    )
}

pub fn name_exists(name: &str) -> HwError {
    HwError::new(
        400,
        "DMS.00400060",
        format!("This instance name already exists: {name}."),
    )
}

pub fn not_found() -> HwError {
    HwError::new(404, "DMS.00404022", "This instance does not exist.")
}

pub fn store(e: cloudtwin_store::StoreError) -> HwError {
    match e {
        cloudtwin_store::StoreError::NameTaken { name, .. } => name_exists(&name),
        other => crate::hw_store_error(other),
    }
}

/// `Errors` for [`crate::Context::mutate`].
pub fn mutate_errors() -> crate::Errors<HwError> {
    crate::Errors {
        not_found: |_| not_found(),
        store,
    }
}
