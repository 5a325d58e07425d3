//! Street sweeping (扫街): a closed walk from the start that passes along
//! every road inside a set of H3 cells, as short as a heuristic for the
//! rural postman problem makes it:
//!
//! 1. the required edges are those whose midpoint lies in one of the cells;
//! 2. their components (and the start) are joined by shortest paths,
//!    Borůvka style: each round links every component to its nearest
//!    neighbour;
//! 3. odd-degree nodes are paired greedily by shortest-path distance, the
//!    pairing improved by exchanging partners while that shortens it, and
//!    each pair's path is walked twice;
//! 4. Hierholzer's algorithm turns the now even, connected multigraph into
//!    a closed walk from the start.

use std::collections::{HashMap, HashSet};

use geo::{Coord, LineString};
use h3o::{CellIndex, LatLng, Resolution};

use super::error::RoutingError;
use super::graph::{EdgeId, NodeId, RoadGraph};
use super::path::Search;
use crate::spatial::LonLat;

/// A closed walk over every road in a set of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRoute {
    /// The node the walk starts and ends at (nearest to the requested start).
    pub start: NodeId,
    /// The nodes in walking order; first and last are `start`.
    pub nodes: Vec<NodeId>,
    /// The edges walked, `edges[i]` joining `nodes[i]` and `nodes[i + 1]`.
    pub edges: Vec<EdgeId>,
    /// The edges that had to be walked.
    pub required: Vec<EdgeId>,
    /// Required edges that cannot be reached from the start (left out).
    pub unreachable: Vec<EdgeId>,
    /// Metres walked in all.
    pub length_m: f64,
    /// Metres of required road.
    pub required_m: f64,
    /// The walk's geometry along the roads.
    pub geometry: LineString<f64>,
}

impl RoadGraph {
    /// The edges whose midpoint lies in one of `cells` (any resolutions).
    #[must_use]
    pub fn edges_in_cells(&self, cells: &[CellIndex]) -> Vec<EdgeId> {
        let set: HashSet<CellIndex> = cells.iter().copied().collect();
        let mut resolutions: Vec<Resolution> = cells.iter().map(|c| c.resolution()).collect();
        resolutions.sort_unstable();
        resolutions.dedup();
        (0..self.edge_count())
            .map(EdgeId)
            .filter(|&e| {
                let m = self.edge(e).midpoint();
                LatLng::new(m.y, m.x)
                    .is_ok_and(|ll| resolutions.iter().any(|&r| set.contains(&ll.to_cell(r))))
            })
            .collect()
    }
}

/// A closed walk from the node nearest `start` over every edge in `cells`.
pub fn sweep_route(
    graph: &RoadGraph,
    start: LonLat,
    cells: &[CellIndex],
) -> Result<SweepRoute, RoutingError> {
    let (start_node, _) = graph.nearest_node(start).ok_or(RoutingError::EmptyGraph)?;
    let required = graph.edges_in_cells(cells);
    if required.is_empty() {
        return Err(RoutingError::NothingToSweep);
    }
    let mut search = Search::new(graph);
    // Required edges that the start cannot reach are left out.
    search.run(graph, &[(start_node, 0.0)], &[], f64::INFINITY);
    let (walkable, unreachable): (Vec<EdgeId>, Vec<EdgeId>) = required
        .iter()
        .partition(|&&e| search.distance(graph.edge(e).from()).is_finite());
    let mut multi: Vec<EdgeId> = walkable.clone();
    connect_components(graph, &mut search, start_node, &mut multi);
    pair_odd_nodes(graph, &mut search, &mut multi);
    let (nodes, edges) = euler_tour(graph, start_node, &multi);
    let mut coords: Vec<Coord<f64>> = vec![Coord::from(graph.node(start_node))];
    for (i, &e) in edges.iter().enumerate() {
        for c in graph.edge(e).coords_from(nodes[i]) {
            if coords.last() != Some(&c) {
                coords.push(c);
            }
        }
    }
    if coords.len() == 1 {
        coords.push(coords[0]);
    }
    Ok(SweepRoute {
        start: start_node,
        length_m: edges.iter().map(|&e| graph.edge(e).length_m()).sum(),
        required_m: walkable.iter().map(|&e| graph.edge(e).length_m()).sum(),
        nodes,
        edges,
        required: walkable,
        unreachable,
        geometry: LineString::from(coords),
    })
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut v: usize) -> usize {
        while self.0[v] != v {
            self.0[v] = self.0[self.0[v]];
            v = self.0[v];
        }
        v
    }
}

