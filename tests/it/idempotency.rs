//! `Idempotency-Key`: a write sent again with the same key is answered with
//! the first answer and stored once (a work, a live track's batch); the key
//! with another request is refused; a malformed key is refused; keys are
//! per user; the store's reservations race, go stale and expire as
//! documented. Both stores.

use crate::common::{self, TestApp, assert_problem};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridpatrol::auth::Role;
use gridpatrol::demo::LAYER_FILES;
use gridpatrol::service;
use gridpatrol::spatial::Crs;
use gridpatrol::store::DynStore;
use gridpatrol::store::idempotency::{KeptAnswer, KeyClock, Reservation};
use serde_json::{Value, json};

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

fn work(name: &str) -> Value {
    json!({"type": "Feature",
           "geometry": {"type": "Point", "coordinates": [121.2249, 31.0135]},
           "properties": {"name": name, "category": "fit_out", "funding": "social",
                          "investment_cny": 260_000, "floor_area_m2": 140.0,
                          "status": "discovered"}})
}

async fn send(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> common::Answer {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(Body::from(body.to_string()))
        .expect("a valid request");
    app.send(req).await
}

async fn works_named(app: &TestApp, token: &str, name: &str) -> usize {
    let a = app.get_as(token, "/api/v1/projects?limit=10000").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    a.json()["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| f["properties"]["name"] == name)
        .count()
}

async fn a_repeated_write_is_answered_once(store: DynStore) {
    layers(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let first = send(
        &app,
        &admin,
        "POST",
        "/api/v1/projects",
        "field-0001",
        &work("重发的工地"),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json());
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = send(
        &app,
        &admin,
        "POST",
        "/api/v1/projects",
        "field-0001",
        &work("重发的工地"),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body, "the first answer, byte for byte");
    assert_eq!(again.content_type(), first.content_type());
    assert_eq!(
        again.header(header::LOCATION),
        first.header(header::LOCATION)
    );
    assert_eq!(
        works_named(&app, &admin, "重发的工地").await,
        1,
        "stored once"
    );

    // the same key with another request is refused, and writes nothing
    let other = send(
        &app,
        &admin,
        "POST",
        "/api/v1/projects",
        "field-0001",
        &work("另一个工地"),
    )
    .await;
    assert_problem(
        &other,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("Idempotency-Key"),
    );
    assert_eq!(works_named(&app, &admin, "另一个工地").await, 0);

    // another user's equal key is another request
    let town = common::token_for(&store, "yueyang-staff", Role::Town, &["town:310117001"]).await;
    let theirs = send(
        &app,
        &town,
        "POST",
        "/api/v1/projects",
        "field-0001",
        &work("镇里的工地"),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.json());
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_eq!(works_named(&app, &admin, "镇里的工地").await, 1);

    // a refused request is refused again the same way, and the key stays
    // bound to it
    let mut bad = work("坏的工地");
    bad["properties"]["floor_area_m2"] = json!(-5);
    let refused = send(&app, &admin, "POST", "/api/v1/projects", "field-0002", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let again = send(&app, &admin, "POST", "/api/v1/projects", "field-0002", &bad).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, refused.body);

    // malformed keys
    for key in ["", "with space", &"k".repeat(256), "中文"] {
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/projects")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                "Idempotency-Key",
                axum::http::HeaderValue::from_bytes(key.as_bytes()).expect("a header value"),
            )
            .body(Body::from(work("钥匙不对").to_string()))
            .expect("a valid request");
        let a = app.send(req).await;
        assert_problem(&a, StatusCode::BAD_REQUEST, Some("Idempotency-Key"));
    }
    assert_eq!(works_named(&app, &admin, "钥匙不对").await, 0);
}

async fn a_resent_live_batch_adds_its_points_once(store: DynStore) {
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let first = "officer,time,lon,lat\nofficer05,2026-11-03T01:00:00Z,121.2200,31.0300\nofficer05,2026-11-03T01:01:00Z,121.2206,31.0302\n";
    let a = app
        .request(
            "POST",
            "/api/v1/tracks?open=true",
            Some(&admin),
            Some(("text/csv", first.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let id = a.json()["tracks"][0]["id"].as_i64().expect("id");
    let path = format!("/api/v1/tracks/{id}/points");
    let batch = json!({"points": [
        {"lon": 121.2230, "lat": 31.0310, "time": "2026-11-03T01:04:00Z"},
        {"lon": 121.2260, "lat": 31.0320, "time": "2026-11-03T01:08:00Z"},
    ]});
    let sent = send(&app, &admin, "POST", &path, "batch-7f3a-0001", &batch).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.json());
    assert_eq!(sent.json()["points"], 4);
    let resent = send(&app, &admin, "POST", &path, "batch-7f3a-0001", &batch).await;
    assert_eq!(resent.status, StatusCode::OK);
    assert_eq!(resent.header("idempotent-replayed"), Some("true"));
    let track = app.get_as(&admin, &format!("/api/v1/tracks/{id}")).await;
    assert_eq!(
        track.json()["properties"]["point_count"],
        4,
        "{}",
        track.json()
    );
}

async fn reservations_race_go_stale_and_expire(store: DynStore) {
    let print = [7u8; 32];
    let at = |now_ms: i64| KeyClock {
        now_ms,
        expired_before_ms: now_ms - 86_400_000,
        stale_before_ms: now_ms - 65_000,
    };
    let t0 = 1_800_000_000_000;
    assert_eq!(
        store
            .reserve_key(1, "k", &print, at(t0))
            .await
            .expect("reserve"),
        Reservation::Reserved
    );
    // a second request with the key while the first runs
    assert_eq!(
        store
            .reserve_key(1, "k", &print, at(t0 + 10))
            .await
            .expect("reserve"),
        Reservation::Running
    );
    assert_eq!(
        store
            .reserve_key(1, "k", &[8u8; 32], at(t0 + 10))
            .await
            .expect("reserve"),
        Reservation::Mismatch
    );
    // left over by a crash: taken over once stale
    assert_eq!(
        store
            .reserve_key(1, "k", &print, at(t0 + 70_000))
            .await
            .expect("reserve"),
        Reservation::Reserved
    );
    let answer = KeptAnswer {
        status: 201,
        content_type: Some("application/geo+json".into()),
        location: Some("/api/v1/projects/9".into()),
        body: b"{\"id\":9}".to_vec(),
    };
    store.complete_key(1, "k", &answer).await.expect("complete");
    assert_eq!(
        store
            .reserve_key(1, "k", &print, at(t0 + 80_000))
            .await
            .expect("reserve"),
        Reservation::Answered(answer.clone())
    );
    // a released key (the write failed) is free again
    assert_eq!(
        store
            .reserve_key(1, "free", &print, at(t0))
            .await
            .expect("reserve"),
        Reservation::Reserved
    );
    store.release_key(1, "free").await.expect("release");
    assert_eq!(
        store
            .reserve_key(1, "free", &print, at(t0 + 1))
            .await
            .expect("reserve"),
        Reservation::Reserved
    );
    // a kept answer is not released
    store.release_key(1, "k").await.expect("release");
    // after a day the key is forgotten
    let later = t0 + 70_000 + 86_400_001;
    assert_eq!(
        store
            .reserve_key(1, "k", &[8u8; 32], at(later))
            .await
            .expect("reserve"),
        Reservation::Reserved
    );
}

crate::store_tests!(
    a_repeated_write_is_answered_once,
    a_resent_live_batch_adds_its_points_once,
    reservations_race_go_stale_and_expire
);
