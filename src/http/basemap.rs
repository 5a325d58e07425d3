//! The map's own base layer and names: `GET /api/v1/basemap/roads`, the
//! road network as lines at street zoom (no tile source, no internet
//! needed), limited to a box of at most [`MAX_SPAN_DEG`] degrees so the
//! browser stays fast; `GET /api/v1/basemap/places`, the named places
//! (bus stops) in such a box for the map's labels; `GET
//! /api/v1/basemap/place`, what people call a point or an H3 cell
//! ("文翔路70号附近 · 岳阳街道 第1网格").

use axum::extract::State;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query};
use super::geojson_types::{Feature, FeatureCollection, Geometry};
use super::params::{Params, opt};
use crate::auth::Caller;
use crate::routing::EdgeKind;
use crate::service::basemap::{self, MAX_SPAN_DEG};
use crate::spatial::{Bbox, LonLat};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(base_roads))
        .routes(routes!(base_places))
        .routes(routes!(place_name))
}

crate::query_params! {
    /// The box of the map in view.
    pub struct BaseRoadParams {
        /// minLon,minLat,maxLon,maxLat (WGS-84), at most 0.12° each way.
        bbox: String,
    }
}

/// A road line of the base map.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BaseRoadProperties {
    /// Where the line comes from: `road` (OpenStreetMap), `bus_route` or
    /// `lattice` (the demo network's bus roads and invented local streets).
    kind: &'static str,
    /// How the map draws it: `main` (bus roads, OSM roads) or `minor`.
    class: &'static str,
}

fn class_of(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Road | EdgeKind::BusRoute => "main",
        EdgeKind::Lattice => "minor",
    }
}

/// The box of a street-zoom request.
fn street_bbox(q: &impl Params) -> ApiResult<Bbox> {
    let text = q
        .get("bbox")
        .ok_or_else(|| ApiError::invalid("bbox", "is required: minLon,minLat,maxLon,maxLat"))?;
    let bbox = text.parse::<Bbox>().map_err(|e| {
        ApiError::invalid(
            "bbox",
            format!("{e} (minLon,minLat,maxLon,maxLat in WGS-84 degrees)"),
        )
    })?;
    if !basemap::fits(&bbox) {
        return Err(ApiError::invalid(
            "bbox",
            format!("spans more than {MAX_SPAN_DEG}° (street zoom only: zoom in)"),
        ));
    }
    Ok(bbox)
}

/// The road lines in a box, for the base map at street zoom.
#[utoipa::path(get, path = "/api/v1/basemap/roads", operation_id = "listBaseMapRoads", tag = "routes",
    params(BaseRoadParams),
    responses((status = 200, description = "GeoJSON FeatureCollection of road lines touching the box (`numberMatched` counts them all; at most 20,000 returned); empty without a road network", body = FeatureCollection<BaseRoadProperties>),
              (status = 422, description = "missing, invalid or too large bbox", body = super::error::Problem)))]
pub async fn base_roads(
    State(st): State<AppState>,
    _caller: Caller,
    Query(q): Query<BaseRoadParams>,
) -> ApiResult<Json<FeatureCollection<BaseRoadProperties>>> {
    let bbox = street_bbox(&q)?;
    let (lines, total) = basemap::roads_in(&st.store, &st.roads, bbox).await?;
    let features = lines
        .into_iter()
        .map(|l| {
            Feature::new(
                i64::try_from(l.id).unwrap_or(i64::MAX),
                Some(Geometry::from(&geo::Geometry::LineString(l.line))),
                BaseRoadProperties {
                    kind: l.kind.as_str(),
                    class: class_of(l.kind),
                },
            )
        })
        .collect();
    Ok(Json(FeatureCollection::new(features, total as u64)))
}

/// A named place of the base map.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BasePlaceProperties {
    /// 人民北路荣乐路.
    name: String,
    /// `stop` (a bus stop, 公交站).
    kind: &'static str,
    /// The source's own code, empty where it has none.
    code: String,
}

/// The named places (bus stops) in a box, for the labels of the base map
/// at street zoom.
#[utoipa::path(get, path = "/api/v1/basemap/places", operation_id = "listBaseMapPlaces", tag = "routes",
    params(BaseRoadParams),
    responses((status = 200, description = "GeoJSON FeatureCollection of named places (points) in the box, by name; empty when none were imported", body = FeatureCollection<BasePlaceProperties>),
              (status = 422, description = "missing, invalid or too large bbox", body = super::error::Problem)))]
pub async fn base_places(
    State(st): State<AppState>,
    _caller: Caller,
    Query(q): Query<BaseRoadParams>,
) -> ApiResult<Json<FeatureCollection<BasePlaceProperties>>> {
    let bbox = street_bbox(&q)?;
    let places = st.store.places(Some(&bbox)).await?;
    let total = places.len() as u64;
    let features = places
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let at = p.place.position;
            Feature::new(
                i64::try_from(i).unwrap_or(i64::MAX),
                Some(Geometry::from(&geo::Geometry::Point(geo::Point::new(
                    at.lon(),
                    at.lat(),
                )))),
                BasePlaceProperties {
                    name: p.place.name,
                    kind: p.place.kind.as_str(),
                    code: p.code,
                },
            )
        })
        .collect();
    Ok(Json(FeatureCollection::new(features, total)))
}

crate::query_params! {
    /// A point (`lon`, `lat`) or an H3 cell (`cell`).
    pub struct PlaceParams {
        /// WGS-84 longitude, degrees.
        lon: f64,
        /// WGS-84 latitude, degrees.
        lat: f64,
        /// An H3 cell (hex); its centre is named.
        cell: String,
    }
}

/// What people call a point.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaceName {
    /// "文翔路70号附近 · 岳阳街道 第1网格".
    zh: String,
    /// "near 文翔路70号 · 岳阳街道 第1网格".
    en: String,
    /// The nearest named place within 3 km.
    place: Option<String>,
    /// Metres to it.
    distance_m: Option<f64>,
    /// The grid the point lies in, among the caller's grids.
    grid: Option<String>,
}

/// Names a point or a cell after the nearest named place and its grid.
#[utoipa::path(get, path = "/api/v1/basemap/place", operation_id = "namePlace", tag = "routes",
    params(PlaceParams),
    responses((status = 200, description = "the point's name for people", body = PlaceName),
              (status = 422, description = "neither a cell nor lon and lat, or invalid", body = super::error::Problem)))]
pub async fn place_name(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<PlaceParams>,
) -> ApiResult<Json<PlaceName>> {
    let at = if let Some(cell) = q.get("cell") {
        let cell = cell
            .trim()
            .parse::<h3o::CellIndex>()
            .map_err(|_| ApiError::invalid("cell", format!("{cell:?} is not an H3 cell")))?;
        let c = h3o::LatLng::from(cell);
        LonLat::new(c.lng(), c.lat()).map_err(|e| ApiError::invalid("cell", e.to_string()))?
    } else {
        let lon = opt::<f64>(&q, "lon", "a number")?
            .ok_or_else(|| ApiError::invalid("lon", "is required (or cell)"))?;
        let lat = opt::<f64>(&q, "lat", "a number")?
            .ok_or_else(|| ApiError::invalid("lat", "is required (or cell)"))?;
        LonLat::new(lon, lat).map_err(|e| ApiError::invalid("lon", e.to_string()))?
    };
    let l = basemap::name_point(&st.store, &caller.scope, at).await?;
    Ok(Json(PlaceName {
        zh: l.zh,
        en: l.en,
        place: l.place,
        distance_m: l.distance_m,
        grid: l.grid,
    }))
}
