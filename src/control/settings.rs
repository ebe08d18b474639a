//! `/_imgemu/settings`: the run-time switches, with the same keys as the TOML config file.

use http::StatusCode;
use serde_json::{Map, Value};

use super::{error, json_body};
use crate::auth::AuthMode;
use crate::instance::Instance;
use crate::lifecycle::TransitionPolicy;
use crate::reply::Reply;
use crate::settings::{on_off, parse_on_off};

/// Every setting with its current value: `auth`, `transition`, `quotas` and one table per vendor.
pub(crate) fn view(instance: &Instance) -> Value {
    let s = instance.settings().get();
    let mut out = Map::new();
    out.insert("auth".into(), s.auth.to_string().into());
    out.insert("transition".into(), s.transition.to_string().into());
    out.insert("quotas".into(), on_off(s.quotas).into());
    for vendor in instance.registry().iter() {
        out.insert(vendor.name().into(), Value::Object(vendor.switches()));
    }
    Value::Object(out)
}

/// Applies a partial settings document, all or nothing. Vendor switches may be given as a table
/// (`{"jd":{"daily_quota":5}}`) or with a dotted key (`{"jd.daily_quota":5}`).
pub(crate) fn apply(instance: &Instance, doc: &Value) -> Result<(), String> {
    let obj = doc.as_object().ok_or("settings must be a JSON object")?;
    let mut auth = None;
    let mut transition = None;
    let mut quotas = None;
    let mut switches: Vec<(&str, String, &Value)> = Vec::new();
    for (key, value) in obj {
        match key.as_str() {
            "auth" => {
                let text = value
                    .as_str()
                    .ok_or("auth: expected off, lenient or strict")?;
                auth = Some(text.parse::<AuthMode>().map_err(|e| format!("auth: {e}"))?);
            }
            "transition" => {
                let text = value
                    .as_str()
                    .ok_or("transition: expected immediate, polls:N or time:DUR")?;
                transition = Some(
                    text.parse::<TransitionPolicy>()
                        .map_err(|e| format!("transition: {e}"))?,
                );
            }
            "quotas" => {
                let parsed = match value {
                    Value::Bool(b) => Some(*b),
                    Value::String(s) => parse_on_off(s),
                    _ => None,
                };
                quotas = Some(parsed.ok_or("quotas: expected on or off")?);
            }
            other => {
                let (vendor, sub) = match other.split_once('.') {
                    Some((v, k)) => (v, Some(k)),
                    None => (other, None),
                };
                let known = instance.registry().by_name(vendor).ok_or_else(|| {
                    format!("unknown setting {other:?}: expected auth, transition, quotas or a vendor table")
                })?;
                match (sub, value) {
                    (Some(k), v) => switches.push((known.name(), k.to_string(), v)),
                    (None, Value::Object(table)) => {
                        switches.extend(table.iter().map(|(k, v)| (known.name(), k.clone(), v)))
                    }
                    (None, _) => {
                        return Err(format!("{other}: expected a table of {other} settings"))
                    }
                }
            }
        }
    }
    // All or nothing: remember every switch of the vendors touched, and put them back on error.
    let touched: Vec<_> = instance
        .registry()
        .iter()
        .filter(|v| switches.iter().any(|(name, _, _)| *name == v.name()))
        .map(|v| (v.clone(), v.switches()))
        .collect();
    for (vendor, key, value) in &switches {
        let Some(v) = instance.registry().by_name(vendor) else {
            continue;
        };
        if let Err(message) = v.set_switch(key, value) {
            for (v, before) in &touched {
                for (key, value) in before {
                    let _ = v.set_switch(key, value);
                }
            }
            return Err(message);
        }
    }
    instance.settings().update(|s| {
        if let Some(a) = auth {
            s.auth = a;
        }
        if let Some(t) = transition {
            s.transition = t;
        }
        if let Some(q) = quotas {
            s.quotas = q;
        }
    });
    Ok(())
}

pub(super) fn get(instance: &Instance) -> Reply {
    Reply::json(StatusCode::OK, &view(instance))
}

pub(super) fn put(instance: &Instance, body: &[u8]) -> Reply {
    let doc = match json_body(body) {
        Ok(doc) => doc,
        Err(reply) => return reply,
    };
    match apply(instance, &doc) {
        Ok(()) => get(instance),
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}
