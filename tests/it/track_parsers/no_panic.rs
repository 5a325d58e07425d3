//! No panics: every fixture, cut or mutated, and arbitrary bytes in every
//! format are answered with tracks or an error, never a panic.

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
