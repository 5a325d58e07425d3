//! Patrol routes over HTTP: `POST /api/v1/routes` plans a shift's route
//! for a grid or a zone (or, with `"mode_kind": "sweep"`, a street sweep,
//! also at `POST /api/v1/routes/sweep`), saved and answered with its stops,
//! line, distance, time, new cells and the targets left out; the list, one
//! route as GeoJSON (with its adherence to the officer's track of that
//! date) or GPX (`/api/v1/routes/{id}.gpx`), assignment to an officer
//! (`PATCH`), the adherence summary per officer, and the road network
//! the planner uses (`GET /api/v1/roads`).
//!
//! Planning needs the `WriteRoute` role and a grid or zone in the caller's
//! scope (another is answered like an unknown one); reads show the routes
//! of the caller's scope only.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use chrono::NaiveDate;
use serde::Serialize;

use super::AppState;
use super::audit::Audited;
use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::extract::Query;
use super::geojson_types::{Feature, FeatureCollection};
use super::params::Params;
use super::params::{list_query, opt};
use super::routes_answer::{PlannedRoute, RouteProperties, answer, feature};
use super::routes_request::{Planned, RoutePatch, RouteRequest};
use crate::auth::{Action, Caller};
use crate::service::routes::{self as svc, ImportedRoads, OfficerAdherence};
use crate::service::users::{self, Names};
use crate::store::routes::{Adherence, RouteQuery, RouteRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(create_sweep))
        .routes(routes!(adherence))
        .routes(routes!(one, patch))
        .routes(routes!(roads))
}

fn created(r: &RouteRecord, names: &Names) -> (StatusCode, HeaderMap, Audited, Json<PlannedRoute>) {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/routes/{}", r.id)) {
        h.insert(header::LOCATION, v);
    }
    (
        StatusCode::CREATED,
        h,
        Audited::created("route", r.id),
        Json(answer(r, names)),
    )
}

/// Plan a patrol route (or, with `"mode_kind": "sweep"`, a street sweep).
#[utoipa::path(post, path = "/api/v1/routes", operation_id = "createRoute", tag = "routes",
    request_body(content = RouteRequest, description = "the area, start, shift, mode, minutes at each work and date; targets are the area's overdue cells and the works due an inspection"),
    responses((status = 201, description = "the saved route with its stops, line, distance, time, new cells and the targets left out", body = PlannedRoute),
              (status = 400, description = "malformed JSON", body = super::error::Problem),
              (status = 403, description = "the role may not plan routes", body = super::error::Problem),
              (status = 409, description = "a sweep without an imported road network", body = super::error::Problem),
              (status = 422, description = "invalid field (unknown grid, start outside the district, shift ≤ 0, unknown mode, …); nothing stored", body = super::error::Problem)))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<RouteRequest>,
) -> ApiResult<(StatusCode, HeaderMap, Audited, Json<PlannedRoute>)> {
    caller.require(Action::WriteRoute)?;
    let r = match body.planned()? {
        Planned::Patrol(input) => {
            svc::plan(&st.store, &st.roads, &caller.scope, &caller.user, input).await?
        }
        Planned::Sweep(input) => {
            svc::sweep(&st.store, &st.roads, &caller.scope, &caller.user, input).await?
        }
    };
    Ok(created(&r, &users::display_names(&st.store).await?))
}

/// Plan a street sweep (扫街): every street of the area's cells (or of the
/// `cells` given), in a closed walk from the start.
#[utoipa::path(post, path = "/api/v1/routes/sweep", operation_id = "createSweep", tag = "routes",
    request_body(content = RouteRequest, description = "the area, start, optional cells and shift (to say whether the sweep fits), mode and date"),
    responses((status = 201, description = "the saved sweep with required_m, walked_over_required and fits_shift", body = PlannedRoute),
              (status = 403, description = "the role may not plan routes", body = super::error::Problem),
              (status = 409, description = "no road network imported", body = super::error::Problem),
              (status = 422, description = "invalid field; nothing stored", body = super::error::Problem)))]
