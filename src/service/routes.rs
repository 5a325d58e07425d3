//! Patrol routes as use cases: importing the road network, planning a
//! shift's route for a grid or a zone, street sweeping (扫街), and how well
//! an officer's track followed a route (adherence).
//!
//! # Targets and priorities
//!
//! A route is planned for the shift's start (`date` at `start_time`, China
//! Standard Time), from the coverage of the area's cells at that moment:
//!
//! - **cells**: one target per overdue cell (never patrolled, or last
//!   patrolled longer ago than its grid's patrol interval), at the cell's
//!   centre, at the coverage resolution (10). Cells are not clustered: a
//!   resolution-10 cell (about 11,500 m²) is what an officer covers from
//!   one street, and the route's line covers the cells it passes on the
//!   way without stopping. Priority 1 + the blind-spot risk of the cell
//!   (how late it is, works inside, crowded venues near, commercial
//!   district; see [`crate::service::coverage::blind_cells`]). One minute
//!   is spent at each ([`CELL_SERVICE_S`]).
//! - **works** due an inspection inside the area: filed and not inspected
//!   within 30 days, discovered on patrol and never filed, a hazard past its
//!   deadline, or within 100 m of a crowded venue without a recent
//!   inspection. Priority [`WORK_PRIORITY`], plus as much again near a
//!   crowded venue and again for hot work or insulation materials (so those
//!   come first), plus a half for an overdue hazard and a quarter for an
//!   unfiled work. `service_minutes` are spent at each. The base outweighs
//!   the ten to twenty cells (priority 2 to 5 each) an officer could look
//!   at in the same twenty minutes, so a due work is left out only when it
//!   lies too far off the route.
//!
//! The [`MAX_TARGETS`] of highest priority are planned; the rest are left
//! out, each with its reason, as are those the planner could not fit.
//!
//! # The road graph
//!
//! The planner routes on the stored road network, loaded once per process
//! into a [`RoadGraphCache`] and reloaded when an import changes the
//! network's version (one cheap query per plan), so several instances over
//! one database stay consistent. Without a network the planner falls back
//! to straight lines times a detour factor and says so (`road_network:
//! false`); sweeping needs the network.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use geo::{Coord, LineString};
use h3o::{CellIndex, LatLng};
use rstar::RTree;
use rstar::primitives::Line;
use serde::Serialize;
use serde_json::json;

use super::ServiceError;
use super::coverage::{
    self as coverage, CellStatus, GridSet, RiskContext, Scope as AreaScope, ScopeCell, blind_cells,
    load_visits, scope_cells,
};
use super::towns::TownIndex;
use crate::auth::Scope;
use crate::blindspots::{Window, near_venues, site_cell, works};
use crate::coverage::{CoverageParams, cover_track};
use crate::domain::{Project, Stored};
use crate::ingest::IngestError;
use crate::routing::{
    PlanOptions, PlanRequest, RoadGraph, RoutePlan, RoutingError, ServiceTimes, Target, TargetKind,
    TravelMode, plan_route, sweep_route,
};
use crate::spatial::{LonLat, TrackPoint};
use crate::store::routes::{
    Adherence, NewRoute, RoadNetworkInfo, RoadRows, RouteQuery, RouteRecord, RouteStopRow,
};
use crate::store::tracks::TrackQuery;
use crate::store::{DynStore, Page, StoreError};

/// Minutes spent at an overdue cell: a look round from the street.
pub const CELL_SERVICE_S: f64 = 60.0;
/// The base priority of a work due an inspection.
pub const WORK_PRIORITY: f64 = 60.0;
/// The most targets handed to the planner.
pub const MAX_TARGETS: usize = 300;
/// The longest shift accepted, in minutes.
pub const MAX_SHIFT_MINUTES: f64 = 24.0 * 60.0;
/// Works inspected within this many days are not due.
pub const INSPECTION_DAYS: u32 = 30;
/// How far from the route an officer is taken to see, for coverage and
/// adherence (the coverage default).
pub const SIGHTING_M: f64 = CoverageParams::DEFAULT_SIGHTING_M;
/// The default start of a shift.
pub const DEFAULT_START_TIME: &str = "09:00";

fn invalid(field: &str, reason: impl Into<String>) -> ServiceError {
    ServiceError::Ingest(IngestError::new(None, field, reason))
}

fn task_failed(e: &tokio::task::JoinError) -> ServiceError {
    ServiceError::Store(StoreError::Corrupt(format!("planning task failed: {e}")))
}

/// Beijing time, in which dates and start times are read.
pub use crate::time::beijing as cst;

/// The instant a shift starts: `date` at `time`, China Standard Time.
#[must_use]
pub fn shift_start(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    cst()
        .from_local_datetime(&date.and_time(time))
        .single()
        .map_or_else(|| date.and_time(time).and_utc(), |t| t.with_timezone(&Utc))
}

// ---------------------------------------------------------------------------
// The road network

/// The stored road graph, kept per process and rebuilt when the stored
/// network's version changes.
#[derive(Default)]
pub struct RoadGraphCache {
    graph: tokio::sync::Mutex<Option<(i64, Arc<RoadGraph>)>>,
}

impl std::fmt::Debug for RoadGraphCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoadGraphCache")
    }
}

