//! Text on every write: a walk over every write operation of the OpenAPI
//! document that puts a NUL into each text field of a valid request — every
//! string of a JSON body, every query parameter, the officer, device and
//! name of a track file (GPX, GeoJSON, CSV) — and expects a 422 with
//! nothing stored, on both stores; inspection times within a plausible
//! window. `import_text` holds the command line to the same rules.

use crate::common::{self, Answer, TestApp, assert_problem};
use crate::routes_api::{grid, setup, start_and_end};

use std::collections::BTreeSet;

use axum::http::StatusCode;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

pub(crate) const NUL: &str = "甲\u{0}乙";

/// Every write operation of the API: a new one fails [`every_write`] until
/// it is walked here.
const WRITES: [&str; 23] = [
    "PATCH /api/v1/hazards/{id}",
    "PATCH /api/v1/projects/{id}",
    "PATCH /api/v1/routes/{id}",
    "POST /api/v1/attachments",
    "POST /api/v1/parties",
    "POST /api/v1/projects",
    "POST /api/v1/projects/{id}/inspections",
    "POST /api/v1/projects/{id}/parties",
    "POST /api/v1/projects/{id}/records",
    "POST /api/v1/routes",
    "POST /api/v1/routes/sweep",
    "POST /api/v1/tracks",
    "POST /api/v1/tracks/{id}/points",
    "POST /api/v1/evaluations",
    "PUT /api/v1/evaluations/{id}/site-towns",
    "PUT /api/v1/evaluations/{id}/self-assessments/{town}",
    "POST /api/v1/evaluations/{id}/self-assessments/{town}/submit",
    "POST /api/v1/evaluations/{id}/self-assessments/{town}/review",
    "POST /api/v1/evaluations/{id}/draws/{town}",
    "PUT /api/v1/evaluations/{id}/findings/{project_id}",
    "POST /api/v1/inbox/{id}/read",
    "POST /api/v1/inbox/{id}/done",
    "PUT /api/v1/inbox/preferences",
];

fn document() -> Value {
    serde_json::to_value(gridpatrol::http::openapi::document()).expect("the document")
}

/// `METHOD path` of every operation that writes.
fn documented_writes(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out
}

/// The query parameters an operation documents.
fn query_params(doc: &Value, op: &str) -> Vec<String> {
    let (method, path) = op.split_once(' ').expect("METHOD path");
    doc["paths"][path][method.to_lowercase()]["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every string of a JSON value: its JSON pointer and its name as problems
/// give it (`findings[0].note`).
fn strings(v: &Value, pointer: &str, name: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(_) => out.push((pointer.to_owned(), name.to_owned())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(
                    item,
                    &format!("{pointer}/{i}"),
                    &format!("{name}[{i}]"),
                    out,
                );
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let at = if name.is_empty() {
                    k.clone()
                } else {
                    format!("{name}.{k}")
                };
                strings(item, &format!("{pointer}/{k}"), &at, out);
            }
        }
        _ => {}
    }
}

/// What the store holds that a write could change.
async fn stored(app: &TestApp, token: &str, work: i64) -> Value {
    let mut out = Vec::new();
    for path in [
        "/api/v1/projects?limit=10000".to_owned(),
        "/api/v1/tracks?times=true".to_owned(),
        "/api/v1/routes".to_owned(),
        "/api/v1/hazards".to_owned(),
        format!("/api/v1/projects/{work}/inspections"),
        format!("/api/v1/projects/{work}/casefile"),
        "/api/v1/parties".to_owned(),
    ] {
        let a = app.get_as(token, &path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.json());
        out.push(a.json().clone());
    }
    Value::Array(out)
}

/// A request of the walk: the operation, the path with its ids, a query
/// and a body (content type and bytes).
struct Request {
    op: &'static str,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
}

