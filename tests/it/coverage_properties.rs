//! Invariants of `cover_track` on random walks around Songjiang, and a
//! `TrackTiler` kept across tracks answering as `cover_track` does.

use std::collections::BTreeMap;

use gridpatrol::coverage::{CellVisit, CoverageParams, TrackTiler, cover_track};
use gridpatrol::spatial::TrackPoint;
use h3o::{CellIndex, Resolution};
use proptest::prelude::*;

/// Steps of 0 to 40 m, the odd one twenty times longer (a GPS gap), and
/// the odd repeated fix; 1 to 30 s apart.
fn random_walk(max_len: usize) -> impl Strategy<Value = Vec<TrackPoint>> {
    (
        121.1..121.35_f64,
        30.95..31.15_f64,
        prop::collection::vec(
            (0.0..std::f64::consts::TAU, 0.0..40.0_f64, 0..10u8, 1..30i64),
            0..max_len,
        ),
    )
        .prop_map(|(lon, lat, steps)| {
            let mut p = TrackPoint {
                lon,
                lat,
                t_ms: 1_600_000_000_000,
            };
            let mut out = vec![p];
            for (heading, len, kind, dt) in steps {
                let len = match kind {
                    0 => len * 20.0,
                    1 => 0.0,
                    _ => len,
                };
                p = TrackPoint {
                    lon: p.lon + len * heading.cos() / 95_500.0,
                    lat: p.lat + len * heading.sin() / 110_870.0,
                    t_ms: p.t_ms + dt * 1000,
                };
                out.push(p);
            }
            out
        })
}

fn params() -> impl Strategy<Value = CoverageParams> {
    (7u8..=12, prop_oneof![Just(25.0), 0.5..200.0_f64]).prop_map(|(res, s)| {
        let res = Resolution::try_from(res).expect("valid resolution");
        CoverageParams::new(res, s).expect("valid params")
    })
}

fn by_cell(visits: &[CellVisit]) -> BTreeMap<CellIndex, (i64, i64)> {
    visits
        .iter()
        .map(|v| (v.cell, (v.first_ms, v.last_ms)))
        .collect()
}

proptest! {
    #[test]
    fn output_is_sorted_unique_and_deterministic(track in random_walk(60), params in params()) {
        let a = cover_track(&track, &params);
        prop_assert!(!a.is_empty());
        prop_assert!(a.windows(2).all(|w| w[0].cell < w[1].cell));
        prop_assert!(a.iter().all(|v| v.cell.resolution() == params.resolution()));
        prop_assert!(a.iter().all(|v| v.first_ms <= v.last_ms));
        let (t0, t1) = (track[0].t_ms, track[track.len() - 1].t_ms);
        prop_assert!(a.iter().all(|v| t0 <= v.first_ms && v.last_ms <= t1));
        prop_assert_eq!(&a, &cover_track(&track, &params));
    }

    #[test]
    fn longer_sighting_distance_covers_a_superset(
        track in random_walk(60),
        params in params(),
        extra in 0.0..100.0_f64,
    ) {
        let near = cover_track(&track, &params);
        let wider = CoverageParams::new(
            params.resolution(),
            (params.sighting_m() + extra).min(CoverageParams::MAX_SIGHTING_M),
        )
        .expect("valid params");
        let far = by_cell(&cover_track(&track, &wider));
        for v in &near {
            let found = far.get(&v.cell).copied();
            prop_assert!(found.is_some(), "{} lost", v.cell);
            let (first, last) = found.unwrap_or_default();
            prop_assert!(first <= v.first_ms && last >= v.last_ms);
        }
    }

    #[test]
    fn reversing_a_track_changes_nothing(track in random_walk(60), params in params()) {
        let forward = cover_track(&track, &params);
        // Reversed in space and in time: t -> t0 + t1 - t keeps it sorted.
        let mirror = track[0].t_ms + track[track.len() - 1].t_ms;
        let reversed: Vec<TrackPoint> = track
            .iter()
            .rev()
            .map(|p| TrackPoint { t_ms: mirror - p.t_ms, ..*p })
            .collect();
        let backward = cover_track(&reversed, &params);
        let mirrored: Vec<CellVisit> = backward
            .iter()
            .map(|v| CellVisit {
                cell: v.cell,
                first_ms: mirror - v.last_ms,
                last_ms: mirror - v.first_ms,
            })
            .collect();
        prop_assert_eq!(forward, mirrored);
    }

    #[test]
    fn splitting_at_a_vertex_gives_the_union(
        track in random_walk(60),
        params in params(),
        at in any::<prop::sample::Index>(),
    ) {
        let k = at.index(track.len());
        let whole = cover_track(&track, &params);
        let mut union = by_cell(&cover_track(&track[..=k], &params));
        for v in cover_track(&track[k..], &params) {
            union
                .entry(v.cell)
                .and_modify(|(f, l)| {
                    *f = (*f).min(v.first_ms);
                    *l = (*l).max(v.last_ms);
                })
                .or_insert((v.first_ms, v.last_ms));
        }
        prop_assert_eq!(by_cell(&whole), union);
    }

    #[test]
    fn a_tiler_kept_across_tracks_answers_each_as_alone(
        tracks in prop::collection::vec(random_walk(40), 1..6),
        params in params(),
    ) {
        // tracks near each other (each walk starts anywhere in the box;
        // every other one is moved onto the first's start) share cells
        let mut tiler = TrackTiler::new(&params);
        for (k, track) in tracks.iter().enumerate() {
            let moved: Vec<TrackPoint> = if k % 2 == 1 {
                let (dx, dy) = (tracks[0][0].lon - track[0].lon, tracks[0][0].lat - track[0].lat);
                track.iter().map(|p| TrackPoint { lon: p.lon + dx, lat: p.lat + dy, ..*p }).collect()
            } else {
                track.clone()
            };
            prop_assert_eq!(tiler.cover(&moved), cover_track(&moved, &params));
            // the same track again, and its reverse, from a warm tiler
            prop_assert_eq!(tiler.cover(&moved), cover_track(&moved, &params));
            let back: Vec<TrackPoint> = moved.iter().rev().copied().collect();
            prop_assert_eq!(tiler.cover(&back), cover_track(&back, &params));
        }
        prop_assert!(tiler.cover(&[]).is_empty());
    }

    #[test]
    fn unsorted_and_invalid_fixes_are_cleaned(track in random_walk(30), params in params()) {
        let clean = cover_track(&track, &params);
        let mut messy: Vec<TrackPoint> = track.iter().rev().copied().collect();
        messy.push(TrackPoint { lon: f64::NAN, lat: 31.0, t_ms: 0 });
        messy.push(TrackPoint { lon: 121.2, lat: 95.0, t_ms: 0 });
        prop_assert_eq!(clean, cover_track(&messy, &params));
    }
}

