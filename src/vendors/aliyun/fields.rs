//! Validation of the image-record parameters shared by the actions (spec §3.1 steps 5–9, §2.6):
//! each reader answers with the documented code.

use super::errors::AliError;
use super::filter::Filter;
use super::model::{parse_region, CATEGORIES, OTHER_CATEGORY};
use super::params::{parse_int32, Params};

/// Longest ProductId and PicName.
pub(crate) const MAX_KEY: usize = 256;
/// Longest StrAttr*.
pub(crate) const MAX_STR_ATTR: usize = 128;
/// Longest CustomContent.
pub(crate) const MAX_CUSTOM_CONTENT: usize = 4096;

const STR_ATTRS: [(&str, &str); 4] = [
    ("StrAttr", "InvalidStrAttr"),
    ("StrAttr2", "InvalidStrAttr2"),
    ("StrAttr3", "InvalidStrAttr3"),
    ("StrAttr4", "InvalidStrAttr4"),
];
const INT_ATTRS: [(&str, &str); 4] = [
    ("IntAttr", "InvalidIntAttr"),
    ("IntAttr2", "InvalidIntAttr2"),
    ("IntAttr3", "InvalidIntAttr3"),
    ("IntAttr4", "InvalidIntAttr4"),
];

/// `ProductId`: required, at most 256 characters.
pub(crate) fn product_id(params: &Params) -> Result<String, AliError> {
    let id = params
        .text("ProductId")
        .ok_or_else(|| AliError::new("NoSpecifiedProductId", "ProductId missing"))?;
    if id.chars().count() > MAX_KEY {
        return Err(AliError::new(
            "InvalidProductId",
            "ProductId over 256 characters",
        ));
    }
    Ok(id.to_string())
}

/// `PicName`: at most 256 characters; required unless `optional`.
pub(crate) fn pic_name(params: &Params, optional: bool) -> Result<Option<String>, AliError> {
    match params.text("PicName") {
        None if optional => Ok(None),
        None => Err(AliError::new("NoSpecifiedPicName", "PicName missing")),
        Some(name) if name.chars().count() > MAX_KEY => Err(AliError::new(
            "InvalidPicName",
            "PicName over 256 characters",
        )),
        Some(name) => Ok(Some(name.to_string())),
    }
}

/// StrAttr…StrAttr4, checked in order (an empty value is `""`).
pub(crate) fn str_attrs(params: &Params) -> Result<[Option<String>; 4], AliError> {
    let mut out: [Option<String>; 4] = Default::default();
    for (slot, (name, code)) in out.iter_mut().zip(STR_ATTRS) {
        if let Some(v) = params.raw(name) {
            if v.chars().count() > MAX_STR_ATTR {
                return Err(AliError::new(code, format!("{name} over 128 characters")));
            }
            *slot = Some(v.to_string());
        }
    }
    Ok(out)
}

/// IntAttr…IntAttr4, checked in order (an empty value is invalid).
pub(crate) fn int_attrs(params: &Params) -> Result<[Option<i32>; 4], AliError> {
    let mut out = [None; 4];
    for (slot, (name, code)) in out.iter_mut().zip(INT_ATTRS) {
        if let Some(v) = params.raw(name) {
            *slot = Some(
                parse_int32(v)
                    .ok_or_else(|| AliError::new(code, format!("{name}={v:?} is not an int32")))?,
            );
        }
    }
    Ok(out)
}

/// CustomContent: at most 4096 characters.
pub(crate) fn custom_content(params: &Params) -> Result<Option<String>, AliError> {
    match params.raw("CustomContent") {
        Some(v) if v.chars().count() > MAX_CUSTOM_CONTENT => Err(AliError::new(
            "InvalidCustomContent",
            "CustomContent over 4096 characters",
        )),
        other => Ok(other.map(str::to_string)),
    }
}

/// `CategoryId` (spec §2.6): on ServiceType 0 one of the table's ids; otherwise any int32, which
/// becomes 88888888. `None` when absent.
pub(crate) fn category(params: &Params, service_type: i64) -> Result<Option<i64>, AliError> {
    let Some(v) = params.raw("CategoryId") else {
        return Ok(None);
    };
    let invalid = || AliError::new("InvalidCategory", format!("CategoryId={v:?}"));
    let id = i64::from(parse_int32(v).ok_or_else(invalid)?);
    if service_type == 0 {
        CATEGORIES
            .iter()
            .any(|(c, _)| *c == id)
            .then_some(Some(id))
            .ok_or_else(invalid)
    } else {
        Ok(Some(OTHER_CATEGORY))
    }
}

/// `Crop`: a boolean, validated only.
pub(crate) fn crop(params: &Params) -> Result<(), AliError> {
    params.boolean("Crop").map(|_| ())
}

/// `Region` syntax (`x1,x2,y1,y2`); empty means absent.
pub(crate) fn region(params: &Params) -> Result<Option<[u32; 4]>, AliError> {
    match params.text("Region") {
        None => Ok(None),
        Some(v) => parse_region(v)
            .map(Some)
            .ok_or_else(|| AliError::new("InvalidRegion", format!("Region={v:?}"))),
    }
}

/// `Filter`; empty means absent; invalid → InvalidFilterClause with the parser's message.
pub(crate) fn filter(params: &Params) -> Result<Option<Filter>, AliError> {
    match params.text("Filter") {
        None => Ok(None),
        Some(text) => Filter::parse(text)
            .map(Some)
            .map_err(|e| AliError::new("InvalidFilterClause", e.to_string())),
    }
}

/// `Filter` where it is required.
pub(crate) fn required_filter(params: &Params) -> Result<Filter, AliError> {
    filter(params)?.ok_or_else(|| AliError::new("InvalidFilterClause", "Filter missing or empty"))
}
