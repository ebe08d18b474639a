//! Ranking for index_search and product_image_search (spec §3.15): score descending, then the
//! item's key ascending bytewise; and the inspection failures of a query, per family.

use super::codes::{self, Business};
use super::content::{self, Content, Rejection};

/// The best `k` items by similarity to `query`; each item comes with its tie-break key.
pub(crate) fn rank<'a, T>(
    items: impl Iterator<Item = (&'a T, Vec<u8>, &'a Content)>,
    query: &Content,
    k: usize,
) -> Vec<(&'a T, f64)> {
    let mut scored: Vec<(&T, Vec<u8>, f64)> = items
        .map(|(item, key, c)| (item, key, content::score(query, c)))
        .collect();
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    scored.truncate(k);
    scored
        .into_iter()
        .map(|(item, _, score)| (item, score))
        .collect()
}

/// index_search's business code for a query that fails inspection.
pub(crate) fn general_rejection(r: Rejection) -> Business {
    match r {
        Rejection::Undecodable => codes::BROKEN_BASE64_OR_URL,
        Rejection::TooManyBytes | Rejection::TooManyPixels => codes::IMAGE_TOO_LARGE,
        Rejection::TooSmall => codes::IMAGE_TOO_SMALL,
    }
}

/// product_image_search's business code for a query that fails inspection.
pub(crate) fn product_rejection(r: Rejection) -> Business {
    match r {
        Rejection::Undecodable => codes::NOT_SUPPORT_IMAGE,
        Rejection::TooManyBytes => codes::IMAGE_SIZE_EXCEED_LIMIT,
        Rejection::TooSmall => codes::IMAGE_TOO_SMALL,
        Rejection::TooManyPixels => codes::IMAGE_TOO_LARGE,
    }
}
