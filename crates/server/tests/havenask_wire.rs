//! Every wire error body of OpenSearch Havenask (ROA, 2021-10-25), snapshot-tested through
//! the real server on port 0, plus the rules that only show on the wire: the region taken
//! from the Host header, rejected requests leaving no trace, `INIT` → `READY`,
//! `CONFIG_UPDATING` → `READY`, delete twice. Requests are built as the SDK builds them
//! (ACS3, camelCase JSON bodies, path parameters in `{instanceId}` segments).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cloudtwin_aliyun::signature::{sign_acs3, SignedRequest};
use cloudtwin_core::Lifecycle;
use common::{nonce, raw_http, start, AK, SK};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const HAVENASK: &str = "2021-10-25";
const SHANGHAI: &str = "searchengine.cn-shanghai.aliyuncs.com";

fn acs_date() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap()
}

/// One ACS3-signed ROA call; `host` replaces the Host header (signed as sent).
struct Call<'a> {
    method: &'a str,
    action: &'a str,
    path: String,
    query: String,
    body: Option<Value>,
    host: Option<&'a str>,
}

fn call<'a>(method: &'a str, action: &'a str, path: impl Into<String>) -> Call<'a> {
    Call {
        method,
        action,
        path: path.into(),
        query: String::new(),
        body: None,
        host: None,
    }
}

impl<'a> Call<'a> {
    fn query(mut self, q: &str) -> Self {
        self.query = q.into();
        self
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn host(mut self, host: &'a str) -> Self {
        self.host = Some(host);
        self
    }

    fn send(&self, addr: SocketAddr) -> (u16, Value) {
        let body = self.body.as_ref().map(Value::to_string).unwrap_or_default();
        let host = self
            .host
            .map(str::to_owned)
            .unwrap_or_else(|| addr.to_string());
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("x-acs-version".into(), HAVENASK.into()),
            ("x-acs-action".into(), self.action.into()),
            ("x-acs-date".into(), acs_date()),
            ("x-acs-signature-nonce".into(), nonce()),
            ("accept".into(), "application/json".into()),
            (
                "x-acs-content-sha256".into(),
                hex::encode(Sha256::digest(body.as_bytes())),
            ),
        ];
        if self.body.is_some() {
            headers.push((
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ));
        }
        let auth = sign_acs3(
            &SignedRequest {
                method: self.method,
                path: &self.path,
                raw_query: &self.query,
                headers: &headers,
                body: body.as_bytes(),
            },
            AK,
            SK,
        );
        headers.push(("authorization".into(), auth));
        let target = if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        raw_http(addr, self.method, &target, &headers, body.as_bytes())
    }
}

/// The probe's create request (sdk-probes/probe_havenask_alibaba.py).
fn probe() -> Value {
    json!({"chargeType": "PREPAY", "components": [
        {"code": "instance_type", "value": "vector"},
        {"code": "vpc_id", "value": "vpc-bp1fll2mci6d7pw8m0001"},
        {"code": "vswitch", "value": "vsw-bp19mlh98tm9teyyd0001"},
        {"code": "qrs_resource", "value": "1"}],
        "order": {"autoRenew": true, "duration": 1, "pricingCycle": "Month"},
        "resourceGroupId": "rg-acfmxxx", "tags": [{"key": "k1", "value": "v1"}]})
}

