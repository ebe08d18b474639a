//! Huawei IMS `GET /v2/cloudimages` (ListImages, spec §3.2): filters, sorting and marker
//! pagination over the image objects a tenant can already see (§2.4), rendered as on the wire
//! (§2.2).
//!
//! The query string is split on `&`, each pair on its first `=`; names and values are
//! percent-decoded (`+` stays literal, invalid escapes stay as written, invalid UTF-8 becomes
//! U+FFFD). Empty segments and empty names are skipped. A repeated name keeps its last value; an
//! empty value means "absent".
//!
//! Validation order (first failure wins): `limit`, `sort_key`, `sort_dir`, then the filters in
//! the order of their (last) occurrence, then `marker` (`IMG.0027`). An `id` filter naming no
//! visible image then answers exactly `{"images":[]}`.

use std::cmp::Ordering;
use std::collections::HashMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::Value;
use time::macros::format_description;
use time::PrimitiveDateTime;

use super::error::ImsError;
use super::index::Key;
use super::model::{image_key, Image, Store};
use super::packed::Stored;

/// Default and maximum page size (spec §10 point 8).
const MAX_LIMIT: usize = 500;
/// "The request message format is invalid."
const INVALID: &str = "IMG.0001";
/// "The image type in the request is incorrect."
const BAD_IMAGE_TYPE: &str = "IMG.0024";
/// "The image ID in the request does not exist."
const BAD_MARKER: &str = "IMG.0027";
/// The path `next` links point at.
const PATH: &str = "/v2/cloudimages";
/// The default sort key.
const DEFAULT_SORT_KEY: &str = "created_at";
/// The sortable attributes.
const SORT_KEYS: &[&str] = &[
    "created_at",
    "name",
    "container_format",
    "disk_format",
    "status",
    "id",
    "size",
];
/// Characters escaped in the `marker` of a `next` link (everything but RFC 3986 unreserved).
const MARKER_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Lists what `tenant` sees in `store` (its own private images of any status plus the gold
/// images) per the query string.
///
/// The default order (`created_at`) walks the store's [`CreatedIndex`](super::index) from the
/// marker on and stops once the page is full, so a page costs the same with a million images as
/// with ten (unless filters reject most of them). Other sort keys filter and sort every visible
/// image.
///
/// Returns the ListImages body: `{"images":[…],"page_info":{…}}` plus `next` when more images
/// match, or an `IMG.0001`/`IMG.0024`/`IMG.0027` error for an invalid parameter.
pub fn list<'a>(store: &'a Store, tenant: &str, query: Option<&str>) -> Result<Page<'a>, ImsError> {
    let pairs = parse_query(query.unwrap_or(""));
    let request = Request::parse(&effective(&pairs))?;
    let find = |id: &str| store.peek(id, tenant);
    let marker = request
        .marker
        .as_deref()
        .map(|id| {
            find(id).ok_or_else(|| {
                ImsError::new(BAD_MARKER, format!("marker {id:?} is not a visible image"))
            })
        })
        .transpose()?;
    if request.id.as_deref().is_some_and(|id| find(id).is_none()) {
        return Ok(Page::bare_empty());
    }
    let mut hits: Vec<&Stored> = if request.sort.key == DEFAULT_SORT_KEY {
        let names = request.filter_members();
        let after = marker.zip(request.marker.as_deref().and_then(image_key));
        let after = after.map(|(image, id)| Key::of(image, id));
        store
            .created
            .visible(tenant, request.sort.descending, after.as_ref())
            .filter_map(|key| store.images.get(&key.id))
            .filter(|image| request.filters.is_empty() || request.matches(&image.members(&names)))
            .take(request.limit.saturating_add(1))
            .collect()
    } else {
        let names = request.members();
        // Each visible image's sort key and id, read once (a packed image is not opened).
        let mut keyed: Vec<(SortKey, &Stored)> = store
            .images
            .values()
            .filter(|image| image.visible_to(tenant))
            .filter_map(|image| {
                let members = image.members(&names);
                request
                    .matches(&members)
                    .then(|| (request.sort.key_of(&members), image))
            })
            .collect();
        keyed.sort_by(|(a, _), (b, _)| request.sort.compare(a, b));
        if let Some(marker) = marker {
            let marker = request.sort.key_of(&marker.members(&names));
            keyed.retain(|(key, _)| request.sort.compare(key, &marker) == Ordering::Greater);
        }
        keyed.into_iter().map(|(_, image)| image).collect()
    };
    let more = hits.len() > request.limit;
    hits.truncate(request.limit);
    Ok(render(hits, more, &pairs))
}

/// One `name=value` segment of the query string.
#[derive(Debug)]
struct Pair<'q> {
    /// The segment exactly as received (for `next`).
    raw: &'q str,
    /// The decoded name.
    key: String,
    /// The decoded value.
    value: String,
}

/// Splits and decodes the query string; empty segments are dropped.
fn parse_query(query: &str) -> Vec<Pair<'_>> {
    query
        .split('&')
        .filter(|raw| !raw.is_empty())
        .map(parse_pair)
        .collect()
}

/// Decodes one segment; a segment without `=` has an empty value.
fn parse_pair(raw: &str) -> Pair<'_> {
    let (key, value) = raw.split_once('=').unwrap_or((raw, ""));
    Pair {
        raw,
        key: decode(key),
        value: decode(value),
    }
}

/// Percent-decodes (`+` stays literal; malformed escapes stay as written; bad UTF-8 is replaced).
fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The parameters in force: last occurrence wins (and gives the position), empty values and empty
/// names are absent.
fn effective<'p>(pairs: &'p [Pair<'_>]) -> Vec<(&'p str, &'p str)> {
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (index, pair) in pairs.iter().enumerate() {
        last.insert(pair.key.as_str(), index);
    }
    pairs
        .iter()
        .enumerate()
        .filter(|(index, pair)| last.get(pair.key.as_str()) == Some(index))
        .filter(|(_, pair)| !pair.key.is_empty() && !pair.value.is_empty())
        .map(|(_, pair)| (pair.key.as_str(), pair.value.as_str()))
        .collect()
}

/// The validated request.
#[derive(Debug)]
struct Request {
    /// Page size, 1…500.
    limit: usize,
    /// The id after which the page starts.
    marker: Option<String>,
    /// The order.
    sort: Sort,
    /// Every filter; an image is listed when all match.
    filters: Vec<Filter>,
    /// The `id` filter's value, if any.
    id: Option<String>,
}

