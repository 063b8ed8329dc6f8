//! For tests, here and in the crates above: a fresh database on the test server
//! (`CLOUDTWIN_TEST_PG`, else the local one at 127.0.0.1:5432 as `postgres`, then `root`),
//! dropped at the end. With no server, a test says so loudly and passes.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use cloudtwin_core::{IdSource, RandomIds};
use tokio_postgres::{Config as PostgresConfig, NoTls};

pub const DEFAULT_URLS: [&str; 2] = [
    "postgres://postgres@127.0.0.1:5432/postgres",
    "postgres://root@127.0.0.1:5432/postgres",
];

/// Where a config points, without its user or password.
fn target(config: &PostgresConfig) -> String {
    let hosts = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let ports = config
        .get_ports()
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    format!("{hosts}:{ports}")
}

/// An administrative connection to the first server that answers within 2 s.
pub async fn admin(suite: &str) -> Option<(tokio_postgres::Client, PostgresConfig)> {
    let urls: Vec<String> = match std::env::var("CLOUDTWIN_TEST_PG") {
        Ok(url) if !url.trim().is_empty() => vec![url],
        _ => DEFAULT_URLS.iter().map(|u| u.to_string()).collect(),
    };
    let mut tried = Vec::new();
    for url in &urls {
        let config: PostgresConfig = url.parse().expect("CLOUDTWIN_TEST_PG is not a valid URL");
        tried.push(target(&config));
        if let Ok(Ok((client, connection))) =
            tokio::time::timeout(Duration::from_secs(2), config.connect(NoTls)).await
        {
            tokio::spawn(async move {
                let _ = connection.await;
            });
            return Some((client, config));
        }
    }
    tried.dedup();
    // Straight to the stream, not `eprintln!`, which the test harness captures.
    let line = format!(
        "SKIPPED: {suite} — no server at {}; set CLOUDTWIN_TEST_PG\n",
        tried.join(" or ")
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
    None
}

/// A plain client of the database `config` names, for a test that reads or changes it
/// beside the store.
pub async fn client(config: &PostgresConfig) -> tokio_postgres::Client {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// Runs `test` against a fresh database, then drops the database, even if `test` panicked.
pub async fn with_db<F, Fut>(suite: &str, test: F)
where
    F: FnOnce(PostgresConfig) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((admin, mut config)) = admin(suite).await else {
        return;
    };
    let name = format!("cloudtwin_test_{}", RandomIds.hex(32));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    config.dbname(&name);
    let outcome = tokio::spawn(test(config)).await;
    let dropped = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
    dropped.expect("drop the test database");
}

/// The first TCP host and port of a config, if it has one.
pub fn tcp_upstream(config: &PostgresConfig) -> Option<String> {
    let host = config.get_hosts().iter().find_map(|h| match h {
        tokio_postgres::config::Host::Tcp(name) => Some(name.clone()),
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => None,
    })?;
    let port = config.get_ports().first().copied().unwrap_or(5432);
    Some(format!("{host}:{port}"))
}
