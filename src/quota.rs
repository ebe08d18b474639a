//! Per-second request windows on the emulator clock, shared by vendors with QPS limits. Windows are
//! not state: they are not in snapshots and a reset does not need to clear them (a new second
//! starts a new window anyway).

use std::collections::HashMap;

use parking_lot::Mutex;

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
    fn admits_up_to_the_limit_per_second_and_key() {
        let w = QpsWindows::default();
        assert!(w.admit("a", 10, 2));
        assert!(w.admit("a", 10, 2));
        assert!(!w.admit("a", 10, 2));
        assert!(w.admit("b", 10, 2));
        assert!(w.admit("a", 11, 2));
    }
}
