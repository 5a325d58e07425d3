//! Write guards: a work's town follows its geometry (no filing into another
//! town by label), text with control characters (NUL) is refused at the
//! boundary, polygons must be valid and inside the district, and property
//! types and plausibility bounds are strict. Every refusal stores nothing.

use crate::common::{self, TestApp, assert_problem};

use axum::http::StatusCode;
use gridpatrol::auth::Role;
use gridpatrol::demo::LAYER_FILES;
use gridpatrol::service;
use gridpatrol::spatial::Crs;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

const YUEYANG: &str = "310117001";
const SIJING: &str = "310117102";
/// A point in 岳阳街道 and one in 泗泾镇.
const IN_YUEYANG: (f64, f64) = (121.2249, 31.0135);
const IN_SIJING: (f64, f64) = (121.2650, 31.1150);

async fn layers(store: &DynStore) {
    for (kind, file) in LAYER_FILES {
        service::import_file(
            store,
            kind,
            &common::fixtures().join(file),
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("layer loads");
    }
}

fn props(name: &str) -> Value {
    json!({"name": name, "category": "fit_out", "funding": "social",
           "investment_cny": 260_000, "floor_area_m2": 140.0, "status": "discovered"})
}

fn point_work(props: Value, (lon, lat): (f64, f64)) -> Value {
    let mut f =
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}});
    f["properties"] = props;
    f
}

fn polygon_work(props: Value, ring: &[[f64; 2]]) -> Value {
    let mut f = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}});
    f["properties"] = props;
    f
}

async fn count(app: &TestApp, token: &str) -> u64 {
    let a = app.get_as(token, "/api/v1/projects?limit=1").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    a.json()["numberMatched"].as_u64().expect("numberMatched")
}

/// Posts a work that must be refused with `status` naming `field`; the
/// count of works stays the same.
async fn refused(app: &TestApp, token: &str, body: &Value, field: &str) -> Value {
    let admin = common::admin_token(app.store()).await;
    let before = count(app, &admin).await;
    let a = app.post_json(token, "/api/v1/projects", body).await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    assert_eq!(count(app, &admin).await, before, "nothing stored");
    a.json().clone()
}

async fn town_spoofing(store: DynStore) {
    layers(&store).await;
    let app = TestApp::new(&store);
    let admin = common::admin_token(&store).await;
    let yy = common::token_for(&store, "town-yy", Role::Town, &[&format!("town:{YUEYANG}")]).await;

    // a town user files a work lying in 泗泾镇 labelled as its own town
    let mut p = props("冒名工程");
    p["town"] = json!(YUEYANG);
    let answer = refused(&app, &yy, &point_work(p.clone(), IN_SIJING), "town").await;
    let text = answer.to_string();
    assert!(
        text.contains("泗泾镇") && text.contains("岳阳街道"),
        "{text}"
    );
    // the same for an admin with a wrong label, by name
    p["town"] = json!("岳阳街道");
    refused(&app, &admin, &point_work(p.clone(), IN_SIJING), "town").await;
    // without a label the town user is refused by scope
    let a = app
        .post_json(
            &yy,
            "/api/v1/projects",
            &point_work(props("越界工程"), IN_SIJING),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json());

    // a correct name or code is accepted
    p["town"] = json!("泗泾镇");
    let a = app
        .post_json(
            &admin,
            "/api/v1/projects",
            &point_work(p.clone(), IN_SIJING),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    assert_eq!(a.json()["properties"]["town"], SIJING);
    let mut own = props("本镇工程");
    own["town"] = json!(YUEYANG);
    let a = app
        .post_json(&yy, "/api/v1/projects", &point_work(own, IN_YUEYANG))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let id = a.json()["id"].as_i64().expect("id");
    let path = format!("/api/v1/projects/{id}");

    // PATCH: relabelling or moving the work into another town is refused
    let a = app.patch_json(&yy, &path, &json!({"town": SIJING})).await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("town"));
    let moved = point_work(json!({"town": YUEYANG}), IN_SIJING);
    let a = app.patch_json(&yy, &path, &moved).await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("town"));
    let moved = point_work(json!({}), IN_SIJING);
    let a = app.patch_json(&yy, &path, &moved).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json());
    let now = app.get_as(&admin, &path).await;
    assert_eq!(now.json()["properties"]["town"], YUEYANG);
    assert_eq!(
        now.json()["geometry"]["coordinates"],
        json!([IN_YUEYANG.0, IN_YUEYANG.1])
    );
}

