//! The Huawei front door: route, authenticate (SDK-HMAC-SHA256 or an IAM token), check the
//! project, call the product, wrap the answer with `X-Request-Id`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use cloudtwin_core::{Answer, Body, CallHooks, Caller, Clock, IdSource, KeyResolver, NoHooks};
use percent_encoding::percent_decode_str;

use crate::api::{AuthMethod, Call, Project};
use crate::projects::Regions;
use crate::signature::{self, SignatureError, SignedRequest};
use crate::tokens::{TokenError, TokenKey};
use crate::{HuaweiApi, HwError, Route};

/// `X-Sdk-Date` older or newer than this is refused (Huawei API Gateway allows 15 minutes).
pub const DATE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// A request as it came off the wire. Header names are lowercase; `path` is still
/// percent-encoded.
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
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
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
    apis: Vec<Arc<dyn HuaweiApi>>,
    /// Every route of every api, with the index of its api and its path split once
    /// (splitting every template on every request was a seventh of a describe), kept
    /// by their count of segments: a path is matched only against templates as long.
    routes_by_length: Vec<Vec<(usize, &'static Route, Vec<Segment>)>>,
    keys: Arc<dyn KeyResolver>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    tokens: TokenKey,
    regions: Regions,
    hooks: Arc<dyn CallHooks>,
}

/// What serving a call learned besides its answer, for the hooks and the headers.
#[derive(Default)]
struct Routed {
    product: Option<&'static str>,
    operation: Option<&'static str>,
    retry_after_ms: Option<u64>,
}

struct Matched<'a> {
    api: &'a Arc<dyn HuaweiApi>,
    route: &'a Route,
    params: BTreeMap<String, String>,
}

struct Authenticated {
    caller: Caller,
    method: AuthMethod,
}

impl Gateway {
    pub fn new(
        apis: Vec<Arc<dyn HuaweiApi>>,
        keys: Arc<dyn KeyResolver>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        tokens: TokenKey,
        regions: Regions,
    ) -> Self {
        let mut routes_by_length: Vec<Vec<_>> = Vec::new();
        for (index, api) in apis.iter().enumerate() {
            for route in api.routes() {
                let template: Vec<Segment> = route.path.split('/').map(Segment::of).collect();
                if routes_by_length.len() <= template.len() {
                    routes_by_length.resize_with(template.len() + 1, Vec::new);
                }
                routes_by_length[template.len()].push((index, route, template));
            }
        }
        Self {
            apis,
            routes_by_length,
            keys,
            clock,
            ids,
            tokens,
            regions,
            hooks: Arc::new(NoHooks),
        }
    }

