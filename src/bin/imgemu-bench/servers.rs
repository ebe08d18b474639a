//! The servers under load, each on a tokio runtime of its own (separate from the load generator's):
//! the emulator, started in-process as tests start it, and a bare hyper HTTP/1.1 server that reads
//! the whole body and answers a fixed small JSON, the baseline every ratio is taken against.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use imgemu::{AuthMode, Emulator, Fixtures};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::BenchError;

/// Which bare server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bare {
    /// hyper's defaults, keep-alive and `TCP_NODELAY`: the floor.
    Plain,
    /// Also the connection options the emulator's server sets (a header read timeout on a
    /// `TokioTimer`, the 64 KiB head limit): shows what hyper's own options cost.
    ServerOptions,
}

/// A server on its own runtime; dropping it stops the server and the runtime.
pub struct Served {
    addr: SocketAddr,
    kind: Kind,
    // Dropped last, after the server handle.
    runtime: Option<Runtime>,
}

enum Kind {
    Emulator(Option<Emulator>),
    Bare(Option<oneshot::Sender<()>>),
}

fn runtime(threads: usize, name: &str) -> Result<Runtime, BenchError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| BenchError::Io("building a server runtime".into(), e))
}

impl Served {
    /// The emulator with the default fixtures and quotas off, on `threads` workers.
    pub fn emulator(threads: usize, auth: AuthMode) -> Result<Served, BenchError> {
        let runtime = runtime(threads, "emu")?;
        let emu = runtime
            .block_on(
                Emulator::builder()
                    .auth_mode(auth)
                    .quotas(false)
                    .fixtures(Fixtures::Default)
                    .start(),
            )
            .map_err(BenchError::Start)?;
        Ok(Served {
            addr: emu.addr(),
            kind: Kind::Emulator(Some(emu)),
            runtime: Some(runtime),
        })
    }

    /// A bare hyper server on `threads` workers.
    pub fn bare(threads: usize, which: Bare) -> Result<Served, BenchError> {
        let runtime = runtime(threads, "bare")?;
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| BenchError::Io("binding the bare server".into(), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| BenchError::Io("bare server address".into(), e))?;
        let (stop_tx, stop_rx) = oneshot::channel();
        runtime.spawn(serve_bare(listener, stop_rx, which));
        Ok(Served {
            addr,
            kind: Kind::Bare(Some(stop_tx)),
            runtime: Some(runtime),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        match &mut self.kind {
            Kind::Emulator(emu) => {
                if let (Some(emu), Some(rt)) = (emu.take(), self.runtime.as_ref()) {
                    rt.block_on(emu.shutdown());
                }
            }
            Kind::Bare(stop) => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
            }
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

const BARE_BODY: &[u8] = br#"{"ok":true,"message":"SUCCESS"}"#;

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, as the emulator does.
    let _ = req.into_body().collect().await;
    let mut response = Response::new(Full::new(Bytes::from_static(BARE_BODY)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

async fn serve_bare(listener: TcpListener, mut stop: oneshot::Receiver<()>, which: Bare) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let mut builder = http1::Builder::new();
                builder.keep_alive(true);
                if which == Bare::ServerOptions {
                    builder
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .max_buf_size(64 * 1024);
                }
                tokio::spawn(async move {
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service_fn(answer))
                        .await;
                });
            }
            _ = &mut stop => break,
        }
    }
}
