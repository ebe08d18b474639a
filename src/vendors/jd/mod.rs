//! JD Cloud NeuHub image search (`/jdai/…`): the general and product families, async indexing
//! tasks, JDCLOUD2-HMAC-SHA256 auth, daily quota and QPS limits. The behaviour contract is
//! `shared/spec/jd.md`; the user guide, with every decision taken, is `docs/jd.md`.

mod auth;
mod codes;
mod content;
mod envelope;
mod fields;
mod general;
mod model;
mod product;
mod search;
pub mod sign;
mod snapshot;
mod tasks;

use std::collections::BTreeMap;

use http::header::{HeaderName, ALLOW};
use http::{HeaderMap, Method, StatusCode};
use parking_lot::RwLock;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

pub use tasks::StatusItems;

use crate::auth::Tenant;
use crate::credentials::Credential;
use crate::lifecycle::TransitionPolicy;
use crate::quota::QpsWindows;
use crate::replay::NonceCache;
use crate::reply::Reply;
use crate::state::StateError;
use crate::tenants::TenantMap;
use crate::vendor::{Answer, Ctx, ForcedOutcome, PreparedState, Request, Vendor};
use envelope::Family;
use model::{Quota, TaskFault, TaskState, TenantState};

/// Largest body accepted (5 MiB).
pub const BODY_LIMIT: usize = 5 * 1024 * 1024;

/// Default daily call quota per tenant.
pub const DEFAULT_DAILY_QUOTA: u64 = 5000;

/// (path after `/jdai/`, method, operation).
const ROUTES: &[(&str, Method)] = &[
    ("index", Method::POST),
    ("task", Method::GET),
    ("index_search", Method::POST),
    ("collection_list", Method::GET),
    ("image_delete", Method::POST),
    ("image_update", Method::POST),
    ("image_fetch", Method::POST),
    ("product_image_create_product", Method::POST),
    ("product_image_add", Method::POST),
    ("product_image_status", Method::POST),
    ("product_image_search", Method::POST),
    ("product_image_info", Method::POST),
    ("product_image_del_image", Method::POST),
    ("product_image_del_product", Method::POST),
];

/// Operation names (journal, fault rules): the path's last segment.
pub const OPERATIONS: &[&str] = &[
    "index",
    "task",
    "index_search",
    "collection_list",
    "image_delete",
    "image_update",
    "image_fetch",
    "product_image_create_product",
    "product_image_add",
    "product_image_status",
    "product_image_search",
    "product_image_info",
    "product_image_del_image",
    "product_image_del_product",
];

/// Run-time switches (`[jd]` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Switches {
    daily_quota: u64,
    qps_limit: Option<u32>,
    product_status_items: StatusItems,
    max_finished_tasks: usize,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            daily_quota: DEFAULT_DAILY_QUOTA,
            qps_limit: None,
            product_status_items: StatusItems::Strings,
            max_finished_tasks: crate::lifecycle::DEFAULT_MAX_FINISHED,
        }
    }
}

/// What an operation handler sees besides the tenant's state and the body.
pub(crate) struct OpCtx<'a> {
    tenant: &'a str,
    now: OffsetDateTime,
    quotas: bool,
    transition: TransitionPolicy,
    status_items: StatusItems,
    lifecycle: Option<crate::faults::Lifecycle>,
    max_finished_tasks: usize,
}

/// The JD vendor and its state.
pub struct Jd {
    tenants: TenantMap<TenantState>,
    switches: RwLock<Switches>,
    qps: QpsWindows,
    nonces: NonceCache,
}

impl Default for Jd {
    fn default() -> Self {
        Jd::new()
    }
}

/// The UTC+8 calendar date of an instant: the day JD's daily quota counts in.
fn quota_day(now: OffsetDateTime) -> time::Date {
    (now.to_offset(time::UtcOffset::UTC) + time::Duration::hours(8)).date()
}

impl Jd {
    /// A JD vendor with empty state and default switches.
    pub fn new() -> Self {
        Jd {
            tenants: TenantMap::default(),
            switches: RwLock::new(Switches::default()),
            qps: QpsWindows::default(),
            nonces: NonceCache::new(time::Duration::seconds(600)),
        }
    }

