//! The `jd` member of the state document (spec §8.2) and its conversion to and from [`Store`]
//! state. Canonical order (tenants and tasks by id, everything else in visible order) makes
//! `PUT` then `GET` return the same document.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::content::Content;
use super::model::{
    GeneralCollection, GeneralImage, ItemRef, PendingItem, Product, ProductCollection,
    ProductImage, Quota, Task, TaskFamily, TaskFault, TaskState, TenantState,
};
use crate::clock::parse_rfc3339;
use crate::lifecycle::TransitionPolicy;
use crate::state::{from_value, StateError};

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct JdDoc {
    #[serde(default)]
    tenants: BTreeMap<String, TenantDoc>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TenantDoc {
    #[serde(default)]
    collections: Vec<CollectionDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product_collection: Option<ProductCollectionDoc>,
    #[serde(default)]
    tasks: Vec<TaskDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quota: Option<QuotaDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectionDoc {
    collection_name: String,
    #[serde(default)]
    images: Vec<ImageDoc>,
}

/// A general image, or a pending item of either family.
#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ImageDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_url: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductCollectionDoc {
    collection_name: String,
    #[serde(default)]
    products: Vec<ProductDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductDoc {
    product_id: String,
    product_name: String,
    category: String,
    #[serde(default)]
    images: Vec<ImageDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskDoc {
    task_id: String,
    family: String,
    collection_name: String,
    created_at: String,
    policy: String,
    #[serde(default)]
    reads: u32,
    #[serde(default)]
    fault: Value,
    task_status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    items: Vec<ImageDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    succeeded_list: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed_list: Option<Vec<Value>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuotaDoc {
    date: String,
    count: u64,
}

/// `YYYY-MM-DDThh:mm:ss.ffffffZ`.
fn format_micros(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

fn content_doc(content: &Content) -> (Option<String>, Option<String>) {
    content.to_snapshot()
}

fn general_image_doc(image: &GeneralImage) -> ImageDoc {
    let (content, content_url) = content_doc(&image.content);
    ImageDoc {
        image_name: Some(image.name.clone()),
        info: image.info.clone(),
        content,
        content_url,
        ..ImageDoc::default()
    }
}

fn product_image_doc(image: &ProductImage, product_id: Option<&str>) -> ImageDoc {
    let (content, content_url) = content_doc(&image.content);
    ImageDoc {
        product_id: product_id.map(str::to_string),
        image_id: Some(image.image_id.clone()),
        image_info: Some(image.image_info.clone()).filter(|i| !i.is_empty()),
        content,
        content_url,
        ..ImageDoc::default()
    }
}

fn item_doc(item: &PendingItem) -> ImageDoc {
    match item {
        PendingItem::General {
            name,
            info,
            content,
        } => general_image_doc(&GeneralImage {
            name: name.clone(),
            info: info.clone(),
            content: content.clone(),
        }),
        PendingItem::Product {
            product_id,
            image_id,
            image_info,
            content,
        } => product_image_doc(
            &ProductImage {
                image_id: image_id.clone(),
                image_info: image_info.clone(),
                content: content.clone(),
            },
            Some(product_id),
        ),
    }
}

fn ref_doc(r: &ItemRef, message: Option<&str>) -> Value {
    match (r, message) {
        (ItemRef::General { name }, None) => Value::String(name.clone()),
        (ItemRef::General { name }, Some(m)) => {
            serde_json::json!({"image_name": name, "message": m})
        }
        (
            ItemRef::Product {
                product_id,
                image_id,
            },
            None,
        ) => {
            serde_json::json!({"image_id": image_id, "product_id": product_id})
        }
        (
            ItemRef::Product {
                product_id,
                image_id,
            },
            Some(m),
        ) => {
            serde_json::json!({"image_id": image_id, "message": m, "product_id": product_id})
        }
    }
}

fn task_doc(task: &Task) -> TaskDoc {
    let (items, succeeded_list, failed_list) = match &task.state {
        TaskState::Processing { items } => (items.iter().map(item_doc).collect(), None, None),
        TaskState::Finished { succeeded, failed } => (
            Vec::new(),
            Some(succeeded.iter().map(|r| ref_doc(r, None)).collect()),
            Some(failed.iter().map(|(r, m)| ref_doc(r, Some(m))).collect()),
        ),
    };
    TaskDoc {
        task_id: task.id.clone(),
        family: match task.family {
            TaskFamily::General => "general",
            TaskFamily::Product => "product",
        }
        .into(),
        collection_name: task.collection_name.clone(),
        created_at: format_micros(task.created_at),
        policy: task.policy.to_string(),
        reads: task.reads,
        fault: match &task.fault {
            TaskFault::None => Value::Null,
            TaskFault::Stuck => Value::String("stuck".into()),
            TaskFault::Fail(m) => serde_json::json!({ "fail": m }),
        },
        task_status: super::tasks::status_name(task).into(),
        items,
        succeeded_list,
        failed_list,
    }
}

/// The `jd` member for these tenants.
pub(crate) fn export<'a>(tenants: impl Iterator<Item = (&'a String, &'a TenantState)>) -> Value {
    let doc = JdDoc {
        tenants: tenants
            .map(|(name, t)| {
                let tenant = TenantDoc {
                    collections: t
                        .collections
                        .iter()
                        .map(|c| CollectionDoc {
                            collection_name: c.name.clone(),
                            images: c.images.iter().map(general_image_doc).collect(),
                        })
                        .collect(),
                    product_collection: t.product_collection.as_ref().map(|c| {
                        ProductCollectionDoc {
                            collection_name: c.name.clone(),
                            products: c
                                .products
                                .iter()
                                .map(|p| ProductDoc {
                                    product_id: p.id.clone(),
                                    product_name: p.name.clone(),
                                    category: p.category.clone(),
                                    images: p
                                        .images
                                        .iter()
                                        .map(|i| product_image_doc(i, None))
                                        .collect(),
                                })
                                .collect(),
                        }
                    }),
                    tasks: t.tasks.values().map(task_doc).collect(),
                    quota: t.quota.date.map(|d| QuotaDoc {
                        date: d.to_string(),
                        count: t.quota.count,
                    }),
                };
                (name.clone(), tenant)
            })
            .collect(),
    };
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

fn content_from(doc: &ImageDoc, at: &str) -> Result<Arc<Content>, StateError> {
    Content::from_snapshot(doc.content.as_deref(), doc.content_url.as_deref())
        .map(Arc::new)
        .map_err(|e| StateError::new(at, e.to_string()))
}

fn required(value: &Option<String>, at: String) -> Result<&String, StateError> {
    value.as_ref().ok_or_else(|| StateError::new(at, "missing"))
}

fn parse_ref(
    v: &Value,
    family: TaskFamily,
    failed: bool,
    at: &str,
) -> Result<(ItemRef, Option<String>), StateError> {
    let bad = || StateError::new(at, "not a task list entry of this family");
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let message = if failed {
        Some(text("message").ok_or_else(bad)?)
    } else {
        None
    };
    let item = match family {
        TaskFamily::General if !failed => ItemRef::General {
            name: v.as_str().ok_or_else(bad)?.to_string(),
        },
        TaskFamily::General => ItemRef::General {
            name: text("image_name").ok_or_else(bad)?,
        },
        TaskFamily::Product => ItemRef::Product {
            product_id: text("product_id").ok_or_else(bad)?,
            image_id: text("image_id").ok_or_else(bad)?,
        },
    };
    Ok((item, message))
}

fn task_from(doc: TaskDoc, at: &str) -> Result<Task, StateError> {
    let family = match doc.family.as_str() {
        "general" => TaskFamily::General,
        "product" => TaskFamily::Product,
        other => {
            return Err(StateError::new(
                format!("{at}.family"),
                format!("{other:?}: expected general or product"),
            ))
        }
    };
    let created_at = parse_rfc3339(&doc.created_at)
        .filter(|t| format_micros(*t) == doc.created_at)
        .ok_or_else(|| {
            StateError::new(
                format!("{at}.created_at"),
                "expected YYYY-MM-DDThh:mm:ss.ffffffZ",
            )
        })?;
    let policy: TransitionPolicy =
        doc.policy
            .parse()
            .map_err(|e: crate::lifecycle::TransitionError| {
                StateError::new(format!("{at}.policy"), e.to_string())
            })?;
    let fault = match &doc.fault {
        Value::Null => TaskFault::None,
        Value::String(s) if s == "stuck" => TaskFault::Stuck,
        Value::Object(o) if o.len() == 1 && o.get("fail").is_some_and(Value::is_string) => {
            TaskFault::Fail(
                o.get("fail")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        }
        _ => {
            return Err(StateError::new(
                format!("{at}.fault"),
                "expected null, \"stuck\" or {\"fail\":\"<message>\"}",
            ))
        }
    };
    let state = match doc.task_status.as_str() {
        "PROCESSING" => {
            let mut items = Vec::new();
            for (i, item) in doc.items.iter().enumerate() {
                let item_at = format!("{at}.items[{i}]");
                let content = content_from(item, &item_at)?;
                items.push(match family {
                    TaskFamily::General => PendingItem::General {
                        name: required(&item.image_name, format!("{item_at}.image_name"))?.clone(),
                        info: item.info.clone(),
                        content,
                    },
                    TaskFamily::Product => PendingItem::Product {
                        product_id: required(&item.product_id, format!("{item_at}.product_id"))?
                            .clone(),
                        image_id: required(&item.image_id, format!("{item_at}.image_id"))?.clone(),
                        image_info: item.image_info.clone().unwrap_or_default(),
                        content,
                    },
                });
            }
            TaskState::Processing { items }
        }
        "FINISHED" => {
            let mut succeeded = Vec::new();
            for (i, v) in doc.succeeded_list.iter().flatten().enumerate() {
                succeeded
                    .push(parse_ref(v, family, false, &format!("{at}.succeeded_list[{i}]"))?.0);
            }
            let mut failed = Vec::new();
            for (i, v) in doc.failed_list.iter().flatten().enumerate() {
                let (r, m) = parse_ref(v, family, true, &format!("{at}.failed_list[{i}]"))?;
                failed.push((r, m.unwrap_or_default()));
            }
            TaskState::Finished { succeeded, failed }
        }
        other => {
            return Err(StateError::new(
                format!("{at}.task_status"),
                format!("{other:?}: expected PROCESSING or FINISHED"),
            ))
        }
    };
    Ok(Task {
        id: doc.task_id,
        family,
        collection_name: doc.collection_name,
        created_at,
        policy,
        reads: doc.reads,
        fault,
        state,
    })
}

fn tenant_from(name: &str, doc: TenantDoc) -> Result<TenantState, StateError> {
    let base = format!("tenants.{name}");
    let mut state = TenantState::default();
    for (ci, c) in doc.collections.into_iter().enumerate() {
        let at = format!("{base}.collections[{ci}]");
        if super::fields::collection_name(Some(&Value::String(c.collection_name.clone()))).is_none()
        {
            return Err(StateError::new(
                format!("{at}.collection_name"),
                "invalid collection name",
            ));
        }
        if state.collection(&c.collection_name).is_some() {
            return Err(StateError::new(
                format!("{at}.collection_name"),
                "duplicate collection",
            ));
        }
        let mut images = Vec::with_capacity(c.images.len());
        // Names seen so far: a set, so a 30,000-image collection loads in linear time.
        let mut names = std::collections::HashSet::with_capacity(c.images.len());
        for (ii, image) in c.images.iter().enumerate() {
            let image_at = || format!("{at}.images[{ii}]");
            let image_name = image
                .image_name
                .as_ref()
                .ok_or_else(|| StateError::new(format!("{}.image_name", image_at()), "missing"))?;
            if !names.insert(image_name.as_str()) {
                return Err(StateError::new(
                    format!("{}.image_name", image_at()),
                    "duplicate image name",
                ));
            }
            let content =
                Content::from_snapshot(image.content.as_deref(), image.content_url.as_deref())
                    .map_err(|e| StateError::new(image_at(), e.to_string()))?;
            images.push(GeneralImage {
                name: image_name.clone(),
                info: image.info.clone(),
                content: Arc::new(content),
            });
        }
        state.collections.push(GeneralCollection {
            name: c.collection_name,
            images,
        });
    }
    if let Some(pc) = doc.product_collection {
        let at = format!("{base}.product_collection");
        let mut products: Vec<Product> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (pi, p) in pc.products.into_iter().enumerate() {
            let p_at = format!("{at}.products[{pi}]");
            if !ids.insert(p.product_id.clone()) {
                return Err(StateError::new(
                    format!("{p_at}.product_id"),
                    "duplicate product id",
                ));
            }
            if !super::product::CATEGORIES.contains(&p.category.as_str()) {
                return Err(StateError::new(
                    format!("{p_at}.category"),
                    "expected 服装, 鞋靴 or 其他",
                ));
            }
            let mut images = Vec::new();
            for (ii, image) in p.images.iter().enumerate() {
                let image_at = format!("{p_at}.images[{ii}]");
                images.push(ProductImage {
                    image_id: required(&image.image_id, format!("{image_at}.image_id"))?.clone(),
                    image_info: image.image_info.clone().unwrap_or_default(),
                    content: content_from(image, &image_at)?,
                });
            }
            products.push(Product {
                id: p.product_id,
                name: p.product_name,
                category: p.category,
                images,
            });
        }
        state.product_collection = Some(ProductCollection {
            name: pc.collection_name,
            products,
        });
    }
    for (ti, t) in doc.tasks.into_iter().enumerate() {
        let at = format!("{base}.tasks[{ti}]");
        let task = task_from(t, &at)?;
        if state.tasks.contains_key(&task.id) {
            return Err(StateError::new(
                format!("{at}.task_id"),
                "duplicate task id",
            ));
        }
        state.tasks.insert(task.id.clone(), task);
    }
    if let Some(q) = doc.quota {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(&q.date, &format)
            .map_err(|_| StateError::new(format!("{base}.quota.date"), "expected YYYY-MM-DD"))?;
        state.quota = Quota {
            date: Some(date),
            count: q.count,
        };
    }
    Ok(state)
}

/// Validates a `jd` member and builds the tenants it describes.
pub(crate) fn import(member: Option<&Value>) -> Result<BTreeMap<String, TenantState>, StateError> {
    let doc: JdDoc = match member {
        None | Some(Value::Null) => JdDoc::default(),
        Some(v) => from_value(v)?,
    };
    doc.tenants
        .into_iter()
        .map(|(name, t)| tenant_from(&name, t).map(|state| (name, state)))
        .collect()
}
