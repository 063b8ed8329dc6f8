//! Every wire error body of the TaurusDB / HTAP StarRocks API (GaussDB v3), snapshot-tested
//! through the real server on port 0, with SDK-HMAC-SHA256 requests signed as
//! huaweicloudsdkcore does (helpers copied from `huawei_wire.rs`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use cloudtwin_core::Lifecycle;
use cloudtwin_huawei::project_id_for;
use cloudtwin_huawei::signature::{format_sdk_date, sign, SignedRequest};
use cloudtwin_server::Config;
use serde_json::{json, Value};

const OTHER_AK: &str = "HPUAtestkeyother00001";
const OTHER_SK: &str = "other-secret-000000000000001";
const AK: &str = "HPUAtestkey0000000001";
const SK: &str = "test-secret-0000000000000001";

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One Huawei request, signed like the SDK unless told otherwise.
struct Req {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
    ak: String,
    sk: String,
    date_offset_s: i64,
    sign: bool,
}

impl Req {
    fn new(method: &'static str, path: &str) -> Self {
        Req {
            method,
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            body: String::new(),
            ak: AK.into(),
            sk: SK.into(),
            date_offset_s: 0,
            sign: true,
        }
    }
    #[allow(dead_code)]
    fn header(mut self, n: &str, v: &str) -> Self {
        self.headers.push((n.to_ascii_lowercase(), v.into()));
        self
    }
    fn json(mut self, body: Value) -> Self {
        self.body = body.to_string();
        self
    }
    fn query_str(mut self, q: &str) -> Self {
        self.query = q.into();
        self
    }
    #[allow(dead_code)]
    fn unsigned(mut self) -> Self {
        self.sign = false;
        self
    }
    fn send(&self, addr: SocketAddr) -> Answer {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let mut headers = vec![
            ("host".to_string(), addr.to_string()),
            (
                "user-agent".to_string(),
                "huaweicloud-usdk-python/3.0; cloudtwin wire test".to_string(),
            ),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        if self.sign {
            headers.push((
                "x-sdk-date".into(),
                format_sdk_date(now_ms + self.date_offset_s * 1000),
            ));
        }
        headers.extend(self.headers.iter().cloned());
        if self.sign && !headers.iter().any(|(n, _)| n == "authorization") {
            let auth = sign(
                &SignedRequest {
                    method: self.method,
                    path: &self.path,
                    raw_query: &self.query,
                    headers: &headers,
                    body: self.body.as_bytes(),
                },
                &self.ak,
                &self.sk,
            );
            headers.push(("authorization".into(), auth));
        }
        let target = if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        raw_http(addr, self.method, &target, &headers, self.body.as_bytes())
    }
}

fn raw_http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
    Answer {
        status,
        headers,
        body,
    }
}

/// Request ids, dates and the server's string-to-sign vary between runs.
fn stable(mut body: Value, ids: &[(&str, &str)]) -> Value {
    if let Some(obj) = body.as_object_mut() {
        if obj.contains_key("request_id") {
            obj.insert("request_id".into(), json!("[request-id]"));
        }
        if let Some(Value::String(m)) = obj.get_mut("error_msg") {
            if let Some((head, _)) = m.split_once("string to sign is:") {
                *m = format!("{head}string to sign is: [string-to-sign]");
            }
            if let Some((head, _)) = m.split_once("signature expired: X-Sdk-Date ") {
                *m = format!("{head}signature expired: X-Sdk-Date [date] is more than 15 minutes away from the server's time [now]");
            }
            for (id, label) in ids {
                *m = m.replace(id, label);
            }
        }
    }
    body
}

fn assert_error(name: &str, got: Answer, status: u16, code: &str, ids: &[(&str, &str)]) {
    assert_eq!(got.status, status, "{name}: {}", got.body);
    let read_code = got.body["error_code"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| got.body["error"]["code"].as_u64().map(|c| c.to_string()));
    assert_eq!(read_code.as_deref(), Some(code), "{name}: {}", got.body);
    let rid = got.header("x-request-id").unwrap_or("");
    assert!(
        rid.len() == 32 && rid.chars().all(|c| c.is_ascii_hexdigit()),
        "{name}: X-Request-Id {rid:?}"
    );
    if let Some(body_rid) = got.body.get("request_id") {
        assert_eq!(body_rid, rid, "{name}: body and header request ids");
    }
    insta::assert_json_snapshot!(name, stable(got.body, ids));
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
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        lifecycle: Lifecycle::Instant,
        master_key: None,
        access_key: Some((AK.into(), SK.into())),
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
                with("pay_info", json!({"pay_model": "1"})),
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
