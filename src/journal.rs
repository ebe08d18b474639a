//! The request journal: a bounded ring of what each vendor request did, queryable by tests
//! (`GET /_imgemu/journal`, [`crate::Emulator::journal`]). Control-plane calls are never journaled.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;

use parking_lot::Mutex;
use serde::Serialize;
use time::OffsetDateTime;

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

    fn matches(&self, e: &Kept) -> bool {
        fn eq(want: &Option<String>, have: Option<&str>) -> bool {
            want.is_none() || want.as_deref() == have
        }
        eq(&self.vendor, e.vendor.as_deref())
            && eq(&self.operation, e.operation.as_deref())
            && eq(&self.tenant, e.tenant.as_deref())
            && self.status.is_none_or(|s| s == e.status)
            && self.since.is_none_or(|s| e.seq > s)
            && self.fault.is_none_or(|f| e.fault.is_some() == f)
    }
}

/// What the pipeline journals about a request it served: the parts of an [`Entry`] as the
/// pipeline holds them, so that recording copies nothing and formats nothing.
#[derive(Debug)]
pub(crate) struct Served {
    /// The request id sent back to the client.
    pub request_id: String,
    /// Emulator time the request arrived.
    pub at: OffsetDateTime,
    /// The vendor that owned the path, if any.
    pub vendor: Option<&'static str>,
    /// The operation it was classified as, if it was routed.
    pub operation: Option<&'static str>,
    /// HTTP method.
    pub method: http::Method,
    /// Path as received.
    pub path: String,
    /// Query as received, without `?`.
    pub query: Option<String>,
    /// The status answered.
    pub status: u16,
    /// Wall-clock time spent handling, microseconds.
    pub latency_us: u64,
    /// The tenant it acted for, once authenticated.
    pub tenant: Option<String>,
    /// The specific cause of an error, or another note.
    pub detail: Option<String>,
    /// The fault rule that fired on this request, if any.
    pub fault: Option<FaultRecord>,
}

/// A request target as received: the path, then `?` and the query if there is one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// Path as received.
    pub path: &'a str,
    /// Query as received, without `?`.
    pub query: Option<&'a str>,
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path)?;
        if let Some(query) = self.query {
            f.write_str("?")?;
            f.write_str(query)?;
        }
        Ok(())
    }
}

/// When a kept entry's request arrived.
#[derive(Debug)]
enum At {
    /// As given in an [`Entry`].
    Text(String),
    /// An instant, formatted as RFC 3339 when the entry is read.
    Instant(OffsetDateTime),
}

/// An entry as the ring keeps it: names that are static are not copied, and the time stamp and
/// the `path?query` text are made when the entry is read, which is rarer than recording it.
#[derive(Debug)]
struct Kept {
    seq: u64,
    request_id: String,
    at: At,
    vendor: Option<Cow<'static, str>>,
    operation: Option<Cow<'static, str>>,
    method: Cow<'static, str>,
    path: String,
    query: Option<String>,
    status: u16,
    latency_us: u64,
    tenant: Option<String>,
    detail: Option<String>,
    fault: Option<FaultRecord>,
}

impl Kept {
    fn from_entry(entry: Entry) -> Self {
        Kept {
            seq: entry.seq,
            request_id: entry.request_id,
            at: At::Text(entry.at),
            vendor: entry.vendor.map(Cow::Owned),
            operation: entry.operation.map(Cow::Owned),
            method: Cow::Owned(entry.method),
            path: entry.path,
            query: None,
            status: entry.status,
            latency_us: entry.latency_us,
            tenant: entry.tenant,
            detail: entry.detail,
            fault: entry.fault,
        }
    }

    fn from_served(served: Served) -> Self {
        Kept {
            seq: 0,
            request_id: served.request_id,
            at: At::Instant(served.at),
            vendor: served.vendor.map(Cow::Borrowed),
            operation: served.operation.map(Cow::Borrowed),
            method: method_name(served.method),
            path: served.path,
            query: served.query,
            status: served.status,
            latency_us: served.latency_us,
            tenant: served.tenant,
            detail: served.detail,
            fault: served.fault,
        }
    }

