//! Property tests (issue #7) through the public API only:
//!
//! - every signature verifier (JD `JDCLOUD2-HMAC-SHA256`, Alibaba V3 `ACS3-HMAC-SHA256` and
//!   legacy V2 `HMAC-SHA1`, Huawei `SDK-HMAC-SHA256`) accepts a request signed by its reference
//!   signer, and refuses it after any single-byte change to the body, path, query or a signed
//!   header value;
//! - the `Authorization` parsers, the verifiers fed with whatever those parsers accept, and
//!   `Filter::parse` never panic on arbitrary text;
//! - the private parsers of JSON-patch operations (Huawei `PATCH /v2/cloudimages/{id}`) and task
//!   ids (JD `GET /jdai/task`, `POST /jdai/product_image_status`) never make the emulator answer
//!   5xx (or not at all) on arbitrary input, checked over HTTP against one emulator per property.
//!
//! About the mutations: each verifier canonicalises the request before hashing, so some byte
//! changes are meant to be invisible (a percent escape's hex case, `%41` versus `A`, surrounding
//! whitespace of header values, the order of query pairs, …). A mutation here therefore replaces
//! one ASCII alphanumeric byte of the path, query or header value by a *different* alphanumeric
//! byte, never one of the two bytes after a `%` (which could change an escape's hex case, or make
//! or unmake an escape). Such a byte is left bare, untrimmed and undecoded by every
//! canonicalisation, so the canonical form, hence the signature, must change. Bodies are hashed
//! raw, so any byte of a body may become any other byte.

use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use imgemu::vendors::aliyun::filter::Filter;
use imgemu::vendors::aliyun::sign::{self as ali, V3Request};
use imgemu::vendors::huawei::sign as hw;
use imgemu::vendors::jd::sign as jd;
use imgemu::{AuthMode, Emulator};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use sha2::Digest;

// ----- shared generators and mutations ---------------------------------------------------------

/// The bytes a mutation picks from and writes.
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The secret every property signs and verifies with.
const SECRET: &str = "imgemu-prop-sk";

/// A header value `http::HeaderValue::from_str` accepts: visible ASCII and spaces.
const HEADER_VALUE: &str = "[ -~]{0,40}";

/// One query name or value: visible ASCII without the separators `&`, `=`, `#` and without
/// spaces (JD's client canonicalisation trims names and values and ignores what follows a second
/// `=`, both documented tolerances rather than bugs, so the generator stays clear of them).
/// Includes `+` (a space in Alibaba's form decoding), stray `%` and valid escapes of either hex
/// case.
fn query_part() -> impl Strategy<Value = String> {
    let chunk = prop_oneof!["[!-\"$-%'-<>-~]{1,4}", "%[0-9A-Fa-f]{2}"];
    prop::collection::vec(chunk, 0..4).prop_map(|chunks| chunks.concat())
}

/// A raw query string, or none: pieces `name=value`, or a bare `name`, joined with `&`.
fn query() -> impl Strategy<Value = Option<String>> {
    let piece =
        (query_part(), prop::option::of(query_part())).prop_map(|(name, value)| match value {
            Some(value) => format!("{name}={value}"),
            None => name,
        });
    prop::option::of(prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.join("&")))
}

/// A request body: arbitrary bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64)
}

/// A header value as a `HeaderValue` (the generator only yields valid ones).
fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("generated header values are valid")
}

/// `text` with one alphanumeric byte (not within a `%XX`) replaced by another alphanumeric byte;
/// `None` when `text` has no such byte.
fn flip_alnum(text: &str, at: Index, step: u8) -> Option<String> {
    let bytes = text.as_bytes();
    let candidates: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_alphanumeric())
        .filter(|&i| !bytes[i.saturating_sub(2)..i].contains(&b'%'))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let i = candidates[at.index(candidates.len())];
    let old = ALNUM.iter().position(|&b| b == bytes[i]).expect("alnum");
    let new = ALNUM[(old + 1 + usize::from(step) % (ALNUM.len() - 1)) % ALNUM.len()];
    let mut out = bytes.to_vec();
    out[i] = new;
    Some(String::from_utf8(out).expect("ASCII replaced by ASCII"))
}

