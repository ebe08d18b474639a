//! Aries input rules: JSON body parsing (spec §2.2), field rules (§3.0), ids (§3.4) and the
//! `source_path` rule (§3.2).

use serde_json::{Map, Value};

use super::error::Failure;
use super::model::{is_ref, MAX_ID};
use crate::vendor::Request;

/// Largest JSON body accepted.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// Longest `name`.
pub(crate) const MAX_NAME: usize = 128;
/// Longest `os_name`.
pub(crate) const MAX_OS_NAME: usize = 64;
/// Longest `description`.
pub(crate) const MAX_DESCRIPTION: usize = 1024;
/// Longest `source_path`.
pub(crate) const MAX_SOURCE_PATH: usize = 1024;

/// Parses the body as one JSON object (empty, invalid, oversize or non-object → InvalidParameter).
pub(crate) fn json_object(req: &Request) -> Result<Map<String, Value>, Failure> {
    if req.body_too_large {
        return Err(Failure::invalid("body larger than 1 MiB"));
    }
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(Failure::invalid("empty body"));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::invalid("body is not a JSON object")),
        Err(e) => Err(Failure::invalid(format!("invalid JSON: {e}"))),
    }
}

/// An optional string member: absent or `null` → `None`; another type → InvalidParameter.
pub(crate) fn opt_string<'a>(
    body: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, Failure> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Failure::invalid(format!("{field} is not a string"))),
    }
}

/// A required string member: missing, `null` or blank → InvalidParameter.
pub(crate) fn required_string<'a>(
    body: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a str, Failure> {
    match opt_string(body, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(Failure::invalid(format!("{field} is blank"))),
        None => Err(Failure::invalid(format!("{field} is missing"))),
    }
}

/// `name`: not blank, at most 128 characters.
pub(crate) fn check_name(name: &str) -> Result<(), Failure> {
    check_text("name", name, MAX_NAME)
}

/// `os_name`: not blank, at most 64 characters.
pub(crate) fn check_os_name(os_name: &str) -> Result<(), Failure> {
    check_text("os_name", os_name, MAX_OS_NAME)
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), Failure> {
    if value.trim().is_empty() {
        return Err(Failure::invalid(format!("{field} is blank")));
    }
    if value.chars().count() > max {
        return Err(Failure::invalid(format!(
            "{field} exceeds {max} characters"
        )));
    }
    Ok(())
}

/// `os_type`: exactly `linux` or `windows`.
pub(crate) fn check_os_type(os_type: &str) -> Result<(), Failure> {
    match os_type {
        "linux" | "windows" => Ok(()),
        other => Err(Failure::invalid(format!(
            "os_type {other:?} is not linux or windows"
        ))),
    }
}

/// `description`: at most 1024 characters (may be empty).
pub(crate) fn check_description(description: &str) -> Result<(), Failure> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(Failure::invalid(format!(
            "description exceeds {MAX_DESCRIPTION} characters"
        )));
    }
    Ok(())
}

/// The body `id`: a JSON integer (no fraction, exponent or string) in 1..=2^63−1.
pub(crate) fn body_id(body: &Map<String, Value>) -> Result<u64, Failure> {
    match body.get("id") {
        None | Some(Value::Null) => Err(Failure::invalid("id is missing")),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(id) if (1..=MAX_ID).contains(&id) => Ok(id),
            _ => Err(Failure::invalid(format!(
                "id {n} is not an integer in 1..=2^63-1"
            ))),
        },
        Some(_) => Err(Failure::invalid("id is not a JSON number")),
    }
}

/// A path or query id: ASCII digits only (leading zeros allowed) with a value in 1..=2^63−1.
pub(crate) fn digits_id(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = text.trim_start_matches('0');
    if digits.len() > 19 {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()
        .filter(|id| (1..=MAX_ID).contains(id))
}

/// How DeleteImage's `image_ref` names an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImageKey {
    /// By numeric id.
    Id(u64),
    /// By `img-` ref.
    Ref(String),
}

