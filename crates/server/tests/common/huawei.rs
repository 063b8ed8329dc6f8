//! A Huawei client for the wire tests: SDK-HMAC-SHA256 requests signed as huaweicloudsdkcore
//! does, over a plain TCP connection to the real server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use cloudtwin_huawei::signature::{format_sdk_date, sign, SignedRequest};
use serde_json::{json, Value};

pub const AK: &str = "HPUAtestkey0000000001";
pub const SK: &str = "test-secret-0000000000000001";

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One Huawei request, signed like the SDK unless told otherwise.
pub struct Req {
    pub method: &'static str,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub ak: String,
    pub sk: String,
    pub date_offset_s: i64,
    pub sign: bool,
}

impl Req {
    pub fn new(method: &'static str, path: &str) -> Self {
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
    pub fn header(mut self, n: &str, v: &str) -> Self {
        self.headers.push((n.to_ascii_lowercase(), v.into()));
        self
    }
    pub fn query_str(mut self, q: &str) -> Self {
        self.query = q.into();
        self
    }
    pub fn json(mut self, body: Value) -> Self {
        self.body = body.to_string();
        self
    }
    pub fn unsigned(mut self) -> Self {
        self.sign = false;
        self
    }
    pub fn send(&self, addr: SocketAddr) -> Answer {
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

pub fn raw_http(
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
pub fn stable(mut body: Value, ids: &[(&str, &str)]) -> Value {
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

/// Checks the status, the code and the request id; answers the body to snapshot, ids masked.
pub fn check_error(
    name: &str,
    got: Answer,
    status: u16,
    code: &str,
    ids: &[(&str, &str)],
) -> Value {
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
    stable(got.body, ids)
}
