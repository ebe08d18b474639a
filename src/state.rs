//! The state document: the one format for snapshots (`GET/PUT /_imgemu/state`), fixtures and,
//! later, persistence. `{"format":"imgemu-state","version":1,"credentials":[..],"<vendor>":{..}}`.
//!
//! Loading is all-or-nothing: every member is validated before anything is replaced.

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
    let obj = doc
        .as_object()
        .ok_or_else(|| StateError::new("$", "a state document must be a JSON object"))?;
    match obj.get("format") {
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
    match obj.get("version") {
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
    for key in obj.keys() {
        if !matches!(key.as_str(), "format" | "version" | "credentials")
            && !vendor_names.contains(&key.as_str())
        {
            return Err(StateError::new(
                format!("$.{key}"),
                format!(
                    "unknown member; expected format, version, credentials or a vendor ({})",
                    vendor_names.join(", ")
                ),
            ));
        }
    }
    let credentials: Vec<Credential> = match obj.get("credentials") {
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
    let mut vendors = Vec::new();
    for vendor in instance.registry().iter() {
        let prepared = vendor
            .prepare_state(obj.get(vendor.name()))
            .map_err(|e| e.under(&format!("$.{}", vendor.name())))?;
        vendors.push((vendor.name(), prepared));
    }
    Ok(Prepared {
        credentials,
        vendors,
    })
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
