//! A SQLite VFS that gathers the WAL frames of a commit and writes them together: one
//! pwrite(2) per 124 KiB instead of two per frame.
//!
//! SQLite writes each WAL frame as two calls, the 24-byte header and then the page, so a
//! commit of 30 frames is 60 pwrite(2) calls. Each call costs more than its bytes: on this
//! project's hosts (ext4) 60 such writes took ten times the CPU of one write of the same
//! bytes (bench/README.md, finding 60).
//!
//! The VFS wraps SQLite's unix VFS and changes only the WAL's `xWrite`: a write that starts
//! where the previous one ended is appended to a buffer, and the buffer is written out
//! - after the page of a commit frame (a header whose "database size" field is non-zero),
//!   which is before SQLite publishes the commit in the WAL index, so no other connection
//!   can look for frames that are not in the file yet;
//! - before any other call on the file (read, sync, truncate, size, close, file control),
//!   so that SQLite never sees the file without its own writes;
//! - when it would pass `MAX_PENDING` bytes, or when a write does not continue it.
//!
//! Nothing is acknowledged before a sync, and a sync writes the buffer out first, so a crash
//! loses nothing that an unbuffered write would have kept.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

const VFS_NAME: &CStr = c"cloudtwin-wal";

/// A larger commit is written out in pieces of about this size.
const MAX_PENDING: usize = 1 << 20;
/// The unix VFS cuts a write's length to its low 17 bits (it never writes more than a
/// 64-KiB page), so a buffer goes out in pieces below 128 KiB.
const MAX_WRITE: usize = 124 << 10;
const WAL_FRAME_HEADER: usize = 24;

/// Registers the VFS once and answers its name, or `None` where the default VFS is not
/// SQLite's unix one (the only one `wrap_vfs` is written for): connections then open with
/// the default VFS, which behaves the same, only with more write calls.
pub fn name() -> Option<&'static str> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find and sqlite3_vfs_register are thread-safe (SQLite is
        // built serialized); a found VFS stays registered, and ours is leaked, so both
        // outlive every connection.
        unsafe {
            let base = ffi::sqlite3_vfs_find(ptr::null());
            if base.is_null() || CStr::from_ptr((*base).zName) != c"unix" {
                return false;
            }
            let vfs = Box::leak(Box::new(wrap_vfs(base)));
            ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK
        }
    });
    registered.then(|| VFS_NAME.to_str().expect("the name is ASCII"))
}

/// The unix VFS with our `xOpen`. The other entries are its own: the unix VFS uses its
/// `sqlite3_vfs` argument only in `xOpen` (called with the base) and for `mxPathname`,
/// which is copied.
///
/// # Safety
/// `base` must be SQLite's registered unix VFS.
unsafe fn wrap_vfs(base: *mut ffi::sqlite3_vfs) -> ffi::sqlite3_vfs {
    // SAFETY: per the function's contract.
    let mut vfs = unsafe { ptr::read(base) };
    vfs.szOsFile = (size_of::<ShimFile>() + vfs.szOsFile as usize) as c_int;
    vfs.pNext = ptr::null_mut();
    vfs.zName = VFS_NAME.as_ptr();
    vfs.pAppData = base.cast();
    vfs.xOpen = Some(shim_open);
    vfs
}

/// Our part of an open file: SQLite allocates `szOsFile` bytes, this struct first (its
/// `base` is what SQLite sees), the base VFS's file right after it.
#[repr(C)]
struct ShimFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    /// Only the WAL buffers; other files pass every call straight through.
    wal: Option<Pending>,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// Where `bytes` starts in the file.
    start: i64,
    /// Where the last write ended: a write that starts here continues the run.
    next: i64,
    /// The last buffered write was the header of a commit frame: its page ends the commit.
    commit_page_next: bool,
}

const SHIM_FILE_SIZE: usize = size_of::<ShimFile>();
const _: () = assert!(
    SHIM_FILE_SIZE.is_multiple_of(8),
    "the base file must stay 8-byte aligned"
);

