//! The half-year evaluation through the HTTP API, on SQLite and on
//! PostGIS: the district opens a period, a town saves and submits its
//! self-assessment (and cannot touch another town's, nor change its own
//! once submitted), a claim above the records is flagged, the district's
//! rejection of a declaration takes its points, the on-site draw is drawn
//! once and redraws from its seed, findings are compared with the town's
//! records, and the draft 通报 comes as Word, a page and a workbook. On the
//! Songjiang demo data the Word draft opens with python-docx and holds the
//! five sections with the data's figures.

use crate::common::{self, TestApp, assert_problem};

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use geo::Point;
use gridpatrol::auth::Role;
use gridpatrol::domain::{Category, Funding, Project, ProjectStatus};
use gridpatrol::evaluation::Period;
use gridpatrol::service::{self, FileFormat, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::{DynStore, typed};
use serde_json::{Value, json};

const YUEYANG: &str = "310117001";
const SIJING: &str = "310117102";

fn work(code: &str, town: &str, funding: Funding, lon: f64) -> Project {
    Project {
        code: code.into(),
        name: format!("{code} 店铺装修"),
        category: Category::FitOut,
        funding,
        investment_cny: 260_000,
        floor_area_m2: Some(140.0),
        status: ProjectStatus::InProgress,
        started_on: Some(Utc::now().date_naive() - Duration::days(3)),
        completed_on: None,
        hot_work: false,
        insulation: false,
        steel_mezzanine: false,
        insured: true,
        address: "荣乐东路".into(),
        town: Some(town.into()),
        geometry: Point::new(lon, 31.0159).into(),
    }
}

async fn setup(store: &DynStore) {
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
    for (i, funding) in [
        Funding::Social,
        Funding::Social,
        Funding::Government,
        Funding::Collective,
    ]
    .into_iter()
    .enumerate()
    {
        let lon = 121.2287 + 0.0005 * f64::from(u8::try_from(i).expect("small"));
        typed::insert(store, &work(&format!("EV-{i:04}"), YUEYANG, funding, lon))
            .await
            .expect("work");
    }
    typed::insert(store, &work("EV-0100", SIJING, Funding::Social, 121.2650))
        .await
        .expect("work");
}

fn period() -> String {
    Period::of_day(Utc::now().date_naive()).to_string()
}

fn claims() -> Value {
    json!({
        "summary": "本街道建立小微工程管理制度，安排专人负责。",
        "claims": [
            {"item": "notice", "score": 15, "problems": "部分项目开工后才告知", "plan": "开工前全部书面告知", "measures": "备案窗口同步告知"},
            {"item": "organisation", "score": 8, "evidence": [{"title": "关于成立小微工程管理工作领导小组的通知", "number": "岳办〔2026〕3号"}]}
        ],
        "declarations": [
            {"key": "leading_group", "declared": true, "evidence": [{"title": "关于成立小微工程管理工作领导小组的通知", "number": "岳办〔2026〕3号"}], "review": "confirmed"},
            {"key": "staff", "declared": true, "evidence": [{"title": "专人分工表"}]}
        ]
    })
}

fn town_of<'a>(overview: &'a Value, code: &str) -> &'a Value {
    overview["towns"]
        .as_array()
        .expect("towns")
        .iter()
        .find(|t| t["town"] == code)
        .unwrap_or_else(|| panic!("{code} in {overview}"))
}

fn item_score(town: &Value, item: &str) -> f64 {
    town["measured"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["item"] == item)
        .and_then(|i| i["score"].as_f64())
        .expect("score")
}