/// The probe's request with one change: `path` names the field (`null` removes it).
fn probe_with(path: &[&str], v: Value) -> Value {
    let mut body = probe();
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

/// The probe's request with one more component.
fn probe_plus(code: &str, value: Value) -> Value {
    let mut body = probe();
    body["components"]
        .as_array_mut()
        .unwrap()
        .push(json!({"code": code, "value": value}));
    body
}

fn create(addr: SocketAddr, body: Value) -> (u16, Value) {
    call("POST", "CreateInstance", "/openapi/ha3/instances")
        .json(body)
        .send(addr)
}

fn instance_path(id: &str) -> String {
    format!("/openapi/ha3/instances/{id}")
}

fn get(addr: SocketAddr, id: &str) -> (u16, Value) {
    call("GET", "GetInstance", instance_path(id)).send(addr)
}

fn list(addr: SocketAddr, query: &str) -> (u16, Value) {
    call("GET", "ListInstances", "/openapi/ha3/instances")
        .query(query)
        .send(addr)
}

fn update(addr: SocketAddr, id: &str, body: Value) -> (u16, Value) {
    call("PUT", "UpdateInstance", instance_path(id))
        .json(body)
        .send(addr)
}

fn delete(addr: SocketAddr, id: &str) -> (u16, Value) {
    call("DELETE", "DeleteInstance", instance_path(id)).send(addr)
}

fn wait_status(addr: SocketAddr, id: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(addr, id);
        assert_eq!(status, 200, "{body}");
        if body["result"]["status"] == want {
            return body;
        }
        assert!(Instant::now() < deadline, "never reached {want}: {body}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stable(mut body: Value) -> Value {
    if let Some(obj) = body.as_object_mut() {
        for (key, placeholder) in [("RequestId", "[request-id]"), ("HostId", "[host]")] {
            if obj.contains_key(key) {
                obj.insert(key.into(), json!(placeholder));
            }
        }
        if let Some(Value::String(m)) = obj.get_mut("Message") {
            let id = m
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .find(|w| w.starts_with("ha-cn-") && w.len() == 17)
                .map(str::to_owned);
            if let Some(id) = id {
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
async fn create_errors_leave_no_trace() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let cases: Vec<(&str, Value, u16, &str)> = vec![
            (
                "ha_postpay_refused",
                probe_with(&["chargeType"], json!("POSTPAY")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_invalid_charge_type",
                probe_with(&["chargeType"], json!("MONTHLY")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_missing_order",
                probe_with(&["order"], Value::Null),
                400,
                "MissingParameter",
            ),
            (
                "ha_missing_duration",
                probe_with(&["order", "duration"], Value::Null),
                400,
                "MissingParameter",
            ),
            (
                "ha_page_example_duration_29",
                probe_with(&["order", "duration"], json!(29)),
                400,
                "InvalidParameter",
            ),
            (
                "ha_duration_11",
                probe_with(&["order", "duration"], json!(11)),
                400,
                "InvalidParameter",
            ),
            (
                "ha_duration_wrong_type",
                probe_with(&["order", "duration"], json!("one")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_missing_pricing_cycle",
                probe_with(&["order", "pricingCycle"], Value::Null),
                400,
                "MissingParameter",
            ),
            (
                "ha_invalid_pricing_cycle",
                probe_with(&["order", "pricingCycle"], json!("Week")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_unknown_component",
                probe_plus("gpu_count", json!("1")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_component_twice",
                probe_plus("qrs_resource", json!("2")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_component_missing_code",
                probe_plus("", json!("1")),
                400,
                "MissingParameter",
            ),
            (
                "ha_component_missing_value",
                probe_plus("search_spec", json!("")),
                400,
                "MissingParameter",
            ),
            (
                "ha_missing_vpc",
                {
                    let mut b = probe();
                    b["components"].as_array_mut().unwrap().remove(1);
                    b
                },
                400,
                "MissingParameter",
            ),
            (
                "ha_invalid_vpc",
                {
                    let mut b = probe();
                    b["components"][1]["value"] = json!("vsw-123");
                    b
                },
                400,
                "InvalidParameter",
            ),
            (
                "ha_invalid_edition",
                {
                    let mut b = probe();
                    b["components"][0]["value"] = json!("industry");
                    b
                },
                400,
                "InvalidParameter",
            ),
            (
                "ha_node_count_out_of_range",
                probe_plus("search_resource", json!("0")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_node_count_not_integer",
                probe_plus("search_resource", json!("two")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_unknown_spec",
                probe_plus("search_spec", json!("3C7G")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_disk_out_of_range",
                probe_plus("searcherdocsize", json!("10")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_invalid_resource_group",
                probe_with(&["resourceGroupId"], json!("group-1")),
                400,
                "InvalidParameter",
            ),
            (
                "ha_reserved_tag_key",
                probe_with(&["tags"], json!([{"key": "aliyun:x", "value": "v"}])),
                400,
                "InvalidParameter",
            ),
            (
                "ha_empty_tag_key",
                probe_with(&["tags"], json!([{"key": "", "value": "v"}])),
                400,
                "InvalidParameter",
            ),
        ];
        for (name, body, status, code) in cases {
            assert_error(name, create(addr, body), status, code);
        }
        assert_error(
            "ha_unknown_region_host",
            call("POST", "CreateInstance", "/openapi/ha3/instances")
                .json(probe())
                .host("searchengine.mars-east-1.aliyuncs.com")
                .send(addr),
            400,
            "InvalidRegionId",
        );
        // Nothing of the above was stored.
        let (status, body) = list(addr, "");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["totalCount"], 0, "{body}");
        assert_eq!(body["result"], json!([]));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_errors() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let unknown = "ha-cn-00000000000";
        assert_error(
            "ha_get_unknown",
            get(addr, unknown),
            404,
            "instance.NotFound",
        );
        assert_error(
            "ha_update_unknown",
            update(addr, unknown, json!({"description": "x"})),
            404,
            "instance.NotFound",
        );
        assert_error(
            "ha_delete_unknown",
            delete(addr, unknown),
            404,
            "instance.NotFound",
        );
        assert_error(
            "ha_specs_unknown_instance",
            call(
                "GET",
                "ListInstanceSpecs",
                format!("{}/specs", instance_path(unknown)),
            )
            .query("type=qrs")
            .send(addr),
            404,
            "instance.NotFound",
        );
        assert_error(
            "ha_list_page_size_too_big",
            list(addr, "pageNumber=1&pageSize=51"),
            400,
            "InvalidParameter",
        );
        assert_error(
            "ha_list_bad_tags",
            list(addr, "tags=not-json"),
            400,
            "InvalidParameter",
        );
        assert_error(
            "ha_not_implemented",
            call(
                "GET",
                "ListClusters",
                format!("{}/clusters", instance_path(unknown)),
            )
            .send(addr),
            501,
            "NotImplemented",
        );

        let (status, body) = create(addr, probe());
        assert_eq!(status, 200, "{body}");
        let id = body["result"]["instanceId"].as_str().unwrap().to_owned();
        wait_status(addr, &id, "READY");
        let specs = |q: &str| {
            call(
                "GET",
                "ListInstanceSpecs",
                format!("{}/specs", instance_path(&id)),
            )
            .query(q)
            .send(addr)
        };
        assert_error("ha_specs_missing_type", specs(""), 400, "MissingParameter");
        assert_error(
            "ha_specs_invalid_type",
            specs("type=gpu"),
            400,
            "InvalidParameter",
        );
        let (status, body) = specs("type=search");
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["result"][0],
            json!({"cpu": 1, "mem": 16, "minDisk": 100, "maxDisk": 600})
        );
        let component =
            |code: &str, value: &str| json!({"components": [{"code": code, "value": value}]});
        assert_error(
            "ha_update_fixed_component",
            update(addr, &id, component("vpc_id", "vpc-other0001")),
            400,
            "InvalidParameter",
        );
        assert_error(
            "ha_update_invalid_order_type",
            update(addr, &id, json!({"orderType": "SIDEWAYS"})),
            400,
            "InvalidParameter",
        );
        assert_error(
            "ha_update_description_too_long",
            update(addr, &id, json!({"description": "d".repeat(65)})),
            400,
            "InvalidParameter",
        );
        let (status, body) = update(addr, &id, component("searcherdocsize", "300"));
        assert_eq!(status, 200, "{body}");
        wait_status(addr, &id, "READY");
        assert_error(
            "ha_update_disk_shrinks",
            update(addr, &id, component("searcherdocsize", "200")),
            400,
            "InvalidParameter",
        );
        let got = wait_status(addr, &id, "READY");
        assert_eq!(got["result"]["spec"]["searchResource"]["disk"], 300);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_move_and_deletes_are_idempotent() {
    // Transitions take a minute: the transitional statuses stay visible.
    let server = start(Lifecycle::Fixed(60_000)).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let (status, body) = create(addr, probe());
        assert_eq!(status, 200, "{body}");
        let id = body["result"]["instanceId"].as_str().unwrap().to_owned();
        assert!(id.starts_with("ha-cn-") && id.len() == 17, "{id}");
        let (_, got) = get(addr, &id);
        assert_eq!(got["result"]["status"], "INIT", "{got}");
        assert_error(
            "ha_update_while_init",
            update(
                addr,
                &id,
                json!({"components": [{"code": "qrs_resource", "value": "2"}], "orderType": "UPGRADE"}),
            ),
            400,
            "IncorrectInstanceStatus",
        );
        // A description changes at once, whatever the status.
        let (status, body) = update(addr, &id, json!({"description": "first"}));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["result"]["description"], "first");
        assert_eq!(body["result"]["status"], "INIT");

        let (status, body) = delete(addr, &id);
        assert_eq!((status, body["result"].clone()), (200, json!({})), "{body}");
        assert_eq!(get(addr, &id).0, 404);
        let (status, body) = delete(addr, &id);
        assert_eq!(status, 200, "deleting twice is safe: {body}");
        assert_eq!(list(addr, "").1["totalCount"], 0);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_comes_from_the_host_header() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let (status, body) = call("POST", "CreateInstance", "/openapi/ha3/instances")
            .json(probe())
            .host(SHANGHAI)
            .send(addr);
        assert_eq!(status, 200, "{body}");
        let id = body["result"]["instanceId"].as_str().unwrap().to_owned();
        let (status, body) = call("GET", "GetInstance", instance_path(&id))
            .host(SHANGHAI)
            .send(addr);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["result"]["instanceId"], id.as_str());
        // The default region (cn-hangzhou) does not see a Shanghai instance.
        assert_eq!(get(addr, &id).0, 404);
        assert_eq!(list(addr, "").1["totalCount"], 0);
        let (_, listed) = call("GET", "ListInstances", "/openapi/ha3/instances")
            .host(SHANGHAI)
            .send(addr);
        assert_eq!(listed["totalCount"], 1, "{listed}");
        assert_eq!(listed["result"][0]["instanceId"], id.as_str());
        let (_, regions) = call("GET", "DescribeRegions", "/openapi/ha3/regions")
            .query("acceptLanguage=en")
            .send(addr);
        let shanghai = regions["result"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["regionId"] == "cn-shanghai")
            .cloned()
            .unwrap();
        assert_eq!(
            shanghai,
            json!({"regionId": "cn-shanghai", "localName": "China (Shanghai)", "endpoint": SHANGHAI})
        );
    })
    .await
    .unwrap();
}
