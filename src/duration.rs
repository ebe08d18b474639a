//! The one duration grammar used everywhere (`time:DUR`, clock `advance`, latencies):
//! an integer with a unit, `ms`, `s`, `m` or `h` (`250ms`, `90s`, `5m`).

use std::time::Duration;

/// A duration string that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: expected an integer with a unit ms, s, m or h (e.g. 250ms, 90s, 5m)")]
pub struct DurationError {
    /// The rejected text.
    pub input: String,
}

/// Parses `250ms`, `90s`, `5m`, `2h`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(imgemu::duration::parse("90s"), Ok(Duration::from_secs(90)));
/// assert!(imgemu::duration::parse("1.5s").is_err());
/// ```
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        input: input.to_string(),
    };
    let digits_end = input.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (number, unit) = input.split_at(digits_end);
    if number.is_empty() {
        return Err(err());
    }
    let n: u64 = number.parse().map_err(|_| err())?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(err()),
    };
    n.checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(err)
}

/// Formats a duration in the grammar, with the largest unit that represents it exactly.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(imgemu::duration::format(Duration::from_secs(300)), "5m");
/// assert_eq!(imgemu::duration::format(Duration::from_millis(1500)), "1500ms");
/// ```
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms != 0 && ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms != 0 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// Reads a duration from JSON: a string in the grammar, or an integer number of milliseconds.
pub fn from_json(value: &serde_json::Value) -> Result<Duration, DurationError> {
    match value {
        serde_json::Value::String(s) => parse(s),
        serde_json::Value::Number(n) => {
            n.as_u64()
                .map(Duration::from_millis)
                .ok_or_else(|| DurationError {
                    input: n.to_string(),
                })
        }
        other => Err(DurationError {
            input: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "s",
            "10",
            "10 s",
            "-1s",
            "1.5s",
            "10d",
            "10S",
            "99999999999999999999h",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn format_round_trips() {
        for s in ["250ms", "90s", "5m", "2h", "0s", "1500ms"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }

    #[test]
    fn json_integers_are_milliseconds() {
        assert_eq!(
            from_json(&serde_json::json!(1500)),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(
            from_json(&serde_json::json!("2s")),
            Ok(Duration::from_secs(2))
        );
        assert!(from_json(&serde_json::json!(-1)).is_err());
        assert!(from_json(&serde_json::json!(true)).is_err());
    }
}