impl Request {
    /// Validates the effective parameters (module doc gives the order).
    fn parse(params: &[(&str, &str)]) -> Result<Self, ImsError> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| *value)
        };
        let limit = get("limit")
            .map(parse_limit)
            .transpose()?
            .unwrap_or(MAX_LIMIT);
        let sort = Sort::parse(get("sort_key"), get("sort_dir"))?;
        let mut filters = Vec::new();
        for (key, value) in params {
            filters.extend(parse_filter(key, value)?);
        }
        Ok(Request {
            limit,
            marker: get("marker").map(str::to_string),
            sort,
            filters,
            id: get("id").map(str::to_string),
        })
    }

    /// Whether every filter accepts `image`.
    fn matches(&self, image: &Image) -> bool {
        self.filters.iter().all(|filter| filter.matches(image))
    }

    /// The members the filters read.
    fn filter_members(&self) -> Vec<&str> {
        self.filters.iter().filter_map(Filter::member).collect()
    }

    /// The members the filters and the sort key read (plus `id`, which every order ends with).
    fn members(&self) -> Vec<&str> {
        let mut names = vec!["id", self.sort.key];
        names.extend(self.filter_members());
        names
    }
}

/// `limit`: an integer (optional sign) ≥ 1; larger than 500 (however large) is clamped to 500.
fn parse_limit(value: &str) -> Result<usize, ImsError> {
    let invalid = || {
        ImsError::new(
            INVALID,
            format!("limit must be an integer of at least 1, got {value:?}"),
        )
    };
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let significant = digits.trim_start_matches('0');
    if negative || significant.is_empty() {
        return Err(invalid());
    }
    Ok(significant
        .parse::<usize>()
        .map_or(MAX_LIMIT, |n| n.min(MAX_LIMIT)))
}

/// The listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sort {
    /// One of [`SORT_KEYS`].
    key: &'static str,
    /// Descending (the default) or ascending.
    descending: bool,
}

impl Sort {
    /// Validates `sort_key` and `sort_dir` (exact, case-sensitive).
    fn parse(key: Option<&str>, dir: Option<&str>) -> Result<Self, ImsError> {
        let key = match key {
            None => DEFAULT_SORT_KEY,
            Some(key) => SORT_KEYS
                .iter()
                .copied()
                .find(|known| *known == key)
                .ok_or_else(|| ImsError::new(INVALID, format!("unsupported sort_key {key:?}")))?,
        };
        let descending = match dir {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(dir) => {
                return Err(ImsError::new(
                    INVALID,
                    format!("sort_dir must be asc or desc, got {dir:?}"),
                ))
            }
        };
        Ok(Sort { key, descending })
    }

    /// What this order compares of `image`: its sort key's value and its id.
    fn key_of(&self, image: &Image) -> SortKey {
        SortKey {
            value: image.get(self.key).cloned(),
            id: id_of(image).to_string(),
        }
    }

    /// Total order of two images: the key, then the id, both in the chosen direction.
    fn compare(&self, a: &SortKey, b: &SortKey) -> Ordering {
        let order = compare_values(a.value.as_ref(), b.value.as_ref())
            .then_with(|| compare_ids(&a.id, &b.id));
        if self.descending {
            order.reverse()
        } else {
            order
        }
    }
}

/// A total order over attribute values: absent/null < booleans < numbers < strings < the rest.
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(Value::Number(x)), Some(Value::Number(y))) => number_key(x).cmp(&number_key(y)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// The class of a value for [`compare_values`].
fn rank(value: Option<&Value>) -> u8 {
    match value {
        None | Some(Value::Null) => 0,
        Some(Value::Bool(_)) => 1,
        Some(Value::Number(_)) => 2,
        Some(Value::String(_)) => 3,
        Some(_) => 4,
    }
}

/// A totally ordered key of a JSON number: its `f64` value, then its exact integer value (floats
/// first).
fn number_key(number: &serde_json::Number) -> (TotalF64, Option<i128>) {
    let exact = number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from));
    (TotalF64(number.as_f64().unwrap_or(0.0)), exact)
}

/// An `f64` ordered by [`f64::total_cmp`].
#[derive(Debug, Clone, Copy)]
struct TotalF64(f64);

impl PartialEq for TotalF64 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for TotalF64 {}

impl PartialOrd for TotalF64 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TotalF64 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// What a sort other than `created_at` compares of one image.
#[derive(Debug)]
struct SortKey {
    /// The sort key's value (`None` if absent).
    value: Option<Value>,
    /// The image id.
    id: String,
}

/// Orders ids case-insensitively (ASCII), then byte-wise for determinism.
fn compare_ids(a: &str, b: &str) -> Ordering {
    folded(a).cmp(folded(b)).then_with(|| a.cmp(b))
}

/// The bytes of `id` with ASCII letters lowercased.
fn folded(id: &str) -> impl Iterator<Item = u8> + '_ {
    id.bytes().map(|byte| byte.to_ascii_lowercase())
}

/// The image's id ("" if it has none).
fn id_of(image: &Image) -> &str {
    image.get("id").and_then(Value::as_str).unwrap_or_default()
}

/// Whether the image's id is `id`, ignoring ASCII case.
fn id_is(image: &Image, id: &str) -> bool {
    image
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|own| own.eq_ignore_ascii_case(id))
}

/// One filter over images.
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    /// Matches no image (`__imagetype` shared/market, `visibility` shared).
    Nothing,
    /// The attribute's rendered value equals the text.
    Equals(String, String),
    /// The image id equals the text, ignoring ASCII case.
    Id(String),
    /// The attribute is a timestamp in the relation to the instant.
    Time(&'static str, TimeOp, PrimitiveDateTime),
    /// `architecture`: arm (`true`) or x86 (`false`).
    Arm(bool),
    /// `tags` contains the text.
    Tag(String),
    /// `enterprise_project_id` (absent = "0") equals the text.
    Project(String),
}

impl Filter {
    /// The member this filter reads, if any.
    fn member(&self) -> Option<&str> {
        match self {
            Filter::Nothing => None,
            Filter::Equals(key, _) => Some(key),
            Filter::Id(_) => Some("id"),
            Filter::Time(key, _, _) => Some(key),
            Filter::Arm(_) => Some("__support_arm"),
            Filter::Tag(_) => Some("tags"),
            Filter::Project(_) => Some("enterprise_project_id"),
        }
    }

    /// Whether `image` passes.
    fn matches(&self, image: &Image) -> bool {
        match self {
            Filter::Nothing => false,
            Filter::Equals(key, want) => {
                image.get(key).is_some_and(|value| renders_as(value, want))
            }
            Filter::Id(want) => id_is(image, want),
            Filter::Time(key, op, at) => {
                image_time(image, key).is_some_and(|own| op.holds(own.cmp(at)))
            }
            Filter::Arm(arm) => {
                image
                    .get("__support_arm")
                    .is_some_and(|value| renders_as(value, "true"))
                    == *arm
            }
            Filter::Tag(tag) => has_tag(image, tag),
            Filter::Project(want) => image
                .get("enterprise_project_id")
                .map_or(want == "0", |value| renders_as(value, want)),
        }
    }
}

