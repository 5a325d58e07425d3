//! The scope matrix: every endpoint, every role, a caller inside and
//! outside the scope, on both stores. Each answer is checked for its exact
//! status and, for reads, that no feature or row outside the caller's scope
//! appears; the expected sets are computed here with geo from the admin's
//! answers, not with the service's own scope code.

use crate::common::{self, Answer, TestApp, assert_problem_in};

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use geo::{Geometry, Intersects};
use gridpatrol::auth::Role;
use gridpatrol::demo::LAYER_FILES;
use gridpatrol::service;
use gridpatrol::spatial::Crs;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

/// 岳阳街道, the town of the scoped users; 泗泾镇, a town outside.
const TOWN: &str = "310117001";
const OTHER: &str = "310117102";

fn geometry(f: &Value) -> Geometry<f64> {
    let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).expect("geometry");
    Geometry::try_from(g).expect("a geo geometry")
}

fn features(a: &Answer) -> &Vec<Value> {
    a.json()["features"]
        .as_array()
        .expect("a FeatureCollection")
}

fn ids(fs: &[Value]) -> BTreeSet<i64> {
    fs.iter().map(|f| f["id"].as_i64().expect("id")).collect()
}

/// The users of the matrix and what each may see.
struct World {
    app: TestApp,
    tokens: BTreeMap<&'static str, String>,
    /// Everything, as the admin sees it: layer → features.
    all: BTreeMap<&'static str, Vec<Value>>,
    town_shape: Geometry<f64>,
    grid_code: String,
    zone_code: String,
    grid_shape: Geometry<f64>,
    zone_shapes: Vec<Geometry<f64>>,
    zone_grids: BTreeSet<String>,
}

const USERS: [&str; 7] = [
    "admin",
    "town-yy",
    "gm-grid",
    "gm-zone",
    "officer01",
    "viewer-yy",
    "viewer-district",
];

const LAYERS: [&str; 6] = ["towns", "zones", "grids", "districts", "venues", "projects"];

