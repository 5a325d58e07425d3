//! Refused route requests: bad input names the field and stores nothing;
//! each role plans, reads and changes routes only within its scope.

use super::{GRID, call, call_as, grid, request, route_count, setup, start_and_end};
use crate::common::{self, TestApp};

use axum::http::StatusCode;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

async fn bad_input_names_the_field_and_stores_nothing(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let (start, end) = start_and_end(&g.value);
    let good = request(g.id, start, Some(end), 60.0);
    let with = |k: &str, v: Value| {
        let mut r = good.clone();
        r[k] = v;
        r
    };
    let without = |k: &str| {
        let mut r = good.clone();
        r.as_object_mut().expect("object").remove(k);
        r
    };
    let cases: Vec<(Value, &str)> = vec![
        (with("grid_id", json!(999_999)), "grid_id"),
        (with("grid_id", json!("G10")), "grid_id"),
        (without("grid_id"), "grid_id"),
        (with("zone_id", json!(1)), "zone_id"),
        (with("start", json!([116.39, 39.91])), "start"),
        (with("start", json!([121.2])), "start"),
        (with("start", json!([200.0, 31.0])), "start"),
        (without("start"), "start"),
        (with("end", json!([120.0, 30.0])), "end"),
        (with("shift_minutes", json!(0)), "shift_minutes"),
        (with("shift_minutes", json!(-30)), "shift_minutes"),
        (with("shift_minutes", json!("3h")), "shift_minutes"),
        (without("shift_minutes"), "shift_minutes"),
        (with("mode", json!("car")), "mode"),
        (with("service_minutes", json!(-1)), "service_minutes"),
        (with("date", json!("tomorrow")), "date"),
        (with("start_time", json!("8h")), "start_time"),
        (with("mode_kind", json!("tour")), "mode_kind"),
        (with("officer", json!("")), "officer"),
        (with("crs", json!("utm")), "crs"),
        (with("shift", json!(180)), "shift"),
    ];
    for (body, field) in cases {
        let a = call(&store, &state, "POST", "/api/v1/routes", Some(body.clone())).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            a.json()
        );
        assert_eq!(a.content_type(), "application/problem+json");
        assert_eq!(
            a.json()["errors"][0]["field"],
            field,
            "{body}: {}",
            a.json()
        );
    }
    let bad_sweep =
        json!({"grid_id": g.id, "start": [start.lon(), start.lat()], "cells": ["8a309b9a0000fff"]});
    let a = call(
        &store,
        &state,
        "POST",
        "/api/v1/routes/sweep",
        Some(bad_sweep),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.json());
    assert_eq!(a.json()["errors"][0]["field"], "cells");
    // malformed JSON is a 400
    let token = common::admin_token(&store).await;
    let res = state
        .post_bytes(
            &token,
            "/api/v1/routes",
            "application/json",
            "{\"grid_id\": ",
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    // unknown ids are 404s
    for uri in [
        "/api/v1/routes/99999",
        "/api/v1/routes/99999.gpx",
        "/api/v1/routes/abc",
    ] {
        assert_eq!(
            call(&store, &state, "GET", uri, None).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let p = call(
        &store,
        &state,
        "PATCH",
        "/api/v1/routes/99999",
        Some(json!({"officer": "x"})),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert_eq!(route_count(&store, &state).await, 0);
}

async fn routes_honour_the_callers_role_and_scope(store: DynStore) {
    setup(&store, true).await;
    let state = TestApp::new(&store);
    let g = grid(&store, GRID).await;
    let other = grid(&store, "310117004-G09").await;
    let (start, end) = start_and_end(&g.value);
    let viewer = common::token_for(
        &store,
        "viewer1",
        gridpatrol::auth::Role::Viewer,
        &["district"],
    )
    .await;
    let officer = common::token_for(
        &store,
        "officer01",
        gridpatrol::auth::Role::Officer,
        &["district"],
    )
    .await;
    let manager = common::token_for(
        &store,
        "manager1",
        gridpatrol::auth::Role::GridManager,
        &[&format!("grid:{}", other.value.code)],
    )
    .await;
    let town = common::token_for(
        &store,
        "town1",
        gridpatrol::auth::Role::Town,
        &[&format!("town:{}", g.value.town)],
    )
    .await;
    let other_town = common::token_for(
        &store,
        "town2",
        gridpatrol::auth::Role::Town,
        &["town:310117102"],
    )
    .await;
    let body = request(g.id, start, Some(end), 45.0);
    for t in [&viewer, &officer, &manager] {
        let a = call_as(&state, t, "POST", "/api/v1/routes", Some(body.clone())).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.json());
    }
    // a town planner of another town: the grid is not theirs, as if unknown
    let a = call_as(
        &state,
        &other_town,
        "POST",
        "/api/v1/routes",
        Some(body.clone()),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.json());
    assert_eq!(a.json()["errors"][0]["field"], "grid_id");
    let a = call_as(&state, &town, "POST", "/api/v1/routes", Some(body)).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let id = a.json()["id"].as_i64().expect("id");
    assert_eq!(a.json()["created_by"], "town1");
    // reads: in scope for the viewer (district) and the town, not for the
    // grid manager of another grid nor the other town
    for (t, seen) in [
        (&viewer, true),
        (&town, true),
        (&manager, false),
        (&other_town, false),
    ] {
        let one = call_as(&state, t, "GET", &format!("/api/v1/routes/{id}"), None).await;
        let list = call_as(&state, t, "GET", "/api/v1/routes", None).await;
        if seen {
            assert_eq!(one.status, StatusCode::OK);
            assert_eq!(list.json()["numberMatched"], 1);
        } else {
            assert_eq!(one.status, StatusCode::NOT_FOUND);
            assert_eq!(list.json()["numberMatched"], 0);
            let gpx = call_as(&state, t, "GET", &format!("/api/v1/routes/{id}.gpx"), None).await;
            assert_eq!(gpx.status, StatusCode::NOT_FOUND);
        }
    }
    let p = call_as(
        &state,
        &viewer,
        "PATCH",
        &format!("/api/v1/routes/{id}"),
        Some(json!({"officer": "officer01"})),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = call_as(
        &state,
        &other_town,
        "PATCH",
        &format!("/api/v1/routes/{id}"),
        Some(json!({"officer": "officer01"})),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

store_tests!(
    bad_input_names_the_field_and_stores_nothing,
    routes_honour_the_callers_role_and_scope,
);