impl RoadGraphCache {
    /// The current road graph; `None` when no network was imported.
    pub async fn get(&self, store: &DynStore) -> Result<Option<Arc<RoadGraph>>, ServiceError> {
        let Some(info) = store.road_network().await? else {
            *self.graph.lock().await = None;
            return Ok(None);
        };
        // one loader at a time: others wait for its graph
        let mut cached = self.graph.lock().await;
        if let Some((version, g)) = cached.as_ref()
            && *version == info.version
        {
            return Ok(Some(Arc::clone(g)));
        }
        let Some((info, rows)) = store.road_rows().await? else {
            *cached = None;
            return Ok(None);
        };
        let graph = tokio::task::spawn_blocking(move || rows.into_graph())
            .await
            .map_err(|e| task_failed(&e))?
            .map_err(|e| StoreError::Corrupt(format!("stored road network: {e}")))?;
        tracing::info!(
            version = info.version,
            nodes = graph.node_count(),
            edges = graph.edge_count(),
            "road graph loaded"
        );
        let graph = Arc::new(graph);
        *cached = Some((info.version, Arc::clone(&graph)));
        Ok(Some(graph))
    }
}

/// The formats a road network is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadFormat {
    /// OpenStreetMap XML (`.osm`).
    OsmXml,
    /// OpenStreetMap PBF (`.osm.pbf`).
    OsmPbf,
    /// The graph's own `GeoJSON` (`.geojson`, `.json`), as the demo ships it.
    GeoJson,
}

impl RoadFormat {
    /// From a file name; `None` for an unknown extension.
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?;
        let is = |e: &str| ext.eq_ignore_ascii_case(e);
        if is("pbf") {
            Some(Self::OsmPbf)
        } else if is("osm") || is("xml") {
            Some(Self::OsmXml)
        } else if is("geojson") || is("json") {
            Some(Self::GeoJson)
        } else {
            None
        }
    }
}

/// What a road import stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportedRoads {
    pub version: i64,
    pub source: String,
    pub nodes: i64,
    pub edges: i64,
    pub length_km: f64,
    /// Edges read but not connected to the main network, left out.
    pub dropped_edges: usize,
}

impl ImportedRoads {
    fn new(info: RoadNetworkInfo, dropped_edges: usize) -> Self {
        Self {
            version: info.version,
            source: info.source,
            nodes: info.nodes,
            edges: info.edges,
            length_km: (info.length_m / 100.0).round() / 10.0,
            dropped_edges,
        }
    }
}

/// Reads a road network and replaces the stored one with it, in one
/// transaction. Only the largest connected component is kept: a piece
/// the rest cannot reach (a gated compound, a way cut by the extract's
/// border) would strand every target snapped to it.
pub async fn import_roads(
    store: &DynStore,
    bytes: Vec<u8>,
    format: RoadFormat,
    source: &str,
) -> Result<ImportedRoads, ServiceError> {
    let (rows, dropped) = tokio::task::spawn_blocking(move || {
        let graph = match format {
            RoadFormat::OsmXml => RoadGraph::from_osm_xml(&bytes),
            RoadFormat::OsmPbf => RoadGraph::from_osm_pbf(&bytes),
            RoadFormat::GeoJson => std::str::from_utf8(&bytes)
                .map_err(|_| RoutingError::invalid("file", "is not UTF-8 text"))
                .and_then(RoadGraph::from_geojson),
        }?;
        let kept = graph.largest_component();
        let dropped = graph.edge_count() - kept.edge_count();
        Ok::<_, RoutingError>((RoadRows::of(&kept), dropped))
    })
    .await
    .map_err(|e| task_failed(&e))?
    .map_err(|e| invalid("file", e.to_string()))?;
    if rows.edges.is_empty() {
        return Err(invalid("file", "holds no road an officer can use"));
    }
    let info = store.replace_road_network(source, &rows).await?;
    tracing::info!(
        version = info.version,
        nodes = info.nodes,
        edges = info.edges,
        dropped,
        "road network imported"
    );
    Ok(ImportedRoads::new(info, dropped))
}

/// Imports a road network file (`.osm`, `.osm.pbf` or the `GeoJSON` graph).
pub async fn import_roads_file(
    store: &DynStore,
    path: &Path,
) -> Result<ImportedRoads, ServiceError> {
    let format = RoadFormat::from_path(path).ok_or_else(|| {
        invalid(
            "file",
            format!("{}: expected .osm, .osm.pbf or .geojson", path.display()),
        )
    })?;
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|source| ServiceError::Io {
            path: path.display().to_string(),
            source,
        })?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("roads")
        .to_owned();
    import_roads(store, bytes, format, &name).await
}

// ---------------------------------------------------------------------------
// Planning

/// The area a route is planned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Grid(i64),
    Zone(i64),
}

/// What to plan (validated by [`plan`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInput {
    pub area: Area,
    pub start: LonLat,
    pub end: Option<LonLat>,
    pub shift_minutes: f64,
    pub mode: TravelMode,
    /// Minutes spent at each work.
    pub service_minutes: f64,
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub officer: Option<String>,
}