/// Parses DeleteImage's `image_ref`.
pub(crate) fn image_key(text: &str) -> Result<ImageKey, Failure> {
    if text.is_empty() {
        return Err(Failure::invalid("image_ref is missing or empty"));
    }
    if let Some(id) = digits_id(text) {
        return Ok(ImageKey::Id(id));
    }
    if is_ref(text) {
        return Ok(ImageKey::Ref(text.to_string()));
    }
    Err(Failure::invalid(format!(
        "image_ref {text:?} is neither an id nor an img- ref"
    )))
}

/// The `source_path` rule of spec §3.2; the error says which part failed.
pub(crate) fn check_source_path(path: &str) -> Result<(), String> {
    if path.chars().count() > MAX_SOURCE_PATH {
        return Err(format!("longer than {MAX_SOURCE_PATH} characters"));
    }
    if path.chars().any(|c| c.is_control() && (c as u32) < 0x80) {
        return Err("contains a control character".into());
    }
    let bytes = path.as_bytes();
    let posix = path.starts_with('/');
    let drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    let unc = path
        .strip_prefix("\\\\")
        .map(|rest| {
            let mut parts = rest.split('\\');
            let host = parts.next().unwrap_or("");
            let share = parts.next().unwrap_or("");
            !host.is_empty() && !share.is_empty()
        })
        .unwrap_or(false);
    if !(posix || drive || unc) {
        return Err("not absolute (POSIX /, drive X:\\ or UNC \\\\host\\share)".into());
    }
    if path.split(['/', '\\']).any(|seg| seg == "..") {
        return Err("contains a .. segment".into());
    }
    if path.ends_with(['/', '\\']) {
        return Err("ends in a separator".into());
    }
    let last = path.rsplit(['/', '\\']).next().unwrap_or("");
    let ok_ext = [".iso", ".vhd", ".vhdx", ".qcow2", ".img"]
        .iter()
        .any(|ext| {
            last.len() > ext.len()
                && last.is_char_boundary(last.len() - ext.len())
                && last[last.len() - ext.len()..].eq_ignore_ascii_case(ext)
        });
    if !ok_ext {
        return Err("last segment is not <stem>.iso|.vhd|.vhdx|.qcow2|.img".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_paths() {
        for good in [
            "/path/to/image/file.iso",
            "D:\\Hyper-V\\Images\\x.vhdx",
            "C:/Images/WIN.VHDX",
            "\\\\nas\\share\\win.img",
            "/images/debian-12.qcow2",
            "/a/b.vhd",
        ] {
            assert_eq!(check_source_path(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "relative/x.iso",
            " /x.iso",
            "/x.iso ",
            "/.iso",
            "C:relative.iso",
            "/a/../b.iso",
            "/a/b.iso/",
            "/a/b.txt",
            "/a/b\u{7}.iso",
            "\\\\host\\\\x.iso",
            "\\\\\\share\\x.iso",
        ] {
            assert!(check_source_path(bad).is_err(), "{bad:?}");
        }
        let long = format!("/{}.iso", "a".repeat(1020));
        assert!(check_source_path(&long).is_err());
        let max = format!("/{}.iso", "a".repeat(1019));
        assert_eq!(check_source_path(&max), Ok(()));
    }

    #[test]
    fn ids() {
        assert_eq!(digits_id("007"), Some(7));
        assert_eq!(digits_id("9223372036854775807"), Some(MAX_ID));
        for bad in [
            "0",
            "-1",
            "1.5",
            "abc",
            "",
            "9223372036854775808",
            "99999999999999999999999",
        ] {
            assert_eq!(digits_id(bad), None, "{bad}");
        }
        assert_eq!(digits_id("0000000000000000000000001"), Some(1));
        assert_eq!(
            image_key("img-2ze4hxw8hdik"),
            Ok(ImageKey::Ref("img-2ze4hxw8hdik".into()))
        );
        assert!(image_key("IMG-2ze4hxw8hdik").is_err());
        assert!(image_key("img-short").is_err());
    }
}
