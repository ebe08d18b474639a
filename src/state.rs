//! The state document: the one format for snapshots (`GET/PUT /_imgemu/state`), fixtures and,
//! later, persistence. `{"format":"imgemu-state","version":1,"credentials":[..],"<vendor>":{..}}`.
//!
//! Loading is all-or-nothing: every member is validated before anything is replaced.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::credentials::Credential;
use crate::instance::Instance;
use crate::vendor::PreparedState;

/// The `format` member of every state document.
pub const FORMAT: &str = "imgemu-state";
/// The only `version` this build reads and writes.
pub const VERSION: u64 = 1;

/// A state document that cannot be loaded: where (a JSON path from `$`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StateError {
    /// JSON path of the offending value, e.g. `$.aries.tenants.admin.images[0].id`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl StateError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        StateError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same error with its path placed under `parent` (`$` + `.member`).
    pub fn under(self, parent: &str) -> Self {
        let path = match self.path.as_str() {
            "" | "$" => parent.to_string(),
            p if p.starts_with('[') => format!("{parent}{p}"),
            p => format!("{parent}.{}", p.trim_start_matches("$.")),
        };
        StateError { path, ..self }
    }
}

/// Deserialises `value` into `T`, reporting the JSON path of the first mismatch.
pub fn from_value<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, StateError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        StateError::new(path, e.into_inner().to_string())
    })
}

/// Deserialises `text` (one JSON value) into `T`, reporting the JSON path of the first mismatch;
/// the message leaves out the line and column, as [`from_value`]'s does.
///
/// Paths are tracked only on a second pass after a failure: tracking costs about a tenth of the
/// parse, which matters for a fixture of a million images.
pub fn from_text<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, StateError> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        StateError::new(path, without_position(&e.into_inner()))
    })
}

/// A serde_json error's message without its " at line L column C" suffix.
pub(crate) fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(cut) if message[cut..].contains(" column ") => message[..cut].to_string(),
        _ => message,
    }
}

/// Why a document given as text cannot be loaded.
#[derive(Debug)]
pub(crate) enum TextError {
    /// It is not JSON (with line and column).
    Syntax(serde_json::Error),
    /// It is JSON but not a valid state document.
    Invalid(StateError),
}

