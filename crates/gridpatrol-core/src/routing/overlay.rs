//! The planar overlay behind [`RoadGraph::from_polylines`](super::RoadGraph::from_polylines):
//! nodes and segments in a local metric frame, snapped, split at crossings
//! and merged (see the documentation of the `build` module), plus the
//! lattice of local streets and the assembly into a road graph.

use std::collections::{HashMap, HashSet};

use geo::{Contains, Coord, LineString, Point};
use h3o::{CellIndex, LatLng, Resolution};
use rstar::primitives::{GeomWithData, Line};
use rstar::{AABB, RTree};

use super::build::LatticeOptions;
use super::graph::{Edge, EdgeKind, NodeId, RoadGraph};
use crate::spatial::LonLat;
use crate::spatial::frame::{self, LocalFrame, Xy};

#[derive(Debug, Clone, Copy, PartialEq)]
struct Seg {
    a: usize,
    b: usize,
    kind: EdgeKind,
}

type NodeEntry = GeomWithData<Xy, usize>;
type SegEntry = GeomWithData<Line<Xy>, usize>;

/// The planar overlay under construction.
pub(super) struct Planar {
    tol: f64,
    merge: f64,
    pts: Vec<Xy>,
    node_tree: RTree<NodeEntry>,
    segs: Vec<Option<Seg>>,
    seg_tree: RTree<SegEntry>,
    pairs: HashMap<(usize, usize), usize>,
}

fn key(a: usize, b: usize) -> (usize, usize) {
    if a < b { (a, b) } else { (b, a) }
}

fn envelope(a: Xy, b: Xy, pad: f64) -> AABB<Xy> {
    AABB::from_corners(
        [a[0].min(b[0]) - pad, a[1].min(b[1]) - pad],
        [a[0].max(b[0]) + pad, a[1].max(b[1]) + pad],
    )
}

impl Planar {
    pub(super) fn new(tol: f64, merge: f64) -> Self {
        Self {
            tol,
            merge,
            pts: Vec::new(),
            node_tree: RTree::new(),
            segs: Vec::new(),
            seg_tree: RTree::new(),
            pairs: HashMap::new(),
        }
    }

    fn new_node(&mut self, p: Xy) -> usize {
        let id = self.pts.len();
        self.pts.push(p);
        self.node_tree.insert(GeomWithData::new(p, id));
        id
    }

    fn insert_seg(&mut self, a: usize, b: usize, kind: EdgeKind) {
        if a == b || self.pairs.contains_key(&key(a, b)) {
            return;
        }
        let id = self.segs.len();
        self.segs.push(Some(Seg { a, b, kind }));
        self.seg_tree
            .insert(GeomWithData::new(Line::new(self.pts[a], self.pts[b]), id));
        self.pairs.insert(key(a, b), id);
    }

    fn remove_seg(&mut self, id: usize) -> Option<Seg> {
        let seg = self.segs[id].take()?;
        self.seg_tree.remove(&GeomWithData::new(
            Line::new(self.pts[seg.a], self.pts[seg.b]),
            id,
        ));
        self.pairs.remove(&key(seg.a, seg.b));
        Some(seg)
    }

    fn nearest_node_within(&self, p: Xy, tol: f64) -> Option<usize> {
        let (entry, d2) = self
            .node_tree
            .nearest_neighbor_iter_with_distance_2(&p)
            .next()?;
        (d2.sqrt() <= tol).then_some(entry.data)
    }

