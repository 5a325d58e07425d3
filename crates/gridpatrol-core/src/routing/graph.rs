//! The road graph: nodes at junctions and dead ends, undirected edges with
//! their polyline geometry and geodesic length, and an R-tree over edge
//! segments to snap arbitrary points onto the network.

use geo::{Coord, Distance, Geodesic, LineString, Point};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};
use serde::{Deserialize, Serialize};

use super::error::RoutingError;
use crate::spatial::LonLat;
use crate::spatial::frame::{self, LocalFrame, Xy};

/// Index of a node in a [`RoadGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// Index of an edge in a [`RoadGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeId(pub usize);

/// Where an edge comes from; routing treats all kinds alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// A road or path from OpenStreetMap, or of unknown origin.
    #[default]
    Road,
    /// A road that a bus route follows (the demo network).
    BusRoute,
    /// A synthetic local street of the demo network's lattice.
    Lattice,
}

impl EdgeKind {
    /// The name used in `GeoJSON` `kind` properties.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Road => "road",
            Self::BusRoute => "bus_route",
            Self::Lattice => "lattice",
        }
    }
}

/// An edge to add to a graph: its end nodes, its geometry from `from` to
/// `to` (a straight line when `None`) and its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEdge {
    pub from: NodeId,
    pub to: NodeId,
    pub geometry: Option<LineString<f64>>,
    pub kind: EdgeKind,
}

/// An undirected road edge. Its geometry runs from [`Edge::from`] to
/// [`Edge::to`]; offsets along it are geodesic metres from `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    from: NodeId,
    to: NodeId,
    kind: EdgeKind,
    geometry: LineString<f64>,
    /// Geodesic length from the first vertex to each vertex.
    cumulative_m: Vec<f64>,
}

impl Edge {
    #[must_use]
    pub fn from(&self) -> NodeId {
        self.from
    }
    #[must_use]
    pub fn to(&self) -> NodeId {
        self.to
    }
    #[must_use]
    pub fn kind(&self) -> EdgeKind {
        self.kind
    }
    /// The polyline from `from` to `to`, lon/lat degrees.
    #[must_use]
    pub fn geometry(&self) -> &LineString<f64> {
        &self.geometry
    }
    /// Geodesic length in metres.
    #[must_use]
    pub fn length_m(&self) -> f64 {
        self.cumulative_m.last().copied().unwrap_or(0.0)
    }
    /// The end of the edge that is not `node` (for a loop, `node` itself).
    #[must_use]
    pub fn other(&self, node: NodeId) -> NodeId {
        if node == self.from {
            self.to
        } else {
            self.from
        }
    }

    /// The position `offset_m` metres from `from`, clamped to the edge.
    #[must_use]
    pub fn point_at(&self, offset_m: f64) -> Coord<f64> {
        let coords = &self.geometry.0;
        let off = offset_m.clamp(0.0, self.length_m());
        let i = self
            .cumulative_m
            .partition_point(|&c| c <= off)
            .clamp(1, coords.len() - 1);
        let (c0, c1) = (self.cumulative_m[i - 1], self.cumulative_m[i]);
        let f = if c1 > c0 { (off - c0) / (c1 - c0) } else { 0.0 };
        let (a, b) = (coords[i - 1], coords[i]);
        Coord {
            x: a.x + (b.x - a.x) * f,
            y: a.y + (b.y - a.y) * f,
        }
    }

    /// The part of the geometry between two offsets, in the direction from
    /// `from_m` to `to_m` (reversed when `to_m < from_m`).
    #[must_use]
    pub fn sub_line(&self, from_m: f64, to_m: f64) -> Vec<Coord<f64>> {
        let (lo, hi) = if from_m <= to_m {
            (from_m, to_m)
        } else {
            (to_m, from_m)
        };
        let mut out = vec![self.point_at(lo)];
        for (c, &cum) in self.geometry.0.iter().zip(&self.cumulative_m) {
            if cum > lo && cum < hi {
                out.push(*c);
            }
        }
        out.push(self.point_at(hi));
        if to_m < from_m {
            out.reverse();
        }
        out
    }

