//! Exports of every list and analysis (`?f=geojson|csv|xlsx|fgb|gpkg`, or
//! `Accept`): each file holds the rows of the JSON answer for the same
//! caller — the CSV with a BOM, Chinese headers and Beijing time, the
//! workbook read back by openpyxl, FlatGeobuf and GeoPackage opened by
//! GDAL's `ogrinfo` — and a town's officer gets the town's rows in every
//! format. Needs `gdal-bin` and `target/xlsx-venv` (scripts/test.sh).

use std::process::Command;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;

use crate::common::{self, TestApp};
use gridpatrol::auth::Role;
use gridpatrol::demo;
use gridpatrol::store::DynStore;

const YUEYANG: &str = "310117001";

/// A list: its query, where its rows are, whether it has a geometry and a
/// time column whose UTC value the CSV shows in Beijing time.
struct List {
    uri: &'static str,
    rows: &'static str,
    spatial: bool,
    time: Option<(&'static str, &'static str)>,
}

const LISTS: [List; 12] = [
    List {
        uri: "/api/v1/coverage?scope=town:310117001",
        rows: "features",
        spatial: true,
        time: Some(("last_patrolled", "最近巡查时间")),
    },
    List {
        uri: "/api/v1/coverage/summary",
        rows: "areas",
        spatial: false,
        time: None,
    },
    List {
        uri: "/api/v1/blindspots/cells?limit=80",
        rows: "features",
        spatial: true,
        time: None,
    },
    List {
        uri: "/api/v1/blindspots/works",
        rows: "items",
        spatial: true,
        time: None,
    },
    List {
        uri: "/api/v1/blindspots/districts",
        rows: "items",
        spatial: true,
        time: Some(("last_patrolled", "最近巡查时间")),
    },
    List {
        uri: "/api/v1/blindspots/near-venues?distance_m=300",
        rows: "items",
        spatial: true,
        time: Some(("last_inspected_at", "最近检查时间")),
    },
    List {
        uri: "/api/v1/scorecard",
        rows: "items",
        spatial: false,
        time: None,
    },
    List {
        uri: "/api/v1/hazards",
        rows: "items",
        spatial: false,
        time: Some(("found_at", "发现时间")),
    },
    List {
        uri: "/api/v1/ledger",
        rows: "items",
        spatial: false,
        time: Some(("at", "时间")),
    },
    List {
        uri: "/api/v1/projects?limit=300",
        rows: "features",
        spatial: true,
        time: None,
    },
    List {
        uri: "/api/v1/tracks",
        rows: "features",
        spatial: true,
        time: Some(("started_at", "开始时间")),
    },
    List {
        uri: "/api/v1/routes",
        rows: "features",
        spatial: true,
        time: Some(("created_at", "制定时间")),
    },
];

fn with_f(uri: &str, f: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}f={f}")
}

fn rows_of<'a>(json: &'a Value, key: &str) -> &'a [Value] {
    json[key].as_array().map_or(&[][..], Vec::as_slice)
}