pub async fn create_sweep(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<RouteRequest>,
) -> ApiResult<(StatusCode, HeaderMap, Audited, Json<PlannedRoute>)> {
    caller.require(Action::WriteRoute)?;
    let input = body.sweep()?;
    let r = svc::sweep(&st.store, &st.roads, &caller.scope, &caller.user, input).await?;
    Ok(created(&r, &users::display_names(&st.store).await?))
}

crate::query_params! {
    /// The filters and page of saved routes.
    pub struct RouteParams {
        /// One date, YYYY-MM-DD.
        date: String,
        /// YYYY-MM-DD.
        from: String,
        /// YYYY-MM-DD.
        to: String,
        officer: String,
        grid_id: i64,
        zone_id: i64,
        /// Town code(s), comma separated.
        town: String,
        /// patrol or sweep.
        kind: String,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

fn date_param(q: &impl Params, k: &str) -> Result<Option<NaiveDate>, ApiError> {
    match q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::invalid(k, format!("{s:?} is not a date YYYY-MM-DD"))),
    }
}

fn route_query(q: &impl Params) -> Result<RouteQuery, ApiError> {
    let page = list_query(q, &[])?;
    let (mut from, mut to) = (date_param(q, "from")?, date_param(q, "to")?);
    if let Some(d) = date_param(q, "date")? {
        from = Some(d);
        to = Some(d);
    }
    let kind = q.get("kind").map(|k| k.trim().to_owned());
    if let Some(k) = &kind
        && !["patrol", "sweep"].contains(&k.as_str())
    {
        return Err(ApiError::invalid("kind", "must be patrol or sweep"));
    }
    Ok(RouteQuery {
        towns: page.towns,
        grid_id: opt(q, "grid_id", "a grid id")?,
        zone_id: opt(q, "zone_id", "a zone id")?,
        officer: q
            .get("officer")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        from,
        to,
        kind,
        limit: page.limit,
        offset: page.offset,
        ..RouteQuery::default()
    })
}

/// Saved routes in the caller's scope, newest date first, as GeoJSON.
#[utoipa::path(get, path = "/api/v1/routes", operation_id = "listRoutes", tag = "routes",
    params(RouteParams),
    responses((status = 200, description = "GeoJSON FeatureCollection of route lines", body = FeatureCollection<RouteProperties>),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RouteParams>,
) -> ApiResult<Json<FeatureCollection<RouteProperties>>> {
    let page = svc::list(&st.store, &caller.scope, route_query(&q)?).await?;
    let names = users::display_names(&st.store).await?;
    Ok(Json(FeatureCollection::new(
        page.items.iter().map(|r| feature(r, &names)).collect(),
        page.total,
    )))
}

/// One route as a GeoJSON Feature with its stops and adherence (`{id}` or
/// `{id}.geojson`), or as GPX 1.1 (`{id}.gpx`: the stops as waypoints with
/// their ETA, the route as `rte` and the path along the roads as `trk`).
/// The router cannot split a path segment, so one operation serves all three.
#[utoipa::path(get, path = "/api/v1/routes/{id}", operation_id = "getRoute", tag = "routes",
    params(("id" = String, Path, description = "the route id; `ID.geojson` for GeoJSON too, `ID.gpx` for GPX")),
    responses((status = 200, description = "GeoJSON Feature: the route line with its fields, stops and adherence; GPX 1.1 for `ID.gpx`",
               content((Feature<RouteProperties> = "application/geo+json"), (String = "application/gpx+xml"))),
              (status = 404, description = "unknown id, or outside the caller's scope", body = super::error::Problem)))]
