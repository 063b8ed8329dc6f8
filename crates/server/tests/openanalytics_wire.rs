//! Every wire error body of Openanalytics (RPC, 2018-06-19), Location (2015-06-12) and STS
//! (2015-04-01), snapshot-tested through the real server on port 0. Requests are sent as
//! the SDKs send RPC calls under ACS3: `POST /`, action in `x-acs-action`, a form body.

mod common;

use cloudtwin_aliyun::signature::{sign_acs3, SignedRequest};
use cloudtwin_core::Lifecycle;
use common::{nonce, raw_http, start, AK, SK};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

const OPENANALYTICS: &str = "2018-06-19";
const LOCATION: &str = "2015-06-12";
const STS: &str = "2015-04-01";

fn acs_date() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap()
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An ACS3-signed RPC call with its parameters in a form body.
fn rpc(addr: SocketAddr, version: &str, action: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), addr.to_string()),
        ("x-acs-version".into(), version.into()),
        ("x-acs-action".into(), action.into()),
        ("x-acs-date".into(), acs_date()),
        ("x-acs-signature-nonce".into(), nonce()),
        ("accept".into(), "application/json".into()),
        (
            "x-acs-content-sha256".into(),
            hex::encode(Sha256::digest(body.as_bytes())),
        ),
        (
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ),
    ];
    let auth = sign_acs3(
        &SignedRequest {
            method: "POST",
            path: "/",
            raw_query: "",
            headers: &headers,
            body: body.as_bytes(),
        },
        AK,
        SK,
    );
    headers.push(("authorization".into(), auth));
    raw_http(addr, "POST", "/", &headers, body.as_bytes())
}

/// The page's Component example, with `changes` applied (`null` removes a field).
fn component(changes: Value) -> String {
    let mut c = json!({"operable": "false", "max_cu": "8", "instance_name": "api-test-9",
        "min_cu": "0", "engine": "spark", "region": "cn-hangzhou", "app_name": "xx",
        "app_version_name": "xx"});
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c.to_string()
}

fn create(addr: SocketAddr, component: &str, changes: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("ChargeType", "POSTPAY"),
        ("Component", component),
        ("InstanceType", "CU_SPARK"),
        ("RegionId", "cn-hangzhou"),
    ];
    for (k, v) in changes {
        match form.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v,
            None => form.push((k, v)),
        }
    }
    form.retain(|(_, v)| !v.is_empty());
    rpc(addr, OPENANALYTICS, "CreateInstance", &form)
}

fn stable(mut body: Value) -> Value {
    if let Some(obj) = body.as_object_mut() {
        for (key, placeholder) in [("RequestId", "[request-id]"), ("HostId", "[host]")] {
            if obj.contains_key(key) {
                obj.insert(key.into(), json!(placeholder));
            }
        }
        if let Some(Value::String(m)) = obj.get_mut("Message") {
            let re_id = m
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .find(|w| w.starts_with("dla-") && w.len() == 26)
                .map(str::to_owned);
            if let Some(id) = re_id {
                *m = m.replace(&id, "[instance-id]");
            }
        }
    }
    body
}

