//! Writing works: `POST /api/v1/projects` (a GeoJSON Feature, `?crs=`) and
//! `PATCH /api/v1/projects/{id}` (changed properties, and a geometry if moved).
//! Admins write every work, town staff the works of their towns; a work
//! outside the caller's scope is refused (403) or, for an id, not found.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use geojson::Feature;
use serde_json::{Map, Value as Json};

type JsonBody<T> = axum::Json<T>;

use super::AppState;
use super::audit::Audited;
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::extract::{Id, json_body};
use super::features::{ProjectProperties, feature, project_properties};
use super::geojson_types::{Feature as ApiFeature, FeatureIn};
use super::params::crs;
use crate::auth::{Action, Caller};
use crate::domain::{Category, Funding, Project, ProjectStatus};
use crate::ingest::features::{Props, convert_geometry, project_from_feature, project_from_props};
use crate::service;
use crate::service::queries;
use chrono::NaiveDate;

/// Reads a body that must be a GeoJSON Feature.
fn read_feature(body: &[u8]) -> Result<Feature, ApiError> {
    let v: Json = json_body(body)?;
    if v.get("type").and_then(Json::as_str) != Some("Feature") {
        return Err(ApiError::bad_request(
            "type",
            "the body must be a GeoJSON Feature",
        ));
    }
    serde_json::from_value(v)
        .map_err(|e| ApiError::bad_request("body", format!("malformed GeoJSON Feature: {e}")))
}

/// Refuses a property of the wrong JSON type (`"name": 123`,
/// `"hot_work": "yes"`): the API takes JSON's own types, unlike the ledger
/// files whose cells are all text. `null` clears a property.
fn check_property_types(props: &Map<String, Json>) -> Result<(), ApiError> {
    for (k, v) in props {
        let expected = match k.as_str() {
            "code" | "name" | "category" | "funding" | "status" | "address" | "town"
            | "started_on" | "completed_on" => (v.is_string() || v.is_null())
                .then_some(())
                .ok_or("a string"),
            "hot_work" | "insulation" | "steel_mezzanine" | "insured" | "above_limit" => {
                (v.is_boolean() || v.is_null())
                    .then_some(())
                    .ok_or("true or false")
            }
            "investment_cny" | "floor_area_m2" => (v.is_number() || v.is_null())
                .then_some(())
                .ok_or("a number"),
            _ => Ok(()),
        };
        if let Err(what) = expected {
            return Err(ApiError::invalid(k.clone(), format!("must be {what}")));
        }
    }
    Ok(())
}

/// Refuses a change of status that the records decide: a work becomes
/// `filed`, `notified` and `completed` through its case file (备案, 告知承诺,
/// 竣工备案), never by an edit. The one edit left is a filed work starting
/// (`in_progress`); naming the current status again changes nothing.
fn check_status_change(current: ProjectStatus, asked: Option<&Json>) -> Result<(), ApiError> {
    let Some(asked) = asked.and_then(Json::as_str) else {
        return Ok(());
    };
    let asked: ProjectStatus = asked.parse()?;
    let starts = matches!(current, ProjectStatus::Filed | ProjectStatus::Notified)
        && asked == ProjectStatus::InProgress;
    if asked == current || starts {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "status",
            format!(
                "cannot change from {current} to {asked} by an edit: the status follows from the work's records (开工备案, 告知承诺, 竣工备案: POST /api/v1/projects/{{id}}/records)"
            ),
        ))
    }
}

/// The properties of a work as written: JSON's own types, the bounds the
/// service checks (see [`Project::validate`]); on PATCH `null` clears one
/// and absent ones stay. Other properties are ignored.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "the request's documentation; check_property_types reads it"
)]
pub struct ProjectInput {
    /// The natural key (工程编号); generated when absent; cannot change.
    #[schema(min_length = 1, max_length = 64)]
    code: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    category: Option<Category>,
    funding: Option<Funding>,
    #[schema(minimum = 0, maximum = 10_000_000_000_i64)]
    investment_cny: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000_000)]
    floor_area_m2: Option<f64>,
    status: Option<ProjectStatus>,
    /// From 2000-01-01 to 2100-12-31.
    started_on: Option<NaiveDate>,
    /// From 2000-01-01 to 2100-12-31, not before `started_on`.
    completed_on: Option<NaiveDate>,
    hot_work: Option<bool>,
    insulation: Option<bool>,
    steel_mezzanine: Option<bool>,
    insured: Option<bool>,
    #[schema(max_length = 300)]
    address: Option<String>,
    /// A town's code or name: the town the geometry lies in (derived from
    /// it when absent).
    #[schema(max_length = 64)]
    town: Option<String>,
}

