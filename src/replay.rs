//! Nonce replay protection for strict auth: a nonce may be used once per access key within a
//! window of emulator time. Bounded: entries older than the window are pruned, and past the cap
//! the oldest entries are dropped first.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use time::OffsetDateTime;

/// Most nonces remembered at once.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// An (access key, nonce) pair in one shared allocation, held by both the map and the queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Pair {
    /// The access key followed by the nonce.
    text: Arc<str>,
    /// Where the nonce starts in `text`.
    split: usize,
}

impl Pair {
    fn new(key: &str, nonce: &str) -> Self {
        let mut text = String::with_capacity(key.len() + nonce.len());
        text.push_str(key);
        text.push_str(nonce);
        Pair {
            text: Arc::from(text),
            split: key.len(),
        }
    }
}

#[derive(Debug, Default)]
struct Seen {
    at: HashMap<Pair, OffsetDateTime>,
    order: VecDeque<(Pair, OffsetDateTime)>,
}

/// Remembers (access key, nonce) pairs for a window of emulator time.
#[derive(Debug)]
pub struct NonceCache {
    window: time::Duration,
    capacity: usize,
    seen: Mutex<Seen>,
}

impl NonceCache {
    /// A cache remembering nonces for `window`.
    pub fn new(window: time::Duration) -> Self {
        NonceCache {
            window,
            capacity: DEFAULT_CAPACITY,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Records the nonce unless it was used by `key` within the window before `now`; returns
    /// whether it was fresh (and is now recorded).
    pub fn record_if_fresh(&self, key: &str, nonce: &str, now: OffsetDateTime) -> bool {
        let mut seen = self.seen.lock();
        let cutoff = now - self.window;
        while let Some((_, at)) = seen.order.front() {
            if *at > cutoff && seen.order.len() < self.capacity {
                break;
            }
            if let Some((pair, at)) = seen.order.pop_front() {
                if let Entry::Occupied(entry) = seen.at.entry(pair) {
                    if *entry.get() == at {
                        entry.remove();
                    }
                }
            }
        }
        let pair = Pair::new(key, nonce);
        match seen.at.entry(pair.clone()) {
            Entry::Occupied(entry) if *entry.get() > cutoff => return false,
            Entry::Occupied(mut entry) => {
                entry.insert(now);
            }
            Entry::Vacant(entry) => {
                entry.insert(now);
            }
        }
        seen.order.push_back((pair, now));
        true
    }

    /// Forgets every nonce.
    pub fn clear(&self) {
        let mut seen = self.seen.lock();
        seen.at.clear();
        seen.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::MANUAL_EPOCH;

    #[test]
    fn a_nonce_is_fresh_once_per_key_and_window() {
        let cache = NonceCache::new(time::Duration::seconds(600));
        let t0 = MANUAL_EPOCH;
        assert!(cache.record_if_fresh("ak", "n1", t0));
        assert!(!cache.record_if_fresh("ak", "n1", t0 + time::Duration::seconds(599)));
        assert!(cache.record_if_fresh("other", "n1", t0));
        assert!(cache.record_if_fresh("ak", "n1", t0 + time::Duration::seconds(601)));
        // The pair is the key and the nonce, not their concatenation.
        assert!(cache.record_if_fresh("a", "kn1", t0 + time::Duration::seconds(601)));
        assert!(!cache.record_if_fresh("a", "kn1", t0 + time::Duration::seconds(602)));
    }

    #[test]
    fn the_oldest_nonces_go_first_past_the_cap() {
        let mut cache = NonceCache::new(time::Duration::seconds(600));
        cache.capacity = 2;
        let t0 = MANUAL_EPOCH;
        assert!(cache.record_if_fresh("ak", "n1", t0));
        assert!(cache.record_if_fresh("ak", "n2", t0));
        assert!(cache.record_if_fresh("ak", "n3", t0));
        assert!(!cache.record_if_fresh("ak", "n3", t0));
        assert!(cache.record_if_fresh("ak", "n1", t0));
    }
}
