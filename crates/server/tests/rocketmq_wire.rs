//! Every wire error body of DMS for RocketMQ, snapshot-tested through the real server on
//! port 0, with SDK-HMAC-SHA256 requests signed as huaweicloudsdkcore does (the signer helper
//! is copied from huawei_wire.rs).

mod common;

use cloudtwin_core::Lifecycle;
use cloudtwin_huawei::project_id_for;
use cloudtwin_server::Config;
use common::huawei::{check_error, Answer, Req, AK, SK};
use serde_json::{json, Value};

/// Snapshots are named after this file, so the snapshot call stays here.
fn assert_error(name: &str, got: Answer, status: u16, code: &str, ids: &[(&str, &str)]) {
    insta::assert_json_snapshot!(name, check_error(name, got, status, code, ids));
}

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

fn with(key: &str, v: Value) -> Value {
    let mut b = seed();
    b[key] = v;
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocketmq_wire_errors() {
    let dir = tempfile::tempdir().unwrap();
    let running = cloudtwin_server::start(Config {
        access_key: Some((AK.into(), SK.into())),
        ..Config::new("127.0.0.1:0", dir.path(), Lifecycle::Instant)
    })
    .await
    .unwrap();
    let addr = running.addr;
    let opened = cloudtwin_server::open(dir.path(), None).unwrap();
    let me = opened
        .store
        .account_by_name("default")
        .await
        .unwrap()
        .unwrap();
    let other = opened.keyring.create_account("other", None).await.unwrap();
    let (other_ak, other_sk) = (other.access_key_id.clone(), other.access_key_secret.clone());
    let mine = project_id_for(&me.id, "cn-north-4");
    let theirs = project_id_for(&other.account_id, "cn-north-4");
    let east = project_id_for(&me.id, "cn-east-3");

    tokio::task::spawn_blocking(move || {
        let ids = [
            (mine.as_str(), "[my-project]"),
            (theirs.as_str(), "[their-project]"),
        ];
        let create_path = format!("/v2/{mine}/instances");
        let post = |body: Value| {
            Req::new("POST", &create_path)
                .header("x-project-id", &mine)
                .json(body)
                .send(addr)
        };
        // The seed example succeeds.
        let ok = post(seed());
        assert_eq!(ok.status, 200, "{}", ok.body);
        let iid = ok.body["instance_id"].as_str().unwrap().to_string();
        let mut ids = ids.to_vec();
        ids.push((iid.as_str(), "[instance]"));
        let ids = &ids[..];

        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "create_bad_name",
                with("name", json!("1bad")),
                "DMS.00400010",
            ),
            (
                "create_name_too_short",
                with("name", json!("abc")),
                "DMS.00400010",
            ),
            (
                "create_description_too_long",
                with("description", json!("d".repeat(1025))),
                "DMS.00400011",
            ),
            (
                "create_bad_engine",
                with("engine", json!("kafka")),
                "DMS.00400007",
            ),
            (
                "create_bad_version",
                with("engine_version", json!("4.9.0")),
                "DMS.00400008",
            ),
            ("create_no_vpc", with("vpc_id", json!("")), "DMS.00400013"),
            (
                "create_no_subnet",
                with("subnet_id", Value::Null),
                "DMS.00400005",
            ),
            (
                "create_no_security_group",
                with("security_group_id", json!("")),
                "DMS.00400014",
            ),
            (
                "create_no_zones",
                with("available_zones", json!([])),
                "DMS.00400005",
            ),
            (
                "create_two_zones",
                with(
                    "available_zones",
                    json!([
                        "8c90c2a4e2594c0782faa6b205afeca7",
                        "9f1c5806706d4c1fb0eb72f0a9b18c77"
                    ]),
                ),
                "DMS.00400005",
            ),
            (
                "create_unknown_zone",
                with("available_zones", json!(["cn-north-4a"])),
                "DMS.00400005",
            ),
            (
                "create_bad_product",
                with("product_id", json!("c6.2u4g.cluster")),
                "DMS.00400009",
            ),
            (
                "create_product_of_other_version",
                with("product_id", json!("rocketmq.b1.large.1")),
                "DMS.00400009",
            ),
            (
                "create_bad_storage_spec",
                with("storage_spec_code", json!("dms.physical.storage.normal")),
                "DMS.00400005",
            ),
            (
                "create_broker_num_zero",
                with("broker_num", json!(0)),
                "DMS.00400005",
            ),
            (
                "create_broker_num_too_many",
                with("broker_num", json!(11)),
                "DMS.00400005",
            ),
            (
                "create_storage_too_small",
                with("storage_space", json!(200)),
                "DMS.00400005",
            ),
            (
                "create_storage_too_big",
                with("storage_space", json!(60001)),
                "DMS.00400005",
            ),
            (
                "create_storage_wrong_type",
                with("storage_space", json!("600")),
                "DMS.00400005",
            ),
            (
                "create_public_ip_without_eip",
                with("enable_publicip", json!(true)),
                "DMS.00400005",
            ),
            (
                "create_bad_tls_mode",
                with("tls_mode", json!("TLS")),
                "DMS.00400005",
            ),
            ("create_duplicate_name", seed(), "DMS.00400060"),
            ("create_body_not_object", json!([1]), "DMS.00400005"),
        ];
        for (name, body, code) in cases {
            assert_error(name, post(body), 400, code, ids);
        }
        assert_error(
            "create_no_body",
            Req::new("POST", &create_path).send(addr),
            400,
            "DMS.00400004",
            ids,
        );
        let mut not_json = Req::new("POST", &create_path);
        not_json.body = "{nope".into();
        assert_error(
            "create_body_not_json",
            not_json.send(addr),
            400,
            "DMS.00400005",
            ids,
        );
        assert_error(
            "create_by_bad_engine",
            Req::new("POST", &format!("/v2/kafka/{mine}/instances"))
                .json(seed())
                .send(addr),
            400,
            "DMS.00400007",
            ids,
        );
        assert_error(
            "create_prepaid_without_period",
            Req::new("POST", &format!("/v2/{mine}/rocketmq/instances"))
                .json(with("bss_param", json!({"charging_mode": "prePaid"})))
                .send(addr),
            400,
            "DMS.00400005",
            ids,
        );

        // Reads of missing, foreign and other-region instances.
        let missing = "00000000-0000-0000-0000-000000000000";
        assert_error(
            "show_missing",
            Req::new("GET", &format!("/v2/{mine}/instances/{missing}")).send(addr),
            404,
            "DMS.00404022",
            ids,
        );
        let mut foreign = Req::new("GET", &format!("/v2/{theirs}/instances/{iid}"));
        foreign.ak = other_ak.clone();
        foreign.sk = other_sk.clone();
        assert_error(
            "show_other_account",
            foreign.send(addr),
            404,
            "DMS.00404022",
            ids,
        );
        assert_error(
            "show_other_region",
            Req::new("GET", &format!("/v2/{east}/instances/{iid}")).send(addr),
            404,
            "DMS.00404022",
            ids,
        );
        assert_error(
            "delete_missing",
            Req::new("DELETE", &format!("/v2/{mine}/instances/{missing}")).send(addr),
            404,
            "DMS.00404022",
            ids,
        );
        assert_error(
            "update_missing",
            Req::new("PUT", &format!("/v2/{mine}/instances/{missing}"))
                .json(json!({"name": "abcd"}))
                .send(addr),
            404,
            "DMS.00404022",
            ids,
        );
        assert_error(
            "update_bad_name",
            Req::new("PUT", &format!("/v2/{mine}/instances/{iid}"))
                .json(json!({"name": "a b"}))
                .send(addr),
            400,
            "DMS.00400010",
            ids,
        );
        assert_error(
            "tasks_missing",
            Req::new("GET", &format!("/v2/{mine}/instances/{missing}/tasks")).send(addr),
            404,
            "DMS.00404022",
            ids,
        );
        let mut bad_time = Req::new("GET", &format!("/v2/{mine}/instances/{iid}/tasks"));
        bad_time.query = "begin_time=2020".into();
        assert_error(
            "tasks_bad_begin_time",
            bad_time.send(addr),
            400,
            "DMS.00400005",
            ids,
        );

        // List parameters.
        for (name, query) in [
            ("list_bad_engine", "engine=kafka"),
            ("list_bad_status", "status=SLEEPING"),
            ("list_limit_too_big", "limit=51"),
            ("list_bad_offset", "offset=-1"),
            ("list_bad_include_failure", "include_failure=yes"),
        ] {
            let mut r = Req::new("GET", &format!("/v2/{mine}/instances"));
            r.query = query.into();
            let code = if name == "list_bad_engine" {
                "DMS.00400007"
            } else {
                "DMS.00400005"
            };
            assert_error(name, r.send(addr), 400, code, ids);
        }
        assert_error(
            "products_bad_engine",
            Req::new("GET", "/v2/kafka/products")
                .header("x-project-id", &mine)
                .send(addr),
            400,
            "DMS.00400007",
            ids,
        );

        // Resize.
        let extend = format!("/v2/{mine}/rocketmq/instances/{iid}/extend");
        assert_error(
            "resize_bad_oper_type",
            Req::new("POST", &extend)
                .json(json!({"oper_type": "shrink"}))
                .send(addr),
            400,
            "DMS.00400005",
            ids,
        );
        assert_error(
            "resize_storage_too_little",
            Req::new("POST", &extend)
                .json(json!({"oper_type": "storage", "new_storage_space": 650}))
                .send(addr),
            400,
            "DMS.00400005",
            ids,
        );
        assert_error(
            "resize_bad_product",
            Req::new("POST", &extend)
                .json(json!({"oper_type": "vertical", "new_product_id": "nope"}))
                .send(addr),
            400,
            "DMS.00400009",
            ids,
        );

        // Batch delete.
        let batch = format!("/v2/{mine}/instances/action");
        assert_error(
            "batch_bad_action",
            Req::new("POST", &batch)
                .json(json!({"action": "stop", "instances": [iid]}))
                .send(addr),
            400,
            "DMS.00400005",
            ids,
        );

        // Delete: DELETING refuses another delete; afterwards the instance is missing.
        let del = Req::new("DELETE", &format!("/v2/{mine}/instances/{iid}")).send(addr);
        assert_eq!(del.status, 204, "{}", del.body);
        let mut gone = Req::new("GET", &format!("/v2/{mine}/instances/{iid}")).send(addr);
        for _ in 0..100 {
            if gone.status == 404 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            gone = Req::new("GET", &format!("/v2/{mine}/instances/{iid}")).send(addr);
        }
        assert_error("show_deleted", gone, 404, "DMS.00404022", ids);

        assert_error(
            "unsigned",
            Req::new("GET", &format!("/v2/{mine}/instances"))
                .unsigned()
                .header("x-sdk-date", "20250102T030405Z")
                .send(addr),
            401,
            "APIGW.0301",
            ids,
        );
        // Operations of the SDK that are not built.
        assert_error(
            "not_built",
            Req::new("GET", &format!("/v2/{mine}/instances/{missing}/topics")).send(addr),
            501,
            "APIGW.0501",
            ids,
        );
    })
    .await
    .unwrap();
    running.stop().await;
}