/// A street sweep to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepInput {
    pub area: Area,
    /// Only these cells of the area (all when `None`).
    pub cells: Option<Vec<CellIndex>>,
    pub start: LonLat,
    /// The shift, to say whether the sweep fits; the sweep's own length
    /// when `None`.
    pub shift_minutes: Option<f64>,
    pub mode: TravelMode,
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub officer: Option<String>,
}

/// The resolved area: its grids and where it belongs.
struct Resolved {
    grid_id: Option<i64>,
    zone_id: Option<i64>,
    grid_code: Option<String>,
    zone_code: String,
    town_code: String,
    cells: Vec<ScopeCell>,
}

/// Resolves a grid or zone id within the caller's scope; an unknown id and
/// one outside the scope get the same answer.
async fn resolve(store: &DynStore, scope: &Scope, area: Area) -> Result<Resolved, ServiceError> {
    let grids = GridSet::load(store, None).await?;
    match area {
        Area::Grid(id) => {
            let g = grids
                .grids
                .iter()
                .find(|g| g.id == id)
                .filter(|g| scope.allows_grid(&g.value.code, &g.value.zone, &g.value.town))
                .ok_or_else(|| invalid("grid_id", format!("there is no grid {id}")))?;
            let zone_id = grids
                .zones
                .iter()
                .find(|z| z.value.code == g.value.zone)
                .map(|z| z.id);
            Ok(Resolved {
                grid_id: Some(id),
                zone_id,
                grid_code: Some(g.value.code.clone()),
                zone_code: g.value.zone.clone(),
                town_code: g.value.town.clone(),
                cells: scope_cells(&[g]),
            })
        }
        Area::Zone(id) => {
            let z = grids
                .zones
                .iter()
                .find(|z| z.id == id)
                .filter(|z| scope.allows_zone(&z.value.code, &z.value.town))
                .ok_or_else(|| invalid("zone_id", format!("there is no zone {id}")))?;
            let picked = grids
                .select(&AreaScope::Zone(id))
                .map_err(|_| invalid("zone_id", format!("zone {id} has no grids")))?;
            Ok(Resolved {
                grid_id: None,
                zone_id: Some(id),
                grid_code: None,
                zone_code: z.value.code.clone(),
                town_code: z.value.town.clone(),
                cells: scope_cells(&picked),
            })
        }
    }
}

/// Refuses a point outside the district (when the towns are known).
async fn check_in_district(store: &DynStore, field: &str, p: LonLat) -> Result<(), ServiceError> {
    let towns = TownIndex::load(store).await?;
    if towns.is_empty() || towns.town_of(geo::Point::from(p)).is_some() {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("[{}, {}] lies outside the district", p.lon(), p.lat()),
        ))
    }
}

fn check_shift(minutes: f64) -> Result<(), ServiceError> {
    if minutes.is_finite() && minutes > 0.0 && minutes <= MAX_SHIFT_MINUTES {
        Ok(())
    } else {
        Err(invalid(
            "shift_minutes",
            format!("must be a number of minutes above 0 and at most {MAX_SHIFT_MINUTES}"),
        ))
    }
}

fn check_officer(officer: Option<&str>) -> Result<(), ServiceError> {
    match officer {
        Some(o) if o.trim().is_empty() || o.chars().count() > 64 => Err(invalid(
            "officer",
            "must be an officer code of 1 to 64 characters",
        )),
        _ => Ok(()),
    }
}

/// Each cell's coverage at the shift's start.
async fn statuses(
    store: &DynStore,
    cells: &[ScopeCell],
    at_ms: i64,
) -> Result<Vec<CellStatus>, ServiceError> {
    let from = at_ms - 28 * 86_400_000;
    let data = load_visits(store, cells, from, at_ms, false).await?;
    let report =
        coverage::report(cells, &data, from, at_ms).map_err(|e| invalid("date", e.to_string()))?;
    Ok(coverage::statuses(cells, &report))
}

/// A target with why it is one.
#[derive(Debug, Clone)]
struct Candidate {
    target: Target,
    reasons: Vec<String>,
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
            })
        })
        .collect()
}

/// Works inside `cells` that are due an inspection, with their priorities.
fn work_targets(
    data: &crate::blindspots::Dataset,
    cells: &HashSet<CellIndex>,
    at: DateTime<Utc>,
) -> Vec<Candidate> {
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
            };
            if p.value.hot_work || p.value.insulation {
                w.priority += WORK_PRIORITY;
                w.reasons
                    .push("hot work or insulation materials on site".to_owned());
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
        e.reasons.push(format!(
            "near crowded venue {} ({:.0} m), not inspected within {INSPECTION_DAYS} days",
            n.venue_name, n.distance_m
        ));
    }
    for (id, w) in due_ids {
        let Some(e) = out.get_mut(&id) else { continue };
        if w.kinds.contains(&works::WorkGap::OverdueHazard) {
            e.priority += WORK_PRIORITY / 2.0;
        }
        if w.kinds.contains(&works::WorkGap::Unfiled) {
            e.priority += WORK_PRIORITY / 4.0;
        }
        e.reasons.extend(w.reasons.iter().map(|r| r.text.clone()));
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
        })
        .collect()
}

/// A work being made a target.
struct WorkTarget {
    priority: f64,
    reasons: Vec<String>,
    position: LonLat,
    code: String,
}