/// `body` with one byte changed to a different byte; `None` for an empty body.
fn flip_byte(body: &[u8], at: Index, xor: u8) -> Option<Vec<u8>> {
    if body.is_empty() {
        return None;
    }
    let mut out = body.to_vec();
    out[at.index(body.len())] ^= xor;
    Some(out)
}

/// What a mutation changes.
#[derive(Debug, Clone, Copy)]
enum Target {
    Body,
    Path,
    Query,
    /// The value of the n-th (modulo their number) signed header.
    Header(Index),
}

fn target(with_path: bool) -> impl Strategy<Value = Target> {
    let kinds = if with_path { 4 } else { 3 };
    (0..kinds, any::<Index>()).prop_map(move |(kind, at)| match (kind, with_path) {
        (0, _) => Target::Body,
        (1, _) => Target::Query,
        (2, _) => Target::Header(at),
        _ => Target::Path,
    })
}

/// One single-byte change: where, which byte, and to what (`step` for alphanumerics, `xor` for
/// body bytes, never 0).
#[derive(Debug, Clone, Copy)]
struct Mutation {
    target: Target,
    at: Index,
    step: u8,
    xor: u8,
}

fn mutation(with_path: bool) -> impl Strategy<Value = Mutation> {
    (target(with_path), any::<Index>(), any::<u8>(), 1..=255u8).prop_map(
        |(target, at, step, xor)| Mutation {
            target,
            at,
            step,
            xor,
        },
    )
}

/// A request as the properties see it; header values are in `SignedHeaders` order.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    query: Option<String>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

impl Req {
    fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, text) in &self.headers {
            map.insert(*name, value(text));
        }
        map
    }

    /// The request after `m`, or `None` when the chosen part has no byte `m` may change.
    fn mutated(&self, m: Mutation) -> Option<Req> {
        let mut out = self.clone();
        match m.target {
            Target::Body => out.body = flip_byte(&self.body, m.at, m.xor)?,
            Target::Path => out.path = flip_alnum(&self.path, m.at, m.step)?,
            Target::Query => out.query = Some(flip_alnum(self.query.as_deref()?, m.at, m.step)?),
            Target::Header(which) => {
                let slot = &mut out.headers[which.index(self.headers.len())].1;
                *slot = flip_alnum(slot, m.at, m.step)?;
            }
        }
        Some(out)
    }
}

fn method() -> impl Strategy<Value = String> {
    "[A-Z]{1,8}"
}

/// A path: `/` then visible ASCII that may appear in a request target, stray `%` and valid
/// escapes of either hex case included.
fn path() -> impl Strategy<Value = String> {
    let chunk = prop_oneof!["[A-Za-z0-9._~%/:@!$'()*+,;=-]{1,6}", "%[0-9A-Fa-f]{2}"];
    prop::collection::vec(chunk, 0..6).prop_map(|chunks| format!("/{}", chunks.concat()))
}

/// `YYYYMMDDThhmmssZ`-shaped (digits, not necessarily a real instant).
fn compact_date() -> impl Strategy<Value = String> {
    "[0-9]{8}T[0-9]{6}Z"
}

/// Arbitrary text for the never-panic properties: any Unicode, or bytes read lossily.
fn soup() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

/// Text built from the pieces of an `Authorization` value, so the parsers get past their first
/// checks more often than with plain soup.
fn auth_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("JDCLOUD2-HMAC-SHA256".to_string()),
        Just("ACS3-HMAC-SHA256".to_string()),
        Just("SDK-HMAC-SHA256".to_string()),
        Just("Credential=".to_string()),
        Just("Access=".to_string()),
        Just("SignedHeaders=".to_string()),
        Just("Signature=".to_string()),
        Just("content-type;host;x-sdk-date".to_string()),
        Just("ak/20260101/jdcloud-api/simpleclient/jdcloud2_request".to_string()),
        Just("0123456789abcdef".repeat(4)),
        Just(",".to_string()),
        Just(", ".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("/".to_string()),
        Just(";".to_string()),
        Just("=".to_string()),
        ".{0,4}",
    ];
    prop::collection::vec(token, 0..12).prop_map(|tokens| tokens.concat())
}

