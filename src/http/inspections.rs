//! The closed loop over HTTP: `POST /api/v1/projects/{id}/inspections`
//! records an inspection and its findings as hazards, `PATCH
//! /api/v1/hazards/{id}` moves a hazard (409 for a move the loop does not
//! allow), and the ledger (检查台账) of a work, a town or the district is
//! exported as JSON or CSV with every change, who made it and when.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::audit::Audited;
use super::blindspots::{optional_window, towns_param};
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::extract::{Id, Json};
use super::params::Params;
use crate::auth::Caller;
use crate::blindspots::local_day;
use crate::inspection::checklist::{CheckItem, InspectionDetail, Position};
use crate::inspection::ledger::{self, LedgerRow};
use crate::inspection::{
    Finding, Hazard, HazardEvent, HazardKind, HazardStatus, Inspection, NewInspection, Severity,
};
use crate::service::inspections::{self as svc, MoveError};
use crate::service::queries;
use crate::service::users::{self, Names};
use crate::store::InspectionQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_for_project, create))
        .routes(routes!(project_ledger))
        .routes(routes!(town_ledger))
        .routes(routes!(list_hazards))
        .routes(routes!(get_hazard, patch_hazard))
}

/// One finding of an inspection.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingIn {
    #[schema(value_type = HazardKind)]
    kind: String,
    /// `general` (default), `serious` or `major`.
    #[schema(value_type = Option<Severity>)]
    severity: Option<String>,
    /// The rectification deadline, `YYYY-MM-DD`: not before the
    /// inspection day, at most 2100-12-31.
    #[schema(value_type = NaiveDate)]
    deadline: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: String,
    /// Fixed on the spot (当场整改): the hazard is recorded and closed at once.
    #[serde(default)]
    fixed_on_spot: bool,
}

/// A new inspection (the request body).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionIn {
    /// RFC 3339, e.g. `2026-11-02T09:30:00+08:00`: from the year 2000,
    /// not in the future.
    #[schema(format = DateTime)]
    inspected_at: String,
    #[schema(min_length = 1, max_length = 200)]
    inspector: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: String,
    #[serde(default)]
    #[schema(max_items = 100)]
    findings: Vec<FindingIn>,
    /// The checklist (安全生产, 消防安全, 文明施工, 工程质量): item codes of
    /// `GET /api/v1/checklist` with their results.
    #[serde(default)]
    checklist: Vec<CheckItem>,
    /// Photos: ids of the work's attachments.
    #[serde(default)]
    photos: Vec<i64>,
    /// The parties present on site.
    #[serde(default)]
    parties_present: Vec<String>,
    /// The inspector's position (WGS-84); its distance to the work is kept.
    #[serde(default)]
    position: Option<Position>,
}

fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(
                field,
                format!("{s:?} is not an RFC 3339 time such as 2026-11-02T09:30:00+08:00"),
            )
        })
}

fn parse_finding(i: usize, f: FindingIn) -> Result<Finding, ApiError> {
    let field = |name: &str| format!("findings[{i}].{name}");
    Ok(Finding {
        kind: f
            .kind
            .parse()
            .map_err(|e: crate::domain::Invalid| ApiError::invalid(field("kind"), e.reason))?,
        severity: match f.severity {
            None => Severity::General,
            Some(s) => s.parse().map_err(|e: crate::domain::Invalid| {
                ApiError::invalid(field("severity"), e.reason)
            })?,
        },
        deadline: NaiveDate::parse_from_str(f.deadline.trim(), "%Y-%m-%d").map_err(|_| {
            ApiError::invalid(
                field("deadline"),
                format!("{:?} is not a date YYYY-MM-DD", f.deadline),
            )
        })?,
        note: f.note,
        fixed_on_spot: f.fixed_on_spot,
    })
}

/// A hazard as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HazardOut {
    id: i64,
    inspection_id: i64,
    project_id: i64,
    kind: HazardKind,
    kind_zh: &'static str,
    severity: Severity,
    severity_zh: &'static str,
    deadline: NaiveDate,
    status: HazardStatus,
    status_zh: &'static str,
    note: String,
    found_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    /// Past its deadline and not rectified (today in China Standard Time).
    overdue: bool,
    days_overdue: i64,
    /// The statuses it may move to next.
    next: Vec<HazardStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<Vec<EventOut>>,
}

