//! Coverage: every cell of a scope as a GeoJSON hexagon with its patrol
//! state, summaries per town, zone or grid with a weekly trend, and the
//! ranked blind-spot cells. Each answers the cells of the caller's scope
//! only; an area outside it (`scope=grid:ID` of another town) is not found.

use axum::extract::State;
use h3o::Resolution;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::extract::Query;
use super::geojson_types::{Feature, FeatureCollection};
use super::hexagons::hexagon;
use super::params::Params;
use super::params::{opt, window_ms_at};
use super::read_cache::ReadClock;
use crate::auth::Caller;
use crate::service::coverage::{self, AreaScope, GridSet, ScopeCell};

/// The default window: the last four weeks.
const DEFAULT_WINDOW_DAYS: i64 = 28;
/// The resolution visits are stored at.
const COVERAGE_RES: Resolution = Resolution::Ten;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cells))
        .routes(routes!(summary))
        .routes(routes!(blind_cells))
}

/// One cell's patrol state.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageCellProperties {
    /// H3 cell (hex).
    cell: String,
    patrolled: bool,
    visits: u32,
    last_patrolled: Option<String>,
    days_since_patrol: Option<i64>,
    overdue: bool,
    interval_days: u32,
    /// Below resolution 10: the share of the child cells patrolled.
    #[serde(skip_serializing_if = "Option::is_none")]
    patrolled_share: Option<f64>,
    /// Below resolution 10: the share of the child cells overdue.
    #[serde(skip_serializing_if = "Option::is_none")]
    overdue_share: Option<f64>,
}

/// The cells of a scope as hexagons.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageCollection {
    #[serde(flatten)]
    collection: FeatureCollection<CoverageCellProperties>,
    resolution: u8,
    from: String,
    to: String,
}

/// A blind-spot cell, ranked by risk, with its reasons.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BlindCellProperties {
    rank: usize,
    /// H3 cell (hex).
    cell: String,
    /// What people call the cell: the nearest named place and the grid,
    /// "文翔路70号附近 · 岳阳街道 第1网格".
    place: String,
    /// The same in English (names stay as they are).
    place_en: String,
    /// The grid's name.
    grid_name: Option<String>,
    grid_id: i64,
    town: String,
    risk: f64,
    never_patrolled: bool,
    overdue: bool,
    last_patrolled: Option<String>,
    projects: usize,
    venues_near: usize,
    /// The commercial district the cell lies in, if any.
    commercial_district: Option<String>,
    /// Why the cell matters, each in English and Chinese (`text`, `text_zh`).
    reasons: Vec<crate::blindspots::Reason>,
}

/// The coverage over a window.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageSummary {
    from: String,
    to: String,
    areas: Vec<coverage::AreaSummary>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn scope_param(q: &impl Params) -> Result<AreaScope, ApiError> {
    q.get("scope").map_or(Ok(AreaScope::District), |s| {
        s.parse::<AreaScope>().map_err(ApiError::from)
    })
}

fn blocking_failed(source: tokio::task::JoinError) -> ApiError {
    ApiError::from(crate::service::ServiceError::TaskFailed {
        what: "coverage cells",
        source,
    })
}

struct Loaded {
    cells: Vec<ScopeCell>,
    data: coverage::VisitData,
    from: i64,
    to: i64,
}

async fn load(
    st: &AppState,
    caller: &Caller,
    clock: ReadClock,
    q: &impl Params,
    scope: &AreaScope,
) -> ApiResult<(GridSet, Loaded)> {
    let (from, to) = window_ms_at(q, DEFAULT_WINDOW_DAYS, clock.ms())?;
    let (grids, cells, data) =
        coverage::load_area(&st.store, &caller.scope, scope, from, to).await?;
    Ok((
        grids,
        Loaded {
            cells,
            data,
            from,
            to,
        },
    ))
}

