//! The half-year evaluation over HTTP (`/api/v1/evaluations`): periods,
//! the towns' self-assessments (draft, submit, the district's review), the
//! on-site towns, draws and findings, the evaluation of every town in the
//! caller's scope, and the draft 通报 (`report.docx`, a printable page) and
//! workbook.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::audit::Audited;
use super::casefile::download;
use super::error::{ApiError, ApiResult};
use super::extract::{Id, Json, Query};
use super::params::Params;
use crate::auth::Caller;
use crate::evaluation::{PROBLEMS, SelfAssessment, SiteFinding, Table};
use crate::service::evaluation::{
    self as svc, AssessmentView, EvaluationView, Overview, ReviewEntry,
};
use crate::service::evaluation_site::{self as site, DrawView};
use crate::service::{docx, evaluation_report as report, evaluation_workbook, workbook};

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_evaluations, create_evaluation))
        .routes(routes!(get_table))
        .routes(routes!(get_evaluation))
        .routes(routes!(set_site_towns))
        .routes(routes!(save_assessment))
        .routes(routes!(submit_assessment))
        .routes(routes!(review_assessment))
        .routes(routes!(draw_works))
        .routes(routes!(record_finding))
        .routes(routes!(get_report))
        .routes(routes!(get_report_docx))
}

/// A period id and a town code from the path.
pub struct IdTown(i64, String);

impl<S: Send + Sync> FromRequestParts<S> for IdTown {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(i64, String)>::from_request_parts(parts, state).await {
            Ok(Path((id, town))) => Ok(Self(id, town)),
            Err(_) => Err(ApiError::not_found(format!(
                "resource {}",
                parts.uri.path()
            ))),
        }
    }
}

/// A period id and a work id from the path.
pub struct IdWork(i64, i64);

impl<S: Send + Sync> FromRequestParts<S> for IdWork {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(i64, i64)>::from_request_parts(parts, state).await {
            Ok(Path((id, work))) => Ok(Self(id, work)),
            Err(_) => Err(ApiError::not_found(format!(
                "resource {}",
                parts.uri.path()
            ))),
        }
    }
}

/// Every period.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EvaluationList {
    count: usize,
    items: Vec<EvaluationView>,
}

#[utoipa::path(get, path = "/api/v1/evaluations", operation_id = "listEvaluations", tag = "evaluation",
    responses((status = 200, description = "every evaluation period, newest first", body = EvaluationList)))]
pub async fn list_evaluations(
    State(st): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<EvaluationList>> {
    let items = svc::list(&st.store, Utc::now()).await?;
    Ok(Json(EvaluationList {
        count: items.len(),
        items,
    }))
}

/// A new period.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvaluation {
    /// The half-year, e.g. `2026H2`.
    period: String,
}

#[utoipa::path(post, path = "/api/v1/evaluations", operation_id = "createEvaluation", tag = "evaluation",
    request_body(content = NewEvaluation, description = "the half-year to evaluate"),
    responses((status = 201, description = "opened, scored against the current table", body = EvaluationView),
              (status = 403, description = "only district staff run the evaluation", body = super::error::Problem),
              (status = 409, description = "the period is open already", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn create_evaluation(
    State(st): State<AppState>,
    caller: Caller,
    Json(input): Json<NewEvaluation>,
) -> ApiResult<(StatusCode, Audited, Json<EvaluationView>)> {
    let v = svc::create(&st.store, &caller, &input.period, Utc::now()).await?;
    Ok((
        StatusCode::CREATED,
        Audited::created("evaluation", v.id),
        Json(v),
    ))
}

/// A problem of the on-site checklist.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SiteProblem {
    code: &'static str,
    label_zh: &'static str,
}

/// The evaluation table and the on-site checklist.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TableOut {
    #[schema(value_type = Object)]
    table: &'static Table,
    site_problems: Vec<SiteProblem>,
}

#[utoipa::path(get, path = "/api/v1/evaluation-table", operation_id = "getEvaluationTable", tag = "evaluation",
    responses((status = 200, description = "the current evaluation table (six items and 管理创新, their measures and points) and the on-site checklist", body = TableOut)))]
pub async fn get_table(_caller: Caller) -> Json<TableOut> {
    Json(TableOut {
        table: svc::CURRENT_TABLE,
        site_problems: PROBLEMS
            .iter()
            .map(|(code, label_zh, _)| SiteProblem { code, label_zh })
            .collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/evaluations/{id}", operation_id = "getEvaluation", tag = "evaluation",
    params(("id" = i64, Path, description = "the period")),
    responses((status = 200, description = "every town of the caller's scope: the items measured from the records, the self-assessment beside them and where it claims more, the on-site draw and findings", body = Overview),
              (status = 404, description = "unknown period", body = super::error::Problem)))]
pub async fn get_evaluation(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Overview>> {
    let row = svc::find(&st.store, &id.to_string()).await?;
    Ok(Json(
        svc::overview(&st.store, &caller, &row, Utc::now()).await?,
    ))
}

/// The towns of the on-site evaluation.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteTowns {
    towns: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/evaluations/{id}/site-towns", operation_id = "setEvaluationSiteTowns", tag = "evaluation",
    params(("id" = i64, Path, description = "the period")),
    request_body(content = SiteTowns, description = "the town codes picked for the on-site evaluation (实地评价)"),
    responses((status = 200, description = "set", body = EvaluationView),
              (status = 403, description = "only district staff run the evaluation", body = super::error::Problem),
              (status = 404, description = "unknown period", body = super::error::Problem),
              (status = 422, description = "an unknown town", body = super::error::Problem)))]
