//! What stored cell visits say about a scope of cells over a time window:
//! which cells were patrolled, how often, when last, which are overdue, and
//! the same summed up per area, per calendar week and per coarser cell.
//!
//! Pure functions over rows the store hands over; no I/O. One pass over the
//! visits, merged with the sorted scope, so a whole district (53,000 cells)
//! against a year of visits (2 million rows) takes milliseconds.

use std::collections::{BTreeMap, HashMap};

use h3o::{CellIndex, Resolution};

use super::{CoverageError, CoverageParams};
use crate::time::Window;

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// 1970-01-01 was a Thursday: Monday 00:00 came three days earlier.
const EPOCH_TO_MONDAY_MS: i64 = 3 * DAY_MS;

/// One stored visit: track `track_id` had `cell` in sight from `first_ms`
/// to `last_ms` (ms since the Unix epoch), as [`super::cover_track`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VisitRow {
    pub cell: CellIndex,
    pub track_id: i64,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// A half-open time window `[from_ms, to_ms)`, in ms since the Unix epoch,
/// with the offset from UTC of the local time that calendar weeks follow:
/// the project's one [`Window`], read half-open and never empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    window: Window,
    utc_offset_ms: i64,
}

impl TimeWindow {
    /// China Standard Time, UTC+8, which weeks follow unless told otherwise.
    pub const CHINA_STANDARD_TIME_MS: i64 = crate::time::BEIJING_OFFSET_MS;

    /// Validates `from_ms < to_ms` (and both within chrono's range).
    pub fn new(from_ms: i64, to_ms: i64) -> Result<Self, CoverageError> {
        let window = Window::between_ms(from_ms, to_ms)
            .filter(|_| from_ms < to_ms)
            .ok_or(CoverageError::Window { from_ms, to_ms })?;
        Ok(Self {
            window,
            utc_offset_ms: Self::CHINA_STANDARD_TIME_MS,
        })
    }

    /// Weeks start on Monday 00:00 at this offset from UTC (ms, east
    /// positive) instead of China Standard Time.
    #[must_use]
    pub fn with_utc_offset_ms(self, utc_offset_ms: i64) -> Self {
        Self {
            utc_offset_ms,
            ..self
        }
    }

    /// The window itself, `[from, to)`.
    #[must_use]
    pub fn window(&self) -> Window {
        self.window
    }

    #[must_use]
    pub fn from_ms(&self) -> i64 {
        self.window.from_ms()
    }

    #[must_use]
    pub fn to_ms(&self) -> i64 {
        self.window.to_ms()
    }

    #[must_use]
    pub fn utc_offset_ms(&self) -> i64 {
        self.utc_offset_ms
    }

    /// Whether a visit `[first_ms, last_ms]` shares a moment with the window.
    #[must_use]
    pub fn overlaps(&self, first_ms: i64, last_ms: i64) -> bool {
        first_ms < self.to_ms() && last_ms >= self.from_ms()
    }

    /// Number of the local calendar week (Monday to Monday) holding `t_ms`,
    /// counted from the week of the Unix epoch.
    fn week_of(&self, t_ms: i64) -> i64 {
        (t_ms.saturating_add(self.utc_offset_ms) + EPOCH_TO_MONDAY_MS).div_euclid(WEEK_MS)
    }

    /// When local week `week` starts, in UTC ms.
    fn week_start(&self, week: i64) -> i64 {
        week.saturating_mul(WEEK_MS) - EPOCH_TO_MONDAY_MS - self.utc_offset_ms
    }
}

/// How many days may pass between patrols of a cell before it is overdue:
/// a default, and exceptions per cell (a school's street weekly, fields
/// monthly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolIntervals {
    default_days: u32,
    per_cell: HashMap<CellIndex, u32>,
}

impl PatrolIntervals {
    /// Validates a default interval of at least one day.
    pub fn new(default_days: u32) -> Result<Self, CoverageError> {
        if default_days == 0 {
            return Err(CoverageError::Interval(default_days));
        }
        Ok(Self {
            default_days,
            per_cell: HashMap::new(),
        })
    }

