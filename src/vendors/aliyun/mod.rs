//! Alibaba Cloud Image Search, API 2020-12-14 (RPC on `/`): the Action front door, V3 and legacy
//! signatures, instances with flow control, and the image actions. The behaviour contract is
//! `shared/spec/aliyun.md`; the user guide, with every decision taken, is `docs/aliyun.md`.

mod auth;
mod errors;
mod fields;
pub mod filter;
mod model;
mod params;
mod picture;
mod read;
pub mod sign;
mod write;

use std::collections::BTreeMap;
use std::time::Instant;

use http::header::HeaderName;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::Tenant;
use crate::credentials::Credential;
use crate::quota::SlidingWindows;
use crate::replay::NonceCache;
use crate::reply::Reply;
use crate::state::StateError;
use crate::tenants::TenantMap;
use crate::vendor::{Answer, Ctx, PreparedState, Request, Vendor};
use errors::AliError;
use model::{Instance, InstanceInfo, TenantState};
use params::Params;

/// Largest body accepted (8 MiB).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The operation name of a request whose Action is missing or unknown.
pub const UNKNOWN_ACTION: &str = "(unknown)";

/// Actions the vendor documents that the emulator does not serve (spec §3.9).
const NOT_EMULATED: &[&str] = &[
    "SearchImageByText",
    "CompareSimilarByImage",
    "DumpMeta",
    "DumpMetaList",
    "IncreaseInstance",
    "IncreaseList",
];

/// Every operation name (journal, fault rules).
pub const OPERATIONS: &[&str] = &[
    "UpdateImage",
    "AddImage",
    "DeleteImage",
    "CheckImageExists",
    "SearchImageByName",
    "SearchImageByPic",
    "SearchImageByFilter",
    "Detail",
    "SearchImageByText",
    "CompareSimilarByImage",
    "DumpMeta",
    "DumpMetaList",
    "IncreaseInstance",
    "IncreaseList",
    UNKNOWN_ACTION,
];

/// The Alibaba vendor and its state.
pub struct Aliyun {
    tenants: TenantMap<TenantState>,
    windows: SlidingWindows,
    nonces: NonceCache,
}

impl Default for Aliyun {
    fn default() -> Self {
        Aliyun::new()
    }
}

/// The flow-control limit of an action on an instance (spec §7).
fn qps_limit(action: &str, info: &InstanceInfo) -> usize {
    let limit = match action {
        "AddImage" if info.capacity == 10 => 1,
        "AddImage" => 5,
        "Detail" => 1,
        "SearchImageByName" | "SearchImageByPic" | "SearchImageByFilter" => info.qps,
        _ => 20,
    };
    usize::try_from(limit).unwrap_or(1)
}

/// Which success shape an action answers with.
fn success_body(action: &str, request_id: &str, result: Value) -> Value {
    let mut body = match result {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    body.insert("RequestId".into(), json!(request_id));
    body.insert("Success".into(), json!(true));
    match action {
        "Detail" => {}
        "UpdateImage" | "AddImage" | "DeleteImage" => {
            body.insert("Code".into(), json!(0));
            body.insert("Message".into(), json!("success"));
        }
        _ => {
            body.insert("Code".into(), json!(0));
            body.insert("Msg".into(), json!("success"));
        }
    }
    Value::Object(body)
}

/// The body of `POST /_imgemu/aliyun/instances` (DESIGN §5).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceRequest {
    tenant: String,
    name: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    service_type: Option<i64>,
    #[serde(default)]
    capacity: Option<i64>,
    #[serde(default)]
    qps: Option<i64>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    image_limit: Option<i64>,
}

impl Aliyun {
    /// An Alibaba vendor with no instances.
    pub fn new() -> Self {
        Aliyun {
            tenants: TenantMap::default(),
            windows: SlidingWindows::default(),
            nonces: NonceCache::new(time::Duration::seconds(auth::WINDOW_S)),
        }
    }

