//! OGC API - Features on the Songjiang demo data, one test per claimed
//! requirement class where the OGC test suite cannot run here: Part 1 Core
//! (landing page, conformance, collections, items with bbox, datetime,
//! limit capped, paging links and counts, one feature, 400 on unknown
//! parameters), GeoJSON, Part 2 CRS (crs, bbox-crs, Content-Crs), Part 3
//! queryables and CQL2 text filters — each answer compared with the
//! existing list operation or store query it must agree with, in the
//! caller's scope.

use crate::common::{self, TestApp};

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::StatusCode;
use gridpatrol::auth::Role;
use gridpatrol::demo;
use gridpatrol::store::DynStore;
use gridpatrol::store::sqlite::SqliteStore;
use serde_json::Value;

const YUEYANG: &str = "310117001";
/// A window over the demo patrols (26 October to mid-November 2026).
const WINDOW: &str = "2026-10-20T00:00:00Z/2026-11-20T00:00:00Z";

pub(crate) async fn demo_store() -> DynStore {
    let store: DynStore = Arc::new(SqliteStore::open(":memory:").await.expect("sqlite"));
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    store
}

struct Api {
    app: TestApp,
    token: String,
}

impl Api {
    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let a = self.app.get_as(&self.token, uri).await;
        assert!(
            a.status != StatusCode::OK
                || a.content_type().starts_with("application/json")
                || a.content_type().starts_with("application/geo+json")
                || a.content_type().starts_with("application/schema+json"),
            "{uri}: {}",
            a.content_type()
        );
        (a.status, a.json().clone())
    }

    async fn ok(&self, uri: &str) -> Value {
        let (status, v) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {v}");
        v
    }

    /// Every feature of an items query, following the `next` links.
    async fn all(&self, uri: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(uri.to_owned());
        while let Some(u) = next.take() {
            let page = self.ok(&u).await;
            out.extend(page["features"].as_array().cloned().unwrap_or_default());
            next = page["links"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["rel"] == "next")
                .and_then(|l| l["href"].as_str())
                .map(str::to_owned);
        }
        out
    }
}

fn matched(v: &Value) -> u64 {
    v["numberMatched"].as_u64().expect("numberMatched")
}

fn ids(features: &[Value]) -> BTreeSet<String> {
    features.iter().map(|f| f["id"].to_string()).collect()
}

const COLLECTIONS: [&str; 13] = [
    "towns",
    "zones",
    "grids",
    "districts",
    "venues",
    "works",
    "tracks",
    "routes",
    "hazards",
    "coverage-cells",
    "blind-cells",
    "blindspot-works",
    "blindspot-districts",
];

