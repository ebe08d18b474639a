//! The request flow, in one place: read (bounded) → request id → classify → precheck → auth →
//! handle → render → journal + log. Control-plane paths branch off to [`crate::control`] first.
//! Fault rules will slot in between auth and handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use crate::clock;
use crate::control;
use crate::instance::Instance;
use crate::journal::Entry;
use crate::reply::Reply;
use crate::vendor::{Answer, Request};

/// How much more than its limit a vendor body may be before the pipeline stops reading it.
pub(crate) const DISCARD_FACTOR: usize = 4;

/// Body cap for requests that no vendor owns.
const UNROUTED_BODY_LIMIT: usize = 64 * 1024;

/// Server-wide knobs the pipeline needs.
#[derive(Debug, Clone)]
pub(crate) struct PipelineConfig {
    /// Control-plane bearer token; without one the control plane answers loopback peers only.
    pub admin_token: Option<String>,
}

/// A body read up to a limit.
pub(crate) struct ReadBody {
    /// The bytes kept: at most `limit + 1`.
    pub bytes: Bytes,
    /// More than `limit` bytes were sent.
    pub too_large: bool,
    /// The body was not read to its end (over the hard cap, or the client failed); the connection
    /// must close after the response.
    pub incomplete: bool,
}

/// Reads a body, keeping at most `limit + 1` bytes and reading no more than `cap` bytes in all.
pub(crate) async fn read_body(
    headers: &http::HeaderMap,
    mut body: Incoming,
    limit: usize,
    cap: usize,
) -> ReadBody {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return ReadBody {
            bytes: Bytes::new(),
            too_large: true,
            incomplete: true,
        };
    }
    let mut kept = BytesMut::new();
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return ReadBody {
                bytes: kept.freeze(),
                too_large: total > limit,
                incomplete: true,
            };
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        let room = (limit + 1).saturating_sub(kept.len());
        kept.extend_from_slice(&data[..data.len().min(room)]);
        if total > cap {
            return ReadBody {
                bytes: kept.freeze(),
                too_large: true,
                incomplete: true,
            };
        }
    }
    ReadBody {
        bytes: kept.freeze(),
        too_large: total > limit,
        incomplete: false,
    }
}

/// Turns a reply into a hyper response.
pub(crate) fn into_response(reply: Reply, close: bool) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    if close {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Handles one request from `peer`.
pub(crate) async fn handle(
    instance: Arc<Instance>,
    config: Arc<PipelineConfig>,
    req: http::Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if path == "/_imgemu" || path.starts_with("/_imgemu/") {
        return control::handle(&instance, &config, req, peer).await;
    }
    let started = Instant::now();
    let arrived = instance.clock().now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let method = parts.method.clone();

    let Some(vendor) = instance.registry().for_path(&path).cloned() else {
        let read = read_body(
            &parts.headers,
            body,
            UNROUTED_BODY_LIMIT,
            UNROUTED_BODY_LIMIT,
        )
        .await;
        let request_id = uuid::Uuid::new_v4().to_string();
        let reply = control::no_route(&method, &path).with_header(
            http::header::HeaderName::from_static("x-request-id"),
            &request_id,
        );
        let status = reply.status;
        record(
            &instance,
            &request_id,
            arrived,
            started,
            None,
            None,
            &method,
            &path,
            &query,
            status,
            None,
            None,
        );
        return into_response(reply, read.incomplete);
    };

    let (id_header, request_id) = vendor.request_id(&parts.headers);
    let limit = vendor.body_limit();
    let read = read_body(
        &parts.headers,
        body,
        limit,
        limit.saturating_mul(DISCARD_FACTOR),
    )
    .await;
    let request = Request {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body: read.bytes,
        body_too_large: read.too_large,
        request_id: request_id.clone(),
    };

    let ctx = instance.ctx();
    let mut operation = None;
    let mut tenant = None;
    let answer = match vendor.classify(&request, &ctx) {
        Err(reply) => Answer::noted(reply, "no route"),
        Ok(op) => {
            operation = Some(op);
            match vendor.precheck(op, &request, &ctx) {
                Err(answer) => answer,
                Ok(()) => match vendor.authenticate(op, &request, &ctx) {
                    Err(answer) => answer,
                    Ok(t) => {
                        let answer = vendor.handle(op, &t, &request, &ctx);
                        tenant = Some(t);
                        answer
                    }
                },
            }
        }
    };
    let mut reply = answer.reply;
    if !reply.headers.contains_key(&id_header) {
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            reply.headers.insert(id_header, v);
        }
    }
    record(
        &instance,
        &request_id,
        arrived,
        started,
        Some(vendor.name()),
        operation,
        &request.method,
        &request.path,
        &request.query,
        reply.status,
        tenant,
        answer.detail,
    );
    into_response(reply, read.incomplete)
}

/// Writes the journal entry and the log line of a finished request.
#[allow(clippy::too_many_arguments)]
fn record(
    instance: &Instance,
    request_id: &str,
    arrived: time::OffsetDateTime,
    started: Instant,
    vendor: Option<&'static str>,
    operation: Option<&'static str>,
    method: &http::Method,
    path: &str,
    query: &Option<String>,
    status: StatusCode,
    tenant: Option<String>,
    detail: Option<String>,
) {
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let target = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    tracing::info!(
        target: "imgemu::request",
        vendor = vendor.unwrap_or("-"),
        operation = operation.unwrap_or("-"),
        status = status.as_u16(),
        latency_us,
        tenant = tenant.as_deref().unwrap_or("-"),
        request_id,
        method = %method,
        path = %target,
        detail = detail.as_deref().unwrap_or(""),
        "request"
    );
    instance.journal().record(Entry {
        seq: 0,
        request_id: request_id.to_string(),
        at: clock::format_rfc3339(arrived),
        vendor: vendor.map(str::to_string),
        operation: operation.map(str::to_string),
        method: method.to_string(),
        path: target,
        status: status.as_u16(),
        latency_us,
        tenant,
        detail,
    });
}
