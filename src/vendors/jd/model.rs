//! JD state: per tenant, up to three general collections, one product collection, tasks and the
//! daily quota counter (spec §6, §7, §8).

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::content::Content;
use crate::lifecycle::TransitionPolicy;

/// A visible image of a general collection.
#[derive(Debug, Clone)]
pub(crate) struct GeneralImage {
    pub name: String,
    pub info: Option<String>,
    pub content: Arc<Content>,
}

/// A general collection; images in the order they became visible.
#[derive(Debug, Clone)]
pub(crate) struct GeneralCollection {
    pub name: String,
    pub images: Vec<GeneralImage>,
}

impl GeneralCollection {
    pub fn position(&self, name: &str) -> Option<usize> {
        self.images.iter().position(|i| i.name == name)
    }
}

/// A visible product image.
#[derive(Debug, Clone)]
pub(crate) struct ProductImage {
    pub image_id: String,
    pub image_info: String,
    pub content: Arc<Content>,
}

/// A product with its visible images.
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: String,
    pub name: String,
    pub category: String,
    pub images: Vec<ProductImage>,
}

/// The tenant's one product collection; products in creation order.
#[derive(Debug, Clone)]
pub(crate) struct ProductCollection {
    pub name: String,
    pub products: Vec<Product>,
}

impl ProductCollection {
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    pub fn product_mut(&mut self, id: &str) -> Option<&mut Product> {
        self.products.iter_mut().find(|p| p.id == id)
    }

    /// Whether any product holds a visible image with this id.
    pub fn has_image_id(&self, image_id: &str) -> bool {
        self.products
            .iter()
            .any(|p| p.images.iter().any(|i| i.image_id == image_id))
    }
}

/// A pending item of a task.
#[derive(Debug, Clone)]
pub(crate) enum PendingItem {
    /// A general image waiting to be indexed.
    General {
        name: String,
        info: Option<String>,
        content: Arc<Content>,
    },
    /// A product image waiting to be indexed.
    Product {
        product_id: String,
        image_id: String,
        image_info: String,
        content: Arc<Content>,
    },
}

impl PendingItem {
    /// The name (general) or image id (product) the item reserves.
    pub fn reserved_name(&self) -> &str {
        match self {
            PendingItem::General { name, .. } => name,
            PendingItem::Product { image_id, .. } => image_id,
        }
    }
}

/// An item's identity in a finished task's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ItemRef {
    General {
        name: String,
    },
    Product {
        product_id: String,
        image_id: String,
    },
}

/// How a test has rigged a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskFault {
    None,
    /// Stays PROCESSING until forced.
    Stuck,
    /// Every item fails with this message when it finishes.
    Fail(String),
}

/// Where a task is in its lifecycle.
#[derive(Debug, Clone)]
pub(crate) enum TaskState {
    Processing {
        items: Vec<PendingItem>,
    },
    Finished {
        succeeded: Vec<ItemRef>,
        failed: Vec<(ItemRef, String)>,
    },
}

/// Which family a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskFamily {
    General,
    Product,
}

/// An async indexing task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub id: String,
    pub family: TaskFamily,
    pub collection_name: String,
    pub created_at: OffsetDateTime,
    pub policy: TransitionPolicy,
    pub reads: u32,
    pub fault: TaskFault,
    pub state: TaskState,
}

impl Task {
    pub fn pending(&self) -> &[PendingItem] {
        match &self.state {
            TaskState::Processing { items } => items,
            TaskState::Finished { .. } => &[],
        }
    }
}

/// The daily call counter: (UTC+8 date, calls counted that day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Quota {
    pub date: Option<time::Date>,
    pub count: u64,
}

/// Everything one tenant owns.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantState {
    pub collections: Vec<GeneralCollection>,
    pub product_collection: Option<ProductCollection>,
    pub tasks: BTreeMap<String, Task>,
    pub quota: Quota,
}

impl TenantState {
    pub fn collection(&self, name: &str) -> Option<&GeneralCollection> {
        self.collections.iter().find(|c| c.name == name)
    }

    pub fn collection_mut(&mut self, name: &str) -> Option<&mut GeneralCollection> {
        self.collections.iter_mut().find(|c| c.name == name)
    }

    /// The product collection if it is called `name`.
    pub fn product_collection_named(&self, name: &str) -> Option<&ProductCollection> {
        self.product_collection.as_ref().filter(|c| c.name == name)
    }

    /// Pending items of PROCESSING tasks on a collection of a family.
    pub fn pending_in<'a>(
        &'a self,
        family: TaskFamily,
        collection: &'a str,
    ) -> impl Iterator<Item = &'a PendingItem> + 'a {
        self.tasks
            .values()
            .filter(move |t| t.family == family && t.collection_name == collection)
            .flat_map(|t| t.pending().iter())
    }
}

/// The tenant's uid (spec §2.7): first 8 bytes of SHA-256(tenant) mod 9·10^13, + 10^13.
pub(crate) fn uid(tenant: &str) -> u64 {
    let digest = Sha256::digest(tenant.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 90_000_000_000_000 + 10_000_000_000_000
}

/// A task id `<uid>/<collection>/<S>.<F>` for an instant, made unique within the tenant by adding
/// microseconds. Returns the id and the instant it encodes (which the task's lifecycle does not
/// use: a clash must not delay a `time:` task).
pub(crate) fn new_task_id(
    tenant: &str,
    state: &TenantState,
    collection: &str,
    now: OffsetDateTime,
) -> (String, OffsetDateTime) {
    let uid = uid(tenant);
    let mut at = now
        .replace_nanosecond(now.microsecond() * 1000)
        .unwrap_or(now);
    loop {
        let id = format!(
            "{uid}/{collection}/{}.{:06}",
            at.unix_timestamp(),
            at.microsecond()
        );
        if !state.tasks.contains_key(&id) {
            return (id, at);
        }
        at += time::Duration::microseconds(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_of_the_dev_key() {
        assert_eq!(uid("imgemu-dev-ak"), 11219894642824);
    }

    #[test]
    fn task_ids_are_unique_per_tenant() {
        let now = time::macros::datetime!(2023-11-14 22:13:20.000123 UTC);
        let mut state = TenantState::default();
        let (id, at) = new_task_id("imgemu-dev-ak", &state, "food", now);
        assert_eq!(id, "11219894642824/food/1700000000.000123");
        state.tasks.insert(
            id.clone(),
            Task {
                id,
                family: TaskFamily::General,
                collection_name: "food".into(),
                created_at: at,
                policy: TransitionPolicy::Immediate,
                reads: 0,
                fault: TaskFault::None,
                state: TaskState::Processing { items: Vec::new() },
            },
        );
        let (second, _) = new_task_id("imgemu-dev-ak", &state, "food", now);
        assert_eq!(second, "11219894642824/food/1700000000.000124");
    }
}
