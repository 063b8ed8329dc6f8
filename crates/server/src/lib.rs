//! The cloudtwin server: wiring of store, engine, products and dialects behind one port.

pub mod admin;
pub mod keys;
pub mod log_buffer;
pub mod log_format;
mod nonces;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use cloudtwin_aliyun::{Gateway, RawRequest, RawResponse};
use cloudtwin_core::billing::TimeScale;
use cloudtwin_core::{
    Clock, FaultSpec, Faults, IdSource, Lifecycle, NonceLedger, RandomIds, Rule, SystemClock,
};
use cloudtwin_engine::{Engine, Simulated};
use cloudtwin_huawei::Gateway as HuaweiGateway;
use cloudtwin_products::Context;
use cloudtwin_store::{SqliteStore, Store};
use tokio::sync::watch;

use keys::{IssuedKey, KeyError, Keyring};

pub use admin::ADMIN_PREFIX;
const MAX_BODY: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub lifecycle: Lifecycle,
    /// State-control rules in force from the start (more can be set over the admin API).
    pub state_control: Vec<Rule>,
    /// How much faster than real time subscription terms run out (1 = real time).
    pub billing_time_scale: TimeScale,
    pub master_key: Option<String>,
    /// The default account's key pair, from the environment.
    pub access_key: Option<(String, String)>,
}

impl Config {
    /// Listens on `listen` with state in `data_dir` and transitions timed by `lifecycle`;
    /// everything else as `serve` has it without flags or environment.
    pub fn new(
        listen: impl Into<String>,
        data_dir: impl Into<PathBuf>,
        lifecycle: Lifecycle,
    ) -> Self {
        Self {
            listen: listen.into(),
            data_dir: data_dir.into(),
            lifecycle,
            state_control: Vec::new(),
            billing_time_scale: TimeScale::default(),
            master_key: None,
            access_key: None,
        }
    }
}

/// Operations settings beside [`Config`]: the admin credential and start-up faults.
#[derive(Debug, Clone, Default)]
pub struct OpsOptions {
    /// The admin API's bearer token when listening beyond loopback; without it, the one
    /// saved in `<data-dir>/admin-token`, else a new one saved there.
    pub admin_token: Option<String>,
    /// Fault rules in force from the start.
    pub faults: Vec<FaultSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory cannot be created or opened.
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] cloudtwin_store::StoreError),
    /// Keys could not be loaded or created.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A `--fault` rule is not valid.
    #[error("invalid fault rule: {0}")]
    Fault(String),
    /// A state-control rule names an operation no job carries.
    #[error("--state-control {rule:?}: {reason}")]
    StateControl { rule: String, reason: String },
    /// The listen address is unusable.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Everything opened from a data directory, for `serve` and the `accounts` commands alike.
pub struct Opened {
    pub store: Arc<dyn Store>,
    pub keyring: Keyring,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Where signature nonces are kept when state is shared between replicas; `None`:
    /// in each gateway's memory (one process owns the SQLite file).
    pub nonces: Option<Arc<dyn NonceLedger>>,
}

pub fn open(data_dir: &std::path::Path, master_key: Option<&str>) -> Result<Opened, StartError> {
    create_data_dir(data_dir)?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(data_dir.join("cloudtwin.db"))?);
    open_with(data_dir, master_key, store)
}

/// Like [`open`], with the state in `store` when given (`postgres://...`, for replicas
/// that share state) instead of the SQLite file in the data directory. The master key
/// stays in the data directory either way.
pub async fn open_store(
    data_dir: &std::path::Path,
    master_key: Option<&str>,
    store: Option<&str>,
) -> Result<Opened, StartError> {
    let Some(url) = store else {
        return open(data_dir, master_key);
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StartError::Store(cloudtwin_store::StoreError::Unavailable(
            "--store takes a postgres:// URL; without it, state is the SQLite file in the data directory"
                .into(),
        )));
    }
    create_data_dir(data_dir)?;
    let store: Arc<dyn Store> =
        Arc::new(cloudtwin_store_postgres::PostgresStore::connect(url).await?);
    let mut opened = open_with(data_dir, master_key, store)?;
    opened.nonces = Some(Arc::new(nonces::StoreNonces::new(opened.store.clone())));
    Ok(opened)
}