    /// The geometry walked from `start` to the other end.
    pub(crate) fn coords_from(&self, start: NodeId) -> impl Iterator<Item = Coord<f64>> + '_ {
        let forward = start == self.from;
        let n = self.geometry.0.len();
        (0..n).map(move |i| {
            if forward {
                self.geometry.0[i]
            } else {
                self.geometry.0[n - 1 - i]
            }
        })
    }

    /// The midpoint along the edge.
    #[must_use]
    pub fn midpoint(&self) -> Coord<f64> {
        self.point_at(self.length_m() / 2.0)
    }
}

/// A point moved onto the nearest edge of the graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The edge the point was moved onto.
    pub edge: EdgeId,
    /// Geodesic metres along the edge from its `from` node.
    pub offset_m: f64,
    /// The snapped position on the edge.
    pub point: LonLat,
    /// Geodesic metres from the original point to `point`.
    pub distance_m: f64,
}

type SegmentEntry = GeomWithData<Line<Xy>, (usize, usize)>;
type NodeEntry = GeomWithData<Xy, usize>;

/// An undirected road network with geodesic edge lengths.
///
/// Build it with [`RoadGraph::new`], from OpenStreetMap
/// ([`RoadGraph::from_osm_xml`], [`RoadGraph::from_osm_pbf`],
/// [`RoadGraph::from_osm_path`]), from polylines
/// ([`RoadGraph::from_polylines`]) or from its own `GeoJSON`
/// ([`RoadGraph::from_geojson`]).
#[derive(Debug, Clone)]
pub struct RoadGraph {
    nodes: Vec<LonLat>,
    edges: Vec<Edge>,
    adjacency_start: Vec<usize>,
    adjacency: Vec<(NodeId, EdgeId)>,
    /// Edge lengths in the order of `adjacency`, so that searches read
    /// them without touching the edges.
    adjacency_m: Vec<f64>,
    frame: LocalFrame,
    segments: RTree<SegmentEntry>,
    node_index: RTree<NodeEntry>,
}

/// How far, relative to the best geodesic distance found so far, a snap
/// candidate's planar distance may lie and still be checked.
const SNAP_SLACK: f64 = 1.02;

impl RoadGraph {
    /// A graph from its nodes and edges. Edge geometry must start at the
    /// `from` node and end at the `to` node (within 1e-6°, about 0.1 m; the
    /// ends are then set to the node positions exactly).
    pub fn new(nodes: Vec<LonLat>, edges: Vec<NewEdge>) -> Result<Self, RoutingError> {
        let n = nodes.len();
        let mut built = Vec::with_capacity(edges.len());
        for (i, e) in edges.into_iter().enumerate() {
            for node in [e.from, e.to] {
                if node.0 >= n {
                    return Err(RoutingError::NodeOutOfRange {
                        edge: i,
                        node: node.0,
                        nodes: n,
                    });
                }
            }
            let a = Coord::from(nodes[e.from.0]);
            let b = Coord::from(nodes[e.to.0]);
            let mut coords = match e.geometry {
                Some(line) => line.0,
                None => vec![a, b],
            };
            let (Some(first), Some(last)) = (coords.first().copied(), coords.last().copied())
            else {
                return Err(RoutingError::GeometryMismatch { edge: i });
            };
            let close = |p: Coord<f64>, q: Coord<f64>| {
                (p.x - q.x).abs() <= 1e-6 && (p.y - q.y).abs() <= 1e-6
            };
            if coords.len() < 2 || !close(first, a) || !close(last, b) {
                return Err(RoutingError::GeometryMismatch { edge: i });
            }
            for c in &coords {
                LonLat::new(c.x, c.y).map_err(|source| RoutingError::Coordinate {
                    context: format!("edge {i}"),
                    source,
                })?;
            }
            coords[0] = a;
            let k = coords.len() - 1;
            coords[k] = b;
            coords.dedup();
            if coords.len() < 2 {
                coords.push(b);
            }
            built.push(Edge::new(e.from, e.to, e.kind, LineString::from(coords)));
        }
        Ok(Self::assemble(nodes, built))
    }

