//! Huawei IMS attribute rules (spec §3.1 table, §2.2 keys) shared by UpdateImage's patch code and
//! CreateImage (§3.4): name, description, RAM, firmware, enterprise project, flags, GPU types and
//! custom extension attributes, with their error codes, plus the read-only attribute set.

use serde_json::{Number, Value};

use super::error::ImsError;

/// Largest `min_ram` / `max_ram` (MB).
pub(crate) const RAM_MAX: u64 = 2_147_483_647;
/// Longest image name (Unicode scalars).
pub(crate) const NAME_MAX: usize = 128;
/// Longest `__description` (Unicode scalars).
pub(crate) const DESCRIPTION_MAX: usize = 1024;
/// Longest custom attribute value and GPU type string (Unicode scalars).
pub(crate) const VALUE_MAX: usize = 255;
/// Longest custom attribute name (ASCII).
pub(crate) const CUSTOM_NAME_MAX: usize = 255;

/// The `"true"`/`"false"` flag attributes of the §3.1 table.
const FLAGS: &[&str] = &[
    "__support_kvm",
    "__support_xen",
    "__support_largememory",
    "__support_diskintensive",
    "__support_highperformance",
    "__support_xen_hana",
    "__support_kvm_infiniband",
    "__support_fc_inject",
    "__support_amd",
    "__support_kvm_hi1822_hisriov",
    "__support_kvm_hi1822_hivirtionet",
    "__is_config_init",
    "hw_vif_multiqueue_enabled",
];

/// The GPU type attributes of the §3.1 table (1–255 characters).
const GPU_TYPES: &[&str] = &["__support_xen_gpu_type", "__support_kvm_gpu_type"];

/// §2.2 keys that do not start with `__` and are not updatable, plus the reserved Glance names.
/// (Every other `__` name that is not updatable is read-only too.)
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "visibility",
    "owner",
    "protected",
    "file",
    "self",
    "schema",
    "tags",
    "checksum",
    "container_format",
    "disk_format",
    "min_disk",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
    "virtual_env_type",
    "active_at",
    "locations",
    "direct_url",
    "os_hash_algo",
    "os_hash_value",
    "os_hidden",
];

/// `IMG.0001` "The request message format is invalid." with a cause.
fn format_error(cause: impl Into<String>) -> ImsError {
    ImsError::new("IMG.0001", cause)
}

/// `v` quoted for an error cause (the journal), cut to its first 64 characters.
pub(crate) fn quoted(v: &str) -> String {
    match v.char_indices().nth(64) {
        Some((cut, _)) => format!("{:?}…", &v[..cut]),
        None => format!("{v:?}"),
    }
}

/// Image name: 1–128 scalars of ASCII letters, digits, `-` `.` `_` space and CJK (U+3400–U+4DBF,
/// U+4E00–U+9FFF), no leading/trailing space. More than 128 → `IMG.0002`; otherwise invalid →
/// `IMG.0003` (an empty name too; CreateImage reports a missing/empty name as `IMG.0013` first).
pub(crate) fn check_name(name: &str) -> Result<(), ImsError> {
    let len = name.chars().count();
    if len > NAME_MAX {
        return Err(ImsError::new(
            "IMG.0002",
            format!("name has {len} characters (max {NAME_MAX})"),
        ));
    }
    if name.is_empty() {
        return Err(ImsError::new("IMG.0003", "name is empty"));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return Err(ImsError::new(
            "IMG.0003",
            "name has a leading or trailing space",
        ));
    }
    match name.chars().find(|&c| !is_name_char(c)) {
        Some(c) => Err(ImsError::new("IMG.0003", format!("name contains {c:?}"))),
        None => Ok(()),
    }
}

