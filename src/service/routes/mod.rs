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
//!
//! # Modules
//!
//! - `network`: road import and the [`RoadGraphCache`];
//! - `targets`: the cell and work targets of a plan and their priorities;
//! - `plan`: [`plan`]; `sweep`: [`sweep`];
//! - `adherence`: how well tracks followed routes, measured by
//!   [`crate::routing::adherence`];
//! - this module: the inputs, the area and the checks both share, reading
//!   and assigning routes, and GPX (written by [`crate::routing::gpx`]).

mod adherence;
mod network;
mod plan;
mod sweep;
mod targets;

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use geo::LineString;
use h3o::CellIndex;

use super::ServiceError;
use super::coverage::{
    self as coverage, AreaScope, CellStatus, GridSet, ScopeCell, load_visits, scope_cells,
};
use super::towns::TownIndex;
use crate::auth::Scope;
use crate::coverage::{CoverageParams, cover_track};
use crate::ingest::IngestError;
use crate::routing::gpx::{GpxRoute, GpxStop, write_route_gpx};
use crate::routing::{RoutingError, TravelMode};
use crate::spatial::{LonLat, TrackPoint};
use crate::store::routes::{NewRoute, RouteQuery, RouteRecord};
use crate::store::{DynStore, Page, StoreError};

pub use adherence::{OfficerAdherence, adherence_summary, measure_adherence, refresh_adherence};
pub use network::{ImportedRoads, RoadFormat, RoadGraphCache, import_roads, import_roads_file};
pub use plan::plan;
pub use sweep::sweep;

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
// What a plan and a sweep share

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
    /// The grid's or zone's name, for people.
    area_name: String,
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
                area_name: g.value.name.clone(),
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
                area_name: z.value.name.clone(),
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

// ---------------------------------------------------------------------------
// Reading, assigning, GPX

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

/// A route as GPX 1.1 ([`crate::routing::gpx`]): the stops as waypoints
/// with their ETA and why each is one, the route from the start through the
/// stops to the end, and the path along the roads as a track, in full
/// precision. Names and descriptions are in Chinese, with times of day in
/// Beijing time: a phone shows them as they are. The officer is named by
/// `officer_name` (their name for people) when there is one.
#[must_use]
pub fn to_gpx(r: &RouteRecord, officer_name: Option<&str>) -> String {
    let route = &r.route;
    let stops = route
        .stops
        .iter()
        .map(|s| {
            let place = stop_place(&route.details, &s.target_id);
            let eta = s.eta.with_timezone(&crate::time::beijing()).format("%H:%M");
            GpxStop {
                order: s.order,
                kind: kind_zh(&s.kind).to_owned(),
                target_id: s.target_id.clone(),
                name: format!("{}. {eta} {place}", s.order),
                position: s.position,
                eta: s.eta,
                description: stop_description(&route.details, &s.target_id),
            }
        })
        .collect();
    let area = route
        .details
        .get("area_name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_else(|| route.grid_code.as_deref().unwrap_or(&route.zone_code));
    let kind = if route.kind == "sweep" {
        "扫街"
    } else {
        "巡查"
    };
    write_route_gpx(&GpxRoute {
        title: format!(
            "{area} {kind}路线 {}（{}，编号 {}）",
            route.date,
            officer_name
                .or(route.officer.as_deref())
                .unwrap_or("未指派"),
            r.id
        ),
        created_at: r.created_at,
        line: route.geometry.clone(),
        stops,
    })
}

/// A stop's kind in Chinese.
fn kind_zh(kind: &str) -> &str {
    match kind {
        "cell" => "巡查单元格",
        "work" => "工程",
        other => other,
    }
}

/// A target's name for people from the route's details: a work's name, a
/// cell's place ("文翔路70号附近 · 岳阳街道 第1网格"); the id when the route was
/// planned before places were named.
#[must_use]
pub fn stop_place(details: &serde_json::Value, target_id: &str) -> String {
    let entry = details.get("places").and_then(|p| p.get(target_id));
    let text = |k: &str| {
        entry
            .and_then(|e| e.get(k))
            .and_then(serde_json::Value::as_str)
    };
    match (text("name"), text("zh")) {
        (Some(name), _) => name.to_owned(),
        (None, Some(zh)) => zh.to_owned(),
        (None, None) => target_id.to_owned(),
    }
}

/// Why a stop is one, in Chinese (joined by "；"); a route planned before
/// reasons had Chinese keeps its English text.
fn stop_description(details: &serde_json::Value, target_id: &str) -> String {
    details
        .get("stop_reasons")
        .and_then(|m| m.get(target_id))
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    r.as_str()
                        .or_else(|| r.get("text_zh").and_then(serde_json::Value::as_str))
                })
                .collect::<Vec<_>>()
                .join("；")
        })
        .unwrap_or_default()
}
