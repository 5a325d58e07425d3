//! Track uploads end to end through the pure ingest code: the real Songjiang
//! fixtures of `tests/data/tracks/` in every format, one test per cleaning
//! counter and per parse error, and no-panic properties on arbitrary and
//! mutated input.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use gridpatrol::ingest::track::{
    Area, CleanParams, CleanedTrack, ParsedTrack, RawPoint, RejectReason, TrackFormat,
    TrackParseError, clean, parse, parse_csv, parse_geojson, parse_gpx, parse_upload,
};
use gridpatrol::spatial::{Bbox, Crs};

/// The cleaner as the demo district uses it: Songjiang's box, lon
/// 121.0–121.45 and lat 30.90–31.20, with 2 km around it (the core knows no
/// place of its own; the service passes the district from the store).
fn demo_params() -> CleanParams {
    let songjiang = Bbox::new(121.0, 30.90, 121.45, 31.20).unwrap();
    CleanParams::new(Some(Area::from_bbox(songjiang, 2000.0).unwrap()))
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

// ---------------------------------------------------------------- cleaning

#[test]
fn invalid_coordinates_are_counted() {
    let mut points = walk(40);
    points[2].lon = f64::NAN;
    points[4] = RawPoint {
        lon: 0.0,
        lat: 0.0,
        ..points[4]
    };
    points[6].lat = 95.0;
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned.report.invalid_coordinates, 3);
    assert_eq!(cleaned.report.kept, 37);

    // An empty CSV cell is an invalid coordinate, not a parse error.
    let tracks = parse_csv(
        b"time,lon,lat\n1608001200,121.21,31.05\n1608001202,,31.05\n1608001260,121.21,31.051\n",
    )
    .unwrap();
    let params = demo_params().with_min_length_m(0.0).unwrap();
    let cleaned = clean(&tracks[0], Crs::Wgs84, &params).unwrap();
    assert_eq!(cleaned.report.invalid_coordinates, 1);
}

#[test]
fn points_outside_the_area_are_counted() {
    let mut points = walk(40);
    // Beijing, and a point 5 km east of Songjiang's box.
    points[3] = RawPoint {
        lon: 116.4,
        lat: 39.9,
        ..points[3]
    };
    points[5] = RawPoint {
        lon: 121.50,
        lat: 31.05,
        ..points[5]
    };
    let cleaned = clean(&one_segment(points.clone()), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned.report.outside_area, 2);
    assert_eq!(cleaned.report.gps_jumps, 0);

    // A 6 km margin takes the second point back in (and then it is a jump).
    let area = Area::from_bbox(Bbox::new(121.0, 30.9, 121.45, 31.2).unwrap(), 6000.0).unwrap();
    let params = demo_params().with_area(Some(area));
    let cleaned = clean(&one_segment(points.clone()), Crs::Wgs84, &params).unwrap();
    assert_eq!(cleaned.report.outside_area, 1);

    // A district outline: a square of about 1 km around the walk.
    let square = geo::MultiPolygon::new(vec![geo::Polygon::new(
        geo::LineString::from(vec![
            (121.205, 31.045),
            (121.215, 31.045),
            (121.215, 31.055),
            (121.205, 31.055),
            (121.205, 31.045),
        ]),
        vec![],
    )]);
    let area = Area::from_outline(square.clone(), 100.0).unwrap();
    let params = demo_params().with_area(Some(area));
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &params).unwrap();
    assert_eq!(cleaned.report.outside_area, 2);
    let area = Area::from_outline(square, 0.0).unwrap();
    // 121.21, 31.0556 is about 60 m north of the square's edge.
    let north = gridpatrol::spatial::LonLat::new(121.21, 31.0556).unwrap();
    assert!(!area.contains(north));
    assert!(
        Area::from_outline(area_square_with(vec![]), 100.0)
            .unwrap()
            .contains(north)
    );
}

