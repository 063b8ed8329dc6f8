//! The state-control admin endpoints: bad input answers a clear 400 (snapshotted) and
//! leaves no trace; a manual rule parks a create until a step releases it.

mod common;

use std::net::SocketAddr;

use cloudtwin_core::Lifecycle;
use common::{raw_http, seed_create, start, Req};
use serde_json::{json, Value};

const RULES: &str = "/_cloudtwin/state-control/rules";

fn admin(addr: SocketAddr, method: &str, target: &str, body: &str) -> (u16, Value) {
    let headers = [("host".to_owned(), addr.to_string())];
    raw_http(addr, method, target, &headers, body.as_bytes())
}

fn assert_refused(name: &str, got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{name}: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{name}: {}", got.1);
    insta::assert_json_snapshot!(name, got.1);
}

fn rules(addr: SocketAddr) -> Value {
    admin(addr, "GET", RULES, "").1["rules"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_clear_message_and_changes_nothing() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let set = |body: &str| admin(addr, "POST", RULES, body);
        let (status, _) = set(r#"{"rule": "starrocks:CreateInstance=manual"}"#);
        assert_eq!(status, 200);
        let before = rules(addr);
        assert_eq!(before.as_array().unwrap().len(), 1);

        for (name, body, code) in [
            ("rule_body_not_json", "manual", "InvalidBody"),
            (
                "rule_body_without_rule",
                r#"{"mode": "manual"}"#,
                "InvalidBody",
            ),
            (
                "rule_body_rule_not_a_string",
                r#"{"rule": 3}"#,
                "InvalidBody",
            ),
            (
                "rule_body_extra_field",
                r#"{"rule": "starrocks:*=manual", "ttl": 3}"#,
                "InvalidBody",
            ),
            (
                "rule_without_mode",
                r#"{"rule": "starrocks:CreateInstance"}"#,
                "InvalidRule",
            ),
            (
                "rule_unknown_product",
                r#"{"rule": "redis:*=manual"}"#,
                "InvalidRule",
            ),
            (
                "rule_unknown_mode",
                r#"{"rule": "starrocks:*=slow"}"#,
                "InvalidRule",
            ),
            (
                "rule_bad_delay",
                r#"{"rule": "rocketmq:*=delay:2d"}"#,
                "InvalidRule",
            ),
            (
                "rule_unknown_operation",
                r#"{"rule": "taurusdb:CreateInstance=fail:DBS.280001:x"}"#,
                "InvalidRule",
            ),
            (
                "rule_bad_fail_code",
                r#"{"rule": "taurusdb:*=fail:DBS 1:x"}"#,
                "InvalidRule",
            ),
        ] {
            assert_refused(name, set(body), 400, code);
        }
        assert_eq!(
            rules(addr),
            before,
            "a refused rule leaves the rules as they were"
        );

        for (name, query) in [
            ("jobs_unknown_product", "product=redis"),
            ("jobs_unknown_state", "state=stuck"),
            ("jobs_limit_zero", "limit=0"),
            ("jobs_limit_not_a_number", "limit=many"),
            ("jobs_unknown_parameter", "stat=parked"),
        ] {
            let target = format!("/_cloudtwin/jobs?{query}");
            assert_refused(
                name,
                admin(addr, "GET", &target, ""),
                400,
                "InvalidParameter",
            );
        }

        assert_refused(
            "step_unknown_job",
            admin(addr, "POST", "/_cloudtwin/jobs/op-missing/step", ""),
            404,
            "JobNotFound",
        );
        assert_refused(
            "step_instance_nothing_parked",
            admin(addr, "POST", "/_cloudtwin/instances/c-missing/step", ""),
            409,
            "NothingParked",
        );

        let (status, cleared) = admin(addr, "DELETE", RULES, "");
        assert_eq!((status, cleared), (200, json!({"cleared": 1})));
        assert_eq!(rules(addr), json!([]));
    })
    .await
    .unwrap();
}

fn status_of(addr: SocketAddr, id: &str) -> String {
    let (code, body) = Req::new("DescribeInstances", "/webapi/starrocks/describeInstances")
        .query(&format!("InstanceId={id}&RegionId=cn-hangzhou"))
        .send(addr);
    assert_eq!(code, 200, "{body}");
    body["Data"][0]["InstanceStatus"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_create_is_parked_listed_and_stepped_once() {
    let server = start(Lifecycle::Instant).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let (status, _) = admin(
            addr,
            "POST",
            RULES,
            r#"{"rule": "starrocks:CreateInstance=manual"}"#,
        );
        assert_eq!(status, 200);
        let (code, created) = Req::new("CreateInstanceV1", "/webapi/cluster/createV1")
            .json(seed_create())
            .send(addr);
        assert_eq!(code, 200, "{created}");
        let id = created["Data"]["InstanceId"].as_str().unwrap().to_owned();
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(
            status_of(addr, &id),
            "creating",
            "parked: no worker takes it"
        );

        let (status, listed) = admin(
            addr,
            "GET",
            &format!("/_cloudtwin/jobs?state=parked&instance={id}"),
            "",
        );
        assert_eq!(status, 200);
        let jobs = listed["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), 1, "{listed}");
        assert_eq!(jobs[0]["operation"], "CreateInstance");
        assert_eq!(jobs[0]["status_on_failure"], "creating_failed");
        let job_id = jobs[0]["id"].as_str().unwrap().to_owned();

        let (status, stepped) = admin(
            addr,
            "POST",
            &format!("/_cloudtwin/instances/{id}/step"),
            "",
        );
        assert_eq!(status, 200, "{stepped}");
        assert_eq!(stepped["stepped"]["id"], job_id.as_str());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while status_of(addr, &id) != "running" {
            assert!(
                std::time::Instant::now() < deadline,
                "stepped job never ran"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let (status, again) = admin(addr, "POST", &format!("/_cloudtwin/jobs/{job_id}/step"), "");
        assert_eq!(status, 409, "{again}");
        assert_eq!(again["error"]["code"], "JobNotParked");
    })
    .await
    .unwrap();
}
