//! Attachments over HTTP: `POST /api/v1/attachments?project=ID` takes the
//! file as the body with its Content-Type, or as the first file of a
//! `multipart/form-data` body, and answers its id; `GET
//! /api/v1/attachments/{id}` serves it with its type to callers whose scope
//! holds its work (404 otherwise). Over 25 MB is a 413; a file that is not
//! a JPEG, PNG or HEIC photo or a PDF or DOCX document by its bytes, or not
//! what its Content-Type says, a 415.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::audit::Audited;
use super::error::{ApiError, ApiResult};
use super::extract::{Id, Json, Query};
use super::params::Params;
use crate::auth::Caller;
use crate::service::attachments::{self as svc, MAX_ATTACHMENT_BYTES, UploadError};
use crate::store::casefile::AttachmentMeta;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download))
}

crate::query_params! {
    /// The work a file belongs to, and its name.
    pub struct UploadParams {
        /// The work's id (required).
        project: i64,
        /// The file's name, e.g. `现场照片1.jpg` (a multipart part's own name otherwise).
        name: String,
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Service(s) => s.into(),
            UploadError::TooLarge(_) => Self::payload_too_large(MAX_ATTACHMENT_BYTES),
            UploadError::Unsupported(why) => Self::unsupported_media(why),
        }
    }
}

/// The 413 of an upload: the service's body limit or 25 MB, the smaller.
fn too_large(st: &AppState) -> ApiError {
    ApiError::payload_too_large(st.guard.limits.max_body_bytes.min(MAX_ATTACHMENT_BYTES))
}

/// The file of a body: the body itself, or the first file part of a
/// multipart form, with its declared type and name.
async fn file_of(
    req: Request,
    st: &AppState,
) -> Result<(Option<String>, Option<String>, Vec<u8>), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("multipart/form-data"))
    {
        let refused = |status: StatusCode, text: String| {
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(st)
            } else {
                ApiError::bad_request("body", text)
            }
        };
        let mut form = Multipart::from_request(req, st)
            .await
            .map_err(|e| refused(e.status(), e.body_text()))?;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| refused(e.status(), e.body_text()))?
        {
            if field.file_name().is_none() && field.name() != Some("file") {
                continue;
            }
            let declared = field.content_type().map(str::to_owned);
            let name = field.file_name().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| refused(e.status(), e.body_text()))?;
            return Ok((declared, name, bytes.to_vec()));
        }
        return Err(ApiError::invalid("file", "the form holds no file part"));
    }
    let bytes = Bytes::from_request(req, st).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(st)
        } else {
            ApiError::bad_request("body", e.body_text())
        }
    })?;
    Ok((content_type, None, bytes.to_vec()))
}

#[utoipa::path(post, path = "/api/v1/attachments", operation_id = "uploadAttachment", tag = "casefile",
    params(UploadParams),
    request_body(description = "the file as the body with its Content-Type, or a multipart/form-data form with the file as its first file part; at most 25 MB",
        content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/heic"), (Vec<u8> = "application/pdf"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (String = "multipart/form-data"))),
    responses((status = 201, description = "stored (its bytes once per SHA-256); a photo's EXIF time and position kept", body = AttachmentMeta),
              (status = 403, description = "the role may not upload", body = super::error::Problem),
              (status = 404, description = "unknown work, or outside the caller's scope", body = super::error::Problem),
              (status = 413, description = "larger than 25 MB", body = super::error::Problem),
              (status = 415, description = "not a JPEG, PNG, HEIC, PDF or DOCX by its content, or not the declared type", body = super::error::Problem),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn upload(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<UploadParams>,
    req: Request,
) -> ApiResult<(StatusCode, Audited, Json<AttachmentMeta>)> {
    let project = q
        .get("project")
        .ok_or_else(|| ApiError::invalid("project", "the work's id is required"))?
        .trim()
        .parse::<i64>()
        .map_err(|_| ApiError::invalid("project", "must be a work's id"))?;
    let (declared, part_name, bytes) = file_of(req, &st).await?;
    let name = q.get("name").cloned().or(part_name).unwrap_or_default();
    let meta = svc::upload(
        &st.store,
        &caller,
        project,
        &name,
        declared.as_deref(),
        bytes,
        Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Audited::created("attachment", meta.id),
        Json(meta),
    ))
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}", operation_id = "getAttachment", tag = "casefile",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the file, with its type",
               content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/heic"), (Vec<u8> = "application/pdf"),
                       (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))),
              (status = 404, description = "unknown, or its work is outside the caller's scope", body = super::error::Problem)))]
pub async fn download(
    State(st): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Response> {
    let (meta, bytes) = svc::get(&st.store, &caller.scope, id).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&meta.media_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", meta.sha256)) {
        headers.insert(header::ETAG, v);
    }
    Ok((headers, bytes).into_response())
}