fn area_square_with(interiors: Vec<geo::LineString<f64>>) -> geo::MultiPolygon<f64> {
    geo::MultiPolygon::new(vec![geo::Polygon::new(
        geo::LineString::from(vec![
            (121.205, 31.045),
            (121.215, 31.045),
            (121.215, 31.055),
            (121.205, 31.055),
            (121.205, 31.045),
        ]),
        interiors,
    )])
}

#[test]
fn bad_outlines_are_refused() {
    assert!(Area::from_outline(geo::MultiPolygon::new(vec![]), 0.0).is_err());
    let open = geo::LineString::from(vec![(121.2, 31.0), (121.3, 31.0)]);
    assert!(Area::from_outline(area_square_with(vec![open]), 0.0).is_err());
    assert!(Area::from_outline(area_square_with(vec![]), -1.0).is_err());
    assert!(Area::from_outline(area_square_with(vec![]), f64::NAN).is_err());
}

#[test]
fn a_few_out_of_order_points_are_sorted_back() {
    let mut points = walk(20);
    points.swap(5, 6);
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned.report.out_of_order, 1);
    assert_eq!(cleaned.report.kept, 20);
    assert!(
        cleaned.segments[0]
            .windows(2)
            .all(|w| w[0].t_ms < w[1].t_ms)
    );
}

#[test]
fn many_out_of_order_points_are_dropped() {
    let mut points = walk(20);
    // A clock that jumped back an hour for four points.
    for p in &mut points[8..12] {
        p.time = p.time.map(|t| t - TimeDelta::hours(1));
    }
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned.report.out_of_order, 4);
    assert_eq!(cleaned.report.kept, 16);
}

#[test]
fn a_gps_jump_drops_the_spike_only() {
    let mut points = walk(30);
    // 2 km east for one fix.
    points[10].lon += 0.021;
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned.report.gps_jumps, 1);
    assert_eq!(cleaned.report.kept, 29);
    assert_eq!(cleaned_sizes(&cleaned), vec![29]);
}

#[test]
fn the_speed_limit_is_configurable() {
    // Every step of a 2.5 m/s walk is a jump under a 2 m/s limit.
    let walk = one_segment(walk(40));
    assert!(clean(&walk, Crs::Wgs84, &demo_params()).is_ok());
    let params = demo_params().with_max_speed_mps(2.0).unwrap();
    let rejected = clean(&walk, Crs::Wgs84, &params).unwrap_err();
    assert_eq!(rejected.report.gps_jumps, 39);
    assert_eq!(
        rejected.reason,
        RejectReason::TooFewPoints {
            kept: 1,
            min_points: 2
        }
    );
    assert!(demo_params().with_max_speed_mps(0.0).is_err());
    assert!(demo_params().with_max_speed_mps(f64::INFINITY).is_err());
}

#[test]
fn duplicates_are_counted() {
    let mut points = walk(40);
    // The same fix twice, and a second position at the same time.
    points.insert(3, points[3]);
    points.insert(
        6,
        RawPoint {
            lon: 121.2101,
            ..points[6]
        },
    );
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned.report.duplicates, 2);
    assert_eq!(cleaned.report.kept, 40);
}

#[test]
fn untimed_track_gets_times_from_the_fallback_start() {
    let tracks = parse_gpx(&fixture("songjiang_untimed_gpx10.gpx")).unwrap();
    let start = utc("2020-12-15T09:00:00+08:00");
    let params = demo_params().with_fallback_start(Some(start));
    let cleaned = clean(&tracks[0], Crs::Wgs84, &params).unwrap();
    let report = cleaned.report;
    assert_eq!(report.untimed, report.kept);
    assert!(report.kept > 0);
    // The receiver stood still for some fixes: same position, no time.
    assert!(report.duplicates > 0, "{report:?}");
    assert_eq!(report.kept + report.duplicates, report.received);
    let times: Vec<i64> = cleaned.points().map(|p| p.t_ms).collect();
    assert_eq!(times[0], start.timestamp_millis());
    assert!(times.windows(2).all(|w| w[1] - w[0] == 1000));
}

