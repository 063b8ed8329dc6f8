//! Every wire error body of the TaurusDB / HTAP StarRocks API (GaussDB v3), snapshot-tested
//! through the real server on port 0, with SDK-HMAC-SHA256 requests signed as
//! huaweicloudsdkcore does (helpers copied from `huawei_wire.rs`).

mod common;

use cloudtwin_core::Lifecycle;
use cloudtwin_huawei::project_id_for;
use cloudtwin_server::Config;
use common::huawei::{check_error, Answer, Req, AK, SK};
use serde_json::{json, Value};

const OTHER_AK: &str = "HPUAtestkeyother00001";
const OTHER_SK: &str = "other-secret-000000000000001";

/// Snapshots are named after this file, so the snapshot call stays here.
fn assert_error(name: &str, got: Answer, status: u16, code: &str, ids: &[(&str, &str)]) {
    insta::assert_json_snapshot!(name, check_error(name, got, status, code, ids));
}

fn sr_body() -> Value {
    json!({
        "name": "htap-ff64",
        "engine": {"type": "star-rocks", "version": "3.1"},
        "ha": {"mode": "Single"},
        "fe_flavor_id": "afef3bfd-ac7c-32e1-ba44-c388acbb196a",
        "be_flavor_id": "de565db8-0a96-37ea-9388-61167624712c",
        "db_root_pwd": "Test@123!",
        "fe_count": 1,
        "be_count": 1,
        "az_mode": "single",
        "fe_volume": {"io_type": "SSD", "capacity_in_gb": 50},
        "be_volume": {"io_type": "SSD", "capacity_in_gb": 50},
        "az_code": "az",
        "time_zone": "UTC+08:00",
        "tags_info": {"sys_tags": [{"key": "_sys_enterprise_project_id", "value": "0"}]}
    })
}

fn parent_body(region: &str) -> Value {
    json!({
        "region": region,
        "name": "taurus-parent",
        "datastore": {"type": "gaussdb-mysql", "version": "8.0"},
        "mode": "Cluster",
        "flavor_ref": "gaussdb.mysql.xlarge.x86.4",
        "vpc_id": "vpc-1",
        "subnet_id": "subnet-1",
        "password": "Taurus-Pw0rd",
        "availability_zone_mode": "single"
    })
}

