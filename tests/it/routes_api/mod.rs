//! Patrol routes through the HTTP API on both stores, on the Songjiang demo
//! road graph: routes stay on the roads, respect the shift and start and
//! end where asked; the GPX opens in the `gpx` crate's reader with the same
//! points; sweeps, assignment, adherence, access control and bad input
//! (answered with problem+json naming the field, nothing stored).
//!
//! This module holds the helpers and the planning tests; `operations`
//! sweeps, assigns, measures adherence and replaces the road network;
//! `refusals` checks bad input and the caller's role and scope.

mod operations;
mod refusals;

use crate::common::{self, Answer, TestApp};

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::StatusCode;
use gridpatrol::demo;
use gridpatrol::domain::Grid;
use gridpatrol::routing::{NodeId, RoadGraph};
use gridpatrol::service::{self};
use gridpatrol::spatial::{Crs, LonLat};
use gridpatrol::store::{DynStore, typed};
use serde_json::{Value, json};

/// A grid of 松江新城 (广富林街道) well served by the demo roads.
pub(super) const GRID: &str = "310117005-G10";
const DATE: &str = "2026-11-03";

fn demo_graph() -> &'static RoadGraph {
    static GRAPH: OnceLock<RoadGraph> = OnceLock::new();
    GRAPH.get_or_init(|| {
        let text =
            std::fs::read_to_string(common::fixtures().join(demo::ROADS_FILE)).expect("demo roads");
        RoadGraph::from_geojson(&text).expect("demo graph")
    })
}

