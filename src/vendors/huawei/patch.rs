//! UpdateImage's JSON patch (spec §3.1): the whole array is checked for syntax first, then every
//! operation is applied in order with RFC 6902 member semantics; the image changes only if every
//! operation and the final checks pass (on failure each change is undone, newest first, so the
//! image is never copied whole).

use serde_json::{json, Value};

use super::error::ImsError;
use super::model::Image;
use super::rules;

/// Most custom attributes on one image.
pub(crate) const MAX_CUSTOM: usize = 128;

/// One checked operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Add(String, Value),
    Replace(String, Value),
    Remove(String),
}

impl Op {
    /// The member the operation changes.
    pub(crate) fn name(&self) -> &str {
        match self {
            Op::Add(name, _) | Op::Replace(name, _) | Op::Remove(name) => name,
        }
    }
}

fn syntax(cause: &str) -> ImsError {
    ImsError::new("IMG.0001", cause.to_string())
}

/// Step 2 and 3: the body must be a non-empty JSON array of well-formed operations.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Op>, ImsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ImsError::new("IMG.0007", "empty body"));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| syntax(&format!("invalid JSON: {e}")))?;
    let items = value
        .as_array()
        .ok_or_else(|| syntax("the body is not a JSON array"))?;
    if items.is_empty() {
        return Err(ImsError::new("IMG.0007", "empty operation list"));
    }
    items.iter().map(parse_op).collect()
}

fn parse_op(item: &Value) -> Result<Op, ImsError> {
    let obj = item
        .as_object()
        .ok_or_else(|| syntax("an operation is not an object"))?;
    let op = obj
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| syntax("op missing"))?;
    let path = obj
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| syntax("path missing or not a string"))?;
    let name = path
        .strip_prefix('/')
        .filter(|n| !n.is_empty() && !n.contains(['/', '~']))
        .ok_or_else(|| syntax(&format!("bad path {path:?}")))?
        .to_string();
    let value = || match obj.get("value") {
        None | Some(Value::Null) | Some(Value::Array(_)) | Some(Value::Object(_)) => Err(syntax(
            &format!("{op} {path} needs a string, number or boolean value"),
        )),
        Some(v) => Ok(v.clone()),
    };
    match op {
        "add" => Ok(Op::Add(name, value()?)),
        "replace" => Ok(Op::Replace(name, value()?)),
        "remove" => Ok(Op::Remove(name)),
        other => Err(syntax(&format!("unknown op {other:?}"))),
    }
}

/// Whether `name` is a custom extension attribute (not a table or read-only attribute).
fn is_custom(name: &str) -> bool {
    !rules::is_updatable(name) && !rules::is_read_only(name) && rules::is_custom_name(name)
}

/// The stored value of `name` for `value` (step 5a–b).
fn stored_value(name: &str, value: &Value) -> Result<Value, ImsError> {
    if rules::is_read_only(name) {
        return Err(ImsError::new("IMG.0161", format!("{name} is read-only")));
    }
    match rules::coerce(name, value) {
        Some(result) => result,
        None if rules::is_custom_name(name) => rules::coerce_custom(value),
        None => Err(syntax(&format!("{name:?} is not a valid attribute name"))),
    }
}

/// Steps 5–6 on `image`: either every operation applies and the checks pass, or `image` is left
/// exactly as it was.
pub(crate) fn apply(image: &mut Image, ops: &[Op]) -> Result<(), ImsError> {
    // The previous value of each member an operation changed, in order.
    let mut undo: Vec<(String, Option<Value>)> = Vec::with_capacity(ops.len());
    let result = apply_logged(image, ops, &mut undo);
    if result.is_err() {
        for (name, previous) in undo.into_iter().rev() {
            match previous {
                Some(value) => image.insert(name, value),
                None => image.remove(&name),
            };
        }
    }
    result
}

