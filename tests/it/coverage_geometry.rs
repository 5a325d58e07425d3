//! `cover_track` against a slow, independent geometric oracle.
//!
//! The oracle knows nothing of the tiler's neighbourhoods and safe discs: for
//! every cell near the track it projects the whole track and the cell's
//! hexagon into the cell's local metric plane (re-derived here from the
//! WGS-84 radii of curvature) and asks `geo` for the Euclidean distance
//! between the line and the polygon — the line buffered by `s` (the union of
//! its segment capsules) touches the hexagon exactly when that distance is at
//! most `s`. Times come from bisection along each touching segment.
//!
//! Cell sets must agree exactly, except for a cell whose distance to the
//! line lies within 1e-6 m of `s`, where either answer is accepted (two float
//! implementations cannot be asked to agree on such a tie). Times must agree
//! within 2 ms (rounding to whole ms plus bisection), again except where a
//! segment touches the cell within 1e-6 m of `s`.

#![expect(
    clippy::many_single_char_names,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a test oracle: textbook names, small counts and times cast freely"
)]

use std::collections::{BTreeMap, BTreeSet};

use geo::{Distance, Euclidean, Line, LineString, Point, Polygon};
use gridpatrol::coverage::{CoverageParams, cover_track};
use gridpatrol::spatial::TrackPoint;
use h3o::{CellIndex, LatLng, Resolution};
use proptest::prelude::*;

/// Ties within this distance of `s` may go either way.
const TIE_M: f64 = 1e-6;
const TIME_TOL_MS: i64 = 2;

/// Metres per degree of longitude and latitude on the WGS-84 ellipsoid.
fn metric(lat_deg: f64) -> (f64, f64) {
    let a = 6_378_137.0_f64;
    let f = 1.0 / 298.257_223_563;
    let e2 = f * (2.0 - f);
    let phi = lat_deg.to_radians();
    let w = (1.0 - e2 * phi.sin().powi(2)).sqrt();
    let prime_vertical = a / w;
    let meridional = a * (1.0 - e2) / w.powi(3);
    (
        prime_vertical * phi.cos() * std::f64::consts::PI / 180.0,
        meridional * std::f64::consts::PI / 180.0,
    )
}

struct Plane {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl Plane {
    fn of(cell: CellIndex) -> Self {
        let c = LatLng::from(cell);
        let (kx, ky) = metric(c.lat());
        Self {
            lon0: c.lng(),
            lat0: c.lat(),
            kx,
            ky,
        }
    }

