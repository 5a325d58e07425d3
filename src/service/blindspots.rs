//! The blind-spot analyses and the scorecard as use cases: load the district
//! once, keep what the caller's scope covers, ask the coverage engine about
//! the cells that matter, and run the pure analyses of [`crate::blindspots`]
//! on a blocking thread so the async workers keep serving.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use geo::{Centroid, Contains, Geometry};

use super::ServiceError;
use super::coverage::{ScopeCell, compute, load_visits};
use crate::auth::Scope;
use crate::blindspots::{
    self, CellPatrol, Coverage, DISTRICT_RESOLUTION, Dataset, Report, ReportParams, Window,
    districts, near_venues, scorecard, works,
};
use crate::domain::{District, Grid, Project, Stored, Town, Venue};
use crate::store::{DynStore, InspectionQuery, typed};

/// The patrol interval of commercial-district cells outside every grid:
/// shops open weekly there, so every three days.
pub const DISTRICT_PATROL_INTERVAL_DAYS: u32 = 3;

/// Why an analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The analysis task died (a bug): logged, answered as an internal error.
    #[error("analysis task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl From<crate::store::StoreError> for AnalysisError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Service(e.into())
    }
}

/// Runs CPU work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AnalysisError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AnalysisError::Task)
}

/// Loads everything the analyses read: the whole district, since distances
/// and commercial districts cross town lines; [`restrict`] then keeps what
/// a scope covers.
pub async fn load(store: &DynStore) -> Result<Dataset, ServiceError> {
    let all = InspectionQuery::default();
    Ok(Dataset {
        towns: typed::all::<Town>(store).await?,
        grids: typed::all::<Grid>(store).await?,
        districts: typed::all::<District>(store).await?,
        venues: typed::all::<Venue>(store).await?,
        projects: typed::all::<Project>(store).await?,
        inspections: store.inspections(&all).await?,
        hazards: store.hazards(&all).await?,
        case_files: Some(super::casefile::case_files(store).await?),
    }
    .without_out_of_scope())
}

/// The town holding a commercial district's centre.
fn district_town<'a>(d: &Stored<District>, towns: &'a [Stored<Town>]) -> Option<&'a str> {
    let c = d.value.geometry.centroid()?;
    towns
        .iter()
        .find(|t| t.value.geometry.contains(&c))
        .map(|t| t.value.code.as_str())
}

/// Keeps what a scope covers: its works (and their inspections and
/// hazards), grids, towns and commercial districts (for a grid scope only
/// the part its grids hold). Venues stay: a work in the scope may lie next
/// to a venue outside it.
#[must_use]
pub fn restrict(mut data: Dataset, scope: &Scope) -> Dataset {
    if scope.is_district() {
        return data;
    }
    data.projects
        .retain(|p| scope.allows_geometry(p.value.town.as_deref(), &p.value.geometry));
    let ids: HashSet<i64> = data.projects.iter().map(|p| p.id).collect();
    data.inspections.retain(|i| ids.contains(&i.project_id));
    data.hazards.retain(|h| ids.contains(&h.project_id));
    let district_towns: HashMap<i64, Option<String>> = data
        .districts
        .iter()
        .map(|d| (d.id, district_town(d, &data.towns).map(str::to_owned)))
        .collect();
    data.districts.retain(|d| {
        let town = district_towns.get(&d.id).cloned().flatten();
        scope.allows_geometry(
            town.as_deref(),
            &Geometry::MultiPolygon(d.value.geometry.clone()),
        )
    });
    if scope.cells().is_some() {
        // a grid manager answers for the part of a commercial district its
        // grids hold: those cells, their coverage and their works
        data.districts = data
            .districts
            .into_iter()
            .filter_map(|d| clip_to_cells(d, scope))
            .collect();
    }
    data.grids
        .retain(|g| scope.allows_grid(&g.value.code, &g.value.zone, &g.value.town));
    data.towns.retain(|t| scope.touches_town(&t.value.code));
    data
}

/// A commercial district cut down to its cells (at [`DISTRICT_RESOLUTION`])
/// that a grid scope holds, as their outline; `None` when it holds none.
fn clip_to_cells(mut d: Stored<District>, scope: &Scope) -> Option<Stored<District>> {
    let held: Vec<h3o::CellIndex> = blindspots::area_cells(&d.value.geometry, DISTRICT_RESOLUTION)
        .into_iter()
        .filter(|c| scope.allows_cell(*c, None))
        .collect();
    if held.is_empty() {
        return None;
    }
    let outline = h3o::geom::SolventBuilder::new()
        .build()
        .dissolve(held)
        .ok()?;
    d.value.geometry = outline;
    Some(d)
}

/// Loads the dataset a scope covers, restricted on a blocking thread.
async fn load_scoped(store: &DynStore, scope: &Scope) -> Result<Arc<Dataset>, AnalysisError> {
    let started = std::time::Instant::now();
    let data = load(store).await?;
    let scope = scope.clone();
    let data = Arc::new(blocking(move || restrict(data, &scope)).await?);
    tracing::debug!(
        ms = started.elapsed().as_millis(),
        works = data.projects.len(),
        "blind-spot dataset loaded"
    );
    Ok(data)
}