    /// Splits segment `id` at the point nearest to `p`; returns the node
    /// there (an end of the segment when the point is within the tolerance
    /// of it).
    #[expect(
        clippy::many_single_char_names,
        reason = "planar geometry: points p, q, segment ends a, b"
    )]
    fn split(&mut self, id: usize, p: Xy) -> Option<usize> {
        let seg = self.segs[id]?;
        let (a, b) = (self.pts[seg.a], self.pts[seg.b]);
        let q = frame::lerp(a, b, frame::project_on_segment(p, a, b));
        if frame::dist(q, a) <= self.tol {
            return Some(seg.a);
        }
        if frame::dist(q, b) <= self.tol {
            return Some(seg.b);
        }
        self.remove_seg(id);
        let n = self.new_node(q);
        self.insert_seg(seg.a, n, seg.kind);
        self.insert_seg(n, seg.b, seg.kind);
        Some(n)
    }

    /// The node for a new vertex: an existing node, a split of an existing
    /// segment, or a new node.
    fn snap_point(&mut self, p: Xy) -> usize {
        if let Some(n) = self.nearest_node_within(p, self.tol) {
            return n;
        }
        let near = self
            .seg_tree
            .nearest_neighbor_iter_with_distance_2(&p)
            .next()
            .filter(|(_, d2)| d2.sqrt() <= self.merge)
            .map(|(e, _)| e.data);
        if let Some(n) = near.and_then(|s| self.split(s, p)) {
            return n;
        }
        self.new_node(p)
    }

    /// Adds the segment `u`–`v`, noded against everything already present.
    #[expect(
        clippy::many_single_char_names,
        reason = "planar geometry: points p, q, segment ends a, b"
    )]
    fn add_segment(&mut self, u: usize, v: usize, kind: EdgeKind) {
        if u == v {
            return;
        }
        let (p, q) = (self.pts[u], self.pts[v]);
        let env = envelope(p, q, self.merge);
        let mut splits: Vec<(f64, usize)> = Vec::new();
        for entry in self.node_tree.locate_in_envelope_intersecting(&env) {
            let w = entry.data;
            if w == u || w == v {
                continue;
            }
            let t = frame::project_on_segment(self.pts[w], p, q);
            if t > 0.0 && t < 1.0 && frame::dist(frame::lerp(p, q, t), self.pts[w]) <= self.merge {
                splits.push((t, w));
            }
        }
        let mut crossings: Vec<(f64, usize, Xy)> = Vec::new();
        for entry in self
            .seg_tree
            .locate_in_envelope_intersecting(&envelope(p, q, 0.0))
        {
            let Some(seg) = self.segs[entry.data] else {
                continue;
            };
            if [seg.a, seg.b].iter().any(|n| *n == u || *n == v) {
                continue;
            }
            let (a, b) = (self.pts[seg.a], self.pts[seg.b]);
            if let Some((t, _)) = frame::segment_intersection(p, q, a, b) {
                crossings.push((t, entry.data, frame::lerp(p, q, t)));
            }
        }
        crossings.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        for (t, id, x) in crossings {
            if let Some(w) = self.split(id, x)
                && w != u
                && w != v
            {
                splits.push((t, w));
            }
        }
        splits.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let mut chain = vec![u];
        for (_, w) in splits {
            if chain.last() != Some(&w) {
                chain.push(w);
            }
        }
        if chain.last() != Some(&v) {
            chain.push(v);
        }
        for w in chain.windows(2) {
            self.insert_seg(w[0], w[1], kind);
        }
    }

    pub(super) fn add_polyline(&mut self, pts: &[Xy], kind: EdgeKind) {
        let mut prev: Option<usize> = None;
        for &p in pts {
            let n = self.snap_point(p);
            if let Some(u) = prev {
                self.add_segment(u, n, kind);
            }
            prev = Some(n);
        }
    }

    /// Distance from `p` to the nearest segment not of `kind`.
    fn distance_to_other_kind(&self, p: Xy, kind: EdgeKind) -> f64 {
        for (entry, d2) in self.seg_tree.nearest_neighbor_iter_with_distance_2(&p) {
            if self.segs[entry.data].is_some_and(|s| s.kind != kind) {
                return d2.sqrt();
            }
        }
        f64::INFINITY
    }

    /// The first crossing of the ray segment `p`–`q` with a segment not of `kind`.
    fn first_hit(&self, p: Xy, q: Xy, kind: EdgeKind) -> Option<Xy> {
        let mut best: Option<(f64, Xy)> = None;
        for entry in self
            .seg_tree
            .locate_in_envelope_intersecting(&envelope(p, q, 0.0))
        {
            let Some(seg) = self.segs[entry.data] else {
                continue;
            };
            if seg.kind == kind {
                continue;
            }
            if let Some((t, _)) =
                frame::segment_intersection(p, q, self.pts[seg.a], self.pts[seg.b])
                && best.is_none_or(|(bt, _)| t < bt)
            {
                best = Some((t, frame::lerp(p, q, t)));
            }
        }
        best.map(|(_, x)| x)
    }

    pub(super) fn add_lattice(&mut self, frame: &LocalFrame, opts: &LatticeOptions) {
        let area = CellSet::new(&opts.cells);
        let inside = |p: Xy| {
            let c = frame.unproject(p);
            area.contains(c)
                && opts
                    .clip
                    .as_ref()
                    .is_none_or(|clip| clip.contains(&Point(c)))
        };
        let Some((lo, hi)) = area.bounds(frame) else {
            return;
        };
        let spacing = opts.spacing_m;
        // Lattice indices are multiples of the spacing in the frame, so the
        // same area always gets the same streets.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "lattice indices of a district fit in i64"
        )]
        let (i0, i1, j0, j1) = (
            (lo[0] / spacing).floor() as i64,
            (hi[0] / spacing).ceil() as i64,
            (lo[1] / spacing).floor() as i64,
            (hi[1] / spacing).ceil() as i64,
        );
        #[expect(clippy::cast_precision_loss, reason = "lattice indices are small")]
        let at = |i: i64, j: i64| [i as f64 * spacing, j as f64 * spacing];
        // Lattice point states: inside the area and clear of roads (a node),
        // or inside the area but too close to a road (where a connector goes).
        let mut nodes: HashMap<(i64, i64), usize> = HashMap::new();
        let mut near_road: HashSet<(i64, i64)> = HashSet::new();
        for i in i0..=i1 {
            for j in j0..=j1 {
                let point = at(i, j);
                if !inside(point) {
                    continue;
                }
                if self.distance_to_other_kind(point, EdgeKind::Lattice) >= opts.clearance_m {
                    let node = self.new_node(point);
                    nodes.insert((i, j), node);
                } else {
                    near_road.insert((i, j));
                }
            }
        }
        let mut keys: Vec<(i64, i64)> = nodes.keys().copied().collect();
        keys.sort_unstable();
        for &(i, j) in &keys {
            let here = nodes[&(i, j)];
            for (di, dj) in [(1, 0), (0, 1)] {
                if let Some(&there) = nodes.get(&(i + di, j + dj)) {
                    let mid = frame::lerp(self.pts[here], self.pts[there], 0.5);
                    if inside(mid) {
                        self.add_segment(here, there, EdgeKind::Lattice);
                    }
                }
            }
        }
        for &(i, j) in &keys {
            let here = nodes[&(i, j)];
            for (di, dj) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                if !near_road.contains(&(i + di, j + dj)) {
                    continue;
                }
                let from = self.pts[here];
                #[expect(clippy::cast_precision_loss, reason = "unit steps")]
                let reach = [
                    from[0] + di as f64 * opts.max_connector_m,
                    from[1] + dj as f64 * opts.max_connector_m,
                ];
                if let Some(hit) = self.first_hit(from, reach, EdgeKind::Lattice) {
                    let road = self.snap_point(hit);
                    self.add_segment(here, road, EdgeKind::Lattice);
                }
            }
        }
    }

    /// Contracts segments shorter than `merge_m` (the slivers and
    /// triangles left where routes wiggle into bus bays), shortest first,
    /// as long as every node of a merged cluster stays within `merge_m` of
    /// the node that represents it.
    fn contract_short_segments(&mut self) {
        let n = self.pts.len();
        let mut parent: Vec<usize> = (0..n).collect();
        let mut members: Vec<Vec<usize>> = (0..n).map(|v| vec![v]).collect();
        let mut short: Vec<(f64, usize)> = self
            .segs
            .iter()
            .enumerate()
            .filter_map(|(id, s)| s.map(|s| (frame::dist(self.pts[s.a], self.pts[s.b]), id)))
            .filter(|(len, _)| *len < self.merge)
            .collect();
        short.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        for (_, id) in short {
            let Some(seg) = self.segs[id] else { continue };
            let (ra, rb) = (find(&mut parent, seg.a), find(&mut parent, seg.b));
            if ra == rb {
                continue;
            }
            // The larger cluster's representative stays where it is.
            let (keep, gone) = if members[ra].len() >= members[rb].len() {
                (ra, rb)
            } else {
                (rb, ra)
            };
            let centre = self.pts[keep];
            let fits = members[gone]
                .iter()
                .chain(&members[keep])
                .all(|&m| frame::dist(self.pts[m], centre) <= self.merge);
            if !fits {
                continue;
            }
            parent[gone] = keep;
            let moved = std::mem::take(&mut members[gone]);
            members[keep].extend(moved);
        }
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        for slot in &mut self.segs {
            let Some(seg) = slot.as_mut() else { continue };
            seg.a = find(&mut parent, seg.a);
            seg.b = find(&mut parent, seg.b);
            if seg.a == seg.b || !seen.insert(key(seg.a, seg.b)) {
                *slot = None;
            }
        }
    }

    /// Merges chains of degree-2 nodes into edges and converts to lon/lat.
    pub(super) fn into_graph(mut self, frame: &LocalFrame, max_edge_m: f64) -> RoadGraph {
        self.contract_short_segments();
        let n = self.pts.len();
        let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (id, seg) in self.segs.iter().enumerate() {
            if let Some(s) = seg {
                adj[s.a].push((s.b, id));
                adj[s.b].push((s.a, id));
            }
        }
        for list in &mut adj {
            list.sort_unstable();
        }
        let kind_of = |id: usize| self.segs[id].map_or(EdgeKind::Road, |s| s.kind);
        let through = |v: usize| adj[v].len() == 2 && kind_of(adj[v][0].1) == kind_of(adj[v][1].1);
        // Graph nodes: junctions and dead ends first; chains are cut later.
        let mut flagged: Vec<bool> = (0..n).map(|v| !adj[v].is_empty() && !through(v)).collect();
        let mut used = vec![false; self.segs.len()];
        let mut chains: Vec<(Vec<usize>, EdgeKind)> = Vec::new();
        // Junctions first, then the lowest vertex of each cycle without one.
        let order: Vec<usize> = (0..n)
            .filter(|&v| flagged[v])
            .chain((0..n).filter(|&v| through(v)))
            .collect();
        for v in order {
            for i in 0..adj[v].len() {
                let (w, s) = adj[v][i];
                if used[s] {
                    continue;
                }
                flagged[v] = true;
                let kind = kind_of(s);
                let mut chain = vec![v];
                let mut length = 0.0;
                let (mut prev, mut cur, mut seg) = (v, w, s);
                loop {
                    used[seg] = true;
                    length += frame::dist(self.pts[prev], self.pts[cur]);
                    chain.push(cur);
                    if flagged[cur] {
                        chains.push((chain, kind));
                        break;
                    }
                    let Some(&(next, nseg)) =
                        adj[cur].iter().find(|&&(_, ns)| ns != seg && !used[ns])
                    else {
                        chains.push((chain, kind));
                        break;
                    };
                    // Cut before the edge would grow past the limit.
                    if length + frame::dist(self.pts[cur], self.pts[next]) > max_edge_m {
                        flagged[cur] = true;
                        chains.push((std::mem::replace(&mut chain, vec![cur]), kind));
                        length = 0.0;
                    }
                    prev = cur;
                    cur = next;
                    seg = nseg;
                }
            }
        }
        // A chain from a node back to itself is split in the middle.
        let mut pieces: Vec<(Vec<usize>, EdgeKind)> = Vec::with_capacity(chains.len());
        for (chain, kind) in chains {
            if chain.len() >= 3 && chain[0] == chain[chain.len() - 1] {
                let mid = chain.len() / 2;
                pieces.push((chain[..=mid].to_vec(), kind));
                pieces.push((chain[mid..].to_vec(), kind));
            } else if chain.len() >= 2 && chain[0] != chain[chain.len() - 1] {
                pieces.push((chain, kind));
            }
        }
        let round = |x: f64| (x * 1e6).round() / 1e6;
        let coord = |v: usize| {
            let c = frame.unproject(self.pts[v]);
            Coord {
                x: round(c.x),
                y: round(c.y),
            }
        };
        let mut node_id: Vec<Option<NodeId>> = vec![None; n];
        let mut nodes: Vec<LonLat> = Vec::new();
        let mut edges = Vec::new();
        for (chain, kind) in pieces {
            let mut ends = [NodeId(0); 2];
            for (slot, v) in ends.iter_mut().zip([chain[0], chain[chain.len() - 1]]) {
                if node_id[v].is_none() {
                    let c = coord(v);
                    let Ok(p) = LonLat::new(c.x, c.y) else {
                        continue;
                    };
                    nodes.push(p);
                    node_id[v] = Some(NodeId(nodes.len() - 1));
                }
                if let Some(id) = node_id[v] {
                    *slot = id;
                }
            }
            let coords: Vec<Coord<f64>> = chain.iter().map(|&v| coord(v)).collect();
            edges.push(Edge::new(ends[0], ends[1], kind, LineString::from(coords)));
        }
        RoadGraph::assemble(nodes, edges)
    }
}