static IO_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(shim_close),
    xRead: Some(shim_read),
    xWrite: Some(shim_write),
    xTruncate: Some(shim_truncate),
    xSync: Some(shim_sync),
    xFileSize: Some(shim_file_size),
    xLock: Some(shim_lock),
    xUnlock: Some(shim_unlock),
    xCheckReservedLock: Some(shim_check_reserved_lock),
    xFileControl: Some(shim_file_control),
    xSectorSize: Some(shim_sector_size),
    xDeviceCharacteristics: Some(shim_device_characteristics),
    xShmMap: Some(shim_shm_map),
    xShmLock: Some(shim_shm_lock),
    xShmBarrier: Some(shim_shm_barrier),
    xShmUnmap: Some(shim_shm_unmap),
    xFetch: Some(shim_fetch),
    xUnfetch: Some(shim_unfetch),
};

unsafe extern "C" fn shim_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite hands us `szOsFile` bytes at `file`, uninitialized; `pAppData` is the
    // base VFS (`wrap_vfs`).
    unsafe {
        let base = (*vfs).pAppData.cast::<ffi::sqlite3_vfs>();
        let shim = file.cast::<ShimFile>();
        let real = file
            .cast::<u8>()
            .add(SHIM_FILE_SIZE)
            .cast::<ffi::sqlite3_file>();
        let is_wal = flags & ffi::SQLITE_OPEN_WAL != 0;
        ptr::write(
            shim,
            ShimFile {
                base: ffi::sqlite3_file {
                    pMethods: ptr::null(),
                },
                real,
                wal: is_wal.then(Pending::default),
            },
        );
        (*real).pMethods = ptr::null();
        let Some(open) = (*base).xOpen else {
            ptr::drop_in_place(shim);
            return ffi::SQLITE_ERROR;
        };
        let rc = open(base, name, real, flags, out_flags);
        if (*real).pMethods.is_null() {
            // Nothing to close: SQLite will not call xClose on a file without methods.
            ptr::drop_in_place(shim);
        } else {
            (*shim).base.pMethods = &IO_METHODS;
        }
        rc
    }
}

/// # Safety
/// `file` must be a `ShimFile` opened by `shim_open`.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    &'a mut ShimFile,
    *mut ffi::sqlite3_file,
    &'a ffi::sqlite3_io_methods,
) {
    // SAFETY: per the function's contract; `real` was opened with methods (`shim_open`).
    unsafe {
        let shim = &mut *file.cast::<ShimFile>();
        let real = shim.real;
        (shim, real, &*(*real).pMethods)
    }
}

// Calls to the base VFS's `xWrite` on WAL files, on this thread (tests only).
#[cfg(test)]
thread_local!(static BASE_WAL_WRITES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) });

/// The base VFS's `xWrite` for a WAL file.
///
/// # Safety
/// `real` must be an open base file and `data` hold `amount` bytes.
unsafe fn write_wal(
    real: *mut ffi::sqlite3_file,
    methods: &ffi::sqlite3_io_methods,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    #[cfg(test)]
    BASE_WAL_WRITES.with(|n| n.set(n.get() + 1));
    // SAFETY: per the function's contract.
    methods.xWrite.map_or(ffi::SQLITE_IOERR_WRITE, |w| unsafe {
        w(real, data, amount, offset)
    })
}

/// Writes the buffered run out, if any. The buffer is emptied even on failure: SQLite
/// treats a failed write as the end of the transaction and writes the frames again.
///
/// # Safety
/// `real` must be the open base file of `pending`.
unsafe fn flush(
    pending: &mut Pending,
    real: *mut ffi::sqlite3_file,
    methods: &ffi::sqlite3_io_methods,
) -> c_int {
    pending.commit_page_next = false;
    if pending.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let mut rc = ffi::SQLITE_OK;
    let mut offset = pending.start;
    for piece in pending.bytes.chunks(MAX_WRITE) {
        // SAFETY: per the function's contract; a piece is at most MAX_WRITE bytes.
        rc = unsafe {
            write_wal(
                real,
                methods,
                piece.as_ptr().cast(),
                piece.len() as c_int,
                offset,
            )
        };
        if rc != ffi::SQLITE_OK {
            break;
        }
        offset += piece.len() as i64;
    }
    pending.bytes.clear();
    rc
}

