//! The in-process API: [`Emulator::builder`] → [`EmulatorBuilder::start`] binds `127.0.0.1:0`
//! and serves in the background of the caller's tokio runtime; [`EmulatorBuilder::start_blocking`]
//! does the same on a runtime of its own for synchronous tests.

use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::AuthMode;
use crate::clock::{Clock, MANUAL_EPOCH};
use crate::credentials::{Credential, Credentials};
use crate::faults::rule::parse_rules;
use crate::faults::{FaultError, FaultRule};
use crate::fixtures::{FixtureError, Fixtures};
use crate::instance::Instance;
use crate::journal::{Journal, DEFAULT_CAPACITY};
use crate::lifecycle::TransitionPolicy;
use crate::persist::{self, PersistError, Persistence};
use crate::pipeline::PipelineConfig;
use crate::server::{self, ListenerSlot, ServerLimits};
use crate::settings::Settings;
use crate::state::StateError;

/// Why an emulator did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// The socket error.
        source: io::Error,
    },
    /// The fixtures could not be loaded.
    #[error("fixtures: {0}")]
    Fixtures(#[from] FixtureError),
    /// The fault rules given at start were refused (the message names the file and the field).
    #[error("faults: {0}")]
    Faults(String),
    /// A vendor setting was refused (the message names where it came from).
    #[error("{0}")]
    Settings(String),
    /// The host is not a loopback address and no admin token protects the control plane.
    #[error("refusing to listen on {0}: the control plane would be reachable from the network; set an admin token (--admin-token) or bind a loopback address")]
    Unprotected(String),
    /// `start_blocking` was called from inside a tokio runtime (use `start().await` there).
    #[error("start_blocking cannot run inside a tokio runtime; use start().await")]
    InsideRuntime,
    /// The private runtime of `start_blocking` could not be built.
    #[error("cannot build a tokio runtime: {0}")]
    Runtime(io::Error),
    /// The state directory could not be used (locked, unreadable or corrupt; the message names the
    /// file).
    #[error("state dir: {0}")]
    StateDir(#[from] PersistError),
}

/// Which clock the emulator runs on.
#[derive(Debug, Clone, Copy)]
enum ClockChoice {
    System,
    Manual(OffsetDateTime),
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    host: String,
    port: u16,
    settings: Settings,
    clock: ClockChoice,
    fixtures: Fixtures,
    seed: u64,
    admin_token: Option<String>,
    journal_capacity: usize,
    limits: ServerLimits,
    vendor_settings: Option<(Value, String)>,
    fault_rules: Vec<FaultRule>,
    faults_file: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    compact_bytes: u64,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            host: "127.0.0.1".into(),
            port: 0,
            settings: Settings::default(),
            clock: ClockChoice::System,
            fixtures: Fixtures::Default,
            seed: 0,
            admin_token: None,
            journal_capacity: DEFAULT_CAPACITY,
            limits: ServerLimits::default(),
            vendor_settings: None,
            fault_rules: Vec::new(),
            faults_file: None,
            state_dir: None,
            compact_bytes: persist::DEFAULT_COMPACT_BYTES,
        }
    }
}

