//! Huawei state (spec §2.3, §2.4, §8.2): image objects in their wire form (owner included) keyed by
//! lower-case id — the tenants' private images and the gold images every tenant sees — and the
//! CreateImage jobs; plus the `huawei` member of the state document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::index::CreatedIndex;
use super::jobs::{format_millis, Job, JobFault, JobResult};
use super::rules::is_uuid;
use crate::clock::parse_rfc3339;
use crate::lifecycle::TransitionPolicy;
use crate::state::{from_value, StateError};

/// An image in its wire form.
pub(crate) type Image = Map<String, Value>;

/// What a tenant finds under an id.
pub(crate) enum Lookup<'a> {
    /// Its own private image.
    Own(&'a mut Image),
    /// A gold image.
    Gold(&'a mut Image),
    /// Nothing it may see.
    Absent,
}

/// Every image and job of one emulator.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    /// Every image, by lower-cased id. Insert and remove through [`Store::insert_image`] and
    /// [`Store::remove_image`], which keep [`Store::created`] in step.
    pub images: BTreeMap<String, Image>,
    pub jobs: BTreeMap<String, Job>,
    /// ListImages' default order (`created_at`, id) per project.
    pub created: CreatedIndex,
}

/// Whether an image is a gold image.
pub(crate) fn is_gold(image: &Image) -> bool {
    image.get("__imagetype").and_then(Value::as_str) == Some("gold")
}

/// Whether `tenant` may see `image`.
pub(crate) fn visible_to(image: &Image, tenant: &str) -> bool {
    is_gold(image) || image.get("owner").and_then(Value::as_str) == Some(tenant)
}

impl Store {
    /// Adds (or replaces) the image stored under `key` (its lower-cased id); returns the old one.
    pub fn insert_image(&mut self, key: String, image: Image) -> Option<Image> {
        if let Some(old) = self.images.get(&key) {
            self.created.remove(old);
        }
        self.created.insert(&image);
        self.images.insert(key, image)
    }

    /// Removes the image stored under `key`.
    pub fn remove_image(&mut self, key: &str) -> Option<Image> {
        let old = self.images.remove(key);
        if let Some(old) = &old {
            self.created.remove(old);
        }
        old
    }

