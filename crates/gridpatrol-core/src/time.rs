//! Time, as the project uses it everywhere: instants are UTC, the calendar
//! is Beijing time (China Standard Time, UTC+8, no daylight saving). A bare
//! date a user types is a Beijing day; days, weeks and deadlines are Beijing
//! calendar days; machine answers give instants as RFC 3339 in UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, SecondsFormat, Utc};

/// Beijing time's offset from UTC, in seconds.
pub const BEIJING_OFFSET_SECS: i32 = 8 * 3600;

/// Beijing time's offset from UTC, in milliseconds.
pub const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;

/// Beijing time (China Standard Time, UTC+8).
#[must_use]
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(BEIJING_OFFSET_SECS).unwrap_or_else(|| Utc.fix())
}

/// The Beijing calendar day of an instant.
#[must_use]
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&beijing()).date_naive()
}

/// An instant as RFC 3339 in UTC to the second (`2026-11-02T01:30:00Z`).
#[must_use]
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Milliseconds since the Unix epoch as [`iso`]; out of range is the epoch.
#[must_use]
pub fn iso_ms(ms: i64) -> String {
    iso(DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default())
}

/// Parses an RFC 3339 time, or a date `YYYY-MM-DD` (midnight, Beijing
/// time), into milliseconds since the epoch.
#[must_use]
pub fn parse_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let t = d
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(beijing())
        .single()?;
    Some(t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_bare_date_is_a_beijing_midnight() {
        let ms = parse_time_ms("2026-11-02").expect("a date");
        assert_eq!(iso_ms(ms), "2026-11-01T16:00:00Z");
        assert_eq!(parse_time_ms("2026-11-02T00:00:00+08:00"), Some(ms));
        assert_eq!(parse_time_ms("2026-13-02"), None);
    }

    #[test]
    fn the_local_day_turns_at_beijing_midnight() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 1, 16, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(
            local_day(t),
            NaiveDate::from_ymd_opt(2026, 11, 2).expect("valid")
        );
        let before = t - chrono::Duration::seconds(1);
        assert_eq!(
            local_day(before),
            NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid")
        );
    }
}
