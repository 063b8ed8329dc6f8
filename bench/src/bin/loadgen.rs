//! `cloudtwin-loadgen`: closed-loop load over keep-alive HTTP/1.1, one connection per worker,
//! every request signed as the SDK signs it (fresh date and nonce each time).
//!
//! ```text
//! cloudtwin-loadgen --target http://127.0.0.1:9700 --api starrocks --scenario create \
//!     --concurrency 16 --duration 5 --warmup 1 --json results/run.jsonl --label cloudtwin
//! cloudtwin-loadgen --api moto --scenario describe --seed 100 ...      # or --scenario moto-describe
//! cloudtwin-loadgen startup --reps 5 --probe health -- cloudtwin serve --listen 127.0.0.1:{port} ...
//! ```
//!
//! Exit status: 0 done; 1 bad usage or local failure; 2 the server answered the first request
//! with an error (or not at all); 3 the server does not implement the API (404/501 on the
//! first request), so a script can skip the scenario.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, Parser, Subcommand, ValueEnum};
use cloudtwin_bench::http1::{Conn, SendError};
use cloudtwin_bench::request::{created_id, mixed_op, project_from_listing, Rng};
use cloudtwin_bench::stats::median;
use cloudtwin_bench::{Api, Op, Request, Signer, Summary, Tally};
use serde_json::{json, Map, Value};

// glibc's malloc was a fifth of the load generator's CPU, which it takes from the server it
// measures on the same two cores; the server uses jemalloc too.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "cloudtwin-loadgen",
    version,
    about = "Signed load generator for cloudtwin, moto and the no-op server",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Sub {
    /// Spawns a server REPS times and measures spawn → first answer.
    Startup(StartupArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Create,
    Describe,
    List,
    Mixed,
    /// `--api moto --scenario create`.
    MotoCreate,
    /// `--api moto --scenario describe`.
    MotoDescribe,
    /// `--api moto --scenario list` (moto answers every broker: slow with many).
    MotoList,
}

impl Scenario {
    /// The API it forces, and the plain scenario.
    fn resolve(self, api: Api) -> (Api, Scenario) {
        match self {
            Scenario::MotoCreate => (Api::Moto, Scenario::Create),
            Scenario::MotoDescribe => (Api::Moto, Scenario::Describe),
            Scenario::MotoList => (Api::Moto, Scenario::List),
            other => (api, other),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scenario::Create => "create",
            Scenario::Describe => "describe",
            Scenario::List => "list",
            Scenario::Mixed => "mixed",
            Scenario::MotoCreate => "moto-create",
            Scenario::MotoDescribe => "moto-describe",
            Scenario::MotoList => "moto-list",
        }
    }
}

#[derive(Args, Clone)]
struct Common {
    /// Base URL of the server (loopback).
    #[arg(long, default_value = "http://127.0.0.1:9700")]
    target: String,
    /// starrocks (Alibaba, ACS3), rocketmq (Huawei, SDK-HMAC-SHA256) or moto (Amazon MQ).
    #[arg(long, default_value = "starrocks")]
    api: Api,
    #[arg(
        long,
        env = "CLOUDTWIN_ACCESS_KEY_ID",
        default_value = "LTAIbenchkey0000000001"
    )]
    ak: String,
    #[arg(
        long,
        env = "CLOUDTWIN_ACCESS_KEY_SECRET",
        default_value = "bench-secret-0000000000000001",
        hide_env_values = true
    )]
    sk: String,
    /// Huawei project id for RocketMQ; looked up with IAM `GET /v3/projects?name=REGION` if absent.
    #[arg(long)]
    project_id: Option<String>,
    /// Huawei region of the project (default cn-north-4) or moto region (default us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Append the JSON line to this file (`-` = stdout).
    #[arg(long)]
    json: Option<String>,
    /// Name of the server under test, copied into the JSON record.
    #[arg(long, default_value = "")]
    label: String,
    /// Free-form tag copied into the JSON record (e.g. the rep or the phase).
    #[arg(long, default_value = "")]
    tag: String,
}