fn apply_logged(
    work: &mut Image,
    ops: &[Op],
    undo: &mut Vec<(String, Option<Value>)>,
) -> Result<(), ImsError> {
    for op in ops {
        match op {
            Op::Add(name, value) => {
                let stored = stored_value(name, value)?;
                undo.push((name.clone(), work.insert(name.clone(), stored)));
            }
            Op::Replace(name, value) => {
                let stored = stored_value(name, value)?;
                if !work.contains_key(name) {
                    return Err(ImsError::new(
                        "IMG.0035",
                        format!("replace of absent {name}"),
                    ));
                }
                undo.push((name.clone(), work.insert(name.clone(), stored)));
            }
            Op::Remove(name) => {
                if rules::is_read_only(name) || name == "name" || name == "min_ram" {
                    return Err(ImsError::new(
                        "IMG.0161",
                        format!("{name} cannot be removed"),
                    ));
                }
                if rules::coerce(name, &json!("")).is_none() && !rules::is_custom_name(name) {
                    return Err(syntax(&format!("{name:?} is not a valid attribute name")));
                }
                match work.remove(name) {
                    Some(previous) => undo.push((name.clone(), Some(previous))),
                    None => {
                        return Err(ImsError::new(
                            "IMG.0035",
                            format!("remove of absent {name}"),
                        ))
                    }
                }
            }
        }
    }
    let ram = |key: &str| match work.get(key) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        _ => None,
    };
    if let (Some(max), Some(min)) = (ram("max_ram"), ram("min_ram")) {
        if min > max {
            return Err(ImsError::new(
                "IMG.0055",
                format!("min_ram {min} > max_ram {max}"),
            ));
        }
    }
    // Only an `add` of a custom attribute can raise the count, so only then is it counted.
    let adds_custom = ops
        .iter()
        .any(|op| matches!(op, Op::Add(name, _) if is_custom(name)));
    if adds_custom && work.keys().filter(|k| is_custom(k)).count() > MAX_CUSTOM {
        return Err(syntax("more than 128 custom attributes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_operation_leaves_the_image_exactly_as_it_was() {
        let original: Image = match json!({"name": "a", "min_ram": 0, "__description": "d",
                                           "max_ram": "4096", "custom_k": "v"})
        {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let failing = [
            // Every kind of change first, then a replace of an absent member.
            vec![
                Op::Add("__description".into(), json!("new")),
                Op::Remove("custom_k".into()),
                Op::Add("name".into(), json!("b")),
                Op::Add("custom_new".into(), json!("x")),
                Op::Replace("custom_absent".into(), json!("v")),
            ],
            // The operations pass, the final min_ram <= max_ram check fails.
            vec![
                Op::Add("name".into(), json!("c")),
                Op::Replace("min_ram".into(), json!(8192)),
            ],
        ];
        for ops in failing {
            let mut image = original.clone();
            assert!(apply(&mut image, &ops).is_err(), "{ops:?}");
            assert_eq!(image, original, "{ops:?}");
        }
        let mut image = original.clone();
        apply(
            &mut image,
            &[
                Op::Add("name".into(), json!("z")),
                Op::Remove("custom_k".into()),
            ],
        )
        .unwrap();
        assert_eq!(image["name"], "z");
        assert!(!image.contains_key("custom_k"));
    }

    #[test]
    fn syntax_errors_come_before_anything_else() {
        assert_eq!(parse(b"").unwrap_err().code, "IMG.0007");
        assert_eq!(parse(b" []").unwrap_err().code, "IMG.0007");
        for bad in [
            &b"{"[..],
            b"{}",
            b"[1]",
            br#"[{"path":"/name","value":"x"}]"#,
            br#"[{"op":"move","path":"/name","value":"x"}]"#,
            br#"[{"op":"add","path":"name","value":"x"}]"#,
            br#"[{"op":"add","path":"/","value":"x"}]"#,
            br#"[{"op":"add","path":"/a/b","value":"x"}]"#,
            br#"[{"op":"add","path":"/a~1","value":"x"}]"#,
            br#"[{"op":"add","path":"/name"}]"#,
            br#"[{"op":"replace","path":"/name","value":null}]"#,
            br#"[{"op":"add","path":"/name","value":{}}]"#,
        ] {
            assert_eq!(
                parse(bad).unwrap_err().code,
                "IMG.0001",
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            parse(br#"[{"op":"remove","path":"/x"}]"#).unwrap(),
            vec![Op::Remove("x".into())]
        );
    }
}