    /// Consults `hooks` on every call: fault rules before the product, metrics after.
    pub fn with_hooks(mut self, hooks: Arc<dyn CallHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// Whether a request speaks this dialect: a Huawei signature (`SDK-…`), an
    /// `X-Auth-Token`, an `X-Sdk-Date`, or no credentials at all on a public route
    /// (`POST /v3/auth/tokens`). The caller gives Alibaba's markers precedence.
    pub fn claims(&self, req: &RawRequest) -> bool {
        let auth = req.header("authorization").unwrap_or("");
        if auth.starts_with("SDK-")
            || req.header("x-auth-token").is_some()
            || req.header("x-sdk-date").is_some()
        {
            return true;
        }
        auth.is_empty()
            && self
                .route(&req.method, &req.path)
                .is_ok_and(|m| m.route.public)
    }

    pub async fn handle(&self, req: RawRequest) -> RawResponse {
        let request_id = self.ids.hex(32);
        let started = std::time::Instant::now();
        let mut routed = Routed::default();
        let (status, mut headers, body) = match self.serve(&req, &request_id, &mut routed).await {
            Ok(reply) => (reply.status, reply.headers, reply.body),
            Err(e) => (e.status, Vec::new(), Some(Body::Tree(e.body(&request_id)))),
        };
        let code = body.as_ref().map_or("", |b| b.tree_str("error_code"));
        self.hooks.report(Answer {
            product: routed.product,
            operation: routed.operation,
            call: routed.operation,
            status,
            code,
            request_id: &request_id,
            elapsed: started.elapsed(),
        });
        // urllib3's retry (the SDK's 429 status_forcelist) honours Retry-After, in seconds.
        if let Some(ms) = routed.retry_after_ms {
            headers.push(("retry-after".into(), ms.div_ceil(1000).max(1).to_string()));
        }
        headers.push(("x-request-id".into(), request_id));
        let bytes = match body {
            Some(b) => {
                headers.push((
                    "content-type".into(),
                    "application/json;charset=utf-8".into(),
                ));
                b.into_json()
            }
            None => Vec::new(),
        };
        RawResponse {
            status,
            headers,
            body: bytes,
        }
    }

    async fn serve(
        &self,
        req: &RawRequest,
        request_id: &str,
        routed: &mut Routed,
    ) -> Result<crate::Reply, HwError> {
        let matched = self.route(&req.method, &req.path)?;
        routed.product = Some(matched.api.product());
        routed.operation = Some(matched.route.operation);
        let auth = self.authenticate(req, matched.route).await?;
        let project = match &auth {
            Some(a) => self.project(req, a, &matched.params)?,
            None => None,
        };
        let fault = self
            .hooks
            .before(matched.api.product(), matched.route.operation);
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if let Some(e) = fault.error {
            routed.retry_after_ms = e.retry_after_ms();
            let message = e.message_or_default();
            return Err(HwError::new(e.status, e.code, message));
        }
        let query = form_urlencoded::parse(req.raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        matched
            .api
            .call(Call {
                caller: auth.as_ref().map(|a| &a.caller),
                auth: auth.as_ref().map(|a| &a.method),
                request_id,
                route: matched.route,
                project: project.as_ref(),
                path_params: matched.params,
                query,
                raw_body: &req.body,
                parsed_body: Default::default(),
                headers: &req.headers,
            })
            .await
    }

    /// The route for a method and path. Among templates matching the path, the one with a
    /// literal segment where another has a `{param}` (leftmost difference) wins.
    fn route(&self, method: &str, path: &str) -> Result<Matched<'_>, HwError> {
        let path = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p,
            _ => path,
        };
        let segments = decoded_segments(path);
        let mut best: Option<(Vec<bool>, Matched<'_>)> = None;
        let candidates = self.routes_by_length.get(segments.len());
        for (index, route, template) in candidates.into_iter().flatten() {
            if route.method != method {
                continue;
            }
            let Some((rank, params)) = match_template(template, &segments) else {
                continue;
            };
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                let api = &self.apis[*index];
                best = Some((rank, Matched { api, route, params }));
            }
        }
        best.map(|(_, m)| m).ok_or_else(HwError::api_not_found)
    }

    async fn authenticate(
        &self,
        req: &RawRequest,
        route: &Route,
    ) -> Result<Option<Authenticated>, HwError> {
        if req.header("x-security-token").is_some() {
            return Err(HwError::unauthenticated(
                "temporary security credentials (X-Security-Token) are not supported; sign with a permanent access key",
            ));
        }
        let auth = req.header("authorization").unwrap_or("");
        if auth.starts_with("SDK-") || auth.starts_with("V11-") {
            return self.authenticate_signature(req).await.map(Some);
        }
        if let Some(token) = req.header("x-auth-token") {
            return self.authenticate_token(token).map(Some);
        }
        if !auth.is_empty() {
            return Err(HwError::unauthenticated(
                "the Authorization header is not an SDK-HMAC-SHA256 signature",
            ));
        }
        if route.public {
            return Ok(None);
        }
        Err(HwError::unauthenticated(
            "the request carries neither an SDK-HMAC-SHA256 signature nor an X-Auth-Token",
        ))
    }

