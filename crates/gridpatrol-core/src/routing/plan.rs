//! The patrol planner: tomorrow's route through overdue cells and works due
//! an inspection, within one shift.
//!
//! Targets are snapped to the road graph; a distance matrix between start,
//! targets and end comes from one Dijkstra per point; the orienteering
//! solver of [`super::tour`] chooses and orders the stops; each leg is then
//! traced on the graph (A*), so the route follows the roads. The short walk
//! between a target and its nearest road counts in both distance and time.
//! Without a graph, legs are straight geodesic lines times a detour factor.

use geo::{Coord, LineString};
use serde::{Deserialize, Serialize};

use super::error::RoutingError;
use super::graph::{NodeId, RoadGraph, Snap};
use super::path::Search;
use super::tour::{CostMatrix, Orienteering};
use crate::spatial::LonLat;

/// How the officer moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TravelMode {
    /// On foot, 1.3 m/s.
    Walk,
    /// By e-bike, 4.5 m/s (about 16 km/h in town traffic).
    EBike,
}

impl TravelMode {
    /// Average speed in metres per second.
    #[must_use]
    pub fn speed_mps(self) -> f64 {
        match self {
            Self::Walk => 1.3,
            Self::EBike => 4.5,
        }
    }
}

/// What a stop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// An H3 cell that is overdue a patrol (visit its centre).
    Cell,
    /// A construction work due an inspection.
    Work,
}

/// A place the route may visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub kind: TargetKind,
    pub position: LonLat,
    /// How much visiting it is worth; finite and > 0.
    pub priority: f64,
}

/// Seconds spent at a stop, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServiceTimes {
    pub cell_s: f64,
    pub work_s: f64,
}

impl Default for ServiceTimes {
    /// Two minutes to look round a cell, twenty to inspect a work.
    fn default() -> Self {
        Self {
            cell_s: 120.0,
            work_s: 1200.0,
        }
    }
}

impl ServiceTimes {
    fn of(&self, kind: TargetKind) -> f64 {
        match kind {
            TargetKind::Cell => self.cell_s,
            TargetKind::Work => self.work_s,
        }
    }
}

/// What to plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub start: LonLat,
    /// Where the shift ends; `None` ends it at the last stop.
    pub end: Option<LonLat>,
    /// Length of the shift in seconds: travel plus time at the stops.
    pub budget_s: f64,
    pub mode: TravelMode,
    pub service: ServiceTimes,
    pub targets: Vec<Target>,
}

/// Tuning of the planner; the defaults suit a district.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Road distance over straight-line distance assumed without a graph.
    pub detour_factor: f64,
    /// A target farther than this from every road is left out; the start
    /// and end must be closer than this too.
    pub max_snap_m: f64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            detour_factor: 1.3,
            max_snap_m: 500.0,
        }
    }
}

/// One visit of the planned route.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStop {
    /// Index of the target in the request.
    pub target: usize,
    pub id: String,
    pub kind: TargetKind,
    pub position: LonLat,
    pub priority: f64,
    /// Seconds from the start of the shift to arrival.
    pub arrival_s: f64,
    /// Seconds from the start of the shift to departure.
    pub departure_s: f64,
}

/// The way from one point of the route to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    pub distance_m: f64,
    pub travel_s: f64,
    /// Road nodes passed in order (empty without a graph, or when the leg
    /// stays on one edge); consecutive nodes share an edge.
    pub nodes: Vec<NodeId>,
    /// The leg from point to point, along the roads when there is a graph.
    pub geometry: LineString<f64>,
}

/// Why a target is not on the route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LeftOutReason {
    /// There is a way to it, but not within the shift next to better stops.
    DoesNotFit,
    /// No road path joins it to the start (or to the end).
    Unreachable,
    /// It is farther from the nearest road than the planner accepts.
    OffNetwork { distance_m: f64 },
}

