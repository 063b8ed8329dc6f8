//! Alibaba's error envelope: HTTP 4xx/5xx with `{"RequestId","HostId","Code","Message"}`,
//! which every Alibaba SDK turns into an exception carrying the code.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl AliError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// A required parameter is absent.
    pub fn missing(param: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!("The input parameter \"{param}\" that is mandatory for processing this request is not supplied."),
        )
    }

    /// The request's body does not parse as JSON.
    pub fn body_not_json(e: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "InvalidParameter.Body",
            format!("The request body is not valid JSON: {e}"),
        )
    }

    /// The SDK has this operation but cloudtwin does not serve it yet.
    pub fn not_implemented(action: &str) -> Self {
        Self::new(
            501,
            "NotImplemented",
            format!("cloudtwin does not implement the operation {action} yet."),
        )
    }

    /// cloudtwin's state is out of reach for now; the SDKs may retry.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            format!("The request has failed due to a temporary failure of the server: {detail}"),
        )
    }

    /// The error for a failed lookup before the product runs.
    pub fn lookup(e: cloudtwin_core::LookupError) -> Self {
        match e {
            cloudtwin_core::LookupError::Unavailable(m) => Self::unavailable(m),
            cloudtwin_core::LookupError::Failed(m) => Self::internal(m),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("The request processing has failed due to some unknown error: {detail}"),
        )
    }

    pub fn body(&self, request_id: &str, host: &str) -> Value {
        json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": self.code,
            "Message": self.message,
        })
    }
}

impl std::fmt::Display for AliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for AliError {}
