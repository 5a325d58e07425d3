//! The 台账 workbook (`GET /api/v1/ledger.xlsx`) opened by openpyxl, as the
//! evaluators' Excel would: every sheet the notice names with its Chinese
//! headers, and as many rows per sheet as the town has records in the
//! window — another town's and those outside the window left out. Needs
//! `target/xlsx-venv` (scripts/test.sh installs openpyxl there).

use crate::common::{self, TestApp};

use axum::http::StatusCode;
use chrono::NaiveDate;
use geo::Point;
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus};
use gridpatrol::service::{self, FileFormat, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::{DynStore, typed};
use serde_json::{Value, json};

const YUEYANG: &str = "310117001";
const SIJING: &str = "310117102";

fn work(code: &str, town: &str, lon: f64, lat: f64) -> Project {
    Project {
        code: code.into(),
        name: format!("{code} 餐饮店装修"),
        category: Category::FitOut,
        funding: Funding::Social,
        investment_cny: 260_000,
        floor_area_m2: Some(140.0),
        status: ProjectStatus::Discovered,
        started_on: NaiveDate::from_ymd_opt(2026, 10, 10),
        completed_on: None,
        hot_work: true,
        insulation: true,
        steel_mezzanine: false,
        insured: false,
        address: "荣乐东路1号".into(),
        town: Some(town.into()),
        geometry: Point::new(lon, lat).into(),
    }
}

/// Each sheet's name, header row and number of data rows, as openpyxl reads them.
fn open_with_openpyxl(bytes: &[u8]) -> Value {
    let script = r"import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    rows = list(ws.iter_rows(values_only=True))
    out.append({'name': ws.title, 'headers': list(rows[0]) if rows else [], 'rows': len(rows) - 1, 'freeze': ws.freeze_panes})
print(json.dumps(out, ensure_ascii=False))
";
    serde_json::from_slice(&common::python_on_file(script, bytes, "xlsx")).expect("json")
}

async fn record(app: &TestApp, token: &str, work: i64, entry: Value) {
    let a = app
        .post_json(
            token,
            &format!("/api/v1/projects/{work}/records"),
            &json!({"entry": entry}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
}

/// 岳阳's records (one start filing before the window) and one of 泗泾's,
/// and an inspection with two findings in each town.
async fn fill(app: &TestApp, admin: &str, a: i64, a2: i64, b: i64) {
    record(
        app,
        admin,
        a,
        json!({"kind": "filing", "filing": "start", "number": "岳备-1", "date": "2026-10-08"}),
    )
    .await;
    // before the window: not in the workbook
    record(
        app,
        admin,
        a2,
        json!({"kind": "filing", "filing": "start", "number": "岳备-2", "date": "2026-09-01"}),
    )
    .await;
    // another town's: not in 岳阳's workbook
    record(
        app,
        admin,
        b,
        json!({"kind": "filing", "filing": "start", "number": "泗备-1", "date": "2026-10-08"}),
    )
    .await;
    record(
        app,
        admin,
        a,
        json!({"kind": "notice", "recipients": ["张伟", "李强"], "served_on": "2026-10-09"}),
    )
    .await;
    record(app, admin, a, json!({"kind": "enforcement", "violations": "使用移动插线板", "measures": ["rectify_by_deadline"],
        "doc_number": "岳整〔2026〕7号", "date": "2026-11-20"})).await;
    record(
        app,
        admin,
        a2,
        json!({"kind": "handover", "to": "松江区城管执法局", "reason": "illegal_building",
        "doc_number": "岳移〔2026〕1号", "date": "2026-11-02"}),
    )
    .await;
    record(
        app,
        admin,
        a,
        json!({"kind": "policy", "insurer": "中国人保财险", "number": "PICC-2026-001",
        "from": "2026-10-01", "to": "2027-03-31", "amount_cny": 1_000_000}),
    )
    .await;
    record(app, admin, a, json!({"kind": "hot_work_permit", "number": "动火-2026-01",
        "from": "2026-11-01T08:00:00+08:00", "until": "2026-11-01T17:00:00+08:00", "place": "后厨",
        "welder": "赵师傅", "welder_certificate": "T3100001", "guardian": "钱监护", "in_opening_hours": false})).await;
    record(
        app,
        admin,
        a,
        json!({"kind": "insulation_filing", "material": "岩棉板", "fire_rating": "a",
        "quantity": "120 m²", "date": "2026-10-20"}),
    )
    .await;
    let insp = json!({"inspected_at": "2026-11-20T09:30:00+08:00", "inspector": "王建国", "note": "专项督导",
        "findings": [
            {"kind": "extension_board", "severity": "general", "deadline": "2026-11-30"},
            {"kind": "no_switch_box", "severity": "serious", "deadline": "2026-11-30"}]});
    let i = app
        .post_json(admin, &format!("/api/v1/projects/{a}/inspections"), &insp)
        .await;
    assert_eq!(i.status, StatusCode::CREATED, "{}", i.json());
    let i = app
        .post_json(admin, &format!("/api/v1/projects/{b}/inspections"), &insp)
        .await;
    assert_eq!(i.status, StatusCode::CREATED, "{}", i.json());
}

async fn the_workbook_holds_the_towns_records_in_the_window(store: DynStore) {
    let towns = common::fixture_text("towns.geojson");
    service::import_bytes(
        &store,
        ImportKind::Towns,
        towns.as_bytes(),
        FileFormat::GeoJson,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("towns");
    let a = typed::insert(&store, &work("LB-0001", YUEYANG, 121.2287, 31.0159))
        .await
        .expect("a");
    let a2 = typed::insert(&store, &work("LB-0002", YUEYANG, 121.2290, 31.0162))
        .await
        .expect("a2");
    let b = typed::insert(&store, &work("LB-0003", SIJING, 121.2650, 31.1150))
        .await
        .expect("b");
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    fill(&app, &admin, a, a2, b).await;
    let got = app
        .get_as(
            &admin,
            &format!("/api/v1/ledger.xlsx?town={YUEYANG}&from=2026-10-01&to=2026-12-31"),
        )
        .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert!(
        got.content_type().contains("spreadsheetml"),
        "{}",
        got.content_type()
    );
    let sheets = open_with_openpyxl(&got.body);
    let want: [(&str, &str, u64); 9] = [
        ("工程基本信息", "工程名称", 2),
        ("日常检查记录", "检查时间", 1),
        ("违法违规行为查处情况", "查处措施", 1),
        ("安全事故隐患清单及整改跟踪督办结果", "整改跟踪督办记录", 2),
        ("备案", "备案编号", 1),
        ("告知承诺", "开工前送达", 1),
        ("移送", "移送单位", 1),
        ("保险", "保单号", 1),
        ("动火与保温", "监护人", 2),
    ];
    let list = sheets.as_array().expect("sheets");
    assert_eq!(list.len(), want.len(), "{sheets}");
    for ((name, header, rows), s) in want.iter().zip(list) {
        assert_eq!(s["name"], *name, "{sheets}");
        assert!(
            s["headers"][0] == "街镇" || s["headers"][0] == "隐患编号",
            "{name}: Chinese headers"
        );
        let headers: Vec<&str> = s["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(headers.contains(header), "{name}: {headers:?}");
        assert_eq!(s["rows"], *rows, "{name}: {s}");
        assert_eq!(s["freeze"], "A2", "{name}: the header row is frozen");
    }
    // a window that holds nothing but the works
    let empty = app
        .get_as(
            &admin,
            &format!("/api/v1/ledger.xlsx?town={YUEYANG}&from=2020-01-01&to=2020-12-31"),
        )
        .await;
    let sheets = open_with_openpyxl(&empty.body);
    for s in sheets.as_array().expect("sheets") {
        assert_eq!(s["rows"], 0, "{s}");
    }
}

crate::store_tests!(the_workbook_holds_the_towns_records_in_the_window);

/// The demo's case files fill every sheet of the workbook and agree with
/// the statuses: every work the demo lists as notified was notified before
/// its start, and the lists of new blind spots are not empty.
#[tokio::test]
async fn the_demo_fills_every_sheet() {
    let store = common::sqlite_store().await;
    gridpatrol::demo::load(&store, &common::fixtures())
        .await
        .expect("demo loads");
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let got = app
        .get_as(&admin, "/api/v1/ledger.xlsx?from=2025-01-01&to=2027-12-31")
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let sheets = open_with_openpyxl(&got.body);
    for s in sheets.as_array().expect("sheets") {
        assert!(s["rows"].as_u64().unwrap_or(0) > 0, "empty sheet: {s}");
    }
    let works = app
        .get_as(&admin, "/api/v1/projects?status=notified&limit=20")
        .await;
    let ids: Vec<i64> = works.json()["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["id"].as_i64())
        .collect();
    assert!(!ids.is_empty());
    for id in ids {
        let file = app
            .get_as(&admin, &format!("/api/v1/projects/{id}/casefile"))
            .await;
        assert_eq!(file.json()["notified"], true, "{}", file.json());
    }
    for kind in ["hot_work_unpermitted", "uninsured"] {
        let list = app
            .get_as(&admin, &format!("/api/v1/blindspots/works?kind={kind}"))
            .await;
        assert!(
            list.json()["count"].as_u64().unwrap_or(0) > 0,
            "{kind}: {}",
            list.json()
        );
    }
}
