//! PostgreSQL backend: the same [`Store`] as SQLite, for several replicas that share
//! state. Every batch commits in one transaction; jobs are claimed with
//! `FOR UPDATE SKIP LOCKED` so two replicas never lease the same job.
//!
//! Connections come from a small pool built on tokio primitives. Each connection keeps
//! its prepared statements. Connecting, waiting for a connection and every operation are
//! bounded in time, so a dead database answers `Unavailable` quickly instead of hanging.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use cloudtwin_core::billing::Order;
use cloudtwin_core::{
    AccessKey, Account, Document, Instance, Job, JobOutcome, JobState, Product, Tag,
};
use cloudtwin_store::{
    order_product_in_doc, IamPassword, IdempotencyRecord, InstancePage, InstanceQuery, JobQuery,
    Mutation, ResetScope, Result, StateCounts, StateDump, Store, StoreError,
};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, GenericClient, NoTls, Row, Statement};

pub mod testing;

pub use tokio_postgres::Config as PostgresConfig;

/// The newest schema this build knows. 1: first release; 2: signature nonces;
/// 3: the orders ledger; 4: names indexed only for the products that look them up.
pub const SCHEMA_VERSION: i64 = 4;

/// A migration's SQL, built when it runs (some name products from the code).
type MigrationSql = fn() -> String;

/// Applied in order, each in the same transaction as its `schema_version` row.
const MIGRATIONS: &[(i64, MigrationSql)] = &[
    (1, || SCHEMA_V1.to_owned()),
    (2, || SCHEMA_V2_NONCES.to_owned()),
    (3, || SCHEMA_V3_ORDERS.to_owned()),
    (4, schema_v4_name_index),
];

/// The name index of version 1 held an entry for every instance, though only some
/// products look instances up by name: now only theirs (as in SQLite). It also holds the
/// listing order, so the planner prefers it to walking a listing index for the name.
fn schema_v4_name_index() -> String {
    format!(
        "DROP INDEX IF EXISTS instances_live_name;
         CREATE INDEX instances_looked_up_by_name
             ON instances(account_id, product, name, created_ms, id)
             WHERE NOT deleted AND {};",
        cloudtwin_store::looked_up_by_name()
    )
}

/// Signature nonces seen by any replica, until the request's own timestamp expires.
const SCHEMA_V2_NONCES: &str = r#"
CREATE TABLE nonces (
    access_key_id TEXT COLLATE "C" NOT NULL,
    nonce TEXT COLLATE "C" NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);
CREATE INDEX nonces_expiry ON nonces(expires_ms);
"#;

/// The orders ledger: the order itself is the JSON document; the columns are its keys.
const SCHEMA_V3_ORDERS: &str = r#"
CREATE TABLE orders (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX orders_instance ON orders (account_id, instance_id, created_ms);
"#;

/// Taken (per transaction) while migrating, so replicas starting together take turns.
const MIGRATION_LOCK: i64 = 0x636c_6f75_6474_7769; // "cloudtwi"

/// Taken (per transaction) while importing a snapshot, so two imports take turns and the
/// emptiness check holds until the import commits.
const IMPORT_LOCK: i64 = 0x636c_6f75_6469_6d70; // "cloudimp"

/// Retries of a write that lost a deadlock or serialization race.
const WRITE_ATTEMPTS: usize = 3;

/// Prepared statements kept per connection; listing filters make a bounded family.
const MAX_CACHED_STATEMENTS: usize = 256;

/// Text columns that are sorted on or referenced use the "C" collation, so the order
/// is bytewise as in SQLite whatever the database's locale.
const SCHEMA_V1: &str = r#"
CREATE TABLE accounts (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    domain_id TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE access_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    secret BYTEA NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX access_keys_account ON access_keys(account_id);
CREATE TABLE iam_passwords (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id),
    hash TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE TABLE instances (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    product TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    resource_group_id TEXT NOT NULL,
    tags JSONB NOT NULL,
    doc TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL,
    version BIGINT NOT NULL
);
-- Listings read live instances only, newest first: the equalities come first, then the order.
CREATE INDEX instances_live ON instances(account_id, product, created_ms, id) WHERE NOT deleted;
CREATE INDEX instances_live_region ON instances(account_id, product, region, created_ms, id)
    WHERE NOT deleted;
CREATE INDEX instances_live_name ON instances(account_id, product, name) WHERE NOT deleted;
CREATE TABLE jobs (
    id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    product TEXT NOT NULL,
    instance_id TEXT COLLATE "C" NOT NULL,
    operation TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    due_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    attempts INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT NOT NULL
);
CREATE INDEX jobs_instance ON jobs(instance_id, created_ms);
CREATE INDEX jobs_unfinished ON jobs(due_ms) WHERE state IN ('pending', 'running');
CREATE INDEX jobs_pending ON jobs(due_ms) WHERE state = 'pending';
CREATE INDEX jobs_leased ON jobs(lease_until_ms) WHERE state = 'running';
CREATE TABLE idempotency (
    account_id TEXT COLLATE "C" NOT NULL,
    product TEXT NOT NULL,
    action TEXT NOT NULL,
    token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, product, action, token)
);
"#;

/// Limits of the pool and of every operation.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections open at once, at most.
    pub max_connections: usize,
    /// Opening one connection (TCP, start-up, session settings).
    pub connect_timeout: Duration,
    /// The server cancels a statement that runs longer (`statement_timeout`).
    pub statement_timeout: Duration,
    /// Waiting for a free connection, and then one whole operation (a batch, a claim, a read).
    pub operation_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(3),
            // Short enough that a client sees 503 well within its own read timeout while
            // the database is out of reach; the statement is cancelled before we give up.
            statement_timeout: Duration::from_secs(4),
            operation_timeout: Duration::from_secs(5),
        }
    }
}

