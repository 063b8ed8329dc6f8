//! Starts the real server on port 0 and talks to it with ACS3-signed HTTP requests.

#![allow(dead_code)]

pub mod huawei;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use cloudtwin_aliyun::signature::{sign_acs3, SignedRequest};
use cloudtwin_core::Lifecycle;
use cloudtwin_server::{Config, OpsOptions, Running};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const AK: &str = "LTAItestkey0000000001";
pub const SK: &str = "test-secret-0000000000000001";
pub const VERSION: &str = "2022-10-19";

pub struct TestServer {
    pub running: Option<Running>,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

pub async fn start(lifecycle: Lifecycle) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let running = cloudtwin_server::start(Config {
        access_key: Some((AK.into(), SK.into())),
        ..Config::new("127.0.0.1:0", dir.path(), lifecycle)
    })
    .await
    .unwrap();
    TestServer {
        addr: running.addr,
        running: Some(running),
        dir,
    }
}

/// A server on `listen` (such as `0.0.0.0:0`, beyond loopback) with the admin credential
/// and start-up faults of `ops`, keeping its state in `dir`.
pub async fn start_with(listen: &str, dir: &std::path::Path, ops: OpsOptions) -> Running {
    cloudtwin_server::start_with_options(
        Config {
            access_key: Some((AK.into(), SK.into())),
            ..Config::new(listen, dir, Lifecycle::Instant)
        },
        None,
        ops,
    )
    .await
    .unwrap()
}

/// One request, as the SDK would build it, with knobs to break it.
pub struct Req {
    pub method: &'static str,
    /// `x-acs-version`; StarRocks' unless changed.
    pub version: &'static str,
    pub action: &'static str,
    pub path: &'static str,
    pub query: String,
    pub body: Option<String>,
    pub ak: String,
    pub sk: String,
    pub date: String,
    pub nonce: String,
    pub sign: bool,
    pub tamper_body_after_signing: bool,
}

fn acs_date(offset_secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    t.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap()
}

pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Req {
    pub fn new(action: &'static str, path: &'static str) -> Self {
        Req {
            method: "POST",
            version: VERSION,
            action,
            path,
            query: String::new(),
            body: None,
            ak: AK.into(),
            sk: SK.into(),
            date: acs_date(0),
            nonce: nonce(),
            sign: true,
            tamper_body_after_signing: false,
        }
    }

    pub fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    pub fn method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }

    pub fn query(mut self, q: &str) -> Self {
        self.query = q.into();
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self
    }

    pub fn date_offset(mut self, secs: i64) -> Self {
        self.date = acs_date(secs);
        self
    }

    /// Sends it; answers the status and the JSON body.
    pub fn send(&self, addr: SocketAddr) -> (u16, Value) {
        let host = addr.to_string();
        let body = self.body.clone().unwrap_or_default();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host.clone()),
            ("x-acs-version".into(), self.version.into()),
            ("x-acs-action".into(), self.action.into()),
            ("x-acs-date".into(), self.date.clone()),
            ("x-acs-signature-nonce".into(), self.nonce.clone()),
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
        if self.sign {
            let auth = sign_acs3(
                &SignedRequest {
                    method: self.method,
                    path: self.path,
                    raw_query: &self.query,
                    headers: &headers,
                    body: body.as_bytes(),
                },
                &self.ak,
                &self.sk,
            );
            headers.push(("authorization".into(), auth));
        }
        let body = if self.tamper_body_after_signing {
            body.replace("c1", "c2")
        } else {
            body
        };
        let target = if self.query.is_empty() {
            self.path.to_string()
        } else {
            format!("{}?{}", self.path, self.query)
        };
        raw_http(addr, self.method, &target, &headers, body.as_bytes())
    }
}

pub fn raw_http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, Value) {
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
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = decode_chunked_if_needed(head, body);
    let json = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, json)
}

fn decode_chunked_if_needed(head: &str, body: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

/// The seed page's own create request (PascalCase outside, camelCase in node groups).
pub fn seed_create() -> Value {
    serde_json::json!({
        "AdminPassword": "password_example", "AutoRenew": true,
        "BackendNodeGroups": [{"cu": 8, "diskNumber": 1, "residentNodeNumber": 3, "specType": "standard",
            "storagePerformanceLevel": "pl1", "storageSize": 100, "zoneId": "cn-hangzhou-i"}],
        "Duration": 1, "Encrypted": false,
        "FrontendNodeGroups": [{"cu": 8, "diskNumber": 1, "residentNodeNumber": 3, "specType": "standard",
            "storagePerformanceLevel": "pl1", "storageSize": 100, "zoneId": "cn-hangzhou-i"}],
        "InstanceName": "c1", "OssAccessingRoleName": "AliyunEMRStarRocksAccessingOSSRole",
        "PackageType": "official", "PayType": "prePaid", "PricingCycle": "Month", "RegionId": "cn-hangzhou",
        "ResourceGroupId": "rg-aekzllkih7jqxxx", "RunMode": "shared_data", "Tags": [{"Key": "k1", "Value": "v1"}],
        "VSwitches": [{"VswId": "vsw-bp19mlh98tm9teyyd****", "ZoneId": "cn-hangzhou-i"}],
        "Version": "3", "VpcId": "vpc-bp1fll2mci6d7pw8m****", "ZoneId": "cn-hangzhou-i"
    })
}