async fn control_characters(store: DynStore) {
    layers(&store).await;
    let app = TestApp::new(&store);
    let admin = common::admin_token(&store).await;

    refused(
        &app,
        &admin,
        &point_work(props("名称\u{0}注入"), IN_YUEYANG),
        "properties.name",
    )
    .await;
    let mut p = props("地址");
    p["address"] = json!("荣乐东路\u{1b}[31m");
    refused(
        &app,
        &admin,
        &point_work(p, IN_YUEYANG),
        "properties.address",
    )
    .await;

    let a = app
        .post_json(
            &admin,
            "/api/v1/projects",
            &point_work(props("合法工程"), IN_YUEYANG),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let id = a.json()["id"].as_i64().expect("id");
    let path = format!("/api/v1/projects/{id}");
    let a = app
        .patch_json(&admin, &path, &json!({"name": "改\u{0}名"}))
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    assert_eq!(
        app.get_as(&admin, &path).await.json()["properties"]["name"],
        "合法工程"
    );

    // an inspection with a NUL in a finding's note, then a hazard's note
    let inspections = format!("{path}/inspections");
    let mut body = crate::inspections_api::inspection("王建国", &["extension_board"]);
    body["findings"][0]["note"] = json!("整改\u{0}");
    let a = app.post_json(&admin, &inspections, &body).await;
    assert_problem(
        &a,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("findings[0].note"),
    );
    let listed = app.get_as(&admin, &inspections).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.json()["inspections"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        listed.json()
    );
    let body = crate::inspections_api::inspection("王建国", &["extension_board"]);
    let a = app.post_json(&admin, &inspections, &body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let hazard = a.json()["hazards"][0]["id"].as_i64().expect("hazard");
    let hazard = format!("/api/v1/hazards/{hazard}");
    let a = app
        .patch_json(
            &admin,
            &hazard,
            &json!({"status": "rectifying", "note": "a\u{0}b"}),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("note"));
    assert_eq!(app.get_as(&admin, &hazard).await.json()["status"], "open");

    // a track whose name holds a NUL
    let gpx = "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"t\" xmlns=\"http://www.topografix.com/GPX/1/1\"><trk><trkseg>\
<trkpt lat=\"31.0135\" lon=\"121.2249\"><time>2026-10-28T01:00:00Z</time></trkpt>\
<trkpt lat=\"31.0140\" lon=\"121.2252\"><time>2026-10-28T01:01:00Z</time></trkpt>\
<trkpt lat=\"31.0145\" lon=\"121.2255\"><time>2026-10-28T01:02:00Z</time></trkpt></trkseg></trk></gpx>";
    let a = app
        .post_bytes(
            &admin,
            "/api/v1/tracks?officer=officer01&name=a%00b",
            "application/gpx+xml",
            gpx.as_bytes().to_vec(),
        )
        .await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("name"));
    let tracks = app.get_as(&admin, "/api/v1/tracks").await;
    assert_eq!(tracks.json()["features"].as_array().map_or(0, Vec::len), 0);
}

async fn polygons(store: DynStore) {
    layers(&store).await;
    let app = TestApp::new(&store);
    let admin = common::admin_token(&store).await;
    let bow_tie = [
        [121.22, 31.01],
        [121.23, 31.02],
        [121.23, 31.01],
        [121.22, 31.02],
        [121.22, 31.01],
    ];
    let a = refused(
        &app,
        &admin,
        &polygon_work(props("蝴蝶结"), &bow_tie),
        "geometry",
    )
    .await;
    assert!(a.to_string().contains("self-intersecting"), "{a}");
    let half_out = [
        [121.22, 31.01],
        [121.23, 31.01],
        [121.23, 31.6],
        [121.22, 31.6],
        [121.22, 31.01],
    ];
    let a = refused(
        &app,
        &admin,
        &polygon_work(props("半出界"), &half_out),
        "geometry",
    )
    .await;
    assert!(a.to_string().contains("leaves the district"), "{a}");
    let inside = [
        [121.222, 31.012],
        [121.226, 31.012],
        [121.226, 31.015],
        [121.222, 31.015],
        [121.222, 31.012],
    ];
    let a = app
        .post_json(
            &admin,
            "/api/v1/projects",
            &polygon_work(props("界内"), &inside),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    assert_eq!(a.json()["properties"]["town"], YUEYANG);
}

async fn types_and_bounds(store: DynStore) {
    layers(&store).await;
    let app = TestApp::new(&store);
    let admin = common::admin_token(&store).await;
    let with = |k: &str, v: Value| {
        let mut p = props("边界");
        p[k] = v;
        point_work(p, IN_YUEYANG)
    };
    for (k, v, reason) in [
        ("name", json!(123), "string"),
        ("hot_work", json!("yes"), "true or false"),
        ("investment_cny", json!("5"), "number"),
        ("started_on", json!("9999-01-01"), "2100-12-31"),
        ("completed_on", json!("0001-01-01"), "2000-01-01"),
        ("investment_cny", json!(2.0e10), "1e10"),
        ("floor_area_m2", json!(1.0e308), "1e7"),
        ("name", json!("长".repeat(300)), "200"),
        ("address", json!("址".repeat(2_500)), "300"),
    ] {
        let a = refused(&app, &admin, &with(k, v), k).await;
        assert!(a.to_string().contains(reason), "{k}: {a}");
    }
}

crate::store_tests!(
    town_spoofing,
    control_characters,
    polygons,
    types_and_bounds
);
