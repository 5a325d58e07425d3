//! The scope matrix for writes: works (role first, then the scope) and
//! inspections (grid managers in their grids, officers their own).

use super::{OTHER, USERS, point, world};
use crate::common::{self, assert_problem_in};

use axum::http::StatusCode;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

fn work(name: &str, lon: f64, lat: f64) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
           "properties": {"name": name, "category": "fit_out", "funding": "social",
                          "investment_cny": 120_000, "floor_area_m2": 80.0, "status": "discovered"}})
}

/// Writes of works: role first (403), then the scope (404 for an id the
/// caller cannot see, 403 for a work placed outside it). Grid managers and
/// officers may only register discovered works in their scope.
#[expect(
    clippy::too_many_lines,
    reason = "one matrix of roles and cases, read top to bottom"
)]
async fn project_writes_follow_role_and_scope(store: DynStore) {
    let w = world(store).await;
    let in_grid = w.all["projects"]
        .iter()
        .find(|p| w.sees("gm-grid", "projects", p))
        .expect("a work in the grid")
        .clone();
    let elsewhere = w.all["projects"]
        .iter()
        .find(|p| p["properties"]["town"] == OTHER)
        .expect("a work in 泗泾镇")
        .clone();
    let (lon, lat) = point(&in_grid);
    let (olon, olat) = point(&elsewhere);
    let (in_id, out_id) = (
        in_grid["id"].as_i64().expect("id"),
        elsewhere["id"].as_i64().expect("id"),
    );
    for (user, create_in, create_out, patch_in, patch_out) in [
        ("admin", 201, 201, 200, 200),
        ("town-yy", 201, 403, 200, 404),
        // grid managers and officers register works found on patrol
        // (status discovered) inside their scope, and edit none
        ("gm-grid", 201, 403, 403, 403),
        ("gm-zone", 201, 403, 403, 403),
        ("officer01", 201, 403, 403, 403),
        ("viewer-yy", 403, 403, 403, 403),
        ("viewer-district", 403, 403, 403, 403),
    ] {
        let a = w
            .as_(
                user,
                "POST",
                "/api/v1/projects",
                Some(work(&format!("{user} 装修 内"), lon, lat)),
            )
            .await;
        assert_eq!(
            a.status.as_u16(),
            create_in,
            "{user} creates inside: {}",
            a.json()
        );
        let a = w
            .as_(
                user,
                "POST",
                "/api/v1/projects",
                Some(work(&format!("{user} 装修 外"), olon, olat)),
            )
            .await;
        assert_eq!(
            a.status.as_u16(),
            create_out,
            "{user} creates outside: {}",
            a.json()
        );
        if create_out == 403 {
            assert_eq!(a.content_type(), "application/problem+json");
        }
        let a = w
            .as_(
                user,
                "PATCH",
                &format!("/api/v1/projects/{in_id}"),
                Some(json!({"insured": true})),
            )
            .await;
        assert_eq!(
            a.status.as_u16(),
            patch_in,
            "{user} patches inside: {}",
            a.json()
        );
        let a = w
            .as_(
                user,
                "PATCH",
                &format!("/api/v1/projects/{out_id}"),
                Some(json!({"insured": true})),
            )
            .await;
        assert_eq!(
            a.status.as_u16(),
            patch_out,
            "{user} patches outside: {}",
            a.json()
        );
    }
    // town staff cannot move a work out of their town, and nothing changes
    let before = w
        .as_("admin", "GET", &format!("/api/v1/projects/{in_id}"), None)
        .await;
    let moved = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [olon, olat]},
                       "properties": {}});
    let a = w
        .as_(
            "town-yy",
            "PATCH",
            &format!("/api/v1/projects/{in_id}"),
            Some(moved),
        )
        .await;
    assert_problem_in(
        &a,
        StatusCode::FORBIDDEN,
        None,
        "moving a work out of the town",
    );
    let after = w
        .as_("admin", "GET", &format!("/api/v1/projects/{in_id}"), None)
        .await;
    assert_eq!(before.json(), after.json());
}

fn inspection(inspector: &str) -> Value {
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).date_naive();
    json!({"inspected_at": yesterday.to_rfc3339(), "inspector": inspector,
           "findings": [{"kind": "no_switch_box", "deadline": deadline.to_string()}]})
}

/// Inspections: grid managers in their grids, officers their own, viewers never.
async fn inspections_follow_role_and_scope(store: DynStore) {
    let w = world(store).await;
    let in_grid = w.all["projects"]
        .iter()
        .find(|p| w.sees("gm-grid", "projects", p))
        .and_then(|p| p["id"].as_i64())
        .expect("a work in the grid");
    let elsewhere = w.all["projects"]
        .iter()
        .find(|p| p["properties"]["town"] == OTHER)
        .and_then(|p| p["id"].as_i64())
        .expect("a work in 泗泾镇");
    for (user, inside, outside) in [
        ("admin", 201, 201),
        ("town-yy", 201, 404),
        ("gm-grid", 201, 404),
        ("gm-zone", 201, 404),
        ("officer01", 201, 404),
        ("viewer-yy", 403, 403),
        ("viewer-district", 403, 403),
    ] {
        for (id, status) in [(in_grid, inside), (elsewhere, outside)] {
            let a = w
                .as_(
                    user,
                    "POST",
                    &format!("/api/v1/projects/{id}/inspections"),
                    Some(inspection(user)),
                )
                .await;
            assert_eq!(
                a.status.as_u16(),
                status,
                "{user} inspects work {id}: {}",
                a.json()
            );
        }
    }
    let a = w
        .as_(
            "officer01",
            "POST",
            &format!("/api/v1/projects/{in_grid}/inspections"),
            Some(inspection("officer02")),
        )
        .await;
    assert_problem_in(
        &a,
        StatusCode::FORBIDDEN,
        None,
        "an officer records for another",
    );

    // the hazards and the ledger answer only the scope
    for user in USERS {
        let a = w.as_(user, "GET", "/api/v1/hazards", None).await;
        assert_eq!(a.status, StatusCode::OK, "{user}");
        let visible = w.expected(user, "projects");
        for h in a.json()["items"].as_array().expect("items") {
            let p = h["project_id"].as_i64().expect("project_id");
            assert!(visible.contains(&p), "{user} sees a hazard of work {p}");
        }
        let n = a.json()["items"].as_array().map_or(0, Vec::len);
        assert!(n >= 1, "{user} sees the hazards of the work in the grid");
        let a = w
            .as_(
                user,
                "GET",
                &format!("/api/v1/projects/{elsewhere}/ledger"),
                None,
            )
            .await;
        let want = if visible.contains(&elsewhere) {
            200
        } else {
            404
        };
        assert_eq!(a.status.as_u16(), want, "{user} ledger of work {elsewhere}");
    }
}

store_tests!(
    project_writes_follow_role_and_scope,
    inspections_follow_role_and_scope,
);
