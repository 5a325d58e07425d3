//! Bulk writes of tracks on SQLite: the visits of new tracks go in through
//! prepared multi-row inserts as large as the bind limit allows, and a
//! track's lines and times are written as text directly, without building
//! JSON values first.

use std::sync::OnceLock;

use sqlx::sqlite::SqliteConnection;

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
        sql.push_str("insert into cell_visit (track_id, cell, first_ms, last_ms) values ");
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
        q.execute(&mut *conn).await?;
        rest = tail;
    }
    Ok(())
}

/// Lines as `GeoJSON` text with their bounding box (`[min_lon, min_lat,
/// max_lon, max_lat]`, `None` without a vertex); `None` for geometries
/// other than lines.
pub(super) fn lines_geojson(g: &geo::Geometry<f64>) -> Option<(String, Option<[f64; 4]>)> {
    let lines: &[geo::LineString<f64>] = match g {
        geo::Geometry::LineString(l) => std::slice::from_ref(l),
        geo::Geometry::MultiLineString(m) => &m.0,
        _ => return None,
    };
    let multi = matches!(g, geo::Geometry::MultiLineString(_));
    let points: usize = lines.iter().map(|l| l.0.len()).sum();
    let mut out = String::with_capacity(48 + 44 * points);
    let mut bbox: Option<[f64; 4]> = None;
    let mut buf = ryu::Buffer::new();
    out.push_str(if multi {
        r#"{"type":"MultiLineString","coordinates":["#
    } else {
        r#"{"type":"LineString","coordinates":"#
    });
    for (i, l) in lines.iter().enumerate() {
        out.push_str(if i == 0 { "[" } else { ",[" });
        for (j, c) in l.0.iter().enumerate() {
            out.push_str(if j == 0 { "[" } else { ",[" });
            push_f64(&mut out, &mut buf, c.x);
            out.push(',');
            push_f64(&mut out, &mut buf, c.y);
            out.push(']');
            let b = bbox.get_or_insert([c.x, c.y, c.x, c.y]);
            b[0] = b[0].min(c.x);
            b[1] = b[1].min(c.y);
            b[2] = b[2].max(c.x);
            b[3] = b[3].max(c.y);
        }
        out.push(']');
    }
    out.push_str(if multi { "]}" } else { "}" });
    Some((out, bbox))
}

/// A finite number as JSON (shortest text that reads back the same);
/// anything else as `null`, as `serde_json` writes it.
fn push_f64(out: &mut String, buf: &mut ryu::Buffer, x: f64) {
    if x.is_finite() {
        let s = buf.format_finite(x);
        // `ryu` writes integral values as `1.0`, as JSON allows
        out.push_str(s);
    } else {
        out.push_str("null");
    }
}

/// Integers as a JSON array.
pub(super) fn i64s_json(v: &[i64]) -> String {
    let mut out = String::with_capacity(2 + 15 * v.len());
    let mut buf = itoa::Buffer::new();
    out.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(buf.format(*x));
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_as_written() {
        let g = geo::Geometry::MultiLineString(geo::MultiLineString::new(vec![
            geo::LineString::from(vec![(121.25, 31.0), (121.250_001_5, 31.000_02)]),
            geo::LineString::from(vec![(121.0, 30.5), (121.0, 30.5)]),
        ]));
        let (json, bbox) = lines_geojson(&g).expect("lines");
        let back = crate::spatial::geometry_from_geojson(&json).expect("GeoJSON");
        assert_eq!(back, g);
        assert_eq!(bbox, Some([121.0, 30.5, 121.250_001_5, 31.000_02]));
        assert_eq!(i64s_json(&[1, -2, 3]), "[1,-2,3]");
        let back: Vec<i64> = serde_json::from_str(&i64s_json(&[i64::MIN, 0])).expect("JSON");
        assert_eq!(back, vec![i64::MIN, 0]);
    }
}
