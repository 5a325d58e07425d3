//! The audit trail: every write through the API is recorded with who, when,
//! what and the value before it; admins read it with filters and paging; the
//! trail cannot be changed, even with SQL.

use crate::common::{self, TestApp};

use std::sync::Arc;

use axum::http::StatusCode;
use gridpatrol::auth::Role;
use gridpatrol::store::DynStore;
use gridpatrol::store::postgis::PostgisStore;
use gridpatrol::store::sqlite::SqliteStore;
use serde_json::{Value, json};

async fn call(
    store: &DynStore,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let a = TestApp::new(store).call(token, method, uri, body).await;
    (a.status, a.json().clone())
}

async fn every_write_is_recorded_with_the_value_before(store: DynStore) {
    gridpatrol::service::import_file(
        &store,
        gridpatrol::service::ImportKind::Towns,
        &common::fixtures().join("towns.geojson"),
        gridpatrol::spatial::Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("towns");
    let admin = common::token_for(&store, "admin", Role::Admin, &[]).await;
    let staff = common::token_for(&store, "yy-staff", Role::Town, &["town:310117001"]).await;
    let viewer = common::token_for(&store, "viewer", Role::Viewer, &["district"]).await;

    let work = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.2262, 31.0104]},
                      "properties": {"name": "荣乐东路12号装修", "category": "fit_out", "funding": "social",
                                     "investment_cny": 50_000, "status": "discovered"}});
    let (status, created) = call(&store, &staff, "POST", "/api/v1/projects", Some(work)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().expect("id");
    let path = format!("/api/v1/projects/{id}");
    let (status, _) = call(
        &store,
        &staff,
        "PATCH",
        &path,
        Some(json!({"name": "荣乐东路12号装修（二期）"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &store,
        &viewer,
        "PATCH",
        &path,
        Some(json!({"status": "completed"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // reads are not recorded
    call(&store, &staff, "GET", &path, None).await;

    let (status, trail) = call(&store, &admin, "GET", "/api/v1/audit?entity=project", None).await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let items = trail["items"].as_array().expect("items");
    assert_eq!(trail["numberMatched"], 2, "{trail}");
    let (patched, posted) = (&items[0], &items[1]);
    assert_eq!(patched["user"], "yy-staff");
    assert_eq!(patched["role"], "town");
    assert_eq!(patched["method"], "PATCH");
    assert_eq!(patched["path"], path);
    assert_eq!(patched["entity_id"], id.to_string());
    assert_eq!(patched["status"], 200);
    assert_eq!(
        patched["before"]["properties"]["name"], "荣乐东路12号装修",
        "the value before the change"
    );
    assert_eq!(patched["before"]["id"], id);
    assert_eq!(posted["method"], "POST");
    assert_eq!(posted["status"], 201);
    assert!(posted["before"].is_null(), "a creation has no value before");
    assert!(
        patched["at"].as_str().is_some_and(|t| t.contains('T')),
        "{patched}"
    );

    // the refused write is in the trail too, under its user
    let (_, mine) = call(&store, &admin, "GET", "/api/v1/audit?user=viewer", None).await;
    let refused = &mine["items"][0];
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["method"], "PATCH");
    assert!(refused["entity"].is_null());

    // paging, newest first
    let (_, all) = call(&store, &admin, "GET", "/api/v1/audit", None).await;
    let total = all["numberMatched"].as_u64().expect("total");
    assert!(total >= 6, "users, tokens and writes: {all}");
    let (_, page) = call(
        &store,
        &admin,
        "GET",
        "/api/v1/audit?limit=1&offset=1",
        None,
    )
    .await;
    assert_eq!(page["numberReturned"], 1);
    assert_eq!(page["items"][0], all["items"][1]);
    let (status, _) = call(&store, &admin, "GET", "/api/v1/audit?limit=0", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(&store, &staff, "GET", "/api/v1/audit", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn one_event(store: &DynStore) {
    let admin = common::admin_token(store).await;
    let (status, _) = call(store, &admin, "GET", "/api/v1/audit", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_embedded_trail_is_append_only() {
    let sqlite = SqliteStore::open(":memory:").await.expect("store");
    let store: DynStore = Arc::new(sqlite.clone());
    one_event(&store).await;
    for sql in [
        "update audit_event set user_name = 'nobody'",
        "delete from audit_event",
    ] {
        let e = sqlx::query(sql).execute(sqlite.pool()).await;
        assert!(
            e.is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}"
        );
    }
}

#[sqlx::test(migrations = false)]
async fn the_postgis_trail_is_append_only(pool: sqlx::PgPool) {
    let store: DynStore = Arc::new(PostgisStore::from_pool(pool.clone()).await.expect("store"));
    one_event(&store).await;
    for sql in [
        "update audit_event set user_name = 'nobody'",
        "delete from audit_event",
    ] {
        let e = sqlx::query(sql).execute(&pool).await;
        assert!(
            e.is_err_and(|e| e.to_string().contains("append-only")),
            "{sql}"
        );
    }
}

store_tests!(every_write_is_recorded_with_the_value_before);
