//! The blind cells of a scope: those never patrolled in the window or
//! overdue, scored by what lies in and near them (works, crowded venues,
//! 商圈), ranked riskiest first and named as people call the place.

use h3o::{CellIndex, Resolution};

use super::{AreaScope, CellStatus, ScopeCell, analysis_failed, load_area, report, statuses};
use crate::blindspots::Reason;
use crate::blindspots::cells::{PatrolState, RiskContext};
use crate::domain::{District, Project, Venue};
use crate::naming::{Gazetteer, PlaceLabel};
use crate::service::ServiceError;
use crate::store::{DynStore, typed};

/// A cell that was not patrolled in the window or is overdue, with why it matters.
#[derive(Debug, Clone)]
pub struct BlindCell {
    pub cell: CellIndex,
    pub grid: i64,
    pub town: String,
    pub risk: f64,
    pub never_patrolled: bool,
    pub overdue: bool,
    pub last_patrolled_ms: Option<i64>,
    pub projects: usize,
    pub venues_near: usize,
    pub in_commercial_district: Option<String>,
    pub reasons: Vec<Reason>,
    /// What people call the cell ("文翔路70号附近 · 岳阳街道 第1网格"); named
    /// by [`ranked_blind_cells`] for the cells it answers, `None` before.
    pub place: Option<PlaceLabel>,
}

/// Ranks the cells that were never patrolled in the window or are overdue,
/// riskiest first, scored by [`RiskContext::score`].
#[must_use]
pub fn blind_cells(
    cells: &[ScopeCell],
    statuses: &[CellStatus],
    ctx: &RiskContext,
    to_ms: i64,
) -> Vec<BlindCell> {
    let mut out: Vec<BlindCell> = cells
        .iter()
        .zip(statuses)
        .filter(|(_, s)| !s.patrolled || s.overdue)
        .map(|(c, s)| {
            let r = ctx.score(
                &PatrolState {
                    cell: c.cell,
                    last_patrolled_ms: s.last_patrolled_ms,
                    overdue: s.overdue,
                    interval_days: s.interval_days,
                },
                to_ms,
            );
            BlindCell {
                cell: c.cell,
                grid: c.grid,
                town: c.town.clone(),
                risk: r.risk,
                never_patrolled: s.last_patrolled_ms.is_none(),
                overdue: s.overdue,
                last_patrolled_ms: s.last_patrolled_ms,
                projects: r.projects,
                venues_near: r.venues_near,
                in_commercial_district: r.in_commercial_district,
                reasons: r.reasons,
                place: None,
            }
        })
        .collect();
    out.sort_by(|a, b| b.risk.total_cmp(&a.risk).then(a.cell.cmp(&b.cell)));
    out
}

/// The blind cells of a scope, ranked by risk, at most `limit`, and how many there are.
pub async fn ranked_blind_cells(
    store: &DynStore,
    access: &crate::auth::Scope,
    scope: &AreaScope,
    from_ms: i64,
    to_ms: i64,
    limit: usize,
) -> Result<(Vec<BlindCell>, usize), ServiceError> {
    let (grids, cells, data) = load_area(store, access, scope, from_ms, to_ms).await?;
    let projects = typed::all::<Project>(store).await?;
    let venues = typed::all::<Venue>(store).await?;
    let districts = typed::all::<District>(store).await?;
    let stops = crate::service::places::named(store).await?;
    tokio::task::spawn_blocking(move || {
        let r = report(&cells, &data, from_ms, to_ms).map_err(|e| analysis_failed(&e))?;
        let st = statuses(&cells, &r);
        let ctx = RiskContext::new(Resolution::Ten, &projects, &venues, &districts);
        let mut ranked = blind_cells(&cells, &st, &ctx, to_ms);
        let total = ranked.len();
        ranked.truncate(limit);
        let names = Gazetteer::from_layers(&venues, &projects, &districts, &grids.grids, &stops);
        for b in &mut ranked {
            b.place = Some(names.label_cell(b.cell));
        }
        Ok((ranked, total))
    })
    .await
    .map_err(crate::service::task_failed("blind-cell ranking"))?
}
