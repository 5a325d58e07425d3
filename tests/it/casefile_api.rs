//! The case file of every work (一工地一档) through the HTTP API, on SQLite
//! and on PostGIS: status following from the records (a notice served after
//! the start does not count), a handed-over above-limit work leaving the
//! "outside management" list, hot work near a crowded venue listed until a
//! valid permit is recorded, parties with checked codes, attachments (413,
//! 415, another town's 404), and officers registering discovered works in
//! their scope only.

use crate::common::{self, Answer, TestApp, assert_problem};

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use geo::Point;
use gridpatrol::auth::Role;
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus, Venue, VenueKind};
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
        hot_work: false,
        insulation: false,
        steel_mezzanine: false,
        insured: false,
        address: String::new(),
        town: Some(town.into()),
        geometry: Point::new(lon, lat).into(),
    }
}

/// The towns, one work in 岳阳街道 and one in 泗泾镇; their ids.
async fn setup(store: &DynStore) -> (i64, i64) {
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
    let a = typed::insert(store, &work("CF-0001", YUEYANG, 121.2287, 31.0159))
        .await
        .expect("work a");
    let b = typed::insert(store, &work("CF-0002", SIJING, 121.2650, 31.1150))
        .await
        .expect("work b");
    (a, b)
}

async fn record(app: &TestApp, token: &str, work: i64, entry: Value) -> Answer {
    app.post_json(
        token,
        &format!("/api/v1/projects/{work}/records"),
        &json!({"entry": entry}),
    )
    .await
}

fn start_filing(date: &str) -> Value {
    json!({"kind": "filing", "filing": "start", "number": "岳阳备〔2026〕101号", "date": date})
}

fn notice(served_on: &str) -> Value {
    json!({"kind": "notice", "recipients": ["建设单位 张伟", "施工单位 李强"], "served_on": served_on})
}

async fn status_of(app: &TestApp, token: &str, work: i64) -> Value {
    let a = app
        .get_as(token, &format!("/api/v1/projects/{work}/casefile"))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    a.json().clone()
}

async fn notified_only_before_the_start(store: DynStore) {
    let (a, _) = setup(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let r = record(&app, &admin, a, start_filing("2026-10-08")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert_eq!(r.json()["status"], "filed");
    // served two days after work started (2026-10-10): not notified
    let late = record(&app, &admin, a, notice("2026-10-12")).await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.json());
    assert_eq!(late.json()["status"], "filed");
    let file = status_of(&app, &admin, a).await;
    assert_eq!(file["notified"], false);
    assert_eq!(file["status"], "filed");
    // a correction with the true date (served before the start) stands
    let late_id = late.json()["record"]["id"].as_i64().expect("id");
    let fixed = app
        .post_json(
            &admin,
            &format!("/api/v1/projects/{a}/records"),
            &json!({"entry": notice("2026-10-09"), "corrects": late_id, "note": "送达日期更正"}),
        )
        .await;
    assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.json());
    assert_eq!(fixed.json()["status"], "notified");
    let file = status_of(&app, &admin, a).await;
    assert_eq!(file["notified"], true);
    assert_eq!(
        file["records"].as_array().expect("records").len(),
        3,
        "nothing rewritten"
    );
    assert_eq!(file["corrected"], json!([late_id]));
    // a correction of another kind, or of a corrected record, is refused
    let bad = app
        .post_json(
            &admin,
            &format!("/api/v1/projects/{a}/records"),
            &json!({"entry": notice("2026-10-01"), "corrects": late_id}),
        )
        .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("corrects"));
    // the status no longer moves by an edit
    let patch = app
        .patch_json(
            &admin,
            &format!("/api/v1/projects/{a}"),
            &json!({"status": "completed"}),
        )
        .await;
    assert_problem(&patch, StatusCode::UNPROCESSABLE_ENTITY, Some("status"));
    let done = record(
        &app,
        &admin,
        a,
        json!({"kind": "filing", "filing": "completion", "number": "岳阳竣〔2026〕9号", "date": "2026-11-20"}),
    )
    .await;
    assert_eq!(done.json()["status"], "completed", "{}", done.json());
}

async fn gap_ids(app: &TestApp, token: &str, kind: &str) -> Vec<i64> {
    let a = app
        .get_as(token, &format!("/api/v1/blindspots/works?kind={kind}"))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let items = a.json()["items"]
        .as_array()
        .or_else(|| a.json().as_array())
        .cloned()
        .unwrap_or_default();
    items
        .iter()
        .filter_map(|r| r["project_id"].as_i64())
        .collect()
}