/// Whether `c` may appear in an image name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '.' | '_' | ' ')
        || ('\u{3400}'..='\u{4DBF}').contains(&c)
        || ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Description (`__description` / CreateImage `description`): at most 1024 scalars (else
/// `IMG.0004`), none of `<` `>` CR LF (else `IMG.0054`); may be empty.
pub(crate) fn check_description(d: &str) -> Result<(), ImsError> {
    let len = d.chars().count();
    if len > DESCRIPTION_MAX {
        return Err(ImsError::new(
            "IMG.0004",
            format!("description has {len} characters (max {DESCRIPTION_MAX})"),
        ));
    }
    match d.chars().find(|c| matches!(c, '<' | '>' | '\r' | '\n')) {
        Some(c) => Err(ImsError::new(
            "IMG.0054",
            format!("description contains {c:?}"),
        )),
        None => Ok(()),
    }
}

/// A RAM size (`min_ram` / `max_ram`, MB): a JSON integer or a string of ASCII digits (leading zeros
/// allowed), 0…2147483647. Out of range, negative, non-integral or not digits → `IMG.0055`; a
/// boolean, null, array or object → `IMG.0001` (booleans are only for flags, §3.1).
pub(crate) fn parse_ram(v: &Value) -> Result<u64, ImsError> {
    let n = match v {
        Value::Number(n) => ram_from_number(n)?,
        Value::String(s) => ram_from_digits(s)?,
        _ => return Err(format_error("RAM value is not a number or a digit string")),
    };
    if n > RAM_MAX {
        return Err(ram_error(format!("RAM value {n} exceeds {RAM_MAX}")));
    }
    Ok(n)
}

/// `IMG.0055` "The memory or disk size is invalid." with a cause.
fn ram_error(cause: impl Into<String>) -> ImsError {
    ImsError::new("IMG.0055", cause)
}

/// A non-negative JSON integer.
fn ram_from_number(n: &Number) -> Result<u64, ImsError> {
    n.as_u64()
        .ok_or_else(|| ram_error(format!("RAM value {n} is not a non-negative integer")))
}

/// A non-empty string of ASCII digits that fits in a `u64`.
fn ram_from_digits(s: &str) -> Result<u64, ImsError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ram_error(format!(
            "RAM value {} is not a digit string",
            quoted(s)
        )));
    }
    s.parse::<u64>()
        .map_err(|_| ram_error(format!("RAM value {} is too large", quoted(s))))
}

/// `hw_firmware_type`: exactly `bios` or `uefi`, else `IMG.0141`.
pub(crate) fn check_firmware(v: &str) -> Result<(), ImsError> {
    match v {
        "bios" | "uefi" => Ok(()),
        _ => Err(ImsError::new(
            "IMG.0141",
            format!("hw_firmware_type {} is not bios or uefi", quoted(v)),
        )),
    }
}

/// `enterprise_project_id`: `"0"` or a UUID, else `IMG.0155`.
pub(crate) fn check_enterprise_project(v: &str) -> Result<(), ImsError> {
    if v == "0" || is_uuid(v) {
        Ok(())
    } else {
        Err(ImsError::new(
            "IMG.0155",
            format!("enterprise_project_id {} is not \"0\" or a UUID", quoted(v)),
        ))
    }
}

/// Whether `v` is UUID-shaped: 8-4-4-4-12 hexadecimal digits, either case (no version check).
pub(crate) fn is_uuid(v: &str) -> bool {
    v.len() == 36
        && v.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Whether `name` may be a custom extension attribute: `^[a-z0-9_.:-]{1,255}$`, not starting with
/// `__` (those names are reserved, hence read-only).
pub(crate) fn is_custom_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= CUSTOM_NAME_MAX
        && !name.starts_with("__")
        && name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b':' | b'-'))
}

/// Coerces a JSON value for an updatable attribute per the §3.1 table: returns the stored JSON value
/// (a string for everything but `min_ram`, which is a number; `max_ram` a digit string without
/// leading zeros; flags from JSON booleans stored as `"true"`/`"false"`; numbers for string
/// attributes keep their JSON text) or the error code. `None` when `name` is not an updatable table
/// attribute (the caller then decides read-only vs custom).
pub(crate) fn coerce(name: &str, value: &Value) -> Option<Result<Value, ImsError>> {
    let result = match name {
        "name" => text_checked(name, value, check_name),
        "__description" => text_checked(name, value, check_description),
        "min_ram" => parse_ram(value).map(Value::from),
        "max_ram" => parse_ram(value).map(|n| Value::String(n.to_string())),
        "hw_firmware_type" => text_checked(name, value, check_firmware),
        "enterprise_project_id" => text_checked(name, value, check_enterprise_project),
        _ if FLAGS.contains(&name) => coerce_flag(name, value),
        _ if GPU_TYPES.contains(&name) => coerce_gpu_type(name, value),
        _ => return None,
    };
    Some(result)
}