/// Part 1 Core: the landing page, conformance and collections.
async fn core_documents(api: &Api) {
    let landing = api.ok("/api/v1").await;
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l["rel"].as_str())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rel} in {rels:?}");
    }
    let conf = api.ok("/api/v1/conformance").await;
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .expect("conformsTo")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"));
    let all = api.ok("/api/v1/collections").await;
    let listed: Vec<&str> = all["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(listed, COLLECTIONS);
    for id in COLLECTIONS {
        let c = api.ok(&format!("/api/v1/collections/{id}")).await;
        assert_eq!(c["id"], id);
        assert_eq!(
            c["storageCrs"],
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        );
        assert!(
            c["links"]
                .as_array()
                .expect("links")
                .iter()
                .any(|l| l["rel"] == "items" && l["type"] == "application/geo+json")
        );
        let q = api
            .ok(&format!("/api/v1/collections/{id}/queryables"))
            .await;
        assert!(q["properties"]["geometry"].is_object(), "{id}: {q}");
    }
    let (status, _) = api.get("/api/v1/collections/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.get("/api/v1/collections/works/items/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, p) = api.get("/api/v1/collections/works/items?colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{p}");
    assert_eq!(p["errors"][0]["field"], "colour");
    let (status, _) = api
        .get("/api/v1/collections/works/items?datetime=yesterday")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Items agree with the list operations, page by page.
async fn items_agree_with_the_lists(api: &Api) {
    for (ogc, list) in [
        ("towns", "/api/v1/towns"),
        ("zones", "/api/v1/zones"),
        ("grids", "/api/v1/grids"),
        ("districts", "/api/v1/districts"),
        ("venues", "/api/v1/venues"),
        ("works", "/api/v1/projects"),
        ("tracks", "/api/v1/tracks"),
        ("routes", "/api/v1/routes"),
    ] {
        let a = api
            .ok(&format!("/api/v1/collections/{ogc}/items?limit=10000"))
            .await;
        let b = api.ok(&format!("{list}?limit=10000")).await;
        assert_eq!(matched(&a), matched(&b), "{ogc}");
        assert_eq!(
            ids(a["features"].as_array().expect("features")),
            ids(b["features"].as_array().expect("features")),
            "{ogc}"
        );
    }
    let hazards = api.ok("/api/v1/hazards?limit=10000").await;
    let h = api
        .ok("/api/v1/collections/hazards/items?limit=10000")
        .await;
    assert_eq!(Some(matched(&h)), hazards["total"].as_u64());
    for f in h["features"].as_array().expect("features") {
        assert_eq!(f["geometry"]["type"], "Point", "{f}");
        assert!(f["properties"]["project_code"].is_string());
    }
    // limit above the maximum is served as the maximum, not refused
    let big = api.ok("/api/v1/collections/grids/items?limit=50000").await;
    assert_eq!(
        big["numberReturned"].as_u64(),
        Some(matched(&big).min(10_000))
    );
    // paging: next and prev links, no feature twice, none missing
    let first = api.ok("/api/v1/collections/works/items?limit=7").await;
    assert_eq!(first["numberReturned"], 7);
    let every = api.all("/api/v1/collections/works/items?limit=97").await;
    assert_eq!(every.len() as u64, matched(&first));
    assert_eq!(ids(&every).len(), every.len());
    let second = api
        .ok("/api/v1/collections/works/items?limit=7&offset=7")
        .await;
    let prev = second["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "prev")
        .and_then(|l| l["href"].as_str())
        .expect("a prev link");
    assert!(prev.contains("offset=0"), "{prev}");
}

/// bbox (and bbox-crs), datetime intervals with open ends, crs.
#[expect(
    clippy::many_single_char_names,
    reason = "a and b are the two answers compared"
)]
async fn bbox_datetime_crs(api: &Api) {
    let bbox = "121.20,31.00,121.26,31.05";
    let a = api
        .ok(&format!(
            "/api/v1/collections/works/items?limit=10000&bbox={bbox}"
        ))
        .await;
    let b = api
        .ok(&format!("/api/v1/projects?limit=10000&bbox={bbox}"))
        .await;
    assert!(matched(&a) > 0);
    assert_eq!(matched(&a), matched(&b));
    let swapped = api
        .ok("/api/v1/collections/works/items?limit=10000&bbox=31.00,121.20,31.05,121.26&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326")
        .await;
    assert_eq!(matched(&swapped), matched(&a));

    // datetime on tracks: the same tracks as the list's from/to
    let t = api
        .ok("/api/v1/collections/tracks/items?limit=10000&datetime=2026-10-27T00:00:00Z/2026-10-29T00:00:00Z")
        .await;
    let l = api
        .ok("/api/v1/tracks?limit=10000&from=2026-10-27T00:00:00Z&to=2026-10-29T00:00:00.001Z")
        .await;
    assert!(matched(&t) > 0);
    assert_eq!(matched(&t), matched(&l));
    let open_start = api
        .ok("/api/v1/collections/tracks/items?limit=1&datetime=../2026-10-29T00:00:00Z")
        .await;
    let open_end = api
        .ok("/api/v1/collections/tracks/items?limit=1&datetime=2026-10-29T00:00:00Z/..")
        .await;
    let all = api.ok("/api/v1/collections/tracks/items?limit=1").await;
    assert!(matched(&open_start) > 0 && matched(&open_end) > 0);
    assert!(matched(&open_start) + matched(&open_end) >= matched(&all));
    assert!(matched(&open_start) < matched(&all));

    // crs: lat/lon order for EPSG:4326 and EPSG:4490, said in Content-Crs
    let one = &a["features"][0];
    let id = one["id"].to_string();
    for (crs, swap) in [
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", false),
        ("http://www.opengis.net/def/crs/EPSG/0/4326", true),
        ("http://www.opengis.net/def/crs/EPSG/0/4490", true),
    ] {
        let got = api
            .app
            .get_as(
                &api.token,
                &format!("/api/v1/collections/works/items/{id}?crs={crs}"),
            )
            .await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.header("content-crs"), Some(format!("<{crs}>").as_str()));
        let c = &got.json()["geometry"]["coordinates"];
        let (x, y) = if swap { (&c[1], &c[0]) } else { (&c[0], &c[1]) };
        assert_eq!(
            (x, y),
            (
                &one["geometry"]["coordinates"][0],
                &one["geometry"]["coordinates"][1]
            ),
            "{crs}"
        );
    }
    let (status, _) = api
        .get("/api/v1/collections/works/items?crs=http://www.opengis.net/def/crs/EPSG/0/3857")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The analyses: the coverage cells and blind cells of a window are those
