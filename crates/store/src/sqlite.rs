//! SQLite backend. One writer thread owns the write connection and commits many
//! requests' batches in one transaction (group commit: those that arrive while the previous
//! group's WAL is being synced, `writer_loop`); if one batch fails, the group runs
//! again with a savepoint per batch, so that one failure does not undo the others. The
//! writer also holds the client tokens' index (`tokens`). Reads use a small pool of
//! connections, which WAL lets run beside the writer. Every connection opens through
//! `cloudtwin_sqlite_vfs`, which writes a commit's WAL frames together.

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cloudtwin_core::billing::Order;
use cloudtwin_core::{
    AccessKey, Account, Document, Instance, Job, JobOutcome, JobState, Product, Tag,
};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use tokio::sync::oneshot;

use rusqlite::types::Value as SqlValue;

mod tokens;

use tokens::{TokenIndex, TokenKey};

use crate::{
    order_product_in_doc, IamPassword, IdempotencyRecord, InstancePage, InstanceQuery, JobQuery,
    Mutation, ResetScope, Result, StateCounts, StateDump, Store, StoreError,
};

/// 1: first release; 2: iam_passwords; 3: the instance-name index;
/// 4: listing indexes by region and by name; 5: indexes for the next due job;
/// 6: the name index also orders by creation, so the planner prefers it to a scan;
/// 7: signature nonces; 8: the orders ledger; 9: client tokens appended by `seq`, with no
/// index on the token (the writer keeps it in memory: `tokens`), and names indexed only
/// for the products that look them up (`crate::looked_up_by_name`); 10: no index of
/// unfinished jobs (claims read the pending and the leased indexes).
const SCHEMA_VERSION: i64 = 10;
const MAX_GROUP: usize = 512;
/// An open group this large is committed even while a sync is under way: holding more
/// until the sync ends made fewer commits, but answers came in bigger waves, which queued
/// for the CPUs (bench finding 69).
const SYNC_WAIT_LIMIT: usize = 8;
const MAX_IDLE_READERS: usize = 8;
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
const WAL_EMPTYING_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// How long the checkpointer lets WAL frames gather before it copies them again. Short:
/// each pass, and the database sync that ends it, is then small, and it delays the WAL
/// syncs of commits less (the create p99; bench finding 73).
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);
/// The writer finishes a checkpoint (then the WAL starts over) only once the WAL holds
/// this many frames (16 MiB): each finish holds commits back for a database sync, and
/// after every pass that cost a sixth of RocketMQ's creates at c=64.
const WAL_RESTART_FRAMES: i64 = 4_096;
/// The writer checkpoints by itself only past this many WAL frames (128 MiB): normally it
/// finishes the checkpointer's passes long before (`finish_checkpoint`).
const WRITER_AUTOCHECKPOINT: u32 = 32_000;
/// What the writer is left to copy after the checkpointer's passes (1 MiB of 4-KiB pages).
const SHORT_TAIL_FRAMES: i64 = 256;
const MAX_CHECKPOINT_PASSES: usize = 6;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    domain_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    secret BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_keys_account ON access_keys(account_id);
CREATE TABLE IF NOT EXISTS instances (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    product TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    resource_group_id TEXT NOT NULL,
    tags TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS instances_owner ON instances(account_id, product, deleted, created_ms);
-- Every equality a listing uses comes before the order, so the planner prefers these.
DROP INDEX IF EXISTS instances_name;
CREATE INDEX IF NOT EXISTS instances_by_region ON instances(account_id, product, deleted, region, created_ms);
DROP INDEX IF EXISTS instances_by_name;
DROP INDEX IF EXISTS instances_by_name_created;
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    product TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    due_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    attempts INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_instance ON jobs(instance_id, created_ms);
-- Claims read pending jobs by due time and running ones by lease: no index of both, which
-- every pending job paid for when written and again when finished (bench finding 86).
DROP INDEX IF EXISTS jobs_unfinished;
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs(due_ms) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS jobs_leased ON jobs(lease_until_ms) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS iam_passwords (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    hash TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    product TEXT NOT NULL,
    action TEXT NOT NULL,
    token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    access_key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces(expires_ms);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_instance ON orders(account_id, instance_id, created_ms);
";

/// What the writer thread receives.
enum WriterMsg {
    Cmd(WriteCmd),
    /// The sync thread has answered everything handed to it.
    SyncIdle,
    /// The store is dropped: commit what is open, then end (the sync thread holds a sender,
    /// so the channel never closes by itself).
    Stop,
}

enum WriteCmd {
    Batch(Vec<Mutation>, oneshot::Sender<Result<()>>),
    Claim {
        now_ms: i64,
        owner: String,
        lease_ms: i64,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<Job>>>,
    },
    /// A write that is not a batch of mutations (reset, import), in its own savepoint.
    Exec(ExecFn, oneshot::Sender<Result<()>>),
    /// The record of a client token: read by the writer, which holds their index.
    FindToken {
        account_id: String,
        product: Product,
        action: String,
        token: String,
        reply: oneshot::Sender<Result<Option<IdempotencyRecord>>>,
    },
}

impl WriteCmd {
    /// Runs a command other than `Exec` inside the group's transaction.
    fn run(&self, conn: &Writer<'_>, tokens: &mut TokenIndex) -> Result<Ran> {
        match self {
            WriteCmd::Batch(batch, _) => batch
                .iter()
                .try_for_each(|m| apply(conn, tokens, m))
                .map(|()| Ran::Written),
            WriteCmd::Claim {
                now_ms,
                owner,
                lease_ms,
                limit,
                ..
            } => claim(conn, *now_ms, owner, *lease_ms, *limit).map(Ran::Claimed),
            WriteCmd::FindToken {
                account_id,
                product,
                action,
                token,
                ..
            } => tokens
                .find(
                    conn,
                    &TokenKey {
                        account_id,
                        product: *product,
                        action,
                        token,
                    },
                )
                .map(Ran::Found),
            WriteCmd::Exec(..) => unreachable!("an Exec runs with its own connection access"),
        }
    }

    /// Pairs the command's reply with what it gave, or with the failure of its group.
    fn outcome(self, ran: Result<Ran>) -> Outcome {
        match self {
            WriteCmd::Batch(_, reply) | WriteCmd::Exec(_, reply) => {
                Outcome::Batch(reply, ran.map(drop))
            }
            WriteCmd::Claim { reply, .. } => Outcome::Claim(
                reply,
                ran.map(|r| match r {
                    Ran::Claimed(jobs) => jobs,
                    _ => unreachable!("a claim gives jobs"),
                }),
            ),
            WriteCmd::FindToken { reply, .. } => Outcome::Found(
                reply,
                ran.map(|r| match r {
                    Ran::Found(record) => record,
                    _ => unreachable!("a lookup gives a record"),
                }),
            ),
        }
    }
}

/// What a command gave, before its group is synced.
enum Ran {
    Written,
    Claimed(Vec<Job>),
    Found(Option<IdempotencyRecord>),
}

type ExecFn = Box<dyn FnOnce(&Connection) -> Result<()> + Send>;

pub struct SqliteStore {
    path: std::path::PathBuf,
    writer: mpsc::Sender<WriterMsg>,
    readers: Mutex<Vec<Connection>>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        let _ = self.writer.send(WriterMsg::Stop);
    }
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn open(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // The WAL's frames go out in a few writes per commit instead of two per page.
    let conn = match cloudtwin_sqlite_vfs::name() {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs),
        None => Connection::open_with_flags(path, flags),
    }
    .map_err(unavailable)?;
    conn.busy_timeout(BUSY_WAIT).map_err(unavailable)?;
    // FULL: a commit survives power loss, which is what "acknowledged" promises.
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;
         PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=8000;",
    )
    .map_err(unavailable)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and starts its writer thread.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut conn = open(&path)?;
        // The writer is the only connection whose cache stays valid across commits (a
        // reader's is dropped whenever the file changed): 16 MiB keeps the indexes that new
        // rows land in (names, tokens, orders are random keys) out of pread(2).
        conn.execute_batch("PRAGMA cache_size=-16384")
            .map_err(unavailable)?;
        migrate(&mut conn)?;
        // The writer's commits do not sync; the syncer thread does, and a commit is answered
        // only once its WAL frames are on disk (see `sync_loop`).
        conn.execute_batch(&format!(
            "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT};"
        ))
        .map_err(unavailable)?;
        let wal = std::fs::File::open(wal_path(&path)).map_err(|e| {
            StoreError::Unavailable(format!("opening the WAL of {}: {e}", path.display()))
        })?;
        let checkpointer = open(&path)?;
        let (tx, rx) = mpsc::channel();
        let (wake, woken) = mpsc::sync_channel(1);
        let tail_due = Arc::new(AtomicBool::new(false));
        let tail_due_writer = tail_due.clone();
        let (to_sync, unsynced) = mpsc::channel();
        let sync_idle = Arc::new(AtomicBool::new(true));
        let sync_idle_writer = sync_idle.clone();
        let writer = tx.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, to_sync, sync_idle_writer, wake, tail_due_writer))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        std::thread::Builder::new()
            .name("sqlite-sync".into())
            .spawn(move || sync_loop(wal, unsynced, sync_idle, writer))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, woken, tail_due))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            path,
            writer: tx,
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Queues a command for the writer and waits for its answer, which comes once the
    /// commit that holds it is synced.
    async fn ask<T>(&self, cmd: impl FnOnce(oneshot::Sender<Result<T>>) -> WriteCmd) -> Result<T> {
        let stopped = || StoreError::Unavailable("the writer thread has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(WriterMsg::Cmd(cmd(reply)))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    async fn exec(
        &self,
        work: impl FnOnce(&Connection) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        self.ask(|reply| WriteCmd::Exec(Box::new(work), reply))
            .await
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().expect("reader pool lock").pop();
        let conn = match pooled {
            Some(c) => c,
            None => open(&self.path)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().expect("reader pool lock");
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        out
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(unavailable)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {version}, newer than this cloudtwin ({SCHEMA_VERSION}); upgrade cloudtwin"
        )));
    }
    if version == SCHEMA_VERSION {
        // Nothing to do, and no write lock taken: a CLI beside a busy server opens at once.
        return Ok(());
    }
    // IMMEDIATE: a deferred transaction that upgrades to a write fails at once with
    // "database is locked" instead of waiting for the busy timeout.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)?;
    let keyed_tokens: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'idempotency')
                AND NOT EXISTS (SELECT 1 FROM pragma_table_info('idempotency') WHERE name = 'seq')",
            [],
            |r| r.get(0),
        )
        .map_err(unavailable)?;
    if keyed_tokens {
        // Before 9: the token's primary key goes; the records stay, oldest first.
        tx.execute_batch("ALTER TABLE idempotency RENAME TO idempotency_v8;")
            .map_err(unavailable)?;
        tx.execute_batch(SCHEMA).map_err(unavailable)?;
        tx.execute_batch(
            "INSERT INTO idempotency (account_id, product, action, token, request_hash, response, created_ms)
             SELECT account_id, product, action, token, request_hash, response, created_ms
             FROM idempotency_v8 ORDER BY created_ms;
             DROP TABLE idempotency_v8;",
        )
        .map_err(unavailable)?;
    }
    tx.execute_batch(SCHEMA).map_err(unavailable)?;
    tx.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS instances_looked_up_by_name
         ON instances(account_id, product, deleted, name, created_ms) WHERE {}",
        crate::looked_up_by_name()
    ))
    .map_err(unavailable)?;
    tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
        .map_err(unavailable)?;
    tx.commit().map_err(unavailable)
}

