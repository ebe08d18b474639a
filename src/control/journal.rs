//! `/_imgemu/journal`: query and clear the request journal.

use http::StatusCode;
use serde_json::json;

use super::error;
use crate::instance::Instance;
use crate::journal::Query;
use crate::reply::Reply;

/// Builds a journal query from `vendor`, `operation`, `status`, `tenant`, `since` and `limit`.
fn parse_query(query: Option<&str>) -> Result<Query, String> {
    let mut q = Query::all();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let number = |what: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("invalid {what}={value:?}: expected a non-negative integer"))
        };
        match key.as_ref() {
            "vendor" => q.vendor = Some(value.to_string()),
            "operation" => q.operation = Some(value.to_string()),
            "tenant" => q.tenant = Some(value.to_string()),
            "status" => {
                q.status = Some(u16::try_from(number("status")?).map_err(|_| format!("invalid status={value:?}"))?)
            }
            "since" => q.since = Some(number("since")?),
            "fault" => {
                q.fault = Some(match value.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("invalid fault={value:?}: expected true or false")),
                })
            }
            "limit" => q.limit = Some(usize::try_from(number("limit")?).unwrap_or(usize::MAX)),
            other => {
                return Err(format!(
                    "unknown parameter {other:?}: expected vendor, operation, status, tenant, since, limit or fault"
                ))
            }
        }
    }
    Ok(q)
}

pub(super) fn query(instance: &Instance, query: Option<&str>) -> Reply {
    match parse_query(query) {
        Ok(q) => {
            let count = instance.journal().count(&q);
            let entries = instance.journal().entries(&q);
            Reply::json(StatusCode::OK, &json!({"count": count, "entries": entries}))
        }
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

pub(super) fn clear(instance: &Instance) -> Reply {
    instance.journal().clear();
    Reply::empty(StatusCode::NO_CONTENT)
}
