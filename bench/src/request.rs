//! Requests as the SDKs send them.
//!
//! * StarRocks (Alibaba, ROA, `2022-10-19`): ACS3-HMAC-SHA256 over `host`, `x-acs-*` and
//!   `content-type`, like `crates/server/tests/common/mod.rs` and the Tea SDK.
//! * RocketMQ (Huawei, `huaweicloudsdkrocketmq` v2): SDK-HMAC-SHA256 over every header,
//!   `X-Project-Id` and `X-Sdk-Date` included.
//! * moto (Amazon MQ `CreateBroker`/`DescribeBroker`/`ListBrokers`): moto routes by the SigV4
//!   `Authorization` scope and never checks the signature, so it is all zeros
//!   (`shared/reference/bench-baseline.md`).

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Which API a run drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    StarRocks,
    RocketMq,
    Moto,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::StarRocks => "starrocks",
            Api::RocketMq => "rocketmq",
            Api::Moto => "moto",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Api {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "starrocks" => Ok(Api::StarRocks),
            "rocketmq" => Ok(Api::RocketMq),
            "moto" => Ok(Api::Moto),
            other => Err(format!(
                "unknown api {other:?} (starrocks, rocketmq or moto)"
            )),
        }
    }
}

/// One kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Create,
    Describe,
    List,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Create, Op::Describe, Op::List];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Describe => "describe",
            Op::List => "list",
        }
    }
}

/// A request ready for the wire. `headers` are lowercase and include `host` and, when signed,
/// `authorization`.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    /// Without `?`; may be empty.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// Path and query, as on the request line.
    pub fn target(&self) -> String {
        let mut target = Vec::new();
        self.write_target(&mut target);
        String::from_utf8(target).expect("a path and a query are text")
    }

    fn write_target(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.path.as_bytes());
        if !self.query.is_empty() {
            out.push(b'?');
            out.extend_from_slice(self.query.as_bytes());
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The whole request as HTTP/1.1 bytes, with `connection: close` (for one-shot probes).
    pub fn to_http1(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024 + self.body.len());
        self.write_http1(&mut out, true);
        out
    }

    /// Appends the request as HTTP/1.1 bytes to `out`; `close` asks the server to close the
    /// connection after its answer.
    pub fn write_http1(&self, out: &mut Vec<u8>, close: bool) {
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        self.write_target(out);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if !self.body.is_empty() || !matches!(self.method, "GET" | "HEAD" | "DELETE") {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(self.body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }
}

pub const STARROCKS_VERSION: &str = "2022-10-19";
pub const DEFAULT_HUAWEI_REGION: &str = "cn-north-4";
const USER_AGENT: &str = "cloudtwin-loadgen/0.1";

/// Credentials and addressing shared by every request of a run.
#[derive(Debug, Clone)]
pub struct Signer {
    pub access_key_id: String,
    pub access_key_secret: String,
    /// `host:port` as the client connects to it (signed as `host`).
    pub host: String,
    /// Huawei project (RocketMQ); resolved from IAM when not given.
    pub project_id: Option<String>,
    /// Huawei region for the project lookup; moto region for the SigV4 scope.
    pub region: String,
}

fn now_utc() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn acs_date(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn amz_date(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Random from a generator seeded once per thread: `Uuid::new_v4` made a getrandom(2) call
/// for every nonce and token.
fn nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn client_token() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// A create body printed once with placeholders and filled in for each request: printing a
/// `Value` tree for every request cost a tenth of the load generator's CPU. The template is
/// kept cut at its slots, so filling it is a copy of each piece.
struct BodyTemplate(std::sync::OnceLock<Template>);

/// A create body cut at its slots, in the order they come.
struct Template(Vec<Piece>);

enum Piece {
    Text(String),
    Name,
    Token,
}

const NAME_SLOT: &str = "@@name@@";
const TOKEN_SLOT: &str = "@@token@@";

impl Template {
    fn new(mut rest: &str) -> Self {
        let mut pieces = Vec::new();
        loop {
            let next = [(NAME_SLOT, Piece::Name), (TOKEN_SLOT, Piece::Token)]
                .into_iter()
                .filter_map(|(slot, piece)| rest.find(slot).map(|at| (at, slot.len(), piece)))
                .min_by_key(|&(at, ..)| at);
            let Some((at, len, piece)) = next else {
                pieces.push(Piece::Text(rest.to_owned()));
                return Self(pieces);
            };
            pieces.push(Piece::Text(rest[..at].to_owned()));
            pieces.push(piece);
            rest = &rest[at + len..];
        }
    }

    fn fill(&self, name: &str, token: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Name => push_escaped(&mut out, name),
                Piece::Token => push_escaped(&mut out, token),
            }
        }
        out
    }
}

impl BodyTemplate {
    const fn new() -> Self {
        Self(std::sync::OnceLock::new())
    }

    fn fill(&self, body: impl FnOnce(&str, &str) -> Value, name: &str, token: &str) -> Vec<u8> {
        self.0
            .get_or_init(|| Template::new(&body(NAME_SLOT, TOKEN_SLOT).to_string()))
            .fill(name, token)
    }
}

/// Appends `s` as it stands between the quotes of a JSON string.
fn push_escaped(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(s.as_bytes());
    } else {
        let quoted = Value::from(s).to_string();
        out.extend_from_slice(&quoted.as_bytes()[1..quoted.len() - 1]);
    }
}

