//! The `imgemu` binary: parse flags (with `IMGEMU_*` env twins and an optional TOML file), start
//! the emulator, print one ready line, serve until SIGINT/SIGTERM, shut down gracefully.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use imgemu::config::{Config, Raw, RawConfig};
use imgemu::StartError;

/// Local emulator of the JD Cloud NeuHub, Alibaba Image Search, Huawei IMS and Aries image APIs.
#[derive(Parser, Debug)]
#[command(name = "imgemu", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the emulator (the default command).
    Serve(ServeArgs),
}

/// Every flag has an IMGEMU_* environment twin and a key in the TOML file.
#[derive(Args, Debug)]
struct ServeArgs {
    /// TOML config file (keys as the flags, vendor tables [jd], [aliyun], [huawei], [aries]).
    #[arg(long, env = "IMGEMU_CONFIG")]
    config: Option<PathBuf>,
    /// Interface to bind [default: 127.0.0.1].
    #[arg(long, env = "IMGEMU_HOST")]
    host: Option<String>,
    /// Port [default: 9650; 0 = any free port, printed on start].
    #[arg(long, env = "IMGEMU_PORT")]
    port: Option<String>,
    /// Fixture directory, `default` or `none` [default: the built-in fixtures].
    #[arg(long, env = "IMGEMU_FIXTURES")]
    fixtures: Option<String>,
    /// off | lenient | strict [default: lenient].
    #[arg(long, env = "IMGEMU_AUTH")]
    auth: Option<String>,
    /// immediate | polls:N | time:DUR [default: polls:1].
    #[arg(long, env = "IMGEMU_TRANSITION")]
    transition: Option<String>,
    /// Seed of all reproducible randomness [default: 0].
    #[arg(long, env = "IMGEMU_SEED")]
    seed: Option<String>,
    /// on | off: rate limits, daily quotas and capacity limits [default: on].
    #[arg(long, env = "IMGEMU_QUOTAS")]
    quotas: Option<String>,
    /// pretty | json [default: pretty].
    #[arg(long, env = "IMGEMU_LOG_FORMAT")]
    log_format: Option<String>,
    /// error | warn | info | debug | trace | off [default: info].
    #[arg(long, env = "IMGEMU_LOG_LEVEL")]
    log_level: Option<String>,
    /// Most connections served at once; past it new clients wait [default: 1024].
    #[arg(long, env = "IMGEMU_MAX_CONNECTIONS")]
    max_connections: Option<String>,
    /// JSON file of fault rules (one rule or an array) in force from the start.
    #[arg(long, env = "IMGEMU_FAULTS")]
    faults: Option<String>,
    /// Keep the state in this directory across restarts: every acknowledged change is fsync'd
    /// before its response [default: memory only].
    #[arg(long, env = "IMGEMU_STATE_DIR")]
    state_dir: Option<String>,
    /// Require `Authorization: Bearer TOKEN` on /_imgemu and allow non-loopback control clients.
    #[arg(long, env = "IMGEMU_ADMIN_TOKEN")]
    admin_token: Option<String>,
}

/// Exit code for bad flags, environment, config or fixtures.
const EXIT_USAGE: u8 = 2;

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("imgemu: error: {message}");
    ExitCode::from(code)
}

/// The value of flag `id` with the name of the key it came from (flag or environment variable).
fn raw(matches: &ArgMatches, id: &str, value: &Option<String>, env: &str) -> Option<Raw> {
    let value = value.clone()?;
    let key = match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => env.to_string(),
        _ => format!("--{}", id.replace('_', "-")),
    };
    Some(Raw::new(value, key))
}

