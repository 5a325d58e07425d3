//! Track ingest benchmarks on deterministic synthetic patrols inside
//! Songjiang: 200 tracks × 2,900 fixes, walks and e-bike rides at one fix
//! every 5 s, as one CSV of many officers.
//!
//! - `area/*`: the district test per fix, the prepared [`Extent`] against the
//!   old per-fix geodesic test (a copy of it is kept below as the baseline),
//!   on the towns outline of the fixtures with a 2 km margin.
//! - `ingest/*`: parse + clean of the whole CSV, and parse + clean +
//!   `cover_track` (res 10, 25 m).
//!
//! `cargo bench --bench ingest`; throughputs are in fixes per second.

#![expect(
    clippy::cast_precision_loss,
    reason = "synthetic data: small counts cast freely"
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::{Closest, Contains, Distance, Haversine, HaversineClosestPoint, Intersects};
use gridpatrol::coverage::{CoverageParams, cover_track};
use gridpatrol::ingest::track::{CleanParams, Extent, clean, parse_csv};
use gridpatrol::spatial::{Crs, LonLat};
use h3o::Resolution;

const TRACKS: usize = 200;
const FIXES: usize = 2_900;
const MARGIN_M: f64 = 2_000.0;

/// `SplitMix64`: tiny, seeded, good enough for synthetic tracks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One CSV: even tracks walk (~1.3 m/s), odd ones ride e-bikes (~5 m/s),
/// each a random walk of headings from a random start in Songjiang.
fn batch_csv() -> String {
    let mut rng = Rng(20_201_215);
    let mut csv = String::from("officer,time,lon,lat\n");
    for track in 0..TRACKS {
        let speed = if track % 2 == 0 { 1.3 } else { 5.0 };
        let (mut lon, mut lat) = (121.12 + 0.22 * rng.unit(), 30.98 + 0.14 * rng.unit());
        let mut heading = rng.unit() * std::f64::consts::TAU;
        for i in 0..FIXES {
            heading += (rng.unit() - 0.5) * 0.6;
            let step = speed * 5.0 * (0.8 + 0.4 * rng.unit());
            lon += step * heading.cos() / 95_500.0;
            lat += step * heading.sin() / 110_900.0;
            let t = 1_608_001_200 + 5 * i;
            writeln!(csv, "officer{track},{t},{lon:.6},{lat:.6}").expect("a String takes it");
        }
    }
    csv
}

/// The towns of the fixtures, as the service builds the district outline.
fn district() -> geo::MultiPolygon<f64> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/songjiang/towns.geojson");
    let text = std::fs::read_to_string(path).expect("towns fixture");
    let fc: geojson::FeatureCollection = text.parse().expect("towns GeoJSON");
    let mut parts = Vec::new();
    for f in fc.features {
        let g: geo::Geometry<f64> = f.geometry.expect("geometry").try_into().expect("geo");
        match g {
            geo::Geometry::Polygon(p) => parts.push(p),
            geo::Geometry::MultiPolygon(m) => parts.extend(m),
            _ => {}
        }
    }
    geo::MultiPolygon::new(parts)
}

/// The area test as it was: a clamped box check, point in polygon per part,
/// then the geodesic closest point of the whole outline.
struct OldArea {
    outline: geo::MultiPolygon<f64>,
    part_bounds: Vec<geo::Rect<f64>>,
    bounds: geo::Rect<f64>,
    margin_m: f64,
}

impl OldArea {
    fn new(outline: geo::MultiPolygon<f64>, margin_m: f64) -> Self {
        use geo::BoundingRect;
        Self {
            part_bounds: outline
                .iter()
                .filter_map(BoundingRect::bounding_rect)
                .collect(),
            bounds: outline.bounding_rect().expect("an outline"),
            outline,
            margin_m,
        }
    }

    fn contains(&self, p: LonLat) -> bool {
        let point = geo::Point::from(p);
        let nearest = geo::Point::new(
            p.lon().clamp(self.bounds.min().x, self.bounds.max().x),
            p.lat().clamp(self.bounds.min().y, self.bounds.max().y),
        );
        if Haversine.distance(point, nearest) > self.margin_m {
            return false;
        }
        if self
            .outline
            .iter()
            .zip(&self.part_bounds)
            .any(|(part, r)| r.intersects(&point) && part.contains(&point))
        {
            return true;
        }
        match self.outline.haversine_closest_point(&point) {
            Closest::Intersection(_) => true,
            Closest::SinglePoint(c) => Haversine.distance(point, c) <= self.margin_m,
            Closest::Indeterminate => false,
        }
    }
}

fn bench(c: &mut Criterion) {
    let csv = batch_csv();
    let outline = district();
    let area = Extent::from_outline(outline.clone(), MARGIN_M).expect("an area");
    let old = OldArea::new(outline, MARGIN_M);
    let tracks = parse_csv(csv.as_bytes()).expect("parses");
    let fixes: Vec<LonLat> = tracks
        .iter()
        .flat_map(gridpatrol::ingest::track::ParsedTrack::points)
        .map(|p| LonLat::new(p.lon, p.lat).expect("valid"))
        .collect();
    // The old test is slow: time it on every 50th fix.
    let sample: Vec<LonLat> = fixes.iter().step_by(50).copied().collect();
    let agree = sample
        .iter()
        .filter(|&&p| area.contains(p) == old.contains(p))
        .count();
    let inside = fixes.iter().filter(|&&p| area.contains(p)).count();
    eprintln!(
        "ingest bench: {} fixes, {inside} in the district + 2 km; old and new agree on \
         {agree} of {} sampled",
        fixes.len(),
        sample.len()
    );

    let mut g = c.benchmark_group("area");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(sample.len() as u64));
    g.bench_function("old_geodesic_per_fix", |b| {
        b.iter(|| {
            sample
                .iter()
                .filter(|&&p| old.contains(black_box(p)))
                .count()
        });
    });
    g.throughput(Throughput::Elements(fixes.len() as u64));
    g.bench_function("prepared", |b| {
        b.iter(|| {
            fixes
                .iter()
                .filter(|&&p| area.contains(black_box(p)))
                .count()
        });
    });
    g.finish();

    let params = CleanParams::new(Some(area));
    let coverage = CoverageParams::new(Resolution::Ten, 25.0).expect("params");
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(fixes.len() as u64));
    g.bench_function("parse_clean", |b| {
        b.iter(|| {
            let tracks = parse_csv(black_box(csv.as_bytes())).expect("parses");
            tracks
                .iter()
                .filter_map(|t| clean(t, Crs::Wgs84, &params).ok())
                .map(|c| c.report.kept)
                .sum::<usize>()
        });
    });
    g.bench_function("parse_clean_cover", |b| {
        b.iter(|| {
            let tracks = parse_csv(black_box(csv.as_bytes())).expect("parses");
            tracks
                .iter()
                .filter_map(|t| clean(t, Crs::Wgs84, &params).ok())
                .flat_map(|c| c.segments)
                .map(|s| cover_track(&s, &coverage).len())
                .sum::<usize>()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
