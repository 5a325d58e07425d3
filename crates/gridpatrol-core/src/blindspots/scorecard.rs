//! The town scorecard (街镇考评表): one row per town with the items of the
//! committee's evaluation measured from the data: full coverage of every
//! funding source (全面纳管), filing and notification (备案, 告知承诺),
//! supervision (监督检查), the closed loop (闭环), patrols (巡查) and the
//! blind-spot counts. The row is flat so that JSON and CSV hold the same
//! columns.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::districts::DistrictRow;
use super::near_venues::NearVenue;
use super::works::{WorkGap, WorkRow};
use super::{Coverage, Dataset, Window};
use crate::domain::{Funding, Project, ProjectStatus};
use crate::inspection::{Hazard, Inspection, median};

/// Days in an average month, for per-month rates.
const DAYS_PER_MONTH: f64 = 30.44;

/// One town's row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreRow {
    pub town: String,
    pub town_name: String,
    /// Works active in the window (started by its end and not completed
    /// before its start; works found on patrol count as active).
    pub works: usize,
    pub works_government: usize,
    pub works_collective: usize,
    pub works_social: usize,
    /// The share of socially funded works (全面纳管: they are the ones left out).
    pub social_share: f64,
    /// The share of works that are filed (开工备案), i.e. not only found on patrol.
    pub filing_rate: f64,
    /// Of the filed works, the share that completed notification (告知承诺).
    pub notification_rate: f64,
    /// Works under way (filed, notified or in progress) in the window.
    pub active_works: usize,
    pub inspections: usize,
    /// Inspections in the window per work under way per month (监督检查).
    pub inspections_per_work_month: f64,
    pub hazards_found: usize,
    pub hazards_closed: usize,
    /// Hazards past their deadline at the end of the window, by their
    /// current status.
    pub hazards_overdue: usize,
    /// The median days from finding to closing out, of hazards closed in the window.
    pub median_days_to_close: Option<f64>,
    /// The cells of the town's grids.
    pub cells: usize,
    pub patrolled_cells: Option<usize>,
    pub patrol_coverage: Option<f64>,
    pub overdue_cells: Option<usize>,
    /// Commercial districts of the town that are flagged.
    pub unmanaged_districts: usize,
    /// Works near crowded venues without a recent inspection.
    pub near_venue_uninspected: usize,
    pub above_limit: usize,
    pub outside_grid: usize,
    pub unfiled: usize,
    pub uninspected: usize,
    pub overdue_hazard: usize,
    pub no_completion_filing: usize,
    /// Hot work in or near a crowded venue without a valid permit (动火未审批).
    pub hot_work_unpermitted: usize,
    /// Insulation materials without a filing (保温材料未备案).
    pub insulation_unfiled: usize,
    /// Works under way without a policy covering their period (未投保).
    pub uninsured: usize,
    /// The blind spots above, added up.
    pub blind_spots: usize,
}

#[expect(clippy::cast_precision_loss, reason = "counts are small")]
fn share(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// The blind-spot results the scorecard counts.
pub struct BlindSpots<'a> {
    pub districts: &'a [DistrictRow],
    pub near_venues: &'a [NearVenue],
    pub works: &'a [WorkRow],
}

/// 全面纳管, 备案, 告知承诺: the town's works active in the window.
/// A town's works, inspections and hazards.
#[derive(Default)]
struct TownData<'a> {
    works: Vec<&'a Project>,
    inspections: Vec<&'a Inspection>,
    hazards: Vec<&'a Hazard>,
}

/// Groups the works, inspections and hazards by the town of their work, once.
fn by_town(data: &Dataset) -> HashMap<&str, TownData<'_>> {
    let mut out: HashMap<&str, TownData<'_>> = HashMap::new();
    let mut town_of: HashMap<i64, &str> = HashMap::with_capacity(data.projects.len());
    for p in &data.projects {
        if let Some(t) = p.value.town.as_deref() {
            town_of.insert(p.id, t);
            out.entry(t).or_default().works.push(&p.value);
        }
    }
    for i in &data.inspections {
        if let Some(t) = town_of.get(&i.project_id) {
            out.entry(t).or_default().inspections.push(i);
        }
    }
    for h in &data.hazards {
        if let Some(t) = town_of.get(&h.project_id) {
            out.entry(t).or_default().hazards.push(h);
        }
    }
    out
}