/// Runs commands as they arrive in one open transaction, and commits it when the sync
/// thread can take it (`SyncIdle`) or once `SYNC_WAIT_LIMIT` commands are open; between
/// groups, finishes the checkpointer's work when the WAL is due to start over.
fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<WriterMsg>,
    to_sync: mpsc::Sender<Vec<Outcome>>,
    sync_idle: Arc<AtomicBool>,
    wake_checkpointer: mpsc::SyncSender<()>,
    tail_due: Arc<AtomicBool>,
) {
    let conn = Writer::new(&conn);
    let mut tokens = TokenIndex::default();
    let mut open = OpenGroup::default();
    let hand_over = |outcomes: Vec<Outcome>| {
        if !outcomes.is_empty() && to_sync.send(outcomes).is_err() {
            tracing::error!("the WAL sync thread has stopped; writes are no longer answered");
        }
    };
    let mut stopping = false;
    while !stopping {
        let Ok(first) = rx.recv() else { break };
        let mut next = Some(first);
        let mut committed = false;
        while let Some(msg) = next {
            match msg {
                WriterMsg::Cmd(cmd) => {
                    let done = open.run(&conn, &mut tokens, cmd);
                    committed |= !done.is_empty();
                    hand_over(done);
                }
                WriterMsg::SyncIdle => {}
                WriterMsg::Stop => stopping = true,
            }
            if stopping || open.len() >= MAX_GROUP {
                break;
            }
            next = rx.try_recv().ok();
        }
        // The group is committed once the sync thread can take it at once: until then,
        // the commands that arrive join it, so one commit (and its WAL pages) serves more.
        if !open.is_empty()
            && (stopping
                || open.len() >= SYNC_WAIT_LIMIT
                || sync_idle.swap(false, Ordering::AcqRel))
        {
            hand_over(open.commit(&conn, &mut tokens));
            committed = true;
        }
        if committed && open.is_empty() {
            if tail_due.swap(false, Ordering::Relaxed) {
                finish_checkpoint(&conn);
            }
            // A wake-up already pending covers this commit too.
            let _ = wake_checkpointer.try_send(());
        }
    }
    hand_over(open.commit(&conn, &mut tokens));
}

/// Copies the frames committed since the checkpointer's last pass, so that the next
/// transaction starts the WAL over. Run by the writer, between two groups: no frame is
/// added meanwhile, so the copy completes, and it is short (the checkpointer has just
/// copied and synced the rest). Left to the WAL size limit instead, the writer's own
/// checkpoint came every ~100 ms with a database sync of every page the checkpointer had
/// not yet synced, 10 ms during which no commit ran (the create p99).
fn finish_checkpoint(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "WAL checkpoint by the writer failed");
    }
}

fn wal_path(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

/// Makes committed groups durable, then answers them. The writer commits with
/// `synchronous=NORMAL` (no sync per commit) and runs the next group's commands while this
/// thread runs one fdatasync(2) for every group committed so far, then commits that group
/// when this thread says it is idle (`WriterMsg::SyncIdle`): a group's frames were
/// written before it was queued here, and a sync of the file covers every write made
/// before it, through any descriptor. Checkpoints and WAL restarts keep their own syncs
/// under NORMAL, so a synced commit survives power loss as under FULL.
fn sync_loop(
    wal: std::fs::File,
    unsynced: mpsc::Receiver<Vec<Outcome>>,
    idle: Arc<AtomicBool>,
    writer: mpsc::Sender<WriterMsg>,
) {
    loop {
        let mut waiting = match unsynced.try_recv() {
            Ok(first) => first,
            Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {
                // Nothing to sync: the writer's open group can be committed and handed over.
                idle.store(true, Ordering::Release);
                // Gone only once the store is dropped, when nothing waits for this.
                let _ = writer.send(WriterMsg::SyncIdle);
                match unsynced.recv() {
                    Ok(first) => first,
                    Err(_) => break,
                }
            }
        };
        while let Ok(more) = unsynced.try_recv() {
            waiting.extend(more);
        }
        let synced = wal.sync_data().map_err(|e| {
            tracing::error!(error = %e, "syncing the WAL failed");
            StoreError::Unavailable(format!("syncing the WAL: {e}"))
        });
        for outcome in waiting {
            outcome.answer(synced.clone());
        }
    }
}

/// Copies committed WAL frames into the database file beside the writer. PASSIVE never
/// blocks a commit, so no commit waits behind a checkpoint's page writes and fsync (they
/// made the p99 of creates 4× their p90). Under steady writes a pass never catches up
/// with the last frame, so once the WAL has grown to `WAL_RESTART_FRAMES` the writer copies
/// the rest after a pass (`finish_checkpoint`) and its next transaction starts the WAL
/// over. Ends with the writer.
fn checkpoint_loop(conn: Connection, woken: mpsc::Receiver<()>, tail_due: Arc<AtomicBool>) {
    while woken.recv().is_ok() {
        // Passes until one finds only a short tail to copy: the writer copies what a pass
        // leaves, and syncs it to the database while no commit runs.
        let mut copied_to = None;
        for _ in 0..MAX_CHECKPOINT_PASSES {
            let pass = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            });
            match pass {
                Ok((0, wal_frames)) => {
                    let short = copied_to.is_some_and(|c| wal_frames - c <= SHORT_TAIL_FRAMES);
                    copied_to = Some(wal_frames);
                    if short {
                        break;
                    }
                }
                // Busy (a reader's snapshot or the writer's own checkpoint): next time.
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed; tried again after the next commit");
                    break;
                }
            }
        }
        if copied_to.is_some_and(|wal_frames| wal_frames >= WAL_RESTART_FRAMES) {
            tail_due.store(true, Ordering::Relaxed);
        }
        std::thread::sleep(CHECKPOINT_PAUSE);
    }
}

