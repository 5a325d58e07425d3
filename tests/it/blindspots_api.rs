//! The blind-spot desk and the scorecard on the Songjiang demo data, through
//! the HTTP API and the command line: every flagged row carries reasons,
//! answers stay in the caller's scope, and bad parameters are problems.

use crate::common::{self, TestApp};

use std::sync::Arc;

use axum::http::StatusCode;
use gridpatrol::auth::Role;
use gridpatrol::demo;
use gridpatrol::store::DynStore;
use gridpatrol::store::sqlite::SqliteStore;
use serde_json::Value;

const YUEYANG: &str = "310117001";

async fn demo_store(path: &str) -> DynStore {
    let store: DynStore = Arc::new(SqliteStore::open(path).await.expect("sqlite"));
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    store
}

/// The router (no rate limit) and the token of one user.
struct Api {
    app: TestApp,
    token: String,
}

impl Api {
    fn new(store: &DynStore, token: String) -> Self {
        Self {
            app: TestApp::unlimited(store),
            token,
        }
    }

    /// The status, the body as text and as JSON.
    async fn get(&self, uri: &str) -> (StatusCode, String, Value) {
        let a = self.app.get_as(&self.token, uri).await;
        (a.status, a.text(), a.json().clone())
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

/// Commercial districts: coverage from the demo tracks, every flag explained.
async fn districts(admin: &Api) {
    let (status, _, list) = admin.get("/api/v1/blindspots/districts").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["count"], 9);
    assert_eq!(list["coverage_known"], true);
    assert_reasons(items(&list), "district");
    assert!(
        items(&list)
            .iter()
            .all(|r| r["patrol_coverage"].is_number())
    );
    // lacking a one-stop plan flags a district only when asked for
    let plan_reason = |list: &Value| {
        items(list)
            .iter()
            .flat_map(|r| r["reasons"].as_array().into_iter().flatten())
            .any(|x| x["code"] == "no_one_stop_plan")
    };
    assert!(!plan_reason(&list));
    let (_, _, asked) = admin
        .get("/api/v1/blindspots/districts?require_one_stop_plan=true")
        .await;
    assert!(plan_reason(&asked));
    // thresholds are parameters: with these only coverage can flag
    let (_, _, lenient) = admin
        .get("/api/v1/blindspots/districts?min_coverage=1&require_one_stop_plan=false&max_unfiled=1000&min_social_filed=0&max_days_since_patrol=365")
        .await;
    for r in items(&lenient) {
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
}

/// Works near venues: fire risks first, every flag explained.
async fn near_venues(admin: &Api) {
    let (status, _, near) = admin.get("/api/v1/blindspots/near-venues").await;
    assert_eq!(status, StatusCode::OK, "{near}");
    assert!(
        near["count"].as_u64().unwrap_or(0) > 10,
        "{}",
        near["count"]
    );
    assert_reasons(items(&near), "near venue");
    let fire: Vec<bool> = items(&near)
        .iter()
        .map(|r| r["hot_work"] == true || r["insulation"] == true)
        .collect();
    assert!(fire.windows(2).all(|w| w[0] || !w[1]), "fire risks first");
    assert!(
        items(&near)
            .iter()
            .all(|r| r["distance_m"].as_f64().unwrap_or(1e9) <= 100.0)
    );
    let (_, _, wide) = admin
        .get("/api/v1/blindspots/near-venues?distance_m=300")
        .await;
    assert!(wide["count"].as_u64() > near["count"].as_u64());
}

/// Works outside management, one kind and all kinds.
async fn works(admin: &Api) {
    let (status, _, all) = admin.get("/api/v1/blindspots/works").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    for r in items(&all) {
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
        let (status, _, one) = admin
            .get(&format!("/api/v1/blindspots/works?kind={kind}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        for r in items(&one) {
            assert_eq!(r["kinds"], serde_json::json!([kind]), "{r}");
        }
        // the demo's grids cover the whole district
        if kind != "outside_grid" {
            assert!(!items(&one).is_empty(), "the demo has {kind} works");
        }
    }
}

/// The scorecard: 18 towns, as JSON and as CSV.
async fn scorecard(admin: &Api) {
    let (status, _, card) = admin.get("/api/v1/scorecard").await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["count"], 18);
    assert!(
        items(&card)
            .iter()
            .all(|r| r["patrol_coverage"].is_number())
    );
    let sum = |key: &str| -> u64 { items(&card).iter().filter_map(|r| r[key].as_u64()).sum() };
    assert!(sum("works") > 300, "{card}");
    // the demo ledger: inspections, hazards found, closed and overdue
    assert!(sum("inspections") > 100, "{card}");
    assert!(sum("hazards_closed") > 50, "{card}");
    assert!(sum("hazards_overdue") > 0, "{card}");
    assert!(
        items(&card)
            .iter()
            .any(|r| r["median_days_to_close"].is_number())
    );
    let (_, csv, _) = admin.get("/api/v1/scorecard?format=csv").await;
    assert_eq!(csv.trim_start_matches('\u{feff}').lines().count(), 19);
    // the evaluation's six items (and the bonus) per town, by Chinese label
    let evaluation = card["evaluation"].as_array().expect("evaluation");
    assert_eq!(evaluation.len(), 18);
    for town in evaluation {
        let labels: Vec<&str> = town["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["label_zh"].as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "机构设置",
                "开工（竣工）备案",
                "告知承诺",
                "全面纳管",
                "监督检查",
                "项目管理",
                "管理创新"
            ]
        );
        let total = town["total"].as_f64().expect("total");
        assert!((0.0..=100.0).contains(&total), "{town}");
    }
}

/// A town's staff see their town only.
async fn town_scope(town: &Api) {
    let (_, _, own) = town.get("/api/v1/blindspots/works").await;
    assert!(!items(&own).is_empty());
    assert!(items(&own).iter().all(|r| r["town"] == YUEYANG), "{own}");
    let (_, _, near) = town
        .get("/api/v1/blindspots/near-venues?distance_m=500")
        .await;
    assert!(items(&near).iter().all(|r| r["town"] == YUEYANG));
    let (_, _, card) = town.get("/api/v1/scorecard").await;
    assert_eq!(card["count"], 1);
    assert_eq!(items(&card)[0]["town"], YUEYANG);
    assert_eq!(card["evaluation"].as_array().map(Vec::len), Some(1));
}

/// Bad parameters are problems naming the parameter.
async fn bad_parameters(admin: &Api) {
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
        // xlsx is an export now; a format that is none is refused
        ("/api/v1/scorecard?format=kml", "format"),
    ] {
        let (status, _, problem) = admin.get(uri).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{uri}: {problem}");
    }
}

