//! Fault rules: what a rule is (match + trigger + action, plus an optional latency), how it is
//! read from and written to JSON, and a builder for in-process use.
//!
//! The JSON form is the control-plane contract (DESIGN §6):
//!
//! ```json
//! {"id":"r1",
//!  "match":  {"vendor":"aliyun","operation":"UpdateImage","tenant":"imgemu-dev-ak",
//!             "method":"POST","path_prefix":"/","header":{"name":"x-test","value":"1"},
//!             "param":{"name":"InstanceName","value":"demoinstance1"}},
//!  "trigger":{"probability":0.3,"first":2,"every":5,"after":10,"times":3},
//!  "action": {"kind":"error","code":"DeniedRequest"},
//!  "latency":{"fixed":"200ms"}}
//! ```
//!
//! Parsing is strict: unknown members are refused, every number is range-checked, and the names
//! that depend on a vendor (vendor, operation, error code) are checked against a [`Catalog`] the
//! caller provides. Every refusal is a [`FaultError`] carrying a JSON path (`$[1].action.code`)
//! and a message that names the valid values. A member whose value is `null` counts as absent.
//! Durations use the project grammar (`250ms`, `90s`, `5m`; plain JSON integers are
//! milliseconds) and must be whole milliseconds; delays are capped at [`MAX_DELAY`].
//!
//! Rules built in Rust go through the same checks: [`FaultRule::validate`] with a catalog, and
//! the engine re-checks everything that needs no catalog when rules are added.
//!
//! ```
//! use imgemu::faults::rule::{Action, FaultRule, Latency};
//! use std::time::Duration;
//!
//! let rule = FaultRule::new()
//!     .vendor("aliyun")
//!     .operation("UpdateImage")
//!     .first(2)
//!     .error("DeniedRequest")
//!     .with_latency(Latency::Fixed(Duration::from_millis(200)));
//! assert_eq!(
//!     rule.to_json(),
//!     serde_json::json!({
//!         "match": {"vendor": "aliyun", "operation": "UpdateImage"},
//!         "trigger": {"first": 2},
//!         "action": {"kind": "error", "code": "DeniedRequest"},
//!         "latency": {"fixed": "200ms"}
//!     })
//! );
//! ```

use std::time::Duration;

use serde_json::{Map, Value};

use crate::duration;

/// The longest delay a rule may ask for: latencies, `hang.max` and `dribble.over` (10 minutes).
pub const MAX_DELAY: Duration = Duration::from_secs(600);
/// The longest rule id accepted, in bytes.
pub const MAX_ID_LEN: usize = 128;
/// `truncate.fraction` when absent: half the body is sent.
pub const DEFAULT_TRUNCATE_FRACTION: f64 = 0.5;
/// `garbage.bytes` when absent.
pub const DEFAULT_GARBAGE_BYTES: usize = 64;
/// The largest `garbage.bytes` accepted.
pub const MAX_GARBAGE_BYTES: usize = 65_536;
/// `dribble.chunks` when absent.
pub const DEFAULT_DRIBBLE_CHUNKS: u32 = 5;
/// The largest `dribble.chunks` accepted.
pub const MAX_DRIBBLE_CHUNKS: u32 = 1000;

/// Every action `kind`, in documentation order.
pub const ACTION_KINDS: &[&str] = &[
    "error",
    "http",
    "latency",
    "reset",
    "close",
    "empty",
    "hang",
    "truncate",
    "garbage",
    "dribble",
    "task_fail",
    "task_stuck",
];

const RULE_MEMBERS: &[&str] = &["id", "match", "trigger", "action", "latency"];
const MATCH_MEMBERS: &[&str] = &[
    "vendor",
    "operation",
    "tenant",
    "method",
    "path_prefix",
    "header",
    "param",
];
const PAIR_MEMBERS: &[&str] = &["name", "value"];
const TRIGGER_MEMBERS: &[&str] = &["probability", "first", "every", "after", "times"];
const LATENCY_MODELS: &[&str] = &["fixed", "uniform", "lognormal"];
const LOGNORMAL_MEMBERS: &[&str] = &["median", "sigma", "max"];

type Res<T> = Result<T, FaultError>;

/// A refused rule: where (a JSON path such as `$[1].action.code`) and why (naming the valid
/// values).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FaultError {
    /// JSON path of the offending member: `$` is the request body, `$[1]` its second rule.
    pub path: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl FaultError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// What the validation of vendor-specific names needs to know about the served vendors.
pub trait Catalog {
    /// The vendor names (`jd`, `aliyun`, …).
    fn vendors(&self) -> Vec<&'static str>;
    /// The operation names of `vendor`, or `None` for an unknown vendor.
    fn operations(&self, vendor: &str) -> Option<&'static [&'static str]>;
    /// The error code names of `vendor` that an `error` action may use, or `None` for an
    /// unknown vendor.
    fn error_codes(&self, vendor: &str) -> Option<&'static [&'static str]>;
}

/// Which requests a rule considers. Every member that is set must hold; an empty match takes
/// every request of any vendor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// Vendor name, exact (`aliyun`).
    pub vendor: Option<String>,
    /// Operation name, exact (`UpdateImage`); only checkable against the catalog with a vendor.
    pub operation: Option<String>,
    /// Tenant (access key, project id or user), exact.
    pub tenant: Option<String>,
    /// HTTP method, compared case-insensitively.
    pub method: Option<String>,
    /// The request path starts with this.
    pub path_prefix: Option<String>,
    /// `(name, value)`: the first value of header `name` (case-insensitive) equals `value`.
    pub header: Option<(String, String)>,
    /// `(name, value)`: the request has a parameter with exactly this name and value.
    pub param: Option<(String, String)>,
}

/// When a matching request makes a rule fire. Every member that is set must hold (AND); an
/// empty trigger fires on every matching request. `m` counts the rule's matching requests from 1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trigger {
    /// Fires with this probability (0..=1), drawn from the rule's own RNG on every matching
    /// request.
    pub probability: Option<f64>,
    /// Only the first N matching requests (`m <= N`, N ≥ 1).
    pub first: Option<u64>,
    /// Every Nth matching request (`m % N == 0`, N ≥ 1).
    pub every: Option<u64>,
    /// Only after the first N matching requests (`m > N`, N ≥ 0).
    pub after: Option<u64>,
    /// At most N firings (N ≥ 1).
    pub times: Option<u64>,
}

/// When a connection-level action strikes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Apply {
    /// Drop the request before the vendor handler runs (no state change).
    #[default]
    Before,
    /// Run the vendor handler, then lose its response ("did my write happen?").
    After,
}

impl Apply {
    /// The JSON spelling: `before` or `after`.
    pub fn as_str(self) -> &'static str {
        match self {
            Apply::Before => "before",
            Apply::After => "after",
        }
    }
}

/// A delay model.
#[derive(Debug, Clone, PartialEq)]
pub enum Latency {
    /// Always this delay.
    Fixed(Duration),
    /// Uniform between the two bounds (min, max), inclusive.
    Uniform(Duration, Duration),
    /// `median · exp(sigma · z)` with `z ~ N(0, 1)`, capped at `max`.
    Lognormal {
        /// The median delay.
        median: Duration,
        /// The spread (≥ 0; 0 gives the median every time).
        sigma: f64,
        /// The cap.
        max: Duration,
    },
}

/// What a firing rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A vendor error by code name, rendered natively; the vendor handler does not run.
    Error {
        /// The vendor's code name (`DeniedRequest`).
        code: String,
        /// Overrides the status the vendor gives for this code (100..=599).
        status: Option<u16>,
    },
    /// A raw HTTP answer; the vendor handler does not run.
    Http {
        /// Status code (100..=599).
        status: u16,
        /// Extra response headers.
        headers: Vec<(String, String)>,
        /// Response body.
        body: String,
    },
    /// The request is handled normally but its response is delayed.
    Latency(Latency),
    /// TCP reset, no response.
    Reset(Apply),
    /// Orderly close (FIN), no response.
    Close(Apply),
    /// Close without sending a single byte of response.
    Empty(Apply),
    /// Hold the connection for `max`, then close.
    Hang {
        /// How long to hold (≤ [`MAX_DELAY`]).
        max: Duration,
        /// Before or after the vendor handler.
        apply: Apply,
    },
    /// Headers with the full `Content-Length`, then this fraction of the body, then close.
    Truncate {
        /// Fraction of the body sent, strictly between 0 and 1.
        fraction: f64,
    },
    /// Random bytes, then close.
    Garbage {
        /// How many bytes (1..=[`MAX_GARBAGE_BYTES`]).
        bytes: usize,
    },
    /// The response in `chunks` pieces spread over `over`.
    Dribble {
        /// Number of pieces (1..=[`MAX_DRIBBLE_CHUNKS`]).
        chunks: u32,
        /// Total time (≤ [`MAX_DELAY`]).
        over: Duration,
    },
    /// The task or job this request creates fails.
    TaskFail {
        /// The failure message; the vendor spec gives the default.
        message: Option<String>,
    },
    /// The task or job this request creates never finishes unless forced.
    TaskStuck,
}