#[derive(Args, Clone)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, value_enum, default_value = "create")]
    scenario: Scenario,
    /// Workers, each with its own keep-alive connection and one request in flight.
    #[arg(short, long, default_value_t = 1)]
    concurrency: usize,
    /// Measured seconds.
    #[arg(short, long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of load before measuring (answers then are not counted).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Resources to create before the run (describe and mixed pick among them).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Describe these ids (one per line, as written by --save-ids) instead of seeding.
    #[arg(long, conflicts_with = "seed")]
    ids: Option<String>,
    /// Write the id of every resource this invocation created, one per line.
    #[arg(long)]
    save_ids: Option<String>,
    /// Workers used for seeding.
    #[arg(long, default_value_t = 8)]
    seed_concurrency: usize,
    /// Stop after this many requests (0 = no limit; --duration still caps the run, no warmup).
    #[arg(long, default_value_t = 0)]
    requests: u64,
    /// Client threads (0 = 1 for concurrency 1, else 2).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// PID of the server, to report its RSS and CPU per request.
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Probe {
    /// `GET /_cloudtwin/health` (cloudtwin, noop-server).
    Health,
    /// The API's list call, signed (moto: ListBrokers).
    List,
}

#[derive(Args)]
struct StartupArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 5)]
    reps: usize,
    #[arg(long, value_enum, default_value = "health")]
    probe: Probe,
    /// Give up on one start after this many milliseconds.
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
    /// Append the server's stdout and stderr here (default: discarded).
    #[arg(long)]
    log: Option<String>,
    /// The server command; `{port}` is replaced by a free loopback port, `{n}` by the rep number.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Sub::Startup(args)) => startup(args),
        None => run_main(cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(code, message)) => {
            eprintln!("cloudtwin-loadgen: {message}");
            ExitCode::from(code)
        }
    }
}

/// An exit status and what to say.
struct Fail(u8, String);

fn usage(m: impl Into<String>) -> Fail {
    Fail(1, m.into())
}

fn signer(c: &Common, api: Api, host: String) -> Signer {
    let region = c.region.clone().unwrap_or_else(|| match api {
        Api::Moto => "us-east-1".into(),
        _ => cloudtwin_bench::request::DEFAULT_HUAWEI_REGION.into(),
    });
    Signer {
        access_key_id: c.ak.clone(),
        access_key_secret: c.sk.clone(),
        host,
        project_id: c.project_id.clone(),
        region,
    }
}

/// `http://host:port` → (`http://host:port` without trailing slash, `host:port`).
fn split_target(target: &str) -> Result<(String, String), Fail> {
    let base = target.trim_end_matches('/').to_owned();
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| usage(format!("--target must be http://HOST:PORT, got {target:?}")))?;
    if authority.is_empty() || authority.contains('/') {
        return Err(usage(format!(
            "--target must be http://HOST:PORT, got {target:?}"
        )));
    }
    Ok((base.clone(), authority.to_owned()))
}

fn append_json(dest: &Option<String>, line: &Value) -> Result<(), Fail> {
    let Some(dest) = dest else { return Ok(()) };
    let text = format!("{line}\n");
    if dest == "-" {
        print!("{text}");
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dest)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| usage(format!("cannot write {dest}: {e}")))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

struct Plan {
    api: Api,
    scenario: Scenario,
    signer: Signer,
    /// `host:port` to connect to.
    authority: String,
    ids: Vec<String>,
    prefix: String,
    measure_start: Instant,
    end: Instant,
    /// Requests left to send, when bounded.
    budget: Option<AtomicU64>,
    timeout: Duration,
    /// Keep the ids of created resources (seeding).
    collect: bool,
}

