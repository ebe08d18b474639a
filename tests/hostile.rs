//! The hostile-input matrix of issue #7: hundreds of table-driven malformed requests across the four
//! vendors — bad JSON, wrong JSON types, huge numbers, invalid UTF-8, wrong content types,
//! duplicate parameters, missing and malformed auth, path traversal in ids, oversize bodies and
//! header floods.
//!
//! Every case goes over raw TCP (so invalid UTF-8, lying `Content-Length`s and header floods reach
//! the server unchanged) and must get the vendor's own error in its native shape with the vendor's
//! request-id header — or, for what hyper refuses before any vendor sees it, hyper's 4xx or a
//! clean close. Never a 5xx, never a hang, and after every table the emulator is healthy, still
//! serves a normal request and has not changed the fixtures it was attacked with.
//!
//! JD answers business errors and authentication failures with HTTP 200 and an error envelope (its
//! documented wire behaviour), so JD rows expect 200 with a non-success envelope.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Duration;

use common::aliyun::AliClient;
use common::huawei::{HwClient, DEV_PROJECT, SEED_IMAGE};
use common::jd::JdClient;
use http::{HeaderMap, HeaderValue};
use imgemu::Emulator;
use serde_json::Value;
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ----- the case model ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vendor {
    Aries,
    Jd,
    Aliyun,
    Huawei,
}

/// How the runner authenticates a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// The vendor's ordinary valid credential, signed over the exact request: Aries dev token, JD
    /// JDCLOUD2 with the dev key, Alibaba ACS3 with the dev key, Huawei dev token.
    Valid,
    /// Huawei only: SDK-HMAC-SHA256 with the dev AK/SK, sent with this X-Project-Id.
    AkSk(&'static str),
    /// Nothing added: the case's own headers are all there is.
    AsIs,
}

/// The request body as it goes on the wire.
#[derive(Debug, Clone)]
enum Body {
    /// These bytes with their true `Content-Length` (unless the case sets framing headers).
    Bytes(Vec<u8>),
    /// `Content-Length` claims this many bytes; only the bytes given are sent.
    Declared(u64, Vec<u8>),
    /// Chunked transfer of this many bytes (spaces).
    Chunked(usize),
}

