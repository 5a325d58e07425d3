//! The closed loop through the HTTP API, on SQLite and on PostGIS: recording
//! inspections, the hazard state machine (every illegal move refused with
//! 409, nothing changed), the ledger export holding every change with who
//! and when, bad input refused with nothing stored, and roles and scopes.

use crate::common::{self, Answer, TestApp, assert_problem};

use axum::http::StatusCode;
use chrono::NaiveDate;
use geo::Point;
use gridpatrol::auth::Role;
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus};
use gridpatrol::inspection::HazardStatus;
use gridpatrol::service::{self, FileFormat, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::{DynStore, typed};
use serde_json::{Value, json};

const YUEYANG: &str = "310117001";
const SIJING: &str = "310117102";

/// The router (no rate limit) and the token the calls carry.
struct Api {
    app: TestApp,
    token: String,
}

impl Api {
    async fn new(store: &DynStore) -> Self {
        Self {
            app: TestApp::unlimited(store),
            token: common::admin_token(store).await,
        }
    }

    fn as_user(&self, token: String) -> Self {
        Self {
            app: self.app.clone(),
            token,
        }
    }

    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> Answer {
        self.app.call(&self.token, method, uri, body).await
    }

    /// A body sent as JSON verbatim (e.g. cut short).
    async fn raw(&self, method: &str, uri: &str, body: &str) -> Answer {
        self.app
            .request(
                method,
                uri,
                Some(&self.token),
                Some(("application/json", body.as_bytes().to_vec())),
            )
            .await
    }
}

fn work(code: &str, town: &str, lon: f64, lat: f64) -> Project {
    Project {
        code: code.into(),
        name: format!("{code} 餐饮店装修"),
        category: Category::FitOut,
        funding: Funding::Social,
        investment_cny: 260_000,
        floor_area_m2: Some(140.0),
        status: ProjectStatus::InProgress,
        started_on: NaiveDate::from_ymd_opt(2026, 10, 1),
        completed_on: None,
        hot_work: true,
        insulation: false,
        steel_mezzanine: false,
        insured: true,
        address: String::new(),
        town: Some(town.into()),
        geometry: Point::new(lon, lat).into(),
    }
}

/// The towns and one work in 岳阳街道 and one in 泗泾镇; their ids.
pub(super) async fn setup(store: &DynStore) -> (i64, i64) {
    let towns = common::fixture_text("towns.geojson");
    service::import_bytes(
        store,
        ImportKind::Towns,
        towns.as_bytes(),
        FileFormat::GeoJson,
        Crs::Wgs84,
        &|_| {},
    )
    .await
    .expect("towns");
    let a = typed::insert(store, &work("SJ-T-0001", YUEYANG, 121.2287, 31.0159))
        .await
        .expect("work a");
    let b = typed::insert(store, &work("SJ-T-0002", SIJING, 121.2650, 31.1150))
        .await
        .expect("work b");
    (a, b)
}

pub(super) fn inspection(inspector: &str, kinds: &[&str]) -> Value {
    let findings: Vec<Value> = kinds
        .iter()
        .map(|k| json!({"kind": k, "severity": "serious", "deadline": "2026-11-30", "note": "现场整改"}))
        .collect();
    json!({"inspected_at": "2026-11-20T09:30:00+08:00", "inspector": inspector,
           "note": "专项督导", "findings": findings})
}

/// Records an inspection; the ids of its hazards.
async fn record(api: &Api, work: i64, kinds: &[&str]) -> Vec<i64> {
    let a = api
        .call(
            "POST",
            &format!("/api/v1/projects/{work}/inspections"),
            Some(inspection("王建国", kinds)),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    a.json()["hazards"]
        .as_array()
        .expect("hazards")
        .iter()
        .map(|h| h["id"].as_i64().expect("id"))
        .collect()
}

async fn move_to(api: &Api, hazard: i64, to: &str) -> Answer {
    api.call(
        "PATCH",
        &format!("/api/v1/hazards/{hazard}"),
        Some(json!({"status": to, "note": format!("to {to}")})),
    )
    .await
}

/// The legal path from `open` to each status.
fn path_to(s: HazardStatus) -> &'static [&'static str] {
    match s {
        HazardStatus::Open => &[],
        HazardStatus::Rectifying => &["rectifying"],
        HazardStatus::Verified => &["rectifying", "verified"],
        HazardStatus::Closed => &["rectifying", "verified", "closed"],
    }
}

async fn records_an_inspection_with_its_hazards(store: DynStore) {
    let (a, _) = setup(&store).await;
    let api = Api::new(&store).await;
    let res = api
        .call(
            "POST",
            &format!("/api/v1/projects/{a}/inspections"),
            Some(inspection(
                "王建国",
                &["no_switch_box", "hot_work_without_permit"],
            )),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.json());
    let hazards = res.json()["hazards"].as_array().expect("hazards");
    assert_eq!(hazards.len(), 2);
    assert_eq!(hazards[0]["kind"], "no_switch_box");
    assert_eq!(hazards[0]["kind_zh"], "未设置开关箱");
    assert_eq!(hazards[0]["status"], "open");
    assert_eq!(hazards[0]["next"], json!(["rectifying"]));
    assert_eq!(hazards[0]["deadline"], "2026-11-30");
    assert_eq!(res.json()["recorded_by"], "test-admin");
    assert_eq!(res.json()["inspected_at"], "2026-11-20T01:30:00Z");

    let list = api
        .call("GET", &format!("/api/v1/projects/{a}/inspections"), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["count"], 1);
    assert_eq!(
        list.json()["items"][0]["hazards"].as_array().map(Vec::len),
        Some(2)
    );

    let id = hazards[1]["id"].as_i64().expect("id");
    let one = api
        .call("GET", &format!("/api/v1/hazards/{id}"), None)
        .await;
    assert_eq!(one.json()["history"].as_array().map(Vec::len), Some(1));
    assert_eq!(one.json()["history"][0]["from"], Value::Null);
    assert_eq!(one.json()["history"][0]["to"], "open");
    assert_eq!(one.json()["history"][0]["by"], "test-admin");
}

async fn refuses_every_illegal_transition(store: DynStore) {
    let (a, _) = setup(&store).await;
    let api = Api::new(&store).await;
    let mut illegal = 0;
    for &from in HazardStatus::ALL {
        let ids = record(&api, a, &["extension_board"]).await;
        let id = ids[0];
        for step in path_to(from) {
            let r = move_to(&api, id, step).await;
            assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.json());
        }
        for &to in HazardStatus::ALL {
            if from.can_move_to(to) {
                continue;
            }
            illegal += 1;
            let before = api
                .call("GET", &format!("/api/v1/hazards/{id}"), None)
                .await;
            let r = move_to(&api, id, to.as_str()).await;
            assert_problem(&r, StatusCode::CONFLICT, None);
            assert!(
                r.json()["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains(&format!("from {from} to {to}"))),
                "{}",
                r.json()
            );
            let after = api
                .call("GET", &format!("/api/v1/hazards/{id}"), None)
                .await;
            assert_eq!(
                before.json(),
                after.json(),
                "a refused move changes nothing"
            );
            assert_eq!(after.json()["status"], from.as_str());
        }
    }
    assert_eq!(illegal, 12, "16 pairs, 4 legal moves");

    // the whole loop, with a failed check on the way
    let id = record(&api, a, &["ladder_at_height"]).await[0];
    for step in ["rectifying", "verified", "rectifying", "verified", "closed"] {
        let r = move_to(&api, id, step).await;
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.json());
        assert_eq!(r.json()["status"], step);
    }
    let done = api
        .call("GET", &format!("/api/v1/hazards/{id}"), None)
        .await;
    assert!(done.json()["closed_at"].is_string());
    assert_eq!(done.json()["next"], json!([]));
    assert_eq!(done.json()["history"].as_array().map(Vec::len), Some(6));

    // an unknown status is invalid input, not a conflict
    let r = move_to(&api, id, "reopened").await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, None);
    let r = move_to(&api, 999_999, "rectifying").await;
    assert_problem(&r, StatusCode::NOT_FOUND, None);
}

