//! Coverage benchmarks on deterministic, seeded data around Songjiang.
//!
//! - `tiler/*`: `cover_track` throughput in fixes per second on one thread,
//!   next to the baseline of indexing every fix with `LatLng::to_cell`, and
//!   one `TrackTiler` over a file of many 5 s e-bike rides, as an import
//!   tiles them.
//! - `analysis/*`: a whole district (about 53,000 res-10 cells) against a
//!   year of visits.
//!
//! `cargo bench --bench coverage`; the ratio to the baseline, the sizes and
//! CPU-time figures are printed to stderr before criterion's own (wall
//! time) figures.

#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    reason = "synthetic data: small counts, indexes and durations cast freely"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gridpatrol::coverage::analysis::{PatrolIntervals, TimeWindow, VisitRow, analyse};
use gridpatrol::coverage::{CoverageParams, TrackTiler, cover_track};
use gridpatrol::spatial::TrackPoint;
use h3o::{CellIndex, LatLng, Resolution};

/// `SplitMix64`: tiny, seeded, good enough for synthetic tracks.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const M_PER_DEG_LON: f64 = 95_504.0;
const M_PER_DEG_LAT: f64 = 110_869.0;

/// A patrol: a path that turns gently and now and then sharply at a
/// corner, at `speed` m/s, one fix every `dt_s` seconds, each fix off by
/// Gaussian noise of `noise_m` per axis. Stays inside Songjiang by turning
/// back at the edge of a 10 km box.
fn patrol(seed: u64, n: usize, speed_m_s: f64, dt_s: i64, noise_m: f64) -> Vec<TrackPoint> {
    patrol_from(seed, n, speed_m_s, dt_s, noise_m, (0.0, 0.0))
}

/// [`patrol`] from `start`, metres east and north of the box's centre.
fn patrol_from(
    seed: u64,
    n: usize,
    speed_m_s: f64,
    dt_s: i64,
    noise_m: f64,
    start: (f64, f64),
) -> Vec<TrackPoint> {
    let mut rng = Rng(seed);
    let (lon0, lat0) = (121.23, 31.03);
    let (mut x, mut y) = start;
    let mut heading = rng.unit() * std::f64::consts::TAU;
    let mut t_ms = 1_700_000_000_000_i64;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        if rng.unit() < 0.01 {
            heading += std::f64::consts::FRAC_PI_2 * if rng.unit() < 0.5 { 1.0 } else { -1.0 };
        }
        heading += 0.05 * rng.normal();
        if x.abs() > 5_000.0 || y.abs() > 5_000.0 {
            heading = (-y).atan2(-x);
        }
        let step = speed_m_s * dt_s as f64;
        x += step * heading.cos();
        y += step * heading.sin();
        out.push(TrackPoint {
            lon: lon0 + (x + noise_m * rng.normal()) / M_PER_DEG_LON,
            lat: lat0 + (y + noise_m * rng.normal()) / M_PER_DEG_LAT,
            t_ms,
        });
        t_ms += dt_s * 1000;
    }
    out
}

fn baseline(points: &[TrackPoint], res: Resolution) -> u64 {
    let mut acc = 0u64;
    for p in points {
        if let Ok(ll) = LatLng::new(p.lat, p.lon) {
            acc = acc.wrapping_add(u64::from(ll.to_cell(res)));
        }
    }
    acc
}

/// CPU time of this thread, from the kernel's scheduler statistics: the
/// machine this runs on is shared, and wall time would count the others.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Mean CPU time (wall time where the kernel does not say) of one run.
fn time_per_run(mut f: impl FnMut()) -> Duration {
    f();
    let runs = 5;
    let wall = Instant::now();
    let cpu = thread_cpu_time();
    for _ in 0..runs {
        f();
    }
    match (cpu, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a) / runs,
        _ => wall.elapsed() / runs,
    }
}

