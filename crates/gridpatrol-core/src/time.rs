//! Time, as the project uses it everywhere: instants are UTC, the calendar
//! is Beijing time (China Standard Time, UTC+8, no daylight saving). A bare
//! date a user types is a Beijing day; days, weeks and deadlines are Beijing
//! calendar days; machine answers give instants as RFC 3339 in UTC.
//! [`Window`] is the one window of time, read closed by the blind-spot
//! analyses and half-open by coverage.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, SecondsFormat, Utc};

use crate::domain::Invalid;

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

/// An instant as people read it: Beijing time to the minute
/// (`2026-11-02 09:30`), for ledgers, workbooks and printed pages.
#[must_use]
pub fn local_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Milliseconds since the Unix epoch as [`iso`]; out of range is the epoch.
#[must_use]
pub fn iso_ms(ms: i64) -> String {
    iso(DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default())
}

/// An instant as people read it, in Beijing time to the minute
/// (`2026-11-02 09:30`), for exports and labels; machines get [`iso`].
#[must_use]
pub fn beijing_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Milliseconds since the Unix epoch as [`beijing_text`].
#[must_use]
pub fn beijing_text_ms(ms: i64) -> String {
    beijing_text(DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default())
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

/// A window of time between two instants, `from` ≤ `to`: the one window
/// type of the project.
///
/// - The blind-spot analyses read it closed, `[from, to]` ([`Window::contains`]);
///   `to` is also "now" for deadlines and ages, so a past window is judged
///   as it stood then.
/// - Coverage reads it half-open, `[from, to)` in ms
///   ([`Window::contains_ms`], [`Window::from_ms`], [`Window::to_ms`]),
///   non-empty, with the local offset weeks follow:
///   `coverage::analysis::TimeWindow`, built on this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Window {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, Invalid> {
        if from > to {
            return Err(Invalid::new("from", "is after to"));
        }
        Ok(Self { from, to })
    }

    /// A window from request text: `from` and `to` as RFC 3339 times or
    /// days `YYYY-MM-DD` (China Standard Time; `from` at the day's start,
    /// `to` at its end); `to` defaults to `now`, `from` to `default_days`
    /// before `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        default_days: u32,
        now: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        let to = parse_time("to", to, true)?.unwrap_or(now);
        match parse_time("from", from, false)? {
            None => Ok(Self::days_before(to, default_days)),
            Some(from) => Self::new(from, to),
        }
    }

    /// The `days` before `to`.
    #[must_use]
    pub fn days_before(to: DateTime<Utc>, days: u32) -> Self {
        Self {
            from: to - chrono::Duration::days(i64::from(days)),
            to,
        }
    }

    #[must_use]
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    #[must_use]
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// A window from ms since the epoch; `None` when `from_ms > to_ms` or
    /// an instant is out of chrono's range.
    #[must_use]
    pub fn between_ms(from_ms: i64, to_ms: i64) -> Option<Self> {
        let from = DateTime::<Utc>::from_timestamp_millis(from_ms)?;
        let to = DateTime::<Utc>::from_timestamp_millis(to_ms)?;
        (from <= to).then_some(Self { from, to })
    }

    /// `from` in ms since the epoch.
    #[must_use]
    pub fn from_ms(&self) -> i64 {
        self.from.timestamp_millis()
    }

    /// `to` in ms since the epoch.
    #[must_use]
    pub fn to_ms(&self) -> i64 {
        self.to.timestamp_millis()
    }

    /// Whether `t_ms` lies in the half-open `[from, to)`.
    #[must_use]
    pub fn contains_ms(&self, t_ms: i64) -> bool {
        self.from_ms() <= t_ms && t_ms < self.to_ms()
    }

    /// Whether `t` lies in the closed `[from, to]`.
    #[must_use]
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t <= self.to
    }

    /// Whether a local calendar day falls in the window.
    #[must_use]
    pub fn contains_day(&self, d: NaiveDate) -> bool {
        local_day(self.from) <= d && d <= local_day(self.to)
    }

    /// The local day of `to`, "today" for deadlines.
    #[must_use]
    pub fn today(&self) -> NaiveDate {
        local_day(self.to)
    }

    /// The length in days.
    #[must_use]
    pub fn days(&self) -> f64 {
        #[expect(
            clippy::cast_precision_loss,
            reason = "a window in seconds is far below 2^52"
        )]
        let s = (self.to - self.from).num_seconds() as f64;
        s / 86_400.0
    }
}

/// A time parameter: RFC 3339, or a day `YYYY-MM-DD` in China Standard
/// Time, read as its start (`end = false`) or its last millisecond.
pub fn parse_time(
    field: &str,
    text: Option<&str>,
    end: bool,
) -> Result<Option<DateTime<Utc>>, Invalid> {
    let Some(s) = text.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let bad = || {
        Invalid::new(
            field,
            format!("{s:?} is not an RFC 3339 time or a date YYYY-MM-DD"),
        )
    };
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    let day = if end {
        day.succ_opt().ok_or_else(bad)?
    } else {
        day
    };
    let t = day
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(beijing()).single())
        .ok_or_else(bad)?
        .with_timezone(&Utc);
    Ok(Some(if end {
        t - chrono::Duration::milliseconds(1)
    } else {
        t
    }))
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

    #[test]
    fn one_window_is_closed_or_half_open_as_asked() {
        let w = Window::between_ms(1_000, 2_000).expect("ordered");
        let at = |ms| DateTime::<Utc>::from_timestamp_millis(ms).expect("in range");
        // closed for the blind-spot analyses
        assert!(w.contains(at(1_000)) && w.contains(at(2_000)));
        // half-open for coverage
        assert!(w.contains_ms(1_000) && w.contains_ms(1_999) && !w.contains_ms(2_000));
        assert_eq!((w.from_ms(), w.to_ms()), (1_000, 2_000));
        assert_eq!(Window::new(at(1_000), at(2_000)), Ok(w));
        // an empty window is a window; a reversed one is not
        assert!(Window::between_ms(5, 5).is_some());
        assert!(Window::between_ms(6, 5).is_none());
        assert!(Window::new(at(6), at(5)).is_err());
    }
}
