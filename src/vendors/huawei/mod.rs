//! Huawei Cloud IMS (`/v2/cloudimages…`, `/v2/images/…`, `/v1/…/jobs/…`): JSON-patch UpdateImage on
//! active images, list and show, create-image jobs, SDK-HMAC-SHA256 and token auth. The behaviour
//! contract is `shared/spec/huawei.md`; the user guide, with every decision taken, is
//! `docs/huawei.md`.

mod auth;
mod create;
mod error;
mod index;
mod jobs;
mod list;
mod model;
mod packed;
mod patch;
mod rules;
pub mod sign;

use std::sync::atomic::{AtomicUsize, Ordering};

use http::header::HeaderName;
use http::{HeaderMap, Method, StatusCode};
use parking_lot::Mutex;
use serde_json::{json, Value};

use crate::auth::Tenant;
use crate::clock::format_seconds;
use crate::credentials::Credential;
use crate::reply::Reply;
use crate::state::StateError;
use crate::vendor::{Answer, Ctx, ForcedOutcome, PreparedState, Request, Vendor};
use error::{ims_reply, ImsError, JSON};
use jobs::{Job, JobFault, Phase};
use model::{Lookup, Store};

/// Largest body accepted (12 MiB).
pub const BODY_LIMIT: usize = 12 * 1024 * 1024;

/// Most private images per tenant.
pub const PRIVATE_IMAGE_QUOTA: usize = 100;

/// Operation names (journal, fault rules).
pub const OPERATIONS: &[&str] = &[
    "UpdateImage",
    "ListImages",
    "CreateImage",
    "GlanceShowImage",
    "GlanceDeleteImage",
    "ShowJob",
    "ShowJobProgress",
];

/// The Huawei vendor and its state.
pub struct Huawei {
    store: Mutex<Store>,
    /// Finished jobs kept per project (`huawei.max_finished_jobs`).
    max_finished_jobs: AtomicUsize,
}

