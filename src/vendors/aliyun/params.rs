//! Alibaba RPC parameters (spec §2.1, §2.2, §2.7): the request style, the merged query and form
//! parameters, and typed readers (int32, booleans, paging) that answer with the vendor's codes.

use super::errors::AliError;
use super::sign;
use crate::vendor::Request;

/// The API version this emulator serves.
pub(crate) const VERSION: &str = "2020-12-14";

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `Authorization: ACS3-…`.
    V3,
    /// A `Signature` parameter (legacy RPC).
    V2,
    /// Neither.
    Unsigned,
}

/// A request's decoded parameters.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub style: Style,
    /// Query ∪ form body, the body winning; last occurrence wins within one source.
    pub merged: Vec<(String, String)>,
}

/// Whether the body is form-encoded (`application/x-www-form-urlencoded`, attributes ignored).
fn is_form(req: &Request) -> bool {
    req.header("content-type")
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| {
            ct.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

impl Params {
    /// Decodes the request's parameters; bad encoding or UTF-8 → `BadRequest`.
    pub fn decode(req: &Request) -> Result<Params, AliError> {
        let body = is_form(req).then_some(req.body.as_ref());
        let merged = sign::merge_params(req.query.as_deref(), body)
            .map_err(|e| AliError::new("BadRequest", format!("parameters: {e}")))?;
        let style = if req
            .header("authorization")
            .is_some_and(|a| a.starts_with("ACS3-"))
        {
            Style::V3
        } else if merged.iter().any(|(k, _)| k == "Signature") {
            Style::V2
        } else {
            Style::Unsigned
        };
        Ok(Params { style, merged })
    }

    /// The value of parameter `name`, if present (possibly empty).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.merged
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// The Action or Version: V3 reads the header first, the others the parameter first.
    pub fn action_or_version<'a>(
        &'a self,
        req: &'a Request,
        param: &str,
        header: &str,
    ) -> Option<&'a str> {
        let from_header = req.header(header).filter(|v| !v.is_empty());
        match self.style {
            Style::V3 => from_header.or_else(|| self.text(param)),
            _ => self.text(param).or(from_header),
        }
    }

    /// An optional boolean (`true`/`false`, any case); anything else → `BadRequest`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, AliError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(AliError::new(
                "BadRequest",
                format!("{name}={v:?} is not a boolean"),
            )),
        }
    }
}

/// `^-?[0-9]+$` within int32.
pub(crate) fn parse_int32(v: &str) -> Option<i32> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<i32>().ok()
}

/// Paging and ranking options of the searches (spec §2.7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Paging {
    pub num: usize,
    pub start: usize,
}

/// Reads `Num`, `Start` and their sum, in that order.
pub(crate) fn paging(params: &Params) -> Result<Paging, AliError> {
    let num = match params.raw("Num") {
        None => 10,
        Some(v) => match parse_int32(v) {
            None => return Err(AliError::new("InvalidNumParameter", format!("Num={v:?}"))),
            Some(n) if !(1..=100).contains(&n) => {
                return Err(AliError::new("OverflowMaxReturnNum", format!("Num={n}")))
            }
            Some(n) => n as usize,
        },
    };
    let start = match params.raw("Start") {
        None => 0,
        Some(v) => match parse_int32(v) {
            Some(s) if (0..=499).contains(&s) => s as usize,
            _ => {
                return Err(AliError::new(
                    "InvalidStartParameter",
                    format!("Start={v:?}"),
                ))
            }
        },
    };
    if start + num > 500 {
        return Err(AliError::new(
            "OverflowMaxResultNum",
            format!("Start+Num={}", start + num),
        ));
    }
    Ok(Paging { num, start })
}

/// `ScoreThreshold`: a decimal in [0, 1] with at most two decimals (default 0).
pub(crate) fn score_threshold(params: &Params) -> Result<f64, AliError> {
    let Some(v) = params.raw("ScoreThreshold") else {
        return Ok(0.0);
    };
    let bad = || AliError::new("BadRequest", format!("ScoreThreshold={v:?}"));
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 2
        || (v.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let value: f64 = v.parse().map_err(|_| bad())?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int32("-2147483648"), Some(i32::MIN));
        for bad in ["", "-", "+1", "1.0", "2147483648", " 1", "1e3"] {
            assert_eq!(parse_int32(bad), None, "{bad}");
        }
    }
}
