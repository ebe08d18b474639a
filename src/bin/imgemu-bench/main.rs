//! `imgemu-bench`: the benchmark of issue #8 and DESIGN §10.
//!
//! - `suite` (the default): each vendor's update and one cheap read, auth off and strict, against
//!   the in-process emulator, and a bare hyper server measured in the same run with the same load
//!   generator and connection count; prints req/s, p50/p99/p99.9 and the ratios to bare.
//! - `sweep`: one scenario (and bare) at several connection counts.
//! - `startup`: in-process `start()` to first response; process start to first 200 of the release
//!   binary; its idle RSS.
//! - `big`: the release binary on a large fixture directory (see `scripts/gen-fixtures`): load
//!   time, RSS, and latency of list, show, fetch and update.
//!
//! Servers run on a tokio runtime of their own (`--server-threads`), the load generator on another
//! (`--client-threads`). Nothing here asserts on timings.

mod load;
mod process;
mod report;
mod scenarios;
mod servers;

use std::fmt;
use std::io;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use imgemu::{AuthMode, StartError};

use load::{Outcome, Plan, Requests};
use report::{Figures, Table};
use scenarios::Scenario;
use servers::{Bare, Served};

/// Why a benchmark could not run.
#[derive(Debug)]
pub enum BenchError {
    /// An I/O error, with what was being done.
    Io(String, io::Error),
    /// The emulator did not start.
    Start(StartError),
    /// Anything else, said in words.
    Other(String),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Io(what, e) => write!(f, "{what}: {e}"),
            BenchError::Start(e) => write!(f, "emulator start: {e}"),
            BenchError::Other(message) => f.write_str(message),
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    imgemu::duration::parse(text).map_err(|e| e.to_string())
}

fn parse_auth(text: &str) -> Result<AuthMode, String> {
    text.parse::<AuthMode>().map_err(|e| e.to_string())
}

/// Load benchmark of the imgemu emulator against a bare hyper server.
#[derive(Parser, Debug)]
#[command(name = "imgemu-bench")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Every scenario, auth off and strict, next to bare hyper (the default).
    Suite(LoadArgs),
    /// One scenario and bare hyper at several connection counts.
    Sweep {
        #[command(flatten)]
        load: LoadArgs,
        /// Connection counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
        counts: Vec<usize>,
    },
    /// In-process start to first response; process start to first 200; idle RSS.
    Startup(StartupArgs),
    /// The release binary on a big fixture directory.
    Big(BigArgs),
}

