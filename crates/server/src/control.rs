//! `cloudtwin control ...`: a client of a running server's state-control admin API
//! (`admin/control.rs`, documented in `docs/admin.md`). Prints the server's JSON answer; a
//! refusal exits non-zero with the server's message.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use clap::Subcommand;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use cloudtwin_server::admin::ADMIN_TOKEN_FILE;
use cloudtwin_server::ADMIN_PREFIX;

/// The admin token to send, and where it came from (for the message when it is refused).
pub struct Credential {
    token: String,
    from_file: Option<PathBuf>,
}

/// The token given (`--admin-token` / `CLOUDTWIN_ADMIN_TOKEN`), else the one a server
/// saved in `<data_dir>/admin-token`, else none (a loopback server needs none).
pub fn credential(
    given: Option<String>,
    data_dir: Option<&Path>,
) -> Result<Option<Credential>, String> {
    if let Some(token) = given.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        return Ok(Some(Credential {
            token,
            from_file: None,
        }));
    }
    let Some(dir) = data_dir else {
        return Ok(None);
    };
    let path = dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(saved) if !saved.trim().is_empty() => Ok(Some(Credential {
            token: saved.trim().to_owned(),
            from_file: Some(path),
        })),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "cannot read the admin token {}: {e}",
            path.display()
        )),
    }
}

const HOW_TO_PASS: &str = "pass the server's admin token with --admin-token TOKEN or \
     CLOUDTWIN_ADMIN_TOKEN, or --data-dir DIR to read the DIR/admin-token a server saved";

/// What to tell the user when the server answers 401.
fn unauthorized(server: &str, credential: Option<&Credential>) -> String {
    match credential {
        None => format!(
            "the server at {server} listens beyond loopback and needs its admin token: \
             {HOW_TO_PASS}"
        ),
        Some(Credential {
            from_file: Some(path),
            ..
        }) => format!(
            "the server at {server} refused the admin token read from {}: {HOW_TO_PASS}",
            path.display()
        ),
        Some(_) => format!("the server at {server} refused the admin token given: {HOW_TO_PASS}"),
    }
}

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
        /// pending, parked, running, succeeded, failed or cancelled.
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

pub async fn run(
    server: &str,
    credential: Option<Credential>,
    command: ControlCommand,
) -> Result<(), String> {
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
    let (status, answer) = call(server, credential.as_ref(), method, &path, body).await?;
    if status == 401 {
        return Err(unauthorized(server, credential.as_ref()));
    }
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
    credential: Option<&Credential>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value), String> {
    let url = format!("{}{ADMIN_PREFIX}{path}", server.trim_end_matches('/'));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = Request::builder()
        .method(method)
        .uri(&url)
        .header("content-type", "application/json");
    if let Some(c) = credential {
        request = request.header("authorization", format!("Bearer {}", c.token));
    }
    let request = request
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_token_wins_over_the_saved_one_and_no_file_means_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(credential(None, Some(dir.path())).unwrap().is_none());
        assert!(credential(Some("  ".into()), None).unwrap().is_none());
        std::fs::write(dir.path().join(ADMIN_TOKEN_FILE), "saved-token\n").unwrap();
        let saved = credential(None, Some(dir.path())).unwrap().unwrap();
        assert_eq!(saved.token, "saved-token");
        assert!(unauthorized("http://h:1", Some(&saved)).contains("admin-token"));
        let given = credential(Some("given".into()), Some(dir.path()))
            .unwrap()
            .unwrap();
        assert_eq!((given.token.as_str(), given.from_file), ("given", None));
        assert!(unauthorized("http://h:1", None).contains("--admin-token"));
    }
}