/// A validated document, ready to install.
pub(crate) struct Prepared {
    credentials: Vec<Credential>,
    vendors: Vec<(&'static str, PreparedState)>,
}

impl Prepared {
    /// Combines validated documents that each define some vendors (fixture files): credentials
    /// concatenated in order; each vendor's state from the document that defines it, else from
    /// `base` (an empty document's).
    pub(crate) fn combine(base: Prepared, parts: Vec<(Prepared, Vec<String>)>) -> Prepared {
        let mut credentials = Vec::new();
        let mut vendors = base.vendors;
        for (part, defined) in parts {
            credentials.extend(part.credentials);
            for (name, state) in part.vendors {
                if defined.iter().any(|d| d == name) {
                    if let Some(slot) = vendors.iter_mut().find(|(n, _)| *n == name) {
                        slot.1 = state;
                    }
                }
            }
        }
        Prepared {
            credentials,
            vendors,
        }
    }
}

/// A document with no credentials and every vendor empty.
pub(crate) fn empty_document() -> Value {
    let mut doc = Map::new();
    doc.insert("format".into(), FORMAT.into());
    doc.insert("version".into(), VERSION.into());
    Value::Object(doc)
}

/// Validates a whole state document against this instance's vendors.
pub(crate) fn prepare(instance: &Instance, doc: &Value) -> Result<Prepared, StateError> {
    let obj = doc.as_object().ok_or_else(not_an_object)?;
    let credentials = prepare_header(
        instance,
        obj.keys().map(String::as_str),
        obj.get("format"),
        obj.get("version"),
        obj.get("credentials"),
    )?;
    let vendors = prepare_vendors(instance, |vendor| {
        vendor.prepare_state(obj.get(vendor.name()))
    })?;
    Ok(Prepared {
        credentials,
        vendors,
    })
}

/// [`prepare`] from the document's text, without building a [`Value`] tree of the vendor
/// members (each vendor reads its member's text, [`Vendor::prepare_state_text`]). Also returns
/// the document's top-level member names.
///
/// [`Vendor::prepare_state_text`]: crate::vendor::Vendor::prepare_state_text
pub(crate) fn prepare_text(
    instance: &Instance,
    text: &str,
) -> Result<(Prepared, Vec<String>), TextError> {
    let members: BTreeMap<String, &RawValue> = match serde_json::from_str(text) {
        Ok(members) => members,
        // Not JSON at all, or JSON that is not an object.
        Err(_) => {
            return Err(match serde_json::from_str::<&RawValue>(text) {
                Ok(_) => TextError::Invalid(not_an_object()),
                Err(syntax) => TextError::Syntax(syntax),
            })
        }
    };
    // Valid JSON (checked above) always parses as a value.
    let small = |name: &str| {
        members
            .get(name)
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
    };
    let credentials = prepare_header(
        instance,
        members.keys().map(String::as_str),
        small("format").as_ref(),
        small("version").as_ref(),
        small("credentials").as_ref(),
    )
    .map_err(TextError::Invalid)?;
    let vendors = prepare_vendors(instance, |vendor| {
        vendor.prepare_state_text(members.get(vendor.name()).copied())
    })
    .map_err(TextError::Invalid)?;
    let prepared = Prepared {
        credentials,
        vendors,
    };
    Ok((prepared, members.into_keys().collect()))
}

/// Each vendor's member prepared by `prepare`, errors placed under `$.<vendor>`.
fn prepare_vendors(
    instance: &Instance,
    prepare: impl Fn(&dyn crate::vendor::Vendor) -> Result<PreparedState, StateError>,
) -> Result<Vec<(&'static str, PreparedState)>, StateError> {
    instance
        .registry()
        .iter()
        .map(|vendor| {
            let prepared =
                prepare(vendor.as_ref()).map_err(|e| e.under(&format!("$.{}", vendor.name())))?;
            Ok((vendor.name(), prepared))
        })
        .collect()
}

fn not_an_object() -> StateError {
    StateError::new("$", "a state document must be a JSON object")
}

/// Checks a document's `format`, `version` and member names, and its credentials.
fn prepare_header<'k>(
    instance: &Instance,
    keys: impl Iterator<Item = &'k str>,
    format: Option<&Value>,
    version: Option<&Value>,
    credentials: Option<&Value>,
) -> Result<Vec<Credential>, StateError> {
    match format {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => {
            return Err(StateError::new(
                "$.format",
                format!("expected \"{FORMAT}\", found {other}"),
            ))
        }
        None => {
            return Err(StateError::new(
                "$.format",
                format!("missing; expected \"{FORMAT}\""),
            ))
        }
    }
    match version {
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(other) => {
            return Err(StateError::new(
                "$.version",
                format!("unsupported version {other}; this build reads version {VERSION}"),
            ))
        }
        None => {
            return Err(StateError::new(
                "$.version",
                format!("missing; expected {VERSION}"),
            ))
        }
    }
    let vendor_names = instance.registry().names();
    for key in keys {
        if !matches!(key, "format" | "version" | "credentials") && !vendor_names.contains(&key) {
            return Err(StateError::new(
                format!("$.{key}"),
                format!(
                    "unknown member; expected format, version, credentials or a vendor ({})",
                    vendor_names.join(", ")
                ),
            ));
        }
    }
    let credentials: Vec<Credential> = match credentials {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => from_value(v).map_err(|e| e.under("$.credentials"))?,
    };
    for (i, cred) in credentials.iter().enumerate() {
        let path = format!("$.credentials[{i}]");
        let vendor = instance.registry().by_name(&cred.vendor).ok_or_else(|| {
            StateError::new(
                format!("{path}.vendor"),
                format!(
                    "unknown vendor {:?}; expected one of {}",
                    cred.vendor,
                    vendor_names.join(", ")
                ),
            )
        })?;
        vendor
            .check_credential(cred)
            .map_err(|m| StateError::new(path, m))?;
    }
    Ok(credentials)
}

/// Installs a prepared document, replacing all state.
pub(crate) fn install(instance: &Instance, prepared: Prepared) {
    instance
        .credentials()
        .replace_registered(prepared.credentials);
    for (name, state) in prepared.vendors {
        if let Some(vendor) = instance.registry().by_name(name) {
            vendor.install_state(state);
        }
    }
}

/// Exports the whole state as a document.
pub(crate) fn export(instance: &Instance) -> Value {
    let mut doc = Map::new();
    doc.insert("format".into(), FORMAT.into());
    doc.insert("version".into(), VERSION.into());
    let creds = serde_json::to_value(instance.credentials().registered())
        .unwrap_or(Value::Array(Vec::new()));
    doc.insert("credentials".into(), creds);
    for vendor in instance.registry().iter() {
        doc.insert(vendor.name().into(), vendor.export_state());
    }
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest_under_their_parent() {
        assert_eq!(StateError::new("", "x").under("$.aries").path, "$.aries");
        assert_eq!(
            StateError::new("next_id", "x").under("$.aries").path,
            "$.aries.next_id"
        );
        assert_eq!(
            StateError::new("[2].vendor", "x")
                .under("$.credentials")
                .path,
            "$.credentials[2].vendor"
        );
    }
}
