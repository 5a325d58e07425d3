//! The domain model of DESIGN.md as validated types: towns (街镇), zones
//! (片区), grids (网格), small construction works (小微工程), crowded venues
//! (人员密集场所) and commercial districts (商圈). Pure data and rules: no I/O.
//!
//! Every enum parses from its `snake_case` API name and from the Chinese label
//! a town ledger uses, so CSV exports can be imported as they are.

mod labels;
mod project;

use geo::{Geometry, MultiPolygon};
use h3o::{CellIndex, Resolution};
use serde::{Deserialize, Serialize};

pub(crate) use labels::vocabulary;
pub use labels::{Category, Funding, ProjectStatus, TownKind, VenueKind};
pub use project::{DATE_RANGE, FIT_OUT_AREA_LIMIT_M2, INVESTMENT_LIMIT_CNY, Project};

/// A value that the store has given an id.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    pub id: i64,
    pub value: T,
}

/// A rule of the domain model that an input broke, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Checks a natural key: non-empty, at most 64 characters, no control characters.
pub fn check_code(field: &str, code: &str) -> Result<(), Invalid> {
    if code.trim().is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if code.chars().count() > 64 || code.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            "must be at most 64 printable characters",
        ));
    }
    Ok(())
}

/// Checks a display name: non-empty, at most 200 characters, no control
/// characters.
pub fn check_name(field: &str, name: &str) -> Result<(), Invalid> {
    if name.trim().is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if name.chars().count() > 200 {
        return Err(Invalid::new(field, "must be at most 200 characters"));
    }
    check_text(field, name)
}

/// Checks a free text holds no control characters but tab, newline and
/// carriage return (a NUL cannot be stored in PostgreSQL text).
pub fn check_text(field: &str, text: &str) -> Result<(), Invalid> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(())
}

/// A town or subdistrict (街镇), or the development zone (经开区).
#[derive(Debug, Clone, PartialEq)]
pub struct Town {
    /// The 9-digit statistical code, e.g. `310117101`.
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub kind: TownKind,
    /// The boundary is an approximation (e.g. split from an older division).
    pub approximate: bool,
    pub note: String,
    pub geometry: MultiPolygon<f64>,
}

/// A zone (片区): a few grids of one town under one manager.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub code: String,
    pub name: String,
    pub town: String,
    pub manager: String,
    /// The union of its grids, kept for GIS users; may be empty on import.
    pub geometry: Option<MultiPolygon<f64>>,
}

/// Patrol interval bounds: a day to a quarter.
pub const PATROL_INTERVAL_DAYS: std::ops::RangeInclusive<u32> = 1..=90;

/// A grid (网格): a set of H3 cells with a responsible manager.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub code: String,
    pub name: String,
    pub zone: String,
    pub town: String,
    pub manager: String,
    /// How often every cell of the grid must be patrolled.
    pub patrol_interval_days: u32,
    /// The coverage resolution of the grid's cells.
    pub resolution: Resolution,
    /// The grid's cells, compacted (sorted, no cell contains another).
    pub cells: Vec<CellIndex>,
    /// The grid's outline, kept for GIS users.
    pub geometry: Option<MultiPolygon<f64>>,
}

impl Grid {
    /// Validates and compacts a set of cells for a grid of `resolution`:
    /// no cell may be finer than the resolution.
    pub fn compact_cells(
        resolution: Resolution,
        cells: impl IntoIterator<Item = CellIndex>,
    ) -> Result<Vec<CellIndex>, Invalid> {
        let mut expanded = Vec::new();
        for cell in cells {
            if cell.resolution() > resolution {
                return Err(Invalid::new(
                    "cells",
                    format!("cell {cell} is finer than the grid resolution {resolution}"),
                ));
            }
            expanded.extend(cell.children(resolution));
        }
        if expanded.is_empty() {
            return Err(Invalid::new("cells", "a grid needs at least one cell"));
        }
        expanded.sort_unstable();
        expanded.dedup();
        CellIndex::compact(&mut expanded).map_err(|e| Invalid::new("cells", e.to_string()))?;
        expanded.sort_unstable();
        Ok(expanded)
    }

    /// The grid's cells at its own resolution.
    pub fn expanded_cells(&self) -> impl Iterator<Item = CellIndex> + '_ {
        let res = self.resolution;
        self.cells.iter().flat_map(move |c| c.children(res))
    }
}

/// A commercial district (商圈).
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    pub code: String,
    pub name: String,
    /// Whether the district has a one-stop registration plan (一揽子纳管计划).
    pub one_stop_plan: bool,
    /// Further source attributes, kept as they came.
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub geometry: MultiPolygon<f64>,
}

/// A crowded venue (人员密集场所).
#[derive(Debug, Clone, PartialEq)]
pub struct Venue {
    pub code: String,
    pub name: String,
    pub kind: VenueKind,
    /// Derived from a proxy (e.g. a bus stop named after the venue), not surveyed.
    pub proxy: bool,
    pub source: String,
    /// A Point, Polygon or MultiPolygon.
    pub geometry: Geometry<f64>,
}

/// Whether a geometry is a point or an area, the shapes a site can have.
#[must_use]
pub fn is_site_geometry(g: &Geometry<f64>) -> bool {
    matches!(
        g,
        Geometry::Point(_) | Geometry::Polygon(_) | Geometry::MultiPolygon(_)
    )
}

/// A summary of one import or batch write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for ImportSummary {
    fn add_assign(&mut self, o: Self) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}