/// The layers of the demo (no tracks), and the road network unless `roads` is false.
pub(super) async fn setup(store: &DynStore, roads: bool) {
    for (kind, file) in demo::LAYER_FILES {
        service::import_file(
            store,
            kind,
            &common::fixtures().join(file),
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("layer imports");
    }
    if roads {
        assert!(
            demo::load_roads(store, &common::fixtures())
                .await
                .expect("roads import")
        );
    }
}

pub(super) async fn grid(store: &DynStore, code: &str) -> gridpatrol::domain::Stored<Grid> {
    typed::all::<Grid>(store)
        .await
        .expect("grids")
        .into_iter()
        .find(|g| g.value.code == code)
        .expect("the grid")
}

/// A road node near the middle of a grid, and another one about 600 m away.
pub(super) fn start_and_end(g: &Grid) -> (LonLat, LonLat) {
    let cells: Vec<h3o::CellIndex> = g.expanded_cells().collect();
    let (mut lon, mut lat) = (0.0, 0.0);
    for c in &cells {
        let ll = h3o::LatLng::from(*c);
        lon += ll.lng();
        lat += ll.lat();
    }
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let n = cells.len() as f64;
    let graph = demo_graph();
    let centre = LonLat::new(lon / n, lat / n).expect("centre");
    let (a, _) = graph.nearest_node(centre).expect("a node");
    let away = LonLat::new(centre.lon() + 0.006, centre.lat()).expect("east");
    let (b, _) = graph.nearest_node(away).expect("a node");
    (graph.node(a), graph.node(b))
}

async fn call_as(
    state: &TestApp,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Answer {
    state.call(token, method, uri, body).await
}

async fn call(
    store: &DynStore,
    state: &TestApp,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Answer {
    let token = common::admin_token(store).await;
    call_as(state, &token, method, uri, body).await
}

fn coords(v: &Value) -> Vec<[f64; 2]> {
    v["coordinates"]
        .as_array()
        .expect("coordinates")
        .iter()
        .map(|p| [p[0].as_f64().expect("lon"), p[1].as_f64().expect("lat")])
        .collect()
}

fn key(p: [f64; 2]) -> (i64, i64) {
    #[expect(clippy::cast_possible_truncation, reason = "degrees × 1e6 fit an i64")]
    let k = ((p[0] * 1e6).round() as i64, (p[1] * 1e6).round() as i64);
    k
}

/// Every vertex of the route is on the road graph, except the walks
/// between a road and the start, the end or a stop; and consecutive road
/// nodes along it are the same node or joined by an edge.
fn assert_follows_roads(
    route: &[[f64; 2]],
    stops: &[[f64; 2]],
    start: [f64; 2],
    end: Option<[f64; 2]>,
) {
    let graph = demo_graph();
    let nodes: HashMap<(i64, i64), NodeId> = graph
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, p)| (key([p.lon(), p.lat()]), NodeId(i)))
        .collect();
    let off_road: Vec<(i64, i64)> = stops
        .iter()
        .copied()
        .chain(std::iter::once(start))
        .chain(end)
        .map(key)
        .collect();
    let mut last: Option<NodeId> = None;
    let mut passed = 0;
    for &p in route {
        if let Some(&n) = nodes.get(&key(p)) {
            if let Some(prev) = last {
                assert!(
                    prev == n || graph.are_adjacent(prev, n),
                    "the route jumps from node {prev:?} to node {n:?}, which no edge joins"
                );
            }
            last = Some(n);
            passed += 1;
            continue;
        }
        if off_road.contains(&key(p)) {
            continue;
        }
        let snap = graph
            .snap(LonLat::new(p[0], p[1]).expect("a position"))
            .expect("snaps");
        assert!(
            snap.distance_m < 0.5,
            "vertex {p:?} is {} m off the roads",
            snap.distance_m
        );
    }
    assert!(passed > 2, "the route passes {passed} road nodes");
}

async fn route_count(store: &DynStore, state: &TestApp) -> u64 {
    call(store, state, "GET", "/api/v1/routes?limit=1", None)
        .await
        .json()["numberMatched"]
        .as_u64()
        .expect("count")
}

pub(super) fn request(
    grid_id: i64,
    start: LonLat,
    end: Option<LonLat>,
    shift_minutes: f64,
) -> Value {
    let mut r = json!({
        "grid_id": grid_id,
        "start": [start.lon(), start.lat()],
        "shift_minutes": shift_minutes,
        "mode": "walk",
        "service_minutes": 20,
        "date": DATE,
        "start_time": "08:30",
    });
    if let Some(e) = end {
        r["end"] = json!([e.lon(), e.lat()]);
    }
    r
}

async fn plans_a_walkable_route_on_the_demo_graph(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let (start, end) = start_and_end(&g.value);
    let a = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes",
        Some(request(g.id, start, Some(end), 180.0)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let r = &a.json();
    assert_eq!(r["road_network"], true);
    let stops = r["stops"].as_array().expect("stops");
    assert!(stops.len() >= 5, "{} stops", stops.len());
    // within the shift, ETAs in order from 08:30 China Standard Time
    let duration = r["duration_s"].as_f64().expect("duration");
    assert!(duration <= 180.0 * 60.0 + 1e-6, "{duration} s");
    assert!(r["distance_m"].as_f64().expect("distance") > 500.0);
    let mut prev = "2026-11-03T00:30:00Z".to_owned();
    for (i, s) in stops.iter().enumerate() {
        assert_eq!(s["order"], i + 1);
        assert!(["cell", "work"].contains(&s["kind"].as_str().expect("kind")));
        let eta = s["eta"].as_str().expect("eta").to_owned();
        assert!(eta >= prev, "{eta} before {prev}");
        assert!(eta.as_str() <= "2026-11-03T03:30:00Z", "{eta}");
        prev = eta;
    }
    // the works due an inspection in the grid come first, with why
    let works: Vec<&Value> = stops.iter().filter(|s| s["kind"] == "work").collect();
    assert!(!works.is_empty(), "no work among the stops");
    assert!(works.iter().all(|w| {
        w["target_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("SJ-"))
            && !w["reasons"].as_array().expect("reasons").is_empty()
    }));
    // starts and ends where asked, along the roads
    let line = coords(&r["geometry"]);
    assert_eq!(line.first(), Some(&[start.lon(), start.lat()]));
    assert_eq!(line.last(), Some(&[end.lon(), end.lat()]));
    let stop_points: Vec<[f64; 2]> = stops
        .iter()
        .map(|s| {
            [
                s["lon"].as_f64().expect("lon"),
                s["lat"].as_f64().expect("lat"),
            ]
        })
        .collect();
    assert_follows_roads(
        &line,
        &stop_points,
        [start.lon(), start.lat()],
        Some([end.lon(), end.lat()]),
    );
    // it covers cells it did not stop at, and leaves out what does not fit
    let new_cells = r["new_cells"].as_array().expect("new cells");
    assert!(new_cells.len() >= stops.iter().filter(|s| s["kind"] == "cell").count());
    assert_eq!(r["new_cell_count"], new_cells.len());
    let left_out = r["left_out"].as_array().expect("left out");
    assert!(!left_out.is_empty());
    assert!(
        left_out
            .iter()
            .all(|l| l["target_id"].is_string() && l["reason"].is_string())
    );

    // saved: the list, the Feature, the same line
    let id = r["id"].as_i64().expect("id");
    let list = call(
        &store,
        &state,
        "GET",
        &format!("/api/v1/routes?date={DATE}"),
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["numberMatched"], 1);
    let one = call(&store, &state, "GET", &format!("/api/v1/routes/{id}"), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.content_type(), "application/geo+json");
    assert_eq!(one.json()["type"], "Feature");
    assert_eq!(coords(&one.json()["geometry"]), line);
    assert_eq!(one.json()["properties"]["stops"], r["stops"]);
    assert_eq!(one.json()["properties"]["officer"], Value::Null);
}

async fn without_an_end_the_route_ends_at_its_last_stop(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let (start, _) = start_and_end(&g.value);
    let mut req = request(g.id, start, None, 60.0);
    req["mode"] = json!("ebike");
    let a = call(&store, &state, "POST", "/api/v1/routes", Some(req)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let line = coords(&a.json()["geometry"]);
    let last = a.json()["stops"]
        .as_array()
        .and_then(|s| s.last())
        .expect("a stop");
    assert_eq!(line.first(), Some(&[start.lon(), start.lat()]));
    assert_eq!(
        line.last(),
        Some(&[
            last["lon"].as_f64().expect("lon"),
            last["lat"].as_f64().expect("lat")
        ])
    );
    assert!(a.json()["duration_s"].as_f64().expect("duration") <= 3600.0);
    assert_eq!(a.json()["mode"], "ebike");
}

async fn a_short_shift_leaves_targets_out(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let (start, end) = start_and_end(&g.value);
    let a = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes",
        Some(request(g.id, start, Some(end), 20.0)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    assert!(a.json()["duration_s"].as_f64().expect("duration") <= 1200.0);
    let reasons: Vec<&str> = a.json()["left_out"]
        .as_array()
        .expect("left out")
        .iter()
        .filter_map(|l| l["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"does not fit in the shift"),
        "{reasons:?}"
    );
    // a shift too short to even reach the end
    let b = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes",
        Some(request(g.id, start, Some(end), 1.0)),
    )
    .await;
    assert_eq!(b.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", b.json());
    assert_eq!(b.json()["errors"][0]["field"], "shift_minutes");
}

async fn the_gpx_opens_in_the_gpx_crate_with_the_same_points(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let (start, end) = start_and_end(&g.value);
    let a = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes",
        Some(request(g.id, start, Some(end), 120.0)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let id = a.json()["id"].as_i64().expect("id");
    let res = call(
        &store,
        &state,
        "GET",
        &format!("/api/v1/routes/{id}.gpx"),
        None,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.content_type(), "application/gpx+xml");
    let doc = gpx::read(&res.body[..]).expect("the gpx crate reads it");
    assert_eq!(doc.version, gpx::GpxVersion::Gpx11);
    // the same points as the stored route, exactly
    let stored = store
        .get_route(id)
        .await
        .expect("store")
        .expect("the route");
    let stops = &stored.route.stops;
    assert!(!stops.is_empty());
    assert_eq!(doc.waypoints.len(), stops.len());
    for (w, s) in doc.waypoints.iter().zip(stops) {
        assert_eq!(
            (w.point().x(), w.point().y()),
            (s.position.lon(), s.position.lat())
        );
        let time = w.time.map(|t| t.format().expect("time")).expect("a time");
        let time = chrono::DateTime::parse_from_rfc3339(&time).expect("RFC 3339");
        assert_eq!(time.timestamp(), s.eta.timestamp());
        // named for people ("3. 08:36 新松江路318号附近 · …"), the id kept in `cmt`
        let name = w.name.as_deref().expect("name");
        assert!(name.starts_with(&format!("{}. ", s.order)), "{name}");
        assert_eq!(w.comment.as_deref(), Some(s.target_id.as_str()), "{name}");
    }
    assert_eq!(doc.tracks.len(), 1);
    let track: Vec<(f64, f64)> = doc.tracks[0].segments[0]
        .points
        .iter()
        .map(|p| (p.point().x(), p.point().y()))
        .collect();
    let line: Vec<(f64, f64)> = stored.route.geometry.0.iter().map(|c| (c.x, c.y)).collect();
    assert_eq!(track, line);
    // and as the API answered them, to the last digit JSON keeps
    let answered = coords(&a.json()["geometry"]);
    assert_eq!(answered.len(), track.len());
    for (p, q) in answered.iter().zip(&track) {
        assert!((p[0] - q.0).abs() < 1e-12 && (p[1] - q.1).abs() < 1e-12);
    }
    // the route: start, the stops, the end
    assert_eq!(doc.routes.len(), 1);
    let rte: Vec<(f64, f64)> = doc.routes[0]
        .points
        .iter()
        .map(|p| (p.point().x(), p.point().y()))
        .collect();
    assert_eq!(rte.len(), stops.len() + 2);
    assert_eq!(rte[0], (start.lon(), start.lat()));
    assert_eq!(rte[rte.len() - 1], (end.lon(), end.lat()));
}

store_tests!(
    plans_a_walkable_route_on_the_demo_graph,
    without_an_end_the_route_ends_at_its_last_stop,
    a_short_shift_leaves_targets_out,
    the_gpx_opens_in_the_gpx_crate_with_the_same_points,
);
