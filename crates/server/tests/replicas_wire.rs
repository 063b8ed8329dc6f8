//! Two servers on one PostgreSQL database, as replicas behind a load balancer: a signature
//! nonce one of them accepted is refused by the other, and while the database is cut off
//! both dialects answer 503 in their own envelopes (snapshots), then serve again by
//! themselves. Skipped loudly without a PostgreSQL server (see `cloudtwin_store_postgres::testing`).

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudtwin_core::{IdSource, Lifecycle, RandomIds};
use cloudtwin_huawei::project_id_for;
use cloudtwin_server::{Config, Running};
use cloudtwin_store_postgres::testing::{tcp_upstream, with_db};
use cloudtwin_store_postgres::PostgresConfig;
use common::{Req, AK, SK};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const DESCRIBE: (&str, &str) = ("DescribeInstances", "/webapi/starrocks/describeInstances");

/// A loopback proxy to PostgreSQL. Cut, it closes every connection and each new one at
/// once, as when the database host goes away.
struct CutProxy {
    port: u16,
    cut: Arc<Mutex<bool>>,
    pumps: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl CutProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(Mutex::new(false));
        let pumps: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (flag, live) = (cut.clone(), pumps.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *flag.lock().unwrap() {
                    continue; // dropped: closed at once
                }
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let pump = tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                live.lock().unwrap().push(pump.abort_handle());
            }
        })
        .abort_handle();
        Self {
            port,
            cut,
            pumps,
            accept,
        }
    }

    fn sever(&self) {
        *self.cut.lock().unwrap() = true;
        for pump in self.pumps.lock().unwrap().drain(..) {
            pump.abort();
        }
    }

    fn restore(&self) {
        *self.cut.lock().unwrap() = false;
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.sever();
        self.accept.abort();
    }
}

/// The test database's URL, reached through the proxy on `port`.
fn url_via(config: &PostgresConfig, port: u16) -> String {
    let user = config.get_user().expect("the test URL names a user");
    let password = config
        .get_password()
        .map(|p| format!(":{}", String::from_utf8_lossy(p)))
        .unwrap_or_default();
    let db = config.get_dbname().expect("the test database");
    format!("postgres://{user}{password}@127.0.0.1:{port}/{db}")
}

async fn replica(url: &str, master_key: &str) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let running = cloudtwin_server::start_with_store(
        Config {
            master_key: Some(master_key.into()),
            access_key: Some((AK.into(), SK.into())),
            ..Config::new("127.0.0.1:0", dir.path(), Lifecycle::Instant)
        },
        Some(url),
    )
    .await
    .unwrap();
    (running, dir)
}

/// Request ids, hosts and the driver's own words for the failure vary between runs.
fn stable(mut body: Value) -> Value {
    for (key, label) in [
        ("RequestId", "[request-id]"),
        ("HostId", "[host]"),
        ("request_id", "[request-id]"),
    ] {
        if body.get(key).is_some() {
            body[key] = json!(label);
        }
    }
    for key in ["Message", "error_msg"] {
        if let Some(Value::String(m)) = body.get_mut(key) {
            if let Some((head, _)) = m.split_once(": ") {
                *m = format!("{head}: [why the database cannot be reached]");
            }
        }
    }
    body
}

fn huawei_list(addr: SocketAddr, project: &str) -> common::huawei::Answer {
    let mut req = common::huawei::Req::new("GET", &format!("/v2/{project}/instances"));
    req.ak = AK.into();
    req.sk = SK.into();
    req.send(addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_nonces_and_answer_503_while_the_database_is_away() {
    with_db("replica wire tests", |config| async move {
        let Some(upstream) = tcp_upstream(&config) else {
            return;
        };
        let proxy = CutProxy::start(upstream).await;
        let url = url_via(&config, proxy.port);
        let master_key = RandomIds.hex(64);
        let (a, _dir_a) = replica(&url, &master_key).await;
        let (b, _dir_b) = replica(&url, &master_key).await;
        let (a_addr, b_addr) = (a.addr, b.addr);
        let opened = cloudtwin_server::open_store(_dir_a.path(), Some(&master_key), Some(&url))
            .await
            .unwrap();
        let account = opened
            .store
            .account_by_name("default")
            .await
            .unwrap()
            .unwrap();
        let project = project_id_for(&account.id, "cn-north-4");

        let replayed = tokio::task::spawn_blocking(move || {
            let once = Req::new(DESCRIBE.0, DESCRIBE.1);
            let first = once.send(a_addr);
            assert_eq!(first.0, 200, "{}", first.1);
            // The very same signed request (same nonce and date) at the other replica.
            once.send(b_addr)
        })
        .await
        .unwrap();
        assert_eq!(replayed.0, 400, "{}", replayed.1);
        assert_eq!(replayed.1["Code"], "SignatureNonceUsed");

        proxy.sever();
        let project_now = project.clone();
        let (ali, hw, waited) = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let ali = Req::new(DESCRIBE.0, DESCRIBE.1).send(b_addr);
            let hw = huawei_list(a_addr, &project_now);
            (ali, hw, started.elapsed())
        })
        .await
        .unwrap();
        assert!(waited < Duration::from_secs(12), "took {waited:?}");
        assert_eq!(ali.0, 503, "{}", ali.1);
        assert_eq!(ali.1["Code"], "ServiceUnavailable");
        insta::assert_json_snapshot!("alibaba_database_unreachable", stable(ali.1));
        assert_eq!(hw.status, 503, "{}", hw.body);
        assert_eq!(hw.body["error_code"], "APIGW.0202");
        assert_eq!(
            hw.body["request_id"].as_str(),
            hw.header("x-request-id"),
            "the request id in the body and the header"
        );
        insta::assert_json_snapshot!("huawei_database_unreachable", stable(hw.body));

        // Back: both replicas serve again without a restart.
        proxy.restore();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let project_now = project.clone();
            let (ali, hw) = tokio::task::spawn_blocking(move || {
                (
                    Req::new(DESCRIBE.0, DESCRIBE.1).send(b_addr).0,
                    huawei_list(a_addr, &project_now).status,
                )
            })
            .await
            .unwrap();
            if (ali, hw) == (200, 200) {
                break;
            }
            assert!(Instant::now() < deadline, "still {ali} and {hw}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        drop(opened);
        a.stop().await;
        b.stop().await;
    })
    .await;
}
