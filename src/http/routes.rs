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

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, NaiveTime, Utc};
use geojson::{Feature, FeatureCollection, feature::Id};
use h3o::CellIndex;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::AppState;
use super::audit::Audited;
use super::error::{ApiError, ApiResult};
use super::extract::json_body;
use super::params::{RawQuery, list_query, opt};
use crate::auth::{Action, Caller};
use crate::service::routes::{
    self as svc, Area, DEFAULT_START_TIME, ImportedRoads, OfficerAdherence, PlanInput, SweepInput,
};
use crate::spatial::{Crs, LonLat, geometry_to_geojson};
use crate::store::routes::{Adherence, RouteQuery, RouteRecord};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/routes", get(list).post(create))
        .route("/api/v1/routes/sweep", post(create_sweep))
        .route("/api/v1/routes/adherence", get(adherence))
        .route("/api/v1/routes/{id}", get(one).patch(patch))
        .route("/api/v1/roads", get(roads))
}

/// A route to plan (the request body).
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "documents the request body for OpenAPI")]
pub struct RouteRequest {
    /// The grid to patrol (or give `zone_id`).
    grid_id: Option<i64>,
    /// A whole zone (or give `grid_id`).
    zone_id: Option<i64>,
    /// Where the shift starts, `[lon, lat]` (WGS-84 unless `crs` says otherwise).
    start: [f64; 2],
    /// Where it ends; at the last stop when absent.
    end: Option<[f64; 2]>,
    /// The shift's length in minutes: travel plus time at the stops.
    shift_minutes: f64,
    /// `walk` (default) or `ebike`.
    mode: Option<String>,
    /// Minutes spent at each work (default 20).
    service_minutes: Option<f64>,
    /// The shift's date, `YYYY-MM-DD` (default tomorrow, China Standard Time).
    date: Option<String>,
    /// When the shift starts, `HH:MM` China Standard Time (default 09:00).
    start_time: Option<String>,
    /// The officer it is assigned to.
    officer: Option<String>,
    /// `patrol` (default) or `sweep` (扫街: every street of the cells, back to the start).
    mode_kind: Option<String>,
    /// Sweep only: the cells to sweep (default every cell of the area).
    cells: Option<Vec<String>>,
    /// `wgs84` (default), `gcj02` or `bd09`: the CRS of `start` and `end`.
    crs: Option<String>,
}

/// The default minutes at a work.
const DEFAULT_SERVICE_MINUTES: f64 = 20.0;

const FIELDS: [&str; 13] = [
    "grid_id",
    "zone_id",
    "start",
    "end",
    "shift_minutes",
    "mode",
    "service_minutes",
    "date",
    "start_time",
    "officer",
    "mode_kind",
    "cells",
    "crs",
];

/// The fields of a JSON object body, each read with a problem naming it.
struct Body(Map<String, Value>);

