//! Coverage: every cell of a scope as a GeoJSON hexagon with its patrol
//! state, summaries per town, zone or grid with a weekly trend, and the
//! ranked blind-spot cells. Each answers the cells of the caller's scope
//! only; an area outside it (`scope=grid:ID` of another town) is not found.

use axum::Json;
use axum::extract::{Query, State};
use geojson::{Feature, FeatureCollection, feature::Id};
use h3o::{CellIndex, Resolution};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::params::{RawQuery, opt, window_ms};
use crate::auth::Caller;
use crate::service::coverage::{self, GridSet, Scope, ScopeCell};
use crate::store::StoreError;

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

fn hexagon(cell: CellIndex) -> Option<geojson::Geometry> {
    let mut ring: Vec<Vec<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| vec![ll.lng(), ll.lat()])
        .collect();
    let first = ring.first()?.clone();
    ring.push(first);
    Some(geojson::Geometry::from(geojson::GeometryValue::Polygon {
        coordinates: vec![ring.into_iter().map(Into::into).collect()],
    }))
}

fn scope_param(q: &RawQuery) -> Result<Scope, ApiError> {
    q.get("scope").map_or(Ok(Scope::District), |s| {
        s.parse::<Scope>().map_err(ApiError::from)
    })
}

fn blocking_failed(e: &tokio::task::JoinError) -> ApiError {
    ApiError::from(StoreError::Corrupt(format!("analysis task failed: {e}")))
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
    q: &RawQuery,
    scope: &Scope,
) -> ApiResult<(GridSet, Loaded)> {
    let (from, to) = window_ms(q, DEFAULT_WINDOW_DAYS)?;
    let (grids, cells, data) =
        coverage::load_scope(&st.store, &caller.scope, scope, from, to).await?;
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

/// Every cell of a scope as a hexagon with `patrolled`, `visits`,
/// `last_patrolled` and `overdue`; coarser `res` aggregates.
#[utoipa::path(get, path = "/api/v1/coverage", operation_id = "getCoverage", tag = "coverage",
    params(("scope" = Option<String>, Query, description = "grid:ID, zone:ID, town:CODE or district (default)"),
           ("from" = Option<String>, Query, description = "RFC 3339 or YYYY-MM-DD; default 28 days before to"),
           ("to" = Option<String>, Query, description = "default now"),
           ("res" = Option<u8>, Query, description = "7 to 10; below 10 aggregates")),
    responses((status = 200, description = "GeoJSON FeatureCollection of hexagons", content_type = "application/geo+json"),
              (status = 404, description = "unknown scope", body = super::error::Problem)))]
pub async fn cells(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
) -> ApiResult<Json<FeatureCollection>> {
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
    let (_, l) = load(&st, &caller, &q, &scope).await?;
    let features = tokio::task::spawn_blocking(move || {
        let report = coverage::report(&l.cells, &l.data, l.from, l.to)?;
        let statuses = if res == COVERAGE_RES {
            coverage::statuses(&l.cells, &report)
        } else {
            coverage::coarse_statuses(&report, res)?
        };
        let features: Vec<Feature> = statuses
            .iter()
            .map(|s| {
                let mut p = Map::new();
                p.insert("cell".into(), json!(s.cell.to_string()));
                p.insert("patrolled".into(), json!(s.patrolled));
                p.insert("visits".into(), json!(s.visits));
                p.insert(
                    "last_patrolled".into(),
                    s.last_patrolled_ms
                        .map_or(Value::Null, |t| json!(crate::time::iso_ms(t))),
                );
                p.insert(
                    "days_since_patrol".into(),
                    s.last_patrolled_ms
                        .map_or(Value::Null, |t| json!((l.to - t) / 86_400_000)),
                );
                p.insert("overdue".into(), json!(s.overdue));
                p.insert("interval_days".into(), json!(s.interval_days));
                if res != COVERAGE_RES {
                    p.insert(
                        "patrolled_share".into(),
                        json!((s.patrolled_share * 1000.0).round() / 1000.0),
                    );
                    p.insert(
                        "overdue_share".into(),
                        json!((s.overdue_share * 1000.0).round() / 1000.0),
                    );
                }
                Feature {
                    bbox: None,
                    geometry: hexagon(s.cell),
                    id: Some(Id::String(s.cell.to_string())),
                    properties: Some(p),
                    foreign_members: None,
                }
            })
            .collect();
        Ok::<_, crate::coverage::CoverageError>((features, l.from, l.to))
    })
    .await
    .map_err(|e| blocking_failed(&e))?
    .map_err(|e| ApiError::invalid("from", e.to_string()))?;
    let (features, from, to) = features;
    let mut m = Map::new();
    m.insert("numberMatched".into(), json!(features.len()));
    m.insert("numberReturned".into(), json!(features.len()));
    m.insert("resolution".into(), json!(u8::from(res)));
    m.insert("from".into(), json!(crate::time::iso_ms(from)));
    m.insert("to".into(), json!(crate::time::iso_ms(to)));
    Ok(Json(FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(m),
    }))
}

