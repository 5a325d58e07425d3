//! Snapshot tests (insta) of answer bodies that clients read as they are:
//! a planned route's GPX, a town as GeoJSON, and one problem+json body per
//! kind of refusal (400, 401, 403, 404, 409, 413, 422). The snapshots live
//! in `tests/it/snapshots/`; a changed body fails the test until the change
//! is reviewed (`cargo insta review`, or `INSTA_UPDATE=always` and a diff).
//! Generated ids and timestamps are replaced by placeholders first.

use crate::common::{self, Answer, TestApp, assert_problem};
use crate::{inspections_api, routes_api};

use axum::http::StatusCode;
use gridpatrol::auth::Role;
use gridpatrol::http::limits::Limits;
use gridpatrol::service::{self, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

/// A store with the towns only.
async fn towns_store() -> DynStore {
    let store = common::sqlite_store().await;
    service::import_file(
        &store,
        ImportKind::Towns,
        &common::fixtures().join("towns.geojson"),
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("towns");
    store
}

/// A work (小微工程) at a position, as GeoJSON.
fn work(name: &str, lon: f64, lat: f64) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
           "properties": {"name": name, "category": "fit_out", "funding": "social",
                          "investment_cny": 90_000, "status": "discovered"}})
}

/// The problem body, after checking status and content type.
fn problem(a: &Answer, status: StatusCode) -> &Value {
    assert_problem(a, status, None);
    a.json()
}

/// The GPX of a route planned on the demo roads for one grid, at a fixed
/// date, start time, start and end; the creation time is a placeholder.
#[tokio::test]
async fn a_planned_route_as_gpx() {
    let store = common::sqlite_store().await;
    routes_api::setup(&store, true).await;
    let app = TestApp::new(&store);
    let token = common::admin_token(&store).await;
    let g = routes_api::grid(&store, routes_api::GRID).await;
    let (start, end) = routes_api::start_and_end(&g.value);
    let body = routes_api::request(g.id, start, Some(end), 60.0);
    let planned = app.post_json(&token, "/api/v1/routes", &body).await;
    assert_eq!(planned.status, StatusCode::CREATED, "{planned}");
    let id = planned.json()["id"].as_i64().expect("id");
    let gpx = app
        .get_as(&token, &format!("/api/v1/routes/{id}.gpx"))
        .await;
    assert_eq!(gpx.status, StatusCode::OK, "{gpx}");
    assert_eq!(gpx.content_type(), "application/gpx+xml");
    insta::assert_snapshot!("route_gpx", redact_gpx(&gpx.text(), id));
}

/// The route id in the titles and the metadata time (when it was planned).
fn redact_gpx(gpx: &str, id: i64) -> String {
    let gpx = gpx.replace(&format!("编号 {id}）"), "编号 [id]）");
    // The creation time is the first <time> of the document, inside <metadata>.
    let metadata_end = gpx.find("</metadata>").expect("the GPX has metadata");
    match (gpx.find("<time>"), gpx.find("</time>")) {
        (Some(a), Some(b)) if a < b && b < metadata_end => {
            format!("{}<time>[created_at]{}", &gpx[..a], &gpx[b..])
        }
        _ => gpx,
    }
}

/// One town (岳阳街道) as a GeoJSON Feature; its id is a placeholder.
#[tokio::test]
async fn a_town_as_geojson() {
    let store = towns_store().await;
    let app = TestApp::new(&store);
    let token = common::admin_token(&store).await;
    let towns = app.get_as(&token, "/api/v1/towns?limit=100").await;
    assert_eq!(towns.status, StatusCode::OK, "{towns}");
    let id = towns.json()["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["code"] == "310117001")
        .and_then(|f| f["id"].as_i64())
        .expect("岳阳街道");
    let town = app.get_as(&token, &format!("/api/v1/towns/{id}")).await;
    assert_eq!(town.status, StatusCode::OK, "{town}");
    let mut feature = town.json().clone();
    assert_eq!(feature["id"], id);
    feature["id"] = json!("[id]");
    insta::assert_json_snapshot!("town_geojson", feature);
}

#[tokio::test]
async fn problem_400_bad_json() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let a = TestApp::new(&store)
        .post_bytes(
            &token,
            "/api/v1/projects",
            "application/geo+json",
            "{\"type\": \"Feature\", ",
        )
        .await;
    insta::assert_json_snapshot!("problem_400_bad_json", problem(&a, StatusCode::BAD_REQUEST));
}

#[tokio::test]
async fn problem_401_no_token() {
    let store = towns_store().await;
    let a = TestApp::new(&store).get("/api/v1/towns").await;
    insta::assert_json_snapshot!(
        "problem_401_no_token",
        problem(&a, StatusCode::UNAUTHORIZED)
    );
}

/// Staff of 岳阳街道 placing a work in 泗泾镇.
#[tokio::test]
async fn problem_403_out_of_scope() {
    let store = towns_store().await;
    let staff = common::token_for(&store, "yy-staff", Role::Town, &["town:310117001"]).await;
    let a = TestApp::new(&store)
        .post_json(
            &staff,
            "/api/v1/projects",
            &work("泗泾镇的装修", 121.2650, 31.1150),
        )
        .await;
    insta::assert_json_snapshot!(
        "problem_403_out_of_scope",
        problem(&a, StatusCode::FORBIDDEN)
    );
}

#[tokio::test]
async fn problem_404_not_found() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let a = TestApp::new(&store)
        .get_as(&token, "/api/v1/projects/999999")
        .await;
    insta::assert_json_snapshot!("problem_404_not_found", problem(&a, StatusCode::NOT_FOUND));
}

/// A hazard moved from `open` straight to `closed`.
#[tokio::test]
async fn problem_409_illegal_hazard_move() {
    let store = common::sqlite_store().await;
    let (work, _) = inspections_api::setup(&store).await;
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    let recorded = app
        .post_json(
            &token,
            &format!("/api/v1/projects/{work}/inspections"),
            &inspections_api::inspection("王建国", &["no_switch_box"]),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{recorded}");
    let hazard = recorded.json()["hazards"][0]["id"]
        .as_i64()
        .expect("a hazard");
    let a = app
        .patch_json(
            &token,
            &format!("/api/v1/hazards/{hazard}"),
            &json!({"status": "closed", "note": "to closed"}),
        )
        .await;
    insta::assert_json_snapshot!(
        "problem_409_illegal_hazard_move",
        problem(&a, StatusCode::CONFLICT)
    );
}

#[tokio::test]
async fn problem_413_too_large() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let app = TestApp::with_limits(
        &store,
        Limits {
            max_body_bytes: 1024,
            ..Limits::default()
        },
    );
    let big = work(&"大".repeat(600), 121.2262, 31.0104);
    let a = app.post_json(&token, "/api/v1/projects", &big).await;
    insta::assert_json_snapshot!(
        "problem_413_too_large",
        problem(&a, StatusCode::PAYLOAD_TOO_LARGE)
    );
}

#[tokio::test]
async fn problem_422_invalid_field() {
    let store = towns_store().await;
    let token = common::admin_token(&store).await;
    let mut castle = work("城堡", 121.2262, 31.0104);
    castle["properties"]["category"] = json!("castle");
    let a = TestApp::new(&store)
        .post_json(&token, "/api/v1/projects", &castle)
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("category"));
    insta::assert_json_snapshot!(
        "problem_422_invalid_field",
        problem(&a, StatusCode::UNPROCESSABLE_ENTITY)
    );
}
