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
        super::tracks::upload, super::tracks::append, super::tracks::list, super::tracks::one, super::tracks::cells,
        super::coverage::cells, super::coverage::summary, super::coverage::blind_cells,
        super::auth::me, super::audit::list,
        super::inspections::create, super::inspections::list_for_project,
        super::inspections::list_hazards, super::inspections::get_hazard,
        super::inspections::patch_hazard,
        super::inspections::project_ledger, super::inspections::town_ledger,
        super::blindspots::districts, super::blindspots::near_venues, super::blindspots::works,
        super::scorecard::get_scorecard,
        super::routes::create, super::routes::create_sweep, super::routes::list,
        super::routes::one, super::routes::one_gpx, super::routes::patch, super::routes::adherence, super::routes::roads,
    ),
    components(schemas(super::error::Problem, super::error::FieldError, super::tracks::UploadAnswer)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "layers", description = "Towns, zones, grids, commercial districts and venues"),
         (name = "projects", description = "Small construction works"),
         (name = "tracks", description = "Patrol tracks: upload (GPX, GeoJSON, CSV), live append, the cells covered"),
         (name = "coverage", description = "H3 patrol coverage of a grid, zone, town or the district"),
         (name = "access", description = "The caller and the audit trail"),
         (name = "inspections", description = "Inspections, hazards and the ledger: the closed loop 发现 → 查处 → 整改 → 销项"),
         (name = "blindspots", description = "Blind spots of supervision and the town scorecard"),
         (name = "routes", description = "Patrol routes on the road network: planning, street sweeping (扫街), GPX, assignment and adherence"))
)]
pub struct ApiDoc;

/// Every `/api/` operation takes `Authorization: Bearer <token>`; health and
/// this document are open.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        if let Some(get) = openapi
            .paths
            .paths
            .get_mut("/health")
            .and_then(|h| h.get.as_mut())
        {
            get.security = Some(Vec::new());
        }
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
