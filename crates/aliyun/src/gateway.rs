//! The Alibaba front door: authenticate, route, call the product, wrap the answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use cloudtwin_core::{
    Answer, CallHooks, Caller, Clock, IdSource, KeyResolver, NoHooks, NonceLedger,
};
use serde_json::Value;

use crate::api::Call;
use crate::signature::{self, SignatureError, SignedRequest};
use crate::{AliError, AliyunApi, Body, Input, NonceCache};

/// Requests older or newer than this are refused, as Alibaba does.
pub const TIMESTAMP_WINDOW_MS: i64 = 15 * 60 * 1000;

/// A request as it came off the wire. Header names are lowercase.
#[derive(Debug, Clone, Default)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    /// Shared with the HTTP layer's buffer, not copied.
    pub body: bytes::Bytes,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub struct Gateway {
    apis: Vec<Arc<dyn AliyunApi>>,
    keys: Arc<dyn KeyResolver>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    nonces: Arc<dyn NonceLedger>,
    hooks: Arc<dyn CallHooks>,
}

/// What serving a call learned besides its answer, for the hooks and the headers.
#[derive(Default)]
struct Routed {
    /// The action the request names, known or not.
    action: Option<String>,
    product: Option<&'static str>,
    operation: Option<&'static str>,
    retry_after_ms: Option<u64>,
}

impl Gateway {
    pub fn new(
        apis: Vec<Arc<dyn AliyunApi>>,
        keys: Arc<dyn KeyResolver>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        Self {
            apis,
            keys,
            clock,
            ids,
            nonces: Arc::new(NonceCache::new(TIMESTAMP_WINDOW_MS)),
            hooks: Arc::new(NoHooks),
        }
    }

    /// Keeps signature nonces in `ledger` instead of this process's memory: replicas
    /// that share state must refuse a nonce that another replica has seen.
    pub fn with_nonces(mut self, ledger: Arc<dyn NonceLedger>) -> Self {
        self.nonces = ledger;
        self
    }

