//! JD authentication per auth mode (spec §5.2): the Authorization header is parsed and verified by
//! [`super::sign`]; strict mode adds the date, skew, content-hash and nonce checks.

use http::header::{HeaderName, AUTHORIZATION};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::codes::{self, SystemCode};
use super::sign::{self, RawRequest};
use crate::auth::{AuthMode, Tenant};
use crate::replay::NonceCache;
use crate::vendor::{Ctx, Request};

/// Largest clock skew accepted in strict mode.
pub(crate) const MAX_SKEW_S: i64 = 300;

/// The tenant of requests without a parsable access key when auth is off.
const DEFAULT_TENANT: &str = "default";

/// A refused request: the envelope code and the cause for the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: SystemCode,
    pub cause: String,
}

fn refuse(code: SystemCode, cause: impl Into<String>) -> Refusal {
    Refusal {
        code,
        cause: cause.into(),
    }
}

/// The `x-jdcloud-nonce` header, for lookups without parsing the name each time.
static NONCE_HEADER: HeaderName = HeaderName::from_static("x-jdcloud-nonce");

/// The first value of header `name`, if it is text ([`Request::header`] for a ready name).
fn header_text<'a>(req: &'a Request, name: &HeaderName) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The first Authorization value, if it is text.
pub(crate) fn authorization(req: &Request) -> Option<&str> {
    header_text(req, &AUTHORIZATION)
}

/// The access key named by the request's Authorization header, however malformed the rest is.
pub(crate) fn access_key_hint(req: &Request) -> Option<String> {
    authorization(req)
        .and_then(sign::access_key_hint)
        .map(str::to_string)
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub(crate) fn parse_jd_date(text: &str) -> Option<OffsetDateTime> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    if text.len() != 16 {
        return None;
    }
    PrimitiveDateTime::parse(text, &format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Authenticates a request and returns its tenant (spec §5.2).
pub(crate) fn authenticate(
    req: &Request,
    ctx: &Ctx<'_>,
    nonces: &NonceCache,
) -> Result<Tenant, Refusal> {
    let mode = ctx.auth_mode();
    if mode == AuthMode::Off {
        return Ok(access_key_hint(req).unwrap_or_else(|| DEFAULT_TENANT.to_string()));
    }
    if req.headers.get_all(AUTHORIZATION).iter().nth(1).is_some() {
        return Err(refuse(
            codes::BAD_SIGNATURE,
            "more than one Authorization header",
        ));
    }
    let header =
        authorization(req).ok_or_else(|| refuse(codes::BAD_SIGNATURE, "missing Authorization"))?;
    let auth = sign::parse_authorization_ref(header).map_err(|e| {
        refuse(
            codes::BAD_SIGNATURE,
            format!("malformed Authorization: {e}"),
        )
    })?;
    let registered = ctx.credentials.access_key("jd", auth.access_key);
    let raw = RawRequest {
        method: req.method.as_str(),
        path: &req.path,
        query: req.query.as_deref(),
        headers: &req.headers,
        body: &req.body,
    };
    let verify = |secret: &str| {
        sign::verify_ref(&raw, &auth, secret)
            .map_err(|e| refuse(codes::BAD_SIGNATURE, format!("signature: {e}")))
    };
    if mode == AuthMode::Lenient {
        if let Some(secret) = registered.and_then(|c| c.secret_key) {
            verify(&secret)?;
        }
        return Ok(auth.access_key.to_string());
    }
    // Strict, in the order of spec §5.2.
    let secret = registered
        .and_then(|c| c.secret_key)
        .ok_or_else(|| refuse(codes::BAD_SIGNATURE, "access key not registered"))?;
    let date_text = header_text(req, &sign::DATE_HEADER)
        .ok_or_else(|| refuse(codes::BAD_SIGNATURE, "missing x-jdcloud-date"))?;
    let date = parse_jd_date(date_text)
        .ok_or_else(|| refuse(codes::BAD_DATE, "malformed x-jdcloud-date"))?;
    if auth.date != &date_text[..8] {
        return Err(refuse(
            codes::BAD_SIGNATURE,
            "credential date differs from x-jdcloud-date",
        ));
    }
    let skew = (ctx.clock.now() - date).whole_seconds().abs();
    if skew > MAX_SKEW_S {
        return Err(refuse(codes::SKEW, format!("clock skew {skew} s")));
    }
    for required in ["x-jdcloud-date", "x-jdcloud-nonce"] {
        let mut signed = auth.signed_headers.split(';');
        if !signed.any(|h| h.eq_ignore_ascii_case(required)) {
            return Err(refuse(
                codes::BAD_SIGNATURE,
                format!("{required} is not signed"),
            ));
        }
    }
    verify(&secret)?;
    if let Some(sent) = header_text(req, &sign::CONTENT_SHA256_HEADER) {
        let real = hex::encode(Sha256::digest(&req.body));
        if !sent.eq_ignore_ascii_case(&real) {
            return Err(refuse(
                codes::BAD_SIGNATURE,
                "x-jdcloud-content-sha256 differs from the body",
            ));
        }
    }
    let nonce = header_text(req, &NONCE_HEADER).unwrap_or("");
    if !nonces.record_if_fresh(auth.access_key, nonce, ctx.clock.now()) {
        return Err(refuse(codes::BAD_SIGNATURE, "nonce replayed"));
    }
    Ok(auth.access_key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jd_dates() {
        assert!(parse_jd_date("20261122T050218Z").is_some());
        for bad in [
            "2026-11-22T05:02:18Z",
            "20261322T050218Z",
            "20261122T050218",
            "20261122T050218ZZ",
            "",
        ] {
            assert!(parse_jd_date(bad).is_none(), "{bad}");
        }
    }
}
