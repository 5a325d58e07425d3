//! The patrol planner on a lattice road graph: optimal order on small
//! instances (checked by brute force), routes that stay on the graph, the
//! shift budget, start and end, left-out reasons and the straight-line
//! fallback.

#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "small test coordinates and seeds"
)]

use gridpatrol::routing::{
    EdgeKind, LeftOutReason, NewEdge, NodeId, PlanOptions, PlanRequest, RoadGraph, RoutePlan,
    ServiceTimes, Target, TargetKind, TravelMode, plan_route, tour,
};
use gridpatrol::spatial::LonLat;
use proptest::prelude::*;

/// splitmix64: a seeded, dependency-free generator for test instances.
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

const LON0: f64 = 121.20;
const LAT0: f64 = 31.00;
const STEP: f64 = 0.002; // ≈190 m east, 222 m north

fn ll(lon: f64, lat: f64) -> LonLat {
    LonLat::new(lon, lat).expect("valid")
}

/// A rows × cols street lattice south-west of 松江新城, every street kept
/// unless `missing` says otherwise.
fn lattice(rows: usize, cols: usize, missing: impl Fn(usize, usize, bool) -> bool) -> RoadGraph {
    let mut nodes = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            nodes.push(ll(LON0 + STEP * c as f64, LAT0 + STEP * r as f64));
        }
    }
    let mut edges = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let i = r * cols + c;
            if c + 1 < cols && !missing(r, c, true) {
                edges.push(NewEdge {
                    from: NodeId(i),
                    to: NodeId(i + 1),
                    geometry: None,
                    kind: EdgeKind::Road,
                });
            }
            if r + 1 < rows && !missing(r, c, false) {
                edges.push(NewEdge {
                    from: NodeId(i),
                    to: NodeId(i + cols),
                    geometry: None,
                    kind: EdgeKind::Road,
                });
            }
        }
    }
    RoadGraph::new(nodes, edges).expect("lattice")
}

fn random_point(rng: &mut Rng, rows: usize, cols: usize) -> LonLat {
    ll(
        LON0 + STEP * (cols - 1) as f64 * rng.unit(),
        LAT0 + STEP * (rows - 1) as f64 * rng.unit(),
    )
}

fn targets(rng: &mut Rng, n: usize, rows: usize, cols: usize) -> Vec<Target> {
    (0..n)
        .map(|i| Target {
            id: format!("t{i}"),
            kind: if i % 3 == 0 {
                TargetKind::Work
            } else {
                TargetKind::Cell
            },
            position: random_point(rng, rows, cols),
            priority: 1.0 + (rng.next() % 5) as f64,
        })
        .collect()
}

fn request(start: LonLat, end: Option<LonLat>, budget_s: f64, targets: Vec<Target>) -> PlanRequest {
    PlanRequest {
        start,
        end,
        budget_s,
        mode: TravelMode::Walk,
        service: ServiceTimes {
            cell_s: 60.0,
            work_s: 600.0,
        },
        targets,
    }
}

/// Depth-first search over the orders of `left`, pruned by the best so far.
fn go(
    cur: usize,
    elapsed: f64,
    left: &mut Vec<usize>,
    best: &mut f64,
    time: &dyn Fn(usize, usize) -> f64,
    service: &[f64],
    end: Option<usize>,
) {
    if elapsed >= *best {
        return;
    }
    if left.is_empty() {
        let total = elapsed + end.map_or(0.0, |e| time(cur, e));
        *best = best.min(total);
        return;
    }
    for i in 0..left.len() {
        let next = left.swap_remove(i);
        go(
            next,
            elapsed + time(cur, next) + service[next],
            left,
            best,
            time,
            service,
            end,
        );
        left.push(next);
        let last = left.len() - 1;
        left.swap(i, last);
    }
}

/// The duration of the best order by exhaustive search (depth-first over
/// all permutations, pruned by the best found so far).
fn brute_force_duration(g: &RoadGraph, req: &PlanRequest) -> f64 {
    let mut points = vec![req.start];
    points.extend(req.targets.iter().map(|t| t.position));
    points.extend(req.end);
    let snaps: Vec<_> = points.iter().map(|&p| g.snap(p).expect("snap")).collect();
    let network = g.distance_matrix(&snaps);
    let n = points.len();
    let speed = req.mode.speed_mps();
    let time = |i: usize, j: usize| {
        (snaps[i].distance_m + network[i * n + j] + snaps[j].distance_m) / speed
    };
    let service: Vec<f64> = std::iter::once(0.0)
        .chain(req.targets.iter().map(|t| match t.kind {
            TargetKind::Cell => req.service.cell_s,
            TargetKind::Work => req.service.work_s,
        }))
        .collect();
    let k = req.targets.len();
    let end = req.end.map(|_| n - 1);
    let mut best = f64::INFINITY;
    go(
        0,
        0.0,
        &mut (1..=k).collect(),
        &mut best,
        &time,
        &service,
        end,
    );
    best
}

