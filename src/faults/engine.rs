//! The fault engine: the ordered rule list of one emulator, and the decision, per request, of
//! which rule (if any) fires.
//!
//! Evaluation walks the rules in insertion order. A rule whose [`Match`] fails is skipped and
//! its state is untouched. A matching rule counts the request (`matched`), draws from its RNG if
//! it has a `probability`, and checks its [`Trigger`]; the **first** rule that matches and
//! triggers fires, and the rules after it are not evaluated for that request: their counters
//! and RNGs do not move. Rules before it that matched without triggering did count the request.
//!
//! Each rule owns a [`StdRng`] seeded from the emulator seed and the rule id (see
//! [`Faults::new`]), advanced only by requests that match that rule: by the probability draw and,
//! when it fires, by latency sampling. Unrelated traffic never changes which requests fault.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::rule::{batch_path, Action, FaultError, FaultRule, Latency, Match, Trigger};

/// What the engine needs to know about a request to decide whether a rule applies.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// Vendor name (`aliyun`).
    pub vendor: &'a str,
    /// Operation name (`UpdateImage`).
    pub operation: &'a str,
    /// Tenant (access key, project id or user).
    pub tenant: &'a str,
    /// HTTP method as received.
    pub method: &'a str,
    /// Request path, without the query.
    pub path: &'a str,
    /// Request headers.
    pub headers: &'a http::HeaderMap,
    /// Request parameters (query, form or action parameters), as name/value pairs.
    pub params: &'a [(String, String)],
}

/// A rule that fired for a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// The id of the rule.
    pub rule_id: String,
    /// Its action.
    pub action: Action,
    /// The delay to apply, sampled now from the rule's RNG: the `latency` action's own model
    /// plus the rule's `latency` member (summed when both are present); `None` when neither is.
    pub latency: Option<Duration>,
}

impl Fired {
    /// The fired rule as JSON, `{"rule":"r1","action":{…},"latency":"120ms"}` (no `latency`
    /// when there is none), for the engine's tests; the journal records a
    /// [`FaultRecord`](crate::journal::FaultRecord) instead.
    #[cfg(test)]
    fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        out.insert("rule".into(), self.rule_id.as_str().into());
        out.insert("action".into(), self.action.to_json());
        if let Some(latency) = self.latency {
            out.insert("latency".into(), crate::duration::format(latency).into());
        }
        Value::Object(out)
    }
}

/// The fault rules of one emulator. Cheap to share (`Send + Sync`); one short lock per
/// evaluated request, none at all while there are no rules.
pub struct Faults {
    seed: u64,
    /// Whether any rule is installed; read without the lock on every request.
    armed: AtomicBool,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("seed", &self.seed)
            .field("rules", &self.len())
            .finish()
    }
}

struct Inner {
    slots: Vec<Slot>,
    /// The number of the next generated id (`r{next_id}`); back to 1 on [`Faults::clear`].
    next_id: u64,
}

/// A stored rule and its running state.
struct Slot {
    id: String,
    rule: FaultRule,
    action: Action,
    rng: StdRng,
    matched: u64,
    fired: u64,
}

impl Faults {
    /// An engine without rules. Each rule's RNG is a [`StdRng`] seeded with the first 8 bytes
    /// (big-endian) of SHA-256(`seed` as 8 big-endian bytes ‖ rule id in UTF-8), so the same
    /// seed, rules and traffic give the same faults on every run and platform (with the locked
    /// `rand` version).
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            armed: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                slots: Vec::new(),
                next_id: 1,
            }),
        }
    }

    /// The seed rule RNGs derive from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Appends `rules` (all or nothing) and returns their views as [`list`](Self::list) shows
    /// them. Rules without an id get the next unused `r1`, `r2`, …; an id already stored or
    /// repeated within the batch is refused. Every check that needs no catalog is run again
    /// here (see [`FaultRule::check_shape_at`]); catalog checks are the caller's
    /// ([`FaultRule::validate`] or [`parse_rules`](super::rule::parse_rules)). Error paths
    /// are `$` for a lone rule and `$[i]` in a larger batch.
    pub fn add(&self, rules: Vec<FaultRule>) -> Result<Vec<Value>, FaultError> {
        let len = rules.len();
        for (i, rule) in rules.iter().enumerate() {
            rule.check_shape_at(&batch_path(i, len))?;
        }
        let mut inner = self.inner.lock();
        let (ids, next_id) = inner.assign_ids(&rules)?;
        let slots = rules
            .into_iter()
            .zip(ids)
            .map(|(rule, id)| Slot::new(self.seed, id, rule))
            .collect::<Result<Vec<_>, _>>()?;
        let views = slots.iter().map(Slot::view).collect();
        inner.slots.extend(slots);
        inner.next_id = next_id;
        self.armed.store(!inner.slots.is_empty(), Ordering::Release);
        Ok(views)
    }

    /// Every stored rule in evaluation order: its JSON form (with its id) plus `"matched"`
    /// (matching requests seen) and `"fired"` (times it acted).
    pub fn list(&self) -> Vec<Value> {
        self.inner.lock().slots.iter().map(Slot::view).collect()
    }

    /// Removes the rule `id`; whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        let mut inner = self.inner.lock();
        let before = inner.slots.len();
        inner.slots.retain(|s| s.id != id);
        self.armed.store(!inner.slots.is_empty(), Ordering::Release);
        inner.slots.len() != before
    }

    /// Removes every rule and restarts id generation at `r1`.
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.slots.clear();
        inner.next_id = 1;
        self.armed.store(false, Ordering::Release);
    }

    /// Whether no rule is stored. Lock-free: the pipeline's fast path.
    pub fn is_empty(&self) -> bool {
        !self.armed.load(Ordering::Acquire)
    }

    /// The number of stored rules.
    pub fn len(&self) -> usize {
        self.inner.lock().slots.len()
    }

    /// Decides the fault for one request: the first rule (in order) that matches and triggers
    /// fires and is returned with its sampled latency. Rules after it are not evaluated, so
    /// their counters and RNGs do not move; earlier rules that matched without triggering
    /// counted the request.
    pub fn evaluate(&self, facts: &RequestFacts<'_>) -> Option<Fired> {
        if self.is_empty() {
            return None;
        }
        let mut inner = self.inner.lock();
        inner.slots.iter_mut().find_map(|slot| slot.offer(facts))
    }
}

