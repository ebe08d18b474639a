//! ListImages' default order without a scan: every image's `(created_at, id)` key, kept sorted per
//! owning project, with gold images in a bucket of their own. A project's list walks its bucket and
//! the gold bucket merged, from the marker on, and stops once the page is full.
//!
//! The order is exactly ListImages' `created_at` order: `created_at` (always a string: validated at
//! load, set at create, read-only to UpdateImage), then the id compared ASCII case-insensitively
//! (ListImages' last tie-break, byte-wise, never decides: the store keys images by lower-cased id,
//! so two ids never differ only in case). Images change bucket or key only by being inserted or removed, which the
//! [`Store`](super::model::Store) does through this index.

use std::collections::{BTreeSet, HashMap};
use std::iter::Peekable;
use std::ops::Bound;

use serde_json::Value;

use super::model::{is_gold, Image};

/// One image's place in the order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    /// `created_at` (`None` if absent: first, as ListImages orders absent values).
    created: Option<String>,
    /// The id with ASCII letters lowercased: also the image's key in the store.
    pub folded: String,
}

impl Key {
    /// The key of `image`.
    pub fn of(image: &Image) -> Key {
        let id = image.get("id").and_then(Value::as_str).unwrap_or_default();
        Key {
            created: image
                .get("created_at")
                .and_then(Value::as_str)
                .map(str::to_string),
            folded: id.to_ascii_lowercase(),
        }
    }
}

/// Which bucket an image sorts in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    Gold,
    Owner(String),
}

impl Bucket {
    fn of(image: &Image) -> Bucket {
        if is_gold(image) {
            Bucket::Gold
        } else {
            Bucket::Owner(
                image
                    .get("owner")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )
        }
    }
}

/// The images of every bucket in `(created_at, id)` order.
#[derive(Debug, Clone, Default)]
pub(crate) struct CreatedIndex {
    buckets: HashMap<Bucket, BTreeSet<Key>>,
}

type Walk<'a> = Box<dyn Iterator<Item = &'a Key> + 'a>;

impl CreatedIndex {
    /// Adds `image`.
    pub fn insert(&mut self, image: &Image) {
        self.buckets
            .entry(Bucket::of(image))
            .or_default()
            .insert(Key::of(image));
    }

    /// Removes `image` (as it was inserted).
    pub fn remove(&mut self, image: &Image) {
        let bucket = Bucket::of(image);
        if let Some(keys) = self.buckets.get_mut(&bucket) {
            keys.remove(&Key::of(image));
            if keys.is_empty() {
                self.buckets.remove(&bucket);
            }
        }
    }

    /// The keys `tenant` sees (its own images and the gold ones) in order, ascending or
    /// descending, starting after `after` when given.
    pub fn visible<'a>(
        &'a self,
        tenant: &str,
        descending: bool,
        after: Option<&Key>,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        let own = self.walk(&Bucket::Owner(tenant.to_string()), descending, after);
        let gold = self.walk(&Bucket::Gold, descending, after);
        Merge {
            a: own.peekable(),
            b: gold.peekable(),
            descending,
        }
    }

    fn walk<'a>(&'a self, bucket: &Bucket, descending: bool, after: Option<&Key>) -> Walk<'a> {
        let Some(keys) = self.buckets.get(bucket) else {
            return Box::new(std::iter::empty());
        };
        match (after, descending) {
            (None, false) => Box::new(keys.iter()),
            (None, true) => Box::new(keys.iter().rev()),
            (Some(after), false) => {
                Box::new(keys.range((Bound::Excluded(after.clone()), Bound::Unbounded)))
            }
            (Some(after), true) => Box::new(
                keys.range((Bound::Unbounded, Bound::Excluded(after.clone())))
                    .rev(),
            ),
        }
    }
}

/// Two ordered walks merged into one (a key in both comes once).
struct Merge<'a> {
    a: Peekable<Walk<'a>>,
    b: Peekable<Walk<'a>>,
    descending: bool,
}

impl<'a> Iterator for Merge<'a> {
    type Item = &'a Key;

    fn next(&mut self) -> Option<&'a Key> {
        let take_a = match (self.a.peek(), self.b.peek()) {
            (Some(a), Some(b)) if a == b => {
                self.b.next();
                true
            }
            (Some(a), Some(b)) => (a < b) != self.descending,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if take_a {
            self.a.next()
        } else {
            self.b.next()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(id: &str, owner: &str, created: &str, kind: &str) -> Image {
        match json!({"id": id, "owner": owner, "created_at": created, "__imagetype": kind}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn ids<'a>(keys: impl Iterator<Item = &'a Key>) -> Vec<&'a str> {
        keys.map(|k| k.folded.as_str()).collect()
    }

    #[test]
    fn own_and_gold_images_merge_in_order_from_the_marker_on() {
        let mut index = CreatedIndex::default();
        let images = [
            image("A", "p", "2024-01-01T00:00:01Z", "private"),
            image("b", "p", "2024-01-01T00:00:01Z", "private"),
            image("g1", "0", "2024-01-01T00:00:00Z", "gold"),
            image("C", "p", "2024-01-01T00:00:03Z", "private"),
            image("g2", "0", "2024-01-01T00:00:02Z", "gold"),
            image("x", "q", "2024-01-01T00:00:02Z", "private"),
        ];
        for i in &images {
            index.insert(i);
        }
        assert_eq!(
            ids(index.visible("p", false, None)),
            ["g1", "a", "b", "g2", "c"]
        );
        assert_eq!(
            ids(index.visible("p", true, None)),
            ["c", "g2", "b", "a", "g1"]
        );
        let marker = Key::of(&images[1]);
        assert_eq!(ids(index.visible("p", true, Some(&marker))), ["a", "g1"]);
        assert_eq!(ids(index.visible("p", false, Some(&marker))), ["g2", "c"]);
        assert_eq!(ids(index.visible("q", false, None)), ["g1", "g2", "x"]);
        index.remove(&images[4]);
        index.remove(&images[5]);
        assert_eq!(ids(index.visible("q", false, None)), ["g1"]);
        assert_eq!(ids(index.visible("nobody", true, None)), ["g1"]);
    }
}
