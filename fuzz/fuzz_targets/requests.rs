//! Fuzz target: whole requests through the emulator, over a real socket, as a client sends them.
//!
//! One emulator per auth mode (off, so handlers and their parsers run; strict, so the
//! authenticators run) is started once in-process and shared by every execution. The input picks
//! the emulator and the method (first byte) and a route prefix (second byte); the rest is read as
//! lines: the path suffix (kept to request-target bytes), `name: value` header lines up to an empty
//! line, then the body. The target frames the request itself (Content-Length, `Connection: close`)
//! so every input is one well-framed HTTP/1.1 request.
//!
//! A finding is a panic anywhere in the process, no response, or a 5xx: no fault rule is ever
//! installed (the control plane is not fuzzed), so any 5xx is the emulator's own failure.
#![no_main]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use imgemu::{AuthMode, BlockingEmulator, Emulator};
use libfuzzer_sys::fuzz_target;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Route prefixes of the four vendors, so inputs reach the classifiers' known paths quickly.
const PREFIXES: &[&str] = &[
    "/",
    "/?Action=UpdateImage&",
    "/?Action=SearchImageByName&",
    "/jdai/",
    "/jdai/image_update",
    "/jdai/product_image_add",
    "/jdai/product_image_status",
    "/jdai/task",
    "/jdai/index",
    "/v2/cloudimages",
    "/v2/cloudimages/",
    "/v1/",
    "/aries/api/v1/image",
    "/aries/api/v1/image/",
];

/// Framing headers the target writes itself.
const OWN_HEADERS: &[&str] = &[
    "connection",
    "content-length",
    "transfer-encoding",
    "expect",
    "te",
    "upgrade",
    "host",
];

/// The shared emulators: `[auth off, strict auth]`.
fn emulators() -> &'static [BlockingEmulator; 2] {
    static EMULATORS: OnceLock<[BlockingEmulator; 2]> = OnceLock::new();
    EMULATORS.get_or_init(|| {
        let start = |mode| {
            Emulator::builder()
                .auth_mode(mode)
                .manual_clock()
                .start_blocking()
                .expect("the emulator starts")
        };
        [start(AuthMode::Off), start(AuthMode::Strict)]
    })
}

/// Sends `request` and returns everything the server wrote before closing.
fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect to the emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("set a read timeout");
    stream.write_all(request).expect("send the request");
    let mut answer = Vec::new();
    // A reset after a complete answer is fine; what was read is judged below.
    let _ = stream.read_to_end(&mut answer);
    answer
}

fuzz_target!(|data: &[u8]| {
    let [selector, prefix, rest @ ..] = data else {
        return;
    };
    let emulator = &emulators()[usize::from(selector & 1)];
    let method = METHODS[usize::from(selector >> 1) % METHODS.len()];
    let prefix = PREFIXES[usize::from(*prefix) % PREFIXES.len()];
    let text = String::from_utf8_lossy(rest);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.split('\n');
    let suffix: String = lines
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .collect();
    let path = format!("{prefix}{suffix}");
    if path.starts_with("/_imgemu") {
        return;
    }
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        let valid_value = value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if valid_name && valid_value && !OWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            request.push_str(&format!("{name}:{value}\r\n"));
        }
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    let answer = exchange(emulator.addr(), request.as_bytes());
    let status = answer
        .strip_prefix(b"HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| std::str::from_utf8(code).ok())
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(status) if status < 500 => {}
        _ => panic!(
            "request {:?} got {:?}",
            request,
            String::from_utf8_lossy(&answer[..answer.len().min(600)])
        ),
    }
});
