//! Track uploads end to end through the pure ingest code: the real Songjiang
//! fixtures of `tests/data/tracks/` in every format, one test per cleaning
//! counter and per parse error, and no-panic properties on arbitrary and
//! mutated input.
//!
//! This module reads every format; `cleaning` has one test per cleaning
//! counter, `errors` one per parse error, `no_panic` the properties.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod batch_cli;
mod cleaning;
mod errors;
mod no_panic;

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use gridpatrol::ingest::track::{
    CleanParams, CleanedTrack, Extent, ParsedTrack, RawPoint, RejectReason, TrackFormat,
    TrackParseError, clean, parse, parse_csv, parse_geojson, parse_gpx, parse_upload,
};
use gridpatrol::spatial::{Bbox, Crs};

/// The cleaner as the demo district uses it: Songjiang's box, lon
/// 121.0–121.45 and lat 30.90–31.20, with 2 km around it (the core knows no
/// place of its own; the service passes the district from the store).
fn demo_params() -> CleanParams {
    let songjiang = Bbox::new(121.0, 30.90, 121.45, 31.20).unwrap();
    CleanParams::new(Some(Extent::from_bbox(songjiang, 2000.0).unwrap()))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tracks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn err_text<T: std::fmt::Debug>(r: Result<T, TrackParseError>) -> String {
    r.unwrap_err().to_string()
}

fn sizes(track: &ParsedTrack) -> Vec<usize> {
    track.segments.iter().map(Vec::len).collect()
}

fn cleaned_sizes(track: &CleanedTrack) -> Vec<usize> {
    track.segments.iter().map(Vec::len).collect()
}

/// A one-segment timed track at Songjiang University Town, one point every
/// 2 s moving 5 m north each time (2.5 m/s).
fn walk(n: usize) -> Vec<RawPoint> {
    let start = utc("2020-12-15T02:00:00Z");
    (0..n)
        .map(|i| {
            let i = i32::try_from(i).unwrap();
            RawPoint {
                lon: 121.21,
                lat: 31.05 + f64::from(i) * 0.000_045,
                time: Some(start + TimeDelta::seconds(2 * i64::from(i))),
            }
        })
        .collect()
}

fn one_segment(points: Vec<RawPoint>) -> ParsedTrack {
    ParsedTrack {
        segments: vec![points],
        ..ParsedTrack::default()
    }
}

// ---------------------------------------------------------------- formats

#[test]
fn format_from_content_type_extension_and_content() {
    assert_eq!(
        TrackFormat::from_content_type("application/gpx+xml"),
        Some(TrackFormat::Gpx)
    );
    assert_eq!(
        TrackFormat::from_content_type("application/geo+json; charset=utf-8"),
        Some(TrackFormat::GeoJson)
    );
    assert_eq!(
        TrackFormat::from_content_type("application/json"),
        Some(TrackFormat::GeoJson)
    );
    assert_eq!(
        TrackFormat::from_content_type("Text/CSV"),
        Some(TrackFormat::Csv)
    );
    assert_eq!(
        TrackFormat::from_content_type("application/octet-stream"),
        None
    );
    assert_eq!(
        TrackFormat::from_extension("巡查.GPX"),
        Some(TrackFormat::Gpx)
    );
    assert_eq!(
        TrackFormat::from_extension("a.geojson"),
        Some(TrackFormat::GeoJson)
    );
    assert_eq!(TrackFormat::from_extension("csv"), Some(TrackFormat::Csv));
    assert_eq!(TrackFormat::from_extension("a.kml"), None);
    assert_eq!(
        "geojson".parse::<TrackFormat>().ok(),
        Some(TrackFormat::GeoJson)
    );

    for (name, format) in [
        ("songjiang_two_segments_gpx11.gpx", TrackFormat::Gpx),
        ("songjiang_untimed_gpx10.gpx", TrackFormat::Gpx),
        ("songjiang_coordtimes.geojson", TrackFormat::GeoJson),
        ("songjiang_timed_points.geojson", TrackFormat::GeoJson),
        ("songjiang_patrol_en.csv", TrackFormat::Csv),
        ("songjiang_patrol_zh.csv", TrackFormat::Csv),
    ] {
        let bytes = fixture(name);
        assert_eq!(TrackFormat::sniff(&bytes), Some(format), "{name}");
        // A generic content type falls back to the name, then to the content.
        assert_eq!(
            TrackFormat::detect(Some("application/octet-stream"), Some(name), &bytes),
            Some(format)
        );
        assert_eq!(
            TrackFormat::detect(None, Some("upload.bin"), &bytes),
            Some(format)
        );
        let (found, tracks) = parse_upload(&bytes, Some("text/plain"), None).unwrap();
        assert_eq!(found, format);
        assert!(!tracks.is_empty());
    }
}

#[test]
fn unknown_format_says_how_the_file_starts() {
    let text = err_text(parse_upload(b"hello world", None, None));
    assert!(
        text.contains("not GPX, GeoJSON or CSV") && text.contains("hello world"),
        "{text}"
    );
}

// ---------------------------------------------------------------- GPX

#[test]
fn gpx11_keeps_tracks_segments_officer_and_times() {
    let tracks = parse_gpx(&fixture("songjiang_two_segments_gpx11.gpx")).unwrap();
    assert_eq!(tracks.len(), 2);
    let first = &tracks[0];
    assert_eq!(first.name.as_deref(), Some("方松街道 夜间巡查"));
    assert_eq!(first.officer.as_deref(), Some("王磊"), "from <src>");
    assert_eq!(first.device.as_deref(), Some("GPS Logger for Android"));
    assert_eq!(sizes(first), vec![40, 40]);
    let p = first.segments[0][0];
    assert!((p.lon - 121.257_535_726_645_66).abs() < 1e-12);
    assert!((p.lat - 31.160_495_117_617_874).abs() < 1e-12);
    assert_eq!(p.time, Some(utc("2020-12-15T15:27:33Z")));
    assert!(first.points().all(|p| p.time.is_some()));

    let second = &tracks[1];
    assert_eq!(
        second.officer.as_deref(),
        Some("陈静"),
        "from the metadata author"
    );
    assert_eq!(sizes(second), vec![30]);
}

#[test]
fn gpx11_segments_stay_apart_after_cleaning() {
    let tracks = parse_gpx(&fixture("songjiang_two_segments_gpx11.gpx")).unwrap();
    let cleaned = clean(&tracks[0], Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned_sizes(&cleaned), vec![40, 40]);
    assert_eq!(cleaned.report.received, 80);
    assert_eq!(cleaned.report.kept, 80);
    let gap = cleaned.segments[1][0].t_ms - cleaned.segments[0][39].t_ms;
    assert!(gap > 10 * 60 * 1000, "the segments are {gap} ms apart");
}

#[test]
fn gpx10_without_times_with_author_and_route() {
    let tracks = parse_gpx(&fixture("songjiang_untimed_gpx10.gpx")).unwrap();
    assert_eq!(tracks.len(), 2);
    let (trk, rte) = (&tracks[0], &tracks[1]);
    assert_eq!(trk.name.as_deref(), Some("新桥镇 无时间轨迹"));
    assert_eq!(
        trk.officer.as_deref(),
        Some("李娜"),
        "from the GPX 1.0 <author>"
    );
    assert_eq!(sizes(trk), vec![60]);
    assert!(trk.points().all(|p| p.time.is_none()));
    assert_eq!(rte.name.as_deref(), Some("新桥镇 计划路线"));
    assert_eq!(sizes(rte), vec![6]);
}

#[test]
fn gpx_with_a_bom_and_no_namespace_parses() {
    let doc = "\u{feff}<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"t\"><trk><trkseg>\
        <trkpt lat=\"31.05\" lon=\"121.21\"/><trkpt lat=\"31.06\" lon=\"121.21\"/></trkseg></trk></gpx>";
    let tracks = parse_gpx(doc.as_bytes()).unwrap();
    assert_eq!(sizes(&tracks[0]), vec![2]);
}

// ---------------------------------------------------------------- GeoJSON

#[test]
fn geojson_lines_with_coord_times_and_times() {
    let tracks = parse_geojson(&fixture("songjiang_coordtimes.geojson")).unwrap();
    assert_eq!(tracks.len(), 2);
    let line = &tracks[0];
    assert_eq!(line.officer.as_deref(), Some("张伟"));
    assert_eq!(line.device.as_deref(), Some("SJ-PT-083"));
    assert_eq!(line.name.as_deref(), Some("车墩镇 巡查"));
    assert_eq!(sizes(line), vec![40]);
    assert_eq!(line.segments[0][0].time, Some(utc("2020-12-15T02:51:43Z")));

    let multi = &tracks[1];
    assert_eq!(multi.officer.as_deref(), Some("李娜"));
    assert_eq!(sizes(multi), vec![20, 20]);
    // Epoch milliseconds keep their milliseconds.
    assert_eq!(
        multi.segments[0][0].time,
        Some(utc("2020-12-15T08:55:41.862Z"))
    );
    assert!(multi.points().all(|p| p.time.is_some()));
}

#[test]
fn geojson_timed_points_are_grouped_by_officer() {
    let tracks = parse_geojson(&fixture("songjiang_timed_points.geojson")).unwrap();
    assert_eq!(tracks.len(), 2);
    let officers: Vec<_> = tracks.iter().map(|t| t.officer.as_deref()).collect();
    assert_eq!(officers, vec![Some("赵敏"), Some("王磊")]);
    for t in &tracks {
        assert_eq!(sizes(t), vec![30]);
        assert!(t.points().all(|p| p.time.is_some()));
        let cleaned = clean(t, Crs::Wgs84, &demo_params()).unwrap();
        assert_eq!(cleaned.report.kept, 30, "{:?}", cleaned.report);
    }
    // `timestamp` in epoch seconds and `time` with +08:00.
    assert_eq!(
        tracks[0].segments[0][0].time,
        Some(utc("2020-12-15T09:03:51Z"))
    );
    assert_eq!(
        tracks[1].segments[0][0].time,
        Some(utc("2020-12-15T15:56:13Z"))
    );
}

#[test]
fn geojson_points_split_by_track_property() {
    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"officer":"王磊","track":"a","time":"2020-12-15T10:00:00+08:00"},"geometry":{"type":"Point","coordinates":[121.21,31.05]}},
      {"type":"Feature","properties":{"officer":"王磊","track":"b","time":"2020-12-15T11:00:00+08:00"},"geometry":{"type":"Point","coordinates":[121.22,31.05]}},
      {"type":"Feature","properties":{"officer":"王磊","track":"a","time":1608001202},"geometry":{"type":"Point","coordinates":[121.21,31.051]}}
    ]}"#;
    let tracks = parse_geojson(doc.as_bytes()).unwrap();
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].name.as_deref(), Some("a"));
    assert_eq!(sizes(&tracks[0]), vec![2]);
    assert_eq!(sizes(&tracks[1]), vec![1]);
}

