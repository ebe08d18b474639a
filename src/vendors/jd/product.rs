//! The product family (spec §3.8–3.14): products, their images and product tasks, all in the
//! tenant's single product collection.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::codes::{self, Business};
use super::content::{self, ContentField};
use super::fields::{self, Elements};
use super::general::{create_task, BATCH_LIMIT};
use super::model::{uid, PendingItem, Product, ProductCollection, TaskFamily, TenantState};
use super::search;
use super::tasks;
use super::OpCtx;

/// Most products per collection.
pub(crate) const PRODUCTS_PER_COLLECTION: usize = 100_000;
/// Most images (visible + pending) per product.
pub(crate) const IMAGES_PER_PRODUCT: usize = 30;
/// Longest `image_info`.
pub(crate) const MAX_IMAGE_INFO: usize = 256;
/// Longest `product_name`.
pub(crate) const MAX_PRODUCT_NAME: usize = 256;
/// The accepted categories.
pub(crate) const CATEGORIES: [&str; 3] = ["服装", "鞋靴", "其他"];

type Outcome = Result<Value, Business>;

/// Bad list, empty list and too many items, for the product-id lists of create and delete.
const PRODUCT_LIST_CODES: (Business, Business, Business) = (
    codes::INVALID_PRODUCT_LIST,
    codes::PRODUCT_EMPTY,
    codes::PRODUCT_NUM_EXCEED_LIMIT,
);

fn collection(body: &Map<String, Value>) -> Result<String, Business> {
    fields::collection_name(body.get("collection_name")).ok_or(codes::INVALID_COLLECTION_NAME)
}

/// A list checked for "bad list" (`bad`), emptiness (`empty`) and size (`too_many`).
fn batch<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    elements: Elements,
    (bad, empty, too_many): (Business, Business, Business),
) -> Result<&'a Vec<Value>, Business> {
    let list = fields::list(body, key, elements).ok_or(bad)?;
    if list.is_empty() {
        return Err(empty);
    }
    if list.len() > BATCH_LIMIT {
        return Err(too_many);
    }
    Ok(list)
}

fn product_ids<'a>(
    values: impl Iterator<Item = Option<&'a Value>>,
) -> Result<Vec<String>, Business> {
    values
        .map(fields::product_id)
        .collect::<Option<Vec<_>>>()
        .ok_or(codes::INVALID_PRODUCT_ID)
}

fn image_ids<'a>(values: impl Iterator<Item = Option<&'a Value>>) -> Result<Vec<String>, Business> {
    values
        .map(fields::image_id)
        .collect::<Option<Vec<_>>>()
        .ok_or(codes::INVALID_IMAGE_ID)
}

/// The product collection named `name`, or 1030.
fn existing<'a>(
    state: &'a mut TenantState,
    name: &str,
) -> Result<&'a mut ProductCollection, Business> {
    state
        .product_collection
        .as_mut()
        .filter(|c| c.name == name)
        .ok_or(codes::NO_RELATIVE_COLLECTION)
}

/// 2013 when the tenant's product collection has another name.
fn check_single_collection(state: &TenantState, name: &str) -> Result<(), Business> {
    match &state.product_collection {
        Some(c) if c.name != name => Err(codes::COLLECTION_COUNT_EXCEEDS_LIMIT),
        _ => Ok(()),
    }
}

