//! The scenarios: one update and one cheap read per vendor, as raw HTTP/1.1 request bytes built
//! (and, where the vendor signs, signed) before the timed run.
//!
//! Every scenario targets an image of the default fixtures. JD and Alibaba refuse a replayed nonce
//! in strict mode, so their strict requests are signed once per request sent ([`Scenario::replayable`]
//! is false); Huawei's scheme has no nonce and Aries uses a bearer token, so one request is reused.

use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use sha2::Digest;

/// The dev access key of JD, Alibaba and Huawei.
pub const DEV_AK: &str = "imgemu-dev-ak";
/// Its secret.
pub const DEV_SK: &str = "imgemu-dev-sk";
/// The Huawei dev project.
pub const HW_PROJECT: &str = "0b1e494e2660441a957313163095fe5c";
/// The Huawei seed image of the dev project.
pub const HW_IMAGE: &str = "33ad552d-1149-471c-8190-ff6776174a00";

/// What a scenario sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `POST /jdai/image_update` of one image's info in collection `food`.
    JdUpdate,
    /// `POST /jdai/image_fetch` of one image in `food`.
    JdFetch,
    /// Action `UpdateImage` of `2092061_1`/`namexxx.jpg` on `demoinstance1`.
    AliUpdate,
    /// Action `CheckImageExists` of the same image.
    AliCheck,
    /// `PATCH /v2/cloudimages/{seed image}` replacing `/name`.
    HwUpdate,
    /// `GET /v2/images/{seed image}`.
    HwShow,
    /// `PUT /aries/api/v1/image` of image 1's description.
    AriesUpdate,
    /// `GET /aries/api/v1/image/1`.
    AriesDescribe,
}

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Scenario; 8] = [
        Scenario::JdUpdate,
        Scenario::JdFetch,
        Scenario::AliUpdate,
        Scenario::AliCheck,
        Scenario::HwUpdate,
        Scenario::HwShow,
        Scenario::AriesUpdate,
        Scenario::AriesDescribe,
    ];

    /// The name shown in tables and matched by `--scenario`.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::JdUpdate => "jd image_update",
            Scenario::JdFetch => "jd image_fetch",
            Scenario::AliUpdate => "aliyun UpdateImage",
            Scenario::AliCheck => "aliyun CheckImageExists",
            Scenario::HwUpdate => "huawei UpdateImage",
            Scenario::HwShow => "huawei GlanceShowImage",
            Scenario::AriesUpdate => "aries UpdateImage",
            Scenario::AriesDescribe => "aries DescribeImage",
        }
    }

    /// Whether one signed request may be sent again and again in strict mode.
    pub fn replayable(self) -> bool {
        !matches!(
            self,
            Scenario::JdUpdate | Scenario::JdFetch | Scenario::AliUpdate | Scenario::AliCheck
        )
    }

    /// One request, signed with the dev credentials at `now` (nonce `nonce`), for `addr`.
    pub fn request(self, addr: SocketAddr, now: time::OffsetDateTime, nonce: u64) -> Bytes {
        let host = addr.to_string();
        match self {
            Scenario::JdUpdate => jd(
                &host,
                "/jdai/image_update",
                br#"{"collection_name":"food","docs":[{"image_name":"Green_tea_v2","info":"{\"price\":\"9.0\"}"}]}"#,
                now,
                nonce,
            ),
            Scenario::JdFetch => jd(
                &host,
                "/jdai/image_fetch",
                br#"{"collection_name":"food","image_names":["Milk_salt_soda_v1"]}"#,
                now,
                nonce,
            ),
            Scenario::AliUpdate => aliyun(
                &host,
                "UpdateImage",
                b"InstanceName=demoinstance1&ProductId=2092061_1&PicName=namexxx.jpg&StrAttr=red",
                now,
                nonce,
            ),
            Scenario::AliCheck => aliyun(
                &host,
                "CheckImageExists",
                b"InstanceName=demoinstance1&ProductId=2092061_1&PicName=namexxx.jpg",
                now,
                nonce,
            ),
            Scenario::HwUpdate => huawei(
                &host,
                "PATCH",
                &format!("/v2/cloudimages/{HW_IMAGE}"),
                br#"[{"op":"replace","path":"/name","value":"ubuntu-base"}]"#,
                now,
            ),
            Scenario::HwShow => huawei(&host, "GET", &format!("/v2/images/{HW_IMAGE}"), b"", now),
            Scenario::AriesUpdate => raw(
                "PUT",
                "/aries/api/v1/image",
                &[
                    ("host", host.as_str()),
                    ("authorization", "Bearer imgemu-dev-token"),
                    ("content-type", "application/json"),
                ],
                br#"{"id":1,"description":"CentOS 7.9 bench"}"#,
            ),
            Scenario::AriesDescribe => raw(
                "GET",
                "/aries/api/v1/image/1",
                &[
                    ("host", host.as_str()),
                    ("authorization", "Bearer imgemu-dev-token"),
                ],
                b"",
            ),
        }
    }
}