/// The cells whose coverage the analyses need, with their patrol interval:
/// every grid's cells, then the commercial districts' cells outside grids.
fn cells_of_interest(data: &Dataset) -> Vec<ScopeCell> {
    let mut out: HashMap<h3o::CellIndex, ScopeCell> = HashMap::new();
    for g in &data.grids {
        for cell in g.value.expanded_cells() {
            out.entry(cell).or_insert_with(|| ScopeCell {
                cell,
                interval_days: g.value.patrol_interval_days,
                grid: g.id,
                zone: g.value.zone.clone(),
                town: g.value.town.clone(),
            });
        }
    }
    for d in &data.districts {
        for cell in blindspots::area_cells(&d.value.geometry, DISTRICT_RESOLUTION) {
            out.entry(cell).or_insert_with(|| ScopeCell {
                cell,
                interval_days: DISTRICT_PATROL_INTERVAL_DAYS,
                grid: 0,
                zone: String::new(),
                town: String::new(),
            });
        }
    }
    let mut cells: Vec<ScopeCell> = out.into_values().collect();
    cells.sort_unstable_by_key(|c| c.cell);
    cells
}

/// Above this many cells, reading every visit of the window is cheaper
/// than naming the cells in the query.
const WHOLE_DISTRICT_CELLS: usize = 5_000;

/// The patrol coverage in the window of the cells the analyses need
/// (every grid and commercial district), from the coverage engine's cell
/// visits: visits in the window, the last patrol before its end, and
/// overdue against each cell's patrol interval.
pub async fn coverage(
    store: &DynStore,
    data: &Arc<Dataset>,
    window: &Window,
) -> Result<Coverage, AnalysisError> {
    let started = std::time::Instant::now();
    let d = Arc::clone(data);
    let cells = blocking(move || cells_of_interest(&d)).await?;
    let cells_ms = started.elapsed().as_millis();
    let (from_ms, to_ms) = (
        window.from().timestamp_millis(),
        window.to().timestamp_millis(),
    );
    let whole = cells.len() > WHOLE_DISTRICT_CELLS;
    let visits = load_visits(store, &cells, from_ms, to_ms, whole).await?;
    let visits_ms = started.elapsed().as_millis();
    let cov = blocking(move || {
        let map = compute(&cells, &visits, to_ms)
            .into_iter()
            .map(|s| {
                let patrol = CellPatrol {
                    visits: s.visits,
                    last_patrolled: s
                        .last_patrolled_ms
                        .and_then(chrono::DateTime::from_timestamp_millis),
                    overdue: s.overdue,
                };
                (s.cell, patrol)
            })
            .collect();
        Coverage::Known(map)
    })
    .await?;
    tracing::debug!(
        cells_ms,
        visits_ms,
        ms = started.elapsed().as_millis(),
        "blind-spot coverage"
    );
    Ok(cov)
}

/// Commercial districts with their measures, flags and reasons, and
/// whether patrol coverage was known.
pub async fn districts(
    store: &DynStore,
    scope: &Scope,
    window: Window,
    thresholds: districts::Thresholds,
) -> Result<(Vec<districts::DistrictRow>, bool), AnalysisError> {
    let data = load_scoped(store, scope).await?;
    let cov = coverage(store, &data, &window).await?;
    let known = !matches!(cov, Coverage::Unknown);
    let rows = blocking(move || districts::analyse(&data, &cov, &window, &thresholds)).await?;
    Ok((rows, known))
}

/// Works near crowded venues.
pub async fn near_venues(
    store: &DynStore,
    scope: &Scope,
    params: near_venues::Params,
) -> Result<Vec<near_venues::NearVenue>, AnalysisError> {
    let data = load_scoped(store, scope).await?;
    blocking(move || near_venues::analyse(&data, &params)).await
}

/// Works outside management of the given kinds (all when empty).
pub async fn works(
    store: &DynStore,
    scope: &Scope,
    window: Window,
    params: works::Params,
    kinds: Vec<works::WorkGap>,
) -> Result<Vec<works::WorkRow>, AnalysisError> {
    let data = load_scoped(store, scope).await?;
    blocking(move || works::analyse(&data, &window, &params, &kinds)).await
}

/// The whole report: every list and the scorecard.
pub async fn report(
    store: &DynStore,
    scope: &Scope,
    params: ReportParams,
) -> Result<Report, AnalysisError> {
    let data = load_scoped(store, scope).await?;
    let cov = coverage(store, &data, &params.window).await?;
    blocking(move || blindspots::report(&data, &cov, &params)).await
}

/// The town scorecard for a window, with the default blind-spot thresholds,
/// and whether patrol coverage was known.
pub async fn scorecard(
    store: &DynStore,
    scope: &Scope,
    window: Window,
) -> Result<(Vec<scorecard::ScoreRow>, bool), AnalysisError> {
    let (_, report, known) = analysed(store, scope, window).await?;
    Ok((report.scorecard, known))
}

/// The scoped dataset and every analysis of it over a window (the
/// evaluation reads the works' gaps, the works near venues, the districts
/// and the scorecard's rates), and whether coverage was at hand.
pub async fn analysed(
    store: &DynStore,
    scope: &Scope,
    window: Window,
) -> Result<(Arc<Dataset>, blindspots::Report, bool), AnalysisError> {
    let params = ReportParams {
        window,
        districts: districts::Thresholds::default(),
        near_venues: near_venues::Params {
            distance_m: near_venues::DEFAULT_DISTANCE_M,
            inspection_days: near_venues::DEFAULT_INSPECTION_DAYS,
            as_of: window.to(),
        },
        works: works::Params::default(),
    };
    let data = load_scoped(store, scope).await?;
    let cov = coverage(store, &data, &params.window).await?;
    let known = !matches!(cov, Coverage::Unknown);
    let d = Arc::clone(&data);
    let report = blocking(move || blindspots::report(&d, &cov, &params)).await?;
    Ok((data, report, known))
}
