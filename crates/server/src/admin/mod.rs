//! cloudtwin's own API under [`ADMIN_PREFIX`]: health, readiness, reset, accounts, fault
//! injection, metrics, snapshots and state control. Every route is listed in [`ROUTES`],
//! which the reference page `docs/admin.md` is tested against.
//!
//! Beyond loopback every route but `health` needs `Authorization: Bearer <admin token>`.

mod accounts;
mod control;
mod faults;
mod health;
pub mod hooks;
pub mod metrics;
mod reset;
pub mod snapshot;

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, MethodRouter};
use axum::Router;
use cloudtwin_core::{Faults, IdSource};
use cloudtwin_engine::Engine;
use cloudtwin_store::{Store, StoreError};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::keys::{KeyError, Keyring};
pub use faults::check as faults_check;
use metrics::Metrics;

/// The reserved prefix of cloudtwin's own API.
pub const ADMIN_PREFIX: &str = "/_cloudtwin";

/// Where a generated admin token is kept, in the data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// One admin route: how it is documented and what serves it.
#[derive(Clone, Copy)]
pub struct AdminRoute {
    pub method: &'static str,
    /// Below [`ADMIN_PREFIX`]; `{id}` marks a path parameter.
    pub path: &'static str,
    /// Served without the admin credential, even beyond loopback.
    pub open: bool,
    handler: fn() -> MethodRouter<Arc<AdminState>>,
}

impl std::fmt::Debug for AdminRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

const fn route(
    method: &'static str,
    path: &'static str,
    handler: fn() -> MethodRouter<Arc<AdminState>>,
) -> AdminRoute {
    AdminRoute {
        method,
        path,
        open: false,
        handler,
    }
}

/// Every route this module serves: the router is built from this table, and
/// `docs/admin.md` must document exactly these (a test checks both ways).
pub const ROUTES: &[AdminRoute] = &[
    AdminRoute {
        open: true,
        ..route("GET", "/health", || get(health::health))
    },
    route("GET", "/ready", || get(health::ready)),
    route("POST", "/reset", || post(reset::reset)),
    route("GET", "/accounts", || get(accounts::list)),
    route("POST", "/accounts", || post(accounts::create)),
    route("GET", "/faults", || get(faults::list)),
    route("POST", "/faults", || post(faults::add)),
    route("DELETE", "/faults", || delete(faults::clear)),
    route("DELETE", "/faults/{id}", || delete(faults::remove)),
    route("GET", "/metrics", || get(metrics::scrape)),
    route("GET", "/snapshot", || get(snapshot::export)),
    route("POST", "/snapshot", || post(snapshot::import)),
    route("GET", "/state-control/rules", || get(control::list_rules)),
    route("POST", "/state-control/rules", || post(control::set_rule)),
    route("DELETE", "/state-control/rules", || {
        delete(control::clear_rules)
    }),
    route("GET", "/jobs", || get(control::list_jobs)),
    route("POST", "/jobs/{id}/step", || post(control::step_job)),
    route("POST", "/instances/{id}/step", || {
        post(control::step_instance)
    }),
];

/// What the admin handlers share.
pub struct AdminState {
    pub store: Arc<dyn Store>,
    pub keyring: Keyring,
    pub faults: Arc<Faults>,
    pub metrics: Arc<Metrics>,
    /// Product names the gateways report, for checking fault rules.
    pub products: Vec<&'static str>,
    /// The job engine: state-control rules, jobs and steps; woken after an import so
    /// imported jobs run at once.
    pub engine: Arc<Engine>,
}