pub async fn one(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found(format!("route {raw}"));
    if let Some(id) = raw.strip_suffix(".gpx") {
        let id = id.parse().map_err(|_| not_found())?;
        return gpx_answer(&st, &caller, id).await;
    }
    let id: i64 = raw
        .strip_suffix(".geojson")
        .unwrap_or(&raw)
        .parse()
        .map_err(|_| not_found())?;
    let r = svc::get(&st.store, &caller.scope, id).await?;
    let names = users::display_names(&st.store).await?;
    let mut res = Json(feature(&r, &names)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(res)
}

async fn gpx_answer(st: &AppState, caller: &Caller, id: i64) -> ApiResult<Response> {
    let r = svc::get(&st.store, &caller.scope, id).await?;
    let names = users::display_names(&st.store).await?;
    let officer = r.route.officer.as_ref().and_then(|o| names.get(o));
    let mut res = svc::to_gpx(&r, officer.map(String::as_str)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gpx+xml"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"route-{id}.gpx\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Assign a route to an officer (or unassign it with `null`).
#[utoipa::path(patch, path = "/api/v1/routes/{id}", operation_id = "assignRoute", tag = "routes",
    params(("id" = i64, Path)),
    request_body(content = RoutePatch),
    responses((status = 200, description = "the route as a GeoJSON Feature", body = Feature<RouteProperties>),
              (status = 403, description = "the role may not assign routes", body = super::error::Problem),
              (status = 404, description = "unknown id, or outside the caller's scope", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn patch(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    Json(body): Json<RoutePatch>,
) -> ApiResult<(Audited, Json<Feature<RouteProperties>>)> {
    caller.require(Action::WriteRoute)?;
    let id: i64 = raw
        .parse()
        .map_err(|_| ApiError::not_found(format!("route {raw}")))?;
    let officer = body.officer()?;
    let (before, after) = svc::assign(&st.store, &caller.scope, id, officer).await?;
    let names = users::display_names(&st.store).await?;
    Ok((
        Audited::changed("route", id, feature(&before, &names)),
        Json(feature(&after, &names)),
    ))
}

/// One route's adherence in the summary.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RouteAdherence {
    id: i64,
    date: String,
    officer: Option<String>,
    grid_code: Option<String>,
    zone_code: String,
    adherence: Option<Adherence>,
}

/// The adherence summary.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AdherenceSummary {
    officers: Vec<OfficerAdherence>,
    routes: Vec<RouteAdherence>,
}

/// How well officers followed their assigned routes: per route, the share
/// of stops reached and of the planned path walked on the route's date;
/// per officer, the means.
#[utoipa::path(get, path = "/api/v1/routes/adherence", operation_id = "getRouteAdherence", tag = "routes",
    params(RouteParams),
    responses((status = 200, description = "per officer and per route", body = AdherenceSummary),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn adherence(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RouteParams>,
) -> ApiResult<Json<AdherenceSummary>> {
    let (officers, routes) =
        svc::adherence_summary(&st.store, &caller.scope, route_query(&q)?).await?;
    Ok(Json(AdherenceSummary {
        officers,
        routes: routes
            .into_iter()
            .map(|r| RouteAdherence {
                id: r.id,
                date: r.route.date.to_string(),
                officer: r.route.officer,
                grid_code: r.route.grid_code,
                zone_code: r.route.zone_code,
                adherence: r.adherence,
            })
            .collect(),
    }))
}

/// The road network the planner routes on.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RoadsInfo {
    /// `false`: no network imported; routes are planned on straight lines.
    imported: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<ImportedRoads>,
    #[serde(skip_serializing_if = "Option::is_none")]
    imported_at: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/roads", operation_id = "getRoadNetwork", tag = "routes",
    responses((status = 200, description = "the imported road network, if any", body = RoadsInfo)))]
pub async fn roads(State(st): State<AppState>, _caller: Caller) -> ApiResult<Json<RoadsInfo>> {
    let info = crate::service::queries::road_network(&st.store).await?;
    Ok(Json(RoadsInfo {
        imported: info.is_some(),
        imported_at: info.as_ref().map(|i| crate::time::iso(i.imported_at)),
        network: info.map(|i| ImportedRoads {
            version: i.version,
            source: i.source,
            nodes: i.nodes,
            edges: i.edges,
            length_km: (i.length_m / 100.0).round() / 10.0,
            dropped_edges: 0,
        }),
    }))
}