/// The representative of `v` in a union-find forest, halving paths.
fn find(parent: &mut [usize], mut v: usize) -> usize {
    while parent[v] != v {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    v
}

/// Membership in a set of H3 cells of mixed resolutions.
pub(super) struct CellSet {
    cells: HashSet<CellIndex>,
    resolutions: Vec<Resolution>,
}

impl CellSet {
    fn new(cells: &[CellIndex]) -> Self {
        let mut resolutions: Vec<Resolution> = cells.iter().map(|c| c.resolution()).collect();
        resolutions.sort_unstable();
        resolutions.dedup();
        Self {
            cells: cells.iter().copied().collect(),
            resolutions,
        }
    }

    fn contains(&self, c: Coord<f64>) -> bool {
        let Ok(ll) = LatLng::new(c.y, c.x) else {
            return false;
        };
        self.resolutions
            .iter()
            .any(|&r| self.cells.contains(&ll.to_cell(r)))
    }

    /// The cells' bounding box in the frame, from their boundaries.
    fn bounds(&self, frame: &LocalFrame) -> Option<(Xy, Xy)> {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for cell in &self.cells {
            for v in cell.boundary().iter() {
                let p = frame.project(Coord {
                    x: v.lng(),
                    y: v.lat(),
                });
                lo = [lo[0].min(p[0]), lo[1].min(p[1])];
                hi = [hi[0].max(p[0]), hi[1].max(p[1])];
            }
        }
        lo[0].is_finite().then_some((lo, hi))
    }
}