/// A PATCH body: the properties to change, or a Feature with them and the
/// new geometry.
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
pub enum ProjectPatchInput {
    Properties(ProjectInput),
    Moved(FeatureIn<ProjectInput>),
}

crate::query_params! {
    /// The CRS of the geometry sent.
    pub struct CrsParams {
        /// wgs84 (default), gcj02 or bd09.
        crs: String,
    }
}

#[utoipa::path(post, path = "/api/v1/projects", operation_id = "createProject", tag = "projects",
    params(CrsParams),
    request_body(content = FeatureIn<ProjectInput>, description = "a GeoJSON Feature (Point, Polygon or MultiPolygon inside the district) with the project's properties", content_type = "application/json"),
    responses((status = 201, description = "created; Location names it", body = ApiFeature<ProjectProperties>),
              (status = 400, description = "malformed", body = super::error::Problem),
              (status = 403, description = "outside the caller's role or scope", body = super::error::Problem),
              (status = 409, description = "the code exists", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<CrsParams>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    if !caller.role.may(Action::WriteProject) {
        caller.require(Action::RegisterDiscovered)?;
    }
    let crs = crs(&q)?;
    let f = read_feature(&body)?;
    if let Some(props) = &f.properties {
        check_property_types(props)?;
    }
    let project: Project = project_from_feature(&f, crs)?;
    // officers and grid managers register what they find on patrol, no more
    if !caller.role.may(Action::WriteProject) && project.status != ProjectStatus::Discovered {
        return Err(ApiError::forbidden(format!(
            "the {} role registers only works found on patrol (status discovered)",
            caller.role
        )));
    }
    let stored = service::create_project(&st.store, &caller.scope, project).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/projects/{}", stored.id)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::CREATED,
        headers,
        Audited::created("project", stored.id),
        JsonBody::from(feature(&stored)),
    ))
}

#[utoipa::path(patch, path = "/api/v1/projects/{id}", operation_id = "updateProject", tag = "projects",
    params(("id" = i64, Path), CrsParams),
    request_body(content = ProjectPatchInput, description = "a JSON object of the properties to change (null clears), or a Feature with them and a new geometry", content_type = "application/merge-patch+json"),
    responses((status = 200, description = "the updated Feature", body = ApiFeature<ProjectProperties>),
              (status = 403, description = "outside the caller's role or scope", body = super::error::Problem),
              (status = 404, description = "unknown id, or outside the caller's scope", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn patch(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Query(q): Query<CrsParams>,
    body: Bytes,
) -> ApiResult<(Audited, JsonBody<ApiFeature<ProjectProperties>>)> {
    caller.require(Action::WriteProject)?;
    let crs = crs(&q)?;
    let current = queries::layer_item::<Project>(&st.store, &caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project {id}")))?;
    let before = feature(&current);
    let v: Json = json_body(&body)?;
    let Json::Object(obj) = v else {
        return Err(ApiError::bad_request("body", "must be a JSON object"));
    };
    let (changes, geometry) = if obj.get("type").and_then(Json::as_str) == Some("Feature") {
        let f: Feature = serde_json::from_value(Json::Object(obj)).map_err(|e| {
            ApiError::bad_request("body", format!("malformed GeoJSON Feature: {e}"))
        })?;
        let g = match &f.geometry {
            Some(g) => Some(convert_geometry(
                &geo::Geometry::try_from(&g.value)
                    .map_err(|e| ApiError::invalid("geometry", e.to_string()))?,
                crs,
            )?),
            None => None,
        };
        (f.properties.unwrap_or_default(), g)
    } else {
        (obj, None)
    };
    check_property_types(&changes)?;
    check_status_change(current.value.status, changes.get("status"))?;
    let mut merged: Map<String, Json> = project_properties(&current.value);
    // a moved work takes the town of its new place unless one is given
    if geometry.is_some() && !changes.contains_key("town") {
        merged.remove("town");
    }
    for (k, v) in changes {
        if k == "above_limit" {
            continue;
        }
        merged.insert(k, v);
    }
    // the code is the natural key; it cannot be changed through PATCH
    if merged.get("code") != Some(&Json::String(current.value.code.clone())) {
        return Err(ApiError::invalid("code", "cannot be changed"));
    }
    let project = project_from_props(
        &Props::from_map(&merged),
        Some(geometry.unwrap_or(current.value.geometry)),
    )?;
    let stored = service::update_project(&st.store, &caller.scope, id, project).await?;
    Ok((
        Audited::changed("project", id, before),
        JsonBody::from(feature(&stored)),
    ))
}