    fn to_entry(&self) -> Entry {
        Entry {
            seq: self.seq,
            request_id: self.request_id.clone(),
            at: match &self.at {
                At::Text(text) => text.clone(),
                At::Instant(at) => crate::clock::format_rfc3339(*at),
            },
            vendor: self.vendor.as_deref().map(str::to_string),
            operation: self.operation.as_deref().map(str::to_string),
            method: self.method.to_string(),
            path: Target {
                path: &self.path,
                query: self.query.as_deref(),
            }
            .to_string(),
            status: self.status,
            latency_us: self.latency_us,
            tenant: self.tenant.clone(),
            detail: self.detail.clone(),
            fault: self.fault.clone(),
        }
    }
}

/// The name of a method, without a copy for the standard ones.
fn method_name(method: http::Method) -> Cow<'static, str> {
    use http::Method;
    let name = match method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        other => return Cow::Owned(other.as_str().to_string()),
    };
    Cow::Borrowed(name)
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Kept>,
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
    pub fn record(&self, entry: Entry) -> u64 {
        self.keep(Kept::from_entry(entry))
    }

    /// Appends what the pipeline knows about a request it served, as [`Journal::record`] does.
    pub(crate) fn record_served(&self, served: Served) -> u64 {
        self.keep(Kept::from_served(served))
    }

    /// Appends an entry, assigning its sequence number; the entry it evicts is dropped after the
    /// lock is released.
    fn keep(&self, mut kept: Kept) -> u64 {
        let evicted;
        let seq;
        {
            let mut ring = self.ring.lock();
            seq = ring.next_seq;
            kept.seq = seq;
            ring.next_seq += 1;
            evicted = if ring.entries.len() == self.capacity {
                ring.entries.pop_front()
            } else {
                None
            };
            ring.entries.push_back(kept);
        }
        drop(evicted);
        seq
    }

    /// Matching entries, oldest first (the newest `limit` ones when a limit is set).
    pub fn entries(&self, query: &Query) -> Vec<Entry> {
        let ring = self.ring.lock();
        let matching: Vec<&Kept> = ring.entries.iter().filter(|e| query.matches(e)).collect();
        let skip = query
            .limit
            .map_or(0, |limit| matching.len().saturating_sub(limit));
        matching[skip..].iter().map(|e| e.to_entry()).collect()
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
    fn served_requests_read_back_as_entries() {
        let j = Journal::with_capacity(2);
        let served = |query: Option<&str>, method: http::Method| Served {
            request_id: "rid".into(),
            at: time::macros::datetime!(2026-01-02 03:04:05.5 UTC),
            vendor: Some("jd"),
            operation: Some("image_update"),
            method,
            path: "/jdai/image_update".into(),
            query: query.map(str::to_string),
            status: 200,
            latency_us: 7,
            tenant: Some("ak".into()),
            detail: None,
            fault: None,
        };
        assert_eq!(j.record_served(served(Some("a=1"), http::Method::POST)), 1);
        let custom = http::Method::from_bytes(b"PURGE").unwrap();
        j.record_served(served(None, custom));
        j.record(entry("aries", 204));
        let all = j.entries(&Query::all());
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0],
            Entry {
                seq: 2,
                request_id: "rid".into(),
                at: "2026-01-02T03:04:05.5Z".into(),
                vendor: Some("jd".into()),
                operation: Some("image_update".into()),
                method: "PURGE".into(),
                path: "/jdai/image_update".into(),
                status: 200,
                latency_us: 7,
                tenant: Some("ak".into()),
                detail: None,
                fault: None,
            }
        );
        assert_eq!(
            all[1],
            Entry {
                seq: 3,
                ..entry("aries", 204)
            }
        );
        j.clear();
        j.record_served(served(Some("a=1"), http::Method::POST));
        let first = &j.entries(&Query::vendor("jd").tenant("ak").status(200))[0];
        assert_eq!(
            (first.method.as_str(), first.path.as_str()),
            ("POST", "/jdai/image_update?a=1")
        );
        assert_eq!(j.count(&Query::vendor("jd").operation("image_delete")), 0);
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
