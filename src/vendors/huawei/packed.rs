//! How the store holds an image: **packed** (its wire form as compact JSON text, plus the two
//! attributes every lookup needs) from the moment it is loaded, and **open** (a
//! [`Map`](serde_json::Map) of members) from the first request that changes it.
//!
//! A packed 15-member image takes about 400 bytes, an open one about 3 KiB: a million loaded
//! images fit in a few hundred megabytes, and the images a test changes pay the open form's cost.
//! Reads never open an image: GlanceShowImage and ListImages copy a packed image's text into the
//! response, and ListImages' filters and sort keys read only the members they name.
//!
//! A packed text is exactly what serialising the open form would give, up to the spelling of
//! numbers and string escapes inside values: members in byte order (the order of the open form's
//! `BTreeMap`), the last of a repeated name, no whitespace. Loading sorts an image's members and
//! strips the whitespace from their values' text; no value is parsed.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::model::Image;

/// An image as the store holds it.
#[derive(Debug, Clone)]
pub(crate) enum Stored {
    /// As loaded: compact JSON text.
    Packed(Packed),
    /// Changed since it was loaded (or created by a request): its members. Boxed, so that the
    /// store's entries are no bigger than a packed image needs.
    Open(Box<Open>),
}

/// An open image: its members, and its body as last rendered, so that the body after an
/// UpdateImage copies the members the patch did not change instead of rendering them again.
#[derive(Debug, Clone)]
pub(crate) struct Open {
    members: Image,
    /// The body as last rendered, and what changed since. Filled while rendering (under the
    /// store's lock).
    rendered: RefCell<Option<Rendered>>,
}

/// A rendered body of an open image.
#[derive(Debug, Clone)]
struct Rendered {
    /// The compact JSON of the members.
    text: Vec<u8>,
    /// Each member's name and the span of its `"name":value` in `text`, in member (name) order.
    spans: Vec<(Box<str>, Range<usize>)>,
    /// Members changed since, to render again.
    stale: Vec<Box<str>>,
}

impl Open {
    fn new(members: Image) -> Open {
        Open {
            members,
            rendered: RefCell::new(None),
        }
    }

    /// Notes that the members named in `changes` (`None`: any) are about to change.
    fn will_change(&mut self, changes: Option<&[&str]>) {
        let slot = self.rendered.get_mut();
        match (changes, slot.as_mut()) {
            (Some(names), Some(rendered)) => {
                rendered.stale.extend(names.iter().map(|n| Box::from(*n)));
            }
            (None, _) => *slot = None,
            (Some(_), None) => {}
        }
    }

    /// Appends the compact JSON of the members to `out`.
    fn write_json(&self, out: &mut Vec<u8>) {
        let Ok(mut slot) = self.rendered.try_borrow_mut() else {
            crate::json_out::write_object(&self.members, out);
            return;
        };
        let fresh = match slot.take() {
            Some(rendered) if rendered.stale.is_empty() => rendered,
            Some(rendered) if self.same_members(&rendered) => self.render_changed(rendered),
            _ => self.render(),
        };
        out.extend_from_slice(&fresh.text);
        *slot = Some(fresh);
    }

    /// Whether every changed member is present now exactly when it was when `rendered` was made
    /// (so only values changed, and the spans still list the members).
    fn same_members(&self, rendered: &Rendered) -> bool {
        rendered.stale.iter().all(|name| {
            let was = rendered
                .spans
                .binary_search_by(|(n, _)| (**n).cmp(name))
                .is_ok();
            was == self.members.contains_key(&**name)
        })
    }