#[test]
fn untimed_points_of_a_timed_track_are_dropped() {
    let mut points = walk(40);
    points[4].time = None;
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned.report.untimed, 1);
    assert_eq!(cleaned.report.kept, 39);
}

#[test]
fn a_long_gap_splits_the_segment() {
    let mut points = walk(20);
    for p in &mut points[10..] {
        p.time = p.time.map(|t| t + TimeDelta::minutes(30));
    }
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &demo_params()).unwrap();
    assert_eq!(cleaned_sizes(&cleaned), vec![10, 10]);
    assert_eq!(cleaned.report.kept, 20);
}

#[test]
fn rejections_carry_the_report() {
    let params = demo_params();

    let mut points = walk(3);
    points[1].lon = f64::NAN;
    points[2].lat = 95.0;
    let rejected = clean(&one_segment(points), Crs::Wgs84, &params).unwrap_err();
    assert_eq!(
        rejected.reason,
        RejectReason::TooFewPoints {
            kept: 1,
            min_points: 2
        }
    );
    assert_eq!(rejected.report.invalid_coordinates, 2);
    assert!(
        rejected.to_string().contains("only 1 usable points"),
        "{rejected}"
    );

    // Three fixes over 4 s and 10 m.
    let rejected = clean(&one_segment(walk(3)), Crs::Wgs84, &params).unwrap_err();
    assert!(
        matches!(
            rejected.reason,
            RejectReason::TooSmall { duration_s: 4, .. }
        ),
        "{rejected}"
    );
    assert_eq!(rejected.report.kept, 3);
    let json = serde_json::to_value(&rejected).unwrap();
    assert_eq!(json["report"]["kept"], 3);
    assert_eq!(json["reason"]["kind"], "too_small");

    let tracks = parse_gpx(&fixture("songjiang_untimed_gpx10.gpx")).unwrap();
    let rejected = clean(&tracks[0], Crs::Wgs84, &params).unwrap_err();
    assert_eq!(rejected.reason, RejectReason::NoTimes);
    assert_eq!(rejected.report.untimed, rejected.report.kept);

    let untimed = one_segment(
        walk(3)
            .into_iter()
            .map(|p| RawPoint { time: None, ..p })
            .collect(),
    );
    let params = params.with_fallback_start(Some(utc("2020-12-15T00:00:00Z")));
    let rejected = clean(&untimed, Crs::Wgs84, &params).unwrap_err();
    assert!(
        matches!(rejected.reason, RejectReason::TooShort { .. }),
        "{rejected}"
    );
}

#[test]
fn the_report_serialises_in_snake_case() {
    let cleaned = clean(&one_segment(walk(40)), Crs::Wgs84, &demo_params()).unwrap();
    let json = serde_json::to_value(cleaned.report).unwrap();
    for key in [
        "received",
        "kept",
        "invalid_coordinates",
        "outside_area",
        "out_of_order",
        "gps_jumps",
        "duplicates",
        "untimed",
    ] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
}

#[test]
fn fingerprint_ignores_whitespace_and_number_formatting() {
    let bytes = fixture("songjiang_two_segments_gpx11.gpx");
    let text = String::from_utf8(bytes).unwrap();
    let squeezed: String = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let params = demo_params();
    let a = clean(&parse_gpx(text.as_bytes()).unwrap()[0], Crs::Wgs84, &params).unwrap();
    let b = clean(
        &parse_gpx(squeezed.as_bytes()).unwrap()[0],
        Crs::Wgs84,
        &params,
    )
    .unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert!(
        a.fingerprint()
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );

    let mut moved = parse_gpx(text.as_bytes()).unwrap().remove(0);
    moved.segments[0][5].lat += 0.0001;
    let c = clean(&moved, Crs::Wgs84, &params).unwrap();
    assert_ne!(a.fingerprint(), c.fingerprint());
}