/// 256 cases; a mutation of a part with no byte to change (no query, an empty body, …) is
/// rejected and regenerated, so rejects are allowed well past proptest's default.
fn cfg() -> ProptestConfig {
    ProptestConfig {
        max_global_rejects: 4096,
        ..ProptestConfig::with_cases(256)
    }
}

// ----- JD JDCLOUD2-HMAC-SHA256 -----------------------------------------------------------------

/// The official client's signed headers, in this order in `Req::headers`.
const JD_SIGNED: &str = "content-type;host;x-jdcloud-date;x-jdcloud-nonce";

fn jd_request() -> impl Strategy<Value = Req> {
    (
        method(),
        path(),
        query(),
        body(),
        HEADER_VALUE,
        HEADER_VALUE,
        compact_date(),
        HEADER_VALUE,
    )
        .prop_map(
            |(method, path, query, body, content_type, host, date, nonce)| Req {
                method,
                path,
                query,
                body,
                headers: vec![
                    ("content-type", content_type),
                    ("host", host),
                    ("x-jdcloud-date", date),
                    ("x-jdcloud-nonce", nonce),
                ],
            },
        )
}

/// The `Authorization` value the official client sends for `req`.
fn jd_authorization(req: &Req) -> String {
    let headers = req.header_map();
    let date8 = &req.headers[2].1[..8];
    let raw = jd::RawRequest {
        method: &req.method,
        path: &req.path,
        query: req.query.as_deref(),
        headers: &headers,
        body: &req.body,
    };
    let signature = jd::sign(
        &raw,
        (date8, "jdcloud-api", "simpleclient"),
        JD_SIGNED,
        SECRET,
    );
    format!(
        "JDCLOUD2-HMAC-SHA256 Credential=ak/{date8}/jdcloud-api/simpleclient/jdcloud2_request, \
         SignedHeaders={JD_SIGNED}, Signature={signature}"
    )
}

fn jd_verify(req: &Req, authorization: &str) -> Result<(), jd::VerifyError> {
    let auth = jd::parse_authorization(authorization).expect("the signer's header parses");
    let headers = req.header_map();
    let raw = jd::RawRequest {
        method: &req.method,
        path: &req.path,
        query: req.query.as_deref(),
        headers: &headers,
        body: &req.body,
    };
    jd::verify(&raw, &auth, SECRET)
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn jd_signed_request_verifies(req in jd_request()) {
        let authorization = jd_authorization(&req);
        prop_assert_eq!(jd_verify(&req, &authorization), Ok(()));
    }

    #[test]
    fn jd_single_byte_change_fails(req in jd_request(), m in mutation(true)) {
        let authorization = jd_authorization(&req);
        let changed = req.mutated(m);
        prop_assume!(changed.is_some());
        let changed = changed.unwrap();
        prop_assert!(
            jd_verify(&changed, &authorization).is_err(),
            "{:?} still verifies after {:?}", changed, m
        );
    }

    #[test]
    fn jd_parser_and_verifier_never_panic(text in prop_oneof![soup(), auth_soup()]) {
        let _ = jd::access_key_hint(&text);
        if let Ok(auth) = jd::parse_authorization(&text) {
            let mut headers = HeaderMap::new();
            headers.insert("x-jdcloud-date", HeaderValue::from_static("20260101T000000Z"));
            headers.insert("host", HeaderValue::from_static("127.0.0.1:443"));
            let raw = jd::RawRequest {
                method: "GET",
                path: "/",
                query: Some(&text),
                headers: &headers,
                body: text.as_bytes(),
            };
            let _ = jd::verify(&raw, &auth, SECRET);
        }
    }
}

// ----- Alibaba V3 ACS3-HMAC-SHA256 -------------------------------------------------------------

/// tea-openapi's signed headers minus `x-acs-content-sha256`: when sent, that header is checked
/// against the body on its own, and leaving it out makes the body-mutation property test that
/// the signature itself covers the body.
const ALI_SIGNED: &str =
    "content-type;host;x-acs-action;x-acs-date;x-acs-signature-nonce;x-acs-version";