impl Action {
    /// The JSON `kind` of this action.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Error { .. } => "error",
            Action::Http { .. } => "http",
            Action::Latency(_) => "latency",
            Action::Reset(_) => "reset",
            Action::Close(_) => "close",
            Action::Empty(_) => "empty",
            Action::Hang { .. } => "hang",
            Action::Truncate { .. } => "truncate",
            Action::Garbage { .. } => "garbage",
            Action::Dribble { .. } => "dribble",
            Action::TaskFail { .. } => "task_fail",
            Action::TaskStuck => "task_stuck",
        }
    }

    /// The JSON form, `{"kind":…, parameters…}`, with every parameter (defaults included).
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("kind".into(), self.kind().into());
        self.write_params(&mut out);
        Value::Object(out)
    }

    fn write_params(&self, out: &mut Map<String, Value>) {
        match self {
            Action::Error { code, status } => {
                out.insert("code".into(), code.as_str().into());
                if let Some(status) = status {
                    out.insert("status".into(), (*status).into());
                }
            }
            Action::Http {
                status,
                headers,
                body,
            } => {
                out.insert("status".into(), (*status).into());
                let headers: Map<String, Value> = headers
                    .iter()
                    .map(|(n, v)| (n.clone(), Value::from(v.as_str())))
                    .collect();
                out.insert("headers".into(), Value::Object(headers));
                out.insert("body".into(), body.as_str().into());
            }
            Action::Latency(latency) => latency.write_json(out),
            Action::Reset(apply) | Action::Close(apply) | Action::Empty(apply) => {
                out.insert("apply".into(), apply.as_str().into());
            }
            Action::Hang { max, apply } => {
                out.insert("max".into(), duration::format(*max).into());
                out.insert("apply".into(), apply.as_str().into());
            }
            Action::Truncate { fraction } => {
                out.insert("fraction".into(), (*fraction).into());
            }
            Action::Garbage { bytes } => {
                out.insert("bytes".into(), (*bytes).into());
            }
            Action::Dribble { chunks, over } => {
                out.insert("chunks".into(), (*chunks).into());
                out.insert("over".into(), duration::format(*over).into());
            }
            Action::TaskFail { message } => {
                if let Some(message) = message {
                    out.insert("message".into(), message.as_str().into());
                }
            }
            Action::TaskStuck => {}
        }
    }
}

impl Latency {
    /// The JSON form: `{"fixed":"200ms"}`, `{"uniform":["50ms","150ms"]}` or
    /// `{"lognormal":{"median":"80ms","sigma":0.4,"max":"1s"}}`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        self.write_json(&mut out);
        Value::Object(out)
    }

    fn write_json(&self, out: &mut Map<String, Value>) {
        let dur = |d: &Duration| Value::from(duration::format(*d));
        let (name, value) = match self {
            Latency::Fixed(d) => ("fixed", dur(d)),
            Latency::Uniform(lo, hi) => ("uniform", Value::Array(vec![dur(lo), dur(hi)])),
            Latency::Lognormal { median, sigma, max } => {
                let mut m = Map::new();
                m.insert("median".into(), dur(median));
                m.insert("sigma".into(), (*sigma).into());
                m.insert("max".into(), dur(max));
                ("lognormal", Value::Object(m))
            }
        };
        out.insert(name.into(), value);
    }
}

impl Match {
    /// Whether no member is set (the match takes every request).
    pub fn is_empty(&self) -> bool {
        *self == Match::default()
    }

    /// The JSON form, with the members that are set.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        let strings = [
            ("vendor", &self.vendor),
            ("operation", &self.operation),
            ("tenant", &self.tenant),
            ("method", &self.method),
            ("path_prefix", &self.path_prefix),
        ];
        for (name, value) in strings {
            if let Some(value) = value {
                out.insert(name.into(), value.as_str().into());
            }
        }
        for (name, pair) in [("header", &self.header), ("param", &self.param)] {
            if let Some((n, v)) = pair {
                out.insert(name.into(), serde_json::json!({"name": n, "value": v}));
            }
        }
        Value::Object(out)
    }
}

impl Trigger {
    /// Whether no member is set (the trigger fires on every matching request).
    pub fn is_empty(&self) -> bool {
        *self == Trigger::default()
    }

    /// The JSON form, with the members that are set.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(p) = self.probability {
            out.insert("probability".into(), p.into());
        }
        let counts = [
            ("first", self.first),
            ("every", self.every),
            ("after", self.after),
            ("times", self.times),
        ];
        for (name, value) in counts {
            if let Some(n) = value {
                out.insert(name.into(), n.into());
            }
        }
        Value::Object(out)
    }
}

/// One fault rule: which requests it considers ([`Match`]), when it fires ([`Trigger`]), what
/// it does ([`Action`]) and an optional extra delay.
///
/// Build one with [`FaultRule::new`] and the chained setters, or read rules from JSON with
/// [`parse_rules`]. A rule without an action (a builder left unfinished) is refused by
/// [`FaultRule::validate`] and by the engine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultRule {
    /// The rule id; the engine generates `r1`, `r2`, … when absent.
    pub id: Option<String>,
    /// Which requests the rule considers.
    pub matcher: Match,
    /// When a matching request makes it fire.
    pub trigger: Trigger,
    /// What it does; required (`None` only while building).
    pub action: Option<Action>,
    /// A delay added to the action (summed with a `latency` action's own delay).
    pub latency: Option<Latency>,
}

impl FaultRule {
    /// An empty rule: matches every request, always fires, no action yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Matches this vendor only.
    pub fn vendor(mut self, vendor: impl Into<String>) -> Self {
        self.matcher.vendor = Some(vendor.into());
        self
    }

