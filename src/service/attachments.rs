//! Attachments of a work (附件): photos (JPEG, PNG, HEIC) and documents
//! (PDF, DOCX), known by their bytes, stored once by SHA-256 with a photo's
//! EXIF time and position, and read back only by callers whose scope holds
//! the work they belong to.

use std::fmt::Write as _;

use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use super::ServiceError;
use super::inspections::work_in_scope;
use crate::auth::{Action, Caller, Scope};
use crate::casefile::media::{MediaType, photo_meta, sniff};
use crate::store::DynStore;
use crate::store::casefile::{AttachmentMeta, NewAttachment};

/// The largest attachment kept: 25 MB.
pub const MAX_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the file is {0} bytes, more than {MAX_ATTACHMENT_BYTES}")]
    TooLarge(usize),
    /// Not a kind kept, or not what its declared type says.
    #[error("{0}")]
    Unsupported(String),
}

/// Stores a file on a work of the caller's scope. `declared` is the
/// Content-Type the client gave: when it names a kind, the bytes must be
/// that kind.
pub async fn upload(
    store: &DynStore,
    caller: &Caller,
    project_id: i64,
    file_name: &str,
    declared: Option<&str>,
    bytes: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<AttachmentMeta, UploadError> {
    if !(caller.role.may(Action::WriteCaseFile) || caller.role.may(Action::WriteInspection)) {
        caller
            .require(Action::WriteCaseFile)
            .map_err(ServiceError::from)?;
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(UploadError::TooLarge(bytes.len()));
    }
    if file_name.chars().count() > 200 || file_name.chars().any(char::is_control) {
        return Err(ServiceError::from(crate::domain::Invalid::new(
            "name",
            "must be at most 200 printable characters",
        ))
        .into());
    }
    let Some(kind) = sniff(&bytes) else {
        return Err(UploadError::Unsupported(
            "the file is not a JPEG, PNG or HEIC photo, nor a PDF or DOCX document (by its content)"
                .to_owned(),
        ));
    };
    if let Some(d) = declared.and_then(MediaType::from_mime)
        && d != kind
    {
        return Err(UploadError::Unsupported(format!(
            "the file is declared {} but its content is {}",
            d.mime(),
            kind.mime()
        )));
    }
    work_in_scope(store, &caller.scope, project_id).await?;
    let meta = if kind.is_photo() {
        let b = bytes.clone();
        tokio::task::spawn_blocking(move || photo_meta(&b))
            .await
            .map_err(super::task_failed("EXIF reading"))?
    } else {
        crate::casefile::media::PhotoMeta::default()
    };
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
    let new = NewAttachment {
        meta: AttachmentMeta {
            id: 0,
            project_id,
            sha256,
            media_type: kind.mime().to_owned(),
            size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            file_name: file_name.to_owned(),
            taken_at: meta.taken_at.map(|t| t.trunc_subsecs(3)),
            lon: meta.lon,
            lat: meta.lat,
            uploaded_by: caller.user.clone(),
            uploaded_at: now.trunc_subsecs(3),
        },
        bytes,
    };
    Ok(store
        .put_attachment(&new)
        .await
        .map_err(ServiceError::from)?)
}

/// An attachment with its bytes, when its work is in the scope.
pub async fn get(
    store: &DynStore,
    scope: &Scope,
    id: i64,
) -> Result<(AttachmentMeta, Vec<u8>), ServiceError> {
    let not_found = || ServiceError::NotFound(format!("attachment {id}"));
    let (meta, bytes) = store.attachment(id).await?.ok_or_else(not_found)?;
    match work_in_scope(store, scope, meta.project_id).await {
        Ok(_) => Ok((meta, bytes)),
        Err(ServiceError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e),
    }
}
