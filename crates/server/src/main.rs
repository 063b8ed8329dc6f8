//! The `cloudtwin` command: `serve` runs the server, `accounts` manages tenants,
//! `snapshot` exports and imports state, `control` steers a running server's lifecycle
//! over its admin API.

mod control;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cloudtwin_core::billing::TimeScale;
use cloudtwin_core::{FaultSpec, Lifecycle, Rule};
use cloudtwin_server::{keys::DEFAULT_ACCOUNT, Config, OpsOptions};

#[derive(Parser)]
#[command(
    name = "cloudtwin",
    version,
    about = "A self-hosted control plane that speaks the Alibaba Cloud and Huawei Cloud APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve {
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, env = "CLOUDTWIN_LISTEN", default_value = "127.0.0.1:9700")]
        listen: String,
        #[command(flatten)]
        data: DataArgs,
        /// How long transitions take: instant, realistic, or a delay such as 3s or 500ms.
        #[arg(long, env = "CLOUDTWIN_LIFECYCLE", default_value = "realistic")]
        lifecycle: Lifecycle,
        /// The admin API's bearer token when listening beyond loopback; without it, the
        /// one in <data-dir>/admin-token, else a new one saved there and printed once.
        #[arg(long, env = "CLOUDTWIN_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// A fault rule in force from the start, as the JSON POST /_cloudtwin/faults takes,
        /// e.g. '{"product":"starrocks","operation":"*","latency_ms":200}'. Repeatable.
        #[arg(long = "fault", value_name = "JSON", value_parser = parse_fault)]
        faults: Vec<FaultSpec>,
        /// A state-control rule, PRODUCT:OPERATION=MODE, overriding --lifecycle for those
        /// transitions; repeatable (in the variable, separated by ';'). MODE is instant,
        /// delay:2s, manual or fail[:CODE[:MESSAGE]]; PRODUCT and OPERATION may be *.
        /// Example: --state-control 'starrocks:CreateInstance=manual'.
        #[arg(
            long = "state-control",
            env = "CLOUDTWIN_STATE_CONTROL",
            value_delimiter = ';'
        )]
        state_control: Vec<Rule>,
        /// How much faster than real time prePaid terms run out, for tests: 2592000 makes
        /// a 30-day month last one second. Only subscription lengths are scaled.
        #[arg(long, env = "CLOUDTWIN_BILLING_TIME_SCALE", default_value = "1", value_parser = parse_time_scale)]
        billing_time_scale: TimeScale,
    },
    /// Steers a running server's lifecycle: state-control rules, jobs, manual steps.
    Control {
        /// The server's address.
        #[arg(
            long,
            env = "CLOUDTWIN_SERVER",
            default_value = "http://127.0.0.1:9700",
            global = true
        )]
        server: String,
        /// The server's admin token, needed when it listens beyond loopback (as given to
        /// `serve --admin-token`).
        #[arg(
            long,
            env = "CLOUDTWIN_ADMIN_TOKEN",
            hide_env_values = true,
            global = true
        )]
        admin_token: Option<String>,
        /// Without a token: read the one the server saved in <data-dir>/admin-token.
        #[arg(long, env = "CLOUDTWIN_DATA_DIR", global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: control::ControlCommand,
    },
    /// Manages accounts (tenants) and their access keys.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Exports or imports the state as a snapshot document (see docs/admin.md).
    Snapshot {
        #[command(subcommand)]
        command: SnapshotCommand,
    },
}

