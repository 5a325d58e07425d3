//! Inspections as the field does them and 一工地一档, on SQLite and PostGIS:
//! a photo keeps its EXIF time and position, an inspection keeps its
//! checklist, photos, parties present and the inspector's distance to the
//! work, a finding fixed on the spot (当场整改) is closed at once with its
//! moves, and the dossier (HTML with the photo, DOCX) and the 告知书 are
//! served to the work's town only.

use crate::common::{self, TestApp, assert_problem};

use axum::http::StatusCode;
use chrono::NaiveDate;
use geo::Point;
use gridpatrol::auth::Role;
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus};
use gridpatrol::service::{self, FileFormat, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::{DynStore, typed};
use serde_json::json;

const YUEYANG: &str = "310117001";
const SIJING: &str = "310117102";

fn work(code: &str, town: &str, lon: f64, lat: f64) -> Project {
    Project {
        code: code.into(),
        name: format!("{code} 荣乐东路餐饮店装修"),
        category: Category::FitOut,
        funding: Funding::Social,
        investment_cny: 260_000,
        floor_area_m2: Some(140.0),
        status: ProjectStatus::InProgress,
        started_on: NaiveDate::from_ymd_opt(2026, 10, 10),
        completed_on: None,
        hot_work: true,
        insulation: false,
        steel_mezzanine: false,
        insured: false,
        address: "荣乐东路12号".into(),
        town: Some(town.into()),
        geometry: Point::new(lon, lat).into(),
    }
}

fn photo() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/photos/yueyang-site-exif.jpg"),
    )
    .expect("photo fixture")
}

#[expect(
    clippy::too_many_lines,
    reason = "one story: the photo, the inspection, then its dossier"
)]
async fn inspections_and_the_dossier(store: DynStore) {
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
    let work_a = typed::insert(&store, &work("DS-0001", YUEYANG, 121.2287, 31.0159))
        .await
        .expect("a");
    let work_b = typed::insert(&store, &work("DS-0002", SIJING, 121.2650, 31.1150))
        .await
        .expect("b");
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;

    let up = app
        .post_bytes(
            &admin,
            &format!("/api/v1/attachments?project={work_a}&name=现场.jpg"),
            "image/jpeg",
            photo(),
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.json());
    assert_eq!(
        up.json()["taken_at"],
        "2026-11-20T01:30:00Z",
        "EXIF time (Beijing 09:30)"
    );
    assert!((up.json()["lon"].as_f64().expect("lon") - 121.2287).abs() < 1e-4);
    let photo_id = up.json()["id"].as_i64().expect("id");
    let other = app
        .post_bytes(
            &admin,
            &format!("/api/v1/attachments?project={work_b}"),
            "image/jpeg",
            photo(),
        )
        .await;
    let other_id = other.json()["id"].as_i64().expect("id");

    let inspection = |photos: Vec<i64>, item: &str| {
        json!({"inspected_at": "2026-11-20T09:30:00+08:00", "inspector": "王建国", "note": "专项督导",
               "checklist": [{"item": item, "result": "fail", "note": "从二级箱直接取电"},
                             {"item": "extinguishers", "result": "pass"}],
               "photos": photos, "parties_present": ["施工单位 项目经理 李强"],
               "position": {"lon": 121.2290, "lat": 31.0160},
               "findings": [
                   {"kind": "power_from_secondary_box", "severity": "serious", "deadline": "2026-11-30"},
                   {"kind": "extension_board", "severity": "general", "deadline": "2026-11-20", "fixed_on_spot": true}]})
    };
    let path = format!("/api/v1/projects/{work_a}/inspections");
    let bad = app
        .post_json(&admin, &path, &inspection(vec![photo_id], "no_such_item"))
        .await;
    assert_problem(
        &bad,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("checklist[0].item"),
    );
    let foreign = app
        .post_json(&admin, &path, &inspection(vec![other_id], "switch_box"))
        .await;
    assert_problem(&foreign, StatusCode::UNPROCESSABLE_ENTITY, Some("photos"));
    let ok = app
        .post_json(&admin, &path, &inspection(vec![photo_id], "switch_box"))
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.json());
    let detail = ok.json()["detail"].clone();
    let metres = detail["distance_m"].as_f64().expect("distance");
    assert!(
        (20.0..40.0).contains(&metres),
        "about 30 m from the work: {metres}"
    );
    assert_eq!(detail["photos"], json!([photo_id]));
    let hazards = ok.json()["hazards"].as_array().expect("hazards").clone();
    assert_eq!(hazards[0]["status"], "open");
    assert_eq!(hazards[1]["status"], "closed", "fixed on the spot");
    let fixed = hazards[1]["id"].as_i64().expect("id");
    let hazard = app
        .get_as(&admin, &format!("/api/v1/hazards/{fixed}"))
        .await;
    let moves: Vec<&str> = hazard.json()["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["to"].as_str())
        .collect();
    assert_eq!(
        moves,
        ["open", "rectifying", "verified", "closed"],
        "{}",
        hazard.json()
    );
    let listed = app.get_as(&admin, &path).await;
    assert_eq!(
        listed.json()["items"][0]["detail"]["checklist"][0]["item"],
        "switch_box"
    );

    let page = app
        .get_as(&admin, &format!("/api/v1/projects/{work_a}/dossier"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type().starts_with("text/html"));
    let html = page.text();
    for want in [
        "一工地一档",
        "DS-0001 荣乐东路餐饮店装修",
        "日常检查",
        "当场整改",
        "data:image/jpeg;base64,",
        "施工单位 项目经理 李强",
    ] {
        assert!(html.contains(want), "{want} missing");
    }
    let docx = app
        .get_as(
            &admin,
            &format!("/api/v1/projects/{work_a}/dossier?format=docx"),
        )
        .await;
    assert_eq!(docx.status, StatusCode::OK);
    assert!(docx.content_type().contains("wordprocessingml"));
    assert!(docx.body.starts_with(b"PK\x03\x04"));
    let notice = app
        .get_as(&admin, &format!("/api/v1/projects/{work_a}/notice.docx"))
        .await;
    assert_eq!(notice.status, StatusCode::OK);
    assert!(notice.body.windows(17).any(|w| w == b"word/document.xml"));
    let bad = app
        .get_as(
            &admin,
            &format!("/api/v1/projects/{work_a}/dossier?format=pdf"),
        )
        .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("format"));
    let sijing = common::token_for(
        &store,
        "sj-staff",
        Role::Town,
        &[format!("town:{SIJING}").as_str()],
    )
    .await;
    for p in [
        format!("/api/v1/projects/{work_a}/dossier"),
        format!("/api/v1/projects/{work_a}/notice.docx"),
        format!("/api/v1/projects/{work_a}/casefile"),
    ] {
        let hidden = app.get_as(&sijing, &p).await;
        assert_problem(&hidden, StatusCode::NOT_FOUND, None);
    }
}

crate::store_tests!(inspections_and_the_dossier);