pub struct PostgresStore {
    config: Config,
    options: PostgresOptions,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

/// One connection and the statements prepared on it.
struct Conn {
    client: Client,
    stmts: HashMap<String, Statement>,
}

/// A connection on loan; it goes back to the pool only if it is known to be healthy.
struct Lease<'a> {
    store: &'a PostgresStore,
    conn: Option<Conn>,
    keep: bool,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }

    fn finish<T>(&mut self, out: &PgResult<T>) {
        self.keep = match out {
            Ok(_) => true,
            Err(e) => e.connection_is_healthy(),
        };
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.keep && !conn.client.is_closed() {
                self.store.idle.lock().expect("pool lock").push(conn);
            }
        }
    }
}

type PgResult<T> = std::result::Result<T, Error>;

/// Errors inside this crate: a driver error keeps its code until it is mapped.
#[derive(Debug)]
enum Error {
    Db(tokio_postgres::Error),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Db(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl Error {
    fn into_store(self) -> StoreError {
        match self {
            Error::Store(e) => e,
            Error::Db(e) => match e.code() {
                Some(c)
                    if *c == SqlState::UNIQUE_VIOLATION
                        || *c == SqlState::FOREIGN_KEY_VIOLATION =>
                {
                    StoreError::Conflict(describe(&e))
                }
                _ => StoreError::Unavailable(describe(&e)),
            },
        }
    }

    /// Lost a race that a retry can win.
    fn is_transient(&self) -> bool {
        matches!(self, Error::Db(e) if e.code().is_some_and(|c| {
            *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        }))
    }

    /// The server answered (with an error), so the connection can serve the next caller.
    /// Timeouts and I/O errors leave it in an unknown state: it is dropped instead.
    fn connection_is_healthy(&self) -> bool {
        match self {
            Error::Db(e) => e.as_db_error().is_some() && !e.is_closed(),
            Error::Store(
                StoreError::Conflict(_) | StoreError::Corrupt(_) | StoreError::NameTaken { .. },
            ) => true,
            Error::Store(StoreError::Unavailable(_)) => false,
        }
    }
}

/// The server's code and message, or the driver's error and its cause.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("postgres {}: {}", db.code().code(), db.message());
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("postgres: {e}: {cause}"),
        None => format!("postgres: {e}"),
    }
}

fn unavailable(msg: impl Into<String>) -> Error {
    Error::Store(StoreError::Unavailable(msg.into()))
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Store(StoreError::Corrupt(e.to_string()))
}

/// Maps constraint failures of one insert to `Conflict`, naming what was inserted.
fn insert_err(what: &str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
    move |e| match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => {
            Error::Store(StoreError::Conflict(format!("{what} already exists")))
        }
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => Error::Store(StoreError::Conflict(
            format!("{what} refers to a missing account"),
        )),
        _ => Error::Db(e),
    }
}

fn lease_lost(job_id: &str, owner: &str) -> Error {
    Error::Store(StoreError::Conflict(format!(
        "job {job_id} is no longer leased to {owner}"
    )))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serializing plain data cannot fail")
}

/// A job's outcome as stored. Its documents may have been read from other rows, which
/// are not parsed when read: one that is not JSON fails this write, not the store.
fn outcome_json(outcome: &JobOutcome) -> PgResult<String> {
    serde_json::to_string(outcome).map_err(corrupt)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A client (or a transaction on it) with its connection's statement cache.
struct Cached<'a, C> {
    client: &'a C,
    stmts: &'a mut HashMap<String, Statement>,
}

impl<C: GenericClient + Sync> Cached<'_, C> {
    async fn stmt(&mut self, sql: &str) -> std::result::Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        if self.stmts.len() >= MAX_CACHED_STATEMENTS {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    async fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        let s = self.stmt(sql).await?;
        self.client.execute(&s, params).await
    }

    async fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
        let s = self.stmt(sql).await?;
        self.client.query(&s, params).await
    }

    async fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Option<Row>, tokio_postgres::Error> {
        let s = self.stmt(sql).await?;
        self.client.query_opt(&s, params).await
    }

    async fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Row, tokio_postgres::Error> {
        let s = self.stmt(sql).await?;
        self.client.query_one(&s, params).await
    }
}

impl Conn {
    fn cached(&mut self) -> Cached<'_, Client> {
        Cached {
            client: &self.client,
            stmts: &mut self.stmts,
        }
    }
}

