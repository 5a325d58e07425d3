//! Patrol tracks and coverage through the HTTP API: uploads in every
//! format, the cleaning report, repeated uploads, GCJ-02 input, live tracks,
//! the coverage answers, and bad input answered with problem+json and
//! nothing stored.

use crate::common::{self, TestApp};

use std::collections::BTreeSet;

use axum::http::StatusCode;
use gridpatrol::demo::LAYER_FILES;
use gridpatrol::service;
use gridpatrol::spatial::Crs;
use gridpatrol::store::DynStore;
use serde_json::{Value, json};

const WALK: &str = "2026-10-28_officer01_am.gpx";
const WALK_GCJ02: &str = "2026-10-28_officer01_am_gcj02.csv";

/// The demo layers without the demo tracks.
async fn layers_only(store: &DynStore) {
    for (kind, file) in LAYER_FILES {
        service::import_file(
            store,
            kind,
            &common::fixtures().join(file),
            Crs::Wgs84,
            &|_| {},
        )
        .await
        .expect("layer loads");
    }
}

async fn store() -> DynStore {
    let s = common::sqlite_store().await;
    layers_only(&s).await;
    s
}

fn track_file(name: &str) -> Vec<u8> {
    std::fs::read(common::fixtures().join("tracks").join(name)).expect("track fixture")
}

/// A call as the admin: the status, the content type and the JSON body.
async fn call(
    store: &DynStore,
    method: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Value) {
    let token = common::admin_token(store).await;
    let a = TestApp::new(store)
        .request(method, uri, Some(&token), Some((content_type, body)))
        .await;
    (a.status, a.content_type().to_owned(), a.json().clone())
}

