//! The request flow, in one place: read (bounded) → request id → classify → precheck → auth →
//! fault rules → handle → render → journal + log. Control-plane paths branch off to
//! [`crate::control`] first.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH};
use http::Response;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::control;
use crate::faults::apply::{self, Applied, End};
use crate::faults::body::FaultBody;
use crate::faults::conn::{ConnControl, ConnDrop};
use crate::faults::RequestFacts;
use crate::instance::Instance;
use crate::journal::{FaultRecord, Served, Target};
use crate::persist::PersistError;
use crate::reply::Reply;
use crate::vendor::{Answer, Request, Vendor};

/// How much more than its limit a vendor body may be before the pipeline stops reading it.
pub(crate) const DISCARD_FACTOR: usize = 4;

/// Body cap for requests that no vendor owns.
const UNROUTED_BODY_LIMIT: usize = 64 * 1024;

/// Server-wide knobs the pipeline needs.
#[derive(Debug, Clone)]
pub(crate) struct PipelineConfig {
    /// Control-plane bearer token; without one the control plane answers loopback peers only.
    pub admin_token: Option<String>,
    /// Largest request head (request line and headers) served; larger heads get an empty 431.
    pub max_header_bytes: usize,
}

/// The size of a request head as sent: request line and `name: value\r\n` lines.
fn head_size(parts: &http::request::Parts) -> usize {
    let uri = &parts.uri;
    // The request target as sent: origin form, or absolute form with scheme and authority.
    let target = uri.path_and_query().map_or(1, |pq| pq.as_str().len())
        + uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len());
    let line = parts.method.as_str().len() + target + 12;
    parts.headers.iter().fold(line, |n, (name, value)| {
        n + name.as_str().len() + value.len() + 4
    })
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

