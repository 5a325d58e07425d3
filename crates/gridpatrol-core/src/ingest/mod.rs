//! Reading what users bring: GeoJSON layers, the town ledgers' project CSVs,
//! and (in [`track`]) patrol tracks. Every reader converts coordinates from
//! the declared CRS to WGS-84 on the way in and says where a bad input is.

pub mod features;
pub mod projects_csv;
pub mod track;

use std::fmt;

use crate::domain::Invalid;

/// A bad input: where it is (e.g. "feature 12", "line 14"), the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct IngestError {
    pub location: Option<String>,
    pub field: String,
    pub reason: String,
}

impl IngestError {
    pub fn new(
        location: Option<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            location,
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Attaches a location to a domain rule violation.
    #[must_use]
    pub fn at(location: impl Into<String>, e: Invalid) -> Self {
        Self {
            location: Some(location.into()),
            field: e.field,
            reason: e.reason,
        }
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{l}: {}: {}", self.field, self.reason),
            None => write!(f, "{}: {}", self.field, self.reason),
        }
    }
}