    /// The body rendered whole.
    fn render(&self) -> Rendered {
        let mut text = Vec::with_capacity(2048);
        let mut spans = Vec::with_capacity(self.members.len());
        text.push(b'{');
        for (i, (name, value)) in self.members.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            let start = text.len();
            crate::json_out::write_member(name, value, &mut text);
            spans.push((Box::from(name.as_str()), start..text.len()));
        }
        text.push(b'}');
        Rendered {
            text,
            spans,
            stale: Vec::new(),
        }
    }

    /// `rendered` with its stale members rendered again and the text between them copied.
    fn render_changed(&self, mut rendered: Rendered) -> Rendered {
        let mut changed: Vec<usize> = rendered
            .stale
            .iter()
            .filter_map(|name| {
                rendered
                    .spans
                    .binary_search_by(|(n, _)| (**n).cmp(name))
                    .ok()
            })
            .collect();
        changed.sort_unstable();
        changed.dedup();
        let old = &rendered.text;
        let mut text = Vec::with_capacity(old.len() + 64);
        // `old[..copied]` is in `text` already; the rest follows once the next change is written.
        let mut copied = 0;
        let mut next_changed = changed.iter().peekable();
        for (i, (name, span)) in rendered.spans.iter_mut().enumerate() {
            if next_changed.next_if(|&&c| c == i).is_some() {
                text.extend_from_slice(&old[copied..span.start]);
                let start = text.len();
                if let Some(value) = self.members.get(&**name) {
                    crate::json_out::write_member(name, value, &mut text);
                }
                copied = span.end;
                *span = start..text.len();
            } else {
                let shift = |at: usize| at - copied + text.len();
                *span = shift(span.start)..shift(span.end);
            }
        }
        text.extend_from_slice(&old[copied..]);
        Rendered {
            text,
            spans: rendered.spans,
            stale: Vec::new(),
        }
    }
}

/// A packed image.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    /// The wire form: members in byte order, no whitespace.
    text: Box<str>,
    /// `owner` (shared by the images of one project).
    owner: Arc<str>,
    /// Whether `__imagetype` is `gold`.
    gold: bool,
}

impl Stored {
    /// Whether the image is a gold image.
    pub fn is_gold(&self) -> bool {
        match self {
            Stored::Packed(p) => p.gold,
            Stored::Open(open) => super::model::is_gold(&open.members),
        }
    }

    /// The image's `owner`, if it is a string.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Stored::Packed(p) => Some(&p.owner),
            Stored::Open(open) => open.members.get("owner").and_then(Value::as_str),
        }
    }

    /// Whether `tenant` may see the image: a gold image, or one it owns.
    pub fn visible_to(&self, tenant: &str) -> bool {
        self.is_gold() || self.owner() == Some(tenant)
    }

    /// An open image of `members`.
    pub fn opened(members: Image) -> Stored {
        Stored::Open(Box::new(Open::new(members)))
    }

    /// The image's members, opening it if it is packed: the caller may change any of them.
    pub fn open(&mut self) -> &mut Image {
        self.open_for(None)
    }

    /// The image's members, opening it if it is packed, when the caller changes only the members
    /// named in `changes` (`None`: any). Keeps the rendered text of the others.
    pub fn open_for(&mut self, changes: Option<&[&str]>) -> &mut Image {
        loop {
            match self {
                Stored::Open(open) => {
                    open.will_change(changes);
                    return &mut open.members;
                }
                Stored::Packed(p) => *self = Stored::opened(parse_object(&p.text)),
            }
        }
    }

    /// All members, borrowed when open, parsed when packed.
    pub fn image(&self) -> Cow<'_, Image> {
        match self {
            Stored::Packed(p) => Cow::Owned(parse_object(&p.text)),
            Stored::Open(open) => Cow::Borrowed(&open.members),
        }
    }

    /// At least the members named in `names` (all of them when open; only those when packed).
    pub fn members(&self, names: &[&str]) -> Cow<'_, Image> {
        match self {
            Stored::Packed(p) if names.iter().all(|n| matches!(*n, "owner" | "__imagetype")) => {
                // Both are kept beside the text (`__imagetype` is gold or private: loading
                // refuses anything else).
                let mut known = Map::new();
                known.insert("owner".into(), Value::from(&*p.owner));
                let kind = if p.gold { "gold" } else { "private" };
                known.insert("__imagetype".into(), Value::from(kind));
                Cow::Owned(known)
            }
            Stored::Packed(p) => Cow::Owned(pick(&p.text, names)),
            Stored::Open(open) => Cow::Borrowed(&open.members),
        }
    }

    /// The member `name`, if present.
    pub fn member(&self, name: &str) -> Option<Value> {
        match self {
            Stored::Packed(p) => pick(&p.text, &[name]).remove(name),
            Stored::Open(open) => open.members.get(name).cloned(),
        }
    }

    /// Appends the image's wire form (compact JSON) to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Stored::Packed(p) => out.extend_from_slice(p.text.as_bytes()),
            Stored::Open(open) => open.write_json(out),
        }
    }

    /// The image's wire form as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // The seed images render to about 2 KiB.
        let mut out = Vec::with_capacity(4096);
        self.write_json(&mut out);
        out
    }
}

