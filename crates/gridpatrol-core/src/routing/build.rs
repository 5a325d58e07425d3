//! A road graph from loose polylines, such as bus routes digitised one route
//! at a time: the same road appears in several overlapping copies, routes
//! cross without a shared vertex, and vertices sit metres off each other.
//!
//! The polylines are noded in a local metric frame, one segment at a time,
//! against everything added before (a snap-rounding style overlay):
//!
//! 1. each vertex snaps to an existing node within `snap_m`, else onto an
//!    existing segment within `merge_m` (which is split there), else becomes
//!    a node;
//! 2. each new segment is split at the existing nodes within `merge_m` of it
//!    and at the existing segments it crosses (which are split too);
//! 3. a piece joining two nodes that are already joined is a duplicate of an
//!    overlapping route and is dropped.
//!
//! Chains of degree-2 nodes are then merged into edges with polyline
//! geometry, cut where they grow longer than `max_edge_m`, and coordinates
//! are rounded to 1e-6° (about 0.1 m) so that the graph survives a `GeoJSON`
//! round trip unchanged. An optional lattice of local streets fills the
//! built-up areas that no polyline reaches (see [`LatticeOptions`]).

use std::collections::HashMap;

use geo::{LineString, MultiPolygon};
use h3o::{CellIndex, LatLng, Resolution};

use super::error::RoutingError;
use super::graph::{EdgeKind, RoadGraph};
use super::overlay::Planar;
use crate::spatial::LonLat;
use crate::spatial::frame::{LocalFrame, Xy};

/// Options of [`RoadGraph::from_polylines`].
#[derive(Debug, Clone, PartialEq)]
pub struct PolylineOptions {
    /// Vertices and crossings closer than this many metres are merged.
    pub snap_m: f64,
    /// A vertex this close to an existing segment, or an existing node this
    /// close to a new segment, is moved onto it, so that overlapping copies
    /// of one road (the two directions of a route, digitised a carriageway
    /// apart) become one. At least `snap_m`.
    pub merge_m: f64,
    /// Chains are cut at a vertex before they grow longer than this many
    /// metres, so that sweeping and H3 lookups work on pieces of a street.
    pub max_edge_m: f64,
    /// The kind of the polylines' edges.
    pub kind: EdgeKind,
    /// Local streets to add where the polylines leave gaps.
    pub lattice: Option<LatticeOptions>,
    /// Keep only the largest connected component (by length).
    pub largest_component_only: bool,
}

impl Default for PolylineOptions {
    fn default() -> Self {
        Self {
            snap_m: 8.0,
            merge_m: 20.0,
            max_edge_m: 250.0,
            kind: EdgeKind::BusRoute,
            lattice: None,
            largest_component_only: true,
        }
    }
}

/// A square lattice of synthetic local streets, laid where a built-up area
/// lacks roads: lattice points inside `cells` (and `clip`, if any) that lie
/// at least `clearance_m` from every polyline road become nodes, joined to
/// their four neighbours. Where a neighbour was dropped for being too close
/// to a road, a connector runs from the lattice node in that direction to
/// the first road it meets, within `max_connector_m`. The lattice is
/// anchored on multiples of `spacing_m` in the graph's frame, so it is
/// deterministic.
#[derive(Debug, Clone, PartialEq)]
pub struct LatticeOptions {
    /// Where the lattice may go, as H3 cells of any resolution (for
    /// example the built-up area, or supervision grids).
    pub cells: Vec<CellIndex>,
    /// An outline (the district) that the lattice must stay inside.
    pub clip: Option<MultiPolygon<f64>>,
    /// Distance between lattice streets, metres.
    pub spacing_m: f64,
    /// How far a lattice node must be from every polyline road, metres.
    pub clearance_m: f64,
    /// The longest connector from the lattice to a road, metres.
    pub max_connector_m: f64,
}

impl LatticeOptions {
    /// A 200 m lattice with 100 m clearance and connectors up to 300 m.
    #[must_use]
    pub fn new(cells: Vec<CellIndex>, clip: Option<MultiPolygon<f64>>) -> Self {
        Self {
            cells,
            clip,
            spacing_m: 200.0,
            clearance_m: 100.0,
            max_connector_m: 300.0,
        }
    }
}