    /// Consults `hooks` on every call: fault rules before the product, metrics after.
    pub fn with_hooks(mut self, hooks: Arc<dyn CallHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// Whether a request speaks this dialect: an Alibaba signature or Alibaba headers.
    pub fn claims(req: &RawRequest) -> bool {
        let auth = req.header("authorization").unwrap_or("");
        auth.starts_with("ACS3-")
            || auth.starts_with("acs ")
            || req.header("x-acs-version").is_some()
            || form_urlencoded::parse(req.raw_query.as_bytes()).any(|(k, _)| k == "Signature")
    }

    pub async fn handle(&self, req: RawRequest) -> RawResponse {
        let request_id = self.request_id();
        let started = std::time::Instant::now();
        let mut routed = Routed::default();
        let result = self.serve(&req, &request_id, &mut routed).await;
        let (status, body) = match result {
            Ok(body) => (200, body),
            Err(e) => {
                let host = req.header("host").unwrap_or("cloudtwin");
                (e.status, Body::Tree(e.body(&request_id, host)))
            }
        };
        let code = body.tree_str("Code");
        self.hooks.report(Answer {
            product: routed.product,
            operation: routed.operation,
            call: routed.action.as_deref(),
            status,
            code,
            request_id: &request_id,
            elapsed: started.elapsed(),
        });
        let (content_type, bytes) = match xml_root(&req, status) {
            Some(root) => (
                "text/xml;charset=utf-8",
                crate::xml::to_xml(&root, &body.into_value()).into_bytes(),
            ),
            None => ("application/json;charset=utf-8", body.into_json()),
        };
        let mut headers = vec![
            ("content-type".into(), content_type.into()),
            ("x-acs-request-id".into(), request_id),
        ];
        // What Tea's `get_throttling_time_left` reads (milliseconds) to back off.
        if let Some(ms) = routed.retry_after_ms {
            headers.push(("x-acs-retry-after".into(), ms.to_string()));
        }
        RawResponse {
            status,
            headers,
            body: bytes,
        }
    }

    fn request_id(&self) -> String {
        request_id_from_hex(&self.ids.hex(32))
    }

    async fn serve(
        &self,
        req: &RawRequest,
        request_id: &str,
        routed: &mut Routed,
    ) -> Result<Body, AliError> {
        let mut input = decode_input(req);
        let (version, action) = route_keys(req, &input)?;
        routed.action = Some(action.clone());
        let api = self
            .apis
            .iter()
            .find(|a| a.version() == version)
            .ok_or_else(|| api_not_found(&version, &action))?;
        let operation = api
            .operations()
            .iter()
            .find(|o| o.action == action)
            .ok_or_else(|| api_not_found(&version, &action))?;
        // ROA calls must come on the SDK's own method and path (a template whose `{name}`
        // segments take the path parameters); RPC calls all go to "/".
        let mut path_params = BTreeMap::new();
        if operation.path != "/" {
            path_params = match_path(operation.path, &req.path)
                .filter(|_| operation.method == req.method)
                .ok_or_else(|| api_not_found(&version, &action))?;
        }
        if !input.json.is_empty() && !api.decodes_own_body(operation.action) {
            input.body = cloudtwin_core::body::from_json_bytes(&input.json)
                .map_err(AliError::body_not_json)?;
        }
        routed.product = Some(api.product());
        routed.operation = Some(operation.action);
        let caller = self.authenticate(req).await?;
        let fault = self.hooks.before(api.product(), operation.action);
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if let Some(e) = fault.error {
            routed.retry_after_ms = e.retry_after_ms();
            let message = e.message_or_default();
            return Err(AliError::new(e.status, e.code, message));
        }
        if operation.path == "/" {
            for key in RPC_PROTOCOL_PARAMS {
                input.query.remove(*key);
            }
        }
        api.call(Call {
            caller: &caller,
            request_id,
            host: req.header("host").unwrap_or(""),
            operation,
            path_params,
            input,
        })
        .await
    }

    async fn authenticate(&self, req: &RawRequest) -> Result<Caller, AliError> {
        let signed = SignedRequest {
            method: &req.method,
            path: &req.path,
            raw_query: &req.raw_query,
            headers: &req.headers,
            body: &req.body,
        };
        let claim = signature::parse_claim(&signed).map_err(signature_error)?;
        let key = self
            .keys
            .resolve(&claim.access_key_id)
            .await
            .map_err(AliError::lookup)?
            .ok_or_else(|| {
                AliError::new(
                    404,
                    "InvalidAccessKeyId.NotFound",
                    "Specified access key is not found.",
                )
            })?;
        signature::verify(&signed, &claim, &key.secret).map_err(signature_error)?;
        let now = self.clock.now_ms();
        let Some(ts) = claim.timestamp_unix else {
            return Err(AliError::missing("Timestamp"));
        };
        if (now - ts * 1000).abs() > TIMESTAMP_WINDOW_MS {
            return Err(AliError::new(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        let Some(nonce) = claim.nonce.as_deref().filter(|n| !n.is_empty()) else {
            return Err(AliError::missing("SignatureNonce"));
        };
        // The same signed request passes the timestamp check until then.
        let expires_ms = ts * 1000 + TIMESTAMP_WINDOW_MS;
        let first = self
            .nonces
            .first_use(&claim.access_key_id, nonce, now, expires_ms)
            .await
            .map_err(AliError::lookup)?;
        if !first {
            return Err(AliError::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        Ok(Caller {
            account_id: key.account_id,
            access_key_id: claim.access_key_id,
        })
    }
}

/// 32 hex digits, uppercase and grouped 8-4-4-4-12, as Alibaba's request ids are.
fn request_id_from_hex(hex: &str) -> String {
    let mut id = String::with_capacity(36);
    for (i, c) in hex.chars().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            id.push('-');
        }
        id.push(c.to_ascii_uppercase());
    }
    id
}

/// Parameters of the RPC protocol itself, not of the operation.
const RPC_PROTOCOL_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "Timestamp",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "AccessKeyId",
    "Signature",
    "SecurityToken",
];

/// Matches a request path against an operation's path template: literal segments must be
/// equal, each `{name}` segment takes one non-empty segment, percent-decoded (the SDKs
/// percent-encode path parameters). Answers the parameters by name, or `None`.
fn match_path(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
                    let value = percent_decode(g)?;
                    if value.is_empty() {
                        return None;
                    }
                    params.insert(name.to_owned(), value);
                } else if w != g {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// `%XX` escapes of a path segment, decoded; `+` stays a plus. `None` when malformed or not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// For an RPC v1 call that asked for `Format=XML`: the root element of its answer.
fn xml_root(req: &RawRequest, status: u16) -> Option<String> {
    // The last of a repeated parameter wins, as in the decoded input.
    let (mut signed, mut format, mut action) = (false, None, None);
    for (k, v) in form_urlencoded::parse(req.raw_query.as_bytes()) {
        match &*k {
            "Signature" => signed = true,
            "Format" => format = Some(v),
            "Action" => action = Some(v),
            _ => {}
        }
    }
    let xml = signed && format.is_some_and(|f| f.eq_ignore_ascii_case("xml"));
    if !xml {
        return None;
    }
    if status >= 400 {
        return Some("Error".into());
    }
    Some(format!("{}Response", action.as_deref().unwrap_or("")))
}

fn api_not_found(version: &str, action: &str) -> AliError {
    AliError::new(
        404,
        "InvalidAction.NotFound",
        format!("Specified api is not found, please check your url and method. (action {action:?}, version {version:?})"),
    )
}

fn signature_error(e: SignatureError) -> AliError {
    match e {
        SignatureError::Missing => AliError::new(
            400,
            "MissingAuthorization",
            "The request is not signed: no Authorization header or Signature parameter.",
        ),
        SignatureError::Malformed(m) => AliError::new(400, "IncompleteSignature", m),
        SignatureError::ContentHashMismatch => AliError::new(
            400,
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header does not match the request body.",
        ),
        SignatureError::Mismatch { string_to_sign } => AliError::new(
            400,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature does not match our calculation. server string to sign is:{string_to_sign}"
            ),
        ),
        SignatureError::BadTimestamp(m) => AliError::new(400, "InvalidTimeStamp.Format", m),
    }
}

fn form_pairs(bytes: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

fn decode_input(req: &RawRequest) -> Input {
    let mut query: BTreeMap<String, String> = form_pairs(req.raw_query.as_bytes()).collect();
    let content_type = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut json = bytes::Bytes::new();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        query.extend(form_pairs(&req.body));
    } else if !req.body.is_empty() && content_type.contains("json") {
        json = req.body.clone();
    }
    Input {
        query,
        body: Value::Null,
        json,
    }
}

/// The API version and action: headers for ACS3 and ROA, query parameters for RPC v1.
fn route_keys(req: &RawRequest, input: &Input) -> Result<(String, String), AliError> {
    // RPC v1 signs its query parameters but no headers: route on what was signed.
    let rpc_v1 = input.query.contains_key("Signature");
    let pick = |header: &str, param: &str| {
        let (h, p) = (req.header(header), input.query(param));
        if rpc_v1 {
            p.or(h)
        } else {
            h.or(p)
        }
    };
    let version = pick("x-acs-version", "Version").ok_or_else(|| AliError::missing("Version"))?;
    let action = pick("x-acs-action", "Action").ok_or_else(|| AliError::missing("Action"))?;
    Ok((version.to_owned(), action.to_owned()))
}

#[cfg(test)]
mod path_template_tests {
    use super::*;

    #[test]
    fn request_ids_look_like_alibaba_s() {
        assert_eq!(
            request_id_from_hex("0123456789abcdef0123456789abcdef"),
            "01234567-89AB-CDEF-0123-456789ABCDEF"
        );
    }

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn literal_paths_match_only_themselves() {
        assert_eq!(
            match_path("/webapi/cluster/createV1", "/webapi/cluster/createV1"),
            Some(BTreeMap::new())
        );
        assert_eq!(
            match_path("/webapi/cluster/createV1", "/webapi/cluster/create"),
            None
        );
        assert_eq!(
            match_path("/openapi/ha3/instances", "/openapi/ha3/instances/"),
            None
        );
        assert_eq!(match_path("/", "/"), Some(BTreeMap::new()));
    }

    #[test]
    fn templates_take_their_segments() {
        assert_eq!(
            match_path(
                "/openapi/ha3/instances/{instanceId}",
                "/openapi/ha3/instances/ha-cn-2r42ppr7901"
            ),
            Some(params(&[("instanceId", "ha-cn-2r42ppr7901")]))
        );
        assert_eq!(
            match_path(
                "/openapi/ha3/instances/{instanceId}/indexes/{indexName}/versions/{versionName}/file",
                "/openapi/ha3/instances/ha-1/indexes/idx/versions/v%201/file"
            ),
            Some(params(&[("instanceId", "ha-1"), ("indexName", "idx"), ("versionName", "v 1")]))
        );
        // The SDK's DaraURL.percent_encode escapes '/' too: still one segment.
        assert_eq!(
            match_path("/a/{x}", "/a/b%2Fc+d"),
            Some(params(&[("x", "b/c+d")]))
        );
    }

    #[test]
    fn templates_refuse_other_shapes() {
        let t = "/openapi/ha3/instances/{instanceId}";
        assert_eq!(match_path(t, "/openapi/ha3/instances"), None);
        assert_eq!(
            match_path(t, "/openapi/ha3/instances/"),
            None,
            "empty parameter"
        );
        assert_eq!(match_path(t, "/openapi/ha3/instances/a/specs"), None);
        assert_eq!(match_path(t, "/openapi/ha3/clusters/a"), None);
        assert_eq!(
            match_path(t, "/openapi/ha3/instances/%zz"),
            None,
            "bad escape"
        );
        assert_eq!(
            match_path(t, "/openapi/ha3/instances/%ff"),
            None,
            "not UTF-8"
        );
        assert_eq!(
            match_path(t, "/openapi/ha3/instances/%4"),
            None,
            "short escape"
        );
    }
}