    pub(crate) fn assemble(nodes: Vec<LonLat>, edges: Vec<Edge>) -> Self {
        let n = nodes.len();
        let mut degree = vec![0usize; n + 1];
        for e in &edges {
            degree[e.from.0] += 1;
            degree[e.to.0] += 1;
        }
        let mut adjacency_start = vec![0usize; n + 1];
        for i in 0..n {
            adjacency_start[i + 1] = adjacency_start[i] + degree[i];
        }
        let mut fill = adjacency_start.clone();
        let mut adjacency = vec![(NodeId(0), EdgeId(0)); adjacency_start[n]];
        for (i, e) in edges.iter().enumerate() {
            adjacency[fill[e.from.0]] = (e.to, EdgeId(i));
            fill[e.from.0] += 1;
            adjacency[fill[e.to.0]] = (e.from, EdgeId(i));
            fill[e.to.0] += 1;
        }
        let adjacency_m = adjacency
            .iter()
            .map(|&(_, e)| edges[e.0].length_m())
            .collect();
        let frame = LocalFrame::around(edges.iter().flat_map(|e| e.geometry.0.iter()))
            .unwrap_or_else(|| LocalFrame::new(0.0, 0.0));
        let segments = RTree::bulk_load(
            edges
                .iter()
                .enumerate()
                .flat_map(|(i, e)| {
                    e.geometry
                        .0
                        .windows(2)
                        .enumerate()
                        .map(move |(s, w)| (i, s, w[0], w[1]))
                })
                .map(|(i, s, a, b)| {
                    GeomWithData::new(Line::new(frame.project(a), frame.project(b)), (i, s))
                })
                .collect(),
        );
        let node_index = RTree::bulk_load(
            nodes
                .iter()
                .enumerate()
                .map(|(i, p)| GeomWithData::new(frame.project(Coord::from(*p)), i))
                .collect(),
        );
        Self {
            nodes,
            edges,
            adjacency_start,
            adjacency,
            adjacency_m,
            frame,
            segments,
            node_index,
        }
    }