fn assert_error(name: &str, got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{name}: {}", got.1);
    assert_eq!(got.1["Code"], code, "{name}: {}", got.1);
    assert!(
        got.1["RequestId"].as_str().is_some_and(|r| r.len() == 36),
        "{name}: request id"
    );
    insta::assert_json_snapshot!(name, stable(got.1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openanalytics_errors() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let ok = component(json!({}));
        let cases: Vec<(&str, (u16, Value), &str)> = vec![
            (
                "oa_missing_charge_type",
                create(addr, &ok, &[("ChargeType", "")]),
                "MissingParameter",
            ),
            (
                "oa_invalid_charge_type",
                create(addr, &ok, &[("ChargeType", "PREPAY")]),
                "Openanalytics.InvalidChargeType.Exception",
            ),
            (
                "oa_invalid_instance_type",
                create(addr, &ok, &[("InstanceType", "CU_HIVE")]),
                "Openanalytics.InvalidInstanceType.Exception",
            ),
            (
                "oa_invalid_region",
                create(addr, &ok, &[("RegionId", "China (Atlantis)")]),
                "Openanalytics.InvalidRegionId.Exception",
            ),
            (
                "oa_component_not_json",
                create(addr, "{not json", &[]),
                "Openanalytics.InvalidComponent.Exception",
            ),
            (
                "oa_component_missing_field",
                create(addr, &component(json!({"instance_name": null})), &[]),
                "Openanalytics.InvalidComponent.Exception",
            ),
            (
                "oa_page_example_engine_mismatch",
                create(addr, &ok, &[("InstanceType", "CU_PRESTO")]),
                "Openanalytics.EngineMismatch.Exception",
            ),
            (
                "oa_invalid_cu",
                create(addr, &component(json!({"max_cu": "8.5"})), &[]),
                "Openanalytics.InvalidCu.Exception",
            ),
            (
                "oa_min_cu_above_max",
                create(addr, &component(json!({"min_cu": 9})), &[]),
                "Openanalytics.InvalidCuRange.Exception",
            ),
            (
                "oa_region_mismatch",
                create(addr, &component(json!({"region": "cn-beijing"})), &[]),
                "Openanalytics.RegionMismatch.Exception",
            ),
            (
                "oa_invalid_instance_name",
                create(addr, &component(json!({"instance_name": "Api_Test"})), &[]),
                "Openanalytics.InvalidInstanceName.Exception",
            ),
            (
                "oa_release_unknown",
                rpc(
                    addr,
                    OPENANALYTICS,
                    "ReleaseInstance",
                    &[("InstanceId", "dla-unknown"), ("RegionId", "cn-hangzhou")],
                ),
                "Openanalytics.NotFound.Exception",
            ),
            (
                "oa_not_implemented",
                rpc(
                    addr,
                    OPENANALYTICS,
                    "GetJobStatus",
                    &[("JobId", "j-1"), ("VcName", "api-test-9")],
                ),
                "NotImplemented",
            ),
        ];
        for (name, got, code) in cases {
            let status = match code {
                "Openanalytics.NotFound.Exception" => 404,
                "NotImplemented" => 501,
                _ => 400,
            };
            assert_error(name, got, status, code);
        }

        // The lifecycle around the name-in-use error: create, conflict, release twice.
        let (status, body) = create(addr, &ok, &[]);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["Success"], true);
        let id = body["Result"].as_str().unwrap().to_owned();
        assert!(id.starts_with("dla-") && id.len() == 26, "{id}");
        assert_error(
            "oa_instance_name_exists",
            create(addr, &ok, &[]),
            400,
            "Openanalytics.InstanceNameExists.Exception",
        );
        let (status, body) = rpc(
            addr,
            OPENANALYTICS,
            "ValidateVirtualClusterName",
            &[("VcName", "api-test-9")],
        );
        assert_eq!(status, 200);
        assert_eq!(body["Data"]["Legal"], "false", "{body}");
        for _ in 0..2 {
            let (status, body) = rpc(
                addr,
                OPENANALYTICS,
                "ReleaseInstance",
                &[("InstanceId", &id), ("RegionId", "cn-hangzhou")],
            );
            assert_eq!(
                (status, &body["Result"]),
                (200, &json!("success")),
                "{body}"
            );
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_and_sts_errors() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        assert_error(
            "location_missing_service_code",
            rpc(
                addr,
                LOCATION,
                "DescribeEndpoints",
                &[("Id", "cn-hangzhou")],
            ),
            400,
            "MissingParameter",
        );
        assert_error(
            "location_not_implemented",
            rpc(addr, LOCATION, "DescribeRegions", &[]),
            501,
            "NotImplemented",
        );
        assert_error(
            "sts_not_implemented",
            rpc(
                addr,
                STS,
                "AssumeRole",
                &[("RoleArn", "acs:ram::1:role/x"), ("RoleSessionName", "s")],
            ),
            501,
            "NotImplemented",
        );

        let (status, body) = rpc(
            addr,
            LOCATION,
            "DescribeEndpoints",
            &[("Id", "cn-hangzhou"), ("ServiceCode", "emrstarrocks")],
        );
        assert_eq!(status, 200, "{body}");
        let endpoint = &body["Endpoints"]["Endpoint"][0];
        assert_eq!(endpoint["Endpoint"], addr.to_string());
        assert_eq!(endpoint["Type"], "openAPI");

        let (status, body) = rpc(addr, STS, "GetCallerIdentity", &[]);
        assert_eq!(status, 200, "{body}");
        let account = body["AccountId"].as_str().unwrap();
        assert_eq!(body["Arn"], format!("acs:ram::{account}:root"));
        assert_eq!(body["IdentityType"], "Account");
    })
    .await
    .unwrap();
}