enum Body {
    Json(Value),
    /// A track file with `{officer}`, `{device}` and `{name}` to fill.
    File(&'static str, String),
    /// A binary file (a photo): no text in it, its query walked.
    Raw(&'static str, Vec<u8>),
}

fn query_string(query: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn send(app: &TestApp, token: &str, r: &Request, query: &str, body: Vec<u8>) -> Answer {
    let method = r.op.split_once(' ').expect("METHOD path").0;
    let uri = if query.is_empty() {
        r.path.clone()
    } else {
        format!("{}?{query}", r.path)
    };
    let content_type = match &r.body {
        Body::Json(_) if r.op == "PATCH /api/v1/projects/{id}" => "application/merge-patch+json",
        Body::Json(_) => "application/json",
        Body::File(ct, _) | Body::Raw(ct, _) => ct,
    };
    app.request(method, &uri, Some(token), Some((content_type, body)))
        .await
}

pub(crate) const GPX: &str = "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"{device}\" xmlns=\"http://www.topografix.com/GPX/1/1\">\
<metadata><author><name>{officer}</name></author></metadata><trk><name>{name}</name><trkseg>\
<trkpt lat=\"31.0135\" lon=\"121.2249\"><time>2026-10-28T01:00:00Z</time></trkpt>\
<trkpt lat=\"31.0140\" lon=\"121.2252\"><time>2026-10-28T01:01:00Z</time></trkpt>\
<trkpt lat=\"31.0145\" lon=\"121.2255\"><time>2026-10-28T01:02:00Z</time></trkpt></trkseg></trk></gpx>";

pub(crate) const CSV: &str = "officer,device,track,time,lon,lat\n\
{officer},{device},{name},2026-10-28T02:00:00Z,121.2249,31.0135\n\
{officer},{device},{name},2026-10-28T02:01:00Z,121.2252,31.0140\n\
{officer},{device},{name},2026-10-28T02:02:00Z,121.2255,31.0145\n";

const GEOJSON: &str = r#"{"type": "Feature", "properties": {"officer": "{officer}", "device": "{device}", "name": "{name}"},
 "geometry": {"type": "LineString", "coordinates": [[121.2249, 31.0135], [121.2252, 31.0140], [121.2255, 31.0145]]},
 "times": ["2026-10-28T03:00:00Z", "2026-10-28T03:01:00Z", "2026-10-28T03:02:00Z"]}"#;

pub(crate) fn fill(template: &str, field: &str, text: &str) -> String {
    let mut s = template.to_owned();
    for (k, v) in [
        ("officer", "officer01"),
        ("device", "手持终端"),
        ("name", "岳阳巡查"),
    ] {
        s = s.replace(&format!("{{{k}}}"), if k == field { text } else { v });
    }
    s
}

/// Query parameters from pairs.
fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Track uploads in the three formats, with every upload parameter.
fn track_uploads() -> Vec<Request> {
    let query = q(&[
        ("officer", "officer01"),
        ("device", "手持终端"),
        ("crs", "wgs84"),
        ("open", "false"),
        ("start", "2026-10-28T01:00:00Z"),
        ("name", "岳阳巡查.gpx"),
        ("res", "10"),
        ("sighting_m", "30"),
        ("max_speed_mps", "20"),
        ("mode", "auto"),
        ("columns", "time:time,lon:lon,lat:lat"),
        ("interval_s", "5"),
        ("strict", "false"),
    ]);
    [
        ("application/gpx+xml", GPX),
        ("text/csv", CSV),
        ("application/geo+json", GEOJSON),
    ]
    .into_iter()
    .map(|(ct, template)| Request {
        op: "POST /api/v1/tracks",
        path: "/api/v1/tracks".into(),
        query: query.clone(),
        body: Body::File(ct, template.to_owned()),
    })
    .collect()
}

/// Valid requests for every write operation, on a store with the demo
/// layers and roads, a work, an inspection with a hazard, a route and an
/// open track.
async fn requests(app: &TestApp, store: &DynStore, token: &str) -> (Vec<Request>, i64) {
    let work = json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.2249, 31.0135]},
        "properties": {"code": "NUL-0001", "name": "岳阳工程", "category": "fit_out",
                       "funding": "social", "investment_cny": 260_000, "floor_area_m2": 140.0,
                       "status": "filed", "started_on": "2026-10-01", "address": "荣乐东路1号",
                       "town": "岳阳街道"}});
    let a = app.post_json(token, "/api/v1/projects", &work).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let work_id = a.json()["id"].as_i64().expect("work id");
    let inspection = crate::inspections_api::inspection("王建国", &["extension_board"]);
    let inspections = format!("/api/v1/projects/{work_id}/inspections");
    let a = app.post_json(token, &inspections, &inspection).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let hazard = a.json()["hazards"][0]["id"].as_i64().expect("hazard");

    let g = grid(store, crate::routes_api::GRID).await;
    let (start, _) = start_and_end(&g.value);
    let route = json!({"grid_id": g.id, "start": [start.lon(), start.lat()],
        "shift_minutes": 240, "mode": "walk", "date": "2026-11-03", "start_time": "08:30",
        "officer": "officer07", "mode_kind": "patrol", "crs": "wgs84"});
    let a = app.post_json(token, "/api/v1/routes", &route).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let route_id = a.json()["id"].as_i64().expect("route id");
    let cells: Vec<String> = g
        .value
        .expanded_cells()
        .take(3)
        .map(|c| c.to_string())
        .collect();
    let sweep = json!({"grid_id": g.id, "start": [start.lon(), start.lat()], "cells": cells,
        "shift_minutes": 240, "mode": "walk", "date": "2026-11-03", "start_time": "08:30",
        "officer": "officer07", "mode_kind": "sweep", "crs": "wgs84"});

    let live = "officer,time,lon,lat\nofficer05,2026-11-03T01:00:00Z,121.2200,31.0300\n\
officer05,2026-11-03T01:01:00Z,121.2206,31.0302\nofficer05,2026-11-03T01:02:00Z,121.2212,31.0304\n";
    let a = app
        .post_bytes(token, "/api/v1/tracks?open=true", "text/csv", live)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    let track = a.json()["tracks"][0]["id"].as_i64().expect("track id");

    let mut all = vec![
        Request {
            op: "POST /api/v1/projects",
            path: "/api/v1/projects".into(),
            query: q(&[("crs", "wgs84")]),
            body: Body::Json(work.clone()),
        },
        Request {
            op: "PATCH /api/v1/projects/{id}",
            path: format!("/api/v1/projects/{work_id}"),
            query: q(&[("crs", "wgs84")]),
            body: Body::Json(
                json!({"name": "改名", "address": "荣乐东路2号", "status": "filed",
                                    "category": "fit_out", "funding": "social", "town": "岳阳街道",
                                    "started_on": "2026-10-02", "completed_on": "2026-10-30"}),
            ),
        },
        Request {
            op: "POST /api/v1/projects/{id}/inspections",
            path: inspections,
            query: Vec::new(),
            body: Body::Json(inspection),
        },
        Request {
            op: "PATCH /api/v1/hazards/{id}",
            path: format!("/api/v1/hazards/{hazard}"),
            query: Vec::new(),
            body: Body::Json(json!({"status": "rectifying", "note": "已通知整改"})),
        },
        Request {
            op: "POST /api/v1/routes",
            path: "/api/v1/routes".into(),
            query: Vec::new(),
            body: Body::Json(route),
        },
        Request {
            op: "POST /api/v1/routes/sweep",
            path: "/api/v1/routes/sweep".into(),
            query: Vec::new(),
            body: Body::Json(sweep),
        },
        Request {
            op: "PATCH /api/v1/routes/{id}",
            path: format!("/api/v1/routes/{route_id}"),
            query: Vec::new(),
            body: Body::Json(json!({"officer": "officer08"})),
        },
        Request {
            op: "POST /api/v1/tracks/{id}/points",
            path: format!("/api/v1/tracks/{track}/points"),
            query: q(&[("crs", "wgs84"), ("close", "false")]),
            body: Body::Json(json!({"points": [
                {"lon": 121.2230, "lat": 31.0310, "time": "2026-11-03T01:04:00Z"}]})),
        },
    ];
    all.extend(track_uploads());
    all.extend(case_file_writes(app, token, work_id).await);
    all.extend(evaluation_and_inbox_writes(work_id));
    (all, work_id)
}

