//! The real AMM vehicle traces of the shared data as they come (unedited
//! copies: `tests/data/tracks/amm_songjiang_points.csv`, the raw fixes, and
//! `amm_songjiang_wgs84.geojson`, each raw trace as a line with a start and
//! an end time beside the authors' map-matched ground truth): every raw
//! trace imports, on both stores, and covers the cells its ground truth
//! drives through inside the district.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::{HashMap, HashSet};

use gridpatrol::coverage::cover_track;
use gridpatrol::ingest::track::{Extent, TravelMode};
use gridpatrol::service::tracks::{BatchOutcome, UploadOptions, upload_each};
use gridpatrol::service::{self, ImportKind};
use gridpatrol::spatial::{Crs, LonLat, TrackPoint};
use gridpatrol::store::DynStore;

use crate::common;

fn data(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tracks")
        .join(name);
    std::fs::read(path).unwrap()
}

async fn with_towns(store: &DynStore) {
    let towns = common::fixtures().join("towns.geojson");
    service::import_file(store, ImportKind::Towns, &towns, Crs::Wgs84, &|_| {})
        .await
        .unwrap();
}

/// The towns of the fixtures as one outline, without a margin.
fn district() -> Extent {
    let fc: geojson::FeatureCollection = common::fixture_text("towns.geojson").parse().unwrap();
    let mut parts = Vec::new();
    for f in fc.features {
        match geo::Geometry::<f64>::try_from(f.geometry.unwrap()).unwrap() {
            geo::Geometry::Polygon(p) => parts.push(p),
            geo::Geometry::MultiPolygon(m) => parts.extend(m),
            _ => {}
        }
    }
    Extent::from_outline(geo::MultiPolygon::new(parts), 0.0).unwrap()
}

/// Per track id, the cells the map-matched ground truth covers (its line
/// tiled as the service tiles a track) whose centre lies in the district.
fn ground_truth() -> HashMap<String, HashSet<u64>> {
    let inside = district();
    let coverage = UploadOptions::default().coverage;
    let doc: serde_json::Value =
        serde_json::from_slice(&data("amm_songjiang_wgs84.geojson")).unwrap();
    let mut out = HashMap::new();
    for f in doc["features"].as_array().unwrap() {
        if f["properties"]["kind"] != "map_matched_ground_truth" {
            continue;
        }
        let points: Vec<TrackPoint> = f["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .zip(0_i64..)
            .map(|(c, k)| TrackPoint {
                lon: c[0].as_f64().unwrap(),
                lat: c[1].as_f64().unwrap(),
                t_ms: k * 1000,
            })
            .collect();
        let cells = cover_track(&points, &coverage)
            .into_iter()
            .filter(|v| {
                let c = h3o::LatLng::from(v.cell);
                inside.contains(LonLat::new(c.lng(), c.lat()).unwrap())
            })
            .map(|v| u64::from(v.cell))
            .collect();
        out.insert(f["properties"]["track_id"].to_string(), cells);
    }
    out
}

fn vehicles() -> UploadOptions {
    UploadOptions {
        officer: Some("执法车01".into()),
        ..UploadOptions::default()
    }
}

/// Every stored track covers at least `min_recall` of its ground truth's
/// cells in the district.
async fn assert_covers(store: &DynStore, outcome: &BatchOutcome, min_recall: f64) {
    let truth = ground_truth();
    assert_eq!(truth.len(), 3);
    for t in &outcome.stored {
        let want = &truth[&t.name];
        assert!(want.len() > 50, "track {}: {} cells", t.name, want.len());
        let got: HashSet<u64> = store
            .track_visits(t.id)
            .await
            .unwrap()
            .iter()
            .map(|v| v.cell)
            .collect();
        let hit = want.intersection(&got).count();
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let recall = hit as f64 / want.len() as f64;
        assert!(
            recall >= min_recall,
            "track {}: {hit} of {} ground-truth cells covered ({recall:.3}); report {:?}",
            t.name,
            want.len(),
            t.report
        );
    }
}

async fn the_amm_csv_imports_whole_and_covers_the_ground_truth(store: DynStore) {
    with_towns(&store).await;
    let csv = data("amm_songjiang_points.csv");
    let outcome = upload_each(
        &store,
        &csv,
        Some("songjiang_gps_tracks_amm_points.csv"),
        &vehicles(),
        false,
        &|_, _| {},
    )
    .await
    .unwrap();
    assert!(outcome.refused.is_empty(), "{:?}", outcome.refused);
    assert_eq!(outcome.stored.len(), 3);
    for t in &outcome.stored {
        assert!(t.created);
        // Half of each trace lies outside Songjiang: only those fixes go,
        // and a car at speed loses no fix as a "jump".
        assert_eq!(t.report.gps_jumps, 0, "track {}: {:?}", t.name, t.report);
        assert_eq!(t.report.invalid_coordinates, 0);
    }
    assert_covers(&store, &outcome, 0.9).await;

    // Forced to walking speed, the same cars would lose most fixes.
    let foot = UploadOptions {
        mode: TravelMode::Foot,
        ..vehicles()
    };
    let walked = upload_each(&store, &csv, Some("amm.csv"), &foot, false, &|_, _| {})
        .await
        .unwrap();
    let jumps: usize = walked.stored.iter().map(|t| t.report.gps_jumps).sum();
    assert!(jumps > 300, "{jumps}");
}

async fn the_amm_geojson_lines_import_from_start_and_end_times(store: DynStore) {
    with_towns(&store).await;
    let json = data("amm_songjiang_wgs84.geojson");
    let outcome = upload_each(
        &store,
        &json,
        Some("songjiang_gps_tracks_amm_wgs84.geojson"),
        &vehicles(),
        false,
        &|_, _| {},
    )
    .await
    .unwrap();
    // The raw traces are timed by t_start_ms and t_end_ms; the map-matched
    // lines have no time and are refused with the reason.
    assert_eq!(outcome.stored.len(), 3, "{:?}", outcome.refused);
    assert_eq!(outcome.refused.len(), 3);
    for r in &outcome.refused {
        assert!(r.reason.contains("no point has a time"), "{r:?}");
    }
    for t in &outcome.stored {
        assert!(t.started_at.timestamp_millis() >= 1_608_000_463_000);
        assert_eq!(t.report.gps_jumps, 0, "track {}: {:?}", t.name, t.report);
    }
    assert_covers(&store, &outcome, 0.9).await;
}

crate::store_tests!(
    the_amm_csv_imports_whole_and_covers_the_ground_truth,
    the_amm_geojson_lines_import_from_start_and_end_times,
);
