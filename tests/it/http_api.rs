//! The HTTP API end to end through the router (no socket): GeoJSON lists,
//! project writes, and bad input on every write path answered with
//! problem+json and nothing stored.

use crate::common::{self, Answer, TestApp, assert_problem};

use axum::http::{StatusCode, header};
use gridpatrol::demo;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

async fn demo_store() -> DynStore {
    let store = common::sqlite_store().await;
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    store
}

/// A call as the admin, the body (if any) sent as `application/geo+json`.
async fn call(store: &DynStore, method: &str, uri: &str, body: Option<String>) -> Answer {
    let token = common::admin_token(store).await;
    TestApp::new(store)
        .request(
            method,
            uri,
            Some(&token),
            body.map(|b| ("application/geo+json", b.into_bytes())),
        )
        .await
}

async fn project_count(store: &DynStore) -> u64 {
    call(store, "GET", "/api/v1/projects?limit=1", None)
        .await
        .json()["numberMatched"]
        .as_u64()
        .expect("count")
}

fn work(props: Value, lon: f64, lat: f64) -> String {
    let mut f =
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}});
    f["properties"] = props;
    f.to_string()
}

fn valid_props() -> Value {
    json!({"name": "荣乐东路66号餐饮店装修", "category": "fit_out", "funding": "social",
           "investment_cny": 260_000, "floor_area_m2": 140.0, "status": "discovered", "hot_work": true})
}