/// A string attribute's text: a string as is, a number as its JSON text; anything else → `IMG.0001`.
fn text(name: &str, value: &Value) -> Result<String, ImsError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format_error(format!("{name} must be a string or a number"))),
    }
}

/// The text of a string attribute, checked by `check`, as a JSON string.
fn text_checked(
    name: &str,
    value: &Value,
    check: fn(&str) -> Result<(), ImsError>,
) -> Result<Value, ImsError> {
    let s = text(name, value)?;
    check(&s)?;
    Ok(Value::String(s))
}

/// A flag: JSON `true`/`false` or the strings `"true"`/`"false"`, stored as a string; else
/// `IMG.0001`.
fn coerce_flag(name: &str, value: &Value) -> Result<Value, ImsError> {
    match value {
        Value::Bool(b) => Ok(Value::String(b.to_string())),
        Value::String(s) if s == "true" || s == "false" => Ok(Value::String(s.clone())),
        _ => Err(format_error(format!(
            "{name} must be \"true\" or \"false\""
        ))),
    }
}

/// A GPU type: a string (or number text) of 1–255 scalars; else `IMG.0001`.
fn coerce_gpu_type(name: &str, value: &Value) -> Result<Value, ImsError> {
    let s = text(name, value)?;
    let len = s.chars().count();
    if len == 0 || len > VALUE_MAX {
        return Err(format_error(format!(
            "{name} must have 1 to {VALUE_MAX} characters, not {len}"
        )));
    }
    Ok(Value::String(s))
}

/// Custom extension attribute value: string/number/boolean → string of at most 255 scalars (may be
/// empty), else `IMG.0001`.
pub(crate) fn coerce_custom(value: &Value) -> Result<Value, ImsError> {
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => {
            return Err(format_error(
                "custom attribute value must be a string, number or boolean",
            ))
        }
    };
    let len = s.chars().count();
    if len > VALUE_MAX {
        return Err(format_error(format!(
            "custom attribute value has {len} characters (max {VALUE_MAX})"
        )));
    }
    Ok(Value::String(s))
}

/// Whether `name` is a §2.2 key or reserved name that UpdateImage must treat as read-only (403
/// `IMG.0161`): every §2.2 key outside the §3.1 table, any other `__` name, and `locations`,
/// `direct_url`, `os_hash_algo`, `os_hash_value`, `os_hidden`. Updatable names are never read-only.
pub(crate) fn is_read_only(name: &str) -> bool {
    if is_updatable(name) {
        return false;
    }
    name.starts_with("__") || READ_ONLY.contains(&name)
}