impl Body {
    fn read(bytes: &[u8]) -> Result<Self, ApiError> {
        let v: Value = json_body(bytes)?;
        let Value::Object(m) = v else {
            return Err(ApiError::bad_request("body", "must be a JSON object"));
        };
        if let Some(k) = m.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(ApiError::invalid(
                k.clone(),
                format!("is not a field of a route request ({})", FIELDS.join(", ")),
            ));
        }
        Ok(Self(m))
    }

    fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    fn id(&self, k: &str) -> Result<Option<i64>, ApiError> {
        self.get(k)
            .map(|v| {
                v.as_i64()
                    .ok_or_else(|| ApiError::invalid(k, "must be a whole number (an id)"))
            })
            .transpose()
    }

    fn number(&self, k: &str) -> Result<Option<f64>, ApiError> {
        self.get(k)
            .map(|v| {
                v.as_f64()
                    .ok_or_else(|| ApiError::invalid(k, "must be a number of minutes"))
            })
            .transpose()
    }

    fn text(&self, k: &str) -> Result<Option<&str>, ApiError> {
        self.get(k)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| ApiError::invalid(k, "must be a string"))
            })
            .transpose()
    }

    fn point(&self, k: &str, crs: Crs) -> Result<Option<LonLat>, ApiError> {
        let Some(v) = self.get(k) else {
            return Ok(None);
        };
        let bad = || ApiError::invalid(k, "must be [lon, lat] in degrees");
        let a = v.as_array().filter(|a| a.len() == 2).ok_or_else(bad)?;
        let (Some(lon), Some(lat)) = (a[0].as_f64(), a[1].as_f64()) else {
            return Err(bad());
        };
        LonLat::from_crs(crs, lon, lat)
            .map(Some)
            .map_err(|e| ApiError::invalid(k, e.to_string()))
    }

    fn area(&self) -> Result<Area, ApiError> {
        match (self.id("grid_id")?, self.id("zone_id")?) {
            (Some(g), None) => Ok(Area::Grid(g)),
            (None, Some(z)) => Ok(Area::Zone(z)),
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "zone_id",
                "give grid_id or zone_id, not both",
            )),
            (None, None) => Err(ApiError::invalid(
                "grid_id",
                "is required (or zone_id for a whole zone)",
            )),
        }
    }

    fn crs(&self) -> Result<Crs, ApiError> {
        self.text("crs")?.map_or(Ok(Crs::Wgs84), |s| {
            s.parse().map_err(|e: crate::spatial::crs::UnknownCrs| {
                ApiError::invalid("crs", e.to_string())
            })
        })
    }

    fn date(&self) -> Result<NaiveDate, ApiError> {
        match self.text("date")? {
            None => Ok(crate::blindspots::local_day(Utc::now()) + chrono::Days::new(1)),
            Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| ApiError::invalid("date", format!("{s:?} is not a date YYYY-MM-DD"))),
        }
    }

    fn start_time(&self) -> Result<NaiveTime, ApiError> {
        let s = self.text("start_time")?.unwrap_or(DEFAULT_START_TIME);
        NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .map_err(|_| ApiError::invalid("start_time", format!("{s:?} is not a time HH:MM")))
    }

    fn officer(&self) -> Result<Option<String>, ApiError> {
        Ok(self.text("officer")?.map(str::to_owned))
    }

    fn mode(&self) -> Result<crate::routing::TravelMode, ApiError> {
        Ok(svc::parse_mode(self.text("mode")?.unwrap_or("walk"))?)
    }

    fn start(&self, crs: Crs) -> Result<LonLat, ApiError> {
        self.point("start", crs)?
            .ok_or_else(|| ApiError::invalid("start", "is required: [lon, lat]"))
    }

    fn plan_input(&self) -> Result<PlanInput, ApiError> {
        let crs = self.crs()?;
        if self.get("cells").is_some() {
            return Err(ApiError::invalid(
                "cells",
                "is for sweeps (\"mode_kind\": \"sweep\")",
            ));
        }
        Ok(PlanInput {
            area: self.area()?,
            start: self.start(crs)?,
            end: self.point("end", crs)?,
            shift_minutes: self
                .number("shift_minutes")?
                .ok_or_else(|| ApiError::invalid("shift_minutes", "is required"))?,
            mode: self.mode()?,
            service_minutes: self
                .number("service_minutes")?
                .unwrap_or(DEFAULT_SERVICE_MINUTES),
            date: self.date()?,
            start_time: self.start_time()?,
            officer: self.officer()?,
        })
    }

    fn sweep_input(&self) -> Result<SweepInput, ApiError> {
        let crs = self.crs()?;
        if self.get("end").is_some() {
            return Err(ApiError::invalid(
                "end",
                "a sweep returns to its start; leave end out",
            ));
        }
        let cells = match self.get("cells") {
            None => None,
            Some(v) => {
                let bad = || ApiError::invalid("cells", "must be a list of H3 cells (hex)");
                let list = v.as_array().ok_or_else(bad)?;
                Some(
                    list.iter()
                        .map(|c| c.as_str().and_then(|s| s.parse::<CellIndex>().ok()))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(bad)?,
                )
            }
        };
        Ok(SweepInput {
            area: self.area()?,
            cells,
            start: self.start(crs)?,
            shift_minutes: self.number("shift_minutes")?,
            mode: self.mode()?,
            date: self.date()?,
            start_time: self.start_time()?,
            officer: self.officer()?,
        })
    }
}

