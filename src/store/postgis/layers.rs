//! The layer tables on PostGIS: what the shared flow of
//! [`crate::store::sql::layers`] needs spelt for PostGIS. Geometries go in
//! and out as GeoJSON through `ST_GeomFromGeoJSON` / `ST_AsGeoJSON`; grid
//! cells come back as a `bigint[]`.

use std::fmt::Write as _;

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::spatial::geometry_to_geojson;
use crate::store::layer::{ColType, GeomKind};
use crate::store::{Layer, StoreError};

/// The select list of a layer: id, typed columns, geometry as GeoJSON.
pub(super) fn select_list(layer: Layer) -> String {
    let mut s = String::from("t.id");
    for c in layer.columns() {
        match c.ty {
            // integer/smallint columns are read as bigint so one type decodes all
            ColType::Int => {
                let _ = write!(s, ", t.{}::bigint as {}", c.name, c.name);
            }
            _ => {
                let _ = write!(s, ", t.{}", c.name);
            }
        }
    }
    s.push_str(", st_asgeojson(t.geom, 9) as geom");
    if layer.has_cells() {
        s.push_str(
            ", array(select cell from grid_cell gc where gc.grid_id = t.id order by cell) as cells",
        );
    }
    s
}

pub(super) fn read_cells(row: &PgRow) -> Result<Vec<u64>, StoreError> {
    let cells: Vec<i64> = row.try_get("cells")?;
    Ok(cells.into_iter().map(i64::cast_unsigned).collect())
}

pub(super) fn push_geom(
    qb: &mut QueryBuilder<'_, Postgres>,
    layer: Layer,
    g: Option<&geo::Geometry<f64>>,
) {
    let json = g.map(geometry_to_geojson);
    match layer.geom_kind() {
        GeomKind::MultiPolygon | GeomKind::OptMultiPolygon => {
            qb.push("st_multi(st_setsrid(st_geomfromgeojson(");
            qb.push_bind(json);
            qb.push("), 4326))");
        }
        GeomKind::Site => {
            qb.push("st_setsrid(st_geomfromgeojson(");
            qb.push_bind(json);
            qb.push("), 4326)");
        }
    }
}