async fn world(store: DynStore) -> World {
    for (kind, file) in LAYER_FILES {
        service::import_file(
            &store,
            kind,
            &common::fixtures().join(file),
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("fixture loads");
    }
    let st = TestApp::new(&store);
    let admin = common::token_for(&store, "admin", Role::Admin, &[]).await;
    let mut all = BTreeMap::new();
    for layer in LAYERS {
        let a = st
            .call(&admin, "GET", &format!("/api/v1/{layer}?limit=10000"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{layer}");
        all.insert(layer, features(&a).clone());
    }
    let town_shape = all["towns"]
        .iter()
        .find(|t| t["properties"]["code"] == TOWN)
        .map(geometry)
        .expect("岳阳街道");
    // the grid of 岳阳 holding most works, so its manager has something to see
    let inside = |g: &Geometry<f64>| {
        all["projects"]
            .iter()
            .filter(|p| g.intersects(&geometry(p)))
            .count()
    };
    let grid = all["grids"]
        .iter()
        .filter(|g| g["properties"]["town"] == TOWN)
        .max_by_key(|g| inside(&geometry(g)))
        .expect("grids in 岳阳");
    let grid_code = grid["properties"]["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let zone_code = grid["properties"]["zone"]
        .as_str()
        .expect("zone")
        .to_owned();
    let grid_shape = geometry(grid);
    assert!(inside(&grid_shape) > 0, "the chosen grid holds works");
    let zone_grids: Vec<&Value> = all["grids"]
        .iter()
        .filter(|g| g["properties"]["zone"] == zone_code.as_str())
        .collect();
    let zone_shapes = zone_grids.iter().map(|g| geometry(g)).collect();
    let zone_grids = zone_grids
        .iter()
        .map(|g| g["properties"]["code"].as_str().expect("code").to_owned())
        .collect();

    let mut tokens = BTreeMap::new();
    tokens.insert("admin", admin);
    let town = format!("town:{TOWN}");
    let g = format!("grid:{grid_code}");
    let z = format!("zone:{zone_code}");
    for (name, role, scope) in [
        ("town-yy", Role::Town, vec![town.as_str()]),
        ("gm-grid", Role::GridManager, vec![g.as_str()]),
        ("gm-zone", Role::GridManager, vec![z.as_str()]),
        ("officer01", Role::Officer, vec![town.as_str()]),
        ("viewer-yy", Role::Viewer, vec![town.as_str()]),
        ("viewer-district", Role::Viewer, vec!["district"]),
    ] {
        tokens.insert(name, common::token_for(&store, name, role, &scope).await);
    }
    World {
        app: st,
        tokens,
        all,
        town_shape,
        grid_code,
        zone_code,
        grid_shape,
        zone_shapes,
        zone_grids,
    }
}

impl World {
    /// Whether `user` may see feature `f` of `layer`, by the documented rules.
    fn sees(&self, user: &str, layer: &str, f: &Value) -> bool {
        let p = &f["properties"];
        let g = || geometry(f);
        let in_town = || match layer {
            "towns" => p["code"] == TOWN,
            "zones" | "grids" | "projects" => p["town"] == TOWN,
            _ => self.town_shape.intersects(&g()),
        };
        match user {
            "admin" | "viewer-district" => true,
            "town-yy" | "officer01" | "viewer-yy" => in_town(),
            "gm-grid" => match layer {
                "towns" => p["code"] == TOWN,
                "zones" => false,
                "grids" => p["code"] == self.grid_code.as_str(),
                "projects" => p["town"] == TOWN && self.grid_shape.intersects(&g()),
                _ => self.town_shape.intersects(&g()) && self.grid_shape.intersects(&g()),
            },
            "gm-zone" => match layer {
                "towns" => p["code"] == TOWN,
                "zones" => p["code"] == self.zone_code.as_str(),
                "grids" => p["zone"] == self.zone_code.as_str(),
                "projects" => {
                    p["town"] == TOWN && self.zone_shapes.iter().any(|z| z.intersects(&g()))
                }
                _ => {
                    self.town_shape.intersects(&g())
                        && self.zone_shapes.iter().any(|z| z.intersects(&g()))
                }
            },
            _ => unreachable!("{user}"),
        }
    }

    fn expected(&self, user: &str, layer: &str) -> BTreeSet<i64> {
        ids(&self.all[layer]
            .iter()
            .filter(|f| self.sees(user, layer, f))
            .cloned()
            .collect::<Vec<_>>())
    }

    fn one_outside(&self, user: &str, layer: &str) -> Option<i64> {
        self.all[layer]
            .iter()
            .find(|f| !self.sees(user, layer, f))
            .and_then(|f| f["id"].as_i64())
    }

    async fn as_(&self, user: &str, method: &str, uri: &str, body: Option<Value>) -> Answer {
        self.app.call(&self.tokens[user], method, uri, body).await
    }
}

/// Every list and every id of every layer, for every user.
async fn reads_answer_only_the_scope(store: DynStore) {
    let w = world(store).await;
    for user in USERS {
        for layer in LAYERS {
            let expected = w.expected(user, layer);
            let a = w
                .as_(user, "GET", &format!("/api/v1/{layer}?limit=10000"), None)
                .await;
            assert_eq!(a.status, StatusCode::OK, "{user} {layer}");
            let got = ids(features(&a));
            assert_eq!(got, expected, "{user} sees exactly its scope of {layer}");
            assert_eq!(
                a.json()["numberMatched"].as_u64(),
                Some(expected.len() as u64),
                "{user} {layer}: the total counts the scope only"
            );
            if user.starts_with("gm") && matches!(layer, "projects" | "venues") {
                assert!(!expected.is_empty(), "{user} has {layer} to see");
            }
            // a filter for a town outside the scope finds nothing, not everything
            let a = w
                .as_(user, "GET", &format!("/api/v1/{layer}?town={OTHER}"), None)
                .await;
            assert_eq!(a.status, StatusCode::OK);
            for f in features(&a) {
                assert!(w.sees(user, layer, f), "{user} {layer} town={OTHER}: {f}");
            }
            // paging within the scope
            let a = w
                .as_(
                    user,
                    "GET",
                    &format!("/api/v1/{layer}?limit=2&offset=1"),
                    None,
                )
                .await;
            let page = ids(features(&a));
            assert!(
                page.len() <= 2 && page.is_subset(&expected),
                "{user} {layer} page"
            );
            // one id inside (200) and one outside (404)
            if let Some(id) = expected.iter().next() {
                let a = w
                    .as_(user, "GET", &format!("/api/v1/{layer}/{id}"), None)
                    .await;
                assert_eq!(a.status, StatusCode::OK, "{user} {layer}/{id}");
                assert_eq!(a.json()["id"], *id);
            }
            if let Some(id) = w.one_outside(user, layer) {
                let a = w
                    .as_(user, "GET", &format!("/api/v1/{layer}/{id}"), None)
                    .await;
                assert_problem_in(
                    &a,
                    StatusCode::NOT_FOUND,
                    None,
                    &format!("{user} {layer}/{id}"),
                );
            }
        }
        let me = w.as_(user, "GET", "/api/v1/me", None).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json()["user"], user);
    }
    let me = w.as_("gm-zone", "GET", "/api/v1/me", None).await;
    assert_eq!(me.json()["role"], "grid_manager");
    assert_eq!(me.json()["scope"]["zones"], json!([w.zone_code]));
    let grids: BTreeSet<String> = me.json()["scope"]["grids"]
        .as_array()
        .expect("grids")
        .iter()
        .filter_map(|g| g.as_str().map(str::to_owned))
        .collect();
    assert_eq!(grids, w.zone_grids);
}

fn work(name: &str, lon: f64, lat: f64) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
           "properties": {"name": name, "category": "fit_out", "funding": "social",
                          "investment_cny": 120_000, "floor_area_m2": 80.0, "status": "discovered"}})
}