    /// The image `id` as `tenant` sees it.
    pub fn lookup(&mut self, id: &str, tenant: &str) -> Lookup<'_> {
        match self.images.get_mut(&id.to_ascii_lowercase()) {
            Some(image) if is_gold(image) => Lookup::Gold(image),
            Some(image) if visible_to(image, tenant) => Lookup::Own(image),
            _ => Lookup::Absent,
        }
    }

    /// Forgets `project`'s oldest finished jobs beyond `keep`; jobs still running are kept.
    pub fn forget_oldest_finished_jobs(&mut self, project: &str, keep: usize) {
        if self.jobs.len() <= keep {
            return;
        }
        let finished = self
            .jobs
            .values()
            .filter(|j| j.project_id == project && j.result.is_some())
            .map(|j| (j.begin_time, j.job_id.clone()))
            .collect();
        for id in crate::lifecycle::evictions(finished, keep) {
            self.jobs.remove(&id);
        }
    }

    /// Advances every job to `now` (not a read) and writes phase changes to their images.
    pub fn advance_jobs(&mut self, now: OffsetDateTime) {
        for job in self.jobs.values_mut() {
            job.advance(now);
            if let Some(image) = self.images.get_mut(&job.image_id) {
                job.sync_image(image, now);
            }
        }
    }

    /// A status read of a job (and the image update it may cause).
    pub fn read_job(&mut self, job_id: &str, now: OffsetDateTime) {
        if let Some(job) = self.jobs.get_mut(job_id) {
            job.read(now);
            if let Some(image) = self.images.get_mut(&job.image_id) {
                job.sync_image(image, now);
            }
        }
    }

    /// The job whose image is `image_id`, if any.
    pub fn job_of_image(&self, image_id: &str) -> Option<String> {
        self.jobs
            .values()
            .find(|j| j.image_id == image_id)
            .map(|j| j.job_id.clone())
    }

    /// Private images owned by `tenant`.
    pub fn private_count(&self, tenant: &str) -> usize {
        self.images
            .values()
            .filter(|i| !is_gold(i) && i.get("owner").and_then(Value::as_str) == Some(tenant))
            .count()
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultDoc {
    status: String,
    end_time: String,
    error_code: Option<String>,
    fail_reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobDoc {
    job_id: String,
    project_id: String,
    job_type: String,
    image_id: String,
    image_name: String,
    begin_time: String,
    policy: String,
    #[serde(default)]
    reads: u32,
    #[serde(default)]
    fault: Value,
    #[serde(default)]
    result: Option<ResultDoc>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HuaweiDoc {
    #[serde(default)]
    images: Vec<Image>,
    #[serde(default)]
    jobs: Vec<JobDoc>,
}

/// The `huawei` member (sorted by id).
pub(crate) fn export(store: &Store) -> Value {
    let jobs: Vec<JobDoc> = store
        .jobs
        .values()
        .map(|j| JobDoc {
            job_id: j.job_id.clone(),
            project_id: j.project_id.clone(),
            job_type: j.job_type.clone(),
            image_id: j.image_id.clone(),
            image_name: j.image_name.clone(),
            begin_time: format_millis(j.begin_time),
            policy: j.policy.to_string(),
            reads: j.reads,
            fault: match &j.fault {
                JobFault::None => Value::Null,
                JobFault::Stuck => json!("stuck"),
                JobFault::Fail(m) => json!({ "fail": m }),
            },
            result: j.result.as_ref().map(|r| ResultDoc {
                status: if r.success { "SUCCESS" } else { "FAIL" }.into(),
                end_time: format_millis(r.end_time),
                error_code: r.error_code.clone(),
                fail_reason: r.fail_reason.clone(),
            }),
        })
        .collect();
    let doc = HuaweiDoc {
        images: store.images.values().cloned().collect(),
        jobs,
    };
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

fn millis(text: &str, at: String) -> Result<OffsetDateTime, StateError> {
    parse_rfc3339(text)
        .filter(|t| format_millis(*t) == text)
        .ok_or_else(|| StateError::new(at, "expected YYYY-MM-DDThh:mm:ss.mmmZ"))
}

fn image_from(image: &Image, i: usize) -> Result<String, StateError> {
    let at = |field: &str| format!("images[{i}].{field}");
    let text = |field: &str| image.get(field).and_then(Value::as_str);
    let id = text("id")
        .filter(|id| is_uuid(id))
        .ok_or_else(|| StateError::new(at("id"), "expected a UUID"))?;
    text("owner").ok_or_else(|| StateError::new(at("owner"), "expected a project id"))?;
    text("name").ok_or_else(|| StateError::new(at("name"), "expected a string"))?;
    if !matches!(
        text("status"),
        Some("queued" | "saving" | "active" | "killed")
    ) {
        return Err(StateError::new(
            at("status"),
            "expected queued, saving, active or killed",
        ));
    }
    if !matches!(text("visibility"), Some("private" | "public")) {
        return Err(StateError::new(
            at("visibility"),
            "expected private or public",
        ));
    }
    if !matches!(text("__imagetype"), Some("private" | "gold")) {
        return Err(StateError::new(
            at("__imagetype"),
            "expected private or gold",
        ));
    }
    for field in ["created_at", "updated_at"] {
        text(field)
            .and_then(parse_rfc3339)
            .ok_or_else(|| StateError::new(at(field), "expected YYYY-MM-DDThh:mm:ssZ"))?;
    }
    Ok(id.to_ascii_lowercase())
}

fn job_from(doc: JobDoc, i: usize, store: &Store) -> Result<Job, StateError> {
    let at = |field: &str| format!("jobs[{i}].{field}");
    if doc.job_id.len() != 32
        || !doc
            .job_id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(StateError::new(
            at("job_id"),
            "expected 32 lower-case hex digits",
        ));
    }
    if !store.images.contains_key(&doc.image_id) {
        return Err(StateError::new(
            at("image_id"),
            "no such image in the document",
        ));
    }
    let policy: TransitionPolicy =
        doc.policy
            .parse()
            .map_err(|e: crate::lifecycle::TransitionError| {
                StateError::new(at("policy"), e.to_string())
            })?;
    let fault = match &doc.fault {
        Value::Null => JobFault::None,
        Value::String(s) if s == "stuck" => JobFault::Stuck,
        Value::Object(o) if o.len() == 1 && o.get("fail").is_some_and(Value::is_string) => {
            JobFault::Fail(
                o.get("fail")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        }
        _ => {
            return Err(StateError::new(
                at("fault"),
                "expected null, \"stuck\" or {\"fail\":\"<message>\"}",
            ))
        }
    };
    let result = match doc.result {
        None => None,
        Some(r) => Some(JobResult {
            success: match r.status.as_str() {
                "SUCCESS" => true,
                "FAIL" => false,
                _ => {
                    return Err(StateError::new(
                        at("result.status"),
                        "expected SUCCESS or FAIL",
                    ))
                }
            },
            end_time: millis(&r.end_time, at("result.end_time"))?,
            error_code: r.error_code,
            fail_reason: r.fail_reason,
        }),
    };
    let mut job = Job {
        begin_time: millis(&doc.begin_time, at("begin_time"))?,
        job_id: doc.job_id,
        project_id: doc.project_id,
        job_type: doc.job_type,
        image_id: doc.image_id,
        image_name: doc.image_name,
        policy,
        reads: doc.reads,
        fault,
        result,
        applied: super::jobs::Phase::Init,
    };
    job.applied = job.phase(job.begin_time);
    Ok(job)
}

/// Validates a `huawei` member and builds the store it describes.
pub(crate) fn import(member: Option<&Value>) -> Result<Store, StateError> {
    let doc: HuaweiDoc = match member {
        None | Some(Value::Null) => HuaweiDoc::default(),
        Some(v) => from_value(v)?,
    };
    let mut store = Store::default();
    for (i, image) in doc.images.into_iter().enumerate() {
        let id = image_from(&image, i)?;
        if store.insert_image(id, image).is_some() {
            return Err(StateError::new(
                format!("images[{i}].id"),
                "duplicate image id",
            ));
        }
    }
    for (i, job) in doc.jobs.into_iter().enumerate() {
        let job = job_from(job, i, &store)?;
        if store.jobs.contains_key(&job.job_id) {
            return Err(StateError::new(
                format!("jobs[{i}].job_id"),
                "duplicate job id",
            ));
        }
        store.jobs.insert(job.job_id.clone(), job);
    }
    Ok(store)
}
