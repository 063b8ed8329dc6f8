//! `noop-server`: the machine's ceiling. Same HTTP stack as cloudtwin (axum on tokio), no
//! authentication, no storage: a request body is parsed as JSON (a bad one answers 400), and
//! every call answers a small JSON that carries an id in the shapes the load generator reads
//! (StarRocks `Data.InstanceId`, RocketMQ `instance_id`, moto `brokerId`).
//!
//! `noop-server --listen 127.0.0.1:0` prints `listening on http://HOST:PORT` like cloudtwin.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(
    name = "noop-server",
    about = "A no-op JSON server: the machine's ceiling"
)]
struct Cli {
    #[arg(long, default_value = "127.0.0.1:9800")]
    listen: String,
}

struct Counter(AtomicU64);

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

async fn answer(State(n): State<Arc<Counter>>, method: Method, body: Bytes) -> Response {
    let id = format!("c-{:016x}", n.0.fetch_add(1, Ordering::Relaxed));
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
    let router = Router::new()
        .route("/_cloudtwin/health", get(health))
        .route("/v3/projects", get(projects))
        .fallback(answer)
        .with_state(Arc::new(Counter(AtomicU64::new(1))));
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