/// of the coverage operation over the same window.
async fn analyses_agree(api: &Api) {
    let (from, to) = WINDOW.split_once('/').expect("an interval");
    let cells = api
        .all(&format!(
            "/api/v1/collections/coverage-cells/items?limit=10000&datetime={WINDOW}"
        ))
        .await;
    let coverage = api
        .ok(&format!("/api/v1/coverage?from={from}&to={to}"))
        .await;
    let direct = coverage["features"].as_array().expect("features");
    assert_eq!(cells.len(), direct.len());
    assert_eq!(ids(&cells), ids(direct));
    let patrolled = |fs: &[Value]| {
        fs.iter()
            .filter(|f| f["properties"]["patrolled"] == true)
            .count()
    };
    assert_eq!(patrolled(&cells), patrolled(direct));
    assert!(patrolled(&cells) > 0);
    let blind = api
        .ok(&format!(
            "/api/v1/collections/blind-cells/items?limit=1&datetime={WINDOW}"
        ))
        .await;
    let listed = api
        .ok(&format!(
            "/api/v1/blindspots/cells?limit=1&from={from}&to={to}"
        ))
        .await;
    assert_eq!(matched(&blind), matched(&listed));
    let works = api
        .ok("/api/v1/collections/blindspot-works/items?limit=10000")
        .await;
    let rows = api.ok("/api/v1/blindspots/works").await;
    assert_eq!(Some(matched(&works)), rows["count"].as_u64());
    let districts = api
        .ok("/api/v1/collections/blindspot-districts/items")
        .await;
    assert_eq!(matched(&districts), 9);
    assert!(
        districts["features"]
            .as_array()
            .expect("features")
            .iter()
            .all(|f| f["geometry"]["type"] == "MultiPolygon")
    );
    // one cell by its H3 id
    let cell = cells[0]["id"].as_str().expect("a cell id");
    let one = api
        .ok(&format!("/api/v1/collections/coverage-cells/items/{cell}"))
        .await;
    assert_eq!(one["id"], cell);
}

