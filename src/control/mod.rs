//! The `/_imgemu` control plane: JSON in, JSON out, never journaled and never faulted.
//! Routing and protection live here; each resource has its own module.

mod clock;
mod credentials;
mod faults;
mod journal;
pub(crate) mod settings;
mod state;
mod tasks;

use std::net::SocketAddr;

use http::header::{HeaderName, ALLOW, AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Method, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use crate::faults::body::FaultBody;
use crate::instance::Instance;
use crate::pipeline::{into_response, read_body, PipelineConfig};
use crate::reply::Reply;

/// Largest control-plane body (a state document with many images).
const CONTROL_BODY_LIMIT: usize = 512 * 1024 * 1024;

/// `{"error": message}` with a status.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    Reply::json(status, &json!({ "error": message.into() }))
}

/// The 404 for requests that match no vendor and no control-plane path.
pub(crate) fn no_route(method: &Method, path: &str) -> Reply {
    Reply::json(
        StatusCode::NOT_FOUND,
        &json!({"error": "no route", "method": method.as_str(), "path": path}),
    )
}

fn method_not_allowed(allow: &'static str) -> Reply {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed; use {allow}"),
    )
    .with_static_header(ALLOW, allow)
}

/// Parses a JSON body, or answers 400.
pub(crate) fn json_body(body: &[u8]) -> Result<serde_json::Value, Reply> {
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

/// Checks the admin token, or that the peer is on loopback when there is none.
fn authorize(
    config: &PipelineConfig,
    headers: &http::HeaderMap,
    peer: SocketAddr,
) -> Result<(), Reply> {
    match &config.admin_token {
        Some(token) => {
            let sent = headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, credentials)| credentials.trim());
            if sent == Some(token.as_str()) {
                Ok(())
            } else {
                Err(error(
                    StatusCode::UNAUTHORIZED,
                    "the control plane needs Authorization: Bearer <admin token>",
                )
                .with_static_header(WWW_AUTHENTICATE, "Bearer realm=\"imgemu\""))
            }
        }
        None if peer.ip().is_loopback() => Ok(()),
        None => Err(error(
            StatusCode::FORBIDDEN,
            "the control plane answers loopback clients only; start with --admin-token to allow others",
        )),
    }
}

/// Handles one control-plane request.
pub(crate) async fn handle(
    instance: &Instance,
    config: &PipelineConfig,
    req: http::Request<Incoming>,
    peer: SocketAddr,
) -> Response<FaultBody> {
    let request_id = crate::ids::uuid_v4().to_string();
    let (parts, body) = req.into_parts();
    let read = read_body(&parts.headers, body, CONTROL_BODY_LIMIT, CONTROL_BODY_LIMIT).await;
    let reply = match authorize(config, &parts.headers, peer) {
        Err(reply) => reply,
        Ok(()) if read.too_large => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "control-plane body too large",
        ),
        Ok(()) => route(
            instance,
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
            &read.bytes,
        ),
    };
    let reply = reply.with_header(HeaderName::from_static("x-request-id"), &request_id);
    into_response(reply, read.incomplete)
}

fn route(
    instance: &Instance,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Reply {
    let rest = path.trim_start_matches("/_imgemu").trim_start_matches('/');
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        ["health"] => match *method {
            Method::GET => state::health(instance),
            _ => method_not_allowed("GET"),
        },
        ["reset"] => match *method {
            Method::POST => state::reset(instance, query),
            _ => method_not_allowed("POST"),
        },
        ["state"] => match *method {
            Method::GET => state::export(instance),
            Method::PUT => state::replace(instance, body),
            _ => method_not_allowed("GET, PUT"),
        },
        ["journal"] => match *method {
            Method::GET => journal::query(instance, query),
            Method::DELETE => journal::clear(instance),
            _ => method_not_allowed("GET, DELETE"),
        },
        ["clock"] => match *method {
            Method::GET => clock::get(instance),
            Method::POST => clock::change(instance, body),
            _ => method_not_allowed("GET, POST"),
        },
        ["settings"] => match *method {
            Method::GET => settings::get(instance),
            Method::PUT => settings::put(instance, body),
            _ => method_not_allowed("GET, PUT"),
        },
        ["credentials"] => match *method {
            Method::POST => credentials::register(instance, body),
            _ => method_not_allowed("POST"),
        },
        ["tasks"] => match *method {
            Method::GET => tasks::list(instance),
            _ => method_not_allowed("GET"),
        },
        ["tasks", id, action @ ("finish" | "fail")] => match *method {
            Method::POST => {
                let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
                checkpointed(instance, tasks::force(instance, &id, action, body))
            }
            _ => method_not_allowed("POST"),
        },
        ["faults"] => match *method {
            Method::GET => faults::list(instance),
            Method::POST => faults::add(instance, body),
            Method::DELETE => faults::clear(instance),
            _ => method_not_allowed("GET, POST, DELETE"),
        },
        ["faults", id] => match *method {
            Method::DELETE => faults::remove(instance, id),
            _ => method_not_allowed("DELETE"),
        },
        [vendor, more @ ..] if !more.is_empty() => match instance.registry().by_name(vendor) {
            Some(v) => {
                let rest = more.join("/");
                let reply = v
                    .control(method, &rest, body, &instance.ctx())
                    .unwrap_or_else(|| no_route(method, path));
                if *method == Method::GET {
                    reply
                } else {
                    checkpointed(instance, reply)
                }
            }
            None => no_route(method, path),
        },
        _ => no_route(method, path),
    }
}

/// A control-plane change of state answered with `reply`: when it succeeded and a state directory
/// is in use, the whole state is written as a snapshot first.
fn checkpointed(instance: &Instance, reply: Reply) -> Reply {
    if reply.status.is_success() {
        instance.checkpoint();
    }
    reply
}