/// The cells a line covers (within the sighting distance) among `wanted`.
fn covered_cells(line: &LineString<f64>, wanted: &HashSet<CellIndex>) -> Vec<CellIndex> {
    let points: Vec<TrackPoint> = line
        .0
        .iter()
        .zip(0_i64..)
        .map(|(c, i)| TrackPoint {
            lon: c.x,
            lat: c.y,
            t_ms: i,
        })
        .collect();
    let mut cells: Vec<CellIndex> = cover_track(&points, &CoverageParams::default())
        .into_iter()
        .map(|v| v.cell)
        .filter(|c| wanted.contains(c))
        .collect();
    cells.sort_unstable();
    cells.dedup();
    cells
}

fn routing_error(e: RoutingError) -> ServiceError {
    match e {
        RoutingError::OffNetwork { what, .. } => invalid(what, e.to_string()),
        RoutingError::EndUnreachable => invalid("end", e.to_string()),
        RoutingError::BudgetTooShort { .. } => invalid("shift_minutes", e.to_string()),
        RoutingError::InvalidParameter { ref field, .. } => {
            let field = match field.as_str() {
                "budget_s" => "shift_minutes",
                "service.work_s" => "service_minutes",
                other => other,
            }
            .to_owned();
            invalid(&field, e.to_string())
        }
        RoutingError::NothingToSweep => invalid("cells", e.to_string()),
        other => ServiceError::Store(StoreError::Corrupt(format!("routing: {other}"))),
    }
}

fn mode_name(m: TravelMode) -> &'static str {
    match m {
        TravelMode::Walk => "walk",
        TravelMode::EBike => "ebike",
    }
}