/// Builds the filter of one parameter (`None` for paging/sorting and ignored parameters).
fn parse_filter(key: &str, value: &str) -> Result<Option<Filter>, ImsError> {
    let filter = match key {
        "limit" | "marker" | "sort_key" | "sort_dir" | "member_status" | "flavor_id" => {
            return Ok(None)
        }
        "__imagetype" => image_type_filter(value)?,
        "visibility" => visibility_filter(value)?,
        "protected" => protected_filter(value)?,
        "created_at" => time_filter("created_at", value)?,
        "updated_at" => time_filter("updated_at", value)?,
        "architecture" => architecture_filter(value)?,
        "tag" => Filter::Tag(value.to_string()),
        "enterprise_project_id" if value == "all_granted_eps" => return Ok(None),
        "enterprise_project_id" => Filter::Project(value.to_string()),
        "id" => Filter::Id(value.to_string()),
        _ => Filter::Equals(key.to_string(), value.to_string()),
    };
    Ok(Some(filter))
}

/// `__imagetype`: gold/private by equality, shared/market match nothing, else `IMG.0024`.
fn image_type_filter(value: &str) -> Result<Filter, ImsError> {
    match value {
        "gold" | "private" => Ok(Filter::Equals("__imagetype".into(), value.into())),
        "shared" | "market" => Ok(Filter::Nothing),
        _ => Err(ImsError::new(
            BAD_IMAGE_TYPE,
            format!("unsupported __imagetype {value:?}"),
        )),
    }
}

/// `visibility`: public/private by equality, shared matches nothing, else `IMG.0001`.
fn visibility_filter(value: &str) -> Result<Filter, ImsError> {
    match value {
        "public" | "private" => Ok(Filter::Equals("visibility".into(), value.into())),
        "shared" => Ok(Filter::Nothing),
        _ => Err(ImsError::new(
            INVALID,
            format!("unsupported visibility {value:?}"),
        )),
    }
}

/// `protected`: `true`/`false`, else `IMG.0001`.
fn protected_filter(value: &str) -> Result<Filter, ImsError> {
    match value {
        "true" | "false" => Ok(Filter::Equals("protected".into(), value.into())),
        _ => Err(ImsError::new(
            INVALID,
            format!("protected must be true or false, got {value:?}"),
        )),
    }
}

/// `architecture`: `arm`/`x86`, else `IMG.0001`.
fn architecture_filter(value: &str) -> Result<Filter, ImsError> {
    match value {
        "arm" => Ok(Filter::Arm(true)),
        "x86" => Ok(Filter::Arm(false)),
        _ => Err(ImsError::new(
            INVALID,
            format!("architecture must be arm or x86, got {value:?}"),
        )),
    }
}

/// Whether a rendered value reads as `want`: strings as is, numbers as decimal text, booleans as
/// `true`/`false`; null, arrays and objects never match.
fn renders_as(value: &Value, want: &str) -> bool {
    match value {
        Value::String(text) => text == want,
        Value::Number(number) => number.to_string() == want,
        Value::Bool(flag) => want == if *flag { "true" } else { "false" },
        _ => false,
    }
}

/// Whether the image's `tags` array holds `tag`.
fn has_tag(image: &Image, tag: &str) -> bool {
    image
        .get("tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(tag)))
}

/// A time comparison of `created_at`/`updated_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeOp {
    /// Later than.
    Gt,
    /// Later than or equal.
    Gte,
    /// Earlier than.
    Lt,
    /// Earlier than or equal.
    Lte,
    /// Equal (also a bare time).
    Eq,
    /// Not equal.
    Neq,
}

impl TimeOp {
    /// The operator named by `name` (lowercase only).
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "gt" => TimeOp::Gt,
            "gte" => TimeOp::Gte,
            "lt" => TimeOp::Lt,
            "lte" => TimeOp::Lte,
            "eq" => TimeOp::Eq,
            "neq" => TimeOp::Neq,
            _ => return None,
        })
    }

    /// Whether `image time cmp filter time` satisfies the operator.
    fn holds(self, order: Ordering) -> bool {
        match self {
            TimeOp::Gt => order == Ordering::Greater,
            TimeOp::Gte => order != Ordering::Less,
            TimeOp::Lt => order == Ordering::Less,
            TimeOp::Lte => order != Ordering::Greater,
            TimeOp::Eq => order == Ordering::Equal,
            TimeOp::Neq => order != Ordering::Equal,
        }
    }
}

/// `op:time` or a bare time (= `eq`); anything else is `IMG.0001`.
fn time_filter(key: &'static str, value: &str) -> Result<Filter, ImsError> {
    let (op, time) = match value.split_once(':') {
        Some((prefix, rest)) => TimeOp::named(prefix).map_or((TimeOp::Eq, value), |op| (op, rest)),
        None => (TimeOp::Eq, value),
    };
    let at = parse_time(time)
        .ok_or_else(|| ImsError::new(INVALID, format!("{key} must be [op:]time, got {value:?}")))?;
    Ok(Filter::Time(key, op, at))
}

/// `YYYY-MM-DDThh:mm:ssZ` or `YYYY-MM-DD hh:mm:ss` (UTC), calendar-checked.
fn parse_time(text: &str) -> Option<PrimitiveDateTime> {
    let wire = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let spaced = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, wire)
        .or_else(|_| PrimitiveDateTime::parse(text, spaced))
        .ok()
}

/// The image's timestamp attribute, if present and well-formed.
fn image_time(image: &Image, key: &str) -> Option<PrimitiveDateTime> {
    image.get(key).and_then(Value::as_str).and_then(parse_time)
}

/// The `next` link: the received segments except `marker`, in order, then `marker=<last id>`.
fn next_link(pairs: &[Pair<'_>], last: &str) -> String {
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|pair| pair.key != "marker")
        .map(|pair| pair.raw.to_string())
        .collect();
    query.push(format!(
        "marker={}",
        utf8_percent_encode(last, MARKER_ESCAPES)
    ));
    format!("{PATH}?{}", query.join("&"))
}

/// A ListImages body: the page's stored images (a packed image's text copied as is; members in
/// alphabetical order either way, as every Huawei body) and the paging members.
#[derive(Debug)]
pub struct Page<'a> {
    images: Vec<&'a Stored>,
    next: Option<String>,
    page_info: Option<PageInfo>,
}

/// `page_info`: `{"next_marker": <last id>}` when more images match, else `{}`.
#[derive(Debug, Serialize)]
struct PageInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

impl Page<'_> {
    /// `{"images":[]}`: the answer to an `id` filter that names no visible image.
    fn bare_empty() -> Self {
        Page {
            images: Vec::new(),
            next: None,
            page_info: None,
        }
    }

    /// The body: `{"images":[…]}` then `next` and `page_info` when set.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.images.len() * 512);
        out.extend_from_slice(b"{\"images\":[");
        for (i, image) in self.images.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            image.write_json(&mut out);
        }
        out.push(b']');
        // Strings and plain structs always serialise.
        if let Some(next) = &self.next {
            out.extend_from_slice(b",\"next\":");
            let _ = serde_json::to_writer(&mut out, next);
        }
        if let Some(info) = &self.page_info {
            out.extend_from_slice(b",\"page_info\":");
            let _ = serde_json::to_writer(&mut out, info);
        }
        out.push(b'}');
        out
    }
}