/// `sr_body()` with `path` (dotted) set to `value`, or removed when `value` is null.
fn with(path: &str, value: Value) -> Value {
    let mut body = sr_body();
    let mut at = &mut body;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        at = at.get_mut(*p).unwrap();
    }
    let last = parts[parts.len() - 1];
    if value.is_null() {
        at.as_object_mut().unwrap().remove(last);
    } else {
        at[last] = value;
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taurusdb_wire_errors() {
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
    let other = opened
        .keyring
        .create_account("other", Some((OTHER_AK, OTHER_SK)))
        .await
        .unwrap();
    let mine = project_id_for(&me.id, "cn-north-4");
    let theirs = project_id_for(&other.account_id, "cn-north-4");

    tokio::task::spawn_blocking(move || {
        let ids = [
            (mine.as_str(), "[my-project]"),
            (theirs.as_str(), "[their-project]"),
        ];
        let base = format!("/v3/{mine}");
        let created = Req::new("POST", &format!("{base}/instances"))
            .json(parent_body("cn-north-4"))
            .send(addr);
        assert_eq!(created.status, 201, "{}", created.body);
        let parent = created.body["instance"]["id"].as_str().unwrap().to_owned();
        let mut theirs_req =
            Req::new("POST", &format!("/v3/{theirs}/instances")).json(parent_body("cn-north-4"));
        theirs_req.ak = OTHER_AK.into();
        theirs_req.sk = OTHER_SK.into();
        let their_parent = theirs_req.send(addr);
        assert_eq!(their_parent.status, 201, "{}", their_parent.body);
        let their_parent = their_parent.body["instance"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ids_all = [
            ids[0],
            ids[1],
            (parent.as_str(), "[parent]"),
            (their_parent.as_str(), "[their-parent]"),
        ];
        let create = |body: Value| {
            Req::new("POST", &format!("{base}/instances/{parent}/starrocks"))
                .json(body)
                .send(addr)
        };

        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "sr_name_invalid",
                with("name", json!("1htap")),
                "DBS.200021",
            ),
            ("sr_name_missing", with("name", Value::Null), "DBS.200001"),
            (
                "sr_engine_type",
                with("engine.type", json!("clickhouse")),
                "DBS.200040",
            ),
            (
                "sr_engine_version",
                with("engine.version", json!("9.9")),
                "DBS.200041",
            ),
            ("sr_ha_mode", with("ha.mode", json!("Triple")), "DBS.200051"),
            (
                "sr_fe_flavor",
                with("fe_flavor_id", json!("nope")),
                "DBS.200053",
            ),
            (
                "sr_password_classes",
                with("db_root_pwd", json!("testtest123")),
                "DBS.200052",
            ),
            (
                "sr_password_weak",
                with("db_root_pwd", json!("Admin@123")),
                "DBS.200052",
            ),
            ("sr_fe_count_zero", with("fe_count", json!(0)), "DBS.200001"),
            (
                "sr_be_count_string",
                with("be_count", json!("1")),
                "DBS.200001",
            ),
            ("sr_az_mode", with("az_mode", json!("multi")), "DBS.200001"),
            (
                "sr_volume_step",
                with("fe_volume.capacity_in_gb", json!(55)),
                "DBS.200027",
            ),
            (
                "sr_volume_range",
                with("be_volume.capacity_in_gb", json!(40)),
                "DBS.200023",
            ),
            (
                "sr_storage_type",
                with("be_volume.io_type", json!("HDD")),
                "DBS.200026",
            ),
            (
                "sr_az_code",
                with("az_code", json!("nowhere")),
                "DBS.200025",
            ),
            (
                "sr_time_zone",
                with("time_zone", json!("Beijing")),
                "DBS.200001",
            ),
            (
                "sr_tags_info_missing",
                with("tags_info", Value::Null),
                "DBS.200001",
            ),
            (
                "sr_pay_model",
                with("pay_info", json!({"pay_model": "2"})),
                "DBS.200001",
            ),
            (
                "sr_pay_period_type",
                with("pay_info", json!({"pay_model": "1", "period": "1"})),
                "DBS.200001",
            ),
        ];
        for (name, body, code) in cases {
            assert_error(name, create(body), 400, code, &ids_all);
        }
        assert_error(
            "sr_empty_body",
            create(json!({})),
            400,
            "DBS.200006",
            &ids_all,
        );
        assert_error(
            "sr_parent_missing",
            Req::new(
                "POST",
                &format!("{base}/instances/0123456789abcdef0123456789abcdefin07/starrocks"),
            )
            .json(sr_body())
            .send(addr),
            404,
            "DBS.200002",
            &ids_all,
        );
        assert_error(
            "sr_parent_foreign",
            Req::new(
                "POST",
                &format!("{base}/instances/{their_parent}/starrocks"),
            )
            .json(sr_body())
            .send(addr),
            404,
            "DBS.200002",
            &ids_all,
        );
        assert_error(
            "sr_show_missing",
            Req::new(
                "GET",
                &format!(
                    "{base}/instances/{parent}/starrocks/0123456789abcdef0123456789abcdefin17"
                ),
            )
            .send(addr),
            400,
            "DBS.05000044",
            &ids_all,
        );
        assert_error(
            "sr_resize_missing",
            Req::new(
                "POST",
                &format!(
                    "{base}/instances/0123456789abcdef0123456789abcdefin17/starrocks/resize-flavor"
                ),
            )
            .json(json!({"be_flavor_id": "0b6f2c8e-4d1a-3f7b-9e2c-5a8d1f3b7c64"}))
            .send(addr),
            400,
            "DBS.05000044",
            &ids_all,
        );
        assert_error(
            "parent_show_missing",
            Req::new("GET", &format!("{base}/instances/{their_parent}")).send(addr),
            404,
            "DBS.200002",
            &ids_all,
        );
        assert_error(
            "parent_region_mismatch",
            Req::new("POST", &format!("{base}/instances"))
                .json(parent_body("cn-east-3"))
                .send(addr),
            400,
            "DBS.200024",
            &ids_all,
        );
        assert_error(
            "parent_flavor",
            Req::new("POST", &format!("{base}/instances"))
                .json({
                    let mut b = parent_body("cn-north-4");
                    b["flavor_ref"] = json!("nope");
                    b
                })
                .send(addr),
            400,
            "DBS.200053",
            &ids_all,
        );
        assert_error(
            "job_missing",
            Req::new("GET", &format!("{base}/jobs"))
                .query_str("id=cf0b7506-1505-450f-9d95-ce9d93b6b5c3")
                .send(addr),
            400,
            "DBS.200001",
            &ids_all,
        );
        assert_error(
            "job_no_id",
            Req::new("GET", &format!("{base}/jobs")).send(addr),
            400,
            "DBS.200001",
            &ids_all,
        );
        assert_error(
            "htap_engine_unknown",
            Req::new("GET", &format!("{base}/htap/datastores/clickhouse")).send(addr),
            400,
            "DBS.200040",
            &ids_all,
        );
        assert_error(
            "gaussdb_not_built",
            Req::new("GET", &format!("{base}/configurations")).send(addr),
            501,
            "APIGW.0501",
            &ids_all,
        );

        // A created HTAP instance, then the parent that still holds it cannot go.
        let ok = create(sr_body());
        assert_eq!(ok.status, 201, "{}", ok.body);
        assert_error(
            "parent_delete_with_htap",
            Req::new("DELETE", &format!("{base}/instances/{parent}")).send(addr),
            409,
            "DBS.200019",
            &ids_all,
        );
    })
    .await
    .unwrap();
    running.stop().await;
}
