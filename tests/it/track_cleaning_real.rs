//! Cleaning fast tracks as they really are: a synthetic car at 25 m/s keeps
//! every fix and the cells of an independent buffered-line test, a one-fix
//! spike is dropped, a tunnel gap is bridged, and the raw AMM vehicle export
//! (`tests/data/tracks/amm_songjiang_vehicles.csv`) imports unedited with
//! at least 95 % of its fixes kept.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use geo::{Distance, Euclidean};
use gridpatrol::coverage::{CoverageParams, cover_track};
use gridpatrol::ingest::track::{
    CleanParams, CleanedTrack, Extent, ParsedTrack, RawPoint, TravelMode, clean, parse_csv,
};
use gridpatrol::spatial::frame::LocalFrame;
use gridpatrol::spatial::{Bbox, Crs, TrackPoint};
use h3o::{CellIndex, LatLng, Resolution};

fn songjiang() -> CleanParams {
    let bbox = Bbox::new(121.0, 30.90, 121.45, 31.20).unwrap();
    CleanParams::new(Some(Extent::from_bbox(bbox, 2000.0).unwrap()))
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2020-12-15T02:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A car at 25 m/s, one fix every 2 s, on a gently winding road heading
/// east from Songjiang's centre.
fn car(n: u32) -> Vec<RawPoint> {
    let frame = LocalFrame::new(121.22, 31.03);
    (0..n)
        .map(|i| {
            let x = f64::from(i) * 50.0;
            let y = 400.0 * (x / 2000.0).sin();
            // Keep the speed at 25 m/s along the curve: the wiggle adds
            // little length, and the x step is shortened to match.
            let c = frame.unproject([x * 0.97, y]);
            RawPoint {
                lon: c.x,
                lat: c.y,
                time: Some(start() + TimeDelta::seconds(2 * i64::from(i))),
            }
        })
        .collect()
}

fn one(points: Vec<RawPoint>) -> ParsedTrack {
    ParsedTrack {
        segments: vec![points],
        ..ParsedTrack::default()
    }
}

fn cells(cleaned: &CleanedTrack, params: &CoverageParams) -> HashSet<CellIndex> {
    cleaned
        .segments
        .iter()
        .flat_map(|s| cover_track(s, params))
        .map(|v| v.cell)
        .collect()
}

/// Every res-10 cell whose hexagon comes within `sighting_m` of the
/// polyline, by brute force: candidate cells around the fixes, each hexagon
/// and the polyline in one local plane, `geo`'s Euclidean distance.
fn oracle(points: &[TrackPoint], sighting_m: f64) -> HashSet<CellIndex> {
    let frame = LocalFrame::new(points[0].lon, points[0].lat);
    let line = geo::LineString::from(
        points
            .iter()
            .map(|p| {
                let [x, y] = frame.xy(p.lon, p.lat);
                (x, y)
            })
            .collect::<Vec<_>>(),
    );
    let mut candidates = HashSet::new();
    for p in points {
        let cell = LatLng::new(p.lat, p.lon).unwrap().to_cell(Resolution::Ten);
        candidates.extend(cell.grid_disk::<Vec<_>>(2));
    }
    candidates
        .into_iter()
        .filter(|cell| {
            let ring: Vec<(f64, f64)> = cell
                .boundary()
                .iter()
                .map(|ll| {
                    let [x, y] = frame.xy(ll.lng(), ll.lat());
                    (x, y)
                })
                .collect();
            let hexagon = geo::Polygon::new(geo::LineString::from(ring), vec![]);
            Euclidean.distance(&hexagon, &line) <= sighting_m
        })
        .collect()
}

fn jaccard(a: &HashSet<CellIndex>, b: &HashSet<CellIndex>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.union(b).count();
    f64::from(u32::try_from(inter).unwrap()) / f64::from(u32::try_from(union).unwrap())
}

#[test]
fn a_car_at_25_mps_keeps_every_fix_and_its_cells() {
    let cleaned = clean(&one(car(300)), Crs::Wgs84, &songjiang()).unwrap();
    assert_eq!(cleaned.report.kept, 300, "{:?}", cleaned.report);
    assert_eq!(cleaned.report.gps_jumps, 0);
    assert_eq!(cleaned.segments.len(), 1);

    let params = CoverageParams::new(Resolution::Ten, 25.0).unwrap();
    let got = cells(&cleaned, &params);
    let want = oracle(&cleaned.segments[0], 25.0);
    let j = jaccard(&got, &want);
    assert!(
        j >= 0.97,
        "Jaccard {j}: {} cells, oracle {}",
        got.len(),
        want.len()
    );
    // The same car under the old 15 m/s limit lost almost everything.
    let strict = songjiang().with_max_speed_mps(15.0).unwrap();
    let old = clean(&one(car(300)), Crs::Wgs84, &strict);
    assert!(old.map_or(true, |c| c.report.kept < 150));
}

#[test]
fn a_300_m_spike_in_a_car_trace_is_dropped() {
    let mut points = car(100);
    let frame = LocalFrame::new(points[40].lon, points[40].lat);
    let off = frame.unproject([0.0, 300.0]);
    points[40].lon = off.x;
    points[40].lat = off.y;
    let cleaned = clean(&one(points), Crs::Wgs84, &songjiang()).unwrap();
    assert_eq!(cleaned.report.gps_jumps, 1, "{:?}", cleaned.report);
    assert_eq!(cleaned.report.kept, 99);
    assert_eq!(cleaned.segments.len(), 1);
}

#[test]
fn a_tunnel_gap_is_bridged_within_max_gap() {
    // 60 fixes, three minutes without a fix, then 3 km further on (16.7 m/s).
    let mut points = car(60);
    let last = *points.last().unwrap();
    let frame = LocalFrame::new(last.lon, last.lat);
    let resume = last.time.unwrap() + TimeDelta::minutes(3);
    points.extend((0..60).map(|i| {
        let c = frame.unproject([3000.0 + f64::from(i) * 48.5, 0.0]);
        RawPoint {
            lon: c.x,
            lat: c.y,
            time: Some(resume + TimeDelta::seconds(2 * i64::from(i))),
        }
    }));
    let cleaned = clean(&one(points.clone()), Crs::Wgs84, &songjiang()).unwrap();
    assert_eq!(cleaned.report.kept, 120, "{:?}", cleaned.report);
    assert_eq!(cleaned.segments.len(), 1);
    // The cells under the tunnel are covered: the line bridges the gap.
    let params = CoverageParams::new(Resolution::Ten, 25.0).unwrap();
    let got = cells(&cleaned, &params);
    let mid = frame.unproject([1500.0, 0.0]);
    let under = LatLng::new(mid.y, mid.x).unwrap().to_cell(Resolution::Ten);
    assert!(got.contains(&under));

    // With a two-minute max_gap the tunnel is not drawn: two segments.
    let params = songjiang().with_max_gap(TimeDelta::minutes(2)).unwrap();
    let split = clean(&one(points), Crs::Wgs84, &params).unwrap();
    assert_eq!(split.report.kept, 120);
    assert_eq!(split.segments.len(), 2);
}

#[test]
fn the_amm_vehicle_traces_import_unedited_and_keep_their_fixes() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tracks/amm_songjiang_vehicles.csv");
    let tracks = parse_csv(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(tracks.len(), 3);
    for track in &tracks {
        let cleaned = clean(track, Crs::Wgs84, &songjiang()).unwrap();
        let r = cleaned.report;
        assert_eq!(r.received, 400);
        // Standing still for a while: same position, new time, kept.
        assert!(r.kept * 100 >= r.received * 95, "{:?}: {r:?}", track.name);
    }
    // Forced to walking speed, the same vehicles lose most of their fixes.
    let foot = songjiang().with_mode(TravelMode::Foot);
    let lost: usize = tracks
        .iter()
        .map(|t| clean(t, Crs::Wgs84, &foot).map_or(400, |c| c.report.gps_jumps))
        .sum();
    assert!(lost > 300, "{lost}");
}