fn ali_request() -> impl Strategy<Value = Req> {
    (
        method(),
        query(),
        body(),
        [
            HEADER_VALUE,
            HEADER_VALUE,
            HEADER_VALUE,
            HEADER_VALUE,
            HEADER_VALUE,
        ],
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
    )
        .prop_map(
            |(method, query, body, [ct, host, action, nonce, version], date)| Req {
                method,
                // V3 signs the fixed URI `/`: there is no path to change.
                path: "/".into(),
                query,
                body,
                headers: vec![
                    ("content-type", ct),
                    ("host", host),
                    ("x-acs-action", action),
                    ("x-acs-date", date),
                    ("x-acs-signature-nonce", nonce),
                    ("x-acs-version", version),
                ],
            },
        )
}

fn ali_authorization(req: &Req) -> String {
    let headers = req.header_map();
    let v3 = V3Request {
        method: &req.method,
        query: req.query.as_deref(),
        headers: &headers,
        body: &req.body,
    };
    let signature = ali::sign_v3(&v3, ALI_SIGNED, SECRET);
    format!("ACS3-HMAC-SHA256 Credential=ak,SignedHeaders={ALI_SIGNED},Signature={signature}")
}

fn ali_verifies(req: &Req, authorization: &str) -> bool {
    let auth = ali::parse_v3(authorization).expect("the signer's header parses");
    let headers = req.header_map();
    let v3 = V3Request {
        method: &req.method,
        query: req.query.as_deref(),
        headers: &headers,
        body: &req.body,
    };
    ali::verify_v3(&v3, &auth, SECRET).is_ok()
}

/// V2 parameters: distinct lower-case names (a repeated name counts once, its last value, so a
/// change to an overridden value would be invisible; and lower-case names never become
/// `Signature`, which is not signed), arbitrary values.
fn v2_params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map("[a-z][a-z0-9]{0,8}", "\\PC{0,12}", 1..6)
        .prop_map(|map| map.into_iter().collect())
}

/// One parameter's name or value with one character replaced by a different one (names stay
/// `[a-z0-9]`); `None` when the chosen text is empty.
fn v2_mutated(
    params: &[(String, String)],
    which: Index,
    in_name: bool,
    at: Index,
    with: char,
) -> Option<Vec<(String, String)>> {
    let mut out = params.to_vec();
    let (name, value) = &mut out[which.index(params.len())];
    let slot = if in_name { name } else { value };
    let mut chars: Vec<char> = slot.chars().collect();
    if chars.is_empty() {
        return None;
    }
    let i = at.index(chars.len());
    let pool: Vec<char> = if in_name {
        ('a'..='z').chain('0'..='9').collect()
    } else {
        vec![with, 'x', 'y']
    };
    chars[i] = pool
        .into_iter()
        .find(|&c| c != chars[i])
        .expect("two candidates differ");
    *slot = chars.into_iter().collect();
    Some(out)
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn aliyun_v3_signed_request_verifies(req in ali_request()) {
        let authorization = ali_authorization(&req);
        prop_assert!(ali_verifies(&req, &authorization));
    }

    #[test]
    fn aliyun_v3_single_byte_change_fails(req in ali_request(), m in mutation(false)) {
        let authorization = ali_authorization(&req);
        let changed = req.mutated(m);
        prop_assume!(changed.is_some());
        let changed = changed.unwrap();
        prop_assert!(
            !ali_verifies(&changed, &authorization),
            "{:?} still verifies after {:?}", changed, m
        );
    }

    #[test]
    fn aliyun_v3_content_sha256_header_is_checked(req in ali_request(), at in any::<Index>(), xor in 1..=255u8) {
        // With `x-acs-content-sha256` sent and signed, the request verifies; a body change
        // fails even though that header still names the old hash.
        let mut req = req;
        req.headers.push(("x-acs-content-sha256", hex::encode(sha2::Sha256::digest(&req.body))));
        let headers = req.header_map();
        let signed = format!("{ALI_SIGNED};x-acs-content-sha256");
        let v3 = V3Request { method: &req.method, query: req.query.as_deref(), headers: &headers, body: &req.body };
        let authorization = format!(
            "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders={signed},Signature={}",
            ali::sign_v3(&v3, &signed, SECRET)
        );
        prop_assert!(ali_verifies(&req, &authorization));
        if let Some(body) = flip_byte(&req.body, at, xor) {
            let changed = Req { body, ..req };
            prop_assert!(!ali_verifies(&changed, &authorization));
        }
    }

    #[test]
    fn aliyun_v2_signed_params_verify(method in method(), params in v2_params()) {
        let mut signed = params.clone();
        signed.push(("Signature".into(), ali::sign_v2(&method, &params, SECRET)));
        prop_assert!(ali::verify_v2(&method, &signed, SECRET).is_ok());
    }

    #[test]
    fn aliyun_v2_single_char_change_fails(
        method in method(),
        params in v2_params(),
        which in any::<Index>(),
        in_name in any::<bool>(),
        at in any::<Index>(),
        with in any::<char>(),
    ) {
        // V2 has no path or headers; its query and body are the merged parameters.
        let signature = ali::sign_v2(&method, &params, SECRET);
        let changed = v2_mutated(&params, which, in_name, at, with);
        prop_assume!(changed.is_some());
        let mut changed = changed.unwrap();
        changed.push(("Signature".into(), signature));
        prop_assert!(ali::verify_v2(&method, &changed, SECRET).is_err(), "{:?}", changed);
    }

    #[test]
    fn aliyun_parsers_and_verifiers_never_panic(
        text in prop_oneof![soup(), auth_soup()],
        pairs in prop::collection::vec((soup(), soup()), 0..6),
    ) {
        let _ = ali::v3_access_key_hint(&text);
        if let Ok(auth) = ali::parse_v3(&text) {
            let mut headers = HeaderMap::new();
            headers.insert("host", HeaderValue::from_static("127.0.0.1"));
            let v3 = V3Request { method: "POST", query: Some(&text), headers: &headers, body: text.as_bytes() };
            let _ = ali::verify_v3(&v3, &auth, SECRET);
        }
        let _ = ali::merge_params(Some(&text), Some(text.as_bytes()));
        let _ = ali::parse_v2(&pairs);
        let _ = ali::verify_v2(&text, &pairs, SECRET);
    }
}