/// Runs `group` and commits it (tests: the writer builds its groups as commands arrive).
#[cfg(test)]
fn run_group(conn: &mut Connection, tokens: &mut TokenIndex, group: Vec<WriteCmd>) -> Vec<Outcome> {
    let conn = &Writer::new(conn);
    let mut open = OpenGroup::default();
    let mut outcomes = Vec::new();
    for cmd in group {
        outcomes.extend(open.run(conn, tokens, cmd));
    }
    outcomes.extend(open.commit(conn, tokens));
    outcomes
}

/// The commands the writer has run in its open transaction, not yet committed. They run
/// with no savepoint each, which would copy every page a command touches to the
/// sub-journal (about a quarter of the writer's work for a create).
#[derive(Default)]
struct OpenGroup {
    /// Each command with what it gave.
    ran: Vec<(WriteCmd, Ran)>,
}

impl OpenGroup {
    fn len(&self) -> usize {
        self.ran.len()
    }

    fn is_empty(&self) -> bool {
        self.ran.is_empty()
    }

    /// Runs `cmd` in the open transaction, beginning one if none is. Answers the outcomes
    /// that were committed on the way, to be synced: an `Exec`, which runs alone after the
    /// open group is committed; or, if `cmd` failed, it and the commands before it, run
    /// again one savepoint each so that only it fails (`commit_group`).
    fn run(&mut self, conn: &Writer<'_>, tokens: &mut TokenIndex, cmd: WriteCmd) -> Vec<Outcome> {
        if matches!(cmd, WriteCmd::Exec(..)) {
            let mut outcomes = self.commit(conn, tokens);
            outcomes.extend(commit_group(conn, tokens, vec![cmd]));
            return outcomes;
        }
        if self.is_empty() {
            tokens.begin();
            if let Err(e) = conn.exec("BEGIN IMMEDIATE", []) {
                return vec![cmd.outcome(Err(unavailable(e)))];
            }
        }
        match cmd.run(conn, tokens) {
            Ok(r) => {
                self.ran.push((cmd, r));
                Vec::new()
            }
            Err(_) => {
                let mut group = self.abandon(conn, tokens);
                group.push(cmd);
                commit_group(conn, tokens, group)
            }
        }
    }

    /// Commits the open transaction: the outcomes of its commands, or the commit's error
    /// for each of them (then nothing was written).
    fn commit(&mut self, conn: &Writer<'_>, tokens: &mut TokenIndex) -> Vec<Outcome> {
        if self.is_empty() {
            return Vec::new();
        }
        let ran = std::mem::take(&mut self.ran);
        match conn.exec("COMMIT", []) {
            Ok(_) => {
                tokens.committed();
                ran.into_iter().map(|(cmd, r)| cmd.outcome(Ok(r))).collect()
            }
            Err(e) => {
                let e = unavailable(e);
                tracing::error!(error = %e, "sqlite group commit failed");
                rollback(conn);
                tokens.invalidate();
                ran.into_iter()
                    .map(|(cmd, _)| cmd.outcome(Err(e.clone())))
                    .collect()
            }
        }
    }

    /// Rolls the open transaction back and hands its commands back, with nothing written.
    fn abandon(&mut self, conn: &Writer<'_>, tokens: &mut TokenIndex) -> Vec<WriteCmd> {
        rollback(conn);
        tokens.rollback_to(0);
        self.ran.drain(..).map(|(cmd, _)| cmd).collect()
    }
}

fn rollback(conn: &Writer<'_>) {
    if !conn.is_autocommit() {
        if let Err(e) = conn.exec("ROLLBACK", []) {
            tracing::error!(error = %e, "sqlite rollback failed");
        }
    }
}

/// A command's result, answered once the commit that holds it is synced.
enum Outcome {
    Batch(oneshot::Sender<Result<()>>, Result<()>),
    Claim(oneshot::Sender<Result<Vec<Job>>>, Result<Vec<Job>>),
    Found(
        oneshot::Sender<Result<Option<IdempotencyRecord>>>,
        Result<Option<IdempotencyRecord>>,
    ),
}

impl Outcome {
    /// Answers with the command's result, or with the sync's error: a write that may not
    /// be on disk is not acknowledged.
    fn answer(self, synced: Result<()>) {
        // A receiver that went away (its request was cancelled) is not an error here.
        match self {
            Outcome::Batch(reply, r) => drop(reply.send(synced.and(r))),
            Outcome::Claim(reply, r) => drop(reply.send(synced.and(r))),
            Outcome::Found(reply, r) => drop(reply.send(synced.and(r))),
        }
    }

    fn failed(self, e: StoreError) -> Outcome {
        match self {
            Outcome::Batch(reply, _) => Outcome::Batch(reply, Err(e)),
            Outcome::Claim(reply, _) => Outcome::Claim(reply, Err(e)),
            Outcome::Found(reply, _) => Outcome::Found(reply, Err(e)),
        }
    }
}

fn commit_group(conn: &Writer<'_>, tokens: &mut TokenIndex, group: Vec<WriteCmd>) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(group.len());
    tokens.begin();
    let committed = (|| -> Result<()> {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        for cmd in group {
            let mark = tokens.mark();
            let ran = match cmd {
                WriteCmd::Exec(work, reply) => {
                    let result = in_savepoint(conn, |sp| work(sp));
                    // It may have written client tokens around the index.
                    tokens.invalidate();
                    outcomes.push(Outcome::Batch(reply, result));
                    continue;
                }
                ref cmd => in_savepoint(conn, |sp| cmd.run(sp, tokens)),
            };
            if ran.is_err() {
                tokens.rollback_to(mark);
            }
            outcomes.push(cmd.outcome(ran));
        }
        tx.commit().map_err(unavailable)
    })();
    match committed {
        Ok(()) => tokens.committed(),
        Err(e) => {
            tracing::error!(error = %e, "sqlite group commit failed");
            tokens.invalidate();
            // Nothing was written: every command fails with the commit's error.
            return outcomes.into_iter().map(|o| o.failed(e.clone())).collect();
        }
    }
    outcomes
}

fn in_savepoint<T>(conn: &Writer<'_>, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
    // Prepared once: parsing `SAVEPOINT`/`RELEASE` afresh for every batch cost about as
    // much as one of the batch's inserts.
    let run = |sql: &'static str| conn.exec(sql, []).map(drop).map_err(unavailable);
    run("SAVEPOINT batch")?;
    match f(conn) {
        Ok(v) => {
            run("RELEASE batch")?;
            Ok(v)
        }
        Err(e) => {
            run("ROLLBACK TO batch")?;
            run("RELEASE batch")?;
            Err(e)
        }
    }
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn insert_err(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| {
        if is_constraint(&e) {
            StoreError::Conflict(format!("{what} already exists"))
        } else {
            unavailable(e)
        }
    }
}

fn lease_lost(job_id: &str, owner: &str) -> StoreError {
    StoreError::Conflict(format!("job {job_id} is no longer leased to {owner}"))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serializing plain data cannot fail")
}

/// A job's outcome as stored. Its documents may have been read from other rows, which
/// are not parsed when read: one that is not JSON fails this write, not the writer.
fn outcome_json(outcome: &JobOutcome) -> Result<String> {
    serde_json::to_string(outcome).map_err(corrupt)
}

/// The write connection, with the statements of its fixed SQL kept prepared for as long as
/// it is used, found by the address of their text. rusqlite's statement cache hashed a
/// statement's whole text twice per use (~10 k instructions per create, bench finding 88).
/// What runs for every write goes through [`Writer::exec`] and [`Writer::with`]; SQL built
/// at run time, and the reads a write seldom needs (a token's stored rows, other
/// connections' new tokens, claims), go through that cache as before (`prepare_cached`,
/// reached through `Deref`).
struct Writer<'c> {
    conn: &'c Connection,
    prepared: RefCell<Vec<(SqlKey, rusqlite::Statement<'c>)>>,
}

/// A static SQL text's address and length: literals may share a prefix in the binary.
type SqlKey = (usize, usize);

impl<'c> Writer<'c> {
    fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            prepared: RefCell::new(Vec::new()),
        }
    }

    /// Runs `f` on the statement of `sql`, prepared the first time.
    fn with<T>(
        &self,
        sql: &'static str,
        f: impl FnOnce(&mut rusqlite::Statement<'c>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let key = (sql.as_ptr() as usize, sql.len());
        let mut prepared = self.prepared.borrow_mut();
        let at = match prepared.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                prepared.push((key, self.conn.prepare(sql)?));
                prepared.len() - 1
            }
        };
        f(&mut prepared[at].1)
    }

    fn exec(&self, sql: &'static str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.with(sql, |stmt| stmt.execute(params))
    }
}

