//! Huawei state (spec §2.3, §2.4, §8.2): image objects in their wire form (owner included) keyed by
//! lower-case id — the tenants' private images and the gold images every tenant sees, packed or
//! open ([`packed`](super::packed)) — and the CreateImage jobs; plus the `huawei` member of the
//! state document, read from a [`Value`] or straight from its JSON text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::index::{CreatedIndex, Key};
use super::jobs::{format_millis, Job, JobFault, JobResult};
use super::packed::{self, Owners, Packer, Scan, Stored};
use super::rules::is_uuid;
use crate::clock::parse_rfc3339;
use crate::lifecycle::TransitionPolicy;
use crate::state::{from_text, from_value, StateError};

/// An image in its wire form.
pub(crate) type Image = Map<String, Value>;

/// What a tenant finds under an id.
pub(crate) enum Lookup<'a> {
    /// Its own private image (open it with [`Stored::open_for`] to change it).
    Own(&'a mut Stored),
    /// A gold image (read-only, so not opened).
    Gold,
    /// Nothing it may see.
    Absent,
}

/// Every image and job of one emulator.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    /// Every image, by lower-cased id. Insert and remove through [`Store::insert_image`],
    /// [`Store::insert_stored`] and [`Store::remove_image`], which keep [`Store::created`] in step.
    pub images: BTreeMap<ImageKey, Stored>,
    pub jobs: BTreeMap<String, Job>,
    /// ListImages' default order (`created_at`, id) per project.
    pub created: CreatedIndex,
}

/// Whether an image is a gold image.
pub(crate) fn is_gold(image: &Image) -> bool {
    image.get("__imagetype").and_then(Value::as_str) == Some("gold")
}

/// An image's key in the store: its id, a UUID (which orders as its lower-case text does).
pub(crate) type ImageKey = uuid::Uuid;

/// The store key of `id`: a UUID in 8-4-4-4-12 form, either case.
pub(crate) fn image_key(id: &str) -> Option<ImageKey> {
    if is_uuid(id) {
        uuid::Uuid::try_parse(id).ok()
    } else {
        None
    }
}

/// Writes `job`'s phase at `now` to its image in `images` if the image does not show it yet (an
/// image already in step is not opened).
pub(crate) fn sync_job_image(
    images: &mut BTreeMap<ImageKey, Stored>,
    job: &mut Job,
    now: OffsetDateTime,
) {
    if job.image_in_step(now) {
        return;
    }
    if let Some(image) = image_key(&job.image_id).and_then(|key| images.get_mut(&key)) {
        job.sync_image(image.open(), now);
    }
}

impl Store {
    /// Adds (or replaces) the open image stored under `key`; returns the old one.
    pub fn insert_image(&mut self, key: ImageKey, image: Image) -> Option<Stored> {
        self.insert_stored(key, Stored::opened(image))
    }

    /// Adds (or replaces) the image stored under `key`; returns the old one.
    pub fn insert_stored(&mut self, key: ImageKey, image: Stored) -> Option<Stored> {
        let old = self.remove_key(key);
        self.created.insert(&image, Key::of(&image, key));
        self.images.insert(key, image);
        old
    }

    /// A store of loaded images (each with its index key), which must be in ascending key order
    /// without repeats: the map and the index are built with full tree nodes.
    fn from_sorted(images: Vec<(Stored, Key)>) -> Store {
        let created = CreatedIndex::build(images.iter().map(|(i, k)| (i, k.clone())));
        Store {
            images: images.into_iter().map(|(i, k)| (k.id, i)).collect(),
            jobs: BTreeMap::new(),
            created,
        }
    }

    /// Removes the image `id`.
    pub fn remove_image(&mut self, id: &str) -> Option<Stored> {
        self.remove_key(image_key(id)?)
    }

    fn remove_key(&mut self, key: ImageKey) -> Option<Stored> {
        let old = self.images.remove(&key)?;
        self.created.remove(&old, &Key::of(&old, key));
        Some(old)
    }

    /// The image `id`, whoever owns it.
    pub fn get(&self, id: &str) -> Option<&Stored> {
        self.images.get(&image_key(id)?)
    }

