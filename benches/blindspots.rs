//! The whole blind-spot report for the district: commercial districts,
//! works near venues, works outside management and the town scorecard, as
//! `GET /api/v1/blindspots/*` and `/api/v1/scorecard` compute them in the
//! engine, on deterministic data.
//!
//! - `report/songjiang`: the Songjiang fixtures (18 towns, 438 grids of
//!   about 53,000 cells, 9 commercial districts, 118 venues, 500 works) with
//!   seeded inspections, hazards and patrol coverage of every cell.
//! - `report/songjiang_x10`: ten times the works, inspections and hazards
//!   (5,000 works, a busy year for the district), jittered around the real
//!   ones.
//! - `near_venues/*`, `districts/*`, `works/*`, `scorecard/*`: the parts.
//!
//! `cargo bench --bench blindspots`; sizes are printed to stderr first.

#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "synthetic data: small counts and indexes cast freely"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::{Geometry, Point};
use gridpatrol::blindspots::{
    CellPatrol, Coverage, Dataset, ReportParams, Window, districts, near_venues, report, scorecard,
    works,
};
use gridpatrol::domain::{Stored, Town};
use gridpatrol::ingest::{features, projects_csv};
use gridpatrol::inspection::{Hazard, HazardKind, HazardStatus, Inspection, Severity};
use gridpatrol::service::TownIndex;
use gridpatrol::spatial::Crs;

/// `SplitMix64`: tiny and seeded.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T04:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn stored<T>(items: Vec<T>) -> Vec<Stored<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, value)| Stored {
            id: i as i64 + 1,
            value,
        })
        .collect()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The Songjiang fixtures with `copies` jittered copies of every work,
/// about four inspections a work and a hazard for every second one.
fn dataset(copies: usize) -> Dataset {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/songjiang");
    let layer = |name: &str| features::read_features(&read(&dir, name)).expect("features");
    let towns: Vec<Town> = features::towns(&layer("towns.geojson"), Crs::Wgs84).expect("towns");
    let index = TownIndex::new(towns.clone());
    let mut base =
        projects_csv::read(read(&dir, "projects.csv").as_bytes(), Crs::Wgs84).expect("projects");
    for p in &mut base {
        index.assign(p).expect("in the district");
    }
    let mut rng = Rng(20_261_124);
    let mut projects = Vec::with_capacity(base.len() * copies);
    for copy in 0..copies {
        for p in &base {
            let mut p = p.clone();
            if copy > 0 {
                if let Geometry::Point(pt) = p.geometry {
                    // within about 300 m of a real work
                    p.geometry = Point::new(
                        pt.x() + (rng.unit() - 0.5) * 0.006,
                        pt.y() + (rng.unit() - 0.5) * 0.005,
                    )
                    .into();
                }
                p.code = format!("{}-{copy}", p.code);
            }
            projects.push(p);
        }
    }
    let projects = stored(projects);
    let mut inspections = Vec::new();
    let mut hazards = Vec::new();
    for p in &projects {
        for _ in 0..rng.below(8) {
            let at = now() - Duration::hours(rng.below(24 * 120) as i64);
            let id = inspections.len() as i64 + 1;
            inspections.push(Inspection {
                id,
                project_id: p.id,
                inspected_at: at,
                inspector: "王建国".into(),
                note: String::new(),
                recorded_by: "bench".into(),
                recorded_at: at,
            });
            if rng.below(3) == 0 {
                let status = HazardStatus::ALL[rng.below(4) as usize];
                let closed_at = (status == HazardStatus::Closed)
                    .then(|| at + Duration::days(rng.below(20) as i64));
                hazards.push(Hazard {
                    id: hazards.len() as i64 + 1,
                    inspection_id: id,
                    project_id: p.id,
                    kind: HazardKind::ALL[rng.below(13) as usize],
                    severity: Severity::General,
                    deadline: (at + Duration::days(7)).date_naive(),
                    status,
                    note: String::new(),
                    found_at: at,
                    closed_at,
                    updated_at: at,
                });
            }
        }
    }
    Dataset {
        towns: stored(towns),
        grids: stored(features::grids(&layer("grids.geojson"), Crs::Wgs84).expect("grids")),
        districts: stored(
            features::districts(&layer("districts.geojson"), Crs::Wgs84).expect("districts"),
        ),
        venues: stored(features::venues(&layer("venues.geojson"), Crs::Wgs84).expect("venues")),
        projects,
        inspections,
        hazards,
        case_files: None,
    }
}

/// Every cell the report asks about: two thirds patrolled in the window.
fn coverage(data: &Dataset) -> Coverage {
    let mut rng = Rng(7);
    let cells = data.cells_of_interest();
    let map: HashMap<_, _> = cells
        .into_iter()
        .map(|c| {
            let patrol = if rng.below(3) == 0 {
                CellPatrol::default()
            } else {
                let days = rng.below(30) as i64;
                CellPatrol {
                    visits: 1 + rng.below(5) as u32,
                    last_patrolled: Some(now() - Duration::days(days)),
                    overdue: days > 7,
                }
            };
            (c, patrol)
        })
        .collect();
    Coverage::Known(map)
}

fn params() -> ReportParams {
    let window = Window::days_before(now(), 90);
    ReportParams {
        window,
        districts: districts::Thresholds::default(),
        near_venues: near_venues::Params::new(100.0, 30, now()).expect("params"),
        works: works::Params::default(),
    }
}

fn bench(c: &mut Criterion) {
    let p = params();
    for (name, copies) in [("songjiang", 1), ("songjiang_x10", 10)] {
        let data = dataset(copies);
        let cov = coverage(&data);
        let r = report(&data, &cov, &p);
        eprintln!(
            "{name}: {} works, {} inspections, {} hazards, {} venues, {} districts, {} grids, {} cells with coverage; \
             report: {} near-venue pairs, {} flagged districts, {} works with gaps, {} towns",
            data.projects.len(),
            data.inspections.len(),
            data.hazards.len(),
            data.venues.len(),
            data.districts.len(),
            data.grids.len(),
            match &cov {
                Coverage::Known(m) => m.len(),
                Coverage::Unknown => 0,
            },
            r.near_venues.len(),
            r.districts.iter().filter(|d| d.flagged).count(),
            r.works.len(),
            r.scorecard.len(),
        );
        let mut g = c.benchmark_group("report");
        g.sample_size(20);
        g.throughput(Throughput::Elements(data.projects.len() as u64));
        g.bench_function(name, |b| b.iter(|| black_box(report(&data, &cov, &p))));
        g.finish();

        let mut g = c.benchmark_group("parts");
        g.sample_size(20);
        g.bench_function(format!("near_venues/{name}"), |b| {
            b.iter(|| black_box(near_venues::analyse(&data, &p.near_venues)));
        });
        g.bench_function(format!("districts/{name}"), |b| {
            b.iter(|| black_box(districts::analyse(&data, &cov, &p.window, &p.districts)));
        });
        g.bench_function(format!("works/{name}"), |b| {
            b.iter(|| black_box(works::analyse(&data, &p.window, &p.works, &[])));
        });
        g.bench_function(format!("scorecard/{name}"), |b| {
            b.iter(|| {
                black_box(scorecard::analyse(
                    &data,
                    &cov,
                    &p.window,
                    &scorecard::BlindSpots {
                        districts: &r.districts,
                        near_venues: &r.near_venues,
                        works: &r.works,
                    },
                ))
            });
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
