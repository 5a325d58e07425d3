//! The Songjiang demo road graph: how it is generated from the bus-route
//! polylines and the district outline (an ignored test, run on purpose),
//! and checks on the committed fixture.

use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use gridpatrol::routing::{EdgeKind, LatticeOptions, PolylineOptions, RoadGraph, built_up_cells};
use gridpatrol::spatial::LonLat;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    repo().join("fixtures/songjiang/roads/songjiang_roads.geojson")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn ring(v: &Value) -> LineString<f64> {
    v.as_array()
        .expect("ring")
        .iter()
        .map(|p| Coord {
            x: p[0].as_f64().expect("lon"),
            y: p[1].as_f64().expect("lat"),
        })
        .collect()
}

/// Regenerates `fixtures/songjiang/roads/songjiang_roads.geojson` from the
/// shared data sets: `../shared/data` beside the repository, or the folder
/// named by `GRIDPATROL_SHARED_DATA`.
#[test]
#[ignore = "regenerates the demo fixture from ../shared/data"]
fn regenerate_songjiang_roads() {
    let data = std::env::var_os("GRIDPATROL_SHARED_DATA")
        .map_or_else(|| repo().join("../shared/data"), PathBuf::from);
    let routes = read_json(&data.join("songjiang_bus_routes_approx_wgs84.geojson"));
    let lines: Vec<LineString<f64>> = routes["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| ring(&f["geometry"]["coordinates"]))
        .collect();
    let district = read_json(&data.join("songjiang_district_wgs84.geojson"));
    let polygons: Vec<Polygon<f64>> = district["features"][0]["geometry"]["coordinates"]
        .as_array()
        .expect("multipolygon")
        .iter()
        .map(|rings| {
            let rings = rings.as_array().expect("rings");
            Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
        })
        .collect();
    let stops: Vec<LonLat> =
        read_json(&data.join("songjiang_bus_stops_approx_wgs84.geojson"))["features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| {
                let c = &f["geometry"]["coordinates"];
                LonLat::new(c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat")).expect("stop")
            })
            .collect();
    let cells = built_up_cells(&stops, h3o::Resolution::Eight, 14);
    let opts = PolylineOptions {
        lattice: Some(LatticeOptions::new(
            cells,
            Some(MultiPolygon::new(polygons)),
        )),
        ..PolylineOptions::default()
    };
    let t = std::time::Instant::now();
    let graph = RoadGraph::from_polylines(&lines, &opts).expect("demo graph");
    let km = |k: EdgeKind| {
        graph
            .edges()
            .iter()
            .filter(|e| e.kind() == k)
            .map(gridpatrol::routing::Edge::length_m)
            .sum::<f64>()
            / 1000.0
    };
    eprintln!(
        "demo graph: {} nodes, {} edges, {:.1} km bus roads + {:.1} km lattice, built in {:.1?}",
        graph.node_count(),
        graph.edge_count(),
        km(EdgeKind::BusRoute),
        km(EdgeKind::Lattice),
        t.elapsed()
    );
    std::fs::write(fixture(), graph.to_geojson()).expect("write fixture");
}

fn demo() -> RoadGraph {
    let text = std::fs::read_to_string(fixture()).expect("fixture");
    RoadGraph::from_geojson(&text).expect("demo graph")
}

#[test]
fn demo_graph_is_one_connected_network() {
    let g = demo();
    assert!(g.node_count() > 5_000, "{} nodes", g.node_count());
    let labels = g.component_labels();
    assert!(labels.iter().all(|&l| l == 0), "more than one component");
    let bus_km: f64 = g
        .edges()
        .iter()
        .filter(|e| e.kind() == EdgeKind::BusRoute)
        .map(gridpatrol::routing::Edge::length_m)
        .sum::<f64>()
        / 1000.0;
    let lattice_km: f64 = g
        .edges()
        .iter()
        .filter(|e| e.kind() == EdgeKind::Lattice)
        .map(gridpatrol::routing::Edge::length_m)
        .sum::<f64>()
        / 1000.0;
    assert!(
        (600.0..2500.0).contains(&bus_km),
        "{bus_km} km of bus roads"
    );
    assert!(lattice_km > 100.0, "{lattice_km} km of lattice");
    let size = std::fs::metadata(fixture()).expect("fixture").len();
    assert!(size < 10 * 1024 * 1024, "{size} bytes");
}

#[test]
fn demo_graph_round_trips_through_geojson() {
    let g = demo();
    let again = RoadGraph::from_geojson(&g.to_geojson()).expect("round trip");
    assert_eq!(g.node_count(), again.node_count());
    assert_eq!(g.edge_count(), again.edge_count());
    assert!((g.total_length_m() - again.total_length_m()).abs() < 1e-6 * g.total_length_m());
}

#[test]
fn plans_a_walking_shift_on_the_demo_graph() {
    use gridpatrol::routing::{
        PlanOptions, PlanRequest, ServiceTimes, Target, TargetKind, TravelMode, plan_route,
    };
    let g = demo();
    // From near 松江新城 (Songjiang new town): 20 cells and works around it.
    let start = LonLat::new(121.2230, 31.0330).expect("start");
    let targets: Vec<Target> = (0..20u32)
        .map(|i| {
            let a = f64::from(i) * 2.4;
            let r = 0.004 + 0.0015 * f64::from(i % 5);
            Target {
                id: format!("t{i}"),
                kind: if i % 4 == 0 {
                    TargetKind::Work
                } else {
                    TargetKind::Cell
                },
                position: LonLat::new(121.2230 + r * a.cos(), 31.0330 + r * a.sin())
                    .expect("target"),
                priority: f64::from(1 + i % 3),
            }
        })
        .collect();
    let req = PlanRequest {
        start,
        end: Some(start),
        budget_s: 4.0 * 3600.0,
        mode: TravelMode::Walk,
        service: ServiceTimes::default(),
        targets,
    };
    let plan = plan_route(Some(&g), &req, &PlanOptions::default()).expect("plan");
    assert!(plan.road_network);
    assert!(plan.stops.len() >= 5, "{} stops", plan.stops.len());
    assert!(plan.total_duration_s <= req.budget_s);
    for leg in &plan.legs {
        for w in leg.nodes.windows(2) {
            assert!(g.are_adjacent(w[0], w[1]));
        }
    }
    let first = plan.route.0[0];
    let last = plan.route.0[plan.route.0.len() - 1];
    assert_eq!((first.x, first.y), (start.lon(), start.lat()));
    assert_eq!(first, last);
}
