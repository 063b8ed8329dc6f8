//! The state-control admin endpoints: bad input answers a clear 400 (snapshotted) and
//! leaves no trace; a manual rule parks a create until a step releases it; the
//! `cloudtwin control` CLI sends the admin token a server beyond loopback asks for.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use cloudtwin_core::Lifecycle;
use cloudtwin_server::admin::ADMIN_TOKEN_FILE;
use cloudtwin_server::OpsOptions;
use common::{raw_http, seed_create, start, start_with, Req};
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

/// `cloudtwin control ARGS --server URL` with only the environment `env` of its own.
fn control(addr: SocketAddr, env: &[(&str, &str)], args: &[&str]) -> Output {
    // Port only: the server listens on every interface; the CLI reaches it on loopback,
    // which does not lift the credential (it depends on where the server listens).
    let url = format!("http://127.0.0.1:{}", addr.port());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cloudtwin"));
    command
        .arg("control")
        .args(args)
        .args(["--server", &url])
        .env_remove("CLOUDTWIN_ADMIN_TOKEN")
        .env_remove("CLOUDTWIN_DATA_DIR")
        .env_remove("CLOUDTWIN_SERVER")
        .envs(env.iter().copied());
    command.output().unwrap()
}

fn succeeded(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

/// Refused: exits non-zero, saying on stderr how to pass the token.
fn refused(output: &Output, why: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{why}: it succeeded");
    for needed in [why, "--admin-token", "CLOUDTWIN_ADMIN_TOKEN", "--data-dir"] {
        assert!(stderr.contains(needed), "{needed:?} not in {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_cli_sends_the_admin_token_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let given = "cli-token-0123456789";
    let running = start_with(
        "0.0.0.0:0",
        dir.path(),
        OpsOptions {
            admin_token: Some(given.into()),
            ..OpsOptions::default()
        },
    )
    .await;
    assert!(running.admin_protected);
    let addr = running.addr;
    tokio::task::spawn_blocking(move || {
        refused(
            &control(addr, &[], &["set", "starrocks:*=manual"]),
            "needs its admin token",
        );
        refused(
            &control(addr, &[], &["rules", "--admin-token", "not-the-token"]),
            "refused the admin token given",
        );
        let set = control(
            addr,
            &[],
            &["set", "starrocks:*=manual", "--admin-token", given],
        );
        assert_eq!(succeeded(&set)["rule"]["rule"], "starrocks:*=manual");
        let listed = control(addr, &[("CLOUDTWIN_ADMIN_TOKEN", given)], &["rules"]);
        assert_eq!(
            succeeded(&listed)["rules"][0]["rule"],
            "starrocks:*=manual",
            "the refused calls changed nothing; the accepted one set the rule"
        );
    })
    .await
    .unwrap();
    running.stop().await;

    // A server that generated its token: --data-dir reads the one it saved.
    let generated = start_with("0.0.0.0:0", dir.path(), OpsOptions::default()).await;
    assert!(generated.generated_admin_token.is_some());
    let addr = generated.addr;
    let data_dir = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let data_dir = data_dir.to_str().unwrap();
        let jobs = control(addr, &[], &["jobs", "--data-dir", data_dir]);
        assert_eq!(succeeded(&jobs), json!({"jobs": []}));
        let from_env = control(addr, &[("CLOUDTWIN_DATA_DIR", data_dir)], &["clear"]);
        assert_eq!(succeeded(&from_env), json!({"cleared": 0}));
        // A given token wins over the file, and a stale file says where it came from.
        refused(
            &control(
                addr,
                &[],
                &["rules", "--data-dir", data_dir, "--admin-token", given],
            ),
            "refused the admin token given",
        );
        overwrite_token(Path::new(data_dir), "stale");
        refused(
            &control(addr, &[], &["rules", "--data-dir", data_dir]),
            "refused the admin token read from",
        );
    })
    .await
    .unwrap();
    generated.stop().await;
}

fn overwrite_token(data_dir: &Path, token: &str) {
    std::fs::write(data_dir.join(ADMIN_TOKEN_FILE), token).unwrap();
}