/// POST /jdai/product_image_create_product (§3.8).
pub(crate) fn create_product(
    op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    let name = collection(body)?;
    let list = batch(body, "product_list", Elements::Objects, PRODUCT_LIST_CODES)?;
    let ids = product_ids(list.iter().map(|p| p.get("product_id")))?;
    if fields::has_duplicates(ids.iter()) {
        return Err(codes::DUPLICATE_PRODUCT);
    }
    let names = list
        .iter()
        .map(|p| {
            p.get("product_name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty() && n.chars().count() <= MAX_PRODUCT_NAME)
                .map(str::to_string)
        })
        .collect::<Option<Vec<String>>>()
        .ok_or(codes::INVALID_PRODUCT_NAME)?;
    let categories = list
        .iter()
        .map(|p| {
            p.get("category")
                .and_then(Value::as_str)
                .filter(|c| CATEGORIES.contains(c))
                .map(str::to_string)
        })
        .collect::<Option<Vec<String>>>()
        .ok_or(codes::INVALID_PRODUCT_CATEGORY)?;
    check_single_collection(state, &name)?;
    let target = state
        .product_collection
        .get_or_insert_with(|| ProductCollection {
            name: name.clone(),
            products: Vec::new(),
        });
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    let mut new = Vec::new();
    for ((id, product_name), category) in ids.into_iter().zip(names).zip(categories) {
        if target.product(&id).is_some() {
            failed.push(json!({"message": "EXISTING_PRODUCT", "product_id": id}));
        } else {
            successful.push(json!(id));
            new.push(Product {
                id,
                name: product_name,
                category,
                images: Vec::new(),
            });
        }
    }
    if op.quotas && target.products.len() + new.len() > PRODUCTS_PER_COLLECTION {
        return Err(codes::PRODUCT_NUM_EXCEED_LIMIT);
    }
    target.products.extend(new);
    Ok(json!({"failed_list": failed, "successful_list": successful}))
}

/// POST /jdai/product_image_add (§3.9).
pub(crate) fn add(op: &OpCtx<'_>, state: &mut TenantState, body: &Map<String, Value>) -> Outcome {
    let name = collection(body)?;
    let list = batch(
        body,
        "image_list",
        Elements::Objects,
        (
            codes::INVALID_IMAGE_LIST,
            codes::EMPTY_IMAGE_LIST,
            codes::IMAGE_NUM_EXCEED_TOTAL_LIMIT,
        ),
    )?;
    let products = product_ids(list.iter().map(|i| i.get("product_id")))?;
    let images = image_ids(list.iter().map(|i| i.get("image_id")))?;
    if fields::has_duplicates(images.iter()) {
        return Err(codes::DUPLICATE_IMAGE);
    }
    check_single_collection(state, &name)?;
    let pending: Vec<(String, String)> = state
        .pending_in(TaskFamily::Product, &name)
        .filter_map(|i| match i {
            PendingItem::Product {
                product_id,
                image_id,
                ..
            } => Some((product_id.clone(), image_id.clone())),
            PendingItem::General { .. } => None,
        })
        .collect();
    let collection_ref = state.product_collection_named(&name);
    let mut accepted = Vec::new();
    let mut failed = Vec::new();
    for ((item, product_id), image_id) in list.iter().zip(products).zip(images) {
        let mut messages = Vec::new();
        let content = match content::parse(item.get("image_content")) {
            ContentField::Present(c) => Some(c),
            ContentField::Absent => {
                messages.push("INVALID_IMAGE_CONTENT");
                None
            }
            ContentField::Invalid => {
                messages.push("BROKEN_BASE64_OR_URL");
                None
            }
        };
        let info = fields::optional_info(item.get("image_info"), MAX_IMAGE_INFO);
        if info.is_err() {
            messages.push("INVALID_IMAGE_INFO");
        }
        if collection_ref
            .and_then(|c| c.product(&product_id))
            .is_none()
        {
            messages.push("NOT_EXISTING_PRODUCT");
        }
        let taken = collection_ref.is_some_and(|c| c.has_image_id(&image_id))
            || pending.iter().any(|(_, d)| *d == image_id);
        if taken {
            messages.push("REPEAT_IMAGE_NAME_IN_DB");
        }
        match (content, info, messages.is_empty()) {
            (Some(content), Ok(info), true) => accepted.push(PendingItem::Product {
                product_id,
                image_id,
                image_info: info.unwrap_or_default(),
                content: Arc::new(content),
            }),
            _ => failed.push(json!({"image_id": image_id, "message": messages})),
        }
    }
    if op.quotas {
        for item in &accepted {
            let PendingItem::Product { product_id, .. } = item else {
                continue;
            };
            let visible = collection_ref
                .and_then(|c| c.product(product_id))
                .map_or(0, |p| p.images.len());
            let waiting = pending.iter().filter(|(p, _)| p == product_id).count();
            let adding = accepted
                .iter()
                .filter(
                    |i| matches!(i, PendingItem::Product { product_id: p, .. } if p == product_id),
                )
                .count();
            if visible + waiting + adding > IMAGES_PER_PRODUCT {
                return Err(codes::IMAGE_NUM_EXCEED_PER_PRODUCT_LIMIT);
            }
        }
    }
    if accepted.is_empty() {
        return Err(codes::NO_VALID_IMAGE);
    }
    let task_id = create_task(op, state, TaskFamily::Product, &name, accepted);
    Ok(json!({"failed_list": failed, "task_id": task_id}))
}

/// Whether `id` has the task-id form `^[0-9]+/[^/]+/[0-9]+\.[0-9]+$`.
fn is_task_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [uid, collection, stamp] => {
            digits(uid)
                && !collection.is_empty()
                && stamp
                    .split_once('.')
                    .is_some_and(|(s, f)| digits(s) && digits(f))
        }
        _ => false,
    }
}

