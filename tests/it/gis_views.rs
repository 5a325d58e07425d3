//! QGIS-ready PostGIS (migration 0014): GDAL's `ogrinfo PG:` lists the views
//! of coverage cells, visits and grid cells as SRID 4326 polygons, with as
//! many features as the stored cells — every cell a track or a grid names
//! has its hexagon, written by the application as it writes the cells.

use std::collections::BTreeMap;
use std::process::Command;

use sqlx::PgPool;

use crate::common;
use gridpatrol::demo;

/// `ogrinfo -so` of a layer of the test's database: its feature count and
/// whether its SRS is EPSG:4326 and its geometry a polygon.
fn ogrinfo(db: &str, layer: &str) -> (u64, String) {
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so"])
        .arg(pg(db))
        .arg(layer)
        .output()
        .expect("ogrinfo runs (apt-get install gdal-bin)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = text
        .lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a feature count");
    (n, text)
}

/// GDAL's name of the test's database, on the server of `DATABASE_URL`.
fn pg(db: &str) -> String {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let o: sqlx::postgres::PgConnectOptions = url.parse().expect("a database URL");
    format!(
        "PG:host={} port={} user={} dbname={db}",
        o.get_host(),
        o.get_port(),
        o.get_username()
    )
}

#[sqlx::test(migrations = false)]
async fn qgis_reads_the_cells_as_polygons(pool: PgPool) {
    let store = common::postgis_store(pool.clone()).await;
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    let db: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&pool)
        .await
        .expect("db");
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.expect(sql);
            u64::try_from(n).expect("a count")
        }
    };
    let want = BTreeMap::from([
        (
            "gis_coverage_cell",
            count("select count(distinct cell) from cell_visit").await,
        ),
        (
            "gis_cell_visit",
            count("select count(*) from cell_visit").await,
        ),
        (
            "gis_grid_cell",
            count("select count(*) from grid_cell").await,
        ),
    ]);
    assert!(
        want.values().all(|n| *n > 100),
        "the demo has cells: {want:?}"
    );
    // the layers GDAL lists
    let listing = Command::new("ogrinfo")
        .args(["-ro", "-q"])
        .arg(pg(&db))
        .output()
        .expect("ogrinfo");
    let listing = String::from_utf8_lossy(&listing.stdout);
    for (layer, n) in &want {
        assert!(listing.contains(layer), "{layer} listed: {listing}");
        let (got, text) = ogrinfo(&db, layer);
        assert_eq!(got, *n, "{layer}: {text}");
        assert!(text.contains("Geometry: Polygon"), "{layer}: {text}");
        assert!(
            text.contains("ID[\"EPSG\",4326]"),
            "{layer}: SRID 4326: {text}"
        );
    }
    let (_, text) = ogrinfo(&db, "gis_coverage_cell");
    assert!(
        text.contains("last_patrolled: DateTime"),
        "timestamps, not epoch ms: {text}"
    );
    // a hexagon is where its cell is: its centroid maps back to the cell
    let rows: Vec<(String, f64, f64)> = sqlx::query_as(
        "select h3, st_x(st_centroid(geom)), st_y(st_centroid(geom)) from cell_shape limit 50",
    )
    .fetch_all(&pool)
    .await
    .expect("shapes");
    for (h3, lon, lat) in rows {
        let cell: h3o::CellIndex = h3.parse().expect("an H3 id");
        let at = h3o::LatLng::new(lat, lon)
            .expect("a position")
            .to_cell(cell.resolution());
        assert_eq!(at, cell, "{h3}");
    }
}
