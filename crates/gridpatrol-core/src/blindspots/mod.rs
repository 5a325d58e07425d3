//! Blind spots of supervision (监管盲区) and the town scorecard: where works
//! escape management and how each town measures up against the committee's
//! evaluation. Pure analyses over a loaded [`Dataset`] (geo, rstar, h3o; no
//! I/O), run by the service layer on blocking threads.
//!
//! - [`near_venues`]: works within a distance of crowded venues (geodesic,
//!   0 m inside a venue polygon), found through an R-tree.
//! - [`districts`]: commercial districts (商圈) whose works are not brought
//!   under management, each flag with its reasons and thresholds.
//! - [`works`]: works outside management, one kind of gap per reason.
//! - [`scorecard`]: one row per town with the evaluation's items.
//!
//! Every flag carries [`Reason`]s that say in words (English and Chinese)
//! what was measured and which threshold it broke, so staff can act on it.

pub mod cells;
pub mod districts;
pub mod geodesic;
pub mod near_venues;
pub mod scorecard;
pub mod works;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use geo::{Centroid, Geometry, MultiPolygon, Point};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};
use serde::Serialize;

use crate::casefile::CaseFile;
use crate::domain::{District, Grid, Project, Stored, Town, Venue};
use crate::inspection::{Hazard, Inspection};

/// Why something was flagged: a stable code, the sentence staff read (in
/// English and Chinese), and the measured value against its threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// A stable machine name, e.g. `low_patrol_coverage`.
    pub code: &'static str,
    /// The sentence, e.g. "patrol coverage 18% < 60%".
    pub text: String,
    /// The same in Chinese.
    pub text_zh: String,
    /// What was measured, when it is a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The threshold it was compared with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

impl Reason {
    /// A reason in both languages, without a measure.
    #[must_use]
    pub fn new(code: &'static str, text: String, text_zh: String) -> Self {
        Self {
            code,
            text,
            text_zh,
            value: None,
            threshold: None,
        }
    }

    /// The measured value and the threshold it was compared with.
    #[must_use]
    pub fn measured(mut self, value: f64, threshold: f64) -> Self {
        self.value = Some(value);
        self.threshold = Some(threshold);
        self
    }
}

/// The analysis window `[from, to]`, closed at both ends: [`crate::time::Window`].
pub use crate::time::{Window, local_day, parse_time};

/// What patrols did in one H3 cell within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CellPatrol {
    pub visits: u32,
    pub last_patrolled: Option<DateTime<Utc>>,
    /// Its last patrol is older than its grid's interval (or it had none).
    pub overdue: bool,
}

/// Patrol coverage of the cells the analyses ask about, from the coverage
/// engine. `Unknown` when no coverage is at hand: the coverage measures are
/// then left empty and no coverage reason is given, rather than guessed.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Coverage {
    #[default]
    Unknown,
    /// Every asked cell; a missing cell was never patrolled.
    Known(HashMap<CellIndex, CellPatrol>),
}

/// Coverage of a set of cells.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageSummary {
    pub cells: usize,
    pub patrolled_cells: usize,
    pub overdue_cells: usize,
    /// `patrolled_cells / cells`, 0 for no cells.
    pub ratio: f64,
    pub last_patrolled: Option<DateTime<Utc>>,
}

impl Coverage {
    /// Sums the coverage of some cells; `None` when unknown.
    #[must_use]
    pub fn summarize(&self, cells: &[CellIndex]) -> Option<CoverageSummary> {
        let Self::Known(map) = self else {
            return None;
        };
        let mut s = CoverageSummary {
            cells: cells.len(),
            patrolled_cells: 0,
            overdue_cells: 0,
            ratio: 0.0,
            last_patrolled: None,
        };
        for c in cells {
            match map.get(c) {
                Some(p) => {
                    if p.visits > 0 {
                        s.patrolled_cells += 1;
                    }
                    if p.overdue {
                        s.overdue_cells += 1;
                    }
                    s.last_patrolled = s.last_patrolled.max(p.last_patrolled);
                }
                None => s.overdue_cells += 1,
            }
        }
        if !cells.is_empty() {
            #[expect(clippy::cast_precision_loss, reason = "cell counts are small")]
            {
                s.ratio = s.patrolled_cells as f64 / cells.len() as f64;
            }
        }
        Some(s)
    }
}

/// Everything the analyses read, loaded once from the store.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub towns: Vec<Stored<Town>>,
    pub grids: Vec<Stored<Grid>>,
    pub districts: Vec<Stored<District>>,
    pub venues: Vec<Stored<Venue>>,
    pub projects: Vec<Stored<Project>>,
    pub inspections: Vec<Inspection>,
    pub hazards: Vec<Hazard>,
    /// The case files of the works that have records, by work id; `None`
    /// when they are not known, and then no gap that reads them (hot work
    /// without a permit, insulation unfiled, uninsured) is guessed.
    pub case_files: Option<HashMap<i64, CaseFile>>,
}

/// The coverage resolution of commercial districts (DESIGN.md's default).
pub const DISTRICT_RESOLUTION: Resolution = Resolution::Ten;

