//! Alibaba Location (`location` 2015-06-12, RPC): `DescribeEndpoints` points every product
//! cloudtwin serves at cloudtwin itself, so that one Terraform `endpoints { location = ... }`
//! line (or any SDK that asks Location) routes them all here.
//!
//! The Terraform alicloud provider (`alicloud/connectivity/endpoint.go`,
//! `describeEndpointForService`) calls `DescribeEndpoints(ServiceCode=<location code>,
//! Id=<region>)` and takes the first endpoint whose `Type` is `openAPI`. The location code is
//! its `productCodeToLocationCode` entry, else the product code itself. The answer's host is
//! the Host header the request came in with (a scheme or trailing slash, which some clients
//! put there, is dropped). Service codes cloudtwin does not serve answer an empty list, which
//! the provider reports as "no available endpoint" instead of calling a real cloud.

use async_trait::async_trait;
use cloudtwin_aliyun::{AliError, AliyunApi, Body, Call, Operation};
use serde_json::{json, Value};

use crate::params::{required, text};

pub const VERSION: &str = "2015-06-12";

/// The location service codes of the products cloudtwin serves, lowercase.
/// StarRocks: `emrstarrocks` (the provider's table) and `starrocks` (its product code);
/// Havenask: `opensearch` (the provider's code) and `searchengine` (the SDK's endpoint prefix);
/// Openanalytics: `openanalytics` and `openanalytics-open` (the SDK's product id);
/// the side services: `sts` and `location`.
pub const SERVICE_CODES: &[&str] = &[
    "emrstarrocks",
    "starrocks",
    "opensearch",
    "searchengine",
    "openanalytics",
    "openanalytics-open",
    "sts",
    "location",
];

/// Every operation of `alibabacloud-location20150612` 1.0.0 (all RPC, `POST /`).
pub static OPERATIONS: &[Operation] = &[
    Operation {
        action: "DescribeEndpoint",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "DescribeEndpoints",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "DescribeRegions",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "DescribeServices",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ListEndpoints",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "ListEndpointsByIp",
        method: "POST",
        path: "/",
    },
];

/// The endpoint to hand out: the Host header, without a scheme or trailing slash.
pub fn endpoint_host(host: &str) -> &str {
    let host = host.trim();
    let host = host
        .strip_prefix("http://")
        .or_else(|| host.strip_prefix("https://"))
        .unwrap_or(host);
    host.trim_end_matches('/')
}

#[derive(Default)]
pub struct Location;

impl Location {
    pub fn new() -> Self {
        Self
    }

    fn describe_endpoints(&self, call: &Call<'_>) -> Result<Value, AliError> {
        let input = &call.input;
        let region = required(input, "Id")?;
        let code = required(input, "ServiceCode")?.to_ascii_lowercase();
        let wanted_type = text(input, "Type");
        let serves = SERVICE_CODES.contains(&code.as_str())
            && wanted_type.is_none_or(|t| t.eq_ignore_ascii_case("openAPI"));
        let endpoints: Vec<Value> = if serves {
            vec![json!({
                "Endpoint": endpoint_host(call.host),
                "Id": region,
                "Namespace": "",
                // The API's own spelling, which the SDKs read.
                "SerivceCode": code,
                "Type": "openAPI",
                "Protocols": {"Protocols": ["HTTP", "HTTPS"]},
            })]
        } else {
            Vec::new()
        };
        Ok(json!({
            "RequestId": call.request_id,
            "Success": true,
            "Endpoints": {"Endpoint": endpoints},
        }))
    }
}

#[async_trait]
impl AliyunApi for Location {
    fn product(&self) -> &'static str {
        "location"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    async fn call(&self, call: Call<'_>) -> Result<Body, AliError> {
        match call.operation.action {
            "DescribeEndpoints" => self.describe_endpoints(&call),
            other => Err(AliError::not_implemented(other)),
        }
        .map(Body::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_is_the_bare_host() {
        assert_eq!(endpoint_host("127.0.0.1:9700"), "127.0.0.1:9700");
        assert_eq!(endpoint_host("http://127.0.0.1:9700/"), "127.0.0.1:9700");
        assert_eq!(endpoint_host("https://emu.local"), "emu.local");
    }

    #[test]
    fn codes_are_lowercase_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in SERVICE_CODES {
            assert_eq!(*c, c.to_ascii_lowercase());
            assert!(seen.insert(c), "{c} twice");
        }
    }
}