/// Turns a reply into a hyper response with `body` made from the reply's bytes.
fn response(
    reply: Reply,
    close: bool,
    body: impl FnOnce(Bytes) -> FaultBody,
) -> Response<FaultBody> {
    let mut response = Response::new(body(reply.body));
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    if close {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Turns a reply into a hyper response.
pub(crate) fn into_response(reply: Reply, close: bool) -> Response<FaultBody> {
    response(reply, close, FaultBody::full)
}

/// What the journal and the log say about one request.
struct Trace {
    request_id: String,
    arrived: time::OffsetDateTime,
    started: Instant,
    vendor: Option<&'static str>,
    operation: Option<&'static str>,
    method: http::Method,
    path: String,
    query: Option<String>,
}

/// Query parameters, and form parameters when the body is a form, for fault matching.
fn params(request: &Request) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        form_urlencoded::parse(request.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let is_form = request
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        out.extend(form_urlencoded::parse(&request.body).into_owned());
    }
    out
}

/// Handles one request from `peer`. An `Err` makes hyper drop the connection (a fault asked for it).
pub(crate) async fn handle(
    instance: Arc<Instance>,
    config: Arc<PipelineConfig>,
    req: http::Request<Incoming>,
    peer: SocketAddr,
    conn: Arc<ConnControl>,
) -> Result<Response<FaultBody>, ConnDrop> {
    let path = req.uri().path();
    if path == "/_imgemu" || path.starts_with("/_imgemu/") {
        return Ok(control::handle(&instance, &config, req, peer).await);
    }
    let started = Instant::now();
    let arrived = instance.clock().now();
    let (parts, body) = req.into_parts();
    if head_size(&parts) > config.max_header_bytes {
        // hyper enforces its buffer size only on heads that arrive in pieces; apply the limit to all.
        let reply = Reply::empty(http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        return Ok(into_response(reply, true));
    }
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
        let request_id = crate::ids::uuid_v4().to_string();
        let reply = control::no_route(&method, &path).with_header(
            http::header::HeaderName::from_static("x-request-id"),
            &request_id,
        );
        let status = reply.status.as_u16();
        let trace = Trace {
            request_id,
            arrived,
            started,
            vendor: None,
            operation: None,
            method,
            path,
            query,
        };
        record(&instance, trace, status, None, None, None);
        return Ok(into_response(reply, read.incomplete));
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
        derived: Default::default(),
    };

    let ctx = instance.ctx();
    let mut operation = None;
    let mut tenant = None;
    let mut applied = None;
    let answer = match vendor.classify(&request, &ctx) {
        Err(reply) => Some(Answer::noted(reply, "no route")),
        Ok(op) => {
            operation = Some(op);
            match vendor.precheck(op, &request, &ctx) {
                Err(answer) => Some(answer),
                Ok(()) => match vendor.authenticate(op, &request, &ctx) {
                    Err(answer) => Some(answer),
                    Ok(t) => {
                        let fired = if instance.faults().is_empty() {
                            None
                        } else {
                            let params = params(&request);
                            let facts = RequestFacts {
                                vendor: vendor.name(),
                                operation: op,
                                tenant: &t,
                                method: request.method.as_str(),
                                path: &request.path,
                                headers: &request.headers,
                                params: &params,
                            };
                            instance.faults().evaluate(&facts)
                        };
                        let answer = match fired {
                            None => Some(vendor.handle(op, &t, &request, &ctx)),
                            Some(fired) => {
                                let mut effect =
                                    apply::apply(vendor.as_ref(), op, &t, &request, &ctx, fired);
                                let answer = effect.answer.take();
                                applied = Some(effect);
                                answer
                            }
                        };
                        tenant = Some(t);
                        answer
                    }
                },
            }
        }
    };
    let answer = match (tenant.as_deref(), operation) {
        (Some(t), Some(op)) if instance.persistence().is_some() && vendor.mutates(op) => {
            match make_durable(&instance, &vendor, t).await {
                Ok(()) => answer,
                Err(e) => {
                    tracing::error!(target: "imgemu::persist", error = %e, "cannot make a change durable");
                    let reply = vendor
                        .render_error(
                            vendor.internal_error_code(),
                            Some(http::StatusCode::INTERNAL_SERVER_ERROR),
                            &request,
                            &ctx,
                        )
                        .unwrap_or_else(|| Reply::empty(http::StatusCode::INTERNAL_SERVER_ERROR));
                    answer.map(|_| Answer::noted(reply, format!("state dir: {e}")))
                }
            }
        }
        _ => answer,
    };
    let Request {
        method,
        path,
        query,
        ..
    } = request;
    let trace = Trace {
        request_id,
        arrived,
        started,
        vendor: Some(vendor.name()),
        operation,
        method,
        path,
        query,
    };
    let fault = applied.as_ref().map(|a| a.record.clone());
    let Some(answer) = answer else {
        // Dropped before the handler: no response at all (status 0 in the journal).
        record(
            &instance,
            trace,
            0,
            tenant,
            Some("no response (fault)".into()),
            fault,
        );
        return finish_without_reply(applied, &conn).await;
    };
    let mut reply = answer.reply;
    if !reply.headers.contains_key(&id_header) {
        if let Ok(v) = HeaderValue::from_str(&trace.request_id) {
            reply.headers.insert(id_header, v);
        }
    }
    let status = reply.status.as_u16();
    record(&instance, trace, status, tenant, answer.detail, fault);
    let Some(effect) = applied else {
        return Ok(into_response(reply, read.incomplete));
    };
    if let Some(delay) = effect.delay {
        tokio::time::sleep(delay).await;
    }
    match effect.end {
        End::Respond => Ok(into_response(reply, read.incomplete)),
        End::Truncate(fraction) => Ok(response(reply, true, |b| FaultBody::truncated(b, fraction))),
        End::Dribble(chunks, over) => Ok(response(reply, read.incomplete, |b| {
            FaultBody::dribble(b, chunks, over)
        })),
        End::Garbage(n) => {
            conn.garbage_on_close(garbage(n));
            Err(ConnDrop)
        }
        End::Drop { reset } => {
            if reset {
                conn.reset_on_close();
            }
            Err(ConnDrop)
        }
        End::Hang(max) => {
            tokio::time::sleep(max).await;
            Err(ConnDrop)
        }
    }
}

/// Logs what a state-changing request of `tenant` changed to the state directory and waits until it
/// is on disk (off the async workers: it may fsync).
async fn make_durable(
    instance: &Arc<Instance>,
    vendor: &Arc<dyn Vendor>,
    tenant: &str,
) -> Result<(), PersistError> {
    let (instance, vendor, tenant) = (instance.clone(), vendor.clone(), tenant.to_string());
    tokio::task::spawn_blocking(move || match instance.persistence() {
        Some(persistence) => persistence.record(&instance, vendor.as_ref(), &tenant),
        None => Ok(()),
    })
    .await
    .unwrap_or_else(|e| Err(PersistError::Broken(format!("commit task failed: {e}"))))
}

/// Ends an exchange whose request a fault dropped before the handler.
async fn finish_without_reply(
    applied: Option<Applied>,
    conn: &ConnControl,
) -> Result<Response<FaultBody>, ConnDrop> {
    if let Some(effect) = applied {
        if let Some(delay) = effect.delay {
            tokio::time::sleep(delay).await;
        }
        match effect.end {
            End::Drop { reset: true } => conn.reset_on_close(),
            End::Hang(max) => tokio::time::sleep(max).await,
            _ => {}
        }
    }
    Err(ConnDrop)
}

/// `n` random bytes.
fn garbage(n: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Writes the journal entry and the log line of a finished request.
fn record(
    instance: &Instance,
    trace: Trace,
    status: u16,
    tenant: Option<String>,
    detail: Option<String>,
    fault: Option<FaultRecord>,
) {
    let Trace {
        request_id,
        arrived,
        started,
        vendor,
        operation,
        method,
        path,
        query,
    } = trace;
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let target = Target {
        path: &path,
        query: query.as_deref(),
    };
    tracing::info!(
        target: "imgemu::request",
        vendor = vendor.unwrap_or("-"),
        operation = operation.unwrap_or("-"),
        status,
        fault = fault.as_ref().map_or("", |f| f.rule.as_str()),
        latency_us,
        tenant = tenant.as_deref().unwrap_or("-"),
        request_id = request_id.as_str(),
        method = %method,
        path = %target,
        detail = detail.as_deref().unwrap_or(""),
        "request"
    );
    instance.journal().record_served(Served {
        request_id,
        at: arrived,
        vendor,
        operation,
        method,
        path,
        query,
        status,
        latency_us,
        tenant,
        detail,
        fault,
    });
}