    #[must_use]
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    #[must_use]
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }
    /// The position of a node. Panics on an id from another graph.
    #[must_use]
    pub fn node(&self, id: NodeId) -> LonLat {
        self.nodes[id.0]
    }
    /// An edge. Panics on an id from another graph.
    #[must_use]
    pub fn edge(&self, id: EdgeId) -> &Edge {
        &self.edges[id.0]
    }
    #[must_use]
    pub fn nodes(&self) -> &[LonLat] {
        &self.nodes
    }
    #[must_use]
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }
    /// The neighbours of a node and the edges leading to them.
    #[must_use]
    pub fn neighbours(&self, id: NodeId) -> &[(NodeId, EdgeId)] {
        &self.adjacency[self.adjacency_start[id.0]..self.adjacency_start[id.0 + 1]]
    }
    /// The neighbours of a node with the edges' lengths, for searches.
    pub(crate) fn arcs(&self, id: usize) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        let range = self.adjacency_start[id]..self.adjacency_start[id + 1];
        self.adjacency[range.clone()]
            .iter()
            .zip(&self.adjacency_m[range])
            .map(|(&(v, e), &len)| (v.0, e.0, len))
    }

    /// Sum of the edge lengths in metres.
    #[must_use]
    pub fn total_length_m(&self) -> f64 {
        self.edges.iter().map(Edge::length_m).sum()
    }

    /// Whether `a` and `b` are joined by an edge.
    #[must_use]
    pub fn are_adjacent(&self, a: NodeId, b: NodeId) -> bool {
        self.neighbours(a).iter().any(|&(n, _)| n == b)
    }

    /// A connected-component label for every node, labels numbered from 0
    /// in order of each component's lowest node id.
    #[must_use]
    pub fn component_labels(&self) -> Vec<usize> {
        let mut label = vec![usize::MAX; self.nodes.len()];
        let mut next = 0;
        let mut stack = Vec::new();
        for s in 0..self.nodes.len() {
            if label[s] != usize::MAX {
                continue;
            }
            label[s] = next;
            stack.push(NodeId(s));
            while let Some(u) = stack.pop() {
                for &(v, _) in self.neighbours(u) {
                    if label[v.0] == usize::MAX {
                        label[v.0] = next;
                        stack.push(v);
                    }
                }
            }
            next += 1;
        }
        label
    }

    /// The graph restricted to its largest connected component (by total
    /// edge length; ties to the component with the lowest node id).
    #[must_use]
    pub fn largest_component(&self) -> Self {
        let label = self.component_labels();
        let count = label.iter().copied().max().map_or(0, |m| m + 1);
        let mut length = vec![0.0; count];
        for e in &self.edges {
            length[label[e.from.0]] += e.length_m();
        }
        let mut best = 0;
        for (i, l) in length.iter().enumerate() {
            if *l > length[best] {
                best = i;
            }
        }
        self.subgraph(|n| label[n.0] == best)
    }

    /// The graph on the nodes that `keep` accepts, with the edges between them.
    fn subgraph(&self, keep: impl Fn(NodeId) -> bool) -> Self {
        let mut map = vec![usize::MAX; self.nodes.len()];
        let mut nodes = Vec::new();
        for (i, p) in self.nodes.iter().enumerate() {
            if keep(NodeId(i)) {
                map[i] = nodes.len();
                nodes.push(*p);
            }
        }
        let edges = self
            .edges
            .iter()
            .filter(|e| map[e.from.0] != usize::MAX && map[e.to.0] != usize::MAX)
            .map(|e| Edge {
                from: NodeId(map[e.from.0]),
                to: NodeId(map[e.to.0]),
                ..e.clone()
            })
            .collect();
        Self::assemble(nodes, edges)
    }

    /// Moves `p` onto the nearest point of the nearest edge (geodesic
    /// metres), or `None` when the graph has no edges.
    #[must_use]
    #[expect(
        clippy::many_single_char_names,
        reason = "planar geometry: points p, q, segment ends a, b"
    )]
    pub fn snap(&self, p: LonLat) -> Option<Snap> {
        let q = self.frame.project(Coord::from(p));
        let mut best: Option<Snap> = None;
        for (entry, d2) in self.segments.nearest_neighbor_iter_with_distance_2(&q) {
            if best
                .as_ref()
                .is_some_and(|b| d2.sqrt() > b.distance_m * SNAP_SLACK + 0.01)
            {
                break;
            }
            let (edge_i, seg) = entry.data;
            let edge = &self.edges[edge_i];
            let (a, b) = (edge.geometry.0[seg], edge.geometry.0[seg + 1]);
            let t = frame::project_on_segment(q, self.frame.project(a), self.frame.project(b));
            let point = Coord {
                x: a.x + (b.x - a.x) * t,
                y: a.y + (b.y - a.y) * t,
            };
            let distance_m = Geodesic.distance(Point::from(p), Point(point));
            if best.as_ref().is_none_or(|b| distance_m < b.distance_m) {
                let offset_m = (edge.cumulative_m[seg] + Geodesic.distance(Point(a), Point(point)))
                    .min(edge.length_m());
                let Ok(point) = LonLat::new(point.x, point.y) else {
                    continue;
                };
                best = Some(Snap {
                    edge: EdgeId(edge_i),
                    offset_m,
                    point,
                    distance_m,
                });
            }
        }
        best
    }

    /// The nearest node and its geodesic distance in metres.
    #[must_use]
    pub fn nearest_node(&self, p: LonLat) -> Option<(NodeId, f64)> {
        let q = self.frame.project(Coord::from(p));
        let mut best: Option<(NodeId, f64)> = None;
        for (entry, d2) in self.node_index.nearest_neighbor_iter_with_distance_2(&q) {
            if best.is_some_and(|(_, d)| d2.sqrt() > d * SNAP_SLACK + 0.01) {
                break;
            }
            let d = p.distance_m(self.nodes[entry.data]);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((NodeId(entry.data), d));
            }
        }
        best
    }

    /// Geodesic lower bound on the network distance between two points;
    /// Haversine with a margin for the ellipsoid (at most 0.6 % off).
    pub(crate) fn lower_bound_m(a: Coord<f64>, b: Coord<f64>) -> f64 {
        geo::Haversine.distance(Point(a), Point(b)) * 0.994
    }
}