async fn get(store: &DynStore, uri: &str) -> Value {
    let (status, _, body) = call(store, "GET", uri, "application/json", Vec::new()).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

async fn track_count(store: &DynStore) -> u64 {
    get(store, "/api/v1/tracks?limit=1").await["numberMatched"]
        .as_u64()
        .expect("count")
}

async fn cells_of(store: &DynStore, id: i64) -> BTreeSet<String> {
    get(store, &format!("/api/v1/tracks/{id}/cells")).await["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter_map(|c| c["cell"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_gpx_upload_is_stored_once_with_its_cells() {
    let store = store().await;
    let (status, _, body) = call(
        &store,
        "POST",
        "/api/v1/tracks",
        "application/gpx+xml",
        track_file(WALK),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let t = &body["tracks"][0];
    let id = t["id"].as_i64().expect("id");
    assert_eq!(t["created"], true);
    assert_eq!(t["officer"], "officer01");
    let report = &t["report"];
    assert!(report["received"].as_u64().expect("received") > 500);
    assert_eq!(
        report["kept"].as_u64().expect("kept")
            + report["gps_jumps"].as_u64().expect("jumps")
            + report["duplicates"].as_u64().expect("dups")
            + report["invalid_coordinates"].as_u64().expect("inv")
            + report["outside_area"].as_u64().expect("out")
            + report["out_of_order"].as_u64().expect("ooo")
            + report["untimed"].as_u64().expect("untimed"),
        report["received"].as_u64().expect("received"),
        "every point is accounted for: {report}"
    );
    assert!(t["cells"].as_u64().expect("cells") > 20);

    // the same file again is recognised and answered with the existing id
    let (status, _, again) = call(
        &store,
        "POST",
        "/api/v1/tracks",
        "application/gpx+xml",
        track_file(WALK),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["tracks"][0]["id"], id);
    assert_eq!(again["tracks"][0]["created"], false);
    assert_eq!(track_count(&store).await, 1);

    let feature = get(&store, &format!("/api/v1/tracks/{id}")).await;
    assert_eq!(feature["geometry"]["type"], "MultiLineString");
    let vertices: usize = feature["geometry"]["coordinates"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l.as_array().map_or(0, Vec::len))
        .sum();
    let times: usize = feature["properties"]["coordTimes"]
        .as_array()
        .expect("times")
        .iter()
        .map(|l| l.as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(vertices, times, "a time per vertex");
    let cells = cells_of(&store, id).await;
    assert_eq!(cells.len() as u64, t["cells"].as_u64().expect("cells"));
    assert!(cells.iter().all(|c| {
        c.parse::<h3o::CellIndex>()
            .is_ok_and(|c| c.resolution() == h3o::Resolution::Ten)
    }));
}

#[tokio::test]
#[expect(
    clippy::many_single_char_names,
    reason = "a, b, c are the three uploads' cell sets"
)]
async fn gcj02_and_wgs84_uploads_of_one_walk_cover_the_same_cells() {
    let store = store().await;
    let (_, _, w) = call(
        &store,
        "POST",
        "/api/v1/tracks",
        "application/gpx+xml",
        track_file(WALK),
    )
    .await;
    let (status, _, g) = call(
        &store,
        "POST",
        "/api/v1/tracks?crs=gcj02",
        "text/csv",
        track_file(WALK_GCJ02),
    )
    .await;
    assert!(status.is_success(), "{g}");
    let a = cells_of(&store, w["tracks"][0]["id"].as_i64().expect("id")).await;
    let b = cells_of(&store, g["tracks"][0]["id"].as_i64().expect("id")).await;
    assert!(!a.is_empty());
    assert_eq!(a, b);
    // read as WGS-84 the GCJ-02 file lies some 500 m off and covers other cells
    let (_, _, off) = call(
        &store,
        "POST",
        "/api/v1/tracks",
        "text/csv",
        track_file(WALK_GCJ02),
    )
    .await;
    let c = cells_of(&store, off["tracks"][0]["id"].as_i64().expect("id")).await;
    assert_ne!(a, c);
}

#[tokio::test]
async fn bad_uploads_are_refused_and_store_nothing() {
    let store = store().await;
    let one_point = "officer,time,lon,lat\nofficer01,2026-11-03T01:00:00Z,121.2277,31.0119\n";
    let no_officer = "time,lon,lat\n2026-11-03T01:00:00Z,121.2277,31.0119\n2026-11-03T01:05:00Z,121.2290,31.0125\n";
    let bad_number = "officer,time,lon,lat\nofficer01,2026-11-03T01:00:00Z,abc,31.0119\n";
    let far_away = "officer,time,lon,lat\nofficer01,2026-11-03T01:00:00Z,116.404,39.915\nofficer01,2026-11-03T01:05:00Z,116.405,39.916\n";
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("/api/v1/tracks", "text/csv", Vec::new(), "file"),
        (
            "/api/v1/tracks",
            "application/octet-stream",
            b"\x00\x01garbage".to_vec(),
            "file",
        ),
        (
            "/api/v1/tracks",
            "application/gpx+xml",
            b"<gpx><trk><trkseg><trkpt lat=\"x\"".to_vec(),
            "file",
        ),
        (
            "/api/v1/tracks",
            "text/csv",
            one_point.as_bytes().to_vec(),
            "track",
        ),
        (
            "/api/v1/tracks",
            "text/csv",
            no_officer.as_bytes().to_vec(),
            "officer",
        ),
        (
            "/api/v1/tracks",
            "text/csv",
            bad_number.as_bytes().to_vec(),
            "file",
        ),
        (
            "/api/v1/tracks",
            "text/csv",
            far_away.as_bytes().to_vec(),
            "track",
        ),
        (
            "/api/v1/tracks?crs=mars",
            "application/gpx+xml",
            track_file(WALK),
            "crs",
        ),
        (
            "/api/v1/tracks?res=13",
            "application/gpx+xml",
            track_file(WALK),
            "res",
        ),
        (
            "/api/v1/tracks?sighting_m=-3",
            "application/gpx+xml",
            track_file(WALK),
            "res",
        ),
        (
            "/api/v1/tracks?mode=plane",
            "application/gpx+xml",
            track_file(WALK),
            "mode",
        ),
        (
            "/api/v1/tracks?columns=when",
            "text/csv",
            no_officer.as_bytes().to_vec(),
            "columns",
        ),
        (
            "/api/v1/tracks?columns=time:gps_time&officer=officer01",
            "text/csv",
            no_officer.as_bytes().to_vec(),
            "file",
        ),
        (
            "/api/v1/tracks?interval_s=0",
            "application/gpx+xml",
            track_file(WALK),
            "interval_s",
        ),
    ];
    for (uri, ct, body, field) in cases {
        let (status, content_type, problem) = call(&store, "POST", uri, ct, body).await;
        assert!(
            status.is_client_error(),
            "{uri} {field}: {status} {problem}"
        );
        assert_eq!(content_type, "application/problem+json", "{problem}");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "expected {field} in {problem}");
    }
    assert_eq!(track_count(&store).await, 0, "nothing was stored");
}

