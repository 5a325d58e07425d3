//! Persistence of inspections, hazards and hazard history, a part of the
//! [`Store`](super::Store) trait that both backends implement
//! ([`super::inspection_pg`], [`super::inspection_sqlite`]).
//!
//! The status of a hazard is written by compare-and-set (`where status =
//! from`) in the same transaction as its history row, so two officers
//! moving one hazard at once cannot both succeed and the history never
//! disagrees with the status.

use async_trait::async_trait;

use super::StoreError;
use crate::inspection::{
    Hazard, HazardEvent, HazardStatus, Inspection, NewInspection, StatusChange,
};

/// Which inspections, hazards or events to read; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InspectionQuery {
    /// One work.
    pub project: Option<i64>,
    /// Works of these towns (by code).
    pub towns: Option<Vec<String>>,
    /// One hazard (for hazards and events).
    pub hazard: Option<i64>,
}

/// The outcome of a status move.
#[derive(Debug, Clone, PartialEq)]
pub enum Moved {
    /// The hazard moved; its new state.
    Done(Hazard),
    /// Its status was no longer the expected one (someone else moved it).
    Stale,
    /// No such hazard.
    Missing,
}

#[async_trait]
pub trait InspectionStore {
    /// Stores an inspection and its findings as open hazards, each with its
    /// finding event, in one transaction. The times are taken as given.
    async fn record_inspection(
        &self,
        new: &NewInspection,
        recorded_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Inspection, Vec<Hazard>), StoreError>;

    /// Inspections, by time then id.
    async fn inspections(&self, q: &InspectionQuery) -> Result<Vec<Inspection>, StoreError>;

    /// Hazards, by id.
    async fn hazards(&self, q: &InspectionQuery) -> Result<Vec<Hazard>, StoreError>;

    /// Hazard events, by time then id.
    async fn hazard_events(&self, q: &InspectionQuery) -> Result<Vec<HazardEvent>, StoreError>;

    /// Moves hazard `id` from `from` to the change's status and records the
    /// change, in one transaction.
    async fn move_hazard(
        &self,
        id: i64,
        from: HazardStatus,
        change: &StatusChange,
    ) -> Result<Moved, StoreError>;
}

/// The corrupt-row error of a column whose value is not in its vocabulary.
pub(super) fn bad_value(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{column}: unexpected value {value:?}"))
}
