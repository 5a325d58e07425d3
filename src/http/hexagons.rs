//! The hexagon of an H3 cell as GeoJSON, made once per cell and shared by
//! every answer that draws it: a coverage map of a town is two thousand
//! hexagons, of the district fifty thousand, and their boundaries and text
//! do not change. Kept in a bounded process-wide cache (about the district
//! at street level plus its coarser levels).

use std::sync::{Arc, LazyLock};

use h3o::CellIndex;
use quick_cache::sync::Cache;
use serde_json::value::RawValue;

use super::geojson_types::Geometry;

/// Cells kept: the district's 52,633 cells at resolution 10 and more.
const CELLS_KEPT: usize = 120_000;

static HEXAGONS: LazyLock<Cache<CellIndex, Arc<RawValue>>> =
    LazyLock::new(|| Cache::new(CELLS_KEPT));

/// The cell's boundary as a GeoJSON Polygon (closed ring, `[lon, lat]`).
fn polygon(cell: CellIndex) -> geojson::Geometry {
    let mut ring: Vec<geojson::Position> = cell
        .boundary()
        .iter()
        .map(|ll| vec![ll.lng(), ll.lat()].into())
        .collect();
    if let Some(first) = ring.first().cloned() {
        ring.push(first);
    }
    geojson::Geometry::from(geojson::GeometryValue::Polygon {
        coordinates: vec![ring],
    })
}

fn text(cell: CellIndex) -> Option<Arc<RawValue>> {
    let json = serde_json::to_string(&polygon(cell)).ok()?;
    RawValue::from_string(json).ok().map(Arc::from)
}

/// The cell's hexagon (pentagon for the twelve pentagons).
#[must_use]
pub fn hexagon(cell: CellIndex) -> Option<Geometry> {
    if let Some(t) = HEXAGONS.get(&cell) {
        return Some(Geometry::from_text(t));
    }
    let t = text(cell)?;
    HEXAGONS.insert(cell, t.clone());
    Some(Geometry::from_text(t))
}