/// Whether `name` is an updatable attribute of the §3.1 table (exactly the names [`coerce`]
/// knows).
pub(crate) fn is_updatable(name: &str) -> bool {
    matches!(
        name,
        "name"
            | "__description"
            | "min_ram"
            | "max_ram"
            | "hw_firmware_type"
            | "enterprise_project_id"
    ) || FLAGS.contains(&name)
        || GPU_TYPES.contains(&name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn code<T: std::fmt::Debug>(r: Result<T, ImsError>) -> &'static str {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.code,
        }
    }

    fn coerced(name: &str, value: Value) -> Result<Value, ImsError> {
        match coerce(name, &value) {
            Some(r) => r,
            None => panic!("{name} is not updatable"),
        }
    }

    #[test]
    fn quoted_cuts_long_values() {
        assert_eq!(quoted("a\"b"), "\"a\\\"b\"");
        assert_eq!(quoted(&"x".repeat(64)), format!("{:?}", "x".repeat(64)));
        assert_eq!(quoted(&"é".repeat(100)), format!("{:?}…", "é".repeat(64)));
    }

    // ---- name ----

    #[test]
    fn name_accepts_allowed_charset() {
        for ok in [
            "a",
            "ims_test",
            "Ubuntu 22.04-base_1",
            "镜像",
            "\u{3400}x",
            "\u{9FFF}",
            "a b",
        ] {
            assert_eq!(check_name(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn name_accepts_128_scalars_including_cjk() {
        assert_eq!(check_name(&"a".repeat(128)), Ok(()));
        assert_eq!(check_name(&"镜".repeat(128)), Ok(()));
    }

    #[test]
    fn name_over_128_is_img0002() {
        assert_eq!(code(check_name(&"a".repeat(129))), "IMG.0002");
        assert_eq!(code(check_name(&"镜".repeat(129))), "IMG.0002");
        // Length wins over the charset.
        assert_eq!(code(check_name(&"!".repeat(129))), "IMG.0002");
    }

    #[test]
    fn name_bad_charset_is_img0003() {
        for bad in [
            "a/b",
            "a\tb",
            "a\nb",
            "é",
            "日本語ひらがな",
            "a!",
            "emoji😀",
            "\u{4DC0}",
            "Ａ",
        ] {
            assert_eq!(code(check_name(bad)), "IMG.0003", "{bad:?}");
        }
    }

    #[test]
    fn name_leading_trailing_space_or_empty_is_img0003() {
        for bad in [" a", "a ", " ", ""] {
            assert_eq!(code(check_name(bad)), "IMG.0003", "{bad:?}");
        }
    }

    // ---- description ----

    #[test]
    fn description_accepts_empty_and_1024() {
        assert_eq!(check_description(""), Ok(()));
        assert_eq!(check_description(&"描".repeat(1024)), Ok(()));
        assert_eq!(check_description("any text, even !@#$%^&*()"), Ok(()));
    }

    #[test]
    fn description_over_1024_is_img0004() {
        assert_eq!(code(check_description(&"d".repeat(1025))), "IMG.0004");
        assert_eq!(code(check_description(&"<".repeat(1025))), "IMG.0004");
    }

    #[test]
    fn description_forbidden_chars_are_img0054() {
        for bad in ["a<b", "a>b", "a\rb", "a\nb"] {
            assert_eq!(code(check_description(bad)), "IMG.0054", "{bad:?}");
        }
    }

    // ---- RAM ----

    #[test]
    fn ram_accepts_integers_and_digit_strings() {
        assert_eq!(parse_ram(&json!(0)), Ok(0));
        assert_eq!(parse_ram(&json!(4096)), Ok(4096));
        assert_eq!(parse_ram(&json!(2147483647)), Ok(RAM_MAX));
        assert_eq!(parse_ram(&json!("1024")), Ok(1024));
        assert_eq!(parse_ram(&json!("0042")), Ok(42));
        assert_eq!(parse_ram(&json!("2147483647")), Ok(RAM_MAX));
    }

    #[test]
    fn ram_invalid_is_img0055() {
        for bad in [
            json!(-1),
            json!(2147483648u64),
            json!(1.5),
            json!(1.0),
            json!(1e3),
            json!(""),
            json!("-1"),
            json!("+1"),
            json!(" 1"),
            json!("1.0"),
            json!("0x10"),
            json!("2147483648"),
            json!("99999999999999999999999"),
            json!("abc"),
        ] {
            assert_eq!(code(parse_ram(&bad)), "IMG.0055", "{bad}");
        }
    }

    #[test]
    fn ram_wrong_json_type_is_img0001() {
        for bad in [json!(true), json!(null), json!([1]), json!({"a": 1})] {
            assert_eq!(code(parse_ram(&bad)), "IMG.0001", "{bad}");
        }
    }

    // ---- firmware / enterprise project / uuid ----

    #[test]
    fn firmware_bios_uefi_only() {
        assert_eq!(check_firmware("bios"), Ok(()));
        assert_eq!(check_firmware("uefi"), Ok(()));
        for bad in ["BIOS", "Uefi", "", "efi", " bios"] {
            assert_eq!(code(check_firmware(bad)), "IMG.0141", "{bad:?}");
        }
    }

    #[test]
    fn enterprise_project_zero_or_uuid() {
        assert_eq!(check_enterprise_project("0"), Ok(()));
        assert_eq!(
            check_enterprise_project("33ad552d-1149-471c-8190-ff6776174a00"),
            Ok(())
        );
        assert_eq!(
            check_enterprise_project("33AD552D-1149-471C-8190-FF6776174A00"),
            Ok(())
        );
        for bad in ["", "00", "1", "default", "33ad552d1149471c8190ff6776174a00"] {
            assert_eq!(code(check_enterprise_project(bad)), "IMG.0155", "{bad:?}");
        }
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("33ad552d-1149-471c-8190-ff6776174a00"));
        assert!(is_uuid("33AD552D-1149-471C-8190-FF6776174A00"));
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        for bad in [
            "",
            "33ad552d-1149-471c-8190-ff6776174a0",
            "33ad552d-1149-471c-8190-ff6776174a000",
            "33ad552d11-49-471c-8190-ff6776174a00",
            "33ad552g-1149-471c-8190-ff6776174a00",
            "{3ad552d-1149-471c-8190-ff6776174a0}",
            "33ad552d-1149-471c-8190-ff6776174aé",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }

    // ---- custom names / values ----

    #[test]
    fn custom_names() {
        for ok in ["a", "os:distro", "my_key.v-2", "_x", &"a".repeat(255)] {
            assert!(is_custom_name(ok), "{ok:?}");
        }
        for bad in [
            "",
            "A",
            "myKey",
            "a b",
            "a/b",
            "é",
            "__x",
            "__",
            &"a".repeat(256),
        ] {
            assert!(!is_custom_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn custom_values() {
        assert_eq!(coerce_custom(&json!("v")), Ok(json!("v")));
        assert_eq!(coerce_custom(&json!("")), Ok(json!("")));
        assert_eq!(coerce_custom(&json!(12)), Ok(json!("12")));
        assert_eq!(coerce_custom(&json!(-1.5)), Ok(json!("-1.5")));
        assert_eq!(coerce_custom(&json!(true)), Ok(json!("true")));
        assert_eq!(
            coerce_custom(&json!("é".repeat(255))),
            Ok(json!("é".repeat(255)))
        );
        for bad in [json!("x".repeat(256)), json!(null), json!([]), json!({})] {
            assert_eq!(code(coerce_custom(&bad)), "IMG.0001");
        }
    }

    // ---- coerce: the §3.1 table ----

    #[test]
    fn coerce_name_row() {
        assert_eq!(
            coerced("name", json!("ubuntu-base")),
            Ok(json!("ubuntu-base"))
        );
        assert_eq!(coerced("name", json!(1024)), Ok(json!("1024")));
        assert_eq!(code(coerced("name", json!("a".repeat(129)))), "IMG.0002");
        assert_eq!(code(coerced("name", json!("a/b"))), "IMG.0003");
        assert_eq!(coerced("name", json!(1.5)), Ok(json!("1.5")));
        assert_eq!(coerced("name", json!(-1)), Ok(json!("-1")));
        assert_eq!(code(coerced("name", json!(true))), "IMG.0001");
    }

    #[test]
    fn coerce_description_row() {
        assert_eq!(coerced("__description", json!("")), Ok(json!("")));
        assert_eq!(coerced("__description", json!(7)), Ok(json!("7")));
        assert_eq!(
            code(coerced("__description", json!("d".repeat(1025)))),
            "IMG.0004"
        );
        assert_eq!(code(coerced("__description", json!("<b>"))), "IMG.0054");
        assert_eq!(code(coerced("__description", json!(false))), "IMG.0001");
    }

    #[test]
    fn coerce_min_ram_row_is_a_number() {
        assert_eq!(coerced("min_ram", json!("1024")), Ok(json!(1024)));
        assert_eq!(coerced("min_ram", json!(0)), Ok(json!(0)));
        assert_eq!(code(coerced("min_ram", json!(-5))), "IMG.0055");
        assert_eq!(code(coerced("min_ram", json!(2.5))), "IMG.0055");
        assert_eq!(code(coerced("min_ram", json!(true))), "IMG.0001");
    }

    #[test]
    fn coerce_max_ram_row_is_a_digit_string() {
        assert_eq!(coerced("max_ram", json!(4096)), Ok(json!("4096")));
        assert_eq!(coerced("max_ram", json!("004096")), Ok(json!("4096")));
        assert_eq!(coerced("max_ram", json!("0")), Ok(json!("0")));
        assert_eq!(code(coerced("max_ram", json!("4k"))), "IMG.0055");
        assert_eq!(code(coerced("max_ram", json!(2147483648u64))), "IMG.0055");
        assert_eq!(code(coerced("max_ram", json!(false))), "IMG.0001");
    }

    #[test]
    fn coerce_firmware_row() {
        assert_eq!(
            coerced("hw_firmware_type", json!("uefi")),
            Ok(json!("uefi"))
        );
        assert_eq!(
            code(coerced("hw_firmware_type", json!("legacy"))),
            "IMG.0141"
        );
        assert_eq!(code(coerced("hw_firmware_type", json!(1))), "IMG.0141");
        assert_eq!(code(coerced("hw_firmware_type", json!(true))), "IMG.0001");
    }

    #[test]
    fn coerce_enterprise_project_row() {
        assert_eq!(coerced("enterprise_project_id", json!("0")), Ok(json!("0")));
        assert_eq!(coerced("enterprise_project_id", json!(0)), Ok(json!("0")));
        let id = "33ad552d-1149-471c-8190-ff6776174a00";
        assert_eq!(coerced("enterprise_project_id", json!(id)), Ok(json!(id)));
        assert_eq!(
            code(coerced("enterprise_project_id", json!("x"))),
            "IMG.0155"
        );
        assert_eq!(
            code(coerced("enterprise_project_id", json!(true))),
            "IMG.0001"
        );
    }

    #[test]
    fn coerce_flag_rows() {
        assert_eq!(FLAGS.len(), 13);
        for flag in FLAGS {
            assert_eq!(coerced(flag, json!(true)), Ok(json!("true")), "{flag}");
            assert_eq!(coerced(flag, json!(false)), Ok(json!("false")), "{flag}");
            assert_eq!(coerced(flag, json!("true")), Ok(json!("true")), "{flag}");
            assert_eq!(coerced(flag, json!("false")), Ok(json!("false")), "{flag}");
            for bad in [
                json!("TRUE"),
                json!("yes"),
                json!(""),
                json!(1),
                json!(0),
                json!(null),
                json!([]),
            ] {
                assert_eq!(code(coerced(flag, bad)), "IMG.0001", "{flag}");
            }
        }
    }

    #[test]
    fn coerce_gpu_type_rows() {
        for gpu in GPU_TYPES {
            assert_eq!(coerced(gpu, json!("V100")), Ok(json!("V100")), "{gpu}");
            assert_eq!(coerced(gpu, json!(100)), Ok(json!("100")), "{gpu}");
            assert_eq!(
                coerced(gpu, json!("g".repeat(255))),
                Ok(json!("g".repeat(255)))
            );
            for bad in [json!(""), json!("g".repeat(256)), json!(true), json!({})] {
                assert_eq!(code(coerced(gpu, bad)), "IMG.0001", "{gpu}");
            }
        }
    }

    #[test]
    fn coerce_none_for_non_table_names() {
        for name in [
            "id",
            "status",
            "min_disk",
            "tags",
            "__os_version",
            "__support_arm",
            "custom",
            "",
        ] {
            assert!(coerce(name, &json!("x")).is_none(), "{name}");
        }
    }

    #[test]
    fn coerce_never_none_for_table_names() {
        let table = [
            "name",
            "__description",
            "min_ram",
            "max_ram",
            "hw_firmware_type",
            "enterprise_project_id",
        ];
        for name in table.iter().chain(FLAGS).chain(GPU_TYPES) {
            assert!(coerce(name, &json!(null)).is_some(), "{name}");
            assert!(!is_read_only(name), "{name}");
        }
    }

    // ---- read-only ----

    #[test]
    fn read_only_names() {
        for name in [
            "id",
            "status",
            "visibility",
            "owner",
            "protected",
            "file",
            "self",
            "schema",
            "tags",
            "checksum",
            "container_format",
            "disk_format",
            "min_disk",
            "size",
            "virtual_size",
            "created_at",
            "updated_at",
            "deleted",
            "deleted_at",
            "virtual_env_type",
            "active_at",
            "__os_bit",
            "__os_version",
            "__os_type",
            "__platform",
            "__isregistered",
            "__image_source_type",
            "__imagetype",
            "__image_size",
            "__originalimagename",
            "__backup_id",
            "__productcode",
            "__data_origin",
            "__system__cmkid",
            "__root_origin",
            "__support_arm",
            "__is_offshelved",
            "__anything",
            "locations",
            "direct_url",
            "os_hash_algo",
            "os_hash_value",
            "os_hidden",
        ] {
            assert!(is_read_only(name), "{name}");
        }
    }

    #[test]
    fn not_read_only_names() {
        for name in [
            "name",
            "min_ram",
            "max_ram",
            "__description",
            "__support_kvm",
            "custom",
            "Status",
            "",
        ] {
            assert!(!is_read_only(name), "{name}");
        }
    }
}
