//! Request-rate windows on the emulator clock, shared by vendors with QPS limits: fixed
//! per-second windows (JD) and sliding one-second windows (Alibaba). Windows are not state: they
//! are not in snapshots.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use time::OffsetDateTime;

/// Admits at most `limit` requests per key within any sliding second of emulator time: a request
/// at `now` is admitted when fewer than `limit` admitted requests lie in (now − 1 s, now].
/// Refused requests are not counted. A frozen clock keeps every request in one window.
#[derive(Debug, Default)]
pub struct SlidingWindows {
    admitted: Mutex<HashMap<String, VecDeque<OffsetDateTime>>>,
}

impl SlidingWindows {
    /// Admits one request for `key` at `now` if the window has room.
    pub fn admit(&self, key: &str, now: OffsetDateTime, limit: usize) -> bool {
        let mut admitted = self.admitted.lock();
        let window = admitted.entry(key.to_string()).or_default();
        let start = now - time::Duration::SECOND;
        while window.front().is_some_and(|t| *t <= start) {
            window.pop_front();
        }
        if window.len() >= limit {
            return false;
        }
        window.push_back(now);
        true
    }

    /// Forgets every window.
    pub fn clear(&self) {
        self.admitted.lock().clear();
    }
}

/// Counts requests per key within one emulator-clock second.
#[derive(Debug, Default)]
pub struct QpsWindows {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl QpsWindows {
    /// Admits one request for `key` in second `second` if fewer than `limit` were admitted in that
    /// second; returns whether it was admitted. A refused request is not counted.
    pub fn admit(&self, key: &str, second: i64, limit: u32) -> bool {
        let mut windows = self.windows.lock();
        let window = windows.entry(key.to_string()).or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        if window.1 >= limit {
            return false;
        }
        window.1 += 1;
        true
    }

    /// Forgets every window.
    pub fn clear(&self) {
        self.windows.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_frees_room_a_second_after_each_admission() {
        let w = SlidingWindows::default();
        let t0 = crate::clock::MANUAL_EPOCH;
        assert!(w.admit("k", t0, 2));
        assert!(w.admit("k", t0 + time::Duration::milliseconds(500), 2));
        assert!(!w.admit("k", t0 + time::Duration::milliseconds(999), 2));
        assert!(w.admit("k", t0 + time::Duration::milliseconds(1000), 2));
        assert!(!w.admit("k", t0 + time::Duration::milliseconds(1400), 2));
        assert!(w.admit("other", t0, 1));
    }

    #[test]
    fn admits_up_to_the_limit_per_second_and_key() {
        let w = QpsWindows::default();
        assert!(w.admit("a", 10, 2));
        assert!(w.admit("a", 10, 2));
        assert!(!w.admit("a", 10, 2));
        assert!(w.admit("b", 10, 2));
        assert!(w.admit("a", 11, 2));
    }
}