/// Runs `$body` (a future using `$conn: &mut Conn`) on a pooled connection, within the
/// operation timeout, and gives the connection back only if it is still healthy.
macro_rules! on_conn {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let store: &PostgresStore = $store;
        async {
            let mut lease = store.lease().await?;
            let out = {
                let $conn: &mut Conn = lease.conn();
                store.timed($body).await
            };
            lease.finish(&out);
            out
        }
        .await
    }};
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db?...` or `key=value` form) with the
    /// default limits, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    pub async fn connect_with(url: &str, options: PostgresOptions) -> Result<Self> {
        // The driver's message never repeats the URL, which may hold a password.
        let config: Config = url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        Self::connect_config(config, options).await
    }

    pub async fn connect_config(mut config: Config, options: PostgresOptions) -> Result<Self> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("cloudtwin");
        }
        let store = Self {
            config,
            permits: Semaphore::new(options.max_connections.max(1)),
            options,
            idle: Mutex::new(Vec::new()),
        };
        on_conn!(&store, |conn| migrate(&mut conn.client)).map_err(Error::into_store)?;
        Ok(store)
    }

    async fn open(&self) -> PgResult<Conn> {
        let opening = async {
            let (client, connection) = self.config.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "postgres connection ended");
                }
            });
            client
                .batch_execute(&format!(
                    "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = {}",
                    self.options.statement_timeout.as_millis(),
                    self.options.operation_timeout.as_millis().max(1000) * 2,
                ))
                .await?;
            Ok::<_, Error>(Conn {
                client,
                stmts: HashMap::new(),
            })
        };
        match tokio::time::timeout(self.options.connect_timeout, opening).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(unavailable(format!(
                "cannot connect to PostgreSQL: {}",
                e.into_store_message()
            ))),
            Err(_) => Err(unavailable(format!(
                "cannot connect to PostgreSQL: no answer within {:?}",
                self.options.connect_timeout
            ))),
        }
    }

    async fn lease(&self) -> PgResult<Lease<'_>> {
        let permit = tokio::time::timeout(self.options.operation_timeout, self.permits.acquire())
            .await
            .map_err(|_| unavailable("timed out waiting for a PostgreSQL connection"))?
            .map_err(|_| unavailable("the PostgreSQL pool is closed"))?;
        let pooled = loop {
            let next = self.idle.lock().expect("pool lock").pop();
            match next {
                Some(c) if c.client.is_closed() => continue,
                other => break other,
            }
        };
        let conn = match pooled {
            Some(c) => c,
            None => self.open().await?,
        };
        Ok(Lease {
            store: self,
            conn: Some(conn),
            keep: false,
            _permit: permit,
        })
    }

    async fn timed<T>(&self, work: impl Future<Output = PgResult<T>>) -> PgResult<T> {
        match tokio::time::timeout(self.options.operation_timeout, work).await {
            Ok(out) => out,
            Err(_) => Err(unavailable(format!(
                "PostgreSQL did not answer within {:?}",
                self.options.operation_timeout
            ))),
        }
    }

    /// A write, retried when it lost a deadlock or serialization race (nothing of it
    /// was committed then).
    async fn commit_batch(&self, batch: &[Mutation]) -> PgResult<()> {
        let mut attempt = 1;
        loop {
            let out = on_conn!(self, |conn| apply_batch(conn, batch));
            match out {
                Err(e) if e.is_transient() && attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(error = ?e, attempt, "postgres batch retried");
                    tokio::time::sleep(Duration::from_millis(5 * attempt as u64)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

impl Error {
    fn into_store_message(self) -> String {
        match self.into_store() {
            StoreError::Conflict(m) | StoreError::Unavailable(m) | StoreError::Corrupt(m) => m,
            taken @ StoreError::NameTaken { .. } => taken.to_string(),
        }
    }
}

async fn migrate(client: &mut Client) -> PgResult<()> {
    let tx = client.transaction().await?;
    // Quiet the notice "schema_version already exists, skipping" on every start.
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let current: Option<i64> = tx
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await?
        .try_get(0)
        .map_err(corrupt)?;
    let current = current.unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(Error::Store(StoreError::Corrupt(format!(
            "the database has schema version {current}, newer than this cloudtwin ({SCHEMA_VERSION}); upgrade cloudtwin"
        ))));
    }
    for (version, sql) in MIGRATIONS {
        if *version > current {
            tx.batch_execute(&sql()).await?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[version],
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn apply_batch(conn: &mut Conn, batch: &[Mutation]) -> PgResult<()> {
    // One statement commits atomically by itself: no BEGIN and COMMIT round trips. This is
    // the nonce check on every Alibaba request, a lease renewal, most updates.
    if let [only] = batch {
        if !matches!(only, Mutation::InsertIdempotency { .. }) {
            return apply(&mut conn.cached(), only).await;
        }
    }
    let tx = conn.client.transaction().await?;
    {
        let mut c = Cached {
            client: &tx,
            stmts: &mut conn.stmts,
        };
        for m in batch {
            apply(&mut c, m).await?;
        }
    }
    // On any error above, dropping `tx` rolls the whole batch back.
    tx.commit().await?;
    Ok(())
}

async fn apply<C: GenericClient + Sync>(c: &mut Cached<'_, C>, m: &Mutation) -> PgResult<()> {
    match m {
        Mutation::InsertAccount(a) => {
            c.execute(
                "INSERT INTO accounts (id, name, domain_id, created_ms) VALUES ($1, $2, $3, $4)",
                &[&a.id, &a.name, &a.domain_id, &a.created_ms],
            )
            .await
            .map_err(insert_err("account"))?;
        }
        Mutation::PutAccessKey(k) => {
            c.execute(
                "INSERT INTO access_keys (id, account_id, secret, created_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET account_id = EXCLUDED.account_id, secret = EXCLUDED.secret",
                &[&k.id, &k.account_id, &k.secret_ciphertext, &k.created_ms],
            )
            .await
            .map_err(insert_err("access key"))?;
        }
        Mutation::PutIamPassword(p) => {
            c.execute(
                "INSERT INTO iam_passwords (account_id, hash, updated_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (account_id) DO UPDATE SET hash = EXCLUDED.hash, updated_ms = EXCLUDED.updated_ms",
                &[&p.account_id, &p.hash, &p.updated_ms],
            )
            .await
            .map_err(|e| match e.code() {
                Some(code) if *code == SqlState::FOREIGN_KEY_VIOLATION => {
                    Error::Store(StoreError::Conflict(format!("no account {}", p.account_id)))
                }
                _ => Error::Db(e),
            })?;
        }
        Mutation::RequireNameFree(claim) => {
            // Read committed sees no row that a transaction still open inserted: the lock,
            // held to the end of the transaction, makes two claims of one name take turns.
            let key = format!(
                "{}/{}/{}",
                claim.account_id,
                claim.product.as_str(),
                claim.name
            );
            c.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                &[&key],
            )
            .await?;
            let (filter, args) = instance_filter(&claim.query());
            let found = c
                .query(
                    &format!("SELECT id, region FROM instances WHERE {filter}"),
                    &params(&args),
                )
                .await?;
            for row in found {
                let id: String = row.try_get(0).map_err(corrupt)?;
                let region: String = row.try_get(1).map_err(corrupt)?;
                claim.check(&id, &region).map_err(Error::Store)?;
            }
        }
        Mutation::InsertInstance(i) => {
            let tags = json(&i.tags);
            let doc = i.doc.as_str();
            c.execute(
                "INSERT INTO instances (id, account_id, product, region, name, status, resource_group_id,
                    tags, doc, created_ms, updated_ms, deleted, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11, $12, 1)",
                &[
                    &i.id,
                    &i.account_id,
                    &i.product.as_str(),
                    &i.region,
                    &i.name,
                    &i.status,
                    &i.resource_group_id,
                    &tags,
                    &doc,
                    &i.created_ms,
                    &i.updated_ms,
                    &i.deleted,
                ],
            )
            .await
            .map_err(insert_err("instance"))?;
        }
        Mutation::UpdateInstance(i) => {
            let tags = json(&i.tags);
            let doc = i.doc.as_str();
            let n = c
                .execute(
                    "UPDATE instances SET region = $2, name = $3, status = $4, resource_group_id = $5,
                        tags = $6::text::jsonb, doc = $7, updated_ms = $8, deleted = $9, version = version + 1
                     WHERE id = $1 AND version = $10",
                    &[
                        &i.id,
                        &i.region,
                        &i.name,
                        &i.status,
                        &i.resource_group_id,
                        &tags,
                        &doc,
                        &i.updated_ms,
                        &i.deleted,
                        &i.version,
                    ],
                )
                .await?;
            if n != 1 {
                return Err(Error::Store(StoreError::Conflict(format!(
                    "instance {} changed since it was read",
                    i.id
                ))));
            }
        }
        Mutation::PutJob(j) => {
            let outcome = outcome_json(&j.outcome)?;
            c.execute(
                "INSERT INTO jobs (id, account_id, product, instance_id, operation, state, outcome,
                    created_ms, due_ms, finished_ms, attempts, lease_owner, lease_until_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, outcome = EXCLUDED.outcome,
                    due_ms = EXCLUDED.due_ms, finished_ms = EXCLUDED.finished_ms,
                    attempts = EXCLUDED.attempts, lease_owner = EXCLUDED.lease_owner,
                    lease_until_ms = EXCLUDED.lease_until_ms",
                &[
                    &j.id,
                    &j.account_id,
                    &j.product.as_str(),
                    &j.instance_id,
                    &j.operation,
                    &j.state.as_str(),
                    &outcome,
                    &j.created_ms,
                    &j.due_ms,
                    &j.finished_ms,
                    &j.attempts,
                    &j.lease_owner,
                    &j.lease_until_ms,
                ],
            )
            .await?;
        }
        Mutation::InsertNonce {
            access_key_id,
            nonce,
            expires_ms,
            now_ms,
        } => {
            // One statement: a live record makes it change nothing (and log no error);
            // a concurrent insert of the same pair waits for the first and then sees it.
            let n = c
                .execute(
                    "INSERT INTO nonces (access_key_id, nonce, expires_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_ms = EXCLUDED.expires_ms
                     WHERE nonces.expires_ms <= $4",
                    &[access_key_id, nonce, expires_ms, now_ms],
                )
                .await?;
            if n != 1 {
                return Err(Error::Store(StoreError::Conflict(
                    "signature nonce used already".into(),
                )));
            }
        }
        Mutation::PurgeNonces { now_ms } => {
            c.execute("DELETE FROM nonces WHERE expires_ms <= $1", &[now_ms])
                .await?;
        }
        Mutation::UpdateClaimedJob { job: j, owner } => {
            let outcome = outcome_json(&j.outcome)?;
            let n = c
                .execute(
                    "UPDATE jobs SET state = $2, outcome = $3, due_ms = $4, finished_ms = $5,
                        lease_owner = $6, lease_until_ms = $7
                     WHERE id = $1 AND state = 'running' AND lease_owner = $8 AND attempts = $9",
                    &[
                        &j.id,
                        &j.state.as_str(),
                        &outcome,
                        &j.due_ms,
                        &j.finished_ms,
                        &j.lease_owner,
                        &j.lease_until_ms,
                        owner,
                        &j.attempts,
                    ],
                )
                .await?;
            if n != 1 {
                return Err(lease_lost(&j.id, owner));
            }
        }
        Mutation::ExtendLease {
            job_id,
            owner,
            attempts,
            until_ms,
        } => {
            let n = c
                .execute(
                    "UPDATE jobs SET lease_until_ms = $2
                     WHERE id = $1 AND state = 'running' AND lease_owner = $3 AND attempts = $4",
                    &[job_id, until_ms, owner, attempts],
                )
                .await?;
            if n != 1 {
                return Err(lease_lost(job_id, owner));
            }
        }
        Mutation::UnparkJob { id, due_ms } => {
            let n = c
                .execute(
                    "UPDATE jobs SET state = 'pending', due_ms = $2 WHERE id = $1 AND state = 'parked'",
                    &[id, due_ms],
                )
                .await?;
            if n != 1 {
                return Err(Error::Store(StoreError::Conflict(format!(
                    "job {id} is not parked"
                ))));
            }
        }
        Mutation::PutOrder(o) => {
            let n = c
                .execute(
                    "INSERT INTO orders (id, account_id, instance_id, status, created_ms, doc)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, doc = EXCLUDED.doc
                     WHERE orders.account_id = EXCLUDED.account_id
                       AND orders.instance_id = EXCLUDED.instance_id
                       AND orders.created_ms = EXCLUDED.created_ms",
                    &[
                        &o.id,
                        &o.account_id,
                        &o.instance_id,
                        &o.status.as_str(),
                        &o.created_ms,
                        &json(o),
                    ],
                )
                .await?;
            if n != 1 {
                return Err(Error::Store(cloudtwin_store::order_id_taken(&o.id)));
            }
        }
        Mutation::InsertIdempotency {
            record: r,
            expire_before_ms,
        } => {
            // One statement: an expired record is replaced, a live one changes nothing.
            let n = c
                .execute(
                    "INSERT INTO idempotency (account_id, product, action, token, request_hash, response, created_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (account_id, product, action, token) DO UPDATE SET
                        request_hash = excluded.request_hash, response = excluded.response,
                        created_ms = excluded.created_ms
                     WHERE idempotency.created_ms < $8",
                    &[
                        &r.account_id,
                        &r.product.as_str(),
                        &r.action,
                        &r.token,
                        &r.request_hash,
                        &r.response,
                        &r.created_ms,
                        expire_before_ms,
                    ],
                )
                .await?;
            if n != 1 {
                return Err(Error::Store(StoreError::Conflict(
                    "client token already exists".into(),
                )));
            }
        }
    }
    Ok(())
}

/// The WHERE clause for a query, naming only the conditions it has (as in SQLite), so
/// the planner can use the primary key or a listing index. Every parameter is text.
fn instance_filter(q: &InstanceQuery) -> (String, Vec<String>) {
    let mut sql = String::from("account_id = $1");
    if !q.include_released {
        sql.push_str(" AND NOT deleted");
    }
    let mut args = vec![q.account_id.clone()];
    let mut add = |column: &str, value: Option<String>| {
        if let Some(v) = value {
            args.push(v);
            sql.push_str(&format!(" AND {column} = ${}", args.len()));
        }
    };
    add("id", q.id.clone());
    add("product", q.product.map(|p| p.as_str().to_owned()));
    add("region", q.region.clone());
    add("status", q.status.clone());
    add("name", q.name_equals.clone());
    add("resource_group_id", q.resource_group_id.clone());
    for status in &q.status_not_in {
        args.push(status.clone());
        sql.push_str(&format!(" AND status <> ${}", args.len()));
    }
    if let Some(part) = &q.name_contains {
        args.push(part.clone());
        sql.push_str(&format!(" AND strpos(name, ${}) > 0", args.len()));
    }
    if cloudtwin_store::uses_name_index(q) {
        sql.push_str(" AND ");
        sql.push_str(cloudtwin_store::looked_up_by_name());
    }
    for tag in &q.tags {
        // Containment: some element has this key (and this value, unless it is empty).
        args.push(tag.key.clone());
        let key = args.len();
        if tag.value.is_empty() {
            sql.push_str(&format!(
                " AND tags @> jsonb_build_array(jsonb_build_object('key', ${key}::text))"
            ));
        } else {
            args.push(tag.value.clone());
            let value = args.len();
            sql.push_str(&format!(
                " AND tags @> jsonb_build_array(jsonb_build_object('key', ${key}::text, 'value', ${value}::text))"
            ));
        }
    }
    (sql, args)
}

fn params(args: &[String]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

const JOB_COLUMNS: &str =
    "id, account_id, product, instance_id, operation, state, outcome, created_ms,
    due_ms, finished_ms, attempts, lease_owner, lease_until_ms";

const INSTANCE_COLUMNS: &str =
    "id, account_id, product, region, name, status, resource_group_id, tags::text, doc,
    created_ms, updated_ms, deleted, version";

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> PgResult<T> {
    r.try_get(i).map_err(corrupt)
}

fn order_row(r: &Row) -> PgResult<Order> {
    let doc: String = get(r, 0)?;
    serde_json::from_str(&doc).map_err(corrupt)
}

fn product(s: String) -> PgResult<Product> {
    Product::parse(&s).ok_or_else(|| corrupt(format!("unknown product {s:?}")))
}

fn job_row(r: &Row) -> PgResult<Job> {
    let state: String = get(r, 5)?;
    let outcome: String = get(r, 6)?;
    Ok(Job {
        id: get(r, 0)?,
        account_id: get(r, 1)?,
        product: product(get(r, 2)?)?,
        instance_id: get(r, 3)?,
        operation: get(r, 4)?,
        state: JobState::parse(&state).ok_or_else(|| corrupt(format!("job state {state:?}")))?,
        outcome: serde_json::from_str::<JobOutcome>(&outcome).map_err(corrupt)?,
        created_ms: get(r, 7)?,
        due_ms: get(r, 8)?,
        finished_ms: get(r, 9)?,
        attempts: get(r, 10)?,
        lease_owner: get(r, 11)?,
        lease_until_ms: get(r, 12)?,
    })
}

fn instance_row(r: &Row) -> PgResult<Instance> {
    let tags: String = get(r, 7)?;
    let doc: String = get(r, 8)?;
    Ok(Instance {
        id: get(r, 0)?,
        account_id: get(r, 1)?,
        product: product(get(r, 2)?)?,
        region: get(r, 3)?,
        name: get(r, 4)?,
        status: get(r, 5)?,
        resource_group_id: get(r, 6)?,
        tags: serde_json::from_str::<Vec<Tag>>(&tags).map_err(corrupt)?,
        doc: Document::from_stored(doc),
        created_ms: get(r, 9)?,
        updated_ms: get(r, 10)?,
        deleted: get(r, 11)?,
        version: get(r, 12)?,
    })
}

fn account_row(r: &Row) -> PgResult<Account> {
    Ok(Account {
        id: get(r, 0)?,
        name: get(r, 1)?,
        domain_id: get(r, 2)?,
        created_ms: get(r, 3)?,
    })
}

fn key_row(r: &Row) -> PgResult<AccessKey> {
    Ok(AccessKey {
        id: get(r, 0)?,
        account_id: get(r, 1)?,
        secret_ciphertext: get(r, 2)?,
        created_ms: get(r, 3)?,
    })
}

fn rows<T>(rows: Vec<Row>, f: impl Fn(&Row) -> PgResult<T>) -> PgResult<Vec<T>> {
    rows.iter().map(f).collect()
}

async fn claim(
    conn: &mut Conn,
    now_ms: i64,
    owner: &str,
    lease_ms: i64,
    limit: usize,
) -> PgResult<Vec<Job>> {
    // The CTE locks the chosen rows; rows another claimer holds are skipped, not waited
    // for. A row that a concurrent claim has just leased fails the re-check of its lease.
    let sql = format!(
        "WITH picked AS (
            SELECT id AS picked_id FROM jobs
            WHERE state IN ('pending', 'running') AND due_ms <= $3 AND lease_until_ms <= $3
            ORDER BY due_ms, id LIMIT $4
            FOR UPDATE SKIP LOCKED
         )
         UPDATE jobs SET state = 'running', lease_owner = $1, lease_until_ms = $2,
            attempts = attempts + 1
         FROM picked WHERE jobs.id = picked.picked_id
         RETURNING {JOB_COLUMNS}"
    );
    let found = conn
        .cached()
        .query(
            &sql,
            &[
                &owner,
                &now_ms.saturating_add(lease_ms),
                &now_ms,
                &to_i64(limit),
            ],
        )
        .await?;
    let mut jobs = rows(found, job_row)?;
    jobs.sort_by(|a, b| (a.due_ms, &a.id).cmp(&(b.due_ms, &b.id)));
    Ok(jobs)
}

async fn export(conn: &mut Conn, account_id: Option<&str>) -> PgResult<StateDump> {
    // One snapshot of every table.
    let tx = conn
        .client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let (by_id, by_account) = match account_id {
        Some(_) => (" WHERE id = $1", " WHERE account_id = $1"),
        None => ("", ""),
    };
    let args: Vec<&(dyn ToSql + Sync)> = match &account_id {
        Some(a) => vec![a],
        None => Vec::new(),
    };
    let accounts = rows(
        tx.query(
            &format!("SELECT id, name, domain_id, created_ms FROM accounts{by_id} ORDER BY created_ms, id"),
            &args,
        )
        .await?,
        account_row,
    )?;
    let access_keys = rows(
        tx.query(
            &format!("SELECT id, account_id, secret, created_ms FROM access_keys{by_account} ORDER BY created_ms, id"),
            &args,
        )
        .await?,
        key_row,
    )?;
    let iam_passwords = rows(
        tx.query(
            &format!("SELECT account_id, hash, updated_ms FROM iam_passwords{by_account} ORDER BY account_id"),
            &args,
        )
        .await?,
        |r| {
            Ok(IamPassword {
                account_id: get(r, 0)?,
                hash: get(r, 1)?,
                updated_ms: get(r, 2)?,
            })
        },
    )?;
    let instances = rows(
        tx.query(
            &format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances{by_account} ORDER BY created_ms, id"
            ),
            &args,
        )
        .await?,
        instance_row,
    )?;
    let jobs = rows(
        tx.query(
            &format!("SELECT {JOB_COLUMNS} FROM jobs{by_account} ORDER BY created_ms, id"),
            &args,
        )
        .await?,
        job_row,
    )?;
    let idempotency = rows(
        tx.query(
            &format!(
                "SELECT account_id, product, action, token, request_hash, response, created_ms
                 FROM idempotency{by_account} ORDER BY created_ms, account_id, product, action, token"
            ),
            &args,
        )
        .await?,
        |r| {
            Ok(IdempotencyRecord {
                account_id: get(r, 0)?,
                product: product(get(r, 1)?)?,
                action: get(r, 2)?,
                token: get(r, 3)?,
                request_hash: get(r, 4)?,
                response: get(r, 5)?,
                created_ms: get(r, 6)?,
            })
        },
    )?;
    let orders = rows(
        tx.query(
            &format!("SELECT doc FROM orders{by_account} ORDER BY created_ms, id"),
            &args,
        )
        .await?,
        order_row,
    )?;
    // Nonces stay out: replay protection for requests in flight, not state.
    tx.commit().await?;
    Ok(StateDump {
        accounts,
        access_keys,
        iam_passwords,
        instances,
        jobs,
        idempotency,
        orders,
    })
}

async fn import(conn: &mut Conn, dump: &StateDump) -> PgResult<()> {
    let tx = conn.client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK])
        .await?;
    let occupied: bool = get(
        &tx.query_one(
            "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM instances)",
            &[],
        )
        .await?,
        0,
    )?;
    if occupied {
        return Err(Error::Store(StoreError::Conflict(
            "the store is not empty: it holds accounts or instances".into(),
        )));
    }
    let mut stmts = HashMap::new();
    let mut c = Cached {
        client: &tx,
        stmts: &mut stmts,
    };
    for a in &dump.accounts {
        apply(&mut c, &Mutation::InsertAccount(a.clone())).await?;
    }
    for k in &dump.access_keys {
        apply(&mut c, &Mutation::PutAccessKey(k.clone())).await?;
    }
    for p in &dump.iam_passwords {
        apply(&mut c, &Mutation::PutIamPassword(p.clone())).await?;
    }
    for i in &dump.instances {
        // Kept as is, version included, so optimistic checks go on where they left off.
        let tags = json(&i.tags);
        let doc = i.doc.as_str();
        c.execute(
            "INSERT INTO instances (id, account_id, product, region, name, status, resource_group_id,
                tags, doc, created_ms, updated_ms, deleted, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11, $12, $13)",
            &[
                &i.id,
                &i.account_id,
                &i.product.as_str(),
                &i.region,
                &i.name,
                &i.status,
                &i.resource_group_id,
                &tags,
                &doc,
                &i.created_ms,
                &i.updated_ms,
                &i.deleted,
                &i.version,
            ],
        )
        .await
        .map_err(insert_err("instance"))?;
    }
    for j in &dump.jobs {
        apply(&mut c, &Mutation::PutJob(j.clone())).await?;
    }
    for r in &dump.idempotency {
        apply(
            &mut c,
            &Mutation::InsertIdempotency {
                record: r.clone(),
                expire_before_ms: i64::MIN,
            },
        )
        .await?;
    }
    for o in &dump.orders {
        c.execute(
            "INSERT INTO orders (id, account_id, instance_id, status, created_ms, doc)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &o.id,
                &o.account_id,
                &o.instance_id,
                &o.status.as_str(),
                &o.created_ms,
                &json(o),
            ],
        )
        .await
        .map_err(insert_err("order"))?;
    }
    tx.commit().await?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn commit(&self, batch: Vec<Mutation>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.commit_batch(&batch).await.map_err(Error::into_store)
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        on_conn!(self, |conn| async move {
            let row = conn
                .cached()
                .query_opt(
                    "SELECT id, name, domain_id, created_ms FROM accounts WHERE id = $1",
                    &[&id],
                )
                .await?;
            row.as_ref().map(account_row).transpose()
        })
        .map_err(Error::into_store)
    }

    async fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        on_conn!(self, |conn| async move {
            let row = conn
                .cached()
                .query_opt(
                    "SELECT id, name, domain_id, created_ms FROM accounts WHERE name = $1",
                    &[&name],
                )
                .await?;
            row.as_ref().map(account_row).transpose()
        })
        .map_err(Error::into_store)
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        on_conn!(self, |conn| async move {
            let found = conn
                .cached()
                .query(
                    "SELECT id, name, domain_id, created_ms FROM accounts ORDER BY created_ms, id",
                    &[],
                )
                .await?;
            rows(found, account_row)
        })
        .map_err(Error::into_store)
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        on_conn!(self, |conn| async move {
            let row = conn
                .cached()
                .query_opt(
                    "SELECT id, account_id, secret, created_ms FROM access_keys WHERE id = $1",
                    &[&id],
                )
                .await?;
            row.as_ref().map(key_row).transpose()
        })
        .map_err(Error::into_store)
    }

    async fn access_keys(&self, account_id: &str) -> Result<Vec<AccessKey>> {
        on_conn!(self, |conn| async move {
            let found = conn
                .cached()
                .query(
                    "SELECT id, account_id, secret, created_ms FROM access_keys
                     WHERE account_id = $1 ORDER BY created_ms, id",
                    &[&account_id],
                )
                .await?;
            rows(found, key_row)
        })
        .map_err(Error::into_store)
    }

    async fn iam_password(&self, account_id: &str) -> Result<Option<IamPassword>> {
        on_conn!(self, |conn| async move {
            let row = conn
                .cached()
                .query_opt(
                    "SELECT account_id, hash, updated_ms FROM iam_passwords WHERE account_id = $1",
                    &[&account_id],
                )
                .await?;
            row.as_ref()
                .map(|r| -> PgResult<IamPassword> {
                    Ok(IamPassword {
                        account_id: get(r, 0)?,
                        hash: get(r, 1)?,
                        updated_ms: get(r, 2)?,
                    })
                })
                .transpose()
        })
        .map_err(Error::into_store)
    }

    async fn instance(&self, account_id: &str, id: &str) -> Result<Option<Instance>> {
        on_conn!(self, |conn| async move {
            let sql = format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = $1 AND account_id = $2"
            );
            let row = conn.cached().query_opt(&sql, &[&id, &account_id]).await?;
            row.as_ref().map(instance_row).transpose()
        })
        .map_err(Error::into_store)
    }

    async fn instances(&self, q: &InstanceQuery) -> Result<Vec<Instance>> {
        on_conn!(self, |conn| async move {
            let (filter, args) = instance_filter(q);
            let sql = format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE {filter}
                 ORDER BY created_ms DESC, id DESC"
            );
            let found = conn.cached().query(&sql, &params(&args)).await?;
            rows(found, instance_row)
        })
        .map_err(Error::into_store)
    }

    async fn instances_page(
        &self,
        q: &InstanceQuery,
        offset: usize,
        limit: usize,
    ) -> Result<InstancePage> {
        on_conn!(self, |conn| async move {
            let (filter, args) = instance_filter(q);
            let n = args.len();
            let sql = format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE {filter}
                 ORDER BY created_ms DESC, id DESC LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            );
            let (limit_arg, offset_arg) = (to_i64(limit), to_i64(offset));
            let mut all = params(&args);
            all.push(&limit_arg);
            all.push(&offset_arg);
            let found = conn.cached().query(&sql, &all).await?;
            let items = rows(found, instance_row)?;
            let total = match InstancePage::total_shown(offset, limit, items.len()) {
                Some(total) => total,
                None => {
                    let count_sql = format!("SELECT count(*) FROM instances WHERE {filter}");
                    let counted: i64 = get(
                        &conn.cached().query_one(&count_sql, &params(&args)).await?,
                        0,
                    )?;
                    usize::try_from(counted).map_err(corrupt)?
                }
            };
            Ok::<_, Error>(InstancePage { items, total })
        })
        .map_err(Error::into_store)
    }

    async fn instance_jobs(&self, account_id: &str, instance_id: &str) -> Result<Vec<Job>> {
        on_conn!(self, |conn| async move {
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE instance_id = $1 AND account_id = $2
                 ORDER BY created_ms, id"
            );
            let found = conn
                .cached()
                .query(&sql, &[&instance_id, &account_id])
                .await?;
            rows(found, job_row)
        })
        .map_err(Error::into_store)
    }

    async fn jobs(&self, q: &JobQuery) -> Result<Vec<Job>> {
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE TRUE");
        let mut args = Vec::new();
        let mut add = |column: &str, value: Option<String>| {
            if let Some(v) = value {
                args.push(v);
                sql.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        };
        add("id", q.id.clone());
        add("instance_id", q.instance_id.clone());
        add("product", q.product.map(|p| p.as_str().to_owned()));
        add("state", q.state.map(|s| s.as_str().to_owned()));
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        sql.push_str(&format!(
            " ORDER BY created_ms, id LIMIT ${}",
            args.len() + 1
        ));
        on_conn!(self, |conn| async {
            let mut all = params(&args);
            all.push(&limit);
            let found = conn.cached().query(&sql, &all).await?;
            rows(found, job_row)
        })
        .map_err(Error::into_store)
    }

    async fn order(&self, account_id: &str, id: &str) -> Result<Option<Order>> {
        on_conn!(self, |conn| async move {
            let row = conn
                .cached()
                .query_opt(
                    "SELECT doc FROM orders WHERE id = $1 AND account_id = $2",
                    &[&id, &account_id],
                )
                .await?;
            row.as_ref().map(order_row).transpose()
        })
        .map_err(Error::into_store)
    }

    async fn instance_orders(&self, account_id: &str, instance_id: &str) -> Result<Vec<Order>> {
        on_conn!(self, |conn| async move {
            let found = conn
                .cached()
                .query(
                    "SELECT doc FROM orders WHERE account_id = $1 AND instance_id = $2
                     ORDER BY created_ms, id",
                    &[&account_id, &instance_id],
                )
                .await?;
            rows(found, order_row)
        })
        .map_err(Error::into_store)
    }

    async fn idempotency(
        &self,
        account_id: &str,
        product: Product,
        action: &str,
        token: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        on_conn!(self, |conn| async move {
            let row = conn
                .cached()
                .query_opt(
                    "SELECT request_hash, response, created_ms FROM idempotency
                     WHERE account_id = $1 AND product = $2 AND action = $3 AND token = $4",
                    &[&account_id, &product.as_str(), &action, &token],
                )
                .await?;
            row.as_ref()
                .map(|r| -> PgResult<IdempotencyRecord> {
                    Ok(IdempotencyRecord {
                        account_id: account_id.to_owned(),
                        product,
                        action: action.to_owned(),
                        token: token.to_owned(),
                        request_hash: get(r, 0)?,
                        response: get(r, 1)?,
                        created_ms: get(r, 2)?,
                    })
                })
                .transpose()
        })
        .map_err(Error::into_store)
    }

    async fn claim_jobs(
        &self,
        now_ms: i64,
        owner: &str,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Job>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut attempt = 1;
        loop {
            let out = on_conn!(self, |conn| claim(conn, now_ms, owner, lease_ms, limit));
            match out {
                Err(e) if e.is_transient() && attempt < WRITE_ATTEMPTS => attempt += 1,
                other => return other.map_err(Error::into_store),
            }
        }
    }

    async fn end_leases(&self) -> Result<usize> {
        on_conn!(self, |conn| async move {
            // Keeps state, owner and attempts: the old holder's writes fail on the attempt count.
            let n = conn
                .client
                .execute(
                    "UPDATE jobs SET lease_until_ms = 0 WHERE state = 'running'",
                    &[],
                )
                .await?;
            Ok::<_, Error>(n as usize)
        })
        .map_err(Error::into_store)
    }

    async fn ping(&self) -> Result<()> {
        on_conn!(self, |conn| async move {
            conn.client.simple_query("SELECT 1").await?;
            Ok::<_, Error>(())
        })
        .map_err(Error::into_store)
    }

    async fn reset(&self, scope: ResetScope) -> Result<()> {
        on_conn!(self, |conn| async move {
            let tx = conn.client.transaction().await?;
            match scope {
                ResetScope::All => {
                    tx.batch_execute(
                        "DELETE FROM orders; DELETE FROM idempotency; DELETE FROM jobs;
                         DELETE FROM instances; DELETE FROM nonces; DELETE FROM iam_passwords;
                         DELETE FROM access_keys; DELETE FROM accounts;",
                    )
                    .await?;
                }
                ResetScope::Product(p) => {
                    for table in ["idempotency", "jobs", "instances"] {
                        tx.execute(
                            &format!("DELETE FROM {table} WHERE product = $1"),
                            &[&p.as_str()],
                        )
                        .await?;
                    }
                    // The ledger has no product column; the order's document names it.
                    tx.execute(
                        "DELETE FROM orders WHERE doc::jsonb ->> 'product' = $1",
                        &[&order_product_in_doc(p)],
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, Error>(())
        })
        .map_err(Error::into_store)
    }

    async fn state_counts(&self) -> Result<StateCounts> {
        on_conn!(self, |conn| async move {
            let mut counts = StateCounts::default();
            let jobs = conn
                .cached()
                .query(
                    "SELECT state, count(*) FROM jobs GROUP BY state ORDER BY state",
                    &[],
                )
                .await?;
            for r in jobs {
                let state: String = get(&r, 0)?;
                let n: i64 = get(&r, 1)?;
                let state = JobState::parse(&state)
                    .ok_or_else(|| corrupt(format!("job state {state:?}")))?;
                counts.jobs.push((state, n as u64));
            }
            let instances = conn
                .cached()
                .query(
                    "SELECT product, status, count(*) FROM instances WHERE NOT deleted
                     GROUP BY product, status ORDER BY product, status",
                    &[],
                )
                .await?;
            for r in instances {
                let n: i64 = get(&r, 2)?;
                counts
                    .instances
                    .push((product(get(&r, 0)?)?, get(&r, 1)?, n as u64));
            }
            Ok::<_, Error>(counts)
        })
        .map_err(Error::into_store)
    }

    async fn export(&self, account_id: Option<&str>) -> Result<StateDump> {
        on_conn!(self, |conn| export(conn, account_id)).map_err(Error::into_store)
    }

    async fn import(&self, dump: StateDump) -> Result<()> {
        let dump = &dump;
        on_conn!(self, |conn| import(conn, dump)).map_err(Error::into_store)
    }

    async fn next_job_due_ms(&self) -> Result<Option<i64>> {
        on_conn!(self, |conn| async move {
            // Two index lookups: the earliest pending job, and the earliest lease to end
            // (a leased job's lease ends after it was due). LEAST skips NULLs.
            let row = conn
                .cached()
                .query_one(
                    "SELECT LEAST(
                        (SELECT min(due_ms) FROM jobs WHERE state = 'pending'),
                        (SELECT min(lease_until_ms) FROM jobs WHERE state = 'running'))",
                    &[],
                )
                .await?;
            get::<Option<i64>>(&row, 0)
        })
        .map_err(Error::into_store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::with_db;

    #[tokio::test]
    async fn names_are_indexed_for_the_products_that_look_them_up() {
        with_db("PostgreSQL name index", |config| async move {
            drop(
                PostgresStore::connect_config(config.clone(), PostgresOptions::default())
                    .await
                    .expect("connect to the test database"),
            );
            let client = crate::testing::client(&config).await;
            // The table is empty: without this the planner scans it whatever the query. A
            // generic plan, as a cached statement may get, knows no parameter's value.
            client
                .batch_execute("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan")
                .await
                .unwrap();
            let mut plans = Vec::new();
            for product in Product::LOOKED_UP_BY_NAME
                .iter()
                .copied()
                .chain([Product::StarRocks])
            {
                let (filter, args) =
                    instance_filter(&cloudtwin_store::conformance::name_lookup(product));
                // A statement prepared by name, so its generic plan is the one explained.
                let name = format!("by_name_{}", product.as_str());
                let values: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
                client
                    .batch_execute(&format!(
                        "PREPARE {name} AS SELECT id FROM instances WHERE {filter}
                         ORDER BY created_ms DESC, id DESC"
                    ))
                    .await
                    .unwrap();
                let rows = client
                    .query(
                        &format!("EXPLAIN EXECUTE {name}({})", values.join(", ")),
                        &[],
                    )
                    .await
                    .unwrap();
                let plan: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
                plans.push((product, plan.join("\n")));
            }
            for (product, plan) in plans {
                assert_eq!(
                    plan.contains("instances_looked_up_by_name"),
                    Product::LOOKED_UP_BY_NAME.contains(&product),
                    "{product:?}: {plan}"
                );
                assert!(!plan.contains("instances_live_name"), "{plan}");
            }
        })
        .await;
    }
}