impl std::ops::Deref for Writer<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

fn apply(conn: &Writer<'_>, tokens: &mut TokenIndex, m: &Mutation) -> Result<()> {
    match m {
        Mutation::InsertAccount(a) => {
            conn.exec(
                "INSERT INTO accounts (id, name, domain_id, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![a.id, a.name, a.domain_id, a.created_ms],
            )
            .map_err(insert_err("account"))?;
        }
        Mutation::PutAccessKey(k) => {
            conn.exec(
                "INSERT INTO access_keys (id, account_id, secret, created_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, secret = excluded.secret",
                params![k.id, k.account_id, k.secret_ciphertext, k.created_ms],
            )
            .map_err(insert_err("access key"))?;
        }
        Mutation::PutIamPassword(p) => {
            conn.exec(
                "INSERT INTO iam_passwords (account_id, hash, updated_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(account_id) DO UPDATE SET hash = excluded.hash, updated_ms = excluded.updated_ms",
                params![p.account_id, p.hash, p.updated_ms],
            )
            .map_err(|e| {
                if is_constraint(&e) {
                    StoreError::Conflict(format!("no account {}", p.account_id))
                } else {
                    unavailable(e)
                }
            })?;
        }
        Mutation::RequireNameFree(claim) => {
            let (filter, args) = instance_filter(&claim.query());
            let mut stmt = conn
                .prepare_cached(&format!("SELECT id, region FROM instances WHERE {filter}"))
                .map_err(unavailable)?;
            let mut rows = stmt
                .query(rusqlite::params_from_iter(args))
                .map_err(unavailable)?;
            while let Some(row) = rows.next().map_err(unavailable)? {
                let id: String = row.get(0).map_err(unavailable)?;
                let region: String = row.get(1).map_err(unavailable)?;
                claim.check(&id, &region)?;
            }
        }
        Mutation::InsertInstance(i) => {
            conn.exec(
                "INSERT INTO instances (id, account_id, product, region, name, status, resource_group_id,
                    tags, doc, created_ms, updated_ms, deleted, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1)",
                params![
                    i.id,
                    i.account_id,
                    i.product.as_str(),
                    i.region,
                    i.name,
                    i.status,
                    i.resource_group_id,
                    json(&i.tags),
                    i.doc.as_str(),
                    i.created_ms,
                    i.updated_ms,
                    i.deleted
                ],
            )
            .map_err(insert_err("instance"))?;
        }
        Mutation::UpdateInstance(i) => {
            let n = conn.exec(
                "UPDATE instances SET region = ?2, name = ?3, status = ?4, resource_group_id = ?5,
                    tags = ?6, doc = ?7, updated_ms = ?8, deleted = ?9, version = version + 1
                 WHERE id = ?1 AND version = ?10",
                params![
                    i.id,
                    i.region,
                    i.name,
                    i.status,
                    i.resource_group_id,
                    json(&i.tags),
                    i.doc.as_str(),
                    i.updated_ms,
                    i.deleted,
                    i.version
                ],
            )
            .map_err(unavailable)?;
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "instance {} changed since it was read",
                    i.id
                )));
            }
        }
        Mutation::PutJob(j) => {
            conn.exec(
                "INSERT INTO jobs (id, account_id, product, instance_id, operation, state, outcome,
                    created_ms, due_ms, finished_ms, attempts, lease_owner, lease_until_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT(id) DO UPDATE SET state = excluded.state, outcome = excluded.outcome,
                    due_ms = excluded.due_ms, finished_ms = excluded.finished_ms,
                    attempts = excluded.attempts, lease_owner = excluded.lease_owner,
                    lease_until_ms = excluded.lease_until_ms",
                params![
                    j.id,
                    j.account_id,
                    j.product.as_str(),
                    j.instance_id,
                    j.operation,
                    j.state.as_str(),
                    outcome_json(&j.outcome)?,
                    j.created_ms,
                    j.due_ms,
                    j.finished_ms,
                    j.attempts,
                    j.lease_owner,
                    j.lease_until_ms
                ],
            )
            .map_err(unavailable)?;
        }
        Mutation::InsertNonce {
            access_key_id,
            nonce,
            expires_ms,
            now_ms,
        } => {
            // One statement: a live record makes it change nothing.
            let n = conn
                .exec(
                    "INSERT INTO nonces (access_key_id, nonce, expires_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT(access_key_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms
                     WHERE nonces.expires_ms <= ?4",
                    params![access_key_id, nonce, expires_ms, now_ms],
                )
                .map_err(unavailable)?;
            if n != 1 {
                return Err(StoreError::Conflict("signature nonce used already".into()));
            }
        }
        Mutation::PurgeNonces { now_ms } => {
            conn.exec("DELETE FROM nonces WHERE expires_ms <= ?1", params![now_ms])
                .map_err(unavailable)?;
        }
        Mutation::UpdateClaimedJob { job: j, owner } => {
            let n = conn
                .exec(
                    "UPDATE jobs SET state = ?2, outcome = ?3, due_ms = ?4, finished_ms = ?5,
                        lease_owner = ?6, lease_until_ms = ?7
                     WHERE id = ?1 AND state = 'running' AND lease_owner = ?8 AND attempts = ?9",
                    params![
                        j.id,
                        j.state.as_str(),
                        outcome_json(&j.outcome)?,
                        j.due_ms,
                        j.finished_ms,
                        j.lease_owner,
                        j.lease_until_ms,
                        owner,
                        j.attempts
                    ],
                )
                .map_err(unavailable)?;
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
            let n = conn
                .exec(
                    "UPDATE jobs SET lease_until_ms = ?2
                     WHERE id = ?1 AND state = 'running' AND lease_owner = ?3 AND attempts = ?4",
                    params![job_id, until_ms, owner, attempts],
                )
                .map_err(unavailable)?;
            if n != 1 {
                return Err(lease_lost(job_id, owner));
            }
        }
        Mutation::UnparkJob { id, due_ms } => {
            let n = conn.exec(
                "UPDATE jobs SET state = 'pending', due_ms = ?2 WHERE id = ?1 AND state = 'parked'",
                params![id, due_ms],
            )
            .map_err(unavailable)?;
            if n != 1 {
                return Err(StoreError::Conflict(format!("job {id} is not parked")));
            }
        }
        Mutation::PutOrder(o) => {
            let n = conn
                .exec(
                    "INSERT INTO orders (id, account_id, instance_id, status, created_ms, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc
                     WHERE orders.account_id = excluded.account_id
                       AND orders.instance_id = excluded.instance_id
                       AND orders.created_ms = excluded.created_ms",
                    params![
                        o.id,
                        o.account_id,
                        o.instance_id,
                        o.status.as_str(),
                        o.created_ms,
                        json(o)
                    ],
                )
                .map_err(unavailable)?;
            if n != 1 {
                return Err(crate::order_id_taken(&o.id));
            }
        }
        Mutation::InsertIdempotency {
            record,
            expire_before_ms,
        } => tokens.insert(conn, record, *expire_before_ms)?,
    }
    Ok(())
}

/// The WHERE clause for a query, naming only the conditions it has, so SQLite can
/// use the primary key or the owner index instead of scanning.
fn instance_filter(q: &InstanceQuery) -> (String, Vec<SqlValue>) {
    let mut sql = String::from("account_id = ?");
    if !q.include_released {
        sql.push_str(" AND deleted = 0");
    }
    let mut args = vec![SqlValue::Text(q.account_id.clone())];
    let mut add = |clause: &str, value: Option<String>| {
        if let Some(v) = value {
            sql.push_str(" AND ");
            sql.push_str(clause);
            args.push(SqlValue::Text(v));
        }
    };
    add("id = ?", q.id.clone());
    add("product = ?", q.product.map(|p| p.as_str().to_owned()));
    add("region = ?", q.region.clone());
    add("status = ?", q.status.clone());
    add("instr(name, ?) > 0", q.name_contains.clone());
    add("name = ?", q.name_equals.clone());
    add("resource_group_id = ?", q.resource_group_id.clone());
    for status in &q.status_not_in {
        add("status <> ?", Some(status.clone()));
    }
    if crate::uses_name_index(q) {
        sql.push_str(" AND ");
        sql.push_str(crate::looked_up_by_name());
    }
    for tag in &q.tags {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM json_each(instances.tags) t
               WHERE json_extract(t.value, '$.key') = ?
                 AND (? = '' OR json_extract(t.value, '$.value') = ?))",
        );
        args.push(SqlValue::Text(tag.key.clone()));
        args.push(SqlValue::Text(tag.value.clone()));
        args.push(SqlValue::Text(tag.value.clone()));
    }
    (sql, args)
}

