//! Shortest paths on a [`RoadGraph`]: Dijkstra from one or more seeded
//! nodes to many targets (early exit once every target is settled), A* with
//! a geodesic lower bound for single legs, and distances between snapped
//! points, which may lie in the middle of edges.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use geo::{Coord, LineString};

use super::error::RoutingError;
use super::graph::{EdgeId, NodeId, RoadGraph, Snap};
use crate::spatial::LonLat;

/// A path on the road graph between two snapped points.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadPath {
    /// The graph nodes passed, in order; consecutive nodes share an edge.
    /// Empty when both points lie on one edge and the path stays on it.
    pub nodes: Vec<NodeId>,
    /// The edges between consecutive `nodes`.
    pub edges: Vec<EdgeId>,
    /// Geodesic metres along the network, from snapped point to snapped
    /// point (the partial edges at both ends included).
    pub length_m: f64,
    /// The path's geometry, following the edges.
    pub geometry: LineString<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct QueueItem {
    key: f64,
    node: usize,
}

impl Eq for QueueItem {}

impl Ord for QueueItem {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: smallest key first, then lowest node id.
        other
            .key
            .total_cmp(&self.key)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for QueueItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

const NO_EDGE: usize = usize::MAX;

/// Below this many rows per thread, a distance matrix is not worth splitting.
const MIN_ROWS_PER_THREAD: usize = 16;

/// Reusable Dijkstra state: arrays sized to the graph whose entries count
/// only when stamped with the current search's generation, so that many
/// searches on one graph cost only what they explore.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    dist: Vec<f64>,
    pred_edge: Vec<usize>,
    /// Generation in which `dist` and `pred_edge` were last written.
    reached: Vec<u32>,
    settled: Vec<u32>,
    target: Vec<u32>,
    generation: u32,
    heap: BinaryHeap<QueueItem>,
}

impl Search {
    pub(crate) fn new(graph: &RoadGraph) -> Self {
        let n = graph.node_count();
        Self {
            dist: vec![f64::INFINITY; n],
            pred_edge: vec![NO_EDGE; n],
            reached: vec![0; n],
            settled: vec![0; n],
            target: vec![0; n],
            generation: 0,
            heap: BinaryHeap::new(),
        }
    }

    fn reset(&mut self) {
        self.heap.clear();
        if self.generation == u32::MAX {
            self.reached.fill(0);
            self.settled.fill(0);
            self.target.fill(0);
            self.generation = 0;
        }
        self.generation += 1;
    }

    #[inline]
    fn current(&self, i: usize) -> f64 {
        if self.reached[i] == self.generation {
            self.dist[i]
        } else {
            f64::INFINITY
        }
    }

    #[inline]
    fn relax(&mut self, i: usize, d: f64, edge: usize) -> bool {
        if d < self.current(i) {
            self.reached[i] = self.generation;
            self.dist[i] = d;
            self.pred_edge[i] = edge;
            true
        } else {
            false
        }
    }

    /// Dijkstra from `seeds` (node, initial distance) until every node in
    /// `targets` is settled (all nodes when `targets` is empty) or the
    /// frontier passes `max_m`.
    pub(crate) fn run(
        &mut self,
        graph: &RoadGraph,
        seeds: &[(NodeId, f64)],
        targets: &[NodeId],
        max_m: f64,
    ) {
        self.reset();
        let generation = self.generation;
        let mut remaining = 0usize;
        for &t in targets {
            if self.target[t.0] != generation {
                self.target[t.0] = generation;
                remaining += 1;
            }
        }
        for &(s, d) in seeds {
            if self.relax(s.0, d, NO_EDGE) {
                self.heap.push(QueueItem { key: d, node: s.0 });
            }
        }
        let all = targets.is_empty();
        while let Some(QueueItem { key, node }) = self.heap.pop() {
            if self.settled[node] == generation || key > self.dist[node] {
                continue;
            }
            if key > max_m {
                break;
            }
            self.settled[node] = generation;
            if self.target[node] == generation {
                remaining -= 1;
                if remaining == 0 && !all {
                    break;
                }
            }
            for (v, e, len) in graph.arcs(node) {
                let nd = key + len;
                if self.relax(v, nd, e) {
                    self.heap.push(QueueItem { key: nd, node: v });
                }
            }
        }
    }

    /// A* from `seeds` towards the snapped point `goal`: stops as soon as no
    /// queued node can improve on the best arrival found.
    fn run_astar(&mut self, graph: &RoadGraph, seeds: &[(NodeId, f64)], goal: &Snap) -> f64 {
        self.reset();
        let edge = graph.edge(goal.edge);
        let goal_xy = Coord::from(goal.point);
        let ends = [
            (edge.from(), goal.offset_m),
            (edge.to(), edge.length_m() - goal.offset_m),
        ];
        let h = |n: usize| RoadGraph::lower_bound_m(Coord::from(graph.node(NodeId(n))), goal_xy);
        for &(s, d) in seeds {
            if self.relax(s.0, d, NO_EDGE) {
                self.heap.push(QueueItem {
                    key: d + h(s.0),
                    node: s.0,
                });
            }
        }
        let mut best = f64::INFINITY;
        while let Some(QueueItem { key, node }) = self.heap.pop() {
            if key >= best {
                break;
            }
            if self.settled[node] == self.generation {
                continue;
            }
            self.settled[node] = self.generation;
            let d = self.dist[node];
            for &(end, tail) in &ends {
                if end.0 == node {
                    best = best.min(d + tail);
                }
            }
            for (v, e, len) in graph.arcs(node) {
                let nd = d + len;
                if self.relax(v, nd, e) {
                    self.heap.push(QueueItem {
                        key: nd + h(v),
                        node: v,
                    });
                }
            }
        }
        best
    }