/// Locks `<data-dir>/server.lock`; `None` when another server holds it (the two then
/// share jobs by their leases). The lock dies with the process, however it ends.
fn sole_server_lock(data_dir: &std::path::Path) -> Result<Option<std::fs::File>, StartError> {
    let path = data_dir.join("server.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StartError::DataDir {
            path: path.display().to_string(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => {
            tracing::info!(path = %path.display(), "another server runs on this data directory");
            Ok(None)
        }
        Err(std::fs::TryLockError::Error(source)) => Err(StartError::DataDir {
            path: path.display().to_string(),
            source,
        }),
    }
}

fn create_data_dir(data_dir: &std::path::Path) -> Result<(), StartError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })
}

fn open_with(
    data_dir: &std::path::Path,
    master_key: Option<&str>,
    store: Arc<dyn Store>,
) -> Result<Opened, StartError> {
    let ids: Arc<dyn IdSource> = Arc::new(RandomIds);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let master_key = Arc::new(keys::load_master_key(data_dir, master_key, ids.as_ref())?);
    let keyring = Keyring::new(store.clone(), master_key, clock.clone(), ids.clone());
    Ok(Opened {
        store,
        keyring,
        clock,
        ids,
        nonces: None,
    })
}

struct AppState {
    aliyun: Gateway,
    huawei: HuaweiGateway,
}

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    /// The default account's key pair, when this start created it.
    pub issued: Option<IssuedKey>,
    /// Whether admin routes (all but health) need the bearer token: beyond loopback.
    pub admin_protected: bool,
    /// The admin token this start generated (and saved), to show once.
    pub generated_admin_token: Option<String>,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    engine: tokio::task::JoinHandle<()>,
    store: Arc<dyn Store>,
    /// Held while this server is the only one on its SQLite data directory.
    _sole_server: Option<std::fs::File>,
}

impl Running {
    /// Stops taking requests, lets those under way finish, stops the workers, and leaves
    /// the store quick to open next time.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        let _ = self.engine.await;
        if let Err(e) = self.store.shutdown().await {
            tracing::warn!(error = %e, "the store was not tidied for the next start");
        }
    }
}

pub async fn start(config: Config) -> Result<Running, StartError> {
    start_with_store(config, None).await
}

/// [`start`], with the state in `store` when given (see [`open_store`]).
pub async fn start_with_store(config: Config, store: Option<&str>) -> Result<Running, StartError> {
    start_with_options(config, store, OpsOptions::default()).await
}