    /// Sets the interval of one cell, at least one day.
    pub fn with_cell(mut self, cell: CellIndex, days: u32) -> Result<Self, CoverageError> {
        if days == 0 {
            return Err(CoverageError::Interval(days));
        }
        self.per_cell.insert(cell, days);
        Ok(self)
    }

    #[must_use]
    pub fn days(&self, cell: CellIndex) -> u32 {
        if self.per_cell.is_empty() {
            return self.default_days;
        }
        self.per_cell
            .get(&cell)
            .copied()
            .unwrap_or(self.default_days)
    }
}

/// The state of one scope cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellCoverage {
    pub cell: CellIndex,
    /// Some visit shares a moment with the window.
    pub patrolled: bool,
    /// Distinct tracks with a visit in the window.
    pub visits: u32,
    /// The latest moment before the window's end at which the cell was in
    /// sight, from any visit, the window's start notwithstanding: a visit
    /// still under way at `to_ms` counts as `to_ms - 1`.
    pub last_patrolled_ms: Option<i64>,
    /// No patrol within the cell's interval before the window's end: never
    /// patrolled, or last patrolled before `to_ms - interval`. A cell
    /// patrolled exactly one interval before the end is not overdue yet.
    pub overdue: bool,
}

/// The share of the scope patrolled in one calendar week, clipped to the
/// window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeekCoverage {
    /// ISO 8601 week-numbering year and week (1..=53).
    pub iso_year: i32,
    pub iso_week: u32,
    /// The part of the week inside the window, `[from_ms, to_ms)`.
    pub from_ms: i64,
    pub to_ms: i64,
    pub patrolled_cells: usize,
    /// `patrolled_cells` over the scope's cells; 0 for an empty scope.
    pub ratio: f64,
}

/// Coverage of a scope over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageReport {
    pub window: TimeWindow,
    /// One entry per scope cell, sorted by cell.
    pub cells: Vec<CellCoverage>,
    pub patrolled_cells: usize,
    pub overdue_cells: usize,
    /// `patrolled_cells` over the scope's cells; 0 for an empty scope.
    pub ratio: f64,
    /// One entry per local calendar week the window touches, in order.
    pub weeks: Vec<WeekCoverage>,
}

impl CoverageReport {
    /// The entry of `cell`, if it is in the scope.
    #[must_use]
    pub fn cell(&self, cell: CellIndex) -> Option<&CellCoverage> {
        self.cells
            .binary_search_by_key(&cell, |c| c.cell)
            .ok()
            .map(|i| &self.cells[i])
    }
}

/// Coverage summed over one area (a town, zone or grid).
#[derive(Debug, Clone, PartialEq)]
pub struct AreaCoverage<K> {
    pub area: K,
    /// The area's cells that are in the scope.
    pub cells: usize,
    pub patrolled_cells: usize,
    /// `patrolled_cells` over `cells`; 0 for an area without scope cells.
    pub ratio: f64,
    pub overdue_cells: usize,
}

/// Coverage of a coarser cell, summed over its scope cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoarseCoverage {
    pub cell: CellIndex,
    /// Its scope cells (children at the scope's resolution).
    pub cells: usize,
    pub patrolled_cells: usize,
    /// Some child was patrolled in the window.
    pub patrolled: bool,
    /// The latest of its children's.
    pub last_patrolled_ms: Option<i64>,
    pub overdue_cells: usize,
}