#[expect(
    clippy::too_many_lines,
    reason = "one period from opening to the draft, in order"
)]
async fn a_period_from_opening_to_the_draft(store: DynStore) {
    setup(&store).await;
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let town = common::token_for(
        &store,
        "yy-town",
        Role::Town,
        &[format!("town:{YUEYANG}").as_str()],
    )
    .await;
    let p = period();

    // only the district opens a period; once; a period is a half-year
    let denied = app
        .post_json(&town, "/api/v1/evaluations", &json!({"period": p}))
        .await;
    assert_problem(&denied, StatusCode::FORBIDDEN, None);
    let bad = app
        .post_json(&admin, "/api/v1/evaluations", &json!({"period": "2026Q3"}))
        .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, Some("period"));
    let opened = app
        .post_json(&admin, "/api/v1/evaluations", &json!({"period": p}))
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{opened}");
    let id = opened.json()["id"].as_i64().expect("id");
    assert_eq!(opened.json()["table_version"], "songjiang-2025.1");
    let again = app
        .post_json(&admin, "/api/v1/evaluations", &json!({"period": p}))
        .await;
    assert_problem(&again, StatusCode::CONFLICT, None);

    // the town saves a draft of its own self-assessment, not another town's
    let sa = format!("/api/v1/evaluations/{id}/self-assessments/{YUEYANG}");
    let draft = app.call(&town, "PUT", &sa, Some(claims())).await;
    assert_eq!(draft.status, StatusCode::OK, "{draft}");
    assert_eq!(draft.json()["status"], "draft");
    // a town cannot confirm its own declarations
    assert_eq!(draft.json()["body"]["declarations"][0]["review"], "pending");
    let other = app
        .call(
            &town,
            "PUT",
            &format!("/api/v1/evaluations/{id}/self-assessments/{SIJING}"),
            Some(claims()),
        )
        .await;
    assert_problem(&other, StatusCode::FORBIDDEN, None);
    let mut too_high = claims();
    too_high["claims"][0]["score"] = json!(16);
    let high = app.call(&town, "PUT", &sa, Some(too_high)).await;
    assert_problem(
        &high,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("claims[0].score"),
    );
    let submitted = app
        .post_json(&town, &format!("{sa}/submit"), &claims())
        .await;
    assert_eq!(submitted.status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted.json()["status"], "submitted");
    let late = app.call(&town, "PUT", &sa, Some(claims())).await;
    assert_problem(&late, StatusCode::CONFLICT, None);

    // the district sees the claims beside the records: no work was
    // notified before its start, so a claim of 15 on 告知承诺 is flagged
    let o = app
        .get_as(&admin, &format!("/api/v1/evaluations/{id}"))
        .await;
    assert_eq!(o.status, StatusCode::OK, "{o}");
    assert_eq!(o.json()["submitted"], 1);
    let yy = town_of(o.json(), YUEYANG);
    assert_eq!(yy["self_assessment"]["status"], "submitted");
    let flagged: Vec<&str> = yy["disagreements"]
        .as_array()
        .expect("d")
        .iter()
        .filter_map(|d| d["item"].as_str())
        .collect();
    assert_eq!(flagged, ["notice"], "{yy}");
    assert!((item_score(yy, "notice")).abs() < 1e-9);
    // two declarations with evidence, pending: 4 + 4 points
    assert!((item_score(yy, "organisation") - 8.0).abs() < 1e-9);
    let labels: Vec<&str> = yy["measured"]["items"]
        .as_array()
        .expect("i")
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
    assert!(town_of(o.json(), SIJING)["self_assessment"].is_null());
    // the town reads its own town only
    let mine = app
        .get_as(&town, &format!("/api/v1/evaluations/{id}"))
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{mine}");
    assert_eq!(mine.json()["towns"].as_array().expect("towns").len(), 1);

    // the district rejects a declaration: its points go
    let review = app
        .post_json(
            &admin,
            &format!("{sa}/review"),
            &json!([{"key": "staff", "review": "rejected", "note": "分工表未盖章"}]),
        )
        .await;
    assert_eq!(review.status, StatusCode::OK, "{review}");
    let o = app
        .get_as(&admin, &format!("/api/v1/evaluations/{id}"))
        .await;
    assert!((item_score(town_of(o.json(), YUEYANG), "organisation") - 4.0).abs() < 1e-9);
    let town_review = app
        .post_json(&town, &format!("{sa}/review"), &json!([]))
        .await;
    assert_problem(&town_review, StatusCode::FORBIDDEN, None);

    // the draw: only in a town picked for the on-site evaluation, once
    let draw_path = format!("/api/v1/evaluations/{id}/draws/{YUEYANG}");
    let unpicked = app
        .post_json(&admin, &draw_path, &json!({"size": 2, "seed": 42}))
        .await;
    assert_problem(&unpicked, StatusCode::UNPROCESSABLE_ENTITY, Some("town"));
    let picked = app
        .call(
            &admin,
            "PUT",
            &format!("/api/v1/evaluations/{id}/site-towns"),
            Some(json!({"towns": [YUEYANG]})),
        )
        .await;
    assert_eq!(picked.status, StatusCode::OK, "{picked}");
    let unknown = app
        .call(
            &admin,
            "PUT",
            &format!("/api/v1/evaluations/{id}/site-towns"),
            Some(json!({"towns": ["999"]})),
        )
        .await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, Some("towns[0]"));
    let drawn = app
        .post_json(&admin, &draw_path, &json!({"size": 2, "seed": 42}))
        .await;
    assert_eq!(drawn.status, StatusCode::CREATED, "{drawn}");
    assert_eq!(drawn.json()["seed"], 42);
    assert_eq!(drawn.json()["candidates"], 4);
    assert_eq!(drawn.json()["redraws"], true);
    let works = drawn.json()["works"].as_array().expect("works").clone();
    assert_eq!(works.len(), 2);
    // social fit-outs and the other two strata: one of the largest first
    let strata = drawn.json()["strata"].as_array().expect("strata");
    assert_eq!(strata.len(), 3);
    let twice = app
        .post_json(&admin, &draw_path, &json!({"size": 2, "seed": 42}))
        .await;
    assert_problem(&twice, StatusCode::CONFLICT, None);

    // findings on a drawn work, none on another
    let w0 = works[0]["project_id"].as_i64().expect("id");
    let finding = app
        .call(
            &admin,
            "PUT",
            &format!("/api/v1/evaluations/{id}/findings/{w0}"),
            Some(json!({"problems": ["no_switch_box", "extension_board"], "note": "开关箱缺失"})),
        )
        .await;
    assert_eq!(finding.status, StatusCode::OK, "{finding}");
    let sijing_work = typed::all::<Project>(&store)
        .await
        .expect("works")
        .into_iter()
        .find(|p| p.value.code == "EV-0100")
        .expect("work")
        .id;
    let not_drawn = app
        .call(
            &admin,
            "PUT",
            &format!("/api/v1/evaluations/{id}/findings/{sijing_work}"),
            Some(json!({"problems": []})),
        )
        .await;
    assert_problem(
        &not_drawn,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("project_id"),
    );
    let bad_problem = app
        .call(
            &admin,
            "PUT",
            &format!("/api/v1/evaluations/{id}/findings/{w0}"),
            Some(json!({"problems": ["ufo"]})),
        )
        .await;
    assert_problem(
        &bad_problem,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("problems[0]"),
    );
    let o = app
        .get_as(&admin, &format!("/api/v1/evaluations/{id}"))
        .await;
    let d = &town_of(o.json(), YUEYANG)["draw"];
    assert_eq!(d["summary"]["visited"], 1);
    assert_eq!(d["summary"]["problems_found"], 2);
    assert_eq!(
        d["summary"]["problems_recorded"], 0,
        "the town had recorded neither"
    );
    assert_eq!(d["summary"]["never_inspected"], 2);

    // the draft 通报, its page and the workbook
    let docx = app
        .get_as(&admin, &format!("/api/v1/evaluations/{id}/report.docx"))
        .await;
    assert_eq!(docx.status, StatusCode::OK);
    assert_eq!(
        docx.content_type(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(docx.body.starts_with(b"PK\x03\x04"));
    let page = app
        .get_as(&admin, &format!("/api/v1/evaluations/{id}/report"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for h in [
        "一、组织情况",
        "二、自评情况",
        "三、实地评价情况",
        "四、抽查项目情况",
        "五、下一步工作要求",
    ] {
        assert!(html.contains(h), "{h}");
    }
    assert!(html.contains("施工现场未配备开关箱（1项）"), "{html}");
    let xlsx = app
        .get_as(
            &admin,
            &format!("/api/v1/evaluations/{id}/report?format=xlsx"),
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK\x03\x04"));
    let wrong = app
        .get_as(
            &admin,
            &format!("/api/v1/evaluations/{id}/report?format=pdf"),
        )
        .await;
    assert_problem(&wrong, StatusCode::UNPROCESSABLE_ENTITY, Some("format"));
    let missing = app.get_as(&admin, "/api/v1/evaluations/999999").await;
    assert_problem(&missing, StatusCode::NOT_FOUND, None);
}

crate::store_tests!(a_period_from_opening_to_the_draft);

/// The paragraphs and table cells of a .docx as python-docx reads them.
fn docx_text(bytes: &[u8]) -> String {
    let script = r"import sys, docx
d = docx.Document(sys.argv[1])
for p in d.paragraphs:
    print(p.text)
for t in d.tables:
    for r in t.rows:
        print(' | '.join(c.text for c in r.cells))
";
    String::from_utf8(common::python_on_file(script, bytes, "docx")).expect("utf-8")
}

#[tokio::test]
async fn the_draft_notice_from_the_demo_opens_in_python_docx() {
    let store = common::sqlite_store().await;
    gridpatrol::demo::load(&store, &common::fixtures())
        .await
        .expect("demo");
    let app = TestApp::unlimited(&store);
    let admin = common::admin_token(&store).await;
    let opened = app
        .post_json(&admin, "/api/v1/evaluations", &json!({"period": period()}))
        .await;
    assert_eq!(opened.status, StatusCode::CREATED, "{opened}");
    let id = opened.json()["id"].as_i64().expect("id");
    let sa = app
        .post_json(
            &admin,
            &format!("/api/v1/evaluations/{id}/self-assessments/{YUEYANG}/submit"),
            &claims(),
        )
        .await;
    assert_eq!(sa.status, StatusCode::OK, "{sa}");
    app.call(
        &admin,
        "PUT",
        &format!("/api/v1/evaluations/{id}/site-towns"),
        Some(json!({"towns": [YUEYANG]})),
    )
    .await;
    let drawn = app
        .post_json(
            &admin,
            &format!("/api/v1/evaluations/{id}/draws/{YUEYANG}"),
            &json!({"size": 6, "seed": 2026}),
        )
        .await;
    assert_eq!(drawn.status, StatusCode::CREATED, "{drawn}");
    let o = app
        .get_as(&admin, &format!("/api/v1/evaluations/{id}"))
        .await;
    let towns = o.json()["towns"].as_array().expect("towns").len();
    let docx = app
        .get_as(&admin, &format!("/api/v1/evaluations/{id}/report.docx"))
        .await;
    assert_eq!(docx.status, StatusCode::OK);
    let text = docx_text(&docx.body);
    for h in [
        "一、组织情况",
        "二、自评情况",
        "三、实地评价情况",
        "四、抽查项目情况",
        "五、下一步工作要求",
    ] {
        assert!(text.contains(h), "{h} in {text}");
    }
    assert!(text.contains(&format!("评价对象为{towns}个街镇")), "{text}");
    assert!(
        text.contains("现场按投资性质和工程类别分层随机抽取项目6项"),
        "{text}"
    );
    assert!(
        text.contains("岳阳街道等单位的自查报告有对照评价"),
        "{text}"
    );
    assert!(text.contains("1个街镇（经开区）提交了自评报告"), "{text}");
    // the score table: a header with the six items and a row per town
    assert!(
        text.contains("街镇 | 机构设置（15） | 开工（竣工）备案（15）"),
        "{text}"
    );
}
