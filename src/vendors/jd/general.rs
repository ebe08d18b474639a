//! The general family (spec §3.1–3.7): index, task, index_search, collection_list, image_delete,
//! image_update and image_fetch. Each check runs over all items before the next (§2.5).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::codes::{self, Business};
use super::content::{self, ContentField};
use super::fields::{self, Elements};
use super::model::{
    new_task_id, GeneralCollection, PendingItem, Task, TaskFamily, TaskFault, TaskState,
    TenantState,
};
use super::search;
use super::tasks;
use super::OpCtx;

/// Most items in one batch.
pub(crate) const BATCH_LIMIT: usize = 200;
/// Most general collections per tenant.
pub(crate) const COLLECTIONS_PER_TENANT: usize = 3;
/// Most images (visible + pending) per general collection.
pub(crate) const IMAGES_PER_COLLECTION: usize = 30_000;
/// Longest general `info`.
pub(crate) const MAX_INFO: usize = 300;

type Outcome = Result<Value, Business>;

fn collection(body: &Map<String, Value>) -> Result<String, Business> {
    fields::collection_name(body.get("collection_name")).ok_or(codes::INVALID_COLLECTION_NAME)
}

/// A checked batch: the list, bounded, with its names validated and unique.
fn named_batch<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    elements: Elements,
    name_of: impl Fn(&'a Value) -> Option<&'a Value>,
) -> Result<(&'a Vec<Value>, Vec<String>), Business> {
    let list = fields::list(body, key, elements)
        .filter(|l| !l.is_empty())
        .ok_or(codes::INVALID_DOCS)?;
    if list.len() > BATCH_LIMIT {
        return Err(codes::PARAMS_LENGTH_EXCEEDS_LIMIT);
    }
    let names = list
        .iter()
        .map(|item| fields::image_name(name_of(item)))
        .collect::<Option<Vec<String>>>()
        .ok_or(codes::INVALID_IMAGE_NAME)?;
    if fields::has_duplicates(names.iter()) {
        return Err(codes::REPEAT_IMAGE_NAME_IN_PARAM);
    }
    Ok((list, names))
}

fn failed(name: &str, message: &str) -> Value {
    json!({"image_name": name, "message": message})
}

/// POST /jdai/index (§3.1).
pub(crate) fn index(op: &OpCtx<'_>, state: &mut TenantState, body: &Map<String, Value>) -> Outcome {
    let name = collection(body)?;
    let (docs, names) = named_batch(body, "docs", Elements::Objects, |d| d.get("image_name"))?;
    let exists = state.collection(&name).is_some();
    if !exists && op.quotas && state.collections.len() >= COLLECTIONS_PER_TENANT {
        return Err(codes::COLLECTION_COUNT_EXCEEDS_LIMIT);
    }
    let visible: Vec<&str> = state
        .collection(&name)
        .map(|c| c.images.iter().map(|i| i.name.as_str()).collect())
        .unwrap_or_default();
    let pending: Vec<&str> = state
        .pending_in(TaskFamily::General, &name)
        .map(PendingItem::reserved_name)
        .collect();
    let mut accepted = Vec::new();
    let mut failed_list = Vec::new();
    for (doc, image_name) in docs.iter().zip(names) {
        let content = match content::parse(doc.get("image_content")) {
            ContentField::Present(c) => c,
            ContentField::Absent | ContentField::Invalid => {
                failed_list.push(failed(&image_name, "BROKEN_BASE64_OR_URL"));
                continue;
            }
        };
        let Ok(info) = fields::optional_info(doc.get("info"), MAX_INFO) else {
            failed_list.push(failed(&image_name, "INVALID_IMAGE_INFO"));
            continue;
        };
        if visible.contains(&image_name.as_str()) || pending.contains(&image_name.as_str()) {
            failed_list.push(failed(&image_name, "REPEAT_IMAGE_NAME_IN_DB"));
            continue;
        }
        accepted.push(PendingItem::General {
            name: image_name,
            info,
            content: Arc::new(content),
        });
    }
    if op.quotas && visible.len() + pending.len() + accepted.len() > IMAGES_PER_COLLECTION {
        return Err(codes::PARAMS_LENGTH_EXCEEDS_LIMIT);
    }
    if !exists {
        state.collections.push(GeneralCollection {
            name: name.clone(),
            images: Vec::new(),
        });
    }
    let task_id = create_task(op, state, TaskFamily::General, &name, accepted);
    Ok(json!({"task_id": task_id, "failed_list": failed_list}))
}

/// Creates a task holding `items` and finishes it at once under the `immediate` policy.
pub(crate) fn create_task(
    op: &OpCtx<'_>,
    state: &mut TenantState,
    family: TaskFamily,
    collection: &str,
    items: Vec<PendingItem>,
) -> String {
    let (id, _) = new_task_id(op.tenant, state, collection, op.now);
    let created_at = op.now;
    state.tasks.insert(
        id.clone(),
        Task {
            id: id.clone(),
            family,
            collection_name: collection.to_string(),
            created_at,
            policy: op.transition,
            reads: 0,
            fault: match &op.lifecycle {
                None => TaskFault::None,
                Some(crate::faults::Lifecycle::Stuck) => TaskFault::Stuck,
                Some(crate::faults::Lifecycle::Fail(message)) => TaskFault::Fail(
                    message
                        .clone()
                        .unwrap_or_else(|| tasks::default_fail_message(family).to_string()),
                ),
            },
            state: TaskState::Processing { items },
        },
    );
    let stuck = state
        .tasks
        .get(&id)
        .is_some_and(|t| t.fault == TaskFault::Stuck);
    if op.transition == crate::lifecycle::TransitionPolicy::Immediate && !stuck {
        tasks::finish(state, &id, None);
    }
    tasks::forget_oldest_finished(state, op.max_finished_tasks);
    id
}