// ---------------------------------------------------------------- parse errors

#[test]
fn empty_files_are_refused_in_every_format() {
    for format in [TrackFormat::Gpx, TrackFormat::GeoJson, TrackFormat::Csv] {
        let text = err_text(parse(b" \n\t", format));
        assert!(text.contains("is empty"), "{text}");
    }
}

#[test]
fn gpx_malformed_xml_names_the_line() {
    let doc = "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n\
               <trkpt lat=\"31.05\" lon=\"121.21\"></trkpt>\n<trkpt lat=\"31.06\" lon=\"121.21\">\n</trkseg></trk></gpx>\n";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 6:") && text.contains("malformed"),
        "{text}"
    );
}

#[test]
fn gpx_bad_coordinate_names_the_line() {
    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk>\n<trkseg>\n\
               <trkpt lat=\"31.05\" lon=\"121.21\"/>\n<trkpt lat=\"abc\" lon=\"121.21\"/>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert_eq!(
        text,
        "GPX near line 5: a coordinate or number is not a number"
    );

    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lat=\"95\" lon=\"121.21\"/>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 3:") && text.contains("latitude 95"),
        "{text}"
    );

    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lon=\"121.21\"/>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 3:") && text.contains("no latitude attribute"),
        "{text}"
    );
}

#[test]
fn gpx_bad_time_and_unknown_element_name_the_line() {
    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lat=\"31\" lon=\"121.2\">\n\
               <time>yesterday</time></trkpt>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 4:") && text.contains("<time>"),
        "{text}"
    );

    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lat=\"31\" lon=\"121.2\">\n\
               <officer>王磊</officer></trkpt>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 4:") && text.contains("<officer>"),
        "{text}"
    );
}

#[test]
fn gpx_without_tracks_has_no_points() {
    let doc = "<gpx version=\"1.1\" creator=\"t\"><wpt lat=\"31\" lon=\"121.2\"/></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert_eq!(text, "the GPX file holds no track points");
}

#[test]
fn geojson_syntax_error_names_line_and_column() {
    let doc =
        "{\"type\": \"FeatureCollection\",\n \"features\": [\n  {\"type\": \"Feature\",, }\n]}";
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(text.starts_with("GeoJSON line 3, column "), "{text}");
    assert!(!text.contains("at line"), "{text}");
}

#[test]
fn geojson_times_that_do_not_match_name_the_feature_and_field() {
    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"times":["2020-12-15T10:00:00Z"]},
       "geometry":{"type":"LineString","coordinates":[[121.21,31.05],[121.21,31.06]]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON features[0].properties.times: has 1 times but the geometry has 2 vertices"
    );

    let doc = r#"{"type":"Feature","properties":{"coordTimes":[[1608001200],[1608001201,1608001202]]},
       "geometry":{"type":"MultiLineString","coordinates":[[[121.21,31.05]],[[121.21,31.06]]]}}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON feature.properties.coordTimes[1]: has 2 times but part 1 has 1 vertices"
    );

    let doc = r#"{"type":"Feature","properties":{"times":"yesterday"},
       "geometry":{"type":"LineString","coordinates":[[121.21,31.05],[121.21,31.06]]}}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON feature.properties.times: must be an array of times"
    );
}