/// Per town, zone or grid: cells, patrolled cells, ratio, overdue cells and the weekly trend.
#[utoipa::path(get, path = "/api/v1/coverage/summary", operation_id = "getCoverageSummary", tag = "coverage",
    params(("level" = Option<String>, Query, description = "town (default), zone or grid"),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, description = "one row per area")))]
pub async fn summary(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
) -> ApiResult<Json<Value>> {
    let level = match q.get("level") {
        None => coverage::Level::Town,
        Some(l) => l.parse::<coverage::Level>()?,
    };
    let (from, to) = window_ms(&q, DEFAULT_WINDOW_DAYS)?;
    let rows = coverage::area_summaries(&st.store, &caller.scope, level, from, to).await?;
    Ok(Json(
        json!({"from": crate::time::iso_ms(from), "to": crate::time::iso_ms(to), "areas": rows}),
    ))
}

/// Cells never patrolled in the window or overdue, ranked by risk, each with its reasons.
#[utoipa::path(get, path = "/api/v1/blindspots/cells", operation_id = "listBlindCells", tag = "blindspots",
    params(("scope" = Option<String>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("limit" = Option<u32>, Query, description = "default 200")),
    responses((status = 200, description = "GeoJSON FeatureCollection of ranked hexagons")))]
pub async fn blind_cells(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
) -> ApiResult<Json<FeatureCollection>> {
    let limit = opt::<usize>(&q, "limit", "a whole number")?.unwrap_or(200);
    let scope = scope_param(&q)?;
    let (from, to) = window_ms(&q, DEFAULT_WINDOW_DAYS)?;
    let (ranked, total) =
        coverage::ranked_blind_cells(&st.store, &caller.scope, &scope, from, to, limit).await?;
    let features = ranked
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut p = Map::new();
            p.insert("rank".into(), json!(i + 1));
            p.insert("cell".into(), json!(b.cell.to_string()));
            p.insert("grid_id".into(), json!(b.grid));
            p.insert("town".into(), json!(b.town));
            p.insert("risk".into(), json!(b.risk));
            p.insert("never_patrolled".into(), json!(b.never_patrolled));
            p.insert("overdue".into(), json!(b.overdue));
            p.insert(
                "last_patrolled".into(),
                b.last_patrolled_ms
                    .map_or(Value::Null, |t| json!(crate::time::iso_ms(t))),
            );
            p.insert("projects".into(), json!(b.projects));
            p.insert("venues_near".into(), json!(b.venues_near));
            p.insert(
                "commercial_district".into(),
                json!(b.in_commercial_district),
            );
            p.insert("reasons".into(), json!(b.reasons));
            Feature {
                bbox: None,
                geometry: hexagon(b.cell),
                id: Some(Id::String(b.cell.to_string())),
                properties: Some(p),
                foreign_members: None,
            }
        })
        .collect::<Vec<_>>();
    let mut m = Map::new();
    m.insert("numberMatched".into(), json!(total));
    m.insert("numberReturned".into(), json!(features.len()));
    Ok(Json(FeatureCollection {
        bbox: None,
        features,
        foreign_members: Some(m),
    }))
}