static STARROCKS_CREATE: BodyTemplate = BodyTemplate::new();
static ROCKETMQ_CREATE: BodyTemplate = BodyTemplate::new();
static MOTO_CREATE: BodyTemplate = BodyTemplate::new();

/// The StarRocks seed page's create request, with a unique name and client token.
pub fn starrocks_create_body(name: &str, token: &str) -> Value {
    let group = json!([{"cu": 8, "diskNumber": 1, "residentNodeNumber": 3, "specType": "standard",
        "storagePerformanceLevel": "pl1", "storageSize": 100, "zoneId": "cn-hangzhou-i"}]);
    json!({
        "AdminPassword": "password_example", "AutoRenew": true,
        "BackendNodeGroups": group, "ClientToken": token,
        "Duration": 1, "Encrypted": false,
        "FrontendNodeGroups": group,
        "InstanceName": name, "OssAccessingRoleName": "AliyunEMRStarRocksAccessingOSSRole",
        "PackageType": "official", "PayType": "prePaid", "PricingCycle": "Month", "RegionId": "cn-hangzhou",
        "ResourceGroupId": "rg-aekzllkih7jqxxx", "RunMode": "shared_data", "Tags": [{"Key": "k1", "Value": "v1"}],
        "VSwitches": [{"VswId": "vsw-bp19mlh98tm9teyyd****", "ZoneId": "cn-hangzhou-i"}],
        "Version": "3", "VpcId": "vpc-bp1fll2mci6d7pw8m****", "ZoneId": "cn-hangzhou-i"
    })
}

/// `probe_rocketmq_huawei.py`'s CreatePostPaidInstanceReq, as the SDK serialises it.
pub fn rocketmq_create_body(name: &str) -> Value {
    json!({
        "name": name, "description": "", "engine": "reliability", "engine_version": "4.8.0",
        "storage_space": 600, "vpc_id": "3db8490c-4d6d-4d8f-8d3f-047b0de4c5cf",
        "subnet_id": "0a0f1fcb-f019-458d-b9e5-301867394d50",
        "security_group_id": "23c5977f-ff33-4b95-a73e-08d8a0bc4e6c",
        "available_zones": ["9f1c5806706d4c1fb0eb72f0a9b18c77"], "product_id": "c6.4u8g.cluster",
        "enterprise_project_id": "0", "ssl_enable": false,
        "storage_spec_code": "dms.physical.storage.ultra.v2", "ipv6_enable": false,
        "enable_publicip": false, "publicip_id": "", "broker_num": 1
    })
}