    /// Matches this operation only.
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.matcher.operation = Some(operation.into());
        self
    }

    /// Matches this tenant only.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.matcher.tenant = Some(tenant.into());
        self
    }

    /// Matches this HTTP method only (case-insensitive).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.matcher.method = Some(method.into());
        self
    }

    /// Matches paths starting with `prefix` only.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.matcher.path_prefix = Some(prefix.into());
        self
    }

    /// Matches requests whose first `name` header equals `value`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.matcher.header = Some((name.into(), value.into()));
        self
    }

    /// Matches requests carrying parameter `name` = `value`.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.matcher.param = Some((name.into(), value.into()));
        self
    }

    /// Fires with probability `p` (0..=1).
    pub fn probability(mut self, p: f64) -> Self {
        self.trigger.probability = Some(p);
        self
    }

    /// Fires on the first `n` matching requests only.
    pub fn first(mut self, n: u64) -> Self {
        self.trigger.first = Some(n);
        self
    }

    /// Fires on every `n`th matching request only.
    pub fn every(mut self, n: u64) -> Self {
        self.trigger.every = Some(n);
        self
    }

    /// Fires only after `n` matching requests.
    pub fn after(mut self, n: u64) -> Self {
        self.trigger.after = Some(n);
        self
    }

    /// Fires at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.trigger.times = Some(n);
        self
    }

    /// Answers with the vendor error `code` (needs [`vendor`](Self::vendor)).
    pub fn error(self, code: impl Into<String>) -> Self {
        self.action(Action::Error {
            code: code.into(),
            status: None,
        })
    }

    /// Answers with the vendor error `code`, with `status` instead of the vendor's.
    pub fn error_with_status(self, code: impl Into<String>, status: u16) -> Self {
        self.action(Action::Error {
            code: code.into(),
            status: Some(status),
        })
    }

    /// Sets the action.
    pub fn action(mut self, action: Action) -> Self {
        self.action = Some(action);
        self
    }

    /// Delays the action by `latency` (summed with a `latency` action's own delay).
    pub fn with_latency(mut self, latency: Latency) -> Self {
        self.latency = Some(latency);
        self
    }

    /// The JSON form: the input shape with every member that is set, the action with all its
    /// parameters (defaults included), durations in the grammar.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(id) = &self.id {
            out.insert("id".into(), id.as_str().into());
        }
        if !self.matcher.is_empty() {
            out.insert("match".into(), self.matcher.to_json());
        }
        if !self.trigger.is_empty() {
            out.insert("trigger".into(), self.trigger.to_json());
        }
        if let Some(action) = &self.action {
            out.insert("action".into(), action.to_json());
        }
        if let Some(latency) = &self.latency {
            out.insert("latency".into(), latency.to_json());
        }
        Value::Object(out)
    }

    /// Checks a rule built in Rust exactly as [`parse_rules`] checks a parsed one; paths are
    /// rooted at `$`.
    pub fn validate(&self, catalog: &dyn Catalog) -> Result<(), FaultError> {
        self.validate_at("$", catalog)
    }

    /// [`validate`](Self::validate) with paths rooted at `base` (`$[3]`).
    pub fn validate_at(&self, base: &str, catalog: &dyn Catalog) -> Result<(), FaultError> {
        self.check_shape_at(base)?;
        self.check_catalog(base, catalog)
    }

    /// The checks that need no catalog: id, numbers, durations, header syntax, an action
    /// present. The engine runs these on every rule it stores.
    pub fn check_shape_at(&self, base: &str) -> Result<(), FaultError> {
        if let Some(id) = &self.id {
            check_id(id, &member(base, "id"))?;
        }
        check_match(&self.matcher, &member(base, "match"))?;
        check_trigger(&self.trigger, &member(base, "trigger"))?;
        let action = self
            .action
            .as_ref()
            .ok_or_else(|| FaultError::new(member(base, "action"), "a rule needs an action"))?;
        check_action(action, &member(base, "action"))?;
        match &self.latency {
            Some(latency) => check_latency(latency, &member(base, "latency")),
            None => Ok(()),
        }
    }

    fn check_catalog(&self, base: &str, catalog: &dyn Catalog) -> Res<()> {
        let vendor_path = member(&member(base, "match"), "vendor");
        if let Some(vendor) = &self.matcher.vendor {
            check_vendor(vendor, &vendor_path, catalog)?;
            if let Some(operation) = &self.matcher.operation {
                let path = member(&member(base, "match"), "operation");
                check_operation(vendor, operation, &path, catalog)?;
            }
        }
        let Some(Action::Error { code, .. }) = &self.action else {
            return Ok(());
        };
        let Some(vendor) = &self.matcher.vendor else {
            return Err(FaultError::new(
                vendor_path,
                format!(
                    "required by an \"error\" action; valid vendors: {}",
                    list(&catalog.vendors())
                ),
            ));
        };
        check_code(
            vendor,
            code,
            &member(&member(base, "action"), "code"),
            catalog,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Catalog checks

fn check_vendor(vendor: &str, path: &str, catalog: &dyn Catalog) -> Res<()> {
    let vendors = catalog.vendors();
    if vendors.contains(&vendor) {
        return Ok(());
    }
    Err(FaultError::new(
        path,
        format!(
            "unknown vendor {}; valid vendors: {}",
            quote(vendor),
            list(&vendors)
        ),
    ))
}

fn check_operation(vendor: &str, operation: &str, path: &str, catalog: &dyn Catalog) -> Res<()> {
    let operations = catalog.operations(vendor).unwrap_or_default();
    if operations.contains(&operation) {
        return Ok(());
    }
    Err(FaultError::new(
        path,
        format!(
            "unknown operation {} for vendor {vendor}; valid operations: {}",
            quote(operation),
            list(operations)
        ),
    ))
}

fn check_code(vendor: &str, code: &str, path: &str, catalog: &dyn Catalog) -> Res<()> {
    let codes = catalog.error_codes(vendor).unwrap_or_default();
    if codes.contains(&code) {
        return Ok(());
    }
    Err(FaultError::new(
        path,
        format!(
            "unknown error code {} for vendor {vendor}; valid codes: {}",
            quote(code),
            list(codes)
        ),
    ))
}

// ---------------------------------------------------------------------------------------------
// Shape checks (no catalog)

fn check_id(id: &str, path: &str) -> Res<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if !id.is_empty() && id.len() <= MAX_ID_LEN && id.chars().all(ok_char) {
        return Ok(());
    }
    Err(FaultError::new(
        path,
        format!(
            "invalid id {}: expected 1 to {MAX_ID_LEN} characters among letters, digits, '-', '_', '.' and ':'",
            quote(id)
        ),
    ))
}

fn check_match(m: &Match, base: &str) -> Res<()> {
    if let Some(method) = &m.method {
        if method.is_empty() || http::Method::from_bytes(method.as_bytes()).is_err() {
            return Err(FaultError::new(
                member(base, "method"),
                format!("invalid HTTP method {}", quote(method)),
            ));
        }
    }
    if let Some((name, _)) = &m.header {
        check_header_name(name, &member(&member(base, "header"), "name"))?;
    }
    Ok(())
}

fn check_header_name(name: &str, path: &str) -> Res<()> {
    match http::HeaderName::from_bytes(name.as_bytes()) {
        Ok(_) => Ok(()),
        Err(_) => Err(FaultError::new(
            path,
            format!("invalid header name {}", quote(name)),
        )),
    }
}

fn check_trigger(t: &Trigger, base: &str) -> Res<()> {
    if let Some(p) = t.probability {
        if !(0.0..=1.0).contains(&p) {
            return Err(FaultError::new(
                member(base, "probability"),
                format!("expected a number from 0 to 1, found {}", Value::from(p)),
            ));
        }
    }
    let counts = [
        ("first", t.first, 1),
        ("every", t.every, 1),
        ("after", t.after, 0),
        ("times", t.times, 1),
    ];
    for (name, value, min) in counts {
        if let Some(n) = value {
            check_int(n, min, u64::MAX, &member(base, name))?;
        }
    }
    Ok(())
}

fn check_action(action: &Action, base: &str) -> Res<()> {
    match action {
        Action::Error { status, .. } => match status {
            Some(s) => check_status(*s, &member(base, "status")),
            None => Ok(()),
        },
        Action::Http {
            status, headers, ..
        } => {
            check_status(*status, &member(base, "status"))?;
            check_headers(headers, &member(base, "headers"))
        }
        Action::Latency(latency) => check_latency(latency, base),
        Action::Hang { max, .. } => check_delay(*max, &member(base, "max")),
        Action::Truncate { fraction } => check_fraction(*fraction, &member(base, "fraction")),
        Action::Garbage { bytes } => check_int(
            u64::try_from(*bytes).unwrap_or(u64::MAX),
            1,
            MAX_GARBAGE_BYTES as u64,
            &member(base, "bytes"),
        ),
        Action::Dribble { chunks, over } => {
            check_int(
                u64::from(*chunks),
                1,
                u64::from(MAX_DRIBBLE_CHUNKS),
                &member(base, "chunks"),
            )?;
            check_delay(*over, &member(base, "over"))
        }
        Action::Reset(_)
        | Action::Close(_)
        | Action::Empty(_)
        | Action::TaskFail { .. }
        | Action::TaskStuck => Ok(()),
    }
}

fn check_status(status: u16, path: &str) -> Res<()> {
    check_int(u64::from(status), 100, 599, path)
}

fn check_headers(headers: &[(String, String)], base: &str) -> Res<()> {
    for (name, value) in headers {
        let path = member(base, name);
        check_header_name(name, &path)?;
        if http::HeaderValue::from_str(value).is_err() {
            return Err(FaultError::new(
                path,
                format!("invalid header value {}", quote(value)),
            ));
        }
    }
    Ok(())
}

fn check_fraction(fraction: f64, path: &str) -> Res<()> {
    if fraction > 0.0 && fraction < 1.0 {
        return Ok(());
    }
    Err(FaultError::new(
        path,
        format!(
            "expected a number strictly between 0 and 1, found {}",
            Value::from(fraction)
        ),
    ))
}

/// Checks a latency model whose members (`fixed`, …) sit in the object at `base` (the rule's
/// `latency` member, or a `latency` action).
fn check_latency(latency: &Latency, base: &str) -> Res<()> {
    match latency {
        Latency::Fixed(d) => check_delay(*d, &member(base, "fixed")),
        Latency::Uniform(lo, hi) => {
            let path = member(base, "uniform");
            check_delay(*lo, &format!("{path}[0]"))?;
            check_delay(*hi, &format!("{path}[1]"))?;
            if lo > hi {
                return Err(FaultError::new(
                    path,
                    format!(
                        "min {} is greater than max {}",
                        duration::format(*lo),
                        duration::format(*hi)
                    ),
                ));
            }
            Ok(())
        }
        Latency::Lognormal { median, sigma, max } => {
            check_lognormal(*median, *sigma, *max, &member(base, "lognormal"))
        }
    }
}

fn check_lognormal(median: Duration, sigma: f64, max: Duration, base: &str) -> Res<()> {
    check_delay(median, &member(base, "median"))?;
    check_delay(max, &member(base, "max"))?;
    if !(sigma.is_finite() && sigma >= 0.0) {
        return Err(FaultError::new(
            member(base, "sigma"),
            format!("expected a number ≥ 0, found {}", Value::from(sigma)),
        ));
    }
    if median > max {
        return Err(FaultError::new(
            member(base, "median"),
            format!(
                "median {} is greater than max {}",
                duration::format(median),
                duration::format(max)
            ),
        ));
    }
    Ok(())
}

fn check_delay(d: Duration, path: &str) -> Res<()> {
    if !d.subsec_nanos().is_multiple_of(1_000_000) {
        return Err(FaultError::new(
            path,
            format!("{d:?} is not a whole number of milliseconds"),
        ));
    }
    if d > MAX_DELAY {
        return Err(FaultError::new(
            path,
            format!(
                "{} is longer than the maximum {}",
                duration::format(d),
                duration::format(MAX_DELAY)
            ),
        ));
    }
    Ok(())
}

fn check_int(n: u64, min: u64, max: u64, path: &str) -> Res<()> {
    if (min..=max).contains(&n) {
        return Ok(());
    }
    Err(FaultError::new(
        path,
        format!("expected {}, found {n}", int_range(min, max)),
    ))
}

fn int_range(min: u64, max: u64) -> String {
    if max == u64::MAX {
        format!("an integer ≥ {min}")
    } else {
        format!("an integer from {min} to {max}")
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Reads a batch of rules: one rule object (paths rooted at `$`) or an array of them (`$[i]`).
/// All or nothing: the first invalid rule refuses the whole batch. Ids are checked for syntax
/// and for duplicates within the batch; the engine checks them against the stored rules and
/// generates the missing ones.
pub fn parse_rules(value: &Value, catalog: &dyn Catalog) -> Result<Vec<FaultRule>, FaultError> {
    let rules = match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_rule_at(item, &format!("$[{i}]"), catalog))
            .collect::<Res<Vec<_>>>()?,
        Value::Object(_) => vec![parse_rule_at(value, "$", catalog)?],
        other => {
            return Err(FaultError::new(
                "$",
                format!(
                    "expected a rule object or an array of rules, found {}",
                    type_name(other)
                ),
            ))
        }
    };
    check_batch_ids(&rules)?;
    Ok(rules)
}

/// The root path of rule `index` in a batch of `len` rules: `$` for a lone rule, else `$[i]`.
pub fn batch_path(index: usize, len: usize) -> String {
    if len == 1 {
        "$".to_string()
    } else {
        format!("$[{index}]")
    }
}

fn check_batch_ids(rules: &[FaultRule]) -> Res<()> {
    for (i, rule) in rules.iter().enumerate() {
        let Some(id) = &rule.id else { continue };
        let earlier = rules[..i].iter().position(|r| r.id.as_ref() == Some(id));
        if let Some(j) = earlier {
            return Err(FaultError::new(
                member(&batch_path(i, rules.len()), "id"),
                format!(
                    "duplicate id {}: also the id of {}",
                    quote(id),
                    batch_path(j, rules.len())
                ),
            ));
        }
    }
    Ok(())
}

fn parse_rule_at(value: &Value, base: &str, catalog: &dyn Catalog) -> Res<FaultRule> {
    let obj = Obj::new(value, base, RULE_MEMBERS)?;
    let rule = FaultRule {
        id: obj.opt("id", string)?,
        matcher: obj.opt("match", parse_match)?.unwrap_or_default(),
        trigger: obj.opt("trigger", parse_trigger)?.unwrap_or_default(),
        action: Some(obj.req("action", parse_action)?),
        latency: obj.opt("latency", parse_latency_member)?,
    };
    rule.validate_at(base, catalog)?;
    Ok(rule)
}

fn parse_match(value: &Value, path: &str) -> Res<Match> {
    let obj = Obj::new(value, path, MATCH_MEMBERS)?;
    Ok(Match {
        vendor: obj.opt("vendor", string)?,
        operation: obj.opt("operation", string)?,
        tenant: obj.opt("tenant", string)?,
        method: obj.opt("method", string)?,
        path_prefix: obj.opt("path_prefix", string)?,
        header: obj.opt("header", pair)?,
        param: obj.opt("param", pair)?,
    })
}

fn pair(value: &Value, path: &str) -> Res<(String, String)> {
    let obj = Obj::new(value, path, PAIR_MEMBERS)?;
    Ok((obj.req("name", string)?, obj.req("value", string)?))
}

fn parse_trigger(value: &Value, path: &str) -> Res<Trigger> {
    let obj = Obj::new(value, path, TRIGGER_MEMBERS)?;
    Ok(Trigger {
        probability: obj.opt("probability", number)?,
        first: obj.opt("first", integer)?,
        every: obj.opt("every", integer)?,
        after: obj.opt("after", integer)?,
        times: obj.opt("times", integer)?,
    })
}

fn parse_action(value: &Value, path: &str) -> Res<Action> {
    let kind = action_kind(value, path)?;
    let obj = Obj::new(value, path, action_members(kind))?;
    match kind {
        "error" => Ok(Action::Error {
            code: obj.req("code", string)?,
            status: obj.opt("status", status)?,
        }),
        "http" => Ok(Action::Http {
            status: obj.req("status", status)?,
            headers: obj.opt("headers", headers)?.unwrap_or_default(),
            body: obj.opt("body", string)?.unwrap_or_default(),
        }),
        "latency" => Ok(Action::Latency(latency_model(&obj)?)),
        "reset" => Ok(Action::Reset(obj.opt("apply", apply)?.unwrap_or_default())),
        "close" => Ok(Action::Close(obj.opt("apply", apply)?.unwrap_or_default())),
        "empty" => Ok(Action::Empty(obj.opt("apply", apply)?.unwrap_or_default())),
        "hang" => Ok(Action::Hang {
            max: obj.req("max", delay)?,
            apply: obj.opt("apply", apply)?.unwrap_or_default(),
        }),
        "truncate" => Ok(Action::Truncate {
            fraction: obj
                .opt("fraction", number)?
                .unwrap_or(DEFAULT_TRUNCATE_FRACTION),
        }),
        "garbage" => Ok(Action::Garbage {
            bytes: obj
                .opt("bytes", garbage_bytes)?
                .unwrap_or(DEFAULT_GARBAGE_BYTES),
        }),
        "dribble" => Ok(Action::Dribble {
            chunks: obj.opt("chunks", chunks)?.unwrap_or(DEFAULT_DRIBBLE_CHUNKS),
            over: obj.req("over", delay)?,
        }),
        "task_fail" => Ok(Action::TaskFail {
            message: obj.opt("message", string)?,
        }),
        _ => Ok(Action::TaskStuck),
    }
}

/// The `kind` of an action object, one of [`ACTION_KINDS`].
fn action_kind(value: &Value, path: &str) -> Res<&'static str> {
    let obj = value
        .as_object()
        .ok_or_else(|| expected(path, "an object", value))?;
    let kind_path = member(path, "kind");
    let kind = match obj.get("kind") {
        None | Some(Value::Null) => {
            return Err(FaultError::new(
                kind_path,
                format!(
                    "required member is missing; valid kinds: {}",
                    list(ACTION_KINDS)
                ),
            ))
        }
        Some(v) => v
            .as_str()
            .ok_or_else(|| expected(&kind_path, "a string", v))?,
    };
    ACTION_KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
        .ok_or_else(|| {
            FaultError::new(
                kind_path,
                format!(
                    "unknown action kind {}; valid kinds: {}",
                    quote(kind),
                    list(ACTION_KINDS)
                ),
            )
        })
}