/// The evaluation's and the inbox's writes (text refused before any is read;
/// the draw and the marks carry no text and are only walked).
fn evaluation_and_inbox_writes(work_id: i64) -> Vec<Request> {
    let json = |op: &'static str, path: String, body: Value| Request {
        op,
        path,
        query: Vec::new(),
        body: Body::Json(body),
    };
    let raw = |op: &'static str, path: String, body: &str| Request {
        op,
        path,
        query: Vec::new(),
        body: Body::Raw("application/json", body.as_bytes().to_vec()),
    };
    let sa = json!({"summary": "自评报告", "claims": [{"item": "notice", "score": 10,
                    "problems": "告知滞后", "plan": "开工前告知", "measures": "窗口同步",
                    "evidence": [{"title": "告知书", "number": "岳告〔2026〕1号"}]}]});
    vec![
        json(
            "POST /api/v1/evaluations",
            "/api/v1/evaluations".into(),
            json!({"period": "2026H2"}),
        ),
        json(
            "PUT /api/v1/evaluations/{id}/site-towns",
            "/api/v1/evaluations/1/site-towns".into(),
            json!({"towns": ["310117001"]}),
        ),
        json(
            "PUT /api/v1/evaluations/{id}/self-assessments/{town}",
            "/api/v1/evaluations/1/self-assessments/310117001".into(),
            sa.clone(),
        ),
        json(
            "POST /api/v1/evaluations/{id}/self-assessments/{town}/submit",
            "/api/v1/evaluations/1/self-assessments/310117001/submit".into(),
            sa,
        ),
        json(
            "POST /api/v1/evaluations/{id}/self-assessments/{town}/review",
            "/api/v1/evaluations/1/self-assessments/310117001/review".into(),
            json!([{"key": "staff", "review": "rejected", "note": "未盖章"}]),
        ),
        raw(
            "POST /api/v1/evaluations/{id}/draws/{town}",
            "/api/v1/evaluations/1/draws/310117001".into(),
            "{\"size\": 2, \"seed\": 7}",
        ),
        json(
            "PUT /api/v1/evaluations/{id}/findings/{project_id}",
            format!("/api/v1/evaluations/1/findings/{work_id}"),
            json!({"problems": ["no_switch_box"], "note": "现场说明"}),
        ),
        raw(
            "POST /api/v1/inbox/{id}/read",
            "/api/v1/inbox/1/read".into(),
            "{}",
        ),
        raw(
            "POST /api/v1/inbox/{id}/done",
            "/api/v1/inbox/1/done".into(),
            "{}",
        ),
        json(
            "PUT /api/v1/inbox/preferences",
            "/api/v1/inbox/preferences".into(),
            json!({"email": "safety@example.cn", "phone": "13800000000",
                   "quiet_from": "22:00", "quiet_to": "07:00"}),
        ),
    ]
}

