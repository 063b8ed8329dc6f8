//! Client-token records, found through an index the writer keeps in memory instead of a
//! B-tree. Tokens are random keys: a B-tree of them dirtied a page of its own for nearly
//! every create, a quarter of the WAL written per create (bench finding 37). The rows are
//! appended in `seq` order (AUTOINCREMENT: a number is never given twice, so rows that
//! another connection adds are exactly those above the last one indexed), and the index
//! maps a keyed hash of (account, product, action, token) to the rows that carry it.
//!
//! The index follows the writer's transactions: every change is logged until the
//! transaction ends and undone if it rolls back, wholly or to a savepoint. Rows that
//! another connection commits (a second server on the same file) are indexed when
//! `PRAGMA data_version` says they exist; rows it deleted are dropped when a lookup finds
//! them gone. Each candidate row is read and compared, so a stale entry or a hash
//! collision never decides an answer.

use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use cloudtwin_core::prehashed::PrehashedMap;
use cloudtwin_core::Product;
use rusqlite::{params, OptionalExtension};

use super::{product, unavailable, Writer};
use crate::{IdempotencyRecord, Result, StoreError};

/// Expired records are deleted at most this often, and at most this many at a time, so
/// that no commit waits long behind a purge.
const PURGE_EVERY_MS: i64 = 10_000;
const PURGE_BATCH: i64 = 2_048;

/// The rows that carry one hash: nearly always one.
#[derive(Debug)]
enum Rows {
    One(i64),
    Many(Vec<i64>),
}

#[derive(Debug)]
enum Undo {
    /// The row was indexed; `indexed_to` was this before.
    Added {
        hash: u64,
        seq: i64,
        indexed_to: i64,
    },
    Removed {
        hash: u64,
        seq: i64,
    },
}

#[derive(Default)]
pub(super) struct TokenIndex {
    hasher: RandomState,
    /// `None` until first used, and again after a write that bypassed it.
    by_hash: Option<PrehashedMap<Rows>>,
    /// The highest row indexed.
    indexed_to: i64,
    /// `PRAGMA data_version` when rows were last indexed: it changes when another
    /// connection commits.
    data_version: i64,
    /// `data_version` was read in the open transaction: while the writer holds the write
    /// lock no other connection commits, so once is enough.
    version_checked: bool,
    undo: Vec<Undo>,
    next_purge_ms: i64,
}

/// What identifies a record.
pub(super) struct TokenKey<'a> {
    pub account_id: &'a str,
    pub product: Product,
    pub action: &'a str,
    pub token: &'a str,
}

impl TokenKey<'_> {
    fn matches(&self, row: &StoredKey) -> bool {
        row.account_id == self.account_id
            && row.product == self.product.as_str()
            && row.action == self.action
            && row.token == self.token
    }
}

struct StoredKey {
    account_id: String,
    product: String,
    action: String,
    token: String,
}

impl TokenIndex {
    /// A transaction begins: nothing to undo yet.
    pub fn begin(&mut self) {
        self.undo.clear();
        self.version_checked = false;
    }

    /// A savepoint: what `rollback_to` returns to.
    pub fn mark(&self) -> usize {
        self.undo.len()
    }

