//! `/_imgemu/tasks`: the async tasks and jobs of every vendor, which can be forced to finish or
//! fail.

use http::StatusCode;
use serde_json::Value;

use super::{error, json_body};
use crate::instance::Instance;
use crate::reply::Reply;
use crate::vendor::ForcedOutcome;

pub(super) fn list(instance: &Instance) -> Reply {
    let ctx = instance.ctx();
    let tasks: Vec<Value> = instance
        .registry()
        .iter()
        .flat_map(|v| v.tasks(&ctx))
        .collect();
    Reply::json(StatusCode::OK, &tasks)
}

pub(super) fn force(instance: &Instance, id: &str, action: &str, body: &[u8]) -> Reply {
    let outcome = if action == "finish" {
        ForcedOutcome::Finish
    } else {
        let message = if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            match json_body(body) {
                Ok(doc) => match doc.get("message") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(m)) => Some(m.clone()),
                    Some(_) => return error(StatusCode::BAD_REQUEST, "message: expected a string"),
                },
                Err(reply) => return reply,
            }
        };
        ForcedOutcome::Fail(message)
    };
    let ctx = instance.ctx();
    for vendor in instance.registry().iter() {
        match vendor.force_task(id, &outcome, &ctx) {
            Some(Ok(task)) => return Reply::json(StatusCode::OK, &task),
            Some(Err(message)) => return error(StatusCode::BAD_REQUEST, message),
            None => {}
        }
    }
    error(StatusCode::NOT_FOUND, format!("no task or job {id:?}"))
}