/// The route's fields, without its line.
fn properties(r: &RouteRecord) -> Map<String, Value> {
    let route = &r.route;
    let reasons = route.details.get("stop_reasons");
    let stops: Vec<Value> = route
        .stops
        .iter()
        .map(|s| {
            json!({
                "order": s.order,
                "kind": s.kind,
                "target_id": s.target_id,
                "lon": s.position.lon(),
                "lat": s.position.lat(),
                "eta": crate::time::iso(s.eta),
                "arrival_s": s.arrival_s.round(),
                "departure_s": s.departure_s.round(),
                "priority": (s.priority * 100.0).round() / 100.0,
                "reasons": reasons.and_then(|m| m.get(&s.target_id)).cloned().unwrap_or(json!([])),
            })
        })
        .collect();
    let detail = |k: &str| route.details.get(k).cloned().unwrap_or(Value::Null);
    let mut p = Map::new();
    p.insert("id".into(), json!(r.id));
    p.insert("kind".into(), json!(route.kind));
    p.insert("grid_id".into(), json!(route.grid_id));
    p.insert("grid_code".into(), json!(route.grid_code));
    p.insert("zone_id".into(), json!(route.zone_id));
    p.insert("zone_code".into(), json!(route.zone_code));
    p.insert("town".into(), json!(route.town_code));
    p.insert("date".into(), json!(route.date.to_string()));
    p.insert("starts_at".into(), json!(crate::time::iso(route.starts_at)));
    p.insert("officer".into(), json!(route.officer));
    p.insert("mode".into(), json!(route.mode));
    p.insert("shift_minutes".into(), json!(route.shift_minutes));
    p.insert("service_minutes".into(), json!(route.service_minutes));
    p.insert("distance_m".into(), json!(route.distance_m));
    p.insert("duration_s".into(), json!(route.duration_s));
    p.insert("stops".into(), Value::Array(stops));
    p.insert("new_cells".into(), detail("new_cells"));
    p.insert("new_cell_count".into(), json!(route.new_cells));
    p.insert("overdue_cells".into(), detail("overdue_cells"));
    p.insert("left_out".into(), detail("left_out"));
    p.insert("road_network".into(), json!(route.road_network));
    if route.kind == "sweep" {
        for k in [
            "swept_cells",
            "required_m",
            "required_edges",
            "walked_over_required",
            "fits_shift",
        ] {
            p.insert(k.into(), detail(k));
        }
    }
    p.insert("adherence".into(), json!(r.adherence));
    p.insert("created_by".into(), json!(route.created_by));
    p.insert("created_at".into(), json!(crate::time::iso(r.created_at)));
    p.insert(
        "links".into(),
        json!({"self": format!("/api/v1/routes/{}", r.id), "gpx": format!("/api/v1/routes/{}.gpx", r.id)}),
    );
    p
}

fn line_geometry(r: &RouteRecord) -> Option<geojson::Geometry> {
    geometry_to_geojson(&geo::Geometry::LineString(r.route.geometry.clone()))
        .parse::<geojson::Geometry>()
        .ok()
}

/// The planning answer: the route's fields with its line as `geometry`.
fn answer(r: &RouteRecord) -> Value {
    let mut p = properties(r);
    p.insert("geometry".into(), json!(line_geometry(r)));
    Value::Object(p)
}

fn feature(r: &RouteRecord) -> Feature {
    Feature {
        bbox: None,
        geometry: line_geometry(r),
        id: Some(Id::Number(r.id.into())),
        properties: Some(properties(r)),
        foreign_members: None,
    }
}

fn created(r: &RouteRecord) -> (StatusCode, HeaderMap, Audited, Json<Value>) {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/routes/{}", r.id)) {
        h.insert(header::LOCATION, v);
    }
    (
        StatusCode::CREATED,
        h,
        Audited::created("route", r.id),
        Json(answer(r)),
    )
}

