//! `noop-server`: the machine's ceiling. Same HTTP stack as cloudtwin (axum on tokio), no
//! authentication, no storage: a request body is parsed as JSON (a bad one answers 400), and
//! every call answers a small JSON that carries an id in the shapes the load generator reads
//! (StarRocks `Data.InstanceId`, RocketMQ `instance_id`, moto `brokerId`).
//!
//! With `--store sqlite` it is instead the durable reference (`bench-baseline.md`,
//! "sqlite-batch-full"): every request whose body names something is one row inserted by a
//! single writer thread that commits whatever is queued (≤ 1,024 rows) in one transaction,
//! WAL with `synchronous=FULL` and a UNIQUE index on the name, and is answered after COMMIT.
//! Nothing else: no signature, no validation, no job, no token. It shows what a durable
//! create costs on this machine before any domain logic.
//!
//! `noop-server --listen 127.0.0.1:0` prints `listening on http://HOST:PORT` like cloudtwin.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::{Parser, ValueEnum};
use rusqlite::Connection;
use serde_json::{json, Value};
use tokio::sync::oneshot;

#[derive(Parser)]
#[command(
    name = "noop-server",
    about = "A no-op JSON server: the machine's ceiling"
)]
struct Cli {
    #[arg(long, default_value = "127.0.0.1:9800")]
    listen: String,
    /// `sqlite`: the durable reference (one row per named body, group commit, fsync).
    #[arg(long, value_enum, default_value = "none")]
    store: StoreKind,
    /// Where `--store sqlite` keeps `reference.db` (created if missing).
    #[arg(long, default_value = "noop-data")]
    data_dir: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum StoreKind {
    None,
    Sqlite,
}

const MAX_GROUP: usize = 1024;

struct Row {
    id: String,
    name: String,
    body: Bytes,
    reply: oneshot::Sender<Result<(), String>>,
}

struct Server {
    next_id: AtomicU64,
    /// The durable reference's writer thread, when there is one.
    writer: Option<mpsc::Sender<Row>>,
}

fn open_reference(dir: &std::path::Path) -> Result<Connection, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let conn = Connection::open(dir.join("reference.db")).map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
             body TEXT NOT NULL, created_ms INTEGER NOT NULL);",
    )
    .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Commits every row queued so far in one transaction, then answers each of them.
fn write_rows(conn: Connection, queued: mpsc::Receiver<Row>) {
    while let Ok(first) = queued.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queued.try_recv() {
                Ok(row) => group.push(row),
                Err(_) => break,
            }
        }
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut inserted = Vec::with_capacity(group.len());
        let committed = (|| {
            let tx = conn.unchecked_transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO rows (id, name, body, created_ms) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for row in &group {
                    // A duplicate name fails its own statement only.
                    let body = String::from_utf8_lossy(&row.body);
                    inserted.push(
                        insert
                            .execute(rusqlite::params![row.id, row.name, body, now_ms])
                            .map(drop)
                            .map_err(|e| e.to_string()),
                    );
                }
            }
            tx.commit()
        })();
        // Every statement ran when the transaction committed.
        match committed {
            Ok(()) => {
                for (row, result) in group.into_iter().zip(inserted) {
                    let _ = row.reply.send(result);
                }
            }
            Err(e) => {
                for row in group {
                    let _ = row.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// IAM `KeystoneListProjects`, so the load generator can find a "project" for RocketMQ.
async fn projects(uri: Uri) -> Json<Value> {
    let name = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("name="))
        .unwrap_or("cn-north-4")
        .to_owned();
    Json(json!({"projects": [{"id": "0123456789abcdef0123456789abcdef", "name": name}]}))
}

async fn answer(State(server): State<Arc<Server>>, method: Method, body: Bytes) -> Response {
    let id = format!("c-{:016x}", server.next_id.fetch_add(1, Ordering::Relaxed));
    let name = if body.is_empty() {
        String::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => ["InstanceName", "name", "brokerName"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str))
                .unwrap_or("")
                .to_owned(),
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"code": "InvalidJson", "message": e.to_string()})),
                )
                    .into_response()
            }
        }
    };
    if let (Some(writer), false) = (&server.writer, name.is_empty()) {
        let (reply, written) = oneshot::channel();
        let row = Row {
            id: id.clone(),
            name: name.clone(),
            body,
            reply,
        };
        let sent = writer.send(row);
        let result = match sent {
            Ok(()) => written
                .await
                .unwrap_or_else(|_| Err("writer stopped".into())),
            Err(_) => Err("writer stopped".into()),
        };
        if let Err(e) = result {
            let status = if e.contains("UNIQUE") {
                StatusCode::CONFLICT
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            return (status, Json(json!({"code": "StoreFailed", "message": e}))).into_response();
        }
    }
    Json(json!({
        "RequestId": id,
        "Success": true,
        "Data": {"InstanceId": id, "Name": name, "Method": method.as_str()},
        "instance_id": id,
        "brokerId": id,
    }))
    .into_response()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let listener = match tokio::net::TcpListener::bind(&cli.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("noop-server: cannot listen on {}: {e}", cli.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().expect("bound socket has an address");
    let writer = match cli.store {
        StoreKind::None => None,
        StoreKind::Sqlite => match open_reference(&cli.data_dir) {
            Ok(conn) => {
                let (tx, rx) = mpsc::channel();
                std::thread::spawn(move || write_rows(conn, rx));
                Some(tx)
            }
            Err(e) => {
                eprintln!("noop-server: cannot open {}: {e}", cli.data_dir.display());
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    let router = Router::new()
        .route("/_cloudtwin/health", get(health))
        .route("/v3/projects", get(projects))
        .fallback(answer)
        .with_state(Arc::new(Server {
            next_id: AtomicU64::new(1),
            writer,
        }));
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }
    if let Err(e) = axum::serve(listener, router).await {
        eprintln!("noop-server: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
