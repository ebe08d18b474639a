//! The listener and connection tasks: HTTP/1.1 with keep-alive, a header read timeout and header
//! size cap, graceful shutdown that lets in-flight requests finish, and a listener that can be
//! closed synchronously (so dropping an emulator frees its port at once).

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

use crate::faults::conn::FaultIo;
use crate::instance::Instance;
use crate::pipeline::{self, PipelineConfig};

/// Connection-level limits.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// How long a client may take to send a request's headers (slowloris guard).
    pub header_read_timeout: Duration,
    /// Largest request head (request line + headers) accepted, bytes.
    pub max_header_bytes: usize,
    /// How long shutdown waits for in-flight requests before dropping them.
    pub shutdown_grace: Duration,
    /// Most connections served at once; past it the server stops accepting (new clients wait in
    /// the kernel's backlog) until one closes.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// The listening socket, closable from any thread without awaiting.
pub(crate) type ListenerSlot = Arc<Mutex<Option<TcpListener>>>;

/// Accepts one connection, or fails once the slot has been emptied.
async fn accept(slot: &ListenerSlot) -> io::Result<(TcpStream, SocketAddr)> {
    poll_fn(|cx| match slot.lock().as_ref() {
        Some(listener) => listener.poll_accept(cx),
        None => Poll::Ready(Err(io::Error::new(
            io::ErrorKind::NotConnected,
            "listener closed",
        ))),
    })
    .await
}

/// Serves until `shutdown` flips to true, then drains connections for at most the grace period.
pub(crate) async fn serve(
    slot: ListenerSlot,
    instance: Arc<Instance>,
    config: Arc<PipelineConfig>,
    limits: ServerLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // Wait for a free connection slot before accepting another connection.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
                continue;
            }
        };
        tokio::select! {
            accepted = accept(&slot) => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let (io, control) = FaultIo::new(stream);
                    let instance = instance.clone();
                    let config = config.clone();
                    let service = service_fn(move |req| {
                        pipeline::handle(instance.clone(), config.clone(), req, peer, control.clone())
                    });
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(limits.header_read_timeout)
                        .max_buf_size(limits.max_header_bytes.max(8192))
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(io), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _permit = permit;
                        if let Err(e) = conn.await {
                            tracing::debug!(target: "imgemu::server", error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => break,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(target: "imgemu::server", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
    slot.lock().take();
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(target: "imgemu::server", "shutdown grace period over; dropping open connections");
        }
    }
}
