//! Alibaba STS (`sts` 2015-04-01, RPC): `GetCallerIdentity` answers the account of the key
//! that signed the request. Every cloudtwin key belongs to an account's root identity, so
//! `IdentityType` is `Account` and `Arn` is `acs:ram::<account id>:root`, as Alibaba answers
//! for a root account's AccessKey (`UserId` and `PrincipalId` are then the account id).
//! Terraform calls it when it needs the account id (`connectivity/client.go`).

use async_trait::async_trait;
use cloudtwin_aliyun::{AliError, AliyunApi, Body, Call, Operation};
use serde_json::{json, Value};

pub const VERSION: &str = "2015-04-01";

/// Every operation of `alibabacloud-sts20150401` 1.2.0 (all RPC, `POST /`).
pub static OPERATIONS: &[Operation] = &[
    Operation {
        action: "AssumeRole",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "AssumeRoleWithOIDC",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "AssumeRoleWithSAML",
        method: "POST",
        path: "/",
    },
    Operation {
        action: "GetCallerIdentity",
        method: "POST",
        path: "/",
    },
];

/// `GetCallerIdentity`'s body for a root account.
pub fn caller_identity(request_id: &str, account_id: &str) -> Value {
    json!({
        "RequestId": request_id,
        "AccountId": account_id,
        "UserId": account_id,
        "PrincipalId": account_id,
        "Arn": format!("acs:ram::{account_id}:root"),
        "IdentityType": "Account",
    })
}

#[derive(Default)]
pub struct Sts;

impl Sts {
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl AliyunApi for Sts {
    fn product(&self) -> &'static str {
        "sts"
    }

    fn version(&self) -> &'static str {
        VERSION
    }

    fn operations(&self) -> &'static [Operation] {
        OPERATIONS
    }

    async fn call(&self, call: Call<'_>) -> Result<Body, AliError> {
        match call.operation.action {
            "GetCallerIdentity" => {
                Ok(caller_identity(call.request_id, &call.caller.account_id).into())
            }
            other => Err(AliError::not_implemented(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_identity() {
        let body = caller_identity("r", "1234567890123456");
        assert_eq!(body["Arn"], "acs:ram::1234567890123456:root");
        assert_eq!(body["IdentityType"], "Account");
        assert_eq!(body["UserId"], body["AccountId"]);
    }
}
