//! Connection-level fault plumbing: [`FaultIo`] wraps an accepted socket so that a fault decided
//! while handling a request can make the connection end abnormally — with random bytes written
//! first (`garbage`) and/or with an RST instead of a FIN (`reset`) — when hyper drops it.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// What the request side asks the connection to do when it closes.
#[derive(Debug, Default)]
pub struct ConnControl {
    reset: AtomicBool,
    garbage: Mutex<Option<Vec<u8>>>,
}

impl ConnControl {
    /// Close with an RST (SO_LINGER 0) instead of a FIN.
    pub fn reset_on_close(&self) {
        self.reset.store(true, Ordering::Relaxed);
    }

    /// Write these bytes (best effort, without blocking) just before closing.
    pub fn garbage_on_close(&self, bytes: Vec<u8>) {
        *self.garbage.lock() = Some(bytes);
    }
}

/// An accepted TCP stream whose closing follows its [`ConnControl`].
#[derive(Debug)]
pub struct FaultIo {
    inner: TcpStream,
    control: Arc<ConnControl>,
}

impl FaultIo {
    /// Wraps `inner`; the returned control is shared with the request handlers of this connection.
    pub fn new(inner: TcpStream) -> (FaultIo, Arc<ConnControl>) {
        let control = Arc::new(ConnControl::default());
        (
            FaultIo {
                inner,
                control: control.clone(),
            },
            control,
        )
    }
}

impl Drop for FaultIo {
    fn drop(&mut self) {
        if let Some(bytes) = self.control.garbage.lock().take() {
            let _ = self.inner.try_write(&bytes);
        }
        if self.control.reset.load(Ordering::Relaxed) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The service error that makes hyper drop a connection without (or mid-) response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by a fault rule")]
pub struct ConnDrop;
