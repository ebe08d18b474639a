//! Huawei Cloud `SDK-HMAC-SHA256` (API gateway AK/SK) request signatures (spec `huawei.md` §5.2):
//! parsing the `Authorization` header, verifying a received request against a secret key, a
//! reference signer for tests, and the `X-Sdk-Date` format.
//!
//! The algorithm: CanonicalRequest = `METHOD\nURI\nQUERY\nHEADERS\nSIGNEDHEADERS\nHASH`, where
//! URI is the percent-decoded path re-encoded segment by segment with a trailing `/`, QUERY the
//! decoded pairs sorted and re-encoded, HEADERS `name:value\n` per `SignedHeaders` name in the
//! given order, and HASH the body's SHA-256 (or the `X-Sdk-Content-Sha256` value, e.g.
//! `UNSIGNED-PAYLOAD`); StringToSign =
//! `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex SHA-256(CanonicalRequest)>`; the signature is the hex
//! HMAC-SHA256 of the StringToSign keyed with the secret key's bytes.
//!
//! This module owns only the algorithm. Auth modes, the credential registry, the tenant (project
//! id) and the `X-Sdk-Date` skew window belong to the caller, as does answering with the gateway's
//! error codes.
//!
//! Canonicalisation is byte-oriented: header values that are not UTF-8 and percent escapes that
//! decode to invalid UTF-8 are hashed as they are, so no input can panic. Signatures are compared
//! in constant time.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{percent_decode, percent_encode};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::signing::{keyed, UNRESERVED};

/// The authorization scheme, also the first line of the string to sign.
const SCHEME: &str = "SDK-HMAC-SHA256";
/// The request time header; its value is the second line of the string to sign.
const DATE_HEADER: &str = "x-sdk-date";
/// A client-supplied payload hash (`UNSIGNED-PAYLOAD` from the SDK) that replaces the body hash.
const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
/// The payload hash of an empty body, whatever `X-Sdk-Content-Sha256` says.
const EMPTY_BODY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Longest CanonicalHeaders block built. A request head is far smaller unless `SignedHeaders`
/// repeats the names of large headers, which would otherwise multiply memory use.
const MAX_CANONICAL_HEADERS: usize = 1024 * 1024;
/// Length of a hex HMAC-SHA256.
const SIGNATURE_LEN: usize = 64;
/// Length of an `X-Sdk-Date` value, `YYYYMMDDThhmmssZ`.
const SDK_DATE_LEN: usize = 16;

/// HMAC-SHA256, the only MAC of this scheme.
type HmacSha256 = Hmac<Sha256>;

/// What a well-formed `Authorization: SDK-HMAC-SHA256 …` header says (spec §5.1, §5.2 step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The access key (AK): the `Access=` value.
    pub access_key: String,
    /// The `SignedHeaders=` value exactly as sent (`;`-separated names, lower-case from the SDK).
    pub signed_headers: String,
    /// The `Signature=` value as sent; not checked to be hex until verification.
    pub signature: String,
}

/// Why an `Authorization` value is refused or a request's signature does not verify.
///
/// [`SignError::MissingDate`] is the caller's "`x-sdk-date` not found or invalid"; every other
/// variant is "verify aksk signature fail" (spec §5.5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The value does not start with the `SDK-HMAC-SHA256` scheme (e.g. `SDK-HMAC-SM3`,
    /// `V11-HMAC-SHA256`, `Bearer`).
    #[error("the Authorization scheme is not SDK-HMAC-SHA256")]
    Scheme,
    /// The scheme is right but the fields are not `Access=…, SignedHeaders=…, Signature=…`; the
    /// message names what is wrong.
    #[error("malformed Authorization: {0}")]
    Malformed(&'static str),
    /// The request has no (non-empty) `X-Sdk-Date` header.
    #[error("the request has no X-Sdk-Date header")]
    MissingDate,
    /// A name listed in `SignedHeaders` is not a header of the request.
    #[error("signed header `{0}` is not in the request")]
    MissingSignedHeader(String),
    /// CanonicalHeaders would exceed 1 MiB, which only repeating the names of large headers in
    /// `SignedHeaders` can cause; refused before anything is built or hashed.
    #[error("the signed headers exceed 1 MiB")]
    HeadersTooLarge,
    /// The signature is not the HMAC of the request's StringToSign (or is not 64 hex digits).
    #[error("the signature does not match the request")]
    BadSignature,
}

/// A received request as the signature sees it: nothing decoded, nothing normalised.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// The request method as sent, e.g. `PATCH`; signed as it is (the SDK sends upper case).
    pub method: &'a str,
    /// The path of the request line exactly as sent (not percent-decoded).
    pub path: &'a str,
    /// The raw query string without `?`; `None` and `Some("")` canonicalise alike.
    pub query: Option<&'a str>,
    /// The request headers as received, `Host` included.
    pub headers: &'a HeaderMap,
    /// The raw body bytes.
    pub body: &'a [u8],
}

/// Parses an `Authorization` header value (spec §5.2 step 1):
/// `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<h1;h2;…>, Signature=<hex>`.
///
/// Tolerated: surrounding spaces and tabs, any number of them (or none) after the scheme and
/// around each comma, and the three fields in any order. Refused as [`SignError::Scheme`]: any
/// other scheme, compared case-sensitively (`SDK-HMAC-SHA256-X` included). Refused as
/// [`SignError::Malformed`]: a field missing, repeated, unknown, not `name=value`, empty or
/// containing whitespace. The signature is not checked to be hex.
pub fn parse_authorization(value: &str) -> Result<Authorization, SignError> {
    let after_scheme = value
        .trim_matches(is_blank)
        .strip_prefix(SCHEME)
        .ok_or(SignError::Scheme)?;
    let fields = after_scheme.trim_start_matches(is_blank);
    if after_scheme.starts_with(is_token_char) && !starts_with_field(after_scheme) {
        // `SDK-HMAC-SHA256X …`: a longer scheme name, not this one.
        return Err(SignError::Scheme);
    }
    if fields.is_empty() {
        return Err(SignError::Malformed("no fields after the scheme"));
    }
    let (mut access, mut signed_headers, mut signature) = (None, None, None);
    for field in fields.split(',') {
        let (name, value) = field
            .trim_matches(is_blank)
            .split_once('=')
            .ok_or(SignError::Malformed("a field is not name=value"))?;
        let slot = match name {
            "Access" => &mut access,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(SignError::Malformed("unknown field")),
        };
        if slot.replace(value).is_some() {
            return Err(SignError::Malformed("repeated field"));
        }
    }
    let access_key = access
        .filter(|ak| is_word(ak))
        .ok_or(SignError::Malformed("no valid Access"))?;
    let signed_headers = signed_headers
        .filter(|names| is_word(names))
        .ok_or(SignError::Malformed("no valid SignedHeaders"))?;
    let signature = signature
        .filter(|sig| is_word(sig))
        .ok_or(SignError::Malformed("no valid Signature"))?;
    Ok(Authorization {
        access_key: access_key.to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
    })
}