/// Part 3: queryables and CQL2 text filters equal the store's own filters.
#[expect(clippy::many_single_char_names, reason = "the answers compared")]
async fn filters(api: &Api) {
    let q = api.ok("/api/v1/collections/works/queryables").await;
    assert!(q["properties"]["status"].is_object());
    let f = api
        .ok("/api/v1/collections/works/items?limit=10000&filter=status%3D%27filed%27")
        .await;
    let l = api.ok("/api/v1/projects?limit=10000&status=filed").await;
    assert!(matched(&l) > 0);
    assert_eq!(matched(&f), matched(&l));
    assert_eq!(
        ids(f["features"].as_array().expect("features")),
        ids(l["features"].as_array().expect("features"))
    );
    let and = api
        .ok("/api/v1/collections/works/items?limit=10000&filter=status%3D%27filed%27%20AND%20investment_cny%20%3E%3D%20300000")
        .await;
    assert!(matched(&and) <= matched(&f));
    for w in and["features"].as_array().expect("features") {
        assert!(w["properties"]["investment_cny"].as_i64() >= Some(300_000));
    }
    // S_INTERSECTS with an envelope equals the bbox query on points
    let s = api
        .ok("/api/v1/collections/works/items?limit=10000&filter=S_INTERSECTS(geometry%2CBBOX(121.20%2C31.00%2C121.26%2C31.05))")
        .await;
    let b = api
        .ok("/api/v1/projects?limit=10000&bbox=121.20,31.00,121.26,31.05")
        .await;
    assert_eq!(matched(&s), matched(&b));
    let (status, p) = api
        .get("/api/v1/collections/works/items?filter=colour%3D%27red%27")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{p}");
    let (status, _) = api
        .get("/api/v1/collections/works/items?filter=status%3D")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // a filter on an analysis
    let overdue = api
        .ok(&format!("/api/v1/collections/coverage-cells/items?limit=1&datetime={WINDOW}&filter=patrolled%3Dtrue"))
        .await;
    assert!(matched(&overdue) > 0);
}

/// A town's staff see their town only, in every collection.
async fn scoped(admin: &Api, town: &Api) {
    let mine = town.ok("/api/v1/collections/works/items?limit=10000").await;
    let all = admin
        .ok("/api/v1/collections/works/items?limit=10000")
        .await;
    assert!(matched(&mine) > 0 && matched(&mine) < matched(&all));
    assert!(
        mine["features"]
            .as_array()
            .expect("features")
            .iter()
            .all(|f| f["properties"]["town"] == YUEYANG)
    );
    let outside = all["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["town"] != YUEYANG)
        .expect("a work elsewhere");
    let (status, _) = town
        .get(&format!(
            "/api/v1/collections/works/items/{}",
            outside["id"]
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let listed = town.ok("/api/v1/projects?limit=10000").await;
    assert_eq!(matched(&mine), matched(&listed));
    let cells = town
        .ok(&format!(
            "/api/v1/collections/coverage-cells/items?limit=1&datetime={WINDOW}"
        ))
        .await;
    let district = admin
        .ok(&format!(
            "/api/v1/collections/coverage-cells/items?limit=1&datetime={WINDOW}"
        ))
        .await;
    assert!(matched(&cells) < matched(&district));
}

#[tokio::test]
async fn ogc_api_features_on_the_demo_data() {
    let store = demo_store().await;
    let admin = Api {
        app: TestApp::unlimited(&store),
        token: common::admin_token(&store).await,
    };
    let scope = format!("town:{YUEYANG}");
    let town = Api {
        app: TestApp::unlimited(&store),
        token: common::token_for(&store, "ogc-yueyang", Role::Town, &[scope.as_str()]).await,
    };
    core_documents(&admin).await;
    items_agree_with_the_lists(&admin).await;
    bbox_datetime_crs(&admin).await;
    analyses_agree(&admin).await;
    filters(&admin).await;
    scoped(&admin, &town).await;
}

#[tokio::test]
async fn paths_outside_the_api_and_the_page_are_404() {
    let store = common::sqlite_store().await;
    let app = TestApp::new(&store);
    for path in ["/nothing", "/wfs", "/collections/towns/items"] {
        let a = app.get(path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!a.content_type().starts_with("text/html"), "{path}");
    }
    let a = app.get("/collections").await;
    assert_eq!(a.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(a.header("location"), Some("/api/v1/collections"));
    let a = app.get("/conformance").await;
    assert_eq!(a.header("location"), Some("/api/v1/conformance"));
    // the API's landing page needs a token like every other read
    assert_eq!(app.get("/api/v1").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_format_the_coverage_does_not_serve_is_refused_not_ignored() {
    let store = common::sqlite_store().await;
    let app = TestApp::new(&store);
    let token = common::admin_token(&store).await;
    let a = app.get_as(&token, "/api/v1/coverage?format=kml").await;
    common::assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("format"));
}