impl Inner {
    /// The ids of a batch (explicit ones checked, missing ones generated) and the next counter
    /// value; nothing is changed.
    fn assign_ids(&self, rules: &[FaultRule]) -> Result<(Vec<String>, u64), FaultError> {
        let mut used: std::collections::HashSet<&str> =
            self.slots.iter().map(|s| s.id.as_str()).collect();
        for (i, rule) in rules.iter().enumerate() {
            let Some(id) = &rule.id else { continue };
            if !used.insert(id.as_str()) {
                return Err(duplicate(id, &batch_path(i, rules.len())));
            }
        }
        let mut next = self.next_id;
        let mut ids = Vec::with_capacity(rules.len());
        for rule in rules {
            let id = match &rule.id {
                Some(id) => id.clone(),
                None => generate_id(&mut next, &used),
            };
            ids.push(id);
        }
        Ok((ids, next))
    }
}

fn duplicate(id: &str, base: &str) -> FaultError {
    FaultError::new(
        format!("{base}.id"),
        format!(
            "duplicate id {}: a rule with this id is already stored or earlier in the batch",
            Value::from(id)
        ),
    )
}

/// The next `r{n}` not in `used` (generated ids of the same batch are distinct because the
/// counter only grows).
fn generate_id(next: &mut u64, used: &std::collections::HashSet<&str>) -> String {
    loop {
        let candidate = format!("r{next}");
        *next = next.saturating_add(1);
        if !used.contains(candidate.as_str()) {
            return candidate;
        }
    }
}

impl Slot {
    fn new(seed: u64, id: String, mut rule: FaultRule) -> Result<Self, FaultError> {
        let action = rule
            .action
            .clone()
            .ok_or_else(|| FaultError::new("$.action", "a rule needs an action"))?;
        rule.id = Some(id.clone());
        Ok(Self {
            rng: rule_rng(seed, &id),
            id,
            rule,
            action,
            matched: 0,
            fired: 0,
        })
    }

    fn view(&self) -> Value {
        let mut view = self.rule.to_json();
        if let Value::Object(map) = &mut view {
            map.insert("matched".into(), self.matched.into());
            map.insert("fired".into(), self.fired.into());
        }
        view
    }

    /// Counts a matching request and fires if the trigger allows.
    fn offer(&mut self, facts: &RequestFacts<'_>) -> Option<Fired> {
        if !matches(&self.rule.matcher, facts) {
            return None;
        }
        self.matched = self.matched.saturating_add(1);
        let lucky = self.draw(self.rule.trigger.probability);
        if !(lucky && counts_allow(&self.rule.trigger, self.matched, self.fired)) {
            return None;
        }
        self.fired = self.fired.saturating_add(1);
        let latency = self.sample_latency();
        Some(Fired {
            rule_id: self.id.clone(),
            action: self.action.clone(),
            latency,
        })
    }

    /// One probability draw (only when the rule has a probability).
    fn draw(&mut self, probability: Option<f64>) -> bool {
        match probability {
            Some(p) => self.rng.random::<f64>() < p,
            None => true,
        }
    }