#[derive(Subcommand)]
enum SnapshotCommand {
    /// Writes the whole state, or one account's, as JSON to stdout or --out.
    Export {
        /// Only this account (its id).
        #[arg(long)]
        account: Option<String>,
        /// Write here instead of stdout (created 0600: it holds sealed secrets).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Loads a snapshot into an empty data directory or database.
    Import {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

fn parse_fault(s: &str) -> Result<FaultSpec, String> {
    let spec: FaultSpec = serde_json::from_str(s).map_err(|e| e.to_string())?;
    spec.validate()?;
    Ok(spec)
}

#[derive(clap::Args)]
struct DataArgs {
    /// Where state is kept (SQLite database, master key, credentials).
    #[arg(long, env = "CLOUDTWIN_DATA_DIR", default_value = "cloudtwin-data")]
    data_dir: PathBuf,
    /// Keep state in PostgreSQL (`postgres://user@host:5432/db`), shared by replicas,
    /// instead of the SQLite file in the data directory.
    #[arg(long, env = "CLOUDTWIN_STORE")]
    store: Option<String>,
}

impl DataArgs {
    /// Opens the store and keys these arguments name, as `serve` does.
    async fn open(&self, master_key: Option<&str>) -> Result<cloudtwin_server::Opened, String> {
        cloudtwin_server::open_store(&self.data_dir, master_key, self.store.as_deref())
            .await
            .map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Creates an account with a new key pair, printed once as JSON.
    Create {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Lists accounts and their access key ids (never secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Sets the password of the account's Huawei IAM user, for `POST /v3/auth/tokens`
    /// (user name and domain name are both the account's name). Reads the password from
    /// the first line of stdin (`echo "$PW" | cloudtwin accounts password NAME`); only a
    /// salted PBKDF2 hash is stored.
    Password {
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Log lines are formatted on the request path into a shared buffer, which a logging
/// thread writes out in large pieces (`log_buffer`). The guard writes what is left when
/// `main` returns.
fn init_logs() -> cloudtwin_server::log_buffer::FlushOnDrop {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLOUDTWIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = cloudtwin_server::log_buffer::LogBuffer::new(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    if env("CLOUDTWIN_LOG_FORMAT").as_deref() == Some("json") {
        builder.json().init();
    } else {
        builder
            .event_format(cloudtwin_server::log_format::Compact::default())
            .init();
    }
    guard
}

// jemalloc: about 18% fewer instructions per create than glibc's malloc, for ~2 MiB more
// idle RSS (mimalloc cost ~9 MiB); bench/README.md has the measurements.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let _flush_logs_on_exit = init_logs();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            listen,
            data,
            lifecycle,
            admin_token,
            faults,
            state_control,
            billing_time_scale,
        } => {
            let ops = OpsOptions {
                admin_token,
                faults,
            };
            serve(
                listen,
                data,
                lifecycle,
                state_control,
                billing_time_scale,
                ops,
            )
            .await
        }
        Command::Control {
            server,
            admin_token,
            data_dir,
            command,
        } => match control::credential(admin_token, data_dir.as_deref()) {
            Ok(credential) => control::run(&server, credential, command).await,
            Err(message) => Err(message),
        },
        Command::Accounts { command } => accounts(command).await,
        Command::Snapshot { command } => snapshot(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cloudtwin: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_time_scale(s: &str) -> Result<TimeScale, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .and_then(TimeScale::new)
        .ok_or_else(|| format!("invalid billing time scale {s:?}: expected a number >= 1"))
}

async fn serve(
    listen: String,
    data: DataArgs,
    lifecycle: Lifecycle,
    state_control: Vec<Rule>,
    billing_time_scale: TimeScale,
    ops: OpsOptions,
) -> Result<(), String> {
    let data_dir = data.data_dir;
    let access_key = match (
        env("CLOUDTWIN_ACCESS_KEY_ID"),
        env("CLOUDTWIN_ACCESS_KEY_SECRET"),
    ) {
        (Some(id), Some(secret)) => Some((id, secret)),
        (None, None) => None,
        _ => {
            return Err(
                "set both CLOUDTWIN_ACCESS_KEY_ID and CLOUDTWIN_ACCESS_KEY_SECRET, or neither"
                    .into(),
            )
        }
    };
    let config = Config {
        listen,
        data_dir: data_dir.clone(),
        lifecycle,
        state_control,
        billing_time_scale,
        master_key: env("CLOUDTWIN_MASTER_KEY"),
        access_key,
    };
    let running = cloudtwin_server::start_with_options(config, data.store.as_deref(), ops)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    if let Some(issued) = &running.issued {
        // Shown once, here; never logged. Also kept in <data-dir>/credentials (0600).
        let _ = writeln!(
            out,
            "created the {DEFAULT_ACCOUNT} account {} with the access key\n  access_key_id:     {}\n  access_key_secret: {}\n(saved in {})",
            issued.account_id,
            issued.access_key_id,
            issued.access_key_secret,
            data_dir.join("credentials").display()
        );
    }
    if let Some(token) = &running.generated_admin_token {
        // Shown once, here; never logged. Also kept in <data-dir>/admin-token (0600).
        let _ = writeln!(
            out,
            "the admin API needs Authorization: Bearer {token}\n(saved in {})",
            data_dir
                .join(cloudtwin_server::admin::ADMIN_TOKEN_FILE)
                .display()
        );
    } else if running.admin_protected {
        let _ = writeln!(
            out,
            "the admin API needs the admin token (--admin-token, CLOUDTWIN_ADMIN_TOKEN or {})",
            data_dir
                .join(cloudtwin_server::admin::ADMIN_TOKEN_FILE)
                .display()
        );
    }
    let _ = writeln!(out, "listening on http://{}", running.addr);
    let _ = out.flush();
    drop(out);
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn accounts(command: AccountsCommand) -> Result<(), String> {
    let master_key = env("CLOUDTWIN_MASTER_KEY");
    match command {
        AccountsCommand::Create { name, data } => {
            let opened = data.open(master_key.as_deref()).await?;
            let issued = opened
                .keyring
                .create_account(&name, None)
                .await
                .map_err(|e| e.to_string())?;
            let out = serde_json::json!({
                "account": issued.account,
                "account_id": issued.account_id,
                "access_key_id": issued.access_key_id,
                "access_key_secret": issued.access_key_secret,
            });
            println!("{out}");
        }
        AccountsCommand::Password { name, data } => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
            let password = line.trim_end_matches(['\n', '\r']);
            let opened = data.open(master_key.as_deref()).await?;
            opened
                .keyring
                .set_password(&name, password)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::json!({"account": name, "password": "set"})
            );
        }
        AccountsCommand::List { data } => {
            let opened = data.open(master_key.as_deref()).await?;
            for account in opened.store.accounts().await.map_err(|e| e.to_string())? {
                let keys = opened
                    .store
                    .access_keys(&account.id)
                    .await
                    .map_err(|e| e.to_string())?;
                let ids: Vec<_> = keys.into_iter().map(|k| k.id).collect();
                println!(
                    "{}",
                    serde_json::json!({"account": account.name, "account_id": account.id, "domain_id": account.domain_id, "access_key_ids": ids})
                );
            }
        }
    }
    Ok(())
}

async fn snapshot(command: SnapshotCommand) -> Result<(), String> {
    use cloudtwin_server::admin::snapshot;
    let master_key = env("CLOUDTWIN_MASTER_KEY");
    match command {
        SnapshotCommand::Export { account, out, data } => {
            let opened = data.open(master_key.as_deref()).await?;
            let doc = snapshot::build(
                opened.store.as_ref(),
                &opened.keyring.master_key.id(),
                account.as_deref(),
                opened.clock.now_ms(),
            )
            .await
            .map_err(|e| e.to_string())?;
            // Fails only on a stored document that is not JSON (stores do not parse them).
            let bytes = serde_json::to_vec_pretty(&doc)
                .map_err(|e| format!("cannot write the snapshot: {e}"))?;
            match out {
                Some(path) => cloudtwin_server::keys::write_private(&path, &bytes)
                    .map_err(|e| e.to_string())?,
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(&bytes)
                        .and_then(|_| stdout.write_all(b"\n"))
                        .map_err(|e| format!("cannot write the snapshot: {e}"))?;
                }
            }
        }
        SnapshotCommand::Import { file, data } => {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let doc = snapshot::parse(&bytes).map_err(|e| e.to_string())?;
            let opened = data.open(master_key.as_deref()).await?;
            let loaded =
                snapshot::load(opened.store.as_ref(), &opened.keyring.master_key.id(), doc)
                    .await
                    .map_err(|e| e.to_string())?;
            println!("{}", serde_json::json!({ "imported": loaded }));
        }
    }
    Ok(())
}
