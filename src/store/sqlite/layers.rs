//! The layer tables on the embedded SQLite store: what the shared flow of
//! [`crate::store::sql::layers`] needs spelt for SQLite. Geometries are
//! GeoJSON text with their bbox in four columns; grid cells come back as
//! one comma-separated text.

use std::fmt::Write as _;

use geo::BoundingRect;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::spatial::geometry_to_geojson;
use crate::store::{Layer, StoreError};

/// The select list of a layer: id, typed columns, geometry, cells.
pub(super) fn select_list(layer: Layer) -> String {
    let mut s = String::from("t.id");
    for c in layer.columns() {
        let _ = write!(s, ", t.{}", c.name);
    }
    s.push_str(", t.geom");
    if layer.has_cells() {
        s.push_str(", (select group_concat(cell) from (select cell from grid_cell gc where gc.grid_id = t.id order by cell)) as cells");
    }
    s
}

pub(super) fn read_cells(row: &SqliteRow) -> Result<Vec<u64>, StoreError> {
    let s: Option<String> = row.try_get("cells")?;
    s.unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<i64>().map(i64::cast_unsigned))
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Corrupt(format!("cells: {e}")))
}

/// The geometry as GeoJSON and its bbox, in column order `geom, min_lon, min_lat, max_lon, max_lat`.
pub(super) fn geom_values(g: Option<&geo::Geometry<f64>>) -> (Option<String>, [Option<f64>; 4]) {
    match g {
        None => (None, [None; 4]),
        Some(g) => {
            let bbox = g.bounding_rect().map_or([None; 4], |r| {
                [
                    Some(r.min().x),
                    Some(r.min().y),
                    Some(r.max().x),
                    Some(r.max().y),
                ]
            });
            (Some(geometry_to_geojson(g)), bbox)
        }
    }
}