impl Plan {
    fn take(&self) -> bool {
        match &self.budget {
            None => true,
            Some(b) => b
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

async fn worker(plan: Arc<Plan>, n: usize) -> (Tally, Vec<String>) {
    let mut conn = Conn::new(&plan.authority);
    let mut tally = Tally::new();
    let mut created = Vec::new();
    let mut rng = Rng::new(0x5eed ^ (n as u64 + 1) ^ unix_now());
    let mut counter = 0u64;
    while Instant::now() < plan.end && plan.take() {
        let op = match plan.scenario {
            Scenario::Describe => Op::Describe,
            Scenario::List => Op::List,
            Scenario::Mixed => mixed_op(&mut rng),
            _ => Op::Create,
        };
        let op = if op == Op::Describe && plan.ids.is_empty() {
            Op::List
        } else {
            op
        };
        let name = format!("{}-{n}-{counter}", plan.prefix);
        counter += 1;
        let id = if op == Op::Describe {
            plan.ids[rng.below(plan.ids.len())].as_str()
        } else {
            ""
        };
        let req = plan.signer.build(plan.api, op, &name, id);
        let t0 = Instant::now();
        let result = conn.send(&req, plan.timeout).await;
        let t1 = Instant::now();
        let counted = t1 >= plan.measure_start && t1 <= plan.end;
        let micros = (t1 - t0).as_micros() as u64;
        match result {
            Ok((status, body)) if (200..300).contains(&status) => {
                if counted {
                    tally.record_ok(op, micros);
                }
                if plan.collect && op == Op::Create {
                    if let Some(id) = created_id(plan.api, &body) {
                        created.push(id);
                    }
                }
            }
            Ok((status, body)) => {
                if counted {
                    tally.record_error(&status.to_string(), || {
                        format!("{} → {}", op.as_str(), String::from_utf8_lossy(&body))
                    });
                }
            }
            Err(e) => {
                let (kind, msg) = match e {
                    SendError::Timeout => ("timeout", "no answer within --timeout".to_owned()),
                    SendError::Io(m) => ("io", m),
                };
                if counted {
                    tally.record_error(kind, || msg);
                }
                // A dead server must not turn this into a busy loop.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    (tally, created)
}

async fn drive(plan: Plan, concurrency: usize) -> (Tally, Vec<String>) {
    let plan = Arc::new(plan);
    let mut handles = Vec::with_capacity(concurrency);
    for n in 0..concurrency {
        handles.push(tokio::spawn(worker(plan.clone(), n)));
    }
    let mut tally = Tally::new();
    let mut ids = Vec::new();
    for h in handles {
        match h.await {
            Ok((t, i)) => {
                tally.merge(t);
                ids.extend(i);
            }
            Err(e) => tally.record_error("panic", || e.to_string()),
        }
    }
    (tally, ids)
}

/// utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux), and its RSS in KiB.
fn proc_usage(pid: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some((ticks, rss))
}

const TICK_US: f64 = 10_000.0;

/// One request on its own, to learn early whether the server speaks this API at all.
async fn first_request(conn: &mut Conn, req: Request, what: &str) -> Result<Bytes, Fail> {
    match conn.send(&req, Duration::from_secs(30)).await {
        Ok((status, body)) if (200..300).contains(&status) => Ok(body),
        Ok((status, body)) if status == 404 || status == 501 => Err(Fail(
            3,
            format!(
                "the server does not implement {what} (HTTP {status}): {}",
                clip(&body)
            ),
        )),
        Ok((status, body)) => Err(Fail(
            2,
            format!("{what} failed with HTTP {status}: {}", clip(&body)),
        )),
        Err(SendError::Timeout) => Err(Fail(2, format!("{what}: no answer within 30 s"))),
        Err(SendError::Io(e)) => Err(Fail(2, format!("{what}: {e}"))),
    }
}

fn clip(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let s: String = s.chars().take(400).collect();
    if s.is_empty() {
        "(empty body)".into()
    } else {
        s
    }
}

fn run_main(args: RunArgs) -> Result<(), Fail> {
    if args.concurrency == 0 || args.concurrency > 4096 {
        return Err(usage("--concurrency must be 1..=4096"));
    }
    let duration_ok = args.duration > 0.0 && args.duration <= 3600.0;
    if !duration_ok || !(0.0..=600.0).contains(&args.warmup) {
        return Err(usage(
            "--duration must be in (0, 3600] and --warmup in [0, 600]",
        ));
    }
    let threads = match args.threads {
        0 if args.concurrency == 1 => 1,
        0 => 2,
        n => n,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(run(args, threads))
}

async fn run(args: RunArgs, threads: usize) -> Result<(), Fail> {
    let (api, scenario) = args.scenario.resolve(args.common.api);
    let (base, authority) = split_target(&args.common.target)?;
    let mut signer = signer(&args.common, api, authority.clone());
    let mut conn = Conn::new(&authority);

    if api == Api::RocketMq && signer.project_id.is_none() {
        let body = first_request(
            &mut conn,
            signer.project_lookup(),
            "IAM KeystoneListProjects (project id lookup)",
        )
        .await?;
        signer.project_id = Some(project_from_listing(&body, &signer.region).ok_or_else(|| {
            Fail(
                2,
                format!(
                    "no project named {} in the IAM answer: {}",
                    signer.region,
                    clip(&body)
                ),
            )
        })?);
    }

    let prefix = format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut ids: Vec<String> = match &args.ids {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read --ids {path}: {e}")))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    if args.ids.is_some() && ids.is_empty() {
        return Err(usage("--ids: the file holds no ids"));
    }
    // The first request tells whether the server has this API: a create when anything will be
    // created, else a list.
    let first_op = match scenario {
        _ if !ids.is_empty() => Op::Describe,
        Scenario::List if args.seed == 0 => Op::List,
        _ => Op::Create,
    };
    if scenario == Scenario::Describe && args.seed == 0 && ids.is_empty() {
        return Err(usage(
            "describe needs --seed N or --ids FILE (resources to describe)",
        ));
    }
    let what = format!("{api} {}", first_op.as_str());
    let body = first_request(
        &mut conn,
        signer.build(
            api,
            first_op,
            &format!("{prefix}-first"),
            ids.first().map(String::as_str).unwrap_or(""),
        ),
        &what,
    )
    .await?;
    if first_op == Op::Create {
        match created_id(api, &body) {
            Some(id) => ids.push(id),
            None => {
                return Err(Fail(
                    2,
                    format!("{what}: no id in the answer: {}", clip(&body)),
                ))
            }
        }
    }

    if args.seed > 1 {
        let started = Instant::now();
        let plan = Plan {
            api,
            scenario: Scenario::Create,
            signer: signer.clone(),
            authority: authority.clone(),
            ids: Vec::new(),
            prefix: format!("{prefix}-s"),
            measure_start: started,
            end: started + Duration::from_secs(3600),
            budget: Some(AtomicU64::new(args.seed - 1)),
            timeout: Duration::from_secs_f64(args.timeout),
            collect: true,
        };
        let (tally, seeded) = drive(plan, args.seed_concurrency.max(1)).await;
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "seeded {} {api} resources in {secs:.1} s ({:.0}/s), {} errors",
            seeded.len() + 1,
            (seeded.len() + 1) as f64 / secs,
            tally.error_count()
        );
        for (k, s) in &tally.samples {
            eprintln!("  seed error {k} ×{}: {s}", tally.errors[k]);
        }
        ids.extend(seeded);
    }

    let bounded = args.requests > 0;
    let warmup = if bounded { 0.0 } else { args.warmup };
    let start = Instant::now();
    let measure_start = start + Duration::from_secs_f64(warmup);
    let end = measure_start + Duration::from_secs_f64(args.duration);
    let pid = args.server_pid.map(|p| p.to_string());
    let ids_len = ids.len();
    let plan = Plan {
        api,
        scenario,
        signer,
        authority: authority.clone(),
        ids,
        prefix,
        measure_start,
        end,
        budget: bounded.then(|| AtomicU64::new(args.requests)),
        timeout: Duration::from_secs_f64(args.timeout),
        collect: args.save_ids.is_some(),
    };
    let mut saved = if args.save_ids.is_some() && args.ids.is_none() {
        plan.ids.clone()
    } else {
        Vec::new()
    };
    // Usage at the start of the measured window.
    let sampler = {
        let pid = pid.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_start.into()).await;
            (
                Instant::now(),
                pid.as_deref().and_then(proc_usage),
                proc_usage("self"),
            )
        })
    };
    let drive_task = tokio::spawn(drive(plan, args.concurrency));
    let (at0, server0, self0) = sampler.await.map_err(|e| usage(e.to_string()))?;
    let (tally, created) = drive_task.await.map_err(|e| usage(e.to_string()))?;
    if let Some(path) = &args.save_ids {
        saved.extend(created);
        let mut text = saved.join("\n");
        text.push('\n');
        std::fs::write(path, text).map_err(|e| usage(format!("cannot write {path}: {e}")))?;
    }
    let stop = Instant::now().min(end);
    let (server1, self1) = (pid.as_deref().and_then(proc_usage), proc_usage("self"));
    let window = if bounded {
        (stop - start).as_secs_f64()
    } else {
        args.duration
    };
    let wall_us = (stop.max(at0) - at0).as_secs_f64() * 1e6;

    let all = Summary::of(&tally.all(), window);
    let mut record = Map::new();
    record.insert("kind".into(), json!("run"));
    record.insert("ts".into(), json!(unix_now()));
    record.insert("label".into(), json!(args.common.label));
    record.insert("tag".into(), json!(args.common.tag));
    record.insert("api".into(), json!(api.as_str()));
    record.insert("scenario".into(), json!(scenario.as_str()));
    record.insert("concurrency".into(), json!(args.concurrency));
    record.insert("threads".into(), json!(threads));
    record.insert("duration_s".into(), json!(window));
    record.insert("warmup_s".into(), json!(warmup));
    record.insert("seed".into(), json!(args.seed));
    record.insert("ids".into(), json!(ids_len));
    record.insert("requests_limit".into(), json!(args.requests));
    record.insert("target".into(), json!(base));
    record.insert("ok".into(), json!(tally.ok_count()));
    record.insert("error_count".into(), json!(tally.error_count()));
    record.insert("errors".into(), json!(tally.errors));
    record.insert("error_samples".into(), json!(tally.samples));
    if let Value::Object(m) = all.to_json() {
        record.extend(m);
    }
    let mut ops = Map::new();
    for (op, h) in &tally.ok {
        ops.insert(op.as_str().into(), Summary::of(h, window).to_json());
    }
    record.insert("ops".into(), Value::Object(ops));
    if let (Some((t0, _)), Some((t1, rss))) = (server0, server1) {
        let cpu_us = (t1.saturating_sub(t0)) as f64 * TICK_US;
        record.insert("server_rss_kb".into(), json!(rss));
        record.insert(
            "server_cpu_pct".into(),
            json!(round1(100.0 * cpu_us / wall_us.max(1.0))),
        );
        if all.count > 0 {
            record.insert(
                "server_cpu_us_per_req".into(),
                json!(round1(cpu_us / all.count as f64)),
            );
        }
    }
    if let (Some((t0, _)), Some((t1, _))) = (self0, self1) {
        let cpu_us = (t1.saturating_sub(t0)) as f64 * TICK_US;
        record.insert(
            "loadgen_cpu_pct".into(),
            json!(round1(100.0 * cpu_us / wall_us.max(1.0))),
        );
    }
    print_table(&args, api, scenario, window, warmup, &tally);
    append_json(&args.common.json, &Value::Object(record))?;
    Ok(())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn print_table(
    args: &RunArgs,
    api: Api,
    scenario: Scenario,
    window: f64,
    warmup: f64,
    tally: &Tally,
) {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {api} {} c={} {window:.1} s (warm-up {warmup:.1} s) → {}\n",
        if args.common.label.is_empty() {
            "run"
        } else {
            &args.common.label
        },
        scenario.as_str(),
        args.concurrency,
        args.common.target
    ));
    out.push_str(&format!(
        "  {:<9} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9}\n",
        "op", "ok", "req/s", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms"
    ));
    let mut rows: Vec<(String, Summary)> = tally
        .ok
        .iter()
        .map(|(op, h)| (op.as_str().to_owned(), Summary::of(h, window)))
        .collect();
    if rows.len() != 1 {
        rows.push(("all".into(), Summary::of(&tally.all(), window)));
    }
    for (name, s) in rows {
        out.push_str(&format!(
            "  {:<9} {:>9} {:>10.1} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>9.3}\n",
            name, s.count, s.rps, s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms
        ));
    }
    if tally.error_count() == 0 {
        out.push_str("  errors: none\n");
    } else {
        for (kind, n) in &tally.errors {
            out.push_str(&format!(
                "  errors {kind}: {n} (first: {})\n",
                tally.samples.get(kind).map(String::as_str).unwrap_or("")
            ));
        }
    }
    // The table goes to stderr when the JSON line goes to stdout.
    if args.common.json.as_deref() == Some("-") {
        eprint!("{out}");
    } else {
        print!("{out}");
    }
}

// ---------------------------------------------------------------------------------------------
// Start-up time
// ---------------------------------------------------------------------------------------------

fn free_port() -> Result<u16, Fail> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| usage(format!("no free port: {e}")))
}

