//! [`Instance`]: everything one emulator owns — clock, journal, credentials, settings, vendors and
//! their state. Two instances share nothing; the server, the control plane and the in-process API
//! are three views of one instance.

use std::sync::OnceLock;
use std::time::Instant;

use serde_json::Value;

use crate::clock::Clock;
use crate::credentials::Credentials;
use crate::faults::Faults;
use crate::fixtures::{self, FixtureError, Fixtures};
use crate::journal::Journal;
use crate::persist::Persistence;
use crate::settings::{Settings, SettingsCell};
use crate::state::{self, StateError};
use crate::vendor::{Ctx, Registry};

/// One emulator's state and configuration.
pub struct Instance {
    clock: Clock,
    journal: Journal,
    credentials: Credentials,
    settings: SettingsCell,
    registry: Registry,
    faults: Faults,
    fixtures: Fixtures,
    seed: u64,
    started: Instant,
    persistence: OnceLock<Persistence>,
}

impl Instance {
    /// A new instance with the standard vendors, empty state and built-in credentials.
    pub(crate) fn new(
        clock: Clock,
        settings: Settings,
        fixtures: Fixtures,
        seed: u64,
        journal_capacity: usize,
    ) -> Self {
        let registry = Registry::standard(seed);
        let builtin = registry
            .iter()
            .flat_map(|v| v.builtin_credentials())
            .collect();
        Instance {
            clock,
            journal: Journal::with_capacity(journal_capacity),
            credentials: Credentials::new(builtin),
            settings: SettingsCell::new(settings),
            registry,
            faults: Faults::new(seed),
            fixtures,
            seed,
            started: Instant::now(),
            persistence: OnceLock::new(),
        }
    }

    /// The emulator clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Built-in and registered credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Run-time settings.
    pub fn settings(&self) -> &SettingsCell {
        &self.settings
    }

    /// The vendors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The fault rules.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The seed all reproducible randomness derives from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The state directory this instance writes to, if it has one (`--state-dir`).
    pub fn persistence(&self) -> Option<&Persistence> {
        self.persistence.get()
    }

    /// Starts writing every change to a state directory (once; later calls are ignored).
    pub(crate) fn set_persistence(&self, persistence: Persistence) {
        let _ = self.persistence.set(persistence);
    }

    /// With a state directory, writes the whole state as a new snapshot. A failure is logged; the
    /// state directory then refuses further changes (each answered with the vendor's internal
    /// error) until a checkpoint succeeds or the emulator restarts.
    pub fn checkpoint(&self) {
        if let Some(persistence) = self.persistence() {
            if let Err(e) = persistence.checkpoint(self) {
                tracing::error!(target: "imgemu::persist", error = %e, "cannot write a snapshot");
            }
        }
    }

    /// Seconds since the instance was created.
    pub fn uptime_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// What vendor code sees of the instance for one request.
    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            clock: &self.clock,
            credentials: &self.credentials,
            settings: self.settings.get(),
            lifecycle: None,
        }
    }

    /// Loads the configured fixtures, replacing all state.
    pub fn load_fixtures(&self) -> Result<(), FixtureError> {
        fixtures::load(self, &self.fixtures)
    }

    /// Empties all state (resources, counters, registered credentials), the journal and the fault
    /// rules; with `with_fixtures`, then loads the configured fixtures.
    pub fn reset(&self, with_fixtures: bool) -> Result<(), FixtureError> {
        if with_fixtures {
            // Load first: a failed load changes nothing, not even the journal.
            self.load_fixtures()?;
            self.journal.clear();
            self.faults.clear();
            self.checkpoint();
            Ok(())
        } else {
            self.journal.clear();
            self.faults.clear();
            let empty = state::prepare(self, &state::empty_document()).map_err(|source| {
                FixtureError::Invalid {
                    file: "(empty state)".into(),
                    source,
                }
            })?;
            state::install(self, empty);
            self.checkpoint();
            Ok(())
        }
    }

    /// The whole state as a state document.
    pub fn export_state(&self) -> Value {
        state::export(self)
    }

    /// Replaces the whole state with a document; nothing changes on error.
    pub fn replace_state(&self, doc: &Value) -> Result<(), StateError> {
        let prepared = state::prepare(self, doc)?;
        state::install(self, prepared);
        self.checkpoint();
        Ok(())
    }
}

impl Instance {
    /// Validates a credential with its vendor and registers it (replacing one with the same key).
    pub fn register_credential(&self, cred: crate::credentials::Credential) -> Result<(), String> {
        let vendor = self.registry.by_name(&cred.vendor).ok_or_else(|| {
            format!(
                "unknown vendor {:?}: expected one of {}",
                cred.vendor,
                self.registry.names().join(", ")
            )
        })?;
        vendor.check_credential(&cred)?;
        self.credentials.register(cred);
        self.checkpoint();
        Ok(())
    }
}
