//! Cleaning an uploaded track: one test per counter of the report
//! (invalid, outside, out of order, GPS jumps, duplicates, untimed), gaps,
//! rejections, the report's serialisation and the upload fingerprint.

use super::*;

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
    let area = Extent::from_bbox(Bbox::new(121.0, 30.9, 121.45, 31.2).unwrap(), 6000.0).unwrap();
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
    let area = Extent::from_outline(square.clone(), 100.0).unwrap();
    let params = demo_params().with_area(Some(area));
    let cleaned = clean(&one_segment(points), Crs::Wgs84, &params).unwrap();
    assert_eq!(cleaned.report.outside_area, 2);
    let area = Extent::from_outline(square, 0.0).unwrap();
    // 121.21, 31.0556 is about 60 m north of the square's edge.
    let north = gridpatrol::spatial::LonLat::new(121.21, 31.0556).unwrap();
    assert!(!area.contains(north));
    assert!(
        Extent::from_outline(area_square_with(vec![]), 100.0)
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
    assert!(Extent::from_outline(geo::MultiPolygon::new(vec![]), 0.0).is_err());
    let open = geo::LineString::from(vec![(121.2, 31.0), (121.3, 31.0)]);
    assert!(Extent::from_outline(area_square_with(vec![open]), 0.0).is_err());
    assert!(Extent::from_outline(area_square_with(vec![]), -1.0).is_err());
    assert!(Extent::from_outline(area_square_with(vec![]), f64::NAN).is_err());
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
