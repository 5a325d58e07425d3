//! The scope matrix for tracks (officers their own, town staff and admins
//! in their area) and coverage (the caller's grids only).

use super::{OTHER, USERS, World, features, geometry, ids, point, world};
use crate::common::{self, Answer, assert_problem_in};

use std::collections::BTreeSet;

use axum::http::StatusCode;
use geo::{Geometry, Intersects};
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

/// A walk of 30 points, 10 s and about 14 m apart, heading north-east from
/// a place; `start` makes each walk a different track.
fn walk(lon: f64, lat: f64, start: i64, officer: Option<&str>) -> Value {
    let t0 = chrono::DateTime::from_timestamp(1_780_000_000 + start * 3600, 0).expect("time");
    let coords: Vec<Value> = (0..30)
        .map(|i| json!([lon + f64::from(i) * 0.0001, lat + f64::from(i) * 0.00008]))
        .collect();
    let times: Vec<String> = (0..30)
        .map(|i| (t0 + chrono::Duration::seconds(i * 10)).to_rfc3339())
        .collect();
    let mut props = json!({"name": format!("walk {start}"), "coordTimes": times});
    if let Some(o) = officer {
        props["officer"] = json!(o);
    }
    json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
           "properties": props})
}

async fn upload(w: &World, user: &str, officer: Option<&str>, body: Value) -> Answer {
    let uri = officer.map_or_else(
        || "/api/v1/tracks".to_owned(),
        |o| format!("/api/v1/tracks?officer={o}"),
    );
    w.app
        .post_bytes(
            &w.tokens[user],
            &uri,
            "application/geo+json",
            body.to_string(),
        )
        .await
}