/// The case file's writes on the work: a party to name (registered here,
/// its code checked), a record, a photo.
async fn case_file_writes(app: &TestApp, token: &str, work_id: i64) -> Vec<Request> {
    let party = app
        .post_json(
            token,
            "/api/v1/parties",
            &json!({"name": "上海松建装饰工程有限公司", "uscc": "91350100M000100Y43"}),
        )
        .await;
    assert_eq!(party.status, StatusCode::CREATED, "{}", party.json());
    let party_id = party.json()["id"].as_i64().expect("party id");
    let project = work_id.to_string();
    let photo = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 0xFF, 0xD9,
    ];
    vec![
        Request {
            op: "POST /api/v1/parties",
            path: "/api/v1/parties".into(),
            query: Vec::new(),
            body: Body::Json(
                json!({"name": "上海茸城建筑安装工程有限公司", "uscc": "91310000MA1FL6KQ30",
                                    "contact": "李强", "phone": "021-57810000"}),
            ),
        },
        Request {
            op: "POST /api/v1/projects/{id}/parties",
            path: format!("/api/v1/projects/{work_id}/parties"),
            query: Vec::new(),
            body: Body::Json(json!({"party_id": party_id, "role": "builder"})),
        },
        Request {
            op: "POST /api/v1/projects/{id}/records",
            path: format!("/api/v1/projects/{work_id}/records"),
            query: Vec::new(),
            body: Body::Json(json!({"entry": {"kind": "notice", "recipients": ["张伟"],
                                              "served_on": "2026-09-28"}, "note": "书面告知"})),
        },
        Request {
            op: "POST /api/v1/attachments",
            path: "/api/v1/attachments".into(),
            query: q(&[("project", project.as_str()), ("name", "现场照片.jpg")]),
            body: Body::Raw("image/jpeg", photo),
        },
    ]
}