#[tokio::test]
async fn a_live_track_grows_until_closed() {
    let store = store().await;
    let first = "officer,time,lon,lat\nofficer05,2026-11-03T01:00:00Z,121.2200,31.0300\nofficer05,2026-11-03T01:01:00Z,121.2206,31.0302\nofficer05,2026-11-03T01:02:00Z,121.2212,31.0304\n";
    let (status, _, body) = call(
        &store,
        "POST",
        "/api/v1/tracks?open=true",
        "text/csv",
        first.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["tracks"][0]["id"].as_i64().expect("id");
    let before = cells_of(&store, id).await;
    let batch = json!({"points": [
        {"lon": 121.2230, "lat": 31.0310, "time": "2026-11-03T01:04:00Z"},
        {"lon": 121.2260, "lat": 31.0320, "time": "2026-11-03T01:08:00Z"},
    ]});
    let (status, _, body) = call(
        &store,
        "POST",
        &format!("/api/v1/tracks/{id}/points"),
        "application/json",
        batch.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["points"], 5);
    let after = cells_of(&store, id).await;
    assert!(after.is_superset(&before) && after.len() > before.len());
    let last =
        json!({"points": [{"lon": 121.2270, "lat": 31.0324, "time": "2026-11-03T01:10:00Z"}]});
    let (status, _, _) = call(
        &store,
        "POST",
        &format!("/api/v1/tracks/{id}/points?close=true"),
        "application/json",
        last.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, ct, _) = call(
        &store,
        "POST",
        &format!("/api/v1/tracks/{id}/points"),
        "application/json",
        last.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(ct, "application/problem+json");
    let (status, _, _) = call(
        &store,
        "POST",
        "/api/v1/tracks/999999/points",
        "application/json",
        last.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn coverage_reflects_the_uploaded_patrols() {
    let store = store().await;
    let (_, _, w) = call(
        &store,
        "POST",
        "/api/v1/tracks",
        "application/gpx+xml",
        track_file(WALK),
    )
    .await;
    let id = w["tracks"][0]["id"].as_i64().expect("id");
    let walked = cells_of(&store, id).await;

    let window = "from=2026-10-27&to=2026-11-03";
    let all = get(&store, &format!("/api/v1/coverage?{window}")).await;
    let features = all["features"].as_array().expect("cells");
    assert!(features.len() > 50_000, "the whole district at res 10");
    let patrolled: BTreeSet<String> = features
        .iter()
        .filter(|f| f["properties"]["patrolled"] == true)
        .filter_map(|f| f["properties"]["cell"].as_str().map(str::to_owned))
        .collect();
    assert!(!patrolled.is_empty());
    assert!(
        patrolled.is_subset(&walked),
        "only walked cells are patrolled"
    );
    for f in features
        .iter()
        .filter(|f| f["properties"]["patrolled"] == true)
    {
        assert_eq!(f["properties"]["visits"], 1);
        assert!(
            f["properties"]["last_patrolled"]
                .as_str()
                .is_some_and(|t| t.starts_with("2026-10-28"))
        );
        assert_eq!(f["geometry"]["type"], "Polygon");
    }
    // a day later nothing is overdue yet; a month later every cell is
    let soon = get(&store, "/api/v1/coverage?from=2026-10-27&to=2026-10-29").await;
    assert!(
        soon["features"]
            .as_array()
            .expect("cells")
            .iter()
            .any(|f| f["properties"]["overdue"] == false)
    );
    let late = get(
        &store,
        "/api/v1/coverage?from=2026-11-20&to=2026-12-20&res=8",
    )
    .await;
    assert!(
        late["features"]
            .as_array()
            .expect("cells")
            .iter()
            .all(|f| f["properties"]["overdue"] == true && f["properties"]["patrolled"] == false)
    );

    let summary = get(
        &store,
        &format!("/api/v1/coverage/summary?level=town&{window}"),
    )
    .await;
    let areas = summary["areas"].as_array().expect("areas");
    assert_eq!(areas.len(), 18);
    let total: u64 = areas
        .iter()
        .map(|a| a["patrolled_cells"].as_u64().expect("n"))
        .sum();
    assert_eq!(usize::try_from(total).expect("fits"), patrolled.len());

    let blind = get(
        &store,
        &format!("/api/v1/blindspots/cells?{window}&limit=50"),
    )
    .await;
    let ranked = blind["features"].as_array().expect("ranked");
    assert_eq!(ranked.len(), 50);
    let risks: Vec<f64> = ranked
        .iter()
        .map(|f| f["properties"]["risk"].as_f64().expect("risk"))
        .collect();
    assert!(risks.windows(2).all(|w| w[0] >= w[1]), "ranked by risk");
    assert!(ranked.iter().all(|f| {
        f["properties"]["reasons"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    }));
    // a blind cell was never patrolled in the window, or is overdue (a
    // commercial district's 3-day interval has passed since the walk)
    for f in ranked {
        let p = &f["properties"];
        if patrolled.contains(p["cell"].as_str().unwrap_or("")) {
            assert_eq!(p["overdue"], true, "{p}");
            assert!(
                p["reasons"][0]["text"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("last patrolled")),
                "{p}"
            );
        }
    }
}

#[tokio::test]
async fn bad_coverage_questions_are_named() {
    let store = store().await;
    for (uri, status, field) in [
        (
            "/api/v1/coverage?scope=grid:abc",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("scope"),
        ),
        (
            "/api/v1/coverage?scope=planet",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("scope"),
        ),
        (
            "/api/v1/coverage?res=11",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("res"),
        ),
        (
            "/api/v1/coverage?from=2026-11-10&to=2026-11-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("from"),
        ),
        (
            "/api/v1/coverage?to=yesterday",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("to"),
        ),
        (
            "/api/v1/coverage/summary?level=street",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("level"),
        ),
        (
            "/api/v1/coverage?scope=grid:999999",
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        let (got, ct, body) = call(&store, "GET", uri, "application/json", Vec::new()).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert_eq!(ct, "application/problem+json");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["field"], field, "{uri}: {body}");
        }
    }
}