/// Hazards come in pages, filtered by status (three hazards, the first closed).
async fn hazards_in_pages(api: &Api, closed_id: i64) {
    let page = api
        .call("GET", "/api/v1/hazards?limit=2&offset=1", None)
        .await;
    assert_eq!(
        (page.json()["total"].as_u64(), page.json()["count"].as_u64()),
        (Some(3), Some(2))
    );
    let closed = api.call("GET", "/api/v1/hazards?status=closed", None).await;
    assert_eq!(closed.json()["items"][0]["id"], closed_id);
    assert_eq!(closed.json()["total"], 1);
    let bad = api.call("GET", "/api/v1/hazards?limit=0", None).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, None);
}

async fn the_ledger_holds_every_change(store: DynStore) {
    let (a, b) = setup(&store).await;
    let api = Api::new(&store).await;
    let h = record(&api, a, &["no_switch_box", "extension_board"]).await;
    record(&api, a, &[]).await;
    record(&api, b, &["missing_plan"]).await;
    for step in ["rectifying", "verified", "closed"] {
        assert_eq!(move_to(&api, h[0], step).await.status, StatusCode::OK);
    }
    assert_eq!(
        move_to(&api, h[1], "rectifying").await.status,
        StatusCode::OK
    );
    assert_eq!(
        move_to(&api, h[1], "closed").await.status,
        StatusCode::CONFLICT
    );

    // work a: 2 inspections + 2 findings + 4 moves; the refused move is not a change
    let ledger = api
        .call("GET", &format!("/api/v1/projects/{a}/ledger"), None)
        .await;
    assert_eq!(ledger.status, StatusCode::OK);
    let rows = ledger.json()["items"].as_array().expect("rows");
    assert_eq!(rows.len(), 8, "{}", ledger.json());
    let entries: Vec<&str> = rows.iter().filter_map(|r| r["entry"].as_str()).collect();
    assert_eq!(entries.iter().filter(|e| **e == "inspection").count(), 2);
    assert_eq!(entries.iter().filter(|e| **e == "hazard_found").count(), 2);
    assert_eq!(
        entries.iter().filter(|e| **e == "status_changed").count(),
        4
    );
    for r in rows {
        assert_eq!(r["by"], "test-admin");
        assert!(r["at"].is_string());
        assert_eq!(r["project_code"], "SJ-T-0001");
        assert_eq!(r["town"], YUEYANG);
    }
    // in time order: compared as instants, since RFC 3339 text leaves out
    // `.000` on a whole second and then no longer sorts as the time does
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = rows
        .iter()
        .filter_map(|r| r["at"].as_str())
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("an RFC 3339 time"))
        .collect();
    assert_eq!(times.len(), rows.len(), "every row has its time");
    let mut sorted = times.clone();
    sorted.sort_unstable();
    assert_eq!(times, sorted, "in time order");
    let moves: Vec<(Value, Value)> = rows
        .iter()
        .filter(|r| r["entry"] == "status_changed" && r["hazard_id"] == h[0])
        .map(|r| (r["from_status"].clone(), r["to_status"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (json!("open"), json!("rectifying")),
            (json!("rectifying"), json!("verified")),
            (json!("verified"), json!("closed"))
        ]
    );

    // the same as CSV, with the Chinese labels
    let csv = api
        .call(
            "GET",
            &format!("/api/v1/projects/{a}/ledger?format=csv"),
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type().starts_with("text/csv"));
    let text = csv.text();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header[0], "时间");
    assert_eq!(&header[2], "记录人");
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("csv");
    assert_eq!(records.len(), 8);
    assert!(records.iter().any(|r| &r[12] == "未设置开关箱"));

    // per town: 岳阳's ledger has only work a; 泗泾's only work b
    let town = api
        .call("GET", &format!("/api/v1/ledger?town={YUEYANG}"), None)
        .await;
    assert_eq!(town.json()["count"], 8);
    let town_b = api
        .call(
            "GET",
            &format!("/api/v1/ledger?town={SIJING}&format=csv"),
            None,
        )
        .await;
    let lines = town_b.text().trim_start_matches('\u{feff}').lines().count();
    assert_eq!(lines, 1 + 2, "header, the inspection and its finding");
    let all = api.call("GET", "/api/v1/ledger", None).await;
    assert_eq!(all.json()["count"], 10);
    let window = api
        .call("GET", "/api/v1/ledger?from=2020-01-01&to=2020-12-31", None)
        .await;
    assert_eq!(window.json()["count"], 0);

    hazards_in_pages(&api, h[0]).await;
}