#[expect(clippy::cast_precision_loss, reason = "cell counts are far below 2^52")]
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The coverage of `scope` over `window`.
///
/// `visits` may come in any order and may hold cells outside the scope
/// (they are skipped); sorted by `(cell, track_id)` — what the store's
/// `order by` gives — they are used as they are, otherwise a sorted copy is
/// made first. Duplicate scope cells count once.
#[must_use]
pub fn analyse(
    scope: &[CellIndex],
    visits: &[VisitRow],
    window: TimeWindow,
    intervals: &PatrolIntervals,
) -> CoverageReport {
    let scope = sorted_unique(scope);
    let visits = if visits.is_sorted_by_key(|v| (v.cell, v.track_id)) {
        std::borrow::Cow::Borrowed(visits)
    } else {
        let mut owned = visits.to_vec();
        owned.sort_unstable_by_key(|v| (v.cell, v.track_id));
        std::borrow::Cow::Owned(owned)
    };

    let (from, to) = (window.from_ms(), window.to_ms());
    let first_week = window.week_of(from);
    let last_week = window.week_of(to - 1);
    let n_weeks = usize::try_from(last_week - first_week + 1).unwrap_or(0);
    let mut week_cells = vec![0usize; n_weeks];
    // The last scope cell (index + 1) counted in each week, so that a cell
    // with several visits in one week counts once.
    let mut week_mark = vec![0usize; n_weeks];

    let mut cells = Vec::with_capacity(scope.len());
    let mut rows = visits.iter().peekable();
    for (k, &cell) in scope.iter().enumerate() {
        while rows.next_if(|v| v.cell < cell).is_some() {}
        let mut visits_in_window = 0u32;
        let mut last_track = None;
        let mut last_patrolled: Option<i64> = None;
        while let Some(v) = rows.next_if(|v| v.cell == cell) {
            if v.first_ms >= to {
                continue;
            }
            let seen_until = v.last_ms.min(to - 1);
            last_patrolled = Some(last_patrolled.map_or(seen_until, |l| l.max(seen_until)));
            if v.last_ms < from {
                continue;
            }
            if last_track != Some(v.track_id) {
                visits_in_window += 1;
                last_track = Some(v.track_id);
            }
            let a = window.week_of(v.first_ms.max(from)) - first_week;
            let b = window.week_of(v.last_ms.min(to - 1)) - first_week;
            for w in a..=b {
                let Ok(w) = usize::try_from(w) else { continue };
                if week_mark[w] != k + 1 {
                    week_mark[w] = k + 1;
                    week_cells[w] += 1;
                }
            }
        }
        let interval_ms = i64::from(intervals.days(cell)) * DAY_MS;
        let overdue = last_patrolled.is_none_or(|l| l < to.saturating_sub(interval_ms));
        cells.push(CellCoverage {
            cell,
            patrolled: visits_in_window > 0,
            visits: visits_in_window,
            last_patrolled_ms: last_patrolled,
            overdue,
        });
    }

    let patrolled_cells = cells.iter().filter(|c| c.patrolled).count();
    let overdue_cells = cells.iter().filter(|c| c.overdue).count();
    let weeks = week_cells
        .iter()
        .zip(first_week..)
        .map(|(&n, week)| {
            let start = window.week_start(week);
            let (iso_year, iso_week) = iso_week(start + window.utc_offset_ms);
            WeekCoverage {
                iso_year,
                iso_week,
                from_ms: start.max(from),
                to_ms: window.week_start(week + 1).min(to),
                patrolled_cells: n,
                ratio: ratio(n, scope.len()),
            }
        })
        .collect();
    CoverageReport {
        window,
        ratio: ratio(patrolled_cells, cells.len()),
        cells,
        patrolled_cells,
        overdue_cells,
        weeks,
    }
}

fn sorted_unique(cells: &[CellIndex]) -> std::borrow::Cow<'_, [CellIndex]> {
    if cells.windows(2).all(|w| w[0] < w[1]) {
        return std::borrow::Cow::Borrowed(cells);
    }
    let mut owned = cells.to_vec();
    owned.sort_unstable();
    owned.dedup();
    std::borrow::Cow::Owned(owned)
}