    /// The image `id`, whoever owns it, to change.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Stored> {
        self.images.get_mut(&image_key(id)?)
    }

    /// The image `id` as `tenant` sees it, for a request that may change it.
    pub fn lookup(&mut self, id: &str, tenant: &str) -> Lookup<'_> {
        match self.get_mut(id) {
            Some(image) if image.is_gold() => Lookup::Gold,
            Some(image) if image.visible_to(tenant) => Lookup::Own(image),
            _ => Lookup::Absent,
        }
    }

    /// The image `id` if `tenant` may see it, as stored (for a read).
    pub fn peek(&self, id: &str, tenant: &str) -> Option<&Stored> {
        self.get(id).filter(|image| image.visible_to(tenant))
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
            sync_job_image(&mut self.images, job, now);
        }
    }

    /// A status read of a job (and the image update it may cause).
    pub fn read_job(&mut self, job_id: &str, now: OffsetDateTime) {
        if let Some(job) = self.jobs.get_mut(job_id) {
            job.read(now);
            sync_job_image(&mut self.images, job, now);
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
            .filter(|i| !i.is_gold() && i.owner() == Some(tenant))
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

/// The `huawei` member read from its text: each image kept as its text until it is scanned.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TextDoc<'a> {
    #[serde(default, borrow)]
    images: Vec<&'a RawValue>,
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
        images: store
            .images
            .values()
            .map(|i| i.image().into_owned())
            .collect(),
        jobs,
    };
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

fn millis(text: &str, at: String) -> Result<OffsetDateTime, StateError> {
    parse_rfc3339(text)
        .filter(|t| format_millis(*t) == text)
        .ok_or_else(|| StateError::new(at, "expected YYYY-MM-DDThh:mm:ss.mmmZ"))
}

/// Checks an image of a document, given its string members; returns its store key. Error paths
/// are relative to the image.
fn check_image<'t>(text: impl Fn(&str) -> Option<&'t str>) -> Result<ImageKey, StateError> {
    let at = |field: &str| field.to_string();
    let id = text("id")
        .and_then(image_key)
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
    Ok(id)
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
    let image =
        image_key(&doc.image_id).filter(|_| !doc.image_id.bytes().any(|b| b.is_ascii_uppercase()));
    if !image.is_some_and(|key| store.images.contains_key(&key)) {
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

/// An image loaded from a document: its index in `images`, the image, its index key.
type Loaded = (usize, Stored, Key);

/// Images loaded from a document, in document order, up to the first invalid one (and its error,
/// with its path relative to `images`).
type LoadedRun = (Vec<Loaded>, Option<StateError>);

/// Validates a `huawei` member and builds the store it describes (every image packed).
pub(crate) fn import(member: Option<&Value>) -> Result<Store, StateError> {
    let doc: HuaweiDoc = match member {
        None | Some(Value::Null) => HuaweiDoc::default(),
        Some(v) => from_value(v)?,
    };
    let mut owners = Owners::default();
    let run = collect_run(
        0,
        doc.images.iter().map(|image| {
            let text = |field: &str| image.get(field).and_then(Value::as_str);
            let key = check_image(text)?;
            let created = text("created_at").map(Box::from);
            let packed = Stored::Packed(packed::pack(image, &mut owners));
            Ok((packed, Key::new(created, key)))
        }),
    );
    add_jobs(load_images(run)?, doc.jobs)
}

/// Fewest images worth splitting across threads.
const PARALLEL_FROM: usize = 20_000;

/// [`import`] from the member's JSON text, without building each image's members. A large member
/// is scanned on every core (the server is not running yet).
pub(crate) fn import_text(member: Option<&RawValue>) -> Result<Store, StateError> {
    let doc: TextDoc<'_> = match member.map(RawValue::get) {
        None | Some("null") => TextDoc::default(),
        Some(text) => from_text(text)?,
    };
    let threads = if doc.images.len() >= PARALLEL_FROM {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    } else {
        1
    };
    let chunk = doc.images.len().div_ceil(threads).max(1);
    let runs: Vec<LoadedRun> = std::thread::scope(|scope| {
        let workers: Vec<_> = doc
            .images
            .chunks(chunk)
            .enumerate()
            .map(|(c, raws)| scope.spawn(move || scan_images(raws, c * chunk)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        Some(StateError::new("images", "loading failed")),
                    )
                })
            })
            .collect()
    });
    let mut run: LoadedRun = (Vec::with_capacity(doc.images.len()), None);
    for (loaded, failure) in runs {
        run.0.extend(loaded);
        if failure.is_some() {
            run.1 = failure;
            break;
        }
    }
    add_jobs(load_images(run)?, doc.jobs)
}

/// Scans and packs `raws`, the images from index `first` on, up to the first invalid one.
fn scan_images(raws: &[&RawValue], first: usize) -> LoadedRun {
    let mut packer = Packer::default();
    collect_run(
        first,
        raws.iter().map(|raw| scan_image(raw.get(), &mut packer)),
    )
}

