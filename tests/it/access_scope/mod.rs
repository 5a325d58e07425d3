//! The scope matrix: every endpoint, every role, a caller inside and
//! outside the scope, on both stores. Each answer is checked for its exact
//! status and, for reads, that no feature or row outside the caller's scope
//! appears; the expected sets are computed here with geo from the admin's
//! answers, not with the service's own scope code.
//!
//! This module builds the world (users, layers, the admin's answers) and
//! checks reads, analyses and audit; `writes` checks works and inspections,
//! `tracks` checks tracks and coverage.

mod tracks;
mod writes;

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

fn point(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"))
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

store_tests!(reads_answer_only_the_scope, analyses_and_audit_follow_scope,);