/// One change of a hazard.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventOut {
    id: i64,
    from: Option<HazardStatus>,
    to: HazardStatus,
    at: DateTime<Utc>,
    by: String,
    note: String,
}

pub(crate) fn hazard_out(h: Hazard, history: Option<Vec<HazardEvent>>) -> HazardOut {
    let today = local_day(Utc::now());
    HazardOut {
        id: h.id,
        inspection_id: h.inspection_id,
        project_id: h.project_id,
        kind: h.kind,
        kind_zh: h.kind.label_zh(),
        severity: h.severity,
        severity_zh: h.severity.label_zh(),
        deadline: h.deadline,
        status: h.status,
        status_zh: h.status.label_zh(),
        overdue: h.is_overdue(today),
        days_overdue: h.days_overdue(today),
        next: h.status.next(),
        note: h.note,
        found_at: h.found_at,
        closed_at: h.closed_at,
        updated_at: h.updated_at,
        history: history.map(|events| {
            events
                .into_iter()
                .map(|e| EventOut {
                    id: e.id,
                    from: e.from,
                    to: e.to,
                    at: e.at,
                    by: e.by,
                    note: e.note,
                })
                .collect()
        }),
    }
}

/// An inspection with its hazards.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InspectionOut {
    id: i64,
    project_id: i64,
    inspected_at: DateTime<Utc>,
    inspector: String,
    /// The inspector's name for people, when the user has one.
    inspector_name: Option<String>,
    note: String,
    recorded_by: String,
    recorded_at: DateTime<Utc>,
    hazards: Vec<HazardOut>,
    /// The checklist, photos, parties present, position and distance, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<InspectionDetail>,
}

fn inspection_out(i: Inspection, hazards: Vec<HazardOut>, names: &Names) -> InspectionOut {
    InspectionOut {
        id: i.id,
        project_id: i.project_id,
        inspected_at: i.inspected_at,
        inspector_name: names.get(&i.inspector).cloned(),
        inspector: i.inspector,
        note: i.note,
        recorded_by: i.recorded_by,
        recorded_at: i.recorded_at,
        hazards,
        detail: None,
    }
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/inspections", operation_id = "createInspection", tag = "inspections",
    params(("id" = i64, Path, description = "the work")),
    request_body(content = InspectionIn, description = "the inspection and its findings, recorded under the caller's name; officers record only their own (inspector = their user name)"),
    responses((status = 201, description = "the inspection with the hazards it created, their ids included", body = InspectionOut),
              (status = 400, description = "malformed JSON", body = super::error::Problem),
              (status = 403, description = "the role may not record inspections, or an officer records for someone else", body = super::error::Problem),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Id(project_id): Id,
    Json(raw): Json<InspectionIn>,
) -> ApiResult<(StatusCode, Audited, Json<InspectionOut>)> {
    let findings = raw
        .findings
        .into_iter()
        .enumerate()
        .map(|(i, f)| parse_finding(i, f))
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewInspection {
        project_id,
        inspected_at: parse_time("inspected_at", &raw.inspected_at)?,
        inspector: raw.inspector,
        note: raw.note,
        findings,
        recorded_by: caller.user.clone(),
        detail: InspectionDetail {
            checklist: raw.checklist,
            photos: raw.photos,
            parties_present: raw.parties_present,
            position: raw.position,
            distance_m: None,
        },
    };
    let (inspection, hazards, detail) = svc::record(&st.store, &caller, new, Utc::now()).await?;
    let audited = Audited::created("inspection", inspection.id);
    let hazards = hazards.into_iter().map(|h| hazard_out(h, None)).collect();
    let names = users::display_names(&st.store).await?;
    let mut out = inspection_out(inspection, hazards, &names);
    out.detail = (!detail.is_empty()).then_some(detail);
    Ok((StatusCode::CREATED, audited, Json(out)))
}

/// The inspections of a work.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InspectionList {
    project_id: i64,
    count: usize,
    items: Vec<InspectionOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/inspections", operation_id = "listProjectInspections", tag = "inspections",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the work's inspections, oldest first, each with its hazards", body = InspectionList),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem)))]