impl Dataset {
    /// The same data without the works marked outside the 小微工程 scope
    /// (and their inspections and hazards): they leave every count.
    #[must_use]
    pub fn without_out_of_scope(mut self) -> Self {
        let out: std::collections::HashSet<i64> = self
            .case_files
            .iter()
            .flatten()
            .filter(|(_, f)| f.out_of_scope().is_some())
            .map(|(id, _)| *id)
            .collect();
        if out.is_empty() {
            return self;
        }
        self.projects.retain(|p| !out.contains(&p.id));
        self.inspections.retain(|i| !out.contains(&i.project_id));
        self.hazards.retain(|h| !out.contains(&h.project_id));
        self
    }

    /// The cells of every commercial district, by district id.
    #[must_use]
    pub fn district_cells(&self) -> HashMap<i64, Vec<CellIndex>> {
        self.districts
            .iter()
            .map(|d| (d.id, area_cells(&d.value.geometry, DISTRICT_RESOLUTION)))
            .collect()
    }

    /// The cells of every town's grids (at each grid's resolution), by town code.
    #[must_use]
    pub fn town_cells(&self) -> HashMap<String, Vec<CellIndex>> {
        let mut out: HashMap<String, Vec<CellIndex>> = HashMap::new();
        for g in &self.grids {
            out.entry(g.value.town.clone())
                .or_default()
                .extend(g.value.expanded_cells());
        }
        for cells in out.values_mut() {
            cells.sort_unstable();
            cells.dedup();
        }
        out
    }

    /// Every cell whose coverage the analyses need.
    #[must_use]
    pub fn cells_of_interest(&self) -> Vec<CellIndex> {
        let mut all: Vec<CellIndex> = self.district_cells().into_values().flatten().collect();
        all.extend(self.town_cells().into_values().flatten());
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The last inspection of each work at or before `until`.
    #[must_use]
    pub fn last_inspections(&self, until: DateTime<Utc>) -> HashMap<i64, DateTime<Utc>> {
        let mut out: HashMap<i64, DateTime<Utc>> = HashMap::new();
        for i in self.inspections.iter().filter(|i| i.inspected_at <= until) {
            let e = out.entry(i.project_id).or_insert(i.inspected_at);
            *e = (*e).max(i.inspected_at);
        }
        out
    }
}

/// The cells whose centre lies in an area (h3o's polyfill).
#[must_use]
pub fn area_cells(area: &MultiPolygon<f64>, res: Resolution) -> Vec<CellIndex> {
    let mut tiler = TilerBuilder::new(res)
        .containment_mode(ContainmentMode::ContainsCentroid)
        .build();
    for p in &area.0 {
        // an invalid ring yields no cells rather than failing the report
        let _ = tiler.add(p.clone());
    }
    let mut cells: Vec<CellIndex> = tiler.into_coverage().collect();
    cells.sort_unstable();
    cells.dedup();
    cells
}

/// A point that stands for a site: the point itself or a polygon's centroid.
#[must_use]
pub fn site_point(g: &Geometry<f64>) -> Option<Point<f64>> {
    match g {
        Geometry::Point(p) => Some(*p),
        other => other.centroid(),
    }
}

/// The cell of a site at a resolution.
#[must_use]
pub fn site_cell(g: &Geometry<f64>, res: Resolution) -> Option<CellIndex> {
    let p = site_point(g)?;
    LatLng::new(p.y(), p.x()).ok().map(|ll| ll.to_cell(res))
}

/// A percentage for reason texts: `0.183` → `"18%"`.
fn pct(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

/// The parameters of the whole blind-spot report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportParams {
    pub window: Window,
    pub districts: districts::Thresholds,
    pub near_venues: near_venues::Params,
    pub works: works::Params,
}

/// Every blind-spot list and the scorecard, as district staff open them on
/// a Monday morning.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub districts: Vec<districts::DistrictRow>,
    pub near_venues: Vec<near_venues::NearVenue>,
    pub works: Vec<works::WorkRow>,
    pub scorecard: Vec<scorecard::ScoreRow>,
}

/// Runs every analysis over the dataset.
#[must_use]
pub fn report(data: &Dataset, coverage: &Coverage, p: &ReportParams) -> Report {
    let districts = districts::analyse(data, coverage, &p.window, &p.districts);
    let near_venues = near_venues::analyse(data, &p.near_venues);
    let works = works::analyse(data, &p.window, &p.works, &[]);
    let scorecard = scorecard::analyse(
        data,
        coverage,
        &p.window,
        &scorecard::BlindSpots {
            districts: &districts,
            near_venues: &near_venues,
            works: &works,
        },
    );
    Report {
        districts,
        near_venues,
        works,
        scorecard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn unknown_coverage_summarizes_to_none_and_missing_cells_are_unpatrolled() {
        let cell = LatLng::new(31.03, 121.22)
            .expect("ll")
            .to_cell(Resolution::Ten);
        assert_eq!(Coverage::Unknown.summarize(&[cell]), None);
        let s = Coverage::Known(HashMap::new())
            .summarize(&[cell])
            .expect("known");
        assert_eq!((s.cells, s.patrolled_cells, s.overdue_cells), (1, 0, 1));
    }

    #[test]
    fn days_are_shanghai_days() {
        let t = DateTime::parse_from_rfc3339("2026-11-02T17:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(
            local_day(t),
            NaiveDate::from_ymd_opt(2026, 11, 3).expect("d")
        );
    }
}