async fn every_write(store: DynStore) {
    setup(&store, true).await;
    let app = TestApp::unlimited(&store);
    let token = common::admin_token(&store).await;
    let doc = document();
    let written: BTreeSet<String> = WRITES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(documented_writes(&doc), written, "walk every write");

    let (requests, work) = requests(&app, &store, &token).await;
    let walked: BTreeSet<String> = requests.iter().map(|r| r.op.to_owned()).collect();
    assert_eq!(walked, written);
    let before = stored(&app, &token, work).await;
    let mut sent = 0;
    for r in &requests {
        // every query parameter the operation documents
        let params = query_params(&doc, r.op);
        let given: BTreeSet<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            params.iter().map(String::as_str).collect::<BTreeSet<_>>(),
            given,
            "{}: give every documented parameter",
            r.op
        );
        let body = match &r.body {
            Body::Json(v) => v.to_string().into_bytes(),
            Body::File(_, t) => fill(t, "", "").into_bytes(),
            Body::Raw(_, b) => b.clone(),
        };
        for (i, (k, _)) in r.query.iter().enumerate() {
            let mut query = r.query.clone();
            NUL.clone_into(&mut query[i].1);
            let a = send(&app, &token, r, &query_string(&query), body.clone()).await;
            assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(k));
            sent += 1;
        }
        let query = query_string(&r.query);
        match &r.body {
            Body::Json(v) => {
                let mut texts = Vec::new();
                strings(v, "", "", &mut texts);
                assert!(!texts.is_empty(), "{}", r.op);
                for (pointer, name) in texts {
                    let mut bad = v.clone();
                    *bad.pointer_mut(&pointer).expect("the string") = json!(NUL);
                    let a = send(&app, &token, r, &query, bad.to_string().into_bytes()).await;
                    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some(&name));
                    sent += 1;
                }
            }
            Body::Raw(..) => {}
            Body::File(ct, template) => {
                for field in ["officer", "device", "name"] {
                    // the file's own officer and device count when the
                    // query gives none
                    let query: Vec<(String, String)> = r
                        .query
                        .iter()
                        .filter(|(k, _)| k != "officer" && k != "device")
                        .cloned()
                        .collect();
                    let texts = if *ct == "application/gpx+xml" {
                        vec![NUL.to_owned(), "甲&#27;乙".to_owned()]
                    } else {
                        vec![NUL.to_owned()]
                    };
                    for text in texts {
                        let file = fill(template, field, &text);
                        let a =
                            send(&app, &token, r, &query_string(&query), file.into_bytes()).await;
                        assert_eq!(
                            a.status,
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "{ct} {field} {text:?}: {}",
                            a.text()
                        );
                        assert_eq!(a.content_type(), "application/problem+json");
                        sent += 1;
                    }
                }
            }
        }
        assert_eq!(
            stored(&app, &token, work).await,
            before,
            "{}: nothing stored",
            r.op
        );
    }
    assert!(sent > 60, "{sent} requests");
}

crate::store_tests!(every_write, inspection_times_are_plausible);

async fn inspection_times_are_plausible(store: DynStore) {
    setup(&store, false).await;
    let app = TestApp::new(&store);
    let token = common::admin_token(&store).await;
    let work = a_work(&app, &token).await;
    let path = format!("/api/v1/projects/{work}/inspections");
    let before = stored(&app, &token, work).await;
    let mut early = crate::inspections_api::inspection("王建国", &["extension_board"]);
    early["inspected_at"] = json!("0001-01-01T09:30:00+08:00");
    let a = app.post_json(&token, &path, &early).await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("inspected_at"));
    let mut late = crate::inspections_api::inspection("王建国", &["extension_board"]);
    late["findings"][0]["deadline"] = json!("9999-12-31");
    let a = app.post_json(&token, &path, &late).await;
    assert_problem(
        &a,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("findings[0].deadline"),
    );
    let mut long = crate::inspections_api::inspection("王建国", &["extension_board"]);
    long["note"] = json!("长".repeat(2001));
    let a = app.post_json(&token, &path, &long).await;
    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, Some("note"));
    assert_eq!(stored(&app, &token, work).await, before, "nothing stored");
}

/// A work in 岳阳街道, by id.
async fn a_work(app: &TestApp, token: &str) -> i64 {
    let work = json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.2249, 31.0135]},
        "properties": {"name": "岳阳工程", "category": "fit_out", "funding": "social",
                       "investment_cny": 260_000, "status": "filed"}});
    let a = app.post_json(token, "/api/v1/projects", &work).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json());
    a.json()["id"].as_i64().expect("work id")
}