/// A route: the operation a template serves for a method, or the methods it serves.
fn route(method: &Method, segments: &[&str]) -> Result<&'static str, bool> {
    let op = match segments {
        ["v2", "cloudimages"] => (Method::GET, "ListImages"),
        ["v2", "cloudimages", "action"] if *method == Method::POST => (Method::POST, "CreateImage"),
        ["v2", "cloudimages", id] if !id.is_empty() => (Method::PATCH, "UpdateImage"),
        ["v2", "images", id] if !id.is_empty() => {
            return match *method {
                Method::GET => Ok("GlanceShowImage"),
                Method::DELETE => Ok("GlanceDeleteImage"),
                _ => Err(true),
            }
        }
        ["v1", "cloudimages", "job", job] if !job.is_empty() => (Method::GET, "ShowJobProgress"),
        ["v1", project, "jobs", job] if !project.is_empty() && !job.is_empty() => {
            (Method::GET, "ShowJob")
        }
        _ => return Err(false),
    };
    if *method == op.0 {
        Ok(op.1)
    } else {
        Err(true)
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

fn new_hex_id() -> String {
    crate::ids::uuid_v4().simple().to_string()
}

impl Default for Huawei {
    fn default() -> Self {
        Huawei {
            store: Mutex::new(Store::default()),
            max_finished_jobs: AtomicUsize::new(crate::lifecycle::DEFAULT_MAX_FINISHED),
        }
    }
}

impl Huawei {
    /// A Huawei vendor with no images or jobs.
    pub fn new() -> Self {
        Huawei::default()
    }

    fn run(
        &self,
        operation: &str,
        tenant: &str,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<Reply, ImsError> {
        let now = ctx.clock.now();
        let parts = segments(&req.path);
        let mut store = self.store.lock();
        store.advance_jobs(now);
        match operation {
            "UpdateImage" => update_image(
                &mut store,
                tenant,
                parts.get(2).copied().unwrap_or(""),
                &req.body,
                now,
            ),
            "ListImages" => list::list(&store, tenant, req.query.as_deref())
                .map(|page| json_body(page.to_json())),
            "GlanceShowImage" => {
                show_image(&mut store, tenant, parts.get(2).copied().unwrap_or(""), now)
            }
            "GlanceDeleteImage" => delete_image(
                &mut store,
                tenant,
                parts.get(2).copied().unwrap_or(""),
                &req.body,
            ),
            "CreateImage" => create_image(
                &mut store,
                tenant,
                &req.body,
                ctx,
                self.max_finished_jobs.load(Ordering::Relaxed),
            ),
            "ShowJob" => {
                if parts.get(1).copied() != Some(tenant) {
                    return Err(ImsError::new(
                        "IMG.0067",
                        "the path project is not the caller's",
                    ));
                }
                show_job(
                    &mut store,
                    tenant,
                    parts.get(3).copied().unwrap_or(""),
                    now,
                    false,
                )
            }
            "ShowJobProgress" => show_job(
                &mut store,
                tenant,
                parts.get(3).copied().unwrap_or(""),
                now,
                true,
            ),
            other => Err(ImsError::new("IMG.0061", format!("no handler for {other}"))),
        }
    }
}

fn check_id(id: &str) -> Result<(), ImsError> {
    if rules::is_uuid(id) {
        Ok(())
    } else {
        Err(ImsError::new(
            "IMG.0066",
            format!("malformed image id {id:?}"),
        ))
    }
}

fn absent(id: &str) -> ImsError {
    ImsError::new("IMG.0144", format!("no image {id} for this project"))
}

/// A 200 with a JSON body already serialised.
fn json_body(body: Vec<u8>) -> Reply {
    Reply::empty(StatusCode::OK)
        .with_static_header(http::header::CONTENT_TYPE, JSON)
        .with_body(body)
}

fn update_image(
    store: &mut Store,
    tenant: &str,
    id: &str,
    body: &[u8],
    now: time::OffsetDateTime,
) -> Result<Reply, ImsError> {
    check_id(id)?;
    let ops = patch::parse(body)?;
    // A patch changes only the members its operations name, and `updated_at`.
    let mut changes: Vec<&str> = ops.iter().map(patch::Op::name).collect();
    changes.push("updated_at");
    let stored = match store.lookup(id, tenant) {
        Lookup::Absent => return Err(absent(id)),
        Lookup::Gold => return Err(ImsError::new("IMG.0083", "gold images are read-only")),
        Lookup::Own(stored) => stored,
    };
    let image = stored.open_for(Some(&changes));
    if image.get("status").and_then(Value::as_str) != Some("active") {
        return Err(ImsError::new(
            "IMG.0046",
            "only active images can be updated",
        ));
    }
    patch::apply(image, &ops)?;
    image.insert("updated_at".into(), json!(format_seconds(now)));
    // Only the changed members are rendered again.
    let body = stored.to_json();
    Ok(json_body(body))
}

fn show_image(
    store: &mut Store,
    tenant: &str,
    id: &str,
    now: time::OffsetDateTime,
) -> Result<Reply, ImsError> {
    check_id(id)?;
    if store.peek(id, tenant).is_none() {
        return Err(absent(id));
    }
    if let Some(job) = store.job_of_image(&id.to_ascii_lowercase()) {
        store.read_job(&job, now);
    }
    match store.peek(id, tenant) {
        Some(image) => Ok(json_body(image.to_json())),
        None => Err(absent(id)),
    }
}

fn delete_image(store: &mut Store, tenant: &str, id: &str, body: &[u8]) -> Result<Reply, ImsError> {
    check_id(id)?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let valid = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .is_some_and(|o| o.get("delete_backup").is_none_or(Value::is_boolean));
        if !valid {
            return Err(ImsError::new(
                "IMG.0001",
                "the body must be {\"delete_backup\": bool}",
            ));
        }
    }
    let image = match store.peek(id, tenant) {
        None => return Err(absent(id)),
        Some(image) if image.is_gold() => {
            return Err(ImsError::new("IMG.0094", "gold images cannot be deleted"))
        }
        Some(image) => image.members(&["status", "protected"]),
    };
    if matches!(
        image.get("status").and_then(Value::as_str),
        Some("queued" | "saving")
    ) {
        return Err(ImsError::new(
            "IMG.0090",
            "the image is still being created",
        ));
    }
    if image.get("protected") == Some(&json!(true)) {
        return Err(ImsError::new("IMG.0028", "the image is protected"));
    }
    store.remove_image(id);
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}

fn create_image(
    store: &mut Store,
    tenant: &str,
    body: &[u8],
    ctx: &Ctx<'_>,
    max_finished_jobs: usize,
) -> Result<Reply, ImsError> {
    let now = ctx.clock.now();
    let key = crate::ids::uuid_v4();
    let id = key.to_string();
    let created = create::build(body, &id, tenant, &format_seconds(now))?;
    if ctx.settings.quotas && store.private_count(tenant) >= PRIVATE_IMAGE_QUOTA {
        return Err(ImsError::new("IMG.0015", "100 private images"));
    }
    let job_id = new_hex_id();
    let image_name = created
        .image
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut job = Job {
        job_id: job_id.clone(),
        project_id: tenant.to_string(),
        job_type: created.job_type.to_string(),
        image_id: id.clone(),
        image_name,
        begin_time: now,
        policy: ctx.settings.transition,
        reads: 0,
        fault: JobFault::None,
        result: None,
        applied: Phase::Init,
    };
    job.fault = match ctx.lifecycle {
        None => JobFault::None,
        Some(crate::faults::Lifecycle::Stuck) => JobFault::Stuck,
        Some(crate::faults::Lifecycle::Fail(message)) => {
            JobFault::Fail(message.clone().unwrap_or_else(|| {
                if job.file_import() {
                    "IMG.0057"
                } else {
                    "IMG.0014"
                }
                .to_string()
            }))
        }
    };
    let mut image = created.image;
    job.advance(now);
    job.sync_image(&mut image, now);
    store.insert_image(key, image);
    store.jobs.insert(job_id.clone(), job);
    store.forget_oldest_finished_jobs(tenant, max_finished_jobs);
    Ok(Reply::json_as(
        StatusCode::OK,
        JSON,
        &json!({ "job_id": job_id }),
    ))
}

fn show_job(
    store: &mut Store,
    tenant: &str,
    job_id: &str,
    now: time::OffsetDateTime,
    progress: bool,
) -> Result<Reply, ImsError> {
    let not_found = || ImsError::new("IMG.0121", format!("no job {job_id:?} for this project"));
    if store
        .jobs
        .get(job_id)
        .is_none_or(|j| j.project_id != tenant)
    {
        return Err(not_found());
    }
    store.read_job(job_id, now);
    let job = store.jobs.get(job_id).ok_or_else(not_found)?;
    Ok(Reply::json_as(
        StatusCode::OK,
        JSON,
        &job.view(now, progress),
    ))
}

impl Vendor for Huawei {
    fn name(&self) -> &'static str {
        "huawei"
    }

    fn owns_path(&self, path: &str) -> bool {
        path.starts_with("/v2/") || path.starts_with("/v1/") || path == "/v2" || path == "/v1"
    }

    fn request_id(&self, _headers: &HeaderMap) -> (HeaderName, String) {
        (HeaderName::from_static("x-request-id"), new_hex_id())
    }

    fn body_limit(&self) -> usize {
        BODY_LIMIT
    }

    fn classify(&self, req: &Request, _ctx: &Ctx<'_>) -> Result<&'static str, Reply> {
        route(&req.method, &segments(&req.path)).map_err(|known_path| {
            let reply = error::gateway_reply("APIG.0101", "", &req.request_id).unwrap_or_else(|| ims_reply("IMG.0061"));
            if known_path {
                let body = json!({"error_msg": "The API does not exist.", "error_code": "APIG.0101", "request_id": req.request_id});
                Reply::json_as(StatusCode::NOT_FOUND, JSON, &body)
            } else {
                reply
            }
        })
    }

    fn precheck(
        &self,
        _operation: &'static str,
        req: &Request,
        _ctx: &Ctx<'_>,
    ) -> Result<(), Answer> {
        if req.body_too_large {
            let reply = error::gateway_reply("APIGW.0201", "", &req.request_id)
                .unwrap_or_else(|| ims_reply("IMG.0061"));
            return Err(Answer::noted(reply, "APIGW.0201: body larger than 12 MiB"));
        }
        Ok(())
    }

    fn authenticate(
        &self,
        operation: &'static str,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Result<Tenant, Answer> {
        let parts = segments(&req.path);
        let path_project = (operation == "ShowJob")
            .then(|| parts.get(1).copied())
            .flatten();
        auth::authenticate(req, ctx, path_project).map_err(|refusal| {
            let reply = error::gateway_reply("APIGW.0301", &refusal.0, &req.request_id)
                .unwrap_or_else(|| ims_reply("IMG.0061"));
            Answer::noted(reply, format!("APIGW.0301: {}", refusal.0))
        })
    }

    fn handle(
        &self,
        operation: &'static str,
        tenant: &Tenant,
        req: &Request,
        ctx: &Ctx<'_>,
    ) -> Answer {
        match self.run(operation, tenant, req, ctx) {
            Ok(reply) => Answer::plain(reply),
            Err(e) => e.answer(),
        }
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn error_codes(&self) -> &'static [&'static str] {
        error::code_names()
    }

    fn render_error(
        &self,
        code: &str,
        status: Option<StatusCode>,
        req: &Request,
        _ctx: &Ctx<'_>,
    ) -> Option<Reply> {
        if code.starts_with("IMG.") {
            error::ims_message(code).map(|_| ims_reply(code))
        } else {
            error::injected_gateway_reply(code, status, &req.request_id)
        }
    }

    fn builtin_credentials(&self) -> Vec<Credential> {
        vec![
            Credential {
                vendor: "huawei".into(),
                access_key: Some("imgemu-dev-ak".into()),
                secret_key: Some("imgemu-dev-sk".into()),
                project_id: Some("0b1e494e2660441a957313163095fe5c".into()),
                ..Credential::default()
            },
            Credential {
                vendor: "huawei".into(),
                token: Some("imgemu-dev-token".into()),
                project_id: Some("0b1e494e2660441a957313163095fe5c".into()),
                ..Credential::default()
            },
        ]
    }

    fn check_credential(&self, cred: &Credential) -> Result<(), String> {
        let shape = "a huawei credential is {\"vendor\":\"huawei\",\"access_key\":..,\"secret_key\":..,\"project_id\":..} or {\"vendor\":\"huawei\",\"token\":..,\"project_id\":..}";
        let nonempty = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        let key = nonempty(&cred.access_key) && nonempty(&cred.secret_key) && cred.token.is_none();
        let token = nonempty(&cred.token) && cred.access_key.is_none() && cred.secret_key.is_none();
        if (key || token)
            && nonempty(&cred.project_id)
            && cred.user.is_none()
            && cred.password.is_none()
        {
            Ok(())
        } else {
            Err(shape.into())
        }
    }

    fn export_state(&self) -> Value {
        model::export(&self.store.lock())
    }

    fn prepare_state(&self, member: Option<&Value>) -> Result<PreparedState, StateError> {
        Ok(Box::new(model::import(member)?))
    }

    fn prepare_state_text(
        &self,
        member: Option<&serde_json::value::RawValue>,
    ) -> Result<PreparedState, StateError> {
        Ok(Box::new(model::import_text(member)?))
    }

    fn mutates(&self, operation: &str) -> bool {
        // Job reads count toward `polls:N` and can finish a job (and change its image's status).
        matches!(
            operation,
            "CreateImage" | "UpdateImage" | "GlanceDeleteImage" | "ShowJob" | "ShowJobProgress"
        )
    }

    fn internal_error_code(&self) -> &'static str {
        "IMG.0061"
    }

    fn switches(&self) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        out.insert(
            "max_finished_jobs".into(),
            json!(self.max_finished_jobs.load(Ordering::Relaxed)),
        );
        out
    }

    fn set_switch(&self, key: &str, value: &Value) -> Result<(), String> {
        match key {
            "max_finished_jobs" => {
                let keep = value
                    .as_u64()
                    .filter(|n| *n >= 1)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or("huawei.max_finished_jobs: expected an integer >= 1")?;
                self.max_finished_jobs.store(keep, Ordering::Relaxed);
                Ok(())
            }
            other => Err(format!(
                "unknown setting huawei.{other}: expected max_finished_jobs"
            )),
        }
    }

    fn install_state(&self, prepared: PreparedState) {
        if let Ok(store) = prepared.downcast::<Store>() {
            *self.store.lock() = *store;
        }
    }

    fn tasks(&self, ctx: &Ctx<'_>) -> Vec<Value> {
        let now = ctx.clock.now();
        let store = self.store.lock();
        store
            .jobs
            .values()
            .map(|j| {
                let view = j.view(now, false);
                json!({"vendor": "huawei", "id": j.job_id, "tenant": j.project_id, "kind": j.job_type,
                       "image_id": j.image_id, "status": view["status"], "policy": j.policy.to_string(),
                       "reads": j.reads, "stuck": j.fault == JobFault::Stuck})
            })
            .collect()
    }

    fn force_task(
        &self,
        id: &str,
        outcome: &ForcedOutcome,
        ctx: &Ctx<'_>,
    ) -> Option<Result<Value, String>> {
        let now = ctx.clock.now();
        let mut store = self.store.lock();
        let store = &mut *store;
        let job = store.jobs.get_mut(id)?;
        if job.result.is_some() {
            return Some(Err(format!("job {id:?} has already finished")));
        }
        job.fault = JobFault::None;
        let fail = match outcome {
            ForcedOutcome::Finish => None,
            ForcedOutcome::Fail(message) => Some(message.clone().unwrap_or_else(|| {
                if job.file_import() {
                    "IMG.0057"
                } else {
                    "IMG.0014"
                }
                .to_string()
            })),
        };
        job.finish(now, fail);
        model::sync_job_image(&mut store.images, job, now);
        let view = job.view(now, false);
        Some(Ok(view))
    }

    fn control(&self, method: &Method, rest: &str, body: &[u8], ctx: &Ctx<'_>) -> Option<Reply> {
        let id = rest.strip_prefix("images/")?.strip_suffix("/status")?;
        let error =
            |status: StatusCode, message: &str| Reply::json(status, &json!({ "error": message }));
        if *method != Method::POST {
            return Some(
                error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed; use POST",
                )
                .with_static_header(http::header::ALLOW, "POST"),
            );
        }
        let status = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("status").and_then(Value::as_str).map(str::to_string));
        let Some(status) =
            status.filter(|s| matches!(s.as_str(), "queued" | "saving" | "active" | "killed"))
        else {
            return Some(error(
                StatusCode::BAD_REQUEST,
                "status: expected queued, saving, active or killed",
            ));
        };
        let mut store = self.store.lock();
        let Some(image) = store.get_mut(id) else {
            return Some(error(StatusCode::NOT_FOUND, &format!("no image {id:?}")));
        };
        if image.is_gold() {
            return Some(error(
                StatusCode::BAD_REQUEST,
                "gold images cannot change status",
            ));
        }
        let image = image.open();
        let now = format_seconds(ctx.clock.now());
        image.insert("status".into(), json!(status));
        image.insert("updated_at".into(), json!(now));
        if status == "active" && !image.contains_key("active_at") {
            image.insert("active_at".into(), json!(now));
        }
        Some(Reply::json(StatusCode::OK, image))
    }
}