/// ISO 8601 week-numbering year and week of the Monday at local time
/// `monday_local_ms` (ms since the epoch, shifted to local time).
fn iso_week(monday_local_ms: i64) -> (i32, u32) {
    // The ISO year is the year of the week's Thursday; week 1 is the week
    // of the year's first Thursday.
    let thursday = (monday_local_ms + 3 * DAY_MS).div_euclid(DAY_MS);
    let (year, _, _) = civil_from_days(thursday);
    let jan1 = days_from_civil(year, 1, 1);
    let week = (thursday - jan1).div_euclid(7) + 1;
    (year, u32::try_from(week).unwrap_or(0))
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Day count since 1970-01-01 of a Gregorian date (Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Coverage per area. An area's cells outside the report's scope are not
/// counted; a cell may belong to several areas.
#[must_use]
pub fn summarise_areas<K: Clone>(
    report: &CoverageReport,
    areas: &BTreeMap<K, Vec<CellIndex>>,
) -> Vec<AreaCoverage<K>> {
    areas
        .iter()
        .map(|(area, cells)| {
            let (mut n, mut patrolled, mut overdue) = (0, 0, 0);
            for c in sorted_unique(cells).iter().filter_map(|&c| report.cell(c)) {
                n += 1;
                patrolled += usize::from(c.patrolled);
                overdue += usize::from(c.overdue);
            }
            AreaCoverage {
                area: area.clone(),
                cells: n,
                patrolled_cells: patrolled,
                ratio: ratio(patrolled, n),
                overdue_cells: overdue,
            }
        })
        .collect()
}

/// The report's cells gathered into their parents at `res` (7..=12, not
/// finer than the scope's cells), sorted by cell: a parent is patrolled if
/// any of its scope cells is.
pub fn coarsen(
    report: &CoverageReport,
    res: Resolution,
) -> Result<Vec<CoarseCoverage>, CoverageError> {
    if !CoverageParams::RESOLUTIONS.contains(&u8::from(res)) {
        return Err(CoverageError::Resolution(u8::from(res)));
    }
    let mut parents = Vec::with_capacity(report.cells.len());
    for c in &report.cells {
        let parent = c.cell.parent(res).ok_or(CoverageError::Coarsen {
            from: u8::from(c.cell.resolution()),
            to: u8::from(res),
        })?;
        parents.push((parent, c));
    }
    parents.sort_unstable_by_key(|(p, _)| *p);
    let mut out: Vec<CoarseCoverage> = Vec::new();
    for (parent, c) in parents {
        let entry = match out.last_mut() {
            Some(last) if last.cell == parent => last,
            _ => {
                out.push(CoarseCoverage {
                    cell: parent,
                    cells: 0,
                    patrolled_cells: 0,
                    patrolled: false,
                    last_patrolled_ms: None,
                    overdue_cells: 0,
                });
                let i = out.len() - 1;
                &mut out[i]
            }
        };
        entry.cells += 1;
        entry.patrolled_cells += usize::from(c.patrolled);
        entry.patrolled |= c.patrolled;
        entry.overdue_cells += usize::from(c.overdue);
        entry.last_patrolled_ms = entry.last_patrolled_ms.max(c.last_patrolled_ms);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::LatLng;

    /// 2024-01-01 00:00 China Standard Time, a Monday.
    const MON: i64 = 1_704_038_400_000;

    fn cells(n: u32) -> Vec<CellIndex> {
        let centre = LatLng::new(31.03, 121.23)
            .expect("valid")
            .to_cell(Resolution::Ten);
        let mut cells: Vec<CellIndex> = centre.grid_disk::<Vec<_>>(3);
        cells.sort_unstable();
        cells.truncate(n as usize);
        cells
    }

    fn row(cell: CellIndex, track_id: i64, first_ms: i64, last_ms: i64) -> VisitRow {
        VisitRow {
            cell,
            track_id,
            first_ms,
            last_ms,
        }
    }

    fn window(from_ms: i64, to_ms: i64) -> TimeWindow {
        TimeWindow::new(from_ms, to_ms).expect("valid window")
    }

    fn weekly() -> PatrolIntervals {
        PatrolIntervals::new(7).expect("valid")
    }

    #[test]
    fn windows_and_intervals_are_validated() {
        assert!(TimeWindow::new(5, 5).is_err());
        assert!(TimeWindow::new(6, 5).is_err());
        assert!(PatrolIntervals::new(0).is_err());
        let c = cells(1)[0];
        assert!(weekly().with_cell(c, 0).is_err());
        assert_eq!(weekly().with_cell(c, 30).expect("valid").days(c), 30);
        assert_eq!(weekly().days(c), 7);
    }

    #[test]
    fn never_visited_cells_are_unpatrolled_and_overdue() {
        let scope = cells(3);
        let r = analyse(&scope, &[], window(MON, MON + WEEK_MS), &weekly());
        assert_eq!(r.cells.len(), 3);
        for c in &r.cells {
            assert!(!c.patrolled && c.overdue);
            assert_eq!((c.visits, c.last_patrolled_ms), (0, None));
        }
        assert_eq!((r.patrolled_cells, r.overdue_cells), (0, 3));
        assert!(r.ratio.abs() < f64::EPSILON);
    }

    #[test]
    fn window_boundaries_are_half_open() {
        let scope = cells(4);
        let (from, to) = (MON, MON + WEEK_MS);
        let rows = [
            // Ends exactly at `from`: in the window.
            row(scope[0], 1, from - 1000, from),
            // Ends just before `from`: not in it, but patrolled before.
            row(scope[1], 1, from - 1000, from - 1),
            // Starts exactly at `to`: not in the window, nor before its end.
            row(scope[2], 1, to, to + 1000),
            // Starts just before `to` and runs on.
            row(scope[3], 1, to - 1, to + 1000),
        ];
        let r = analyse(&scope, &rows, window(from, to), &weekly());
        let got: Vec<(bool, Option<i64>)> = r
            .cells
            .iter()
            .map(|c| (c.patrolled, c.last_patrolled_ms))
            .collect();
        assert_eq!(
            got,
            [
                (true, Some(from)),
                (false, Some(from - 1)),
                (false, None),
                (true, Some(to - 1)),
            ]
        );
    }

    #[test]
    fn visits_count_distinct_tracks_in_the_window() {
        let scope = cells(1);
        let c = scope[0];
        let rows = [
            row(c, 1, MON + 10, MON + 20),
            row(c, 1, MON + 30, MON + 40),
            row(c, 2, MON + 50, MON + 60),
            row(c, 3, MON - 100, MON - 50),
            row(c, 4, MON + 10, MON + 20),
        ];
        // Unsorted on purpose: the analysis sorts a copy.
        let mut shuffled = rows;
        shuffled.reverse();
        let r = analyse(&scope, &shuffled, window(MON, MON + DAY_MS), &weekly());
        assert_eq!(r.cells[0].visits, 3);
        assert_eq!(r.cells[0].last_patrolled_ms, Some(MON + 60));
    }

    #[test]
    fn interval_exactly_elapsed_is_not_overdue() {
        let scope = cells(3);
        let to = MON + 30 * DAY_MS;
        let due = to - 7 * DAY_MS;
        let rows = [
            row(scope[0], 1, due - 5000, due),
            row(scope[1], 1, due - 5000, due - 1),
            row(scope[2], 1, due - 5000, due - 1),
        ];
        let intervals = weekly().with_cell(scope[2], 8).expect("valid");
        let r = analyse(&scope, &rows, window(MON, to), &intervals);
        let overdue: Vec<bool> = r.cells.iter().map(|c| c.overdue).collect();
        assert_eq!(overdue, [false, true, false]);
        assert_eq!(r.overdue_cells, 1);
    }

    #[test]
    fn cells_outside_the_scope_are_ignored_and_scope_is_deduplicated() {
        let all = cells(4);
        let scope = vec![all[1], all[3], all[1]];
        let rows = [
            row(all[0], 1, MON, MON + 1),
            row(all[1], 1, MON, MON + 1),
            row(all[2], 1, MON, MON + 1),
        ];
        let r = analyse(&scope, &rows, window(MON, MON + DAY_MS), &weekly());
        assert_eq!(r.cells.len(), 2);
        assert!(r.cell(all[1]).is_some_and(|c| c.patrolled));
        assert!(r.cell(all[3]).is_some_and(|c| !c.patrolled));
        assert!(r.cell(all[0]).is_none());
        assert!((r.ratio - 0.5).abs() < 1e-12);
    }

    #[test]
    fn weeks_follow_local_mondays_and_are_clipped_to_the_window() {
        let scope = cells(2);
        // From Wednesday of week 1 of 2024 to Tuesday of week 3.
        let (from, to) = (MON + 2 * DAY_MS, MON + 15 * DAY_MS);
        let rows = [
            // Sunday 23:30 to Monday 00:30 local: weeks 1 and 2.
            row(
                scope[0],
                1,
                MON + 7 * DAY_MS - 1_800_000,
                MON + 7 * DAY_MS + 1_800_000,
            ),
            row(scope[0], 2, MON + 8 * DAY_MS, MON + 8 * DAY_MS + 1),
            // Monday before the window: no week.
            row(scope[1], 3, MON, MON + 1000),
        ];
        let r = analyse(&scope, &rows, window(from, to), &weekly());
        let got: Vec<(i32, u32, i64, i64, usize)> = r
            .weeks
            .iter()
            .map(|w| {
                (
                    w.iso_year,
                    w.iso_week,
                    w.from_ms,
                    w.to_ms,
                    w.patrolled_cells,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (2024, 1, from, MON + 7 * DAY_MS, 1),
                (2024, 2, MON + 7 * DAY_MS, MON + 14 * DAY_MS, 1),
                (2024, 3, MON + 14 * DAY_MS, to, 0),
            ]
        );
        assert!((r.weeks[0].ratio - 0.5).abs() < 1e-12);
        // Weeks in UTC start eight hours after those in China.
        let utc = window(from, to).with_utc_offset_ms(0);
        let r = analyse(&scope, &rows, utc, &weekly());
        assert_eq!(r.weeks.len(), 3);
        assert_eq!(r.weeks[0].from_ms, from);
        assert_eq!(
            r.weeks[0].to_ms,
            MON + 7 * DAY_MS + TimeWindow::CHINA_STANDARD_TIME_MS
        );
    }

    #[test]
    fn iso_weeks_match_the_calendar() {
        // 2020-12-28 (Mon) is in 2020-W53; 2021-01-04 is 2021-W01;
        // 2018-12-31 (Mon) is 2019-W01.
        assert_eq!(iso_week(days_from_civil(2020, 12, 28) * DAY_MS), (2020, 53));
        assert_eq!(iso_week(days_from_civil(2021, 1, 4) * DAY_MS), (2021, 1));
        assert_eq!(iso_week(days_from_civil(2018, 12, 31) * DAY_MS), (2019, 1));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn areas_sum_their_scope_cells() {
        let scope = cells(4);
        let rows = [row(scope[0], 1, MON, MON + 1)];
        let r = analyse(&scope, &rows, window(MON, MON + DAY_MS), &weekly());
        let mut areas = BTreeMap::new();
        areas.insert("a", vec![scope[0], scope[1]]);
        areas.insert("b", vec![scope[2], scope[3]]);
        areas.insert("empty", vec![]);
        let s = summarise_areas(&r, &areas);
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].area, s[0].cells, s[0].patrolled_cells), ("a", 2, 1));
        assert!((s[0].ratio - 0.5).abs() < 1e-12);
        assert_eq!(
            (s[1].area, s[1].patrolled_cells, s[1].overdue_cells),
            ("b", 0, 2)
        );
        assert_eq!((s[2].cells, s[2].ratio.to_bits()), (0, 0.0f64.to_bits()));
    }

    #[test]
    fn a_parent_is_patrolled_if_any_child_is() {
        let centre = LatLng::new(31.03, 121.23)
            .expect("valid")
            .to_cell(Resolution::Eight);
        let scope: Vec<CellIndex> = centre.children(Resolution::Ten).collect();
        assert_eq!(scope.len(), 49);
        let rows = [row(scope[5], 1, MON, MON + 1)];
        let r = analyse(&scope, &rows, window(MON, MON + DAY_MS), &weekly());
        let coarse = coarsen(&r, Resolution::Eight).expect("coarser");
        assert_eq!(coarse.len(), 1);
        assert_eq!(coarse[0].cell, centre);
        assert!(coarse[0].patrolled);
        assert_eq!((coarse[0].cells, coarse[0].patrolled_cells), (49, 1));
        assert_eq!(coarse[0].last_patrolled_ms, Some(MON + 1));
        assert_eq!(coarse[0].overdue_cells, 48);
        let nine = coarsen(&r, Resolution::Nine).expect("coarser");
        assert_eq!(nine.len(), 7);
        assert_eq!(nine.iter().filter(|c| c.patrolled).count(), 1);
        assert_eq!(coarsen(&r, Resolution::Ten).expect("same").len(), 49);
        assert!(coarsen(&r, Resolution::Eleven).is_err());
        assert!(coarsen(&r, Resolution::Six).is_err());
    }
}