pub async fn set_site_towns(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Json(input): Json<SiteTowns>,
) -> ApiResult<(Audited, Json<EvaluationView>)> {
    let row = svc::find(&st.store, &id.to_string()).await?;
    let v = site::set_site_towns(&st.store, &caller, &row, &input.towns).await?;
    Ok((
        Audited::changed(
            "evaluation",
            id,
            serde_json::json!({"site_towns": row.site_towns}),
        ),
        Json(v),
    ))
}

async fn assessment(
    st: &AppState,
    caller: &Caller,
    path: IdTown,
    body: SelfAssessment,
    submit: bool,
) -> ApiResult<(Audited, Json<AssessmentView>)> {
    let IdTown(id, town) = path;
    let row = svc::find(&st.store, &id.to_string()).await?;
    let v = svc::write_assessment(&st.store, caller, &row, &town, body, submit, Utc::now()).await?;
    Ok((
        Audited::changed("self_assessment", id, serde_json::json!({"town": town})),
        Json(v),
    ))
}

#[utoipa::path(put, path = "/api/v1/evaluations/{id}/self-assessments/{town}", operation_id = "saveSelfAssessment", tag = "evaluation",
    params(("id" = i64, Path, description = "the period"), ("town" = String, Path, description = "the town code")),
    request_body(content = SelfAssessment, description = "the town's claims per item (score, evidence, problems, plan, measures) and its declarations; saved as a draft"),
    responses((status = 200, description = "saved as a draft", body = AssessmentView),
              (status = 403, description = "not the town's staff", body = super::error::Problem),
              (status = 404, description = "unknown period", body = super::error::Problem),
              (status = 409, description = "submitted already", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn save_assessment(
    State(st): State<AppState>,
    caller: Caller,
    path: IdTown,
    Json(body): Json<SelfAssessment>,
) -> ApiResult<(Audited, Json<AssessmentView>)> {
    assessment(&st, &caller, path, body, false).await
}

#[utoipa::path(post, path = "/api/v1/evaluations/{id}/self-assessments/{town}/submit", operation_id = "submitSelfAssessment", tag = "evaluation",
    params(("id" = i64, Path, description = "the period"), ("town" = String, Path, description = "the town code")),
    request_body(content = SelfAssessment, description = "the self-assessment as submitted; it cannot be changed afterwards"),
    responses((status = 200, description = "submitted", body = AssessmentView),
              (status = 403, description = "not the town's staff", body = super::error::Problem),
              (status = 404, description = "unknown period", body = super::error::Problem),
              (status = 409, description = "submitted already", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn submit_assessment(
    State(st): State<AppState>,
    caller: Caller,
    path: IdTown,
    Json(body): Json<SelfAssessment>,
) -> ApiResult<(Audited, Json<AssessmentView>)> {
    assessment(&st, &caller, path, body, true).await
}

#[utoipa::path(post, path = "/api/v1/evaluations/{id}/self-assessments/{town}/review", operation_id = "reviewSelfAssessment", tag = "evaluation",
    params(("id" = i64, Path, description = "the period"), ("town" = String, Path, description = "the town code")),
    request_body(content = Vec<ReviewEntry>, description = "the district's check of declared measures (confirmed or rejected, with a note)"),
    responses((status = 200, description = "recorded", body = AssessmentView),
              (status = 403, description = "only district staff check declarations", body = super::error::Problem),
              (status = 404, description = "unknown period or no self-assessment", body = super::error::Problem),
              (status = 409, description = "not submitted yet", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn review_assessment(
    State(st): State<AppState>,
    caller: Caller,
    IdTown(id, town): IdTown,
    Json(entries): Json<Vec<ReviewEntry>>,
) -> ApiResult<(Audited, Json<AssessmentView>)> {
    let row = svc::find(&st.store, &id.to_string()).await?;
    let v = svc::review(&st.store, &caller, &row, &town, &entries, Utc::now()).await?;
    Ok((
        Audited::changed("self_assessment", id, serde_json::json!({"town": town})),
        Json(v),
    ))
}

/// How to draw.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawIn {
    /// Works to draw (default 5, at most 50).
    #[serde(default)]
    size: Option<usize>,
    /// The seed (below 2^53); made from the time and recorded without.
    #[serde(default)]
    seed: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/evaluations/{id}/draws/{town}", operation_id = "drawEvaluationWorks", tag = "evaluation",
    params(("id" = i64, Path, description = "the period"), ("town" = String, Path, description = "a town picked for the on-site evaluation")),
    request_body(content = DrawIn, description = "size and seed of the draw"),
    responses((status = 201, description = "drawn (stratified by funding and category) and recorded", body = DrawView),
              (status = 403, description = "only district staff run the evaluation", body = super::error::Problem),
              (status = 404, description = "unknown period", body = super::error::Problem),
              (status = 409, description = "the town has a draw already", body = super::error::Problem),
              (status = 422, description = "invalid field (a town not picked, a size out of range)", body = super::error::Problem)))]
pub async fn draw_works(
    State(st): State<AppState>,
    caller: Caller,
    IdTown(id, town): IdTown,
    Json(input): Json<DrawIn>,
) -> ApiResult<(StatusCode, Audited, Json<DrawView>)> {
    let row = svc::find(&st.store, &id.to_string()).await?;
    let v = site::draw(
        &st.store,
        &caller,
        &row,
        &town,
        input.size,
        input.seed,
        Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Audited::created("site_draw", id),
        Json(v),
    ))
}

/// A finding recorded.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FindingOut {
    project_id: i64,
    town: String,
    finding: SiteFinding,
    recorded_by: String,
    recorded_at: chrono::DateTime<Utc>,
}

#[utoipa::path(put, path = "/api/v1/evaluations/{id}/findings/{project_id}", operation_id = "recordEvaluationFinding", tag = "evaluation",
    params(("id" = i64, Path, description = "the period"), ("project_id" = i64, Path, description = "a drawn work")),
    request_body(content = SiteFinding, description = "the problems found on site (codes of the on-site checklist) and a note"),
    responses((status = 200, description = "recorded (replacing an earlier finding)", body = FindingOut),
              (status = 403, description = "only district staff run the evaluation", body = super::error::Problem),
              (status = 404, description = "unknown period", body = super::error::Problem),
              (status = 422, description = "invalid field (an unknown problem, a work not drawn)", body = super::error::Problem)))]
