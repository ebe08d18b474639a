//! Health, reset and the state document (`/_imgemu/health`, `/reset`, `/state`).

use http::StatusCode;
use serde_json::json;

use super::{error, json_body};
use crate::instance::Instance;
use crate::reply::Reply;

pub(super) fn health(instance: &Instance) -> Reply {
    Reply::json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "vendors": instance.registry().names(),
            "uptime_s": instance.uptime_s(),
        }),
    )
}

pub(super) fn reset(instance: &Instance, query: Option<&str>) -> Reply {
    let mut with_fixtures = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if key == "fixtures" {
            match value.as_ref() {
                "true" | "1" => with_fixtures = true,
                "false" | "0" => with_fixtures = false,
                other => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("invalid fixtures={other:?}: expected true or false"),
                    )
                }
            }
        }
    }
    match instance.reset(with_fixtures) {
        Ok(()) => Reply::json(
            StatusCode::OK,
            &json!({"status": "ok", "fixtures": with_fixtures}),
        ),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

pub(super) fn export(instance: &Instance) -> Reply {
    Reply::json(StatusCode::OK, &instance.export_state())
}

pub(super) fn replace(instance: &Instance, body: &[u8]) -> Reply {
    let doc = match json_body(body) {
        Ok(doc) => doc,
        Err(reply) => return reply,
    };
    match instance.replace_state(&doc) {
        Ok(()) => Reply::empty(StatusCode::NO_CONTENT),
        Err(e) => Reply::json(
            StatusCode::BAD_REQUEST,
            &json!({"error": e.to_string(), "path": e.path}),
        ),
    }
}