    /// Undoes every change made since `mark`, newest first.
    pub fn rollback_to(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let Some(change) = self.undo.pop() else {
                break;
            };
            let Some(map) = self.by_hash.as_mut() else {
                continue;
            };
            match change {
                Undo::Added {
                    hash,
                    seq,
                    indexed_to,
                } => {
                    remove(map, hash, seq);
                    self.indexed_to = indexed_to;
                }
                Undo::Removed { hash, seq } => add(map, hash, seq),
            }
        }
    }

    /// The transaction committed: its changes stay.
    pub fn committed(&mut self) {
        self.undo.clear();
    }

    /// Forgets everything, to be read again from the table at the next use: for writes
    /// that went around the index (reset, import).
    pub fn invalidate(&mut self) {
        self.by_hash = None;
        self.indexed_to = 0;
        self.undo.clear();
        self.version_checked = false;
    }

    fn hash(&self, key: &TokenKey<'_>) -> u64 {
        let mut h = self.hasher.build_hasher();
        key.account_id.hash(&mut h);
        key.product.as_str().hash(&mut h);
        key.action.hash(&mut h);
        key.token.hash(&mut h);
        h.finish()
    }

    /// Indexes the rows committed by other connections since the last look, or all of
    /// them the first time.
    fn catch_up(&mut self, conn: &Writer<'_>) -> Result<()> {
        if self.by_hash.is_some() && self.version_checked {
            return Ok(());
        }
        let version: i64 = conn
            .with("PRAGMA data_version", |s| s.query_row([], |r| r.get(0)))
            .map_err(unavailable)?;
        if self.by_hash.is_some() && version == self.data_version {
            self.version_checked = true;
            return Ok(());
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, account_id, product, action, token FROM idempotency
                 WHERE seq > ?1 ORDER BY seq",
            )
            .map_err(unavailable)?;
        let mut rows = stmt.query([self.indexed_to]).map_err(unavailable)?;
        let mut found = Vec::new();
        while let Some(r) = rows.next().map_err(unavailable)? {
            let seq: i64 = r.get(0).map_err(unavailable)?;
            let product = product(r.get(2).map_err(unavailable)?)?;
            let hash = self.hash(&TokenKey {
                account_id: &r.get::<_, String>(1).map_err(unavailable)?,
                product,
                action: &r.get::<_, String>(3).map_err(unavailable)?,
                token: &r.get::<_, String>(4).map_err(unavailable)?,
            });
            found.push((hash, seq));
        }
        let map = self.by_hash.get_or_insert_with(PrehashedMap::default);
        for &(hash, seq) in &found {
            add(map, hash, seq);
        }
        // Committed by others: they stay whatever this transaction does.
        if let Some(&(_, last)) = found.last() {
            self.indexed_to = self.indexed_to.max(last);
        }
        self.data_version = version;
        self.version_checked = true;
        Ok(())
    }

    /// The rows that carry `key` (its hash is `hash`), with their creation times; entries
    /// whose row is gone are dropped.
    fn candidates(
        &mut self,
        conn: &Writer<'_>,
        key: &TokenKey<'_>,
        hash: u64,
    ) -> Result<Vec<(i64, i64)>> {
        self.catch_up(conn)?;
        let seqs: Vec<i64> = match self.by_hash.as_ref().and_then(|m| m.get(&hash)) {
            None => return Ok(Vec::new()),
            Some(Rows::One(seq)) => vec![*seq],
            Some(Rows::Many(seqs)) => seqs.clone(),
        };
        let mut live = Vec::new();
        for seq in seqs {
            let row = conn
                .prepare_cached(
                    "SELECT account_id, product, action, token, created_ms FROM idempotency
                     WHERE seq = ?1",
                )
                .and_then(|mut s| {
                    s.query_row([seq], |r| {
                        Ok((
                            StoredKey {
                                account_id: r.get(0)?,
                                product: r.get(1)?,
                                action: r.get(2)?,
                                token: r.get(3)?,
                            },
                            r.get::<_, i64>(4)?,
                        ))
                    })
                    .optional()
                })
                .map_err(unavailable)?;
            match row {
                None => self.forget(hash, seq),
                Some((stored, created_ms)) if key.matches(&stored) => live.push((seq, created_ms)),
                Some(_) => {}
            }
        }
        Ok(live)
    }

    fn remember(&mut self, hash: u64, seq: i64) {
        let indexed_to = self.indexed_to;
        if let Some(map) = self.by_hash.as_mut() {
            add(map, hash, seq);
            self.indexed_to = indexed_to.max(seq);
            self.undo.push(Undo::Added {
                hash,
                seq,
                indexed_to,
            });
        }
    }

    fn forget(&mut self, hash: u64, seq: i64) {
        if let Some(map) = self.by_hash.as_mut() {
            remove(map, hash, seq);
            self.undo.push(Undo::Removed { hash, seq });
        }
    }

    /// Records the first answer to `record`'s token. Fails with `Conflict` if a record with
    /// the same key was created at or after `expire_before_ms`; an older one is replaced.
    pub fn insert(
        &mut self,
        conn: &Writer<'_>,
        record: &IdempotencyRecord,
        expire_before_ms: i64,
    ) -> Result<()> {
        self.purge_if_due(conn, record.created_ms, expire_before_ms)?;
        let key = TokenKey {
            account_id: &record.account_id,
            product: record.product,
            action: &record.action,
            token: &record.token,
        };
        let hash = self.hash(&key);
        for (seq, created_ms) in self.candidates(conn, &key, hash)? {
            if created_ms >= expire_before_ms {
                return Err(StoreError::Conflict("client token already exists".into()));
            }
            self.delete(conn, hash, seq)?;
        }
        conn.exec(
            "INSERT INTO idempotency (account_id, product, action, token, request_hash, response, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                record.account_id,
                record.product.as_str(),
                record.action,
                record.token,
                record.request_hash,
                record.response,
                record.created_ms,
            ],
        )
        .map_err(unavailable)?;
        self.remember(hash, conn.last_insert_rowid());
        Ok(())
    }

    /// The record of `key`, live or expired (the caller judges its age).
    pub fn find(
        &mut self,
        conn: &Writer<'_>,
        key: &TokenKey<'_>,
    ) -> Result<Option<IdempotencyRecord>> {
        // The newest, should an expired one still be stored beside it.
        let hash = self.hash(key);
        let Some((seq, _)) = self
            .candidates(conn, key, hash)?
            .into_iter()
            .max_by_key(|&(seq, _)| seq)
        else {
            return Ok(None);
        };
        conn.prepare_cached(
            "SELECT request_hash, response, created_ms FROM idempotency WHERE seq = ?1",
        )
        .and_then(|mut s| {
            s.query_row([seq], |r| {
                Ok(IdempotencyRecord {
                    account_id: key.account_id.to_owned(),
                    product: key.product,
                    action: key.action.to_owned(),
                    token: key.token.to_owned(),
                    request_hash: r.get(0)?,
                    response: r.get(1)?,
                    created_ms: r.get(2)?,
                })
            })
            .optional()
        })
        .map_err(unavailable)
    }

    fn delete(&mut self, conn: &Writer<'_>, hash: u64, seq: i64) -> Result<()> {
        conn.exec("DELETE FROM idempotency WHERE seq = ?1", [seq])
            .map_err(unavailable)?;
        self.forget(hash, seq);
        Ok(())
    }

    /// Deletes the oldest expired records, a batch at a time: rows are appended as they are
    /// created, so the expired ones come first.
    fn purge_if_due(
        &mut self,
        conn: &Writer<'_>,
        now_ms: i64,
        expire_before_ms: i64,
    ) -> Result<()> {
        if now_ms < self.next_purge_ms {
            return Ok(());
        }
        self.next_purge_ms = now_ms.saturating_add(PURGE_EVERY_MS);
        self.catch_up(conn)?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, account_id, product, action, token, created_ms FROM idempotency
                 ORDER BY seq LIMIT ?1",
            )
            .map_err(unavailable)?;
        let mut rows = stmt.query([PURGE_BATCH]).map_err(unavailable)?;
        let mut expired = Vec::new();
        while let Some(r) = rows.next().map_err(unavailable)? {
            if r.get::<_, i64>(5).map_err(unavailable)? >= expire_before_ms {
                break;
            }
            let hash = self.hash(&TokenKey {
                account_id: &r.get::<_, String>(1).map_err(unavailable)?,
                product: product(r.get(2).map_err(unavailable)?)?,
                action: &r.get::<_, String>(3).map_err(unavailable)?,
                token: &r.get::<_, String>(4).map_err(unavailable)?,
            });
            expired.push((hash, r.get::<_, i64>(0).map_err(unavailable)?));
        }
        drop(rows);
        for (hash, seq) in expired {
            self.delete(conn, hash, seq)?;
        }
        Ok(())
    }
}

fn add(map: &mut PrehashedMap<Rows>, hash: u64, seq: i64) {
    match map.get_mut(&hash) {
        None => {
            map.insert(hash, Rows::One(seq));
        }
        Some(Rows::One(first)) if *first == seq => {}
        Some(Rows::One(first)) => {
            let first = *first;
            map.insert(hash, Rows::Many(vec![first, seq]));
        }
        Some(Rows::Many(seqs)) => {
            if !seqs.contains(&seq) {
                seqs.push(seq);
            }
        }
    }
}

fn remove(map: &mut PrehashedMap<Rows>, hash: u64, seq: i64) {
    match map.get_mut(&hash) {
        Some(Rows::One(only)) if *only == seq => {
            map.remove(&hash);
        }
        Some(Rows::Many(seqs)) => {
            seqs.retain(|&s| s != seq);
            if let [only] = seqs[..] {
                map.insert(hash, Rows::One(only));
            }
        }
        _ => {}
    }
}