#[test]
fn geojson_bad_time_names_the_vertex() {
    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"coordTimes":["2020-12-15T10:00:00Z","noon"]},
       "geometry":{"type":"LineString","coordinates":[[121.21,31.05],[121.21,31.06]]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(
        text.starts_with("GeoJSON features[0].properties.coordTimes[1]: 'noon' is not a time"),
        "{text}"
    );

    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"time":"2020-12-15T10:00:00Z"},"geometry":{"type":"Point","coordinates":[121.21,31.05]}},
      {"type":"Feature","properties":{"time":true},"geometry":{"type":"Point","coordinates":[121.21,31.06]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(
        text.starts_with("GeoJSON features[1].properties.time: 'true' is not a time"),
        "{text}"
    );
}

#[test]
fn geojson_geometries_that_are_not_tracks_are_named() {
    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[121.2,31],[121.3,31],[121.3,31.1],[121.2,31]]]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(
        text.starts_with("GeoJSON features[0].geometry: a Polygon is not a track"),
        "{text}"
    );

    let doc = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON features[0].geometry: the feature has no geometry"
    );

    let doc = r#"{"type":"FeatureCollection","features":[]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(text, "the GeoJSON file holds no track points");
}

#[test]
fn non_utf8_text_is_refused_with_the_offset() {
    // "经度" in GBK.
    let bytes = b"time,lon,lat\n\xbe\xad\xb6\xc8,1,2\n";
    let text = err_text(parse_csv(bytes));
    assert!(
        text.contains("not UTF-8") && text.contains("byte 13"),
        "{text}"
    );
    let text = err_text(parse_geojson(b"{\"type\":\"\xff\"}"));
    assert!(
        text.contains("not UTF-8") && text.contains("byte 9"),
        "{text}"
    );
}

#[test]
fn csv_header_without_coordinates_names_the_column() {
    let text = err_text(parse_csv(
        "officer,time,lat\n王磊,2020-12-15 10:00:00,31.05\n".as_bytes(),
    ));
    assert!(
        text.starts_with("line 1: no longitude column (expected one of lon, lng"),
        "{text}"
    );
    assert!(text.contains("the header has officer, time, lat"), "{text}");

    let text = err_text(parse_csv("经度,lng,纬度\n1,2,3\n".as_bytes()));
    assert_eq!(
        text,
        "line 1: columns '经度' and 'lng' both name the longitude"
    );
}

#[test]
fn csv_bad_number_names_line_and_column() {
    let text = "巡查员,定位时间,经度,纬度\n王磊,2020-12-15 10:00:00,121.21,31.05\n王磊,2020-12-15 10:00:02,abc,31.05\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert_eq!(text, "line 3: column 经度: 'abc' is not a number");

    // Blank lines and CRLF endings do not shift the count.
    let text = "经度,纬度\r\n121.21,31.05\r\n\r\n\r\n121.21,x\r\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert_eq!(text, "line 5: column 纬度: 'x' is not a number");
}

#[test]
fn csv_bad_time_names_line_and_column() {
    let text = "officer,time,lon,lat\n王磊,2020-13-45 10:00:00,121.21,31.05\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert!(
        text.starts_with("line 2: column time: '2020-13-45 10:00:00' is not a time"),
        "{text}"
    );
}

#[test]
fn csv_ragged_row_names_the_line() {
    let text = "officer,time,lon,lat\n王磊,2020-12-15 10:00:00,121.21,31.05\n\n王磊,121.21,31.05\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert_eq!(text, "line 4: has 3 fields but the header has 4");
}

#[test]
fn csv_with_only_a_header_has_no_points() {
    let text = err_text(parse_csv(b"lon,lat\n"));
    assert_eq!(text, "the CSV file holds no track points");
}

