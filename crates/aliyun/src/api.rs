//! What a product implements to be served over the Alibaba dialect.

use std::collections::BTreeMap;

use async_trait::async_trait;
use cloudtwin_core::Caller;
use serde_json::Value;

use crate::AliError;
pub use cloudtwin_core::Body;

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
    /// The JSON body as received (empty when there is none): the request's own buffer.
    pub json: bytes::Bytes,
}

impl Input {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The JSON body as received, `{}` when there is none.
    pub fn json_or_empty(&self) -> &[u8] {
        if self.json.is_empty() {
            b"{}"
        } else {
            &self.json
        }
    }

    /// The JSON body (`{}` when there is none) decoded straight into `T`, for an operation
    /// that [decodes its own body](AliyunApi::decodes_own_body). A body that is not JSON
    /// is [`AliError::body_not_json`]; a member of the wrong type is the product's own
    /// error, `wrong_type(path, message)`.
    pub fn decode_json<T: serde::de::DeserializeOwned>(
        &self,
        wrong_type: impl FnOnce(String, String) -> AliError,
    ) -> Result<T, AliError> {
        let body = self.json_or_empty();
        // Tracking the path cost a third of the decoding (callgrind): it is done only to word
        // an error, by decoding again.
        if let Ok(decoded) = cloudtwin_core::body::from_json_bytes(body) {
            return Ok(decoded);
        }
        let mut json = serde_json::Deserializer::from_slice(body);
        let decoded = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = e.path().to_string();
            let e = e.into_inner();
            if e.is_data() {
                wrong_type(path, without_position(&e))
            } else {
                AliError::body_not_json(e)
            }
        })?;
        json.end().map_err(AliError::body_not_json)?;
        Ok(decoded)
    }
}

/// A decoding error's message without the " at line 1 column 345" the parser adds: the
/// member's path says where.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&position)
        .map_or_else(|| text.clone(), str::to_owned)
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
    async fn call(&self, call: Call<'_>) -> Result<Body, AliError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    struct Params {
        #[serde(rename = "Name")]
        name: Option<String>,
        #[serde(rename = "Groups")]
        groups: Option<Vec<Group>>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Group {
        cu: i64,
    }

    fn decode(json: &str) -> Result<Params, AliError> {
        let input = Input {
            json: bytes::Bytes::copy_from_slice(json.as_bytes()),
            ..Input::default()
        };
        input.decode_json(|path, e| AliError::new(400, "Wrong", format!("{path}: {e}")))
    }

    #[test]
    fn a_json_body_decodes_into_the_operations_type_with_the_right_errors() {
        assert_eq!(decode("").unwrap(), Params::default(), "no body is {{}}");
        assert_eq!(
            decode(r#"{"Name": "n", "Groups": [{"cu": 8}]}"#).unwrap(),
            Params {
                name: Some("n".into()),
                groups: Some(vec![Group { cu: 8 }]),
            }
        );
        let wrong = decode(r#"{"Groups": [{"cu": "eight"}]}"#).unwrap_err();
        assert_eq!(wrong.code, "Wrong");
        assert_eq!(
            wrong.message, r#"Groups[0].cu: invalid type: string "eight", expected i64"#,
            "the path, without the parser's position"
        );
        for bad in ["{not json", r#"{"Name": "n"} trailing"#, r#"{"Name": "#] {
            let e = decode(bad).unwrap_err();
            assert_eq!(e.code, "InvalidParameter.Body", "{bad}: {e}");
        }
    }
}