/// The parsed object of a packed text (valid by construction; an empty map otherwise).
fn parse_object(text: &str) -> Image {
    serde_json::from_str(text).unwrap_or_default()
}

/// The members of a packed text named in `names` (the last occurrence of each).
fn pick(text: &str, names: &[&str]) -> Image {
    let mut de = serde_json::Deserializer::from_str(text);
    Pick { names }.deserialize(&mut de).unwrap_or_default()
}

/// Reads only the named members of an object.
struct Pick<'n> {
    names: &'n [&'n str],
}

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Image;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Image, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Image;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Image, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<Name<'de>>()? {
            if self.names.contains(&key.0.as_ref()) {
                out.insert(key.0.into_owned(), map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

/// A member name, borrowed from the text when it has no escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        de.deserialize_str(V)
    }
}

/// A member's value as loading checks it: a string, or something else.
enum Text<'de> {
    Str(Cow<'de, str>),
    Other,
}

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text::Other)
            }
        }
        de.deserialize_any(V)
    }
}

/// The members loading checks, in this order in [`Scan::fields`].
pub(crate) const CHECKED: [&str; 8] = [
    "id",
    "owner",
    "name",
    "status",
    "visibility",
    "__imagetype",
    "created_at",
    "updated_at",
];

/// One image member of a state document, scanned without building its members: each member's
/// name and value text, and the [`CHECKED`] members that are strings.
pub(crate) struct Scan<'de> {
    /// Every member in document order (a repeated name more than once).
    members: Vec<(Cow<'de, str>, &'de RawValue)>,
    /// The [`CHECKED`] members that are strings (the last occurrence of each).
    fields: [Option<Cow<'de, str>>; CHECKED.len()],
}

impl Scan<'_> {
    /// The checked member `name` when it is a string.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields[checked(name)?].as_deref()
    }
}

/// The place of `name` in [`CHECKED`] (a `match`: it runs for every member of every image loaded).
fn checked(name: &str) -> Option<usize> {
    Some(match name {
        "id" => 0,
        "owner" => 1,
        "name" => 2,
        "status" => 3,
        "visibility" => 4,
        "__imagetype" => 5,
        "created_at" => 6,
        "updated_at" => 7,
        _ => return None,
    })
}

impl<'de> de::Deserialize<'de> for Scan<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scan<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scan<'de>, A::Error> {
                let mut scan = Scan {
                    members: Vec::with_capacity(map.size_hint().unwrap_or(16)),
                    fields: Default::default(),
                };
                while let Some(Name(key)) = map.next_key::<Name<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    if let Some(i) = checked(&key) {
                        scan.fields[i] = string_value(value.get());
                    }
                    scan.members.push((key, value));
                }
                Ok(scan)
            }
        }
        de.deserialize_map(V)
    }
}

/// The string a value's JSON text holds, if it is a string (borrowed when it has no escapes).
fn string_value(json: &str) -> Option<Cow<'_, str>> {
    let plain = json
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .filter(|inner| !inner.contains('\\'));
    if let Some(inner) = plain {
        return Some(Cow::Borrowed(inner));
    }
    match serde_json::from_str::<Text<'_>>(json) {
        Ok(Text::Str(s)) => Some(s),
        _ => None,
    }
}

/// Shares one `owner` string between the images of a project while a document loads.
#[derive(Default)]
pub(crate) struct Owners(HashMap<Box<str>, Arc<str>>);

impl Owners {
    fn get(&mut self, owner: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(owner) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(owner);
        self.0.insert(owner.into(), shared.clone());
        shared
    }
}

/// Packs scanned images one after another, reusing what the previous one left: the output
/// buffer, and the sorted order of its member names (images of one document usually list their
/// members in the same order, so the order is computed once, not per image).
#[derive(Default)]
pub(crate) struct Packer {
    owners: Owners,
    out: Vec<u8>,
    /// The previous image's member names, in document order.
    names: Vec<String>,
    /// Indexes into `names` in sorted order (a repeated name in document order).
    order: Vec<usize>,
}

