//! The actions that read images (spec §3.4–3.8): CheckImageExists, SearchImageByName,
//! SearchImageByPic, SearchImageByFilter and Detail, with the ranking and paging of §2.7.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::errors::AliError;
use super::fields;
use super::filter::{Attributes, Filter};
use super::model::{clamp_region, Image, Instance, CATEGORIES, OTHER_CATEGORY};
use super::params::{self, Params};
use super::picture::{self, Picture};

/// An image's attributes as the filter sees them.
pub(crate) fn attributes(image: &Image) -> Attributes<'_> {
    Attributes {
        int_attrs: image.int_attrs,
        str_attrs: [
            image.str_attrs[0].as_str(),
            image.str_attrs[1].as_str(),
            image.str_attrs[2].as_str(),
            image.str_attrs[3].as_str(),
        ],
    }
}

/// The Auction object: every key always present (§1.2).
pub(crate) fn auction(image: &Image) -> Map<String, Value> {
    let mut a = Map::new();
    a.insert("ProductId".into(), json!(image.product_id));
    a.insert("PicName".into(), json!(image.pic_name));
    a.insert("CategoryId".into(), json!(image.category_id));
    a.insert("CustomContent".into(), json!(image.custom_content));
    for (i, name) in ["IntAttr", "IntAttr2", "IntAttr3", "IntAttr4"]
        .iter()
        .enumerate()
    {
        a.insert((*name).into(), json!(image.int_attrs[i]));
    }
    for (i, name) in ["StrAttr", "StrAttr2", "StrAttr3", "StrAttr4"]
        .iter()
        .enumerate()
    {
        a.insert((*name).into(), json!(image.str_attrs[i]));
    }
    a
}

/// `AllCategories`: the whole table on ServiceType 0, else only "Other".
pub(crate) fn all_categories(service_type: i64) -> Value {
    let entries: Vec<Value> = CATEGORIES
        .iter()
        .filter(|(id, _)| service_type == 0 || *id == OTHER_CATEGORY)
        .map(|(id, name)| json!({"Id": id, "Name": name}))
        .collect();
    Value::Array(entries)
}

/// `PicInfo`.
pub(crate) fn pic_info(category_id: i64, region: &str, all_categories: Value) -> Value {
    json!({"CategoryId": category_id, "Region": region, "MultiRegion": [{"Region": region}], "AllCategories": all_categories})
}

/// A score as the deprecated `SortExprValues` writes it (`1.0;0`, `0.87;0`).
fn sort_expr(score: f64) -> String {
    let text = format!("{score:.2}");
    let trimmed = text.trim_end_matches('0');
    let trimmed = if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_string()
    };
    format!("{trimmed};0")
}

/// CheckImageExists (§3.4).
pub(crate) fn check_image_exists(instance: &Instance, params: &Params) -> Result<Value, AliError> {
    let product_id = fields::product_id(params)?;
    let pic_name = fields::pic_name(params, false)?.unwrap_or_default();
    Ok(match instance.images.get(&(product_id, pic_name)) {
        Some(image) => json!({"Exists": true, "Auctions": auction(image)}),
        None => json!({"Exists": false}),
    })
}

/// The ranking options shared by the two image searches.
struct Ranking {
    category: Option<i64>,
    paging: params::Paging,
    threshold: f64,
    distinct: bool,
    filter: Option<Filter>,
}

/// Num → Start → Start+Num → ScoreThreshold → DistinctProductId → Filter (§3.5, §3.6).
fn ranking(params: &Params, category: Option<i64>) -> Result<Ranking, AliError> {
    let paging = params::paging(params)?;
    let threshold = params::score_threshold(params)?;
    let distinct = params.boolean("DistinctProductId")?.unwrap_or(false);
    let filter = fields::filter(params)?;
    Ok(Ranking {
        category,
        paging,
        threshold,
        distinct,
        filter,
    })
}