/// The baseline's CreateBroker body.
pub fn moto_create_body(name: &str) -> Value {
    json!({"brokerName": name, "deploymentMode": "SINGLE_INSTANCE", "engineType": "ACTIVEMQ",
        "engineVersion": "5.17.6", "hostInstanceType": "mq.t3.micro", "publiclyAccessible": false,
        "autoMinorVersionUpgrade": true,
        "users": [{"username": "admin", "password": "adminpassword123"}]})
}

impl Signer {
    /// Builds and signs one request. `name` is used by creates (unique per call), `id` by
    /// describes.
    pub fn build(&self, api: Api, op: Op, name: &str, id: &str) -> Request {
        match api {
            Api::StarRocks => self.starrocks(op, name, id),
            Api::RocketMq => self.rocketmq(op, name, id),
            Api::Moto => self.moto(op, name, id),
        }
    }

    fn starrocks(&self, op: Op, name: &str, id: &str) -> Request {
        let (action, path, query, body) = match op {
            Op::Create => (
                "CreateInstanceV1",
                "/webapi/cluster/createV1",
                String::new(),
                Some(STARROCKS_CREATE.fill(starrocks_create_body, name, &client_token())),
            ),
            Op::Describe => (
                "DescribeInstances",
                "/webapi/starrocks/describeInstances",
                format!("InstanceId={id}"),
                None,
            ),
            Op::List => (
                "DescribeInstances",
                "/webapi/starrocks/describeInstances",
                "PageNumber=1&PageSize=10".to_owned(),
                None,
            ),
        };
        let has_body = body.is_some();
        let body_bytes = body.unwrap_or_default();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.host.clone()),
            ("x-acs-version".into(), STARROCKS_VERSION.into()),
            ("x-acs-action".into(), action.into()),
            ("x-acs-date".into(), acs_date(now_utc())),
            ("x-acs-signature-nonce".into(), nonce()),
            ("accept".into(), "application/json".into()),
            (
                "x-acs-content-sha256".into(),
                hex::encode(Sha256::digest(&body_bytes)),
            ),
        ];
        if has_body {
            headers.push((
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ));
        }
        let auth = cloudtwin_aliyun::signature::sign_acs3(
            &cloudtwin_aliyun::signature::SignedRequest {
                method: "POST",
                path,
                raw_query: &query,
                headers: &headers,
                body: &body_bytes,
            },
            &self.access_key_id,
            &self.access_key_secret,
        );
        headers.push(("authorization".into(), auth));
        headers.push(("user-agent".into(), USER_AGENT.into()));
        Request {
            method: "POST",
            path: path.into(),
            query,
            headers,
            body: body_bytes,
        }
    }

    /// A Huawei request signed as huaweicloudsdkcore signs it; `project` goes in `X-Project-Id`.
    pub fn huawei(
        &self,
        method: &'static str,
        path: String,
        query: String,
        project: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Request {
        let body = body.unwrap_or_default();
        let now_ms = (now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.host.clone()),
            ("user-agent".into(), USER_AGENT.into()),
            ("content-type".into(), "application/json".into()),
            (
                "x-sdk-date".into(),
                cloudtwin_huawei::signature::format_sdk_date(now_ms),
            ),
        ];
        if let Some(p) = project {
            headers.push(("x-project-id".into(), p.to_owned()));
        }
        let auth = cloudtwin_huawei::signature::sign(
            &cloudtwin_huawei::signature::SignedRequest {
                method,
                path: &path,
                raw_query: &query,
                headers: &headers,
                body: &body,
            },
            &self.access_key_id,
            &self.access_key_secret,
        );
        headers.push(("authorization".into(), auth));
        Request {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    /// IAM `KeystoneListProjects?name=<region>`: how the SDK finds the project id when the
    /// credentials carry none.
    pub fn project_lookup(&self) -> Request {
        self.huawei(
            "GET",
            "/v3/projects".into(),
            format!("name={}", self.region),
            None,
            None,
        )
    }

    fn rocketmq(&self, op: Op, name: &str, id: &str) -> Request {
        let project = self.project_id.as_deref().unwrap_or("{project_id}");
        let base = format!("/v2/{project}/instances");
        match op {
            Op::Create => self.huawei(
                "POST",
                base,
                String::new(),
                Some(project),
                Some(ROCKETMQ_CREATE.fill(|name, _| rocketmq_create_body(name), name, "")),
            ),
            Op::Describe => self.huawei(
                "GET",
                format!("{base}/{id}"),
                String::new(),
                Some(project),
                None,
            ),
            Op::List => self.huawei("GET", base, "limit=10&offset=0".into(), Some(project), None),
        }
    }

    fn moto(&self, op: Op, name: &str, id: &str) -> Request {
        let t = now_utc();
        let date = amz_date(t);
        let (method, path, body) = match op {
            Op::Create => (
                "POST",
                "/v1/brokers".to_owned(),
                MOTO_CREATE.fill(|name, _| moto_create_body(name), name, ""),
            ),
            Op::Describe => ("GET", format!("/v1/brokers/{id}"), Vec::new()),
            Op::List => ("GET", "/v1/brokers".to_owned(), Vec::new()),
        };
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/mq/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={}",
            self.access_key_id,
            &date[..8],
            self.region,
            "0".repeat(64)
        );
        Request {
            method,
            path,
            query: if op == Op::List {
                "maxResults=10".into()
            } else {
                String::new()
            },
            headers: vec![
                ("host".into(), self.host.clone()),
                ("content-type".into(), "application/json".into()),
                ("x-amz-date".into(), date),
                ("user-agent".into(), USER_AGENT.into()),
                ("authorization".into(), auth),
            ],
            body,
        }
    }
}

