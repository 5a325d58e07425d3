//! Answers that must agree with themselves and with the caller's scope: a
//! track's `coordTimes` pair with its `coordinates` line by line (a one-fix
//! segment is drawn as two equal vertices, and timed twice), and a grid
//! manager's commercial-district blind spots count only the cells its grids
//! hold, on both stores.

use crate::common::{self, TestApp};
use crate::routes_api::setup;

use std::collections::HashSet;

use axum::http::StatusCode;
use gridpatrol::auth::Role;
use gridpatrol::blindspots::{DISTRICT_RESOLUTION, area_cells};
use gridpatrol::domain::{District, Grid};
use gridpatrol::store::{DynStore, typed};
use serde_json::Value;

/// A walk in 岳阳街道 whose last segment is one fix, after a gap.
const ONE_FIX_LAST: &str = "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"t\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><name>一点尾段</name><trkseg>\
<trkpt lat=\"31.0135\" lon=\"121.2249\"><time>2026-10-28T01:00:00Z</time></trkpt>\
<trkpt lat=\"31.0140\" lon=\"121.2252\"><time>2026-10-28T01:01:00Z</time></trkpt>\
<trkpt lat=\"31.0145\" lon=\"121.2255\"><time>2026-10-28T01:02:00Z</time></trkpt></trkseg><trkseg>\
<trkpt lat=\"31.0150\" lon=\"121.2258\"><time>2026-10-28T01:40:00Z</time></trkpt></trkseg></trk></gpx>";

/// Every line's vertices and times pair up.
fn assert_paired(feature: &Value) {
    let lines = feature["geometry"]["coordinates"]
        .as_array()
        .expect("lines");
    let times = feature["properties"]["coordTimes"]
        .as_array()
        .expect("coordTimes");
    assert_eq!(lines.len(), times.len(), "{feature}");
    for (line, t) in lines.iter().zip(times) {
        assert_eq!(
            line.as_array().map(Vec::len),
            t.as_array().map(Vec::len),
            "{feature}"
        );
    }
}

async fn coord_times_pair_with_coordinates(store: DynStore) {
    setup(&store, false).await;
    let app = TestApp::new(&store);
    let admin = common::admin_token(&store).await;
    let a = app
        .post_bytes(
            &admin,
            "/api/v1/tracks?officer=officer01",
            "application/gpx+xml",
            ONE_FIX_LAST,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let id = a.json()["tracks"][0]["id"].as_i64().expect("id");
    let one = app.get_as(&admin, &format!("/api/v1/tracks/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    let lines = one.json()["geometry"]["coordinates"]
        .as_array()
        .expect("lines")
        .clone();
    assert!(
        lines
            .iter()
            .any(|l| l.as_array().is_some_and(|v| v.len() == 2 && v[0] == v[1])),
        "the one-fix segment is kept: {}",
        one.json()
    );
    assert_paired(one.json());
    let list = app.get_as(&admin, "/api/v1/tracks?times=true").await;
    for f in list.json()["features"].as_array().expect("features") {
        assert_paired(f);
    }
}

/// A grid that holds some but not all of a commercial district's cells.
async fn grid_in_district(store: &DynStore) -> (i64, usize, Grid, HashSet<h3o::CellIndex>) {
    let districts = typed::all::<District>(store).await.expect("districts");
    let grids = typed::all::<Grid>(store).await.expect("grids");
    for d in &districts {
        let cells: HashSet<h3o::CellIndex> = area_cells(&d.value.geometry, DISTRICT_RESOLUTION)
            .into_iter()
            .collect();
        for g in &grids {
            let held: HashSet<h3o::CellIndex> = g
                .value
                .expanded_cells()
                .flat_map(|c| c.children(DISTRICT_RESOLUTION))
                .filter(|c| cells.contains(c))
                .collect();
            if !held.is_empty() && held.len() * 2 < cells.len() {
                return (d.id, cells.len(), g.value.clone(), held);
            }
        }
    }
    panic!("no grid lies partly in a commercial district");
}

fn row(answer: &Value, district: i64) -> Option<&Value> {
    answer["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["district_id"] == district)
}

async fn grid_managers_see_their_part_of_a_district(store: DynStore) {
    setup(&store, false).await;
    let app = TestApp::new(&store);
    let admin = common::admin_token(&store).await;
    let (district, all_cells, grid, held) = grid_in_district(&store).await;
    let gm = common::token_for(
        &store,
        "gm-district",
        Role::GridManager,
        &[&format!("grid:{}", grid.code)],
    )
    .await;
    let uri = "/api/v1/blindspots/districts?from=2026-10-01&to=2026-11-28";
    let whole = app.get_as(&admin, uri).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.json());
    let whole = row(whole.json(), district).expect("the admin sees the district");
    assert_eq!(whole["cells"], all_cells);

    let part = app.get_as(&gm, uri).await;
    assert_eq!(part.status, StatusCode::OK, "{}", part.json());
    let part = row(part.json(), district).expect("the grid manager sees the district");
    assert_eq!(part["cells"], held.len(), "{part}");
    assert!(
        part["patrolled_cells"].as_u64().unwrap_or(0) <= held.len() as u64,
        "{part}"
    );
    assert!(
        part["works"].as_u64() <= whole["works"].as_u64(),
        "{part} {whole}"
    );
}

crate::store_tests!(
    coord_times_pair_with_coordinates,
    grid_managers_see_their_part_of_a_district
);