crate::query_params! {
    /// The scope, window and resolution of the coverage map.
    pub struct CoverageParams {
        /// grid:ID, zone:ID, town:CODE or district (default).
        scope: String,
        /// RFC 3339 or YYYY-MM-DD; default 28 days before `to`.
        from: String,
        /// Default now (the next whole minute).
        to: String,
        /// 7 to 10; below 10 aggregates.
        #[param(minimum = 7, maximum = 10)]
        res: u8,
    }
}

crate::query_params! {
    /// The level and window of the summary.
    pub struct SummaryParams {
        /// town (default), zone or grid.
        level: String,
        /// RFC 3339 or YYYY-MM-DD; default 28 days before `to`.
        from: String,
        /// Default now (the next whole minute).
        to: String,
    }
}

crate::query_params! {
    /// The scope, window and length of the blind-cell list.
    pub struct BlindCellParams {
        /// grid:ID, zone:ID, town:CODE or district (default).
        scope: String,
        /// RFC 3339 or YYYY-MM-DD; default 28 days before `to`.
        from: String,
        /// Default now (the next whole minute).
        to: String,
        /// Default 200.
        limit: u32,
    }
}

/// Every cell of a scope as a hexagon with `patrolled`, `visits`,
/// `last_patrolled` and `overdue`; coarser `res` aggregates.
#[utoipa::path(get, path = "/api/v1/coverage", operation_id = "getCoverage", tag = "coverage",
    params(CoverageParams, ("If-None-Match" = Option<String>, Header, description = "an ETag of an earlier answer: 304 when it is still current")),
    responses((status = 200, description = "GeoJSON FeatureCollection of hexagons", body = CoverageCollection,
                headers(("ETag" = String, description = "names this answer (query, scope, data version, encoding)"), ("Cache-Control" = String, description = "private, no-cache"))),
              (status = 304, description = "not modified: the ETag in If-None-Match names the current answer"),
              (status = 422, description = "invalid parameter", body = super::error::Problem),
              (status = 404, description = "unknown scope", body = super::error::Problem)))]
pub async fn cells(
    State(st): State<AppState>,
    caller: Caller,
    clock: ReadClock,
    Query(q): Query<CoverageParams>,
) -> ApiResult<Json<CoverageCollection>> {
    let res = opt::<u8>(&q, "res", "a resolution")?.unwrap_or(10);
    let res = Resolution::try_from(res)
        .ok()
        .filter(|r| (Resolution::Seven..=COVERAGE_RES).contains(r))
        .ok_or_else(|| {
            ApiError::invalid(
                "res",
                "must be from 7 to 10 (visits are kept at resolution 10)",
            )
        })?;
    let scope = scope_param(&q)?;
    let (_, l) = load(&st, &caller, clock, &q, &scope).await?;
    let features = tokio::task::spawn_blocking(move || {
        let report = coverage::report(&l.cells, &l.data, l.from, l.to)?;
        let statuses = if res == COVERAGE_RES {
            coverage::statuses(&l.cells, &report)
        } else {
            coverage::coarse_statuses(&report, res)?
        };
        let coarse = res != COVERAGE_RES;
        let features: Vec<Feature<CoverageCellProperties>> = statuses
            .iter()
            .map(|s| {
                let p = CoverageCellProperties {
                    cell: s.cell.to_string(),
                    patrolled: s.patrolled,
                    visits: s.visits,
                    last_patrolled: s.last_patrolled_ms.map(crate::time::iso_ms),
                    days_since_patrol: s.last_patrolled_ms.map(|t| (l.to - t) / 86_400_000),
                    overdue: s.overdue,
                    interval_days: s.interval_days,
                    patrolled_share: coarse.then(|| round3(s.patrolled_share)),
                    overdue_share: coarse.then(|| round3(s.overdue_share)),
                };
                Feature::named(s.cell.to_string(), hexagon(s.cell), p)
            })
            .collect();
        Ok::<_, crate::coverage::CoverageError>((features, l.from, l.to))
    })
    .await
    .map_err(blocking_failed)?
    .map_err(|e| ApiError::invalid("from", e.to_string()))?;
    let (features, from, to) = features;
    let total = features.len() as u64;
    Ok(Json(CoverageCollection {
        collection: FeatureCollection::new(features, total),
        resolution: u8::from(res),
        from: crate::time::iso_ms(from),
        to: crate::time::iso_ms(to),
    }))
}

