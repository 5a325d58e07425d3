//! The route commands of the real binary on an embedded store:
//! `gridpatrol import roads FILE` and `gridpatrol plan-route ... --out
//! route.gpx`, whose GPX the `gpx` crate reads; bad arguments fail with a
//! message naming them and store nothing.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gridpatrol::routing::RoadGraph;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gridpatrol")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gridpatrol-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {err}");
    err
}

#[test]
fn imports_roads_and_plans_a_route_to_gpx() {
    let dir = temp_dir("plan-route");
    let db = dir.join("gridpatrol.db");
    let fixtures = common::fixtures();
    for (kind, file) in [
        ("towns", "towns.geojson"),
        ("zones", "zones.geojson"),
        ("grids", "grids.geojson"),
    ] {
        let path = fixtures.join(file);
        ok(&run(&db, &["import", kind, path.to_str().expect("path")]));
    }
    let roads = fixtures.join(gridpatrol::demo::ROADS_FILE);
    let said = ok(&run(
        &db,
        &["import", "roads", roads.to_str().expect("path")],
    ));
    assert!(said.contains("road network stored"), "{said}");

    // a start on the roads of 广富林街道 第10网格
    let text = std::fs::read_to_string(&roads).expect("roads");
    let graph = RoadGraph::from_geojson(&text).expect("graph");
    let (node, _) = graph
        .nearest_node(gridpatrol::spatial::LonLat::new(121.2314, 31.0399).expect("point"))
        .expect("a node");
    let start = graph.node(node);
    let start_arg = format!("{},{}", start.lon(), start.lat());
    let gpx_path = dir.join("route.gpx");
    let said = ok(&run(
        &db,
        &[
            "plan-route",
            "--grid",
            "310117005-G10",
            "--start",
            &start_arg,
            "--shift",
            "1h30m",
            "--mode",
            "ebike",
            "--date",
            "2026-11-03",
            "--officer",
            "officer05",
            "--out",
            gpx_path.to_str().expect("path"),
        ],
    ));
    assert!(said.contains("route 1 saved"), "{said}");
    let doc = gpx::read(std::fs::File::open(&gpx_path).expect("gpx written")).expect("gpx reads");
    assert!(!doc.waypoints.is_empty());
    let track = &doc.tracks[0].segments[0].points;
    assert_eq!(
        (track[0].point().x(), track[0].point().y()),
        (start.lon(), start.lat())
    );

    // the route is stored with what the GPX shows
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = format!("sqlite://{}", db.display());
    let stored = rt.block_on(async {
        let store = gridpatrol::store::open(&url).await.expect("store");
        store.get_route(1).await.expect("read").expect("route 1")
    });
    assert_eq!(stored.route.officer.as_deref(), Some("officer05"));
    assert_eq!(stored.route.mode, "ebike");
    assert!(stored.route.road_network);
    assert!(stored.route.duration_s <= 90.0 * 60.0);
    assert_eq!(stored.route.stops.len(), doc.waypoints.len());
    assert_eq!(track.len(), stored.route.geometry.0.len());

    bad_arguments_store_nothing(&db, &start_arg, &rt);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn imports_an_osm_extract() {
    let dir = temp_dir("import-osm");
    let db = dir.join("gridpatrol.db");
    let osm = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/osm/songjiang_sample.osm");
    let said = ok(&run(&db, &["import", "roads", osm.to_str().expect("path")]));
    assert!(said.contains("road network stored"), "{said}");
    let shp = dir.join("roads.shp");
    std::fs::write(&shp, b"not a road file").expect("write");
    let out = run(&db, &["import", "roads", shp.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".osm.pbf"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad arguments fail with a message naming them, and store nothing.
fn bad_arguments_store_nothing(db: &Path, start_arg: &str, rt: &tokio::runtime::Runtime) {
    for (args, says) in [
        (vec!["--shift", "0"], "shift_minutes"),
        (vec!["--shift", "soon"], "--shift"),
        (vec!["--mode", "car"], "mode"),
        (vec!["--start", "116.39,39.91"], "start"),
        (vec!["--grid", "nowhere"], "--grid"),
    ] {
        let mut all = vec![
            "plan-route",
            "--grid",
            "310117005-G10",
            "--start",
            start_arg,
            "--shift",
            "2h",
        ];
        for pair in args.chunks(2) {
            if let Some(i) = all.iter().position(|a| *a == pair[0]) {
                all[i + 1] = pair[1];
            } else {
                all.extend_from_slice(pair);
            }
        }
        let out = run(db, &all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{all:?} succeeded");
        assert!(err.contains(says), "{all:?}: {err}");
    }
    let url = format!("sqlite://{}", db.display());
    let count = rt.block_on(async {
        let store = gridpatrol::store::open(&url).await.expect("store");
        store
            .list_routes(&gridpatrol::store::routes::RouteQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("list")
            .total
    });
    assert_eq!(count, 1);
}

#[test]
fn imports_named_places_and_refuses_a_bad_file_whole() {
    let dir = temp_dir("places");
    let db = dir.join("gridpatrol.db");
    let stops = common::fixtures().join(gridpatrol::demo::PLACES_FILE);
    let said = ok(&run(
        &db,
        &["import", "places", stops.to_str().expect("path")],
    ));
    assert!(said.contains("1445 named places stored"), "{said}");
    // a line among the points: one readable line naming the feature, non-zero, nothing replaced
    let bad = dir.join("bad.geojson");
    std::fs::write(
        &bad,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[121.23,31.03]},"properties":{"name":"人民北路荣乐路"}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[121.2,31.0],[121.3,31.1]]},"properties":{"name":"荣乐路"}}]}"#,
    )
    .expect("write");
    let out = run(&db, &["import", "places", bad.to_str().expect("path")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("features[1].geometry"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // the stored places are those of the first file still
    let again = ok(&run(
        &db,
        &["import", "places", stops.to_str().expect("path")],
    ));
    assert!(again.contains("1445 named places stored"), "{again}");
}
