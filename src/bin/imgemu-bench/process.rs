//! Figures of whole processes and starts: in-process `start()` to first response, the release
//! binary's start to first 200 on `/_imgemu/health`, its idle RSS, and the binary on a big fixture
//! directory (load time, RSS, per-request latency).
//!
//! The child's stderr (its per-request log) goes to /dev/null; it is killed by its own pid.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use imgemu::{Emulator, Fixtures};

use crate::load::{self, Plan, Requests};
use crate::report::show;
use crate::scenarios;
use crate::{BenchError, BigArgs, StartupArgs};

/// The CPU model line of /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// A process's resident and peak memory now, MiB (VmRSS and VmHWM; 0 when unreadable).
fn memory_mib(pid: u32) -> (f64, f64) {
    let mib = |field| status_kb(pid, field).unwrap_or(0) as f64 / 1024.0;
    (mib("VmRSS"), mib("VmHWM"))
}

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM).
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn binary(given: Option<&Path>) -> Result<PathBuf, BenchError> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let me = std::env::current_exe().map_err(|e| BenchError::Io("current_exe".into(), e))?;
    let path = me.with_file_name("imgemu");
    if path.exists() {
        Ok(path)
    } else {
        Err(BenchError::Other(format!(
            "{} not found: run `cargo build --release` first, or pass --binary",
            path.display()
        )))
    }
}