    fn sample_latency(&mut self) -> Option<Duration> {
        let own = match &self.action {
            Action::Latency(model) => Some(sample(model, &mut self.rng)),
            _ => None,
        };
        let extra = self
            .rule
            .latency
            .as_ref()
            .map(|model| sample(model, &mut self.rng));
        match (own, extra) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The RNG of rule `id` under `seed`.
fn rule_rng(seed: u64, id: &str) -> StdRng {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_be_bytes());
    hasher.update(id.as_bytes());
    let digest = hasher.finalize();
    let first8 = digest
        .iter()
        .take(8)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    StdRng::seed_from_u64(first8)
}

/// Whether `facts` satisfy every member of `m` that is set.
fn matches(m: &Match, facts: &RequestFacts<'_>) -> bool {
    let exact = |want: &Option<String>, got: &str| want.as_deref().is_none_or(|w| w == got);
    exact(&m.vendor, facts.vendor)
        && exact(&m.operation, facts.operation)
        && exact(&m.tenant, facts.tenant)
        && m.method
            .as_deref()
            .is_none_or(|w| w.eq_ignore_ascii_case(facts.method))
        && m.path_prefix
            .as_deref()
            .is_none_or(|p| facts.path.starts_with(p))
        && m.header
            .as_ref()
            .is_none_or(|(name, value)| header_is(facts.headers, name, value))
        && m.param
            .as_ref()
            .is_none_or(|(name, value)| facts.params.iter().any(|(n, v)| n == name && v == value))
}

/// The first value of header `name` (any case) equals `value`.
fn header_is(headers: &http::HeaderMap, name: &str, value: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| v.as_bytes() == value.as_bytes())
}

/// The counting triggers (`first`, `every`, `after`, `times`) for the `matched`th matching
/// request (counted from 1) of a rule that fired `fired` times so far.
fn counts_allow(t: &Trigger, matched: u64, fired: u64) -> bool {
    t.first.is_none_or(|n| matched <= n)
        && t.every.is_none_or(|n| matched.checked_rem(n) == Some(0))
        && t.after.is_none_or(|n| matched > n)
        && t.times.is_none_or(|n| fired < n)
}

/// One delay from `model`, rounded to whole milliseconds.
fn sample(model: &Latency, rng: &mut impl Rng) -> Duration {
    match model {
        Latency::Fixed(d) => *d,
        Latency::Uniform(lo, hi) => {
            let (lo_ms, hi_ms) = (millis(*lo), millis(*hi));
            let u: f64 = rng.random();
            capped(lo_ms + u * (hi_ms - lo_ms), (*lo).max(*hi))
        }
        Latency::Lognormal { median, sigma, max } => {
            let z = standard_normal(rng);
            capped(millis(*median) * (sigma * z).exp(), *max)
        }
    }
}