async fn bad_inspections_are_refused_and_nothing_stored(store: DynStore) {
    let (a, _) = setup(&store).await;
    let api = Api::new(&store).await;
    let uri = format!("/api/v1/projects/{a}/inspections");
    let mut bad_kind = inspection("王建国", &["no_switch_box"]);
    bad_kind["findings"][0]["kind"] = json!("loose_cable");
    let mut early = inspection("王建国", &["no_switch_box"]);
    early["findings"][0]["deadline"] = json!("2026-11-19");
    let mut bad_time = inspection("王建国", &[]);
    bad_time["inspected_at"] = json!("yesterday");
    let mut future = inspection("王建国", &[]);
    future["inspected_at"] = json!("2999-01-01T00:00:00Z");
    let mut nobody = inspection(" ", &[]);
    nobody["inspector"] = json!("");
    let mut bad_severity = inspection("王建国", &["no_switch_box"]);
    bad_severity["findings"][0]["severity"] = json!("catastrophic");
    for (body, field) in [
        (bad_kind, "findings[0].kind"),
        (early, "findings[0].deadline"),
        (bad_time, "inspected_at"),
        (future, "inspected_at"),
        (nobody, "inspector"),
        (bad_severity, "findings[0].severity"),
    ] {
        let r = api.call("POST", &uri, Some(body)).await;
        assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, None);
        assert_eq!(r.json()["errors"][0]["field"], field, "{}", r.json());
    }
    let r = api.raw("POST", &uri, "{\"inspected_at\": ").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .call(
            "POST",
            "/api/v1/projects/999999/inspections",
            Some(inspection("王建国", &["no_switch_box"])),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, None);
    let ledger = api.call("GET", "/api/v1/ledger", None).await;
    assert_eq!(ledger.json()["count"], 0, "nothing stored");
    let bad = api.call("GET", "/api/v1/ledger?format=xml", None).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, None);
}

