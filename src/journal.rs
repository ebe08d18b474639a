//! The request journal: a bounded ring of what each vendor request did, queryable by tests
//! (`GET /_imgemu/journal`, [`crate::Emulator::journal`]). Control-plane calls are never journaled.

use std::collections::VecDeque;

use parking_lot::Mutex;
use serde::Serialize;

/// Default number of entries kept; older ones are dropped first.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// One completed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Position in the journal's history, from 1; never reused until the journal is cleared.
    pub seq: u64,
    /// The request id sent back to the client.
    pub request_id: String,
    /// Emulator time the request arrived, RFC 3339.
    pub at: String,
    /// The vendor that owned the path, if any.
    pub vendor: Option<String>,
    /// The operation it was classified as, if it was routed.
    pub operation: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// Wall-clock time spent handling, microseconds.
    pub latency_us: u64,
    /// The tenant it acted for, once authenticated.
    pub tenant: Option<String>,
    /// The specific cause of an error (what the wire may not say), or another note.
    pub detail: Option<String>,
    /// The fault rule that fired on this request, if any.
    pub fault: Option<FaultRecord>,
}

/// Which fault rule fired on a request and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultRecord {
    /// The rule's id.
    pub rule: String,
    /// The action's kind (`error`, `reset`, `latency`, ...).
    pub action: String,
}

/// A journal filter; every set field must match.
///
/// ```
/// use imgemu::journal::Query;
/// let q = Query::vendor("aries").operation("UpdateImage").status(200);
/// assert_eq!(q.vendor.as_deref(), Some("aries"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Only this vendor.
    pub vendor: Option<String>,
    /// Only this operation.
    pub operation: Option<String>,
    /// Only this status.
    pub status: Option<u16>,
    /// Only this tenant.
    pub tenant: Option<String>,
    /// Only entries with `seq` greater than this.
    pub since: Option<u64>,
    /// At most this many entries (the newest ones).
    pub limit: Option<usize>,
    /// Only requests on which a fault fired (`true`) or none did (`false`).
    pub fault: Option<bool>,
}

impl Query {
    /// Matches everything.
    pub fn all() -> Self {
        Query::default()
    }
    /// A query for one vendor.
    pub fn vendor(vendor: impl Into<String>) -> Self {
        Query {
            vendor: Some(vendor.into()),
            ..Query::default()
        }
    }
    /// Restricts to one operation.
    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }
    /// Restricts to one status.
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
    /// Restricts to one tenant.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }
    /// Only entries after sequence number `seq`.
    pub fn since(mut self, seq: u64) -> Self {
        self.since = Some(seq);
        self
    }
    /// Only requests on which a fault fired (`true`) or none did (`false`).
    pub fn fault(mut self, fired: bool) -> Self {
        self.fault = Some(fired);
        self
    }
    /// At most `n` entries.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    fn matches(&self, e: &Entry) -> bool {
        fn eq(want: &Option<String>, have: &Option<String>) -> bool {
            want.is_none() || want.as_deref() == have.as_deref()
        }
        eq(&self.vendor, &e.vendor)
            && eq(&self.operation, &e.operation)
            && eq(&self.tenant, &e.tenant)
            && self.status.is_none_or(|s| s == e.status)
            && self.since.is_none_or(|s| e.seq > s)
            && self.fault.is_none_or(|f| e.fault.is_some() == f)
    }
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Entry>,
    next_seq: u64,
}

/// The journal of one emulator instance.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    ring: Mutex<Ring>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Journal {
    /// A journal keeping at most `capacity` entries (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Journal {
            capacity: capacity.max(1),
            ring: Mutex::new(Ring {
                entries: VecDeque::new(),
                next_seq: 1,
            }),
        }
    }

    /// Appends an entry, assigning its sequence number; drops the oldest when full.
    pub fn record(&self, mut entry: Entry) -> u64 {
        let mut ring = self.ring.lock();
        entry.seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.entries.len() == self.capacity {
            ring.entries.pop_front();
        }
        let seq = entry.seq;
        ring.entries.push_back(entry);
        seq
    }

    /// Matching entries, oldest first (the newest `limit` ones when a limit is set).
    pub fn entries(&self, query: &Query) -> Vec<Entry> {
        let ring = self.ring.lock();
        let mut out: Vec<Entry> = ring
            .entries
            .iter()
            .filter(|e| query.matches(e))
            .cloned()
            .collect();
        if let Some(limit) = query.limit {
            let skip = out.len().saturating_sub(limit);
            out.drain(..skip);
        }
        out
    }

    /// How many entries match (ignoring `limit`).
    pub fn count(&self, query: &Query) -> usize {
        self.ring
            .lock()
            .entries
            .iter()
            .filter(|e| query.matches(e))
            .count()
    }

    /// Empties the journal and restarts sequence numbers at 1.
    pub fn clear(&self) {
        let mut ring = self.ring.lock();
        ring.entries.clear();
        ring.next_seq = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(vendor: &str, status: u16) -> Entry {
        Entry {
            seq: 0,
            request_id: "r".into(),
            at: "2026-01-01T00:00:00Z".into(),
            vendor: Some(vendor.into()),
            operation: Some("Op".into()),
            method: "GET".into(),
            path: "/".into(),
            status,
            latency_us: 1,
            tenant: None,
            detail: None,
            fault: None,
        }
    }

    #[test]
    fn bounded_ring_keeps_the_newest() {
        let j = Journal::with_capacity(3);
        for i in 0..5 {
            j.record(entry("aries", 200 + i));
        }
        let all = j.entries(&Query::all());
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(j.count(&Query::all().status(204)), 1);
        assert_eq!(j.entries(&Query::all().limit(2))[0].seq, 4);
        assert_eq!(j.count(&Query::all().since(4)), 1);
        j.clear();
        assert_eq!(j.record(entry("jd", 200)), 1);
        assert_eq!(j.count(&Query::vendor("aries")), 0);
    }
}