    async fn authenticate_signature(&self, req: &RawRequest) -> Result<Authenticated, HwError> {
        let signed = SignedRequest {
            method: &req.method,
            path: &req.path,
            raw_query: &req.raw_query,
            headers: &req.headers,
            body: &req.body,
        };
        let claim = signature::parse_claim(&signed).map_err(HwError::unauthenticated)?;
        let date_s =
            signature::parse_sdk_date(&claim.sdk_date).map_err(HwError::unauthenticated)?;
        let now = self.clock.now_ms();
        if (now - date_s * 1000).abs() > DATE_WINDOW_MS {
            return Err(HwError::unauthenticated(format!(
                "calc ak sk signature fail:signature expired: X-Sdk-Date {} is more than 15 minutes away from the server's time {}",
                claim.sdk_date,
                signature::format_sdk_date(now)
            )));
        }
        let key = self
            .keys
            .resolve(&claim.access_key_id)
            .await
            .map_err(HwError::lookup)?
            .ok_or_else(|| {
                HwError::unauthenticated(format!(
                    "Get secretKey failed,ak:{},err:ak not exist",
                    mask(&claim.access_key_id)
                ))
            })?;
        match signature::verify(&signed, &claim, &key.secret) {
            Ok(()) => {}
            Err(SignatureError::Mismatch) => {
                let sts = signature::string_to_sign(&signed, &claim).unwrap_or_default();
                return Err(HwError::unauthenticated(format!(
                    "verify aksk signature fail, the server's string to sign is: {}",
                    sts.replace('\n', "\\n")
                )));
            }
            Err(e) => return Err(HwError::unauthenticated(e)),
        }
        Ok(Authenticated {
            caller: Caller {
                account_id: key.account_id,
                access_key_id: claim.access_key_id,
            },
            method: AuthMethod::Signature,
        })
    }

    fn authenticate_token(&self, token: &str) -> Result<Authenticated, HwError> {
        let claims = self
            .tokens
            .verify(token, self.clock.now_ms())
            .map_err(|e| match e {
                TokenError::Invalid => HwError::unauthenticated("decrypt token fail"),
                TokenError::Expired(at) => {
                    HwError::unauthenticated(format!("the token expired at {at}"))
                }
            })?;
        Ok(Authenticated {
            caller: Caller {
                account_id: claims.account_id,
                access_key_id: String::new(),
            },
            method: AuthMethod::Token {
                user_id: claims.user_id,
                project_id: claims.project_id,
            },
        })
    }

    /// Checks `X-Project-Id`, the path's `{project_id}` and the token's scope against each
    /// other and against the caller's projects. Another account's project reads exactly
    /// like one that does not exist.
    fn project(
        &self,
        req: &RawRequest,
        auth: &Authenticated,
        params: &BTreeMap<String, String>,
    ) -> Result<Option<Project>, HwError> {
        let account = &auth.caller.account_id;
        let token_project = match &auth.method {
            AuthMethod::Token { project_id, .. } => project_id.as_deref(),
            AuthMethod::Signature => None,
        };
        let header = req
            .header("x-project-id")
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let mut resolved = None;
        let mut header_region = None;
        if let Some(h) = header {
            let region = self.regions.region_of_project(account, h).ok_or_else(|| {
                HwError::unauthenticated(format!(
                    "the project {h:?} in X-Project-Id is not a project of the signing account"
                ))
            })?;
            if token_project.is_some_and(|t| t != h) {
                return Err(HwError::unauthenticated(
                    "X-Project-Id differs from the project the token is scoped to",
                ));
            }
            resolved = Some(Project {
                id: h.to_owned(),
                region: region.id.clone(),
            });
            header_region = Some(region);
        }
        if let Some(p) = params.get("project_id") {
            // The SDKs send the path's project in X-Project-Id too: resolved above once.
            let region = match header_region {
                Some(region) if header == Some(p.as_str()) => Some(region),
                _ => self.regions.region_of_project(account, p),
            };
            let region = region.ok_or_else(|| {
                HwError::forbidden(format!(
                    "the project {p:?} in the path is not a project of this account"
                ))
            })?;
            if header.is_some_and(|h| h != p) {
                return Err(HwError::forbidden(
                    "the project in the path differs from X-Project-Id",
                ));
            }
            if token_project.is_some_and(|t| t != p) {
                return Err(HwError::forbidden(
                    "the project in the path differs from the project the token is scoped to",
                ));
            }
            resolved = Some(Project {
                id: p.clone(),
                region: region.id.clone(),
            });
        }
        if resolved.is_none() {
            if let Some(t) = token_project {
                if let Some(region) = self.regions.region_of_project(account, t) {
                    resolved = Some(Project {
                        id: t.to_owned(),
                        region: region.id.clone(),
                    });
                }
            }
        }
        Ok(resolved)
    }
}

