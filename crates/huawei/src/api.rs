//! What a product implements to be served over the Huawei dialect.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use async_trait::async_trait;
use cloudtwin_core::{Body, Caller};
use serde_json::Value;

use crate::HwError;

/// One operation of a product's SDK: where the SDK sends it and its SDK name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// The SDK's `resource_path`, e.g. `/v3/{project_id}/instances/{instance_id}`.
    pub path: &'static str,
    /// The SDK operation's name, e.g. `KeystoneListProjects`.
    pub operation: &'static str,
    /// Served without credentials (the request authenticates itself, like a password
    /// token request). Credentials, when sent, are still checked.
    pub public: bool,
}

impl Route {
    pub const fn new(method: &'static str, path: &'static str, operation: &'static str) -> Self {
        Self {
            method,
            path,
            operation,
            public: false,
        }
    }

    pub const fn public(method: &'static str, path: &'static str, operation: &'static str) -> Self {
        Self {
            method,
            path,
            operation,
            public: true,
        }
    }
}

/// The project a call acts in, checked to belong to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub region: String,
}

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// SDK-HMAC-SHA256 with an access key (`Caller::access_key_id`).
    Signature,
    /// An IAM token (`X-Auth-Token`); `Caller::access_key_id` is empty.
    Token {
        user_id: String,
        project_id: Option<String>,
    },
}

/// One call, authenticated and routed.
#[derive(Debug)]
pub struct Call<'a> {
    /// `None` only on a [`Route::public`] route reached without credentials.
    pub caller: Option<&'a Caller>,
    pub auth: Option<&'a AuthMethod>,
    pub request_id: &'a str,
    pub route: &'a Route,
    /// From the path's `{project_id}`, else `X-Project-Id`, else the token's scope.
    pub project: Option<&'a Project>,
    /// The path's `{params}`, percent-decoded.
    pub path_params: BTreeMap<String, String>,
    /// Query pairs in wire order, decoded; a key may repeat.
    pub query: Vec<(String, String)>,
    pub raw_body: &'a [u8],
    /// `raw_body` as JSON, parsed on first use ([`Call::body`]): an operation that decodes
    /// its own type from `raw_body` never builds the tree (bench finding 84).
    pub(crate) parsed_body: OnceLock<Result<Value, String>>,
    /// Headers as received, names lowercase.
    pub headers: &'a [(String, String)],
}

impl Call<'_> {
    /// The verified caller, or 401 when a public route was reached without credentials.
    pub fn caller(&self) -> Result<&Caller, HwError> {
        self.caller.ok_or_else(|| {
            HwError::unauthenticated(
                "the request carries neither an SDK-HMAC-SHA256 signature nor an X-Auth-Token",
            )
        })
    }

    /// The project the call acts in, or 400 when the request names none.
    pub fn project(&self) -> Result<&Project, HwError> {
        self.project.ok_or_else(|| {
            HwError::bad_request(
                "the request names no project: put one in the path or in X-Project-Id",
            )
        })
    }

    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params.get(name).map(String::as_str)
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body, `Null` when none was sent; or why a body that was sent is not JSON.
    pub fn body(&self) -> Result<&Value, &str> {
        self.parsed_body
            .get_or_init(|| parse_body(self.raw_body))
            .as_ref()
            .map_err(String::as_str)
    }

    /// The JSON body, or 400 `APIGW.0201` if it was sent but is not JSON.
    pub fn json(&self) -> Result<&Value, HwError> {
        self.body()
            .map_err(|e| HwError::bad_request(format!("the body is not valid JSON: {e}")))
    }
}

fn parse_body(raw: &[u8]) -> Result<Value, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    cloudtwin_core::body::from_json_bytes(raw).map_err(|e| e.to_string())
}

/// A success answer. Huawei SDKs accept any status outside 400–599.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Extra response headers (e.g. `X-Subject-Token`).
    pub headers: Vec<(String, String)>,
    /// `None` answers an empty body.
    pub body: Option<Body>,
}

impl Reply {
    pub fn ok(body: impl Into<Body>) -> Self {
        Self::with_status(200, body)
    }

    pub fn created(body: impl Into<Body>) -> Self {
        Self::with_status(201, body)
    }

    pub fn with_status(status: u16, body: impl Into<Body>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body.into()),
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

#[async_trait]
pub trait HuaweiApi: Send + Sync + 'static {
    /// For logs: `iam`, `gaussdb`, `rocketmq`.
    fn service(&self) -> &'static str;
    /// The product's name in fault rules and metrics; the service by default.
    fn product(&self) -> &'static str {
        self.service()
    }
    /// Every operation of the product's SDK, built or not. Routing prefers literal path
    /// segments over `{params}`, so `/v3/projects` wins over `/v3/{project_id}`.
    fn routes(&self) -> &'static [Route];
    /// Answers one call. Operations not built yet answer [`HwError::not_implemented`].
    async fn call(&self, call: Call<'_>) -> Result<Reply, HwError>;
}