#[derive(Args, Debug, Clone)]
struct LoadArgs {
    /// Keep-alive connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured time per scenario (e.g. 3s, 500ms).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up per scenario, not measured.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    warmup: Duration,
    /// Repeat everything N times; figures are the median with min–max.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Only scenarios whose name contains one of these (case-insensitive; repeatable).
    #[arg(long)]
    scenario: Vec<String>,
    /// Auth modes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "off,strict", value_parser = parse_auth)]
    auth: Vec<AuthMode>,
    /// Worker threads of the server runtime (emulator and bare alike).
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Worker threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Install the binary's default log subscriber (info, compact) writing to this file, e.g.
    /// /dev/null, to measure what per-request logging costs. Off by default: no subscriber, as in
    /// library use.
    #[arg(long)]
    server_log: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
struct StartupArgs {
    /// In-process starts to time.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Process starts to time.
    #[arg(long, default_value_t = 30)]
    process_iterations: usize,
    /// The release binary [default: `imgemu` next to this executable].
    #[arg(long)]
    binary: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
struct BigArgs {
    /// Fixture directory written by scripts/gen-fixtures.
    #[arg(long)]
    fixtures: std::path::PathBuf,
    /// Process starts (load time and RSS) to time.
    #[arg(long, default_value_t = 5)]
    starts: usize,
    /// Measured time per latency scenario (one connection).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    duration: Duration,
    /// The release binary [default: `imgemu` next to this executable].
    #[arg(long)]
    binary: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => suite(&cli.load),
        Some(Command::Suite(load)) => suite(&load),
        Some(Command::Sweep { load, counts }) => sweep(&load, &counts),
        Some(Command::Startup(args)) => process::startup(&args),
        Some(Command::Big(args)) => process::big(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imgemu-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The load generator's runtime.
fn client_runtime(threads: usize) -> Result<tokio::runtime::Runtime, BenchError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("load")
        .enable_all()
        .build()
        .map_err(|e| BenchError::Io("building the client runtime".into(), e))
}

/// Installs the binary's own log output (`imgemu::logging`, info, compact) writing to `path`.
fn install_log(path: &std::path::Path) -> Result<Option<imgemu::logging::LogGuard>, BenchError> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| BenchError::Io(format!("opening {}", path.display()), e))?;
    Ok(imgemu::logging::install(
        imgemu::config::LogFormat::Pretty,
        "info",
        false,
        file,
    ))
}

fn selected(args: &LoadArgs) -> Vec<Scenario> {
    Scenario::ALL
        .into_iter()
        .filter(|s| {
            args.scenario.is_empty()
                || args
                    .scenario
                    .iter()
                    .any(|f| s.name().to_lowercase().contains(&f.to_lowercase()))
        })
        .collect()
}

/// Nonces are unique across the whole invocation.
static NONCE: AtomicU64 = AtomicU64::new(1);

/// What a connection sends for `scenario` under `auth`: one request, or (strict JD and Alibaba)
/// enough distinct signed requests for `expected_rate` over warm-up and measurement, with margin.
fn requests_for(
    scenario: Scenario,
    auth: AuthMode,
    addr: std::net::SocketAddr,
    connections: usize,
    expected_rate: f64,
    span: Duration,
) -> Requests {
    let now = time::OffsetDateTime::now_utc();
    if auth != AuthMode::Strict || scenario.replayable() {
        return Requests::Same(scenario.request(addr, now, NONCE.fetch_add(1, Ordering::Relaxed)));
    }
    let total = (expected_rate * span.as_secs_f64() * 2.0).ceil() as usize;
    let per_conn = total / connections.max(1) + 500;
    let lists = (0..connections)
        .map(|_| {
            (0..per_conn)
                .map(|_| scenario.request(addr, now, NONCE.fetch_add(1, Ordering::Relaxed)))
                .collect()
        })
        .collect();
    Requests::Distinct(Arc::new(lists))
}

/// Sends one request of the scenario and checks it answers 200, so a broken setup fails loudly
/// instead of producing fast error responses.
fn sanity(
    client: &tokio::runtime::Runtime,
    scenario: Scenario,
    addr: std::net::SocketAddr,
) -> Result<(), BenchError> {
    let now = time::OffsetDateTime::now_utc();
    let request = scenario.request(addr, now, NONCE.fetch_add(1, Ordering::Relaxed));
    client.block_on(async {
        let mut conn = load::Conn::connect(addr)
            .await
            .map_err(|e| BenchError::Io(format!("connecting to {addr}"), e))?;
        let status = conn
            .exchange(&request)
            .await
            .map_err(|e| BenchError::Io(format!("{}: first request", scenario.name()), e))?;
        if status != 200 {
            return Err(BenchError::Other(format!(
                "{}: first request answered {status}: {}",
                scenario.name(),
                String::from_utf8_lossy(conn.body())
            )));
        }
        Ok(())
    })
}

fn measure(
    client: &tokio::runtime::Runtime,
    plan: Plan,
    requests: Requests,
    label: &str,
) -> Outcome {
    let outcome = client.block_on(load::run(plan, requests));
    eprintln!(
        "  {label:<34} {:>9.0} req/s  p50 {:>7.1} µs  p99 {:>8.1} µs  p99.9 {:>8.1} µs{}{}{}",
        outcome.rate(),
        outcome.quantile_us(0.5),
        outcome.quantile_us(0.99),
        outcome.quantile_us(0.999),
        if outcome.non_200 > 0 {
            format!("  non-200: {}", outcome.non_200)
        } else {
            String::new()
        },
        if outcome.exhausted {
            "  (ran out of signed requests)"
        } else {
            ""
        },
        match &outcome.first_error {
            Some(e) => format!("  errors: {} ({e})", outcome.errors),
            None => String::new(),
        }
    );
    if let Some(first) = &outcome.first_non_200 {
        eprintln!("    first non-200: {first}");
    }
    outcome
}

/// One pass over the selected scenarios at `connections`; adds rows to `table`.
///
/// Each scenario is measured right after a bare hyper measurement of the same length and
/// connection count, and its ratios are taken against that one: on a shared machine the load
/// drifts within minutes, and a ratio of two adjacent measurements is what stays comparable.
fn pass(
    args: &LoadArgs,
    client: &tokio::runtime::Runtime,
    connections: usize,
    table: &mut Table,
    tag: &str,
) -> Result<(), BenchError> {
    let span = args.warmup + args.duration;
    let plan = |addr| Plan {
        addr,
        connections,
        warmup: args.warmup,
        duration: args.duration,
    };
    let bare = Served::bare(args.server_threads, Bare::Plain)?;
    let bare_request = Requests::Same(scenarios::bare_request(bare.addr()));
    let measure_bare = |table: &mut Table| {
        let out = measure(
            client,
            plan(bare.addr()),
            bare_request.clone(),
            "bare hyper",
        );
        let figures = Figures::of(&out, None);
        table.add(format!("{tag}bare hyper"), "-", figures.clone());
        figures
    };
    {
        let reference = measure_bare(table);
        let options = Served::bare(args.server_threads, Bare::ServerOptions)?;
        let out = measure(
            client,
            plan(options.addr()),
            Requests::Same(scenarios::bare_request(options.addr())),
            "bare hyper + server options",
        );
        table.add(
            format!("{tag}bare hyper + server options"),
            "-",
            Figures::of(&out, Some(&reference)),
        );
    }
    let chosen = selected(args);
    let mut off_rates: Vec<(Scenario, f64)> = Vec::new();
    let mut auths = args.auth.clone();
    // Auth off first: its rates size the strict pools of signed requests.
    auths.sort_by_key(|a| match a {
        AuthMode::Off => 0,
        AuthMode::Lenient => 1,
        AuthMode::Strict => 2,
    });
    for auth in auths {
        let served = Served::emulator(args.server_threads, auth)?;
        for &scenario in &chosen {
            sanity(client, scenario, served.addr())?;
            let expected = off_rates
                .iter()
                .find(|(s, _)| *s == scenario)
                .map_or(60_000.0, |(_, r)| *r);
            let requests = requests_for(scenario, auth, served.addr(), connections, expected, span);
            let reference = measure_bare(table);
            let out = measure(
                client,
                plan(served.addr()),
                requests,
                &format!("{} ({auth})", scenario.name()),
            );
            if auth == AuthMode::Off {
                off_rates.push((scenario, out.rate()));
            }
            table.add(
                format!("{tag}{}", scenario.name()),
                &auth.to_string(),
                Figures::of(&out, Some(&reference)),
            );
        }
    }
    Ok(())
}

fn header(args: &LoadArgs, what: &str) {
    let cpu = process::cpu_model();
    println!(
        "imgemu-bench {what}: {} connections, {:?} measured after {:?} warm-up, {} run(s); server runtime {} worker(s), client runtime {} worker(s); {} CPU(s), {cpu}; server log: {}",
        args.connections,
        args.duration,
        args.warmup,
        args.runs,
        args.server_threads,
        args.client_threads,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.server_log
            .as_ref()
            .map_or("none (no subscriber)".to_string(), |p| format!("info to {}", p.display())),
    );
}

fn suite(args: &LoadArgs) -> Result<(), BenchError> {
    let _log = match &args.server_log {
        Some(path) => install_log(path)?,
        None => None,
    };
    let client = client_runtime(args.client_threads)?;
    header(args, "suite");
    let mut table = Table::default();
    let started = Instant::now();
    for run in 0..args.runs.max(1) {
        eprintln!("run {}/{}", run + 1, args.runs.max(1));
        pass(args, &client, args.connections, &mut table, "")?;
    }
    table.print();
    eprintln!("done in {:.0?}", started.elapsed());
    Ok(())
}

fn sweep(args: &LoadArgs, counts: &[usize]) -> Result<(), BenchError> {
    let _log = match &args.server_log {
        Some(path) => install_log(path)?,
        None => None,
    };
    let client = client_runtime(args.client_threads)?;
    header(args, "sweep");
    let mut table = Table::default();
    for run in 0..args.runs.max(1) {
        for &n in counts {
            eprintln!("run {}/{}, {n} connection(s)", run + 1, args.runs.max(1));
            pass(args, &client, n, &mut table, &format!("{n:>3} conn  "))?;
        }
    }
    table.print();
    Ok(())
}
