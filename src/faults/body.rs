//! [`FaultBody`]: the response body type of the server. Normally the whole buffered reply; under a
//! `truncate` fault, part of it followed by an error (hyper then cuts the connection, so the client
//! sees fewer bytes than `Content-Length`); under a `dribble` fault, the reply in chunks spread
//! over a duration.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// How long a truncated body waits, after its head, for hyper to flush it before the cut.
const FLUSH_PAUSE: Duration = Duration::from_millis(50);

/// The error that cuts a truncated body short.
#[derive(Debug, thiserror::Error)]
#[error("response body cut short by a fault rule")]
pub struct BodyCut;

/// A response body.
#[derive(Debug)]
pub enum FaultBody {
    /// The whole body at once.
    Full(Option<Bytes>),
    /// The first part of a body whose full length was `len`, then an error. Between the two, a
    /// short pause lets hyper flush what it has buffered (it drops buffered bytes on a body error).
    Truncated {
        /// The part that is sent.
        head: Option<Bytes>,
        /// The pause before the cut, once the head is out.
        pause: Option<Pin<Box<Sleep>>>,
        /// The full length announced.
        len: u64,
    },
    /// A body sent in chunks, one every `interval`.
    Dribble {
        /// Chunks still to send.
        chunks: VecDeque<Bytes>,
        /// Pause before each chunk.
        interval: Duration,
        /// The pause in progress.
        sleep: Option<Pin<Box<Sleep>>>,
        /// The full length announced.
        len: u64,
    },
}

impl FaultBody {
    /// The whole body.
    pub fn full(bytes: Bytes) -> Self {
        FaultBody::Full(Some(bytes))
    }

    /// The first `fraction` of `bytes`, then a cut.
    pub fn truncated(bytes: Bytes, fraction: f64) -> Self {
        let len = bytes.len();
        let keep = ((len as f64) * fraction.clamp(0.0, 1.0)).floor() as usize;
        FaultBody::Truncated {
            head: Some(bytes.slice(..keep.min(len.saturating_sub(1)))),
            pause: None,
            len: len as u64,
        }
    }

    /// `bytes` in `chunks` pieces spread over `over`.
    pub fn dribble(bytes: Bytes, chunks: u32, over: Duration) -> Self {
        let chunks = chunks.max(1);
        let size = bytes.len().div_ceil(chunks as usize).max(1);
        let mut pieces = VecDeque::new();
        let mut rest = bytes.clone();
        while !rest.is_empty() {
            let n = size.min(rest.len());
            pieces.push_back(rest.split_to(n));
        }
        let count = u32::try_from(pieces.len().max(1)).unwrap_or(u32::MAX);
        FaultBody::Dribble {
            chunks: pieces,
            interval: over / count,
            sleep: None,
            len: bytes.len() as u64,
        }
    }
}

impl Body for FaultBody {
    type Data = Bytes;
    type Error = BodyCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        match self.get_mut() {
            FaultBody::Full(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            FaultBody::Truncated { head, pause, .. } => {
                if let Some(b) = head.take().filter(|b| !b.is_empty()) {
                    *pause = Some(Box::pin(tokio::time::sleep(FLUSH_PAUSE)));
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                match pause.as_mut().map(|p| p.as_mut().poll(cx)) {
                    Some(Poll::Pending) => Poll::Pending,
                    _ => Poll::Ready(Some(Err(BodyCut))),
                }
            }
            FaultBody::Dribble {
                chunks,
                interval,
                sleep,
                ..
            } => {
                if chunks.is_empty() {
                    return Poll::Ready(None);
                }
                let timer = sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(*interval)));
                match timer.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => {
                        *sleep = None;
                        Poll::Ready(chunks.pop_front().map(|c| Ok(Frame::data(c))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            FaultBody::Full(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            FaultBody::Truncated { .. } => false,
            FaultBody::Dribble { chunks, .. } => chunks.is_empty(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            FaultBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            FaultBody::Truncated { len, .. } | FaultBody::Dribble { len, .. } => {
                SizeHint::with_exact(*len)
            }
        }
    }
}

use std::future::Future;

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn truncated_bodies_announce_everything_and_send_part() {
        let body = FaultBody::truncated(Bytes::from_static(b"0123456789"), 0.5);
        assert_eq!(body.size_hint().exact(), Some(10));
        assert!(body.collect().await.is_err());
    }

    #[tokio::test]
    async fn dribbled_bodies_arrive_whole() {
        let body = FaultBody::dribble(
            Bytes::from_static(b"0123456789"),
            3,
            Duration::from_millis(30),
        );
        let started = std::time::Instant::now();
        let bytes = body
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        assert_eq!(&bytes[..], b"0123456789");
        assert!(started.elapsed() >= Duration::from_millis(30));
    }
}
