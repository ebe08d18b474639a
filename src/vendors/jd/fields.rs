//! JD field rules shared by the endpoints (spec §2.6): collection names (C), image names (N),
//! product ids (P), image ids (D), info strings, lists and integers.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// Whether `s` holds a control character (U+0000–U+001F, U+007F).
fn has_control(s: &str) -> bool {
    s.chars().any(|c| (c as u32) < 0x20 || c == '\u{7f}')
}

fn chars_within(s: &str, min: usize, max: usize) -> bool {
    let n = s.chars().count();
    (min..=max).contains(&n)
}

/// C: a string of 1–50 characters without `/`, `|` or control characters.
pub(crate) fn collection_name(value: Option<&Value>) -> Option<String> {
    let s = value?.as_str()?;
    (chars_within(s, 1, 50) && !s.contains(['/', '|']) && !has_control(s)).then(|| s.to_string())
}

/// N: a string of 1–50 characters without control characters.
pub(crate) fn image_name(value: Option<&Value>) -> Option<String> {
    let s = value?.as_str()?;
    (chars_within(s, 1, 50) && !has_control(s)).then(|| s.to_string())
}

/// P: a string of 1–128 characters without `|` or control characters, or a non-negative JSON
/// integer (taken as its decimal string).
pub(crate) fn product_id(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => {
            (chars_within(s, 1, 128) && !s.contains('|') && !has_control(s)).then(|| s.clone())
        }
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// D: a string of 1–128 characters without `|` or control characters.
pub(crate) fn image_id(value: Option<&Value>) -> Option<String> {
    let s = value?.as_str()?;
    (chars_within(s, 1, 128) && !s.contains('|') && !has_control(s)).then(|| s.to_string())
}

/// An optional info string: `Ok(None)` when absent or `null`, `Err(())` when not a string or longer
/// than `max` characters.
pub(crate) fn optional_info(value: Option<&Value>, max: usize) -> Result<Option<String>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// What kind of element a list must hold.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Elements {
    /// JSON objects.
    Objects,
    /// JSON strings.
    Strings,
    /// Strings or numbers (product ids).
    Ids,
}

/// A list member: `None` ("bad list") when absent, not an array, or holding an element of the
/// wrong JSON type.
pub(crate) fn list<'a>(
    body: &'a Map<String, Value>,
    key: &str,
    elements: Elements,
) -> Option<&'a Vec<Value>> {
    let items = body.get(key)?.as_array()?;
    let ok = items.iter().all(|v| match elements {
        Elements::Objects => v.is_object(),
        Elements::Strings => v.is_string(),
        Elements::Ids => v.is_string() || v.is_number(),
    });
    ok.then_some(items)
}

/// Whether an iterator yields the same value twice.
pub(crate) fn has_duplicates<T: std::hash::Hash + Eq>(items: impl IntoIterator<Item = T>) -> bool {
    let mut items = items.into_iter();
    let (Some(first), Some(second)) = (items.next(), items.next()) else {
        // No set for a batch of one, the most common size.
        return false;
    };
    let mut seen = HashSet::new();
    seen.insert(first);
    std::iter::once(second)
        .chain(items)
        .any(|item| !seen.insert(item))
}

/// An optional integer: `Ok(None)` when absent or `null`, `Ok(Some(n))` for a JSON integer,
/// `Err(())` otherwise (floats, strings, ...).
pub(crate) fn optional_integer(value: Option<&Value>) -> Result<Option<i64>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Ok(Some(i)),
            // Integers beyond i64 are still integers: saturate.
            (None, Some(_), _) => Ok(Some(i64::MAX)),
            // Integer literals beyond u64 arrive as whole f64s of at least 2^63: saturate too.
            (None, None, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() >= 9.2e18 => {
                Ok(Some(if f > 0.0 { i64::MAX } else { i64::MIN }))
            }
            _ => Err(()),
        },
        Some(_) => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_in_batches_of_every_size() {
        assert!(!has_duplicates(Vec::<&str>::new()));
        assert!(!has_duplicates(["a"]));
        assert!(!has_duplicates(["a", "b"]));
        assert!(has_duplicates(["a", "a"]));
        assert!(!has_duplicates(["a", "b", "c"]));
        assert!(has_duplicates(["a", "b", "a"]));
        assert!(has_duplicates(["a", "b", "c", "c"]));
    }

    #[test]
    fn names_and_ids() {
        assert_eq!(collection_name(Some(&json!("food"))), Some("food".into()));
        for bad in [
            json!(""),
            json!("a/b"),
            json!("a|b"),
            json!("a\u{7}"),
            json!(5),
            json!("x".repeat(51)),
        ] {
            assert_eq!(collection_name(Some(&bad)), None, "{bad}");
        }
        assert_eq!(
            collection_name(Some(&json!("食".repeat(50)))).map(|s| s.chars().count()),
            Some(50)
        );
        assert_eq!(image_name(Some(&json!("a/b"))), Some("a/b".into()));
        assert_eq!(
            product_id(Some(&json!(102340325))),
            Some("102340325".into())
        );
        assert_eq!(product_id(Some(&json!(-1))), None);
        assert_eq!(product_id(Some(&json!(1.5))), None);
        assert_eq!(image_id(Some(&json!("a|b"))), None);
        assert_eq!(optional_integer(Some(&json!(1.0))), Err(()));
        assert_eq!(optional_integer(Some(&json!(7))), Ok(Some(7)));
    }
}