fn action_members(kind: &str) -> &'static [&'static str] {
    match kind {
        "error" => &["kind", "code", "status"],
        "http" => &["kind", "status", "headers", "body"],
        "latency" => &["kind", "fixed", "uniform", "lognormal"],
        "reset" | "close" | "empty" => &["kind", "apply"],
        "hang" => &["kind", "max", "apply"],
        "truncate" => &["kind", "fraction"],
        "garbage" => &["kind", "bytes"],
        "dribble" => &["kind", "chunks", "over"],
        "task_fail" => &["kind", "message"],
        _ => &["kind"],
    }
}

fn parse_latency_member(value: &Value, path: &str) -> Res<Latency> {
    latency_model(&Obj::new(value, path, LATENCY_MODELS)?)
}

/// Exactly one of `fixed`, `uniform`, `lognormal` among the members of `obj`.
fn latency_model(obj: &Obj<'_>) -> Res<Latency> {
    let given: Vec<&str> = LATENCY_MODELS
        .iter()
        .copied()
        .filter(|m| obj.get(m).is_some())
        .collect();
    match given.as_slice() {
        ["fixed"] => Ok(Latency::Fixed(obj.req("fixed", delay)?)),
        ["uniform"] => obj.req("uniform", uniform),
        ["lognormal"] => obj.req("lognormal", lognormal),
        [] => Err(FaultError::new(
            obj.path.as_str(),
            format!("needs exactly one of {}", list(LATENCY_MODELS)),
        )),
        many => Err(FaultError::new(
            obj.path.as_str(),
            format!(
                "{} given; give exactly one of {}",
                many.join(" and "),
                list(LATENCY_MODELS)
            ),
        )),
    }
}