/// Plan a patrol route (or, with `"mode_kind": "sweep"`, a street sweep).
#[utoipa::path(post, path = "/api/v1/routes", tag = "routes",
    request_body(content = RouteRequest, description = "the area, start, shift, mode, minutes at each work and date; targets are the area's overdue cells and the works due an inspection"),
    responses((status = 201, description = "the saved route: {id, stops: [{order, kind, target_id, lon, lat, eta}], geometry, distance_m, duration_s, new_cells, left_out: [{target_id, reason}], road_network}"),
              (status = 400, description = "malformed JSON", body = super::error::Problem),
              (status = 403, description = "the role may not plan routes", body = super::error::Problem),
              (status = 409, description = "a sweep without an imported road network", body = super::error::Problem),
              (status = 422, description = "invalid field (unknown grid, start outside the district, shift ≤ 0, unknown mode, …); nothing stored", body = super::error::Problem)))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, HeaderMap, Audited, Json<Value>)> {
    caller.require(Action::WriteRoute)?;
    let b = Body::read(&body)?;
    let r = match b.text("mode_kind")?.unwrap_or("patrol").trim() {
        "patrol" => {
            let input = b.plan_input()?;
            svc::plan(&st.store, &st.roads, &caller.scope, &caller.user, input).await?
        }
        "sweep" => {
            let input = b.sweep_input()?;
            svc::sweep(&st.store, &st.roads, &caller.scope, &caller.user, input).await?
        }
        other => {
            return Err(ApiError::invalid(
                "mode_kind",
                format!("{other:?} is not patrol or sweep"),
            ));
        }
    };
    Ok(created(&r))
}

/// Plan a street sweep (扫街): every street of the area's cells (or of the
/// `cells` given), in a closed walk from the start.
#[utoipa::path(post, path = "/api/v1/routes/sweep", tag = "routes",
    request_body(content = RouteRequest, description = "the area, start, optional cells and shift (to say whether the sweep fits), mode and date"),
    responses((status = 201, description = "the saved sweep with required_m, walked_over_required and fits_shift"),
              (status = 403, description = "the role may not plan routes", body = super::error::Problem),
              (status = 409, description = "no road network imported", body = super::error::Problem),
              (status = 422, description = "invalid field; nothing stored", body = super::error::Problem)))]
pub async fn create_sweep(
    State(st): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, HeaderMap, Audited, Json<Value>)> {
    caller.require(Action::WriteRoute)?;
    let b = Body::read(&body)?;
    if let Some(k) = b.text("mode_kind")?
        && k.trim() != "sweep"
    {
        return Err(ApiError::invalid(
            "mode_kind",
            "must be sweep here, or left out",
        ));
    }
    let input = b.sweep_input()?;
    let r = svc::sweep(&st.store, &st.roads, &caller.scope, &caller.user, input).await?;
    Ok(created(&r))
}

fn date_param(q: &RawQuery, k: &str) -> Result<Option<NaiveDate>, ApiError> {
    match q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::invalid(k, format!("{s:?} is not a date YYYY-MM-DD"))),
    }
}