    fn xy(&self, lon: f64, lat: f64) -> geo::Coord {
        geo::coord! { x: (lon - self.lon0) * self.kx, y: (lat - self.lat0) * self.ky }
    }
}

/// What the oracle says about one cell.
struct Verdict {
    /// Distance from the whole line to the hexagon.
    dist: f64,
    /// Earliest and latest time in range, when some segment is robustly
    /// (more than `TIE_M`) within range; `None` when a tie is involved.
    times: Option<(i64, i64)>,
}

fn oracle(points: &[TrackPoint], res: Resolution, s: f64) -> BTreeMap<CellIndex, Verdict> {
    let mut candidates = BTreeSet::new();
    // Every cell within reach of some point of the line: disks around fixes
    // and around points every few metres along each segment.
    let k = (s / (0.5 * res.edge_length_m())).ceil() as u32 + 2;
    let step_m = 0.25 * res.edge_length_m();
    let mut seeds = Vec::new();
    for (i, p) in points.iter().enumerate() {
        seeds.push((p.lon, p.lat));
        if let Some(n) = points.get(i + 1) {
            let (kx, ky) = metric(p.lat);
            let len = ((n.lon - p.lon) * kx).hypot((n.lat - p.lat) * ky);
            let parts = (len / step_m).ceil() as usize;
            for j in 1..parts {
                let u = j as f64 / parts as f64;
                seeds.push((p.lon + u * (n.lon - p.lon), p.lat + u * (n.lat - p.lat)));
            }
        }
    }
    for (lon, lat) in seeds {
        let cell = LatLng::new(lat, lon).expect("valid fix").to_cell(res);
        candidates.extend(cell.grid_disk::<Vec<_>>(k));
    }

    let mut out = BTreeMap::new();
    for cell in candidates {
        let plane = Plane::of(cell);
        let ring: LineString = cell
            .boundary()
            .iter()
            .map(|v| plane.xy(v.lng(), v.lat()))
            .collect();
        let hexagon = Polygon::new(ring, vec![]);
        let xy: Vec<geo::Coord> = points.iter().map(|p| plane.xy(p.lon, p.lat)).collect();
        let dist = if xy.len() == 1 {
            Euclidean.distance(&Point(xy[0]), &hexagon)
        } else {
            Euclidean.distance(&LineString::new(xy.clone()), &hexagon)
        };
        if dist > s + TIE_M {
            continue;
        }
        out.insert(
            cell,
            Verdict {
                dist,
                times: times_in_range(points, &xy, &hexagon, s),
            },
        );
    }
    out
}

/// Earliest and latest time within `s` of the hexagon, by bisection along
/// every segment within range; `None` if any segment's distance is a tie.
fn times_in_range(
    points: &[TrackPoint],
    xy: &[geo::Coord],
    hexagon: &Polygon,
    s: f64,
) -> Option<(i64, i64)> {
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    let pairs: Vec<(usize, usize)> = if xy.len() == 1 {
        vec![(0, 0)]
    } else {
        (0..xy.len() - 1).map(|i| (i, i + 1)).collect()
    };
    for (i, j) in pairs {
        let (a, b) = (xy[i], xy[j]);
        let at = |u: f64| geo::coord! { x: a.x + u * (b.x - a.x), y: a.y + u * (b.y - a.y) };
        let f = |u: f64| Euclidean.distance(&Point(at(u)), hexagon);
        let d = Euclidean.distance(&Line::new(a, b), hexagon);
        if (d - s).abs() <= TIE_M {
            return None;
        }
        if d > s {
            continue;
        }
        // The distance to a convex hexagon is convex along the segment:
        // find its minimum, then the crossings on either side.
        let (mut l, mut h) = (0.0_f64, 1.0_f64);
        for _ in 0..200 {
            let m1 = l + (h - l) / 3.0;
            let m2 = h - (h - l) / 3.0;
            if f(m1) <= f(m2) {
                h = m2;
            } else {
                l = m1;
            }
        }
        let umin = 0.5 * (l + h);
        let lo = if f(0.0) <= s {
            0.0
        } else {
            let (mut out, mut inn) = (0.0, umin);
            for _ in 0..80 {
                let m = 0.5 * (out + inn);
                if f(m) <= s { inn = m } else { out = m }
            }
            inn
        };
        let hi = if f(1.0) <= s {
            1.0
        } else {
            let (mut inn, mut out) = (umin, 1.0);
            for _ in 0..80 {
                let m = 0.5 * (out + inn);
                if f(m) <= s { inn = m } else { out = m }
            }
            inn
        };
        let (ti, tj) = (points[i].t_ms as f64, points[j].t_ms as f64);
        first = first.min((ti + lo * (tj - ti)).floor() as i64);
        last = last.max((ti + hi * (tj - ti)).ceil() as i64);
    }
    (first <= last).then_some((first, last))
}

/// Compares the tiler with the oracle; panics with the first difference.
fn check(points: &[TrackPoint], res: Resolution, s: f64) -> usize {
    let params = CoverageParams::new(res, s).expect("valid params");
    let got = cover_track(points, &params);
    let want = oracle(points, res, s);
    let got_cells: BTreeSet<CellIndex> = got.iter().map(|v| v.cell).collect();
    for (cell, v) in &want {
        if v.dist <= s - TIE_M {
            assert!(
                got_cells.contains(cell),
                "missing {cell} at {} m (res {res}, s {s})",
                v.dist
            );
        }
    }
    for visit in &got {
        let v = want.get(&visit.cell).unwrap_or_else(|| {
            panic!("extra cell {} (res {res}, s {s})", visit.cell);
        });
        assert!(v.dist <= s + TIE_M);
        if let Some((first, last)) = v.times {
            assert!(
                (visit.first_ms - first).abs() <= TIME_TOL_MS
                    && (visit.last_ms - last).abs() <= TIME_TOL_MS,
                "times of {}: got {}..{}, oracle {first}..{last} (res {res}, s {s})",
                visit.cell,
                visit.first_ms,
                visit.last_ms
            );
        }
    }
    got.len()
}

fn amm_track() -> Vec<TrackPoint> {
    let text = include_str!("../data/amm_track_2.csv");
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (t, lat, lon) = (col("locatetime_ms"), col("lat"), col("lon"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            TrackPoint {
                lon: f[lon].parse().expect("lon"),
                lat: f[lat].parse().expect("lat"),
                t_ms: f[t].parse().expect("time"),
            }
        })
        .collect()
}

#[test]
fn amm_track_matches_oracle_at_res_10() {
    let track = amm_track();
    assert_eq!(track.len(), 500);
    let n = check(&track, Resolution::Ten, 25.0);
    assert!(n > 100, "only {n} cells");
}

#[test]
fn amm_track_matches_oracle_at_other_resolutions_and_distances() {
    let track = amm_track();
    check(&track[..250], Resolution::Nine, 60.0);
    check(&track[..250], Resolution::Eleven, 10.0);
    check(&track[..150], Resolution::Twelve, 2.0);
    check(&track[..100], Resolution::Seven, 300.0);
}

#[test]
fn single_fix_and_standing_still_match_oracle() {
    let p = TrackPoint {
        lon: 121.23,
        lat: 31.03,
        t_ms: 1_700_000_000_000,
    };
    assert!(check(&[p], Resolution::Ten, 25.0) >= 1);
    let still: Vec<TrackPoint> = (0..5)
        .map(|i| TrackPoint {
            t_ms: p.t_ms + i * 1000,
            ..p
        })
        .collect();
    check(&still, Resolution::Ten, 80.0);
    check(&still, Resolution::Eleven, 5.0);
}

/// A random walk around Songjiang: steps of 0 to 40 m with the odd jump of
/// up to 800 m (a GPS gap), 1 to 30 s apart.
fn random_walk() -> impl Strategy<Value = Vec<TrackPoint>> {
    (
        121.1..121.35_f64,
        30.95..31.15_f64,
        prop::collection::vec(
            (0.0..std::f64::consts::TAU, 0.0..40.0_f64, 0..10u8, 1..30i64),
            0..50,
        ),
    )
        .prop_map(|(lon, lat, steps)| {
            let mut p = TrackPoint {
                lon,
                lat,
                t_ms: 1_600_000_000_000,
            };
            let mut out = vec![p];
            for (heading, len, jump, dt) in steps {
                let len = if jump == 0 { len * 20.0 } else { len };
                let (kx, ky) = metric(p.lat);
                p = TrackPoint {
                    lon: p.lon + len * heading.cos() / kx,
                    lat: p.lat + len * heading.sin() / ky,
                    t_ms: p.t_ms + dt * 1000,
                };
                out.push(p);
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_walks_match_oracle(
        track in random_walk(),
        res in 9u8..=11,
        s in prop_oneof![Just(25.0), 1.0..120.0_f64],
    ) {
        let res = Resolution::try_from(res).expect("valid resolution");
        check(&track, res, s);
    }
}