    /// Steps 3–11 of spec §2.4.
    fn run(
        &self,
        action: &'static str,
        tenant: &Tenant,
        req: &Request,
        params: &Params,
        ctx: &Ctx<'_>,
    ) -> Result<Value, AliError> {
        let started = Instant::now();
        if action == UNKNOWN_ACTION {
            return Err(AliError::new(
                "InvalidAction.NotFound",
                "missing or unknown Action",
            ));
        }
        let version = params.action_or_version(req, "Version", "x-acs-version");
        if version != Some(params::VERSION) {
            return Err(AliError::new(
                "InvalidVersion",
                format!("Version {version:?}"),
            ));
        }
        if NOT_EMULATED.contains(&action) {
            return Err(AliError::new(
                "UnsupportedOperationType",
                format!("{action} is not emulated"),
            ));
        }
        let name = params
            .text("InstanceName")
            .ok_or_else(|| AliError::new("MissingInstanceName", "InstanceName missing"))?;
        let unknown = || {
            AliError::new(
                "InvalidInstance",
                format!("no instance {name:?} for this tenant"),
            )
        };
        // A lookup never creates tenant state: only instances (control plane, documents) do.
        let shared = self.tenants.get(tenant).ok_or_else(unknown)?;
        let mut state = shared.lock();
        let instance = state
            .instance_mut(name)
            .filter(|_| name.chars().count() <= 20)
            .ok_or_else(unknown)?;
        if action != "Detail" && instance.info.status == "unavailable" {
            return Err(AliError::new("InstanceStatusError", "instance unavailable"));
        }
        let quotas = ctx.settings.quotas;
        if quotas {
            let key = format!("{tenant}\u{0}{name}\u{0}{action}");
            if !self
                .windows
                .admit(&key, ctx.clock.now(), qps_limit(action, &instance.info))
            {
                return Err(AliError::new("DeniedRequest", "instance flow control"));
            }
        }
        dispatch(action, instance, params, quotas, started)
    }

    fn create_instance(&self, body: &[u8], ctx: &Ctx<'_>) -> Reply {
        let error =
            |status: StatusCode, message: String| Reply::json(status, &json!({ "error": message }));
        let request: InstanceRequest = match serde_json::from_slice::<Value>(body)
            .map_err(|e| format!("invalid JSON body: {e}"))
            .and_then(|v| crate::state::from_value(&v).map_err(|e| e.under("$").to_string()))
        {
            Ok(r) => r,
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        };
        let now_ms = i64::try_from(ctx.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let info = InstanceInfo {
            name: request.name,
            region: request.region.unwrap_or_else(|| "ap-southeast-1".into()),
            service_type: request.service_type.unwrap_or(0),
            capacity: request.capacity.unwrap_or(100),
            qps: request.qps.unwrap_or(10),
            status: request.status.unwrap_or_else(|| "available".into()),
            utc_create: now_ms,
            utc_expire: now_ms + 365 * 24 * 3600 * 1000,
            image_limit: request.image_limit,
        };
        if let Err((field, message)) = info.validate() {
            return error(StatusCode::BAD_REQUEST, format!("{field}: {message}"));
        }
        if request.tenant.is_empty() {
            return error(StatusCode::BAD_REQUEST, "tenant: must not be empty".into());
        }
        let shared = self.tenants.get_or_create(&request.tenant);
        let mut state = shared.lock();
        if state.instance(&info.name).is_some() {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "name: tenant {:?} already has instance {:?}",
                    request.tenant, info.name
                ),
            );
        }
        state.instances.push(Instance {
            info,
            images: BTreeMap::new(),
        });
        let view = model::export(std::iter::once((&request.tenant, &*state)));
        let created = view["tenants"][&request.tenant]["instances"]
            .as_array()
            .and_then(|list| list.last().cloned())
            .unwrap_or(Value::Null);
        Reply::json(StatusCode::CREATED, &created)
    }
}

fn dispatch(
    action: &str,
    instance: &mut Instance,
    params: &Params,
    quotas: bool,
    started: Instant,
) -> Result<Value, AliError> {
    match action {
        "UpdateImage" => write::update_image(instance, params),
        "AddImage" => write::add_image(instance, params, quotas),
        "DeleteImage" => write::delete_image(instance, params),
        "CheckImageExists" => read::check_image_exists(instance, params),
        "SearchImageByName" => read::search_by_name(instance, params, started),
        "SearchImageByPic" => read::search_by_pic(instance, params, started),
        "SearchImageByFilter" => read::search_by_filter(instance, params),
        "Detail" => Ok(read::detail(instance)),
        other => Err(AliError::new(
            "InternalError",
            format!("no handler for {other}"),
        )),
    }
}

/// The request's parameters, decoded once per request and shared by every pipeline step.
fn params(req: &Request) -> Result<std::borrow::Cow<'_, Params>, AliError> {
    match req.derived.get_or_init(|| Params::decode(req)) {
        Some(Ok(params)) => Ok(std::borrow::Cow::Borrowed(params)),
        Some(Err(e)) => Err(e.clone()),
        None => Params::decode(req).map(std::borrow::Cow::Owned),
    }
}

impl Vendor for Aliyun {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn owns_path(&self, path: &str) -> bool {
        path == "/"
    }