/// A started binary: the child, its address, and when the ready line and first 200 came.
struct Started {
    child: Child,
    addr: SocketAddr,
    ready: Duration,
    first_200: Duration,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns the binary on port 0 and waits for its ready line and the first 200 on health.
fn spawn(bin: &Path, extra: &[&str], timeout: Duration) -> Result<Started, BenchError> {
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .args(["--port", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Io(format!("spawning {}", bin.display()), e))?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err(BenchError::Other("no stdout".into()));
    };
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    let ready = t0.elapsed();
    let addr = match read {
        Ok(n) if n > 0 => line
            .split("ready on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse::<SocketAddr>().ok()),
        _ => None,
    };
    let Some(addr) = addr else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(BenchError::Other(format!(
            "{}: no ready line (got {line:?})",
            bin.display()
        )));
    };
    let mut started = Started {
        child,
        addr,
        ready,
        first_200: Duration::ZERO,
    };
    loop {
        if health(addr) == Some(200) {
            break;
        }
        if t0.elapsed() > timeout {
            return Err(BenchError::Other("no 200 from /_imgemu/health".into()));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    started.first_200 = t0.elapsed();
    Ok(started)
}

/// One blocking `GET /_imgemu/health`; the status, or None when it could not be had.
fn health(addr: SocketAddr) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    let _ = s.set_nodelay(true);
    s.write_all(b"GET /_imgemu/health HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 32];
    let mut got = 0;
    while got < 12 {
        let n = s.read(&mut head[got..]).ok()?;
        if n == 0 {
            return None;
        }
        got += n;
    }
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `startup`: in-process start, process start and idle RSS.
pub fn startup(args: &StartupArgs) -> Result<(), BenchError> {
    println!(
        "imgemu-bench startup: {} CPU(s), {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| BenchError::Io("runtime".into(), e))?;
    for (label, fixtures) in [
        ("default fixtures", Fixtures::Default),
        ("no fixtures", Fixtures::None),
    ] {
        let mut start_ms = Vec::new();
        let mut first_ms = Vec::new();
        for _ in 0..args.iterations {
            let (s, f) = rt.block_on(async {
                let t0 = Instant::now();
                let emu = Emulator::builder()
                    .fixtures(fixtures.clone())
                    .start()
                    .await
                    .map_err(BenchError::Start)?;
                let t1 = t0.elapsed();
                let mut conn = load::Conn::connect(emu.addr())
                    .await
                    .map_err(|e| BenchError::Io("connect".into(), e))?;
                let status = conn
                    .exchange(b"GET /_imgemu/health HTTP/1.1\r\nhost: bench\r\n\r\n")
                    .await
                    .map_err(|e| BenchError::Io("health".into(), e))?;
                let t2 = t0.elapsed();
                if status != 200 {
                    return Err(BenchError::Other(format!("health answered {status}")));
                }
                drop(conn);
                emu.shutdown().await;
                Ok::<_, BenchError>((ms(t1), ms(t2)))
            })?;
            start_ms.push(s);
            first_ms.push(f);
        }
        println!(
            "in-process, {label}: start() {} ms; start() to first response {} ms ({} starts)",
            show(&start_ms, 3),
            show(&first_ms, 3),
            args.iterations
        );
    }
    drop(rt);

    let bin = binary(args.binary.as_deref())?;
    for (label, extra) in [
        ("default flags", &[][..]),
        ("--fixtures none", &["--fixtures", "none"][..]),
    ] {
        let mut ready = Vec::new();
        let mut first = Vec::new();
        let mut rss = Vec::new();
        let mut hwm = Vec::new();
        for i in 0..args.process_iterations {
            let started = spawn(&bin, extra, Duration::from_secs(30))?;
            ready.push(ms(started.ready));
            first.push(ms(started.first_200));
            // RSS is read on a few of the starts only, after it has sat idle for a while.
            if i < 5 {
                std::thread::sleep(Duration::from_millis(500));
                let (now, peak) = memory_mib(started.child.id());
                rss.push(now);
                hwm.push(peak);
            }
        }
        println!(
            "process ({label}): spawn to ready line {} ms; spawn to first 200 on /_imgemu/health {} ms ({} starts); idle VmRSS {} MiB, VmHWM {} MiB",
            show(&ready, 2),
            show(&first, 2),
            args.process_iterations,
            show(&rss, 1),
            show(&hwm, 1),
        );
    }
    Ok(())
}

/// Id of Huawei image `n` in scripts/gen-fixtures (a UUID-shaped string).
pub fn hw_id(n: u64) -> String {
    format!("{n:08x}-0000-4000-8000-{n:012x}")
}

/// `big`: the binary on a big fixture directory.
pub fn big(args: &BigArgs) -> Result<(), BenchError> {
    let bin = binary(args.binary.as_deref())?;
    let dir = args.fixtures.display().to_string();
    let summary = std::fs::read_to_string(args.fixtures.join("SUMMARY"))
        .unwrap_or_else(|_| "(no SUMMARY file)".into());
    // The number of images, from the JSON line of SUMMARY (1M when absent).
    let count = summary
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["images"].as_u64())
        .unwrap_or(1_000_000)
        .max(2);
    let summary = summary.lines().next().unwrap_or_default().to_string();
    println!(
        "imgemu-bench big: {dir}: {}; {} CPU(s), {}",
        summary.trim(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    let flags = [
        "--fixtures",
        dir.as_str(),
        "--auth",
        "off",
        "--quotas",
        "off",
    ];
    let mut ready = Vec::new();
    let mut first = Vec::new();
    let mut rss = Vec::new();
    let mut hwm = Vec::new();
    let mut last = None;
    for i in 0..args.starts.max(1) {
        drop(last.take());
        let started = spawn(&bin, &flags, Duration::from_secs(600))?;
        ready.push(ms(started.ready));
        first.push(ms(started.first_200));
        std::thread::sleep(Duration::from_millis(500));
        let (now, peak) = memory_mib(started.child.id());
        rss.push(now);
        hwm.push(peak);
        eprintln!(
            "  start {}: first 200 after {:.0} ms, VmRSS {:.0} MiB",
            i + 1,
            ms(started.first_200),
            rss.last().copied().unwrap_or(0.0)
        );
        last = Some(started);
    }
    println!(
        "load: spawn to ready line {} ms; spawn to first 200 {} ms; VmRSS after load {} MiB; VmHWM {} MiB ({} starts)",
        show(&ready, 0),
        show(&first, 0),
        show(&rss, 0),
        show(&hwm, 0),
        args.starts.max(1)
    );
    let Some(started) = last else {
        return Ok(());
    };
    let addr = started.addr;
    let host = addr.to_string();
    let token = [
        ("host", host.as_str()),
        ("x-auth-token", "imgemu-dev-token"),
    ];
    let jd_auth = "JDCLOUD2-HMAC-SHA256 Credential=imgemu-dev-ak/20260101/jdcloud-api/simpleclient/jdcloud2_request, SignedHeaders=content-type;host, Signature=0";
    let jd_headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
        ("authorization", jd_auth),
    ];
    let mid = hw_id(count / 2);
    let some = hw_id(count / 4);
    // Collections hold up to 30,000 images: the middle of c0.
    let jd_name = format!("img-{:07}", count.min(30_000) / 2);
    let mut cases: Vec<(String, bytes::Bytes)> = Vec::new();
    if args.fixtures.join("huawei.json").exists() {
        cases.push((
            "huawei ListImages limit=500, first page".into(),
            scenarios::raw("GET", "/v2/cloudimages?limit=500", &token, b""),
        ));
        cases.push((
            "huawei ListImages limit=500, marker mid-list".into(),
            scenarios::raw(
                "GET",
                &format!("/v2/cloudimages?limit=500&marker={mid}"),
                &token,
                b"",
            ),
        ));
        cases.push((
            "huawei ListImages limit=500, __imagetype=gold".into(),
            scenarios::raw(
                "GET",
                "/v2/cloudimages?limit=500&__imagetype=gold",
                &token,
                b"",
            ),
        ));
        cases.push((
            "huawei GlanceShowImage".into(),
            scenarios::raw("GET", &format!("/v2/images/{some}"), &token, b""),
        ));
        cases.push((
            "huawei UpdateImage".into(),
            scenarios::raw(
                "PATCH",
                &format!("/v2/cloudimages/{some}"),
                &[
                    ("host", host.as_str()),
                    ("x-auth-token", "imgemu-dev-token"),
                    ("content-type", "application/json;charset=utf-8"),
                ],
                br#"[{"op":"replace","path":"/name","value":"bench"}]"#,
            ),
        ));
    }
    if args.fixtures.join("jd.json").exists() {
        cases.push((
            format!("jd image_fetch (collection of {})", count.min(30_000)),
            scenarios::raw(
                "POST",
                "/jdai/image_fetch",
                &jd_headers,
                format!(r#"{{"collection_name":"c0","image_names":["{jd_name}"]}}"#).as_bytes(),
            ),
        ));
        cases.push((
            format!("jd image_update (collection of {})", count.min(30_000)),
            scenarios::raw(
                "POST",
                "/jdai/image_update",
                &jd_headers,
                format!(
                    r#"{{"collection_name":"c0","docs":[{{"image_name":"{jd_name}","info":"{{\"price\":\"2.0\"}}"}}]}}"#
                )
                .as_bytes(),
            ),
        ));
        cases.push((
            "jd collection_list".into(),
            scenarios::raw("GET", "/jdai/collection_list", &jd_headers, b""),
        ));
    }
    let client = crate::client_runtime(1)?;
    println!();
    println!(
        "| request at this size (1 connection) | req/s | p50 µs | p99 µs | max µs | failures |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (label, request) in cases {
        let plan = Plan {
            addr,
            connections: 1,
            warmup: Duration::from_millis(300),
            duration: args.duration,
        };
        let out = client.block_on(load::run(plan, Requests::Same(request)));
        if let Some(first) = &out.first_non_200 {
            eprintln!("  {label}: first non-200: {first}");
        }
        println!(
            "| {label} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            out.rate(),
            out.quantile_us(0.5),
            out.quantile_us(0.99),
            out.quantile_us(1.0),
            out.non_200 + out.errors
        );
    }
    drop(started);
    Ok(())
}
