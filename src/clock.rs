//! The emulator clock: the only source of "now" for timestamps, lifecycles, quotas and skew checks.
//!
//! A clock is either *running* (system time plus an offset) or *frozen* at an instant. Tests freeze it,
//! advance it and set it; every instant is kept as a UTC [`OffsetDateTime`].

use std::time::Duration;

use parking_lot::RwLock;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The instant a manual clock starts at unless told otherwise: 2026-01-01T00:00:00Z.
pub const MANUAL_EPOCH: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00:00 UTC);

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// System time plus `offset` (which may be negative).
    Running { offset: time::Duration },
    /// Time stands still at this instant.
    Frozen { at: OffsetDateTime },
}

/// A shareable clock handle (cheap to clone through `Arc`).
#[derive(Debug)]
pub struct Clock {
    mode: RwLock<Mode>,
}

/// What `GET /_imgemu/clock` shows.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct ClockView {
    /// The current emulator time, RFC 3339 UTC.
    pub now: String,
    /// Whether the clock stands still.
    pub frozen: bool,
}

/// A clock operation that could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClockError {
    /// `set` was given something that is not an RFC 3339 instant.
    #[error("invalid instant {0:?}: expected RFC 3339, e.g. 2026-01-01T00:00:00Z")]
    BadInstant(String),
    /// The requested instant is outside the representable range.
    #[error("the clock cannot move that far")]
    OutOfRange,
}

impl Clock {
    /// A clock that follows system time.
    pub fn system() -> Self {
        Self {
            mode: RwLock::new(Mode::Running {
                offset: time::Duration::ZERO,
            }),
        }
    }

    /// A clock frozen at `at` until advanced, set or resumed.
    pub fn frozen_at(at: OffsetDateTime) -> Self {
        Self {
            mode: RwLock::new(Mode::Frozen { at }),
        }
    }

    /// The current emulator time (UTC).
    pub fn now(&self) -> OffsetDateTime {
        match *self.mode.read() {
            Mode::Running { offset } => OffsetDateTime::now_utc() + offset,
            Mode::Frozen { at } => at,
        }
    }

    /// The current emulator time truncated to whole seconds, as stamped on resources.
    pub fn now_seconds(&self) -> OffsetDateTime {
        let now = self.now();
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// Whether the clock stands still.
    pub fn is_frozen(&self) -> bool {
        matches!(*self.mode.read(), Mode::Frozen { .. })
    }

    /// Stops the clock at the current instant.
    pub fn freeze(&self) {
        let mut mode = self.mode.write();
        if let Mode::Running { offset } = *mode {
            *mode = Mode::Frozen {
                at: OffsetDateTime::now_utc() + offset,
            };
        }
    }

    /// Lets a frozen clock run again from the instant it shows.
    pub fn resume(&self) {
        let mut mode = self.mode.write();
        if let Mode::Frozen { at } = *mode {
            *mode = Mode::Running {
                offset: at - OffsetDateTime::now_utc(),
            };
        }
    }

    /// Moves the clock forward by `by` (frozen or running).
    pub fn advance(&self, by: Duration) -> Result<(), ClockError> {
        let by = time::Duration::try_from(by).map_err(|_| ClockError::OutOfRange)?;
        let mut mode = self.mode.write();
        *mode = match *mode {
            Mode::Running { offset } => Mode::Running {
                offset: offset.checked_add(by).ok_or(ClockError::OutOfRange)?,
            },
            Mode::Frozen { at } => Mode::Frozen {
                at: at.checked_add(by).ok_or(ClockError::OutOfRange)?,
            },
        };
        Ok(())
    }

    /// Sets the clock to `to`; a frozen clock stays frozen there, a running one runs on from there.
    pub fn set(&self, to: OffsetDateTime) {
        let to = to.to_offset(time::UtcOffset::UTC);
        let mut mode = self.mode.write();
        *mode = match *mode {
            Mode::Running { .. } => Mode::Running {
                offset: to - OffsetDateTime::now_utc(),
            },
            Mode::Frozen { .. } => Mode::Frozen { at: to },
        };
    }

    /// Parses an RFC 3339 instant and sets the clock to it.
    pub fn set_rfc3339(&self, text: &str) -> Result<(), ClockError> {
        let at = OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|_| ClockError::BadInstant(text.to_string()))?;
        self.set(at);
        Ok(())
    }