    /// The nodes and edges from a seed to `node`, seed first.
    pub(crate) fn trace(&self, graph: &RoadGraph, node: NodeId) -> (Vec<NodeId>, Vec<EdgeId>) {
        let mut nodes = vec![node];
        let mut edges = Vec::new();
        let mut cur = node;
        while self.reached[cur.0] == self.generation && self.pred_edge[cur.0] != NO_EDGE {
            let e = EdgeId(self.pred_edge[cur.0]);
            edges.push(e);
            cur = graph.edge(e).other(cur);
            nodes.push(cur);
        }
        nodes.reverse();
        edges.reverse();
        (nodes, edges)
    }

    pub(crate) fn distance(&self, node: NodeId) -> f64 {
        self.current(node.0)
    }
}

/// The two ways into the graph from a snapped point: to each end of its edge.
pub(crate) fn seeds(graph: &RoadGraph, s: &Snap) -> [(NodeId, f64); 2] {
    let e = graph.edge(s.edge);
    [(e.from(), s.offset_m), (e.to(), e.length_m() - s.offset_m)]
}

/// Network distance to the snapped point `t` once a search seeded at `s`
/// has settled `t`'s edge ends.
fn arrival(graph: &RoadGraph, search: &Search, s: &Snap, t: &Snap) -> f64 {
    let e = graph.edge(t.edge);
    let via_nodes = (search.distance(e.from()) + t.offset_m)
        .min(search.distance(e.to()) + (e.length_m() - t.offset_m));
    if s.edge == t.edge {
        via_nodes.min((s.offset_m - t.offset_m).abs())
    } else {
        via_nodes
    }
}

impl RoadGraph {
    /// Network distances in metres between every pair of snapped points,
    /// row-major (`m[i * n + j]`), `f64::INFINITY` where no path exists.
    /// One Dijkstra per point, each stopping once all points are settled;
    /// large matrices are split over the available cores.
    #[must_use]
    pub fn distance_matrix(&self, points: &[Snap]) -> Vec<f64> {
        let n = points.len();
        if n == 0 {
            return Vec::new();
        }
        let mut out = vec![f64::INFINITY; n * n];
        let targets: Vec<NodeId> = points
            .iter()
            .flat_map(|s| {
                let e = self.edge(s.edge);
                [e.from(), e.to()]
            })
            .collect();
        // Rows are independent searches: split them over the cores.
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(n.div_ceil(MIN_ROWS_PER_THREAD))
            .max(1);
        let rows_per_thread = n.div_ceil(threads).max(1);
        let fill = |first_row: usize, rows: &mut [f64]| {
            let mut search = Search::new(self);
            for (r, row) in rows.chunks_mut(n).enumerate() {
                let i = first_row + r;
                let s = &points[i];
                search.run(self, &seeds(self, s), &targets, f64::INFINITY);
                for (j, t) in points.iter().enumerate() {
                    row[j] = if i == j {
                        0.0
                    } else {
                        arrival(self, &search, s, t)
                    };
                }
            }
        };
        if threads == 1 {
            fill(0, &mut out);
        } else {
            std::thread::scope(|scope| {
                for (k, rows) in out.chunks_mut(rows_per_thread * n).enumerate() {
                    let fill = &fill;
                    scope.spawn(move || fill(k * rows_per_thread, rows));
                }
            });
        }
        // Undirected: make the matrix exactly symmetric despite rounding.
        for i in 0..n {
            for j in (i + 1)..n {
                let m = out[i * n + j].min(out[j * n + i]);
                out[i * n + j] = m;
                out[j * n + i] = m;
            }
        }
        out
    }

    /// Network distances in metres from one snapped point to many.
    #[must_use]
    pub fn distances_from(&self, from: &Snap, to: &[Snap]) -> Vec<f64> {
        let targets: Vec<NodeId> = to
            .iter()
            .flat_map(|s| {
                let e = self.edge(s.edge);
                [e.from(), e.to()]
            })
            .collect();
        let mut search = Search::new(self);
        search.run(self, &seeds(self, from), &targets, f64::INFINITY);
        to.iter().map(|t| arrival(self, &search, from, t)).collect()
    }

    /// The shortest path between two snapped points (A*), or `None` when
    /// they lie in different components.
    #[must_use]
    pub fn path_between(&self, from: &Snap, to: &Snap) -> Option<RoadPath> {
        let mut search = Search::new(self);
        self.path_with(&mut search, from, to)
    }