/// The response body for one page; `next` is set when more images match after it.
fn render<'a>(page: Vec<&'a Stored>, more: bool, pairs: &[Pair<'_>]) -> Page<'a> {
    let next_marker = page
        .last()
        .filter(|_| more)
        .and_then(|last| last.member("id"))
        .map(|id| id.as_str().unwrap_or_default().to_string());
    Page {
        next: next_marker
            .as_deref()
            .map(|marker| next_link(pairs, marker)),
        page_info: Some(PageInfo { next_marker }),
        images: page,
    }
}

#[cfg(test)]
mod tests {
    use super::super::packed::{pack, Owners};
    use super::*;
    use serde_json::json;

    const A: &str = "0a000000-0000-4000-8000-00000000000a";
    const B: &str = "0b000000-0000-4000-8000-00000000000b";
    const C: &str = "0c000000-0000-4000-8000-00000000000c";
    const D: &str = "0d000000-0000-4000-8000-00000000000d";
    const E: &str = "0e000000-0000-4000-8000-00000000000e";

    /// A private image as rendered on the wire.
    fn image(id: &str, name: &str, created: &str) -> Image {
        let value = json!({
            "id": id, "name": name, "status": "active", "visibility": "private",
            "owner": "0b1e494e2660441a957313163095fe5c", "protected": false,
            "created_at": created, "updated_at": created,
            "container_format": "bare", "disk_format": "zvhd2", "size": 2, "min_ram": 0, "min_disk": 40,
            "tags": [], "__imagetype": "private", "__platform": "Ubuntu", "__os_type": "Linux",
            "__data_origin": null, "deleted": false,
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    /// `image` with extra attributes.
    fn with(mut image: Image, extra: Value) -> Image {
        if let Value::Object(extra) = extra {
            image.extend(extra);
        }
        image
    }

    /// A gold image.
    fn gold(id: &str, name: &str) -> Image {
        let extra = json!({"visibility": "public", "__imagetype": "gold", "protected": true,
            "owner": "00000000000000000000000000000000", "__support_kvm": "true"});
        with(image(id, name, "2023-05-10T08:00:00Z"), extra)
    }

    /// Five private images, created a (oldest) … e (newest), one second apart.
    fn five() -> Vec<Image> {
        [A, B, C, D, E]
            .iter()
            .enumerate()
            .map(|(i, id)| image(id, &format!("img-{i}"), &format!("2024-01-01T00:00:0{i}Z")))
            .collect()
    }

    /// The project the private test images belong to.
    const PROJECT: &str = "0b1e494e2660441a957313163095fe5c";

    /// A store holding `images`, every other one packed (as loaded) and the rest open (as
    /// changed by a request): every listing sees both forms.
    fn store(images: &[Image]) -> Store {
        let mut store = Store::default();
        let mut owners = Owners::default();
        for (i, image) in images.iter().enumerate() {
            let id = image_key(image["id"].as_str().unwrap_or_default()).unwrap();
            let stored = if i % 2 == 0 {
                Stored::Packed(pack(image, &mut owners))
            } else {
                Stored::opened(image.clone())
            };
            store.insert_stored(id, stored);
        }
        store
    }

    /// The body of `page`, parsed.
    fn body(page: &Page<'_>) -> Value {
        serde_json::from_slice(&page.to_json()).unwrap()
    }

    fn run(images: &[Image], query: &str) -> Result<Value, ImsError> {
        let store = store(images);
        list(&store, PROJECT, Some(query)).map(|page| body(&page))
    }

    fn ok(images: &[Image], query: &str) -> Value {
        match run(images, query) {
            Ok(body) => body,
            Err(err) => panic!("{query}: unexpected {err:?}"),
        }
    }

    fn ids(images: &[Image], query: &str) -> Vec<String> {
        let body = ok(images, query);
        body["images"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|i| i["id"].as_str().unwrap_or("?").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn code(images: &[Image], query: &str) -> &'static str {
        match run(images, query) {
            Ok(body) => panic!("{query}: expected an error, got {body}"),
            Err(err) => err.code,
        }
    }

    /// The index walk gives exactly what sorting every visible image gives, for every page.
    #[test]
    fn the_created_at_index_pages_like_a_full_sort() {
        let mut images = Vec::new();
        for n in 0..60u32 {
            // Repeated timestamps, ids differing in case, other projects and gold images mixed in.
            let id = format!("{:08x}-0000-4000-8000-{:012x}", (n * 7919) % 97, n);
            let id = if n % 3 == 0 { id.to_uppercase() } else { id };
            let created = format!("2024-01-01T00:00:{:02}Z", n % 7);
            let mut image = image(&id, &format!("img-{n}"), &created);
            match n % 5 {
                0 => image = with(image, json!({"owner": "ffffffffffffffffffffffffffffffff"})),
                1 => {
                    image = with(
                        image,
                        json!({"__imagetype": "gold", "visibility": "public",
                        "owner": "00000000000000000000000000000000"}),
                    )
                }
                _ => {}
            }
            images.push(image);
        }
        let store = store(&images);
        for dir in ["desc", "asc"] {
            let sort = Sort::parse(None, Some(dir)).unwrap();
            let mut expected: Vec<SortKey> = store
                .images
                .values()
                .filter(|i| i.visible_to(PROJECT))
                .map(|i| sort.key_of(&i.image()))
                .collect();
            expected.sort_by(|a, b| sort.compare(a, b));
            let want: Vec<&str> = expected.iter().map(|k| k.id.as_str()).collect();
            let mut got = Vec::new();
            let mut marker = String::new();
            loop {
                let page = list(
                    &store,
                    PROJECT,
                    Some(&format!("limit=7&sort_dir={dir}&marker={marker}")),
                )
                .unwrap();
                let body = body(&page);
                let page = body["images"].as_array().unwrap().clone();
                got.extend(page.iter().map(|i| i["id"].as_str().unwrap().to_string()));
                match body["page_info"]["next_marker"].as_str() {
                    Some(next) => marker = next.to_string(),
                    None => break,
                }
            }
            assert_eq!(got, want, "sort_dir={dir}");
        }
    }

    // ---- defaults and sorting ----

    #[test]
    fn defaults_list_everything_newest_first_without_next() {
        let images = five();
        let body = run(&images, "").unwrap();
        assert_eq!(ids(&images, ""), [E, D, C, B, A]);
        assert_eq!(body["page_info"], json!({}));
        assert!(body.get("next").is_none());
        assert_eq!(
            body["images"][0],
            Value::Object(images[4].clone()),
            "objects are returned unchanged"
        );
    }

    #[test]
    fn empty_visible_set_is_an_empty_page() {
        assert_eq!(ok(&[], ""), json!({"images": [], "page_info": {}}));
    }

    #[test]
    fn created_at_ascending() {
        assert_eq!(ids(&five(), "sort_dir=asc"), [A, B, C, D, E]);
        assert_eq!(
            ids(&five(), "sort_key=created_at&sort_dir=desc"),
            [E, D, C, B, A]
        );
    }

    #[test]
    fn ties_break_by_id_in_the_same_direction() {
        let images = vec![gold(C, "x"), gold(A, "x"), gold(B, "x")];
        assert_eq!(ids(&images, ""), [C, B, A]);
        assert_eq!(ids(&images, "sort_dir=asc"), [A, B, C]);
        assert_eq!(ids(&images, "sort_key=name&sort_dir=asc"), [A, B, C]);
    }

    #[test]
    fn sort_by_name_both_directions_with_ties() {
        let images = vec![
            image(A, "b", "2024-01-01T00:00:00Z"),
            image(B, "a", "2024-01-01T00:00:00Z"),
            image(C, "b", "2024-01-01T00:00:00Z"),
        ];
        assert_eq!(ids(&images, "sort_key=name&sort_dir=asc"), [B, A, C]);
        assert_eq!(ids(&images, "sort_key=name"), [C, A, B]);
    }

    #[test]
    fn sort_by_every_other_key() {
        let t = "2024-01-01T00:00:00Z";
        let images = vec![
            with(
                image(A, "n", t),
                json!({"container_format": "ovf", "disk_format": "qcow2", "status": "saving", "size": 10}),
            ),
            with(
                image(B, "n", t),
                json!({"container_format": "bare", "disk_format": "vhd", "status": "active", "size": 9}),
            ),
            with(
                image(C, "n", t),
                json!({"container_format": "docker", "disk_format": "raw", "status": "queued", "size": 100}),
            ),
        ];
        assert_eq!(
            ids(&images, "sort_key=container_format&sort_dir=asc"),
            [B, C, A]
        );
        assert_eq!(ids(&images, "sort_key=disk_format&sort_dir=asc"), [A, C, B]);
        assert_eq!(ids(&images, "sort_key=status&sort_dir=asc"), [B, C, A]);
        assert_eq!(ids(&images, "sort_key=id&sort_dir=asc"), [A, B, C]);
        assert_eq!(ids(&images, "sort_key=id"), [C, B, A]);
        assert_eq!(
            ids(&images, "sort_key=size&sort_dir=asc"),
            [B, A, C],
            "numeric, not text order"
        );
        assert_eq!(ids(&images, "sort_key=size"), [C, A, B]);
    }

    #[test]
    fn missing_sort_attribute_sorts_lowest() {
        let t = "2024-01-01T00:00:00Z";
        let mut bare = image(A, "n", t);
        bare.remove("size");
        let images = vec![bare, image(B, "n", t)];
        assert_eq!(ids(&images, "sort_key=size&sort_dir=asc"), [A, B]);
        assert_eq!(ids(&images, "sort_key=size"), [B, A]);
    }

    #[test]
    fn value_order_is_total_across_kinds() {
        let values = [
            None,
            Some(json!(null)),
            Some(json!(true)),
            Some(json!(1.5)),
            Some(json!(9007199254740993u64)),
            Some(json!(9007199254740992.0)),
            Some(json!(-1)),
            Some(json!("a")),
            Some(json!([])),
        ];
        for a in &values {
            assert_eq!(compare_values(a.as_ref(), a.as_ref()), Ordering::Equal);
            for b in &values {
                let ab = compare_values(a.as_ref(), b.as_ref());
                assert_eq!(ab, compare_values(b.as_ref(), a.as_ref()).reverse());
                for c in &values {
                    let bc = compare_values(b.as_ref(), c.as_ref());
                    if ab != Ordering::Greater && bc != Ordering::Greater {
                        assert_ne!(
                            compare_values(a.as_ref(), c.as_ref()),
                            Ordering::Greater,
                            "{a:?} {b:?} {c:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_sort_key_or_dir_is_img_0001() {
        for query in [
            "sort_key=min_disk",
            "sort_key=NAME",
            "sort_key=name,id",
            "sort_dir=DESC",
            "sort_dir=up",
            "sort_key=size&sort_dir=ascending",
        ] {
            assert_eq!(code(&five(), query), "IMG.0001", "{query}");
        }
    }

    // ---- limit ----

    #[test]
    fn limit_takes_the_first_images() {
        assert_eq!(ids(&five(), "limit=2"), [E, D]);
        assert_eq!(ids(&five(), "limit=5"), [E, D, C, B, A]);
        assert_eq!(ids(&five(), "limit=+3"), [E, D, C]);
        assert_eq!(ids(&five(), "limit=003"), [E, D, C]);
        assert!(
            ok(&five(), "limit=5").get("next").is_none(),
            "exactly full page: nothing more"
        );
    }

    #[test]
    fn limit_defaults_to_and_clamps_at_500() {
        let many: Vec<Image> = (0..501)
            .map(|i| {
                image(
                    &format!("{i:08}-0000-4000-8000-000000000000"),
                    "n",
                    "2024-01-01T00:00:00Z",
                )
            })
            .collect();
        for query in [
            "",
            "limit=",
            "limit=500",
            "limit=501",
            "limit=1000",
            "limit=99999999999999999999999999999",
        ] {
            let body = ok(&many, query);
            assert_eq!(
                body["images"].as_array().map(Vec::len),
                Some(500),
                "{query}"
            );
            assert!(body["page_info"]["next_marker"].is_string(), "{query}");
        }
        let body = ok(&many, "");
        assert_eq!(
            body["next"],
            json!("/v2/cloudimages?marker=00000001-0000-4000-8000-000000000000")
        );
    }

    #[test]
    fn invalid_limit_is_img_0001() {
        for query in [
            "limit=0",
            "limit=-1",
            "limit=-0",
            "limit=000",
            "limit=abc",
            "limit=1.5",
            "limit=%205",
            "limit=5%20",
            "limit=+",
            "limit=-",
            "limit=%",
            "limit=1e3",
            "limit=0x10",
            "limit=-99999999999999999999999",
        ] {
            assert_eq!(code(&five(), query), "IMG.0001", "{query}");
        }
    }

    // ---- marker ----

    #[test]
    fn marker_pages_through_five_images_two_at_a_time() {
        let images = five();
        let page1 = ok(&images, "limit=2");
        assert_eq!(ids(&images, "limit=2"), [E, D]);
        assert_eq!(page1["page_info"], json!({"next_marker": D}));
        assert_eq!(
            page1["next"],
            json!(format!("/v2/cloudimages?limit=2&marker={D}"))
        );

        let page2 = ok(&images, &format!("limit=2&marker={D}"));
        assert_eq!(ids(&images, &format!("limit=2&marker={D}")), [C, B]);
        assert_eq!(page2["page_info"], json!({"next_marker": B}));
        assert_eq!(
            page2["next"],
            json!(format!("/v2/cloudimages?limit=2&marker={B}"))
        );

        let page3 = ok(&images, &format!("limit=2&marker={B}"));
        assert_eq!(ids(&images, &format!("limit=2&marker={B}")), [A]);
        assert_eq!(page3["page_info"], json!({}));
        assert!(page3.get("next").is_none());
    }

    #[test]
    fn marker_pages_ascending_too() {
        assert_eq!(
            ids(&five(), &format!("sort_dir=asc&limit=2&marker={B}")),
            [C, D]
        );
        assert_eq!(
            ids(&five(), &format!("sort_dir=asc&marker={E}")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn marker_need_not_match_the_filters() {
        let mut images = five();
        images[2].insert("name".into(), json!("other")); // C
        let query = format!("name=other&marker={D}");
        assert_eq!(ids(&images, &query), [C]);
        let query = format!("__platform=Ubuntu&marker={C}&__imagetype=private");
        images[2].insert("__platform".into(), json!("Windows"));
        assert_eq!(ids(&images, &query), [B, A]);
    }

    #[test]
    fn marker_matches_case_insensitively() {
        assert_eq!(
            ids(&five(), &format!("marker={}", C.to_uppercase())),
            [B, A]
        );
    }

    #[test]
    fn unknown_or_invisible_marker_is_img_0027() {
        let images = five();
        assert_eq!(
            code(&images, "marker=ffffffff-0000-4000-8000-000000000000"),
            "IMG.0027"
        );
        assert_eq!(code(&images, "marker=garbage"), "IMG.0027");
        assert_eq!(
            code(&images[..2], &format!("marker={E}")),
            "IMG.0027",
            "not in the visible set"
        );
        assert_eq!(ids(&images, "marker="), [E, D, C, B, A], "empty = absent");
    }

    // ---- __imagetype / visibility / protected ----

    #[test]
    fn imagetype_filter() {
        let images = vec![gold(A, "g"), image(B, "p", "2024-01-01T00:00:00Z")];
        assert_eq!(ids(&images, "__imagetype=gold"), [A]);
        assert_eq!(ids(&images, "__imagetype=private"), [B]);
        assert!(ids(&images, "__imagetype=shared").is_empty());
        assert!(ids(&images, "__imagetype=market").is_empty());
        assert_eq!(
            ok(&images, "__imagetype=shared"),
            json!({"images": [], "page_info": {}})
        );
    }

    #[test]
    fn invalid_imagetype_is_img_0024() {
        for query in [
            "__imagetype=GOLD",
            "__imagetype=public",
            "__imagetype=x",
            "__imagetype=gold%20",
        ] {
            assert_eq!(code(&five(), query), "IMG.0024", "{query}");
        }
    }

    #[test]
    fn visibility_filter() {
        let images = vec![gold(A, "g"), image(B, "p", "2024-01-01T00:00:00Z")];
        assert_eq!(ids(&images, "visibility=public"), [A]);
        assert_eq!(ids(&images, "visibility=private"), [B]);
        assert!(ids(&images, "visibility=shared").is_empty());
        for query in [
            "visibility=Public",
            "visibility=community",
            "visibility=all",
        ] {
            assert_eq!(code(&images, query), "IMG.0001", "{query}");
        }
    }

    #[test]
    fn protected_filter() {
        let images = vec![gold(A, "g"), image(B, "p", "2024-01-01T00:00:00Z")];
        assert_eq!(ids(&images, "protected=true"), [A]);
        assert_eq!(ids(&images, "protected=false"), [B]);
        for query in ["protected=True", "protected=1", "protected=yes"] {
            assert_eq!(code(&images, query), "IMG.0001", "{query}");
        }
    }

    // ---- time filters ----

    fn dated() -> Vec<Image> {
        vec![
            with(
                image(A, "a", "2018-10-28T09:00:00Z"),
                json!({"updated_at": "2019-01-01T00:00:00Z"}),
            ),
            with(
                image(B, "b", "2018-10-28T10:00:00Z"),
                json!({"updated_at": "2019-01-02T00:00:00Z"}),
            ),
            with(
                image(C, "c", "2018-10-28T11:00:00Z"),
                json!({"updated_at": "2019-01-03T00:00:00Z"}),
            ),
        ]
    }

    #[test]
    fn created_at_operators() {
        let images = dated();
        let at = "2018-10-28T10:00:00Z";
        assert_eq!(ids(&images, &format!("created_at=gt:{at}")), [C]);
        assert_eq!(ids(&images, &format!("created_at=gte:{at}")), [C, B]);
        assert_eq!(ids(&images, &format!("created_at=lt:{at}")), [A]);
        assert_eq!(ids(&images, &format!("created_at=lte:{at}")), [B, A]);
        assert_eq!(ids(&images, &format!("created_at=eq:{at}")), [B]);
        assert_eq!(ids(&images, &format!("created_at=neq:{at}")), [C, A]);
        assert_eq!(
            ids(&images, &format!("created_at={at}")),
            [B],
            "bare time = eq"
        );
    }

    #[test]
    fn time_filter_accepts_sdk_encoding_and_spaced_form() {
        let images = dated();
        assert_eq!(
            ids(&images, "created_at=gt%3A2018-10-28T10%3A00%3A00Z"),
            [C]
        );
        assert_eq!(ids(&images, "created_at=lte:2018-10-28%2010:00:00"), [B, A]);
        assert_eq!(ids(&images, "created_at=2018-10-28%2009:00:00"), [A]);
    }

    #[test]
    fn updated_at_operators() {
        let images = dated();
        assert_eq!(ids(&images, "updated_at=gte:2019-01-02T00:00:00Z"), [C, B]);
        assert_eq!(ids(&images, "updated_at=lt:2019-01-02%2000:00:00"), [A]);
        assert_eq!(
            ids(
                &images,
                "updated_at=neq:2019-01-02T00:00:00Z&created_at=gt:2018-01-01T00:00:00Z"
            ),
            [C, A]
        );
    }

    #[test]
    fn image_with_unreadable_time_never_matches() {
        let images = vec![
            with(
                image(A, "a", "2018-10-28T10:00:00Z"),
                json!({"created_at": "soon"}),
            ),
            image(B, "b", "2018-10-28T10:00:00Z"),
        ];
        assert_eq!(ids(&images, "created_at=neq:2000-01-01T00:00:00Z"), [B]);
    }

    #[test]
    fn invalid_time_is_img_0001() {
        for query in [
            "created_at=gt:",
            "created_at=gt",
            "created_at=GT:2018-10-28T10:00:00Z",
            "created_at=ge:2018-10-28T10:00:00Z",
            "created_at=2018-02-30T00:00:00Z",
            "created_at=2018-10-28T10:00:00",
            "created_at=2018-10-28T24:00:00Z",
            "created_at=2018-10-28+10:00:00",
            "created_at=2018-10-28",
            "created_at=2018-10-28T10:00:00.000Z",
            "created_at=2018-10-28T10:00:00Z%20",
            "created_at=gt:gt:2018-10-28T10:00:00Z",
            "updated_at=yesterday",
            "updated_at=lt:99999-01-01T00:00:00Z",
            "updated_at=%E2%80%8B",
        ] {
            assert_eq!(code(&dated(), query), "IMG.0001", "{query}");
        }
    }

    // ---- architecture / tag / enterprise project ----

    #[test]
    fn architecture_filter() {
        let t = "2024-01-01T00:00:00Z";
        let images = vec![
            with(image(A, "arm", t), json!({"__support_arm": "true"})),
            with(image(B, "no-arm", t), json!({"__support_arm": "false"})),
            image(C, "unset", t),
        ];
        assert_eq!(ids(&images, "architecture=arm"), [A]);
        assert_eq!(ids(&images, "architecture=x86"), [C, B]);
        for query in [
            "architecture=ARM",
            "architecture=Arm",
            "architecture=aarch64",
            "architecture=x86_64",
        ] {
            assert_eq!(code(&images, query), "IMG.0001", "{query}");
        }
    }

    #[test]
    fn tag_filter() {
        let t = "2024-01-01T00:00:00Z";
        let mut untagged = image(C, "none", t);
        untagged.remove("tags");
        let images = vec![
            with(image(A, "a", t), json!({"tags": ["web", "prod"]})),
            with(image(B, "b", t), json!({"tags": ["web"]})),
            untagged,
        ];
        assert_eq!(ids(&images, "tag=web"), [B, A]);
        assert_eq!(ids(&images, "tag=prod"), [A]);
        assert!(ids(&images, "tag=we").is_empty());
        assert!(ids(&images, "tag=Web").is_empty());
    }

    #[test]
    fn enterprise_project_filter() {
        let t = "2024-01-01T00:00:00Z";
        let ep = "9f1c6d2e-0000-4000-8000-000000000001";
        let images = vec![
            with(image(A, "zero", t), json!({"enterprise_project_id": "0"})),
            with(image(B, "ep", t), json!({"enterprise_project_id": ep})),
            image(C, "unset", t),
        ];
        assert_eq!(
            ids(&images, "enterprise_project_id=all_granted_eps"),
            [C, B, A]
        );
        assert_eq!(
            ids(&images, "enterprise_project_id=0"),
            [C, A],
            "absent counts as 0"
        );
        assert_eq!(ids(&images, &format!("enterprise_project_id={ep}")), [B]);
        assert!(ids(&images, "enterprise_project_id=nope").is_empty());
    }

    #[test]
    fn member_status_and_flavor_id_are_ignored() {
        assert_eq!(
            ids(&five(), "member_status=accepted&flavor_id=s6.large.2"),
            [E, D, C, B, A]
        );
        assert_eq!(ids(&five(), "member_status=anything"), [E, D, C, B, A]);
    }

    // ---- equality on other parameters ----

    #[test]
    fn equality_on_documented_string_attributes() {
        let images = vec![
            gold(A, "Ubuntu 22.04 server 64bit"),
            image(B, "mine", "2024-01-01T00:00:00Z"),
        ];
        assert_eq!(ids(&images, "name=Ubuntu%2022.04%20server%2064bit"), [A]);
        assert!(
            ids(&images, "name=Ubuntu+22.04+server+64bit").is_empty(),
            "+ stays literal"
        );
        assert!(
            ids(&images, "name=ubuntu%2022.04%20server%2064bit").is_empty(),
            "name is case-sensitive"
        );
        assert_eq!(ids(&images, "status=active"), [B, A]);
        assert_eq!(ids(&images, "owner=00000000000000000000000000000000"), [A]);
        assert_eq!(
            ids(
                &images,
                "__platform=Ubuntu&__os_type=Linux&disk_format=zvhd2"
            ),
            [B, A]
        );
        assert_eq!(ids(&images, "__support_kvm=true"), [A]);
    }

    #[test]
    fn equality_on_custom_attributes_and_numbers() {
        let t = "2024-01-01T00:00:00Z";
        let images = vec![
            with(
                image(A, "a", t),
                json!({"team": "blue", "min_disk": 100, "max_ram": "4096"}),
            ),
            with(image(B, "b", t), json!({"team": "red"})),
        ];
        assert_eq!(ids(&images, "team=blue"), [A]);
        assert_eq!(ids(&images, "min_disk=40"), [B]);
        assert_eq!(ids(&images, "min_disk=100"), [A]);
        assert_eq!(ids(&images, "size=2"), [B, A]);
        assert_eq!(ids(&images, "min_ram=0"), [B, A]);
        assert!(
            ids(&images, "min_disk=40.0").is_empty(),
            "decimal text of the number"
        );
        assert_eq!(ids(&images, "max_ram=4096"), [A]);
        assert_eq!(
            ids(&images, "deleted=false"),
            [B, A],
            "booleans as true/false"
        );
    }

    #[test]
    fn missing_or_non_scalar_attribute_never_matches() {
        let images = five();
        assert!(ids(&images, "team=blue").is_empty());
        assert!(ids(&images, "__support_kvm=false").is_empty());
        assert!(
            ids(&images, "__data_origin=null").is_empty(),
            "null never matches"
        );
        assert!(
            ids(&images, "tags=%5B%5D").is_empty(),
            "arrays never match by equality"
        );
    }

    #[test]
    fn repeated_parameter_last_wins_and_empty_is_absent() {
        let images = five();
        assert_eq!(ids(&images, "name=img-1&name=img-3"), [D]);
        assert_eq!(ids(&images, "name=img-1&name="), [E, D, C, B, A]);
        assert_eq!(ids(&images, "name=&limit=2&name"), [E, D]);
        assert_eq!(ids(&images, "limit=1&limit=3"), [E, D, C]);
        assert_eq!(ids(&images, "limit=0&limit=2"), [E, D]);
        assert_eq!(ids(&images, "&&limit=2&&"), [E, D]);
        assert_eq!(
            ids(&images, "=x&limit=2"),
            [E, D],
            "empty names are skipped"
        );
    }

    #[test]
    fn names_are_percent_decoded_too() {
        assert_eq!(ids(&five(), "%6Eame=img-2"), [C]);
        assert_eq!(ids(&five(), &format!("%6Darker={C}")), [B, A]);
    }

    #[test]
    fn bad_escapes_are_literal() {
        let t = "2024-01-01T00:00:00Z";
        let images = vec![image(A, "100%ZZ", t), image(B, "%", t)];
        assert_eq!(ids(&images, "name=100%ZZ"), [A]);
        assert_eq!(ids(&images, "name=%"), [B]);
        assert!(ids(&images, "name=%FF%FE").is_empty());
    }

    // ---- id ----

    #[test]
    fn id_equality_is_case_insensitive() {
        assert_eq!(ids(&five(), &format!("id={}", C.to_uppercase())), [C]);
        assert_eq!(ids(&five(), &format!("id={C}")), [C]);
    }

    #[test]
    fn unknown_or_malformed_id_is_bare_empty_list() {
        let images = five();
        assert_eq!(
            ok(&images, "id=ffffffff-0000-4000-8000-000000000000"),
            json!({"images": []})
        );
        assert_eq!(ok(&images, "id=not-an-id"), json!({"images": []}));
        assert_eq!(ok(&images, "id=%"), json!({"images": []}));
        assert_eq!(ok(&[], &format!("id={A}")), json!({"images": []}));
    }

    #[test]
    fn known_id_filtered_out_is_an_ordinary_empty_page() {
        assert_eq!(
            ok(&five(), &format!("id={C}&name=img-0")),
            json!({"images": [], "page_info": {}})
        );
    }

    #[test]
    fn validation_precedes_the_id_answer() {
        assert_eq!(code(&five(), "id=nope&limit=0"), "IMG.0001");
        assert_eq!(code(&five(), "id=nope&marker=nope"), "IMG.0027");
    }

    // ---- validation order ----

    #[test]
    fn first_invalid_parameter_wins() {
        let images = five();
        assert_eq!(
            code(&images, "__imagetype=bad&limit=0"),
            "IMG.0001",
            "limit first"
        );
        assert_eq!(
            code(&images, "__imagetype=bad&sort_dir=up"),
            "IMG.0001",
            "sorting before filters"
        );
        assert_eq!(code(&images, "__imagetype=bad&visibility=bad"), "IMG.0024");
        assert_eq!(code(&images, "visibility=bad&__imagetype=bad"), "IMG.0001");
        assert_eq!(
            code(&images, "marker=nope&__imagetype=bad"),
            "IMG.0024",
            "marker last"
        );
    }

    #[test]
    fn error_carries_a_cause() {
        let err = run(&five(), "limit=abc").err().unwrap();
        assert_eq!(err.code, "IMG.0001");
        assert!(err.cause.contains("limit"));
    }

    // ---- next ----

    #[test]
    fn next_keeps_other_parameters_as_received_in_order() {
        let images = five();
        let since = "created_at=gt%3A2000-01-01T00%3A00%3A00Z";
        let query = format!("{since}&marker={E}&limit=2&name=&sort_dir=desc&flavor_id=%zz");
        let body = ok(&images, &query);
        assert_eq!(ids(&images, &query), [D, C]);
        assert_eq!(
            body["next"],
            json!(format!(
                "/v2/cloudimages?{since}&limit=2&name=&sort_dir=desc&flavor_id=%zz&marker={C}"
            ))
        );
        assert_eq!(body["page_info"]["next_marker"], json!(C));
    }

    #[test]
    fn following_next_walks_every_page() {
        let images = five();
        let mut query = "limit=2&sort_dir=asc".to_string();
        let mut seen = Vec::new();
        for _ in 0..10 {
            let body = ok(&images, &query);
            seen.extend(ids(&images, &query));
            match body["next"].as_str() {
                Some(next) => query = next.trim_start_matches("/v2/cloudimages?").to_string(),
                None => break,
            }
        }
        assert_eq!(seen, [A, B, C, D, E]);
    }

    #[test]
    fn next_marker_is_the_id_as_rendered() {
        // Stored ids are UUIDs (loading refuses anything else), so the marker never needs
        // escaping; its case is the image's own.
        let upper = "0A000000-0000-4000-8000-00000000000A";
        let images = vec![
            image(upper, "x", "2024-01-01T00:00:00Z"),
            image(B, "y", "2024-01-01T00:00:00Z"),
        ];
        let body = ok(&images, "limit=1&sort_key=name&sort_dir=asc");
        assert_eq!(body["page_info"]["next_marker"], json!(upper));
        let body = ok(&images, "limit=1&sort_key=name");
        assert_eq!(
            body["next"],
            json!(format!("/v2/cloudimages?limit=1&sort_key=name&marker={B}"))
        );
        let next = ok(&images, &format!("limit=1&sort_key=name&marker={B}"));
        assert_eq!(next["images"][0]["id"], json!(upper));
    }

    // ---- robustness ----

    /// xorshift64*: a tiny deterministic generator for the fuzz loop.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[test]
    fn random_queries_never_panic() {
        const KEYS: &[&str] = &[
            "limit",
            "marker",
            "sort_key",
            "sort_dir",
            "__imagetype",
            "visibility",
            "protected",
            "created_at",
            "updated_at",
            "architecture",
            "tag",
            "enterprise_project_id",
            "id",
            "name",
            "size",
            "member_status",
            "",
            "%",
            "%6Carker",
            "x",
        ];
        const PIECES: &[&str] = &[
            "",
            "0",
            "1",
            "-1",
            "+",
            "500",
            "501",
            "18446744073709551616",
            "99999999999999999999999999",
            "%",
            "%2",
            "%zz",
            "%FF",
            "%E2%82",
            "%00",
            "=",
            "&",
            ":",
            "gt:",
            "neq:",
            "T",
            "Z",
            " ",
            "%20",
            "2018-10-28T10:00:00Z",
            "2018-02-30 00:00:00",
            "asc",
            "desc",
            "name",
            "size",
            "gold",
            "shared",
            "arm",
            "x86",
            "true",
            A,
            "0A000000-0000-4000-8000-00000000000A",
            "all_granted_eps",
            "é",
            "\u{10FFFF}",
            "\u{0}",
            "img-1",
        ];
        let mut images = five();
        images.push(gold("f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e04", "g"));
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let mut query = String::new();
            for _ in 0..rng.next() % 6 {
                if !query.is_empty() || rng.next().is_multiple_of(4) {
                    query.push('&');
                }
                query.push_str(rng.pick(KEYS));
                if !rng.next().is_multiple_of(8) {
                    query.push('=');
                }
                for _ in 0..rng.next() % 4 {
                    query.push_str(rng.pick(PIECES));
                }
            }
            match run(&images, &query) {
                Ok(body) => {
                    let page = body["images"].as_array().map_or(usize::MAX, Vec::len);
                    assert!(page <= images.len(), "{query}");
                    assert_eq!(
                        body.get("next").is_some(),
                        body["page_info"].get("next_marker").is_some(),
                        "{query}"
                    );
                }
                Err(err) => assert!(
                    ["IMG.0001", "IMG.0024", "IMG.0027"].contains(&err.code),
                    "{query}: {err:?}"
                ),
            }
        }
    }
}