async fn roles_and_scopes_are_honoured(store: DynStore) {
    let (a, b) = setup(&store).await;
    let admin = Api::new(&store).await;
    let hb = record(&admin, b, &["missing_plan"]).await[0];
    let town_scope = format!("town:{YUEYANG}");
    let viewer =
        admin.as_user(common::token_for(&store, "viewer1", Role::Viewer, &["district"]).await);
    let yueyang = admin.as_user(
        common::token_for(&store, "yueyang-staff", Role::Town, &[town_scope.as_str()]).await,
    );
    let officer = admin.as_user(
        common::token_for(&store, "officer01", Role::Officer, &[town_scope.as_str()]).await,
    );

    let r = viewer
        .call(
            "POST",
            &format!("/api/v1/projects/{a}/inspections"),
            Some(inspection("viewer1", &[])),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN, None);
    // a work outside the town's scope is not found
    let r = yueyang
        .call(
            "POST",
            &format!("/api/v1/projects/{b}/inspections"),
            Some(inspection("王建国", &[])),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, None);
    assert_problem(
        &move_to(&yueyang, hb, "rectifying").await,
        StatusCode::NOT_FOUND,
        None,
    );
    assert_problem(
        &yueyang
            .call("GET", &format!("/api/v1/hazards/{hb}"), None)
            .await,
        StatusCode::NOT_FOUND,
        None,
    );
    // officers record their own inspections only, and may not move hazards
    let r = officer
        .call(
            "POST",
            &format!("/api/v1/projects/{a}/inspections"),
            Some(inspection("officer02", &["no_switch_box"])),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN, None);
    let r = officer
        .call(
            "POST",
            &format!("/api/v1/projects/{a}/inspections"),
            Some(inspection("officer01", &["no_switch_box"])),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(r.json()["recorded_by"], "officer01");
    let ha = r.json()["hazards"][0]["id"].as_i64().expect("id");
    assert_problem(
        &move_to(&officer, ha, "rectifying").await,
        StatusCode::FORBIDDEN,
        None,
    );
    let r = move_to(&yueyang, ha, "rectifying").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["history"][1]["by"], "yueyang-staff");

    // reads see only the scope
    let list = yueyang.call("GET", "/api/v1/hazards", None).await;
    let ids: Vec<i64> = list.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|h| h["id"].as_i64())
        .collect();
    assert_eq!(ids, [ha]);
    let ledger = yueyang.call("GET", "/api/v1/ledger", None).await;
    assert!(
        ledger.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["town"] == YUEYANG),
        "{}",
        ledger.json()
    );
    let other = yueyang
        .call("GET", &format!("/api/v1/ledger?town={SIJING}"), None)
        .await;
    assert_eq!(other.json()["count"], 0);
    assert_problem(
        &yueyang
            .call("GET", &format!("/api/v1/projects/{b}/ledger"), None)
            .await,
        StatusCode::NOT_FOUND,
        None,
    );
}