// ----- Huawei SDK-HMAC-SHA256 ------------------------------------------------------------------

/// huaweicloudsdkcore's signed headers, in this order in `Req::headers`.
const HW_SIGNED: &str = "content-type;host;x-project-id;x-sdk-date";

fn hw_request() -> impl Strategy<Value = Req> {
    (
        method(),
        path(),
        query(),
        body(),
        [HEADER_VALUE, HEADER_VALUE, HEADER_VALUE],
        compact_date(),
    )
        .prop_map(
            |(method, path, query, body, [ct, host, project], date)| Req {
                method,
                path,
                query,
                body,
                headers: vec![
                    ("content-type", ct),
                    ("host", host),
                    ("x-project-id", project),
                    ("x-sdk-date", date),
                ],
            },
        )
}

fn hw_authorization(req: &Req) -> String {
    let headers = req.header_map();
    let raw = hw::RawRequest {
        method: &req.method,
        path: &req.path,
        query: req.query.as_deref(),
        headers: &headers,
        body: &req.body,
    };
    let signature = hw::sign(&raw, HW_SIGNED, SECRET);
    format!("SDK-HMAC-SHA256 Access=ak, SignedHeaders={HW_SIGNED}, Signature={signature}")
}

fn hw_verify(req: &Req, authorization: &str) -> Result<(), hw::SignError> {
    let auth = hw::parse_authorization(authorization).expect("the signer's header parses");
    let headers = req.header_map();
    let raw = hw::RawRequest {
        method: &req.method,
        path: &req.path,
        query: req.query.as_deref(),
        headers: &headers,
        body: &req.body,
    };
    hw::verify(&raw, &auth, SECRET)
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn huawei_signed_request_verifies(req in hw_request()) {
        let authorization = hw_authorization(&req);
        prop_assert_eq!(hw_verify(&req, &authorization), Ok(()));
    }

    #[test]
    fn huawei_single_byte_change_fails(req in hw_request(), m in mutation(true)) {
        // No `X-Sdk-Content-Sha256` is sent, so the body hash is the body's own; an empty body
        // (hashed as the fixed empty hash whatever is sent) has no byte to change and is skipped.
        let authorization = hw_authorization(&req);
        let changed = req.mutated(m);
        prop_assume!(changed.is_some());
        let changed = changed.unwrap();
        prop_assert!(
            hw_verify(&changed, &authorization).is_err(),
            "{:?} still verifies after {:?}", changed, m
        );
    }

    #[test]
    fn huawei_parser_and_verifier_never_panic(text in prop_oneof![soup(), auth_soup()]) {
        let _ = hw::is_sdk_date(&text);
        let _ = hw::parse_sdk_date(&text);
        if let Ok(auth) = hw::parse_authorization(&text) {
            let mut headers = HeaderMap::new();
            headers.insert("x-sdk-date", HeaderValue::from_static("20260101T000000Z"));
            headers.insert("host", HeaderValue::from_static("127.0.0.1"));
            let raw = hw::RawRequest {
                method: "GET",
                path: &text,
                query: Some(&text),
                headers: &headers,
                body: text.as_bytes(),
            };
            let _ = hw::verify(&raw, &auth, SECRET);
        }
    }
}

