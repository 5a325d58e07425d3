//! Times as device platforms write them: RFC 3339 / ISO-8601 with a zone,
//! naive local times (which in this product are Beijing time, UTC+8), and
//! Unix epoch seconds or milliseconds.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// The zone of a time written without one. Chinese device platforms export
/// local wall-clock time, and all of mainland China is on UTC+8.
const NAIVE_OFFSET_HOURS: i64 = 8;

/// Epoch values at or above this magnitude are milliseconds: 1e11 seconds is
/// the year 5138, 1e11 milliseconds is March 1973.
const EPOCH_MS_THRESHOLD: f64 = 1e11;

/// What the message for an unreadable time says is accepted.
pub(crate) const TIME_EXPECTED: &str = "is not a time (expected ISO-8601 such as \
     2020-12-15T16:47:33+08:00, YYYY-MM-DD HH:MM:SS in Beijing time, or epoch seconds or milliseconds)";

const NAIVE_FORMATS: [&str; 6] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M",
];

const ZONED_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z"];

/// Reads a time from text: a number is epoch seconds or milliseconds (see
/// [`from_epoch`]), text with a zone is taken as is, and text without a zone
/// is Beijing time.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && text.contains(|c: char| c.is_ascii_digit())
    {
        if let Ok(n) = text.parse::<i64>() {
            return from_epoch_int(n);
        }
        if let Ok(x) = text.parse::<f64>() {
            return from_epoch(x);
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ZONED_FORMATS {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in NAIVE_FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return t
                .and_utc()
                .checked_sub_signed(TimeDelta::hours(NAIVE_OFFSET_HOURS));
        }
    }
    None
}

/// An epoch number: seconds below 1e11 in magnitude, milliseconds above.
/// Fractions of a second are kept to the millisecond.
pub(crate) fn from_epoch(x: f64) -> Option<DateTime<Utc>> {
    if !x.is_finite() {
        return None;
    }
    let ms = if x.abs() >= EPOCH_MS_THRESHOLD {
        x
    } else {
        x * 1000.0
    };
    // chrono's range is about ±8.2e15 ms; this bound keeps the cast exact.
    if ms.abs() > 9.0e15 {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bounded above, and rounding to the millisecond is intended"
    )]
    let ms = ms.round() as i64;
    DateTime::from_timestamp_millis(ms)
}

/// An integral epoch number, without going through `f64`.
pub(crate) fn from_epoch_int(n: i64) -> Option<DateTime<Utc>> {
    if n.unsigned_abs() >= 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

/// A JSON time: a string for [`parse_time`] or a number for [`from_epoch`].
pub(crate) fn from_json(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    match value {
        serde_json::Value::String(s) => parse_time(s),
        serde_json::Value::Number(n) => n
            .as_i64()
            .and_then(from_epoch_int)
            .or_else(|| n.as_f64().and_then(from_epoch)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> Option<i64> {
        parse_time(text).map(|t| t.timestamp_millis())
    }

    #[test]
    fn reads_every_documented_shape() {
        let expected = Some(1_608_046_053_000);
        assert_eq!(ms("2020-12-15T15:27:33Z"), expected);
        assert_eq!(ms("2020-12-15T23:27:33+08:00"), expected);
        assert_eq!(ms("2020-12-15 23:27:33+08:00"), expected);
        assert_eq!(ms("2020-12-15T23:27:33+0800"), expected);
        assert_eq!(ms("2020-12-15T23:27:33.000+08"), expected);
        assert_eq!(ms("2020-12-15 23:27:33"), expected);
        assert_eq!(ms("2020/12/15 23:27:33"), expected);
        assert_eq!(ms("2020-12-15T23:27:33"), expected);
        assert_eq!(ms("1608046053"), expected);
        assert_eq!(ms("1608046053000"), expected);
        assert_eq!(ms("1608046053.0"), expected);
        assert_eq!(ms(" 1608046053000 "), expected);
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for text in [
            "",
            "abc",
            "2020-13-45 10:00:00",
            "1e400",
            "-",
            "..",
            "99999999999999999999",
        ] {
            assert_eq!(ms(text), None, "{text}");
        }
    }

    #[test]
    fn json_numbers_and_strings() {
        let expected = Some(1_608_046_053_000);
        let at = |v| from_json(&v).map(|t| t.timestamp_millis());
        assert_eq!(at(serde_json::json!(1_608_046_053_000_i64)), expected);
        assert_eq!(at(serde_json::json!(1_608_046_053)), expected);
        assert_eq!(at(serde_json::json!(1_608_046_053.0)), expected);
        assert_eq!(at(serde_json::json!("2020-12-15T15:27:33Z")), expected);
        assert_eq!(at(serde_json::json!(true)), None);
    }
}
