//! The JD envelope (spec §2.2): `{"code","charge","remainTimes","remainSeconds","msg","result"}`,
//! the business results inside it (§2.3), and the request id (§2.4).

use http::header::HeaderName;
use http::StatusCode;
use serde::Serialize;
use serde_json::{json, Value};

use super::codes::{Business, SystemCode, OK};
use crate::reply::Reply;

/// `Content-Type` of every JD response.
pub(crate) const JSON: &str = "application/json;charset=UTF-8";

/// The request-id header the official client reads.
pub(crate) fn request_id_header() -> HeaderName {
    HeaderName::from_static("x-jdcloud-request-id")
}

/// Which family an operation belongs to: it decides `status_code` vs `code` in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// index, task, index_search, collection_list, image_delete, image_update, image_fetch.
    General,
    /// product_image_*.
    Product,
}

impl Family {
    /// The family of an operation name.
    pub fn of(operation: &str) -> Family {
        if operation.starts_with("product_image_") {
            Family::Product
        } else {
            Family::General
        }
    }

    /// The key that carries the business code.
    pub fn code_key(self) -> &'static str {
        match self {
            Family::General => "status_code",
            Family::Product => "code",
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    code: &'static str,
    charge: bool,
    #[serde(rename = "remainTimes")]
    remain_times: u64,
    #[serde(rename = "remainSeconds")]
    remain_seconds: i64,
    msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Value>,
}

/// An envelope with HTTP `status`, system `code`, and an optional `result`.
pub(crate) fn envelope(
    status: StatusCode,
    code: SystemCode,
    remain_times: u64,
    result: Option<&Value>,
) -> Reply {
    Reply::json_as(
        status,
        JSON,
        &Envelope {
            code: code.code,
            charge: false,
            remain_times,
            remain_seconds: -1,
            msg: code.msg,
            result,
        },
    )
}

/// A system-level error (no `result`), HTTP 200.
pub(crate) fn system_error(code: SystemCode, remain_times: u64) -> Reply {
    envelope(StatusCode::OK, code, remain_times, None)
}

/// A successful business answer: `result` gets `status_code`/`code` 0 and `message` SUCCESS.
pub(crate) fn success(family: Family, mut result: Value, remain_times: u64) -> Reply {
    if let Value::Object(map) = &mut result {
        map.insert(family.code_key().into(), json!(0));
        map.insert("message".into(), json!("SUCCESS"));
    }
    envelope(StatusCode::OK, OK, remain_times, Some(&result))
}

/// A business error: a `10000` envelope whose result has only the code and its NAME.
pub(crate) fn business_error(family: Family, code: Business, remain_times: u64) -> Reply {
    let result = json!({ family.code_key(): code.code, "message": code.wire_name() });
    envelope(StatusCode::OK, OK, remain_times, Some(&result))
}

/// Length of a request id.
const REQUEST_ID_LEN: usize = 32;

/// A fresh request id: 32 characters of `[0-9a-z]`, each equally likely.
pub(crate) fn new_request_id() -> String {
    use rand::RngCore;
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    // The largest multiple of 36 that fits in a byte: bytes at or above it are skipped, so that
    // `byte % 36` is uniform. One draw of random bytes nearly always suffices.
    const LIMIT: u8 = 252;
    let mut rng = rand::rng();
    let mut id = String::with_capacity(REQUEST_ID_LEN);
    let mut bytes = [0u8; REQUEST_ID_LEN];
    while id.len() < REQUEST_ID_LEN {
        rng.fill_bytes(&mut bytes);
        let wanted = REQUEST_ID_LEN - id.len();
        for &byte in bytes.iter().filter(|&&b| b < LIMIT).take(wanted) {
            id.push(char::from(ALPHABET[usize::from(byte % 36)]));
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_32_lower_case_alphanumerics_and_use_every_one() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let id = new_request_id();
            assert_eq!(id.len(), REQUEST_ID_LEN);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
            seen.extend(id.bytes());
        }
        assert_eq!(seen.len(), 36);
    }
}
