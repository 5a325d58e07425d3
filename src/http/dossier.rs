//! 一工地一档 over HTTP: `GET /api/v1/projects/{id}/dossier` is the work's
//! whole file as a printable A4 page (`format=docx` for Word), and `GET
//! /api/v1/projects/{id}/notice.docx` its 告知书 filled from its data.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::casefile::download;
use super::error::{ApiError, ApiResult};
use super::extract::{Id, Query};
use super::params::Params;
use crate::auth::Caller;
use crate::service::docx::{self, Block};
use crate::service::dossier;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_dossier))
        .routes(routes!(get_notice))
}

crate::query_params! {
    /// The dossier's format.
    pub struct DossierParams {
        /// html (default, printable A4) or docx.
        format: String,
    }
}

async fn docx_answer(blocks: Vec<Block>, name: String) -> ApiResult<Response> {
    let bytes = tokio::task::spawn_blocking(move || docx::write(&blocks))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "docx task");
            ApiError::internal()
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "docx");
            ApiError::internal()
        })?;
    Ok(download(bytes, DOCX, &name))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/dossier", operation_id = "getProjectDossier", tag = "casefile",
    params(("id" = i64, Path, description = "the work"), DossierParams),
    responses((status = 200, description = "一工地一档: the work, its parties, and in time order its filings, notices, inspections with photos, hazards with their history, enforcement, hand-overs, policies and permits",
               content((String = "text/html"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn get_dossier(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Query(q): Query<DossierParams>,
) -> ApiResult<Response> {
    let format = q.get("format").map_or("html", String::as_str);
    if !matches!(format, "html" | "docx") {
        return Err(ApiError::invalid(
            "format",
            format!("{format:?} is not html or docx"),
        ));
    }
    let d = dossier::dossier(&st.store, &caller.scope, id).await?;
    if format == "docx" {
        let name = format!("一工地一档-{}.docx", d.work.value.code);
        return docx_answer(dossier::to_blocks(&d), name).await;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok((headers, dossier::to_html(&d)).into_response())
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/notice.docx", operation_id = "getProjectNotice", tag = "casefile",
    params(("id" = i64, Path, description = "the work")),
    responses((status = 200, description = "the 告知书 with its 承诺书, filled from the work's data, ready to print",
               content((Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem)))]
pub async fn get_notice(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Response> {
    let d = dossier::dossier(&st.store, &caller.scope, id).await?;
    let name = format!("告知书-{}.docx", d.work.value.code);
    docx_answer(dossier::notice_blocks(&d), name).await
}
