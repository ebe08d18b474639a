//! Alibaba authentication per auth mode (spec §5): V3 `ACS3-HMAC-SHA256` or legacy V2 `HMAC-SHA1`,
//! verified by [`super::sign`]; strict mode adds required signed headers, the 900-second timestamp
//! window and nonce replay.

use time::OffsetDateTime;

use super::errors::AliError;
use super::params::{Params, Style};
use super::sign::{self, V3Request};
use crate::auth::{AuthMode, Tenant};
use crate::clock::parse_rfc3339;
use crate::replay::NonceCache;
use crate::vendor::{Ctx, Request};

/// Largest timestamp skew accepted in strict mode, and the nonce memory.
pub(crate) const WINDOW_S: i64 = 900;

/// Headers a strict V3 request must sign.
const V3_REQUIRED: [&str; 6] = [
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

/// The tenant of requests without credentials when auth is off.
const DEFAULT_TENANT: &str = "default";

/// The access key a request names, however malformed the rest is.
pub(crate) fn access_key_hint(req: &Request, params: &Params) -> Option<String> {
    match params.style {
        Style::V3 => req
            .header("authorization")
            .and_then(sign::v3_access_key_hint)
            .map(str::to_string),
        _ => params.text("AccessKeyId").map(str::to_string),
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` (fractional seconds tolerated).
fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    if !text.ends_with('Z') || text.len() < 20 || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    parse_rfc3339(text)
}

fn check_window(text: Option<&str>, now: OffsetDateTime) -> Result<(), AliError> {
    let text = text.unwrap_or("");
    let at = parse_timestamp(text)
        .ok_or_else(|| AliError::new("InvalidTimeStamp.Format", format!("{text:?}")))?;
    let skew = (now - at).whole_seconds().abs();
    if skew > WINDOW_S {
        return Err(AliError::new(
            "InvalidTimeStamp.Expired",
            format!("skew {skew} s"),
        ));
    }
    Ok(())
}

/// Authenticates a request and returns its tenant.
pub(crate) fn authenticate(
    req: &Request,
    params: &Params,
    ctx: &Ctx<'_>,
    nonces: &NonceCache,
) -> Result<Tenant, AliError> {
    let mode = ctx.auth_mode();
    if mode == AuthMode::Off {
        return Ok(access_key_hint(req, params).unwrap_or_else(|| DEFAULT_TENANT.to_string()));
    }
    if req.header_count("authorization") > 1 {
        return Err(AliError::new(
            "IncompleteSignature",
            "more than one Authorization header",
        ));
    }
    match params.style {
        Style::Unsigned => Err(AliError::new(
            "IncompleteSignature",
            "the request is not signed",
        )),
        Style::V3 => v3(req, mode, ctx, nonces),
        Style::V2 => v2(req, params, mode, ctx, nonces),
    }
}

fn shape_error(e: sign::ShapeError) -> AliError {
    match e {
        sign::ShapeError::SignatureMethod(_) => {
            AliError::new("InvalidSignatureMethod", e.to_string())
        }
        other => AliError::new("IncompleteSignature", other.to_string()),
    }
}

fn v3(
    req: &Request,
    mode: AuthMode,
    ctx: &Ctx<'_>,
    nonces: &NonceCache,
) -> Result<Tenant, AliError> {
    let header = req.header("authorization").unwrap_or("");
    let auth = sign::parse_v3(header).map_err(shape_error)?;
    let secret = ctx
        .credentials
        .access_key("aliyun", &auth.access_key)
        .and_then(|c| c.secret_key);
    let raw = V3Request {
        method: req.method.as_str(),
        query: req.query.as_deref(),
        headers: &req.headers,
        body: &req.body,
    };
    let verify = |secret: &str| {
        sign::verify_v3(&raw, &auth, secret).map_err(|m| {
            AliError::new(
                "SignatureDoesNotMatch",
                format!(
                    "CanonicalRequest {:?} StringToSign {:?}",
                    m.canonical_request, m.string_to_sign
                ),
            )
        })
    };
    if mode == AuthMode::Lenient {
        if let Some(secret) = secret {
            verify(&secret)?;
        }
        return Ok(auth.access_key);
    }
    let secret = secret
        .ok_or_else(|| AliError::new("InvalidAccessKeyId.NotFound", auth.access_key.clone()))?;
    let signed: Vec<String> = auth
        .signed_headers
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let content_type = req.header("content-type").map(|_| "content-type");
    for required in V3_REQUIRED.iter().copied().chain(content_type) {
        if req.header(required).is_none() || !signed.iter().any(|h| h == required) {
            return Err(AliError::new(
                "IncompleteSignature",
                format!("{required} must be sent and signed"),
            ));
        }
    }
    let now = ctx.clock.now();
    check_window(req.header("x-acs-date"), now)?;
    verify(&secret)?;
    let nonce = req.header("x-acs-signature-nonce").unwrap_or("");
    if !nonces.record_if_fresh(&auth.access_key, nonce, now) {
        return Err(AliError::new("SignatureNonceUsed", nonce.to_string()));
    }
    Ok(auth.access_key)
}

fn v2(
    req: &Request,
    params: &Params,
    mode: AuthMode,
    ctx: &Ctx<'_>,
    nonces: &NonceCache,
) -> Result<Tenant, AliError> {
    let v2 = sign::parse_v2(&params.merged).map_err(shape_error)?;
    let secret = ctx
        .credentials
        .access_key("aliyun", &v2.access_key)
        .and_then(|c| c.secret_key);
    let verify = |secret: &str| {
        sign::verify_v2(req.method.as_str(), &params.merged, secret).map_err(|m| {
            AliError::with_message(
                "SignatureDoesNotMatch",
                m.to_string(),
                "V2 signature mismatch",
            )
        })
    };
    if mode == AuthMode::Lenient {
        if let Some(secret) = secret {
            verify(&secret)?;
        }
        return Ok(v2.access_key);
    }
    let secret = secret
        .ok_or_else(|| AliError::new("InvalidAccessKeyId.NotFound", v2.access_key.clone()))?;
    let now = ctx.clock.now();
    check_window(Some(&v2.timestamp), now)?;
    verify(&secret)?;
    if !nonces.record_if_fresh(&v2.access_key, &v2.nonce, now) {
        return Err(AliError::new("SignatureNonceUsed", v2.nonce.clone()));
    }
    Ok(v2.access_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert!(parse_timestamp("2026-11-22T05:02:18Z").is_some());
        assert!(parse_timestamp("2026-11-22T05:02:18.123Z").is_some());
        for bad in [
            "2026-11-22T05:02:18+08:00",
            "2026-11-22 05:02:18Z",
            "20261122T050218Z",
            "",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }
}