fn point(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"))
}

/// Writes of works: role first (403), then the scope (404 for an id the
/// caller cannot see, 403 for a work placed outside it).
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
        ("gm-grid", 403, 403, 403, 403),
        ("gm-zone", 403, 403, 403, 403),
        ("officer01", 403, 403, 403, 403),
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

/// The analyses (blind spots, scorecard) and the audit trail.
async fn analyses_and_audit_follow_scope(store: DynStore) {
    let w = world(store).await;
    for user in USERS {
        let projects = w.expected(user, "projects");
        let districts = w.expected(user, "districts");
        let towns: BTreeSet<String> = w.all["towns"]
            .iter()
            .filter(|t| w.sees(user, "towns", t))
            .filter_map(|t| t["properties"]["code"].as_str().map(str::to_owned))
            .collect();
        for uri in [
            "/api/v1/blindspots/works",
            "/api/v1/blindspots/near-venues",
            "/api/v1/blindspots/districts",
            "/api/v1/scorecard",
        ] {
            let a = w.as_(user, "GET", uri, None).await;
            assert_eq!(a.status, StatusCode::OK, "{user} {uri}: {}", a.json());
            let rows = a.json()["items"].as_array().expect("items");
            for r in rows {
                // a commercial district's town is the one holding its centre
                if let Some(t) = r["town"].as_str().filter(|_| !uri.ends_with("districts")) {
                    assert!(towns.contains(t), "{user} {uri}: a row of town {t}");
                }
                if let Some(p) = r["project_id"].as_i64() {
                    assert!(projects.contains(&p), "{user} {uri}: work {p}");
                }
                if let Some(d) = r["district_id"].as_i64() {
                    assert!(districts.contains(&d), "{user} {uri}: district {d}");
                }
            }
            if uri == "/api/v1/scorecard" {
                let got: BTreeSet<String> = rows
                    .iter()
                    .filter_map(|r| r["town"].as_str().map(str::to_owned))
                    .collect();
                if user.starts_with("gm") {
                    assert!(got.is_subset(&towns), "{user} scorecard");
                } else {
                    assert_eq!(got, towns, "{user}: one scorecard row per town in scope");
                }
            }
        }
        let a = w.as_(user, "GET", "/api/v1/audit", None).await;
        let want = if user == "admin" { 200 } else { 403 };
        assert_eq!(a.status.as_u16(), want, "{user} audit");
    }
}

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

store_tests!(
    reads_answer_only_the_scope,
    project_writes_follow_role_and_scope,
    inspections_follow_role_and_scope,
    analyses_and_audit_follow_scope,
    tracks_follow_role_and_scope,
    coverage_follows_scope,
);