/// Adds shortest paths to `multi` until its edges and the start form one
/// connected whole.
fn connect_components(
    graph: &RoadGraph,
    search: &mut Search,
    start: NodeId,
    multi: &mut Vec<EdgeId>,
) {
    let mut involved: Vec<NodeId> = vec![start];
    for &e in multi.iter() {
        involved.extend([graph.edge(e).from(), graph.edge(e).to()]);
    }
    involved.sort_unstable();
    involved.dedup();
    let index: HashMap<NodeId, usize> = involved.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut uf = UnionFind((0..involved.len()).collect());
    for &e in multi.iter() {
        let (a, b) = (
            uf.find(index[&graph.edge(e).from()]),
            uf.find(index[&graph.edge(e).to()]),
        );
        uf.0[a] = b;
    }
    loop {
        let mut groups: HashMap<usize, Vec<NodeId>> = HashMap::new();
        for (i, &n) in involved.iter().enumerate() {
            groups.entry(uf.find(i)).or_default().push(n);
        }
        if groups.len() <= 1 {
            return;
        }
        let mut roots: Vec<usize> = groups.keys().copied().collect();
        roots.sort_unstable();
        // Each component's nearest other component, by a search seeded
        // from all its nodes.
        let mut links: Vec<(f64, usize, NodeId)> = Vec::new();
        for &r in &roots {
            let seeds: Vec<(NodeId, f64)> = groups[&r].iter().map(|&n| (n, 0.0)).collect();
            let others: Vec<NodeId> = involved
                .iter()
                .enumerate()
                .filter(|&(i, _)| uf.find(i) != r)
                .map(|(_, &n)| n)
                .collect();
            search.run(graph, &seeds, &others, f64::INFINITY);
            let best = others
                .iter()
                .map(|&n| (search.distance(n), n))
                .filter(|(d, _)| d.is_finite())
                .min_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            if let Some((d, n)) = best {
                links.push((d, r, n));
            }
        }
        if links.is_empty() {
            return;
        }
        links.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let mut merged = false;
        for (_, r, target) in links {
            let (a, b) = (uf.find(r), uf.find(index[&target]));
            if a == b {
                continue;
            }
            let seeds: Vec<(NodeId, f64)> = groups[&r].iter().map(|&n| (n, 0.0)).collect();
            search.run(graph, &seeds, &[target], f64::INFINITY);
            let (_, path) = search.trace(graph, target);
            multi.extend(path);
            uf.0[a] = b;
            merged = true;
        }
        if !merged {
            return;
        }
    }
}

/// Makes every degree even by walking shortest paths between odd nodes
/// twice (once more than required).
fn pair_odd_nodes(graph: &RoadGraph, search: &mut Search, multi: &mut Vec<EdgeId>) {
    let mut degree: HashMap<NodeId, usize> = HashMap::new();
    for &e in multi.iter() {
        *degree.entry(graph.edge(e).from()).or_default() += 1;
        *degree.entry(graph.edge(e).to()).or_default() += 1;
    }
    let mut odd: Vec<NodeId> = degree
        .iter()
        .filter(|&(_, &d)| d % 2 == 1)
        .map(|(&n, _)| n)
        .collect();
    odd.sort_unstable();
    let k = odd.len();
    if k == 0 {
        return;
    }
    let mut dist = vec![f64::INFINITY; k * k];
    for i in 0..k {
        search.run(graph, &[(odd[i], 0.0)], &odd, f64::INFINITY);
        for j in 0..k {
            dist[i * k + j] = search.distance(odd[j]);
        }
    }
    // Greedy: closest pairs first.
    let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(k * (k - 1) / 2);
    for i in 0..k {
        for j in (i + 1)..k {
            pairs.push((dist[i * k + j], i, j));
        }
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut mate = vec![usize::MAX; k];
    for (d, i, j) in pairs {
        if d.is_finite() && mate[i] == usize::MAX && mate[j] == usize::MAX {
            mate[i] = j;
            mate[j] = i;
        }
    }
    // Exchange partners between two pairs while that shortens the total.
    let d = |i: usize, j: usize| dist[i * k + j];
    for _ in 0..100 {
        let mut improved = false;
        for a in 0..k {
            for c in 0..k {
                let (b, dd) = (mate[a], mate[c]);
                if a == c || b == c || b == usize::MAX || dd == usize::MAX {
                    continue;
                }
                let now = d(a, b) + d(c, dd);
                if d(a, c) + d(b, dd) < now - 1e-9 {
                    (mate[a], mate[c], mate[b], mate[dd]) = (c, a, dd, b);
                    improved = true;
                } else if d(a, dd) + d(b, c) < now - 1e-9 {
                    (mate[a], mate[dd], mate[b], mate[c]) = (dd, a, c, b);
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    for i in 0..k {
        let j = mate[i];
        if j != usize::MAX && i < j {
            search.run(graph, &[(odd[i], 0.0)], &[odd[j]], f64::INFINITY);
            let (_, path) = search.trace(graph, odd[j]);
            multi.extend(path);
        }
    }
}

/// Hierholzer's algorithm on the multigraph `multi` from `start`.
fn euler_tour(graph: &RoadGraph, start: NodeId, multi: &[EdgeId]) -> (Vec<NodeId>, Vec<EdgeId>) {
    let mut incident: HashMap<NodeId, Vec<usize>> = HashMap::new();
    for (i, &e) in multi.iter().enumerate() {
        incident.entry(graph.edge(e).from()).or_default().push(i);
        incident.entry(graph.edge(e).to()).or_default().push(i);
    }
    let mut used = vec![false; multi.len()];
    let mut next: HashMap<NodeId, usize> = HashMap::new();
    // Stack of (node, edge instance used to arrive).
    let mut stack: Vec<(NodeId, Option<usize>)> = vec![(start, None)];
    let mut walk: Vec<(NodeId, Option<usize>)> = Vec::new();
    while let Some(&(v, _)) = stack.last() {
        let list = incident.get(&v).map_or(&[][..], Vec::as_slice);
        let cursor = next.entry(v).or_default();
        while *cursor < list.len() && used[list[*cursor]] {
            *cursor += 1;
        }
        if *cursor < list.len() {
            let i = list[*cursor];
            used[i] = true;
            stack.push((graph.edge(multi[i]).other(v), Some(i)));
        } else if let Some(top) = stack.pop() {
            walk.push(top);
        }
    }
    walk.reverse();
    let nodes = walk.iter().map(|&(n, _)| n).collect();
    let edges = walk
        .iter()
        .filter_map(|&(_, i)| i.map(|i| multi[i]))
        .collect();
    (nodes, edges)
}
