//! The [`Vendor`] trait every emulated API implements, and the [`Registry`] of vendors.
//!
//! The pipeline, the control plane, the journal and (later) faults know vendors only through this
//! trait. A vendor owns its routing table, its auth verifier, its handlers, its error rendering and
//! the (de)serialisation of its part of the state document.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

use crate::auth::{AuthMode, Tenant};
use crate::clock::Clock;
use crate::credentials::{Credential, Credentials};
use crate::reply::Reply;
use crate::settings::Settings;
use crate::state::StateError;

/// A fully read request as vendors see it.
#[derive(Debug)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// The raw path of the request line (not percent-decoded).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Headers as received.
    pub headers: HeaderMap,
    /// The body, cut at the vendor's limit + 1 byte when it was longer.
    pub body: Bytes,
    /// The body was longer than [`Vendor::body_limit`].
    pub body_too_large: bool,
    /// The request id this request answers with.
    pub request_id: String,
    /// What the vendor derived from the request once, for its later steps to reuse.
    pub derived: Derived,
}

/// Vendor-private data derived once from a request and reused by the later pipeline steps: for
/// example Alibaba's decoded parameters, which classify, precheck, authenticate and handle all
/// need. Holds one value of one type.
#[derive(Default)]
pub struct Derived(std::sync::OnceLock<Box<dyn Any + Send + Sync>>);

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived(..)")
    }
}

impl Derived {
    /// The value `derive` computes, computed on the first call only. `None` if an earlier call
    /// stored a value of another type (a vendor should use one type).
    pub fn get_or_init<T: Any + Send + Sync>(&self, derive: impl FnOnce() -> T) -> Option<&T> {
        self.0.get_or_init(|| Box::new(derive())).downcast_ref()
    }
}

impl Request {
    /// The values of header `name` that are valid UTF-8 text.
    pub fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
    }

    /// How many times header `name` was sent (text or not): vendors refuse credentials sent twice.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers.get_all(name).iter().count()
    }

    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Path and query as received, for logs and the journal.
    pub fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{}", self.path, q),
            None => self.path.clone(),
        }
    }
}

/// What a vendor handler sees of the emulator besides the request.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The emulator clock.
    pub clock: &'a Clock,
    /// Registered and built-in credentials.
    pub credentials: &'a Credentials,
    /// The settings in force for this request.
    pub settings: Settings,
    /// A lifecycle fault for the task or job this request creates, if a rule fired one.
    pub lifecycle: Option<&'a crate::faults::Lifecycle>,
}

impl Ctx<'_> {
    /// The auth mode in force.
    pub fn auth_mode(&self) -> AuthMode {
        self.settings.auth
    }
}

/// The outcome of a vendor step, with the specific cause kept for the journal.
#[derive(Debug)]
pub struct Answer {
    /// What the client receives.
    pub reply: Reply,
    /// The cause of an error, or another note, for the journal (never sent on the wire).
    pub detail: Option<String>,
}

impl Answer {
    /// An answer without a journal note.
    pub fn plain(reply: Reply) -> Self {
        Answer {
            reply,
            detail: None,
        }
    }

    /// An answer with a journal note.
    pub fn noted(reply: Reply, detail: impl Into<String>) -> Self {
        Answer {
            reply,
            detail: Some(detail.into()),
        }
    }
}

/// A vendor's part of the state document, validated and ready to install.
pub type PreparedState = Box<dyn Any + Send>;