pub async fn list_for_project(
    State(st): State<AppState>,
    caller: Caller,
    Id(project_id): Id,
) -> ApiResult<Json<InspectionList>> {
    let (inspections, mut hazards) =
        queries::work_inspections(&st.store, &caller.scope, project_id).await?;
    let mut details = st
        .store
        .inspection_details(&crate::store::casefile::RecordQuery {
            project: Some(project_id),
            towns: None,
        })
        .await?;
    let mut by_inspection: std::collections::HashMap<i64, Vec<HazardOut>> =
        std::collections::HashMap::new();
    for h in hazards.drain(..) {
        by_inspection
            .entry(h.inspection_id)
            .or_default()
            .push(hazard_out(h, None));
    }
    let names = users::display_names(&st.store).await?;
    let items: Vec<InspectionOut> = inspections
        .into_iter()
        .map(|i| {
            let mine = by_inspection.remove(&i.id).unwrap_or_default();
            let detail = details.remove(&i.id);
            let mut out = inspection_out(i, mine, &names);
            out.detail = detail;
            out
        })
        .collect();
    Ok(Json(InspectionList {
        project_id,
        count: items.len(),
        items,
    }))
}

/// A list of hazards.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HazardList {
    /// Hazards matching the filters.
    total: usize,
    /// Hazards in this page.
    count: usize,
    items: Vec<HazardOut>,
}

crate::query_params! {
    /// The filters and page of the hazard list.
    pub struct HazardParams {
        /// One work.
        project: i64,
        /// Town code(s), comma separated.
        town: String,
        /// open, rectifying, verified or closed.
        status: String,
        /// Only hazards past their deadline and not rectified.
        overdue: bool,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

crate::query_params! {
    /// The towns, window and format of a ledger.
    pub struct LedgerParams {
        /// Town code(s), comma separated; the whole district without.
        town: String,
        /// json (default) or csv.
        format: String,
        /// RFC 3339 or YYYY-MM-DD (China Standard Time).
        from: String,
        to: String,
    }
}

#[utoipa::path(get, path = "/api/v1/hazards", operation_id = "listHazards", tag = "inspections",
    params(HazardParams),
    responses((status = 200, description = "hazards by id", body = HazardList),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn list_hazards(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<HazardParams>,
) -> ApiResult<Json<HazardList>> {
    let status: Option<HazardStatus> = match q.get("status").map(|s| s.trim()) {
        None | Some("") => None,
        Some(s) => Some(
            s.parse()
                .map_err(|e: crate::domain::Invalid| ApiError::invalid("status", e.reason))?,
        ),
    };
    let overdue = super::params::opt::<bool>(&q, "overdue", "true or false")?.unwrap_or(false);
    let limit = super::params::opt::<usize>(&q, "limit", "a whole number")?
        .unwrap_or(super::params::DEFAULT_LIMIT as usize);
    if limit == 0 || limit > super::params::MAX_LIMIT as usize {
        return Err(ApiError::invalid(
            "limit",
            format!("must be from 1 to {}", super::params::MAX_LIMIT),
        ));
    }
    let offset = super::params::opt::<usize>(&q, "offset", "a whole number")?.unwrap_or(0);
    let query = InspectionQuery {
        project: super::params::opt::<i64>(&q, "project", "a work id")?,
        towns: towns_param(&q),
        hazard: None,
    };
    let today = local_day(Utc::now());
    let matching: Vec<Hazard> = svc::hazards(&st.store, &caller.scope, query)
        .await?
        .into_iter()
        .filter(|h| status.is_none_or(|s| h.status == s))
        .filter(|h| !overdue || h.is_overdue(today))
        .collect();
    let total = matching.len();
    let items: Vec<HazardOut> = matching
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|h| hazard_out(h, None))
        .collect();
    Ok(Json(HazardList {
        total,
        count: items.len(),
        items,
    }))
}

#[utoipa::path(get, path = "/api/v1/hazards/{id}", operation_id = "getHazard", tag = "inspections",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the hazard with its history", body = HazardOut),
              (status = 404, description = "unknown hazard, or outside the caller's scope", body = super::error::Problem)))]
pub async fn get_hazard(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<HazardOut>> {
    let h = svc::hazard(&st.store, &caller.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("hazard {id}")))?;
    let history = svc::history(&st.store, id).await?;
    Ok(Json(hazard_out(h, Some(history))))
}

/// A status move (the request body).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardPatch {
    #[schema(value_type = HazardStatus, required)]
    status: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: String,
}