/// Tracks: officers upload and see their own; town staff and admins upload
/// in their area; everyone else sees the tracks touching their scope.
#[expect(
    clippy::too_many_lines,
    reason = "one matrix of roles and cases, read top to bottom"
)]
async fn tracks_follow_role_and_scope(store: DynStore) {
    let w = world(store).await;
    let in_grid = w.all["projects"]
        .iter()
        .find(|p| w.sees("gm-grid", "projects", p))
        .map(point)
        .expect("a work in the grid");
    let elsewhere = w.all["projects"]
        .iter()
        .find(|p| p["properties"]["town"] == OTHER)
        .map(point)
        .expect("a work in 泗泾镇");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // (user, ?officer=, status inside the grid, status in 泗泾镇)
    for (user, officer, inside, outside) in [
        ("admin", Some("officer03"), 201, 201),
        ("town-yy", Some("officer03"), 201, 403),
        ("gm-grid", Some("officer03"), 403, 403),
        ("officer01", None, 201, 201),
        ("viewer-yy", Some("officer03"), 403, 403),
        ("viewer-district", Some("officer03"), 403, 403),
    ] {
        for ((lon, lat), status) in [(in_grid, inside), (elsewhere, outside)] {
            let a = upload(&w, user, officer, walk(lon, lat, next(), None)).await;
            assert_eq!(
                a.status.as_u16(),
                status,
                "{user} uploads at {lon},{lat}: {}",
                a.json()
            );
            if status == 403 {
                assert_eq!(a.content_type(), "application/problem+json");
            }
        }
    }
    // officers upload in their own name only
    let a = upload(
        &w,
        "officer01",
        Some("officer02"),
        walk(in_grid.0, in_grid.1, next(), None),
    )
    .await;
    assert_problem_in(
        &a,
        StatusCode::FORBIDDEN,
        None,
        "an officer uploads for another",
    );
    let a = upload(
        &w,
        "officer01",
        None,
        walk(in_grid.0, in_grid.1, next(), Some("officer02")),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    assert_eq!(
        a.json()["tracks"][0]["officer"],
        "officer01",
        "stored under the uploader"
    );

    let all = w
        .as_("admin", "GET", "/api/v1/tracks?limit=10000", None)
        .await;
    let all = features(&all).clone();
    assert_eq!(all.len(), 6, "admin 2, town staff 1, officer 3");
    let touches =
        |f: &Value, shapes: &[&Geometry<f64>]| shapes.iter().any(|s| s.intersects(&geometry(f)));
    for user in USERS {
        let expected: BTreeSet<i64> = ids(&all
            .iter()
            .filter(|f| match user {
                "admin" | "viewer-district" => true,
                "officer01" => f["properties"]["officer"] == "officer01",
                "town-yy" | "viewer-yy" => touches(f, &[&w.town_shape]),
                "gm-grid" => touches(f, &[&w.grid_shape]),
                "gm-zone" => touches(f, &w.zone_shapes.iter().collect::<Vec<_>>()),
                _ => unreachable!(),
            })
            .cloned()
            .collect::<Vec<_>>());
        let a = w.as_(user, "GET", "/api/v1/tracks?limit=10000", None).await;
        assert_eq!(a.status, StatusCode::OK, "{user}");
        assert_eq!(
            ids(features(&a)),
            expected,
            "{user} sees exactly its tracks"
        );
        assert_eq!(
            a.json()["numberMatched"].as_u64(),
            Some(expected.len() as u64)
        );
        assert!(!expected.is_empty(), "{user} has tracks to see");
        let a = w
            .as_(user, "GET", "/api/v1/tracks?limit=1&offset=1", None)
            .await;
        assert!(ids(features(&a)).is_subset(&expected), "{user} page");
        for f in &all {
            let id = f["id"].as_i64().expect("id");
            let want = if expected.contains(&id) { 200 } else { 404 };
            for uri in [
                format!("/api/v1/tracks/{id}"),
                format!("/api/v1/tracks/{id}/cells"),
            ] {
                let a = w.as_(user, "GET", &uri, None).await;
                assert_eq!(a.status.as_u16(), want, "{user} {uri}");
            }
        }
    }
    let a = w
        .as_("officer01", "GET", "/api/v1/tracks?officer=officer03", None)
        .await;
    assert_eq!(
        a.json()["numberMatched"],
        0,
        "officers list their own tracks only"
    );
}

/// The res-10 cells of grid features (their compacted `cells`).
fn grid_cells(grids: &[&Value]) -> BTreeSet<String> {
    grids
        .iter()
        .flat_map(|g| g["properties"]["cells"].as_array().expect("cells").clone())
        .flat_map(|c| {
            let cell: h3o::CellIndex = c.as_str().expect("a cell").parse().expect("an H3 cell");
            cell.children(h3o::Resolution::Ten)
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Coverage, its summary and the blind cells answer the caller's grids only;
/// an area outside the scope is not found.
async fn coverage_follows_scope(store: DynStore) {
    let w = world(store).await;
    let grid_id = |code: &str| {
        w.all["grids"]
            .iter()
            .find(|g| g["properties"]["code"] == code)
            .and_then(|g| g["id"].as_i64())
            .expect("grid id")
    };
    let inside = grid_id(&w.grid_code);
    let outside = w.all["grids"]
        .iter()
        .find(|g| g["properties"]["town"] == OTHER)
        .and_then(|g| g["id"].as_i64())
        .expect("a grid of 泗泾镇");
    for user in USERS {
        let visible = w.expected(user, "grids");
        let whole = matches!(user, "admin" | "viewer-district");
        if !whole {
            let grids: Vec<&Value> = w.all["grids"]
                .iter()
                .filter(|g| visible.contains(&g["id"].as_i64().expect("id")))
                .collect();
            let a = w.as_(user, "GET", "/api/v1/coverage", None).await;
            assert_eq!(a.status, StatusCode::OK, "{user}: {}", a.json());
            let got: BTreeSet<String> = features(&a)
                .iter()
                .filter_map(|f| f["properties"]["cell"].as_str().map(str::to_owned))
                .collect();
            assert_eq!(got, grid_cells(&grids), "{user}: the cells of its grids");
        }
        for (area, id) in [("inside", inside), ("outside", outside)] {
            let want = if area == "inside" || whole { 200 } else { 404 };
            let a = w
                .as_(
                    user,
                    "GET",
                    &format!("/api/v1/coverage?scope=grid:{id}"),
                    None,
                )
                .await;
            assert_eq!(
                a.status.as_u16(),
                want,
                "{user} coverage of the grid {area}"
            );
        }
        let a = w
            .as_(
                user,
                "GET",
                &format!("/api/v1/coverage?scope=town:{OTHER}"),
                None,
            )
            .await;
        assert_eq!(
            a.status.as_u16(),
            if whole { 200 } else { 404 },
            "{user} town:{OTHER}"
        );

        let a = w
            .as_(user, "GET", "/api/v1/coverage/summary?level=grid", None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{user}: {}", a.json());
        let areas: BTreeSet<i64> = a.json()["areas"]
            .as_array()
            .expect("areas")
            .iter()
            .filter_map(|r| r["area"].as_str().and_then(|s| s.parse().ok()))
            .collect();
        assert_eq!(areas, visible, "{user}: one summary row per grid in scope");

        let a = w
            .as_(user, "GET", "/api/v1/blindspots/cells?limit=100000", None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{user}: {}", a.json());
        for f in features(&a) {
            let g = f["properties"]["grid_id"].as_i64().expect("grid_id");
            assert!(visible.contains(&g), "{user}: a blind cell of grid {g}");
        }
        assert!(!features(&a).is_empty(), "{user} has blind cells");
    }
}

store_tests!(tracks_follow_role_and_scope, coverage_follows_scope);