/// One HTTP exchange on a fresh connection; `None` while the server is not answering yet.
fn probe_once(addr: SocketAddr, req: &Request) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    stream.write_all(&req.to_http1()).ok()?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    // The status line is enough; the rest is read so the server sees a clean close.
    loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 1 << 20 {
            break;
        }
    }
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.split(' ').nth(1)?.trim().parse().ok()
}

/// Stops our own child by its PID: SIGTERM, up to 5 s to exit, then SIGKILL.
fn stop_child(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn startup(args: StartupArgs) -> Result<(), Fail> {
    if args.reps == 0 || args.reps > 100 {
        return Err(usage("--reps must be 1..=100"));
    }
    let api = args.common.api;
    let mut times = Vec::new();
    let mut statuses = Vec::new();
    for n in 0..args.reps {
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let argv: Vec<String> = args
            .command
            .iter()
            .map(|a| {
                a.replace("{port}", &port.to_string())
                    .replace("{n}", &n.to_string())
            })
            .collect();
        let s = signer(&args.common, api, addr.to_string());
        let (out, err) = match &args.log {
            Some(path) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| usage(format!("cannot open {path}: {e}")))?;
                let g = f.try_clone().map_err(|e| usage(e.to_string()))?;
                (Stdio::from(f), Stdio::from(g))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let t0 = Instant::now();
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| usage(format!("cannot start {}: {e}", argv[0])))?;
        let deadline = t0 + Duration::from_millis(args.timeout_ms);
        let mut answer = None;
        while Instant::now() < deadline {
            let req = match args.probe {
                Probe::Health => Request {
                    method: "GET",
                    path: "/_cloudtwin/health".into(),
                    query: String::new(),
                    headers: vec![("host".into(), addr.to_string())],
                    body: Vec::new(),
                },
                Probe::List => s.build(api, Op::List, "", ""),
            };
            if let Some(status) = probe_once(addr, &req) {
                answer = Some((t0.elapsed(), status));
                break;
            }
            if let Ok(Some(exit)) = child.try_wait() {
                return Err(Fail(2, format!("{} exited early: {exit}", argv[0])));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        stop_child(&mut child);
        let (elapsed, status) = answer.ok_or_else(|| {
            Fail(
                2,
                format!("no answer from {} within {} ms", argv[0], args.timeout_ms),
            )
        })?;
        let ms = elapsed.as_secs_f64() * 1000.0;
        eprintln!("start {n}: first answer (HTTP {status}) after {ms:.1} ms");
        times.push((ms * 100.0).round() / 100.0);
        statuses.push(status);
    }
    let med = median(&times).unwrap_or(0.0);
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    let max = times.iter().copied().fold(0.0, f64::max);
    println!(
        "{} start-up ({:?} probe): median {med:.1} ms, min {min:.1}, max {max:.1} over {} starts",
        if args.common.label.is_empty() {
            "server"
        } else {
            &args.common.label
        },
        args.probe,
        times.len()
    );
    append_json(
        &args.common.json,
        &json!({
            "kind": "startup",
            "ts": unix_now(),
            "label": args.common.label,
            "tag": args.common.tag,
            "api": api.as_str(),
            "probe": format!("{:?}", args.probe).to_lowercase(),
            "reps_ms": times,
            "statuses": statuses,
            "median_ms": med,
            "min_ms": min,
            "max_ms": max,
        }),
    )
}