impl Packer {
    /// Packs a checked image from its scan: members sorted by name (the last of a repeated name
    /// kept), each value's text without whitespace. No value is parsed.
    pub fn pack_scan(&mut self, scan: Scan<'_>) -> Packed {
        let owner = self.owners.get(scan.text("owner").unwrap_or_default());
        let gold = scan.text("__imagetype") == Some("gold");
        let members = scan.members;
        let same_names = self.names.len() == members.len()
            && self.names.iter().zip(&members).all(|(a, (b, _))| a == b);
        if !same_names {
            self.names = members.iter().map(|(name, _)| name.to_string()).collect();
            self.order = (0..members.len()).collect();
            self.order
                .sort_by(|&a, &b| members[a].0.cmp(&members[b].0).then(a.cmp(&b)));
        }
        let out = &mut self.out;
        out.clear();
        out.push(b'{');
        for (at, &i) in self.order.iter().enumerate() {
            let (name, value) = &members[i];
            let repeated = self
                .order
                .get(at + 1)
                .is_some_and(|&next| members[next].0 == *name);
            if repeated {
                continue;
            }
            if out.len() > 1 {
                out.push(b',');
            }
            if name.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
                // Strings always serialise.
                let _ = serde_json::to_writer(&mut *out, name);
            } else {
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.push(b'"');
            }
            out.push(b':');
            minify_into(value.get(), out);
        }
        out.push(b'}');
        // Only ASCII whitespace was left out of valid UTF-8 text; the copy is allocated exactly.
        let text = std::str::from_utf8(out).map(Box::from).unwrap_or_default();
        Packed { text, owner, gold }
    }
}