const JOB_COLUMNS: &str =
    "id, account_id, product, instance_id, operation, state, outcome, created_ms,
    due_ms, finished_ms, attempts, lease_owner, lease_until_ms";

/// Keeps state, owner and attempts: the old holder's writes fail on the attempt count.
const END_LEASES: &str = "UPDATE jobs SET lease_until_ms = 0 WHERE state = 'running'";

fn claim(
    conn: &Connection,
    now_ms: i64,
    owner: &str,
    lease_ms: i64,
    limit: usize,
) -> Result<Vec<Job>> {
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_until_ms = ?2, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM (
                 SELECT id, due_ms FROM (
                     SELECT id, due_ms FROM jobs WHERE state = 'pending'
                     AND due_ms <= ?3 AND lease_until_ms <= ?3 ORDER BY due_ms LIMIT ?4)
                 UNION ALL
                 SELECT id, due_ms FROM jobs WHERE state = 'running'
                 AND lease_until_ms <= ?3 AND due_ms <= ?3)
             ORDER BY due_ms LIMIT ?4)
         RETURNING {JOB_COLUMNS}"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
    let rows = stmt
        .query_map(
            params![owner, now_ms + lease_ms, now_ms, limit as i64],
            job_row,
        )
        .map_err(unavailable)?;
    collect(rows)
}

fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<Result<T>>>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(unavailable)??);
    }
    Ok(out)
}

fn order_doc(doc: String) -> Result<Order> {
    serde_json::from_str(&doc).map_err(corrupt)
}

fn product(s: String) -> Result<Product> {
    Product::parse(&s).ok_or_else(|| corrupt(format!("unknown product {s:?}")))
}

fn job_row(r: &Row<'_>) -> rusqlite::Result<Result<Job>> {
    let state: String = r.get(5)?;
    let outcome: String = r.get(6)?;
    let product_name: String = r.get(2)?;
    let built = (|| -> Result<Job> {
        Ok(Job {
            id: r.get(0).map_err(unavailable)?,
            account_id: r.get(1).map_err(unavailable)?,
            product: product(product_name)?,
            instance_id: r.get(3).map_err(unavailable)?,
            operation: r.get(4).map_err(unavailable)?,
            state: JobState::parse(&state)
                .ok_or_else(|| corrupt(format!("job state {state:?}")))?,
            outcome: serde_json::from_str::<JobOutcome>(&outcome).map_err(corrupt)?,
            created_ms: r.get(7).map_err(unavailable)?,
            due_ms: r.get(8).map_err(unavailable)?,
            finished_ms: r.get(9).map_err(unavailable)?,
            attempts: r.get(10).map_err(unavailable)?,
            lease_owner: r.get(11).map_err(unavailable)?,
            lease_until_ms: r.get(12).map_err(unavailable)?,
        })
    })();
    Ok(built)
}

const INSTANCE_COLUMNS: &str =
    "id, account_id, product, region, name, status, resource_group_id, tags, doc,
    created_ms, updated_ms, deleted, version";

fn instance_row(r: &Row<'_>) -> rusqlite::Result<Result<Instance>> {
    let product_name: String = r.get(2)?;
    let tags: String = r.get(7)?;
    let doc: String = r.get(8)?;
    let built = (|| -> Result<Instance> {
        Ok(Instance {
            id: r.get(0).map_err(unavailable)?,
            account_id: r.get(1).map_err(unavailable)?,
            product: product(product_name)?,
            region: r.get(3).map_err(unavailable)?,
            name: r.get(4).map_err(unavailable)?,
            status: r.get(5).map_err(unavailable)?,
            resource_group_id: r.get(6).map_err(unavailable)?,
            tags: serde_json::from_str::<Vec<Tag>>(&tags).map_err(corrupt)?,
            doc: Document::from_stored(doc),
            created_ms: r.get(9).map_err(unavailable)?,
            updated_ms: r.get(10).map_err(unavailable)?,
            deleted: r.get(11).map_err(unavailable)?,
            version: r.get(12).map_err(unavailable)?,
        })
    })();
    Ok(built)
}

fn account_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        name: r.get(1)?,
        domain_id: r.get(2)?,
        created_ms: r.get(3)?,
    })
}