/// One emulated cloud API.
///
/// Calls happen in pipeline order: [`owns_path`](Vendor::owns_path) and
/// [`request_id`](Vendor::request_id) on the request head, then the body is read up to
/// 4 × [`body_limit`](Vendor::body_limit), then [`classify`](Vendor::classify),
/// [`precheck`](Vendor::precheck), [`authenticate`](Vendor::authenticate) and
/// [`handle`](Vendor::handle). Any step may answer instead of going on.
pub trait Vendor: Send + Sync + 'static {
    /// Short lowercase name: `jd`, `aliyun`, `huawei`, `aries`. Also the state document member.
    fn name(&self) -> &'static str;

    /// Whether this vendor serves `path` (usually a prefix test). The first vendor that claims a
    /// path gets the request.
    fn owns_path(&self, path: &str) -> bool;

    /// Request id header name and value for a request with these headers.
    fn request_id(&self, headers: &HeaderMap) -> (http::HeaderName, String);

    /// Largest body accepted, bytes; the pipeline reads and discards up to 4× this before giving up.
    fn body_limit(&self) -> usize;

    /// The operation name (journal, fault rules) or the vendor's "no such route" answer. `ctx` is
    /// there for answers that report per-tenant state (JD's `remainTimes`).
    fn classify(&self, req: &Request, ctx: &Ctx<'_>) -> Result<&'static str, Reply>;

    /// Checks before authentication (e.g. body size for vendors whose gateway checks it first).
    fn precheck(
        &self,
        _operation: &'static str,
        _req: &Request,
        _ctx: &Ctx<'_>,
    ) -> Result<(), Answer> {
        Ok(())
    }

    /// Verifies credentials according to the auth mode and returns the tenant.
    fn authenticate(
        &self,
        operation: &'static str,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<Tenant, Answer>;

    /// Runs the operation for the tenant.
    fn handle(
        &self,
        operation: &'static str,
        tenant: &Tenant,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Answer;

    /// Every operation name [`classify`](Vendor::classify) can return.
    fn operations(&self) -> &'static [&'static str];

    /// Every error code name a fault rule may name for this vendor.
    fn error_codes(&self) -> &'static [&'static str];

    /// Renders error `code` natively as a response to `req`, or `None` for an unknown code.
    ///
    /// `status` is the status a fault rule asked for, if any: the caller sets it on the reply
    /// anyway, and a vendor whose error text depends on the status (Huawei's `APIGW.0201`: 502
    /// "Backend unavailable.", 504 "Backend timeout.") picks its text from it.
    fn render_error(
        &self,
        code: &str,
        status: Option<StatusCode>,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Option<Reply>;

    /// The development credentials registered by default.
    fn builtin_credentials(&self) -> Vec<Credential>;

    /// Checks that a credential registered for this vendor has a shape it can use.
    fn check_credential(&self, cred: &Credential) -> Result<(), String>;

    /// This vendor's member of the state document.
    fn export_state(&self) -> serde_json::Value;

    /// Validates this vendor's member of a state document (`None` = absent = empty) without
    /// changing anything. Errors carry a JSON path relative to the member.
    fn prepare_state(
        &self,
        member: Option<&serde_json::Value>,
    ) -> Result<PreparedState, StateError>;

    /// [`prepare_state`](Vendor::prepare_state) from the member's JSON text (fixture files). The
    /// default parses it and calls `prepare_state`; a vendor whose state can be large reads the
    /// text directly instead of building a [`Value`](serde_json::Value) tree first.
    fn prepare_state_text(
        &self,
        member: Option<&serde_json::value::RawValue>,
    ) -> Result<PreparedState, StateError> {
        let value = member
            .map(|m| crate::state::from_text::<serde_json::Value>(m.get()))
            .transpose()?;
        self.prepare_state(value.as_ref())
    }

    /// Installs a state prepared by [`prepare_state`](Vendor::prepare_state), replacing everything.
    fn install_state(&self, prepared: PreparedState);

    /// Whether `operation` may change stored state beyond counters. With `--state-dir`, the
    /// pipeline logs [`export_tenant`](Vendor::export_tenant) to disk after each such request
    /// and before answering it; other requests' changes (JD's quota count) ride along with the
    /// next logged change or snapshot.
    fn mutates(&self, operation: &str) -> bool;

    /// What a request of `tenant` may have changed, shaped like this vendor's state-document
    /// member: top-level members replace the member's, and each tenant under `tenants` replaces
    /// that tenant whole. The default is the whole member, for vendors whose state is not split
    /// by tenant.
    fn export_tenant(&self, _tenant: &str) -> serde_json::Value {
        self.export_state()
    }

    /// The error code [`render_error`](Vendor::render_error) renders as this vendor's internal
    /// server error (used when a change cannot be made durable).
    fn internal_error_code(&self) -> &'static str;

    /// This vendor's async tasks or jobs, as shown by `GET /_imgemu/tasks`.
    fn tasks(&self, _ctx: &Ctx<'_>) -> Vec<serde_json::Value> {
        Vec::new()
    }

    /// Forces task `id` to an outcome: `None` when this vendor has no such task.
    fn force_task(
        &self,
        _id: &str,
        _outcome: &ForcedOutcome,
        _ctx: &Ctx<'_>,
    ) -> Option<Result<serde_json::Value, String>> {
        None
    }

    /// This vendor's run-time switches (`[<vendor>]` in the config file), with current values.
    fn switches(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// Sets one switch; the error names the accepted values.
    fn set_switch(&self, key: &str, _value: &serde_json::Value) -> Result<(), String> {
        Err(format!("unknown setting {}.{key}", self.name()))
    }

    /// Answers `/_imgemu/<vendor>/<rest>` control routes (e.g. Alibaba instances); `None` = no route.
    fn control(
        &self,
        _method: &Method,
        _rest: &str,
        _body: &[u8],
        _ctx: &Ctx<'_>,
    ) -> Option<Reply> {
        None
    }
}

/// An outcome forced on a task through the control plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForcedOutcome {
    /// Finish successfully now.
    Finish,
    /// Fail now, with the vendor's default message when `None`.
    Fail(Option<String>),
}

/// The vendors of one emulator instance, in routing order.
#[derive(Clone)]
pub struct Registry {
    vendors: Vec<Arc<dyn Vendor>>,
}

impl Registry {
    /// A registry with every emulated vendor, each with fresh state.
    pub fn standard(seed: u64) -> Self {
        Registry {
            vendors: vec![
                Arc::new(crate::vendors::jd::Jd::new()),
                Arc::new(crate::vendors::aliyun::Aliyun::new()),
                Arc::new(crate::vendors::huawei::Huawei::new()),
                Arc::new(crate::vendors::aries::Aries::new(seed)),
            ],
        }
    }

    /// The vendor serving `path`, if any.
    pub fn for_path(&self, path: &str) -> Option<&Arc<dyn Vendor>> {
        self.vendors.iter().find(|v| v.owns_path(path))
    }

    /// The vendor called `name`, if any.
    pub fn by_name(&self, name: &str) -> Option<&Arc<dyn Vendor>> {
        self.vendors.iter().find(|v| v.name() == name)
    }

    /// Every vendor, in routing order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Vendor>> {
        self.vendors.iter()
    }

    /// Vendor names, in routing order.
    pub fn names(&self) -> Vec<&'static str> {
        self.vendors.iter().map(|v| v.name()).collect()
    }
}
