//! Routes in operation: sweeping a grid's streets, assigning a route to an
//! officer and measuring adherence to the track walked, planning without a
//! road network, and importing OSM to replace it.

use super::{
    DATE, GRID, assert_follows_roads, call, coords, demo_graph, grid, request, setup, start_and_end,
};
use crate::common::{self, TestApp};

use std::fmt::Write as _;

use axum::http::StatusCode;
use gridpatrol::demo;
use gridpatrol::routing::RoadGraph;
use gridpatrol::service::{self, routes as svc};
use gridpatrol::spatial::LonLat;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

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
    sweeps_every_street_of_a_grid_and_returns,
    assigns_and_measures_adherence_to_the_officers_track,
    without_roads_the_planner_says_so_and_sweeping_needs_them,
    imports_osm_and_replaces_the_network,
);
