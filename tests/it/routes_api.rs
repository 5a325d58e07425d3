//! Patrol routes through the HTTP API on both stores, on the Songjiang demo
//! road graph: routes stay on the roads, respect the shift and start and
//! end where asked; the GPX opens in the `gpx` crate's reader with the same
//! points; sweeps, assignment, adherence, access control and bad input
//! (answered with problem+json naming the field, nothing stored).

use crate::common::{self, Answer, TestApp};

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::http::StatusCode;
use gridpatrol::demo;
use gridpatrol::domain::Grid;
use gridpatrol::routing::{NodeId, RoadGraph};
use gridpatrol::service::{self, routes as svc};
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
        let name = w.name.as_deref().expect("name");
        assert!(name.contains(&s.target_id), "{name}");
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

async fn sweeps_every_street_of_a_grid_and_returns(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let (start, _) = start_and_end(&g.value);
    let cells: Vec<String> = g
        .value
        .expanded_cells()
        .take(20)
        .map(|c| c.to_string())
        .collect();
    let req = json!({"grid_id": g.id, "start": [start.lon(), start.lat()], "cells": cells,
                     "shift_minutes": 240, "date": DATE, "officer": "officer07"});
    let a = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes/sweep",
        Some(req.clone()),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let r = &a.json();
    assert_eq!(r["kind"], "sweep");
    assert_eq!(r["officer"], "officer07");
    let line = coords(&r["geometry"]);
    assert_eq!(line.first(), Some(&[start.lon(), start.lat()]));
    assert_eq!(line.last(), line.first());
    assert_follows_roads(&line, &[], [start.lon(), start.lat()], None);
    assert!(r["walked_over_required"].as_f64().expect("ratio") >= 1.0);
    assert!(r["required_m"].as_f64().expect("required") > 0.0);
    assert_eq!(r["fits_shift"], true);
    // the same through POST /api/v1/routes with mode_kind
    let mut via_routes = req;
    via_routes["mode_kind"] = json!("sweep");
    let b = call(&store, &state, "POST", "/api/v1/routes", Some(via_routes)).await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.json());
    assert_eq!(coords(&b.json()["geometry"]), line);
}

async fn assigns_and_measures_adherence_to_the_officers_track(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let grid = grid(&store, GRID).await;
    let (start, end) = start_and_end(&grid.value);
    let planned = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes",
        Some(request(grid.id, start, Some(end), 90.0)),
    )
    .await;
    assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.json());
    let id = planned.json()["id"].as_i64().expect("id");
    assert_eq!(planned.json()["adherence"], Value::Null);
    let p = call(
        &store,
        &state,
        "PATCH",
        &format!("/api/v1/routes/{id}"),
        Some(json!({"officer": "officer03"})),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.json());
    assert_eq!(p.json()["properties"]["officer"], "officer03");
    // no track yet
    assert_eq!(p.json()["properties"]["adherence"], Value::Null);

    // officer03 walks the route's first half on its date, at walking pace
    let line = coords(&planned.json()["geometry"]);
    let half = &line[..line.len() / 2];
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-03T08:30:00+08:00").expect("time");
    let mut t = t0;
    let mut gpx = String::from(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"test\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><trkseg>",
    );
    let mut prev: Option<LonLat> = None;
    for p in half {
        let here = LonLat::new(p[0], p[1]).expect("point");
        let secs = prev
            .map_or(0.0, |q| q.distance_m(here) / 1.3)
            .ceil()
            .max(1.0);
        #[expect(clippy::cast_possible_truncation, reason = "seconds of a walk")]
        let step = chrono::Duration::seconds(secs as i64);
        t += step;
        let _ = write!(
            gpx,
            "<trkpt lat=\"{}\" lon=\"{}\"><time>{}</time></trkpt>",
            p[1],
            p[0],
            t.to_rfc3339()
        );
        prev = Some(here);
    }
    gpx.push_str("</trkseg></trk></gpx>");
    let token = common::admin_token(&store).await;
    let res = state
        .post_bytes(
            &token,
            "/api/v1/tracks?officer=officer03&name=walk.gpx",
            "application/gpx+xml",
            gpx,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);

    let one = call(&store, &state, "GET", &format!("/api/v1/routes/{id}"), None).await;
    let adh = &one.json()["properties"]["adherence"];
    assert!(adh.is_object(), "{}", one.json());
    let walked = adh["path_walked"].as_f64().expect("share");
    assert!((0.35..=0.75).contains(&walked), "path walked {walked}");
    let reached = adh["stops_reached"].as_f64().expect("share");
    assert!(reached > 0.0 && reached < 1.0, "stops reached {reached}");
    assert_eq!(adh["tracks"].as_array().map(Vec::len), Some(1));

    // the summary per officer
    let s = call(
        &store,
        &state,
        "GET",
        &format!("/api/v1/routes/adherence?date={DATE}"),
        None,
    )
    .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.json());
    assert_eq!(s.json()["officers"][0]["officer"], "officer03");
    assert_eq!(s.json()["officers"][0]["tracked"], 1);
    assert_eq!(s.json()["officers"][0]["path_walked"], walked);
    // unassigned, the adherence goes
    let u = call(
        &store,
        &state,
        "PATCH",
        &format!("/api/v1/routes/{id}"),
        Some(json!({"officer": null})),
    )
    .await;
    assert_eq!(u.status, StatusCode::OK);
    assert_eq!(u.json()["properties"]["adherence"], Value::Null);
}