    /// Calls left today for a tenant, without counting one.
    fn remaining(&self, tenant: Option<&str>, now: OffsetDateTime) -> u64 {
        let quota = self.switches.read().daily_quota;
        let Some(tenant) = tenant else { return quota };
        let Some(state) = self.tenants.get(tenant) else {
            return quota;
        };
        let state = state.lock();
        if state.quota.date == Some(quota_day(now)) {
            quota.saturating_sub(state.quota.count)
        } else {
            quota
        }
    }

    fn remaining_for(&self, req: &Request, ctx: &Ctx<'_>) -> u64 {
        self.remaining(auth::access_key_hint(req).as_deref(), ctx.clock.now())
    }

    /// Steps 4–8 of spec §2.5 under the tenant's lock.
    fn run(
        &self,
        operation: &'static str,
        tenant: &Tenant,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Answer {
        let now = ctx.clock.now();
        let switches = *self.switches.read();
        let quotas = ctx.settings.quotas;
        let shared = self.tenants.get_or_create(tenant);
        let mut state = shared.lock();
        tasks::finish_due(&mut state, now);
        let today = quota_day(now);
        if state.quota.date != Some(today) {
            state.quota = Quota {
                date: Some(today),
                count: 0,
            };
        }
        let current = switches.daily_quota.saturating_sub(state.quota.count);
        if let Some(limit) = switches.qps_limit.filter(|_| quotas) {
            if !self.qps.admit(tenant, now.unix_timestamp(), limit) {
                return Answer::noted(
                    envelope::system_error(codes::QPS_LIMIT, current),
                    "10043: QPS limit",
                );
            }
        }
        if quotas && state.quota.count >= switches.daily_quota {
            return Answer::noted(
                envelope::system_error(codes::DAILY_QUOTA, 0),
                "10040: daily quota used up",
            );
        }
        state.quota.count += 1;
        let remain = switches.daily_quota.saturating_sub(state.quota.count);
        let family = Family::of(operation);
        let op = OpCtx {
            tenant,
            now,
            quotas,
            transition: ctx.settings.transition,
            status_items: switches.product_status_items,
            lifecycle: ctx.lifecycle.cloned(),
            max_finished_tasks: switches.max_finished_tasks,
        };
        let outcome = if req.method == Method::GET {
            match operation {
                "task" => general::task(&op, &mut state, req.query.as_deref()),
                _ => general::collection_list(&op, &mut state),
            }
        } else {
            match serde_json::from_slice::<Value>(&req.body) {
                Ok(Value::Object(body)) => dispatch(operation, &op, &mut state, &body),
                _ => Err(codes::INVALID_PARAMETER_JSON),
            }
        };
        match outcome {
            Ok(result) => Answer::plain(envelope::success(family, result, remain)),
            Err(code) => Answer::noted(
                envelope::business_error(family, code, remain),
                format!("{} {}", code.code, code.wire_name()),
            ),
        }
    }
}

fn dispatch(
    operation: &str,
    op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Result<Value, codes::Business> {
    match operation {
        "index" => general::index(op, state, body),
        "index_search" => general::index_search(op, state, body),
        "image_delete" => general::image_delete(op, state, body),
        "image_update" => general::image_update(op, state, body),
        "image_fetch" => general::image_fetch(op, state, body),
        "product_image_create_product" => product::create_product(op, state, body),
        "product_image_add" => product::add(op, state, body),
        "product_image_status" => product::status(op, state, body),
        "product_image_search" => product::search(op, state, body),
        "product_image_info" => product::info(op, state, body),
        "product_image_del_image" => product::del_image(op, state, body),
        "product_image_del_product" => product::del_product(op, state, body),
        _ => Err(codes::INTERNAL_SERVER_ERROR),
    }
}

impl Vendor for Jd {
    fn name(&self) -> &'static str {
        "jd"
    }

    fn owns_path(&self, path: &str) -> bool {
        path == "/jdai" || path.starts_with("/jdai/")
    }

    fn request_id(&self, _headers: &HeaderMap) -> (HeaderName, String) {
        (envelope::request_id_header(), envelope::new_request_id())
    }

    fn body_limit(&self) -> usize {
        BODY_LIMIT
    }

    fn classify(&self, req: &Request, ctx: &Ctx<'_>) -> Result<&'static str, Reply> {
        let segment = req.path.strip_prefix("/jdai/").unwrap_or("");
        // The calls left are only shown on a refusal: not looked up for a routed request.
        match ROUTES.iter().position(|(path, _)| *path == segment) {
            Some(i) if ROUTES[i].1 == req.method => Ok(OPERATIONS[i]),
            Some(i) => Err(envelope::envelope(
                StatusCode::METHOD_NOT_ALLOWED,
                codes::NO_SUCH_API,
                self.remaining_for(req, ctx),
                None,
            )
            .with_header(ALLOW, ROUTES[i].1.as_str())),
            None => Err(envelope::envelope(
                StatusCode::NOT_FOUND,
                codes::NO_SUCH_API,
                self.remaining_for(req, ctx),
                None,
            )),
        }
    }

    fn precheck(
        &self,
        _operation: &'static str,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<(), Answer> {
        if req.body_too_large {
            let remain = self.remaining_for(req, ctx);
            return Err(Answer::noted(
                envelope::envelope(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::GATEWAY_FAILURE,
                    remain,
                    None,
                ),
                "10030: body larger than 5 MiB",
            ));
        }
        Ok(())
    }

    fn authenticate(
        &self,
        _operation: &'static str,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<Tenant, Answer> {
        auth::authenticate(req, ctx, &self.nonces).map_err(|refusal| {
            let remain = self.remaining_for(req, ctx);
            Answer::noted(
                envelope::system_error(refusal.code, remain),
                format!("{}: {}", refusal.code.code, refusal.cause),
            )
        })
    }

    fn handle(
        &self,
        operation: &'static str,
        tenant: &Tenant,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Answer {
        self.run(operation, tenant, req, ctx)
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn error_codes(&self) -> &'static [&'static str] {
        codes::fault_code_names()
    }

    fn render_error(
        &self,
        code: &str,
        _status: Option<StatusCode>,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Option<Reply> {
        let remain = self.remaining_for(req, ctx);
        if let Some(system) = codes::system_by_code(code) {
            return Some(envelope::system_error(system, remain));
        }
        let business = codes::business_by_name(code)?;
        let operation = req.path.rsplit('/').next().unwrap_or("");
        Some(envelope::business_error(
            Family::of(operation),
            business,
            remain,
        ))
    }

    fn builtin_credentials(&self) -> Vec<Credential> {
        vec![Credential {
            vendor: "jd".into(),
            access_key: Some("imgemu-dev-ak".into()),
            secret_key: Some("imgemu-dev-sk".into()),
            ..Credential::default()
        }]
    }

    fn check_credential(&self, cred: &Credential) -> Result<(), String> {
        let ok = cred
            .access_key
            .as_deref()
            .is_some_and(|k| !k.is_empty() && !k.contains(['/', ',', ' ']))
            && cred.secret_key.as_deref().is_some_and(|s| !s.is_empty())
            && cred.project_id.is_none()
            && cred.token.is_none()
            && cred.user.is_none()
            && cred.password.is_none();
        if ok {
            Ok(())
        } else {
            Err("a jd credential is {\"vendor\":\"jd\",\"access_key\":..,\"secret_key\":..} (the key without '/', ',' or spaces)".into())
        }
    }

    fn export_state(&self) -> Value {
        let copies = self.tenants.snapshot();
        snapshot::export(copies.iter().map(|(name, state)| (name, state)))
    }

    fn prepare_state(&self, member: Option<&Value>) -> Result<PreparedState, StateError> {
        Ok(Box::new(snapshot::import(member)?))
    }

    fn mutates(&self, operation: &str) -> bool {
        // Status reads count toward `polls:N` and can finish a task.
        matches!(
            operation,
            "index"
                | "image_delete"
                | "image_update"
                | "task"
                | "product_image_create_product"
                | "product_image_add"
                | "product_image_status"
                | "product_image_del_image"
                | "product_image_del_product"
        )
    }

    fn export_tenant(&self, tenant: &str) -> Value {
        let state = self.tenants.copy_of(tenant);
        snapshot::export(std::iter::once((&tenant.to_string(), &state)))
    }

    fn internal_error_code(&self) -> &'static str {
        "INTERNAL_SERVER_ERROR"
    }

    fn install_state(&self, prepared: PreparedState) {
        if let Ok(tenants) = prepared.downcast::<BTreeMap<String, TenantState>>() {
            self.tenants.replace(*tenants);
            self.qps.clear();
        }
    }

    fn tasks(&self, _ctx: &Ctx<'_>) -> Vec<Value> {
        let mut views = Vec::new();
        self.tenants.for_each(|name, state| {
            views.extend(state.tasks.values().map(|t| tasks::view(name, t)))
        });
        views
    }

    fn force_task(
        &self,
        id: &str,
        outcome: &ForcedOutcome,
        _ctx: &Ctx<'_>,
    ) -> Option<Result<Value, String>> {
        self.tenants.find_map(|name, state| {
            let task = state.tasks.get_mut(id)?;
            if matches!(task.state, TaskState::Finished { .. }) {
                return Some(Err(format!("task {id:?} is already FINISHED")));
            }
            let family = task.family;
            task.fault = TaskFault::None;
            let fail = match outcome {
                ForcedOutcome::Finish => None,
                ForcedOutcome::Fail(message) => Some(
                    message
                        .clone()
                        .unwrap_or_else(|| tasks::default_fail_message(family).to_string()),
                ),
            };
            tasks::finish(state, id, fail);
            state.tasks.get(id).map(|t| Ok(tasks::view(name, t)))
        })
    }

    fn switches(&self) -> Map<String, Value> {
        let s = *self.switches.read();
        let mut out = Map::new();
        out.insert("daily_quota".into(), json!(s.daily_quota));
        out.insert(
            "qps_limit".into(),
            s.qps_limit.map_or_else(|| json!("off"), |q| json!(q)),
        );
        out.insert("max_finished_tasks".into(), json!(s.max_finished_tasks));
        out.insert(
            "product_status_items".into(),
            json!(match s.product_status_items {
                StatusItems::Strings => "strings",
                StatusItems::Objects => "objects",
            }),
        );
        out
    }

    fn set_switch(&self, key: &str, value: &Value) -> Result<(), String> {
        let mut switches = self.switches.write();
        match key {
            "daily_quota" => {
                switches.daily_quota = value
                    .as_u64()
                    .ok_or("jd.daily_quota: expected a non-negative integer")?;
            }
            "qps_limit" => {
                switches.qps_limit = match value {
                    Value::String(s) if s == "off" => None,
                    Value::Bool(false) | Value::Null => None,
                    Value::Number(n) => Some(
                        n.as_u64()
                            .filter(|q| *q >= 1)
                            .and_then(|q| u32::try_from(q).ok())
                            .ok_or("jd.qps_limit: expected off or an integer >= 1")?,
                    ),
                    _ => return Err("jd.qps_limit: expected off or an integer >= 1".into()),
                };
            }
            "max_finished_tasks" => {
                switches.max_finished_tasks = value
                    .as_u64()
                    .filter(|n| *n >= 1)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or("jd.max_finished_tasks: expected an integer >= 1")?;
            }
            "product_status_items" => {
                switches.product_status_items = match value.as_str() {
                    Some("strings") => StatusItems::Strings,
                    Some("objects") => StatusItems::Objects,
                    _ => return Err("jd.product_status_items: expected strings or objects".into()),
                };
            }
            other => {
                return Err(format!(
                    "unknown setting jd.{other}: expected daily_quota, qps_limit, max_finished_tasks or product_status_items"
                ))
            }
        }
        Ok(())
    }
}
