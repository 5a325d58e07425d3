//! The read endpoints of the layers: `GET /api/v1/{towns,zones,grids,
//! districts,venues,projects}` and `GET /api/v1/{layer}/{id}`, as GeoJSON
//! `FeatureCollection`s with OGC API - Features counts. Every answer is
//! limited to the caller's scope in the query; an id outside it is a 404.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use geojson::{Feature, FeatureCollection};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Id;
use super::features::{collection, feature, with_geometry};
use super::params::{RawQuery, list_query};
use crate::auth::Caller;
use crate::domain::{
    Category, District, Funding, Grid, Project, ProjectStatus, Town, Venue, VenueKind, Zone,
};
use crate::store::scoped;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/towns", get(list_towns))
        .route("/api/v1/towns/{id}", get(get_town))
        .route("/api/v1/zones", get(list_zones))
        .route("/api/v1/zones/{id}", get(get_zone))
        .route("/api/v1/grids", get(list_grids))
        .route("/api/v1/grids/{id}", get(get_grid))
        .route("/api/v1/districts", get(list_districts))
        .route("/api/v1/districts/{id}", get(get_district))
        .route("/api/v1/venues", get(list_venues))
        .route("/api/v1/venues/{id}", get(get_venue))
        .route(
            "/api/v1/projects",
            get(list_projects).post(super::projects::create),
        )
        .route(
            "/api/v1/projects/{id}",
            get(get_project).patch(super::projects::patch),
        )
}

/// Checks the values of enum filters so a typo is an error, not an empty list.
fn check_enum<T: std::str::FromStr<Err = crate::domain::Invalid>>(
    q: &RawQuery,
    name: &str,
) -> Result<(), ApiError> {
    if let Some(v) = q.get(name) {
        v.parse::<T>()
            .map_err(|e| ApiError::invalid(name, e.reason))?;
    }
    Ok(())
}

macro_rules! area_layer {
    ($list:ident, $get:ident, $ty:ty, $what:literal, [$($filter:literal),*]) => {
        #[utoipa::path(get, path = concat!("/api/v1/", $what, "s"), tag = "layers",
            params(("bbox" = Option<String>, Query, description = "minLon,minLat,maxLon,maxLat"),
                   ("town" = Option<String>, Query, description = "town code(s), comma separated"),
                   ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
            responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json")))]
        pub async fn $list(State(st): State<AppState>, caller: Caller, Query(q): Query<RawQuery>) -> ApiResult<Json<FeatureCollection>> {
            let query = list_query(&q, &[$($filter),*])?;
            let page = scoped::list::<$ty>(&st.store, query, &caller.scope).await?;
            Ok(Json(collection(&with_geometry(page.items), page.total)))
        }

        #[utoipa::path(get, path = concat!("/api/v1/", $what, "s/{id}"), tag = "layers",
            params(("id" = i64, Path)),
            responses((status = 200, description = "GeoJSON Feature"), (status = 404, description = "unknown id", body = super::error::Problem)))]
        pub async fn $get(State(st): State<AppState>, caller: Caller, Id(id): Id) -> ApiResult<Json<Feature>> {
            let item = scoped::get::<$ty>(&st.store, id, &caller.scope).await?.ok_or_else(|| ApiError::not_found(format!(concat!($what, " {}"), id)))?;
            let items = with_geometry(vec![item]);
            Ok(Json(feature(&items[0])))
        }
    };
}

area_layer!(list_towns, get_town, Town, "town", []);
area_layer!(list_zones, get_zone, Zone, "zone", []);
area_layer!(list_grids, get_grid, Grid, "grid", ["zone_code"]);
area_layer!(list_districts, get_district, District, "district", []);

#[utoipa::path(get, path = "/api/v1/venues", tag = "layers",
    params(("bbox" = Option<String>, Query), ("town" = Option<String>, Query), ("kind" = Option<String>, Query),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json")))]
pub async fn list_venues(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
) -> ApiResult<Json<FeatureCollection>> {
    check_enum::<VenueKind>(&q, "kind")?;
    let query = list_query(&q, &["kind"])?;
    let page = scoped::list::<Venue>(&st.store, query, &caller.scope).await?;
    Ok(Json(collection(&page.items, page.total)))
}

#[utoipa::path(get, path = "/api/v1/venues/{id}", tag = "layers", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature"), (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn get_venue(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Feature>> {
    let item = scoped::get::<Venue>(&st.store, id, &caller.scope)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("venue {id}")))?;
    Ok(Json(feature(&item)))
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    params(("bbox" = Option<String>, Query), ("town" = Option<String>, Query),
           ("status" = Option<String>, Query), ("funding" = Option<String>, Query), ("category" = Option<String>, Query),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json")))]
pub async fn list_projects(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
) -> ApiResult<Json<FeatureCollection>> {
    check_enum::<ProjectStatus>(&q, "status")?;
    check_enum::<Funding>(&q, "funding")?;
    check_enum::<Category>(&q, "category")?;
    let query = list_query(&q, &["status", "funding", "category"])?;
    let page = scoped::list::<Project>(&st.store, query, &caller.scope).await?;
    Ok(Json(collection(&page.items, page.total)))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature"), (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn get_project(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Feature>> {
    let item = scoped::get::<Project>(&st.store, id, &caller.scope)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project {id}")))?;
    Ok(Json(feature(&item)))
}