/// Writes the WAL buffer out before a call that must see the file as SQLite wrote it.
///
/// # Safety
/// `file` must be a `ShimFile` opened by `shim_open`.
unsafe fn settle(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: per the function's contract.
    let (shim, real, methods) = unsafe { parts(file) };
    match shim.wal.as_mut() {
        // SAFETY: `real` is this file's base.
        Some(pending) => unsafe { flush(pending, real, methods) },
        None => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn shim_write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite calls with a file from `shim_open` and `amount` readable bytes.
    unsafe {
        let (shim, real, methods) = parts(file);
        let Some(pending) = shim.wal.as_mut() else {
            return methods
                .xWrite
                .map_or(ffi::SQLITE_IOERR_WRITE, |w| w(real, data, amount, offset));
        };
        let len = amount as usize;
        let continues = offset == pending.next;
        // Decided before a flush, which forgets the commit header it writes out.
        let ends_commit = continues && pending.commit_page_next && len != WAL_FRAME_HEADER;
        if !continues || pending.bytes.len() + len > MAX_PENDING {
            let rc = flush(pending, real, methods);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        if !continues {
            // Not an append (the WAL header, a frame rewritten in place, a checksum
            // rewrite): written at once, and the next append starts a new run.
            pending.next = offset + i64::from(amount);
            return write_wal(real, methods, data, amount, offset);
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len);
        if pending.bytes.is_empty() {
            pending.start = offset;
        }
        pending.bytes.extend_from_slice(bytes);
        pending.next = offset + i64::from(amount);
        if ends_commit {
            return flush(pending, real, methods);
        }
        // Bytes 4..8 of a frame header: the database size after a commit, zero otherwise.
        pending.commit_page_next = len == WAL_FRAME_HEADER && bytes[4..8] != [0, 0, 0, 0];
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn shim_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls with a file from `shim_open`, once, and never uses it after.
    unsafe {
        let flushed = settle(file);
        let (_, real, methods) = parts(file);
        let closed = methods.xClose.map_or(ffi::SQLITE_OK, |close| close(real));
        ptr::drop_in_place(file.cast::<ShimFile>());
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            closed
        }
    }
}

/// Pass-through calls, each after the WAL buffer is written out.
macro_rules! settled_then {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*), $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls with a file from `shim_open`; the arguments go on as given.
            unsafe {
                let rc = settle(file);
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                let (_, real, methods) = parts(file);
                methods.$method.map_or($missing, |f| f(real $(, $arg)*))
            }
        }
    };
}

settled_then!(shim_read, xRead, (data: *mut c_void, amount: c_int, offset: i64), ffi::SQLITE_IOERR_READ);
settled_then!(shim_truncate, xTruncate, (size: i64), ffi::SQLITE_IOERR_TRUNCATE);
settled_then!(shim_sync, xSync, (flags: c_int), ffi::SQLITE_IOERR_FSYNC);
settled_then!(shim_file_size, xFileSize, (size: *mut i64), ffi::SQLITE_IOERR_FSTAT);
settled_then!(shim_file_control, xFileControl, (op: c_int, arg: *mut c_void), ffi::SQLITE_NOTFOUND);

/// Pass-through calls that neither read nor write the file's bytes.
macro_rules! passed {
    ($name:ident, $method:ident, ($($arg:ident: $ty:ty),*), $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> c_int {
            // SAFETY: SQLite calls with a file from `shim_open`; the arguments go on as given.
            unsafe {
                let (_, real, methods) = parts(file);
                methods.$method.map_or($missing, |f| f(real $(, $arg)*))
            }
        }
    };
}

