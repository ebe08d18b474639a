//! Transition policy shared by every asynchronous resource (JD tasks, Huawei create-image jobs).
//!
//! Async work is data, not timers: a task stores when it was created and how often it was read, and
//! its state is computed on read from the policy. Nothing runs in the background.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use time::OffsetDateTime;

use crate::duration;

/// How many finished tasks (JD) or jobs (Huawei) one tenant keeps by default; past it the oldest
/// finished ones are forgotten. Pending ones are never forgotten.
pub const DEFAULT_MAX_FINISHED: usize = 10_000;

/// Which finished tasks to forget so that at most `keep` remain: the oldest first, by creation
/// time and then key. `finished` lists every finished task of one tenant.
pub fn evictions<K: Ord>(mut finished: Vec<(OffsetDateTime, K)>, keep: usize) -> Vec<K> {
    if finished.len() <= keep {
        return Vec::new();
    }
    finished.sort_unstable();
    let excess = finished.len() - keep;
    finished.into_iter().take(excess).map(|(_, k)| k).collect()
}

/// When a pending task is considered finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionPolicy {
    /// Finished as soon as it exists.
    Immediate,
    /// Pending for the first N status reads, finished from read N+1 on.
    Polls(u32),
    /// Finished once this much emulator time has passed since creation.
    Time(Duration),
}

impl Default for TransitionPolicy {
    /// `polls:1`: the first read shows the task pending, the second finished.
    fn default() -> Self {
        TransitionPolicy::Polls(1)
    }
}

/// A policy string that is not `immediate`, `polls:N` or `time:DUR`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid transition {0:?}: expected immediate, polls:N or time:DUR (e.g. polls:1, time:5s)"
)]
pub struct TransitionError(pub String);

impl FromStr for TransitionPolicy {
    type Err = TransitionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TransitionError(s.to_string());
        if s == "immediate" {
            return Ok(TransitionPolicy::Immediate);
        }
        if let Some(n) = s.strip_prefix("polls:") {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            return n.parse().map(TransitionPolicy::Polls).map_err(|_| err());
        }
        if let Some(d) = s.strip_prefix("time:") {
            return duration::parse(d)
                .map(TransitionPolicy::Time)
                .map_err(|_| err());
        }
        Err(err())
    }
}

impl fmt::Display for TransitionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionPolicy::Immediate => f.write_str("immediate"),
            TransitionPolicy::Polls(n) => write!(f, "polls:{n}"),
            TransitionPolicy::Time(d) => write!(f, "time:{}", duration::format(*d)),
        }
    }
}

impl TransitionPolicy {
    /// Whether a task created at `created` is finished, given how many status reads happened
    /// before the current one (`reads_before`) and the current emulator time.
    pub fn is_finished(
        &self,
        created: OffsetDateTime,
        reads_before: u32,
        now: OffsetDateTime,
    ) -> bool {
        match *self {
            TransitionPolicy::Immediate => true,
            TransitionPolicy::Polls(n) => reads_before >= n,
            TransitionPolicy::Time(d) => {
                let elapsed = now - created;
                elapsed >= time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evictions_take_the_oldest_beyond_the_limit() {
        let at = |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap();
        let finished = vec![(at(3), "c"), (at(1), "b"), (at(1), "a"), (at(2), "d")];
        assert_eq!(evictions(finished.clone(), 2), vec!["a", "b"]);
        assert_eq!(evictions(finished.clone(), 4), Vec::<&str>::new());
        assert_eq!(evictions(finished, 0).len(), 4);
    }
    use crate::clock::MANUAL_EPOCH;

    #[test]
    fn parses_and_displays() {
        for s in ["immediate", "polls:0", "polls:3", "time:90s", "time:250ms"] {
            let p: TransitionPolicy = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
        for bad in [
            "", "polls:", "polls:-1", "polls:x", "time:", "time:5", "later",
        ] {
            assert!(bad.parse::<TransitionPolicy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn polls_count_reads() {
        let p = TransitionPolicy::Polls(1);
        assert!(!p.is_finished(MANUAL_EPOCH, 0, MANUAL_EPOCH));
        assert!(p.is_finished(MANUAL_EPOCH, 1, MANUAL_EPOCH));
        assert!(TransitionPolicy::Immediate.is_finished(MANUAL_EPOCH, 0, MANUAL_EPOCH));
    }

    #[test]
    fn time_compares_the_clock() {
        let p = TransitionPolicy::Time(Duration::from_secs(30));
        let later = MANUAL_EPOCH + time::Duration::seconds(29);
        assert!(!p.is_finished(MANUAL_EPOCH, 5, later));
        assert!(p.is_finished(MANUAL_EPOCH, 0, later + time::Duration::seconds(1)));
    }
}