// ---------------------------------------------------------------- no panics

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    fn all_fixtures() -> Vec<Vec<u8>> {
        [
            "songjiang_two_segments_gpx11.gpx",
            "songjiang_untimed_gpx10.gpx",
            "songjiang_coordtimes.geojson",
            "songjiang_timed_points.geojson",
            "songjiang_patrol_en.csv",
            "songjiang_patrol_zh.csv",
        ]
        .iter()
        .map(|n| fixture(n))
        .collect()
    }

    #[derive(Debug, Clone)]
    enum Mutation {
        Flip(usize, u8),
        Delete(usize, usize),
        Insert(usize, Vec<u8>),
        Truncate(usize),
        Duplicate(usize, usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        let token = prop::sample::select(vec![
            b"<".to_vec(),
            b">".to_vec(),
            b"\"".to_vec(),
            b",".to_vec(),
            b"\n".to_vec(),
            b"{".to_vec(),
            b"]".to_vec(),
            b"-1e309".to_vec(),
            b"NaN".to_vec(),
            b"</trkseg>".to_vec(),
            b"<trkseg>".to_vec(),
            b"<time>".to_vec(),
            "经度".as_bytes().to_vec(),
            b"\xff\xfe".to_vec(),
            b"null".to_vec(),
            b"[[]]".to_vec(),
            b"99999999999999999999".to_vec(),
        ]);
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
            (any::<usize>(), 0..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
            (any::<usize>(), token).prop_map(|(i, t)| Mutation::Insert(i, t)),
            any::<usize>().prop_map(Mutation::Truncate),
            (any::<usize>(), 0..200usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        ]
    }

    fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x = *b;
                }
            }
            Mutation::Delete(i, n) => {
                let start = (i % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Insert(i, t) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, t.iter().copied());
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Duplicate(i, n) => {
                let start = (i % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
    }

    /// Parses in every format and cleans whatever parses; must not panic.
    fn exercise(bytes: &[u8]) {
        let _ = TrackFormat::sniff(bytes);
        let _ = parse_upload(bytes, None, None);
        for format in [TrackFormat::Gpx, TrackFormat::GeoJson, TrackFormat::Csv] {
            if let Ok(tracks) = parse(bytes, format) {
                for t in &tracks {
                    check_clean(t);
                }
            }
        }
    }

    fn check_clean(track: &ParsedTrack) {
        let params = demo_params()
            .with_fallback_start(Some(DateTime::UNIX_EPOCH))
            .with_min_points(0);
        for crs in [Crs::Wgs84, Crs::Gcj02] {
            let report = match clean(track, crs, &params) {
                Ok(cleaned) => {
                    assert_eq!(cleaned.report.kept, cleaned.points().count());
                    for s in &cleaned.segments {
                        assert!(!s.is_empty());
                        assert!(
                            s.windows(2).all(|w| w[0].t_ms < w[1].t_ms),
                            "segment not sorted"
                        );
                    }
                    assert_eq!(cleaned.fingerprint().len(), 64);
                    cleaned.report
                }
                Err(rejected) => rejected.report,
            };
            assert_eq!(report.received, track.point_count());
            assert!(report.kept <= report.received);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            exercise(&bytes);
        }

        #[test]
        fn arbitrary_text(text in "[<>{}\\[\\]\",:;\\n0-9a-z .\\-T+Z经度纬]{0,300}") {
            exercise(text.as_bytes());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn mutated_fixtures(which in 0..6usize, mutations in prop::collection::vec(mutation(), 1..6)) {
            let mut bytes = all_fixtures().swap_remove(which);
            for m in &mutations {
                apply(&mut bytes, m);
            }
            exercise(&bytes);
        }

        #[test]
        fn arbitrary_points_clean_without_panic(
            segments in prop::collection::vec(
                prop::collection::vec(
                    (
                        prop_oneof![Just(f64::NAN), Just(0.0), -200.0..200.0f64, 121.0..121.45f64],
                        prop_oneof![Just(f64::INFINITY), Just(0.0), -100.0..100.0f64, 30.9..31.2f64],
                        prop::option::of(-10_000_000_000_000i64..10_000_000_000_000),
                    ),
                    0..40,
                ),
                0..4,
            )
        ) {
            let track = ParsedTrack {
                segments: segments
                    .into_iter()
                    .map(|s| {
                        s.into_iter()
                            .map(|(lon, lat, t)| RawPoint {
                                lon,
                                lat,
                                time: t.and_then(DateTime::from_timestamp_millis),
                            })
                            .collect()
                    })
                    .collect(),
                ..ParsedTrack::default()
            };
            check_clean(&track);
        }
    }
}
