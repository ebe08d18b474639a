//! Nonce replay protection for strict auth: a nonce may be used once per access key within a
//! window of emulator time. Bounded: entries older than the window are pruned, and past the cap
//! the oldest entries are dropped first.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use time::OffsetDateTime;

/// Most nonces remembered at once.
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug, Default)]
struct Seen {
    at: HashMap<(String, String), OffsetDateTime>,
    order: VecDeque<((String, String), OffsetDateTime)>,
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
                if seen.at.get(&pair) == Some(&at) {
                    seen.at.remove(&pair);
                }
            }
        }
        let pair = (key.to_string(), nonce.to_string());
        if let Some(at) = seen.at.get(&pair) {
            if *at > cutoff {
                return false;
            }
        }
        seen.at.insert(pair.clone(), now);
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
    }
}
