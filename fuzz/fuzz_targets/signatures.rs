//! Fuzz target: the four signature schemes' parsers and verifiers, and the Alibaba filter parser.
//!
//! The input is read as lines: the `Authorization` candidate, the method, the path, the query,
//! the body, then `name: value` header lines. Every parser gets the first line; whatever a parser
//! accepts goes to its verifier along with the request made of the other lines. A panic, an
//! overflow or a hang is a finding; a refusal is the expected outcome.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use imgemu::vendors::aliyun::filter::Filter;
use imgemu::vendors::aliyun::sign::{self as ali, V3Request};
use imgemu::vendors::huawei::sign as hw;
use imgemu::vendors::jd::sign as jd;
use libfuzzer_sys::fuzz_target;

/// The secret every verifier checks against (any value: no input can be expected to match).
const SECRET: &str = "imgemu-dev-sk";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let authorization = lines.next().unwrap_or_default();
    let method = lines.next().unwrap_or_default();
    let path = lines.next().unwrap_or_default();
    let query = lines.next();
    let body = lines.next().unwrap_or_default().as_bytes();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }

    let _ = jd::access_key_hint(authorization);
    if let Ok(auth) = jd::parse_authorization(authorization) {
        let raw = jd::RawRequest {
            method,
            path,
            query,
            headers: &headers,
            body,
        };
        let _ = jd::verify(&raw, &auth, SECRET);
    }

    let _ = hw::is_sdk_date(authorization);
    let _ = hw::parse_sdk_date(authorization);
    if let Ok(auth) = hw::parse_authorization(authorization) {
        let raw = hw::RawRequest {
            method,
            path,
            query,
            headers: &headers,
            body,
        };
        let _ = hw::verify(&raw, &auth, SECRET);
    }

    let _ = ali::v3_access_key_hint(authorization);
    if let Ok(auth) = ali::parse_v3(authorization) {
        let v3 = V3Request {
            method,
            query,
            headers: &headers,
            body,
        };
        let _ = ali::verify_v3(&v3, &auth, SECRET);
    }
    if let Ok(params) = ali::merge_params(query, Some(body)) {
        let _ = ali::parse_v2(&params);
        let _ = ali::verify_v2(method, &params, SECRET);
    }

    let _ = Filter::parse(authorization);
});