fn assert_on_graph(g: &RoadGraph, plan: &RoutePlan) {
    for leg in &plan.legs {
        for w in leg.nodes.windows(2) {
            assert!(
                g.are_adjacent(w[0], w[1]),
                "{:?} and {:?} are not joined by an edge",
                w[0],
                w[1]
            );
        }
    }
}

fn assert_consistent(req: &PlanRequest, plan: &RoutePlan) {
    assert_eq!(plan.legs.len(), plan.stops.len() + 1);
    let mut clock = 0.0;
    for (stop, leg) in plan.stops.iter().zip(&plan.legs) {
        clock += leg.travel_s;
        assert!((stop.arrival_s - clock).abs() < 1e-6);
        assert!(stop.departure_s >= stop.arrival_s);
        clock = stop.departure_s;
    }
    clock += plan.legs.last().map_or(0.0, |l| l.travel_s);
    assert!((plan.total_duration_s - clock).abs() < 1e-6);
    assert!(
        plan.total_duration_s <= req.budget_s + 1e-6,
        "{} > {}",
        plan.total_duration_s,
        req.budget_s
    );
    let first = plan.route.0.first().expect("route");
    assert_eq!(
        (first.x, first.y),
        (req.start.lon(), req.start.lat()),
        "starts at the start"
    );
    let last = plan.route.0.last().expect("route");
    let expected_end = req
        .end
        .or(plan.stops.last().map(|s| s.position))
        .unwrap_or(req.start);
    assert_eq!(
        (last.x, last.y),
        (expected_end.lon(), expected_end.lat()),
        "ends where asked"
    );
    assert_eq!(plan.stops.len() + plan.left_out.len(), req.targets.len());
}

#[test]
fn small_tours_are_optimal() {
    let (rows, cols) = (12, 12);
    let g = lattice(rows, cols, |r, c, east| {
        (r * 7 + c * 3 + usize::from(east)) % 11 == 0
    });
    for seed in 0..24u64 {
        let mut rng = Rng(seed);
        let n = 3 + (seed as usize % 8); // 3..=10 stops
        let start = random_point(&mut rng, rows, cols);
        let end = match seed % 3 {
            0 => Some(start),
            1 => Some(random_point(&mut rng, rows, cols)),
            _ => None,
        };
        let req = request(start, end, 1e9, targets(&mut rng, n, rows, cols));
        let plan = plan_route(Some(&g), &req, &PlanOptions::default()).expect("plan");
        assert!(plan.road_network);
        assert_eq!(plan.stops.len(), n, "seed {seed}: everything fits");
        let best = brute_force_duration(&g, &req);
        assert!(
            (plan.total_duration_s - best).abs() <= 1e-6 * best,
            "seed {seed}: planned {} s, optimum {best} s",
            plan.total_duration_s
        );
        assert_on_graph(&g, &plan);
        assert_consistent(&req, &plan);
    }
}

#[test]
fn local_search_is_close_to_optimal_on_small_tours() {
    // The heuristic alone (the planner switches to it above a dozen stops).
    let mut worst: f64 = 1.0;
    let mut sum = 0.0;
    let runs = 40;
    for seed in 0..runs {
        let mut rng = Rng(1000 + seed);
        let n = 6 + (seed as usize % 5);
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|_| (rng.unit() * 5000.0, rng.unit() * 5000.0))
            .collect();
        let m =
            tour::CostMatrix::from_fn(n, |i, j| (pts[i].0 - pts[j].0).hypot(pts[i].1 - pts[j].1));
        let exact = tour::tour_cost(&m, &tour::best_tour(&m, 0));
        let heuristic = tour::tour_cost(&m, &tour::heuristic_tour(&m, 0));
        let ratio = heuristic / exact;
        assert!(ratio >= 1.0 - 1e-9, "the exact solver was beaten");
        worst = worst.max(ratio);
        sum += ratio;
    }
    let mean = sum / runs as f64;
    assert!(mean < 1.01, "mean ratio {mean}");
    assert!(worst < 1.06, "worst ratio {worst}");
}

#[test]
fn a_short_shift_keeps_the_best_stops() {
    let (rows, cols) = (15, 15);
    let g = lattice(rows, cols, |_, _, _| false);
    let mut rng = Rng(7);
    let start = ll(LON0 + STEP * 7.0, LAT0 + STEP * 7.0);
    let req = request(
        start,
        Some(start),
        3600.0,
        targets(&mut rng, 40, rows, cols),
    );
    let plan = plan_route(Some(&g), &req, &PlanOptions::default()).expect("plan");
    assert!(!plan.stops.is_empty());
    assert!(!plan.left_out.is_empty());
    assert!(
        plan.left_out
            .iter()
            .all(|l| l.reason == LeftOutReason::DoesNotFit)
    );
    assert_eq!(
        plan.left_out[0].reason.to_string(),
        "does not fit in the shift"
    );
    assert_on_graph(&g, &plan);
    assert_consistent(&req, &plan);
    // An e-bike covers more in the same shift.
    let bike = PlanRequest {
        mode: TravelMode::EBike,
        ..req.clone()
    };
    let by_bike = plan_route(Some(&g), &bike, &PlanOptions::default()).expect("plan");
    assert!(by_bike.total_priority >= plan.total_priority);
    assert_consistent(&bike, &by_bike);
}