impl EmulatorBuilder {
    /// Interface to bind (default `127.0.0.1`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }
    /// Port to bind (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Credential checking (default lenient).
    pub fn auth_mode(mut self, mode: AuthMode) -> Self {
        self.settings.auth = mode;
        self
    }
    /// A manual clock frozen at 2026-01-01T00:00:00Z until advanced, set or resumed.
    pub fn manual_clock(self) -> Self {
        self.manual_clock_at(MANUAL_EPOCH)
    }
    /// A manual clock frozen at `at`.
    pub fn manual_clock_at(mut self, at: OffsetDateTime) -> Self {
        self.clock = ClockChoice::Manual(at);
        self
    }
    /// When async tasks and jobs finish (default `polls:1`).
    pub fn transition(mut self, policy: TransitionPolicy) -> Self {
        self.settings.transition = policy;
        self
    }
    /// Which fixtures to load at start (default: the built-in ones).
    pub fn fixtures(mut self, fixtures: Fixtures) -> Self {
        self.fixtures = fixtures;
        self
    }
    /// Seed of all reproducible randomness (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Whether rate limits, daily quotas and capacity limits apply (default true).
    pub fn quotas(mut self, on: bool) -> Self {
        self.settings.quotas = on;
        self
    }
    /// Requires `Authorization: Bearer <token>` on the control plane and allows non-loopback peers.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }
    /// How many journal entries are kept (default 10,000).
    pub fn journal_capacity(mut self, capacity: usize) -> Self {
        self.journal_capacity = capacity;
        self
    }
    /// Connection limits and shutdown grace.
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }
    /// Vendor switches, as the vendor tables of the settings document (`{"jd":{..}}`);
    /// `source` names where they came from in a start error (e.g. the config file).
    pub fn vendor_settings(mut self, settings: Value, source: impl Into<String>) -> Self {
        self.vendor_settings = Some((settings, source.into()));
        self
    }

    /// Fault rules in force from the start (DESIGN §6).
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.fault_rules.push(rule);
        self
    }

    /// A JSON file of fault rules (one rule or an array) loaded at start, as `--faults FILE`.
    pub fn faults_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.faults_file = Some(path.into());
        self
    }

    /// Keeps the state in `dir` (created if missing): every acknowledged change is on disk before
    /// its response, and a restart with the same directory resumes from it. A directory holding
    /// state wins over the fixtures, which load only into an empty one. See `docs/persistence.md`.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// With a state directory, the log size (bytes) past which it is compacted into a snapshot;
    /// the threshold is never below the size of the last snapshot. Default
    /// [`persist::DEFAULT_COMPACT_BYTES`].
    pub fn compact_after_bytes(mut self, bytes: u64) -> Self {
        self.compact_bytes = bytes;
        self
    }

    /// Binds, loads fixtures (or the state directory) and starts serving on the current tokio
    /// runtime.
    pub async fn start(self) -> Result<Emulator, StartError> {
        let clock = match self.clock {
            ClockChoice::System => Clock::system(),
            ClockChoice::Manual(at) => Clock::frozen_at(at),
        };
        let instance = Arc::new(Instance::new(
            clock,
            self.settings,
            self.fixtures,
            self.seed,
            self.journal_capacity,
        ));
        if let Some((doc, source)) = &self.vendor_settings {
            crate::control::settings::apply(&instance, doc)
                .map_err(|message| StartError::Settings(format!("{source}: {message}")))?;
        }
        let recovered = match &self.state_dir {
            Some(dir) => Some(persist::recover(dir)?),
            None => None,
        };
        match recovered
            .as_ref()
            .and_then(|r| r.document.as_ref().map(|d| (r, d)))
        {
            Some((r, doc)) => {
                instance
                    .replace_state(doc)
                    .map_err(|source| PersistError::InvalidState {
                        file: r.source.clone(),
                        source,
                    })?
            }
            None => instance.load_fixtures()?,
        }
        if let Some(recovered) = recovered {
            let persistence = Persistence::start(recovered, &instance, self.compact_bytes)?;
            instance.set_persistence(persistence);
        }
        load_faults(&instance, self.fault_rules, self.faults_file.as_deref())?;
        let bind_to = format!("{}:{}", self.host, self.port);
        if self.admin_token.is_none() && !is_loopback_host(&self.host) {
            return Err(StartError::Unprotected(bind_to));
        }
        let listener = TcpListener::bind(&bind_to)
            .await
            .map_err(|source| StartError::Bind {
                addr: bind_to.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: bind_to,
            source,
        })?;
        let slot: ListenerSlot = Arc::new(Mutex::new(Some(listener)));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let config = Arc::new(PipelineConfig {
            admin_token: self.admin_token,
            max_header_bytes: self.limits.max_header_bytes,
        });
        let task = tokio::spawn(server::serve(
            slot.clone(),
            instance.clone(),
            config,
            self.limits,
            shutdown_rx,
        ));
        Ok(Emulator {
            instance,
            addr,
            slot,
            shutdown_tx,
            task: Some(task),
        })
    }

    /// Starts on a private multi-threaded runtime, for synchronous code. Must not be called from
    /// inside a tokio runtime.
    pub fn start_blocking(self) -> Result<BlockingEmulator, StartError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(StartError::InsideRuntime);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("imgemu")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let emulator = runtime.block_on(self.start())?;
        Ok(BlockingEmulator {
            emulator,
            runtime: Some(runtime),
        })
    }
}

