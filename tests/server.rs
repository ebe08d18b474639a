//! Connection-level behaviour over raw TCP: the header read timeout closes idle half-requests,
//! an oversize body gets the vendor's error and `Connection: close`, keep-alive works, and a
//! graceful shutdown lets an in-flight request finish.

use std::time::Duration;

use imgemu::server::ServerLimits;
use imgemu::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes (or a generous safety limit passes, which fails the test).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&buf).into_owned()
}

/// Reads one response whose body has `Content-Length`, leaving the connection open.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length: usize = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn header_read_timeout_closes_a_stalled_request() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_millis(200),
        ..ServerLimits::default()
    };
    let emu = Emulator::builder().limits(limits).start().await.unwrap();
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    stream
        .write_all(b"GET /aries/api/v1/image/1 HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    // The server is still healthy for others.
    let health = reqwest::get(format!("{}/_imgemu/health", emu.url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn an_oversize_body_gets_the_vendor_error_and_connection_close() {
    let emu = Emulator::builder().start().await.unwrap();
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    // Declared far past the hard cap (4 × 1 MiB): answered without reading the body.
    stream
        .write_all(
            b"PUT /aries/api/v1/image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer imgemu-dev-token\r\nContent-Length: 104857600\r\n\r\n{\"id\":1",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains(r#""code":"InvalidParameter""#), "{answer}");
    // Nothing changed.
    let image: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/aries/api/v1/image/1", emu.url()))
        .bearer_auth("imgemu-dev-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(image["updated_at"], "2024-03-20T10:30:00Z");
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let emu = Emulator::builder().start().await.unwrap();
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    for id in 1..=3 {
        let request = format!("GET /aries/api/v1/image/{id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer imgemu-dev-token\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = read_response(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains(&format!("\"id\":{id},")), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_an_in_flight_request_finish() {
    let emu = Emulator::builder().start().await.unwrap();
    let body = br#"{"id":1,"description":"written during shutdown"}"#;
    let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
    let head = format!(
        "PUT /aries/api/v1/image HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer imgemu-dev-token\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..10]).await.unwrap();
    // Let the server read the head and start waiting for the body, then shut down.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = emu.addr();
    let shutdown = tokio::spawn(emu.shutdown());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown waits for the in-flight request"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connections during shutdown"
    );
    stream.write_all(&body[10..]).await.unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("written during shutdown"), "{answer}");
    tokio::time::timeout(Duration::from_secs(30), shutdown)
        .await
        .expect("shutdown ends")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_connections_new_clients_wait_for_a_free_slot() {
    let limits = ServerLimits {
        max_connections: 2,
        ..ServerLimits::default()
    };
    let emu = Emulator::builder().limits(limits).start().await.unwrap();
    let request = b"GET /aries/api/v1/image/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer imgemu-dev-token\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(emu.addr()).await.unwrap();
        stream.write_all(request).await.unwrap();
        assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    // The third client is not served while both slots are held...
    let mut third = TcpStream::connect(emu.addr()).await.unwrap();
    third.write_all(request).await.unwrap();
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(300), third.read(&mut byte)).await;
    assert!(waited.is_err(), "served past the connection limit");
    // ...and is served as soon as one closes.
    drop(held.pop());
    let answer = tokio::time::timeout(Duration::from_secs(30), read_response(&mut third))
        .await
        .expect("served after a slot freed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
