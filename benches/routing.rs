//! Route-planning benchmarks on deterministic instances.
//!
//! Before the timings, a quality table compares the planner's closed tours
//! with the nearest-neighbour tour and with the minimum-spanning-tree
//! doubling 2-approximation (the heuristic of pgRouting's former
//! `pgr_TSP`), for 50 to 500 stops on a street lattice and on the Songjiang
//! demo road graph. Under `cargo test` (no `--bench` flag) only the
//! smallest case runs, to keep the check quick.
//!
//! Run with `cargo bench --bench routing`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use gridpatrol::routing::{
    EdgeKind, NewEdge, NodeId, PlanOptions, PlanRequest, RoadGraph, ServiceTimes, Snap, Target,
    TargetKind, TravelMode, plan_route, tour,
};
use gridpatrol::spatial::LonLat;

/// splitmix64, so every run plans the same instances.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[expect(clippy::cast_precision_loss, reason = "53 random bits")]
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A 60 × 60 street lattice (≈9 × 10 km) with every 13th street missing.
#[expect(clippy::cast_precision_loss, reason = "small lattice indices")]
fn lattice() -> RoadGraph {
    let n = 60;
    let mut nodes = Vec::new();
    for r in 0..n {
        for c in 0..n {
            nodes.push(
                LonLat::new(121.15 + 0.0015 * c as f64, 30.99 + 0.0015 * r as f64).expect("valid"),
            );
        }
    }
    let mut edges = Vec::new();
    for r in 0..n {
        for c in 0..n {
            let i = r * n + c;
            let keep = |east: bool| (r * 7 + c * 3 + usize::from(east)) % 13 != 0;
            if c + 1 < n && keep(true) {
                edges.push(NewEdge {
                    from: NodeId(i),
                    to: NodeId(i + 1),
                    geometry: None,
                    kind: EdgeKind::Road,
                });
            }
            if r + 1 < n && keep(false) {
                edges.push(NewEdge {
                    from: NodeId(i),
                    to: NodeId(i + n),
                    geometry: None,
                    kind: EdgeKind::Road,
                });
            }
        }
    }
    RoadGraph::new(nodes, edges).expect("lattice")
}

fn demo() -> RoadGraph {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/songjiang/roads/songjiang_roads.geojson");
    RoadGraph::from_geojson(&std::fs::read_to_string(path).expect("demo fixture"))
        .expect("demo graph")
}

/// Seeded positions in a box: the lattice, or 松江新城 and its surroundings.
fn positions(seed: u64, n: usize, bbox: [f64; 4]) -> Vec<LonLat> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let lon = bbox[0] + (bbox[2] - bbox[0]) * rng.unit();
            let lat = bbox[1] + (bbox[3] - bbox[1]) * rng.unit();
            LonLat::new(lon, lat).expect("valid")
        })
        .collect()
}

const LATTICE_BOX: [f64; 4] = [121.15, 30.99, 121.2385, 31.0785];
const DEMO_BOX: [f64; 4] = [121.17, 30.99, 121.27, 31.07];

/// Road metres between snapped points, the walk to and from the road included.
fn road_matrix(g: &RoadGraph, points: &[LonLat]) -> tour::CostMatrix {
    let snaps: Vec<Snap> = points.iter().map(|&p| g.snap(p).expect("snap")).collect();
    let m = g.distance_matrix(&snaps);
    let n = snaps.len();
    tour::CostMatrix::from_fn(n, |i, j| {
        if i == j {
            0.0
        } else {
            snaps[i].distance_m + m[i * n + j] + snaps[j].distance_m
        }
    })
}

#[expect(clippy::print_stdout, reason = "a benchmark reports its figures")]
fn quality_table(full: bool) {
    let sizes: &[usize] = if full { &[50, 100, 200, 500] } else { &[50] };
    let graphs = [
        ("lattice", lattice(), LATTICE_BOX),
        ("songjiang demo", demo(), DEMO_BOX),
    ];
    println!("closed tours from a depot; lengths in km on the road graph");
    println!(
        "{:<15} {:>5} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10} {:>10}",
        "graph", "stops", "planner", "nearest", "mst x2", "vs nn", "vs mst", "matrix ms", "tour ms"
    );
    for (name, g, bbox) in &graphs {
        for &n in sizes {
            let points = positions(n as u64, n + 1, *bbox);
            let t0 = Instant::now();
            let m = road_matrix(g, &points);
            let matrix_ms = t0.elapsed().as_secs_f64() * 1e3;
            let t1 = Instant::now();
            let ours = tour::tour_cost(&m, &tour::best_tour(&m, 0));
            let tour_ms = t1.elapsed().as_secs_f64() * 1e3;
            let nn = tour::tour_cost(&m, &tour::nearest_neighbour_tour(&m, 0));
            let mst = tour::tour_cost(&m, &tour::mst_doubling_tour(&m, 0));
            println!(
                "{name:<15} {n:>5} {:>10.1} {:>10.1} {:>10.1} {:>8.3} {:>8.3} {matrix_ms:>10.1} {tour_ms:>10.1}",
                ours / 1e3,
                nn / 1e3,
                mst / 1e3,
                ours / nn,
                ours / mst
            );
        }
    }
}

fn request(points: &[LonLat], budget_s: f64) -> PlanRequest {
    PlanRequest {
        start: points[0],
        end: Some(points[0]),
        budget_s,
        mode: TravelMode::EBike,
        service: ServiceTimes {
            cell_s: 60.0,
            work_s: 600.0,
        },
        targets: points[1..]
            .iter()
            .enumerate()
            .map(|(i, &p)| Target {
                id: format!("t{i}"),
                kind: if i % 4 == 0 {
                    TargetKind::Work
                } else {
                    TargetKind::Cell
                },
                position: p,
                priority: 1.0 + f64::from(u32::try_from(i % 5).unwrap_or(0)),
            })
            .collect(),
    }
}

fn benches(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    quality_table(full);
    let g = demo();
    let n = if full { 200 } else { 50 };
    let points = positions(42, n + 1, DEMO_BOX);
    let all_fit = request(&points, 1e9);
    let shift = request(&points, 8.0 * 3600.0);
    let opts = PlanOptions::default();
    let mut group = c.benchmark_group("plan_route_demo_graph");
    group.sample_size(10);
    group.bench_function(format!("{n}_stops_all_fit"), |b| {
        b.iter(|| plan_route(Some(&g), black_box(&all_fit), &opts).expect("plan"));
    });
    group.bench_function(format!("{n}_stops_8h_ebike_shift"), |b| {
        b.iter(|| plan_route(Some(&g), black_box(&shift), &opts).expect("plan"));
    });
    let m = road_matrix(&g, &points);
    group.bench_function(format!("{n}_stops_tour_only"), |b| {
        b.iter(|| tour::best_tour(black_box(&m), 0));
    });
    group.finish();
}

criterion_group!(routing, benches);
criterion_main!(routing);