/// Whether `host` names only loopback addresses (`localhost`, 127.0.0.0/8, `::1`).
fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Adds the builder's rules and the rules file to a new instance.
fn load_faults(
    instance: &Instance,
    rules: Vec<FaultRule>,
    file: Option<&std::path::Path>,
) -> Result<(), StartError> {
    for rule in &rules {
        rule.validate(instance.registry())
            .map_err(|e| StartError::Faults(e.to_string()))?;
    }
    instance
        .faults()
        .add(rules)
        .map_err(|e| StartError::Faults(e.to_string()))?;
    if let Some(path) = file {
        let name = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| StartError::Faults(format!("{name}: {e}")))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| StartError::Faults(format!("{name}: invalid JSON: {e}")))?;
        let rules = parse_rules(&doc, instance.registry())
            .map_err(|e| StartError::Faults(format!("{name}: {e}")))?;
        instance
            .faults()
            .add(rules)
            .map_err(|e| StartError::Faults(format!("{name}: {e}")))?;
    }
    Ok(())
}

/// A running emulator. Dropping it stops the server and frees the port at once; in-flight requests
/// still finish in the background.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use imgemu::{AuthMode, Emulator};
///
/// let emu = Emulator::builder().auth_mode(AuthMode::Strict).manual_clock().start().await?;
/// let image: serde_json::Value = reqwest::Client::new()
///     .get(format!("{}/aries/api/v1/image/1", emu.url()))
///     .bearer_auth("imgemu-dev-token")
///     .send().await?
///     .json().await?;
/// assert_eq!(image["name"], "CentOS-7.9-x64");
/// assert_eq!(emu.journal().count(&imgemu::journal::Query::vendor("aries")), 1);
/// emu.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Emulator {
    instance: Arc<Instance>,
    addr: SocketAddr,
    slot: ListenerSlot,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with the defaults: 127.0.0.1:0, lenient auth, system clock, `polls:1`, default
    /// fixtures, seed 0, quotas on.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Names of the vendors served.
    pub fn vendors(&self) -> Vec<&'static str> {
        self.instance.registry().names()
    }

    /// The emulator clock (freeze, advance, set, resume).
    pub fn clock(&self) -> &Clock {
        self.instance.clock()
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        self.instance.journal()
    }

    /// Built-in and registered credentials (read-only view; register through
    /// [`Emulator::register_credential`]).
    pub fn credentials(&self) -> &Credentials {
        self.instance.credentials()
    }

    /// Fault rules; the twin of `/_imgemu/faults`.
    pub fn faults(&self) -> FaultsHandle<'_> {
        FaultsHandle {
            instance: &self.instance,
        }
    }

    /// Registers a credential, as `POST /_imgemu/credentials` does.
    pub fn register_credential(&self, cred: Credential) -> Result<(), String> {
        self.instance.register_credential(cred)
    }

    /// State export, replace and reset.
    pub fn state(&self) -> StateHandle<'_> {
        StateHandle {
            instance: &self.instance,
        }
    }

    /// Run-time settings.
    pub fn settings(&self) -> SettingsHandle<'_> {
        SettingsHandle {
            instance: &self.instance,
        }
    }

    /// Stops accepting, lets in-flight requests finish (within the grace period) and waits for the
    /// server task to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        // In-flight requests are done: the final snapshot holds everything they changed.
        self.instance.checkpoint();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        // Closing the listener here, synchronously, frees the port before drop returns.
        self.slot.lock().take();
    }
}