/// The images from index `first` on, up to the first invalid one (its error placed under
/// `images[i]`).
fn collect_run(
    first: usize,
    images: impl Iterator<Item = Result<(Stored, Key), StateError>>,
) -> LoadedRun {
    let mut loaded = Vec::with_capacity(images.size_hint().0);
    for (j, image) in images.enumerate() {
        let i = first + j;
        match image {
            Ok((image, key)) => loaded.push((i, image, key)),
            Err(e) => return (loaded, Some(e.under(&format!("images[{i}]")))),
        }
    }
    (loaded, None)
}

/// One image from its text: checked, packed, keyed.
fn scan_image(text: &str, packer: &mut Packer) -> Result<(Stored, Key), StateError> {
    let scan: Scan<'_> = serde_json::from_str(text)
        .map_err(|e| StateError::new("", crate::state::without_position(&e)))?;
    let key = check_image(|field| scan.text(field))?;
    let created = scan.text("created_at").map(Box::from);
    let image = Stored::Packed(packer.pack_scan(scan));
    Ok((image, Key::new(created, key)))
}

/// The store of a document's images, or the first error in document order: a repeated id, or
/// the run's invalid image.
fn load_images((mut loaded, failure): LoadedRun) -> Result<Store, StateError> {
    // Stable: a repeated id keeps document order, so its second occurrence follows the first.
    loaded.sort_by_key(|a| a.2.id);
    let repeat = loaded
        .windows(2)
        .filter(|pair| pair[0].2.id == pair[1].2.id)
        .map(|pair| pair[1].0)
        .min();
    if let Some(i) = repeat {
        return Err(StateError::new(
            format!("images[{i}].id"),
            "duplicate image id",
        ));
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Store::from_sorted(
        loaded.into_iter().map(|(_, i, k)| (i, k)).collect(),
    ))
}

fn add_jobs(mut store: Store, jobs: Vec<JobDoc>) -> Result<Store, StateError> {
    for (i, job) in jobs.into_iter().enumerate() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A `huawei` member of `n` images, with `edit` applied to each image's text by index.
    fn member(n: usize, edit: impl Fn(usize, String) -> String) -> Box<RawValue> {
        let images: Vec<String> = (0..n)
            .map(|i| {
                let image = format!(
                    r#"{{"owner":"p{}","id":"0a000000-0000-4000-8000-{:012x}","name":"n{i}","status":"active","visibility":"private","__imagetype":"private","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z"}}"#,
                    i % 3,
                    i
                );
                edit(i, image)
            })
            .collect();
        RawValue::from_string(format!(r#"{{"images":[{}]}}"#, images.join(","))).unwrap()
    }

    fn error(member: &RawValue) -> String {
        match import_text(Some(member)) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    /// Past [`PARALLEL_FROM`] images the member is scanned in chunks on several threads: the
    /// result and the first error in document order are those of one pass.
    #[test]
    fn a_large_member_loads_in_chunks_like_one_pass() {
        let n = PARALLEL_FROM + 5_000;
        let store = import_text(Some(&member(n, |_, image| image))).unwrap();
        assert_eq!(store.images.len(), n);
        assert_eq!(store.private_count("p1"), n / 3 + usize::from(n % 3 > 1));
        let keys: Vec<&ImageKey> = store.images.keys().collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let newest = store.created.visible("p2", true, None).count();
        assert_eq!(newest, store.private_count("p2"));

        let late = n - 10;
        let repeat_id = |image: String| image.replace("-000000000001\"", "-000000000000\"");
        // A repeated id (at 1) before an invalid image late in the last chunk wins...
        let both = member(n, |i, image| match i {
            1 => image.replace("-000000000001\"", "-000000000000\""),
            i if i == late => image.replace("\"active\"", "\"gone\""),
            _ => image,
        });
        assert_eq!(error(&both), "images[1].id: duplicate image id");
        // ...and an invalid image early in the first chunk wins over a later repeat.
        let both = member(n, |i, image| match i {
            5 => image.replace("\"active\"", "\"gone\""),
            i if i == late => repeat_id(image.replace(&format!("{late:012x}\""), "000000000001\"")),
            _ => image,
        });
        assert_eq!(
            error(&both),
            "images[5].status: expected queued, saving, active or killed"
        );
        // A repeat that spans two chunks is found.
        let spanning = member(n, |i, image| {
            if i == late {
                image.replace(&format!("{late:012x}\""), "000000000003\"")
            } else {
                image
            }
        });
        assert_eq!(
            error(&spanning),
            format!("images[{late}].id: duplicate image id")
        );
    }
}