/// Verifies the signature of `req` against `auth` and `secret_key` (spec §5.2 steps 2–8).
///
/// Needs an `X-Sdk-Date` header (its format is the caller's to check, see [`is_sdk_date`]) and
/// every header named in `auth.signed_headers`. The signature is compared in constant time and
/// accepted in either hex case. `auth.access_key` is not consulted.
pub fn verify(
    req: &RawRequest<'_>,
    auth: &Authorization,
    secret_key: &str,
) -> Result<(), SignError> {
    let string_to_sign = string_to_sign(req, &auth.signed_headers)?;
    let sent = (auth.signature.len() == SIGNATURE_LEN)
        .then(|| hex::decode(&auth.signature).ok())
        .flatten()
        .ok_or(SignError::BadSignature)?;
    let mut mac = keyed::<HmacSha256, Sha256>(secret_key.as_bytes());
    mac.update(&string_to_sign);
    mac.verify_slice(&sent).map_err(|_| SignError::BadSignature)
}

/// Signs `req` as `huaweicloudsdkcore` does and returns the lower-case hex signature: the
/// reference signer for building valid requests.
///
/// `signed_headers` is the `SignedHeaders` value to send (the SDK lists every header it set,
/// lower-case and sorted); `req` must already carry those headers and `X-Sdk-Date`. Returns an
/// empty string, which [`parse_authorization`] never accepts as a signature, when a signed header
/// or `X-Sdk-Date` is missing or the signed headers exceed 1 MiB.
pub fn sign(req: &RawRequest<'_>, signed_headers: &str, secret_key: &str) -> String {
    let Ok(string_to_sign) = string_to_sign(req, signed_headers) else {
        return String::new();
    };
    let mut mac = keyed::<HmacSha256, Sha256>(secret_key.as_bytes());
    mac.update(&string_to_sign);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `value` has the `X-Sdk-Date` shape `YYYYMMDDThhmmssZ` (`^\d{8}T\d{6}Z$`, ASCII digits),
/// without checking that it names a real instant.
pub fn is_sdk_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == SDK_DATE_LEN
        && bytes.iter().enumerate().all(|(i, &byte)| match i {
            8 => byte == b'T',
            15 => byte == b'Z',
            _ => byte.is_ascii_digit(),
        })
}