/// State operations of a running emulator; the twin of `/_imgemu/state` and `/_imgemu/reset`.
pub struct StateHandle<'a> {
    instance: &'a Instance,
}

impl StateHandle<'_> {
    /// The whole state as a state document.
    pub fn export(&self) -> Value {
        self.instance.export_state()
    }
    /// Replaces the whole state; nothing changes on error.
    pub fn replace(&self, doc: &Value) -> Result<(), StateError> {
        self.instance.replace_state(doc)
    }
    /// Empties state and journal; with `with_fixtures`, reloads the fixtures.
    pub fn reset(&self, with_fixtures: bool) -> Result<(), FixtureError> {
        self.instance.reset(with_fixtures)
    }
}

/// Fault rules of a running emulator; the twin of `/_imgemu/faults`.
pub struct FaultsHandle<'a> {
    instance: &'a Instance,
}

impl FaultsHandle<'_> {
    /// Adds a rule (validated against the vendors) and returns its id.
    pub fn add(&self, rule: FaultRule) -> Result<String, FaultError> {
        rule.validate(self.instance.registry())?;
        let views = self.instance.faults().add(vec![rule])?;
        Ok(views
            .first()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }
    /// Adds rules in their JSON form (one rule or an array), all or nothing.
    pub fn add_json(&self, doc: &Value) -> Result<Vec<Value>, FaultError> {
        let rules = parse_rules(doc, self.instance.registry())?;
        self.instance.faults().add(rules)
    }
    /// Every rule with its `matched` and `fired` counters.
    pub fn list(&self) -> Vec<Value> {
        self.instance.faults().list()
    }
    /// Removes a rule; false when there is none with this id.
    pub fn remove(&self, id: &str) -> bool {
        self.instance.faults().remove(id)
    }
    /// Removes every rule.
    pub fn clear(&self) {
        self.instance.faults().clear();
    }
}

/// Settings of a running emulator; the twin of `/_imgemu/settings`.
pub struct SettingsHandle<'a> {
    instance: &'a Instance,
}

impl SettingsHandle<'_> {
    /// The cross-vendor settings in force.
    pub fn get(&self) -> Settings {
        self.instance.settings().get()
    }
    /// Changes the auth mode.
    pub fn set_auth_mode(&self, mode: AuthMode) {
        self.instance.settings().update(|s| s.auth = mode);
    }
    /// Changes the transition policy for tasks read from now on.
    pub fn set_transition(&self, policy: TransitionPolicy) {
        self.instance.settings().update(|s| s.transition = policy);
    }
    /// Turns quotas on or off.
    pub fn set_quotas(&self, on: bool) {
        self.instance.settings().update(|s| s.quotas = on);
    }
    /// Every setting as the JSON document `GET /_imgemu/settings` returns.
    pub fn view(&self) -> Value {
        crate::control::settings::view(self.instance)
    }
    /// Applies a partial settings document, as `PUT /_imgemu/settings` does.
    pub fn apply(&self, doc: &Value) -> Result<(), String> {
        crate::control::settings::apply(self.instance, doc)
    }
}

/// An emulator running on its own runtime; dereferences to [`Emulator`]. Dropping it shuts the
/// server down gracefully and stops the runtime.
pub struct BlockingEmulator {
    emulator: Emulator,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Deref for BlockingEmulator {
    type Target = Emulator;
    fn deref(&self) -> &Emulator {
        &self.emulator
    }
}

impl Drop for BlockingEmulator {
    fn drop(&mut self) {
        let _ = self.emulator.shutdown_tx.send(true);
        if let (Some(runtime), Some(task)) = (self.runtime.take(), self.emulator.task.take()) {
            let _ = runtime.block_on(task);
            self.emulator.instance.checkpoint();
        }
    }
}
