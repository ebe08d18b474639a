//! Fault injection (DESIGN §6): rules of match + trigger + action, evaluated per request after
//! authentication and before the vendor handler. [`rule`] holds the model and its JSON form,
//! [`engine`] the ordered rule list with per-rule seeded RNGs, [`body`] and [`conn`] the means to
//! damage a response or a connection. The pipeline applies what fires.

pub(crate) mod apply;
pub mod body;
pub mod conn;
pub mod engine;
pub mod rule;

pub use engine::{Faults, Fired, RequestFacts};
pub use rule::{Action, Apply, Catalog, FaultError, FaultRule, Latency, Match, Trigger};

use crate::vendor::Registry;

impl Catalog for Registry {
    fn vendors(&self) -> Vec<&'static str> {
        self.names()
    }

    fn operations(&self, vendor: &str) -> Option<&'static [&'static str]> {
        self.by_name(vendor).map(|v| v.operations())
    }

    fn error_codes(&self, vendor: &str) -> Option<&'static [&'static str]> {
        self.by_name(vendor).map(|v| v.error_codes())
    }
}

/// A lifecycle fault for the task or job the current request creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// The task fails (every item / the job), with this message or the vendor's default.
    Fail(Option<String>),
    /// The task never finishes unless forced through `/_imgemu/tasks`.
    Stuck,
}