    /// The control-plane view of this clock.
    pub fn view(&self) -> ClockView {
        ClockView {
            now: format_rfc3339(self.now()),
            frozen: self.is_frozen(),
        }
    }
}

/// Formats an instant as RFC 3339 UTC with a `Z` suffix, keeping sub-second digits only if present.
pub fn format_rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Formats an instant as `YYYY-MM-DDThh:mm:ssZ` (UTC, whole seconds).
///
/// Written digit by digit: every update of every vendor stamps a time, and `format!` cost a
/// twentieth of a Huawei UpdateImage.
pub fn format_seconds(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let Ok(year) = u16::try_from(at.year()) else {
        return format_seconds_slow(at);
    };
    if year > 9999 {
        return format_seconds_slow(at);
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    let [y1, y0] = [year / 100, year % 100].map(|v| v as u8);
    let fields = [
        (0, y1),
        (2, y0),
        (5, u8::from(at.month())),
        (8, at.day()),
        (11, at.hour()),
        (14, at.minute()),
        (17, at.second()),
    ];
    for (place, value) in fields {
        text[place] = b'0' + value / 10;
        text[place + 1] = b'0' + value % 10;
    }
    String::from_utf8(text.to_vec()).unwrap_or_else(|_| format_seconds_slow(at))
}

/// Formats an instant as `YYYYMMDDThhmmssZ` (UTC, whole seconds): the request date of the
/// JDCLOUD2 and SDK-HMAC-SHA256 signatures.
pub fn format_compact(at: OffsetDateTime) -> String {
    format_seconds(at).replace(['-', ':'], "")
}

/// [`format_seconds`] for any year.
fn format_seconds_slow(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Parses an RFC 3339 instant, normalised to UTC.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| t.to_offset(time::UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_formatted_like_the_general_format() {
        let mut at = time::macros::datetime!(0000-01-01 00:00:00 UTC);
        let end = time::macros::datetime!(9999-12-01 00:00:00 UTC);
        while at < end {
            assert_eq!(format_seconds(at), format_seconds_slow(at));
            at += time::Duration::seconds(86_400 * 37 + 3_607 * 5 + 13);
        }
        let last = time::macros::datetime!(9999-12-31 23:59:59 UTC);
        assert_eq!(format_seconds(last), "9999-12-31T23:59:59Z");
        let zero = time::macros::datetime!(0000-01-01 00:00:00 UTC);
        assert_eq!(format_seconds(zero), "0000-01-01T00:00:00Z");
        let before = time::macros::datetime!(-0001-06-01 00:00:00 UTC);
        assert_eq!(format_seconds(before), format_seconds_slow(before));
        let offset = time::macros::datetime!(2024-03-20 11:30:05 +08:00);
        assert_eq!(format_seconds(offset), "2024-03-20T03:30:05Z");
        assert_eq!(format_compact(offset), "20240320T033005Z");
    }

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let clock = Clock::frozen_at(MANUAL_EPOCH);
        assert_eq!(clock.now(), MANUAL_EPOCH);
        clock.advance(Duration::from_secs(90)).unwrap();
        assert_eq!(format_seconds(clock.now()), "2026-01-01T00:01:30Z");
        clock.set_rfc3339("2024-03-20T11:30:00+08:00").unwrap();
        assert_eq!(format_seconds(clock.now()), "2024-03-20T03:30:00Z");
        assert!(clock.is_frozen());
    }

    #[test]
    fn resume_runs_on_from_the_frozen_instant() {
        let clock = Clock::frozen_at(MANUAL_EPOCH);
        clock.resume();
        assert!(!clock.is_frozen());
        let now = clock.now();
        assert!(now >= MANUAL_EPOCH && now < MANUAL_EPOCH + time::Duration::minutes(1));
        clock.freeze();
        let frozen = clock.now();
        assert_eq!(clock.now(), frozen);
    }

    #[test]
    fn set_rejects_garbage() {
        let clock = Clock::system();
        assert!(matches!(
            clock.set_rfc3339("yesterday"),
            Err(ClockError::BadInstant(_))
        ));
    }

    #[test]
    fn seconds_format_has_no_fraction() {
        let at = MANUAL_EPOCH + time::Duration::milliseconds(1500);
        assert_eq!(format_seconds(at), "2026-01-01T00:00:01Z");
    }
}
