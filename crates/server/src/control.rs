//! `cloudtwin control ...`: a client of a running server's state-control admin API
//! (`admin_control.rs`). Prints the server's JSON answer; a refusal exits non-zero with
//! the server's message.

use bytes::Bytes;
use clap::Subcommand;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use cloudtwin_server::ADMIN_PREFIX;

#[derive(Subcommand)]
pub enum ControlCommand {
    /// Lists the state-control rules in force.
    Rules,
    /// Adds a rule, PRODUCT:OPERATION=MODE (replacing one for the same product and operation).
    Set {
        /// Such as starrocks:CreateInstance=manual, rocketmq:*=delay:2s,
        /// taurusdb:CreateGaussDBforMySQLInstance=fail:DBS.280001:No resources.
        rule: String,
    },
    /// Removes every rule.
    Clear,
    /// Lists jobs, oldest first.
    Jobs {
        #[arg(long)]
        product: Option<String>,
        #[arg(long)]
        instance: Option<String>,
        /// pending, parked, running, succeeded or failed.
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Releases a parked job: the instance's oldest, or the one named.
    #[command(group = clap::ArgGroup::new("target").required(true).args(["instance", "job"]))]
    Step {
        #[arg(long)]
        instance: Option<String>,
        #[arg(long)]
        job: Option<String>,
    },
}

pub async fn run(server: &str, command: ControlCommand) -> Result<(), String> {
    let (method, path, body) = match command {
        ControlCommand::Rules => ("GET", "/state-control/rules".to_owned(), None),
        ControlCommand::Set { rule } => (
            "POST",
            "/state-control/rules".to_owned(),
            Some(json!({ "rule": rule })),
        ),
        ControlCommand::Clear => ("DELETE", "/state-control/rules".to_owned(), None),
        ControlCommand::Jobs {
            product,
            instance,
            state,
            limit,
        } => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in [
                ("product", product),
                ("instance", instance),
                ("state", state),
                ("limit", limit.map(|n| n.to_string())),
            ] {
                if let Some(v) = value {
                    query.append_pair(name, &v);
                }
            }
            let query = query.finish();
            let path = if query.is_empty() {
                "/jobs".to_owned()
            } else {
                format!("/jobs?{query}")
            };
            ("GET", path, None)
        }
        ControlCommand::Step { instance, job } => {
            let path = match (instance, job) {
                (Some(id), _) => format!("/instances/{}/step", segment(&id)),
                (None, Some(id)) => format!("/jobs/{}/step", segment(&id)),
                (None, None) => unreachable!("clap requires --instance or --job"),
            };
            ("POST", path, None)
        }
    };
    let (status, answer) = call(server, method, &path, body).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&answer).unwrap_or_default()
    );
    if (200..300).contains(&status) {
        Ok(())
    } else {
        let message = answer["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("the server answered HTTP {status}"));
        Err(message)
    }
}

/// An id as one path segment.
fn segment(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

async fn call(
    server: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value), String> {
    let url = format!("{}{ADMIN_PREFIX}{path}", server.trim_end_matches('/'));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = Request::builder()
        .method(method)
        .uri(&url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("bad server address {server:?}: {e}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("cannot reach the server at {server}: {e}"))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("the server's answer broke off: {e}"))?
        .to_bytes();
    let answer = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| json!({"body": String::from_utf8_lossy(&bytes)}));
    Ok((status, answer))
}