/// A request path's segments, percent-decoded once for matching against every template.
fn decoded_segments(path: &str) -> Vec<Cow<'_, str>> {
    path.split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy())
        .collect()
}

/// One segment of a route's path template.
enum Segment {
    Literal(&'static str),
    /// `{name}`: any non-empty segment.
    Param(&'static str),
}

impl Segment {
    fn of(part: &'static str) -> Segment {
        match part.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            Some(name) => Segment::Param(name),
            None => Segment::Literal(part),
        }
    }
}

/// `Some((rank, params))` if the template matches; rank has `true` at each `{param}`.
fn match_template(
    template: &[Segment],
    segments: &[Cow<'_, str>],
) -> Option<(Vec<bool>, BTreeMap<String, String>)> {
    // Most templates fail within a few segments: nothing is allocated until one matches.
    let fits = template.len() == segments.len()
        && template
            .iter()
            .zip(segments)
            .all(|(part, decoded)| match part {
                Segment::Param(_) => !decoded.is_empty(),
                Segment::Literal(literal) => literal == decoded,
            });
    if !fits {
        return None;
    }
    let mut rank = Vec::with_capacity(segments.len());
    let mut params = BTreeMap::new();
    for (part, decoded) in template.iter().zip(segments) {
        rank.push(matches!(part, Segment::Param(_)));
        if let Segment::Param(name) = part {
            params.insert((*name).to_owned(), decoded.clone().into_owned());
        }
    }
    Some((rank, params))
}

/// The first 4 characters of an access key id, then `****`.
fn mask(ak: &str) -> String {
    let head: String = ak.chars().take(4).collect();
    format!("{head}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(path: &'static str) -> Vec<Segment> {
        path.split('/').map(Segment::of).collect()
    }

    fn segments(p: &str) -> Vec<Cow<'_, str>> {
        decoded_segments(p)
    }

    #[test]
    fn templates_match_and_rank() {
        let (rank, params) = match_template(
            &template("/v3/{project_id}/instances"),
            &segments("/v3/abc/instances"),
        )
        .unwrap();
        assert_eq!(rank, vec![false, false, true, false]);
        assert_eq!(params["project_id"], "abc");
        assert!(match_template(
            &template("/v3/{project_id}/instances"),
            &segments("/v3/abc")
        )
        .is_none());
        assert!(match_template(&template("/v3/{project_id}"), &segments("/v3/")).is_none());
        let (_, p) = match_template(
            &template("/v2/{project_id}/x"),
            &segments("/v2/%7Bproject_id%7D/x"),
        )
        .unwrap();
        assert_eq!(p["project_id"], "{project_id}");
        let literal = match_template(&template("/v3/projects"), &segments("/v3/projects"))
            .unwrap()
            .0;
        let param = match_template(&template("/v3/{project_id}"), &segments("/v3/projects"))
            .unwrap()
            .0;
        assert!(literal < param);
    }

    #[test]
    fn masks_keys() {
        assert_eq!(mask("LTAIabcdef"), "LTAI****");
        assert_eq!(mask("ab"), "ab****");
    }
}