/// POST /jdai/product_image_status (§3.10).
pub(crate) fn status(
    op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    let task_id = body
        .get("task_id")
        .and_then(Value::as_str)
        .filter(|id| is_task_id(id))
        .ok_or(codes::INVALID_TASK_ID)?
        .to_string();
    let is_product = state
        .tasks
        .get(&task_id)
        .is_some_and(|t| t.family == TaskFamily::Product);
    if !is_product {
        return Err(codes::TASK_NOT_EXIST);
    }
    tasks::status_read(state, &task_id, op.now);
    let task = state.tasks.get(&task_id).ok_or(codes::TASK_NOT_EXIST)?;
    Ok(tasks::product_lists(task, uid(op.tenant), op.status_items))
}

/// POST /jdai/product_image_search (§3.11).
pub(crate) fn search(
    _op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    let name = collection(body)?;
    let query = match content::parse(body.get("image_content")) {
        ContentField::Present(c) => c,
        ContentField::Absent => return Err(codes::INVALID_IMAGE_CONTENT),
        ContentField::Invalid => return Err(codes::BROKEN_BASE64_OR_URL),
    };
    let category = match body.get("category") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) if CATEGORIES.contains(&c.as_str()) => Some(c.clone()),
        Some(_) => return Err(codes::INVALID_PRODUCT_CATEGORY),
    };
    let top_k = match fields::optional_integer(body.get("topk")) {
        Ok(None) => 50,
        Ok(Some(k)) if k < 1 => return Err(codes::INVALID_SEARCH_TOPK),
        Ok(Some(k)) if k > 200 => return Err(codes::SEARCH_TOPK_EXCEED_LIMIT),
        Ok(Some(k)) => k as usize,
        Err(()) => return Err(codes::INVALID_SEARCH_TOPK),
    };
    let info = query.check().map_err(search::product_rejection)?;
    let target = existing(state, &name)?;
    let candidates = target
        .products
        .iter()
        .filter(|p| category.as_deref().is_none_or(|c| p.category == c))
        .flat_map(|p| p.images.iter().map(move |i| (p, i)));
    let keyed: Vec<_> = candidates.collect();
    let ranked = search::rank(
        keyed.iter().map(|pair| {
            let (p, i) = pair;
            let mut key = p.id.as_bytes().to_vec();
            key.push(0);
            key.extend_from_slice(i.image_id.as_bytes());
            (pair, key, i.content.as_ref())
        }),
        &query,
        top_k,
    );
    let images: Vec<Value> = ranked
        .into_iter()
        .map(|((p, i), score)| {
            json!({"image_id": i.image_id, "image_info": i.image_info, "info": i.image_info,
                   "product_id": p.id, "product_name": p.name, "similarity": score})
        })
        .collect();
    let (width, height) = info.map_or((0.0, 0.0), |i| (f64::from(i.width), f64::from(i.height)));
    Ok(json!({
        "images": images,
        "rectangle": [{"bottom": height, "left": 0.0, "right": width, "top": 0.0}],
    }))
}

