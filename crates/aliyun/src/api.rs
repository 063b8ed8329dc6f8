//! What a product implements to be served over the Alibaba dialect.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cloudtwin_core::Caller;
use serde_json::Value;

use crate::AliError;

/// One operation of a product's SDK: the action name and where the SDK sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub action: &'static str,
    pub method: &'static str,
    /// The SDK's pathname (`/` for RPC-style APIs); `{name}` segments are path parameters.
    pub path: &'static str,
}

/// A request's parameters, decoded, with the transport taken away.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Query parameters (for RPC, the form body's too).
    pub query: BTreeMap<String, String>,
    /// The JSON body, or `Null` when there is none or the operation decodes its own
    /// ([`AliyunApi::decodes_own_body`]).
    pub body: Value,
    /// The JSON body as received (empty when there is none).
    pub json: Vec<u8>,
}

impl Input {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// One call, authenticated and routed.
#[derive(Debug)]
pub struct Call<'a> {
    pub caller: &'a Caller,
    pub request_id: &'a str,
    /// The Host header as received (Havenask takes its region from it).
    pub host: &'a str,
    pub operation: &'a Operation,
    /// The path parameters, decoded, named as in the operation's `{name}` segments.
    pub path_params: BTreeMap<String, String>,
    pub input: Input,
}

impl Call<'_> {
    /// A path parameter by the name its operation's template gives it.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params.get(name).map(String::as_str)
    }
}

#[async_trait]
pub trait AliyunApi: Send + Sync + 'static {
    /// The API version the SDK sends in `x-acs-version`.
    fn version(&self) -> &'static str;
    /// The product's name in fault rules and metrics (`starrocks`); the version by default.
    fn product(&self) -> &'static str {
        self.version()
    }
    /// Every operation of the product's SDK, built or not.
    fn operations(&self) -> &'static [Operation];
    /// Whether `action` decodes [`Input::json`] straight into its own types: the gateway
    /// then leaves [`Input::body`] `Null` instead of building a `Value` nobody reads. Such
    /// an operation answers a body that is not JSON with [`AliError::body_not_json`].
    fn decodes_own_body(&self, _action: &str) -> bool {
        false
    }
    /// Answers with the whole success body (the product's envelope, request id included).
    /// Operations not built yet answer [`AliError::not_implemented`].
    async fn call(&self, call: Call<'_>) -> Result<Value, AliError>;
}
