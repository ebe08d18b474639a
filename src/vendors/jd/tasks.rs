//! The async lifecycle of index and product_image_add tasks (spec §6): tasks are data whose state
//! is advanced on status reads, on the tenant's requests (`time:` policies) or by the control plane.

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::content::Rejection;
use super::model::{
    GeneralCollection, GeneralImage, ItemRef, PendingItem, Product, ProductImage, Task, TaskFamily,
    TaskFault, TaskState, TenantState,
};
use crate::clock::format_rfc3339;
use crate::lifecycle::TransitionPolicy;

/// How status-list entries of product tasks are written (`jd.product_status_items`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusItems {
    /// `"<uid>/<collection>|<product_id>|<image_id>"` (the documented example; default).
    #[default]
    Strings,
    /// `{"image_id":…,"product_id":…}` (the current documentation table).
    Objects,
}

/// The default failure message of a forced or faulted task.
pub(crate) fn default_fail_message(family: TaskFamily) -> &'static str {
    match family {
        TaskFamily::General => "INTERNAL_SERVER_ERROR",
        TaskFamily::Product => "INSERT_IMAGE_ERROR",
    }
}

/// The item message for an inspection failure, in each family's spelling (spec §2.6).
pub(crate) fn rejection_message(family: TaskFamily, rejection: Rejection) -> &'static str {
    match (family, rejection) {
        (TaskFamily::General, Rejection::Undecodable) => "NO_AVAILIABLE_FEATURE",
        (TaskFamily::Product, Rejection::Undecodable) => "NO_AVAILABLE_FEATURE",
        (TaskFamily::General, Rejection::TooManyBytes) => "IMAGE_TOO_LARGE",
        (TaskFamily::Product, Rejection::TooManyBytes) => "IMAGE_SIZE_EXCEED_LIMIT",
        (_, Rejection::TooSmall) => "IMAGE_TOO_SMALL",
        (_, Rejection::TooManyPixels) => "IMAGE_TOO_LARGE",
    }
}

/// Finishes a PROCESSING task now: items are checked in order and those that pass become visible.
/// `fail_all` makes every item fail with that message instead.
pub(crate) fn finish(state: &mut TenantState, task_id: &str, fail_all: Option<String>) {
    let Some(task) = state.tasks.get_mut(task_id) else {
        return;
    };
    let TaskState::Processing { items } = std::mem::replace(
        &mut task.state,
        TaskState::Finished {
            succeeded: Vec::new(),
            failed: Vec::new(),
        },
    ) else {
        return;
    };
    let family = task.family;
    let collection = task.collection_name.clone();
    let fail_all = fail_all.or(match &task.fault {
        TaskFault::Fail(message) => Some(message.clone()),
        _ => None,
    });
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for item in items {
        let item_ref = item_ref(&item);
        if let Some(message) = &fail_all {
            failed.push((item_ref, message.clone()));
            continue;
        }
        match make_visible(state, family, &collection, item) {
            Ok(()) => succeeded.push(item_ref),
            Err(message) => failed.push((item_ref, message.to_string())),
        }
    }
    if let Some(task) = state.tasks.get_mut(task_id) {
        task.state = TaskState::Finished { succeeded, failed };
    }
}

fn item_ref(item: &PendingItem) -> ItemRef {
    match item {
        PendingItem::General { name, .. } => ItemRef::General { name: name.clone() },
        PendingItem::Product {
            product_id,
            image_id,
            ..
        } => ItemRef::Product {
            product_id: product_id.clone(),
            image_id: image_id.clone(),
        },
    }
}

/// Checks one item and adds it to its collection or product.
fn make_visible(
    state: &mut TenantState,
    family: TaskFamily,
    collection: &str,
    item: PendingItem,
) -> Result<(), &'static str> {
    match item {
        PendingItem::General {
            name,
            info,
            content,
        } => {
            content.check().map_err(|r| rejection_message(family, r))?;
            if state.collection(collection).is_none() {
                state.collections.push(GeneralCollection {
                    name: collection.to_string(),
                    images: Vec::new(),
                });
            }
            let target = state
                .collection_mut(collection)
                .ok_or("NO_RELATIVE_COLLECTION")?;
            if target.position(&name).is_some() {
                return Err("REPEAT_IMAGE_NAME_IN_DB");
            }
            target.images.push(GeneralImage {
                name,
                info,
                content,
            });
            Ok(())
        }
        PendingItem::Product {
            product_id,
            image_id,
            image_info,
            content,
        } => {
            content.check().map_err(|r| rejection_message(family, r))?;
            let product: &mut Product = state
                .product_collection
                .as_mut()
                .filter(|c| c.name == collection)
                .and_then(|c| c.product_mut(&product_id))
                .ok_or("NOT_EXISTING_PRODUCT")?;
            if product
                .images
                .iter()
                .any(|i| i.content.same_content(&content))
            {
                return Err("DUPLICATE_IMAGE");
            }
            product.images.push(ProductImage {
                image_id,
                image_info,
                content,
            });
            Ok(())
        }
    }
}