/// Ranks the instance's images against `query` and renders `Head` and `Auctions` (§2.7).
fn search(
    instance: &Instance,
    query: &Picture,
    options: &Ranking,
    started: Instant,
) -> Map<String, Value> {
    let st0 = instance.info.service_type == 0;
    let mut scored: Vec<(&Image, f64)> = instance
        .images
        .values()
        .filter(|i| !st0 || options.category.is_none_or(|c| i.category_id == c))
        .filter(|i| {
            options
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(&attributes(i)))
        })
        .map(|i| (i, picture::score(query, &i.picture.digest, i.picture.ahash)))
        .filter(|(_, s)| *s >= options.threshold)
        .collect();
    scored.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| a.0.product_id.as_bytes().cmp(b.0.product_id.as_bytes()))
            .then_with(|| a.0.pic_name.as_bytes().cmp(b.0.pic_name.as_bytes()))
    });
    if options.distinct {
        let mut seen = std::collections::HashSet::new();
        scored.retain(|(i, _)| seen.insert(i.product_id.clone()));
    }
    let total = scored.len();
    let auctions: Vec<Value> = scored
        .into_iter()
        .skip(options.paging.start)
        .take(options.paging.num)
        .map(|(image, score)| {
            let mut a = auction(image);
            a.insert("Score".into(), json!(score));
            a.insert("SortExprValues".into(), json!(sort_expr(score)));
            Value::Object(a)
        })
        .collect();
    let mut out = Map::new();
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    out.insert(
        "Head".into(),
        json!({"DocsFound": auctions.len(), "DocsReturn": total, "SearchTime": elapsed}),
    );
    out.insert("Auctions".into(), Value::Array(auctions));
    out
}

/// SearchImageByName (§3.5): the named image is the query.
pub(crate) fn search_by_name(
    instance: &Instance,
    params: &Params,
    started: Instant,
) -> Result<Value, AliError> {
    let product_id = fields::product_id(params)?;
    let pic_name = fields::pic_name(params, false)?.unwrap_or_default();
    let service_type = instance.info.service_type;
    let category = fields::category(params, service_type)?;
    let options = ranking(params, category)?;
    let image = instance
        .images
        .get(&(product_id.clone(), pic_name.clone()))
        .ok_or_else(|| {
            AliError::new(
                "PicNotExist",
                format!("no image ({product_id}, {pic_name})"),
            )
        })?;
    let category_id = if service_type == 0 {
        category.unwrap_or(image.category_id)
    } else {
        image.category_id
    };
    let mut out = search(instance, &image.picture, &options, started);
    out.insert(
        "PicInfo".into(),
        pic_info(category_id, &image.region, all_categories(service_type)),
    );
    Ok(Value::Object(out))
}

/// SearchImageByPic (§3.6): an uploaded picture is the query; nothing is stored.
pub(crate) fn search_by_pic(
    instance: &Instance,
    params: &Params,
    started: Instant,
) -> Result<Value, AliError> {
    let content = params
        .text("PicContent")
        .ok_or_else(|| AliError::new("NoSpecifiedSearchPic", "PicContent missing"))?;
    let bytes = picture::decode(content)?;
    let service_type = instance.info.service_type;
    let category = fields::category(params, service_type)?;
    fields::crop(params)?;
    let region = fields::region(params)?;
    let options = ranking(params, category)?;
    let query = picture::inspect(bytes)?;
    let category_id = if service_type == 0 {
        category.unwrap_or(OTHER_CATEGORY)
    } else {
        OTHER_CATEGORY
    };
    let region = clamp_region(region, query.width, query.height);
    let mut out = search(instance, &query, &options, started);
    out.insert(
        "PicInfo".into(),
        pic_info(category_id, &region, all_categories(service_type)),
    );
    Ok(Value::Object(out))
}

/// SearchImageByFilter (§3.7): matches in (ProductId, PicName) order; no Score, no Head.
pub(crate) fn search_by_filter(instance: &Instance, params: &Params) -> Result<Value, AliError> {
    let filter = fields::required_filter(params)?;
    let paging = params::paging(params)?;
    let auctions: Vec<Value> = instance
        .images
        .values()
        .filter(|i| filter.matches(&attributes(i)))
        .skip(paging.start)
        .take(paging.num)
        .map(|i| Value::Object(auction(i)))
        .collect();
    Ok(json!({ "Auctions": auctions }))
}

/// Detail (§3.8).
pub(crate) fn detail(instance: &Instance) -> Value {
    let info = &instance.info;
    json!({"Instance": {
        "Name": info.name, "Region": info.region, "ServiceType": info.service_type, "Capacity": info.capacity,
        "Qps": info.qps, "TotalCount": instance.images.len(),
        "UtcCreate": info.utc_create.to_string(), "UtcExpireTime": info.utc_expire.to_string(),
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_expr_values() {
        assert_eq!(sort_expr(1.0), "1.0;0");
        assert_eq!(sort_expr(0.87), "0.87;0");
        assert_eq!(sort_expr(0.5), "0.5;0");
        assert_eq!(sort_expr(0.0), "0.0;0");
    }
}