fn uniform(value: &Value, path: &str) -> Res<Latency> {
    match value.as_array().map(Vec::as_slice) {
        Some([lo, hi]) => Ok(Latency::Uniform(
            delay(lo, &format!("{path}[0]"))?,
            delay(hi, &format!("{path}[1]"))?,
        )),
        _ => Err(expected(path, "[min, max], two durations", value)),
    }
}

fn lognormal(value: &Value, path: &str) -> Res<Latency> {
    let obj = Obj::new(value, path, LOGNORMAL_MEMBERS)?;
    Ok(Latency::Lognormal {
        median: obj.req("median", delay)?,
        sigma: obj.req("sigma", number)?,
        max: obj.req("max", delay)?,
    })
}

fn headers(value: &Value, path: &str) -> Res<Vec<(String, String)>> {
    let map = value
        .as_object()
        .ok_or_else(|| expected(path, "an object of header names to strings", value))?;
    map.iter()
        .map(|(name, v)| Ok((name.clone(), string(v, &member(path, name))?)))
        .collect()
}

fn apply(value: &Value, path: &str) -> Res<Apply> {
    match value.as_str() {
        Some("before") => Ok(Apply::Before),
        Some("after") => Ok(Apply::After),
        _ => Err(expected(path, "\"before\" or \"after\"", value)),
    }
}

fn status(value: &Value, path: &str) -> Res<u16> {
    narrow(value, path, 100, 599)
}

fn garbage_bytes(value: &Value, path: &str) -> Res<usize> {
    narrow(value, path, 1, MAX_GARBAGE_BYTES as u64)
}

fn chunks(value: &Value, path: &str) -> Res<u32> {
    narrow(value, path, 1, u64::from(MAX_DRIBBLE_CHUNKS))
}

/// An integer in `min..=max`, converted to the field's type.
fn narrow<T: TryFrom<u64>>(value: &Value, path: &str, min: u64, max: u64) -> Res<T> {
    let n = value
        .as_u64()
        .ok_or_else(|| expected(path, &int_range(min, max), value))?;
    check_int(n, min, max, path)?;
    T::try_from(n).map_err(|_| expected(path, &int_range(min, max), value))
}

fn delay(value: &Value, path: &str) -> Res<Duration> {
    duration::from_json(value).map_err(|e| FaultError::new(path, e.to_string()))
}

fn string(value: &Value, path: &str) -> Res<String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| expected(path, "a string", value))
}

fn number(value: &Value, path: &str) -> Res<f64> {
    value
        .as_f64()
        .ok_or_else(|| expected(path, "a number", value))
}

fn integer(value: &Value, path: &str) -> Res<u64> {
    value
        .as_u64()
        .ok_or_else(|| expected(path, "a non-negative integer", value))
}

/// A JSON object being read: refuses unknown members up front, treats `null` as absent.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn new(value: &'a Value, path: &str, allowed: &[&str]) -> Res<Self> {
        let map = value
            .as_object()
            .ok_or_else(|| expected(path, "an object", value))?;
        if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(FaultError::new(
                member(path, key),
                format!(
                    "unknown member {}; valid members: {}",
                    quote(key),
                    list(allowed)
                ),
            ));
        }
        Ok(Self {
            map,
            path: path.to_string(),
        })
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn opt<T>(&self, key: &str, read: impl FnOnce(&Value, &str) -> Res<T>) -> Res<Option<T>> {
        self.get(key)
            .map(|v| read(v, &member(&self.path, key)))
            .transpose()
    }

    fn req<T>(&self, key: &str, read: impl FnOnce(&Value, &str) -> Res<T>) -> Res<T> {
        self.opt(key, read)?
            .ok_or_else(|| FaultError::new(member(&self.path, key), "required member is missing"))
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/// `base.key`, or `base["key"]` when `key` is not identifier-like.
fn member(base: &str, key: &str) -> String {
    let mut chars = key.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        format!("{base}.{key}")
    } else {
        format!("{base}[{}]", quote(key))
    }
}