async fn concurrent_moves_let_exactly_one_through(store: DynStore) {
    let (a, _) = setup(&store).await;
    let api = Api::new(&store).await;
    for _ in 0..3 {
        let id = record(&api, a, &["no_safety_briefing"]).await[0];
        let (x, y) = tokio::join!(
            move_to(&api, id, "rectifying"),
            move_to(&api, id, "rectifying")
        );
        let mut got = [x.status, y.status];
        got.sort();
        assert_eq!(got, [StatusCode::OK, StatusCode::CONFLICT]);
        let h = api
            .call("GET", &format!("/api/v1/hazards/{id}"), None)
            .await;
        assert_eq!(
            h.json()["history"].as_array().map(Vec::len),
            Some(2),
            "the finding and one move: {}",
            h.json()
        );
    }
}

async fn an_imported_ledger_replays_the_loop_or_writes_nothing(store: DynStore) {
    let (a, _) = setup(&store).await;
    let api = Api::new(&store).await;
    let ledger = |last: &str| {
        json!({"inspections": [
            {"project": "SJ-T-0001", "inspected_at": "2026-11-02T10:00:00+08:00",
             "inspector": "officer03", "findings": []},
            {"project": "SJ-T-0001", "inspected_at": "2026-11-10T10:00:00+08:00",
             "inspector": "officer03", "findings": [
                {"kind": "no_switch_box", "severity": "general", "deadline": "2026-11-17",
                 "moves": [
                    {"to": "rectifying", "at": "2026-11-11T09:00:00+08:00", "by": "officer03"},
                    {"to": "verified", "at": "2026-11-16T15:00:00+08:00", "by": "officer03"},
                    {"to": last, "at": "2026-11-17T09:00:00+08:00", "by": "officer03"}]}]}]})
        .to_string()
    };
    // verified → open is not a move of the loop: nothing is written
    let bad = service::inspections::import_ledger(&store, &ledger("open")).await;
    assert!(bad.is_err(), "{bad:?}");
    let empty = api.call("GET", "/api/v1/ledger", None).await;
    assert_eq!(empty.json()["count"], 0);
    let unknown = ledger("closed").replace("SJ-T-0001", "SJ-T-9999");
    assert!(
        service::inspections::import_ledger(&store, &unknown)
            .await
            .is_err()
    );

    let done = service::inspections::import_ledger(&store, &ledger("closed"))
        .await
        .expect("imports");
    assert_eq!(done, (2, 1));
    let rows = api
        .call("GET", &format!("/api/v1/projects/{a}/ledger"), None)
        .await;
    // 2 inspections, 1 finding, 3 moves, with the ledger's own times and names
    assert_eq!(rows.json()["count"], 6, "{}", rows.json());
    let last = &rows.json()["items"][5];
    assert_eq!(last["to_status"], "closed");
    assert_eq!(last["by"], "officer03");
    assert_eq!(last["at"], "2026-11-17T01:00:00Z");
}

store_tests!(
    records_an_inspection_with_its_hazards,
    refuses_every_illegal_transition,
    the_ledger_holds_every_change,
    bad_inspections_are_refused_and_nothing_stored,
    roles_and_scopes_are_honoured,
    concurrent_moves_let_exactly_one_through,
    an_imported_ledger_replays_the_loop_or_writes_nothing,
);