/// Per town, zone or grid: cells, patrolled cells, ratio, overdue cells and the weekly trend.
#[utoipa::path(get, path = "/api/v1/coverage/summary", operation_id = "getCoverageSummary", tag = "coverage",
    params(SummaryParams, ("If-None-Match" = Option<String>, Header, description = "an ETag of an earlier answer: 304 when it is still current")),
    responses((status = 200, description = "one row per area", body = CoverageSummary,
                headers(("ETag" = String, description = "names this answer (query, scope, data version, encoding)"), ("Cache-Control" = String, description = "private, no-cache"))),
              (status = 304, description = "not modified: the ETag in If-None-Match names the current answer"),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn summary(
    State(st): State<AppState>,
    caller: Caller,
    clock: ReadClock,
    Query(q): Query<SummaryParams>,
) -> ApiResult<Json<CoverageSummary>> {
    let level = match q.get("level") {
        None => coverage::Level::Town,
        Some(l) => l.parse::<coverage::Level>()?,
    };
    let (from, to) = window_ms_at(&q, DEFAULT_WINDOW_DAYS, clock.ms())?;
    let rows = coverage::area_summaries(&st.store, &caller.scope, level, from, to).await?;
    Ok(Json(CoverageSummary {
        from: crate::time::iso_ms(from),
        to: crate::time::iso_ms(to),
        areas: rows,
    }))
}

/// Cells never patrolled in the window or overdue, ranked by risk, each with its reasons.
#[utoipa::path(get, path = "/api/v1/blindspots/cells", operation_id = "listBlindCells", tag = "blindspots",
    params(BlindCellParams, ("If-None-Match" = Option<String>, Header, description = "an ETag of an earlier answer: 304 when it is still current")),
    responses((status = 200, description = "GeoJSON FeatureCollection of ranked hexagons", body = FeatureCollection<BlindCellProperties>,
                headers(("ETag" = String, description = "names this answer (query, scope, data version, encoding)"), ("Cache-Control" = String, description = "private, no-cache"))),
              (status = 304, description = "not modified: the ETag in If-None-Match names the current answer"),
              (status = 404, description = "unknown scope", body = super::error::Problem),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn blind_cells(
    State(st): State<AppState>,
    caller: Caller,
    clock: ReadClock,
    Query(q): Query<BlindCellParams>,
) -> ApiResult<Json<FeatureCollection<BlindCellProperties>>> {
    let limit = opt::<usize>(&q, "limit", "a whole number")?.unwrap_or(200);
    let scope = scope_param(&q)?;
    let (from, to) = window_ms_at(&q, DEFAULT_WINDOW_DAYS, clock.ms())?;
    let (ranked, total) =
        coverage::ranked_blind_cells(&st.store, &caller.scope, &scope, from, to, limit).await?;
    let features = ranked
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let place = b.place.as_ref();
            let p = BlindCellProperties {
                rank: i + 1,
                cell: b.cell.to_string(),
                place: place.map_or_else(|| b.cell.to_string(), |l| l.zh.clone()),
                place_en: place.map_or_else(|| b.cell.to_string(), |l| l.en.clone()),
                grid_name: place.and_then(|l| l.grid.clone()),
                grid_id: b.grid,
                town: b.town.clone(),
                risk: b.risk,
                never_patrolled: b.never_patrolled,
                overdue: b.overdue,
                last_patrolled: b.last_patrolled_ms.map(crate::time::iso_ms),
                projects: b.projects,
                venues_near: b.venues_near,
                commercial_district: b.in_commercial_district.clone(),
                reasons: b.reasons.clone(),
            };
            Feature::named(b.cell.to_string(), hexagon(b.cell), p)
        })
        .collect::<Vec<_>>();
    Ok(Json(FeatureCollection::new(features, total as u64)))
}
