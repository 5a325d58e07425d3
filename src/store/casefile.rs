//! Persistence of the case file of every work (一工地一档), a part of the
//! [`Store`](super::Store) trait that both backends implement through
//! [`super::sql::casefile`]: parties and their roles on works, the
//! append-only records (a correction is a new row naming the one it
//! corrects), and attachments stored once by SHA-256.
//!
//! A record is written in one transaction with the status of its work,
//! which follows from the records ([`CaseFile::status`]): the work's row is
//! locked first, so two records written at once cannot both derive from a
//! stale set.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;
use crate::casefile::{CaseRecord, Party, PartyRole, RecordBody};
use crate::domain::ProjectStatus;
use crate::inspection::checklist::InspectionDetail;

/// A stored party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoredParty {
    pub id: i64,
    #[serde(flatten)]
    pub party: Party,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A party named on a work in a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WorkParty {
    pub project_id: i64,
    pub role: PartyRole,
    pub role_zh: &'static str,
    pub party: StoredParty,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// Which records to read; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordQuery {
    /// One work.
    pub project: Option<i64>,
    /// Works of these towns (by code).
    pub towns: Option<Vec<String>>,
}

/// The outcome of writing a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// Stored; the work's status now.
    Done(Box<CaseRecord>, ProjectStatus),
    /// No such work.
    NoWork,
    /// The corrected record is not one of the work's records in force of
    /// the same kind (unknown, another work's, another kind, or already
    /// corrected).
    BadCorrection(String),
}

/// An attachment's description (its bytes apart).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AttachmentMeta {
    pub id: i64,
    pub project_id: i64,
    pub sha256: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub file_name: String,
    /// A photo's EXIF time, when it has one.
    pub taken_at: Option<DateTime<Utc>>,
    /// A photo's EXIF position (WGS-84 degrees), when it has one.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

/// A new upload; `id` of its meta is ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub meta: AttachmentMeta,
    pub bytes: Vec<u8>,
}

#[async_trait]
pub trait CaseFileStore {
    /// Stores a new party; a taken code is a [`StoreError::Conflict`].
    async fn create_party(
        &self,
        party: &Party,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredParty, StoreError>;

    /// Parties by id (all when `None`), by name.
    async fn parties(&self, ids: Option<&[i64]>) -> Result<Vec<StoredParty>, StoreError>;

    /// Names a party on a work in a role (the newest naming of a role
    /// stands); `false` when the work or the party does not exist.
    async fn name_party(
        &self,
        project_id: i64,
        party_id: i64,
        role: PartyRole,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Every naming of the works a query selects, oldest first.
    async fn work_parties(&self, q: &RecordQuery) -> Result<Vec<WorkParty>, StoreError>;

    /// Appends a record to a work and sets the work's status from its
    /// records, in one transaction.
    async fn add_record(
        &self,
        project_id: i64,
        body: &RecordBody,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Written, StoreError>;

    /// Every record (corrected ones too) of the works a query selects, by
    /// time then id.
    async fn records(&self, q: &RecordQuery) -> Result<Vec<CaseRecord>, StoreError>;

    /// Stores an upload, its bytes once per SHA-256.
    async fn put_attachment(&self, new: &NewAttachment) -> Result<AttachmentMeta, StoreError>;

    /// One attachment with its bytes.
    async fn attachment(&self, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>, StoreError>;

    /// The attachments of the works a query selects, by id.
    async fn attachments(&self, q: &RecordQuery) -> Result<Vec<AttachmentMeta>, StoreError>;

    /// What the inspections of the works a query selects recorded beyond
    /// their basics, by inspection id.
    async fn inspection_details(
        &self,
        q: &RecordQuery,
    ) -> Result<HashMap<i64, InspectionDetail>, StoreError>;
}