#[test]
fn unreachable_and_off_network_targets_are_left_out_with_a_reason() {
    // Columns 0–4 and 6–9 are not joined: column 5's east-west streets are gone.
    let g = lattice(6, 10, |_, c, east| east && c == 4);
    let start = ll(LON0 + 0.001, LAT0 + 0.001);
    let targets = vec![
        Target {
            id: "near".into(),
            kind: TargetKind::Cell,
            position: ll(LON0 + STEP * 2.0, LAT0 + STEP),
            priority: 1.0,
        },
        Target {
            id: "across".into(),
            kind: TargetKind::Work,
            position: ll(LON0 + STEP * 8.0, LAT0 + STEP),
            priority: 5.0,
        },
        Target {
            id: "far".into(),
            kind: TargetKind::Cell,
            position: ll(LON0 + 0.05, LAT0 + 0.05),
            priority: 5.0,
        },
    ];
    let req = request(start, None, 1e6, targets);
    let plan = plan_route(Some(&g), &req, &PlanOptions::default()).expect("plan");
    assert_eq!(
        plan.stops.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["near"]
    );
    assert_eq!(plan.left_out.len(), 2);
    assert_eq!(plan.left_out[0].reason, LeftOutReason::Unreachable);
    assert_eq!(
        plan.left_out[0].reason.to_string(),
        "unreachable on the road network"
    );
    assert!(
        matches!(plan.left_out[1].reason, LeftOutReason::OffNetwork { distance_m } if distance_m > 5000.0)
    );
    assert_consistent(&req, &plan);
    // An end on the other side cannot be reached at all.
    let across = PlanRequest {
        end: Some(ll(LON0 + STEP * 9.0, LAT0)),
        ..req
    };
    assert!(plan_route(Some(&g), &across, &PlanOptions::default()).is_err());
}

#[test]
fn without_a_graph_legs_are_straight_lines_with_a_detour_factor() {
    let start = ll(121.22, 31.03);
    let t = ll(121.23, 31.03);
    let req = request(
        start,
        Some(start),
        1e5,
        vec![Target {
            id: "w".into(),
            kind: TargetKind::Work,
            position: t,
            priority: 1.0,
        }],
    );
    let plan = plan_route(None, &req, &PlanOptions::default()).expect("plan");
    assert!(!plan.road_network);
    let straight = start.distance_m(t);
    assert!((plan.total_distance_m - 2.0 * 1.3 * straight).abs() < 1e-6);
    assert!((plan.total_duration_s - (2.0 * 1.3 * straight / 1.3 + 600.0)).abs() < 1e-6);
    assert_consistent(&req, &plan);
}

#[test]
fn invalid_requests_are_refused() {
    let g = lattice(3, 3, |_, _, _| false);
    let start = ll(LON0, LAT0);
    let t = Target {
        id: "x".into(),
        kind: TargetKind::Cell,
        position: start,
        priority: 0.0,
    };
    assert!(
        plan_route(
            Some(&g),
            &request(start, None, 100.0, vec![t]),
            &PlanOptions::default()
        )
        .is_err()
    );
    assert!(
        plan_route(
            Some(&g),
            &request(start, None, f64::NAN, vec![]),
            &PlanOptions::default()
        )
        .is_err()
    );
    // A shift too short to reach the end.
    let far_end = Some(ll(LON0 + STEP * 2.0, LAT0 + STEP * 2.0));
    assert!(
        plan_route(
            Some(&g),
            &request(start, far_end, 10.0, vec![]),
            &PlanOptions::default()
        )
        .is_err()
    );
    // A start far from every road.
    assert!(
        plan_route(
            Some(&g),
            &request(ll(121.0, 31.5), None, 100.0, vec![]),
            &PlanOptions::default()
        )
        .is_err()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn plans_respect_the_shift_and_stay_on_the_roads(
        seed in 0u64..10_000,
        n in 0usize..30,
        budget in 600.0f64..14_400.0,
        open_end in any::<bool>(),
    ) {
        let (rows, cols) = (10, 10);
        let g = lattice(rows, cols, |r, c, east| (r * 5 + c + usize::from(east)) % 7 == 0);
        let mut rng = Rng(seed);
        let start = random_point(&mut rng, rows, cols);
        let end = if open_end { None } else { Some(start) };
        let req = request(start, end, budget, targets(&mut rng, n, rows, cols));
        let plan = plan_route(Some(&g), &req, &PlanOptions::default()).expect("plan");
        assert_on_graph(&g, &plan);
        assert_consistent(&req, &plan);
    }
}
