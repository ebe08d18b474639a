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

use super::model::ImageKey;
use super::packed::Stored;

/// One image's place in the order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    /// `created_at` (`None` if absent: first, as ListImages orders absent values).
    created: Option<Box<str>>,
    /// The image's key in the store: its id, ordered as the id with ASCII letters lowercased.
    pub id: ImageKey,
}

impl Key {
    /// The key of an image created at `created` (its `created_at`, if a string).
    pub fn new(created: Option<Box<str>>, id: ImageKey) -> Key {
        Key { created, id }
    }

    /// The key of `image`, stored under `id`.
    pub fn of(image: &Stored, id: ImageKey) -> Key {
        let created = image.member("created_at");
        Key::new(created.as_ref().and_then(Value::as_str).map(Box::from), id)
    }
}

/// The images of every bucket in `(created_at, id)` order: one per owning project, and one for
/// the gold images.
#[derive(Debug, Clone, Default)]
pub(crate) struct CreatedIndex {
    gold: BTreeSet<Key>,
    owners: HashMap<Box<str>, BTreeSet<Key>>,
}

type Walk<'a> = Box<dyn Iterator<Item = &'a Key> + 'a>;

impl CreatedIndex {
    /// The index of a whole store at once, from each image and its key: each bucket is sorted
    /// once and built with full tree nodes (inserting one by one leaves them half full).
    pub fn build<'a>(images: impl Iterator<Item = (&'a Stored, Key)>) -> CreatedIndex {
        let mut gold = Vec::new();
        let mut owners: HashMap<Box<str>, Vec<Key>> = HashMap::new();
        for (image, key) in images {
            if image.is_gold() {
                gold.push(key);
            } else {
                let owner = image.owner().unwrap_or_default();
                match owners.get_mut(owner) {
                    Some(keys) => keys.push(key),
                    None => {
                        owners.insert(owner.into(), vec![key]);
                    }
                }
            }
        }
        CreatedIndex {
            gold: gold.into_iter().collect(),
            owners: owners
                .into_iter()
                .map(|(owner, keys)| (owner, keys.into_iter().collect()))
                .collect(),
        }
    }

    /// Adds `image`, whose key is `key`.
    pub fn insert(&mut self, image: &Stored, key: Key) {
        if image.is_gold() {
            self.gold.insert(key);
            return;
        }
        let owner = image.owner().unwrap_or_default();
        match self.owners.get_mut(owner) {
            Some(keys) => {
                keys.insert(key);
            }
            None => {
                self.owners.insert(owner.into(), BTreeSet::from([key]));
            }
        }
    }

    /// Removes `image`, whose key is `key` (as it was inserted).
    pub fn remove(&mut self, image: &Stored, key: &Key) {
        if image.is_gold() {
            self.gold.remove(key);
            return;
        }
        let owner = image.owner().unwrap_or_default();
        if let Some(keys) = self.owners.get_mut(owner) {
            keys.remove(key);
            if keys.is_empty() {
                self.owners.remove(owner);
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
        let own = walk(self.owners.get(tenant), descending, after);
        let gold = walk(Some(&self.gold), descending, after);
        Merge {
            a: own.peekable(),
            b: gold.peekable(),
            descending,
        }
    }
}

/// The keys of one bucket in order from `after` on.
fn walk<'a>(keys: Option<&'a BTreeSet<Key>>, descending: bool, after: Option<&Key>) -> Walk<'a> {
    let Some(keys) = keys else {
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

    /// Test images by name; their ids order as the names do.
    const NAMES: [(&str, u128); 6] = [
        ("g1", 1),
        ("g2", 2),
        ("a", 0xa),
        ("b", 0xb),
        ("c", 0xc),
        ("x", 0xf),
    ];

    fn id(name: &str) -> ImageKey {
        let n = NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, v)| *v);
        ImageKey::from_u128(n)
    }

    fn image(name: &str, owner: &str, created: &str, kind: &str) -> (Stored, Key) {
        let map = json!({"id": id(name).to_string(), "owner": owner, "created_at": created,
                         "__imagetype": kind});
        match map {
            Value::Object(map) => {
                let stored = Stored::opened(map);
                let key = Key::of(&stored, id(name));
                assert_eq!(key, Key::new(Some(created.into()), id(name)));
                (stored, key)
            }
            _ => unreachable!(),
        }
    }

    fn ids<'a>(keys: impl Iterator<Item = &'a Key>) -> Vec<&'static str> {
        keys.map(|k| {
            NAMES
                .iter()
                .find(|(_, v)| ImageKey::from_u128(*v) == k.id)
                .map_or("?", |(n, _)| *n)
        })
        .collect()
    }

    #[test]
    fn own_and_gold_images_merge_in_order_from_the_marker_on() {
        let mut index = CreatedIndex::default();
        let images = [
            image("a", "p", "2024-01-01T00:00:01Z", "private"),
            image("b", "p", "2024-01-01T00:00:01Z", "private"),
            image("g1", "0", "2024-01-01T00:00:00Z", "gold"),
            image("c", "p", "2024-01-01T00:00:03Z", "private"),
            image("g2", "0", "2024-01-01T00:00:02Z", "gold"),
            image("x", "q", "2024-01-01T00:00:02Z", "private"),
        ];
        for (image, key) in &images {
            index.insert(image, key.clone());
        }
        assert_eq!(
            ids(index.visible("p", false, None)),
            ["g1", "a", "b", "g2", "c"]
        );
        assert_eq!(
            ids(index.visible("p", true, None)),
            ["c", "g2", "b", "a", "g1"]
        );
        let marker = &images[1].1;
        assert_eq!(ids(index.visible("p", true, Some(marker))), ["a", "g1"]);
        assert_eq!(ids(index.visible("p", false, Some(marker))), ["g2", "c"]);
        assert_eq!(ids(index.visible("q", false, None)), ["g1", "g2", "x"]);
        index.remove(&images[4].0, &images[4].1);
        index.remove(&images[5].0, &images[5].1);
        assert_eq!(ids(index.visible("q", false, None)), ["g1"]);
        assert_eq!(ids(index.visible("nobody", true, None)), ["g1"]);
        let built = CreatedIndex::build(images.iter().map(|(i, k)| (i, k.clone())));
        assert_eq!(
            ids(built.visible("p", true, None)),
            ["c", "g2", "b", "a", "g1"]
        );
        assert_eq!(ids(built.visible("q", false, None)), ["g1", "g2", "x"]);
    }
}
