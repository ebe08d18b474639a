//! The mutation log's format: one header line, then one JSON record per line, and how records are
//! read back (a torn last line is skipped) and applied to a state document.
//!
//! ```text
//! {"format":"imgemu-log","version":1,"generation":3}
//! {"seq":1,"vendor":"aries","delta":{"next_id":5,"tenants":{"admin":{"images":[…]}}}}
//! ```
//!
//! A record's `delta` has the shape of the vendor's state-document member, holding what the request
//! may have changed: top-level members replace the document's, and each tenant under `tenants`
//! replaces that tenant whole.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `format` member of a log's header line.
pub(crate) const LOG_FORMAT: &str = "imgemu-log";
/// The only log `version` this build reads and writes.
pub(crate) const LOG_VERSION: u64 = 1;

/// The first line of every log.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Header {
    /// Always [`LOG_FORMAT`].
    pub format: String,
    /// Always [`LOG_VERSION`].
    pub version: u64,
    /// The generation of the snapshot this log continues.
    pub generation: u64,
}

impl Header {
    /// The header of generation `generation`'s log, as a line.
    pub fn line(generation: u64) -> Vec<u8> {
        let header = Header {
            format: LOG_FORMAT.into(),
            version: LOG_VERSION,
            generation,
        };
        let mut line = serde_json::to_vec(&header).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

/// One acknowledged mutation.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// The vendor whose member `delta` updates.
    pub vendor: String,
    /// What changed, shaped like the vendor's member.
    pub delta: Value,
}

impl Record {
    /// The record as a line.
    pub fn line(seq: u64, vendor: &str, delta: Value) -> Vec<u8> {
        let record = Record {
            seq,
            vendor: vendor.into(),
            delta,
        };
        let mut line = serde_json::to_vec(&record).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

/// A log that cannot be used: which line and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub(crate) struct LogError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// A log as read back.
#[derive(Debug, PartialEq)]
pub(crate) struct Parsed {
    /// The complete records, in order.
    pub records: Vec<Record>,
    /// A last line that was cut short (a crash mid-write), skipped: its 1-based line number.
    pub torn: Option<usize>,
    /// Bytes up to the end of the last complete line: where appending continues.
    pub valid_len: usize,
}

/// Reads a log of generation `generation`. Only the last line may be incomplete; any other damage
/// is an error.
pub(crate) fn parse(bytes: &[u8], generation: u64) -> Result<Parsed, LogError> {
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // The text after the last newline: empty when the log ends cleanly.
    let tail = lines.pop().unwrap_or_default();
    let header_ok = |line: &[u8]| -> Result<(), LogError> {
        let header: Header = serde_json::from_slice(line).map_err(|e| LogError {
            line: 1,
            message: format!("not a log header: {e}"),
        })?;
        if header.format != LOG_FORMAT || header.version != LOG_VERSION {
            return Err(LogError {
                line: 1,
                message: format!(
                    "unsupported log {:?} version {}; this build reads {LOG_FORMAT:?} version {LOG_VERSION}",
                    header.format, header.version
                ),
            });
        }
        if header.generation != generation {
            return Err(LogError {
                line: 1,
                message: format!(
                    "header says generation {}, the file name says {generation}",
                    header.generation
                ),
            });
        }
        Ok(())
    };
    let Some((first, rest)) = lines.split_first() else {
        // Not even a complete header: the log's creation was cut short.
        return Ok(Parsed {
            records: Vec::new(),
            torn: (!tail.is_empty()).then_some(1),
            valid_len: 0,
        });
    };
    header_ok(first)?;
    let mut records = Vec::with_capacity(rest.len());
    let mut valid_len = first.len() + 1;
    for (i, line) in rest.iter().enumerate() {
        let number = i + 2;
        let record: Record = serde_json::from_slice(line).map_err(|e| LogError {
            line: number,
            message: format!("not a log record: {e}"),
        })?;
        let expected = records.len() as u64 + 1;
        if record.seq != expected {
            return Err(LogError {
                line: number,
                message: format!("record seq {} where {expected} was expected", record.seq),
            });
        }
        records.push(record);
        valid_len += line.len() + 1;
    }
    // A complete record is always followed by its newline, so text after the last newline is a
    // write the crash cut short, whatever it parses as.
    let torn = (!tail.is_empty()).then_some(lines.len() + 1);
    Ok(Parsed {
        records,
        torn,
        valid_len,
    })
}

/// Applies a record's `delta` to the vendor's member of a state document.
pub(crate) fn merge(member: &mut Value, delta: Value) {
    let Value::Object(delta) = delta else {
        *member = delta;
        return;
    };
    if !member.is_object() {
        *member = Value::Object(Map::new());
    }
    let Value::Object(target) = member else {
        return;
    };
    for (key, value) in delta {
        match (key.as_str(), value) {
            ("tenants", Value::Object(tenants)) => {
                let slot = target
                    .entry("tenants")
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(existing) = slot {
                    existing.extend(tenants);
                }
            }
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log(lines: &[Vec<u8>]) -> Vec<u8> {
        lines.concat()
    }

    #[test]
    fn a_clean_log_reads_back_in_order() {
        let bytes = log(&[
            Header::line(4),
            Record::line(1, "jd", json!({"tenants": {}})),
            Record::line(2, "aries", json!({"next_id": 3})),
        ]);
        let parsed = parse(&bytes, 4).unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[1].vendor, "aries");
        assert_eq!(parsed.torn, None);
        assert_eq!(parsed.valid_len, bytes.len());
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_reported() {
        let good = log(&[Header::line(1), Record::line(1, "jd", json!({}))]);
        let record = Record::line(2, "jd", json!({"tenants": {"a": {}}}));
        for cut in 1..record.len() {
            let mut bytes = good.clone();
            bytes.extend_from_slice(&record[..cut]);
            let parsed = parse(&bytes, 1).unwrap();
            assert_eq!(parsed.records.len(), 1, "cut at {cut}");
            assert_eq!(parsed.torn, Some(3));
            assert_eq!(parsed.valid_len, good.len());
        }
        // A header cut short: an empty log.
        let parsed = parse(&Header::line(1)[..5], 1).unwrap();
        assert_eq!((parsed.records.len(), parsed.torn), (0, Some(1)));
        assert_eq!(parse(b"", 1).unwrap().torn, None);
    }

    #[test]
    fn damage_before_the_last_line_is_an_error_naming_the_line() {
        let mut bytes = log(&[Header::line(1), Record::line(1, "jd", json!({}))]);
        bytes.extend_from_slice(b"{garbage\n");
        bytes.extend(Record::line(3, "jd", json!({})));
        assert_eq!(parse(&bytes, 1).unwrap_err().line, 3);
        let gap = log(&[Header::line(1), Record::line(2, "jd", json!({}))]);
        let err = parse(&gap, 1).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("seq 2 where 1"), "{err}");
        assert_eq!(parse(&Header::line(2), 1).unwrap_err().line, 1);
        let other = b"{\"format\":\"imgemu-log\",\"version\":2,\"generation\":1}\n";
        assert!(parse(other, 1).unwrap_err().message.contains("unsupported"));
    }

    #[test]
    fn deltas_replace_top_level_members_and_whole_tenants() {
        let mut member = json!({"next_id": 2, "tenants": {
            "a": {"images": [1]}, "b": {"images": [2]}}});
        merge(
            &mut member,
            json!({"next_id": 3, "tenants": {"a": {"images": []}, "c": {"images": [3]}}}),
        );
        assert_eq!(
            member,
            json!({"next_id": 3, "tenants": {
                "a": {"images": []}, "b": {"images": [2]}, "c": {"images": [3]}}})
        );
        let mut absent = Value::Null;
        merge(&mut absent, json!({"images": [], "jobs": []}));
        assert_eq!(absent, json!({"images": [], "jobs": []}));
    }
}
