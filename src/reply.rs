//! [`Reply`]: a fully buffered HTTP response as vendors and the control plane build it.
//!
//! Replies are plain data (status, headers, body bytes) so that the pipeline can stamp request ids,
//! journal them and, later, let fault actions delay or damage them before they reach the socket.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

/// A buffered response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers (Content-Length is added when sent).
    pub headers: HeaderMap,
    /// The complete body.
    pub body: Bytes,
}

impl Reply {
    /// A reply with an empty body.
    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A compact JSON body with the given `Content-Type`.
    pub fn json_as<T: Serialize + ?Sized>(
        status: StatusCode,
        content_type: &'static str,
        value: &T,
    ) -> Self {
        // Serialising our own plain data types cannot fail; fall back to an empty object regardless.
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Reply::empty(status)
            .with_static_header(CONTENT_TYPE, content_type)
            .with_body(body)
    }

    /// A compact JSON body with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Self {
        Reply::json_as(status, "application/json", value)
    }

    /// A text body with the given `Content-Type`.
    pub fn text(status: StatusCode, content_type: &'static str, text: &'static str) -> Self {
        Reply::empty(status)
            .with_static_header(CONTENT_TYPE, content_type)
            .with_body(Bytes::from_static(text.as_bytes()))
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a header whose value is a static string.
    pub fn with_static_header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.headers.insert(name, HeaderValue::from_static(value));
        self
    }

    /// Sets a header from a runtime string; values that are not valid header text are skipped.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}