passed!(shim_lock, xLock, (level: c_int), ffi::SQLITE_IOERR_LOCK);
passed!(shim_unlock, xUnlock, (level: c_int), ffi::SQLITE_IOERR_UNLOCK);
passed!(shim_check_reserved_lock, xCheckReservedLock, (out: *mut c_int), ffi::SQLITE_IOERR_CHECKRESERVEDLOCK);
passed!(shim_sector_size, xSectorSize, (), 4096);
passed!(shim_device_characteristics, xDeviceCharacteristics, (), 0);
passed!(shim_shm_map, xShmMap, (page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void), ffi::SQLITE_IOERR_SHMMAP);
passed!(shim_shm_lock, xShmLock, (offset: c_int, n: c_int, flags: c_int), ffi::SQLITE_IOERR_SHMLOCK);
passed!(shim_shm_unmap, xShmUnmap, (delete: c_int), ffi::SQLITE_OK);
passed!(shim_unfetch, xUnfetch, (offset: i64, page: *mut c_void), ffi::SQLITE_OK);

unsafe extern "C" fn shim_shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls with a file from `shim_open`.
    unsafe {
        let (_, real, methods) = parts(file);
        if let Some(barrier) = methods.xShmBarrier {
            barrier(real);
        }
    }
}

unsafe extern "C" fn shim_fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls with a file from `shim_open`. Memory-mapped reads see the file,
    // so the buffer goes out first.
    unsafe {
        let rc = settle(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let (_, real, methods) = parts(file);
        match methods.xFetch {
            Some(fetch) => fetch(real, offset, amount, out),
            None => {
                *out = ptr::null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{params, Connection, OpenFlags};
    use std::path::Path;

    fn open(path: &Path) -> Connection {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let conn = Connection::open_with_flags_and_vfs(path, flags, name().unwrap()).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;
             PRAGMA cache_size=20;",
        )
        .unwrap();
        conn
    }

    /// A database in a new directory, opened through the VFS, with an empty table `t`.
    fn with_table() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let conn = open(&db);
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .unwrap();
        (dir, db, conn)
    }

    fn rows(conn: &Connection) -> Vec<(i64, Vec<u8>)> {
        let mut stmt = conn.prepare("SELECT id, body FROM t ORDER BY id").unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// What a crash leaves: the database and WAL files as they are now, without the WAL
    /// index, opened elsewhere so that SQLite recovers the commits from the WAL alone.
    fn recovered_copy(dir: &Path, db: &Path) -> Connection {
        let copy = dir.join("copy.db");
        std::fs::copy(db, &copy).unwrap();
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::copy(&wal, dir.join("copy.db-wal")).unwrap();
        Connection::open(&copy).unwrap()
    }

    #[test]
    fn a_commit_is_in_the_wal_file_when_it_returns() {
        let (dir, db, conn) = with_table();
        for id in 0..50_i64 {
            conn.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                params![id, vec![id as u8; 700]],
            )
            .unwrap();
            let copy = recovered_copy(dir.path(), &db);
            assert_eq!(
                rows(&copy).len(),
                id as usize + 1,
                "commit {id} not in the WAL file"
            );
        }
    }

    #[test]
    fn a_commit_reaches_the_base_vfs_as_one_write() {
        let (dir, _db, conn) = with_table();
        conn.execute("INSERT INTO t VALUES (0, x'00')", []).unwrap();
        // No checkpoint runs (`open`), so the WAL only grows, a frame at a time.
        let wal = dir.path().join("t.db-wal");
        let frames = || std::fs::metadata(&wal).unwrap().len() / (4096 + 24);
        let before = BASE_WAL_WRITES.with(|n| n.get());
        let frames_before = frames();
        // Ten rows of 3 KB: one page each, plus the table's interior page.
        let tx = conn.unchecked_transaction().unwrap();
        for id in 1..=10_i64 {
            tx.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                params![id, vec![7u8; 3000]],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        assert!(frames() - frames_before >= 10, "the commit wrote its pages");
        assert_eq!(BASE_WAL_WRITES.with(|n| n.get()) - before, 1);
    }

    #[test]
    fn a_commit_larger_than_one_write_goes_out_in_pieces() {
        let (dir, db, conn) = with_table();
        let before = BASE_WAL_WRITES.with(|n| n.get());
        let expected: Vec<_> = (0..120_i64).map(|id| (id, vec![id as u8; 3000])).collect();
        let tx = conn.unchecked_transaction().unwrap();
        for (id, body) in &expected {
            tx.execute("INSERT INTO t VALUES (?1, ?2)", params![id, body])
                .unwrap();
        }
        tx.commit().unwrap();
        // 120 pages and more: ~500 KB, four or five pieces (the cache of 20 pages spills).
        let writes = BASE_WAL_WRITES.with(|n| n.get()) - before;
        assert!((4..=12).contains(&writes), "{writes} writes");
        assert_eq!(rows(&recovered_copy(dir.path(), &db)), expected);
    }

    #[test]
    fn a_commit_page_past_the_buffer_limit_still_ends_the_commit() {
        let (dir, db, conn) = with_table();
        // No spill: each commit's frames are one run, from the start of the WAL.
        conn.execute_batch("PRAGMA cache_size=-65536").unwrap();
        let (mut expected, mut hit) = (0, false);
        // A commit of 255 frames puts its last page just past MAX_PENDING (255 × 4120 B);
        // each size in turn, so that one commit has that many.
        // Two rows to a page, so that the frame count goes up by one at a time.
        for rows in 495..=520_i64 {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
            let tx = conn.unchecked_transaction().unwrap();
            for k in 0..rows {
                tx.execute(
                    "INSERT INTO t VALUES (?1, ?2)",
                    params![rows * 1000 + k, vec![9u8; 1800]],
                )
                .unwrap();
            }
            tx.commit().unwrap();
            expected += rows as usize;
            let wal_len = std::fs::metadata(dir.path().join("t.db-wal"))
                .unwrap()
                .len();
            hit |= (wal_len - 32) / 4120 == 255;
            let copy = recovered_copy(dir.path(), &db);
            assert_eq!(rows_in(&copy), expected, "the commit of {rows} rows");
        }
        assert!(hit, "no commit had 255 frames: pick other sizes");
    }

    fn rows_in(conn: &Connection) -> usize {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap() as usize
    }

    #[test]
    fn other_connections_see_each_commit_at_once() {
        let (_dir, db, writer) = with_table();
        let shim_reader = open(&db);
        let plain_reader = Connection::open(&db).unwrap();
        for id in 0..40_i64 {
            let tx = writer.unchecked_transaction().unwrap();
            // Large enough to spill the 20-page cache: frames written before the commit,
            // some of them rewritten in place.
            for k in 0..8 {
                tx.execute(
                    "INSERT OR REPLACE INTO t VALUES (?1, ?2)",
                    params![id * 4 + k % 4, vec![k as u8; 3000]],
                )
                .unwrap();
            }
            tx.commit().unwrap();
            let expected = rows(&writer);
            assert_eq!(rows(&shim_reader), expected);
            assert_eq!(rows(&plain_reader), expected);
        }
    }

    #[test]
    fn rollbacks_checkpoints_and_restarts_keep_the_file_whole() {
        let (dir, db, conn) = with_table();
        for round in 0..30_i64 {
            let tx = conn.unchecked_transaction().unwrap();
            for k in 0..30 {
                tx.execute(
                    "INSERT INTO t VALUES (?1, ?2)",
                    params![round * 1000 + k + 500, vec![1u8; 2000]],
                )
                .unwrap();
            }
            // Spilled frames of a transaction that does not commit.
            tx.rollback().unwrap();
            conn.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                params![round, vec![round as u8; 5000]],
            )
            .unwrap();
            if round % 7 == 0 {
                // The next commit starts the WAL over at its header.
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .unwrap();
            }
        }
        let expected: Vec<_> = (0..30).map(|r| (r, vec![r as u8; 5000])).collect();
        assert_eq!(rows(&conn), expected);
        let copy = recovered_copy(dir.path(), &db);
        assert_eq!(rows(&copy), expected);
        let check: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}