/// Forgets the oldest FINISHED tasks beyond `keep` (the `jd.max_finished_tasks` switch), so the
/// task table stays bounded; PROCESSING tasks are never forgotten.
pub(crate) fn forget_oldest_finished(state: &mut TenantState, keep: usize) {
    if state.tasks.len() <= keep {
        return;
    }
    let finished = state
        .tasks
        .values()
        .filter(|t| matches!(t.state, TaskState::Finished { .. }))
        .map(|t| (t.created_at, t.id.clone()))
        .collect();
    for id in crate::lifecycle::evictions(finished, keep) {
        state.tasks.remove(&id);
    }
}

/// Finishes every PROCESSING `time:` task of the tenant that is due at `now` (spec §6).
pub(crate) fn finish_due(state: &mut TenantState, now: OffsetDateTime) {
    let due: Vec<String> = state
        .tasks
        .values()
        .filter(|t| matches!(t.state, TaskState::Processing { .. }) && t.fault != TaskFault::Stuck)
        .filter(|t| {
            matches!(t.policy, TransitionPolicy::Time(_))
                && t.policy.is_finished(t.created_at, t.reads, now)
        })
        .map(|t| t.id.clone())
        .collect();
    for id in due {
        finish(state, &id, None);
    }
}

/// A status read of a task: counts the read and finishes the task when its policy says so.
pub(crate) fn status_read(state: &mut TenantState, task_id: &str, now: OffsetDateTime) {
    let Some(task) = state.tasks.get_mut(task_id) else {
        return;
    };
    if !matches!(task.state, TaskState::Processing { .. }) {
        return;
    }
    let finish_now =
        task.fault != TaskFault::Stuck && task.policy.is_finished(task.created_at, task.reads, now);
    if finish_now {
        finish(state, task_id, None);
    } else {
        task.reads = task.reads.saturating_add(1);
    }
}

/// The upper-case status name.
pub(crate) fn status_name(task: &Task) -> &'static str {
    match task.state {
        TaskState::Processing { .. } => "PROCESSING",
        TaskState::Finished { .. } => "FINISHED",
    }
}

/// The four status members of a task, each entry rendered by the family's functions.
fn task_lists(
    task: &Task,
    done: impl Fn(&ItemRef) -> Value,
    failed: impl Fn(&ItemRef, &str) -> Value,
) -> Value {
    let (succeeded_list, failed_list, pending_list): (Vec<Value>, Vec<Value>, Vec<Value>) =
        match &task.state {
            TaskState::Processing { items } => (
                Vec::new(),
                Vec::new(),
                items.iter().map(|i| done(&item_ref(i))).collect(),
            ),
            TaskState::Finished {
                succeeded,
                failed: failures,
            } => (
                succeeded.iter().map(&done).collect(),
                failures.iter().map(|(r, m)| failed(r, m)).collect(),
                Vec::new(),
            ),
        };
    json!({
        "task_status": status_name(task),
        "succeeded_list": succeeded_list,
        "failed_list": failed_list,
        "pending_list": pending_list,
    })
}

fn ref_ids(r: &ItemRef) -> (&str, &str) {
    match r {
        ItemRef::General { name } => ("", name),
        ItemRef::Product {
            product_id,
            image_id,
        } => (product_id, image_id),
    }
}

/// The lists of a general task as the `task` endpoint shows them.
pub(crate) fn general_lists(task: &Task) -> Value {
    task_lists(
        task,
        |r| json!(ref_ids(r).1),
        |r, m| json!({"image_name": ref_ids(r).1, "message": m}),
    )
}

/// The lists of a product task as `product_image_status` shows them.
pub(crate) fn product_lists(task: &Task, uid: u64, form: StatusItems) -> Value {
    task_lists(
        task,
        |r| {
            let (product_id, image_id) = ref_ids(r);
            match form {
                StatusItems::Strings => json!(format!(
                    "{uid}/{}|{product_id}|{image_id}",
                    task.collection_name
                )),
                StatusItems::Objects => json!({"image_id": image_id, "product_id": product_id}),
            }
        },
        |r, m| {
            let (product_id, image_id) = ref_ids(r);
            json!({"image_id": image_id, "message": m, "product_id": product_id})
        },
    )
}

/// The control-plane view of a task.
pub(crate) fn view(tenant: &str, task: &Task) -> Value {
    let (pending, succeeded, failed) = match &task.state {
        TaskState::Processing { items } => (items.len(), 0, 0),
        TaskState::Finished { succeeded, failed } => (0, succeeded.len(), failed.len()),
    };
    json!({
        "vendor": "jd",
        "id": task.id,
        "tenant": tenant,
        "kind": match task.family { TaskFamily::General => "index", TaskFamily::Product => "product_image_add" },
        "collection_name": task.collection_name,
        "status": status_name(task),
        "created_at": format_rfc3339(task.created_at),
        "policy": task.policy.to_string(),
        "reads": task.reads,
        "stuck": task.fault == TaskFault::Stuck,
        "pending": pending,
        "succeeded": succeeded,
        "failed": failed,
    })
}
