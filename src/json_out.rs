//! Compact JSON output of [`serde_json::Value`]s, byte for byte what `serde_json::to_vec` writes,
//! with a fast path for the common string: one with nothing to escape is copied whole instead of
//! being escaped byte by byte. Rendering a whole Huawei image was a third of an UpdateImage.

use serde_json::{Map, Value};

/// Appends `value` to `out` as compact JSON.
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::String(text) => write_str(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(members, out),
        // Numbers always serialise.
        Value::Number(number) => {
            let _ = serde_json::to_writer(&mut *out, number);
        }
    }
}

/// Appends `members` to `out` as a compact JSON object.
pub(crate) fn write_object(members: &Map<String, Value>, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_member(name, value, out);
    }
    out.push(b'}');
}

/// Appends one object member, `"name":value`, to `out`.
pub(crate) fn write_member(name: &str, value: &Value, out: &mut Vec<u8>) {
    write_str(name, out);
    out.push(b':');
    write_value(value, out);
}

/// Appends `text` as a JSON string.
fn write_str(text: &str, out: &mut Vec<u8>) {
    if !needs_escape(text.as_bytes()) {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Strings always serialise.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// Whether `bytes` hold a byte serde_json escapes: a control character, `"` or `\\`. Eight
/// bytes at a time: most strings in a body are short keys and values, too short for vector code.
fn needs_escape(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        if word_needs_escape(u64::from_le_bytes(eight)) {
            return true;
        }
    }
    // The rest, padded with a byte that needs no escape.
    let mut eight = [b'a'; 8];
    eight[..words.remainder().len()].copy_from_slice(words.remainder());
    word_needs_escape(u64::from_le_bytes(eight))
}

/// Whether one of the eight bytes of `word` is below 0x20, `"` or `\\` (the classic "has a byte
/// less than n" and "has a zero byte" bit tests; each is exact about whether such a byte exists).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(word ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_an_escape_anywhere_in_a_block_or_the_rest() {
        for len in [0, 1, 15, 16, 17, 40] {
            let plain = "a".repeat(len);
            assert!(!needs_escape(plain.as_bytes()), "{len}");
            for at in 0..len {
                for bad in [b'"', b'\\', 0x00, 0x1f] {
                    let mut bytes = plain.clone().into_bytes();
                    bytes[at] = bad;
                    assert!(needs_escape(&bytes), "{len} {at} {bad}");
                }
            }
        }
        assert!(!needs_escape(" ~\u{7f}é".as_bytes()));
        for byte in 0..=255u8 {
            let escaped = byte < 0x20 || byte == b'"' || byte == b'\\';
            for len in [1, 7, 8, 9, 16, 23] {
                for at in 0..len {
                    let mut bytes = vec![b'~'; len];
                    bytes[at] = byte;
                    assert_eq!(needs_escape(&bytes), escaped, "{byte:#x} at {at} of {len}");
                    bytes.fill(0xe9);
                    bytes[at] = byte;
                    assert_eq!(
                        needs_escape(&bytes),
                        escaped,
                        "{byte:#x} at {at} of {len}, high"
                    );
                }
            }
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let values = [
            json!(null),
            json!([
                true,
                false,
                0,
                -1,
                u64::MAX,
                i64::MIN,
                1.5,
                1e300,
                -0.0,
                100.0
            ]),
            json!("plain"),
            json!(""),
            json!("quote \" backslash \\ slash / tab \t newline \n nul \u{0} del \u{7f}"),
            json!("é ü 漢字 😀 \u{2028}"),
            json!({"b": [1, {"c": null}], "a": "x", "\"k\\": {}, "é": []}),
            json!([[], {}, [[]], "\u{1f}"]),
        ];
        for value in values {
            let mut out = Vec::new();
            write_value(&value, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&value).unwrap()
            );
        }
    }
}