fn layered(matches: &ArgMatches, args: &ServeArgs) -> Result<Config, imgemu::config::ConfigError> {
    let file = match &args.config {
        Some(path) => RawConfig::from_toml_file(path)?,
        None => RawConfig::default(),
    };
    let flags = RawConfig {
        host: raw(matches, "host", &args.host, "IMGEMU_HOST"),
        port: raw(matches, "port", &args.port, "IMGEMU_PORT"),
        fixtures: raw(matches, "fixtures", &args.fixtures, "IMGEMU_FIXTURES"),
        auth: raw(matches, "auth", &args.auth, "IMGEMU_AUTH"),
        transition: raw(matches, "transition", &args.transition, "IMGEMU_TRANSITION"),
        seed: raw(matches, "seed", &args.seed, "IMGEMU_SEED"),
        quotas: raw(matches, "quotas", &args.quotas, "IMGEMU_QUOTAS"),
        log_format: raw(matches, "log_format", &args.log_format, "IMGEMU_LOG_FORMAT"),
        log_level: raw(matches, "log_level", &args.log_level, "IMGEMU_LOG_LEVEL"),
        admin_token: raw(
            matches,
            "admin_token",
            &args.admin_token,
            "IMGEMU_ADMIN_TOKEN",
        ),
        faults: raw(matches, "faults", &args.faults, "IMGEMU_FAULTS"),
        max_connections: raw(
            matches,
            "max_connections",
            &args.max_connections,
            "IMGEMU_MAX_CONNECTIONS",
        ),
        state_dir: raw(matches, "state_dir", &args.state_dir, "IMGEMU_STATE_DIR"),
        ..RawConfig::default()
    };
    file.overlay(flags).resolve()
}

fn init_logging(config: &Config) -> Option<imgemu::logging::LogGuard> {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    imgemu::logging::install(
        config.log_format,
        &config.log_level,
        ansi,
        std::io::stderr(),
    )
}

/// A future that completes on SIGINT or SIGTERM. Created before the ready line is printed, so a
/// signal sent as soon as the line appears is already handled (not the default, fatal action).
fn shutdown_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        // Both handlers are registered here, eagerly (ctrl_c() would register only when polled).
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            });
        }
    }
    Box::pin(async move {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let rendered = e.render().to_string();
            let line: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("For more information")
                        && !l.starts_with("Usage:")
                })
                .collect();
            let text = line.join(" ");
            return fail(EXIT_USAGE, text.trim_start_matches("error: "));
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            return fail(
                EXIT_USAGE,
                e.to_string().lines().next().unwrap_or("invalid arguments"),
            )
        }
    };
    let (args, sub_matches) = match &cli.command {
        Some(Command::Serve(args)) => (
            args,
            matches.subcommand_matches("serve").unwrap_or(&matches),
        ),
        None => (&cli.serve, &matches),
    };
    let config = match layered(sub_matches, args) {
        Ok(c) => c,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    // Flushes the log when main returns.
    let _log = init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(1, format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(serve(config))
}

/// Hands the heap pages freed by loading the state (the parsed fixture documents) back to the OS,
/// so the resident size reflects the state kept, not the peak of loading it. glibc keeps freed
/// memory for reuse unless asked; other C libraries need nothing.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the OS; it takes no pointers and is
    // safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

async fn serve(config: Config) -> ExitCode {
    let emulator = match config.builder().start().await {
        Ok(emu) => emu,
        Err(
            e @ (StartError::Fixtures(_)
            | StartError::Settings(_)
            | StartError::Faults(_)
            | StartError::StateDir(_)
            | StartError::Unprotected(_)),
        ) => return fail(EXIT_USAGE, e),
        Err(e) => return fail(1, e),
    };
    release_freed_memory();
    let signal = shutdown_signal();
    let vendors = emulator.vendors().join(",");
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "imgemu {} ready on {} vendors={} auth={} (dev credentials: access key imgemu-dev-ak/imgemu-dev-sk, Aries Bearer imgemu-dev-token or admin:password; see README)",
        env!("CARGO_PKG_VERSION"),
        emulator.url(),
        vendors,
        config.auth,
    );
    let _ = out.flush();
    signal.await;
    tracing::info!(target: "imgemu::server", "shutting down");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
