//! Bulk writes of tracks on SQLite: the visits of new tracks go in through
//! prepared multi-row inserts as large as the bind limit allows, and a
//! track's lines and times are packed blobs (see [`packed`]; lines finer
//! than the packing as WKB) rather than GeoJSON and JSON text. Rows written
//! by earlier versions (text, WKB, 8-byte times) are still read: a value
//! says whether it is a blob, and a blob's header what it holds.

use std::sync::OnceLock;

use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Row, TypeInfo, ValueRef};

use crate::spatial::geometry_from_geojson;
use crate::store::StoreError;
use crate::store::sql::wkb;
use crate::store::sqlite::packed;

use crate::store::tracks::StoredVisit;

/// Rows of the largest insert: 4 binds a row, within SQLite's default
/// limit of 32,766 bound variables.
const MAX_ROWS: usize = 4_096;

/// The insert of `rows` visits, for `rows` a power of two up to
/// [`MAX_ROWS`]: few distinct texts, so each is prepared once per
/// connection and then found in its statement cache.
fn insert_sql(rows: usize) -> &'static str {
    static SQL: [OnceLock<String>; 13] = [const { OnceLock::new() }; 13];
    let k = rows.trailing_zeros() as usize;
    SQL[k.min(12)].get_or_init(|| {
        let mut sql = String::with_capacity(64 + 14 * rows);
        // `or fail`: a failing row fails the statement without undoing the
        // rows before it, which the transaction's rollback does anyway; with
        // the default `or abort`, SQLite copies every page the statement
        // touches to a statement journal first, which was most of the bytes
        // a day's import wrote
        sql.push_str("insert or fail into cell_visit (track_id, cell, first_ms, last_ms) values ");
        for i in 0..rows {
            sql.push_str(if i == 0 {
                "(?, ?, ?, ?)"
            } else {
                ", (?, ?, ?, ?)"
            });
        }
        sql
    })
}

/// Adds visits with multi-row inserts: plain rows, no conflict handling, so
/// no row may exist yet for a visit's `(track_id, cell)`.
pub(super) async fn insert_visits(
    conn: &mut SqliteConnection,
    visits: &[StoredVisit],
) -> Result<(), sqlx::Error> {
    let mut rest = visits;
    while !rest.is_empty() {
        // the largest power of two that fits: full inserts, then a binary
        // decomposition of the remainder
        let rows = if rest.len() >= MAX_ROWS {
            MAX_ROWS
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, tail) = rest.split_at(rows);
        let mut q = sqlx::query(insert_sql(rows));
        for v in chunk {
            q = q
                .bind(v.track_id)
                .bind(v.cell.cast_signed())
                .bind(v.first_ms)
                .bind(v.last_ms);
        }
        if let Err(e) = q.execute(&mut *conn).await {
            // Without a statement journal an I/O error (a full disk) makes
            // SQLite roll back the whole transaction, not the statement: a
            // savepoint opens one again (or nests in the one still open), so
            // that the rollback of the caller's transaction finds one to end
            // and the connection goes back to the pool as it should.
            let _ = sqlx::query("savepoint visits_failed")
                .execute(&mut *conn)
                .await;
            return Err(e);
        }
        rest = tail;
    }
    Ok(())
}

/// Lines as a blob (packed, or WKB when finer than the packing) with their
/// bounding box (`[min_lon, min_lat, max_lon,
/// max_lat]`, `None` without a vertex); `None` for geometries other than
/// lines.
pub(super) fn lines_blob(g: &geo::Geometry<f64>) -> Option<(Vec<u8>, Option<[f64; 4]>)> {
    let lines: &[geo::LineString<f64>] = match g {
        geo::Geometry::LineString(l) => std::slice::from_ref(l),
        geo::Geometry::MultiLineString(m) => &m.0,
        _ => return None,
    };
    let mut bbox: Option<[f64; 4]> = None;
    for c in lines.iter().flat_map(|l| &l.0) {
        let b = bbox.get_or_insert([c.x, c.y, c.x, c.y]);
        b[0] = b[0].min(c.x);
        b[1] = b[1].min(c.y);
        b[2] = b[2].max(c.x);
        b[3] = b[3].max(c.y);
    }
    // packed when every coordinate is a whole 1e-7 degree, else WKB
    Some((packed::lines_blob(g).or_else(|| wkb::lines_wkb(g))?, bbox))
}

/// Lines as [`lines_blob`] keeps them, or as earlier versions did: WKB
/// alone or `GeoJSON` text.
pub(super) fn lines_read(row: &SqliteRow, col: &str) -> Result<geo::Geometry<f64>, StoreError> {
    if is_blob(row, col)? {
        let bytes: Vec<u8> = row.try_get(col)?;
        return packed::lines_from(&bytes).unwrap_or_else(|| wkb::lines_from_wkb(&bytes));
    }
    let text: String = row.try_get(col)?;
    geometry_from_geojson(&text).map_err(StoreError::Corrupt)
}

fn is_blob(row: &SqliteRow, col: &str) -> Result<bool, StoreError> {
    Ok(row.try_get_raw(col)?.type_info().name() == "BLOB")
}

/// Integers as [`packed::times_blob`] packs them, as 8 little-endian bytes
/// each, or as a JSON array (how earlier versions kept them).
pub(super) fn i64s_read(row: &SqliteRow, col: &str) -> Result<Vec<i64>, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("{col}: {e}"));
    if is_blob(row, col)? {
        let bytes: Vec<u8> = row.try_get(col)?;
        if let Some(times) = packed::times_from(&bytes) {
            return times;
        }
        let chunks = bytes.chunks_exact(8);
        if !chunks.remainder().is_empty() {
            return Err(corrupt(&"not a whole number of 8-byte integers"));
        }
        return Ok(chunks
            .map(|c| i64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or_default()))
            .collect());
    }
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| corrupt(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_their_bbox() {
        let g = geo::Geometry::MultiLineString(geo::MultiLineString::new(vec![
            geo::LineString::from(vec![(121.25, 31.0), (121.250_001_5, 31.000_02)]),
            geo::LineString::from(vec![(121.0, 30.5), (121.0, 30.5)]),
        ]));
        let (blob, bbox) = lines_blob(&g).expect("lines");
        assert_eq!(
            packed::lines_from(&blob).expect("packed").expect("reads"),
            g
        );
        // a coordinate finer than 1e-7 degree: kept as WKB
        let fine = geo::Geometry::LineString(geo::LineString::from(vec![(121.123_456_789, 31.0)]));
        let (blob, _) = lines_blob(&fine).expect("lines");
        assert_eq!(wkb::lines_from_wkb(&blob).expect("WKB"), fine);
        assert_eq!(bbox, Some([121.0, 30.5, 121.250_001_5, 31.000_02]));
        let empty = geo::Geometry::MultiLineString(geo::MultiLineString::new(vec![]));
        assert_eq!(lines_blob(&empty).map(|(_, b)| b), Some(None));
        assert!(lines_blob(&geo::Geometry::Point(geo::Point::new(0.0, 0.0))).is_none());
        assert_eq!(
            packed::times_from(&packed::times_blob(&[1, -2]))
                .expect("packed")
                .ok(),
            Some(vec![1, -2])
        );
    }
}