#[test]
fn empty_track_covers_nothing() {
    assert!(cover_track(&[], &CoverageParams::default()).is_empty());
    let nonsense = [TrackPoint {
        lon: f64::INFINITY,
        lat: 0.0,
        t_ms: 0,
    }];
    assert!(cover_track(&nonsense, &CoverageParams::default()).is_empty());
}

#[test]
fn a_single_fix_sees_its_own_cell_and_its_ring_at_long_range() {
    let p = TrackPoint {
        lon: 121.23,
        lat: 31.03,
        t_ms: 42,
    };
    let own = h3o::LatLng::new(p.lat, p.lon)
        .expect("valid")
        .to_cell(Resolution::Ten);
    let near = cover_track(&[p], &CoverageParams::default());
    assert!(near.iter().any(|v| v.cell == own));
    assert!(near.iter().all(|v| v.first_ms == 42 && v.last_ms == 42));
    let params = CoverageParams::new(Resolution::Ten, 200.0).expect("valid");
    let far: Vec<CellIndex> = cover_track(&[p], &params).iter().map(|v| v.cell).collect();
    for c in own.grid_disk::<Vec<_>>(1) {
        assert!(far.contains(&c), "{c} missing");
    }
}

#[test]
fn times_are_interpolated_along_a_long_segment() {
    // 1 km due east in 1000 s at 1 m/s: a cell in the middle is first seen
    // well after the start and last seen well before the end.
    let a = TrackPoint {
        lon: 121.20,
        lat: 31.03,
        t_ms: 0,
    };
    let b = TrackPoint {
        lon: 121.20 + 1000.0 / 95_504.26,
        lat: 31.03,
        t_ms: 1_000_000,
    };
    let mid = h3o::LatLng::new(31.03, 121.20 + 500.0 / 95_504.26)
        .expect("valid")
        .to_cell(Resolution::Ten);
    let visits = cover_track(&[a, b], &CoverageParams::default());
    let v = visits.iter().find(|v| v.cell == mid).expect("middle cell");
    assert!(v.first_ms > 300_000 && v.first_ms < 500_000, "{v:?}");
    assert!(v.last_ms > 500_000 && v.last_ms < 700_000, "{v:?}");
}