#[test]
fn geojson_bare_geometry_is_an_untimed_track() {
    let doc = r#"{"type":"LineString","coordinates":[[121.21,31.05,4.0],[121.21,31.06]]}"#;
    let tracks = parse_geojson(doc.as_bytes()).unwrap();
    assert_eq!(sizes(&tracks[0]), vec![2]);
    assert!(tracks[0].points().all(|p| p.time.is_none()));
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_english_and_chinese_headers_read_the_same_walk() {
    let en = parse_csv(&fixture("songjiang_patrol_en.csv")).unwrap();
    let zh = parse_csv(&fixture("songjiang_patrol_zh.csv")).unwrap();
    assert_eq!(en, zh);
    assert_eq!(en.len(), 2);
    assert_eq!(en[0].officer.as_deref(), Some("张伟"));
    assert_eq!(en[0].device.as_deref(), Some("SJ-PT-083"));
    assert_eq!(en[1].officer.as_deref(), Some("李娜"));
    assert_eq!(sizes(&en[0]), vec![40]);
    assert_eq!(sizes(&en[1]), vec![40]);
    // 2020-12-15 11:08:23 Beijing time.
    assert_eq!(en[0].segments[0][0].time, Some(utc("2020-12-15T03:08:23Z")));

    let params = demo_params();
    let a = clean(&en[0], Crs::Wgs84, &params).unwrap();
    let b = clean(&zh[0], Crs::Wgs84, &params).unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.fingerprint().len(), 64);
}