impl Edge {
    pub(crate) fn new(from: NodeId, to: NodeId, kind: EdgeKind, geometry: LineString<f64>) -> Self {
        let mut cumulative_m = Vec::with_capacity(geometry.0.len());
        let mut acc = 0.0;
        cumulative_m.push(0.0);
        for w in geometry.0.windows(2) {
            acc += Geodesic.distance(Point(w[0]), Point(w[1]));
            cumulative_m.push(acc);
        }
        Self {
            from,
            to,
            kind,
            geometry,
            cumulative_m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ll(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).expect("valid")
    }

    fn square() -> RoadGraph {
        let nodes = vec![
            ll(121.22, 31.03),
            ll(121.23, 31.03),
            ll(121.23, 31.04),
            ll(121.22, 31.04),
        ];
        let edges = (0..4)
            .map(|i| NewEdge {
                from: NodeId(i),
                to: NodeId((i + 1) % 4),
                geometry: None,
                kind: EdgeKind::Road,
            })
            .collect();
        RoadGraph::new(nodes, edges).expect("valid graph")
    }

    #[test]
    fn lengths_are_geodesic() {
        let g = square();
        // 0.01° of longitude at 31.03°N is about 954 m, 0.01° of latitude 1109 m.
        assert!(
            (g.edge(EdgeId(0)).length_m() - 954.4).abs() < 1.0,
            "{}",
            g.edge(EdgeId(0)).length_m()
        );
        assert!(
            (g.edge(EdgeId(1)).length_m() - 1109.1).abs() < 1.0,
            "{}",
            g.edge(EdgeId(1)).length_m()
        );
    }

    #[test]
    fn snaps_to_the_nearest_edge() {
        let g = square();
        let s = g.snap(ll(121.225, 31.0302)).expect("snap");
        assert_eq!(s.edge, EdgeId(0));
        assert!((s.offset_m - 477.2).abs() < 1.0, "{}", s.offset_m);
        assert!((s.distance_m - 22.2).abs() < 0.5, "{}", s.distance_m);
        let (n, _) = g.nearest_node(ll(121.2299, 31.0399)).expect("node");
        assert_eq!(n, NodeId(2));
    }

    #[test]
    fn sub_line_follows_the_edge_both_ways() {
        let g = square();
        let e = g.edge(EdgeId(0));
        let fwd = e.sub_line(100.0, 300.0);
        let back = e.sub_line(300.0, 100.0);
        assert_eq!(fwd.len(), 2);
        assert_eq!(fwd[0], back[1]);
    }

    #[test]
    fn rejects_geometry_that_misses_its_nodes() {
        let nodes = vec![ll(121.22, 31.03), ll(121.23, 31.03)];
        let line = LineString::from(vec![(121.22, 31.03), (121.24, 31.03)]);
        let err = RoadGraph::new(
            nodes,
            vec![NewEdge {
                from: NodeId(0),
                to: NodeId(1),
                geometry: Some(line),
                kind: EdgeKind::Road,
            }],
        );
        assert!(matches!(
            err,
            Err(RoutingError::GeometryMismatch { edge: 0 })
        ));
    }
}
