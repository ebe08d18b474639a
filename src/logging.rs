//! The binary's log output (also used by `imgemu-bench` to measure it): our events at the chosen
//! level, other crates' only when they warn, one line per vendor request (`imgemu::request`).
//!
//! Lines are formatted on the thread that logs them and written by a background thread through a
//! bounded queue (`tracing-appender`), so a request never waits for a `write` to stderr; when the
//! queue is full, logging threads wait rather than drop lines. The [`LogGuard`] flushes what is
//! queued when dropped: keep it until the process ends.

use std::io::Write;

use crate::config::LogFormat;

/// Lines queued for the writer thread before logging threads wait.
const QUEUED_LINES: usize = 4096;

/// Flushes queued log lines when dropped.
#[must_use = "dropping the guard stops log output"]
pub struct LogGuard {
    _worker: tracing_appender::non_blocking::WorkerGuard,
}

/// Installs the global log subscriber writing to `writer`; `level` is `error`, `warn`, `info`,
/// `debug`, `trace` or `off` (validated by the configuration). Returns `None` if a subscriber was
/// already installed.
pub fn install(
    format: LogFormat,
    level: &str,
    ansi: bool,
    writer: impl Write + Send + 'static,
) -> Option<LogGuard> {
    let others = if matches!(level, "error" | "off") {
        level
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("{others},imgemu={level}"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        // The default (128k lines) preallocates megabytes; a few thousand absorb any burst a
        // writer keeps up with.
        .buffered_lines_limit(QUEUED_LINES)
        .lossy(false)
        .thread_name("imgemu-log")
        .finish(writer);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    let installed = match format {
        LogFormat::Pretty => builder.compact().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.ok().map(|()| LogGuard { _worker: guard })
}