pub async fn record_finding(
    State(st): State<AppState>,
    caller: Caller,
    IdWork(id, project_id): IdWork,
    Json(finding): Json<SiteFinding>,
) -> ApiResult<(Audited, Json<FindingOut>)> {
    let row = svc::find(&st.store, &id.to_string()).await?;
    let f =
        site::record_finding(&st.store, &caller, &row, project_id, &finding, Utc::now()).await?;
    Ok((
        Audited::changed("site_finding", project_id, &f.finding),
        Json(FindingOut {
            project_id: f.project_id,
            town: f.town,
            finding: f.finding,
            recorded_by: f.recorded_by,
            recorded_at: f.recorded_at,
        }),
    ))
}

crate::query_params! {
    /// The report's format.
    pub struct ReportParams {
        /// html (default, printable A4), docx, xlsx or json.
        format: String,
    }
}

async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "evaluation report task");
            ApiError::internal()
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "evaluation report");
            ApiError::internal()
        })
}

async fn answer(st: &AppState, caller: &Caller, id: i64, format: &str) -> ApiResult<Response> {
    if !matches!(format, "" | "html" | "docx" | "xlsx" | "json") {
        return Err(ApiError::invalid(
            "format",
            format!("{format:?} is not html, docx, xlsx or json"),
        ));
    }
    let row = svc::find(&st.store, &id.to_string()).await?;
    let now = Utc::now();
    let o = svc::overview(&st.store, caller, &row, now).await?;
    let name = format!("{}小微工程管理专项评价", o.evaluation.period_zh);
    match format {
        "json" => Ok(Json(o).into_response()),
        "xlsx" => {
            let bytes =
                blocking(move || workbook::write_xlsx(&evaluation_workbook::sheets(&o))).await?;
            Ok(download(bytes, XLSX, &format!("{name}.xlsx")))
        }
        "docx" => {
            let bytes = blocking(move || docx::write(&report::notice(&o, now))).await?;
            Ok(download(
                bytes,
                DOCX,
                &format!("{name}情况通报（草稿）.docx"),
            ))
        }
        _ => Ok(Html(docx::to_html(&report::title(&o), &report::notice(&o, now))).into_response()),
    }
}

#[utoipa::path(get, path = "/api/v1/evaluations/{id}/report", operation_id = "getEvaluationReport", tag = "evaluation",
    params(("id" = i64, Path, description = "the period"), ReportParams),
    responses((status = 200, description = "the draft 通报 (一、组织情况 二、自评情况 三、实地评价情况 四、抽查项目情况 五、下一步工作要求) as a printable page or Word; the evaluation as a workbook or JSON",
               content((String = "text/html"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Overview = "application/json"))),
              (status = 404, description = "unknown period", body = super::error::Problem),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn get_report(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Query(q): Query<ReportParams>,
) -> ApiResult<Response> {
    answer(&st, &caller, id, q.get("format").map_or("", |s| s.trim())).await
}

#[utoipa::path(get, path = "/api/v1/evaluations/{id}/report.docx", operation_id = "getEvaluationReportDocx", tag = "evaluation",
    params(("id" = i64, Path, description = "the period")),
    responses((status = 200, description = "the draft 通报 as Word, ready to edit",
               content((Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))),
              (status = 404, description = "unknown period", body = super::error::Problem)))]
pub async fn get_report_docx(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Response> {
    answer(&st, &caller, id, "docx").await
}