/// A standard normal variate by Box–Muller (one uniform pair per call).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln stays finite
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `ms` clamped to `[0, cap]` (NaN → 0), as whole milliseconds.
fn capped(ms: f64, cap: Duration) -> Duration {
    let clamped = ms.max(0.0).min(millis(cap));
    // In range by construction; `as` saturates anyway.
    Duration::from_millis(clamped.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::super::rule::tests::TestCatalog;
    use super::super::rule::{parse_rules, Apply};
    use super::*;
    use serde_json::json;

    /// An owned request to build [`RequestFacts`] from.
    struct Req {
        vendor: &'static str,
        operation: &'static str,
        tenant: &'static str,
        method: &'static str,
        path: &'static str,
        headers: http::HeaderMap,
        params: Vec<(String, String)>,
    }

    impl Req {
        fn new(vendor: &'static str, operation: &'static str) -> Self {
            Self {
                vendor,
                operation,
                tenant: "imgemu-dev-ak",
                method: "POST",
                path: "/",
                headers: http::HeaderMap::new(),
                params: Vec::new(),
            }
        }

        fn facts(&self) -> RequestFacts<'_> {
            RequestFacts {
                vendor: self.vendor,
                operation: self.operation,
                tenant: self.tenant,
                method: self.method,
                path: self.path,
                headers: &self.headers,
                params: &self.params,
            }
        }
    }

    fn update() -> Req {
        Req::new("aliyun", "UpdateImage")
    }

    fn other() -> Req {
        Req::new("jd", "image_update")
    }

    fn engine(seed: u64, rules: Value) -> Faults {
        let faults = Faults::new(seed);
        let parsed = parse_rules(&rules, &TestCatalog).expect("valid rules");
        faults.add(parsed).expect("added");
        faults
    }

    fn close() -> Action {
        Action::Close(Apply::Before)
    }

    fn ids(views: &[Value]) -> Vec<&str> {
        views.iter().filter_map(|v| v["id"].as_str()).collect()
    }

    /// The 1-based indices of the requests among `n` that fire.
    fn firing(faults: &Faults, req: &Req, n: u64) -> Vec<u64> {
        (1..=n)
            .filter(|_| faults.evaluate(&req.facts()).is_some())
            .collect()
    }

    fn counters(faults: &Faults) -> Vec<(u64, u64)> {
        faults
            .list()
            .iter()
            .map(|v| (v["matched"].as_u64().unwrap(), v["fired"].as_u64().unwrap()))
            .collect()
    }

    // ---- ids and the rule list ----

    #[test]
    fn ids_are_generated_in_order_skipping_used_ones() {
        let faults = Faults::new(0);
        let views = faults
            .add(vec![
                FaultRule::new().action(close()),
                FaultRule::new().id("r2").action(close()),
                FaultRule::new().action(close()),
            ])
            .unwrap();
        assert_eq!(ids(&views), ["r1", "r2", "r3"]);
        let views = faults.add(vec![FaultRule::new().action(close())]).unwrap();
        assert_eq!(ids(&views), ["r4"]);
        assert_eq!(ids(&faults.list()), ["r1", "r2", "r3", "r4"]);
    }

    #[test]
    fn removed_ids_are_not_reused_until_clear() {
        let faults = Faults::new(0);
        faults.add(vec![FaultRule::new().action(close())]).unwrap();
        assert!(faults.remove("r1"));
        assert!(!faults.remove("r1"));
        assert_eq!(
            ids(&faults.add(vec![FaultRule::new().action(close())]).unwrap()),
            ["r2"]
        );
        faults.clear();
        assert_eq!(
            ids(&faults.add(vec![FaultRule::new().action(close())]).unwrap()),
            ["r1"]
        );
    }

    #[test]
    fn duplicate_ids_are_refused_and_nothing_is_stored() {
        let faults = Faults::new(0);
        faults
            .add(vec![FaultRule::new().id("a").action(close())])
            .unwrap();
        let err = faults
            .add(vec![FaultRule::new().id("a").action(close())])
            .unwrap_err();
        assert_eq!(err.path, "$.id");
        assert!(err.message.contains("duplicate id \"a\""), "{err}");
        let err = faults
            .add(vec![
                FaultRule::new().action(close()),
                FaultRule::new().id("b").action(close()),
                FaultRule::new().id("b").action(close()),
            ])
            .unwrap_err();
        assert_eq!(err.path, "$[2].id");
        assert_eq!(ids(&faults.list()), ["a"]);
        // The failed batches did not consume generated ids.
        assert_eq!(
            ids(&faults.add(vec![FaultRule::new().action(close())]).unwrap()),
            ["r1"]
        );
    }

    #[test]
    fn generated_ids_never_collide_with_explicit_ones_in_the_same_batch() {
        let faults = Faults::new(0);
        let views = faults
            .add(vec![
                FaultRule::new().action(close()),
                FaultRule::new().id("r1").action(close()),
            ])
            .unwrap();
        assert_eq!(ids(&views), ["r2", "r1"]);
    }

    #[test]
    fn add_rechecks_shape_and_refuses_the_whole_batch() {
        let faults = Faults::new(0);
        let err = faults
            .add(vec![FaultRule::new().vendor("aliyun")])
            .unwrap_err();
        assert_eq!(
            (err.path.as_str(), err.message.as_str()),
            ("$.action", "a rule needs an action")
        );
        let err = faults
            .add(vec![
                FaultRule::new().action(close()),
                FaultRule::new().first(0).action(close()),
            ])
            .unwrap_err();
        assert_eq!(err.path, "$[1].trigger.first");
        assert!(faults.is_empty());
        assert_eq!(faults.len(), 0);
        assert_eq!(faults.add(vec![]).unwrap(), Vec::<Value>::new());
        assert!(faults.is_empty());
    }

    #[test]
    fn views_carry_the_rule_and_its_counters() {
        let faults = engine(
            0,
            json!({"match": {"vendor": "aliyun"}, "trigger": {"every": 2}, "action": {"kind": "error", "code": "DeniedRequest"}}),
        );
        assert_eq!(
            faults.list(),
            [
                json!({"id": "r1", "match": {"vendor": "aliyun"}, "trigger": {"every": 2},
                    "action": {"kind": "error", "code": "DeniedRequest"}, "matched": 0, "fired": 0})
            ]
        );
        for _ in 0..3 {
            faults.evaluate(&update().facts());
            faults.evaluate(&other().facts());
        }
        assert_eq!(counters(&faults), [(3, 1)]);
    }

    #[test]
    fn is_empty_follows_add_remove_and_clear() {
        let faults = Faults::new(0);
        assert!(faults.is_empty());
        assert_eq!(faults.evaluate(&update().facts()), None);
        faults
            .add(vec![
                FaultRule::new().action(close()),
                FaultRule::new().action(close()),
            ])
            .unwrap();
        assert!(!faults.is_empty());
        assert!(faults.remove("r1"));
        assert!(!faults.is_empty());
        assert!(faults.remove("r2"));
        assert!(faults.is_empty());
        faults.add(vec![FaultRule::new().action(close())]).unwrap();
        faults.clear();
        assert!(faults.is_empty());
        assert_eq!(faults.len(), 0);
    }

    #[test]
    fn faults_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Faults>();
    }

    // ---- matching ----

    #[test]
    fn match_members_each_restrict() {
        let mut req = update();
        req.method = "post";
        req.path = "/v2/images";
        req.headers
            .append("X-Test", http::HeaderValue::from_static("1"));
        req.headers
            .append("x-test", http::HeaderValue::from_static("2"));
        req.params = vec![
            ("A".into(), "1".into()),
            ("InstanceName".into(), "demo".into()),
        ];
        let table = [
            (json!({}), true),
            (json!({"vendor": "aliyun"}), true),
            (json!({"vendor": "jd"}), false),
            (
                json!({"vendor": "aliyun", "operation": "UpdateImage"}),
                true,
            ),
            (json!({"vendor": "aliyun", "operation": "AddImage"}), false),
            (json!({"tenant": "imgemu-dev-ak"}), true),
            (json!({"tenant": "imgemu-dev-AK"}), false),
            (json!({"method": "POST"}), true),
            (json!({"method": "Post"}), true),
            (json!({"method": "GET"}), false),
            (json!({"path_prefix": "/v2/"}), true),
            (json!({"path_prefix": "/v2/images/"}), false),
            (json!({"header": {"name": "X-TEST", "value": "1"}}), true),
            (json!({"header": {"name": "x-test", "value": "2"}}), false), // only the first value counts
            (json!({"header": {"name": "x-other", "value": "1"}}), false),
            (
                json!({"param": {"name": "InstanceName", "value": "demo"}}),
                true,
            ),
            (
                json!({"param": {"name": "instancename", "value": "demo"}}),
                false,
            ),
            (json!({"param": {"name": "A", "value": "demo"}}), false),
        ];
        for (matcher, expected) in table {
            let faults = engine(0, json!({"match": matcher, "action": {"kind": "close"}}));
            assert_eq!(
                faults.evaluate(&req.facts()).is_some(),
                expected,
                "{matcher}"
            );
        }
    }

    // ---- triggers ----

    #[test]
    fn trigger_semantics() {
        let table: [(Value, &[u64]); 16] = [
            (json!({}), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            (json!({"first": 2}), &[1, 2]),
            (json!({"every": 3}), &[3, 6, 9]),
            (json!({"every": 1}), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            (json!({"after": 7}), &[8, 9, 10]),
            (json!({"after": 0}), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            (json!({"times": 2}), &[1, 2]),
            (json!({"every": 2, "times": 2}), &[2, 4]),
            (json!({"after": 2, "every": 2}), &[4, 6, 8, 10]),
            (json!({"first": 5, "every": 2}), &[2, 4]),
            (json!({"after": 1, "first": 3}), &[2, 3]),
            (json!({"after": 3, "times": 2}), &[4, 5]),
            (json!({"every": 2, "after": 3, "times": 2}), &[4, 6]),
            (json!({"first": 3, "after": 3}), &[]),
            (json!({"probability": 1}), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            (json!({"probability": 0}), &[]),
        ];
        for (trigger, expected) in table {
            let faults = engine(7, json!({"trigger": trigger, "action": {"kind": "close"}}));
            assert_eq!(firing(&faults, &update(), 10), expected, "{trigger}");
            assert_eq!(
                counters(&faults),
                [(10, expected.len() as u64)],
                "{trigger}"
            );
        }
    }

    #[test]
    fn counts_allow_handles_extremes_without_panicking() {
        let t = Trigger {
            first: Some(u64::MAX),
            every: Some(0),
            after: Some(u64::MAX),
            times: Some(0),
            probability: None,
        };
        assert!(!counts_allow(&t, u64::MAX, u64::MAX));
        assert!(counts_allow(&Trigger::default(), u64::MAX, u64::MAX));
    }

    #[test]
    fn the_first_firing_rule_wins_and_later_rules_do_not_move() {
        let faults = engine(
            0,
            json!([
                {"id": "once", "trigger": {"first": 1}, "action": {"kind": "reset"}},
                {"id": "jd-only", "match": {"vendor": "jd"}, "action": {"kind": "close"}},
                {"id": "always", "action": {"kind": "empty"}},
                {"id": "never-reached", "action": {"kind": "garbage"}}
            ]),
        );
        let fired = |req: &Req| faults.evaluate(&req.facts()).map(|f| f.rule_id);
        assert_eq!(fired(&update()).as_deref(), Some("once"));
        assert_eq!(counters(&faults), [(1, 1), (0, 0), (0, 0), (0, 0)]);
        assert_eq!(fired(&update()).as_deref(), Some("always"));
        assert_eq!(counters(&faults), [(2, 1), (0, 0), (1, 1), (0, 0)]);
        assert_eq!(fired(&other()).as_deref(), Some("jd-only"));
        assert_eq!(counters(&faults), [(3, 1), (1, 1), (1, 1), (0, 0)]);
    }

    #[test]
    fn a_skipped_rule_keeps_its_rng_untouched() {
        // Rule "p" behind an always-firing rule for 50 requests, then alone: it behaves exactly
        // as a fresh rule "p" would.
        let shadowed = engine(
            3,
            json!([
                {"id": "blocker", "trigger": {"first": 50}, "action": {"kind": "reset"}},
                {"id": "p", "trigger": {"probability": 0.5}, "action": {"kind": "close"}}
            ]),
        );
        for _ in 0..50 {
            assert_eq!(
                shadowed.evaluate(&update().facts()).unwrap().rule_id,
                "blocker"
            );
        }
        let fresh = engine(
            3,
            json!({"id": "p", "trigger": {"probability": 0.5}, "action": {"kind": "close"}}),
        );
        assert_eq!(
            firing(&shadowed, &update(), 100),
            firing(&fresh, &update(), 100)
        );
    }

    // ---- the RNG ----

    fn probabilistic_run(seed: u64, interleave: bool) -> Vec<Option<String>> {
        let faults = engine(
            seed,
            json!([
                {"id": "p", "match": {"vendor": "aliyun"}, "trigger": {"probability": 0.5}, "action": {"kind": "close"}},
                {"id": "q", "match": {"vendor": "aliyun", "operation": "UpdateImage"}, "trigger": {"probability": 0.3}, "action": {"kind": "reset"}}
            ]),
        );
        let mut out = Vec::new();
        for i in 0..200 {
            if interleave {
                for _ in 0..(i % 3) {
                    faults.evaluate(&other().facts());
                    faults.evaluate(&Req::new("azure", "x").facts());
                }
            }
            out.push(faults.evaluate(&update().facts()).map(|f| f.rule_id));
        }
        out
    }

    #[test]
    fn same_seed_same_faults_other_seed_other_faults() {
        let a = probabilistic_run(42, false);
        assert_eq!(a, probabilistic_run(42, false));
        assert_ne!(a, probabilistic_run(43, false));
        let p = a.iter().filter(|f| f.as_deref() == Some("p")).count();
        let q = a.iter().filter(|f| f.as_deref() == Some("q")).count();
        assert!((70..130).contains(&p), "p fired {p} times of 200");
        assert!((15..60).contains(&q), "q fired {q} times of about 100");
    }

    #[test]
    fn non_matching_traffic_does_not_change_which_requests_fault() {
        for seed in [0, 1, 42, u64::MAX] {
            assert_eq!(
                probabilistic_run(seed, false),
                probabilistic_run(seed, true),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn the_rng_depends_on_the_rule_id() {
        let run = |id: &str| {
            let faults = engine(
                42,
                json!({"id": id, "trigger": {"probability": 0.5}, "action": {"kind": "close"}}),
            );
            firing(&faults, &update(), 64)
        };
        assert_eq!(run("a"), run("a"));
        assert_ne!(run("a"), run("b"));
    }

    #[test]
    fn rule_rng_is_pinned() {
        // SHA-256(00 00 00 00 00 00 00 2a ‖ "r1"), first 8 bytes big-endian, into StdRng:
        // a change here changes every user's fault sequence.
        let mut hasher = Sha256::new();
        hasher.update(42u64.to_be_bytes());
        hasher.update(b"r1");
        let digest = hasher.finalize();
        let mut first8 = [0u8; 8];
        first8.copy_from_slice(&digest[..8]);
        let mut expected = StdRng::seed_from_u64(u64::from_be_bytes(first8));
        let mut actual = rule_rng(42, "r1");
        for _ in 0..4 {
            assert_eq!(actual.random::<u64>(), expected.random::<u64>());
        }
        assert_eq!(rule_rng(42, "r1").random::<u64>(), PINNED_R1_SEED_42);
    }

    /// The first `u64` of rule `r1`'s RNG under seed 42 (rand 0.9 StdRng).
    const PINNED_R1_SEED_42: u64 = 3_644_976_877_164_748_409;

    // ---- latency ----

    fn latencies(rule: Value, n: usize) -> Vec<Duration> {
        let faults = engine(9, rule);
        (0..n)
            .map(|_| {
                faults
                    .evaluate(&update().facts())
                    .and_then(|f| f.latency)
                    .expect("a latency")
            })
            .collect()
    }

    #[test]
    fn fixed_latency_is_exact_and_actions_without_one_have_none() {
        assert_eq!(
            latencies(json!({"action": {"kind": "latency", "fixed": "200ms"}}), 3),
            [Duration::from_millis(200); 3]
        );
        let faults = engine(0, json!({"action": {"kind": "close"}}));
        assert_eq!(faults.evaluate(&update().facts()).unwrap().latency, None);
    }

    #[test]
    fn uniform_latency_stays_within_bounds_and_is_deterministic() {
        let rule = json!({"action": {"kind": "latency", "uniform": ["50ms", "150ms"]}});
        let samples = latencies(rule.clone(), 500);
        assert_eq!(samples, latencies(rule, 500));
        let (lo, hi) = (Duration::from_millis(50), Duration::from_millis(150));
        assert!(samples.iter().all(|d| (lo..=hi).contains(d)));
        assert!(samples.iter().any(|d| *d < Duration::from_millis(70)));
        assert!(samples.iter().any(|d| *d > Duration::from_millis(130)));
        assert!(samples.iter().all(|d| d.subsec_nanos() % 1_000_000 == 0));
        let equal = latencies(
            json!({"action": {"kind": "latency", "uniform": ["80ms", "80ms"]}}),
            5,
        );
        assert_eq!(equal, [Duration::from_millis(80); 5]);
    }

    #[test]
    fn lognormal_latency_is_capped_centred_and_deterministic() {
        let rule = json!({"action": {"kind": "close"}, "latency": {"lognormal": {"median": "80ms", "sigma": 0.4, "max": "150ms"}}});
        let mut samples = latencies(rule.clone(), 1001);
        assert_eq!(samples, latencies(rule, 1001));
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(150)));
        samples.sort();
        let median = samples[500].as_millis();
        assert!((70..=90).contains(&median), "median {median}ms");
        assert!(
            samples.contains(&Duration::from_millis(150)),
            "the cap is reached"
        );
        let flat = latencies(
            json!({"action": {"kind": "latency", "lognormal": {"median": "80ms", "sigma": 0, "max": "1s"}}}),
            5,
        );
        assert_eq!(flat, [Duration::from_millis(80); 5]);
    }

    #[test]
    fn a_latency_action_and_a_latency_member_add_up() {
        let both = latencies(
            json!({"action": {"kind": "latency", "fixed": "1s"}, "latency": {"uniform": ["10ms", "20ms"]}}),
            50,
        );
        assert!(both
            .iter()
            .all(|d| (Duration::from_millis(1010)..=Duration::from_millis(1020)).contains(d)));
        let member_only = latencies(
            json!({"match": {"vendor": "aliyun"}, "action": {"kind": "error", "code": "DeniedRequest"}, "latency": {"fixed": "5s"}}),
            2,
        );
        assert_eq!(member_only, [Duration::from_secs(5); 2]);
    }

    #[test]
    fn sampling_survives_degenerate_models() {
        let mut rng = rule_rng(0, "x");
        let huge = Latency::Lognormal {
            median: Duration::from_millis(1),
            sigma: f64::MAX,
            max: Duration::from_secs(1),
        };
        let zero = Latency::Lognormal {
            median: Duration::ZERO,
            sigma: f64::MAX,
            max: Duration::from_secs(1),
        };
        let reversed = Latency::Uniform(Duration::from_millis(9), Duration::from_millis(3));
        for _ in 0..100 {
            assert!(sample(&huge, &mut rng) <= Duration::from_secs(1));
            assert!(sample(&zero, &mut rng) <= Duration::from_secs(1));
            assert!(sample(&reversed, &mut rng) <= Duration::from_millis(9));
        }
        assert_eq!(capped(f64::NAN, Duration::from_secs(1)), Duration::ZERO);
        assert_eq!(
            capped(f64::INFINITY, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(capped(-5.0, Duration::from_secs(1)), Duration::ZERO);
    }

    #[test]
    fn fired_renders_for_the_journal() {
        let faults = engine(
            0,
            json!({"id": "slow", "action": {"kind": "latency", "fixed": "250ms"}}),
        );
        let fired = faults.evaluate(&update().facts()).unwrap();
        assert_eq!(
            fired.to_json(),
            json!({"rule": "slow", "action": {"kind": "latency", "fixed": "250ms"}, "latency": "250ms"})
        );
        let faults = engine(0, json!({"action": {"kind": "task_stuck"}}));
        assert_eq!(
            faults.evaluate(&update().facts()).unwrap().to_json(),
            json!({"rule": "r1", "action": {"kind": "task_stuck"}})
        );
    }

    // ---- fuzz ----

    /// A random JSON value biased towards rule-shaped documents.
    fn random_json(rng: &mut StdRng, depth: u32) -> Value {
        const KEYS: &[&str] = &[
            "id",
            "match",
            "trigger",
            "action",
            "latency",
            "vendor",
            "operation",
            "tenant",
            "method",
            "path_prefix",
            "header",
            "param",
            "name",
            "value",
            "probability",
            "first",
            "every",
            "after",
            "times",
            "kind",
            "code",
            "status",
            "headers",
            "body",
            "fixed",
            "uniform",
            "lognormal",
            "median",
            "sigma",
            "max",
            "apply",
            "fraction",
            "bytes",
            "chunks",
            "over",
            "message",
            "x",
        ];
        const STRINGS: &[&str] = &[
            "aliyun",
            "jd",
            "azure",
            "UpdateImage",
            "image_update",
            "DeniedRequest",
            "10020",
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
            "before",
            "after",
            "200ms",
            "1s",
            "10m",
            "11m",
            "1.5s",
            "",
            "POST",
            "x-test",
            "bad header",
            "r1",
            "r2",
            "a/b",
            "\u{0}",
        ];
        let leaf = depth == 0 || rng.random_bool(0.3);
        match rng.random_range(0..if leaf { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.random()),
            2 => {
                let picks = [0.0, 0.5, 1.0, -1.0, 1.5, 1e300, -0.0, 2.5];
                json!(picks[rng.random_range(0..picks.len())])
            }
            3 => {
                let picks = [
                    0u64,
                    1,
                    2,
                    5,
                    99,
                    100,
                    503,
                    599,
                    600,
                    1000,
                    1001,
                    65536,
                    65537,
                    u64::MAX,
                ];
                json!(picks[rng.random_range(0..picks.len())])
            }
            4 => json!(STRINGS[rng.random_range(0..STRINGS.len())]),
            5 => Value::Array(
                (0..rng.random_range(0..4))
                    .map(|_| random_json(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.random_range(0..5))
                    .map(|_| {
                        (
                            KEYS[rng.random_range(0..KEYS.len())].to_string(),
                            random_json(rng, depth - 1),
                        )
                    })
                    .collect(),
            ),
        }
    }

    /// Mostly valid rules with one member randomly replaced, to reach deep validation paths.
    fn mutated_rule(rng: &mut StdRng) -> Value {
        let bases = [
            json!({"match": {"vendor": "aliyun", "operation": "UpdateImage"}, "trigger": {"probability": 0.5, "every": 2}, "action": {"kind": "error", "code": "DeniedRequest"}}),
            json!({"action": {"kind": "http", "status": 503, "headers": {"a": "b"}, "body": "x"}}),
            json!({"action": {"kind": "latency", "lognormal": {"median": "80ms", "sigma": 0.4, "max": "1s"}}}),
            json!({"action": {"kind": "dribble", "chunks": 3, "over": "1s"}, "latency": {"uniform": ["1ms", "2ms"]}}),
            json!({"action": {"kind": "hang", "max": "1s", "apply": "after"}}),
        ];
        let mut rule = bases[rng.random_range(0..bases.len())].clone();
        let replacement = random_json(rng, 2);
        let sections = ["match", "trigger", "action", "latency"];
        let section = sections[rng.random_range(0..sections.len())];
        match rule.get_mut(section).and_then(Value::as_object_mut) {
            Some(obj) if !obj.is_empty() && rng.random_bool(0.8) => {
                let keys: Vec<String> = obj.keys().cloned().collect();
                let key = keys[rng.random_range(0..keys.len())].clone();
                obj.insert(key, replacement);
            }
            _ => rule[section] = replacement,
        }
        rule
    }

    #[test]
    fn random_json_never_panics_and_what_parses_round_trips_and_runs() {
        let mut rng = StdRng::seed_from_u64(0xfa11);
        let mut accepted = 0;
        for i in 0..20_000 {
            let doc = if i % 2 == 0 {
                random_json(&mut rng, 4)
            } else {
                mutated_rule(&mut rng)
            };
            let Ok(rules) = parse_rules(&doc, &TestCatalog) else {
                continue;
            };
            accepted += 1;
            for rule in &rules {
                let again =
                    parse_rules(&rule.to_json(), &TestCatalog).expect("rendered rules parse");
                assert_eq!(again, vec![rule.clone()], "{doc}");
            }
            let faults = Faults::new(i);
            if faults.add(rules).is_ok() {
                for req in [update(), other()] {
                    if let Some(fired) = faults.evaluate(&req.facts()) {
                        assert!(fired
                            .latency
                            .is_none_or(|d| d <= 2 * super::super::rule::MAX_DELAY));
                    }
                }
                let _ = faults.list();
            }
        }
        assert!(
            accepted > 1000,
            "only {accepted} documents parsed: the fuzz is too shallow"
        );
    }
}