/// [`start_with_store`], with the admin credential and start-up faults.
pub async fn start_with_options(
    config: Config,
    store: Option<&str>,
    ops: OpsOptions,
) -> Result<Running, StartError> {
    let opened = open_store(&config.data_dir, config.master_key.as_deref(), store).await?;
    let sole_server = match store {
        None => sole_server_lock(&config.data_dir)?,
        // Replicas share the database: another one may hold any lease.
        Some(_) => None,
    };
    if sole_server.is_some() {
        // Leases in the file were held by a server that is gone (killed, crashed):
        // its jobs go on now rather than when the leases run out.
        let ended = opened.store.end_leases().await?;
        if ended > 0 {
            tracing::info!(jobs = ended, "took over the jobs of a server that stopped");
        }
    }
    let env_key = config
        .access_key
        .as_ref()
        .map(|(id, secret)| (id.as_str(), secret.as_str()));
    let issued = opened.keyring.ensure_default(env_key).await?;
    if let Some(issued) = &issued {
        Keyring::save_credentials(&config.data_dir, issued)?;
    }

    let engine = Engine::new(
        opened.store.clone(),
        opened.clock.clone(),
        config.lifecycle,
        Arc::new(Simulated),
        format!("cloudtwin-{}", opened.ids.hex(8)),
    );
    engine.declare_operations(cloudtwin_products::JOB_OPERATIONS);
    for rule in &config.state_control {
        engine
            .set_rule(rule.clone())
            .map_err(|reason| StartError::StateControl {
                rule: rule.to_string(),
                reason,
            })?;
        tracing::info!(%rule, "state-control rule set");
    }
    let billing = Arc::new(cloudtwin_products::billing::Billing::embedded(
        config.billing_time_scale,
    ));
    engine.set_outcome_hook(billing.clone());
    let ctx = Context {
        store: opened.store.clone(),
        engine: engine.clone(),
        clock: opened.clock.clone(),
        ids: opened.ids.clone(),
        master_key: opened.keyring.master_key.clone(),
        billing,
    };
    let faults = Arc::new(Faults::new());
    let metrics = Arc::new(admin::metrics::Metrics::new());
    let hooks = Arc::new(admin::hooks::Hooks {
        faults: faults.clone(),
        metrics: metrics.clone(),
    });
    let aliyun_apis = cloudtwin_products::aliyun_apis(&ctx);
    let huawei_apis = cloudtwin_products::huawei_apis(&ctx);
    let mut products: Vec<&'static str> = aliyun_apis
        .iter()
        .map(|a| a.product())
        .chain(huawei_apis.iter().map(|a| a.product()))
        .collect();
    products.sort_unstable();
    products.dedup();
    for spec in ops.faults {
        admin::faults_check(&spec, &products).map_err(StartError::Fault)?;
        faults.add(spec).map_err(StartError::Fault)?;
    }
    let mut aliyun = Gateway::new(
        aliyun_apis,
        Arc::new(opened.keyring.clone()),
        opened.clock.clone(),
        opened.ids.clone(),
    )
    .with_hooks(hooks.clone());
    if let Some(ledger) = opened.nonces.clone() {
        aliyun = aliyun.with_nonces(ledger);
    }
    let huawei = HuaweiGateway::new(
        huawei_apis,
        Arc::new(opened.keyring.clone()),
        opened.clock.clone(),
        opened.ids.clone(),
        cloudtwin_huawei::TokenKey::derive(&opened.keyring.master_key),
        cloudtwin_huawei::Regions::embedded(),
    )
    .with_hooks(hooks);
    let state = Arc::new(AppState { aliyun, huawei });

    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen.clone(),
        source,
    })?;
    // Loopback needs no admin credential: only this machine can reach it.
    let admin_protected = !addr.ip().is_loopback();
    let (admin_token, generated_admin_token) = if admin_protected {
        let (token, source) = admin::admin_token(
            &config.data_dir,
            ops.admin_token.as_deref(),
            opened.ids.as_ref(),
        )?;
        let generated = match source {
            admin::TokenSource::Generated(t) => Some(t),
            admin::TokenSource::Given | admin::TokenSource::Saved => None,
        };
        (Some(token), generated)
    } else {
        (None, None)
    };
    let admin_state = Arc::new(admin::AdminState {
        store: opened.store.clone(),
        keyring: opened.keyring.clone(),
        faults,
        metrics,
        products,
        engine: engine.clone(),
    });
    let (shutdown, rx) = watch::channel(false);
    let engine_task = engine.spawn(rx.clone());
    let router = admin::router(admin_state, admin_token)
        .merge(Router::new().fallback(dispatch).with_state(state));
    let mut server_rx = rx;
    let server = tokio::spawn(async move {
        let stopped = async move {
            while !*server_rx.borrow() {
                if server_rx.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    tracing::info!(%addr, lifecycle = %config.lifecycle, data_dir = %config.data_dir.display(), "cloudtwin started");
    Ok(Running {
        addr,
        issued,
        admin_protected,
        generated_admin_token,
        shutdown,
        server,
        engine: engine_task,
        store: opened.store.clone(),
        _sole_server: sole_server,
    })
}

async fn dispatch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let raw = RawRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                // Header values are nearly always ASCII: checked so before the general case.
                let value = match v.to_str() {
                    Ok(text) => text.to_owned(),
                    Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
                };
                (n.as_str().to_owned(), value)
            })
            .collect(),
        body,
    };
    // Alibaba's markers win; then Huawei's (SDK-HMAC-SHA256, X-Auth-Token, X-Sdk-Date, or an
    // unsigned call to a public Huawei route such as POST /v3/auth/tokens).
    if Gateway::claims(&raw) {
        return into_response(state.aliyun.handle(raw).await);
    }
    let hw = cloudtwin_huawei::RawRequest {
        method: raw.method,
        path: raw.path,
        raw_query: raw.raw_query,
        headers: raw.headers,
        body: raw.body,
    };
    if state.huawei.claims(&hw) {
        let r = state.huawei.handle(hw).await;
        return into_response(RawResponse {
            status: r.status,
            headers: r.headers,
            body: r.body,
        });
    }
    let raw = RawRequest {
        method: hw.method,
        path: hw.path,
        raw_query: hw.raw_query,
        headers: hw.headers,
        body: hw.body,
    };
    into_response(state.aliyun.handle(raw).await)
}

fn into_response(raw: RawResponse) -> Response {
    let mut response = Response::new(Body::from(raw.body));
    *response.status_mut() =
        StatusCode::from_u16(raw.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in raw.headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::try_from(name),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    response
}
