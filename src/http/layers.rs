//! The read endpoints of the layers: `GET /api/v1/{towns,zones,grids,
//! districts,venues,projects}` and `GET /api/v1/{layer}/{id}`, as GeoJSON
//! `FeatureCollection`s with OGC API - Features counts. Every answer is
//! limited to the caller's scope in the query; an id outside it is a 404.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Id;
use super::extract::Json;
use super::extract::Query;
use super::features::{
    DistrictProperties, GridProperties, ProjectProperties, TownProperties, VenueProperties,
    ZoneProperties, collection, feature,
};
use super::geojson_types::{Feature, FeatureCollection};
use super::params::Params;
use super::params::list_query;
use crate::auth::Caller;
use crate::domain::{
    Category, District, Funding, Grid, Project, ProjectStatus, Town, Venue, VenueKind, Zone,
};
use crate::service::queries;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_towns))
        .routes(routes!(get_town))
        .routes(routes!(list_zones))
        .routes(routes!(get_zone))
        .routes(routes!(list_grids))
        .routes(routes!(get_grid))
        .routes(routes!(list_districts))
        .routes(routes!(get_district))
        .routes(routes!(list_venues))
        .routes(routes!(get_venue))
        .routes(routes!(list_projects, super::projects::create))
        .routes(routes!(get_project, super::projects::patch))
}

crate::query_params! {
    /// The area and page of a layer.
    pub struct LayerParams {
        /// minLon,minLat,maxLon,maxLat (WGS-84).
        bbox: String,
        /// Town code(s), comma separated.
        town: String,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

crate::query_params! {
    /// The area, zone and page of the grids.
    pub struct GridParams {
        /// minLon,minLat,maxLon,maxLat (WGS-84).
        bbox: String,
        /// Town code(s), comma separated.
        town: String,
        /// One zone's code.
        zone_code: String,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

crate::query_params! {
    /// The area, kind and page of the venues.
    pub struct VenueParams {
        /// minLon,minLat,maxLon,maxLat (WGS-84).
        bbox: String,
        /// Town code(s), comma separated.
        town: String,
        kind: VenueKind,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

crate::query_params! {
    /// The area, filters and page of the works.
    pub struct ProjectParams {
        /// minLon,minLat,maxLon,maxLat (WGS-84).
        bbox: String,
        /// Town code(s), comma separated.
        town: String,
        status: ProjectStatus,
        funding: Funding,
        category: Category,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

/// Checks the values of enum filters so a typo is an error, not an empty list.
fn check_enum<T: std::str::FromStr<Err = crate::domain::Invalid>>(
    q: &impl Params,
    name: &str,
) -> Result<(), ApiError> {
    if let Some(v) = q.get(name) {
        v.parse::<T>()
            .map_err(|e| ApiError::invalid(name, e.reason))?;
    }
    Ok(())
}

macro_rules! area_layer {
    ($list:ident, $list_id:literal, $get:ident, $get_id:literal, $ty:ty, $props:ident, $params:ident, $what:literal, [$($filter:literal),*]) => {
        #[utoipa::path(get, path = concat!("/api/v1/", $what, "s"), tag = "layers", operation_id = $list_id,
            params($params),
            responses((status = 200, description = "GeoJSON FeatureCollection", body = FeatureCollection<$props>),
                      (status = 422, description = "invalid parameter", body = super::error::Problem)))]
        pub async fn $list(State(st): State<AppState>, caller: Caller, Query(q): Query<$params>) -> ApiResult<Json<FeatureCollection<$props>>> {
            let query = list_query(&q, &[$($filter),*])?;
            let page = queries::layer_page::<$ty>(&st.store, &caller.scope, query).await?;
            Ok(Json(collection(&page.items, page.total)))
        }

        #[utoipa::path(get, path = concat!("/api/v1/", $what, "s/{id}"), tag = "layers", operation_id = $get_id,
            params(("id" = i64, Path)),
            responses((status = 200, description = "GeoJSON Feature", body = Feature<$props>),
                      (status = 404, description = "unknown id", body = super::error::Problem)))]
        pub async fn $get(State(st): State<AppState>, caller: Caller, Id(id): Id) -> ApiResult<Json<Feature<$props>>> {
            let item = queries::layer_item::<$ty>(&st.store, &caller.scope, id).await?.ok_or_else(|| ApiError::not_found(format!(concat!($what, " {}"), id)))?;
            Ok(Json(feature(&item)))
        }
    };
}

area_layer!(
    list_towns,
    "listTowns",
    get_town,
    "getTown",
    Town,
    TownProperties,
    LayerParams,
    "town",
    []
);
area_layer!(
    list_zones,
    "listZones",
    get_zone,
    "getZone",
    Zone,
    ZoneProperties,
    LayerParams,
    "zone",
    []
);
area_layer!(
    list_grids,
    "listGrids",
    get_grid,
    "getGrid",
    Grid,
    GridProperties,
    GridParams,
    "grid",
    ["zone_code"]
);
area_layer!(
    list_districts,
    "listDistricts",
    get_district,
    "getDistrict",
    District,
    DistrictProperties,
    LayerParams,
    "district",
    []
);

#[utoipa::path(get, path = "/api/v1/venues", operation_id = "listVenues", tag = "layers",
    params(VenueParams),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = FeatureCollection<VenueProperties>),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn list_venues(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<VenueParams>,
) -> ApiResult<Json<FeatureCollection<VenueProperties>>> {
    check_enum::<VenueKind>(&q, "kind")?;
    let query = list_query(&q, &["kind"])?;
    let page = queries::layer_page::<Venue>(&st.store, &caller.scope, query).await?;
    Ok(Json(collection(&page.items, page.total)))
}

#[utoipa::path(get, path = "/api/v1/venues/{id}", operation_id = "getVenue", tag = "layers", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature", body = Feature<VenueProperties>), (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn get_venue(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Feature<VenueProperties>>> {
    let item = queries::layer_item::<Venue>(&st.store, &caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("venue {id}")))?;
    Ok(Json(feature(&item)))
}

#[utoipa::path(get, path = "/api/v1/projects", operation_id = "listProjects", tag = "projects",
    params(ProjectParams),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = FeatureCollection<ProjectProperties>),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn list_projects(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<ProjectParams>,
) -> ApiResult<Json<FeatureCollection<ProjectProperties>>> {
    check_enum::<ProjectStatus>(&q, "status")?;
    check_enum::<Funding>(&q, "funding")?;
    check_enum::<Category>(&q, "category")?;
    let query = list_query(&q, &["status", "funding", "category"])?;
    let page = queries::layer_page::<Project>(&st.store, &caller.scope, query).await?;
    Ok(Json(collection(&page.items, page.total)))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}", operation_id = "getProject", tag = "projects", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature", body = Feature<ProjectProperties>), (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn get_project(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Feature<ProjectProperties>>> {
    let item = queries::layer_item::<Project>(&st.store, &caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project {id}")))?;
    Ok(Json(feature(&item)))
}
