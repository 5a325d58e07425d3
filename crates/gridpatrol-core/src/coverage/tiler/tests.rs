//! The tiler against the definition it shortcuts: every segment tested
//! exactly against every cell near it, on tracks of every kind the
//! shortcuts treat differently (dense walks, sparse rides, gaps, standing
//! still, hairpins), at several resolutions and sighting distances.

#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    reason = "synthetic tracks: small counts and durations"
)]

use std::collections::BTreeMap;

use h3o::{CellIndex, LatLng, Resolution};

use super::{TrackTiler, cover_track};
use crate::coverage::geometry::CellGeom;
use crate::coverage::{CellVisit, CoverageParams};
use crate::spatial::TrackPoint;

/// Every segment (a lone fix as a point) against every cell of a disk
/// wide enough to hold all cells within `s` of it, with the times worked
/// out as the tiler's exact test does; cells in range at the last fix stay
/// in range until its time.
fn reference(points: &[TrackPoint], params: &CoverageParams) -> Vec<CellVisit> {
    let s = params.sighting_m();
    let res = params.resolution();
    let mut visits: BTreeMap<CellIndex, (i64, i64)> = BTreeMap::new();
    let pairs: Vec<(TrackPoint, TrackPoint)> = if points.len() == 1 {
        vec![(points[0], points[0])]
    } else {
        points.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let hex_width = 2.0 * 0.8 * res.edge_length_m();
    for (q, p) in pairs {
        let (c0, c1) = if (q.lon, q.lat) <= (p.lon, p.lat) {
            (q, p)
        } else {
            (p, q)
        };
        let len =
            (((q.lon - p.lon) * 95_000.0).powi(2) + ((q.lat - p.lat) * 111_000.0).powi(2)).sqrt();
        let k = ((len + s) / hex_width).ceil() as u32 + 2;
        let start = LatLng::new(q.lat, q.lon).expect("a valid fix").to_cell(res);
        for cell in start.grid_disk::<Vec<_>>(k) {
            let g = CellGeom::new(cell);
            let (ax, ay) = g.project(c0.lon, c0.lat);
            let (bx, by) = g.project(c1.lon, c1.lat);
            let Some((lo, hi)) = g.segment_range(ax, ay, bx, by, s) else {
                continue;
            };
            let dt = c1.t_ms.saturating_sub(c0.t_ms) as f64;
            let (d_lo, d_hi) = (lo * dt, hi * dt);
            let first = c0.t_ms + d_lo.min(d_hi).floor() as i64;
            let last = c0.t_ms + d_lo.max(d_hi).ceil() as i64;
            let v = visits.entry(cell).or_insert((first, last));
            v.0 = v.0.min(first);
            v.1 = v.1.max(last);
        }
    }
    visits
        .into_iter()
        .map(|(cell, (first_ms, last_ms))| CellVisit {
            cell,
            first_ms,
            last_ms,
        })
        .collect()
}

/// `SplitMix64`, for tracks that are the same on every run.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A patrol of `n` fixes `dt_s` apart at about `speed_m_s` with `noise` m
/// of jitter, turning now and then; every `gap.0` fixes (if not 0) a jump
/// of `gap.1` metres, as when the receiver was off.
fn patrol(
    seed: u64,
    n: usize,
    speed_m_s: f64,
    dt_s: i64,
    noise: f64,
    gap: (usize, f64),
) -> Vec<TrackPoint> {
    let mut rng = Rng(seed);
    let (mut x, mut y) = (0.0_f64, 0.0_f64);
    let mut heading = rng.unit() * std::f64::consts::TAU;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        heading += (rng.unit() - 0.5) * 0.6;
        if rng.unit() < 0.02 {
            heading += std::f64::consts::PI * 0.9;
        }
        let mut step = speed_m_s * dt_s as f64 * (0.7 + 0.6 * rng.unit());
        if gap.0 > 0 && i % gap.0 == gap.0 - 1 {
            step += gap.1;
        }
        x += step * heading.cos();
        y += step * heading.sin();
        out.push(TrackPoint {
            lon: 121.23 + (x + noise * (rng.unit() - 0.5)) / 95_504.0,
            lat: 31.03 + (y + noise * (rng.unit() - 0.5)) / 110_869.0,
            t_ms: 1_700_000_000_000 + i as i64 * dt_s * 1000,
        });
    }
    out
}

#[test]
fn the_tiler_answers_what_every_segment_against_every_cell_answers() {
    let tracks = [
        ("walk, 1 s", patrol(1, 400, 1.4, 1, 4.0, (0, 0.0))),
        ("walk, 5 s", patrol(2, 300, 1.3, 5, 4.0, (0, 0.0))),
        ("e-bike, 5 s", patrol(3, 300, 5.5, 5, 5.0, (0, 0.0))),
        (
            "e-bike, 5 s, gaps",
            patrol(4, 300, 5.0, 5, 3.0, (37, 400.0)),
        ),
        ("car, 2 s", patrol(5, 200, 25.0, 2, 3.0, (0, 0.0))),
        ("standing still", patrol(6, 50, 0.0, 5, 0.0, (0, 0.0))),
        ("jittering in place", patrol(7, 200, 0.1, 5, 30.0, (0, 0.0))),
        ("one fix", patrol(8, 1, 1.0, 5, 0.0, (0, 0.0))),
    ];
    let params = [
        CoverageParams::default(),
        CoverageParams::new(Resolution::Nine, 5.0).expect("valid"),
        CoverageParams::new(Resolution::Eleven, 40.0).expect("valid"),
        CoverageParams::new(Resolution::Ten, 120.0).expect("valid"),
    ];
    for params in &params {
        // one tiler kept across the tracks, as a file's upload keeps it
        let mut kept = TrackTiler::new(params);
        for (name, track) in &tracks {
            let want = reference(track, params);
            assert!(!want.is_empty(), "{name}");
            assert_eq!(cover_track(track, params), want, "{name}, {params:?}");
            assert_eq!(kept.cover(track), want, "{name}, kept tiler, {params:?}");
        }
    }
}