impl From<MoveError> for ApiError {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::Service(s) => s.into(),
            MoveError::Illegal(i) => ApiError::conflict(i.to_string()),
            MoveError::Stale { .. } => ApiError::conflict(e.to_string()),
        }
    }
}

#[utoipa::path(patch, path = "/api/v1/hazards/{id}", operation_id = "updateHazard", tag = "inspections",
    params(("id" = i64, Path)),
    request_body(content = HazardPatch, description = "the new status: open → rectifying → verified → closed, or verified → rectifying when the check fails; recorded under the caller's name"),
    responses((status = 200, description = "the hazard with its history", body = HazardOut),
              (status = 403, description = "the role may not change hazards", body = super::error::Problem),
              (status = 404, description = "unknown hazard, or outside the caller's scope", body = super::error::Problem),
              (status = 409, description = "the closed loop does not allow this move", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn patch_hazard(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Json(raw): Json<HazardPatch>,
) -> ApiResult<(Audited, Json<HazardOut>)> {
    let to: HazardStatus = raw
        .status
        .as_deref()
        .ok_or_else(|| ApiError::invalid("status", "is required"))?
        .parse()
        .map_err(|e: crate::domain::Invalid| ApiError::invalid("status", e.reason))?;
    let before = svc::hazard(&st.store, &caller.scope, id)
        .await?
        .map(|h| hazard_out(h, None));
    let h = svc::move_hazard(&st.store, &caller, id, to, raw.note, Utc::now()).await?;
    let history = svc::history(&st.store, id).await?;
    Ok((
        Audited::changed("hazard", id, before),
        Json(hazard_out(h, Some(history))),
    ))
}

/// The ledger as JSON.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ledger {
    count: usize,
    items: Vec<LedgerRow>,
}

fn ledger_response(rows: Vec<LedgerRow>, q: &impl Params, name: &str) -> ApiResult<Response> {
    match q.get("format").map_or("json", |s| s.trim()) {
        "json" | "" => Ok(Json(Ledger {
            count: rows.len(),
            items: rows,
        })
        .into_response()),
        "csv" => {
            let bytes = ledger::to_csv(&rows).map_err(|e| {
                tracing::error!(error = %e, "ledger csv");
                ApiError::internal()
            })?;
            Ok(csv_response(bytes, name))
        }
        other => Err(ApiError::invalid(
            "format",
            format!("{other:?} is not json or csv"),
        )),
    }
}

/// A CSV download.
pub(crate) fn csv_response(bytes: Vec<u8>, name: &str) -> Response {
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/ledger", operation_id = "getProjectLedger", tag = "inspections",
    params(("id" = i64, Path), LedgerParams),
    responses((status = 200, description = "every inspection and every hazard change of the work, with who and when; CSV with format=csv",
               content((Ledger = "application/json"), (String = "text/csv"))),
              (status = 422, description = "invalid parameter", body = super::error::Problem),
              (status = 404, description = "unknown work", body = super::error::Problem)))]
pub async fn project_ledger(
    State(st): State<AppState>,
    caller: Caller,
    Id(project_id): Id,
    Query(q): Query<LedgerParams>,
) -> ApiResult<Response> {
    let window = optional_window(&q)?;
    svc::work_in_scope(&st.store, &caller.scope, project_id).await?;
    let query = InspectionQuery {
        project: Some(project_id),
        ..InspectionQuery::default()
    };
    let rows = svc::ledger(&st.store, &caller.scope, &query, window).await?;
    ledger_response(rows, &q, &format!("ledger-project-{project_id}"))
}

#[utoipa::path(get, path = "/api/v1/ledger", operation_id = "getLedger", tag = "inspections",
    params(LedgerParams),
    responses((status = 200, description = "the ledger of the towns' works; CSV with format=csv",
               content((Ledger = "application/json"), (String = "text/csv"))),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn town_ledger(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<LedgerParams>,
) -> ApiResult<Response> {
    let window = optional_window(&q)?;
    let towns = towns_param(&q);
    let name = match &towns {
        Some(t) => format!("ledger-{}", t.join("-")),
        None => "ledger-district".to_owned(),
    };
    let query = InspectionQuery {
        towns,
        ..InspectionQuery::default()
    };
    let rows = svc::ledger(&st.store, &caller.scope, &query, window).await?;
    ledger_response(rows, &q, &name)
}