impl RoadGraph {
    /// A road graph from polylines in lon/lat: vertices snapped, crossings
    /// noded and overlapping copies merged (see the module documentation),
    /// optionally densified with a lattice of local streets.
    pub fn from_polylines(
        lines: &[LineString<f64>],
        opts: &PolylineOptions,
    ) -> Result<Self, RoutingError> {
        if !(opts.snap_m.is_finite() && opts.snap_m >= 0.0) {
            return Err(RoutingError::invalid(
                "snap_m",
                "must be a finite number ≥ 0",
            ));
        }
        if !(opts.merge_m.is_finite() && opts.merge_m >= opts.snap_m) {
            return Err(RoutingError::invalid(
                "merge_m",
                "must be a finite number ≥ snap_m",
            ));
        }
        if !(opts.max_edge_m.is_finite() && opts.max_edge_m > 0.0) {
            return Err(RoutingError::invalid(
                "max_edge_m",
                "must be a finite number > 0",
            ));
        }
        if let Some(l) = &opts.lattice {
            let ok = |x: f64| x.is_finite() && x > 0.0;
            if !(ok(l.spacing_m)
                && l.clearance_m.is_finite()
                && l.clearance_m >= 0.0
                && ok(l.max_connector_m))
            {
                return Err(RoutingError::invalid(
                    "lattice",
                    "spacing, clearance and connector length must be > 0",
                ));
            }
        }
        for (i, line) in lines.iter().enumerate() {
            for c in &line.0 {
                LonLat::new(c.x, c.y).map_err(|source| RoutingError::Coordinate {
                    context: format!("polyline {i}"),
                    source,
                })?;
            }
        }
        let frame = LocalFrame::around(lines.iter().flat_map(|l| l.0.iter()))
            .unwrap_or_else(|| LocalFrame::new(0.0, 0.0));
        let mut planar = Planar::new(opts.snap_m, opts.merge_m);
        for line in lines {
            let pts: Vec<Xy> = line.0.iter().map(|&c| frame.project(c)).collect();
            planar.add_polyline(&pts, opts.kind);
        }
        if let Some(lattice) = &opts.lattice {
            planar.add_lattice(&frame, lattice);
        }
        let graph = planar.into_graph(&frame, opts.max_edge_m);
        if graph.edge_count() == 0 {
            return Err(RoutingError::EmptyGraph);
        }
        Ok(if opts.largest_component_only {
            graph.largest_component()
        } else {
            graph
        })
    }
}

/// The built-up area as H3 cells, estimated from bus stops: a cell at
/// `resolution` is built up when it and its ring of neighbours hold at
/// least `min_stops` stops. For Songjiang, resolution 8 (≈0.74 km²) and 14
/// stops give ≈380 km² around the town centres and industrial parks, and
/// leave out the farmland of the south and west.
#[must_use]
pub fn built_up_cells(
    stops: &[LonLat],
    resolution: Resolution,
    min_stops: usize,
) -> Vec<CellIndex> {
    let mut count: HashMap<CellIndex, usize> = HashMap::new();
    for s in stops {
        if let Ok(ll) = LatLng::new(s.lat(), s.lon()) {
            *count.entry(ll.to_cell(resolution)).or_default() += 1;
        }
    }
    let mut candidates: Vec<CellIndex> = count
        .keys()
        .flat_map(|c| c.grid_disk::<Vec<CellIndex>>(1))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .filter(|c| {
            c.grid_disk::<Vec<CellIndex>>(1)
                .iter()
                .map(|n| count.get(n).copied().unwrap_or(0))
                .sum::<usize>()
                >= min_stops
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pts: &[(f64, f64)]) -> LineString<f64> {
        LineString::from(pts.to_vec())
    }

    #[test]
    fn crossing_polylines_are_noded() {
        // Two straight roads crossing at (121.225, 31.03), no shared vertex.
        let lines = [
            line(&[(121.22, 31.03), (121.23, 31.03)]),
            line(&[(121.225, 31.025), (121.225, 31.035)]),
        ];
        let g = RoadGraph::from_polylines(
            &lines,
            &PolylineOptions {
                max_edge_m: 1e9,
                ..PolylineOptions::default()
            },
        )
        .expect("graph");
        assert_eq!(g.node_count(), 5);
        assert_eq!(g.edge_count(), 4);
    }

    #[test]
    fn overlapping_routes_are_merged() {
        // The same road digitised twice, 3 m apart and with vertices at
        // other places, plus once in the other direction.
        let a = line(&[(121.20, 31.03), (121.205, 31.03), (121.21, 31.03)]);
        let b = line(&[
            (121.2013, 31.03003),
            (121.2071, 31.03002),
            (121.2099, 31.03003),
        ]);
        let c = line(&[(121.21, 31.03), (121.2033, 31.02998), (121.20, 31.03)]);
        let opts = PolylineOptions {
            max_edge_m: 1e9,
            ..PolylineOptions::default()
        };
        let g = RoadGraph::from_polylines(std::slice::from_ref(&a), &opts).expect("graph");
        let merged = RoadGraph::from_polylines(&[a, b, c], &opts).expect("graph");
        let (l1, l2) = (g.total_length_m(), merged.total_length_m());
        // Ends may move by up to the merge tolerance.
        assert!((l1 - l2).abs() < 20.0, "one road {l1} m, merged {l2} m");
        assert!(merged.edge_count() <= 3, "{} edges", merged.edge_count());
    }

    #[test]
    fn long_chains_are_cut() {
        let lines = [line(&[
            (121.20, 31.03),
            (121.205, 31.03),
            (121.21, 31.03),
            (121.215, 31.03),
        ])];
        let g = RoadGraph::from_polylines(
            &lines,
            &PolylineOptions {
                max_edge_m: 600.0,
                ..PolylineOptions::default()
            },
        )
        .expect("graph");
        assert_eq!(g.edge_count(), 3);
        assert!(g.edges().iter().all(|e| e.length_m() < 1000.0));
    }
}
