//! `/_imgemu/clock`: read, freeze, advance, set and resume the emulator clock.

use http::StatusCode;
use serde_json::Value;

use super::{error, json_body};
use crate::duration;
use crate::instance::Instance;
use crate::reply::Reply;

pub(super) fn get(instance: &Instance) -> Reply {
    Reply::json(StatusCode::OK, &instance.clock().view())
}

/// Applies `{"freeze":true}`, `{"set":..}`, `{"advance":..}`, `{"resume":true}` (in that order when
/// combined, so `{"set":T,"freeze":true}` stands exactly at T), after validating every member.
pub(super) fn change(instance: &Instance, body: &[u8]) -> Reply {
    let doc = match json_body(body) {
        Ok(doc) => doc,
        Err(reply) => return reply,
    };
    let Some(obj) = doc.as_object() else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a JSON object with set, advance, freeze or resume",
        );
    };
    let mut set = None;
    let mut advance = None;
    let mut freeze = false;
    let mut resume = false;
    for (key, value) in obj {
        match (key.as_str(), value) {
            ("set", Value::String(s)) => match crate::clock::parse_rfc3339(s) {
                Some(at) => set = Some(at),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("set: invalid instant {s:?}; expected RFC 3339"),
                    )
                }
            },
            ("advance", v) => match duration::from_json(v) {
                Ok(d) => advance = Some(d),
                Err(e) => return error(StatusCode::BAD_REQUEST, format!("advance: {e}")),
            },
            ("freeze", Value::Bool(b)) => freeze = *b,
            ("resume", Value::Bool(b)) => resume = *b,
            ("set" | "freeze" | "resume", other) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("{key}: unexpected value {other}"),
                )
            }
            (other, _) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown member {other:?}: expected set, advance, freeze or resume"),
                )
            }
        }
    }
    if freeze && resume {
        return error(
            StatusCode::BAD_REQUEST,
            "freeze and resume cannot be combined",
        );
    }
    let clock = instance.clock();
    if freeze {
        clock.freeze();
    }
    if let Some(at) = set {
        clock.set(at);
    }
    if let Some(d) = advance {
        if let Err(e) = clock.advance(d) {
            return error(StatusCode::BAD_REQUEST, format!("advance: {e}"));
        }
    }
    if resume {
        clock.resume();
    }
    get(instance)
}