impl std::fmt::Display for LeftOutReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DoesNotFit => f.write_str("does not fit in the shift"),
            Self::Unreachable => f.write_str("unreachable on the road network"),
            Self::OffNetwork { distance_m } => write!(f, "{distance_m:.0} m from the nearest road"),
        }
    }
}

impl LeftOutReason {
    /// The reason in Chinese, for people.
    #[must_use]
    pub fn text_zh(&self) -> String {
        match self {
            Self::DoesNotFit => "班次时间内排不下".to_owned(),
            Self::Unreachable => "路网上无法到达".to_owned(),
            Self::OffNetwork { distance_m } => format!("距最近道路 {distance_m:.0} 米"),
        }
    }
}

/// A target left off the route.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    pub target: usize,
    pub id: String,
    pub reason: LeftOutReason,
}

/// A planned patrol route.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutePlan {
    pub stops: Vec<PlannedStop>,
    /// `stops.len() + 1` legs: start to the first stop, …, last stop to
    /// the end (a zero leg when the route ends at its last stop).
    pub legs: Vec<Leg>,
    pub left_out: Vec<LeftOut>,
    pub total_distance_m: f64,
    /// Seconds from the start to the end: travel plus service.
    pub total_duration_s: f64,
    pub total_priority: f64,
    /// The whole route, following the roads when there is a graph.
    pub route: LineString<f64>,
    /// Whether distances are on the road network (`false`: straight lines
    /// times the detour factor).
    pub road_network: bool,
}

fn validate(req: &PlanRequest, opts: &PlanOptions) -> Result<(), RoutingError> {
    if !(req.budget_s.is_finite() && req.budget_s >= 0.0) {
        return Err(RoutingError::invalid(
            "budget_s",
            "must be a finite number of seconds ≥ 0",
        ));
    }
    for (name, v) in [
        ("service.cell_s", req.service.cell_s),
        ("service.work_s", req.service.work_s),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(RoutingError::invalid(
                name,
                "must be a finite number of seconds ≥ 0",
            ));
        }
    }
    if !(opts.detour_factor.is_finite() && opts.detour_factor >= 1.0) {
        return Err(RoutingError::invalid("detour_factor", "must be ≥ 1"));
    }
    if !(opts.max_snap_m.is_finite() && opts.max_snap_m >= 0.0) {
        return Err(RoutingError::invalid("max_snap_m", "must be ≥ 0"));
    }
    for (i, t) in req.targets.iter().enumerate() {
        if !(t.priority.is_finite() && t.priority > 0.0) {
            return Err(RoutingError::invalid(
                format!("targets[{i}].priority"),
                "must be finite and > 0",
            ));
        }
    }
    Ok(())
}

/// Matrix point layout: 0 start, 1..=n targets, n + 1 end (when fixed).
struct Layout {
    n: usize,
    has_end: bool,
}

impl Layout {
    fn len(&self) -> usize {
        self.n + 1 + usize::from(self.has_end)
    }
    fn end(&self) -> Option<usize> {
        self.has_end.then_some(self.n + 1)
    }
}

/// Plans a route on `graph`, or with straight lines when `graph` is `None`.
pub fn plan_route(
    graph: Option<&RoadGraph>,
    req: &PlanRequest,
    opts: &PlanOptions,
) -> Result<RoutePlan, RoutingError> {
    validate(req, opts)?;
    match graph {
        Some(g) => plan_on_graph(g, req, opts),
        None => plan_straight(req, opts),
    }
}

fn snap_required(
    g: &RoadGraph,
    p: LonLat,
    what: &'static str,
    opts: &PlanOptions,
) -> Result<Snap, RoutingError> {
    let s = g.snap(p).ok_or(RoutingError::EmptyGraph)?;
    if s.distance_m > opts.max_snap_m {
        return Err(RoutingError::OffNetwork {
            what,
            distance_m: s.distance_m,
            max_m: opts.max_snap_m,
        });
    }
    Ok(s)
}