#[test]
fn csv_gcj02_walk_lands_within_a_metre_of_the_wgs84_walk() {
    let wgs = parse_csv(&fixture("songjiang_patrol_zh.csv")).unwrap();
    let gcj = parse_csv(&fixture("songjiang_patrol_zh_gcj02.csv")).unwrap();
    assert_eq!(wgs.len(), gcj.len());
    let params = demo_params();
    for (w, g) in wgs.iter().zip(&gcj) {
        // Uncorrected, the datums are hundreds of metres apart.
        let raw_offset =
            gridpatrol::spatial::LonLat::new(w.segments[0][0].lon, w.segments[0][0].lat)
                .unwrap()
                .distance_m(
                    gridpatrol::spatial::LonLat::new(g.segments[0][0].lon, g.segments[0][0].lat)
                        .unwrap(),
                );
        assert!(raw_offset > 100.0, "{raw_offset}");
        let w = clean(w, Crs::Wgs84, &params).unwrap();
        let g = clean(g, Crs::Gcj02, &params).unwrap();
        assert_eq!(w.report.kept, g.report.kept);
        for (a, b) in w.points().zip(g.points()) {
            let a_ll = gridpatrol::spatial::LonLat::new(a.lon, a.lat).unwrap();
            let b_ll = gridpatrol::spatial::LonLat::new(b.lon, b.lat).unwrap();
            let d = a_ll.distance_m(b_ll);
            assert!(d < 1.0, "{d} m apart at t={}", a.t_ms);
            assert_eq!(a.t_ms, b.t_ms);
        }
    }
}

#[test]
fn csv_aliases_any_order_epochs_and_track_column() {
    let text = "Y;X;Timestamp;Track;人员\n\
                31.05;121.21;1608001200;a;王磊\n\
                31.051;121.21;1608001202000;a;王磊\n\
                31.06;121.22;1608001300;b;王磊\n";
    let tracks = parse_csv(text.as_bytes()).unwrap();
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].name.as_deref(), Some("a"));
    assert_eq!(tracks[0].officer.as_deref(), Some("王磊"));
    assert_eq!(sizes(&tracks[0]), vec![2]);
    assert_eq!(
        tracks[0].segments[0][1].time,
        Some(utc("2020-12-15T03:00:02Z"))
    );
    assert!((tracks[0].segments[0][0].lon - 121.21).abs() < 1e-12);
}

#[test]
fn csv_without_time_column_is_untimed() {
    let tracks = parse_csv(b"lng,lat\n121.21,31.05\n121.21,31.06\n").unwrap();
    assert_eq!(tracks.len(), 1);
    assert!(tracks[0].officer.is_none());
    assert!(tracks[0].points().all(|p| p.time.is_none()));
}
