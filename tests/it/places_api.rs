//! Places, not ids: blind cells and route stops are named after the nearest
//! named place and their grid, every reason the API gives people carries
//! `text_zh`, and a route's GPX reads in Chinese (issue 18). The H3 id stays
//! in the answers for the curious.

use crate::common::{self, TestApp};
use crate::routes_api;

use axum::http::StatusCode;
use gridpatrol::demo;
use serde_json::Value;

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Every reason is an object with a code, English and Chinese text.
fn assert_bilingual(reasons: &Value, what: &str) {
    let list = reasons.as_array().expect("reasons");
    assert!(!list.is_empty(), "{what}: no reasons");
    for r in list {
        assert!(r["code"].is_string(), "{what}: {r}");
        assert!(
            r["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{what}: {r}"
        );
        assert!(
            r["text_zh"].as_str().is_some_and(has_chinese),
            "{what}: {r}"
        );
    }
}

/// The demo on an embedded store, served, with an admin's token.
async fn demo_app() -> (TestApp, String) {
    let store = common::sqlite_store().await;
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    (app, token)
}

#[tokio::test]
async fn blind_cells_are_named_by_place_and_grid_with_chinese_reasons() {
    let (app, token) = demo_app().await;
    let a = app
        .get_as(&token, "/api/v1/blindspots/cells?limit=50")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a}");
    let features = a.json()["features"].as_array().expect("features").clone();
    assert_eq!(features.len(), 50);
    let mut near = 0;
    for f in &features {
        let p = &f["properties"];
        let place = p["place"].as_str().expect("place");
        let grid = p["grid_name"]
            .as_str()
            .expect("every ranked cell lies in a grid");
        // "文翔路70号附近 · 岳阳街道 第1网格": the place, then its grid
        assert!(place.ends_with(&format!(" · {grid}")), "{place} / {grid}");
        assert!(grid.contains("网格"), "{grid}");
        assert!(
            !place.contains(p["cell"].as_str().expect("cell")),
            "{place}"
        );
        if place.contains("附近") {
            near += 1;
        }
        assert!(
            p["place_en"]
                .as_str()
                .is_some_and(|e| e.starts_with("near ") || e.starts_with("about ")),
            "{p}"
        );
        assert_bilingual(&p["reasons"], place);
    }
    assert!(near > 10, "only {near} of 50 cells near a named place");
    // the Chinese of the overdue reason says days and interval
    let overdue = features
        .iter()
        .flat_map(|f| {
            f["properties"]["reasons"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|r| r["code"] == "overdue" || r["code"] == "never_patrolled")
        .expect("an overdue or never patrolled cell");
    assert!(
        ["从未巡查", "天前最后巡查"]
            .iter()
            .any(|w| overdue["text_zh"].as_str().unwrap_or("").contains(w)),
        "{overdue}"
    );
}

#[tokio::test]
async fn route_stops_left_outs_and_gpx_speak_chinese() {
    let store = common::sqlite_store().await;
    routes_api::setup(&store, true).await;
    let app = TestApp::new(&store);
    let token = common::admin_token(&store).await;
    let g = routes_api::grid(&store, routes_api::GRID).await;
    let (start, end) = routes_api::start_and_end(&g.value);
    // a short shift: some targets are left out
    let body = routes_api::request(g.id, start, Some(end), 60.0);
    let planned = app.post_json(&token, "/api/v1/routes", &body).await;
    assert_eq!(planned.status, StatusCode::CREATED, "{planned}");
    let r = planned.json();
    let stops = r["stops"].as_array().expect("stops");
    assert!(!stops.is_empty());
    for s in stops {
        let place = s["place"].as_str().expect("place");
        assert!(has_chinese(place), "{s}");
        assert_ne!(place, s["target_id"].as_str().expect("id"));
        if s["kind"] == "cell" {
            assert!(place.ends_with(&format!(" · {}", g.value.name)), "{place}");
        }
        assert_bilingual(&s["reasons"], place);
    }
    let left_out = r["left_out"].as_array().expect("left out");
    assert!(!left_out.is_empty());
    for l in left_out {
        assert!(l["reason_zh"].as_str().is_some_and(has_chinese), "{l}");
        assert!(l["place"].as_str().is_some_and(has_chinese), "{l}");
    }
    assert!(
        left_out
            .iter()
            .any(|l| l["reason_zh"] == "班次时间内排不下"),
        "{left_out:?}"
    );
    let id = r["id"].as_i64().expect("id");
    let gpx = app
        .get_as(&token, &format!("/api/v1/routes/{id}.gpx"))
        .await;
    assert_eq!(gpx.status, StatusCode::OK);
    let doc = gpx::read(gpx.text().as_bytes()).expect("GPX reads");
    let first = &doc.waypoints[0];
    let name = first.name.as_deref().expect("name");
    // "1. 08:3x <place>": the order, the Beijing time of arrival, the place
    assert!(name.starts_with("1. 08:3"), "{name}");
    assert!(
        name.ends_with(stops[0]["place"].as_str().expect("place")),
        "{name}"
    );
    assert!(first.description.as_deref().is_some_and(has_chinese));
    let rte: Vec<&str> = doc.routes[0]
        .points
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect();
    assert_eq!(rte.first(), Some(&"起点"));
    assert_eq!(rte.last(), Some(&"终点"));
    let title = doc.metadata.and_then(|m| m.name).expect("title");
    assert!(title.starts_with(&g.value.name), "{title}");
}

#[tokio::test]
async fn the_base_map_draws_the_road_network_in_a_street_box_only() {
    let store = common::sqlite_store().await;
    routes_api::setup(&store, true).await;
    let app = TestApp::new(&store);
    let token = common::admin_token(&store).await;
    // 松江新城 around 广富林街道: a street-zoom box
    let a = app
        .get_as(
            &token,
            "/api/v1/basemap/roads?bbox=121.21,31.03,121.24,31.05",
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a}");
    let fc = a.json();
    let features = fc["features"].as_array().expect("features");
    assert!(features.len() > 50, "{} lines", features.len());
    assert_eq!(fc["numberMatched"], features.len());
    let mut classes = std::collections::HashSet::new();
    for f in features {
        assert_eq!(f["geometry"]["type"], "LineString");
        let coords = f["geometry"]["coordinates"]
            .as_array()
            .expect("coordinates");
        // every line touches the box
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for c in coords {
            for i in 0..2 {
                let v = c[i].as_f64().expect("number");
                lo[i] = lo[i].min(v);
                hi[i] = hi[i].max(v);
            }
        }
        assert!(
            hi[0] >= 121.21 && lo[0] <= 121.24 && hi[1] >= 31.03 && lo[1] <= 31.05,
            "{f}"
        );
        classes.insert(f["properties"]["class"].as_str().expect("class").to_owned());
    }
    assert!(
        classes.contains("main") && classes.contains("minor"),
        "{classes:?}"
    );
    // the whole district at once is refused, naming the field
    let wide = app
        .get_as(&token, "/api/v1/basemap/roads?bbox=121.0,30.9,121.4,31.2")
        .await;
    common::assert_problem(&wide, StatusCode::UNPROCESSABLE_ENTITY, Some("bbox"));
    let missing = app.get_as(&token, "/api/v1/basemap/roads").await;
    common::assert_problem(&missing, StatusCode::UNPROCESSABLE_ENTITY, Some("bbox"));
    // without a token, nothing
    let anonymous = app
        .get("/api/v1/basemap/roads?bbox=121.21,31.03,121.24,31.05")
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cell_or_a_point_is_named_for_people() {
    let store = common::sqlite_store().await;
    routes_api::setup(&store, false).await;
    let app = TestApp::new(&store);
    let token = common::admin_token(&store).await;
    let g = routes_api::grid(&store, routes_api::GRID).await;
    let cell = g.value.expanded_cells().next().expect("a cell");
    let answer = app
        .get_as(&token, &format!("/api/v1/basemap/place?cell={cell}"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer}");
    let p = answer.json();
    assert_eq!(p["grid"], g.value.name.as_str());
    assert!(
        p["zh"]
            .as_str()
            .is_some_and(|z| z.ends_with(&format!(" · {}", g.value.name))),
        "{p}"
    );
    assert!(p["place"].is_string(), "{p}");
    let centre = h3o::LatLng::from(cell);
    let by_point = app
        .get_as(
            &token,
            &format!(
                "/api/v1/basemap/place?lon={}&lat={}",
                centre.lng(),
                centre.lat()
            ),
        )
        .await;
    assert_eq!(by_point.json()["zh"], p["zh"]);
    let bad = app
        .get_as(&token, "/api/v1/basemap/place?cell=nothing")
        .await;
    common::assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("cell"));
    let none = app.get_as(&token, "/api/v1/basemap/place?lat=31").await;
    common::assert_problem(&none, StatusCode::UNPROCESSABLE_ENTITY, Some("lon"));
}

#[tokio::test]
async fn bus_stops_name_cells_and_label_the_map_at_street_zoom() {
    let (app, token) = demo_app().await;
    // 松江老城, street zoom
    let a = app
        .get_as(
            &token,
            "/api/v1/basemap/places?bbox=121.21,31.0,121.25,31.03",
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a}");
    let features = a.json()["features"].as_array().expect("features").clone();
    assert!(features.len() > 10, "{} stops", features.len());
    for f in &features {
        assert_eq!(f["properties"]["kind"], "stop", "{f}");
        assert!(
            f["properties"]["name"].as_str().is_some_and(has_chinese),
            "{f}"
        );
        let c = f["geometry"]["coordinates"].as_array().expect("point");
        let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
        assert!((121.21..=121.25).contains(&lon) && (31.0..=31.03).contains(&lat));
    }
    // a point at a crossroads stop is named after it
    let stop = features
        .iter()
        .find(|f| {
            f["properties"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with('路') && !n.contains('（'))
        })
        .expect("a crossroads stop");
    let name = stop["properties"]["name"].as_str().expect("name");
    let c = stop["geometry"]["coordinates"].as_array().expect("point");
    let named = app
        .get_as(
            &token,
            &format!("/api/v1/basemap/place?lon={}&lat={}", c[0], c[1]),
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{named}");
    assert_eq!(named.json()["place"], name, "{named}");
    assert!(
        named.json()["zh"]
            .as_str()
            .is_some_and(|z| z.starts_with(&format!("{name}附近"))),
        "{named}"
    );
    // a district-wide box is refused, naming the parameter
    let wide = app
        .get_as(&token, "/api/v1/basemap/places?bbox=121.0,30.9,121.4,31.2")
        .await;
    assert_eq!(wide.status, StatusCode::UNPROCESSABLE_ENTITY, "{wide}");
    assert!(wide.text().contains("bbox"), "{wide}");
}

#[tokio::test]
async fn officers_and_inspectors_are_named_in_the_json_lists() {
    let (app, token) = demo_app().await;
    let tracks = app.get_as(&token, "/api/v1/tracks?limit=20").await;
    assert_eq!(tracks.status, StatusCode::OK, "{tracks}");
    let features = tracks.json()["features"]
        .as_array()
        .expect("tracks")
        .clone();
    assert!(!features.is_empty());
    for f in &features {
        let p = &f["properties"];
        // the login stays; the name is what people read (夏卫国, not officer01)
        assert!(
            p["officer"]
                .as_str()
                .is_some_and(|o| o.starts_with("officer")),
            "{p}"
        );
        assert!(p["officer_name"].as_str().is_some_and(has_chinese), "{p}");
    }
    let one = features[0]["id"].as_i64().expect("id");
    let t = app.get_as(&token, &format!("/api/v1/tracks/{one}")).await;
    assert!(
        t.json()["properties"]["officer_name"]
            .as_str()
            .is_some_and(has_chinese),
        "{t}"
    );
    // an inspected work's inspections name their inspector
    let ins = app.get_as(&token, "/api/v1/hazards?limit=1").await;
    assert_eq!(ins.status, StatusCode::OK, "{ins}");
    let work = ins.json()["items"][0]["project_id"]
        .as_i64()
        .expect("a hazard's work");
    let list = app
        .get_as(&token, &format!("/api/v1/projects/{work}/inspections"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{list}");
    for i in list.json()["items"].as_array().expect("items") {
        assert!(i["inspector_name"].as_str().is_some_and(has_chinese), "{i}");
    }
    // the case file names who recorded what, and who was told
    let file = app
        .get_as(&token, &format!("/api/v1/projects/{work}/casefile"))
        .await;
    assert_eq!(file.status, StatusCode::OK, "{file}");
    assert!(file.json()["supervision"].is_array(), "{file}");
    assert!(file.json()["names"].is_object(), "{file}");
}
