//! The blind-spot desk and the scorecard on the Songjiang demo data, through
//! the HTTP API and the command line: every flagged row carries reasons,
//! answers stay in the caller's scope, and bad parameters are problems.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gridpatrol::auth::Role;
use gridpatrol::demo;
use gridpatrol::http::limits::Limits;
use gridpatrol::http::{AppState, app};
use gridpatrol::store::DynStore;
use gridpatrol::store::sqlite::SqliteStore;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const YUEYANG: &str = "310117001";

async fn demo_store(path: &str) -> DynStore {
    let store: DynStore = Arc::new(SqliteStore::open(path).await.expect("sqlite"));
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    store
}

struct Api {
    router: Router,
    token: String,
}

impl Api {
    async fn new(store: &DynStore, token: String) -> Self {
        let limits = Limits {
            rate_per_second: 0.0,
            ..Limits::default()
        };
        Self {
            router: app(AppState::new(store.clone()).with_limits(limits)),
            token,
        }
    }

    async fn get(&self, uri: &str) -> (StatusCode, String, Value) {
        let req = Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Body::empty())
            .expect("request");
        let res = self.router.clone().oneshot(req).await.expect("response");
        let status = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, text, json)
    }
}

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("items")
}

fn assert_reasons(rows: &[Value], what: &str) {
    for r in rows {
        let reasons = r["reasons"].as_array().expect("reasons");
        let flagged = r["flagged"].as_bool().unwrap_or(true);
        assert_eq!(flagged, !reasons.is_empty(), "{what}: {r}");
        for x in reasons {
            assert!(x["code"].is_string() && x["text"].is_string() && x["text_zh"].is_string());
        }
    }
}