fn key_row(r: &Row<'_>) -> rusqlite::Result<AccessKey> {
    Ok(AccessKey {
        id: r.get(0)?,
        account_id: r.get(1)?,
        secret_ciphertext: r.get(2)?,
        created_ms: r.get(3)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, batch: Vec<Mutation>) -> Result<()> {
        self.ask(|reply| WriteCmd::Batch(batch, reply)).await
    }

    async fn account(&self, id: &str) -> Result<Option<Account>> {
        self.read(|c| {
            c.query_row(
                "SELECT id, name, domain_id, created_ms FROM accounts WHERE id = ?1",
                [id],
                account_row,
            )
            .optional()
            .map_err(unavailable)
        })
    }

    async fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        self.read(|c| {
            c.query_row(
                "SELECT id, name, domain_id, created_ms FROM accounts WHERE name = ?1",
                [name],
                account_row,
            )
            .optional()
            .map_err(unavailable)
        })
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, name, domain_id, created_ms FROM accounts ORDER BY created_ms, id",
                )
                .map_err(unavailable)?;
            let rows = stmt.query_map([], account_row).map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(unavailable)
        })
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT id, account_id, secret, created_ms FROM access_keys WHERE id = ?1",
            )
            .and_then(|mut s| s.query_row([id], key_row).optional())
            .map_err(unavailable)
        })
    }

    async fn access_keys(&self, account_id: &str) -> Result<Vec<AccessKey>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, account_id, secret, created_ms FROM access_keys WHERE account_id = ?1 ORDER BY created_ms, id",
                )
                .map_err(unavailable)?;
            let rows = stmt.query_map([account_id], key_row).map_err(unavailable)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(unavailable)
        })
    }

    async fn iam_password(&self, account_id: &str) -> Result<Option<IamPassword>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT account_id, hash, updated_ms FROM iam_passwords WHERE account_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([account_id], |r| {
                    Ok(IamPassword {
                        account_id: r.get(0)?,
                        hash: r.get(1)?,
                        updated_ms: r.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(unavailable)
        })
    }

    async fn instance(&self, account_id: &str, id: &str) -> Result<Option<Instance>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ?1 AND account_id = ?2"
            );
            let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
            stmt.query_row([id, account_id], instance_row)
                .optional()
                .map_err(unavailable)?
                .transpose()
        })
    }

    async fn instances(&self, q: &InstanceQuery) -> Result<Vec<Instance>> {
        self.read(|c| {
            let (filter, args) = instance_filter(q);
            let sql = format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE {filter} ORDER BY created_ms DESC, id DESC"
            );
            let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), instance_row)
                .map_err(unavailable)?;
            collect(rows)
        })
    }

    async fn instances_page(
        &self,
        q: &InstanceQuery,
        offset: usize,
        limit: usize,
    ) -> Result<InstancePage> {
        self.read(|c| {
            let (filter, mut args) = instance_filter(q);
            let filter_args = args.len();
            let sql = format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE {filter}
                 ORDER BY created_ms DESC, id DESC LIMIT ? OFFSET ?"
            );
            args.push(SqlValue::Integer(limit as i64));
            args.push(SqlValue::Integer(offset as i64));
            let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), instance_row)
                .map_err(unavailable)?;
            let items = collect(rows)?;
            let total = match InstancePage::total_shown(offset, limit, items.len()) {
                Some(total) => total,
                None => {
                    let count_sql = format!("SELECT count(*) FROM instances WHERE {filter}");
                    let counted: i64 = c
                        .prepare_cached(&count_sql)
                        .and_then(|mut s| {
                            let filtered = &args[..filter_args];
                            s.query_row(rusqlite::params_from_iter(filtered), |r| r.get(0))
                        })
                        .map_err(unavailable)?;
                    counted as usize
                }
            };
            Ok(InstancePage { items, total })
        })
    }

    async fn instance_jobs(&self, account_id: &str, instance_id: &str) -> Result<Vec<Job>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE instance_id = ?1 AND account_id = ?2 ORDER BY created_ms, id"
            );
            let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
            let rows = stmt
                .query_map([instance_id, account_id], job_row)
                .map_err(unavailable)?;
            collect(rows)
        })
    }

    async fn jobs(&self, q: &JobQuery) -> Result<Vec<Job>> {
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1");
        let mut args = Vec::new();
        let mut add = |clause: &str, value: Option<String>| {
            if let Some(v) = value {
                sql.push_str(" AND ");
                sql.push_str(clause);
                args.push(SqlValue::Text(v));
            }
        };
        add("id = ?", q.id.clone());
        add("instance_id = ?", q.instance_id.clone());
        add("product = ?", q.product.map(|p| p.as_str().to_owned()));
        add("state = ?", q.state.map(|s| s.as_str().to_owned()));
        sql.push_str(" ORDER BY created_ms, id LIMIT ?");
        args.push(SqlValue::Integer(q.limit as i64));
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), job_row)
                .map_err(unavailable)?;
            collect(rows)
        })
    }

    async fn order(&self, account_id: &str, id: &str) -> Result<Option<Order>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT doc FROM orders WHERE id = ?1 AND account_id = ?2")
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([id, account_id], |r| r.get::<_, String>(0).map(order_doc))
                .map_err(unavailable)?;
            Ok(collect(rows)?.pop())
        })
    }

    async fn instance_orders(&self, account_id: &str, instance_id: &str) -> Result<Vec<Order>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT doc FROM orders WHERE account_id = ?1 AND instance_id = ?2
                     ORDER BY created_ms, id",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([account_id, instance_id], |r| {
                    r.get::<_, String>(0).map(order_doc)
                })
                .map_err(unavailable)?;
            collect(rows)
        })
    }

    async fn idempotency(
        &self,
        account_id: &str,
        product: Product,
        action: &str,
        token: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        self.ask(|reply| WriteCmd::FindToken {
            account_id: account_id.to_owned(),
            product,
            action: action.to_owned(),
            token: token.to_owned(),
            reply,
        })
        .await
    }

    async fn claim_jobs(
        &self,
        now_ms: i64,
        owner: &str,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Job>> {
        self.ask(|reply| WriteCmd::Claim {
            now_ms,
            owner: owner.to_owned(),
            lease_ms,
            limit,
            reply,
        })
        .await
    }

    async fn end_leases(&self) -> Result<usize> {
        // The count is read once the exec has committed.
        let ended = Arc::new(AtomicUsize::new(0));
        let counter = ended.clone();
        self.exec(move |c| {
            let n = c.execute(END_LEASES, []).map_err(unavailable)?;
            counter.store(n, Ordering::Relaxed);
            Ok(())
        })
        .await?;
        Ok(ended.load(Ordering::Relaxed))
    }

    async fn ping(&self) -> Result<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(unavailable))
    }

    async fn shutdown(&self) -> Result<()> {
        self.read(|c| {
            // TRUNCATE waits for readers and writers (busy timeout), but not for a checkpoint
            // under way (the checkpointer's, or another process's): that answers busy at once,
            // so it is tried again for a while. Past that, the WAL is left for the next start.
            let deadline = std::time::Instant::now() + WAL_EMPTYING_WAIT;
            c.busy_timeout(WAL_EMPTYING_WAIT).map_err(unavailable)?;
            let emptied = loop {
                let busy = c
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .or_else(|e| match e.sqlite_error_code() {
                        Some(rusqlite::ErrorCode::DatabaseBusy) => Ok(1),
                        _ => Err(unavailable(e)),
                    });
                match busy {
                    Ok(1) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_millis(10))
                    }
                    Ok(0) => break Ok(()),
                    Ok(_) => {
                        break Err(StoreError::Unavailable(
                            "the WAL stayed in use; it is left for the next start".into(),
                        ))
                    }
                    Err(e) => break Err(e),
                }
            };
            c.busy_timeout(BUSY_WAIT).map_err(unavailable)?;
            emptied
        })
    }

    async fn reset(&self, scope: ResetScope) -> Result<()> {
        self.exec(move |c| match scope {
            ResetScope::All => c
                .execute_batch(
                    "DELETE FROM orders; DELETE FROM idempotency; DELETE FROM jobs;
                     DELETE FROM instances; DELETE FROM nonces; DELETE FROM iam_passwords;
                     DELETE FROM access_keys; DELETE FROM accounts;",
                )
                .map_err(unavailable),
            ResetScope::Product(p) => {
                for table in ["idempotency", "jobs", "instances"] {
                    c.execute(
                        &format!("DELETE FROM {table} WHERE product = ?1"),
                        [p.as_str()],
                    )
                    .map_err(unavailable)?;
                }
                // The ledger has no product column; the order's document names it.
                c.execute(
                    "DELETE FROM orders WHERE json_extract(doc, '$.product') = ?1",
                    [order_product_in_doc(p)],
                )
                .map_err(unavailable)?;
                Ok(())
            }
        })
        .await
    }

    async fn state_counts(&self) -> Result<StateCounts> {
        self.read(|c| {
            let mut counts = StateCounts::default();
            let mut stmt = c
                .prepare_cached("SELECT state, count(*) FROM jobs GROUP BY state ORDER BY state")
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(unavailable)?;
            for row in rows {
                let (state, n) = row.map_err(unavailable)?;
                let state = JobState::parse(&state)
                    .ok_or_else(|| corrupt(format!("job state {state:?}")))?;
                counts.jobs.push((state, n as u64));
            }
            let mut stmt = c
                .prepare_cached(
                    "SELECT product, status, count(*) FROM instances WHERE deleted = 0
                     GROUP BY product, status ORDER BY product, status",
                )
                .map_err(unavailable)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(unavailable)?;
            for row in rows {
                let (p, status, n) = row.map_err(unavailable)?;
                counts.instances.push((product(p)?, status, n as u64));
            }
            Ok(counts)
        })
    }

    async fn export(&self, account_id: Option<&str>) -> Result<StateDump> {
        self.read(|c| {
            // One read transaction: every table from the same moment.
            let tx = c.unchecked_transaction().map_err(unavailable)?;
            let dump = export(&tx, account_id)?;
            tx.finish().map_err(unavailable)?;
            Ok(dump)
        })
    }

    async fn import(&self, dump: StateDump) -> Result<()> {
        self.exec(move |c| import(c, &dump)).await
    }

    async fn next_job_due_ms(&self) -> Result<Option<i64>> {
        self.read(|c| {
            // Two index lookups: the earliest pending job, and the earliest lease to end
            // (a leased job's lease ends after it was due).
            let pending: Option<i64> = c
                .prepare_cached("SELECT min(due_ms) FROM jobs WHERE state = 'pending'")
                .and_then(|mut s| s.query_row([], |r| r.get(0)))
                .map_err(unavailable)?;
            let leased: Option<i64> = c
                .prepare_cached("SELECT min(lease_until_ms) FROM jobs WHERE state = 'running'")
                .and_then(|mut s| s.query_row([], |r| r.get(0)))
                .map_err(unavailable)?;
            Ok(pending.into_iter().chain(leased).min())
        })
    }
}

/// `WHERE` for an optional account filter on a table's `account_id` (or `id`) column.
fn account_filter(column: &str, account_id: Option<&str>) -> (String, Vec<SqlValue>) {
    match account_id {
        Some(a) => (
            format!(" WHERE {column} = ?1"),
            vec![SqlValue::Text(a.to_owned())],
        ),
        None => (String::new(), Vec::new()),
    }
}