    fn request_id(&self, _headers: &HeaderMap) -> (HeaderName, String) {
        (errors::request_id_header(), errors::new_request_id())
    }

    fn body_limit(&self) -> usize {
        BODY_LIMIT
    }

    fn classify(&self, req: &Request, _ctx: &Ctx<'_>) -> Result<&'static str, Reply> {
        if req.method != Method::GET && req.method != Method::POST {
            return Err(AliError::new("InvalidAction.NotFound", "method")
                .answer(req)
                .reply);
        }
        let Ok(params) = params(req) else {
            return Ok(UNKNOWN_ACTION);
        };
        let action = params
            .action_or_version(req, "Action", "x-acs-action")
            .unwrap_or("");
        Ok(OPERATIONS
            .iter()
            .copied()
            .find(|op| *op == action && *op != UNKNOWN_ACTION)
            .unwrap_or(UNKNOWN_ACTION))
    }

    fn precheck(
        &self,
        _operation: &'static str,
        req: &Request,
        _ctx: &Ctx<'_>,
    ) -> Result<(), Answer> {
        if req.body_too_large {
            return Err(AliError::new("BadRequest", "body larger than 8 MiB").answer(req));
        }
        params(req).map(|_| ()).map_err(|e| e.answer(req))
    }

    fn authenticate(
        &self,
        _operation: &'static str,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<Tenant, Answer> {
        let params = params(req).map_err(|e| e.answer(req))?;
        auth::authenticate(req, &params, ctx, &self.nonces).map_err(|e| e.answer(req))
    }

    fn handle(
        &self,
        operation: &'static str,
        tenant: &Tenant,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Answer {
        let result = params(req).and_then(|params| self.run(operation, tenant, req, &params, ctx));
        match result {
            Ok(value) => Answer::plain(Reply::json_as(
                StatusCode::OK,
                errors::JSON,
                &success_body(operation, &req.request_id, value),
            )),
            Err(e) => e.answer(req),
        }
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn error_codes(&self) -> &'static [&'static str] {
        errors::code_names()
    }

    fn render_error(
        &self,
        code: &str,
        _status: Option<StatusCode>,
        req: &Request,
        _ctx: &Ctx<'_>,
    ) -> Option<Reply> {
        errors::render(code, None, req)
    }

    fn builtin_credentials(&self) -> Vec<Credential> {
        vec![Credential {
            vendor: "aliyun".into(),
            access_key: Some("imgemu-dev-ak".into()),
            secret_key: Some("imgemu-dev-sk".into()),
            ..Credential::default()
        }]
    }

    fn check_credential(&self, cred: &Credential) -> Result<(), String> {
        let ok = cred
            .access_key
            .as_deref()
            .is_some_and(|k| !k.is_empty() && !k.contains([',', ' ']))
            && cred.secret_key.as_deref().is_some_and(|s| !s.is_empty())
            && cred.project_id.is_none()
            && cred.token.is_none()
            && cred.user.is_none()
            && cred.password.is_none();
        if ok {
            Ok(())
        } else {
            Err("an aliyun credential is {\"vendor\":\"aliyun\",\"access_key\":..,\"secret_key\":..}".into())
        }
    }

    fn export_state(&self) -> Value {
        let copies = self.tenants.snapshot();
        model::export(copies.iter().map(|(name, state)| (name, state)))
    }

    fn prepare_state(&self, member: Option<&Value>) -> Result<PreparedState, StateError> {
        Ok(Box::new(model::import(member)?))
    }

    fn mutates(&self, operation: &str) -> bool {
        matches!(operation, "AddImage" | "UpdateImage" | "DeleteImage")
    }

    fn export_tenant(&self, tenant: &str) -> Value {
        let state = self.tenants.copy_of(tenant);
        model::export(std::iter::once((&tenant.to_string(), &state)))
    }

    fn internal_error_code(&self) -> &'static str {
        "InternalError"
    }

    fn install_state(&self, prepared: PreparedState) {
        if let Ok(tenants) = prepared.downcast::<BTreeMap<String, TenantState>>() {
            self.tenants.replace(*tenants);
            self.windows.clear();
        }
    }

    fn control(&self, method: &Method, rest: &str, body: &[u8], ctx: &Ctx<'_>) -> Option<Reply> {
        match (method, rest) {
            (&Method::POST, "instances") => Some(self.create_instance(body, ctx)),
            (_, "instances") => Some(
                Reply::json(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &json!({"error": "method not allowed; use POST"}),
                )
                .with_static_header(http::header::ALLOW, "POST"),
            ),
            _ => None,
        }
    }
}