/// The command line gives the same scorecard, as JSON and as CSV.
fn command_line(url: &str, dir: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_gridpatrol");
    let out = std::process::Command::new(bin)
        .args([
            "report",
            "scorecard",
            "--format",
            "json",
            "--database-url",
            url,
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
    evaluation_command(url, dir);
    let file = dir.join("scorecard.csv");
    let out = std::process::Command::new(bin)
        .args(["report", "scorecard", "--format", "csv"])
        .args([
            "--from",
            "2026-08-26",
            "--to",
            "2026-11-24",
            "--database-url",
            url,
        ])
        .arg("--out")
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
}

/// `report evaluation` writes the half-year's workbook (a period not opened
/// is measured all the same) and refuses a period that is none in one line.
fn evaluation_command(url: &str, dir: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_gridpatrol");
    let file = dir.join("evaluation.xlsx");
    let out = std::process::Command::new(bin)
        .args([
            "report",
            "evaluation",
            "--period",
            "2026H2",
            "--format",
            "xlsx",
            "--database-url",
            url,
        ])
        .arg("--out")
        .arg(&file)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&file)
            .expect("written")
            .starts_with(b"PK\x03\x04")
    );
    let bad = std::process::Command::new(bin)
        .args([
            "report",
            "evaluation",
            "--period",
            "2026Q3",
            "--database-url",
            url,
        ])
        .arg("--out")
        .arg(&file)
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("period") && err.contains("2026Q3"), "{err}");
}

#[tokio::test]
async fn the_blind_spot_desk_on_the_demo_data() {
    let dir = std::env::temp_dir().join(format!("gridpatrol-blind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("demo.db");
    let _ = std::fs::remove_file(&path);
    let store = demo_store(path.to_str().expect("utf-8 path")).await;
    let admin = Api::new(&store, common::admin_token(&store).await);
    let scope = format!("town:{YUEYANG}");
    let town = Api::new(
        &store,
        common::token_for(&store, "yueyang-staff", Role::Town, &[scope.as_str()]).await,
    );
    districts(&admin).await;
    near_venues(&admin).await;
    works(&admin).await;
    scorecard(&admin).await;
    town_scope(&town).await;
    bad_parameters(&admin).await;
    drop(store);
    command_line(&format!("sqlite://{}", path.display()), &dir);
    let _ = std::fs::remove_dir_all(&dir);
}