// ----- Alibaba Filter expressions --------------------------------------------------------------

/// Text built from filter tokens (and some near-misses), so the parser gets deep more often
/// than with plain soup.
fn filter_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "int_attr",
            "int_attr2",
            "INT_ATTR3",
            "intAttr4",
            "int_attr1",
            "str_attr",
            "str_attr2",
            "StrAttr3",
            "str_attr4",
            "AND",
            "and",
            "OR",
            "or",
            "NOT",
            "IN",
            "NOTIN",
            "(",
            ")",
            ",",
            "=",
            "!=",
            "!",
            ">",
            ">=",
            "<",
            "<=",
            "-",
            "1",
            "007",
            "-2147483648",
            "2147483647",
            "2147483648",
            "99999999999999999999",
            "1.5",
            "1AND",
            "\"a\"",
            "'b'",
            "\"",
            "'",
            "\\",
            "\"\\\"\"",
            "'\\''",
            "\"\\x\"",
            "\"é\"",
            " ",
            "\t",
            "\n",
            "é",
            "\u{3000}",
            "_",
        ])
        .prop_map(str::to_string),
        ".{0,3}",
    ];
    prop_oneof![
        prop::collection::vec(token, 0..30).prop_map(|tokens| tokens.concat()),
        (0..80usize, 0..80usize).prop_map(|(open, close)| {
            format!("{}int_attr=1{}", "(".repeat(open), ")".repeat(close))
        }),
    ]
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn filter_parse_never_panics(text in prop_oneof![soup(), filter_soup()]) {
        let _ = Filter::parse(&text);
    }
}

#[test]
fn filter_parse_never_panics_on_long_input() {
    for text in [
        "(".repeat(10_000),
        "int_attr=1 AND ".repeat(300) + "int_attr=1",
        "x".repeat(5000),
        "\"".repeat(4097),
    ] {
        let _ = Filter::parse(&text);
    }
}

// ----- over HTTP: JSON-patch operations and task ids -------------------------------------------

/// The seed image of Huawei IMS.
const HW_SEED_IMAGE: &str = "33ad552d-1149-471c-8190-ff6776174a00";