/// Parses `walk` or `ebike`.
pub fn parse_mode(s: &str) -> Result<TravelMode, ServiceError> {
    match s.trim() {
        "walk" => Ok(TravelMode::Walk),
        "ebike" | "e-bike" => Ok(TravelMode::EBike),
        other => Err(invalid("mode", format!("{other:?} is not walk or ebike"))),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Plans a route within the caller's scope and stores it.
pub async fn plan(
    store: &DynStore,
    roads: &RoadGraphCache,
    scope: &Scope,
    created_by: &str,
    input: PlanInput,
) -> Result<RouteRecord, ServiceError> {
    check_shift(input.shift_minutes)?;
    if !(input.service_minutes.is_finite()
        && input.service_minutes >= 0.0
        && input.service_minutes <= MAX_SHIFT_MINUTES)
    {
        return Err(invalid(
            "service_minutes",
            format!("must be a number of minutes from 0 to {MAX_SHIFT_MINUTES}"),
        ));
    }
    check_officer(input.officer.as_deref())?;
    check_in_district(store, "start", input.start).await?;
    if let Some(end) = input.end {
        check_in_district(store, "end", end).await?;
    }
    let area = resolve(store, scope, input.area).await?;
    let starts_at = shift_start(input.date, input.start_time);
    let at_ms = starts_at.timestamp_millis();
    let status = statuses(store, &area.cells, at_ms).await?;
    let data =
        crate::service::blindspots::restrict(crate::service::blindspots::load(store).await?, scope);
    let graph = roads.get(store).await?;
    let cells = area.cells;
    let cells_total = cells.len();
    let plan_input = input.clone();
    let (plan, targets) = tokio::task::spawn_blocking(move || {
        let targets = choose_targets(&data, &cells, &status, starts_at);
        let req = PlanRequest {
            start: plan_input.start,
            end: plan_input.end,
            budget_s: plan_input.shift_minutes * 60.0,
            mode: plan_input.mode,
            service: ServiceTimes {
                cell_s: CELL_SERVICE_S,
                work_s: plan_input.service_minutes * 60.0,
            },
            targets: targets
                .candidates
                .iter()
                .map(|c| c.target.clone())
                .collect(),
        };
        plan_route(graph.as_deref(), &req, &PlanOptions::default()).map(|p| (p, targets))
    })
    .await
    .map_err(|e| task_failed(&e))?
    .map_err(routing_error)?;
    let new_cells = covered_cells(&plan.route, &targets.overdue);
    let mut details = patrol_details(&plan, &targets, &new_cells);
    details["area_cells"] = json!(cells_total);
    details["start"] = json!(input.start);
    details["end"] = json!(input.end);
    details["start_time"] = json!(input.start_time.format("%H:%M").to_string());
    let route = NewRoute {
        kind: "patrol".to_owned(),
        grid_id: area.grid_id,
        zone_id: area.zone_id,
        grid_code: area.grid_code,
        zone_code: area.zone_code,
        town_code: area.town_code,
        date: input.date,
        starts_at,
        officer: input.officer.map(|o| o.trim().to_owned()),
        mode: mode_name(input.mode).to_owned(),
        shift_minutes: input.shift_minutes,
        service_minutes: input.service_minutes,
        distance_m: round1(plan.total_distance_m),
        duration_s: round1(plan.total_duration_s),
        new_cells: i64::try_from(new_cells.len()).unwrap_or(i64::MAX),
        road_network: plan.road_network,
        details,
        created_by: created_by.to_owned(),
        stops: stop_rows(&plan, starts_at),
        geometry: plan.route,
    };
    let id = store.insert_route(&route).await?;
    Ok(RouteRecord {
        id,
        route,
        adherence: None,
        created_at: Utc::now(),
    })
}

/// The targets of a plan: those handed to the planner, highest priority
/// first, those beyond [`MAX_TARGETS`], and the overdue cells.
struct Targets {
    candidates: Vec<Candidate>,
    skipped: Vec<Candidate>,
    overdue: HashSet<CellIndex>,
}

fn choose_targets(
    data: &crate::blindspots::Dataset,
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

fn stop_rows(plan: &RoutePlan, starts_at: DateTime<Utc>) -> Vec<RouteStopRow> {
    plan.stops
        .iter()
        .zip(1_u32..)
        .map(|(s, order)| RouteStopRow {
            order,
            kind: kind_name(s.kind).to_owned(),
            target_id: s.id.clone(),
            priority: s.priority,
            position: s.position,
            arrival_s: s.arrival_s,
            departure_s: s.departure_s,
            eta: starts_at + chrono::Duration::milliseconds(seconds_ms(s.arrival_s)),
        })
        .collect()
}

/// What a plan keeps beside its columns: the targets left out and why, the
/// new cells and why each stop is one.
fn patrol_details(plan: &RoutePlan, t: &Targets, new_cells: &[CellIndex]) -> serde_json::Value {
    let mut left_out: Vec<serde_json::Value> = plan
        .left_out
        .iter()
        .map(|l| {
            json!({"target_id": l.id, "kind": kind_name(t.candidates[l.target].target.kind),
                   "reason": l.reason.to_string()})
        })
        .collect();
    left_out.extend(t.skipped.iter().map(|c| {
        json!({"target_id": c.target.id, "kind": kind_name(c.target.kind),
               "reason": format!("not considered: only the {MAX_TARGETS} targets of highest priority are planned")})
    }));
    let reasons: serde_json::Map<String, serde_json::Value> = plan
        .stops
        .iter()
        .map(|s| (s.id.clone(), json!(t.candidates[s.target].reasons)))
        .collect();
    json!({
        "left_out": left_out,
        "new_cells": new_cells.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "overdue_cells": t.overdue.len(),
        "targets": t.candidates.len() + t.skipped.len(),
        "stop_reasons": reasons,
        "total_priority": round1(plan.total_priority),
    })
}

fn kind_name(k: TargetKind) -> &'static str {
    match k {
        TargetKind::Cell => "cell",
        TargetKind::Work => "work",
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "seconds of a shift fit an i64 in ms"
)]
fn seconds_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

/// The cells to sweep: those asked for, which must be cells of the area,
/// or all of them.
fn sweep_cells(
    asked: Option<&[CellIndex]>,
    area: &[ScopeCell],
) -> Result<Vec<CellIndex>, ServiceError> {
    let area_cells: HashSet<CellIndex> = area.iter().map(|c| c.cell).collect();
    let cells = match asked {
        None => {
            let mut all: Vec<CellIndex> = area_cells.into_iter().collect();
            all.sort_unstable();
            all
        }
        Some(asked) => {
            if let Some(c) = asked.iter().find(|c| !area_cells.contains(c)) {
                return Err(invalid(
                    "cells",
                    format!("{c} is not a resolution-10 cell of the area"),
                ));
            }
            asked.to_vec()
        }
    };
    if cells.is_empty() {
        return Err(invalid("cells", "names no cell"));
    }
    Ok(cells)
}

fn sweep_details(
    sweep: &crate::routing::SweepRoute,
    new_cells: &[CellIndex],
    overdue: usize,
) -> serde_json::Value {
    json!({
        "left_out": sweep.unreachable.iter().map(|e| json!({
            "target_id": format!("edge {}", e.0),
            "kind": "road",
            "reason": "unreachable on the road network from the start",
        })).collect::<Vec<_>>(),
        "new_cells": new_cells.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "overdue_cells": overdue,
        "required_m": round1(sweep.required_m),
        "required_edges": sweep.required.len(),
        "walked_over_required": if sweep.required_m > 0.0 {
            (sweep.length_m / sweep.required_m * 1000.0).round() / 1000.0
        } else { 0.0 },
    })
}

/// Plans a street sweep (扫街) of an area's cells within the caller's scope
/// and stores it. Needs the road network.
pub async fn sweep(
    store: &DynStore,
    roads: &RoadGraphCache,
    scope: &Scope,
    created_by: &str,
    input: SweepInput,
) -> Result<RouteRecord, ServiceError> {
    if let Some(m) = input.shift_minutes {
        check_shift(m)?;
    }
    check_officer(input.officer.as_deref())?;
    check_in_district(store, "start", input.start).await?;
    let area = resolve(store, scope, input.area).await?;
    let cells = sweep_cells(input.cells.as_deref(), &area.cells)?;
    let graph = roads.get(store).await?.ok_or_else(|| {
        ServiceError::Conflict(
            "no road network has been imported: street sweeping follows the roads \
             (gridpatrol import roads FILE)"
                .to_owned(),
        )
    })?;
    let starts_at = shift_start(input.date, input.start_time);
    let status = statuses(store, &area.cells, starts_at.timestamp_millis()).await?;
    let start = input.start;
    let swept = cells.len();
    let (sweep, start_gap_m) = tokio::task::spawn_blocking(move || {
        let gap = graph.nearest_node(start).map_or(f64::INFINITY, |(_, d)| d);
        if gap > PlanOptions::default().max_snap_m {
            return Err(RoutingError::OffNetwork {
                what: "start",
                distance_m: gap,
                max_m: PlanOptions::default().max_snap_m,
            });
        }
        sweep_route(&graph, start, &cells).map(|s| (s, gap))
    })
    .await
    .map_err(|e| task_failed(&e))?
    .map_err(routing_error)?;
    let overdue: HashSet<CellIndex> = status
        .iter()
        .filter(|s| s.overdue)
        .map(|s| s.cell)
        .collect();
    let mut geometry = sweep.geometry.clone();
    // the walk to and from the network, so the route starts where asked
    let s = Coord::from(input.start);
    if geometry.0.first() != Some(&s) {
        geometry.0.insert(0, s);
        geometry.0.push(s);
    }
    let new_cells = covered_cells(&geometry, &overdue);
    let distance_m = sweep.length_m + 2.0 * start_gap_m;
    let duration_s = distance_m / input.mode.speed_mps();
    let shift_minutes = input
        .shift_minutes
        .unwrap_or_else(|| (duration_s / 60.0).ceil().max(1.0));
    let mut details = sweep_details(&sweep, &new_cells, overdue.len());
    details["swept_cells"] = json!(swept);
    details["fits_shift"] = json!(duration_s <= shift_minutes * 60.0);
    details["start"] = json!(input.start);
    details["start_time"] = json!(input.start_time.format("%H:%M").to_string());
    let route = NewRoute {
        kind: "sweep".to_owned(),
        grid_id: area.grid_id,
        zone_id: area.zone_id,
        grid_code: area.grid_code,
        zone_code: area.zone_code,
        town_code: area.town_code,
        date: input.date,
        starts_at,
        officer: input.officer.map(|o| o.trim().to_owned()),
        mode: mode_name(input.mode).to_owned(),
        shift_minutes,
        service_minutes: 0.0,
        distance_m: round1(distance_m),
        duration_s: round1(duration_s),
        new_cells: i64::try_from(new_cells.len()).unwrap_or(i64::MAX),
        road_network: true,
        details,
        created_by: created_by.to_owned(),
        geometry,
        stops: Vec::new(),
    };
    let id = store.insert_route(&route).await?;
    Ok(RouteRecord {
        id,
        route,
        adherence: None,
        created_at: Utc::now(),
    })
}

// ---------------------------------------------------------------------------
// Reading, assigning, adherence

/// Whether a route lies in the caller's scope.
#[must_use]
pub fn in_scope(scope: &Scope, r: &NewRoute) -> bool {
    match &r.grid_code {
        Some(g) => scope.allows_grid(g, &r.zone_code, &r.town_code),
        None => scope.allows_zone(&r.zone_code, &r.town_code),
    }
}

/// Restricts a route query to a scope, in the query itself.
#[must_use]
pub fn scoped_query(scope: &Scope, mut q: RouteQuery) -> RouteQuery {
    q.towns = scope.list_query_towns(q.towns.take());
    q.grids = scope.grid_codes();
    q.zones = scope.zone_codes();
    q
}

/// A page of routes within the scope.
pub async fn list(
    store: &DynStore,
    scope: &Scope,
    q: RouteQuery,
) -> Result<Page<RouteRecord>, ServiceError> {
    Ok(store.list_routes(&scoped_query(scope, q)).await?)
}

/// One route within the scope, with its adherence brought up to date;
/// an id outside the scope is not found.
pub async fn get(store: &DynStore, scope: &Scope, id: i64) -> Result<RouteRecord, ServiceError> {
    let mut r = store
        .get_route(id)
        .await?
        .filter(|r| in_scope(scope, &r.route))
        .ok_or_else(|| ServiceError::NotFound(format!("route {id}")))?;
    r.adherence = refresh_adherence(store, &r).await?;
    Ok(r)
}

/// Assigns a route in the scope to an officer (`None` unassigns it);
/// answers the route before and after.
pub async fn assign(
    store: &DynStore,
    scope: &Scope,
    id: i64,
    officer: Option<String>,
) -> Result<(RouteRecord, RouteRecord), ServiceError> {
    check_officer(officer.as_deref())?;
    let before = store
        .get_route(id)
        .await?
        .filter(|r| in_scope(scope, &r.route))
        .ok_or_else(|| ServiceError::NotFound(format!("route {id}")))?;
    let officer = officer.map(|o| o.trim().to_owned());
    if !store.assign_route(id, officer.as_deref()).await? {
        return Err(ServiceError::NotFound(format!("route {id}")));
    }
    let after = get(store, scope, id).await?;
    Ok((before, after))
}

/// The tracks of a route's officer on its date and how well they followed
/// it; stored on the route when it changed. `None` without an officer or
/// without a track that day.
pub async fn refresh_adherence(
    store: &DynStore,
    r: &RouteRecord,
) -> Result<Option<Adherence>, ServiceError> {
    let Some(officer) = r.route.officer.clone() else {
        return Ok(None);
    };
    let day_start = shift_start(r.route.date, NaiveTime::MIN).timestamp_millis();
    let tracks = store
        .list_tracks(&TrackQuery {
            officer: Some(officer),
            from_ms: Some(day_start),
            to_ms: Some(day_start + 86_400_000),
            limit: 100,
            ..TrackQuery::default()
        })
        .await?
        .items;
    let ids: Vec<i64> = tracks.iter().map(|t| t.id).collect();
    if ids.is_empty() {
        if r.adherence.is_some() {
            store.set_route_adherence(r.id, None).await?;
        }
        return Ok(None);
    }
    // a live track grows: recompute when its length changed too
    let lengths: Vec<f64> = tracks.iter().map(|t| round1(t.track.length_m)).collect();
    if let Some(a) = &r.adherence
        && a.tracks == ids
        && a.track_lengths_m == lengths
    {
        return Ok(Some(a.clone()));
    }
    let mut visited: HashSet<CellIndex> = HashSet::new();
    for id in &ids {
        for v in store.track_visits(*id).await? {
            if let Ok(c) = CellIndex::try_from(v.cell) {
                visited.insert(c);
            }
        }
    }
    let segments: Vec<Vec<TrackPoint>> = tracks
        .iter()
        .flat_map(|t| t.track.segments.iter().cloned())
        .collect();
    let sighting_m = tracks
        .iter()
        .map(|t| t.track.sighting_m)
        .fold(SIGHTING_M, f64::max);
    let route = r.route.clone();
    let a = tokio::task::spawn_blocking(move || {
        measure_adherence(&route, &segments, &visited, sighting_m, ids, lengths)
    })
    .await
    .map_err(|e| task_failed(&e))?;
    store.set_route_adherence(r.id, Some(&a)).await?;
    Ok(Some(a))
}

/// A local equirectangular frame in metres around a point, accurate to
/// well under a metre over a few kilometres, which is all a sighting
/// distance needs.
struct Frame {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl Frame {
    fn new(lon0: f64, lat0: f64) -> Self {
        // WGS-84 meridional and prime-vertical radii of curvature
        let a = 6_378_137.0_f64;
        let e2 = 0.006_694_379_990_14_f64;
        let phi = lat0.to_radians();
        let w = (1.0 - e2 * phi.sin().powi(2)).sqrt();
        let m = a * (1.0 - e2) / w.powi(3);
        let n = a / w;
        Self {
            lon0,
            lat0,
            kx: n * phi.cos() * std::f64::consts::PI / 180.0,
            ky: m * std::f64::consts::PI / 180.0,
        }
    }

    fn xy(&self, lon: f64, lat: f64) -> [f64; 2] {
        [(lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky]
    }
}

/// How well tracks followed a route: a stop is reached when a track passes
/// within `sighting_m` of it (a cell stop also when a track covered the
/// cell); the path walked is the length of the route within `sighting_m` of
/// a track, sampled every 5 m.
#[must_use]
pub fn measure_adherence<S: std::hash::BuildHasher>(
    route: &NewRoute,
    segments: &[Vec<TrackPoint>],
    visited: &HashSet<CellIndex, S>,
    sighting_m: f64,
    tracks: Vec<i64>,
    track_lengths_m: Vec<f64>,
) -> Adherence {
    let origin = route
        .geometry
        .0
        .first()
        .copied()
        .unwrap_or(Coord { x: 121.2, y: 31.0 });
    let frame = Frame::new(origin.x, origin.y);
    let mut lines: Vec<Line<[f64; 2]>> = Vec::new();
    for seg in segments {
        let pts: Vec<[f64; 2]> = seg.iter().map(|p| frame.xy(p.lon, p.lat)).collect();
        match pts.as_slice() {
            [] => {}
            [p] => lines.push(Line::new(*p, *p)),
            _ => lines.extend(pts.windows(2).map(|w| Line::new(w[0], w[1]))),
        }
    }
    let tree = RTree::bulk_load(lines);
    let r2 = sighting_m * sighting_m;
    let near = |p: [f64; 2]| tree.locate_within_distance(p, r2).next().is_some();
    let reached = route
        .stops
        .iter()
        .filter(|s| {
            let cell_seen = s.kind == "cell"
                && s.target_id
                    .parse::<CellIndex>()
                    .is_ok_and(|c| visited.contains(&c));
            cell_seen || near(frame.xy(s.position.lon(), s.position.lat()))
        })
        .count();
    let (mut walked, mut total) = (0.0, 0.0);
    for w in route.geometry.0.windows(2) {
        let from = frame.xy(w[0].x, w[0].y);
        let to = frame.xy(w[1].x, w[1].y);
        let len = (to[0] - from[0]).hypot(to[1] - from[1]);
        if len == 0.0 {
            continue;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a segment's sample count is small and positive"
        )]
        let samples = (len / 5.0).ceil().max(1.0) as usize;
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let step = len / samples as f64;
        for i in 0..samples {
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let frac = (i as f64 + 0.5) / samples as f64;
            let sample = [
                from[0] + (to[0] - from[0]) * frac,
                from[1] + (to[1] - from[1]) * frac,
            ];
            if near(sample) {
                walked += step;
            }
        }
        total += len;
    }
    let planned = route.stops.len();
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let stops_reached = if planned == 0 {
        1.0
    } else {
        reached as f64 / planned as f64
    };
    let share = |x: f64| (x * 1000.0).round() / 1000.0;
    Adherence {
        stops_reached: share(stops_reached),
        stops_reached_count: reached,
        stops_planned: planned,
        path_walked: if total > 0.0 {
            share((walked / total).min(1.0))
        } else {
            0.0
        },
        path_walked_m: round1(walked),
        path_planned_m: round1(total),
        sighting_m,
        tracks,
        track_lengths_m,
        computed_at: Utc::now(),
    }
}

/// One officer's adherence over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfficerAdherence {
    pub officer: String,
    /// Routes assigned to the officer in the period.
    pub routes: usize,
    /// Routes with a track of their date.
    pub tracked: usize,
    /// Means over the tracked routes.
    pub stops_reached: Option<f64>,
    pub path_walked: Option<f64>,
}

/// The adherence of every assigned route of the period in the scope, by
/// officer (routes beyond the first 1,000 are not counted).
pub async fn adherence_summary(
    store: &DynStore,
    scope: &Scope,
    q: RouteQuery,
) -> Result<(Vec<OfficerAdherence>, Vec<RouteRecord>), ServiceError> {
    let q = RouteQuery { limit: 1000, ..q };
    let mut routes = list(store, scope, q).await?.items;
    routes.retain(|r| r.route.officer.is_some());
    let mut by_officer: std::collections::BTreeMap<String, Vec<Option<Adherence>>> =
        std::collections::BTreeMap::new();
    for r in &mut routes {
        r.adherence = refresh_adherence(store, r).await?;
        let officer = r.route.officer.clone().unwrap_or_default();
        by_officer
            .entry(officer)
            .or_default()
            .push(r.adherence.clone());
    }
    let rows = by_officer
        .into_iter()
        .map(|(officer, list)| {
            let known: Vec<&Adherence> = list.iter().flatten().collect();
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let mean = |f: fn(&Adherence) -> f64| {
                (!known.is_empty()).then(|| {
                    let m = known.iter().map(|a| f(a)).sum::<f64>() / known.len() as f64;
                    (m * 1000.0).round() / 1000.0
                })
            };
            OfficerAdherence {
                routes: list.len(),
                tracked: known.len(),
                stops_reached: mean(|a| a.stops_reached),
                path_walked: mean(|a| a.path_walked),
                officer,
            }
        })
        .collect();
    Ok((rows, routes))
}

// ---------------------------------------------------------------------------
// GPX

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn gpx_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A route as GPX 1.1: the stops as waypoints (`wpt`, with their ETA), the
/// route as a `rte` from the start through the stops to the end, and the
/// path along the roads as a `trk`. Coordinates are written in full
/// precision, so a reader gets the same points back.
#[must_use]
pub fn to_gpx(r: &RouteRecord) -> String {
    use std::fmt::Write as _;
    let route = &r.route;
    let title = format!(
        "gridpatrol route {} ({} {}, {})",
        r.id,
        route.grid_code.as_deref().unwrap_or(&route.zone_code),
        route.kind,
        route.date
    );
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <gpx version=\"1.1\" creator=\"gridpatrol\" xmlns=\"http://www.topografix.com/GPX/1/1\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd\">\n",
    );
    let _ = writeln!(
        out,
        "  <metadata><name>{}</name><time>{}</time></metadata>",
        xml_escape(&title),
        gpx_time(r.created_at)
    );
    let reasons = route.details.get("stop_reasons");
    for s in &route.stops {
        let desc = reasons
            .and_then(|m| m.get(&s.target_id))
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  <wpt lat=\"{}\" lon=\"{}\"><time>{}</time><name>{}. {} {}</name><desc>{}</desc><type>{}</type></wpt>",
            s.position.lat(),
            s.position.lon(),
            gpx_time(s.eta),
            s.order,
            xml_escape(&s.kind),
            xml_escape(&s.target_id),
            xml_escape(&desc),
            xml_escape(&s.kind)
        );
    }
    let first = route.geometry.0.first().copied();
    let last = route.geometry.0.last().copied();
    let _ = writeln!(out, "  <rte><name>{}</name>", xml_escape(&title));
    if let Some(c) = first {
        let _ = writeln!(
            out,
            "    <rtept lat=\"{}\" lon=\"{}\"><name>start</name></rtept>",
            c.y, c.x
        );
    }
    for s in &route.stops {
        let _ = writeln!(
            out,
            "    <rtept lat=\"{}\" lon=\"{}\"><name>{}. {}</name></rtept>",
            s.position.lat(),
            s.position.lon(),
            s.order,
            xml_escape(&s.target_id)
        );
    }
    if let Some(c) = last {
        let _ = writeln!(
            out,
            "    <rtept lat=\"{}\" lon=\"{}\"><name>end</name></rtept>",
            c.y, c.x
        );
    }
    out.push_str("  </rte>\n");
    let _ = writeln!(out, "  <trk><name>{}</name><trkseg>", xml_escape(&title));
    for c in &route.geometry.0 {
        let _ = writeln!(out, "    <trkpt lat=\"{}\" lon=\"{}\"/>", c.y, c.x);
    }
    out.push_str("  </trkseg></trk>\n</gpx>\n");
    out
}