/// The feature count GDAL reads from a file (its one layer).
fn ogr_count(bytes: &[u8], ext: &str) -> u64 {
    let path = common::scratch(bytes, ext);
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(&path)
        .output()
        .expect("ogrinfo runs (apt-get install gdal-bin)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "ogrinfo: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Feature Count: "))
        .map(|n| n.trim().parse().expect("a count"))
        .collect();
    assert_eq!(counts.len(), 1, "one layer: {text}");
    if ext == "fgb" || text.contains("Geometry: ") && !text.contains("Geometry: None") {
        assert!(text.contains("4326"), "EPSG:4326: {text}");
    }
    counts[0]
}

/// The sheet's headers, row count and frozen panes, as openpyxl reads them.
fn openpyxl(bytes: &[u8]) -> Value {
    let script = r"import json, sys, openpyxl
ws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]
rows = list(ws.iter_rows(values_only=True))
print(json.dumps({'name': ws.title, 'headers': list(rows[0]), 'rows': len(rows) - 1, 'freeze': ws.freeze_panes}, ensure_ascii=False))
";
    serde_json::from_slice(&common::python_on_file(script, bytes, "xlsx")).expect("json")
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A UTC instant of the answer as the CSV shows it.
fn beijing(utc: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(utc).expect("rfc 3339");
    (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Every format of one list for one caller holds the JSON's rows; the
/// number of rows.
async fn check_list(app: &TestApp, token: &str, list: &List) -> usize {
    let json = app.get_as(token, list.uri).await;
    assert_eq!(json.status, StatusCode::OK, "{}: {}", list.uri, json.text());
    let rows = rows_of(json.json(), list.rows);
    let n = rows.len();

    // CSV: BOM, Chinese headers, one line per row, Beijing time
    let csv = app.get_as(token, &with_f(list.uri, "csv")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}: {}", list.uri, csv.text());
    assert!(csv.content_type().starts_with("text/csv"), "{}", list.uri);
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"), "{}: BOM", list.uri);
    assert!(
        csv.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")),
        "{}",
        list.uri
    );
    let text = csv.text();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("header").clone();
    for h in &headers {
        assert!(has_cjk(h), "{}: header {h:?} in Chinese", list.uri);
    }
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("csv");
    assert_eq!(records.len(), n, "{}: CSV rows", list.uri);
    if let Some((key, zh)) = list.time {
        let col = headers.iter().position(|h| h == zh).expect("time column");
        let props = |r: &Value| -> Value {
            if list.rows == "features" {
                r["properties"].clone()
            } else {
                r.clone()
            }
        };
        let mut seen = 0;
        for (r, rec) in rows.iter().zip(&records) {
            if let Some(t) = props(r)[key].as_str() {
                assert_eq!(&rec[col], beijing(t), "{}: {key} in Beijing time", list.uri);
                seen += 1;
            }
        }
        assert!(seen > 0 || n == 0, "{}: no {key} to compare", list.uri);
    }

    // GeoJSON
    let gj = app.get_as(token, &with_f(list.uri, "geojson")).await;
    assert_eq!(gj.status, StatusCode::OK, "{}", list.uri);
    assert!(gj.content_type().starts_with("application/geo+json"));
    assert_eq!(gj.json()["type"], "FeatureCollection");
    assert_eq!(
        rows_of(gj.json(), "features").len(),
        n,
        "{}: GeoJSON",
        list.uri
    );

    // XLSX read back
    let x = app.get_as(token, &with_f(list.uri, "xlsx")).await;
    assert_eq!(x.status, StatusCode::OK, "{}", list.uri);
    assert!(x.content_type().contains("spreadsheetml"));
    let sheet = openpyxl(&x.body);
    assert_eq!(sheet["rows"], n, "{}: workbook rows {sheet}", list.uri);
    assert_eq!(sheet["freeze"], "A2", "{}", list.uri);
    assert_eq!(
        sheet["headers"].as_array().expect("headers").len(),
        headers.len()
    );
    assert!(has_cjk(sheet["headers"][0].as_str().unwrap_or_default()));

    // GeoPackage and FlatGeobuf through GDAL
    let g = app.get_as(token, &with_f(list.uri, "gpkg")).await;
    assert_eq!(g.status, StatusCode::OK, "{}: {}", list.uri, g.text());
    assert_eq!(g.content_type(), "application/geopackage+sqlite3");
    assert_eq!(
        ogr_count(&g.body, "gpkg"),
        n as u64,
        "{}: GeoPackage",
        list.uri
    );
    let f = app.get_as(token, &with_f(list.uri, "fgb")).await;
    if list.spatial {
        assert_eq!(f.status, StatusCode::OK, "{}: {}", list.uri, f.text());
        assert_eq!(f.content_type(), "application/flatgeobuf");
        assert_eq!(
            ogr_count(&f.body, "fgb"),
            n as u64,
            "{}: FlatGeobuf",
            list.uri
        );
    } else {
        common::assert_problem(&f, StatusCode::UNPROCESSABLE_ENTITY, Some("f"));
    }
    n
}

async fn every_list_in_every_format_for_every_caller(store: DynStore) {
    demo::load(&store, &common::fixtures())
        .await
        .expect("demo data loads");
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let scope = format!("town:{YUEYANG}");
    let town = common::token_for(&store, "export-yueyang", Role::Town, &[scope.as_str()]).await;
    let mut narrower = 0;
    for list in &LISTS {
        let all = check_list(&app, &admin, list).await;
        let own = check_list(&app, &town, list).await;
        assert!(
            own <= all,
            "{}: the town sees no more than the district",
            list.uri
        );
        narrower += usize::from(own < all);
    }
    assert!(narrower >= 5, "the town's exports are the town's rows");

    // the town's works, in every format, are the town's
    let csv = app.get_as(&town, "/api/v1/projects?limit=300&f=csv").await;
    let text = csv.text();
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for rec in r.records() {
        assert_eq!(&rec.expect("row")[0], "岳阳街道", "names, not codes");
    }

    // Accept names the format; an unknown one is refused naming the field
    let req = Request::builder()
        .uri("/api/v1/hazards")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::ACCEPT, "text/csv")
        .body(Body::empty())
        .expect("request");
    let a = app.send(req).await;
    assert!(a.content_type().starts_with("text/csv"));
    let a = app.get_as(&admin, "/api/v1/scorecard?f=shp").await;
    common::assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("f"));
    let a = app.get_as(&admin, "/api/v1/coverage?format=kml").await;
    common::assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("format"));
    // the JSON is still the JSON
    let a = app.get_as(&admin, "/api/v1/scorecard?f=json").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.content_type().starts_with("application/json"));
}

crate::store_tests!(every_list_in_every_format_for_every_caller);