fn count_works(row: &mut ScoreRow, works: &[&Project], window: &Window) {
    let (mut filed, mut notified) = (0, 0);
    for p in works.iter().filter(|p| p.active_in(window)) {
        row.works += 1;
        match p.funding {
            Funding::Government => row.works_government += 1,
            Funding::Collective => row.works_collective += 1,
            Funding::Social => row.works_social += 1,
        }
        let status = p.status;
        filed += usize::from(status != ProjectStatus::Discovered);
        notified += usize::from(matches!(
            status,
            ProjectStatus::Notified | ProjectStatus::InProgress | ProjectStatus::Completed
        ));
        row.active_works += usize::from(matches!(
            status,
            ProjectStatus::Filed | ProjectStatus::Notified | ProjectStatus::InProgress
        ));
    }
    row.social_share = share(row.works_social, row.works);
    row.filing_rate = share(filed, row.works);
    row.notification_rate = share(notified, filed);
}

/// 监督检查 and 闭环: inspections and hazards of the town's works.
fn count_loop(row: &mut ScoreRow, town: &TownData<'_>, window: &Window) {
    row.inspections = town
        .inspections
        .iter()
        .filter(|i| window.contains(i.inspected_at))
        .count();
    let months = window.days() / DAYS_PER_MONTH;
    if row.active_works > 0 && months > 0.0 {
        row.inspections_per_work_month = share(row.inspections, row.active_works) / months;
    }
    let today = window.today();
    let mut close_days = Vec::new();
    for h in &town.hazards {
        if window.contains(h.found_at) {
            row.hazards_found += 1;
        }
        if h.closed_at.is_some_and(|c| window.contains(c)) {
            row.hazards_closed += 1;
            close_days.extend(h.days_to_close());
        }
        if h.found_at <= window.to() && h.is_overdue(today) {
            row.hazards_overdue += 1;
        }
    }
    row.median_days_to_close = median(close_days).map(|d| (d * 10.0).round() / 10.0);
}

/// The blind-spot counts of the town.
fn count_blind_spots(row: &mut ScoreRow, blind: &BlindSpots<'_>) {
    let code = Some(row.town.as_str());
    row.unmanaged_districts = blind
        .districts
        .iter()
        .filter(|d| d.flagged && d.town.as_deref() == code)
        .count();
    row.near_venue_uninspected = blind
        .near_venues
        .iter()
        .filter(|n| n.flagged && n.town.as_deref() == code)
        .map(|n| n.project_id)
        .collect::<HashSet<_>>()
        .len();
    for w in blind.works.iter().filter(|w| w.town.as_deref() == code) {
        for k in &w.kinds {
            match k {
                WorkGap::AboveLimit => row.above_limit += 1,
                WorkGap::OutsideGrid => row.outside_grid += 1,
                WorkGap::Unfiled => row.unfiled += 1,
                WorkGap::Uninspected => row.uninspected += 1,
                WorkGap::OverdueHazard => row.overdue_hazard += 1,
                WorkGap::NoCompletionFiling => row.no_completion_filing += 1,
                WorkGap::HotWorkUnpermitted => row.hot_work_unpermitted += 1,
                WorkGap::InsulationUnfiled => row.insulation_unfiled += 1,
                WorkGap::Uninsured => row.uninsured += 1,
            }
        }
    }
    row.blind_spots = row.unmanaged_districts
        + row.near_venue_uninspected
        + row.above_limit
        + row.outside_grid
        + row.unfiled
        + row.uninspected
        + row.overdue_hazard
        + row.no_completion_filing
        + row.hot_work_unpermitted
        + row.insulation_unfiled
        + row.uninsured;
}

/// One row per town, in the order of the town codes.
#[must_use]
pub fn analyse(
    data: &Dataset,
    coverage: &Coverage,
    window: &Window,
    blind: &BlindSpots<'_>,
) -> Vec<ScoreRow> {
    let grouped = by_town(data);
    let none = TownData::default();
    let town_cells = data.town_cells();
    let mut rows: Vec<ScoreRow> = Vec::with_capacity(data.towns.len());
    for t in &data.towns {
        let code = t.value.code.as_str();
        let mut row = ScoreRow {
            town: code.to_owned(),
            town_name: t.value.name.clone(),
            ..ScoreRow::default()
        };
        let town = grouped.get(code).unwrap_or(&none);
        count_works(&mut row, &town.works, window);
        count_loop(&mut row, town, window);
        let cells = town_cells.get(code).map_or(&[][..], Vec::as_slice);
        row.cells = cells.len();
        if let Some(s) = coverage.summarize(cells) {
            row.patrolled_cells = Some(s.patrolled_cells);
            row.patrol_coverage = Some(s.ratio);
            row.overdue_cells = Some(s.overdue_cells);
        }
        count_blind_spots(&mut row, blind);
        rows.push(row);
    }
    rows.sort_by(|a, b| a.town.cmp(&b.town));
    rows
}

/// The scorecard as CSV (UTF-8 with a byte-order mark for Excel).
pub fn to_csv(rows: &[ScoreRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    for r in rows {
        w.serialize(r)?;
    }
    if rows.is_empty() {
        w.write_record(["town"])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