/// The UTC instant an `X-Sdk-Date` value names; `None` unless [`is_sdk_date`] holds and the
/// fields form a real date and time (no month 13, no second 60).
pub fn parse_sdk_date(value: &str) -> Option<OffsetDateTime> {
    if !is_sdk_date(value) {
        return None;
    }
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(value, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// StringToSign (spec §5.2 step 7).
fn string_to_sign(req: &RawRequest<'_>, signed_headers: &str) -> Result<Vec<u8>, SignError> {
    let date = header_value(req.headers, DATE_HEADER)
        .filter(|date| !date.is_empty())
        .ok_or(SignError::MissingDate)?;
    let request_hash = hex::encode(Sha256::digest(canonical_request(req, signed_headers)?));
    let mut out = Vec::with_capacity(SCHEME.len() + date.len() + request_hash.len() + 2);
    for part in [
        SCHEME.as_bytes(),
        b"\n",
        date,
        b"\n",
        request_hash.as_bytes(),
    ] {
        out.extend_from_slice(part);
    }
    Ok(out)
}

/// CanonicalRequest (spec §5.2 step 6): method, URI, query, CanonicalHeaders (ends in `\n`),
/// SignedHeaders and payload hash, joined with `\n`.
fn canonical_request(req: &RawRequest<'_>, signed_headers: &str) -> Result<Vec<u8>, SignError> {
    let headers = canonical_headers(req.headers, signed_headers)?;
    let uri = canonical_uri(req.path);
    let query = canonical_query(req.query.unwrap_or_default());
    let payload_hash = payload_hash(req);
    let mut out = Vec::with_capacity(
        req.method.len()
            + uri.len()
            + query.len()
            + headers.len()
            + signed_headers.len()
            + payload_hash.len()
            + 5,
    );
    for part in [
        req.method.as_bytes(),
        b"\n",
        uri.as_bytes(),
        b"\n",
        query.as_bytes(),
        b"\n",
        &headers,
        b"\n",
        signed_headers.as_bytes(),
        b"\n",
        &payload_hash,
    ] {
        out.extend_from_slice(part);
    }
    Ok(out)
}

/// CanonicalURI (spec §5.2 step 2): the path percent-decoded (so `%2F` becomes a separator, as in
/// the SDK), split on `/`, each segment percent-encoded with only `A–Z a–z 0–9 - _ . ~` left
/// bare, rejoined with `/`, plus a trailing `/` if absent.
fn canonical_uri(path: &str) -> String {
    let decoded: Vec<u8> = percent_decode(path.as_bytes()).collect();
    let mut out = String::with_capacity(decoded.len().saturating_mul(3).saturating_add(1));
    for (i, segment) in decoded.split(|&byte| byte == b'/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(percent_encode(segment, UNRESERVED));
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// CanonicalQueryString (spec §5.2 step 3): each `&`-separated piece (empty pieces skipped) split
/// at its first `=` (none: empty value), name and value percent-decoded (`+` stays `+`), sorted
/// by name then value as bytes, re-encoded as in [`canonical_uri`] and joined as `name=value`
/// with `&`.
fn canonical_query(raw: &str) -> String {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = raw
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (
                percent_decode(name.as_bytes()).collect(),
                percent_decode(value.as_bytes()).collect(),
            )
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw.len().saturating_mul(3));
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(percent_encode(name, UNRESERVED));
        out.push('=');
        out.extend(percent_encode(value, UNRESERVED));
    }
    out
}

/// CanonicalHeaders (spec §5.2 step 4): per `SignedHeaders` name in the order given (the name as
/// written there), `name:` + the first value of that header, trimmed, + `\n`. `host` is the value
/// as sent, port included.
fn canonical_headers(headers: &HeaderMap, signed_headers: &str) -> Result<Vec<u8>, SignError> {
    let mut block = Vec::new();
    for name in signed_headers.split(';') {
        let value = header_value(headers, name)
            .ok_or_else(|| SignError::MissingSignedHeader(name.to_owned()))?;
        let size = name.len() + value.len() + 2;
        if block.len().saturating_add(size) > MAX_CANONICAL_HEADERS {
            return Err(SignError::HeadersTooLarge);
        }
        block.extend_from_slice(name.as_bytes());
        block.push(b':');
        block.extend_from_slice(value);
        block.push(b'\n');
    }
    Ok(block)
}

/// The payload hash (spec §5.2 step 5): the empty-body hash for an empty body; else a non-empty
/// `X-Sdk-Content-Sha256` value as sent (the SDK's `UNSIGNED-PAYLOAD`; an empty value counts as
/// absent, as in the SDK); else the hex SHA-256 of the body.
fn payload_hash(req: &RawRequest<'_>) -> Vec<u8> {
    if req.body.is_empty() {
        return EMPTY_BODY_SHA256.as_bytes().to_vec();
    }
    match header_value(req.headers, CONTENT_SHA256_HEADER).filter(|sent| !sent.is_empty()) {
        Some(sent) => sent.to_vec(),
        None => hex::encode(Sha256::digest(req.body)).into_bytes(),
    }
}

/// The first value of header `name` (any case; `None` when absent or not a valid name), without
/// surrounding ASCII whitespace.
fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(|value| value.as_bytes().trim_ascii())
}

/// Whether `text` (what follows the scheme) starts directly with a known field name.
fn starts_with_field(text: &str) -> bool {
    ["Access=", "SignedHeaders=", "Signature="]
        .iter()
        .any(|field| text.starts_with(field))
}

/// A character that may continue a scheme name.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A non-empty run without whitespace.
fn is_word(text: &str) -> bool {
    !text.is_empty() && !text.contains(char::is_whitespace)
}

/// Space or tab, the blanks tolerated around the `Authorization` fields.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderName, HeaderValue};

    /// The SDK vectors, from the main repo's sibling `shared/` checkout.
    const VECTORS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/signed-requests.json"
    );
    /// The secret key the SDK vectors were signed with.
    const DEV_SK: &str = "imgemu-dev-sk";
    /// The access key the SDK vectors name.
    const DEV_AK: &str = "imgemu-dev-ak";
    /// What the SDK signs on every request it sends.
    const SDK_SIGNED: &str = "content-type;host;user-agent;x-project-id;x-sdk-date";
    /// The dev project id, sent as `X-Project-Id`.
    const DEV_PROJECT: &str = "0b1e494e2660441a957313163095fe5c";

    /// A header map from `(name, value)` pairs, repeats kept.
    fn header_map<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_ref()).unwrap(),
                HeaderValue::from_bytes(value.as_ref()).unwrap(),
            );
        }
        headers
    }

    /// The headers the SDK sends, with `content_type` (`X-Sdk-Content-Sha256` not included).
    fn sdk_headers(content_type: &str) -> Vec<(String, String)> {
        [
            ("Content-Type", content_type),
            ("X-Project-Id", DEV_PROJECT),
            ("User-Agent", "huaweicloud-usdk-python/3.0"),
            ("X-Sdk-Date", "20261122T050218Z"),
            ("Host", "127.0.0.1:18111"),
        ]
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
    }

    /// An `Authorization` header value in the SDK's layout.
    fn header_value(ak: &str, signed: &str, signature: &str) -> String {
        format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders={signed}, Signature={signature}")
    }

    // ----- requests ------------------------------------------------------------------------------

    /// One signed request: captured from the SDK, or built by a test.
    #[derive(Clone, Debug)]
    struct Vector {
        label: String,
        method: String,
        path: String,
        query: Option<String>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Vector {
        /// A request from a method, a request target (path and query) and headers.
        fn new(
            label: &str,
            method: &str,
            target: &str,
            headers: Vec<(String, String)>,
            body: &[u8],
        ) -> Self {
            let (path, query) = match target.split_once('?') {
                Some((path, query)) => (path, Some(query.to_owned())),
                None => (target, None),
            };
            Self {
                label: label.to_owned(),
                method: method.to_owned(),
                path: path.to_owned(),
                query,
                headers,
                body: body.to_vec(),
            }
        }

        /// The first `Authorization` value.
        fn authorization(&self) -> &str {
            self.header("authorization").unwrap()
        }

        /// The first value of header `name`, any case.
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }

        /// Runs `f` on the request as the verifier sees it.
        fn with_request<T>(&self, f: impl FnOnce(&RawRequest<'_>) -> T) -> T {
            let headers = header_map(&self.headers);
            f(&RawRequest {
                method: &self.method,
                path: &self.path,
                query: self.query.as_deref(),
                headers: &headers,
                body: &self.body,
            })
        }

        /// Verifies the request's own `Authorization` with the dev secret key.
        fn check(&self) -> Result<(), SignError> {
            let auth = parse_authorization(self.authorization()).unwrap();
            self.with_request(|req| verify(req, &auth, DEV_SK))
        }

        /// Signs the request over `signed` with the dev key and adds the `Authorization` header.
        fn signed(mut self, signed: &str) -> Self {
            let signature = self.with_request(|req| sign(req, signed, DEV_SK));
            assert_eq!(signature.len(), SIGNATURE_LEN, "{}", self.label);
            self.headers.push((
                "Authorization".into(),
                header_value(DEV_AK, signed, &signature),
            ));
            self
        }
    }

    /// The `huawei` vectors, or `None` (after saying so) when the shared checkout is missing.
    fn sdk_vectors() -> Option<Vec<Vector>> {
        let Ok(text) = std::fs::read_to_string(VECTORS) else {
            eprintln!("skipping: {VECTORS} is missing");
            return None;
        };
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let vectors: Vec<Vector> = json["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["label"].as_str().unwrap().starts_with("huawei"))
            .map(|v| {
                let headers = v["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|pair| {
                        let name = pair[0].as_str().unwrap().to_owned();
                        (name, pair[1].as_str().unwrap().to_owned())
                    })
                    .collect();
                Vector::new(
                    v["label"].as_str().unwrap(),
                    v["method"].as_str().unwrap(),
                    v["target"].as_str().unwrap(),
                    headers,
                    v["body"].as_str().unwrap().as_bytes(),
                )
            })
            .collect();
        assert_eq!(vectors.len(), 3, "huawei vectors in {VECTORS}");
        Some(vectors)
    }

    /// Requests signed by a line-by-line Python restatement of `huaweicloudsdkcore`'s `Signer`
    /// (not captured from the wire): `(label, method, target, content type, body, SignedHeaders,
    /// signature)`. The first is the SDK's `UNSIGNED-PAYLOAD` case, the others awkward paths and
    /// queries.
    const ALGORITHM_VECTORS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
        (
            "octet-stream body, UNSIGNED-PAYLOAD",
            "POST",
            "/v2/cloudimages/action",
            "application/octet-stream",
            "raw \u{e9} bytes",
            "content-type;host;user-agent;x-project-id;x-sdk-content-sha256;x-sdk-date",
            "fbd6e16cd084e35b19a5e098a7b483e2f27747b49f0a3b0083adb3ead456a649",
        ),
        (
            "query with +, space, /, ~, *, :, CJK, empty value, boolean",
            "GET",
            "/v2/cloudimages?__os_version=Ubuntu%2022.04%20%2Fx~%2A&created_at=gt%3A2018-10-28T10%3A00%3A00Z&empty=&name=a%2Bb%20c&protected=true&tag=%E9%95%9C%E5%83%8F",
            "application/json",
            "",
            SDK_SIGNED,
            "db5a0d695edae251966c40bb0565bb18699eaf8bc4e246113ce41ed9e1aa7c87",
        ),
        (
            "path segment with space, e-acute and %2F",
            "DELETE",
            "/v2/images/id%20%C3%A9%2Fx",
            "application/json;charset=utf-8",
            "",
            SDK_SIGNED,
            "d767b579ac48ac688589423bccd1f814664698fcc2d82294e8865f6bbc1bfae8",
        ),
    ];

    /// [`ALGORITHM_VECTORS`] as requests with their `Authorization` header.
    fn algorithm_vectors() -> Vec<Vector> {
        ALGORITHM_VECTORS
            .iter()
            .map(
                |&(label, method, target, content_type, body, signed, signature)| {
                    let mut headers = sdk_headers(content_type);
                    if signed.contains(CONTENT_SHA256_HEADER) {
                        headers.push(("X-Sdk-Content-Sha256".into(), "UNSIGNED-PAYLOAD".into()));
                    }
                    headers.push((
                        "Authorization".into(),
                        header_value(DEV_AK, signed, signature),
                    ));
                    Vector::new(label, method, target, headers, body.as_bytes())
                },
            )
            .collect()
    }

    /// The captured SDK vectors (when present) and the algorithm vectors.
    fn all_vectors() -> Vec<Vector> {
        let mut vectors = sdk_vectors().unwrap_or_default();
        vectors.extend(algorithm_vectors());
        vectors
    }

    // ----- vectors -------------------------------------------------------------------------------

    #[test]
    fn sdk_vectors_verify() {
        let Some(vectors) = sdk_vectors() else { return };
        for vector in &vectors {
            assert_eq!(vector.check(), Ok(()), "{}", vector.label);
        }
    }

    #[test]
    fn sdk_vectors_are_reproduced_by_the_reference_signer() {
        let Some(vectors) = sdk_vectors() else { return };
        for vector in &vectors {
            let auth = parse_authorization(vector.authorization()).unwrap();
            let signature = vector.with_request(|req| sign(req, &auth.signed_headers, DEV_SK));
            assert_eq!(signature, auth.signature, "{}", vector.label);
        }
    }

    #[test]
    fn sdk_vectors_name_the_dev_access_key_and_the_usual_headers() {
        let Some(vectors) = sdk_vectors() else { return };
        for vector in &vectors {
            let auth = parse_authorization(vector.authorization()).unwrap();
            assert_eq!(auth.access_key, DEV_AK, "{}", vector.label);
            assert_eq!(auth.signed_headers, SDK_SIGNED, "{}", vector.label);
            let date = vector.header("x-sdk-date").unwrap();
            assert!(is_sdk_date(date), "{}", vector.label);
            assert_eq!(
                parse_sdk_date(date),
                Some(time::macros::datetime!(2026-11-22 05:02:18 UTC))
            );
            assert_eq!(
                vector.header(CONTENT_SHA256_HEADER),
                None,
                "{}",
                vector.label
            );
        }
    }

    #[test]
    fn sdk_vector_canonical_request_is_exact() {
        let Some(vectors) = sdk_vectors() else { return };
        let list = vectors
            .iter()
            .find(|v| v.label.contains("list_images"))
            .unwrap();
        let user_agent = list.header("user-agent").unwrap();
        let expected = format!(
            "GET\n/v2/cloudimages/\n\
             __imagetype=private&limit=2&name=ims%20test&protected=false&sort_key=name\n\
             content-type:application/json\nhost:127.0.0.1:18111\nuser-agent:{user_agent}\n\
             x-project-id:{DEV_PROJECT}\nx-sdk-date:20261122T050218Z\n\n\
             {SDK_SIGNED}\n{EMPTY_BODY_SHA256}"
        );
        let canonical = list.with_request(|req| canonical_request(req, SDK_SIGNED).unwrap());
        assert_eq!(String::from_utf8(canonical).unwrap(), expected);
    }

    #[test]
    fn algorithm_vectors_verify_and_are_reproduced() {
        for vector in algorithm_vectors() {
            assert_eq!(vector.check(), Ok(()), "{}", vector.label);
            let auth = parse_authorization(vector.authorization()).unwrap();
            let signature = vector.with_request(|req| sign(req, &auth.signed_headers, DEV_SK));
            assert_eq!(signature, auth.signature, "{}", vector.label);
        }
    }

    #[test]
    fn signature_is_case_insensitive_and_keyed() {
        for vector in all_vectors() {
            let auth = parse_authorization(vector.authorization()).unwrap();
            let upper = Authorization {
                signature: auth.signature.to_ascii_uppercase(),
                ..auth.clone()
            };
            assert_eq!(
                vector.with_request(|req| verify(req, &upper, DEV_SK)),
                Ok(())
            );
            let bad = Err(SignError::BadSignature);
            for sk in ["imgemu-dev-sK", "", "imgemu-dev-sk "] {
                assert_eq!(vector.with_request(|req| verify(req, &auth, sk)), bad);
            }
            let sig = auth.signature.as_str();
            for signature in [
                String::new(),
                sig[..62].to_owned(),
                format!("{sig}00"),
                format!("{}g", &sig[..63]),
                format!(" {}", &sig[1..]),
                format!("{}{}", &sig[..10], &sig[..54]),
            ] {
                let changed = Authorization {
                    signature: signature.clone(),
                    ..auth.clone()
                };
                assert_eq!(
                    vector.with_request(|req| verify(req, &changed, DEV_SK)),
                    bad,
                    "{signature:?}"
                );
            }
            // The access key is the caller's business: it is not signed.
            let other_ak = Authorization {
                access_key: "someone-else".into(),
                ..auth
            };
            assert_eq!(
                vector.with_request(|req| verify(req, &other_ak, DEV_SK)),
                Ok(())
            );
        }
    }

    // ----- single-byte mutations -----------------------------------------------------------------

    /// Two different replacements for `byte`, both printable ASCII.
    fn replacements(byte: u8) -> [u8; 2] {
        let flipped = byte ^ 0x01;
        let first = if flipped.is_ascii_graphic() {
            flipped
        } else {
            b'#'
        };
        let second = if byte == b'x' { b'y' } else { b'x' };
        [first, second]
    }

    /// Every variant of `text` with one byte replaced.
    fn byte_mutations(text: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for i in 0..text.len() {
            for replacement in replacements(text[i]) {
                let mut changed = text.to_vec();
                changed[i] = replacement;
                if changed != text {
                    out.push(changed);
                }
            }
        }
        out
    }

    fn assert_rejected(vector: &Vector, what: &str) {
        assert_eq!(
            vector.check(),
            Err(SignError::BadSignature),
            "{}: {what}",
            vector.label
        );
    }

    #[test]
    fn any_changed_body_byte_fails_unless_the_payload_is_unsigned() {
        let mut hashed = 0;
        let mut unsigned = 0;
        for vector in all_vectors() {
            let is_unsigned = vector.header(CONTENT_SHA256_HEADER) == Some("UNSIGNED-PAYLOAD");
            for body in byte_mutations(&vector.body) {
                let changed = Vector {
                    body,
                    ..vector.clone()
                };
                if is_unsigned {
                    unsigned += 1;
                    assert_eq!(changed.check(), Ok(()), "{}", vector.label);
                } else {
                    hashed += 1;
                    assert_rejected(&changed, &String::from_utf8_lossy(&changed.body));
                }
            }
            // Emptying a body changes its hash to the empty-body hash, UNSIGNED-PAYLOAD or not.
            if !vector.body.is_empty() {
                let emptied = Vector {
                    body: Vec::new(),
                    ..vector.clone()
                };
                assert_rejected(&emptied, "emptied body");
            } else {
                let filled = Vector {
                    body: b"{}".to_vec(),
                    ..vector.clone()
                };
                assert_rejected(&filled, "body added");
            }
        }
        assert!(unsigned > 0);
        if sdk_vectors().is_some() {
            assert!(hashed > 100, "{hashed}");
        }
    }

    #[test]
    fn any_changed_path_or_query_byte_fails() {
        for vector in all_vectors() {
            for path in byte_mutations(vector.path.as_bytes()) {
                let path = String::from_utf8(path).unwrap();
                let changed = Vector {
                    path,
                    ..vector.clone()
                };
                assert_rejected(&changed, &changed.path);
            }
            let query = vector.query.clone().unwrap_or_default();
            for query in byte_mutations(query.as_bytes()) {
                let query = Some(String::from_utf8(query).unwrap());
                let changed = Vector {
                    query,
                    ..vector.clone()
                };
                assert_rejected(&changed, changed.query.as_deref().unwrap_or_default());
            }
            let extra = match &vector.query {
                Some(query) => format!("{query}&x=1"),
                None => "x".to_owned(),
            };
            let changed = Vector {
                query: Some(extra),
                ..vector.clone()
            };
            assert_rejected(&changed, "extra query parameter");
            let changed = Vector {
                method: vector.method.to_ascii_lowercase(),
                ..vector.clone()
            };
            assert_rejected(&changed, "lower-case method");
        }
    }

    #[test]
    fn any_changed_signed_header_byte_fails() {
        for vector in all_vectors() {
            let auth = parse_authorization(vector.authorization()).unwrap();
            for signed in auth.signed_headers.split(';') {
                let index = vector
                    .headers
                    .iter()
                    .position(|(name, _)| name.eq_ignore_ascii_case(signed))
                    .unwrap();
                for value in byte_mutations(vector.headers[index].1.as_bytes()) {
                    let mut changed = vector.clone();
                    changed.headers[index].1 = String::from_utf8(value).unwrap();
                    assert_rejected(&changed, &format!("{signed}: {}", changed.headers[index].1));
                }
            }
        }
    }

    #[test]
    fn signed_host_keeps_its_port() {
        for vector in all_vectors() {
            for host in ["127.0.0.1", "127.0.0.1:80", "localhost:18111"] {
                let mut changed = vector.clone();
                changed
                    .headers
                    .iter_mut()
                    .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
                    .for_each(|(_, value)| *value = host.to_owned());
                assert_rejected(&changed, host);
            }
        }
    }

    #[test]
    fn unsigned_headers_padding_and_later_repeats_do_not_matter() {
        for vector in all_vectors() {
            let mut changed = vector.clone();
            changed.headers.retain(|(name, _)| {
                !name.eq_ignore_ascii_case("accept") && !name.eq_ignore_ascii_case("connection")
            });
            changed.headers.push(("Accept".into(), "text/plain".into()));
            changed.headers.push(("X-Other".into(), "1".into()));
            // A repeat after the first value is not signed: the first occurrence counts.
            changed.headers.push(("Host".into(), "elsewhere:1".into()));
            changed
                .headers
                .push(("X-Sdk-Date".into(), "20000101T000000Z".into()));
            for (name, value) in &mut changed.headers {
                if name.eq_ignore_ascii_case("x-project-id") {
                    *value = format!(" \t{value}  ");
                }
            }
            assert_eq!(changed.check(), Ok(()), "{}", vector.label);

            // A different value before the signed one replaces it.
            let mut first = vector.clone();
            first
                .headers
                .insert(0, ("Host".into(), "elsewhere:1".into()));
            assert_rejected(&first, "another host first");
        }
    }

    #[test]
    fn missing_date_and_signed_headers_are_reported() {
        for vector in all_vectors() {
            let auth = parse_authorization(vector.authorization()).unwrap();
            let mut no_date = vector.clone();
            no_date
                .headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case("x-sdk-date"));
            assert_eq!(no_date.check(), Err(SignError::MissingDate));
            let mut empty_date = vector.clone();
            empty_date
                .headers
                .push(("X-Sdk-Date".into(), String::new()));
            empty_date.headers.rotate_right(1);
            assert_eq!(empty_date.check(), Err(SignError::MissingDate));

            for signed in auth.signed_headers.split(';').filter(|&n| n != DATE_HEADER) {
                let mut missing = vector.clone();
                missing
                    .headers
                    .retain(|(name, _)| !name.eq_ignore_ascii_case(signed));
                assert_eq!(
                    missing.check(),
                    Err(SignError::MissingSignedHeader(signed.to_owned()))
                );
                assert_eq!(missing.with_request(|req| sign(req, signed, DEV_SK)), "");
            }
            let sign_with = |names: &str| vector.with_request(|req| string_to_sign(req, names));
            let missing = |name: &str| Err(SignError::MissingSignedHeader(name.to_owned()));
            assert_eq!(sign_with("host;;x-sdk-date"), missing(""));
            assert_eq!(sign_with("host;"), missing(""));
            assert_eq!(sign_with("host;bad name"), missing("bad name"));
            assert_eq!(sign_with("host;x-missing"), missing("x-missing"));
            // Names are looked up in any case and signed as written.
            let upper = sign_with("Host;X-Sdk-Date").unwrap();
            assert_ne!(upper, sign_with("host;x-sdk-date").unwrap());
        }
    }

    // ----- payload hash --------------------------------------------------------------------------

    /// The payload hash of a request with `body` and an optional `X-Sdk-Content-Sha256`.
    fn hash_of(body: &[u8], content_sha256: Option<&[u8]>) -> String {
        let mut headers = HeaderMap::new();
        if let Some(value) = content_sha256 {
            headers.insert(
                CONTENT_SHA256_HEADER,
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let req = RawRequest {
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body,
        };
        String::from_utf8(payload_hash(&req)).unwrap()
    }

    #[test]
    fn payload_hash_follows_the_sdk() {
        let body_hash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        assert_eq!(hash_of(b"", None), EMPTY_BODY_SHA256);
        assert_eq!(hash_of(b"", Some(b"UNSIGNED-PAYLOAD")), EMPTY_BODY_SHA256);
        assert_eq!(hash_of(b"", Some(b"abc")), EMPTY_BODY_SHA256);
        assert_eq!(
            hash_of(b"{}", Some(b"UNSIGNED-PAYLOAD")),
            "UNSIGNED-PAYLOAD"
        );
        assert_eq!(hash_of(b"{}", Some(b" anything ")), "anything");
        assert_eq!(hash_of(b"{}", Some(b"")), body_hash);
        assert_eq!(hash_of(b"{}", Some(b"  ")), body_hash);
        assert_eq!(hash_of(b"{}", None), body_hash);
        assert_eq!(hash_of(b"{}", None), hex::encode(Sha256::digest(b"{}")));
        assert_eq!(hex::encode(Sha256::digest(b"")), EMPTY_BODY_SHA256);
    }

    #[test]
    fn unsigned_payload_need_not_be_a_signed_header() {
        // A client may send X-Sdk-Content-Sha256 without signing it; it still replaces the hash.
        let mut headers = sdk_headers("application/octet-stream");
        headers.push(("X-Sdk-Content-Sha256".into(), "UNSIGNED-PAYLOAD".into()));
        let vector = Vector::new("unsigned", "PUT", "/v2/x", headers, b"abc").signed(SDK_SIGNED);
        assert_eq!(vector.check(), Ok(()));
        let other_body = Vector {
            body: b"xyz".to_vec(),
            ..vector.clone()
        };
        assert_eq!(other_body.check(), Ok(()));
        // Dropping the header brings the body hash back.
        let mut dropped = vector;
        dropped
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case(CONTENT_SHA256_HEADER));
        assert_rejected(&dropped, "no X-Sdk-Content-Sha256");
    }

    // ----- canonical URI and query ---------------------------------------------------------------

    #[test]
    fn canonical_uri_cases() {
        let cases: &[(&str, &str)] = &[
            ("", "/"),
            ("/", "/"),
            ("//", "//"),
            ("/v2/cloudimages", "/v2/cloudimages/"),
            ("/v2/cloudimages/", "/v2/cloudimages/"),
            (
                "/v2/cloudimages/33ad552d-1149-471c-8190-ff6776174a00",
                "/v2/cloudimages/33ad552d-1149-471c-8190-ff6776174a00/",
            ),
            ("/v1/{project_id}/jobs/j", "/v1/%7Bproject_id%7D/jobs/j/"),
            ("/a%3Ab", "/a%3Ab/"),
            ("/a%3ab", "/a%3Ab/"),
            ("/a:b", "/a%3Ab/"),
            ("/a%20b", "/a%20b/"),
            ("/a b", "/a%20b/"),
            ("/a+b", "/a%2Bb/"),
            ("/a%2Bb", "/a%2Bb/"),
            ("/a%2Fb", "/a/b/"),
            ("/a%2f", "/a/"),
            ("/~-_.*", "/~-_.%2A/"),
            ("/%7E", "/~/"),
            ("/镜像", "/%E9%95%9C%E5%83%8F/"),
            ("/%e9%95%9c%e5%83%8f", "/%E9%95%9C%E5%83%8F/"),
            ("/é", "/%C3%A9/"),
            ("/%zz%4", "/%25zz%254/"),
            ("/100%", "/100%25/"),
            ("/%ff%00", "/%FF%00/"),
            ("relative", "relative/"),
        ];
        for (path, expected) in cases {
            assert_eq!(canonical_uri(path), *expected, "{path:?}");
        }
    }

    #[test]
    fn canonical_query_cases() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("&", ""),
            ("&&a=1&", "a=1"),
            ("b=2&a=1", "a=1&b=2"),
            ("a", "a="),
            ("a=", "a="),
            ("=", "="),
            ("=v", "=v"),
            ("a=b=c", "a=b%3Dc"),
            ("a=1&a=0", "a=0&a=1"),
            ("a=%7A&a=b", "a=b&a=z"),
            ("B=1&a=1&_=1", "B=1&_=1&a=1"),
            ("+", "%2B="),
            ("name=a+b", "name=a%2Bb"),
            ("name=a%2Bb", "name=a%2Bb"),
            ("name=ims%20test", "name=ims%20test"),
            ("name=ims test", "name=ims%20test"),
            (
                "created_at=gt%3A2018-10-28T10%3A00%3A00Z",
                "created_at=gt%3A2018-10-28T10%3A00%3A00Z",
            ),
            (
                "created_at=gt:2018-10-28T10:00:00Z",
                "created_at=gt%3A2018-10-28T10%3A00%3A00Z",
            ),
            ("p=/x~*", "p=%2Fx~%2A"),
            ("t=镜像", "t=%E9%95%9C%E5%83%8F"),
            ("t=%e9%95%9c", "t=%E9%95%9C"),
            ("%C3%A9=%C3%BC", "%C3%A9=%C3%BC"),
            ("é=ü", "%C3%A9=%C3%BC"),
            ("a=%&b=%4&c=%zz", "a=%25&b=%254&c=%25zz"),
            ("bad=%ff%FE%00", "bad=%FF%FE%00"),
            ("a%3D1=2", "a%3D1=2"),
            ("x=1%26y%3D2", "x=1%26y%3D2"),
            ("protected=false&limit=2", "limit=2&protected=false"),
        ];
        for (query, expected) in cases {
            assert_eq!(canonical_query(query), *expected, "{query:?}");
        }
        // Sorted by decoded bytes: `%41` is `A`, before `B`.
        assert_eq!(canonical_query("B=1&%41=2"), "A=2&B=1");
    }

    #[test]
    fn none_and_empty_queries_sign_alike() {
        let vector = Vector::new(
            "q",
            "GET",
            "/v2/cloudimages",
            sdk_headers("application/json"),
            b"",
        )
        .signed(SDK_SIGNED);
        for query in [None, Some(""), Some("&"), Some("&&")] {
            let changed = Vector {
                query: query.map(str::to_owned),
                ..vector.clone()
            };
            assert_eq!(changed.check(), Ok(()), "{query:?}");
        }
    }

    #[test]
    fn equivalent_encodings_verify() {
        // The canonical form is what is signed, so any spelling of the same bytes verifies.
        let vector = Vector::new(
            "spelling",
            "GET",
            "/v2/cloudimages?name=ims%20test&created_at=gt%3A2018",
            sdk_headers("application/json"),
            b"",
        )
        .signed(SDK_SIGNED);
        for (path, query) in [
            ("/v2/cloudimages/", "created_at=gt:2018&name=ims test"),
            ("/v2/%63loudimages", "name=ims%20test&created_at=gt%3a2018"),
        ] {
            let changed = Vector {
                path: path.to_owned(),
                query: Some(query.to_owned()),
                ..vector.clone()
            };
            assert_eq!(changed.check(), Ok(()), "{path} {query}");
        }
        let plus = Vector {
            query: Some("name=ims+test&created_at=gt%3A2018".into()),
            ..vector
        };
        assert_rejected(&plus, "+ is not a space");
    }

    #[test]
    fn non_utf8_header_values_and_escapes_sign_and_verify() {
        let headers = header_map(&[
            (&b"x-sdk-date"[..], &b"20261122T050218Z"[..]),
            (b"x-bin", b" \xff\xfe v\x80 "),
            (b"host", b"h:1"),
        ]);
        let req = RawRequest {
            method: "PUT",
            path: "/%ff/%C3",
            query: Some("%ff=%fe&%C3=%28"),
            headers: &headers,
            body: b"\xff\x00",
        };
        let signed = "x-sdk-date;x-bin;host";
        let signature = sign(&req, signed, "sk");
        assert_eq!(signature.len(), SIGNATURE_LEN);
        let auth = parse_authorization(&header_value("ak", signed, &signature)).unwrap();
        assert_eq!(verify(&req, &auth, "sk"), Ok(()));
        let canonical = canonical_headers(&headers, "x-bin").unwrap();
        assert_eq!(canonical, b"x-bin:\xff\xfe v\x80\n");
    }

    // ----- limits --------------------------------------------------------------------------------

    #[test]
    fn huge_inputs_fail_without_panicking() {
        let mut headers = header_map(&[("x-sdk-date", "20261122T050218Z"), ("host", "h")]);
        headers.insert(
            "x-long",
            HeaderValue::from_str(&"v".repeat(8 * 1024)).unwrap(),
        );
        let query = "&a=%=b=c&%e5%".repeat(50_000);
        let body = vec![0xa5; 1024 * 1024];
        let path = "/x%2".repeat(50_000);
        let req = RawRequest {
            method: "POST",
            path: &path,
            query: Some(&query),
            headers: &headers,
            body: &body,
        };
        let signed = format!("x-sdk-date{}", ";x-long".repeat(100));
        let mut auth = Authorization {
            access_key: "ak".into(),
            signed_headers: signed.clone(),
            signature: "ab".repeat(100_000),
        };
        let bad = Err(SignError::BadSignature);
        assert_eq!(verify(&req, &auth, &"k".repeat(10_000)), bad);
        auth.signature = sign(&req, &signed, &"k".repeat(10_000));
        assert_eq!(verify(&req, &auth, &"k".repeat(10_000)), Ok(()));
    }

    #[test]
    fn repeating_large_signed_headers_is_refused() {
        let mut headers = header_map(&[("x-sdk-date", "20261122T050218Z")]);
        headers.insert("x", HeaderValue::from_str(&"v".repeat(32 * 1024)).unwrap());
        let req = RawRequest {
            method: "GET",
            path: "/",
            query: None,
            headers: &headers,
            body: b"",
        };
        let refused = format!("x-sdk-date{}", ";x".repeat(16 * 1024));
        let auth = Authorization {
            access_key: "ak".into(),
            signed_headers: refused.clone(),
            signature: "00".repeat(32),
        };
        assert_eq!(verify(&req, &auth, "sk"), Err(SignError::HeadersTooLarge));
        assert_eq!(sign(&req, &refused, "sk"), "");
        let allowed = format!("x-sdk-date{}", ";x".repeat(31));
        let auth = Authorization {
            signed_headers: allowed,
            ..auth
        };
        assert_eq!(verify(&req, &auth, "sk"), Err(SignError::BadSignature));
    }

    #[test]
    fn keyed_matches_the_fallible_constructor_for_every_key_length() {
        for len in [0, 1, 31, 32, 63, 64, 65, 128, 1000] {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut ours = keyed::<HmacSha256, Sha256>(&key);
            let mut reference = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            ours.update(b"data");
            reference.update(b"data");
            assert_eq!(
                ours.finalize().into_bytes(),
                reference.finalize().into_bytes(),
                "{len}"
            );
        }
    }

    // ----- Authorization parsing -----------------------------------------------------------------

    const WELL_FORMED: &str =
        "SDK-HMAC-SHA256 Access=ak, SignedHeaders=content-type;host;x-sdk-date, Signature=abc";

    fn well_formed() -> Authorization {
        Authorization {
            access_key: "ak".into(),
            signed_headers: "content-type;host;x-sdk-date".into(),
            signature: "abc".into(),
        }
    }

    #[test]
    fn parses_the_sdk_layout() {
        assert_eq!(parse_authorization(WELL_FORMED), Ok(well_formed()));
    }

    #[test]
    fn parses_tolerantly() {
        for value in [
            "SDK-HMAC-SHA256 Access=ak,SignedHeaders=content-type;host;x-sdk-date,Signature=abc",
            "SDK-HMAC-SHA256Access=ak,SignedHeaders=content-type;host;x-sdk-date,Signature=abc",
            "SDK-HMAC-SHA256   Access=ak ,  SignedHeaders=content-type;host;x-sdk-date\t,\tSignature=abc",
            "  \tSDK-HMAC-SHA256\tAccess=ak, SignedHeaders=content-type;host;x-sdk-date, Signature=abc \t",
            "SDK-HMAC-SHA256 Signature=abc, Access=ak, SignedHeaders=content-type;host;x-sdk-date",
            "SDK-HMAC-SHA256 SignedHeaders=content-type;host;x-sdk-date, Signature=abc, Access=ak",
        ] {
            assert_eq!(parse_authorization(value), Ok(well_formed()), "{value}");
        }
        let not_hex = WELL_FORMED.replace("Signature=abc", "Signature=not-hex!");
        assert_eq!(parse_authorization(&not_hex).unwrap().signature, "not-hex!");
        let with_equals = WELL_FORMED.replace("Access=ak", "Access=a=k");
        assert_eq!(parse_authorization(&with_equals).unwrap().access_key, "a=k");
        let unicode = WELL_FORMED.replace("Access=ak", "Access=租户");
        assert_eq!(parse_authorization(&unicode).unwrap().access_key, "租户");
    }

    #[test]
    fn refuses_other_schemes() {
        for value in [
            "",
            "   ",
            "Bearer x",
            "SDK-HMAC-SM3 Access=ak, SignedHeaders=host, Signature=abc",
            "V11-HMAC-SHA256 Credential=ak/20261122/cn-north-4/ims, SignedHeaders=host, Signature=abc",
            "SDK-ECDSA-P256-SHA256 Access=ak, SignedHeaders=host, Signature=abc",
            "sdk-hmac-sha256 Access=ak, SignedHeaders=host, Signature=abc",
            "SDK-HMAC-SHA2567 Access=ak, SignedHeaders=host, Signature=abc",
            "SDK-HMAC-SHA256-V2 Access=ak, SignedHeaders=host, Signature=abc",
            "SDK-HMAC-SHA256_ Access=ak, SignedHeaders=host, Signature=abc",
            "SDK-HMAC-SHA256Accessx=ak, SignedHeaders=host, Signature=abc",
            "x SDK-HMAC-SHA256 Access=ak, SignedHeaders=host, Signature=abc",
            "JDCLOUD2-HMAC-SHA256 Credential=ak/20261122/r/s/jdcloud2_request, SignedHeaders=host, Signature=abc",
        ] {
            assert_eq!(parse_authorization(value), Err(SignError::Scheme), "{value:?}");
        }
    }

    #[test]
    fn refuses_malformed_fields() {
        let cases: &[(&str, &str)] = &[
            ("SDK-HMAC-SHA256", "no fields after the scheme"),
            ("SDK-HMAC-SHA256   ", "no fields after the scheme"),
            ("SDK-HMAC-SHA256 Access=ak", "no valid SignedHeaders"),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host",
                "no valid Signature",
            ),
            (
                "SDK-HMAC-SHA256 SignedHeaders=host, Signature=s",
                "no valid Access",
            ),
            (
                "SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=s",
                "no valid Access",
            ),
            (
                "SDK-HMAC-SHA256 Access=a k, SignedHeaders=host, Signature=s",
                "no valid Access",
            ),
            (
                "SDK-HMAC-SHA256 Access=a\u{3000}k, SignedHeaders=host, Signature=s",
                "no valid Access",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=, Signature=s",
                "no valid SignedHeaders",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host; x, Signature=s",
                "no valid SignedHeaders",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host, Signature=",
                "no valid Signature",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host, Signature=a b",
                "no valid Signature",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host, Signature=s,",
                "a field is not name=value",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak,, SignedHeaders=host, Signature=s",
                "a field is not name=value",
            ),
            (
                "SDK-HMAC-SHA256 ,Access=ak, SignedHeaders=host, Signature=s",
                "a field is not name=value",
            ),
            (
                "SDK-HMAC-SHA256 Access ak, SignedHeaders=host, Signature=s",
                "a field is not name=value",
            ),
            (
                "SDK-HMAC-SHA256 Access = ak, SignedHeaders=host, Signature=s",
                "unknown field",
            ),
            (
                "SDK-HMAC-SHA256 access=ak, SignedHeaders=host, Signature=s",
                "unknown field",
            ),
            (
                "SDK-HMAC-SHA256 Credential=ak, SignedHeaders=host, Signature=s",
                "unknown field",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host, Signature=s, Extra=1",
                "unknown field",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, Access=ak, SignedHeaders=host, Signature=s",
                "repeated field",
            ),
            (
                "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host, Signature=s, Signature=s",
                "repeated field",
            ),
            (
                "SDK-HMAC-SHA256,Access=ak, SignedHeaders=host, Signature=s",
                "a field is not name=value",
            ),
        ];
        for (value, message) in cases {
            assert_eq!(
                parse_authorization(value),
                Err(SignError::Malformed(message)),
                "{value:?}"
            );
        }
    }

    #[test]
    fn errors_display_their_reason() {
        assert_eq!(
            SignError::Malformed("repeated field").to_string(),
            "malformed Authorization: repeated field"
        );
        assert_eq!(
            SignError::MissingSignedHeader("host".into()).to_string(),
            "signed header `host` is not in the request"
        );
    }

    // ----- X-Sdk-Date ----------------------------------------------------------------------------

    #[test]
    fn sdk_date_shape_and_value() {
        use time::macros::datetime;
        let good: &[(&str, Option<OffsetDateTime>)] = &[
            ("20261122T050218Z", Some(datetime!(2026-11-22 05:02:18 UTC))),
            ("20240229T235959Z", Some(datetime!(2024-02-29 23:59:59 UTC))),
            ("00010101T000000Z", Some(datetime!(0001-01-01 00:00:00 UTC))),
            ("99991231T235959Z", Some(datetime!(9999-12-31 23:59:59 UTC))),
            ("20230229T000000Z", None),
            ("20261322T050218Z", None),
            ("20261100T050218Z", None),
            ("20261122T240000Z", None),
            ("20261122T236000Z", None),
            ("20261122T235960Z", None),
        ];
        for (value, instant) in good {
            assert!(is_sdk_date(value), "{value}");
            assert_eq!(parse_sdk_date(value), *instant, "{value}");
        }
        for value in [
            "",
            "20261122T050218",
            "20261122T050218z",
            "20261122t050218Z",
            "20261122 050218Z",
            "2026-11-22T05:02:18Z",
            "20261122T0502180Z",
            "+0261122T050218Z",
            "2026112２T050218Z",
            " 20261122T050218Z",
            "20261122T050218Z ",
            "Sun, 22 Nov 2026 05:02:18 GMT",
        ] {
            assert!(!is_sdk_date(value), "{value}");
            assert_eq!(parse_sdk_date(value), None, "{value}");
        }
    }

    // ----- fuzz ----------------------------------------------------------------------------------

    /// A deterministic xorshift generator.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 16) as usize
        }

        fn pick<'a>(&mut self, pieces: &[&'a str]) -> &'a str {
            pieces[self.next() % pieces.len()]
        }

        /// Up to `max` random pieces.
        fn text(&mut self, pieces: &[&str], max: usize) -> String {
            (0..self.next() % (max + 1))
                .map(|_| self.pick(pieces))
                .collect()
        }
    }

    /// `value` with a few pieces inserted and characters removed.
    fn edit(rng: &mut XorShift, value: &str, pieces: &[&str]) -> String {
        let mut value = value.to_owned();
        for _ in 0..rng.next() % 4 {
            let boundaries: Vec<usize> = (0..=value.len())
                .filter(|&i| value.is_char_boundary(i))
                .collect();
            let at = boundaries[rng.next() % boundaries.len()];
            if rng.next().is_multiple_of(3) && at < value.len() {
                value.remove(at);
            } else {
                value.insert_str(at, rng.pick(pieces));
            }
        }
        value
    }

    #[test]
    fn parsing_random_values_never_panics_and_round_trips() {
        const PIECES: &[&str] = &[
            "SDK-HMAC-SHA256",
            "SDK-HMAC-SM3",
            " ",
            "\t",
            "Access=",
            "SignedHeaders=",
            "Signature=",
            ",",
            ";",
            "=",
            "ak",
            "host",
            "é",
            "租",
            "\u{3000}",
            "%",
            "\u{0}",
            "ff",
            "20261122T050218Z",
            "T",
            "Z",
            "9",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let (mut parsed, mut scheme, mut dates) = (0, 0, 0);
        for round in 0..100_000 {
            let value = if round % 2 == 0 {
                rng.text(PIECES, 12)
            } else {
                edit(&mut rng, WELL_FORMED, PIECES)
            };
            match parse_authorization(&value) {
                Ok(auth) => {
                    parsed += 1;
                    let again =
                        header_value(&auth.access_key, &auth.signed_headers, &auth.signature);
                    assert_eq!(parse_authorization(&again), Ok(auth), "{value:?}");
                }
                Err(SignError::Scheme) => scheme += 1,
                Err(SignError::Malformed(_)) => {}
                Err(other) => panic!("{other:?} from {value:?}"),
            }
            let date = edit(&mut rng, "20261122T050218Z", PIECES);
            if parse_sdk_date(&date).is_some() {
                dates += 1;
                assert!(is_sdk_date(&date));
            }
        }
        assert!(
            parsed > 1_000 && scheme > 1_000 && dates > 100,
            "parsed {parsed}, scheme {scheme}, dates {dates}"
        );
    }

    #[test]
    fn random_requests_never_panic_and_round_trip() {
        const URL: &[&str] = &[
            "a",
            "B",
            "/",
            "=",
            "&",
            "+",
            "%",
            "%2",
            "%2F",
            "%41",
            "%e5%b0%8f",
            "%ff",
            "é",
            "~",
            "*",
            " ",
            ":",
            "\u{0}",
        ];
        const NAMES: &[&str] = &[
            "host",
            "x-sdk-date",
            "x-missing",
            "Host",
            "content-type",
            "x-sdk-content-sha256",
            ";",
            "",
            "bad name",
            "é",
        ];
        const VALUES: &[&[u8]] = &[
            b"v",
            b" v ",
            b"",
            b"\xff",
            b"a,b",
            b"\t",
            b"20261122T050218Z",
            b"UNSIGNED-PAYLOAD",
        ];
        let mut rng = XorShift(0x1234_5678_9abc_def1);
        let mut verified = 0;
        for _ in 0..20_000 {
            let mut headers = HeaderMap::new();
            for _ in 0..rng.next() % 6 {
                let name =
                    ["host", "x-sdk-date", "x-sdk-content-sha256", "content-type"][rng.next() % 4];
                if let Ok(value) = HeaderValue::from_bytes(VALUES[rng.next() % VALUES.len()]) {
                    headers.append(name, value);
                }
            }
            let path = rng.text(URL, 8);
            let query = rng.text(URL, 10);
            let body: Vec<u8> = (0..rng.next() % 8).map(|_| rng.next() as u8).collect();
            let req = RawRequest {
                method: ["GET", "PATCH", "", "get"][rng.next() % 4],
                path: &path,
                query: (!rng.next().is_multiple_of(4)).then_some(query.as_str()),
                headers: &headers,
                body: &body,
            };
            let signed: Vec<&str> = (0..1 + rng.next() % 3).map(|_| rng.pick(NAMES)).collect();
            let signed = signed.join(";");
            let signature = sign(&req, &signed, "sk");
            let auth = Authorization {
                access_key: "ak".into(),
                signed_headers: signed.clone(),
                signature: signature.clone(),
            };
            let result = verify(&req, &auth, "sk");
            if signature.is_empty() {
                assert!(
                    matches!(
                        result,
                        Err(SignError::MissingDate | SignError::MissingSignedHeader(_))
                    ),
                    "{result:?}"
                );
            } else {
                verified += 1;
                assert_eq!(result, Ok(()), "{path:?} {query:?} {signed:?}");
                assert!(verify(&req, &auth, "other").is_err());
            }
            let garbage = Authorization {
                signature: rng.text(URL, 4),
                ..auth
            };
            assert!(verify(&req, &garbage, "sk").is_err());
        }
        assert!(verified > 1_000, "{verified}");
    }

    #[test]
    fn canonicalisation_of_random_text_never_panics_and_is_idempotent() {
        const URL: &[&str] = &[
            "a",
            "/",
            "=",
            "&",
            "+",
            "%",
            "%2",
            "%2F",
            "%41",
            "%e5%b0%8f",
            "%ff",
            "é",
            "~",
            "*",
            " ",
            "%25",
        ];
        let mut rng = XorShift(0x0dd_ba11_cafe_f00d);
        for _ in 0..20_000 {
            let text = rng.text(URL, 12);
            let uri = canonical_uri(&text);
            assert!(uri.ends_with('/'));
            assert_eq!(canonical_uri(&uri), uri, "{text:?}");
            let query = canonical_query(&text);
            assert_eq!(canonical_query(&query), query, "{text:?}");
        }
    }
}