fn quote(s: &str) -> String {
    Value::from(s).to_string()
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

fn expected(path: &str, what: &str, found: &Value) -> FaultError {
    FaultError::new(path, format!("expected {what}, found {}", describe(found)))
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() <= 40 => quote(s),
        other => type_name(other).to_string(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A small catalog: two vendors with a few operations and codes each.
    pub(crate) struct TestCatalog;

    impl Catalog for TestCatalog {
        fn vendors(&self) -> Vec<&'static str> {
            vec!["aliyun", "jd"]
        }
        fn operations(&self, vendor: &str) -> Option<&'static [&'static str]> {
            match vendor {
                "aliyun" => Some(&["UpdateImage", "AddImage", "SearchImageByPic"]),
                "jd" => Some(&["image_update", "image_add"]),
                _ => None,
            }
        }
        fn error_codes(&self, vendor: &str) -> Option<&'static [&'static str]> {
            match vendor {
                "aliyun" => Some(&["DeniedRequest", "Throttling.User"]),
                "jd" => Some(&["10020", "10043"]),
                _ => None,
            }
        }
    }

    fn parse(value: Value) -> Result<Vec<FaultRule>, FaultError> {
        parse_rules(&value, &TestCatalog)
    }

    fn parse_one(value: Value) -> FaultRule {
        match parse(value.clone()) {
            Ok(mut rules) if rules.len() == 1 => rules.remove(0),
            other => panic!("{value} should parse to one rule, got {other:?}"),
        }
    }

    fn action_of(action: Value) -> Action {
        let rule = parse_one(json!({"match": {"vendor": "aliyun"}, "action": action}));
        rule.action.expect("parsed rules have an action")
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_the_full_example() {
        let rule = parse_one(json!({"id":"r1",
            "match": {"vendor":"aliyun","operation":"UpdateImage","tenant":"imgemu-dev-ak",
                      "method":"POST","path_prefix":"/","header":{"name":"x-test","value":"1"},
                      "param":{"name":"InstanceName","value":"demoinstance1"}},
            "trigger": {"probability":0.3,"first":2,"every":5,"after":10,"times":3},
            "action": {"kind":"error","code":"DeniedRequest"},
            "latency": {"fixed":"200ms"}}));
        let expected = FaultRule::new()
            .id("r1")
            .vendor("aliyun")
            .operation("UpdateImage")
            .tenant("imgemu-dev-ak")
            .method("POST")
            .path_prefix("/")
            .header("x-test", "1")
            .param("InstanceName", "demoinstance1")
            .probability(0.3)
            .first(2)
            .every(5)
            .after(10)
            .times(3)
            .error("DeniedRequest")
            .with_latency(Latency::Fixed(ms(200)));
        assert_eq!(rule, expected);
    }

    #[test]
    fn match_and_trigger_are_optional() {
        let rule = parse_one(json!({"action": {"kind": "reset"}}));
        assert_eq!(rule.id, None);
        assert!(rule.matcher.is_empty());
        assert!(rule.trigger.is_empty());
        assert_eq!(rule.action, Some(Action::Reset(Apply::Before)));
        assert_eq!(rule.latency, None);
    }

    #[test]
    fn null_members_count_as_absent() {
        let rule = parse_one(
            json!({"id": null, "match": null, "trigger": {"first": null},
            "action": {"kind": "garbage", "bytes": null}, "latency": null}),
        );
        assert_eq!(rule, FaultRule::new().action(Action::Garbage { bytes: 64 }));
    }

    #[test]
    fn every_trigger_member_parses() {
        for (member, expected) in [
            (
                "first",
                Trigger {
                    first: Some(1),
                    ..Trigger::default()
                },
            ),
            (
                "every",
                Trigger {
                    every: Some(1),
                    ..Trigger::default()
                },
            ),
            (
                "after",
                Trigger {
                    after: Some(1),
                    ..Trigger::default()
                },
            ),
            (
                "times",
                Trigger {
                    times: Some(1),
                    ..Trigger::default()
                },
            ),
            (
                "probability",
                Trigger {
                    probability: Some(1.0),
                    ..Trigger::default()
                },
            ),
        ] {
            let rule = parse_one(json!({"trigger": {member: 1}, "action": {"kind": "close"}}));
            assert_eq!(rule.trigger, expected, "{member}");
        }
        let rule = parse_one(
            json!({"trigger": {"after": 0, "probability": 0}, "action": {"kind": "close"}}),
        );
        assert_eq!(rule.trigger.after, Some(0));
        assert_eq!(rule.trigger.probability, Some(0.0));
    }

    #[test]
    fn every_action_parses_with_its_defaults() {
        let table = [
            (
                json!({"kind":"error","code":"DeniedRequest"}),
                Action::Error {
                    code: "DeniedRequest".into(),
                    status: None,
                },
            ),
            (
                json!({"kind":"http","status":503}),
                Action::Http {
                    status: 503,
                    headers: vec![],
                    body: String::new(),
                },
            ),
            (
                json!({"kind":"latency","fixed":"200ms"}),
                Action::Latency(Latency::Fixed(ms(200))),
            ),
            (json!({"kind":"reset"}), Action::Reset(Apply::Before)),
            (json!({"kind":"close"}), Action::Close(Apply::Before)),
            (json!({"kind":"empty"}), Action::Empty(Apply::Before)),
            (
                json!({"kind":"hang","max":"30s"}),
                Action::Hang {
                    max: ms(30_000),
                    apply: Apply::Before,
                },
            ),
            (
                json!({"kind":"truncate"}),
                Action::Truncate { fraction: 0.5 },
            ),
            (json!({"kind":"garbage"}), Action::Garbage { bytes: 64 }),
            (
                json!({"kind":"dribble","over":"1s"}),
                Action::Dribble {
                    chunks: 5,
                    over: ms(1000),
                },
            ),
            (
                json!({"kind":"task_fail"}),
                Action::TaskFail { message: None },
            ),
            (json!({"kind":"task_stuck"}), Action::TaskStuck),
        ];
        assert_eq!(table.len(), ACTION_KINDS.len());
        for (json, expected) in table {
            assert_eq!(action_of(json.clone()), expected, "{json}");
            assert_eq!(expected.kind(), json["kind"]);
        }
    }

    #[test]
    fn every_action_parameter_parses() {
        let table = [
            (
                json!({"kind":"error","code":"Throttling.User","status":429}),
                Action::Error {
                    code: "Throttling.User".into(),
                    status: Some(429),
                },
            ),
            (
                json!({"kind":"http","status":503,"headers":{"Retry-After":"1","x-a":"b"},"body":"busy"}),
                Action::Http {
                    status: 503,
                    headers: vec![
                        ("Retry-After".into(), "1".into()),
                        ("x-a".into(), "b".into()),
                    ],
                    body: "busy".into(),
                },
            ),
            (
                json!({"kind":"reset","apply":"after"}),
                Action::Reset(Apply::After),
            ),
            (
                json!({"kind":"close","apply":"before"}),
                Action::Close(Apply::Before),
            ),
            (
                json!({"kind":"empty","apply":"after"}),
                Action::Empty(Apply::After),
            ),
            (
                json!({"kind":"hang","max":1500,"apply":"after"}),
                Action::Hang {
                    max: ms(1500),
                    apply: Apply::After,
                },
            ),
            (
                json!({"kind":"truncate","fraction":0.25}),
                Action::Truncate { fraction: 0.25 },
            ),
            (
                json!({"kind":"garbage","bytes":65536}),
                Action::Garbage { bytes: 65536 },
            ),
            (
                json!({"kind":"dribble","chunks":1000,"over":"10m"}),
                Action::Dribble {
                    chunks: 1000,
                    over: ms(600_000),
                },
            ),
            (
                json!({"kind":"task_fail","message":"boom"}),
                Action::TaskFail {
                    message: Some("boom".into()),
                },
            ),
        ];
        for (json, expected) in table {
            assert_eq!(action_of(json.clone()), expected, "{json}");
        }
    }

    #[test]
    fn every_latency_model_parses_in_both_places() {
        let table = [
            (json!({"fixed": "200ms"}), Latency::Fixed(ms(200))),
            (json!({"fixed": 250}), Latency::Fixed(ms(250))),
            (
                json!({"uniform": ["50ms", "150ms"]}),
                Latency::Uniform(ms(50), ms(150)),
            ),
            (
                json!({"uniform": [100, "100ms"]}),
                Latency::Uniform(ms(100), ms(100)),
            ),
            (
                json!({"lognormal": {"median": "80ms", "sigma": 0.4, "max": "1s"}}),
                Latency::Lognormal {
                    median: ms(80),
                    sigma: 0.4,
                    max: ms(1000),
                },
            ),
        ];
        for (model, expected) in table {
            let rule = parse_one(json!({"action": {"kind": "close"}, "latency": model}));
            assert_eq!(rule.latency.as_ref(), Some(&expected), "{model}");
            let mut action = model.clone();
            action["kind"] = json!("latency");
            assert_eq!(action_of(action), Action::Latency(expected), "{model}");
        }
    }

    #[test]
    fn a_latency_action_may_carry_a_latency_member() {
        let rule = parse_one(
            json!({"action": {"kind": "latency", "fixed": "1s"}, "latency": {"fixed": "2s"}}),
        );
        assert_eq!(rule.action, Some(Action::Latency(Latency::Fixed(ms(1000)))));
        assert_eq!(rule.latency, Some(Latency::Fixed(ms(2000))));
    }

    /// (rule JSON, expected path, a piece of the expected message)
    fn rejections() -> Vec<(Value, &'static str, &'static str)> {
        let close = json!({"kind": "close"});
        vec![
            // Structure.
            (json!(42), "$", "expected a rule object or an array of rules, found a number"),
            (json!({"action": close, "colour": 1}), "$.colour", "unknown member \"colour\"; valid members: id, match, trigger, action, latency"),
            (json!({"match": {"colour": "red"}, "action": close}), "$.match.colour", "valid members: vendor, operation, tenant, method, path_prefix, header, param"),
            (json!({"match": {"x-y": 1}, "action": close}), "$.match[\"x-y\"]", "unknown member \"x-y\""),
            (json!({"trigger": {"sometimes": true}, "action": close}), "$.trigger.sometimes", "valid members: probability, first, every, after, times"),
            (json!({"action": {"kind": "close", "fraction": 0.5}}), "$.action.fraction", "unknown member \"fraction\"; valid members: kind, apply"),
            (json!({"match": []}), "$.match", "expected an object, found an array"),
            (json!({}), "$.action", "required member is missing"),
            (json!({"action": {}}), "$.action.kind", "required member is missing; valid kinds: error, http, latency"),
            (json!({"action": {"kind": "explode"}}), "$.action.kind", "unknown action kind \"explode\"; valid kinds: error, http, latency, reset, close, empty, hang, truncate, garbage, dribble, task_fail, task_stuck"),
            (json!({"action": {"kind": 7}}), "$.action.kind", "expected a string, found 7"),
            (json!({"action": "close"}), "$.action", "expected an object, found \"close\""),
            (json!({"id": 5, "action": close}), "$.id", "expected a string, found 5"),
            (json!({"id": "", "action": close}), "$.id", "invalid id \"\""),
            (json!({"id": "a/b", "action": close}), "$.id", "letters, digits"),
            (json!({"match": {"vendor": 1}, "action": close}), "$.match.vendor", "expected a string"),
            (json!({"match": {"header": {"name": "x"}}, "action": close}), "$.match.header.value", "required member is missing"),
            (json!({"match": {"header": {"name": "bad header", "value": "1"}}, "action": close}), "$.match.header.name", "invalid header name \"bad header\""),
            (json!({"match": {"param": {"name": "a", "value": "b", "op": "eq"}}, "action": close}), "$.match.param.op", "valid members: name, value"),
            (json!({"match": {"method": "GE T"}, "action": close}), "$.match.method", "invalid HTTP method"),
            // Catalog.
            (json!({"match": {"vendor": "azure"}, "action": close}), "$.match.vendor", "unknown vendor \"azure\"; valid vendors: aliyun, jd"),
            (json!({"match": {"vendor": "jd", "operation": "UpdateImage"}, "action": close}), "$.match.operation", "unknown operation \"UpdateImage\" for vendor jd; valid operations: image_update, image_add"),
            (json!({"action": {"kind": "error", "code": "DeniedRequest"}}), "$.match.vendor", "required by an \"error\" action; valid vendors: aliyun, jd"),
            (json!({"match": {"vendor": "jd"}, "action": {"kind": "error", "code": "DeniedRequest"}}), "$.action.code", "unknown error code \"DeniedRequest\" for vendor jd; valid codes: 10020, 10043"),
            (json!({"match": {"vendor": "jd"}, "action": {"kind": "error"}}), "$.action.code", "required member is missing"),
            (json!({"match": {"vendor": "jd"}, "action": {"kind": "error", "code": "10020", "status": 99}}), "$.action.status", "expected an integer from 100 to 599, found 99"),
            (json!({"match": {"vendor": "jd"}, "action": {"kind": "error", "code": "10020", "status": "500"}}), "$.action.status", "expected an integer from 100 to 599, found \"500\""),
            // Triggers.
            (json!({"trigger": {"probability": 1.5}, "action": close}), "$.trigger.probability", "expected a number from 0 to 1, found 1.5"),
            (json!({"trigger": {"probability": -0.1}, "action": close}), "$.trigger.probability", "from 0 to 1"),
            (json!({"trigger": {"probability": "half"}, "action": close}), "$.trigger.probability", "expected a number"),
            (json!({"trigger": {"first": 0}, "action": close}), "$.trigger.first", "expected an integer ≥ 1, found 0"),
            (json!({"trigger": {"every": 0}, "action": close}), "$.trigger.every", "expected an integer ≥ 1, found 0"),
            (json!({"trigger": {"times": 0}, "action": close}), "$.trigger.times", "expected an integer ≥ 1, found 0"),
            (json!({"trigger": {"after": -1}, "action": close}), "$.trigger.after", "expected a non-negative integer, found -1"),
            (json!({"trigger": {"first": 2.5}, "action": close}), "$.trigger.first", "expected a non-negative integer, found 2.5"),
            // Actions.
            (json!({"action": {"kind": "http"}}), "$.action.status", "required member is missing"),
            (json!({"action": {"kind": "http", "status": 600}}), "$.action.status", "from 100 to 599"),
            (json!({"action": {"kind": "http", "status": 70000}}), "$.action.status", "from 100 to 599"),
            (json!({"action": {"kind": "http", "status": 503, "headers": []}}), "$.action.headers", "expected an object of header names to strings"),
            (json!({"action": {"kind": "http", "status": 503, "headers": {"X-A": 1}}}), "$.action.headers[\"X-A\"]", "expected a string, found 1"),
            (json!({"action": {"kind": "http", "status": 503, "headers": {"a b": "1"}}}), "$.action.headers[\"a b\"]", "invalid header name"),
            (json!({"action": {"kind": "http", "status": 503, "headers": {"x": "a\nb"}}}), "$.action.headers.x", "invalid header value"),
            (json!({"action": {"kind": "http", "status": 503, "body": {}}}), "$.action.body", "expected a string"),
            (json!({"action": {"kind": "reset", "apply": "during"}}), "$.action.apply", "expected \"before\" or \"after\", found \"during\""),
            (json!({"action": {"kind": "hang"}}), "$.action.max", "required member is missing"),
            (json!({"action": {"kind": "hang", "max": "11m"}}), "$.action.max", "11m is longer than the maximum 10m"),
            (json!({"action": {"kind": "hang", "max": "30 s"}}), "$.action.max", "invalid duration \"30 s\""),
            (json!({"action": {"kind": "hang", "max": -5}}), "$.action.max", "invalid duration"),
            (json!({"action": {"kind": "truncate", "fraction": 0}}), "$.action.fraction", "strictly between 0 and 1, found 0"),
            (json!({"action": {"kind": "truncate", "fraction": 1}}), "$.action.fraction", "strictly between 0 and 1"),
            (json!({"action": {"kind": "garbage", "bytes": 0}}), "$.action.bytes", "expected an integer from 1 to 65536, found 0"),
            (json!({"action": {"kind": "garbage", "bytes": 65537}}), "$.action.bytes", "from 1 to 65536"),
            (json!({"action": {"kind": "dribble"}}), "$.action.over", "required member is missing"),
            (json!({"action": {"kind": "dribble", "over": "1s", "chunks": 0}}), "$.action.chunks", "from 1 to 1000, found 0"),
            (json!({"action": {"kind": "dribble", "over": "1s", "chunks": 1001}}), "$.action.chunks", "from 1 to 1000"),
            (json!({"action": {"kind": "dribble", "over": "1h"}}), "$.action.over", "longer than the maximum 10m"),
            (json!({"action": {"kind": "task_fail", "message": 3}}), "$.action.message", "expected a string"),
            (json!({"action": {"kind": "task_stuck", "message": "x"}}), "$.action.message", "valid members: kind"),
            // Latency models.
            (json!({"action": {"kind": "latency"}}), "$.action", "needs exactly one of fixed, uniform, lognormal"),
            (json!({"action": {"kind": "latency", "fixed": "1s", "uniform": ["1s", "2s"]}}), "$.action", "fixed and uniform given; give exactly one of fixed, uniform, lognormal"),
            (json!({"action": close, "latency": {}}), "$.latency", "needs exactly one of"),
            (json!({"action": close, "latency": {"kind": "latency", "fixed": "1s"}}), "$.latency.kind", "valid members: fixed, uniform, lognormal"),
            (json!({"action": close, "latency": {"fixed": "1.5s"}}), "$.latency.fixed", "invalid duration \"1.5s\""),
            (json!({"action": close, "latency": {"fixed": "20m"}}), "$.latency.fixed", "longer than the maximum 10m"),
            (json!({"action": close, "latency": {"uniform": ["1s"]}}), "$.latency.uniform", "expected [min, max], two durations"),
            (json!({"action": close, "latency": {"uniform": ["1s", "x"]}}), "$.latency.uniform[1]", "invalid duration \"x\""),
            (json!({"action": close, "latency": {"uniform": ["2s", "1s"]}}), "$.latency.uniform", "min 2s is greater than max 1s"),
            (json!({"action": close, "latency": {"lognormal": {"median": "1s", "sigma": 0.5}}}), "$.latency.lognormal.max", "required member is missing"),
            (json!({"action": close, "latency": {"lognormal": {"median": "1s", "sigma": -1, "max": "2s"}}}), "$.latency.lognormal.sigma", "expected a number ≥ 0, found -1"),
            (json!({"action": close, "latency": {"lognormal": {"median": "3s", "sigma": 1, "max": "2s"}}}), "$.latency.lognormal.median", "median 3s is greater than max 2s"),
            (json!({"action": close, "latency": {"lognormal": {"median": "1s", "sigma": 1, "max": "2s", "p99": "3s"}}}), "$.latency.lognormal.p99", "valid members: median, sigma, max"),
            (json!({"action": {"kind": "latency", "lognormal": {"median": "1s", "sigma": 1, "max": "1h"}}}), "$.action.lognormal.max", "longer than the maximum"),
        ]
    }

    #[test]
    fn every_rejection_names_its_path_and_the_valid_values() {
        for (rule, path, message) in rejections() {
            let err = parse(rule.clone()).expect_err(&rule.to_string());
            assert_eq!(err.path, path, "{rule}: {err}");
            assert!(
                err.message.contains(message),
                "{rule}: got {err:?}, want {message:?}"
            );
        }
    }

    #[test]
    fn rejections_in_a_batch_are_indexed_and_refuse_the_whole_batch() {
        for (rule, path, message) in rejections() {
            let batch = json!([{"action": {"kind": "close"}}, rule]);
            let err = parse(batch.clone()).expect_err(&batch.to_string());
            if path == "$" {
                // Not an object: inside an array that is "expected an object".
                assert_eq!(err.path, "$[1]", "{batch}: {err}");
                assert!(
                    err.message.starts_with("expected an object"),
                    "{batch}: {err}"
                );
                continue;
            }
            assert_eq!(err.path, path.replacen('$', "$[1]", 1), "{batch}: {err}");
            assert!(err.message.contains(message), "{batch}: {err}");
        }
    }

    #[test]
    fn an_array_gives_every_rule_and_an_empty_array_none() {
        let rules =
            parse(json!([{"action": {"kind": "close"}}, {"id": "x", "action": {"kind": "reset"}}]))
                .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].id.as_deref(), Some("x"));
        assert_eq!(parse(json!([])).unwrap(), vec![]);
    }

    #[test]
    fn duplicate_ids_within_a_batch_are_refused() {
        let err = parse(
            json!([{"id": "a", "action": {"kind": "close"}}, {"action": {"kind": "close"}},
                               {"id": "a", "action": {"kind": "reset"}}]),
        )
        .unwrap_err();
        assert_eq!(err.path, "$[2].id");
        assert_eq!(err.message, "duplicate id \"a\": also the id of $[0]");
    }

    #[test]
    fn errors_display_as_path_colon_message() {
        let err = parse(json!({"trigger": {"first": 0}, "action": {"kind": "close"}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "$.trigger.first: expected an integer ≥ 1, found 0"
        );
    }

    fn round_trip_samples() -> Vec<Value> {
        vec![
            json!({"id":"r1","match":{"vendor":"aliyun","operation":"UpdateImage","tenant":"t","method":"POST",
                   "path_prefix":"/v1","header":{"name":"x-test","value":"1"},"param":{"name":"a","value":"b"}},
                   "trigger":{"probability":0.3,"first":2,"every":5,"after":10,"times":3},
                   "action":{"kind":"error","code":"DeniedRequest","status":503},"latency":{"fixed":"200ms"}}),
            json!({"action":{"kind":"http","status":503,"headers":{"Retry-After":"1"},"body":"x"}}),
            json!({"action":{"kind":"latency","uniform":["50ms","150ms"]},"latency":{"lognormal":{"median":"80ms","sigma":0.4,"max":"1s"}}}),
            json!({"action":{"kind":"latency","lognormal":{"median":90000,"sigma":0,"max":"2m"}}}),
            json!({"action":{"kind":"reset","apply":"after"}}),
            json!({"action":{"kind":"close"}}),
            json!({"action":{"kind":"empty"}}),
            json!({"action":{"kind":"hang","max":"1500ms","apply":"after"}}),
            json!({"action":{"kind":"truncate","fraction":0.1}}),
            json!({"action":{"kind":"garbage","bytes":1}}),
            json!({"action":{"kind":"dribble","chunks":3,"over":"1s"}}),
            json!({"action":{"kind":"task_fail","message":"boom"}}),
            json!({"action":{"kind":"task_fail"}}),
            json!({"trigger":{"after":0},"action":{"kind":"task_stuck"}}),
        ]
    }

    #[test]
    fn parse_to_json_parse_round_trips() {
        for sample in round_trip_samples() {
            let rule = parse_one(sample.clone());
            let rendered = rule.to_json();
            assert_eq!(parse_one(rendered.clone()), rule, "{sample} -> {rendered}");
            // Rendering is stable too.
            assert_eq!(parse_one(rendered.clone()).to_json(), rendered);
        }
    }

    #[test]
    fn to_json_renders_defaults_and_durations_in_the_grammar() {
        let rule = parse_one(
            json!({"action": {"kind": "dribble", "over": 90000}, "latency": {"fixed": 1500}}),
        );
        assert_eq!(
            rule.to_json(),
            json!({"action": {"kind": "dribble", "chunks": 5, "over": "90s"}, "latency": {"fixed": "1500ms"}})
        );
        let rule = parse_one(json!({"action": {"kind": "http", "status": 500}}));
        assert_eq!(
            rule.to_json(),
            json!({"action": {"kind": "http", "status": 500, "headers": {}, "body": ""}})
        );
        assert_eq!(
            parse_one(json!({"action": {"kind": "truncate"}})).to_json()["action"]["fraction"],
            0.5
        );
        assert_eq!(
            parse_one(json!({"action": {"kind": "reset"}})).to_json()["action"]["apply"],
            "before"
        );
    }

    #[test]
    fn builder_rules_validate_like_parsed_ones() {
        let ok = FaultRule::new()
            .vendor("aliyun")
            .operation("UpdateImage")
            .first(2)
            .error("DeniedRequest");
        assert_eq!(ok.validate(&TestCatalog), Ok(()));
        assert_eq!(parse_one(ok.to_json()), ok);

        let cases = [
            (FaultRule::new().vendor("jd"), "$.action", "a rule needs an action"),
            (FaultRule::new().error("DeniedRequest"), "$.match.vendor", "required by an \"error\" action"),
            (FaultRule::new().vendor("aliyun").error("Nope"), "$.action.code", "unknown error code \"Nope\" for vendor aliyun; valid codes: DeniedRequest, Throttling.User"),
            (FaultRule::new().vendor("aliyun").error_with_status("DeniedRequest", 42), "$.action.status", "from 100 to 599"),
            (FaultRule::new().probability(f64::NAN).action(Action::TaskStuck), "$.trigger.probability", "from 0 to 1"),
            (FaultRule::new().every(0).action(Action::TaskStuck), "$.trigger.every", "≥ 1"),
            (FaultRule::new().id("has space").action(Action::TaskStuck), "$.id", "invalid id"),
            (FaultRule::new().id("x".repeat(129)).action(Action::TaskStuck), "$.id", "invalid id"),
            (FaultRule::new().action(Action::Truncate { fraction: f64::INFINITY }), "$.action.fraction", "strictly between"),
            (FaultRule::new().action(Action::Garbage { bytes: 0 }), "$.action.bytes", "from 1 to 65536"),
            (FaultRule::new().action(Action::Dribble { chunks: 0, over: ms(1) }), "$.action.chunks", "from 1 to 1000"),
            (FaultRule::new().action(Action::Http { status: 200, headers: vec![("ok".into(), "\r".into())], body: String::new() }), "$.action.headers.ok", "invalid header value"),
            (FaultRule::new().action(Action::Hang { max: Duration::from_micros(1500), apply: Apply::Before }), "$.action.max", "not a whole number of milliseconds"),
            (FaultRule::new().action(Action::TaskStuck).with_latency(Latency::Uniform(ms(2), ms(1))), "$.latency.uniform", "min 2ms is greater than max 1ms"),
            (FaultRule::new().action(Action::TaskStuck).with_latency(Latency::Lognormal { median: ms(1), sigma: f64::NAN, max: ms(2) }), "$.latency.lognormal.sigma", "≥ 0"),
            (FaultRule::new().action(Action::Latency(Latency::Fixed(Duration::from_secs(601)))), "$.action.fixed", "longer than the maximum 10m"),
            (FaultRule::new().method("").action(Action::TaskStuck), "$.match.method", "invalid HTTP method"),
        ];
        for (rule, path, message) in cases {
            let err = rule.validate(&TestCatalog).expect_err(&format!("{rule:?}"));
            assert_eq!(err.path, path, "{rule:?}: {err}");
            assert!(err.message.contains(message), "{rule:?}: {err}");
        }
    }

    #[test]
    fn validate_at_roots_paths_where_asked() {
        let err = FaultRule::new()
            .first(0)
            .action(Action::TaskStuck)
            .validate_at("$[4]", &TestCatalog)
            .unwrap_err();
        assert_eq!(err.path, "$[4].trigger.first");
    }

    #[test]
    fn operation_without_vendor_is_not_checked() {
        let rule =
            parse_one(json!({"match": {"operation": "Anything"}, "action": {"kind": "close"}}));
        assert_eq!(rule.matcher.operation.as_deref(), Some("Anything"));
    }

    #[test]
    fn lowercase_methods_and_any_header_case_are_accepted() {
        let rule = parse_one(
            json!({"match": {"method": "post", "header": {"name": "X-Test", "value": ""}}, "action": {"kind": "close"}}),
        );
        assert_eq!(rule.matcher.method.as_deref(), Some("post"));
    }

    #[test]
    fn paths_quote_members_that_are_not_identifiers() {
        assert_eq!(member("$", "action"), "$.action");
        assert_eq!(member("$", "_a1"), "$._a1");
        assert_eq!(member("$", "1a"), "$[\"1a\"]");
        assert_eq!(member("$", ""), "$[\"\"]");
        assert_eq!(member("$", "a\"b"), "$[\"a\\\"b\"]");
    }
}
