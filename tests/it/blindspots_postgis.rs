//! The works near crowded venues, computed in the engine (R-tree and
//! geodesic distances), equal PostGIS's own answer, `ST_DWithin` on
//! `geography`, on the Songjiang demo works and venues, with polygon venues
//! and polygon works added so that "inside is 0 m" and edge distances are
//! checked too.

use crate::common;

use std::collections::BTreeMap;

use geo::{Geometry, Point, Rect};
use gridpatrol::blindspots::near_venues::{Site, pairs};
use gridpatrol::domain::{Project, Venue, VenueKind};
use gridpatrol::service::{self, FileFormat, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::{DynStore, typed};
use sqlx::PgPool;

async fn import(store: &DynStore, kind: ImportKind, file: &str) {
    let bytes = std::fs::read(common::fixtures().join(file)).expect("fixture");
    let csv = std::path::Path::new(file)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let format = if csv {
        FileFormat::Csv
    } else {
        FileFormat::GeoJson
    };
    service::import_bytes(store, kind, &bytes, format, Crs::Wgs84, &|_| {})
        .await
        .expect("import");
}

/// A square of `half` degrees of latitude around a point, as a polygon.
fn square(p: Point<f64>, half: f64) -> Geometry<f64> {
    let k = p.y().to_radians().cos();
    Rect::new(
        (p.x() - half / k, p.y() - half),
        (p.x() + half / k, p.y() + half),
    )
    .to_polygon()
    .into()
}

/// Adds polygon venues around some works (the work inside, 0 m) and beside
/// others (about 60 m off), and turns some works into small polygons.
async fn add_polygons(store: &DynStore) {
    let works = typed::all::<Project>(store).await.expect("works");
    for (i, w) in works.iter().step_by(25).enumerate() {
        let Geometry::Point(p) = w.value.geometry else {
            continue;
        };
        let centre = if i % 2 == 0 {
            p
        } else {
            Point::new(p.x(), p.y() + 0.0012)
        };
        let venue = Venue {
            code: format!("test-polygon-{i}"),
            name: format!("测试场馆{i}"),
            kind: VenueKind::Venue,
            proxy: false,
            source: "test".into(),
            geometry: square(centre, 0.0006),
        };
        typed::insert(store, &venue).await.expect("venue");
    }
    for w in works.iter().skip(3).step_by(40) {
        let Geometry::Point(p) = w.value.geometry else {
            continue;
        };
        let mut moved = w.value.clone();
        moved.geometry = square(p, 0.0002);
        typed::update(store, w.id, &moved).await.expect("work");
    }
}

async fn engine_pairs(store: &DynStore, d: f64) -> BTreeMap<(i64, i64), f64> {
    let works = typed::all::<Project>(store).await.expect("works");
    let venues = typed::all::<Venue>(store).await.expect("venues");
    let w: Vec<Site<'_>> = works
        .iter()
        .map(|s| Site {
            id: s.id,
            geometry: &s.value.geometry,
        })
        .collect();
    let v: Vec<Site<'_>> = venues
        .iter()
        .map(|s| Site {
            id: s.id,
            geometry: &s.value.geometry,
        })
        .collect();
    pairs(&w, &v, d)
        .into_iter()
        .map(|(p, v, d)| ((p, v), d))
        .collect()
}

async fn postgis_pairs(pool: &PgPool, d: f64) -> BTreeMap<(i64, i64), f64> {
    let rows: Vec<(i64, i64, f64)> = sqlx::query_as(
        "select p.id, v.id, st_distance(p.geom::geography, v.geom::geography) \
         from project p join venue v on st_dwithin(p.geom::geography, v.geom::geography, $1) \
         order by 1, 2",
    )
    .bind(d)
    .fetch_all(pool)
    .await
    .expect("postgis answers");
    rows.into_iter().map(|(p, v, d)| ((p, v), d)).collect()
}

#[sqlx::test(migrations = false)]
async fn near_venue_pairs_equal_postgis_st_dwithin_on_geography(pool: PgPool) {
    let store = common::postgis_store(pool.clone()).await;
    import(&store, ImportKind::Towns, "towns.geojson").await;
    import(&store, ImportKind::Venues, "venues.geojson").await;
    import(&store, ImportKind::Projects, "projects.csv").await;
    add_polygons(&store).await;

    let mut inside = 0;
    for d in [50.0, 100.0, 250.0] {
        let ours = engine_pairs(&store, d).await;
        let theirs = postgis_pairs(&pool, d).await;
        let only_ours: Vec<_> = ours.keys().filter(|k| !theirs.contains_key(k)).collect();
        let only_theirs: Vec<_> = theirs.keys().filter(|k| !ours.contains_key(k)).collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "at {d} m: only in the engine {only_ours:?}, only in PostGIS {only_theirs:?}"
        );
        assert!(ours.len() > 10, "the demo has works near venues at {d} m");
        for (k, ours_d) in &ours {
            let theirs_d = theirs[k];
            assert!(
                (ours_d - theirs_d).abs() < 0.05,
                "{k:?} at {d} m: engine {ours_d} m, PostGIS {theirs_d} m"
            );
        }
        inside = inside.max(ours.values().filter(|d| **d <= 0.0).count());
    }
    assert!(inside >= 5, "works inside polygon venues are 0 m away");
}