fn http_runner() -> TestRunner {
    TestRunner::new(Config::with_cases(64))
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A JSON value of small depth.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON-patch body: well-formed-ish operation arrays, arbitrary JSON, or arbitrary bytes.
fn patch_body() -> impl Strategy<Value = Vec<u8>> {
    let op = (
        prop::option::of(prop_oneof![
            prop::sample::select(vec![
                "add", "replace", "remove", "test", "move", "copy", "ADD"
            ])
            .prop_map(serde_json::Value::from),
            json_value(),
        ]),
        prop::option::of(prop_oneof![
            prop::sample::select(vec![
                "/name",
                "/__description",
                "/min_disk",
                "/min_ram",
                "/__os_version",
                "/__support_kvm",
                "/tags",
                "/custom_key",
                "/",
                "",
                "/a/b",
                "/~0",
                "name",
            ])
            .prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
            json_value(),
        ]),
        prop::option::of(json_value()),
    )
        .prop_map(|(op, path, value)| {
            let mut obj = serde_json::Map::new();
            for (key, v) in [("op", op), ("path", path), ("value", value)] {
                if let Some(v) = v {
                    obj.insert(key.into(), v);
                }
            }
            serde_json::Value::Object(obj)
        });
    // Operations the parser accepts, so that the checks and the update behind it run too.
    let plausible = (
        prop::sample::select(vec!["add", "replace", "remove"]),
        prop::sample::select(vec![
            "name", "__description", "min_disk", "min_ram", "max_ram", "__os_version",
            "__support_kvm", "__isregistered", "status", "id", "custom_key", "x",
        ]),
        prop_oneof![
            "\\PC{0,16}".prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            (-1..70000i64).prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
        ],
    )
        .prop_map(|(op, name, value)| {
            serde_json::json!({ "op": op, "path": format!("/{name}"), "value": value })
        });
    prop_oneof![
        prop::collection::vec(plausible, 1..4)
            .prop_map(|ops| serde_json::Value::Array(ops).to_string().into_bytes()),
        prop::collection::vec(op, 0..5)
            .prop_map(|ops| serde_json::Value::Array(ops).to_string().into_bytes()),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..100),
    ]
}

#[test]
fn huawei_json_patch_never_answers_5xx() {
    let emu = Emulator::builder()
        .auth_mode(AuthMode::Off)
        .start_blocking()
        .expect("emulator starts");
    let http = client();
    let url = format!("{}/v2/cloudimages/{HW_SEED_IMAGE}", emu.url());
    let content_type = prop::sample::select(vec![
        "application/json",
        "application/openstack-images-v2.1-json-patch",
        "text/plain",
    ]);
    http_runner()
        .run(&(patch_body(), content_type), |(body, content_type)| {
            let resp = http
                .patch(&url)
                .header("X-Auth-Token", "imgemu-dev-token")
                .header("Content-Type", content_type)
                .body(body.clone())
                .send();
            let resp = resp.map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
            let status = resp.status().as_u16();
            let text = resp.text().unwrap_or_default();
            prop_assert!(
                status < 500,
                "{status} for {:?}: {text}",
                String::from_utf8_lossy(&body)
            );
            Ok(())
        })
        .unwrap();
}

/// A task id: arbitrary text, or near-misses of real ids.
fn task_id() -> impl Strategy<Value = String> {
    prop_oneof![
        soup(),
        "[0-9a-f/-]{0,40}",
        "\\PC{0,8}/\\PC{0,8}",
        prop::sample::select(vec![
            "", "/", "//", "0", "-1", "a/b/c", "%2F", "..", "../.."
        ])
        .prop_map(str::to_string),
    ]
}

/// `text` with every byte but `A–Z a–z 0–9 - _ . ~` percent-encoded.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn jd_task_ids_never_answer_5xx() {
    let emu = Emulator::builder()
        .auth_mode(AuthMode::Off)
        .start_blocking()
        .expect("emulator starts");
    let http = client();
    let base = emu.url();
    http_runner()
        .run(&task_id(), |id| {
            let resp = http
                .get(format!("{base}/jdai/task?task_id={}", percent_encoded(&id)))
                .send()
                .map_err(|e| TestCaseError::fail(format!("GET: no answer: {e}")))?;
            let status = resp.status().as_u16();
            let text = resp.text().unwrap_or_default();
            prop_assert!(status < 500, "GET task {status} for {id:?}: {text}");

            let resp = http
                .post(format!("{base}/jdai/product_image_status"))
                .header("Content-Type", "application/json")
                .body(serde_json::json!({ "task_id": id }).to_string())
                .send()
                .map_err(|e| TestCaseError::fail(format!("POST: no answer: {e}")))?;
            let status = resp.status().as_u16();
            let text = resp.text().unwrap_or_default();
            prop_assert!(
                status < 500,
                "product_image_status {status} for {id:?}: {text}"
            );
            Ok(())
        })
        .unwrap();
}
