//! The hexagon of every cell a grid or a visit names, kept in `cell_shape`
//! for the QGIS views (migration 0014): PostgreSQL has no H3 here, so the
//! application computes the boundaries (h3o) when it writes cells, and
//! fills in what is missing when the store opens (a database written
//! before the views existed).

use geozero::{CoordDimensions, ToWkb};
use h3o::CellIndex;
use sqlx::postgres::{PgConnection, PgPool};

/// Cells looked up and written per statement.
const CHUNK: usize = 10_000;

/// The cell's boundary as a closed polygon in WKB (lon, lat).
fn polygon_wkb(cell: CellIndex) -> Option<Vec<u8>> {
    let mut ring: Vec<geo::Coord<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| geo::coord! {x: ll.lng(), y: ll.lat()})
        .collect();
    ring.push(*ring.first()?);
    let polygon = geo::Geometry::Polygon(geo::Polygon::new(geo::LineString(ring), vec![]));
    polygon.to_wkb(CoordDimensions::xy()).ok()
}

/// Keeps the hexagons of `cells` that `cell_shape` does not hold yet.
pub(super) async fn keep(conn: &mut PgConnection, cells: &[u64]) -> Result<(), sqlx::Error> {
    let mut ids: Vec<i64> = cells.iter().map(|c| c.cast_signed()).collect();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(CHUNK) {
        let missing: Vec<i64> = sqlx::query_scalar(
            "select c from unnest($1::bigint[]) as c \
             where not exists (select 1 from cell_shape s where s.cell = c)",
        )
        .bind(chunk)
        .fetch_all(&mut *conn)
        .await?;
        if missing.is_empty() {
            continue;
        }
        let (mut keep, mut res, mut hex, mut wkb) = (vec![], vec![], vec![], vec![]);
        for id in missing {
            let Ok(cell) = CellIndex::try_from(id.cast_unsigned()) else {
                continue;
            };
            let Some(w) = polygon_wkb(cell) else {
                continue;
            };
            keep.push(id);
            res.push(i16::from(u8::from(cell.resolution())));
            hex.push(cell.to_string());
            wkb.push(w);
        }
        sqlx::query(
            "insert into cell_shape (cell, resolution, h3, geom) \
             select c, r, h, st_geomfromwkb(w, 4326) \
             from unnest($1::bigint[], $2::smallint[], $3::text[], $4::bytea[]) as u(c, r, h, w) \
             on conflict (cell) do nothing",
        )
        .bind(&keep)
        .bind(&res)
        .bind(&hex)
        .bind(&wkb)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Fills in the hexagons of the cells already stored without one.
pub(super) async fn backfill(pool: &PgPool) -> Result<(), sqlx::Error> {
    let missing: Vec<i64> = sqlx::query_scalar(
        "select cell from (select cell from grid_cell union select distinct cell from cell_visit) c \
         where not exists (select 1 from cell_shape s where s.cell = c.cell)",
    )
    .fetch_all(pool)
    .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    let cells: Vec<u64> = missing.into_iter().map(i64::cast_unsigned).collect();
    keep(&mut conn, &cells).await
}
