//! The case file of every work (一工地一档) over HTTP: parties
//! (`/api/v1/parties`), a work's parties by role, its append-only records
//! (`POST /api/v1/projects/{id}/records`: 备案, 告知承诺, 查处, 移送, 保险,
//! 动火审批, 保温材料备案, 不属于小微工程; a correction names the record it
//! corrects) and the whole case file (`GET /api/v1/projects/{id}/casefile`).
//! A work outside the caller's scope is not found.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::audit::Audited;
use super::blindspots::{optional_window, towns_param};
use super::error::{ApiError, ApiResult};
use super::extract::{Id, Json, Query};
use crate::auth::Caller;
use crate::casefile::{CaseRecord, Party, PartyRole, RecordBody};
use crate::domain::ProjectStatus;
use crate::inspection::checklist::CheckArea;
use crate::service::casefile::{self as svc, CaseFileView};
use crate::service::workbook;
use crate::store::casefile::StoredParty;
use crate::time::Window;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_parties, create_party))
        .routes(routes!(name_party))
        .routes(routes!(add_record))
        .routes(routes!(get_case_file))
        .routes(routes!(ledger_xlsx))
        .routes(routes!(checklist))
}

/// One item of the inspection checklist.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    area: CheckArea,
    area_zh: &'static str,
    item: &'static str,
    label_zh: &'static str,
}

#[utoipa::path(get, path = "/api/v1/checklist", operation_id = "getChecklist", tag = "casefile",
    responses((status = 200, description = "the inspection checklist: 安全生产, 消防安全, 文明施工, 工程质量, the notice's hazards as items", body = Vec<ChecklistItem>)))]
pub async fn checklist(_caller: Caller) -> Json<Vec<ChecklistItem>> {
    Json(
        crate::inspection::checklist::ITEMS
            .iter()
            .map(|(area, item, label)| ChecklistItem {
                area: *area,
                area_zh: area.label_zh(),
                item,
                label_zh: label,
            })
            .collect(),
    )
}

crate::query_params! {
    /// The towns and window of the 台账 workbook.
    pub struct WorkbookParams {
        /// Town code(s), comma separated; the caller's scope without.
        town: String,
        /// RFC 3339 or YYYY-MM-DD (China Standard Time); the window's start (all time without).
        from: String,
        /// The window's end (now without).
        to: String,
    }
}

/// The MIME type of an xlsx workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[utoipa::path(get, path = "/api/v1/ledger.xlsx", operation_id = "getLedgerWorkbook", tag = "casefile",
    params(WorkbookParams),
    responses((status = 200, description = "the 台账 workbook: 工程基本信息, 日常检查记录, 违法违规行为查处情况, 安全事故隐患清单及整改跟踪督办结果, 备案, 告知承诺, 移送, 保险, 动火与保温 (Chinese headers, Beijing time)",
               content((Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn ledger_xlsx(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<WorkbookParams>,
) -> ApiResult<Response> {
    let window = optional_window(&q)?.unwrap_or_else(|| {
        Window::new(chrono::DateTime::<Utc>::MIN_UTC, Utc::now())
            .unwrap_or_else(|_| Window::days_before(Utc::now(), 36_500))
    });
    let towns = towns_param(&q);
    let name = match &towns {
        Some(t) => format!("台账-{}", t.join("-")),
        None => "台账".to_owned(),
    };
    let sheets = workbook::sheets(&st.store, &caller.scope, towns, &window).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook::write_xlsx(&sheets))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "workbook task");
            ApiError::internal()
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "workbook");
            ApiError::internal()
        })?;
    Ok(download(bytes, XLSX, &format!("{name}.xlsx")))
}

/// A file answer with its type and a download name (RFC 5987 for Chinese).
pub(crate) fn download(bytes: Vec<u8>, mime: &'static str, name: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"download\"; filename*=UTF-8''{}",
        encoded.replace('+', "%20")
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    (headers, bytes).into_response()
}

/// Every party.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PartyList {
    count: usize,
    items: Vec<StoredParty>,
}

