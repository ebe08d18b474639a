//! `/_imgemu/faults`: list, add (one rule or an array, all or nothing), remove and clear fault rules.

use http::StatusCode;
use serde_json::{json, Value};

use super::{error, json_body};
use crate::faults::rule::parse_rules;
use crate::instance::Instance;
use crate::reply::Reply;

pub(super) fn list(instance: &Instance) -> Reply {
    Reply::json(StatusCode::OK, &Value::Array(instance.faults().list()))
}

pub(super) fn add(instance: &Instance, body: &[u8]) -> Reply {
    let doc = match json_body(body) {
        Ok(doc) => doc,
        Err(reply) => return reply,
    };
    let stored =
        parse_rules(&doc, instance.registry()).and_then(|rules| instance.faults().add(rules));
    match stored {
        Ok(views) => Reply::json(StatusCode::CREATED, &Value::Array(views)),
        Err(e) => Reply::json(
            StatusCode::BAD_REQUEST,
            &json!({"error": e.to_string(), "path": e.path}),
        ),
    }
}

pub(super) fn remove(instance: &Instance, id: &str) -> Reply {
    let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
    if instance.faults().remove(&id) {
        Reply::empty(StatusCode::NO_CONTENT)
    } else {
        error(StatusCode::NOT_FOUND, format!("no fault rule {id:?}"))
    }
}

pub(super) fn clear(instance: &Instance) -> Reply {
    instance.faults().clear();
    Reply::empty(StatusCode::NO_CONTENT)
}