/// Packs a checked image given as members.
pub(crate) fn pack(image: &Image, owners: &mut Owners) -> Packed {
    Packed {
        text: serde_json::to_string(image)
            .unwrap_or_default()
            .into_boxed_str(),
        owner: owners.get(
            image
                .get("owner")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        gold: super::model::is_gold(image),
    }
}

/// Appends `json` (valid JSON) to `out` without the whitespace between its tokens.
fn minify_into(json: &str, out: &mut Vec<u8>) {
    let bytes = json.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        out.extend_from_slice(bytes);
        return;
    }
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            out.push(b);
            in_string = b == b'"';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scan(raw: &str) -> Scan<'_> {
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn minify(json: &str) -> String {
        let mut out = Vec::new();
        minify_into(json, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn string_values_are_read_from_their_text() {
        assert_eq!(string_value(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(string_value(r#""a\"b\u00e9""#).as_deref(), Some("a\"bé"));
        assert_eq!(string_value(r#""""#).as_deref(), Some(""));
        for other in ["1", "null", "true", "[\"a\"]", r#"{"a":"b"}"#] {
            assert_eq!(string_value(other), None, "{other}");
        }
    }

    #[test]
    fn a_stored_image_is_as_small_as_a_packed_one() {
        assert_eq!(std::mem::size_of::<Stored>(), std::mem::size_of::<Packed>());
    }

    #[test]
    fn checked_names_map_to_their_places() {
        for (i, name) in CHECKED.iter().enumerate() {
            assert_eq!(checked(name), Some(i));
        }
        assert_eq!(checked("ID"), None);
    }

    /// Whatever changes an open image goes through, its body is what serialising its members
    /// gives: nothing copied from an earlier rendering is stale.
    #[test]
    fn an_open_image_renders_its_current_members_after_any_change() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let names: Vec<String> = (0..12)
            .map(|i| match i {
                0 => "q\"uote".to_string(),
                1 => "é".to_string(),
                _ => format!("k{i:02}"),
            })
            .collect();
        let mut stored = Stored::opened(Map::new());
        for step in 0..6_000 {
            let name = names[next(12) as usize].as_str();
            let value = match next(4) {
                0 => json!(step),
                1 => json!(format!("v\n{step}")),
                2 => json!([step, {"x": null}]),
                _ => json!(true),
            };
            match next(5) {
                0 => {
                    stored.open_for(Some(&[name])).insert(name.into(), value);
                }
                1 => {
                    stored.open_for(Some(&[name, "k05"])).remove(name);
                }
                2 => {
                    let other = names[next(12) as usize].clone();
                    stored.open().insert(other, value);
                }
                3 => {
                    // Renders fill the pieces that the next steps must not reuse stale.
                    let _ = stored.to_json();
                }
                _ => {}
            }
            // Not after every step: changes pile up between renders too.
            if next(3) == 0 {
                let expected = serde_json::to_vec(&*stored.image()).unwrap();
                assert_eq!(stored.to_json(), expected, "step {step}");
            }
        }
    }

    #[test]
    fn minify_keeps_whitespace_inside_strings_only() {
        let raw = "{ \"a b\" : [ 1 ,\n\t\"x \\\" y\" ] ,\r\n \"c\":\"\\\\\" }";
        let out = minify(raw);
        assert_eq!(out, r#"{"a b":[1,"x \" y"],"c":"\\"}"#);
        let a: Value = serde_json::from_str(raw).unwrap();
        let b: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_packed_image_reads_like_its_open_form() {
        let image = json!({"b": {"x": [1, 2]}, "id": "ID", "owner": "p", "__imagetype": "gold",
                           "name": "n\u{e9} \"q\"", "min_ram": 1.5});
        let Value::Object(map) = image else { panic!() };
        let expected = serde_json::to_string(&map).unwrap();
        let mut owners = Owners::default();
        let mut packer = Packer::default();
        let pretty = serde_json::to_string_pretty(&map).unwrap();
        // Each shape twice: the second reuses the first's member order.
        // Out of order, repeated: sorted, and the last `name` wins.
        let unsorted = r#"{"owner":"p","name":"old","__imagetype":"gold","b":{"x":[1,2]},"id":"ID","min_ram":1.5,"name":"né \"q\""}"#;
        for raw in [&pretty, &pretty, unsorted, unsorted, &pretty] {
            let stored = Stored::Packed(packer.pack_scan(scan(raw)));
            assert_eq!(
                String::from_utf8(stored.to_json()).unwrap(),
                expected,
                "{raw}"
            );
            assert!(stored.is_gold() && stored.owner() == Some("p"));
            assert_eq!(stored.image().as_ref(), &map);
            assert_eq!(stored.member("min_ram"), Some(json!(1.5)));
            assert_eq!(stored.member("absent"), None);
            let some = stored.members(&["b", "id"]);
            assert_eq!(some.len(), 2);
            assert_eq!(some["b"], json!({"x": [1, 2]}));
            let known = stored.members(&["__imagetype", "owner"]);
            assert_eq!(
                (&known["__imagetype"], &known["owner"]),
                (&json!("gold"), &json!("p"))
            );
            let mut opened = stored.clone();
            opened.open().insert("z".into(), json!(true));
            assert!(matches!(opened, Stored::Open(_)));
            assert_eq!(opened.member("z"), Some(json!(true)));
        }
        let packed = Stored::Packed(pack(&map, &mut owners));
        assert_eq!(String::from_utf8(packed.to_json()).unwrap(), expected);
    }

    #[test]
    fn the_scan_keeps_every_member_and_reads_string_members() {
        let s = scan(r#"{"a":1,"id":"x","owner":7,"status":{"k":[1]},"a":2}"#);
        assert_eq!(s.members.len(), 5);
        assert_eq!(s.text("id"), Some("x"));
        assert_eq!(s.text("owner"), None);
        assert_eq!(s.text("status"), None);
        let escaped = scan(r#"{"id":"\u0041b","name":"a","name":"b"}"#);
        assert_eq!(escaped.text("id"), Some("Ab"));
        assert_eq!(escaped.text("name"), Some("b"));
        assert!(serde_json::from_str::<Scan<'_>>("[1]").is_err());
        // A name that needs escaping is written escaped.
        let odd = Packer::default().pack_scan(scan(r#"{"q\"\u0001": 1}"#));
        let odd = Stored::Packed(odd);
        assert_eq!(
            String::from_utf8(odd.to_json()).unwrap(),
            r#"{"q\"\u0001":1}"#
        );
    }
}