/// The id a create answered with: StarRocks `Data.InstanceId`, RocketMQ `instance_id`,
/// moto `brokerId` (the no-op server answers all three).
pub fn created_id(api: Api, body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let id = match api {
        Api::StarRocks => v.get("Data")?.get("InstanceId")?,
        Api::RocketMq => v.get("instance_id")?,
        Api::Moto => v.get("brokerId")?,
    };
    id.as_str().map(str::to_owned)
}

/// The project id of `region` in an IAM `KeystoneListProjects` answer.
pub fn project_from_listing(body: &[u8], region: &str) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("projects")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(region))?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

/// Small, fast, deterministic per-worker randomness (xorshift64*): picks ids and mixed ops
/// without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) % n as u64) as usize
    }
}

/// The mixed workload: 20 % create, 70 % describe, 10 % list.
pub fn mixed_op(rng: &mut Rng) -> Op {
    match rng.below(10) {
        0 | 1 => Op::Create,
        9 => Op::List,
        _ => Op::Describe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "LTAItestkey0000000001";
    const SK: &str = "test-secret-0000000000000001";

    fn signer() -> Signer {
        Signer {
            access_key_id: AK.into(),
            access_key_secret: SK.into(),
            host: "127.0.0.1:9700".into(),
            project_id: Some(cloudtwin_huawei::project_id_for("acct", "cn-north-4")),
            region: "cn-north-4".into(),
        }
    }

    fn verify_acs3(r: &Request) -> Result<(), String> {
        let sr = cloudtwin_aliyun::signature::SignedRequest {
            method: r.method,
            path: &r.path,
            raw_query: &r.query,
            headers: &r.headers,
            body: &r.body,
        };
        let claim = cloudtwin_aliyun::signature::parse_claim(&sr).map_err(|e| e.to_string())?;
        assert_eq!(claim.access_key_id, AK);
        assert!(claim.nonce.is_some());
        let ts = claim.timestamp_unix.expect("x-acs-date");
        assert!((ts - time::OffsetDateTime::now_utc().unix_timestamp()).abs() < 60);
        cloudtwin_aliyun::signature::verify(&sr, &claim, SK).map_err(|e| e.to_string())
    }

    fn verify_huawei(r: &Request) -> Result<(), String> {
        let sr = cloudtwin_huawei::signature::SignedRequest {
            method: r.method,
            path: &r.path,
            raw_query: &r.query,
            headers: &r.headers,
            body: &r.body,
        };
        let claim = cloudtwin_huawei::signature::parse_claim(&sr).map_err(|e| e.to_string())?;
        assert_eq!(claim.access_key_id, AK);
        let ts = cloudtwin_huawei::signature::parse_sdk_date(&claim.sdk_date).unwrap();
        assert!((ts - time::OffsetDateTime::now_utc().unix_timestamp()).abs() < 60);
        cloudtwin_huawei::signature::verify(&sr, &claim, SK).map_err(|e| e.to_string())
    }

    #[test]
    fn starrocks_requests_verify_with_the_server_verifier() {
        let s = signer();
        for op in Op::ALL {
            let r = s.build(Api::StarRocks, op, "bench-1", "c-0123456789abcdef");
            verify_acs3(&r).unwrap_or_else(|e| panic!("{op:?}: {e}"));
            assert_eq!(r.header("host"), Some("127.0.0.1:9700"));
        }
        let mut r = s.build(Api::StarRocks, Op::Create, "bench-1", "");
        r.body[3] ^= 1;
        assert!(verify_acs3(&r).is_err(), "a changed body must not verify");
        let mut r = s.build(Api::StarRocks, Op::Create, "bench-1", "");
        let mut wrong = signer();
        wrong.access_key_secret = "other".into();
        r.headers = wrong
            .build(Api::StarRocks, Op::List, "", "")
            .headers
            .into_iter()
            .filter(|(n, _)| n == "authorization")
            .chain(r.headers.into_iter().filter(|(n, _)| n != "authorization"))
            .collect();
        assert!(verify_acs3(&r).is_err());
    }

    #[test]
    fn filled_bodies_are_the_documented_ones() {
        let s = signer();
        // The plain name takes the template's fast path; the odd one needs escaping.
        for name in ["bench-7-42", "bench-\"quoted\"\\-ü\n"] {
            for (api, expected) in [
                (Api::RocketMq, rocketmq_create_body(name)),
                (Api::Moto, moto_create_body(name)),
            ] {
                let r = s.build(api, Op::Create, name, "");
                let sent: Value = serde_json::from_slice(&r.body).unwrap();
                assert_eq!(sent, expected, "{api}");
            }
            // Its template holds the token before the name.
            let r = s.build(Api::StarRocks, Op::Create, name, "");
            let sent: Value = serde_json::from_slice(&r.body).unwrap();
            let token = sent["ClientToken"].as_str().unwrap();
            assert_eq!(token.len(), 36);
            assert_eq!(sent, starrocks_create_body(name, token));
        }
    }

    #[test]
    fn starrocks_create_is_unique_and_fresh() {
        let s = signer();
        let a = s.build(Api::StarRocks, Op::Create, "bench-a", "");
        let b = s.build(Api::StarRocks, Op::Create, "bench-b", "");
        assert_ne!(
            a.header("x-acs-signature-nonce"),
            b.header("x-acs-signature-nonce")
        );
        let (va, vb): (Value, Value) = (
            serde_json::from_slice(&a.body).unwrap(),
            serde_json::from_slice(&b.body).unwrap(),
        );
        assert_eq!(va["InstanceName"], "bench-a");
        assert_ne!(va["ClientToken"], vb["ClientToken"]);
        assert_eq!(a.path, "/webapi/cluster/createV1");
        let d = s.build(Api::StarRocks, Op::Describe, "", "c-1");
        assert_eq!(
            d.target(),
            "/webapi/starrocks/describeInstances?InstanceId=c-1"
        );
        assert_eq!(
            s.build(Api::StarRocks, Op::List, "", "").query,
            "PageNumber=1&PageSize=10"
        );
    }

    #[test]
    fn rocketmq_requests_verify_with_the_server_verifier() {
        let s = signer();
        let project = s.project_id.clone().unwrap();
        for op in Op::ALL {
            let r = s.build(Api::RocketMq, op, "bench-1", "a1b2");
            verify_huawei(&r).unwrap_or_else(|e| panic!("{op:?}: {e}"));
            assert_eq!(r.header("x-project-id"), Some(project.as_str()));
            assert!(r.path.starts_with(&format!("/v2/{project}/instances")));
        }
        let c = s.build(Api::RocketMq, Op::Create, "bench-9", "");
        let v: Value = serde_json::from_slice(&c.body).unwrap();
        assert_eq!(v["name"], "bench-9");
        assert_eq!(v["engine"], "reliability");
        assert_eq!(
            s.build(Api::RocketMq, Op::Describe, "", "x1").path,
            format!("/v2/{project}/instances/x1")
        );
        verify_huawei(&s.project_lookup()).unwrap();
        let mut bad = s.build(Api::RocketMq, Op::Create, "bench-1", "");
        bad.body.push(b' ');
        assert!(verify_huawei(&bad).is_err());
    }

    #[test]
    fn moto_requests_route_by_the_sigv4_scope() {
        let mut s = signer();
        s.region = "us-east-1".into();
        let r = s.build(Api::Moto, Op::Create, "b-1", "");
        let auth = r.header("authorization").unwrap();
        assert!(auth.contains("/us-east-1/mq/aws4_request"), "{auth}");
        assert!(auth.ends_with(&"0".repeat(64)));
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["brokerName"], "b-1");
        assert_eq!(
            s.build(Api::Moto, Op::Describe, "", "abc").path,
            "/v1/brokers/abc"
        );
    }

    #[test]
    fn ids_are_read_from_each_answer_shape() {
        let sr = br#"{"RequestId":"r","Success":true,"Data":{"InstanceId":"c-1","OrderId":0}}"#;
        assert_eq!(created_id(Api::StarRocks, sr).as_deref(), Some("c-1"));
        assert_eq!(
            created_id(Api::RocketMq, br#"{"instance_id":"i-2"}"#).as_deref(),
            Some("i-2")
        );
        assert_eq!(
            created_id(Api::Moto, br#"{"brokerArn":"arn","brokerId":"b3"}"#).as_deref(),
            Some("b3")
        );
        assert_eq!(created_id(Api::Moto, b"not json"), None);
        let listing =
            br#"{"projects":[{"id":"p1","name":"cn-east-3"},{"id":"p2","name":"cn-north-4"}]}"#;
        assert_eq!(
            project_from_listing(listing, "cn-north-4").as_deref(),
            Some("p2")
        );
    }

    #[test]
    fn http1_bytes_carry_headers_and_body() {
        let r = signer().build(Api::StarRocks, Op::Create, "n", "");
        let bytes = r.to_http1();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("POST /webapi/cluster/createV1 HTTP/1.1\r\n"));
        assert!(text.contains(&format!("content-length: {}\r\n", r.body.len())));
        assert!(text.ends_with(std::str::from_utf8(&r.body).unwrap()));
    }

    #[test]
    fn mixed_is_mostly_describes() {
        let mut rng = Rng::new(7);
        let mut n = [0usize; 3];
        for _ in 0..10_000 {
            n[mixed_op(&mut rng) as usize] += 1;
        }
        assert!((1_700..2_300).contains(&n[0]), "{n:?}");
        assert!((6_500..7_500).contains(&n[1]), "{n:?}");
        assert!((700..1_300).contains(&n[2]), "{n:?}");
    }
}
