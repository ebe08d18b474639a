//! The load generator: N keep-alive HTTP/1.1 connections over raw tokio `TcpStream`s, each sending
//! precomputed requests back to back (one in flight per connection) and timing every exchange.
//!
//! A raw socket keeps the client's own cost per request as low as it gets (no header maps, no body
//! types): the bytes are written, the response head is scanned for its status and
//! `Content-Length`, the body is read to its end. Latencies are kept as exact samples (4 bytes
//! each) and sorted once at the end, which gives exact percentiles without a histogram crate.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::TcpStream;

/// What each connection sends.
#[derive(Clone)]
pub enum Requests {
    /// The same request, again and again.
    Same(Bytes),
    /// Connection `i` sends `lists[i]` in order, each request once, and stops when it runs out.
    Distinct(Arc<Vec<Vec<Bytes>>>),
}

/// How to load.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Target address.
    pub addr: SocketAddr,
    /// Connections, each with one request in flight.
    pub connections: usize,
    /// Time from the start during which responses are not recorded.
    pub warmup: Duration,
    /// Measured time after the warm-up.
    pub duration: Duration,
}

/// What one load run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Requests started in the measured window and answered.
    pub completed: u64,
    /// Of those, answers with a status other than 200.
    pub non_200: u64,
    /// The first non-200 status seen with the start of its body.
    pub first_non_200: Option<String>,
    /// Latency of each completed request, nanoseconds, sorted.
    pub latencies_ns: Vec<u32>,
    /// The measured window.
    pub window: Duration,
    /// Some connection ran out of distinct requests before the end.
    pub exhausted: bool,
    /// Connection errors (connect, read, write, bad response), with the first message.
    pub errors: u64,
    /// The first connection error.
    pub first_error: Option<String>,
}

impl Outcome {
    /// Completed requests per second of the measured window.
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.window.as_secs_f64()
    }

    /// The latency at quantile `q` (0..=1), microseconds.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.latencies_ns.is_empty() {
            return f64::NAN;
        }
        let last = self.latencies_ns.len() - 1;
        let at = ((q * last as f64).round() as usize).min(last);
        f64::from(self.latencies_ns[at]) / 1000.0
    }
}

/// Runs a plan on the current runtime: every connection starts at once.
pub async fn run(plan: Plan, requests: Requests) -> Outcome {
    let start = Instant::now();
    let warm_end = start + plan.warmup;
    let end = warm_end + plan.duration;
    let mut tasks = Vec::with_capacity(plan.connections);
    for i in 0..plan.connections {
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move {
            drive(plan.addr, requests, i, warm_end, end).await
        }));
    }
    let mut total = Outcome {
        window: plan.duration,
        ..Outcome::default()
    };
    for task in tasks {
        let conn = match task.await {
            Ok(conn) => conn,
            Err(e) => {
                total.errors += 1;
                total.first_error.get_or_insert_with(|| e.to_string());
                continue;
            }
        };
        total.completed += conn.completed;
        total.non_200 += conn.non_200;
        if total.first_non_200.is_none() {
            total.first_non_200 = conn.first_non_200;
        }
        total.exhausted |= conn.exhausted;
        if let Some(e) = conn.error {
            total.errors += 1;
            total.first_error.get_or_insert(e);
        }
        total.latencies_ns.extend_from_slice(&conn.latencies_ns);
    }
    total.latencies_ns.sort_unstable();
    total
}

/// One connection's tally.
#[derive(Default)]
struct ConnOutcome {
    completed: u64,
    non_200: u64,
    first_non_200: Option<String>,
    latencies_ns: Vec<u32>,
    exhausted: bool,
    error: Option<String>,
}

async fn drive(
    addr: SocketAddr,
    requests: Requests,
    index: usize,
    warm_end: Instant,
    end: Instant,
) -> ConnOutcome {
    let mut out = ConnOutcome {
        latencies_ns: Vec::with_capacity(64 * 1024),
        ..ConnOutcome::default()
    };
    let mut conn = match Conn::connect(addr).await {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(format!("connect {addr}: {e}"));
            return out;
        }
    };
    let mut sent = 0usize;
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let request = match &requests {
            Requests::Same(r) => r,
            Requests::Distinct(lists) => match lists.get(index).and_then(|l| l.get(sent)) {
                Some(r) => r,
                None => {
                    out.exhausted = true;
                    break;
                }
            },
        };
        sent += 1;
        let status = match conn.exchange(request).await {
            Ok(status) => status,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        };
        let took = started.elapsed();
        if started >= warm_end {
            out.completed += 1;
            out.latencies_ns
                .push(u32::try_from(took.as_nanos()).unwrap_or(u32::MAX));
            if status != 200 {
                out.non_200 += 1;
                if out.first_non_200.is_none() {
                    let body = String::from_utf8_lossy(&conn.buf);
                    let cut: String = body.chars().take(400).collect();
                    out.first_non_200 = Some(format!("{status}: {cut}"));
                }
            }
        }
    }
    out
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    /// The last response, head and body.
    pub buf: Vec<u8>,
}

impl Conn {
    /// Connects with `TCP_NODELAY`.
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Sends one request and reads its whole response into `buf`; returns the status.
    pub async fn exchange(&mut self, request: &[u8]) -> io::Result<u16> {
        self.write_all(request).await?;
        self.read_response().await
    }

    /// The body of the last response.
    pub fn body(&self) -> &[u8] {
        match find_head_end(&self.buf, 0) {
            Some(end) => &self.buf[end..],
            None => &[],
        }
    }

    async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.stream.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.stream.writable().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn read_some(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.try_read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed by the server",
                    ))
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.stream.readable().await?,
                Err(e) => return Err(e),
            }
        }
    }

    async fn read_response(&mut self) -> io::Result<u16> {
        self.buf.clear();
        let mut scanned = 0;
        let (status, total) = loop {
            if let Some(head_end) = find_head_end(&self.buf, scanned) {
                let (status, length) = parse_head(&self.buf[..head_end])?;
                break (status, head_end + length);
            }
            scanned = self.buf.len().saturating_sub(3);
            self.read_some().await?;
        };
        while self.buf.len() < total {
            self.read_some().await?;
        }
        Ok(status)
    }
}

/// The offset just past `\r\n\r\n`, searching from `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| from + at + 4)
}

/// Status and `Content-Length` of a response head (chunked bodies are not supported: neither the
/// emulator nor the bare server sends them for these scenarios).
fn parse_head(head: &[u8]) -> io::Result<(u16, usize)> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let text = std::str::from_utf8(head).map_err(|_| bad("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("bad status line"))?;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                let length = value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| bad("bad content-length"))?;
                return Ok((status, length));
            }
            if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(bad("chunked responses are not supported"));
            }
        }
    }
    if status == 204 || status == 304 {
        return Ok((status, 0));
    }
    Err(bad("response without content-length"))
}