fn tiler(c: &mut Criterion) {
    const N: usize = 100_000;
    let params = CoverageParams::default();
    let tracks = [
        ("walk", patrol(1, N, 1.4, 1, 4.0)),
        ("ebike", patrol(2, N, 5.5, 1, 5.0)),
        ("ebike_5s", patrol(3, N, 5.5, 5, 5.0)),
    ];
    for (name, track) in &tracks {
        let cells = cover_track(track, &params).len();
        let ours = time_per_run(|| {
            black_box(cover_track(black_box(track), &params));
        });
        let base = time_per_run(|| {
            black_box(baseline(black_box(track), params.resolution()));
        });
        // the same track again on a tiler that kept its cells: the share
        // of building the cells' geometry and neighbours
        let mut warm_tiler = TrackTiler::new(&params);
        black_box(warm_tiler.cover(track));
        let kept = warm_tiler.kept_cells();
        let warm = time_per_run(|| {
            black_box(warm_tiler.cover(black_box(track)));
        });
        let rate = |d: Duration| N as f64 / d.as_secs_f64() / 1e6;
        eprintln!(
            "tiler/{name}: {N} fixes, {cells} cells ({kept} looked at); cover_track {:.2} M \
             fixes/s (CPU time), with its cells kept {:.2} M fixes/s, to_cell per fix {:.2} M \
             fixes/s, ratio {:.2}x",
            rate(ours),
            rate(warm),
            rate(base),
            base.as_secs_f64() / ours.as_secs_f64()
        );
    }
    // As an import does it: one tiler for a file of many officers' 5 s
    // e-bike rides from all over the box, against to_cell on the same fixes.
    let mut starts = Rng(99);
    let rides: Vec<Vec<TrackPoint>> = (0..200)
        .map(|k| {
            let start = (
                10_000.0 * (starts.unit() - 0.5),
                10_000.0 * (starts.unit() - 0.5),
            );
            patrol_from(100 + k, 2_000, 5.5, 5, 5.0, start)
        })
        .collect();
    let fixes: usize = rides.iter().map(Vec::len).sum();
    let mut tiler = TrackTiler::new(&params);
    for ride in &rides {
        assert_eq!(
            tiler.cover(ride),
            cover_track(ride, &params),
            "a kept tiler"
        );
    }
    let kept = time_per_run(|| {
        let mut tiler = TrackTiler::new(&params);
        for ride in &rides {
            black_box(tiler.cover(black_box(ride)));
        }
    });
    let base = time_per_run(|| {
        for ride in &rides {
            black_box(baseline(black_box(ride), params.resolution()));
        }
    });
    let rate = |d: Duration| fixes as f64 / d.as_secs_f64() / 1e6;
    eprintln!(
        "tiler/ebike_5s_file: {} rides, {fixes} fixes, one tiler; cover {:.2} M fixes/s (CPU \
         time), to_cell per fix {:.2} M fixes/s, ratio {:.2}x",
        rides.len(),
        rate(kept),
        rate(base),
        base.as_secs_f64() / kept.as_secs_f64()
    );

    let mut group = c.benchmark_group("tiler");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);
    for (name, track) in &tracks {
        group.bench_function(format!("{name}/cover_track"), |b| {
            b.iter(|| cover_track(black_box(track), &params));
        });
        group.bench_function(format!("{name}/to_cell_baseline"), |b| {
            b.iter(|| baseline(black_box(track), params.resolution()));
        });
    }
    group.finish();
}

const DAY_MS: i64 = 86_400_000;
/// 2024-01-01 00:00 China Standard Time.
const YEAR_START_MS: i64 = 1_704_038_400_000;

/// Every res-10 cell within about 14 km of central Songjiang: 52,669 cells,
/// about 605 km², the district's size.
fn district() -> Vec<CellIndex> {
    let centre = LatLng::new(31.03, 121.23)
        .map(|ll| ll.to_cell(Resolution::Ten))
        .expect("valid centre");
    let mut cells: Vec<CellIndex> = centre.grid_disk(132);
    cells.sort_unstable();
    cells
}

/// A year of visits: 100 tracks a day between 08:00 and 18:00, each row
/// 5 s to 10 min long; busy cells get many rows and a fifth of the district
/// none. Sorted by `(cell, track_id)` as the store returns them.
fn year_of_visits(scope: &[CellIndex], rows: usize) -> Vec<VisitRow> {
    let mut rng = Rng(7);
    let reachable = scope.len() * 4 / 5;
    let mut out: Vec<VisitRow> = (0..rows)
        .map(|_| {
            let u = rng.unit();
            let cell = scope[((u * u * reachable as f64) as usize).min(reachable - 1)];
            let day = (rng.next_u64() % 366) as i64;
            let officer = (rng.next_u64() % 100) as i64;
            let first_ms =
                YEAR_START_MS + day * DAY_MS + 8 * 3_600_000 + (rng.unit() * 36e6) as i64;
            VisitRow {
                cell,
                track_id: day * 100 + officer,
                first_ms,
                last_ms: first_ms + 5_000 + (rng.unit() * 595e3) as i64,
            }
        })
        .collect();
    out.sort_unstable_by_key(|v| (v.cell, v.track_id));
    out
}

fn analysis(c: &mut Criterion) {
    let scope = district();
    let rows = year_of_visits(&scope, 2_000_000);
    let intervals = PatrolIntervals::new(7).expect("valid interval");
    let year = TimeWindow::new(YEAR_START_MS, YEAR_START_MS + 366 * DAY_MS).expect("valid");
    let month =
        TimeWindow::new(YEAR_START_MS + 335 * DAY_MS, YEAR_START_MS + 366 * DAY_MS).expect("valid");
    for (name, window) in [("year", year), ("last_month", month)] {
        let report = analyse(&scope, &rows, window, &intervals);
        let took = time_per_run(|| {
            black_box(analyse(
                black_box(&scope),
                black_box(&rows),
                window,
                &intervals,
            ));
        });
        eprintln!(
            "analysis/{name}: {} cells, {} visit rows, {} weeks; {:.1} ms (CPU time); \
             {:.1} % patrolled, {} overdue",
            scope.len(),
            rows.len(),
            report.weeks.len(),
            took.as_secs_f64() * 1e3,
            report.ratio * 100.0,
            report.overdue_cells
        );
    }
    let mut group = c.benchmark_group("analysis");
    group.sample_size(20);
    group.bench_function("district_year", |b| {
        b.iter(|| analyse(black_box(&scope), black_box(&rows), year, &intervals));
    });
    group.bench_function("district_last_month", |b| {
        b.iter(|| analyse(black_box(&scope), black_box(&rows), month, &intervals));
    });
    group.finish();
}

criterion_group!(benches, tiler, analysis);
criterion_main!(benches);