fn plan_on_graph(
    g: &RoadGraph,
    req: &PlanRequest,
    opts: &PlanOptions,
) -> Result<RoutePlan, RoutingError> {
    let layout = Layout {
        n: req.targets.len(),
        has_end: req.end.is_some(),
    };
    let start = snap_required(g, req.start, "start", opts)?;
    let end = req
        .end
        .map(|e| snap_required(g, e, "end", opts))
        .transpose()?;
    let mut left_out = Vec::new();
    // Targets too far from any road stay in the matrix as unreachable.
    let mut snaps: Vec<Snap> = vec![start];
    let mut off_network = vec![false; layout.len()];
    for (i, t) in req.targets.iter().enumerate() {
        let s = g.snap(t.position).ok_or(RoutingError::EmptyGraph)?;
        if s.distance_m > opts.max_snap_m {
            off_network[i + 1] = true;
            left_out.push(LeftOut {
                target: i,
                id: t.id.clone(),
                reason: LeftOutReason::OffNetwork {
                    distance_m: s.distance_m,
                },
            });
        }
        snaps.push(s);
    }
    snaps.extend(end);
    let network = g.distance_matrix(&snaps);
    let len = layout.len();
    let points: Vec<LonLat> = std::iter::once(req.start)
        .chain(req.targets.iter().map(|t| t.position))
        .chain(req.end)
        .collect();
    let metres = CostMatrix::from_fn(len, |i, j| {
        if i == j {
            0.0
        } else if off_network[i] || off_network[j] {
            f64::INFINITY
        } else {
            snaps[i].distance_m + network[i * len + j] + snaps[j].distance_m
        }
    });
    if let Some(e) = layout.end()
        && !metres.get(0, e).is_finite()
    {
        return Err(RoutingError::EndUnreachable);
    }
    let chosen = choose(req, &layout, &metres, &mut left_out)?;
    let mut search = Search::new(g);
    let trace = |a: usize, b: usize, search: &mut Search| -> Leg {
        let distance_m = metres.get(a, b);
        let travel_s = distance_m / req.mode.speed_mps();
        let path = g.path_with(search, &snaps[a], &snaps[b]);
        let mut coords = vec![Coord::from(points[a])];
        let mut nodes = Vec::new();
        if let Some(p) = path {
            coords.extend(p.geometry.0);
            nodes = p.nodes;
        }
        coords.push(Coord::from(points[b]));
        coords.dedup();
        Leg {
            distance_m,
            travel_s,
            nodes,
            geometry: line(coords),
        }
    };
    Ok(assemble(req, &layout, &chosen, left_out, true, |a, b| {
        trace(a, b, &mut search)
    }))
}

fn plan_straight(req: &PlanRequest, opts: &PlanOptions) -> Result<RoutePlan, RoutingError> {
    let layout = Layout {
        n: req.targets.len(),
        has_end: req.end.is_some(),
    };
    let points: Vec<LonLat> = std::iter::once(req.start)
        .chain(req.targets.iter().map(|t| t.position))
        .chain(req.end)
        .collect();
    let metres = CostMatrix::from_fn(layout.len(), |i, j| {
        points[i].distance_m(points[j]) * opts.detour_factor
    });
    let mut left_out = Vec::new();
    let chosen = choose(req, &layout, &metres, &mut left_out)?;
    Ok(assemble(req, &layout, &chosen, left_out, false, |a, b| {
        let distance_m = metres.get(a, b);
        Leg {
            distance_m,
            travel_s: distance_m / req.mode.speed_mps(),
            nodes: Vec::new(),
            geometry: line(vec![Coord::from(points[a]), Coord::from(points[b])]),
        }
    }))
}

fn line(mut coords: Vec<Coord<f64>>) -> LineString<f64> {
    if coords.len() == 1 {
        coords.push(coords[0]);
    }
    LineString::from(coords)
}