#[tokio::test]
async fn lists_every_layer_as_geojson() {
    let store = demo_store().await;
    let towns = call(&store, "GET", "/api/v1/towns", None).await;
    assert_eq!(towns.status, StatusCode::OK);
    assert_eq!(towns.json()["type"], "FeatureCollection");
    assert_eq!(towns.json()["numberMatched"], 18);
    let names: Vec<&str> = towns.json()["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["name"].as_str())
        .collect();
    for n in [
        "岳阳街道",
        "广富林街道",
        "九里亭街道",
        "泗泾镇",
        "松江工业区",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let first = &towns.json()["features"][0];
    assert!(first["id"].is_number());
    let lon = first["geometry"]["coordinates"][0][0][0][0]
        .as_f64()
        .expect("lon first");
    assert!(
        (120.9..121.5).contains(&lon),
        "RFC 7946 order is [lon, lat]"
    );

    for layer in ["zones", "grids", "districts", "venues", "projects"] {
        let a = call(&store, "GET", &format!("/api/v1/{layer}?limit=5"), None).await;
        assert_eq!(a.status, StatusCode::OK, "{layer}");
        assert_eq!(a.json()["numberReturned"], 5, "{layer}");
        assert!(
            a.json()["numberMatched"].as_u64().expect("total") >= 9,
            "{layer}"
        );
        let id = a.json()["features"][0]["id"].as_i64().expect("id");
        let one = call(&store, "GET", &format!("/api/v1/{layer}/{id}"), None).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.json()["id"], id);
    }
    let grid = call(&store, "GET", "/api/v1/grids?limit=1", None).await;
    assert!(
        grid.json()["features"][0]["properties"]["cells"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "grids carry their cells"
    );

    let by_town = call(
        &store,
        "GET",
        "/api/v1/projects?town=310117102&limit=10000",
        None,
    )
    .await;
    assert!(
        by_town.json()["features"]
            .as_array()
            .expect("features")
            .iter()
            .all(|f| f["properties"]["town"] == "310117102")
    );
    let boxed = call(
        &store,
        "GET",
        "/api/v1/venues?bbox=121.20,31.00,121.25,31.05",
        None,
    )
    .await;
    assert!(boxed.json()["numberMatched"].as_u64().expect("n") > 0);
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let store = demo_store().await;
    for (uri, field) in [
        ("/api/v1/towns?bbox=1,2,3", "bbox"),
        ("/api/v1/towns?bbox=121.3,31,121.2,31.1", "bbox"),
        ("/api/v1/towns?bbox=200,0,201,1", "bbox"),
        ("/api/v1/projects?limit=0", "limit"),
        ("/api/v1/projects?limit=abc", "limit"),
        ("/api/v1/projects?status=built", "status"),
        ("/api/v1/venues?kind=castle", "kind"),
    ] {
        let a = call(&store, "GET", uri, None).await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    let a = call(&store, "GET", "/api/v1/projects/999999", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.content_type(), "application/problem+json");
    let a = call(&store, "GET", "/api/v1/projects/abc", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn creates_reads_and_patches_a_project() {
    let store = demo_store().await;
    let before = project_count(&store).await;
    let a = call(
        &store,
        "POST",
        "/api/v1/projects",
        Some(work(valid_props(), 121.2262, 31.0104)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let location = a.header(header::LOCATION).expect("Location").to_owned();
    assert_eq!(project_count(&store).await, before + 1);
    let got = call(&store, "GET", &location, None).await;
    assert_eq!(got.json()["properties"]["name"], "荣乐东路66号餐饮店装修");
    assert_eq!(
        got.json()["properties"]["town"],
        "310117001",
        "town derived from the position (岳阳街道)"
    );
    assert_eq!(got.json()["properties"]["above_limit"], false);

    let patched = call(
        &store,
        "PATCH",
        &location,
        Some(json!({"started_on": "2026-11-02"}).to_string()),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json());
    assert_eq!(patched.json()["properties"]["started_on"], "2026-11-02");
    // the status follows from the records (开工备案), never from an edit
    let refused = call(
        &store,
        "PATCH",
        &location,
        Some(json!({"status": "filed"}).to_string()),
    )
    .await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, Some("status"));
    assert_eq!(
        patched.json()["properties"]["hot_work"],
        true,
        "untouched properties stay"
    );

    let big = call(
        &store,
        "PATCH",
        &location,
        Some(json!({"floor_area_m2": 320}).to_string()),
    )
    .await;
    assert_eq!(
        big.json()["properties"]["above_limit"],
        true,
        "a fit-out of 320 m² is above the limit"
    );

    // the same position given in GCJ-02 is stored within a metre of WGS-84
    let (glon, glat) = gridpatrol::spatial::crs::wgs84_to_gcj02(121.2262, 31.0104);
    let mut p = valid_props();
    p["name"] = json!("荣乐东路68号装修");
    let a = call(
        &store,
        "POST",
        "/api/v1/projects?crs=gcj02",
        Some(work(p, glon, glat)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let c = &a.json()["geometry"]["coordinates"];
    let d =
        gridpatrol::spatial::LonLat::new(c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"))
            .expect("valid")
            .distance_m(gridpatrol::spatial::LonLat::new(121.2262, 31.0104).expect("valid"));
    assert!(d < 0.5, "{d} m");
}

#[tokio::test]
async fn bad_writes_are_refused_and_store_nothing() {
    let store = demo_store().await;
    let before = project_count(&store).await;
    let with = |k: &str, v: Value| {
        let mut p = valid_props();
        p[k] = v;
        work(p, 121.2262, 31.0104)
    };
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (work(valid_props(), 181.0, 31.0), StatusCode::UNPROCESSABLE_ENTITY, "geometry"),
        (work(valid_props(), 121.2, 95.0), StatusCode::UNPROCESSABLE_ENTITY, "geometry"),
        (work(valid_props(), 116.404, 39.915), StatusCode::UNPROCESSABLE_ENTITY, "geometry"),
        (with("category", json!("castle")), StatusCode::UNPROCESSABLE_ENTITY, "category"),
        (with("funding", json!("foreign")), StatusCode::UNPROCESSABLE_ENTITY, "funding"),
        (with("investment_cny", json!(-5)), StatusCode::UNPROCESSABLE_ENTITY, "investment_cny"),
        (with("floor_area_m2", json!(-1.5)), StatusCode::UNPROCESSABLE_ENTITY, "floor_area_m2"),
        (with("started_on", json!("yesterday")), StatusCode::UNPROCESSABLE_ENTITY, "started_on"),
        (with("name", json!("")), StatusCode::UNPROCESSABLE_ENTITY, "name"),
        (with("town", json!("不存在镇")), StatusCode::UNPROCESSABLE_ENTITY, "town"),
        ("{\"type\": \"Feature\", ".into(), StatusCode::BAD_REQUEST, "body"),
        ("{\"type\": \"FeatureCollection\", \"features\": []}".into(), StatusCode::BAD_REQUEST, "type"),
        (json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.22, 31.01], [121.23, 31.02]]}, "properties": valid_props()}).to_string(),
         StatusCode::UNPROCESSABLE_ENTITY, "geometry"),
    ];
    for (body, status, field) in cases {
        let a = call(&store, "POST", "/api/v1/projects", Some(body.clone())).await;
        assert_problem(&a, status, Some(field));
    }
    let a = call(
        &store,
        "POST",
        "/api/v1/projects?crs=mars",
        Some(work(valid_props(), 121.2262, 31.0104)),
    )
    .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("crs"));
    assert_eq!(project_count(&store).await, before, "nothing was stored");

    // a duplicate ledger code is a conflict
    let mut p = valid_props();
    p["code"] = json!("SJ-2026-0001");
    let a = call(
        &store,
        "POST",
        "/api/v1/projects",
        Some(work(p, 121.2262, 31.0104)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(project_count(&store).await, before);

    // PATCH: bad values are refused and the project is unchanged
    let one = call(&store, "GET", "/api/v1/projects/1", None).await;
    for (body, status, field) in [
        (
            json!({"investment_cny": -1}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "investment_cny",
        ),
        (
            json!({"status": "demolished"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "status",
        ),
        (
            json!({"code": "OTHER"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "code",
        ),
        ("[1, 2]".into(), StatusCode::BAD_REQUEST, "body"),
        ("not json".into(), StatusCode::BAD_REQUEST, "body"),
    ] {
        let a = call(&store, "PATCH", "/api/v1/projects/1", Some(body)).await;
        assert_problem(&a, status, Some(field));
    }
    assert_eq!(
        call(&store, "GET", "/api/v1/projects/1", None).await.json(),
        one.json()
    );
    let a = call(
        &store,
        "PATCH",
        "/api/v1/projects/999999",
        Some(json!({"status": "filed"}).to_string()),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn serves_health_and_openapi() {
    let store = common::sqlite_store().await;
    let h = call(&store, "GET", "/health", None).await;
    assert_eq!(h.status, StatusCode::OK);
    let doc = call(&store, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(
        doc.json()["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3'))
    );
    for path in [
        "/api/v1/towns",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/health",
    ] {
        assert!(doc.json()["paths"].get(path).is_some(), "{path} documented");
    }
}