async fn bad_input_names_the_field_and_stores_nothing(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let (start, end) = start_and_end(&g.value);
    let good = request(g.id, start, Some(end), 60.0);
    let with = |k: &str, v: Value| {
        let mut r = good.clone();
        r[k] = v;
        r
    };
    let without = |k: &str| {
        let mut r = good.clone();
        r.as_object_mut().expect("object").remove(k);
        r
    };
    let cases: Vec<(Value, &str)> = vec![
        (with("grid_id", json!(999_999)), "grid_id"),
        (with("grid_id", json!("G10")), "grid_id"),
        (without("grid_id"), "grid_id"),
        (with("zone_id", json!(1)), "zone_id"),
        (with("start", json!([116.39, 39.91])), "start"),
        (with("start", json!([121.2])), "start"),
        (with("start", json!([200.0, 31.0])), "start"),
        (without("start"), "start"),
        (with("end", json!([120.0, 30.0])), "end"),
        (with("shift_minutes", json!(0)), "shift_minutes"),
        (with("shift_minutes", json!(-30)), "shift_minutes"),
        (with("shift_minutes", json!("3h")), "shift_minutes"),
        (without("shift_minutes"), "shift_minutes"),
        (with("mode", json!("car")), "mode"),
        (with("service_minutes", json!(-1)), "service_minutes"),
        (with("date", json!("tomorrow")), "date"),
        (with("start_time", json!("8h")), "start_time"),
        (with("mode_kind", json!("tour")), "mode_kind"),
        (with("officer", json!("")), "officer"),
        (with("crs", json!("utm")), "crs"),
        (with("shift", json!(180)), "shift"),
    ];
    for (body, field) in cases {
        let a = call(&store, &state, "POST", "/api/v1/routes", Some(body.clone())).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            a.json()
        );
        assert_eq!(a.content_type(), "application/problem+json");
        assert_eq!(
            a.json()["errors"][0]["field"],
            field,
            "{body}: {}",
            a.json()
        );
    }
    let bad_sweep =
        json!({"grid_id": g.id, "start": [start.lon(), start.lat()], "cells": ["8a309b9a0000fff"]});
    let a = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes/sweep",
        Some(bad_sweep),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.json());
    assert_eq!(a.json()["errors"][0]["field"], "cells");
    // malformed JSON is a 400
    let token = common::admin_token(&store).await;
    let res = state
        .post_bytes(
            &token,
            "/api/v1/routes",
            "application/json",
            "{\"grid_id\": ",
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    // unknown ids are 404s
    for uri in [
        "/api/v1/routes/99999",
        "/api/v1/routes/99999.gpx",
        "/api/v1/routes/abc",
    ] {
        assert_eq!(
            call(&store, &state, "GET", uri, None).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let p = call(
        &store,
        &state,
        "PATCH",
        "/api/v1/routes/99999",
        Some(json!({"officer": "x"})),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert_eq!(route_count(&store, &state).await, 0);
}

async fn routes_honour_the_callers_role_and_scope(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let other = grid(&store, "310117004-G09").await;
    let (start, end) = start_and_end(&g.value);
    let viewer = common::token_for(
        &store,
        "viewer1",
        gridpatrol::auth::Role::Viewer,
        &["district"],
    )
    .await;
    let officer = common::token_for(
        &store,
        "officer01",
        gridpatrol::auth::Role::Officer,
        &["district"],
    )
    .await;
    let manager = common::token_for(
        &store,
        "manager1",
        gridpatrol::auth::Role::GridManager,
        &[&format!("grid:{}", other.value.code)],
    )
    .await;
    let town = common::token_for(
        &store,
        "town1",
        gridpatrol::auth::Role::Town,
        &[&format!("town:{}", g.value.town)],
    )
    .await;
    let other_town = common::token_for(
        &store,
        "town2",
        gridpatrol::auth::Role::Town,
        &["town:310117102"],
    )
    .await;
    let body = request(g.id, start, Some(end), 45.0);
    for t in [&viewer, &officer, &manager] {
        let a = call_as(&state, t, "POST", "/api/v1/routes", Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json());
    }
    // a town planner of another town: the grid is not theirs, as if unknown
    let a = call_as(
        &state,
        &other_town,
        "POST",
        "/api/v1/routes",
        Some(body.clone()),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.json());
    assert_eq!(a.json()["errors"][0]["field"], "grid_id");
    let a = call_as(&state, &town, "POST", "/api/v1/routes", Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let id = a.json()["id"].as_i64().expect("id");
    assert_eq!(a.json()["created_by"], "town1");
    // reads: in scope for the viewer (district) and the town, not for the
    // grid manager of another grid nor the other town
    for (t, seen) in [
        (&viewer, true),
        (&town, true),
        (&manager, false),
        (&other_town, false),
    ] {
        let one = call_as(&state, t, "GET", &format!("/api/v1/routes/{id}"), None).await;
        let list = call_as(&state, t, "GET", "/api/v1/routes", None).await;
        if seen {
            assert_eq!(one.status, StatusCode::OK);
            assert_eq!(list.json()["numberMatched"], 1);
        } else {
            assert_eq!(one.status, StatusCode::NOT_FOUND);
            assert_eq!(list.json()["numberMatched"], 0);
            let gpx = call_as(&state, t, "GET", &format!("/api/v1/routes/{id}.gpx"), None).await;
            assert_eq!(gpx.status, StatusCode::NOT_FOUND);
        }
    }
    let p = call_as(
        &state,
        &viewer,
        "PATCH",
        &format!("/api/v1/routes/{id}"),
        Some(json!({"officer": "officer01"})),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = call_as(
        &state,
        &other_town,
        "PATCH",
        &format!("/api/v1/routes/{id}"),
        Some(json!({"officer": "officer01"})),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

async fn without_roads_the_planner_says_so_and_sweeping_needs_them(store: DynStore) {
    setup(&store, false).await;
    let state = TestApp::new(&store);
    let info = call(&store, &state, "GET", "/api/v1/roads", None).await;
    assert_eq!(info.json()["imported"], false);
    let g = grid(&store, GRID).await;
    let (start, end) = start_and_end(&g.value);
    let a = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes",
        Some(request(g.id, start, Some(end), 90.0)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    assert_eq!(a.json()["road_network"], false);
    assert!(a.json()["duration_s"].as_f64().expect("duration") <= 5400.0);
    let s = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes/sweep",
        Some(json!({"grid_id": g.id, "start": [start.lon(), start.lat()]})),
    )
    .await;
    assert_eq!(s.status, StatusCode::CONFLICT, "{}", s.json());
    // importing the network reaches the running service's planner
    assert!(
        demo::load_roads(&store, &common::fixtures())
            .await
            .expect("roads")
    );
    let info = call(&store, &state, "GET", "/api/v1/roads", None).await;
    assert_eq!(info.json()["imported"], true);
    assert_eq!(info.json()["network"]["edges"], demo_graph().edge_count());
    let b = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes",
        Some(request(g.id, start, Some(end), 90.0)),
    )
    .await;
    assert_eq!(b.json()["road_network"], true);
}

async fn imports_osm_and_replaces_the_network(store: DynStore) {
    let osm = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/osm/songjiang_sample.osm");
    let first = svc::import_roads_file(&store, &osm)
        .await
        .expect("osm import");
    assert!(first.edges > 0 && first.nodes > 0);
    assert_eq!(first.source, "songjiang_sample.osm");
    let (info, rows) = store.road_rows().await.expect("rows").expect("a network");
    assert_eq!(info.version, first.version);
    let graph = rows.into_graph().expect("the stored rows make a graph");
    let expected = RoadGraph::from_osm_path(&osm)
        .expect("osm")
        .largest_component();
    assert_eq!(graph.node_count(), expected.node_count());
    assert_eq!(graph.edge_count(), expected.edge_count());
    assert!((graph.total_length_m() - expected.total_length_m()).abs() < 1e-6);
    // a re-import replaces it under a new version
    let again = svc::import_roads_file(&store, &osm).await.expect("again");
    assert_ne!(again.version, first.version);
    assert_eq!(again.edges, first.edges);
    // a broken file is refused and the stored network stays
    let dir = std::env::temp_dir().join(format!("gridpatrol-roads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join(format!("broken-{}.osm", again.version));
    std::fs::write(&bad, "<osm><way id=\"1\"><nd ref=").expect("write");
    let e = svc::import_roads_file(&store, &bad)
        .await
        .expect_err("refused");
    assert!(
        matches!(e, service::ServiceError::Ingest(ref i) if i.field == "file"),
        "{e}"
    );
    let unknown = svc::import_roads_file(&store, &dir.join("roads.shp"))
        .await
        .expect_err("refused");
    assert!(
        matches!(unknown, service::ServiceError::Ingest(_)),
        "{unknown}"
    );
    let _ = std::fs::remove_file(&bad);
    assert_eq!(
        store
            .road_network()
            .await
            .expect("info")
            .expect("kept")
            .version,
        again.version
    );
}

store_tests!(
    plans_a_walkable_route_on_the_demo_graph,
    without_an_end_the_route_ends_at_its_last_stop,
    a_short_shift_leaves_targets_out,
    the_gpx_opens_in_the_gpx_crate_with_the_same_points,
    sweeps_every_street_of_a_grid_and_returns,
    assigns_and_measures_adherence_to_the_officers_track,
    bad_input_names_the_field_and_stores_nothing,
    routes_honour_the_callers_role_and_scope,
    without_roads_the_planner_says_so_and_sweeping_needs_them,
    imports_osm_and_replaces_the_network,
);