#[tokio::test]
async fn the_blind_spot_desk_on_the_demo_data() {
    let dir = std::env::temp_dir().join(format!("gridpatrol-blind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("demo.db");
    let _ = std::fs::remove_file(&path);
    let store = demo_store(path.to_str().expect("utf-8 path")).await;
    let admin = Api::new(&store, common::admin_token(&store).await).await;
    let scope = format!("town:{YUEYANG}");
    let town = Api::new(
        &store,
        common::token_for(&store, "yueyang-staff", Role::Town, &[scope.as_str()]).await,
    )
    .await;

    // commercial districts: coverage from the demo tracks, every flag explained
    let (status, _, d) = admin.get("/api/v1/blindspots/districts").await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["count"], 9);
    assert_eq!(d["coverage_known"], true);
    assert_reasons(items(&d), "district");
    assert!(items(&d).iter().all(|r| r["patrol_coverage"].is_number()));
    assert!(
        items(&d)
            .iter()
            .flat_map(|r| r["reasons"].as_array().into_iter().flatten())
            .any(|x| x["code"] == "no_one_stop_plan")
    );
    let (_, _, strict) = admin
        .get("/api/v1/blindspots/districts?min_coverage=1&require_one_stop_plan=false&max_unfiled=1000&min_social_filed=0&max_days_since_patrol=365")
        .await;
    for r in items(&strict) {
        let codes: Vec<&str> = r["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["code"].as_str())
            .collect();
        assert!(
            codes
                .iter()
                .all(|c| *c == "low_patrol_coverage" || *c == "not_patrolled"),
            "{codes:?}"
        );
    }

    // works near venues: fire risks first, every flag explained
    let (status, _, n) = admin.get("/api/v1/blindspots/near-venues").await;
    assert_eq!(status, StatusCode::OK, "{n}");
    assert!(n["count"].as_u64().unwrap_or(0) > 10, "{}", n["count"]);
    assert_reasons(items(&n), "near venue");
    let fire: Vec<bool> = items(&n)
        .iter()
        .map(|r| r["hot_work"] == true || r["insulation"] == true)
        .collect();
    assert!(fire.windows(2).all(|w| w[0] || !w[1]), "fire risks first");
    assert!(
        items(&n)
            .iter()
            .all(|r| r["distance_m"].as_f64().unwrap_or(1e9) <= 100.0)
    );
    let (_, _, wide) = admin
        .get("/api/v1/blindspots/near-venues?distance_m=300")
        .await;
    assert!(wide["count"].as_u64() > n["count"].as_u64());

    // works outside management, one kind and all kinds
    let (status, _, w) = admin.get("/api/v1/blindspots/works").await;
    assert_eq!(status, StatusCode::OK, "{w}");
    for r in items(&w) {
        assert!(!r["reasons"].as_array().expect("reasons").is_empty(), "{r}");
    }
    for kind in [
        "above_limit",
        "outside_grid",
        "unfiled",
        "uninspected",
        "overdue_hazard",
        "no_completion_filing",
    ] {
        let (status, _, k) = admin
            .get(&format!("/api/v1/blindspots/works?kind={kind}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        for r in items(&k) {
            assert_eq!(r["kinds"], serde_json::json!([kind]), "{r}");
        }
        // the demo's grids cover the whole district and it has no hazards
        if kind != "overdue_hazard" && kind != "outside_grid" {
            assert!(!items(&k).is_empty(), "the demo has {kind} works");
        }
    }

    // the scorecard: 18 towns, as JSON and as CSV
    let (status, _, s) = admin.get("/api/v1/scorecard").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["count"], 18);
    assert!(items(&s).iter().all(|r| r["patrol_coverage"].is_number()));
    let works: u64 = items(&s).iter().filter_map(|r| r["works"].as_u64()).sum();
    assert!(works > 300, "{works}");
    let (_, csv, _) = admin.get("/api/v1/scorecard?format=csv").await;
    assert_eq!(csv.trim_start_matches('\u{feff}').lines().count(), 19);

    // a town's staff see their town only
    let (_, _, tw) = town.get("/api/v1/blindspots/works").await;
    assert!(!items(&tw).is_empty());
    assert!(items(&tw).iter().all(|r| r["town"] == YUEYANG), "{tw}");
    let (_, _, tn) = town
        .get("/api/v1/blindspots/near-venues?distance_m=500")
        .await;
    assert!(items(&tn).iter().all(|r| r["town"] == YUEYANG));
    let (_, _, ts) = town.get("/api/v1/scorecard").await;
    assert_eq!(ts["count"], 1);
    assert_eq!(items(&ts)[0]["town"], YUEYANG);

    // bad parameters are problems naming the parameter
    for (uri, field) in [
        ("/api/v1/blindspots/near-venues?distance_m=-5", "distance_m"),
        (
            "/api/v1/blindspots/near-venues?distance_m=abc",
            "distance_m",
        ),
        ("/api/v1/blindspots/works?kind=bogus", "kind"),
        (
            "/api/v1/blindspots/districts?min_coverage=2",
            "min_coverage",
        ),
        ("/api/v1/scorecard?from=2026-12-01&to=2026-11-01", "from"),
        ("/api/v1/scorecard?to=tomorrow", "to"),
        ("/api/v1/scorecard?format=xlsx", "format"),
    ] {
        let (status, _, p) = admin.get(uri).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{uri}: {p}");
    }

    // the command line gives the same scorecard
    drop(store);
    let url = format!("sqlite://{}", path.display());
    let bin = env!("CARGO_BIN_EXE_gridpatrol");
    let out = std::process::Command::new(bin)
        .args([
            "report",
            "scorecard",
            "--format",
            "json",
            "--database-url",
            &url,
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    assert_eq!(json["count"], 18);
    let file = dir.join("scorecard.csv");
    let out = std::process::Command::new(bin)
        .args([
            "report",
            "scorecard",
            "--format",
            "csv",
            "--from",
            "2026-08-26",
            "--to",
            "2026-11-24",
        ])
        .args(["--database-url", &url, "--out"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(&file).expect("written");
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(reader.records().count(), 18);
    let _ = std::fs::remove_dir_all(&dir);
}