fn route_query(q: &RawQuery) -> Result<RouteQuery, ApiError> {
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
#[utoipa::path(get, path = "/api/v1/routes", tag = "routes",
    params(("date" = Option<String>, Query, description = "YYYY-MM-DD"), ("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("officer" = Option<String>, Query), ("grid_id" = Option<i64>, Query), ("zone_id" = Option<i64>, Query),
           ("town" = Option<String>, Query), ("kind" = Option<String>, Query, description = "patrol or sweep"),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "GeoJSON FeatureCollection of route lines", content_type = "application/geo+json"),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
) -> ApiResult<Json<FeatureCollection>> {
    let page = svc::list(&st.store, &caller.scope, route_query(&q)?).await?;
    let mut members = Map::new();
    members.insert("numberMatched".into(), json!(page.total));
    members.insert("numberReturned".into(), json!(page.items.len()));
    Ok(Json(FeatureCollection {
        bbox: None,
        features: page.items.iter().map(feature).collect(),
        foreign_members: Some(members),
    }))
}

/// One route as a GeoJSON Feature with its stops and adherence (`{id}` or
/// `{id}.geojson`), or as GPX (`{id}.gpx`, see [`one_gpx`]): the router
/// cannot split a path segment, so this handler serves all three.
#[utoipa::path(get, path = "/api/v1/routes/{id}", tag = "routes",
    params(("id" = String, Path, description = "the route id (id.geojson also works)")),
    responses((status = 200, description = "GeoJSON Feature: the route line with its fields, stops and adherence", content_type = "application/geo+json"),
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
    let mut res = Json(feature(&r)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    Ok(res)
}

/// One route as GPX 1.1: the stops as waypoints with their ETA, the route
/// as `rte` (start, stops, end) and the path along the roads as `trk`.
#[utoipa::path(get, path = "/api/v1/routes/{id}.gpx", tag = "routes",
    params(("id" = i64, Path)),
    responses((status = 200, description = "GPX 1.1", content_type = "application/gpx+xml"),
              (status = 404, description = "unknown id, or outside the caller's scope", body = super::error::Problem)))]
pub async fn one_gpx(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    gpx_answer(&st, &caller, id).await
}

async fn gpx_answer(st: &AppState, caller: &Caller, id: i64) -> ApiResult<Response> {
    let r = svc::get(&st.store, &caller.scope, id).await?;
    let mut res = svc::to_gpx(&r).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gpx+xml"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"route-{id}.gpx\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// The change of a route (the request body).
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "documents the request body for OpenAPI")]
pub struct RoutePatch {
    /// The officer to assign the route to; `null` unassigns it.
    officer: Option<String>,
}

/// Assign a route to an officer (or unassign it with `null`).
#[utoipa::path(patch, path = "/api/v1/routes/{id}", tag = "routes",
    params(("id" = i64, Path)),
    request_body(content = RoutePatch),
    responses((status = 200, description = "the route as a GeoJSON Feature"),
              (status = 403, description = "the role may not assign routes", body = super::error::Problem),
              (status = 404, description = "unknown id, or outside the caller's scope", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn patch(
    State(st): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<(Audited, Json<Feature>)> {
    caller.require(Action::WriteRoute)?;
    let id: i64 = raw
        .parse()
        .map_err(|_| ApiError::not_found(format!("route {raw}")))?;
    let v: Value = json_body(&body)?;
    let Value::Object(m) = v else {
        return Err(ApiError::bad_request("body", "must be a JSON object"));
    };
    if let Some(k) = m.keys().find(|k| k.as_str() != "officer") {
        return Err(ApiError::invalid(k.clone(), "only officer can be changed"));
    }
    let officer = match m.get("officer") {
        None => return Err(ApiError::invalid("officer", "is required (null unassigns)")),
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("officer", "must be a string or null")),
    };
    let (before, after) = svc::assign(&st.store, &caller.scope, id, officer).await?;
    Ok((
        Audited::changed("route", id, feature(&before)),
        Json(feature(&after)),
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
#[utoipa::path(get, path = "/api/v1/routes/adherence", tag = "routes",
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD"), ("to" = Option<String>, Query),
           ("date" = Option<String>, Query), ("officer" = Option<String>, Query),
           ("grid_id" = Option<i64>, Query), ("zone_id" = Option<i64>, Query), ("town" = Option<String>, Query)),
    responses((status = 200, description = "per officer and per route", body = AdherenceSummary),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn adherence(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
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

#[utoipa::path(get, path = "/api/v1/roads", tag = "routes",
    responses((status = 200, description = "the imported road network, if any", body = RoadsInfo)))]
pub async fn roads(State(st): State<AppState>, _caller: Caller) -> ApiResult<Json<RoadsInfo>> {
    let info = st.store.road_network().await?;
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