/// The request the bare server gets: a small JSON POST with a head of the size of a signed
/// vendor request (about 400 bytes).
pub fn bare_request(addr: SocketAddr) -> Bytes {
    let host = addr.to_string();
    raw(
        "POST",
        "/bare",
        &[
            ("host", host.as_str()),
            ("content-type", "application/json"),
            ("x-bench-date", "20260101T000000Z"),
            ("x-bench-nonce", "00000000-0000-4000-8000-000000000000"),
            ("authorization", "Bench Credential=imgemu-dev-ak/20260101/bench/bench_request, SignedHeaders=content-type;host;x-bench-date;x-bench-nonce, Signature=0000000000000000000000000000000000000000000000000000000000000000"),
        ],
        br#"{"collection_name":"food","image_names":["Milk_salt_soda_v1"]}"#,
    )
}

/// Serialises a request: request line, the headers in order, `content-length` when there is a
/// body (or the method usually has one), then the body.
pub fn raw(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Bytes {
    let mut head = String::with_capacity(512);
    let _ = write!(head, "{method} {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        let _ = write!(head, "content-length: {}\r\n", body.len());
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    Bytes::from(out)
}

fn header_pairs(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn as_refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// `YYYYMMDDTHHMMSSZ`, the date of JDCLOUD2 and SDK-HMAC-SHA256.
pub fn compact_date(at: time::OffsetDateTime) -> String {
    imgemu::clock::format_compact(at)
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// A JDCLOUD2-signed POST, as the official client signs it.
fn jd(host: &str, path: &str, body: &[u8], now: time::OffsetDateTime, nonce: u64) -> Bytes {
    use imgemu::vendors::jd::sign::{sign, RawRequest};
    const SIGNED: &str = "content-type;host;x-jdcloud-date;x-jdcloud-nonce";
    let date = compact_date(now);
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("host", value(host));
    h.insert("x-jdcloud-date", value(&date));
    h.insert("x-jdcloud-nonce", value(&format!("bench-{nonce:016x}")));
    let req = RawRequest {
        method: "POST",
        path,
        query: None,
        headers: &h,
        body,
    };
    let signature = sign(
        &req,
        (&date[..8], "jdcloud-api", "simpleclient"),
        SIGNED,
        DEV_SK,
    );
    let auth = format!(
        "JDCLOUD2-HMAC-SHA256 Credential={DEV_AK}/{}/jdcloud-api/simpleclient/jdcloud2_request, SignedHeaders={SIGNED}, Signature={signature}",
        &date[..8]
    );
    h.insert("authorization", value(&auth));
    raw("POST", path, &as_refs(&header_pairs(&h)), body)
}

/// An ACS3-HMAC-SHA256-signed form POST on `/`, as tea-openapi signs it.
fn aliyun(host: &str, action: &str, body: &[u8], now: time::OffsetDateTime, nonce: u64) -> Bytes {
    use imgemu::vendors::aliyun::sign::{sign_v3, V3Request};
    const SIGNED: &str = "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    h.insert("host", value(host));
    h.insert("x-acs-action", value(action));
    h.insert("x-acs-version", HeaderValue::from_static("2020-12-14"));
    h.insert("x-acs-date", value(&imgemu::clock::format_seconds(now)));
    h.insert(
        "x-acs-signature-nonce",
        value(&format!("bench-{nonce:016x}")),
    );
    h.insert(
        "x-acs-content-sha256",
        value(&hex::encode(sha2::Sha256::digest(body))),
    );
    let req = V3Request {
        method: "POST",
        query: None,
        headers: &h,
        body,
    };
    let signature = sign_v3(&req, SIGNED, DEV_SK);
    let auth = format!(
        "ACS3-HMAC-SHA256 Credential={DEV_AK},SignedHeaders={SIGNED},Signature={signature}"
    );
    h.insert("authorization", value(&auth));
    raw("POST", "/", &as_refs(&header_pairs(&h)), body)
}

/// An SDK-HMAC-SHA256-signed request, as huaweicloudsdkcore signs it.
fn huawei(host: &str, method: &str, path: &str, body: &[u8], now: time::OffsetDateTime) -> Bytes {
    use imgemu::vendors::huawei::sign::{sign, RawRequest};
    const SIGNED: &str = "content-type;host;x-project-id;x-sdk-date";
    let mut h = HeaderMap::new();
    let ct = if body.is_empty() {
        "application/json"
    } else {
        "application/json;charset=utf-8"
    };
    h.insert("content-type", HeaderValue::from_static(ct));
    h.insert("host", value(host));
    h.insert("x-project-id", HeaderValue::from_static(HW_PROJECT));
    h.insert("x-sdk-date", value(&compact_date(now)));
    let req = RawRequest {
        method,
        path,
        query: None,
        headers: &h,
        body,
    };
    let signature = sign(&req, SIGNED, DEV_SK);
    let auth =
        format!("SDK-HMAC-SHA256 Access={DEV_AK}, SignedHeaders={SIGNED}, Signature={signature}");
    h.insert("authorization", value(&auth));
    raw(method, path, &as_refs(&header_pairs(&h)), body)
}
