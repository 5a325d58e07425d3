//! Files as they come, through `POST /api/v1/tracks`: a multi-track GPX is
//! answered track by track (stored id, or refusal with its reason) and
//! `?strict=true` refuses it whole; the officer is read from GPX
//! `<extensions>`; `?columns=` maps an unknown CSV header; `?mode=` bounds
//! a track's speed.

use axum::http::StatusCode;
use serde_json::Value;
use std::fmt::Write as _;

use crate::common::{self, TestApp};
use gridpatrol::service::{self, ImportKind};
use gridpatrol::spatial::Crs;
use gridpatrol::store::DynStore;

async fn store() -> DynStore {
    let s = common::sqlite_store().await;
    let towns = common::fixtures().join("towns.geojson");
    service::import_file(&s, ImportKind::Towns, &towns, Crs::Wgs84, &|_| {})
        .await
        .expect("towns");
    s
}

async fn post(
    store: &DynStore,
    uri: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, Value) {
    let token = common::admin_token(store).await;
    let a = TestApp::new(store)
        .post_bytes(&token, uri, content_type, body.into_bytes())
        .await;
    (a.status, a.json().clone())
}

async fn track_count(store: &DynStore) -> u64 {
    let token = common::admin_token(store).await;
    let a = TestApp::new(store)
        .get_as(&token, "/api/v1/tracks?limit=1")
        .await;
    a.json()["numberMatched"].as_u64().expect("count")
}

/// One `<trk>` of 60 fixes 5 s apart walking north from (lon, lat), with
/// an officer in its extensions when given.
fn trk(name: &str, officer: Option<&str>, lon: f64, lat: f64) -> String {
    let mut s = format!("<trk><name>{name}</name>");
    if let Some(o) = officer {
        write!(s, "<extensions><gp:officer>{o}</gp:officer></extensions>").expect("String");
    }
    s.push_str("<trkseg>");
    for i in 0..60 {
        let lat = lat + f64::from(i) * 0.000_06;
        let secs = 5 * i;
        write!(
            s,
            "<trkpt lat=\"{lat:.6}\" lon=\"{lon}\"><time>2020-12-15T01:{:02}:{:02}Z</time></trkpt>",
            secs / 60,
            secs % 60
        )
        .expect("String");
    }
    s.push_str("</trkseg></trk>");
    s
}

fn gpx(tracks: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"test\" \
         xmlns=\"http://www.topografix.com/GPX/1/1\" xmlns:gp=\"urn:gridpatrol\">\
         <metadata><author><name>巡查员甲</name></author></metadata>{}</gpx>",
        tracks.concat()
    )
}

#[tokio::test]
async fn a_multi_track_gpx_is_answered_track_by_track() {
    let store = store().await;
    let file = gpx(&[
        trk("广富林", Some("王伟"), 121.21, 31.05),
        trk("北京", None, 116.40, 39.90),
        trk("方松", None, 121.22, 31.04),
    ]);
    // strict: the Beijing track refuses the file, nothing stored
    let (status, problem) = post(
        &store,
        "/api/v1/tracks?strict=true",
        "application/gpx+xml",
        file.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("track 2"), "{problem}");
    assert_eq!(track_count(&store).await, 0);

    let (status, body) = post(&store, "/api/v1/tracks", "application/gpx+xml", file).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stored = body["tracks"].as_array().expect("tracks");
    assert_eq!(stored.len(), 2, "{body}");
    // the officer of the first from its extensions, the third the author
    assert_eq!(stored[0]["officer"], "王伟");
    assert_eq!(stored[1]["officer"], "巡查员甲");
    assert!(stored.iter().all(|t| t["id"].as_i64().is_some()));
    let refused = body["refused"].as_array().expect("refused");
    assert_eq!(refused.len(), 1, "{body}");
    assert!(
        refused[0]["track"]
            .as_str()
            .expect("label")
            .starts_with("track 2"),
        "{body}"
    );
    assert!(
        refused[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("usable points"),
        "{body}"
    );
    assert_eq!(track_count(&store).await, 2);
}

#[tokio::test]
async fn columns_and_mode_read_a_file_as_it_comes() {
    let store = store().await;
    let mut csv = String::from("car,gps_time,x_wgs,y_wgs\n");
    // a car at 25 m/s, 2 s fixes
    for i in 0..120 {
        let lon = 121.20 + f64::from(i) * 50.0 / 95_500.0;
        writeln!(
            csv,
            "沪A12345,{},{lon:.6},31.03",
            1_608_001_200_000_i64 + 2000 * i64::from(i)
        )
        .expect("String");
    }
    let (status, problem) = post(&store, "/api/v1/tracks", "text/csv", csv.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    let uri = "/api/v1/tracks?columns=time:gps_time,lon:x_wgs,lat:y_wgs,officer:car&mode=vehicle";
    let (status, body) = post(&store, uri, "text/csv", csv.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let t = &body["tracks"][0];
    assert_eq!(t["officer"], "沪A12345");
    assert_eq!(t["report"]["kept"], 120, "{body}");
    assert_eq!(t["report"]["gps_jumps"], 0, "{body}");

    // on foot the same fixes are impossible
    let uri = "/api/v1/tracks?columns=time:gps_time,lon:x_wgs,lat:y_wgs,officer:car&mode=foot";
    let (status, body) = post(&store, uri, "text/csv", csv).await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY
            || body["tracks"][0]["report"]["gps_jumps"].as_u64() > Some(50),
        "{status} {body}"
    );
}
