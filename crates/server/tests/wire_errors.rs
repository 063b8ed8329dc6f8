//! Every wire error body cloudtwin answers over the Alibaba dialect, snapshot-tested,
//! through the real server on port 0.

mod common;

use cloudtwin_core::Lifecycle;
use common::{raw_http, seed_create, start, Req};
use serde_json::{json, Value};

const CREATE: (&str, &str) = ("CreateInstanceV1", "/webapi/cluster/createV1");
const DESCRIBE: (&str, &str) = ("DescribeInstances", "/webapi/starrocks/describeInstances");

/// Request ids, hosts and the signature hash vary between runs.
fn stable(mut body: Value) -> Value {
    if let Some(obj) = body.as_object_mut() {
        if obj.contains_key("RequestId") {
            obj.insert("RequestId".into(), json!("[request-id]"));
        }
        if obj.contains_key("HostId") {
            obj.insert("HostId".into(), json!("[host]"));
        }
        if let Some(Value::String(m)) = obj.get_mut("Message") {
            if let Some((head, _)) = m.split_once("server string to sign is:") {
                *m = format!("{head}server string to sign is:[string-to-sign]");
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
async fn authentication_errors() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let describe = || Req::new(DESCRIBE.0, DESCRIBE.1);

        let mut unsigned = describe();
        unsigned.sign = false;
        assert_error(
            "missing_signature",
            unsigned.send(addr),
            400,
            "MissingAuthorization",
        );

        let mut wrong_secret = describe();
        wrong_secret.sk = "not-the-secret".into();
        assert_error(
            "wrong_secret",
            wrong_secret.send(addr),
            400,
            "SignatureDoesNotMatch",
        );

        let mut tampered = Req::new(CREATE.0, CREATE.1).json(seed_create());
        tampered.tamper_body_after_signing = true;
        assert_error(
            "body_changed_after_signing",
            tampered.send(addr),
            400,
            "SignatureDoesNotMatch",
        );

        let mut unknown_key = describe();
        unknown_key.ak = "LTAIunknown".into();
        assert_error(
            "unknown_access_key",
            unknown_key.send(addr),
            404,
            "InvalidAccessKeyId.NotFound",
        );

        assert_error(
            "stale_date",
            describe().date_offset(-16 * 60).send(addr),
            400,
            "InvalidTimeStamp.Expired",
        );
        assert_error(
            "future_date",
            describe().date_offset(16 * 60).send(addr),
            400,
            "InvalidTimeStamp.Expired",
        );
        assert_eq!(
            describe().date_offset(-14 * 60).send(addr).0,
            200,
            "inside the window"
        );

        let once = describe();
        assert_eq!(once.send(addr).0, 200);
        assert_error("replayed_nonce", once.send(addr), 400, "SignatureNonceUsed");

        let headers = vec![
            ("host".to_string(), addr.to_string()),
            (
                "authorization".to_string(),
                "ACS3-HMAC-SHA256 garbage".to_string(),
            ),
            ("x-acs-version".to_string(), "2022-10-19".to_string()),
            ("x-acs-action".to_string(), "DescribeInstances".to_string()),
        ];
        let got = raw_http(addr, "POST", DESCRIBE.1, &headers, b"");
        assert_error("malformed_authorization", got, 400, "IncompleteSignature");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_and_product_errors() {
    let server = start(Lifecycle::Fixed(60_000)).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        assert_error(
            "unknown_action",
            Req::new("NoSuchAction", "/webapi/none").send(addr),
            404,
            "InvalidAction.NotFound",
        );
        assert_error(
            "wrong_path_for_action",
            Req::new(DESCRIBE.0, "/webapi/cluster/createV1").send(addr),
            404,
            "InvalidAction.NotFound",
        );
        assert_error(
            "not_implemented",
            Req::new("UpgradeVersion", "/webapi/starrocks/upgradeVersion")
                .query("InstanceId=c-1&TargetVersion=3.3")
                .send(addr),
            501,
            "NotImplemented",
        );
        let mut bad_json = Req::new(CREATE.0, CREATE.1);
        bad_json.body = Some("{not json".into());
        assert_error(
            "body_not_json",
            bad_json.send(addr),
            400,
            "InvalidParameter.Body",
        );

        let mut missing = seed_create();
        missing.as_object_mut().unwrap().remove("InstanceName");
        assert_error(
            "missing_instance_name",
            Req::new(CREATE.0, CREATE.1).json(missing).send(addr),
            400,
            "MissingParameter",
        );

        let mut region = seed_create();
        region["RegionId"] = json!("mars-1");
        assert_error(
            "unknown_region",
            Req::new(CREATE.0, CREATE.1).json(region).send(addr),
            400,
            "InvalidParams",
        );

        let mut cu = seed_create();
        cu["BackendNodeGroups"][0]["cu"] = json!(7);
        assert_error(
            "bad_backend_cu",
            Req::new(CREATE.0, CREATE.1).json(cu).send(addr),
            400,
            "InvalidParams",
        );

        let mut wrong_type = seed_create();
        wrong_type["Duration"] = json!("one");
        assert_error(
            "wrong_json_type",
            Req::new(CREATE.0, CREATE.1).json(wrong_type).send(addr),
            400,
            "InvalidParams",
        );

        let mut with_token = seed_create();
        with_token["ClientToken"] = json!("tok-1");
        let (status, created) = Req::new(CREATE.0, CREATE.1)
            .json(with_token.clone())
            .send(addr);
        assert_eq!(status, 200, "{created}");
        let id = created["Data"]["InstanceId"].as_str().unwrap().to_string();
        with_token["InstanceName"] = json!("other");
        assert_error(
            "client_token_reused",
            Req::new(CREATE.0, CREATE.1).json(with_token).send(addr),
            400,
            "IdempotentParameterMismatch",
        );

        let query = format!("InstanceId={id}&NodeGroupId=ng-x&Target=16");
        assert_error(
            "modify_while_creating",
            Req::new("ModifyCu", "/webapi/resourceChange/modifyCu")
                .query(&query)
                .send(addr),
            400,
            "IncorrectInstanceStatus",
        );
        assert_error(
            "unknown_instance",
            Req::new("ReleaseInstance", "/webapi/cluster/release")
                .query("InstanceId=c-0000000000000000")
                .send(addr),
            404,
            "InstanceNotFound",
        );
        assert_error(
            "bad_page_size",
            Req::new(DESCRIBE.0, DESCRIBE.1)
                .query("PageSize=1000")
                .send(addr),
            400,
            "InvalidParams",
        );
        let (_, listed) = Req::new(DESCRIBE.0, DESCRIBE.1).send(addr);
        assert_eq!(
            listed["Total"], 1,
            "rejected creates left no trace: {listed}"
        );
    })
    .await
    .unwrap();
}