/// GET /jdai/task (§3.2).
pub(crate) fn task(op: &OpCtx<'_>, state: &mut TenantState, query: Option<&str>) -> Outcome {
    let task_id = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "task_id")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
        .ok_or(codes::TASK_NOT_EXIST)?;
    let is_general = state
        .tasks
        .get(&task_id)
        .is_some_and(|t| t.family == TaskFamily::General);
    if !is_general {
        return Err(codes::TASK_NOT_EXIST);
    }
    tasks::status_read(state, &task_id, op.now);
    let task = state.tasks.get(&task_id).ok_or(codes::TASK_NOT_EXIST)?;
    Ok(tasks::general_lists(task))
}

/// POST /jdai/index_search (§3.3).
pub(crate) fn index_search(
    _op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    let name = collection(body)?;
    let query = match content::parse(body.get("query_content")) {
        ContentField::Present(c) => c,
        _ => return Err(codes::BROKEN_BASE64_OR_URL),
    };
    let top_k = match fields::optional_integer(body.get("top_k")) {
        Ok(None) => 50,
        Ok(Some(k)) if (1..=200).contains(&k) => k as usize,
        _ => return Err(codes::INVALID_PARAM_TOP_K),
    };
    query.check().map_err(search::general_rejection)?;
    let target = state
        .collection(&name)
        .ok_or(codes::NO_RELATIVE_COLLECTION)?;
    let results: Vec<Value> = search::rank(
        target
            .images
            .iter()
            .map(|i| (i, i.name.as_bytes().to_vec(), i.content.as_ref())),
        &query,
        top_k,
    )
    .into_iter()
    .map(|(image, score)| {
        let mut item = json!({"image_name": image.name, "similarity": score});
        if let Some(info) = &image.info {
            item["info"] = json!(info);
        }
        item
    })
    .collect();
    Ok(json!({"search_result": results}))
}

/// GET /jdai/collection_list (§3.4).
pub(crate) fn collection_list(_op: &OpCtx<'_>, state: &mut TenantState) -> Outcome {
    let list: Vec<Value> = state
        .collections
        .iter()
        .map(|c| json!({"collection_name": c.name, "indexed_image_count": c.images.len()}))
        .collect();
    Ok(json!({"collection_list": list}))
}

/// The checks shared by image_delete and image_fetch (§3.5 steps 1–6).
fn names_request<'a>(
    state: &'a mut TenantState,
    body: &Map<String, Value>,
) -> Result<(&'a mut GeneralCollection, Vec<String>), Business> {
    let name = collection(body)?;
    let (_, names) = named_batch(body, "image_names", Elements::Strings, Some)?;
    let target = state
        .collection_mut(&name)
        .ok_or(codes::NO_RELATIVE_COLLECTION)?;
    Ok((target, names))
}

/// Runs `each` on the named images of a delete or fetch request: `Some(entry)` goes to
/// `succeeded_list`, `None` to `failed_list` as NO_RELATIVE_IMAGE.
fn per_name(
    state: &mut TenantState,
    body: &Map<String, Value>,
    each: impl Fn(&mut GeneralCollection, &str) -> Option<Value>,
) -> Outcome {
    let (target, names) = names_request(state, body)?;
    let mut succeeded = Vec::new();
    let mut failed_list = Vec::new();
    for name in names {
        match each(target, &name) {
            Some(entry) => succeeded.push(entry),
            None => failed_list.push(failed(&name, "NO_RELATIVE_IMAGE")),
        }
    }
    Ok(json!({"succeeded_list": succeeded, "failed_list": failed_list}))
}

/// POST /jdai/image_delete (§3.5).
pub(crate) fn image_delete(
    _op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    per_name(state, body, |target, name| {
        let i = target.position(name)?;
        target.images.remove(i);
        Some(json!(name))
    })
}

/// POST /jdai/image_fetch (§3.7).
pub(crate) fn image_fetch(
    _op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    per_name(state, body, |target, name| {
        let image = &target.images[target.position(name)?];
        Some(json!({"image_name": name, "info": image.info.clone().unwrap_or_default()}))
    })
}

/// POST /jdai/image_update (§3.6).
pub(crate) fn image_update(
    _op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    let name = collection(body)?;
    let (docs, names) = named_batch(body, "docs", Elements::Objects, |d| d.get("image_name"))?;
    let target = state
        .collection_mut(&name)
        .ok_or(codes::NO_RELATIVE_COLLECTION)?;
    let mut succeeded = Vec::new();
    let mut failed_list = Vec::new();
    for (doc, image_name) in docs.iter().zip(names) {
        let info = match fields::optional_info(doc.get("info"), MAX_INFO) {
            Ok(Some(info)) => info,
            _ => {
                failed_list.push(failed(&image_name, "INVALID_IMAGE_INFO"));
                continue;
            }
        };
        match target.position(&image_name) {
            Some(i) => {
                target.images[i].info = Some(info.clone());
                succeeded.push(json!({"image_name": image_name, "info": info}));
            }
            None => failed_list.push(failed(&image_name, "NO_RELATIVE_IMAGE")),
        }
    }
    Ok(json!({"succeeded_list": succeeded, "failed_list": failed_list}))
}