/// Picks and orders the stops (matrix indices); records the unreachable
/// and the ones that do not fit in `left_out`.
fn choose(
    req: &PlanRequest,
    layout: &Layout,
    metres: &CostMatrix,
    left_out: &mut Vec<LeftOut>,
) -> Result<Vec<usize>, RoutingError> {
    let speed = req.mode.speed_mps();
    let len = layout.len();
    let seconds = CostMatrix::from_fn(len, |i, j| metres.get(i, j) / speed);
    let direct = layout.end().map_or(0.0, |e| seconds.get(0, e));
    if direct > req.budget_s {
        return Err(RoutingError::BudgetTooShort {
            needed_s: direct,
            budget_s: req.budget_s,
        });
    }
    let mut service = vec![0.0; len];
    let mut prize = vec![0.0; len];
    let mut candidates = Vec::new();
    let already: Vec<usize> = left_out.iter().map(|l| l.target).collect();
    for (i, t) in req.targets.iter().enumerate() {
        let k = i + 1;
        service[k] = req.service.of(t.kind);
        prize[k] = t.priority;
        if already.contains(&i) {
            continue;
        }
        let reachable = seconds.get(0, k).is_finite()
            && layout.end().is_none_or(|e| seconds.get(k, e).is_finite());
        if reachable {
            candidates.push(k);
        } else {
            left_out.push(LeftOut {
                target: i,
                id: t.id.clone(),
                reason: LeftOutReason::Unreachable,
            });
        }
    }
    let problem = Orienteering {
        travel: &seconds,
        start: 0,
        end: layout.end(),
        service: &service,
        prize: &prize,
        candidates: &candidates,
        budget: req.budget_s,
    };
    let chosen = problem.solve();
    let mut on_route = vec![false; len];
    for &k in &chosen {
        on_route[k] = true;
    }
    for &k in &candidates {
        if !on_route[k] {
            let t = &req.targets[k - 1];
            left_out.push(LeftOut {
                target: k - 1,
                id: t.id.clone(),
                reason: LeftOutReason::DoesNotFit,
            });
        }
    }
    left_out.sort_by_key(|l| l.target);
    Ok(chosen)
}

fn assemble(
    req: &PlanRequest,
    layout: &Layout,
    chosen: &[usize],
    left_out: Vec<LeftOut>,
    road_network: bool,
    mut leg: impl FnMut(usize, usize) -> Leg,
) -> RoutePlan {
    let mut stops = Vec::with_capacity(chosen.len());
    let mut legs = Vec::with_capacity(chosen.len() + 1);
    let mut clock = 0.0;
    let mut prev = 0;
    for &k in chosen {
        let l = leg(prev, k);
        clock += l.travel_s;
        let t = &req.targets[k - 1];
        let service = req.service.of(t.kind);
        stops.push(PlannedStop {
            target: k - 1,
            id: t.id.clone(),
            kind: t.kind,
            position: t.position,
            priority: t.priority,
            arrival_s: clock,
            departure_s: clock + service,
        });
        clock += service;
        legs.push(l);
        prev = k;
    }
    let last = if let Some(e) = layout.end() {
        leg(prev, e)
    } else {
        let here = stops.last().map_or(req.start, |s| s.position);
        Leg {
            distance_m: 0.0,
            travel_s: 0.0,
            nodes: Vec::new(),
            geometry: line(vec![Coord::from(here)]),
        }
    };
    clock += last.travel_s;
    legs.push(last);
    let mut coords: Vec<Coord<f64>> = Vec::new();
    for l in &legs {
        for &c in &l.geometry.0 {
            if coords.last() != Some(&c) {
                coords.push(c);
            }
        }
    }
    RoutePlan {
        total_distance_m: legs.iter().map(|l| l.distance_m).sum(),
        total_duration_s: clock,
        total_priority: stops.iter().map(|s| s.priority).sum(),
        stops,
        legs,
        left_out,
        route: line(coords),
        road_network,
    }
}