/// The answer a case must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Aries `{"code","message","request_id"}` with this status and code.
    Aries(u16, &'static str),
    /// Aries (Gin) plain-text `404 page not found`.
    AriesPlain404,
    /// A JD system envelope (`code` ≠ 10000, no `result`) with this HTTP status.
    JdSystem(u16, &'static str),
    /// A JD `10000` envelope whose `result` is the business error (`status_code`/`code`, NAME).
    JdBusiness(u32, &'static str),
    /// Alibaba `{"RequestId","HostId","Code","Message","Recommend"}`.
    Ali(u16, &'static str),
    /// Huawei IMS `{"error":{"code","message"}}`.
    HwIms(u16, &'static str),
    /// Huawei gateway `{"error_code","error_msg","request_id"}`.
    HwGateway(u16, &'static str),
    /// Huawei 401 APIGW.0301 whose `error_msg` is "Incorrect IAM authentication information: " + this.
    HwAuth(&'static str),
    /// Below the vendor: hyper's own 4xx (empty body, no vendor request-id header), or the
    /// connection closed without an answer.
    HyperOrClose,
}

/// One row of a table: (label, method, path and query, headers, body, expected answer).
#[derive(Debug, Clone)]
struct Case {
    label: String,
    method: String,
    target: Vec<u8>,
    version: &'static str,
    headers: Vec<(String, Vec<u8>)>,
    /// Raw header-section bytes written verbatim after the headers (malformed lines).
    raw_head: Vec<u8>,
    body: Body,
    auth: Auth,
    /// Sign over these body bytes instead of the ones sent (a tampered body).
    sign_body: Option<Vec<u8>>,
    want: Want,
    /// A close without an answer is acceptable too (the body overflowed the hard cap mid-send).
    may_close: bool,
}

fn case(
    label: impl Into<String>,
    method: &str,
    target: impl AsRef<[u8]>,
    body: impl AsRef<[u8]>,
    want: Want,
) -> Case {
    Case {
        label: label.into(),
        method: method.to_string(),
        target: target.as_ref().to_vec(),
        version: "HTTP/1.1",
        headers: Vec::new(),
        raw_head: Vec::new(),
        body: Body::Bytes(body.as_ref().to_vec()),
        auth: Auth::Valid,
        sign_body: None,
        want,
        may_close: false,
    }
}

impl Case {
    fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }

    fn unsigned(mut self) -> Self {
        self.auth = Auth::AsIs;
        self
    }

    fn aksk(mut self, project: &'static str) -> Self {
        self.auth = Auth::AkSk(project);
        self
    }

    fn signed_over(mut self, body: impl AsRef<[u8]>) -> Self {
        self.sign_body = Some(body.as_ref().to_vec());
        self
    }

    fn with_body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    fn raw_head(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.raw_head.extend_from_slice(bytes.as_ref());
        self
    }

    fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    fn may_close(mut self) -> Self {
        self.may_close = true;
        self
    }
}

// ----- shared hostile material ------------------------------------------------------------------

const TWO_64: &str = "18446744073709551616";
const TWO_63: &str = "9223372036854775808";
const BELOW_I64_MIN: &str = "-9223372036854775809";
const INT32_OVER: &str = "2147483648";
const INT32_UNDER: &str = "-2147483649";

fn digits300() -> String {
    "9".repeat(300)
}

fn nested_arrays(depth: usize) -> Vec<u8> {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

fn nested_objects(depth: usize) -> Vec<u8> {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)).into_bytes()
}

fn utf16_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Bodies with no bytes or only whitespace.
fn empty_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty body", Vec::new()),
        ("whitespace body", b" \r\n\t ".to_vec()),
    ]
}

/// Bodies that are not one JSON document at all. `inner` is a valid JSON object body of the
/// endpoint, so only the defect differs.
fn bad_json(inner: &str) -> Vec<(&'static str, Vec<u8>)> {
    let open = &inner[..inner.len() - 1];
    vec![
        ("truncated object", open.as_bytes().to_vec()),
        (
            "truncated string",
            format!("{open},\"zz\":\"abc").into_bytes(),
        ),
        ("trailing garbage", format!("{inner} xyz").into_bytes()),
        ("two documents", format!("{inner}{inner}").into_bytes()),
        ("trailing comma", format!("{open},}}").into_bytes()),
        ("single quotes", inner.replace('"', "'").into_bytes()),
        ("unquoted key", format!("{open},zz:1}}").into_bytes()),
        ("comment", format!("{open} /* c */}}").into_bytes()),
        ("10k nested arrays", nested_arrays(10_000)),
        ("10k nested objects", nested_objects(10_000)),
        ("NaN literal", format!("{open},\"zz\":NaN}}").into_bytes()),
        (
            "Infinity literal",
            format!("{open},\"zz\":Infinity}}").into_bytes(),
        ),
        (
            "-Infinity literal",
            format!("{open},\"zz\":-Infinity}}").into_bytes(),
        ),
        (
            "1e400 literal",
            format!("{open},\"zz\":1e400}}").into_bytes(),
        ),
        ("UTF-8 BOM", cat(&[b"\xEF\xBB\xBF", inner.as_bytes()])),
        ("UTF-16 body", utf16_with_bom(inner)),
        (
            "invalid UTF-8 in a string",
            cat(&[open.as_bytes(), b",\"zz\":\"\xFF\xFE\"}"]),
        ),
        (
            "invalid UTF-8 outside strings",
            cat(&[b"\xFF", inner.as_bytes()]),
        ),
        (
            "lone surrogate escape",
            format!("{open},\"zz\":\"\\ud800\"}}").into_bytes(),
        ),
        (
            "raw NUL in a string",
            cat(&[open.as_bytes(), b",\"zz\":\"a\x00b\"}"]),
        ),
        ("NUL after the document", cat(&[inner.as_bytes(), b"\x00"])),
        (
            "overlong UTF-8 encoding",
            cat(&[open.as_bytes(), b",\"zz\":\"\xC0\xAF\"}"]),
        ),
    ]
}

/// Framing and header-section abuse that hyper refuses before any vendor runs, plus header floods.
fn transport_cases(method: &str, path: &str) -> Vec<Case> {
    let flood: Vec<(String, Vec<u8>)> = (0..150)
        .map(|i| (format!("X-Flood-{i}"), b"v".to_vec()))
        .collect();
    let big_flood: Vec<(String, Vec<u8>)> = (0..5000)
        .map(|i| (format!("X-Flood-{i}"), b"value".to_vec()))
        .collect();
    let mut many = case("150 headers", method, path, "{}", Want::HyperOrClose);
    many.headers = flood;
    let mut huge = case(
        "5000 headers (past 64 KiB)",
        method,
        path,
        "{}",
        Want::HyperOrClose,
    );
    huge.headers = big_flood;
    vec![
        many,
        huge,
        case(
            "one 70 KiB header line",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .header("X-Huge", "a".repeat(70 * 1024)),
        case("70 KiB of cookies", method, path, "{}", Want::HyperOrClose)
            .header("Cookie", "c=1; ".repeat(14 * 1024)),
        case(
            "one 130 KiB header line",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .header("X-Huge", "a".repeat(130 * 1024)),
        case(
            "70 KiB request target",
            method,
            format!("{path}?q={}", "a".repeat(70 * 1024)),
            "{}",
            Want::HyperOrClose,
        ),
        case(
            "Content-Length not a number",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .header("Content-Length", "abc"),
        case(
            "negative Content-Length",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .header("Content-Length", "-1"),
        case(
            "conflicting Content-Length headers",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .header("Content-Length", "2")
        .header("Content-Length", "3"),
        case(
            "Transfer-Encoding gzip without chunked",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .header("Transfer-Encoding", "gzip"),
        case(
            "NUL in a header value",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .header("X-Nul", b"a\x00b"),
        case(
            "header line without a colon",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .raw_head(b"NoColonHere\r\n"),
        case(
            "space before the colon",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .raw_head(b"X-Bad : v\r\n"),
        case(
            "obs-fold continuation line",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .raw_head(b"X-Folded: a\r\n b\r\n"),
        case(
            "raw invalid UTF-8 in the path",
            method,
            cat(&[path.as_bytes(), b"\xFF\xFE"]),
            "{}",
            Want::HyperOrClose,
        ),
        case(
            "raw invalid UTF-8 in the query",
            method,
            cat(&[path.as_bytes(), b"?q=\xC3\x28"]),
            "{}",
            Want::HyperOrClose,
        ),
        case(
            "raw NUL in the path",
            method,
            cat(&[path.as_bytes(), b"\x00"]),
            "{}",
            Want::HyperOrClose,
        ),
        case(
            "unknown HTTP version",
            method,
            path,
            "{}",
            Want::HyperOrClose,
        )
        .version("HTTP/9.9"),
    ]
    .into_iter()
    .map(|c| {
        let label = format!("transport: {}", c.label);
        Case { label, ..c }
    })
    .collect()
}

// ----- Aries ------------------------------------------------------------------------------------

const A_UPDATE: &str = "/aries/api/v1/image";
const A_CREATE: &str = "/aries/api/v1/image/create";
const A_LIST: &str = "/aries/api/v1/image/list";
const A_DELETE: &str = "/aries/api/v1/image/delete";

fn aries_create(name_json: &str, os_type: &str, os_name: &str, source_path: &str) -> String {
    format!(
        r#"{{"name":{name_json},"os_type":{os_type},"os_name":{os_name},"source_path":{source_path}}}"#
    )
}

fn aries_cases() -> Vec<Case> {
    let inv = Want::Aries(400, "InvalidParameter");
    let path_rule = Want::Aries(400, "InvalidSourcePath");
    let unauth = Want::Aries(401, "Unauthorized");
    let not_found = Want::Aries(404, "ImageNotFound");
    let mut t = Vec::new();

    // Bad JSON on both JSON endpoints.
    let update_inner = r#"{"id":1,"description":"x"}"#;
    let create_inner = &aries_create(r#""hostile""#, r#""linux""#, r#""Debian""#, r#""/i/h.iso""#);
    for (name, body) in empty_bodies().into_iter().chain(bad_json(update_inner)) {
        t.push(case(format!("update: {name}"), "PUT", A_UPDATE, body, inv));
    }
    for (name, body) in empty_bodies().into_iter().chain(bad_json(create_inner)) {
        t.push(case(format!("create: {name}"), "POST", A_CREATE, body, inv));
    }
    for (name, body) in [
        ("array body", r#"[{"id":1}]"#),
        ("string body", r#""{\"id\":1}""#),
        ("number body", "1"),
        ("null body", "null"),
        ("true body", "true"),
    ] {
        t.push(case(format!("update: {name}"), "PUT", A_UPDATE, body, inv));
        t.push(case(format!("create: {name}"), "POST", A_CREATE, body, inv));
    }

    // Wrong JSON types for every field class, huge numbers, duplicate members (Update).
    let digits = digits300();
    let update_rows: Vec<(&str, String)> = vec![
        ("id as string", r#"{"id":"1"}"#.into()),
        ("id as float", r#"{"id":1.0}"#.into()),
        ("id as exponent", r#"{"id":1e0}"#.into()),
        ("id as bool", r#"{"id":true}"#.into()),
        ("id as array", r#"{"id":[1]}"#.into()),
        ("id as object", r#"{"id":{"v":1}}"#.into()),
        ("id null", r#"{"id":null}"#.into()),
        ("id missing", r#"{"name":"x"}"#.into()),
        ("id zero", r#"{"id":0}"#.into()),
        ("id negative", r#"{"id":-1}"#.into()),
        ("id negative zero", r#"{"id":-0}"#.into()),
        ("id 1e400", r#"{"id":1e400}"#.into()),
        ("id 2^64", format!(r#"{{"id":{TWO_64}}}"#)),
        ("id 2^63", format!(r#"{{"id":{TWO_63}}}"#)),
        ("id -2^63-1", format!(r#"{{"id":{BELOW_I64_MIN}}}"#)),
        ("id 300 digits", format!(r#"{{"id":{digits}}}"#)),
        ("id 1e18 float", r#"{"id":1e18}"#.into()),
        ("name as number", r#"{"id":1,"name":5}"#.into()),
        ("name as bool", r#"{"id":1,"name":false}"#.into()),
        ("name as array", r#"{"id":1,"name":["a"]}"#.into()),
        ("name 1e400", r#"{"id":1,"name":1e400}"#.into()),
        ("name blank", r#"{"id":1,"name":"  "}"#.into()),
        (
            "name 129 chars",
            format!(r#"{{"id":1,"name":"{}"}}"#, "n".repeat(129)),
        ),
        ("os_type as number", r#"{"id":1,"os_type":1}"#.into()),
        ("os_type upper case", r#"{"id":1,"os_type":"Linux"}"#.into()),
        (
            "os_type with NUL escape",
            r#"{"id":1,"os_type":"linux\u0000"}"#.into(),
        ),
        ("os_name as object", r#"{"id":1,"os_name":{}}"#.into()),
        (
            "description as number",
            r#"{"id":1,"description":5}"#.into(),
        ),
        (
            "description as array",
            r#"{"id":1,"description":[]}"#.into(),
        ),
        (
            "description 2^64",
            format!(r#"{{"id":1,"description":{TWO_64}}}"#),
        ),
        (
            "source_path as number",
            r#"{"id":1,"source_path":5}"#.into(),
        ),
        (
            "source_path changed by traversal",
            r#"{"id":1,"source_path":"/path/to/image/../../etc/passwd.iso"}"#.into(),
        ),
        ("duplicate id, last a string", r#"{"id":1,"id":"1"}"#.into()),
        (
            "duplicate os_type, last invalid",
            r#"{"id":1,"os_type":"linux","os_type":"Linux"}"#.into(),
        ),
    ];
    for (name, body) in update_rows {
        t.push(case(format!("update: {name}"), "PUT", A_UPDATE, body, inv));
    }
    t.push(case(
        "update: unknown id 2^63-1",
        "PUT",
        A_UPDATE,
        r#"{"id":9223372036854775807}"#,
        not_found,
    ));

    // Create: wrong types, missing fields, huge numbers, duplicates, path rule.
    let ok_name = r#""hostile""#;
    let linux = r#""linux""#;
    let debian = r#""Debian""#;
    let iso = r#""/images/h.iso""#;
    let create_rows: Vec<(&str, String, Want)> = vec![
        ("name as number", aries_create("1", linux, debian, iso), inv),
        (
            "name 300 digits",
            aries_create(&digits, linux, debian, iso),
            inv,
        ),
        ("name null", aries_create("null", linux, debian, iso), inv),
        (
            "name blank",
            aries_create(r#"" ""#, linux, debian, iso),
            inv,
        ),
        (
            "os_type as bool",
            aries_create(ok_name, "false", debian, iso),
            inv,
        ),
        (
            "os_type windows upper",
            aries_create(ok_name, r#""WINDOWS""#, debian, iso),
            inv,
        ),
        (
            "os_name as array",
            aries_create(ok_name, linux, "[]", iso),
            inv,
        ),
        (
            "os_name 2^64",
            aries_create(ok_name, linux, TWO_64, iso),
            inv,
        ),
        (
            "source_path as object",
            aries_create(ok_name, linux, debian, "{}"),
            inv,
        ),
        (
            "source_path missing",
            format!(r#"{{"name":{ok_name},"os_type":{linux},"os_name":{debian}}}"#),
            inv,
        ),
        (
            "description as number",
            format!(
                r#"{{"name":{ok_name},"os_type":{linux},"os_name":{debian},"source_path":{iso},"description":7}}"#
            ),
            inv,
        ),
        (
            "duplicate name, last a number",
            format!(
                r#"{{"name":{ok_name},"name":5,"os_type":{linux},"os_name":{debian},"source_path":{iso}}}"#
            ),
            inv,
        ),
        (
            "source_path traversal",
            aries_create(ok_name, linux, debian, r#""/images/../../etc/x.iso""#),
            path_rule,
        ),
        (
            "source_path Windows traversal",
            aries_create(ok_name, linux, debian, r#""C:\\images\\..\\x.vhd""#),
            path_rule,
        ),
        (
            "source_path NUL",
            aries_create(ok_name, linux, debian, r#""/images/a\u0000.iso""#),
            path_rule,
        ),
        (
            "source_path relative",
            aries_create(ok_name, linux, debian, r#""images/x.iso""#),
            path_rule,
        ),
        (
            "source_path 2000 chars",
            aries_create(
                ok_name,
                linux,
                debian,
                &format!(r#""/{}.iso""#, "p".repeat(2000)),
            ),
            path_rule,
        ),
        (
            "source_path percent-encoded traversal",
            aries_create(ok_name, linux, debian, r#""/images/%2e%2e/x.txt""#),
            path_rule,
        ),
    ];
    for (name, body, want) in create_rows {
        t.push(case(
            format!("create: {name}"),
            "POST",
            A_CREATE,
            body,
            want,
        ));
    }

    // Describe: hostile ids in the path.
    let long_digits = "1".repeat(10_000);
    let long_text = "a".repeat(8_000);
    let describe_rows: Vec<(&str, String, Want)> = vec![
        ("id 0", "0".into(), inv),
        ("id -1", "-1".into(), inv),
        ("id 1.5", "1.5".into(), inv),
        ("id letters", "abc".into(), inv),
        ("id percent-encoded digit", "%31".into(), inv),
        ("id %2e%2e", "%2e%2e".into(), inv),
        ("id ..", "..".into(), inv),
        ("id ...", "...".into(), inv),
        (
            "id ..%2F..%2Fetc%2Fpasswd",
            "..%2F..%2Fetc%2Fpasswd".into(),
            inv,
        ),
        (
            "id %2e%2e%2f%2e%2e%2fetc",
            "%2e%2e%2f%2e%2e%2fetc".into(),
            inv,
        ),
        ("id 2^63", TWO_63.into(), inv),
        ("id 2^64", TWO_64.into(), inv),
        ("id 300 digits", digits.clone(), inv),
        ("id 10k digits", long_digits, inv),
        ("id 8k letters", long_text, inv),
        ("id %00", "%00".into(), inv),
        ("id 1%00", "1%00".into(), inv),
        ("id %FF", "%FF".into(), inv),
        ("id %C3%28 (invalid UTF-8)", "%C3%28".into(), inv),
        ("id 1%2F2", "1%2F2".into(), inv),
        ("id a ref", "img-2ze4hxw8hdik".into(), inv),
        ("id 1;2", "1;2".into(), inv),
        ("id +1", "+1".into(), inv),
        ("id %201", "%201".into(), inv),
        ("id 1e3", "1e3".into(), inv),
        ("id raw UTF-8", "\u{00e9}".into(), inv),
        ("unknown id", "99999".into(), not_found),
        (
            "unknown id, leading zeros",
            format!("{}99999", "0".repeat(40)),
            not_found,
        ),
    ];
    for (name, id, want) in describe_rows {
        t.push(case(
            format!("describe: {name}"),
            "GET",
            format!("{A_UPDATE}/{id}"),
            "",
            want,
        ));
    }

    // Delete: hostile image_ref values, duplicate parameters.
    let delete_rows: Vec<(&str, String, Want)> = vec![
        ("image_ref missing", String::new(), inv),
        ("image_ref empty", "?image_ref=".into(), inv),
        (
            "image_ref traversal",
            "?image_ref=..%2F..%2Fetc%2Fpasswd".into(),
            inv,
        ),
        ("image_ref %2e%2e", "?image_ref=%2e%2e".into(), inv),
        (
            "image_ref upper-case ref",
            "?image_ref=IMG-2ZE4HXW8HDIK".into(),
            inv,
        ),
        (
            "image_ref short ref",
            "?image_ref=img-2ze4hxw8hdi".into(),
            inv,
        ),
        (
            "image_ref ref with NUL",
            "?image_ref=img-2ze4hxw8hdik%00".into(),
            inv,
        ),
        ("image_ref %FF", "?image_ref=%FF".into(), inv),
        ("image_ref %00", "?image_ref=%00".into(), inv),
        ("image_ref 1%00", "?image_ref=1%00".into(), inv),
        ("image_ref 0", "?image_ref=0".into(), inv),
        ("image_ref -1", "?image_ref=-1".into(), inv),
        ("image_ref 2^64", format!("?image_ref={TWO_64}"), inv),
        ("image_ref 1e400", "?image_ref=1e400".into(), inv),
        (
            "image_ref first of two wins",
            "?image_ref=bogus&image_ref=1".into(),
            inv,
        ),
        ("image_ref unknown", "?image_ref=99999".into(), not_found),
    ];
    for (name, query, want) in delete_rows {
        t.push(case(
            format!("delete: {name}"),
            "DELETE",
            format!("{A_DELETE}{query}"),
            "",
            want,
        ));
    }

    // List: hostile filters and duplicate parameters.
    for (name, query) in [
        ("os_type upper case", "?os_type=Linux"),
        ("os_type %FF", "?os_type=%FF"),
        ("os_type with NUL", "?os_type=linux%00"),
        ("os_type first of two wins", "?os_type=bogus&os_type=linux"),
        ("os_type traversal", "?os_type=..%2F..%2Fetc"),
        ("os_type NaN", "?os_type=NaN"),
        ("os_type 1e400", "?os_type=1e400"),
    ] {
        t.push(case(
            format!("list: {name}"),
            "GET",
            format!("{A_LIST}{query}"),
            "",
            inv,
        ));
    }

    // Content types are not inspected: a bad body stays InvalidParameter whatever it claims.
    for (name, ct, body) in [
        (
            "form content type",
            b"application/x-www-form-urlencoded".to_vec(),
            b"id=1&name=x".to_vec(),
        ),
        (
            "multipart content type",
            b"multipart/form-data; boundary=b".to_vec(),
            b"--b\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n1\r\n--b--\r\n".to_vec(),
        ),
        (
            "text/plain garbage",
            b"text/plain".to_vec(),
            b"id: 1".to_vec(),
        ),
        (
            "UTF-16 JSON declared",
            b"application/json; charset=utf-16".to_vec(),
            utf16_with_bom(r#"{"id":1}"#),
        ),
        (
            "XML",
            b"application/xml".to_vec(),
            b"<image><id>1</id></image>".to_vec(),
        ),
        (
            "non-text content type",
            b"application/\xFFjson".to_vec(),
            b"{".to_vec(),
        ),
    ] {
        t.push(
            case(format!("update: {name}"), "PUT", A_UPDATE, body, inv).header("Content-Type", ct),
        );
    }

    // Authentication: missing, malformed, duplicated (the body is valid: only auth is wrong).
    let basic = |text: &[u8]| format!("Basic {}", common::jd::b64(text)).into_bytes();
    let auth_rows: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("no Authorization", vec![]),
        ("empty Authorization", vec![b"".to_vec()]),
        ("scheme only", vec![b"Bearer".to_vec()]),
        ("scheme and spaces", vec![b"Bearer   ".to_vec()]),
        ("unknown scheme", vec![b"Token imgemu-dev-token".to_vec()]),
        ("Digest scheme", vec![b"Digest username=\"admin\"".to_vec()]),
        (
            "token with a space",
            vec![b"Bearer imgemu-dev token".to_vec()],
        ),
        ("token starting with =", vec![b"Bearer =imgemu".to_vec()]),
        (
            "token of 513 chars",
            vec![format!("Bearer {}", "a".repeat(513)).into_bytes()],
        ),
        (
            "tab after the scheme",
            vec![b"Bearer\timgemu-dev-token".to_vec()],
        ),
        (
            "token with non-ASCII bytes",
            vec![b"Bearer imgemu-dev-token\xFF".to_vec()],
        ),
        (
            "token list",
            vec![b"Bearer imgemu-dev-token, Bearer x".to_vec()],
        ),
        ("Basic not base64", vec![b"Basic !!!".to_vec()]),
        ("Basic without a colon", vec![basic(b"adminpassword")]),
        ("Basic empty user", vec![basic(b":password")]),
        ("Basic wrong password", vec![basic(b"admin:wrong")]),
        ("Basic not UTF-8", vec![basic(b"\xFF\xFE:x")]),
        ("Basic scheme only", vec![b"Basic".to_vec()]),
        (
            "two valid Bearer headers",
            vec![
                b"Bearer imgemu-dev-token".to_vec(),
                b"Bearer imgemu-dev-token".to_vec(),
            ],
        ),
        (
            "Bearer and Basic headers",
            vec![
                b"Bearer imgemu-dev-token".to_vec(),
                basic(b"admin:password"),
            ],
        ),
    ];
    for (name, values) in auth_rows {
        let mut c = case(
            format!("auth: {name}"),
            "PUT",
            A_UPDATE,
            r#"{"id":1,"description":"pwned"}"#,
            unauth,
        )
        .unsigned();
        for v in values {
            c = c.header("Authorization", v);
        }
        t.push(c);
    }
    t.push(
        case(
            "auth: hostile X-Request-Id is not echoed",
            "GET",
            format!("{A_UPDATE}/1"),
            "",
            unauth,
        )
        .unsigned()
        .header("X-Request-Id", "../../etc/passwd\"}"),
    );

    // Routing: Gin's plain 404, before auth.
    for (name, method, target) in [
        ("trailing slash", "GET", "/aries/api/v1/image/"),
        ("PATCH on update", "PATCH", A_UPDATE),
        ("POST on list", "POST", A_LIST),
        ("upper-case segment", "GET", "/aries/api/v1/IMAGE/1"),
        (
            "dot-dot before the base",
            "GET",
            "/aries/../aries/api/v1/image/1",
        ),
        (
            "dot-dot inside the id",
            "GET",
            "/aries/api/v1/image/../image/1",
        ),
        ("extra segment", "GET", "/aries/api/v1/image/1/"),
        (
            "encoded slash then segment",
            "GET",
            "/aries/api/v1/image/%2e%2e/1",
        ),
        ("unknown method", "FOO", A_UPDATE),
        ("other API version", "GET", "/aries/api/v2/image/1"),
        ("bare /aries", "GET", "/aries"),
    ] {
        t.push(
            case(
                format!("route: {name}"),
                method,
                target,
                "",
                Want::AriesPlain404,
            )
            .unsigned(),
        );
    }

    // Oversize bodies: the 1 MiB limit + 1, past the 4 MiB hard cap (declared and streamed).
    let mut over = br#"{"id":1,"description":"x"}"#.to_vec();
    over.resize(1024 * 1024 + 1, b' ');
    t.push(case(
        "oversize: update 1 MiB + 1",
        "PUT",
        A_UPDATE,
        &over,
        inv,
    ));
    t.push(case(
        "oversize: create 1 MiB + 1",
        "POST",
        A_CREATE,
        &over,
        inv,
    ));
    t.push(
        case("oversize: declared 100 MiB", "PUT", A_UPDATE, "", inv)
            .with_body(Body::Declared(100 << 20, br#"{"id":1"#.to_vec())),
    );
    t.push(
        case("oversize: chunked 5 MiB", "PUT", A_UPDATE, "", inv)
            .with_body(Body::Chunked(5 << 20))
            .may_close(),
    );
    t.push(
        case("oversize: broken chunk size", "PUT", A_UPDATE, "", inv)
            .header("Transfer-Encoding", "chunked")
            .with_body(Body::Bytes(b"zz\r\n{}\r\n0\r\n\r\n".to_vec()))
            .may_close(),
    );

    t.extend(transport_cases("PUT", A_UPDATE));
    t
}

// ----- JD ---------------------------------------------------------------------------------------

const URL: &str = "https://example.com/a.jpg";

fn jd_cases() -> Vec<Case> {
    let json5001 = Want::JdBusiness(5001, "INVALID_PARAMETER_JSON");
    let bad_sig = Want::JdSystem(200, "10047");
    let no_api_404 = Want::JdSystem(404, "10003");
    let no_api_405 = Want::JdSystem(405, "10003");
    let mut t = Vec::new();

    // Bad JSON, on a general and a product endpoint (both answer 5001 in their family).
    let general_inner = format!(r#"{{"collection_name":"food","query_content":"{URL}"}}"#);
    let product_inner = r#"{"collection_name":"shop","product_id":"65337027695"}"#;
    for (name, body) in empty_bodies().into_iter().chain(bad_json(&general_inner)) {
        t.push(case(
            format!("index_search: {name}"),
            "POST",
            "/jdai/index_search",
            body,
            json5001,
        ));
    }
    for (name, body) in empty_bodies().into_iter().chain(bad_json(product_inner)) {
        t.push(case(
            format!("product_image_info: {name}"),
            "POST",
            "/jdai/product_image_info",
            body,
            json5001,
        ));
    }
    for (name, body) in [
        ("array body", "[{}]"),
        ("string body", r#""x""#),
        ("null body", "null"),
        ("number body", "7"),
    ] {
        t.push(case(
            format!("index: {name}"),
            "POST",
            "/jdai/index",
            body,
            json5001,
        ));
        t.push(case(
            format!("product_image_add: {name}"),
            "POST",
            "/jdai/product_image_add",
            body,
            json5001,
        ));
    }

    // Wrong types, huge numbers and duplicates, one row per field class.
    let digits = digits300();
    let b = |code: u32, name: &'static str| Want::JdBusiness(code, name);
    let docs_ok = format!(r#"[{{"image_name":"x","image_content":"{URL}"}}]"#);
    let many_docs = format!(
        "[{}]",
        vec![format!(r#"{{"image_name":"x","image_content":"{URL}"}}"#); 201].join(",")
    );
    let rows: Vec<(&str, &str, String, Want)> = vec![
        // C: collection_name
        ("collection_name as number", "index", format!(r#"{{"collection_name":5,"docs":{docs_ok}}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name null", "index", format!(r#"{{"collection_name":null,"docs":{docs_ok}}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name as array", "index", format!(r#"{{"collection_name":["food"],"docs":{docs_ok}}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name empty", "index", format!(r#"{{"collection_name":"","docs":{docs_ok}}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name traversal", "index", format!(r#"{{"collection_name":"../../etc","docs":{docs_ok}}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name NUL", "index", format!(r#"{{"collection_name":"food\u0000","docs":{docs_ok}}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name pipe", "index", format!(r#"{{"collection_name":"a|b","docs":{docs_ok}}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name 51 chars", "index", format!(r#"{{"collection_name":"{}","docs":{docs_ok}}}"#, "c".repeat(51)), b(2010, "INVALID_COLLECTION_NAME")),
        ("collection_name 2^64", "image_fetch", format!(r#"{{"collection_name":{TWO_64},"image_names":["x"]}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        ("duplicate collection_name, last a number", "index_search", format!(r#"{{"collection_name":"food","collection_name":5,"query_content":"{URL}"}}"#), b(2010, "INVALID_COLLECTION_NAME")),
        // lists
        ("docs as string", "index", r#"{"collection_name":"hostile","docs":"x"}"#.into(), b(2008, "INVALID_DOCS")),
        ("docs empty", "index", r#"{"collection_name":"hostile","docs":[]}"#.into(), b(2008, "INVALID_DOCS")),
        ("docs of numbers", "index", r#"{"collection_name":"hostile","docs":[1]}"#.into(), b(2008, "INVALID_DOCS")),
        ("docs as object", "index", r#"{"collection_name":"hostile","docs":{}}"#.into(), b(2008, "INVALID_DOCS")),
        ("docs 201 items", "index", format!(r#"{{"collection_name":"hostile","docs":{many_docs}}}"#), b(2014, "PARAMS_LENGTH_EXCEEDS_LIMIT")),
        ("image_name as number", "index", format!(r#"{{"collection_name":"hostile","docs":[{{"image_name":5,"image_content":"{URL}"}}]}}"#), b(2012, "INVALID_IMAGE_NAME")),
        ("image_name NUL", "index", format!(r#"{{"collection_name":"hostile","docs":[{{"image_name":"a\u0000","image_content":"{URL}"}}]}}"#), b(2012, "INVALID_IMAGE_NAME")),
        ("image_name twice", "index", format!(r#"{{"collection_name":"hostile","docs":[{{"image_name":"x","image_content":"{URL}"}},{{"image_name":"x","image_content":"{URL}"}}]}}"#), b(1033, "REPEAT_IMAGE_NAME_IN_PARAM")),
        ("image_names of numbers", "image_delete", r#"{"collection_name":"food","image_names":[1]}"#.into(), b(2008, "INVALID_DOCS")),
        ("image_names as string", "image_fetch", r#"{"collection_name":"food","image_names":"Milk_salt_soda_v1"}"#.into(), b(2008, "INVALID_DOCS")),
        ("image_names twice", "image_delete", r#"{"collection_name":"food","image_names":["Milk_salt_soda_v1","Milk_salt_soda_v1"]}"#.into(), b(1033, "REPEAT_IMAGE_NAME_IN_PARAM")),
        // X: image content
        ("query_content as number", "index_search", r#"{"collection_name":"food","query_content":5}"#.into(), b(2006, "BROKEN_BASE64_OR_URL")),
        ("query_content empty", "index_search", r#"{"collection_name":"food","query_content":""}"#.into(), b(2006, "BROKEN_BASE64_OR_URL")),
        ("query_content ftp URL", "index_search", r#"{"collection_name":"food","query_content":"ftp://x/y"}"#.into(), b(2006, "BROKEN_BASE64_OR_URL")),
        ("query_content traversal", "index_search", r#"{"collection_name":"food","query_content":"../../etc/passwd"}"#.into(), b(2006, "BROKEN_BASE64_OR_URL")),
        ("query_content not base64", "index_search", r#"{"collection_name":"food","query_content":"!!!!"}"#.into(), b(2006, "BROKEN_BASE64_OR_URL")),
        ("query_content text, not an image", "index_search", format!(r#"{{"collection_name":"food","query_content":"{}"}}"#, common::jd::b64(b"hello world")), b(2006, "BROKEN_BASE64_OR_URL")),
        // integers: top_k
        ("top_k as string", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":"5"}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k float", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":1.5}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k zero", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":0}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k 201", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":201}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k bool", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":true}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k 2^64", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":{TWO_64}}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k -2^63-1", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":{BELOW_I64_MIN}}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k 300 digits", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":{digits}}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        ("top_k 1e400", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":1e400}}"#), json5001),
        ("duplicate top_k, last a string", "index_search", format!(r#"{{"collection_name":"food","query_content":"{URL}","top_k":5,"top_k":"5"}}"#), b(2001, "INVALID_PARAM_TOP_K")),
        // P: product_id
        ("product_id negative", "product_image_info", r#"{"collection_name":"shop","product_id":-1}"#.into(), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id float", "product_image_info", r#"{"collection_name":"shop","product_id":1.5}"#.into(), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id 2^64", "product_image_info", format!(r#"{{"collection_name":"shop","product_id":{TWO_64}}}"#), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id -2^63-1", "product_image_info", format!(r#"{{"collection_name":"shop","product_id":{BELOW_I64_MIN}}}"#), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id 300 digits", "product_image_info", format!(r#"{{"collection_name":"shop","product_id":{digits}}}"#), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id bool", "product_image_info", r#"{"collection_name":"shop","product_id":true}"#.into(), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id array", "product_image_info", r#"{"collection_name":"shop","product_id":["1"]}"#.into(), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id empty", "product_image_info", r#"{"collection_name":"shop","product_id":""}"#.into(), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id pipe", "product_image_info", r#"{"collection_name":"shop","product_id":"1|2"}"#.into(), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id 129 chars", "product_image_info", format!(r#"{{"collection_name":"shop","product_id":"{}"}}"#, "p".repeat(129)), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id NUL", "product_image_info", r#"{"collection_name":"shop","product_id":"1\u0000"}"#.into(), b(3003, "INVALID_PRODUCT_ID")),
        ("product_id traversal", "product_image_info", r#"{"collection_name":"shop","product_id":"../../etc/passwd"}"#.into(), b(3007, "NOT_EXISTING_PRODUCT")),
        ("product_id 1e400", "product_image_info", r#"{"collection_name":"shop","product_id":1e400}"#.into(), json5001),
        // product search: topk, category, content
        ("topk as string", "product_image_search", format!(r#"{{"collection_name":"shop","image_content":"{URL}","topk":"5"}}"#), b(3040, "INVALID_SEARCH_TOPK")),
        ("topk zero", "product_image_search", format!(r#"{{"collection_name":"shop","image_content":"{URL}","topk":0}}"#), b(3040, "INVALID_SEARCH_TOPK")),
        ("topk -2^63-1", "product_image_search", format!(r#"{{"collection_name":"shop","image_content":"{URL}","topk":{BELOW_I64_MIN}}}"#), b(3040, "INVALID_SEARCH_TOPK")),
        ("topk 201", "product_image_search", format!(r#"{{"collection_name":"shop","image_content":"{URL}","topk":201}}"#), b(3041, "SEARCH_TOPK_EXCEED_LIMIT")),
        ("topk u64::MAX", "product_image_search", format!(r#"{{"collection_name":"shop","image_content":"{URL}","topk":18446744073709551615}}"#), b(3041, "SEARCH_TOPK_EXCEED_LIMIT")),
        ("category as number", "product_image_search", format!(r#"{{"collection_name":"shop","image_content":"{URL}","category":5}}"#), b(3005, "INVALID_PRODUCT_CATEGORY")),
        ("category unknown", "product_image_search", format!(r#"{{"collection_name":"shop","image_content":"{URL}","category":"衣服"}}"#), b(3005, "INVALID_PRODUCT_CATEGORY")),
        ("image_content absent", "product_image_search", r#"{"collection_name":"shop"}"#.into(), b(3014, "INVALID_IMAGE_CONTENT")),
        ("image_content ftp URL", "product_image_search", r#"{"collection_name":"shop","image_content":"ftp://x"}"#.into(), b(2006, "BROKEN_BASE64_OR_URL")),
        // task ids
        ("task_id as number", "product_image_status", r#"{"task_id":5}"#.into(), b(3021, "INVALID_TASK_ID")),
        ("task_id traversal", "product_image_status", r#"{"task_id":"../../etc/passwd"}"#.into(), b(3021, "INVALID_TASK_ID")),
        ("task_id empty", "product_image_status", r#"{"task_id":""}"#.into(), b(3021, "INVALID_TASK_ID")),
        ("task_id null", "product_image_status", r#"{"task_id":null}"#.into(), b(3021, "INVALID_TASK_ID")),
        ("task_id encoded traversal", "product_image_status", r#"{"task_id":"1/..%2F..%2F/1.0"}"#.into(), b(1004, "TASK_NOT_EXIST")),
        // product lists
        ("product_list as string", "product_image_create_product", r#"{"collection_name":"shop","product_list":"x"}"#.into(), b(3000, "INVALID_PRODUCT_LIST")),
        ("product_list empty", "product_image_create_product", r#"{"collection_name":"shop","product_list":[]}"#.into(), b(3001, "PRODUCT_EMPTY")),
        ("product_list of numbers", "product_image_create_product", r#"{"collection_name":"shop","product_list":[1]}"#.into(), b(3000, "INVALID_PRODUCT_LIST")),
        ("product_name as number", "product_image_create_product", r#"{"collection_name":"shop","product_list":[{"product_id":"h1","product_name":5,"category":"其他"}]}"#.into(), b(3004, "INVALID_PRODUCT_NAME")),
        ("category wrong", "product_image_create_product", r#"{"collection_name":"shop","product_list":[{"product_id":"h1","product_name":"n","category":"x"}]}"#.into(), b(3005, "INVALID_PRODUCT_CATEGORY")),
        ("product id twice as string and number", "product_image_create_product", r#"{"collection_name":"shop","product_list":[{"product_id":"7","product_name":"n","category":"其他"},{"product_id":7,"product_name":"n","category":"其他"}]}"#.into(), b(3002, "DUPLICATE_PRODUCT")),
        ("image_list as string", "product_image_add", r#"{"collection_name":"shop","image_list":"x"}"#.into(), b(3010, "INVALID_IMAGE_LIST")),
        ("image_list empty", "product_image_add", r#"{"collection_name":"shop","image_list":[]}"#.into(), b(3011, "EMPTY_IMAGE_LIST")),
        ("image_id_list as string", "product_image_del_image", r#"{"collection_name":"shop","image_id_list":"x"}"#.into(), b(3050, "INVALID_IMAGE_ID_LIST")),
        ("image_id_list empty", "product_image_del_image", r#"{"collection_name":"shop","image_id_list":[]}"#.into(), b(3051, "EMPTY_IMAGE_ID_LIST")),
        ("image_id as number", "product_image_del_image", r#"{"collection_name":"shop","image_id_list":[{"product_id":"65337027695","image_id":5}]}"#.into(), b(3013, "INVALID_IMAGE_ID")),
        ("product_id_list of bools", "product_image_del_product", r#"{"collection_name":"shop","product_id_list":[true]}"#.into(), b(3000, "INVALID_PRODUCT_LIST")),
        ("product_id_list empty", "product_image_del_product", r#"{"collection_name":"shop","product_id_list":[]}"#.into(), b(3001, "PRODUCT_EMPTY")),
    ];
    for (name, value) in [
        ("topk 2^64", TWO_64.to_string()),
        ("topk 300 digits", digits.clone()),
    ] {
        t.push(case(
            format!("product_image_search: {name}"),
            "POST",
            "/jdai/product_image_search",
            format!(r#"{{"collection_name":"shop","image_content":"{URL}","topk":{value}}}"#),
            b(3041, "SEARCH_TOPK_EXCEED_LIMIT"),
        ));
    }
    for (name, op, body, want) in rows {
        t.push(case(
            format!("{op}: {name}"),
            "POST",
            format!("/jdai/{op}"),
            body,
            want,
        ));
    }

    // The task query: hostile ids, invalid UTF-8, duplicates — always TASK_NOT_EXIST.
    let no_task = Want::JdBusiness(1004, "TASK_NOT_EXIST");
    let long_id = format!("task_id={}", "t".repeat(10_000));
    for (name, query) in [
        ("task_id missing", ""),
        ("task_id empty", "?task_id="),
        ("task_id %FF", "?task_id=%FF"),
        ("task_id traversal", "?task_id=..%2F..%2Fetc%2Fpasswd"),
        ("task_id raw traversal", "?task_id=../../etc/passwd"),
        ("task_id %00", "?task_id=%00"),
        (
            "task_id twice",
            "?task_id=x&task_id=11219894642824/food/1.0",
        ),
        ("task_id 10k chars", &format!("?{long_id}")),
    ] {
        t.push(case(
            format!("task: {name}"),
            "GET",
            format!("/jdai/task{query}"),
            "",
            no_task,
        ));
    }

    // Routing: 404 / 405 with 10003.
    for (name, method, target, want) in [
        ("unknown op", "POST", "/jdai/nope", no_api_404),
        ("upper-case op", "POST", "/jdai/INDEX", no_api_404),
        ("trailing slash", "POST", "/jdai/index/", no_api_404),
        (
            "dot-dot in the path",
            "POST",
            "/jdai/../jdai/index",
            no_api_404,
        ),
        ("percent-encoded op", "POST", "/jdai/%69ndex", no_api_404),
        ("op with %00", "POST", "/jdai/index%00", no_api_404),
        ("op %FF", "POST", "/jdai/%FF", no_api_404),
        ("bare /jdai", "POST", "/jdai", no_api_404),
        ("GET on a POST op", "GET", "/jdai/index", no_api_405),
        ("POST on a GET op", "POST", "/jdai/task", no_api_405),
        (
            "DELETE on collection_list",
            "DELETE",
            "/jdai/collection_list",
            no_api_405,
        ),
        ("PUT on index", "PUT", "/jdai/index", no_api_405),
    ] {
        t.push(case(format!("route: {name}"), method, target, "{}", want).unsigned());
    }

    // Content types are ignored: non-JSON bodies stay 5001 whatever they claim.
    for (name, ct, body) in [
        (
            "text/plain",
            b"text/plain".to_vec(),
            b"collection_name: food".to_vec(),
        ),
        (
            "form body",
            b"application/x-www-form-urlencoded".to_vec(),
            b"collection_name=food&query_content=x".to_vec(),
        ),
        (
            "multipart body",
            b"multipart/form-data; boundary=b".to_vec(),
            b"--b\r\n\r\nfood\r\n--b--\r\n".to_vec(),
        ),
        (
            "UTF-16 declared",
            b"application/json; charset=utf-16".to_vec(),
            utf16_with_bom(r#"{"collection_name":"food"}"#),
        ),
        (
            "non-text content type",
            b"application/\xFFjson".to_vec(),
            b"{".to_vec(),
        ),
    ] {
        t.push(
            case(
                format!("content type: {name}"),
                "POST",
                "/jdai/index_search",
                body,
                json5001,
            )
            .header("Content-Type", ct),
        );
    }

    // Authentication: 10047 for every missing, malformed, wrong or duplicated credential.
    let search = format!(r#"{{"collection_name":"food","query_content":"{URL}"}}"#);
    let cred = "Credential=hostile-ak/20260101/cn-north-1/jdai/jdcloud2_request";
    let auth_rows: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("no Authorization", vec![]),
        ("empty Authorization", vec![b"".to_vec()]),
        ("scheme only", vec![b"JDCLOUD2-HMAC-SHA256".to_vec()]),
        ("lower-case scheme", vec![format!("jdcloud2-hmac-sha256 {cred}, SignedHeaders=host, Signature=0").into_bytes()]),
        ("Bearer scheme", vec![b"Bearer imgemu-dev-token".to_vec()]),
        ("credential date of 4 digits", vec![b"JDCLOUD2-HMAC-SHA256 Credential=a/2026/r/s/jdcloud2_request, SignedHeaders=host, Signature=0".to_vec()]),
        ("credential terminator wrong", vec![b"JDCLOUD2-HMAC-SHA256 Credential=a/20260101/r/s/aws4_request, SignedHeaders=host, Signature=0".to_vec()]),
        ("credential traversal", vec![b"JDCLOUD2-HMAC-SHA256 Credential=../../20260101/r/s/jdcloud2_request, SignedHeaders=host, Signature=0".to_vec()]),
        ("empty access key", vec![b"JDCLOUD2-HMAC-SHA256 Credential=/20260101/r/s/jdcloud2_request, SignedHeaders=host, Signature=0".to_vec()]),
        ("empty SignedHeaders", vec![format!("JDCLOUD2-HMAC-SHA256 {cred}, SignedHeaders=, Signature=0").into_bytes()]),
        ("empty Signature", vec![format!("JDCLOUD2-HMAC-SHA256 {cred}, SignedHeaders=host, Signature=").into_bytes()]),
        ("fields out of order", vec![format!("JDCLOUD2-HMAC-SHA256 SignedHeaders=host, {cred}, Signature=0").into_bytes()]),
        ("non-text bytes", vec![cat(&[format!("JDCLOUD2-HMAC-SHA256 {cred}, SignedHeaders=host, Signature=").as_bytes(), b"\xFF"])]),
        ("dev key, wrong signature", vec![b"JDCLOUD2-HMAC-SHA256 Credential=imgemu-dev-ak/20260101/cn-north-1/jdai/jdcloud2_request, SignedHeaders=host, Signature=00".to_vec()]),
        ("malformed then valid", vec![b"JDCLOUD2-HMAC-SHA256".to_vec(), format!("JDCLOUD2-HMAC-SHA256 {cred}, SignedHeaders=host, Signature=0").into_bytes()]),
    ];
    for (name, values) in auth_rows {
        let mut c = case(
            format!("auth: {name}"),
            "POST",
            "/jdai/index_search",
            &search,
            bad_sig,
        )
        .unsigned();
        for v in values {
            c = c.header("Authorization", v);
        }
        t.push(c);
    }
    t.push(
        case(
            "auth: dev key, signed over another body",
            "POST",
            "/jdai/index_search",
            &search,
            bad_sig,
        )
        .signed_over(r#"{"collection_name":"food"}"#),
    );
    t.push(
        case(
            "auth: valid then garbage Authorization",
            "GET",
            "/jdai/collection_list",
            "",
            bad_sig,
        )
        .header("Authorization", "garbage"),
    );

    // Oversize: the 5 MiB limit + 1, past the 20 MiB hard cap.
    let too_large = Want::JdSystem(413, "10030");
    let mut over = search.clone().into_bytes();
    over.resize(5 * 1024 * 1024 + 1, b' ');
    t.push(case(
        "oversize: 5 MiB + 1",
        "POST",
        "/jdai/index_search",
        &over,
        too_large,
    ));
    t.push(
        case(
            "oversize: 5 MiB + 1 unsigned",
            "POST",
            "/jdai/index",
            &over,
            too_large,
        )
        .unsigned(),
    );
    t.push(
        case(
            "oversize: declared 100 MiB",
            "POST",
            "/jdai/index",
            "",
            too_large,
        )
        .with_body(Body::Declared(100 << 20, b"{".to_vec())),
    );
    t.push(
        case(
            "oversize: chunked 21 MiB",
            "POST",
            "/jdai/index",
            "",
            too_large,
        )
        .with_body(Body::Chunked(21 << 20))
        .may_close(),
    );

    t.extend(transport_cases("POST", "/jdai/index"));
    t
}

// ----- Alibaba ----------------------------------------------------------------------------------

fn form(params: &[(&str, &str)]) -> String {
    common::aliyun::form(params)
}

/// A form body for `action` on demoinstance1 with `extra` parameters.
fn ali_form(action: &str, extra: &[(&str, &str)]) -> String {
    let mut all = vec![
        ("Action", action),
        ("Version", "2020-12-14"),
        ("InstanceName", "demoinstance1"),
    ];
    all.extend_from_slice(extra);
    form(&all)
}

const FORM: &str = "application/x-www-form-urlencoded";

fn ali_cases() -> Vec<Case> {
    let mut t = Vec::new();
    let a = |code: &'static str| Want::Ali(400, code);
    let post = |label: String, body: String, want: Want| {
        case(label, "POST", "/", body, want).header("Content-Type", FORM)
    };
    let digits = digits300();
    let png = common::jd::b64(&common::jd::png(128, 128, |x, y| (x ^ y) as u8));

    // Routing: methods other than GET/POST on `/`.
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        t.push(
            case(
                format!("route: {method} /"),
                method,
                "/?Action=Detail",
                "",
                Want::Ali(404, "InvalidAction.NotFound"),
            )
            .unsigned(),
        );
    }

    // Parameter decoding: bad escapes and invalid UTF-8 → BadRequest, before authentication.
    let bad = a("BadRequest");
    for (name, query) in [
        ("query %FF", "Action=Detail&InstanceName=%FF"),
        ("query %ZZ", "Action=Detail&InstanceName=%ZZ"),
        ("query lone %", "Action=Detail&InstanceName=100%"),
        ("query %C3%28", "Action=Detail&InstanceName=%C3%28"),
        (
            "query encoded surrogate",
            "Action=Detail&InstanceName=%ED%A0%80",
        ),
        ("query overlong slash", "Action=Detail&InstanceName=%C0%AF"),
        (
            "query truncated multibyte",
            "Action=Detail&InstanceName=%F0%9F%98",
        ),
        ("query name %FF", "Action=Detail&%FF=1"),
    ] {
        t.push(case(
            format!("decode: {name}"),
            "POST",
            format!("/?{query}"),
            "",
            bad,
        ));
        t.push(
            case(
                format!("decode unsigned: {name}"),
                "GET",
                format!("/?{query}"),
                "",
                bad,
            )
            .unsigned(),
        );
    }
    for (name, body) in [
        ("form %FF", b"Action=Detail&InstanceName=%FF".to_vec()),
        (
            "form %E4%B8 truncated",
            b"Action=Detail&InstanceName=%E4%B8".to_vec(),
        ),
        (
            "form raw invalid UTF-8",
            b"Action=Detail&InstanceName=\xFF\xFE".to_vec(),
        ),
        (
            "form bad escape in a name",
            b"Action=Detail&In%GGstance=x".to_vec(),
        ),
    ] {
        t.push(
            case(format!("decode: {name}"), "POST", "/", body, bad).header("Content-Type", FORM),
        );
    }

    // Action and Version.
    let not_found = Want::Ali(404, "InvalidAction.NotFound");
    let version = a("InvalidVersion");
    let long_action = "A".repeat(10_000);
    for (name, params, want) in [
        ("Action missing", vec![("Version", "2020-12-14")], not_found),
        (
            "Action empty",
            vec![("Action", ""), ("Version", "2020-12-14")],
            not_found,
        ),
        (
            "Action lower case",
            vec![("Action", "detail"), ("Version", "2020-12-14")],
            not_found,
        ),
        (
            "Action traversal",
            vec![("Action", "../Detail"), ("Version", "2020-12-14")],
            not_found,
        ),
        (
            "Action with NUL",
            vec![("Action", "Detail\u{0}"), ("Version", "2020-12-14")],
            not_found,
        ),
        (
            "Action not served",
            vec![("Action", "AuthorizeFileUpload"), ("Version", "2020-12-14")],
            not_found,
        ),
        (
            "Action 10k chars",
            vec![("Action", &long_action), ("Version", "2020-12-14")],
            not_found,
        ),
        (
            "Action twice, last unknown",
            vec![
                ("Action", "Detail"),
                ("Action", "Bogus"),
                ("Version", "2020-12-14"),
            ],
            not_found,
        ),
        ("Version missing", vec![("Action", "Detail")], version),
        (
            "Version wrong",
            vec![("Action", "Detail"), ("Version", "2020-12-15")],
            version,
        ),
        (
            "Version with NUL",
            vec![("Action", "Detail"), ("Version", "2020-12-14\u{0}")],
            version,
        ),
        (
            "Version padded",
            vec![("Action", "Detail"), ("Version", " 2020-12-14")],
            version,
        ),
        (
            "Version twice, last wrong",
            vec![
                ("Action", "Detail"),
                ("Version", "2020-12-14"),
                ("Version", "1"),
            ],
            version,
        ),
    ] {
        let mut params = params;
        params.push(("InstanceName", "demoinstance1"));
        t.push(post(format!("front door: {name}"), form(&params), want));
    }
    t.push(
        post(
            "front door: x-acs-version header wins and is wrong".into(),
            ali_form("Detail", &[]),
            version,
        )
        .header("x-acs-version", "2017-01-01"),
    );

    // InstanceName.
    let missing = a("MissingInstanceName");
    let invalid = a("InvalidInstance");
    let long_name = "d".repeat(10_000);
    for (name, value, want) in [
        ("InstanceName empty", "", missing),
        ("InstanceName 21 chars", "demoinstance1demoinst", invalid),
        ("InstanceName traversal", "../demoinstance1", invalid),
        ("InstanceName with NUL", "demoinstance1\u{0}", invalid),
        ("InstanceName upper case", "DEMOINSTANCE1", invalid),
        ("InstanceName 10k chars", &long_name, invalid),
    ] {
        t.push(post(
            format!("instance: {name}"),
            form(&[
                ("Action", "Detail"),
                ("Version", "2020-12-14"),
                ("InstanceName", value),
            ]),
            want,
        ));
    }
    t.push(post(
        "instance: InstanceName missing".into(),
        form(&[("Action", "Detail"), ("Version", "2020-12-14")]),
        missing,
    ));
    t.push(post(
        "instance: InstanceName twice, last unknown".into(),
        form(&[
            ("Action", "Detail"),
            ("Version", "2020-12-14"),
            ("InstanceName", "demoinstance1"),
            ("InstanceName", "nope"),
        ]),
        invalid,
    ));
    t.push(
        case(
            "instance: body InstanceName beats the query's",
            "POST",
            "/?InstanceName=demoinstance1",
            form(&[
                ("Action", "Detail"),
                ("Version", "2020-12-14"),
                ("InstanceName", "nope"),
            ]),
            invalid,
        )
        .header("Content-Type", FORM),
    );

    // Content types: the body is read only as a form; anything else leaves InstanceName missing.
    let detail_body = ali_form("Detail", &[]);
    for (name, ct, body) in [
        ("JSON body", b"application/json".to_vec(), r#"{"InstanceName":"demoinstance1"}"#.as_bytes().to_vec()),
        ("text/plain form text", b"text/plain".to_vec(), detail_body.clone().into_bytes()),
        ("multipart", b"multipart/form-data; boundary=b".to_vec(), b"--b\r\nContent-Disposition: form-data; name=\"InstanceName\"\r\n\r\ndemoinstance1\r\n--b--\r\n".to_vec()),
        ("no content type", Vec::new(), detail_body.clone().into_bytes()),
        ("form type with a suffix", b"application/x-www-form-urlencodedX".to_vec(), detail_body.clone().into_bytes()),
        ("non-text content type", b"application/x-www-form-\xFFurlencoded".to_vec(), detail_body.clone().into_bytes()),
        ("form type, JSON body", FORM.as_bytes().to_vec(), r#"{"InstanceName":"demoinstance1"}"#.as_bytes().to_vec()),
    ] {
        let mut c = case(format!("content type: {name}"), "POST", "/", body, missing)
            .header("x-acs-action", "Detail")
            .header("x-acs-version", "2020-12-14");
        if !ct.is_empty() {
            c = c.header("Content-Type", ct);
        }
        t.push(c);
    }

    // UpdateImage field rules (on a key that does not exist, so nothing can change).
    let key = [("ProductId", "hostile-p"), ("PicName", "hostile.png")];
    let upd = |extra: &[(&str, &str)]| {
        let mut all = key.to_vec();
        all.extend_from_slice(extra);
        ali_form("UpdateImage", &all)
    };
    let long257 = "p".repeat(257);
    let long129 = "s".repeat(129);
    let long4097 = "c".repeat(4097);
    let int_rows: Vec<(&str, &str)> = vec![
        ("1e400", "1e400"),
        ("2^31", INT32_OVER),
        ("-2^31-1", INT32_UNDER),
        ("2^64", TWO_64),
        ("300 digits", &digits),
        ("1.0", "1.0"),
        ("+1", "+1"),
        ("empty", ""),
        ("leading space", " 1"),
        ("hex", "0x10"),
        ("NaN", "NaN"),
        ("fullwidth digit", "１"),
    ];
    for (name, value) in int_rows {
        t.push(post(
            format!("UpdateImage: IntAttr {name}"),
            upd(&[("IntAttr", value)]),
            a("InvalidIntAttr"),
        ));
    }
    for (name, params, want) in [
        (
            "ProductId missing",
            ali_form("UpdateImage", &[("PicName", "x.png")]),
            a("NoSpecifiedProductId"),
        ),
        (
            "ProductId 257 chars",
            ali_form(
                "UpdateImage",
                &[("ProductId", &long257), ("PicName", "x.png")],
            ),
            a("InvalidProductId"),
        ),
        (
            "PicName missing",
            ali_form("UpdateImage", &[("ProductId", "p")]),
            a("NoSpecifiedPicName"),
        ),
        (
            "PicName 257 chars",
            ali_form("UpdateImage", &[("ProductId", "p"), ("PicName", &long257)]),
            a("InvalidPicName"),
        ),
        (
            "StrAttr 129 chars",
            upd(&[("StrAttr", &long129)]),
            a("InvalidStrAttr"),
        ),
        (
            "StrAttr4 129 chars",
            upd(&[("StrAttr4", &long129)]),
            a("InvalidStrAttr4"),
        ),
        (
            "IntAttr2 letters",
            upd(&[("IntAttr2", "abc")]),
            a("InvalidIntAttr2"),
        ),
        (
            "IntAttr4 2^64",
            upd(&[("IntAttr4", TWO_64)]),
            a("InvalidIntAttr4"),
        ),
        (
            "CustomContent 4097 chars",
            upd(&[("CustomContent", &long4097)]),
            a("InvalidCustomContent"),
        ),
        (
            "IntAttr twice, last invalid",
            upd(&[("IntAttr", "1"), ("IntAttr", "x")]),
            a("InvalidIntAttr"),
        ),
        (
            "traversal ids",
            ali_form(
                "UpdateImage",
                &[("ProductId", "../../etc"), ("PicName", "..%2F..%2Fpasswd")],
            ),
            a("PicNotExist"),
        ),
    ] {
        t.push(post(format!("UpdateImage: {name}"), params, want));
    }
    t.push(
        case(
            "UpdateImage: body IntAttr beats a valid query IntAttr",
            "POST",
            "/?IntAttr=1",
            upd(&[("IntAttr", "bad")]),
            a("InvalidIntAttr"),
        )
        .header("Content-Type", FORM),
    );
    t.push(
        case(
            "UpdateImage: valid body IntAttr beats an invalid query IntAttr",
            "POST",
            "/?IntAttr=bad",
            upd(&[("IntAttr", "1")]),
            a("PicNotExist"),
        )
        .header("Content-Type", FORM),
    );

    // Searches: Filter, paging, thresholds, booleans, categories, pictures, regions.
    let filter = a("InvalidFilterClause");
    let deep_filter = format!("{}int_attr=1{}", "(".repeat(65), ")".repeat(65));
    let deeper_filter = format!("{}int_attr=1{}", "(".repeat(10_000), ")".repeat(10_000));
    let long_filter = format!("str_attr=\"{}\"", "f".repeat(4100));
    for (name, value) in [
        ("empty", ""),
        ("int 1e400", "int_attr >= 1e400"),
        ("int 2^31", "int_attr = 2147483648"),
        ("int NaN", "int_attr = NaN"),
        ("65 nested parentheses", &deep_filter),
        ("10k nested parentheses", &deeper_filter),
        ("4100+ chars", &long_filter),
        ("unterminated string", "str_attr = \"abc"),
        ("bad escape", "str_attr = \"a\\q\""),
        ("SQL injection", "1=1; DROP TABLE images"),
        ("dangling AND", "int_attr >= 0 AND"),
        ("unbalanced parentheses", "((int_attr = 1)"),
    ] {
        t.push(post(
            format!("SearchImageByFilter: Filter {name}"),
            ali_form("SearchImageByFilter", &[("Filter", value)]),
            filter,
        ));
    }
    t.push(post(
        "SearchImageByFilter: Filter missing".into(),
        ali_form("SearchImageByFilter", &[]),
        filter,
    ));
    let ok_filter = ("Filter", "int_attr >= 0");
    for (name, extra, want) in [
        (
            "Num 1e400",
            vec![("Num", "1e400")],
            a("InvalidNumParameter"),
        ),
        ("Num 2^64", vec![("Num", TWO_64)], a("InvalidNumParameter")),
        ("Num empty", vec![("Num", "")], a("InvalidNumParameter")),
        ("Num 101", vec![("Num", "101")], a("OverflowMaxReturnNum")),
        ("Num 0", vec![("Num", "0")], a("OverflowMaxReturnNum")),
        (
            "Num -2^31",
            vec![("Num", "-2147483648")],
            a("OverflowMaxReturnNum"),
        ),
        (
            "Start -1",
            vec![("Start", "-1")],
            a("InvalidStartParameter"),
        ),
        (
            "Start 500",
            vec![("Start", "500")],
            a("InvalidStartParameter"),
        ),
        (
            "Start 1e400",
            vec![("Start", "1e400")],
            a("InvalidStartParameter"),
        ),
        (
            "Start + Num over 500",
            vec![("Start", "450"), ("Num", "100")],
            a("OverflowMaxResultNum"),
        ),
    ] {
        let mut all = vec![ok_filter];
        all.extend(extra);
        t.push(post(
            format!("SearchImageByFilter: {name}"),
            ali_form("SearchImageByFilter", &all),
            want,
        ));
    }
    let by_name = [("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")];
    for (name, extra, want) in [
        ("ScoreThreshold NaN", ("ScoreThreshold", "NaN"), bad),
        (
            "ScoreThreshold Infinity",
            ("ScoreThreshold", "Infinity"),
            bad,
        ),
        ("ScoreThreshold 1e400", ("ScoreThreshold", "1e400"), bad),
        ("ScoreThreshold 1.5", ("ScoreThreshold", "1.5"), bad),
        ("ScoreThreshold -0", ("ScoreThreshold", "-0"), bad),
        ("ScoreThreshold 0.123", ("ScoreThreshold", "0.123"), bad),
        ("DistinctProductId yes", ("DistinctProductId", "yes"), bad),
        (
            "CategoryId letters",
            ("CategoryId", "abc"),
            a("InvalidCategory"),
        ),
        (
            "CategoryId 2^64",
            ("CategoryId", TWO_64),
            a("InvalidCategory"),
        ),
        (
            "CategoryId unknown",
            ("CategoryId", "999"),
            a("InvalidCategory"),
        ),
    ] {
        let mut all = by_name.to_vec();
        all.push(extra);
        t.push(post(
            format!("SearchImageByName: {name}"),
            ali_form("SearchImageByName", &all),
            want,
        ));
    }
    for (name, extra, want) in [
        ("PicContent missing", vec![], a("NoSpecifiedSearchPic")),
        (
            "PicContent empty",
            vec![("PicContent", "")],
            a("NoSpecifiedSearchPic"),
        ),
        (
            "PicContent URL",
            vec![("PicContent", "http://example.com/a.png")],
            a("InvalidPicUrl"),
        ),
        (
            "PicContent not base64",
            vec![("PicContent", "!!!!")],
            a("UnsupportedPicFormat"),
        ),
        (
            "PicContent text",
            vec![("PicContent", "aGVsbG8gd29ybGQ=")],
            a("UnsupportedPicFormat"),
        ),
        (
            "PicContent traversal",
            vec![("PicContent", "../../etc/passwd")],
            a("UnsupportedPicFormat"),
        ),
        (
            "Region of 3 numbers",
            vec![("PicContent", &png), ("Region", "1,2,3")],
            a("InvalidRegion"),
        ),
        (
            "Region negative",
            vec![("PicContent", &png), ("Region", "-1,2,3,4")],
            a("InvalidRegion"),
        ),
        (
            "Region 2^64",
            vec![("PicContent", &png), ("Region", &format!("0,{TWO_64},0,5"))],
            a("InvalidRegion"),
        ),
        (
            "Region reversed",
            vec![("PicContent", &png), ("Region", "5,1,1,5")],
            a("InvalidRegion"),
        ),
        (
            "Crop maybe",
            vec![("PicContent", &png), ("Crop", "maybe")],
            bad,
        ),
    ] {
        t.push(post(
            format!("SearchImageByPic: {name}"),
            ali_form("SearchImageByPic", &extra),
            want,
        ));
    }
    for (name, extra, want) in [
        (
            "IsDeleteByFilter maybe",
            vec![("IsDeleteByFilter", "maybe")],
            bad,
        ),
        (
            "by filter without Filter",
            vec![("IsDeleteByFilter", "true")],
            filter,
        ),
        (
            "by filter, Filter broken",
            vec![("IsDeleteByFilter", "true"), ("Filter", "((")],
            filter,
        ),
        ("ProductId missing", vec![], a("NoSpecifiedProductId")),
    ] {
        t.push(post(
            format!("DeleteImage: {name}"),
            ali_form("DeleteImage", &extra),
            want,
        ));
    }
    t.push(post(
        "AddImage: PicContent missing".into(),
        ali_form("AddImage", &[("ProductId", "p"), ("PicName", "x.png")]),
        a("NoSpecifiedPicContent"),
    ));

    // Authentication: ACS3 and V2 shapes, wrong signatures, duplicates.
    let incomplete = a("IncompleteSignature");
    let method = a("InvalidSignatureMethod");
    let mismatch = a("SignatureDoesNotMatch");
    let v3 = |rest: &str| format!("ACS3-HMAC-SHA256 {rest}").into_bytes();
    for (name, values, want) in [
        ("unsigned", vec![], incomplete),
        (
            "scheme only",
            vec![b"ACS3-HMAC-SHA256".to_vec()],
            incomplete,
        ),
        (
            "Signature missing",
            vec![v3("Credential=h-ak,SignedHeaders=host")],
            incomplete,
        ),
        (
            "Credential empty",
            vec![v3("Credential=,SignedHeaders=host,Signature=0")],
            incomplete,
        ),
        (
            "Credential twice",
            vec![v3(
                "Credential=a,Credential=b,SignedHeaders=host,Signature=0",
            )],
            incomplete,
        ),
        (
            "unknown field",
            vec![v3("Credential=a,SignedHeaders=host,Signature=0,Extra=1")],
            incomplete,
        ),
        (
            "blank inside a field",
            vec![v3("Credential=a b,SignedHeaders=host,Signature=0")],
            incomplete,
        ),
        (
            "SM3 algorithm",
            vec![b"ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=0".to_vec()],
            method,
        ),
        (
            "lower-case scheme",
            vec![b"acs3-hmac-sha256 Credential=a,SignedHeaders=host,Signature=0".to_vec()],
            incomplete,
        ),
        (
            "non-text bytes",
            vec![b"ACS3-HMAC-SHA256 Credential=\xFF,SignedHeaders=host,Signature=0".to_vec()],
            incomplete,
        ),
        (
            "Bearer scheme",
            vec![b"Bearer imgemu-dev-token".to_vec()],
            incomplete,
        ),
        (
            "dev key, wrong signature",
            vec![v3(
                "Credential=imgemu-dev-ak,SignedHeaders=host,Signature=00",
            )],
            mismatch,
        ),
        (
            "garbage then valid",
            vec![
                b"Bearer x".to_vec(),
                v3("Credential=h-ak,SignedHeaders=host,Signature=0"),
            ],
            incomplete,
        ),
    ] {
        let mut c = post(format!("auth V3: {name}"), ali_form("Detail", &[]), want).unsigned();
        for v in values {
            c = c.header("Authorization", v);
        }
        t.push(c);
    }
    t.push(
        post(
            "auth V3: dev key, signed over another body".into(),
            ali_form("Detail", &[]),
            mismatch,
        )
        .signed_over(ali_form("Detail", &[("X", "1")])),
    );
    t.push(
        post(
            "auth V3: valid then garbage Authorization".into(),
            ali_form("Detail", &[]),
            incomplete,
        )
        .header("Authorization", "garbage"),
    );
    let v2_base: Vec<(&str, &str)> = vec![
        ("AccessKeyId", "hostile-ak"),
        ("Signature", "x"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "n1"),
        ("Timestamp", "2026-01-01T00:00:00Z"),
    ];
    let v2 = |drop: &str, set: &[(&'static str, &'static str)]| {
        let mut all: Vec<(&str, &str)> = v2_base
            .iter()
            .copied()
            .filter(|(k, _)| *k != drop)
            .collect();
        for (k, v) in set {
            all.retain(|(name, _)| name != k);
            all.push((k, v));
        }
        ali_form("Detail", &all)
    };
    for (name, body, want) in [
        (
            "SignatureNonce missing",
            v2("SignatureNonce", &[]),
            incomplete,
        ),
        ("Timestamp empty", v2("", &[("Timestamp", "")]), incomplete),
        ("AccessKeyId missing", v2("AccessKeyId", &[]), incomplete),
        (
            "HMAC-SHA256 method",
            v2("", &[("SignatureMethod", "HMAC-SHA256")]),
            method,
        ),
        (
            "SignatureVersion 2.0",
            v2("", &[("SignatureVersion", "2.0")]),
            incomplete,
        ),
        (
            "dev key, wrong signature",
            v2("", &[("AccessKeyId", "imgemu-dev-ak")]),
            mismatch,
        ),
    ] {
        t.push(post(format!("auth V2: {name}"), body, want).unsigned());
    }

    // Oversize: the 8 MiB limit + 1, past the 32 MiB hard cap.
    let mut over = ali_form("Detail", &[("Pad", "")]).into_bytes();
    over.resize(8 * 1024 * 1024 + 1, b'a');
    t.push(
        post("oversize: 8 MiB + 1".into(), String::new(), bad).with_body(Body::Bytes(over.clone())),
    );
    t.push(
        post("oversize: 8 MiB + 1 unsigned".into(), String::new(), bad)
            .with_body(Body::Bytes(over))
            .unsigned(),
    );
    t.push(
        post("oversize: declared 100 MiB".into(), String::new(), bad)
            .with_body(Body::Declared(100 << 20, b"Action=Detail".to_vec())),
    );
    t.push(
        post("oversize: chunked 33 MiB".into(), String::new(), bad)
            .with_body(Body::Chunked(33 << 20))
            .may_close(),
    );

    t.extend(transport_cases("POST", "/"));
    t
}

// ----- Huawei -----------------------------------------------------------------------------------

fn hw_cases() -> Vec<Case> {
    let ims = |status: u16, code: &'static str| Want::HwIms(status, code);
    let syntax = ims(400, "IMG.0001");
    let empty = ims(400, "IMG.0007");
    let bad_id = ims(400, "IMG.0066");
    let patch_path = format!("/v2/cloudimages/{SEED_IMAGE}");
    let mut t = Vec::new();

    // Bad JSON: UpdateImage (a JSON patch) and CreateImage.
    let patch_inner = r#"[{"op":"replace","path":"/name","value":"x"}]"#;
    for (name, body) in empty_bodies() {
        t.push(case(
            format!("UpdateImage: {name}"),
            "PATCH",
            &patch_path,
            &body,
            empty,
        ));
        t.push(case(
            format!("CreateImage: {name}"),
            "POST",
            "/v2/cloudimages/action",
            &body,
            empty,
        ));
    }
    // bad_json() needs an object to break; the patch breaks inside its first operation.
    for (name, body) in bad_json(r#"{"op":"replace","path":"/name","value":"x"}"#) {
        let mut patch = b"[".to_vec();
        patch.extend_from_slice(&body);
        patch.push(b']');
        t.push(case(
            format!("UpdateImage: {name}"),
            "PATCH",
            &patch_path,
            patch,
            syntax,
        ));
    }
    let create_inner = r#"{"name":"hostile","image_url":"bucket:obj","min_disk":40}"#;
    for (name, body) in bad_json(create_inner) {
        t.push(case(
            format!("CreateImage: {name}"),
            "POST",
            "/v2/cloudimages/action",
            body,
            syntax,
        ));
    }
    for (name, body) in [
        ("truncated array", "[".to_string()),
        (
            "10k nested bare arrays",
            String::from_utf8(nested_arrays(10_000)).unwrap_or_default(),
        ),
        (
            "trailing garbage after the array",
            format!("{patch_inner}]"),
        ),
        (
            "object, not an array",
            r#"{"op":"replace","path":"/name","value":"x"}"#.into(),
        ),
    ] {
        t.push(case(
            format!("UpdateImage: {name}"),
            "PATCH",
            &patch_path,
            body,
            syntax,
        ));
    }
    t.push(case(
        "UpdateImage: empty array",
        "PATCH",
        &patch_path,
        "[]",
        empty,
    ));

    // Patch operations: every malformed shape, wrong value types, huge numbers, duplicates.
    let digits = digits300();
    let op = |o: &str, p: &str, v: &str| format!(r#"[{{"op":{o},"path":{p},"value":{v}}}]"#);
    let patch_rows: Vec<(&str, String, Want)> = vec![
        ("element not an object", "[1]".into(), syntax),
        (
            "op missing",
            r#"[{"path":"/name","value":"x"}]"#.into(),
            syntax,
        ),
        (
            "op upper case",
            op(r#""ADD""#, r#""/name""#, r#""x""#),
            syntax,
        ),
        ("op as number", op("5", r#""/name""#, r#""x""#), syntax),
        ("op move", op(r#""move""#, r#""/name""#, r#""x""#), syntax),
        (
            "path without slash",
            op(r#""replace""#, r#""name""#, r#""x""#),
            syntax,
        ),
        (
            "path only a slash",
            op(r#""replace""#, r#""/""#, r#""x""#),
            syntax,
        ),
        (
            "path traversal",
            op(r#""replace""#, r#""/../name""#, r#""x""#),
            syntax,
        ),
        (
            "path nested",
            op(r#""replace""#, r#""/a/b""#, r#""x""#),
            syntax,
        ),
        (
            "path with ~",
            op(r#""replace""#, r#""/~0name""#, r#""x""#),
            syntax,
        ),
        ("path as number", op(r#""replace""#, "5", r#""x""#), syntax),
        (
            "value null",
            op(r#""replace""#, r#""/name""#, "null"),
            syntax,
        ),
        (
            "value array",
            op(r#""replace""#, r#""/name""#, r#"["x"]"#),
            syntax,
        ),
        (
            "value object",
            op(r#""replace""#, r#""/name""#, r#"{"v":"x"}"#),
            syntax,
        ),
        (
            "value missing",
            r#"[{"op":"add","path":"/name"}]"#.into(),
            syntax,
        ),
        (
            "name as bool",
            op(r#""replace""#, r#""/name""#, "true"),
            syntax,
        ),
        (
            "name 129 chars",
            op(
                r#""replace""#,
                r#""/name""#,
                &format!(r#""{}""#, "n".repeat(129)),
            ),
            ims(400, "IMG.0002"),
        ),
        (
            "name traversal",
            op(r#""replace""#, r#""/name""#, r#""../../etc""#),
            ims(400, "IMG.0003"),
        ),
        (
            "name NUL",
            op(r#""replace""#, r#""/name""#, r#""a\u0000b""#),
            ims(400, "IMG.0003"),
        ),
        (
            "description markup",
            op(r#""add""#, r#""/__description""#, r#""<script>""#),
            ims(400, "IMG.0054"),
        ),
        (
            "min_ram as bool",
            op(r#""replace""#, r#""/min_ram""#, "true"),
            syntax,
        ),
        (
            "min_ram letters",
            op(r#""replace""#, r#""/min_ram""#, r#""abc""#),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram float",
            op(r#""replace""#, r#""/min_ram""#, "1.5"),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram negative",
            op(r#""replace""#, r#""/min_ram""#, "-1"),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram 2^31",
            op(r#""replace""#, r#""/min_ram""#, INT32_OVER),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram 2^64",
            op(r#""replace""#, r#""/min_ram""#, TWO_64),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram -2^63-1",
            op(r#""replace""#, r#""/min_ram""#, BELOW_I64_MIN),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram 300 digits",
            op(r#""replace""#, r#""/min_ram""#, &digits),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram 300-digit string",
            op(r#""replace""#, r#""/min_ram""#, &format!(r#""{digits}""#)),
            ims(400, "IMG.0055"),
        ),
        (
            "min_ram 1e400",
            op(r#""replace""#, r#""/min_ram""#, "1e400"),
            syntax,
        ),
        (
            "max_ram 2^64 string",
            op(r#""add""#, r#""/max_ram""#, &format!(r#""{TWO_64}""#)),
            ims(400, "IMG.0055"),
        ),
        (
            "hw_firmware_type efi",
            op(r#""replace""#, r#""/hw_firmware_type""#, r#""efi""#),
            ims(400, "IMG.0141"),
        ),
        (
            "hw_firmware_type number",
            op(r#""replace""#, r#""/hw_firmware_type""#, "5"),
            ims(400, "IMG.0141"),
        ),
        (
            "enterprise_project_id traversal",
            op(r#""replace""#, r#""/enterprise_project_id""#, r#""../x""#),
            ims(400, "IMG.0155"),
        ),
        (
            "flag yes",
            op(r#""replace""#, r#""/__support_fc_inject""#, r#""yes""#),
            syntax,
        ),
        (
            "read-only status",
            op(r#""add""#, r#""/status""#, r#""queued""#),
            ims(403, "IMG.0161"),
        ),
        (
            "read-only id",
            op(r#""replace""#, r#""/id""#, r#""x""#),
            ims(403, "IMG.0161"),
        ),
        (
            "read-only __imagetype",
            op(r#""replace""#, r#""/__imagetype""#, r#""gold""#),
            ims(403, "IMG.0161"),
        ),
        (
            "remove name",
            r#"[{"op":"remove","path":"/name"}]"#.into(),
            ims(403, "IMG.0161"),
        ),
        (
            "custom name upper case",
            op(r#""add""#, r#""/Custom""#, r#""x""#),
            syntax,
        ),
        (
            "custom name 256 chars",
            op(r#""add""#, &format!(r#""/{}""#, "c".repeat(256)), r#""x""#),
            syntax,
        ),
        (
            "custom value 256 chars",
            op(
                r#""add""#,
                r#""/custom1""#,
                &format!(r#""{}""#, "v".repeat(256)),
            ),
            syntax,
        ),
        (
            "replace of an absent member",
            op(r#""replace""#, r#""/max_ram""#, "1024"),
            ims(400, "IMG.0035"),
        ),
        (
            "duplicate op member, last invalid",
            r#"[{"op":"add","op":"bogus","path":"/x1","value":"v"}]"#.into(),
            syntax,
        ),
        (
            "second operation fails",
            r#"[{"op":"replace","path":"/name","value":"pwned"},{"op":"add","path":"/status","value":"x"}]"#
                .to_string(),
            ims(403, "IMG.0161"),
        ),
    ];
    for (name, body, want) in patch_rows {
        t.push(case(
            format!("UpdateImage: {name}"),
            "PATCH",
            &patch_path,
            body,
            want,
        ));
    }

    // Huawei PATCH with content types that are never a reason to reject: the body still decides.
    for (name, ct, body) in [
        (
            "JSON-patch type, bad body",
            b"application/openstack-images-v2.1-json-patch".to_vec(),
            b"[{".to_vec(),
        ),
        (
            "text/plain",
            b"text/plain".to_vec(),
            b"op=replace path=/name".to_vec(),
        ),
        (
            "form",
            FORM.as_bytes().to_vec(),
            b"op=replace&path=%2Fname&value=x".to_vec(),
        ),
        (
            "multipart",
            b"multipart/form-data; boundary=b".to_vec(),
            b"--b\r\n\r\nx\r\n--b--\r\n".to_vec(),
        ),
        (
            "UTF-16 declared",
            b"application/json; charset=utf-16".to_vec(),
            utf16_with_bom(patch_inner),
        ),
        (
            "non-text content type",
            b"application/\xFFjson".to_vec(),
            b"{}".to_vec(),
        ),
    ] {
        t.push(
            case(
                format!("UpdateImage content type: {name}"),
                "PATCH",
                &patch_path,
                body,
                syntax,
            )
            .header("Content-Type", ct),
        );
    }
    t.push(case(
        "UpdateImage content type: none, empty body",
        "PATCH",
        &patch_path,
        "",
        empty,
    ));
    t.push(
        case(
            "UpdateImage: AK/SK signed, bad body",
            "PATCH",
            &patch_path,
            "[{",
            syntax,
        )
        .aksk(DEV_PROJECT),
    );

    // CreateImage: wrong types, sources, huge numbers.
    let create = |extra: &str| {
        format!(r#"{{"name":"hostile","image_url":"bucket:obj","min_disk":40{extra}}}"#)
    };
    let create_rows: Vec<(&str, String, Want)> = vec![
        ("array body", "[]".into(), syntax),
        ("string body", r#""x""#.into(), syntax),
        (
            "name as number",
            r#"{"name":5,"image_url":"bucket:obj","min_disk":40}"#.into(),
            syntax,
        ),
        (
            "name empty",
            r#"{"name":"","image_url":"bucket:obj","min_disk":40}"#.into(),
            ims(400, "IMG.0013"),
        ),
        (
            "name 129 chars",
            format!(
                r#"{{"name":"{}","image_url":"bucket:obj","min_disk":40}}"#,
                "n".repeat(129)
            ),
            ims(400, "IMG.0002"),
        ),
        (
            "image_url as number",
            r#"{"name":"hostile","image_url":5,"min_disk":40}"#.into(),
            syntax,
        ),
        ("no source", r#"{"name":"hostile"}"#.into(), syntax),
        (
            "two sources",
            create(r#","instance_id":"33ad552d-1149-471c-8190-ff6776174a00""#),
            syntax,
        ),
        (
            "min_disk as string",
            r#"{"name":"hostile","image_url":"bucket:obj","min_disk":"40"}"#.into(),
            syntax,
        ),
        (
            "min_disk 1e400",
            r#"{"name":"hostile","image_url":"bucket:obj","min_disk":1e400}"#.into(),
            syntax,
        ),
        (
            "min_disk 2^64",
            format!(r#"{{"name":"hostile","image_url":"bucket:obj","min_disk":{TWO_64}}}"#),
            ims(400, "IMG.0055"),
        ),
        (
            "min_disk -1",
            r#"{"name":"hostile","image_url":"bucket:obj","min_disk":-1}"#.into(),
            ims(400, "IMG.0055"),
        ),
        (
            "min_disk 1.5",
            r#"{"name":"hostile","image_url":"bucket:obj","min_disk":1.5}"#.into(),
            ims(400, "IMG.0055"),
        ),
        (
            "min_disk 300 digits",
            format!(r#"{{"name":"hostile","image_url":"bucket:obj","min_disk":{digits}}}"#),
            ims(400, "IMG.0055"),
        ),
        (
            "image_url traversal",
            r#"{"name":"hostile","image_url":"../../etc/passwd","min_disk":40}"#.into(),
            ims(400, "IMG.0017"),
        ),
        (
            "instance_id traversal",
            r#"{"name":"hostile","instance_id":"../../etc"}"#.into(),
            ims(400, "IMG.0005"),
        ),
        (
            "is_config as string",
            create(r#","is_config":"true""#),
            syntax,
        ),
        (
            "data_images",
            create(r#","data_images":[{}]"#),
            ims(400, "IMG.0105"),
        ),
        (
            "tags malformed",
            create(r#","tags":["nodot"]"#),
            ims(400, "IMG.0115"),
        ),
        (
            "eleven tags",
            create(
                r#","tags":["a.1","b.1","c.1","d.1","e.1","f.1","g.1","h.1","i.1","j.1","k.1"]"#,
            ),
            ims(400, "IMG.0116"),
        ),
        (
            "os_version 256 chars",
            create(&format!(r#","os_version":"{}""#, "o".repeat(256))),
            ims(400, "IMG.0056"),
        ),
        (
            "architecture mips",
            create(r#","architecture":"mips""#),
            ims(400, "IMG.0212"),
        ),
        ("type VM", create(r#","type":"VM""#), syntax),
        (
            "min_ram 2^64",
            create(&format!(r#","min_ram":{TWO_64}"#)),
            ims(400, "IMG.0055"),
        ),
        (
            "duplicate name, last a number",
            r#"{"name":"ok","name":5,"image_url":"bucket:obj","min_disk":40}"#.into(),
            syntax,
        ),
    ];
    for (name, body, want) in create_rows {
        t.push(case(
            format!("CreateImage: {name}"),
            "POST",
            "/v2/cloudimages/action",
            body,
            want,
        ));
    }

    // Ids in paths: traversal, encodings, NUL, very long.
    let long_id = "a".repeat(10_000);
    for (name, id) in [
        ("..", ".."),
        ("%2e%2e", "%2e%2e"),
        ("..%2F..%2Fetc%2Fpasswd", "..%2F..%2Fetc%2Fpasswd"),
        ("%2e%2e%2f", "%2e%2e%2f"),
        ("%00", "%00"),
        ("seed id with %00", &format!("{SEED_IMAGE}%00")),
        ("seed id with %FF", &format!("{SEED_IMAGE}%FF")),
        (
            "percent-encoded seed id",
            "%33%33ad552d-1149-471c-8190-ff6776174a00",
        ),
        ("10k chars", &long_id),
        ("raw UTF-8", "\u{00e9}"),
    ] {
        t.push(case(
            format!("GlanceShowImage: id {name}"),
            "GET",
            format!("/v2/images/{id}"),
            "",
            bad_id,
        ));
        t.push(case(
            format!("GlanceDeleteImage: id {name}"),
            "DELETE",
            format!("/v2/images/{id}"),
            "",
            bad_id,
        ));
        t.push(case(
            format!("UpdateImage: id {name}"),
            "PATCH",
            format!("/v2/cloudimages/{id}"),
            patch_inner,
            bad_id,
        ));
    }
    t.push(case(
        "UpdateImage: id action",
        "PATCH",
        "/v2/cloudimages/action",
        patch_inner,
        bad_id,
    ));
    t.push(case(
        "GlanceShowImage: unknown upper-case id",
        "GET",
        "/v2/images/00000000-0000-4000-8000-00000000000A",
        "",
        ims(404, "IMG.0144"),
    ));
    for (name, body) in [
        ("not JSON", "x"),
        ("array", "[1]"),
        ("delete_backup as string", r#"{"delete_backup":"yes"}"#),
        ("delete_backup 1e400", r#"{"delete_backup":1e400}"#),
    ] {
        t.push(case(
            format!("GlanceDeleteImage: body {name}"),
            "DELETE",
            format!("/v2/images/{SEED_IMAGE}"),
            body,
            syntax,
        ));
    }
    let no_job = ims(404, "IMG.0121");
    for (name, path, want) in [
        (
            "ShowJobProgress traversal",
            "/v1/cloudimages/job/..%2F..%2Fetc".to_string(),
            no_job,
        ),
        (
            "ShowJobProgress %00",
            "/v1/cloudimages/job/%00".to_string(),
            no_job,
        ),
        (
            "ShowJobProgress 10k chars",
            format!("/v1/cloudimages/job/{long_id}"),
            no_job,
        ),
        (
            "ShowJob job traversal",
            format!("/v1/{DEV_PROJECT}/jobs/%2e%2e"),
            no_job,
        ),
        (
            "ShowJob project traversal",
            "/v1/%2e%2e/jobs/x".to_string(),
            ims(400, "IMG.0067"),
        ),
        (
            "ShowJob literal {project_id}",
            "/v1/%7Bproject_id%7D/jobs/x".to_string(),
            ims(400, "IMG.0067"),
        ),
    ] {
        t.push(case(format!("jobs: {name}"), "GET", path, "", want));
    }

    // ListImages query: types, huge numbers, invalid UTF-8, duplicates.
    for (name, query, want) in [
        ("limit letters", "limit=abc", syntax),
        ("limit 0", "limit=0", syntax),
        ("limit -1", "limit=-1", syntax),
        ("limit 1e400", "limit=1e400", syntax),
        ("limit 1.5", "limit=1.5", syntax),
        ("limit %FF", "limit=%FF", syntax),
        ("limit twice, last invalid", "limit=5&limit=abc", syntax),
        ("sort_key traversal", "sort_key=..%2F..%2Fetc", syntax),
        ("sort_dir up", "sort_dir=up", syntax),
        (
            "__imagetype bogus",
            "__imagetype=bogus",
            ims(400, "IMG.0024"),
        ),
        ("visibility %00", "visibility=%00", syntax),
        ("protected yes", "protected=yes", syntax),
        ("created_at not a time", "created_at=gt:notatime", syntax),
        (
            "created_at unknown operator",
            "created_at=xx:2020-01-01T00:00:00Z",
            syntax,
        ),
        ("architecture mips", "architecture=mips", syntax),
        (
            "marker traversal",
            "marker=..%2F..%2Fetc",
            ims(400, "IMG.0027"),
        ),
        ("marker %FF", "marker=%FF", ims(400, "IMG.0027")),
    ] {
        t.push(case(
            format!("ListImages: {name}"),
            "GET",
            format!("/v2/cloudimages?{query}"),
            "",
            want,
        ));
    }

    // Routing: APIG.0101 in the gateway shape.
    let gone = Want::HwGateway(404, "APIG.0101");
    for (name, method, target) in [
        ("Glance list", "GET", "/v2/images"),
        ("trailing slash", "GET", "/v2/cloudimages/"),
        ("dot-dot segments", "GET", "/v2/images/../cloudimages"),
        ("double slash", "GET", "/v2//cloudimages"),
        (
            "POST on an image",
            "POST",
            "/v2/images/33ad552d-1149-471c-8190-ff6776174a00",
        ),
        (
            "PUT on an image",
            "PUT",
            "/v2/cloudimages/33ad552d-1149-471c-8190-ff6776174a00",
        ),
        ("GET on action", "GET", "/v2/cloudimages/action"),
        ("bare /v1", "GET", "/v1"),
        ("upper-case segment", "GET", "/v2/CLOUDIMAGES"),
    ] {
        t.push(case(format!("route: {name}"), method, target, "", gone).unsigned());
    }

    // Authentication: tokens, SDK-HMAC shapes, duplicates → 401 APIGW.0301 with the right detail.
    let bad_sig = "verify aksk signature fail";
    let sdk = |rest: &str| format!("SDK-HMAC-SHA256 {rest}").into_bytes();
    let date = ("X-Sdk-Date", b"20260101T000000Z".to_vec());
    /// (label, headers, the APIGW.0301 detail).
    type AuthRow = (&'static str, Vec<(&'static str, Vec<u8>)>, &'static str);
    let auth_rows: Vec<AuthRow> = vec![
        ("no credentials", vec![], "x-auth-token not found"),
        (
            "unknown token",
            vec![("X-Auth-Token", b"forged".to_vec())],
            "decrypt token fail",
        ),
        (
            "empty token",
            vec![("X-Auth-Token", b"".to_vec())],
            "decrypt token fail",
        ),
        (
            "token traversal",
            vec![("X-Auth-Token", b"../../imgemu-dev-token".to_vec())],
            "decrypt token fail",
        ),
        (
            "token with NUL escape",
            vec![("X-Auth-Token", b"imgemu-dev-token%00".to_vec())],
            "decrypt token fail",
        ),
        (
            "non-text token",
            vec![("X-Auth-Token", b"imgemu-dev-token\xFF".to_vec())],
            "x-auth-token not found",
        ),
        (
            "scheme only",
            vec![("Authorization", b"SDK-HMAC-SHA256".to_vec()), date.clone()],
            bad_sig,
        ),
        (
            "SM3 scheme",
            vec![
                (
                    "Authorization",
                    b"SDK-HMAC-SM3 Access=a, SignedHeaders=host, Signature=0".to_vec(),
                ),
                date.clone(),
            ],
            bad_sig,
        ),
        (
            "longer scheme name",
            vec![
                (
                    "Authorization",
                    b"SDK-HMAC-SHA256X Access=a, SignedHeaders=host, Signature=0".to_vec(),
                ),
                date.clone(),
            ],
            bad_sig,
        ),
        (
            "Signature missing",
            vec![
                ("Authorization", sdk("Access=a, SignedHeaders=host")),
                date.clone(),
            ],
            bad_sig,
        ),
        (
            "Access twice",
            vec![
                (
                    "Authorization",
                    sdk("Access=a, Access=b, SignedHeaders=host, Signature=0"),
                ),
                date.clone(),
            ],
            bad_sig,
        ),
        (
            "Access empty",
            vec![
                (
                    "Authorization",
                    sdk("Access=, SignedHeaders=host, Signature=0"),
                ),
                date.clone(),
            ],
            bad_sig,
        ),
        (
            "Bearer scheme",
            vec![("Authorization", b"Bearer imgemu-dev-token".to_vec())],
            bad_sig,
        ),
        (
            "Basic scheme",
            vec![("Authorization", b"Basic YWRtaW46cGFzc3dvcmQ=".to_vec())],
            bad_sig,
        ),
        (
            "dev AK, wrong signature",
            vec![
                (
                    "Authorization",
                    sdk("Access=imgemu-dev-ak, SignedHeaders=host, Signature=00"),
                ),
                date.clone(),
            ],
            bad_sig,
        ),
        (
            "unregistered AK, no X-Sdk-Date",
            vec![(
                "Authorization",
                sdk("Access=h-ak, SignedHeaders=host, Signature=0"),
            )],
            "x-sdk-date not found or invalid",
        ),
        (
            "unregistered AK, bad X-Sdk-Date",
            vec![
                (
                    "Authorization",
                    sdk("Access=h-ak, SignedHeaders=host, Signature=0"),
                ),
                ("X-Sdk-Date", b"2026-01-01T00:00:00Z".to_vec()),
            ],
            "x-sdk-date not found or invalid",
        ),
        (
            "bad Authorization beats a valid token",
            vec![
                ("Authorization", b"Bearer x".to_vec()),
                ("X-Auth-Token", b"imgemu-dev-token".to_vec()),
            ],
            bad_sig,
        ),
        (
            "garbage then valid Authorization",
            vec![
                ("Authorization", b"Bearer x".to_vec()),
                (
                    "Authorization",
                    sdk("Access=h-ak, SignedHeaders=host, Signature=0"),
                ),
                date.clone(),
            ],
            bad_sig,
        ),
    ];
    for (name, headers, detail) in auth_rows {
        let mut c = case(
            format!("auth: {name}"),
            "GET",
            format!("/v2/images/{SEED_IMAGE}"),
            "",
            Want::HwAuth(detail),
        )
        .unsigned();
        for (k, v) in headers {
            c = c.header(k, v);
        }
        t.push(c);
    }
    t.push(
        case(
            "auth: non-text Authorization beside a valid token",
            "GET",
            format!("/v2/images/{SEED_IMAGE}"),
            "",
            Want::HwAuth(bad_sig),
        )
        .header(
            "Authorization",
            b"SDK-HMAC-SHA256 Access=\xFF, SignedHeaders=host, Signature=0",
        ),
    );
    t.push(
        case(
            "auth: empty Authorization beside a valid token",
            "GET",
            format!("/v2/images/{SEED_IMAGE}"),
            "",
            Want::HwAuth(bad_sig),
        )
        .header("Authorization", ""),
    );
    t.push(
        case(
            "auth: valid then forged X-Auth-Token",
            "GET",
            format!("/v2/images/{SEED_IMAGE}"),
            "",
            Want::HwAuth("decrypt token fail"),
        )
        .header("X-Auth-Token", "forged"),
    );
    t.push(
        case(
            "auth: AK/SK valid then garbage Authorization",
            "GET",
            format!("/v2/images/{SEED_IMAGE}"),
            "",
            Want::HwAuth(bad_sig),
        )
        .aksk(DEV_PROJECT)
        .header("Authorization", "garbage"),
    );
    t.push(
        case(
            "auth: AK/SK signed over another body",
            "PATCH",
            &patch_path,
            patch_inner,
            Want::HwAuth(bad_sig),
        )
        .aksk(DEV_PROJECT)
        .signed_over(r#"[{"op":"replace","path":"/name","value":"other"}]"#),
    );
    t.push(
        case(
            "auth: AK/SK with a foreign X-Project-Id",
            "GET",
            format!("/v2/images/{SEED_IMAGE}"),
            "",
            Want::HwAuth("x-project-id is not a project of this ak"),
        )
        .aksk("ffffffffffffffffffffffffffffffff"),
    );

    // Oversize: the 12 MiB limit + 1, past the 48 MiB hard cap.
    let too_large = Want::HwGateway(413, "APIGW.0201");
    let mut over = patch_inner.as_bytes().to_vec();
    over.resize(12 * 1024 * 1024 + 1, b' ');
    t.push(case(
        "oversize: 12 MiB + 1",
        "PATCH",
        &patch_path,
        &over,
        too_large,
    ));
    t.push(
        case(
            "oversize: 12 MiB + 1 unsigned",
            "POST",
            "/v2/cloudimages/action",
            &over,
            too_large,
        )
        .unsigned(),
    );
    t.push(
        case(
            "oversize: declared 100 MiB",
            "PATCH",
            &patch_path,
            "",
            too_large,
        )
        .with_body(Body::Declared(100 << 20, b"[".to_vec())),
    );
    t.push(
        case(
            "oversize: chunked 49 MiB",
            "POST",
            "/v2/cloudimages/action",
            "",
            too_large,
        )
        .with_body(Body::Chunked(49 << 20))
        .may_close(),
    );

    t.extend(transport_cases("PATCH", &patch_path));
    t
}

// ----- sending ----------------------------------------------------------------------------------

/// What came back.
#[derive(Debug)]
enum Outcome {
    Answered(Resp),
    /// Closed (or reset) without a complete response; what arrived.
    Closed(Vec<u8>),
    /// Neither an answer nor a close in time.
    Hung(Vec<u8>),
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn summary(&self) -> String {
        let mut text = self.text();
        text.truncate(400);
        format!("HTTP {} {:?} {text}", self.status, self.headers)
    }
}

fn split_target(target: &[u8]) -> (String, Option<String>) {
    let text = String::from_utf8_lossy(target).into_owned();
    match text.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (text, None),
    }
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("header value")
}

/// The credential headers of a case, computed over the exact request.
fn credentials(emu: &Emulator, vendor: Vendor, case: &Case) -> Vec<(String, Vec<u8>)> {
    let (path, query) = split_target(&case.target);
    let sent: &[u8] = match &case.body {
        Body::Bytes(b) | Body::Declared(_, b) => b,
        Body::Chunked(_) => b"",
    };
    let body = case.sign_body.as_deref().unwrap_or(sent);
    let host = emu.addr().to_string();
    let method = case.method.as_str();
    let pairs = |list: Vec<(&str, String)>| {
        list.into_iter()
            .map(|(k, v)| (k.to_string(), v.into_bytes()))
            .collect::<Vec<_>>()
    };
    match (vendor, case.auth) {
        (_, Auth::AsIs) => Vec::new(),
        (Vendor::Aries, _) => pairs(vec![("Authorization", "Bearer imgemu-dev-token".into())]),
        (Vendor::Huawei, Auth::Valid) => pairs(vec![("X-Auth-Token", "imgemu-dev-token".into())]),
        (Vendor::Jd, _) => {
            let date = common::jd::jd_date(emu.clock().now());
            let nonce = uuid::Uuid::new_v4().to_string();
            let mut h = HeaderMap::new();
            h.insert("host", header_value(&host));
            h.insert("x-jdcloud-date", header_value(&date));
            h.insert("x-jdcloud-nonce", header_value(&nonce));
            let signed = "host;x-jdcloud-date;x-jdcloud-nonce";
            let raw = imgemu::vendors::jd::sign::RawRequest {
                method,
                path: &path,
                query: query.as_deref(),
                headers: &h,
                body,
            };
            let sig = imgemu::vendors::jd::sign::sign(
                &raw,
                (&date[..8], "jdcloud-api", "simpleclient"),
                signed,
                "imgemu-dev-sk",
            );
            let auth = format!(
                "JDCLOUD2-HMAC-SHA256 Credential=imgemu-dev-ak/{}/jdcloud-api/simpleclient/jdcloud2_request, SignedHeaders={signed}, Signature={sig}",
                &date[..8]
            );
            pairs(vec![
                ("x-jdcloud-date", date),
                ("x-jdcloud-nonce", nonce),
                ("Authorization", auth),
            ])
        }
        (Vendor::Aliyun, _) => {
            let date = common::aliyun::acs_date(emu.clock().now());
            let nonce = uuid::Uuid::new_v4().to_string();
            let hash = hex::encode(sha2::Sha256::digest(body));
            let mut h = HeaderMap::new();
            h.insert("host", header_value(&host));
            h.insert("x-acs-date", header_value(&date));
            h.insert("x-acs-signature-nonce", header_value(&nonce));
            h.insert("x-acs-content-sha256", header_value(&hash));
            let signed = "host;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce";
            let req = imgemu::vendors::aliyun::sign::V3Request {
                method,
                query: query.as_deref(),
                headers: &h,
                body,
            };
            let sig = imgemu::vendors::aliyun::sign::sign_v3(&req, signed, "imgemu-dev-sk");
            pairs(vec![
                ("x-acs-date", date),
                ("x-acs-signature-nonce", nonce),
                ("x-acs-content-sha256", hash),
                (
                    "Authorization",
                    format!("ACS3-HMAC-SHA256 Credential=imgemu-dev-ak,SignedHeaders={signed},Signature={sig}"),
                ),
            ])
        }
        (Vendor::Huawei, Auth::AkSk(project)) => {
            let date = common::huawei::sdk_date(emu.clock().now());
            let project = project.to_string();
            let mut h = HeaderMap::new();
            h.insert("host", header_value(&host));
            h.insert("x-project-id", header_value(&project));
            h.insert("x-sdk-date", header_value(&date));
            let signed = "host;x-project-id;x-sdk-date";
            let raw = imgemu::vendors::huawei::sign::RawRequest {
                method,
                path: &path,
                query: query.as_deref(),
                headers: &h,
                body,
            };
            let sig = imgemu::vendors::huawei::sign::sign(&raw, signed, "imgemu-dev-sk");
            pairs(vec![
                ("X-Project-Id", project),
                ("X-Sdk-Date", date),
                (
                    "Authorization",
                    format!("SDK-HMAC-SHA256 Access=imgemu-dev-ak, SignedHeaders={signed}, Signature={sig}"),
                ),
            ])
        }
    }
}

/// The request head of a case, credentials included.
fn request_head(emu: &Emulator, vendor: Vendor, case: &Case) -> Vec<u8> {
    let mut head = Vec::new();
    head.extend_from_slice(case.method.as_bytes());
    head.push(b' ');
    head.extend_from_slice(&case.target);
    head.extend_from_slice(format!(" {}\r\nHost: {}\r\n", case.version, emu.addr()).as_bytes());
    let mut headers = credentials(emu, vendor, case);
    headers.extend(case.headers.iter().cloned());
    let framed = headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    });
    for (name, value) in &headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(&case.raw_head);
    match &case.body {
        Body::Bytes(b) if !framed => {
            head.extend_from_slice(format!("Content-Length: {}\r\n", b.len()).as_bytes());
        }
        Body::Declared(n, _) => {
            head.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
        }
        Body::Chunked(_) => head.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Body::Bytes(_) => {}
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    head
}

/// Sends one request on a fresh connection and reads until the server closes it.
async fn exchange(addr: SocketAddr, head: Vec<u8>, body: Body) -> Outcome {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    // The write half stays open until the answer is read: a half-close could abort the exchange.
    let writer = tokio::spawn(async move {
        if wr.write_all(&head).await.is_err() {
            return wr;
        }
        match body {
            Body::Bytes(b) | Body::Declared(_, b) => {
                let _ = wr.write_all(&b).await;
            }
            Body::Chunked(total) => {
                let chunk = vec![b' '; 256 * 1024];
                let mut sent = 0;
                while sent < total {
                    let n = chunk.len().min(total - sent);
                    let mut frame = format!("{n:x}\r\n").into_bytes();
                    frame.extend_from_slice(&chunk[..n]);
                    frame.extend_from_slice(b"\r\n");
                    if wr.write_all(&frame).await.is_err() {
                        return wr;
                    }
                    sent += n;
                }
                let _ = wr.write_all(b"0\r\n\r\n").await;
            }
        }
        wr
    });
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    writer.abort();
    if read.is_err() {
        return Outcome::Hung(buf);
    }
    parse_response(buf)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(raw, b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

fn parse_response(buf: Vec<u8>) -> Outcome {
    let Some(end) = find(&buf, b"\r\n\r\n") else {
        return Outcome::Closed(buf);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status else {
        return Outcome::Closed(buf);
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let raw = &buf[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let body = if chunked {
        match dechunk(raw) {
            Some(b) => b,
            None => return Outcome::Closed(buf),
        }
    } else if let Some(n) = length {
        match raw.get(..n) {
            Some(b) => b.to_vec(),
            None => return Outcome::Closed(buf),
        }
    } else {
        raw.to_vec()
    };
    Outcome::Answered(Resp {
        status,
        headers,
        body,
    })
}

// ----- checking ---------------------------------------------------------------------------------

fn json_object(resp: &Resp) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(&resp.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(format!("body is not a JSON object: {}", resp.summary())),
    }
}

fn keys(map: &serde_json::Map<String, Value>) -> Vec<&str> {
    let mut k: Vec<&str> = map.keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn expect(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn aries_message(code: &str) -> &'static str {
    match code {
        "InvalidParameter" => "参数无效",
        "InvalidSourcePath" => "源文件路径无效",
        "ImageExists" => "镜像已存在",
        "ImageNameExists" => "镜像名称已存在",
        "ImageInUse" => "镜像使用中",
        "ImageNotFound" => "镜像不存在",
        "Unauthorized" => "未认证",
        _ => "内部错误",
    }
}

fn is_hex32(id: &str, alphabet: fn(u8) -> bool) -> bool {
    id.len() == 32 && id.bytes().all(alphabet)
}

fn lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn lower_alnum(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_lowercase()
}

/// Checks the status, the native body shape and the request-id header of one answer.
fn check_native(want: Want, r: &Resp) -> Result<(), String> {
    let status_is = |s: u16| {
        expect(r.status == s, || {
            format!("status {} ≠ {s}: {}", r.status, r.summary())
        })
    };
    let content_type = |ct: &str| {
        expect(r.header("content-type") == Some(ct), || {
            format!("content-type {:?} ≠ {ct:?}", r.header("content-type"))
        })
    };
    match want {
        Want::Aries(status, code) => {
            status_is(status)?;
            content_type("application/json; charset=utf-8")?;
            let rid = r.header("x-request-id").ok_or("no X-Request-Id")?;
            let body = json_object(r)?;
            expect(keys(&body) == ["code", "message", "request_id"], || {
                format!("members: {}", r.summary())
            })?;
            expect(body["code"] == code, || {
                format!("code ≠ {code}: {}", r.summary())
            })?;
            expect(body["message"] == aries_message(code), || {
                format!("message: {}", r.summary())
            })?;
            expect(body["request_id"] == rid, || {
                format!("request_id ≠ header: {}", r.summary())
            })
        }
        Want::AriesPlain404 => {
            status_is(404)?;
            content_type("text/plain; charset=utf-8")?;
            expect(
                r.header("x-request-id").is_some_and(|v| !v.is_empty()),
                || "no X-Request-Id".into(),
            )?;
            expect(r.body == b"404 page not found", || {
                format!("body: {}", r.summary())
            })
        }
        Want::JdSystem(status, code) => {
            status_is(status)?;
            jd_envelope(r)?;
            let body = json_object(r)?;
            expect(body["code"] == code, || {
                format!("code ≠ {code}: {}", r.summary())
            })?;
            expect(
                keys(&body) == ["charge", "code", "msg", "remainSeconds", "remainTimes"],
                || format!("a system error has no result: {}", r.summary()),
            )?;
            expect(body["msg"].as_str().is_some_and(|m| !m.is_empty()), || {
                format!("msg: {}", r.summary())
            })
        }
        Want::JdBusiness(number, name) => {
            status_is(200)?;
            jd_envelope(r)?;
            let body = json_object(r)?;
            expect(body["code"] == "10000", || {
                format!("not a 10000 envelope: {}", r.summary())
            })?;
            let result = body["result"]
                .as_object()
                .ok_or_else(|| format!("no result: {}", r.summary()))?;
            let key = if result.contains_key("status_code") {
                "status_code"
            } else {
                "code"
            };
            expect(
                result.len() == 2
                    && result[key].as_u64() == Some(u64::from(number))
                    && result["message"] == name,
                || format!("result ≠ {number} {name}: {}", r.summary()),
            )
        }
        Want::Ali(status, code) => {
            status_is(status)?;
            content_type("application/json;charset=utf-8")?;
            let rid = r.header("x-acs-request-id").ok_or("no x-acs-request-id")?;
            let body = json_object(r)?;
            expect(
                keys(&body) == ["Code", "HostId", "Message", "Recommend", "RequestId"],
                || format!("members: {}", r.summary()),
            )?;
            expect(body["Code"] == code, || {
                format!("Code ≠ {code}: {}", r.summary())
            })?;
            expect(body["RequestId"] == rid, || {
                format!("RequestId ≠ header: {}", r.summary())
            })?;
            expect(
                body["Message"].as_str().is_some_and(|m| !m.is_empty()),
                || format!("Message: {}", r.summary()),
            )?;
            expect(body["HostId"].is_string(), || {
                format!("HostId: {}", r.summary())
            })?;
            expect(
                body["Recommend"]
                    .as_str()
                    .is_some_and(|s| s.contains(&format!("q={code}&product=ImageSearch"))),
                || format!("Recommend: {}", r.summary()),
            )
        }
        Want::HwIms(status, code) => {
            status_is(status)?;
            hw_request_id(r)?;
            content_type("application/json;charset=UTF-8")?;
            let body = json_object(r)?;
            let error = body.get("error").and_then(Value::as_object);
            expect(
                body.len() == 1
                    && error.is_some_and(|e| {
                        e.len() == 2
                            && e["code"] == code
                            && e["message"].as_str().is_some_and(|m| !m.is_empty())
                    }),
                || format!("not IMS {code}: {}", r.summary()),
            )
        }
        Want::HwGateway(status, code) => {
            status_is(status)?;
            hw_gateway(r, code).map(|_| ())
        }
        Want::HwAuth(detail) => {
            status_is(401)?;
            let msg = hw_gateway(r, "APIGW.0301")?;
            expect(
                msg == format!("Incorrect IAM authentication information: {detail}"),
                || format!("error_msg {msg:?} lacks {detail:?}"),
            )
        }
        Want::HyperOrClose => {
            let vendor_id = ["x-request-id", "x-jdcloud-request-id", "x-acs-request-id"]
                .iter()
                .any(|h| r.header(h).is_some());
            expect(
                (400..500).contains(&r.status) && !vendor_id && r.body.is_empty(),
                || format!("not hyper's own 4xx: {}", r.summary()),
            )
        }
    }
}

fn jd_envelope(r: &Resp) -> Result<(), String> {
    let rid = r.header("x-jdcloud-request-id").unwrap_or("");
    expect(is_hex32(rid, lower_alnum), || {
        format!("x-jdcloud-request-id {rid:?}")
    })?;
    expect(
        r.header("content-type") == Some("application/json;charset=UTF-8"),
        || format!("content-type {:?}", r.header("content-type")),
    )?;
    let body = json_object(r)?;
    expect(
        body["charge"] == false && body["remainSeconds"] == -1 && body["remainTimes"].is_u64(),
        || format!("envelope: {}", r.summary()),
    )
}

fn hw_request_id(r: &Resp) -> Result<&str, String> {
    let rid = r.header("x-request-id").unwrap_or("");
    expect(is_hex32(rid, lower_hex), || format!("X-Request-Id {rid:?}"))?;
    Ok(rid)
}

fn hw_gateway(r: &Resp, code: &str) -> Result<String, String> {
    let rid = hw_request_id(r)?;
    let body = json_object(r)?;
    expect(
        keys(&body) == ["error_code", "error_msg", "request_id"],
        || format!("members: {}", r.summary()),
    )?;
    expect(body["error_code"] == code, || {
        format!("error_code ≠ {code}: {}", r.summary())
    })?;
    expect(body["request_id"] == rid, || {
        format!("request_id ≠ header: {}", r.summary())
    })?;
    Ok(body["error_msg"].as_str().unwrap_or_default().to_string())
}

fn check(case: &Case, outcome: &Outcome) -> Result<(), String> {
    match outcome {
        Outcome::Hung(partial) => Err(format!(
            "hang: no answer and no close within 20 s (got {:?})",
            String::from_utf8_lossy(&partial[..partial.len().min(200)])
        )),
        Outcome::Closed(partial) => {
            expect(case.may_close || case.want == Want::HyperOrClose, || {
                format!(
                    "closed without an answer (got {:?})",
                    String::from_utf8_lossy(&partial[..partial.len().min(200)])
                )
            })
        }
        Outcome::Answered(r) if r.status >= 500 => Err(format!("5xx: {}", r.summary())),
        Outcome::Answered(r) => check_native(case.want, r),
    }
}

// ----- the runner -------------------------------------------------------------------------------

/// Panics on the runtime's worker threads, where the emulator's connection tasks run (a test's own
/// assertion panics happen on the test thread and are not counted).
static EMULATOR_PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_emulator_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("tokio-"))
            {
                EMULATOR_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

async fn emulator() -> Emulator {
    count_emulator_panics();
    Emulator::builder()
        .manual_clock()
        .start()
        .await
        .expect("emulator starts")
}

/// Runs a table, then checks the emulator is healthy, still serves a normal request and kept its
/// fixtures. Returns the number of cases.
async fn run_table(emu: &Emulator, vendor: Vendor, cases: Vec<Case>) -> usize {
    let mut failures = Vec::new();
    for case in &cases {
        // Alibaba's flow control windows are on the (frozen) emulator clock: open a new one.
        emu.clock()
            .advance(Duration::from_secs(2))
            .expect("clock advances");
        let head = request_head(emu, vendor, case);
        let outcome = exchange(emu.addr(), head, case.body.clone()).await;
        let verdict = check(case, &outcome);
        if let Err(why) = verdict {
            failures.push(format!("{vendor:?} | {} | {why}", case.label));
        }
    }
    assert_healthy(emu, vendor).await;
    assert_eq!(
        EMULATOR_PANICS.load(Ordering::SeqCst),
        0,
        "an emulator task panicked (see the panic message above)"
    );
    assert!(
        failures.is_empty(),
        "{} of {} {vendor:?} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}

async fn assert_healthy(emu: &Emulator, vendor: Vendor) {
    let health = reqwest::get(format!("{}/_imgemu/health", emu.url()))
        .await
        .expect("health answers");
    assert_eq!(health.status(), 200, "health after the {vendor:?} table");
    match vendor {
        Vendor::Aries => {
            let got = common::Aries::new(emu).describe(1).await;
            assert_eq!(got.status, 200, "{}", got.text);
            let image = got.json();
            assert_eq!(image["name"], "CentOS-7.9-x64", "{}", got.text);
            assert_eq!(image["updated_at"], "2024-03-20T10:30:00Z", "{}", got.text);
            let list = common::Aries::new(emu).list("").await;
            assert_eq!(
                list.json().as_array().map(Vec::len),
                Some(3),
                "{}",
                list.text
            );
        }
        Vendor::Jd => {
            let got = JdClient::dev(emu).get("collection_list", None).await;
            let result = common::jd::result(&got);
            assert_eq!(result["status_code"], 0, "{}", got.text);
            let food = result["collection_list"]
                .as_array()
                .and_then(|l| l.iter().find(|c| c["collection_name"] == "food"))
                .cloned()
                .unwrap_or_default();
            assert_eq!(food["indexed_image_count"], 3, "{}", got.text);
            let info = JdClient::dev(emu)
                .post(
                    "product_image_info",
                    &serde_json::json!({"collection_name":"shop","product_id":"65337027695"}),
                )
                .await;
            let images = common::jd::result(&info)["image_list"].clone();
            assert_eq!(images.as_array().map(Vec::len), Some(2), "{}", info.text);
        }
        Vendor::Aliyun => {
            emu.clock().advance(Duration::from_secs(2)).unwrap();
            let got = AliClient::dev(emu)
                .on_demo(
                    "CheckImageExists",
                    &[("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")],
                )
                .await;
            let body = common::aliyun::ok(&got);
            assert_eq!(body["Exists"], true, "{}", got.text);
            assert_eq!(body["Auctions"]["IntAttr"], 2, "{}", got.text);
            let detail = AliClient::dev(emu).on_demo("Detail", &[]).await;
            assert_eq!(
                common::aliyun::ok(&detail)["Instance"]["TotalCount"],
                5,
                "{}",
                detail.text
            );
        }
        Vendor::Huawei => {
            let got = HwClient::dev(emu).show(SEED_IMAGE).await;
            assert_eq!(got.status, 200, "{}", got.text);
            let image = got.json();
            assert_eq!(image["name"], "ims_test", "{}", got.text);
            assert_eq!(image["min_ram"], 0, "{}", got.text);
            assert!(image.get("max_ram").is_none(), "{}", got.text);
            let list = HwClient::dev(emu).list("__imagetype=private").await;
            assert_eq!(
                list.json()["images"].as_array().map(Vec::len),
                Some(1),
                "no image was created: {}",
                list.text
            );
        }
    }
}

fn assert_unique_labels(vendor: Vendor, cases: &[Case]) {
    let mut seen = HashSet::new();
    for c in cases {
        assert!(
            seen.insert(c.label.as_str()),
            "{vendor:?}: duplicate label {:?}",
            c.label
        );
    }
}

// ----- the tests --------------------------------------------------------------------------------

#[test]
fn the_matrix_holds_at_least_200_cases() {
    let tables = [
        (Vendor::Aries, aries_cases()),
        (Vendor::Jd, jd_cases()),
        (Vendor::Aliyun, ali_cases()),
        (Vendor::Huawei, hw_cases()),
    ];
    for (vendor, cases) in &tables {
        assert_unique_labels(*vendor, cases);
        assert!(
            cases.len() >= 50,
            "{vendor:?} has only {} cases",
            cases.len()
        );
    }
    let counts: Vec<(Vendor, usize)> = tables.iter().map(|(v, c)| (*v, c.len())).collect();
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    assert!(total >= 200, "only {total} hostile cases: {counts:?}");
    println!("hostile cases: {total} in all, {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aries_refuses_hostile_input_natively() {
    let emu = emulator().await;
    let n = run_table(&emu, Vendor::Aries, aries_cases()).await;
    assert!(n >= 50, "{n} Aries cases");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jd_refuses_hostile_input_natively() {
    let emu = emulator().await;
    let n = run_table(&emu, Vendor::Jd, jd_cases()).await;
    assert!(n >= 50, "{n} JD cases");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_refuses_hostile_input_natively() {
    let emu = emulator().await;
    let n = run_table(&emu, Vendor::Aliyun, ali_cases()).await;
    assert!(n >= 50, "{n} Alibaba cases");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_refuses_hostile_input_natively() {
    let emu = emulator().await;
    let n = run_table(&emu, Vendor::Huawei, hw_cases()).await;
    assert!(n >= 50, "{n} Huawei cases");
}