/// POST /jdai/product_image_info (§3.12).
pub(crate) fn info(_op: &OpCtx<'_>, state: &mut TenantState, body: &Map<String, Value>) -> Outcome {
    let name = collection(body)?;
    let id = fields::product_id(body.get("product_id")).ok_or(codes::INVALID_PRODUCT_ID)?;
    let target = existing(state, &name)?;
    let product = target.product(&id).ok_or(codes::NOT_EXISTING_PRODUCT)?;
    let list: Vec<Value> = product
        .images
        .iter()
        .map(|i| json!({"image_id": i.image_id, "image_info": i.image_info}))
        .collect();
    Ok(json!({"image_list": list}))
}

/// POST /jdai/product_image_del_image (§3.13).
pub(crate) fn del_image(
    _op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    let name = collection(body)?;
    let list = fields::list(body, "image_id_list", Elements::Objects)
        .filter(|l| l.len() <= BATCH_LIMIT)
        .ok_or(codes::INVALID_IMAGE_ID_LIST)?;
    if list.is_empty() {
        return Err(codes::EMPTY_IMAGE_ID_LIST);
    }
    let products = product_ids(list.iter().map(|i| i.get("product_id")))?;
    let images = image_ids(list.iter().map(|i| i.get("image_id")))?;
    if fields::has_duplicates(products.iter().zip(images.iter())) {
        return Err(codes::DUPLICATE_IMAGE_ID);
    }
    let target = existing(state, &name)?;
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (product_id, image_id) in products.into_iter().zip(images) {
        let Some(product) = target.product_mut(&product_id) else {
            failed.push(json!({"image_id": image_id, "message": "NOT_EXISTING_PRODUCT", "product_id": product_id}));
            continue;
        };
        match product.images.iter().position(|i| i.image_id == image_id) {
            Some(i) => {
                product.images.remove(i);
                successful.push(json!({"image_id": image_id, "product_id": product_id}));
            }
            None => failed.push(json!({"image_id": image_id, "message": "NO_RELATIVE_IMAGE", "product_id": product_id})),
        }
    }
    Ok(json!({"failed_list": failed, "successful_list": successful}))
}

/// POST /jdai/product_image_del_product (§3.14).
pub(crate) fn del_product(
    _op: &OpCtx<'_>,
    state: &mut TenantState,
    body: &Map<String, Value>,
) -> Outcome {
    let name = collection(body)?;
    let list = batch(body, "product_id_list", Elements::Ids, PRODUCT_LIST_CODES)?;
    let ids = product_ids(list.iter().map(Some))?;
    if fields::has_duplicates(ids.iter()) {
        return Err(codes::DUPLICATE_PRODUCT);
    }
    let target = existing(state, &name)?;
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for id in ids {
        match target.products.iter().position(|p| p.id == id) {
            Some(i) => {
                target.products.remove(i);
                successful.push(json!(id));
            }
            None => failed.push(json!({"message": "NOT_EXISTING_PRODUCT", "product_id": id})),
        }
    }
    Ok(json!({"failed_list": failed, "successful_list": successful}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_id_form() {
        assert!(is_task_id("11219894642824/shop/1700000000.000123"));
        for bad in [
            "",
            "a/shop/1.2",
            "1//1.2",
            "1/shop/1",
            "1/shop/1.",
            "1/a/b/1.2",
            "1/shop/.5",
        ] {
            assert!(!is_task_id(bad), "{bad}");
        }
    }
}
