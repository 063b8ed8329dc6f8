//! Huawei's error envelope: HTTP 4xx/5xx with `{"error_code","error_msg"}` in the body and
//! the request id in the `X-Request-Id` header, which is where huaweicloudsdkcore reads them
//! (`DefaultExceptionHandler.handle_exception`, `sdk-contract.md` §2.5). API Gateway's own
//! errors (`APIGW.*`) also carry `request_id` in the body, as Huawei's documentation shows.
//! IAM's Keystone token API answers Keystone's `{"error":{"code","message","title"}}`, which
//! the SDK reads through its nested fallback.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HwError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// `Some(title)` for a Keystone-style body (IAM token API).
    pub keystone_title: Option<&'static str>,
}

/// The prefix of every API Gateway authentication message.
pub const AUTH_PREFIX: &str = "Incorrect IAM authentication information";

impl HwError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            keystone_title: None,
        }
    }

    /// 401 `APIGW.0301`: the credentials (signature, date, token, key, project header) fail.
    pub fn unauthenticated(cause: impl std::fmt::Display) -> Self {
        Self::new(401, "APIGW.0301", format!("{AUTH_PREFIX}: {cause}"))
    }

    /// 403 `APIGW.0302`: authenticated, but not allowed to act on this project.
    pub fn forbidden(cause: impl std::fmt::Display) -> Self {
        Self::new(
            403,
            "APIGW.0302",
            format!("The IAM user is not authorized to access the API: {cause}"),
        )
    }

    /// 404 `APIGW.0101`: no API at this method and path.
    pub fn api_not_found() -> Self {
        Self::new(
            404,
            "APIGW.0101",
            "The API does not exist or has not been published in the environment",
        )
    }

    /// 400 `APIGW.0201`: the request itself cannot be read (e.g. a body that is not JSON).
    pub fn bad_request(cause: impl std::fmt::Display) -> Self {
        Self::new(400, "APIGW.0201", format!("Request error: {cause}"))
    }

    /// 501: the SDK has this operation but cloudtwin does not serve it yet.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            501,
            "APIGW.0501",
            format!("cloudtwin does not implement the operation {operation} yet"),
        )
    }

    /// 503: cloudtwin's state is out of reach for now; the SDKs may retry.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        Self::new(
            503,
            "APIGW.0202",
            format!("The backend is unavailable: {detail}"),
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
            "APIGW.0103",
            format!("The backend failed to process the request: {detail}"),
        )
    }

    /// A Keystone-style error (`{"error":{"code":401,"message":…,"title":"Unauthorized"}}`).
    pub fn keystone(status: u16, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: status.to_string(),
            message: message.into(),
            keystone_title: Some(title),
        }
    }

    pub fn body(&self, request_id: &str) -> Value {
        if let Some(title) = self.keystone_title {
            return json!({"error": {"code": self.status, "message": self.message, "title": title}});
        }
        if self.code.starts_with("APIGW.") {
            json!({"error_code": self.code, "error_msg": self.message, "request_id": request_id})
        } else {
            json!({"error_code": self.code, "error_msg": self.message})
        }
    }
}

impl std::fmt::Display for HwError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for HwError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let e = HwError::unauthenticated("verify aksk signature fail");
        assert_eq!(
            e.body("r1"),
            json!({"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information: verify aksk signature fail", "request_id": "r1"})
        );
        let e = HwError::new(400, "DBS.280001", "bad");
        assert_eq!(
            e.body("r1"),
            json!({"error_code": "DBS.280001", "error_msg": "bad"})
        );
        let e = HwError::unavailable("store unavailable: postgres: connection refused");
        assert_eq!(e.status, 503);
        assert_eq!(
            e.body("r1"),
            json!({"error_code": "APIGW.0202", "error_msg": "The backend is unavailable: store unavailable: postgres: connection refused", "request_id": "r1"})
        );
        let e = HwError::keystone(401, "Unauthorized", "The username or password is wrong.");
        assert_eq!(
            e.body("r1"),
            json!({"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}})
        );
    }
}
