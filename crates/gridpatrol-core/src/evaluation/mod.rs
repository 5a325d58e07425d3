//! The half-year evaluation of the towns (小微工程管理专项评价) as the
//! committee runs it: the evaluation table as versioned data
//! ([`table`]), the measures the records support per town and half-year
//! ([`measures`]), the scores and the town's self-assessment beside them
//! ([`score`]), the reproducible stratified draw of works for the on-site
//! evaluation ([`sample`]) and its field checklist compared with the town's
//! records ([`site`]). Pure types and rules: no I/O.

pub mod measures;
pub mod sample;
pub mod score;
pub mod site;
pub mod table;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use crate::domain::Invalid;
use crate::time::{Window, beijing};

pub use measures::{Escalated, Measured, Roles, TownMeasures, measure};
pub use sample::{Candidate, Draw, Stratum, draw};
pub use score::{
    Claim, Declaration, Disagreement, Evidence, ItemScore, MeasureScore, Review, SelfAssessment,
    TownScore, disagreements, score,
};
pub use site::{PROBLEMS, SiteFinding, TownComparison, WorkComparison, compare, summarise};
pub use table::{ItemCode, ItemDef, MeasureDef, Rule, SONGJIANG_2025, Table};

/// A half-year, `2026H2`: January to June (H1) or July to December (H2),
/// Beijing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    /// 1 or 2.
    pub half: u8,
}

impl Period {
    /// The first day.
    #[must_use]
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, if self.half == 1 { 1 } else { 7 }, 1)
            .unwrap_or_default()
    }

    /// The last day.
    #[must_use]
    pub fn last_day(self) -> NaiveDate {
        let (m, d) = if self.half == 1 { (6, 30) } else { (12, 31) };
        NaiveDate::from_ymd_opt(self.year, m, d).unwrap_or_default()
    }

    /// The window of the half-year, ending at `now` if it is not over.
    #[must_use]
    pub fn window(self, now: DateTime<Utc>) -> Window {
        let at = |d: NaiveDate, end: bool| {
            let t = if end {
                d.and_hms_milli_opt(23, 59, 59, 999)
            } else {
                d.and_hms_opt(0, 0, 0)
            }
            .unwrap_or_default();
            beijing()
                .from_local_datetime(&t)
                .single()
                .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
        };
        let from = at(self.first_day(), false);
        let to = at(self.last_day(), true).min(now).max(from);
        Window::new(from, to).unwrap_or_else(|_| Window::days_before(from, 0))
    }

    /// The half-year of a day.
    #[must_use]
    pub fn of_day(d: NaiveDate) -> Self {
        Self {
            year: d.year(),
            half: if d.month() <= 6 { 1 } else { 2 },
        }
    }

    /// `2026年下半年`.
    #[must_use]
    pub fn label_zh(self) -> String {
        format!(
            "{}年{}半年",
            self.year,
            if self.half == 1 { "上" } else { "下" }
        )
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}H{}", self.year, self.half)
    }
}

impl std::str::FromStr for Period {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || Invalid::new("period", format!("{s:?} is not a half-year like 2026H2"));
        let t = s.trim().to_ascii_uppercase();
        let (y, h) = t.split_once('H').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let half: u8 = h.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) || !(1..=2).contains(&half) {
            return Err(bad());
        }
        Ok(Self { year, half })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_a_half_year_in_beijing_time() {
        let p: Period = "2026h2".parse().expect("period");
        assert_eq!(p.to_string(), "2026H2");
        assert_eq!(p.label_zh(), "2026年下半年");
        let now = Utc
            .with_ymd_and_hms(2027, 3, 1, 0, 0, 0)
            .single()
            .expect("t");
        let w = p.window(now);
        assert_eq!(w.from().to_rfc3339(), "2026-06-30T16:00:00+00:00");
        assert_eq!(
            crate::time::local_day(w.to()),
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("d")
        );
        let mid = Utc
            .with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
            .single()
            .expect("t");
        assert_eq!(p.window(mid).to(), mid, "a half-year not over ends now");
        for bad in ["2026", "2026H3", "H1", "19H1", "2026H"] {
            assert_eq!(bad.parse::<Period>().expect_err(bad).field, "period");
        }
        assert_eq!(
            Period::of_day(NaiveDate::from_ymd_opt(2026, 6, 30).expect("d")).half,
            1
        );
    }
}