/// The admin router: every route of [`ROUTES`], behind `token` when it is set, except the
/// open routes (`health`).
pub fn router(state: Arc<AdminState>, token: Option<AdminToken>) -> Router {
    let add = |router: Router<Arc<AdminState>>, r: &AdminRoute| {
        router.route(&format!("{ADMIN_PREFIX}{}", r.path), (r.handler)())
    };
    let guarded = ROUTES
        .iter()
        .filter(|r| !r.open)
        .fold(Router::new(), add)
        .route(&format!("{ADMIN_PREFIX}/{{*rest}}"), any(not_found))
        .with_state(state.clone())
        .layer(axum::extract::DefaultBodyLimit::max(
            snapshot::MAX_SNAPSHOT_BYTES,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::new(token),
            require_token,
        ));
    let open = ROUTES
        .iter()
        .filter(|r| r.open)
        .fold(Router::new(), add)
        .with_state(state);
    guarded.merge(open)
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!(
            "no admin route {} {}; see docs/admin.md",
            request.method(),
            request.uri().path()
        ),
    )
}

/// The bearer token the admin API asks for beyond loopback.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    fn accepts(&self, presented: &str) -> bool {
        // Constant time in the token's contents; the length is not a secret.
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// Where the admin token came from, when the server needs one.
pub enum TokenSource {
    /// `--admin-token` / `CLOUDTWIN_ADMIN_TOKEN`.
    Given,
    /// Read from `<data-dir>/admin-token`, made by an earlier start.
    Saved,
    /// Generated by this start and saved; shown once.
    Generated(String),
}

/// The token for a server listening beyond loopback: the given one, else the saved one,
/// else a new one saved (0600) for the next start.
pub fn admin_token(
    data_dir: &Path,
    given: Option<&str>,
    ids: &dyn IdSource,
) -> Result<(AdminToken, TokenSource), KeyError> {
    if let Some(t) = given.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok((AdminToken::new(t.to_owned()), TokenSource::Given));
    }
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(saved) if !saved.trim().is_empty() => {
            return Ok((AdminToken::new(saved.trim().to_owned()), TokenSource::Saved))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(KeyError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    }
    let token = ids.hex(40);
    crate::keys::write_private(&path, token.as_bytes())?;
    Ok((
        AdminToken::new(token.clone()),
        TokenSource::Generated(token),
    ))
}

async fn require_token(
    State(token): State<Arc<Option<AdminToken>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = token.as_ref() else {
        return next.run(request).await;
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(p) if token.accepts(p) => next.run(request).await,
        Some(_) => unauthorized("the admin token does not match"),
        None => unauthorized(
            "this server listens beyond loopback: send Authorization: Bearer <admin token> \
             (--admin-token, CLOUDTWIN_ADMIN_TOKEN, or <data-dir>/admin-token)",
        ),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, "Unauthorized", message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"cloudtwin-admin\""),
    );
    response
}

/// The admin API's error body: `{"error": {"code", "message"}}`.
pub fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message.to_string()}})),
    )
        .into_response()
}

/// A refused admin request, small enough to pass around before it becomes a response.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl std::fmt::Display) -> Self {
        Self {
            status,
            code,
            message: message.to_string(),
        }
    }

    fn bad_request(code: &'static str, message: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.status, self.code, self.message)
    }
}

/// Reads a JSON body into `T`, refusing with 400, the field and the reason when it does
/// not fit.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let invalid = |message: String| Refusal::bad_request("InvalidBody", message);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("the request needs a JSON body".into()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        invalid(if path == "." || path.is_empty() {
            format!("the body is not valid: {inner}")
        } else {
            format!("the body is not valid at {path}: {inner}")
        })
    })
}

/// What a store failure answers: 503 when it cannot be reached.
impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "StoreUnavailable",
                format!("the store cannot be reached: {m}"),
            ),
            StoreError::Conflict(m) => Refusal::new(StatusCode::CONFLICT, "Conflict", m),
            e @ StoreError::NameTaken { .. } => {
                Refusal::new(StatusCode::CONFLICT, "Conflict", e.to_string())
            }
            StoreError::Corrupt(m) => Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "StoreCorrupt",
                format!("stored data is corrupt: {m}"),
            ),
        }
    }
}

fn store_error(e: StoreError) -> Response {
    Refusal::from(e).into_response()
}