    pub(crate) fn path_with(
        &self,
        search: &mut Search,
        from: &Snap,
        to: &Snap,
    ) -> Option<RoadPath> {
        let best = search.run_astar(self, &seeds(self, from), to);
        let same_edge = (from.edge == to.edge).then(|| (from.offset_m - to.offset_m).abs());
        if same_edge.is_some_and(|d| d <= best) {
            let e = self.edge(from.edge);
            let geometry = LineString::from(e.sub_line(from.offset_m, to.offset_m));
            return Some(RoadPath {
                nodes: Vec::new(),
                edges: Vec::new(),
                length_m: same_edge.unwrap_or(0.0),
                geometry,
            });
        }
        if !best.is_finite() {
            return None;
        }
        let te = self.edge(to.edge);
        let via_from = search.distance(te.from()) + to.offset_m;
        let via_to = search.distance(te.to()) + (te.length_m() - to.offset_m);
        let (last, last_off) = if via_from <= via_to {
            (te.from(), 0.0)
        } else {
            (te.to(), te.length_m())
        };
        let (nodes, edges) = search.trace(self, last);
        let first = nodes[0];
        let fe = self.edge(from.edge);
        let first_off = if first == fe.from() {
            0.0
        } else {
            fe.length_m()
        };
        let mut coords = fe.sub_line(from.offset_m, first_off);
        let mut cur = first;
        for &e in &edges {
            coords.extend(self.edge(e).coords_from(cur));
            cur = self.edge(e).other(cur);
        }
        coords.extend(te.sub_line(last_off, to.offset_m));
        coords.dedup();
        if coords.len() < 2 {
            coords.push(coords[0]);
        }
        Some(RoadPath {
            nodes,
            edges,
            length_m: best,
            geometry: LineString::from(coords),
        })
    }

    /// The shortest path between two positions, each snapped to its nearest
    /// edge; `None` when they are not connected.
    pub fn shortest_path(
        &self,
        from: LonLat,
        to: LonLat,
    ) -> Result<Option<RoadPath>, RoutingError> {
        let a = self.snap(from).ok_or(RoutingError::EmptyGraph)?;
        let b = self.snap(to).ok_or(RoutingError::EmptyGraph)?;
        Ok(self.path_between(&a, &b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::graph::{EdgeKind, NewEdge};

    fn ll(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).expect("valid")
    }

    /// A 3×3 lattice, 0.01° apart, nodes numbered row by row.
    fn lattice() -> RoadGraph {
        let mut nodes = Vec::new();
        for r in 0..3 {
            for c in 0..3 {
                nodes.push(ll(
                    121.20 + 0.01 * f64::from(c),
                    31.00 + 0.01 * f64::from(r),
                ));
            }
        }
        let mut edges = Vec::new();
        for r in 0..3 {
            for c in 0..3 {
                let i = r * 3 + c;
                if c < 2 {
                    edges.push(NewEdge {
                        from: NodeId(i),
                        to: NodeId(i + 1),
                        geometry: None,
                        kind: EdgeKind::Road,
                    });
                }
                if r < 2 {
                    edges.push(NewEdge {
                        from: NodeId(i),
                        to: NodeId(i + 3),
                        geometry: None,
                        kind: EdgeKind::Road,
                    });
                }
            }
        }
        RoadGraph::new(nodes, edges).expect("valid")
    }

    #[test]
    #[expect(clippy::many_single_char_names, reason = "short names in a short test")]
    fn path_follows_edges_and_matches_matrix() {
        let g = lattice();
        let a = g.snap(ll(121.2001, 31.0000)).expect("snap");
        let b = g.snap(ll(121.2200, 31.0199)).expect("snap");
        let p = g.path_between(&a, &b).expect("connected");
        for (w, e) in p.nodes.windows(2).zip(&p.edges) {
            let edge = g.edge(*e);
            assert!(
                (edge.from() == w[0] && edge.to() == w[1])
                    || (edge.from() == w[1] && edge.to() == w[0])
            );
        }
        assert!(g.distance_matrix(&[]).is_empty());
        let m = g.distance_matrix(&[a, b]);
        assert!(
            (m[1] - p.length_m).abs() < 1e-6,
            "{} vs {}",
            m[1],
            p.length_m
        );
        assert!((m[1] - m[2]).abs() < 1e-9);
        // Two legs of the lattice: 0.02° east plus 0.02° north, less the offsets.
        assert!(
            (p.length_m - (1908.0 + 2218.0 - 9.5 - 11.1)).abs() < 5.0,
            "{}",
            p.length_m
        );
    }

    #[test]
    fn points_on_one_edge_go_straight_along_it() {
        let g = lattice();
        let a = g.snap(ll(121.202, 31.0)).expect("snap");
        let b = g.snap(ll(121.207, 31.0)).expect("snap");
        let p = g.path_between(&a, &b).expect("connected");
        assert!(p.nodes.is_empty());
        assert!((p.length_m - (b.offset_m - a.offset_m)).abs() < 1e-9);
    }
}
