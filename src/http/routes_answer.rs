//! The answers of the routes API, typed: a route's properties with its
//! stops ([`RouteProperties`]), the route as a GeoJSON feature, and the
//! planning answer (the properties with the line as `geometry`).

use serde::Serialize;
use serde_json::Value;

use super::geojson_types::{Feature, Geometry};
use crate::service::routes::stop_place;
use crate::service::users::Names;
use crate::store::routes::{Adherence, RouteRecord};

/// The targets left out, each with what people call it.
fn left_out(details: &Value) -> Value {
    let mut list = details.get("left_out").cloned().unwrap_or(Value::Null);
    if let Some(items) = list.as_array_mut() {
        for item in items {
            let id = item
                .get("target_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let (Some(id), Some(obj)) = (id, item.as_object_mut())
                && details.get("places").and_then(|p| p.get(&id)).is_some()
            {
                obj.insert("place".to_owned(), Value::String(stop_place(details, &id)));
            }
        }
    }
    list
}

/// One stop of a route.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteStop {
    order: u32,
    /// `grid_cell` or `project`.
    kind: String,
    target_id: String,
    lon: f64,
    lat: f64,
    eta: String,
    arrival_s: f64,
    departure_s: f64,
    priority: f64,
    /// What people call the stop: a work's name, or the nearest named place
    /// and the grid of a cell ("文翔路70号附近 · 岳阳街道 第1网格").
    place: String,
    /// The same in English (names stay as they are).
    place_en: String,
    /// Why the stop is on the route, each reason in English and Chinese
    /// (`text`, `text_zh`); routes planned before Chinese reasons hold strings.
    #[schema(value_type = Vec<crate::blindspots::Reason>)]
    reasons: Value,
}

/// Links to the route.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteLinks {
    #[serde(rename = "self")]
    this: String,
    gpx: String,
}

/// What a sweep adds to a route.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SweepDetails {
    /// The cells swept (H3 hex).
    #[schema(value_type = Vec<String>)]
    swept_cells: Value,
    /// The length of the streets to sweep, in metres.
    #[schema(value_type = f64)]
    required_m: Value,
    #[schema(value_type = u64)]
    required_edges: Value,
    /// The walk's length over the streets' length.
    #[schema(value_type = f64)]
    walked_over_required: Value,
    /// Whether the sweep fits the shift.
    #[schema(value_type = Option<bool>)]
    fits_shift: Value,
}

/// A target the route could not take in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeftOut {
    target_id: String,
    /// `grid_cell`, `project` or `road`.
    kind: String,
    reason: String,
    /// The reason in Chinese.
    reason_zh: Option<String>,
    /// What people call the target (see [`RouteStop`]).
    place: Option<String>,
}

/// A route's fields, without its line.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteProperties {
    id: i64,
    /// `patrol` or `sweep`.
    kind: String,
    grid_id: Option<i64>,
    grid_code: Option<String>,
    zone_id: Option<i64>,
    zone_code: String,
    town: String,
    date: String,
    starts_at: String,
    officer: Option<String>,
    /// The officer's name for people, when the user has one.
    officer_name: Option<String>,
    /// `walk` or `ebike`.
    mode: String,
    shift_minutes: f64,
    service_minutes: f64,
    distance_m: f64,
    duration_s: f64,
    stops: Vec<RouteStop>,
    /// The cells the route newly covers (H3 hex).
    #[schema(value_type = Vec<String>)]
    new_cells: Value,
    new_cell_count: i64,
    /// How many cells of the area were overdue.
    #[schema(value_type = u64)]
    overdue_cells: Value,
    /// The targets left out, each with the reason.
    #[schema(value_type = Vec<LeftOut>)]
    left_out: Value,
    /// Planned on the imported road network (otherwise straight lines).
    road_network: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    sweep: Option<SweepDetails>,
    /// How the assigned officer followed it, once measured.
    adherence: Option<Adherence>,
    created_by: String,
    created_at: String,
    links: RouteLinks,
}

/// The planning answer: the route's fields with its line as `geometry`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlannedRoute {
    #[serde(flatten)]
    properties: RouteProperties,
    geometry: Geometry,
}

/// The route's fields.
#[must_use]
pub fn properties(r: &RouteRecord, names: &Names) -> RouteProperties {
    let route = &r.route;
    let reasons = route.details.get("stop_reasons");
    let detail = |k: &str| route.details.get(k).cloned().unwrap_or(Value::Null);
    let place_en = |id: &str| {
        let entry = route.details.get("places").and_then(|p| p.get(id));
        let text = |k: &str| entry.and_then(|e| e.get(k)).and_then(Value::as_str);
        text("name").or_else(|| text("en")).unwrap_or(id).to_owned()
    };
    let stops = route
        .stops
        .iter()
        .map(|s| RouteStop {
            place: stop_place(&route.details, &s.target_id),
            place_en: place_en(&s.target_id),
            order: s.order,
            kind: s.kind.clone(),
            target_id: s.target_id.clone(),
            lon: s.position.lon(),
            lat: s.position.lat(),
            eta: crate::time::iso(s.eta),
            arrival_s: s.arrival_s.round(),
            departure_s: s.departure_s.round(),
            priority: (s.priority * 100.0).round() / 100.0,
            reasons: reasons
                .and_then(|m| m.get(&s.target_id))
                .cloned()
                .unwrap_or_else(|| Value::Array(Vec::new())),
        })
        .collect();
    RouteProperties {
        id: r.id,
        kind: route.kind.clone(),
        grid_id: route.grid_id,
        grid_code: route.grid_code.clone(),
        zone_id: route.zone_id,
        zone_code: route.zone_code.clone(),
        town: route.town_code.clone(),
        date: route.date.to_string(),
        starts_at: crate::time::iso(route.starts_at),
        officer: route.officer.clone(),
        officer_name: route.officer.as_ref().and_then(|o| names.get(o)).cloned(),
        mode: route.mode.clone(),
        shift_minutes: route.shift_minutes,
        service_minutes: route.service_minutes,
        distance_m: route.distance_m,
        duration_s: route.duration_s,
        stops,
        new_cells: detail("new_cells"),
        new_cell_count: route.new_cells,
        overdue_cells: detail("overdue_cells"),
        left_out: left_out(&route.details),
        road_network: route.road_network,
        sweep: (route.kind == "sweep").then(|| SweepDetails {
            swept_cells: detail("swept_cells"),
            required_m: detail("required_m"),
            required_edges: detail("required_edges"),
            walked_over_required: detail("walked_over_required"),
            fits_shift: detail("fits_shift"),
        }),
        adherence: r.adherence.clone(),
        created_by: route.created_by.clone(),
        created_at: crate::time::iso(r.created_at),
        links: RouteLinks {
            this: format!("/api/v1/routes/{}", r.id),
            gpx: format!("/api/v1/routes/{}.gpx", r.id),
        },
    }
}

fn line_geometry(r: &RouteRecord) -> Geometry {
    Geometry::from(&geo::Geometry::LineString(r.route.geometry.clone()))
}

/// The planning answer.
#[must_use]
pub fn answer(r: &RouteRecord, names: &Names) -> PlannedRoute {
    PlannedRoute {
        properties: properties(r, names),
        geometry: line_geometry(r),
    }
}

/// The route as a GeoJSON feature.
#[must_use]
pub fn feature(r: &RouteRecord, names: &Names) -> Feature<RouteProperties> {
    Feature::new(r.id, Some(line_geometry(r)), properties(r, names))
}
