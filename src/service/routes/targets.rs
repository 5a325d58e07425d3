//! The targets of a patrol plan and their priorities: overdue cells
//! (scored by [`crate::blindspots::cells`]) and works due an inspection
//! (see the module documentation of [`super`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use h3o::{CellIndex, LatLng};

use super::{INSPECTION_DAYS, MAX_TARGETS, WORK_PRIORITY};
use crate::blindspots::{Dataset, Reason, Window, near_venues, site_cell, works};
use crate::domain::{Project, Stored};
use crate::routing::{Target, TargetKind};
use crate::service::coverage::{CellStatus, RiskContext, ScopeCell, blind_cells};
use crate::spatial::LonLat;

/// A target with why it is one.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub target: Target,
    pub reasons: Vec<Reason>,
    /// A work's name; a cell has none (it is named after its place).
    pub name: Option<String>,
}

/// Overdue cells as targets, riskiest first.
fn cell_targets(
    cells: &[ScopeCell],
    statuses: &[CellStatus],
    ctx: &RiskContext,
    at_ms: i64,
) -> Vec<Candidate> {
    blind_cells(cells, statuses, ctx, at_ms)
        .into_iter()
        .filter(|b| b.overdue)
        .filter_map(|b| {
            let c = LatLng::from(b.cell);
            let position = LonLat::new(c.lng(), c.lat()).ok()?;
            Some(Candidate {
                target: Target {
                    id: b.cell.to_string(),
                    kind: TargetKind::Cell,
                    position,
                    priority: 1.0 + b.risk,
                },
                reasons: b.reasons,
                name: None,
            })
        })
        .collect()
}

/// Works inside `cells` that are due an inspection, with their priorities.
fn work_targets(data: &Dataset, cells: &HashSet<CellIndex>, at: DateTime<Utc>) -> Vec<Candidate> {
    let window = Window::days_before(at, INSPECTION_DAYS);
    let params = works::Params {
        inspection_days: INSPECTION_DAYS,
        ..works::Params::default()
    };
    let due = works::analyse(
        data,
        &window,
        &params,
        &[
            works::WorkGap::Uninspected,
            works::WorkGap::Unfiled,
            works::WorkGap::OverdueHazard,
        ],
    );
    let near = near_venues::analyse(
        data,
        &near_venues::Params {
            distance_m: near_venues::DEFAULT_DISTANCE_M,
            inspection_days: INSPECTION_DAYS,
            as_of: at,
        },
    );
    let inside = |p: &Project| {
        site_cell(&p.geometry, h3o::Resolution::Ten).is_some_and(|c| cells.contains(&c))
    };
    let by_id: HashMap<i64, &Stored<Project>> = data.projects.iter().map(|p| (p.id, p)).collect();
    let mut out: HashMap<i64, WorkTarget> = HashMap::new();
    let mut entry = |id: i64, lon: f64, lat: f64| -> Option<i64> {
        let p = by_id.get(&id)?;
        if !inside(&p.value) {
            return None;
        }
        let position = LonLat::new(lon, lat).ok()?;
        out.entry(id).or_insert_with(|| {
            let mut w = WorkTarget {
                priority: WORK_PRIORITY,
                reasons: Vec::new(),
                position,
                code: p.value.code.clone(),
                name: p.value.name.clone(),
            };
            if p.value.hot_work || p.value.insulation {
                w.priority += WORK_PRIORITY;
                w.reasons.push(fire_risk_reason());
            }
            w
        });
        Some(id)
    };
    let mut near_ids = Vec::new();
    for n in near.iter().filter(|n| n.flagged) {
        if let Some(id) = entry(n.project_id, n.lon, n.lat) {
            near_ids.push((id, n));
        }
    }
    let mut due_ids = Vec::new();
    for w in &due {
        if let Some(id) = entry(w.project_id, w.lon, w.lat) {
            due_ids.push((id, w));
        }
    }
    let mut near_done = HashSet::new();
    for (id, n) in near_ids {
        let Some(e) = out.get_mut(&id) else { continue };
        if near_done.insert(id) {
            e.priority += WORK_PRIORITY;
        }
        e.reasons
            .push(near_venue_reason(&n.venue_name, n.distance_m));
    }
    for (id, w) in due_ids {
        let Some(e) = out.get_mut(&id) else { continue };
        if w.kinds.contains(&works::WorkGap::OverdueHazard) {
            e.priority += WORK_PRIORITY / 2.0;
        }
        if w.kinds.contains(&works::WorkGap::Unfiled) {
            e.priority += WORK_PRIORITY / 4.0;
        }
        e.reasons.extend(w.reasons.iter().cloned());
    }
    let mut list: Vec<(i64, WorkTarget)> = out.into_iter().collect();
    list.sort_by(|a, b| b.1.priority.total_cmp(&a.1.priority).then(a.0.cmp(&b.0)));
    list.into_iter()
        .map(|(_, w)| Candidate {
            target: Target {
                id: w.code,
                kind: TargetKind::Work,
                position: w.position,
                priority: w.priority,
            },
            reasons: w.reasons,
            name: Some(w.name),
        })
        .collect()
}

/// Why a work with hot work or insulation materials is a target.
fn fire_risk_reason() -> Reason {
    Reason::new(
        "fire_risk_on_site",
        "hot work or insulation materials on site".to_owned(),
        "现场有动火作业或保温材料".to_owned(),
    )
}

/// Why a work near a crowded venue is a target.
fn near_venue_reason(venue: &str, distance_m: f64) -> Reason {
    Reason::new(
        "near_venue_uninspected",
        format!(
            "near crowded venue {venue} ({distance_m:.0} m), not inspected within {INSPECTION_DAYS} days"
        ),
        format!("临近人员密集场所{venue}（{distance_m:.0} 米），{INSPECTION_DAYS} 天内未检查"),
    )
}

/// A work being made a target.
struct WorkTarget {
    priority: f64,
    reasons: Vec<Reason>,
    position: LonLat,
    code: String,
    name: String,
}

/// The targets of a plan: those handed to the planner, highest priority
/// first, those beyond [`MAX_TARGETS`], and the overdue cells.
pub(super) struct Targets {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<Candidate>,
    pub overdue: HashSet<CellIndex>,
}

pub(super) fn choose_targets(
    data: &Dataset,
    cells: &[ScopeCell],
    status: &[CellStatus],
    at: DateTime<Utc>,
) -> Targets {
    let ctx = RiskContext::new(
        h3o::Resolution::Ten,
        &data.projects,
        &data.venues,
        &data.districts,
    );
    let cell_set: HashSet<CellIndex> = cells.iter().map(|c| c.cell).collect();
    let overdue: HashSet<CellIndex> = status
        .iter()
        .filter(|s| s.overdue)
        .map(|s| s.cell)
        .collect();
    let mut candidates = work_targets(data, &cell_set, at);
    candidates.extend(cell_targets(cells, status, &ctx, at.timestamp_millis()));
    // stable: works before cells of equal priority, riskiest cells first
    candidates.sort_by(|a, b| b.target.priority.total_cmp(&a.target.priority));
    let skipped = if candidates.len() > MAX_TARGETS {
        candidates.split_off(MAX_TARGETS)
    } else {
        Vec::new()
    };
    Targets {
        candidates,
        skipped,
        overdue,
    }
}