async fn handover_leaves_outside_management(store: DynStore) {
    let (a, _) = setup(&store).await;
    let mut big = work("CF-BIG", YUEYANG, 121.2290, 31.0160);
    big.investment_cny = 2_400_000;
    let big = typed::insert(&store, &big).await.expect("big");
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let before = gap_ids(&app, &admin, "above_limit").await;
    assert!(before.contains(&big), "{before:?}");
    assert!(!before.contains(&a));
    let r = record(
        &app,
        &admin,
        big,
        json!({"kind": "handover", "to": "松江区城管执法局岳阳中队", "reason": "above_limit",
               "doc_number": "岳阳移〔2026〕3号", "date": "2026-11-02"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let after = gap_ids(&app, &admin, "above_limit").await;
    assert!(!after.contains(&big), "handed over: {after:?}");
    let file = status_of(&app, &admin, big).await;
    assert_eq!(file["handed_over_to"], "松江区城管执法局岳阳中队");
    // a work marked outside the 小微工程 scope leaves every list
    let unfiled = gap_ids(&app, &admin, "unfiled").await;
    assert!(unfiled.contains(&a));
    let r = record(
        &app,
        &admin,
        a,
        json!({"kind": "out_of_scope", "reason": "居民住宅室内装修，不属于小微工程"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    assert!(!gap_ids(&app, &admin, "unfiled").await.contains(&a));
}

async fn hot_work_needs_a_valid_permit(store: DynStore) {
    let (_, _) = setup(&store).await;
    let mut hot = work("CF-HOT", YUEYANG, 121.2300, 31.0170);
    hot.hot_work = true;
    let hot = typed::insert(&store, &hot).await.expect("hot");
    let mall = Venue {
        code: "V-MALL".into(),
        name: "岳阳商城".into(),
        kind: VenueKind::Mall,
        proxy: false,
        source: "test".into(),
        geometry: Point::new(121.2301, 31.0171).into(),
    };
    typed::insert(&store, &mall).await.expect("venue");
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    assert!(
        gap_ids(&app, &admin, "hot_work_unpermitted")
            .await
            .contains(&hot)
    );
    // a permit that ended yesterday is no permit now
    let now = Utc::now();
    let permit = |from: chrono::DateTime<Utc>, number: &str| {
        json!({"kind": "hot_work_permit", "number": number,
               "from": from.to_rfc3339(), "until": (from + Duration::days(2)).to_rfc3339(),
               "place": "后厨排烟管道", "welder": "赵师傅", "welder_certificate": "T310000199001011234",
               "guardian": "钱监护", "in_opening_hours": false})
    };
    let old = record(
        &app,
        &admin,
        hot,
        permit(now - Duration::days(5), "动火-001"),
    )
    .await;
    assert_eq!(old.status, StatusCode::CREATED, "{}", old.json());
    assert!(
        gap_ids(&app, &admin, "hot_work_unpermitted")
            .await
            .contains(&hot)
    );
    let valid = record(
        &app,
        &admin,
        hot,
        permit(now - Duration::days(1), "动火-002"),
    )
    .await;
    assert_eq!(valid.status, StatusCode::CREATED, "{}", valid.json());
    assert!(
        !gap_ids(&app, &admin, "hot_work_unpermitted")
            .await
            .contains(&hot)
    );
}

async fn parties_carry_checked_codes(store: DynStore) {
    let (a, _) = setup(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let bad = app
        .post_json(
            &admin,
            "/api/v1/parties",
            &json!({"name": "上海某建筑装饰工程有限公司", "uscc": "91310117MA1J3XYZ01"}),
        )
        .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("uscc"));
    let good = app
        .post_json(
            &admin,
            "/api/v1/parties",
            &json!({"name": "阿里巴巴（中国）有限公司", "uscc": "91330100716105852F",
                    "contact": "张伟", "phone": "021-57800000"}),
        )
        .await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.json());
    let id = good.json()["id"].as_i64().expect("id");
    let again = app
        .post_json(
            &admin,
            "/api/v1/parties",
            &json!({"name": "重复", "uscc": "91330100716105852F"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let named = app
        .post_json(
            &admin,
            &format!("/api/v1/projects/{a}/parties"),
            &json!({"party_id": id, "role": "builder"}),
        )
        .await;
    assert_eq!(named.status, StatusCode::CREATED, "{}", named.json());
    assert_eq!(named.json()["role_zh"], "建设单位");
    let file = status_of(&app, &admin, a).await;
    assert_eq!(file["parties"][0]["role"], "builder");
    assert_eq!(file["parties"][0]["role_zh"], "建设单位");
    assert_eq!(file["parties"][0]["party"]["uscc"], "91330100716105852F");
}

/// A JPEG's first bytes and a little more.
fn jpeg() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

async fn attachments_are_checked_and_scoped(store: DynStore) {
    let (a, b) = setup(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let up = app
        .post_bytes(
            &admin,
            &format!("/api/v1/attachments?project={a}&name=现场照片.jpg"),
            "image/jpeg",
            jpeg(),
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.json());
    let id = up.json()["id"].as_i64().expect("id");
    assert_eq!(up.json()["media_type"], "image/jpeg");
    let again = app
        .post_bytes(
            &admin,
            &format!("/api/v1/attachments?project={a}"),
            "image/jpeg",
            jpeg(),
        )
        .await;
    assert_eq!(
        again.json()["sha256"],
        up.json()["sha256"],
        "stored once by SHA-256"
    );
    let got = app
        .get_as(&admin, &format!("/api/v1/attachments/{id}"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.content_type(), "image/jpeg");
    // an .exe renamed .jpg
    let exe = app
        .post_bytes(
            &admin,
            &format!("/api/v1/attachments?project={a}&name=photo.jpg"),
            "image/jpeg",
            b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode".to_vec(),
        )
        .await;
    assert_problem(&exe, StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    // a PDF declared as a JPEG
    let pdf = app
        .post_bytes(
            &admin,
            &format!("/api/v1/attachments?project={a}"),
            "image/jpeg",
            b"%PDF-1.7\n".to_vec(),
        )
        .await;
    assert_problem(&pdf, StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    // 25 MB and more
    let mut big = jpeg();
    big.resize(25 * 1024 * 1024 + 1, 0);
    let too_big = app
        .post_bytes(
            &admin,
            &format!("/api/v1/attachments?project={a}"),
            "image/jpeg",
            big,
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    // another town's staff: the photo of a work outside their scope is not there
    let sijing = common::token_for(
        &store,
        "sj-staff",
        Role::Town,
        &[format!("town:{SIJING}").as_str()],
    )
    .await;
    let hidden = app
        .get_as(&sijing, &format!("/api/v1/attachments/{id}"))
        .await;
    assert_problem(&hidden, StatusCode::NOT_FOUND, None);
    let own = app
        .post_bytes(
            &sijing,
            &format!("/api/v1/attachments?project={b}"),
            "image/jpeg",
            jpeg(),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.json());
    let theirs = app
        .post_bytes(
            &sijing,
            &format!("/api/v1/attachments?project={a}"),
            "image/jpeg",
            jpeg(),
        )
        .await;
    assert_problem(&theirs, StatusCode::NOT_FOUND, None);
}

async fn officers_register_discovered_works_in_scope(store: DynStore) {
    setup(&store).await;
    let app = TestApp::unlimited(&store);
    let officer = common::token_for(
        &store,
        "yy-officer",
        Role::Officer,
        &[format!("town:{YUEYANG}").as_str()],
    )
    .await;
    let found = |lon: f64, lat: f64, status: &str| {
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"name": "巡查发现：沿街商铺装修", "category": "fit_out", "funding": "social",
                              "investment_cny": 80_000, "status": status}})
    };
    let inside = app
        .post_json(
            &officer,
            "/api/v1/projects",
            &found(121.2287, 31.0159, "discovered"),
        )
        .await;
    assert_eq!(inside.status, StatusCode::CREATED, "{}", inside.json());
    assert_eq!(inside.json()["properties"]["status"], "discovered");
    let outside = app
        .post_json(
            &officer,
            "/api/v1/projects",
            &found(121.2650, 31.1150, "discovered"),
        )
        .await;
    assert_problem(&outside, StatusCode::FORBIDDEN, None);
    let filed = app
        .post_json(
            &officer,
            "/api/v1/projects",
            &found(121.2287, 31.0159, "filed"),
        )
        .await;
    assert_problem(&filed, StatusCode::FORBIDDEN, None);
    let viewer = common::token_for(
        &store,
        "yy-viewer",
        Role::Viewer,
        &[format!("town:{YUEYANG}").as_str()],
    )
    .await;
    let v = app
        .post_json(
            &viewer,
            "/api/v1/projects",
            &found(121.2287, 31.0159, "discovered"),
        )
        .await;
    assert_problem(&v, StatusCode::FORBIDDEN, None);
}

crate::store_tests!(
    notified_only_before_the_start,
    handover_leaves_outside_management,
    hot_work_needs_a_valid_permit,
    parties_carry_checked_codes,
    attachments_are_checked_and_scoped,
    officers_register_discovered_works_in_scope,
);