#[utoipa::path(get, path = "/api/v1/parties", operation_id = "listParties", tag = "casefile",
    responses((status = 200, description = "every registered party (建设单位, 施工单位, 第三方安全技术服务), by name", body = PartyList)))]
pub async fn list_parties(
    State(st): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<PartyList>> {
    let items = svc::parties(&st.store).await?;
    Ok(Json(PartyList {
        count: items.len(),
        items,
    }))
}

#[utoipa::path(post, path = "/api/v1/parties", operation_id = "createParty", tag = "casefile",
    request_body(content = Party, description = "the party; its 统一社会信用代码 is checked (GB 32100-2015 check character)"),
    responses((status = 201, description = "registered", body = StoredParty),
              (status = 403, description = "the role may not write case files", body = super::error::Problem),
              (status = 409, description = "a party with this code exists", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn create_party(
    State(st): State<AppState>,
    caller: Caller,
    Json(party): Json<Party>,
) -> ApiResult<(StatusCode, Audited, Json<StoredParty>)> {
    let stored = svc::create_party(&st.store, &caller, party, Utc::now()).await?;
    Ok((
        StatusCode::CREATED,
        Audited::created("party", stored.id),
        Json(stored),
    ))
}

/// A party named on a work in a role.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamePartyIn {
    party_id: i64,
    role: PartyRole,
}

/// A party named on a work.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NamedOut {
    project_id: i64,
    party_id: i64,
    role: PartyRole,
    role_zh: &'static str,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/parties", operation_id = "nameProjectParty", tag = "casefile",
    params(("id" = i64, Path, description = "the work")),
    request_body(content = NamePartyIn, description = "the party and its role on the work; the newest naming of a role stands"),
    responses((status = 201, description = "named", body = NamedOut),
              (status = 403, description = "the role may not write case files", body = super::error::Problem),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem),
              (status = 422, description = "invalid field (an unknown party)", body = super::error::Problem)))]
pub async fn name_party(
    State(st): State<AppState>,
    caller: Caller,
    Id(project_id): Id,
    Json(input): Json<NamePartyIn>,
) -> ApiResult<(StatusCode, Audited, Json<NamedOut>)> {
    svc::name_party(
        &st.store,
        &caller,
        project_id,
        input.party_id,
        input.role,
        Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Audited::created("project_party", project_id),
        Json(NamedOut {
            project_id,
            party_id: input.party_id,
            role: input.role,
            role_zh: input.role.label_zh(),
        }),
    ))
}

/// A stored record and the work's status that follows from its records.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordOut {
    record: CaseRecord,
    status: ProjectStatus,
    status_zh: &'static str,
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/records", operation_id = "addProjectRecord", tag = "casefile",
    params(("id" = i64, Path, description = "the work")),
    request_body(content = RecordBody, description = "the record, under the caller's name and the time now; a correction names the record it corrects (same kind) and stands in its place"),
    responses((status = 201, description = "stored; the work's status follows from its records", body = RecordOut),
              (status = 400, description = "malformed JSON", body = super::error::Problem),
              (status = 403, description = "the role may not write case files", body = super::error::Problem),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem),
              (status = 422, description = "invalid field", body = super::error::Problem)))]
pub async fn add_record(
    State(st): State<AppState>,
    caller: Caller,
    Id(project_id): Id,
    Json(body): Json<RecordBody>,
) -> ApiResult<(StatusCode, Audited, Json<RecordOut>)> {
    let (record, status) =
        svc::add_record(&st.store, &caller, project_id, body, Utc::now()).await?;
    Ok((
        StatusCode::CREATED,
        Audited::created("case_record", record.id),
        Json(RecordOut {
            record,
            status,
            status_zh: status.label_zh(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/casefile", operation_id = "getProjectCaseFile", tag = "casefile",
    params(("id" = i64, Path, description = "the work")),
    responses((status = 200, description = "the work's case file: parties, every record with who and when, what is in force, attachments", body = CaseFileView),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem)))]
pub async fn get_case_file(
    State(st): State<AppState>,
    caller: Caller,
    Id(project_id): Id,
) -> ApiResult<Json<CaseFileView>> {
    Ok(Json(
        svc::case_file(&st.store, &caller.scope, project_id).await?,
    ))
}
