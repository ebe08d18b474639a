//! What a fired rule does to one request (DESIGN §6): `error` and `http` replace the handler;
//! `truncate`, `garbage`, `dribble` and `latency` run it and damage or delay its response;
//! `reset`, `close`, `empty` and `hang` drop the request before the handler, or after it with
//! `"apply":"after"`; lifecycle actions run the handler with a [`Lifecycle`] in its context.

use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderName;
use http::StatusCode;

use super::{Action, Apply, Fired, Lifecycle};
use crate::auth::Tenant;
use crate::journal::FaultRecord;
use crate::reply::Reply;
use crate::vendor::{Answer, Ctx, Request, Vendor};

/// How the exchange ends after the handler (or instead of it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum End {
    /// Send the reply.
    Respond,
    /// Send the head and part of the body, then cut the connection.
    Truncate(f64),
    /// Send the body in chunks over a duration.
    Dribble(u32, Duration),
    /// Write this many random bytes, then close.
    Garbage(usize),
    /// Close without a response; with an RST when `reset`.
    Drop { reset: bool },
    /// Hold the connection this long, then close.
    Hang(Duration),
}

/// The effect of a fired rule on one request.
pub(crate) struct Applied {
    /// The answer, when the handler ran or the fault rendered one.
    pub answer: Option<Answer>,
    /// A delay before the exchange ends.
    pub delay: Option<Duration>,
    /// How the exchange ends.
    pub end: End,
    /// What the journal records.
    pub record: FaultRecord,
}

fn http_reply(status: u16, headers: &[(String, String)], body: &str) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut reply = Reply::empty(status).with_body(Bytes::from(body.to_string()));
    for (name, value) in headers {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            reply = reply.with_header(name, value);
        }
    }
    reply
}

/// Applies a fired rule to a routed, authenticated request.
pub(crate) fn apply(
    vendor: &dyn Vendor,
    operation: &'static str,
    tenant: &Tenant,
    req: &Request,
    ctx: &Ctx<'_>,
    fired: Fired,
) -> Applied {
    let record = FaultRecord {
        rule: fired.rule_id.clone(),
        action: fired.action.kind().to_string(),
    };
    let note = |what: String| format!("fault {}: {what}", fired.rule_id);
    let handled = || {
        with_note(
            vendor.handle(operation, tenant, req, ctx),
            note(fired.action.kind().to_string()),
        )
    };
    let dropped = |apply: Apply| match apply {
        Apply::Before => None,
        Apply::After => Some(handled()),
    };
    let (answer, end) = match &fired.action {
        Action::Error { code, status } => {
            let status = status.and_then(|s| StatusCode::from_u16(s).ok());
            let mut reply = vendor
                .render_error(code, status, req, ctx)
                .unwrap_or_else(|| Reply::empty(StatusCode::INTERNAL_SERVER_ERROR));
            if let Some(s) = status {
                reply.status = s;
            }
            (
                Some(Answer::noted(reply, note(format!("error {code}")))),
                End::Respond,
            )
        }
        Action::Http {
            status,
            headers,
            body,
        } => (
            Some(Answer::noted(
                http_reply(*status, headers, body),
                note(format!("http {status}")),
            )),
            End::Respond,
        ),
        Action::Latency(_) => (Some(handled()), End::Respond),
        Action::Reset(apply) => (dropped(*apply), End::Drop { reset: true }),
        Action::Close(apply) | Action::Empty(apply) => {
            (dropped(*apply), End::Drop { reset: false })
        }
        Action::Hang { max, apply } => (dropped(*apply), End::Hang(*max)),
        Action::Truncate { fraction } => (Some(handled()), End::Truncate(*fraction)),
        Action::Garbage { bytes } => (Some(handled()), End::Garbage(*bytes)),
        Action::Dribble { chunks, over } => (Some(handled()), End::Dribble(*chunks, *over)),
        Action::TaskFail { message } => {
            let lifecycle = Lifecycle::Fail(message.clone());
            let ctx = Ctx {
                lifecycle: Some(&lifecycle),
                ..*ctx
            };
            (
                Some(with_note(
                    vendor.handle(operation, tenant, req, &ctx),
                    note("task_fail".into()),
                )),
                End::Respond,
            )
        }
        Action::TaskStuck => {
            let lifecycle = Lifecycle::Stuck;
            let ctx = Ctx {
                lifecycle: Some(&lifecycle),
                ..*ctx
            };
            (
                Some(with_note(
                    vendor.handle(operation, tenant, req, &ctx),
                    note("task_stuck".into()),
                )),
                End::Respond,
            )
        }
    };
    Applied {
        answer,
        delay: fired.latency,
        end,
        record,
    }
}

fn with_note(mut answer: Answer, note: String) -> Answer {
    answer.detail = Some(match answer.detail.take() {
        Some(d) => format!("{note}; {d}"),
        None => note,
    });
    answer
}
