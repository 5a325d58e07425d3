//! The OpenAPI document, `GET /api/v1/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "gridpatrol", description = "Patrol and coverage analysis for the supervision of small construction works (小微工程)."),
    paths(
        super::health,
        super::layers::list_towns, super::layers::get_town,
        super::layers::list_zones, super::layers::get_zone,
        super::layers::list_grids, super::layers::get_grid,
        super::layers::list_districts, super::layers::get_district,
        super::layers::list_venues, super::layers::get_venue,
        super::layers::list_projects, super::layers::get_project,
        super::projects::create, super::projects::patch,
    ),
    components(schemas(super::error::Problem, super::error::FieldError)),
    tags((name = "layers", description = "Towns, zones, grids, commercial districts and venues"),
         (name = "projects", description = "Small construction works"))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