fn export(c: &Connection, account_id: Option<&str>) -> Result<StateDump> {
    fn rows<T>(
        c: &Connection,
        sql: &str,
        args: &[SqlValue],
        f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = c.prepare(sql).map_err(unavailable)?;
        let out = stmt
            .query_map(rusqlite::params_from_iter(args), f)
            .map_err(unavailable)?
            .collect::<rusqlite::Result<Vec<T>>>()
            .map_err(unavailable);
        out
    }
    let (by_id, args) = account_filter("id", account_id);
    let (by_account, _) = account_filter("account_id", account_id);
    let accounts = rows(
        c,
        &format!(
            "SELECT id, name, domain_id, created_ms FROM accounts{by_id} ORDER BY created_ms, id"
        ),
        &args,
        account_row,
    )?;
    let access_keys = rows(
        c,
        &format!("SELECT id, account_id, secret, created_ms FROM access_keys{by_account} ORDER BY created_ms, id"),
        &args,
        key_row,
    )?;
    let iam_passwords = rows(
        c,
        &format!("SELECT account_id, hash, updated_ms FROM iam_passwords{by_account} ORDER BY account_id"),
        &args,
        |r| {
            Ok(IamPassword {
                account_id: r.get(0)?,
                hash: r.get(1)?,
                updated_ms: r.get(2)?,
            })
        },
    )?;
    let instances = rows(
        c,
        &format!("SELECT {INSTANCE_COLUMNS} FROM instances{by_account} ORDER BY created_ms, id"),
        &args,
        instance_row,
    )?
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let jobs = rows(
        c,
        &format!("SELECT {JOB_COLUMNS} FROM jobs{by_account} ORDER BY created_ms, id"),
        &args,
        job_row,
    )?
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let idempotency = rows(
        c,
        &format!(
            "SELECT account_id, product, action, token, request_hash, response, created_ms
             FROM idempotency{by_account} ORDER BY created_ms, account_id, product, action, token"
        ),
        &args,
        |r| {
            Ok((
                r.get::<_, String>(1)?,
                (
                    r.get(0)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ),
            ))
        },
    )?
    .into_iter()
    .map(
        |(p, (account_id, action, token, request_hash, response, created_ms))| {
            Ok(IdempotencyRecord {
                account_id,
                product: product(p)?,
                action,
                token,
                request_hash,
                response,
                created_ms,
            })
        },
    )
    .collect::<Result<Vec<_>>>()?;
    let orders = rows(
        c,
        &format!("SELECT doc FROM orders{by_account} ORDER BY created_ms, id"),
        &args,
        |r| r.get::<_, String>(0).map(order_doc),
    )?
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    // Nonces stay out: replay protection for requests in flight, not state.
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

fn import(c: &Connection, dump: &StateDump) -> Result<()> {
    let c = &Writer::new(c);
    let occupied: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM instances)",
            [],
            |r| r.get(0),
        )
        .map_err(unavailable)?;
    if occupied {
        return Err(StoreError::Conflict(
            "the store is not empty: it holds accounts or instances".into(),
        ));
    }
    // The writer's own index is rebuilt after an import (see `commit_group`).
    let mut tokens = TokenIndex::default();
    for a in &dump.accounts {
        apply(c, &mut tokens, &Mutation::InsertAccount(a.clone()))?;
    }
    for k in &dump.access_keys {
        apply(c, &mut tokens, &Mutation::PutAccessKey(k.clone()))?;
    }
    for p in &dump.iam_passwords {
        apply(c, &mut tokens, &Mutation::PutIamPassword(p.clone()))?;
    }
    for i in &dump.instances {
        // Kept as is, version included, so optimistic checks go on where they left off.
        c.exec(
            "INSERT INTO instances (id, account_id, product, region, name, status, resource_group_id,
                tags, doc, created_ms, updated_ms, deleted, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                i.id,
                i.account_id,
                i.product.as_str(),
                i.region,
                i.name,
                i.status,
                i.resource_group_id,
                json(&i.tags),
                i.doc.as_str(),
                i.created_ms,
                i.updated_ms,
                i.deleted,
                i.version
            ],
        )
        .map_err(insert_err("instance"))?;
    }
    for j in &dump.jobs {
        apply(c, &mut tokens, &Mutation::PutJob(j.clone()))?;
    }
    for r in &dump.idempotency {
        apply(
            c,
            &mut tokens,
            &Mutation::InsertIdempotency {
                record: r.clone(),
                expire_before_ms: i64::MIN,
            },
        )?;
    }
    for o in &dump.orders {
        c.exec(
            "INSERT INTO orders (id, account_id, instance_id, status, created_ms, doc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                o.id,
                o.account_id,
                o.instance_id,
                o.status.as_str(),
                o.created_ms,
                json(o)
            ],
        )
        .map_err(insert_err("order"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn sqlite_passes_conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("state.db")).unwrap());
        crate::conformance::run_all(store).await;
    }

    #[test]
    fn the_bundled_sqlite_is_built_with_the_workspace_flags() {
        // `.cargo/config.toml` sets them; a build without it would quietly lose them.
        let conn = Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for wanted in ["DEFAULT_MEMSTATUS=0", "OMIT_SHARED_CACHE", "DQS=0"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "{wanted} in {options:?}"
            );
        }
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "one page-cache group for every connection: {options:?}"
        );
    }

    #[tokio::test]
    async fn sqlite_passes_operations_conformance() {
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str| Arc::new(SqliteStore::open(dir.path().join(name)).unwrap());
        crate::conformance::operations(open("a.db"), open("b.db")).await;
    }

    #[tokio::test]
    async fn a_stored_document_that_is_not_json_fails_where_it_is_used() {
        use crate::conformance::{account, instance, job};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = SqliteStore::open(&path).unwrap();
        store
            .commit(vec![
                Mutation::InsertAccount(account("acc", "default")),
                Mutation::InsertInstance(instance("c-1", "acc", "n", 1)),
            ])
            .await
            .unwrap();
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE instances SET doc = '{\"cu\":' WHERE id = 'c-1'", [])
            .unwrap();
        // Read as it is: the text is not parsed on the way out.
        let got = store.instance("acc", "c-1").await.unwrap().unwrap();
        assert_eq!(got.doc.as_str(), "{\"cu\":");
        assert!(got.doc.to_value().is_err());
        // A job outcome carrying it fails its own write; the writer goes on.
        let mut carrying = job("j-1", "c-1", 0);
        carrying.outcome.doc = Some(got.doc.clone());
        let refused = store.commit(vec![Mutation::PutJob(carrying)]).await;
        assert!(
            matches!(refused, Err(StoreError::Corrupt(_))),
            "{refused:?}"
        );
        store
            .commit(vec![Mutation::PutJob(job("j-2", "c-1", 0))])
            .await
            .unwrap();
    }

    #[test]
    fn commands_that_arrive_during_a_sync_join_one_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(SqliteStore::open(&path).unwrap());
        let (tx, rx) = mpsc::channel();
        let (to_sync, unsynced) = mpsc::channel();
        let (wake, _woken) = mpsc::sync_channel(1);
        let sync_idle = Arc::new(AtomicBool::new(false));
        let writer = {
            let (conn, sync_idle) = (open(&path).unwrap(), sync_idle.clone());
            let tail_due = Arc::new(AtomicBool::new(false));
            std::thread::spawn(move || writer_loop(conn, rx, to_sync, sync_idle, wake, tail_due))
        };
        let answers: Vec<_> = (0..3)
            .map(|i| {
                let (reply, answer) = oneshot::channel();
                let account = crate::conformance::account(&format!("a{i}"), &format!("n{i}"));
                let batch = vec![Mutation::InsertAccount(account)];
                tx.send(WriterMsg::Cmd(WriteCmd::Batch(batch, reply)))
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
                answer
            })
            .collect();
        let wait = std::time::Duration::from_millis(100);
        assert!(
            unsynced.recv_timeout(wait).is_err(),
            "nothing is committed while the sync thread is busy"
        );
        sync_idle.store(true, Ordering::Release);
        tx.send(WriterMsg::SyncIdle).unwrap();
        let group = unsynced.recv_timeout(wait * 100).unwrap();
        assert_eq!(group.len(), 3, "one commit for the three");
        group.into_iter().for_each(|o| o.answer(Ok(())));
        for answer in answers {
            assert_eq!(answer.blocking_recv().unwrap(), Ok(()));
        }
        tx.send(WriterMsg::Stop).unwrap();
        writer.join().unwrap();
        let count: i64 = open(&path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 3);
    }

    #[test]
    fn a_failing_batch_of_a_group_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(SqliteStore::open(&path).unwrap());
        let mut conn = open(&path).unwrap();
        let account = |id: &str| {
            Mutation::InsertAccount(cloudtwin_core::Account {
                id: id.into(),
                name: format!("name-{id}"),
                domain_id: "d".into(),
                created_ms: 0,
            })
        };
        let batch = |batch: Vec<Mutation>| {
            let (reply, answer) = oneshot::channel();
            (WriteCmd::Batch(batch, reply), answer)
        };
        let (claim, claimed) = {
            let (reply, answer) = oneshot::channel();
            let cmd = WriteCmd::Claim {
                now_ms: 0,
                owner: "o".into(),
                lease_ms: 1,
                limit: 1,
                reply,
            };
            (cmd, answer)
        };
        let (first, first_done) = batch(vec![account("1")]);
        // Its first write lands, its second conflicts with the batch before.
        let (dup, dup_done) = batch(vec![account("2"), account("1")]);
        let (last, last_done) = batch(vec![account("3")]);
        let synced = |outcomes: Vec<Outcome>| outcomes.into_iter().for_each(|o| o.answer(Ok(())));
        let mut tokens = TokenIndex::default();
        synced(run_group(
            &mut conn,
            &mut tokens,
            vec![first, dup, claim, last],
        ));
        assert_eq!(first_done.blocking_recv().unwrap(), Ok(()));
        assert!(matches!(
            dup_done.blocking_recv().unwrap(),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(claimed.blocking_recv().unwrap(), Ok(vec![]));
        assert_eq!(last_done.blocking_recv().unwrap(), Ok(()));
        let ids: Vec<String> = conn
            .prepare("SELECT id FROM accounts ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(ids, ["1", "3"], "nothing of the failed batch is kept");

        let (ok, ok_done) = batch(vec![account("4")]);
        synced(run_group(&mut conn, &mut tokens, vec![ok]));
        assert_eq!(ok_done.blocking_recv().unwrap(), Ok(()));

        // A commit whose sync failed is not acknowledged, whatever its own result.
        let (unsynced, unsynced_done) = batch(vec![account("5")]);
        let failed = StoreError::Unavailable("syncing the WAL: EIO".into());
        for outcome in run_group(&mut conn, &mut tokens, vec![unsynced]) {
            outcome.answer(Err(failed.clone()));
        }
        assert_eq!(unsynced_done.blocking_recv().unwrap(), Err(failed));
    }

    fn token(token: &str, created_ms: i64) -> IdempotencyRecord {
        IdempotencyRecord {
            account_id: "acc".into(),
            product: Product::StarRocks,
            action: "CreateInstanceV1".into(),
            token: token.into(),
            request_hash: "h".into(),
            response: format!("{{\"At\":{created_ms}}}"),
            created_ms,
        }
    }

    fn insert_token(token: &str, created_ms: i64, expire_before_ms: i64) -> Mutation {
        Mutation::InsertIdempotency {
            record: self::token(token, created_ms),
            expire_before_ms,
        }
    }

    async fn find_token(store: &SqliteStore, token: &str) -> Option<IdempotencyRecord> {
        store
            .idempotency("acc", Product::StarRocks, "CreateInstanceV1", token)
            .await
            .unwrap()
    }

    fn token_rows(path: &Path) -> Vec<(String, i64)> {
        Connection::open(path)
            .unwrap()
            .prepare("SELECT token, created_ms FROM idempotency ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_token_written_by_a_failed_batch_is_free_for_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(SqliteStore::open(&path).unwrap());
        let mut conn = open(&path).unwrap();
        let mut tokens = TokenIndex::default();
        let account = Mutation::InsertAccount(crate::conformance::account("acc", "a"));
        let mut run = |batches: Vec<Vec<Mutation>>| {
            let (cmds, answers): (Vec<_>, Vec<_>) = batches
                .into_iter()
                .map(|b| {
                    let (reply, answer) = oneshot::channel();
                    (WriteCmd::Batch(b, reply), answer)
                })
                .unzip();
            for o in run_group(&mut conn, &mut tokens, cmds) {
                o.answer(Ok(()));
            }
            answers
                .into_iter()
                .map(|a| a.blocking_recv().unwrap())
                .collect::<Vec<_>>()
        };
        run(vec![vec![account.clone()]]);
        // The first batch takes the token, then fails on the account: the whole group is
        // run again batch by batch, and the second batch gets the token.
        let results = run(vec![
            vec![insert_token("t", 1, 0), account.clone()],
            vec![insert_token("t", 2, 0)],
        ]);
        assert!(matches!(results[0], Err(StoreError::Conflict(_))));
        assert_eq!(results[1], Ok(()));
        let again = run(vec![vec![insert_token("t", 3, 0)]]);
        assert!(matches!(again[0], Err(StoreError::Conflict(_))));
        // A token write that failed alone: its row number is given again, here to a
        // second connection's row, which this index must still find.
        let failed = run(vec![vec![insert_token("u", 4, 0), account.clone()]]);
        assert!(matches!(failed[0], Err(StoreError::Conflict(_))));
        let (mut other, mut other_tokens) = (open(&path).unwrap(), TokenIndex::default());
        let (reply, _answer) = oneshot::channel();
        let cmd = WriteCmd::Batch(vec![insert_token("v", 5, 0)], reply);
        run_group(&mut other, &mut other_tokens, vec![cmd]);
        let dup = run(vec![vec![insert_token("v", 6, 0)]]);
        assert!(matches!(dup[0], Err(StoreError::Conflict(_))), "{dup:?}");
        assert_eq!(
            token_rows(&path),
            [("t".to_owned(), 2), ("v".to_owned(), 5)]
        );
    }

    #[tokio::test]
    async fn two_stores_on_one_file_see_each_others_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let a = SqliteStore::open(&path).unwrap();
        let b = SqliteStore::open(&path).unwrap();
        a.commit(vec![insert_token("t1", 1, 0)]).await.unwrap();
        // b builds its index now, with t1 in it.
        let dup = b.commit(vec![insert_token("t1", 2, 0)]).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        // Written by a after b's index was built: found by catching up.
        a.commit(vec![insert_token("t2", 3, 0)]).await.unwrap();
        let dup = b.commit(vec![insert_token("t2", 4, 0)]).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        let found = find_token(&b, "t2").await;
        assert_eq!(found, Some(token("t2", 3)));
        // An expired record replaced by b is gone for a too.
        b.commit(vec![insert_token("t1", 100, 50)]).await.unwrap();
        let found = find_token(&a, "t1").await;
        assert_eq!(found, Some(token("t1", 100)));
        let dup = a.commit(vec![insert_token("t1", 101, 50)]).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    }

    #[tokio::test]
    async fn expired_tokens_are_deleted_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = SqliteStore::open(&path).unwrap();
        for (i, created_ms) in [10, 20, 30_000].into_iter().enumerate() {
            store
                .commit(vec![insert_token(&format!("old-{i}"), created_ms, 0)])
                .await
                .unwrap();
        }
        // Past the purge interval; the first two have expired, the third has not.
        store
            .commit(vec![insert_token("new", 40_000, 25_000)])
            .await
            .unwrap();
        assert_eq!(
            token_rows(&path),
            [("old-2".to_owned(), 30_000), ("new".to_owned(), 40_000)]
        );
        let gone = find_token(&store, "old-0").await;
        assert_eq!(gone, None);
        store
            .commit(vec![insert_token("old-0", 40_001, 25_000)])
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn client_tokens_of_schema_8_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "DROP TABLE idempotency;
                 CREATE TABLE idempotency (
                     account_id TEXT NOT NULL, product TEXT NOT NULL, action TEXT NOT NULL,
                     token TEXT NOT NULL, request_hash TEXT NOT NULL, response TEXT NOT NULL,
                     created_ms INTEGER NOT NULL,
                     PRIMARY KEY (account_id, product, action, token));
                 INSERT INTO idempotency VALUES
                     ('acc', 'starrocks', 'CreateInstanceV1', 'b', 'h', '{\"At\":2}', 2),
                     ('acc', 'starrocks', 'CreateInstanceV1', 'a', 'h', '{\"At\":1}', 1);
                 PRAGMA user_version = 8;",
            )
            .unwrap();
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            token_rows(&path),
            [("a".to_owned(), 1), ("b".to_owned(), 2)],
            "oldest first"
        );
        let found = find_token(&store, "b").await;
        assert_eq!(found, Some(token("b", 2)));
        let dup = store.commit(vec![insert_token("a", 3, 0)]).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    }

    #[test]
    fn names_are_indexed_for_the_products_that_look_them_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let plan = |product: Product| {
            let (filter, args) = instance_filter(&crate::conformance::name_lookup(product));
            conn.prepare(&format!(
                "EXPLAIN QUERY PLAN SELECT id FROM instances WHERE {filter}
                 ORDER BY created_ms DESC, id DESC"
            ))
            .unwrap()
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .join("; ")
        };
        for &product in Product::LOOKED_UP_BY_NAME {
            let plan = plan(product);
            assert!(
                plan.contains("instances_looked_up_by_name"),
                "{product:?}: {plan}"
            );
        }
        assert!(!plan(Product::StarRocks).contains("instances_looked_up_by_name"));
    }

    #[test]
    fn every_table_is_covered_by_snapshots_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(SqliteStore::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        let mut stmt = c
            // sqlite_sequence is SQLite's own (the client tokens' AUTOINCREMENT).
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
            .unwrap();
        let tables = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        crate::conformance::assert_schema_is_covered(tables);
    }

    #[tokio::test]
    async fn state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let store = SqliteStore::open(&path).unwrap();
            store
                .commit(vec![Mutation::InsertAccount(crate::conformance::account(
                    "a1", "one",
                ))])
                .await
                .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.account("a1").await.unwrap().unwrap().name, "one");
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let err = SqliteStore::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::Corrupt(m) if m.contains("newer")));
    }
}
