//! The HTTP API end to end through the router (no socket): GeoJSON lists,
//! project writes, and bad input on every write path answered with
//! problem+json and nothing stored.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridpatrol::demo;
use gridpatrol::http::{AppState, app};
use gridpatrol::store::DynStore;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn demo_store() -> DynStore {
    let store = common::sqlite_store().await;
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    store
}

struct Answer {
    status: StatusCode,
    content_type: String,
    location: Option<String>,
    body: Value,
}

async fn call(store: &DynStore, method: &str, uri: &str, body: Option<String>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri).header(
        header::AUTHORIZATION,
        format!("Bearer {}", common::admin_token(store).await),
    );
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/geo+json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("request");
    let res = app(AppState::new(store.clone()))
        .oneshot(req)
        .await
        .expect("response");
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        location,
        body,
    }
}

async fn project_count(store: &DynStore) -> u64 {
    call(store, "GET", "/api/v1/projects?limit=1", None)
        .await
        .body["numberMatched"]
        .as_u64()
        .expect("count")
}

fn assert_problem(a: &Answer, status: StatusCode, field: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(a.body["status"], status.as_u16());
    let fields: Vec<&str> = a.body["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        fields.contains(&field),
        "expected field {field:?} in {}",
        a.body
    );
    let text = a.body.to_string().to_lowercase();
    for sql in ["select ", "insert ", "sqlx", "syntax error", "constraint"] {
        assert!(!text.contains(sql), "problem leaks internals: {text}");
    }
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
    assert_eq!(towns.body["type"], "FeatureCollection");
    assert_eq!(towns.body["numberMatched"], 18);
    let names: Vec<&str> = towns.body["features"]
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
    let first = &towns.body["features"][0];
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
        assert_eq!(a.body["numberReturned"], 5, "{layer}");
        assert!(
            a.body["numberMatched"].as_u64().expect("total") >= 9,
            "{layer}"
        );
        let id = a.body["features"][0]["id"].as_i64().expect("id");
        let one = call(&store, "GET", &format!("/api/v1/{layer}/{id}"), None).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.body["id"], id);
    }
    let grid = call(&store, "GET", "/api/v1/grids?limit=1", None).await;
    assert!(
        grid.body["features"][0]["properties"]["cells"]
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
        by_town.body["features"]
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
    assert!(boxed.body["numberMatched"].as_u64().expect("n") > 0);
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
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, field);
    }
    let a = call(&store, "GET", "/api/v1/projects/999999", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.content_type, "application/problem+json");
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
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let location = a.location.expect("Location");
    assert_eq!(project_count(&store).await, before + 1);
    let got = call(&store, "GET", &location, None).await;
    assert_eq!(got.body["properties"]["name"], "荣乐东路66号餐饮店装修");
    assert_eq!(
        got.body["properties"]["town"], "310117001",
        "town derived from the position (岳阳街道)"
    );
    assert_eq!(got.body["properties"]["above_limit"], false);

    let patched = call(
        &store,
        "PATCH",
        &location,
        Some(json!({"status": "filed", "started_on": "2026-11-02"}).to_string()),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["properties"]["status"], "filed");
    assert_eq!(
        patched.body["properties"]["hot_work"], true,
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
        big.body["properties"]["above_limit"], true,
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
    let c = &a.body["geometry"]["coordinates"];
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
        assert_problem(&a, status, field);
    }
    let a = call(
        &store,
        "POST",
        "/api/v1/projects?crs=mars",
        Some(work(valid_props(), 121.2262, 31.0104)),
    )
    .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "crs");
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
        assert_problem(&a, status, field);
    }
    assert_eq!(
        call(&store, "GET", "/api/v1/projects/1", None).await.body,
        one.body
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
        doc.body["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3'))
    );
    for path in [
        "/api/v1/towns",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/health",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
    }
}
