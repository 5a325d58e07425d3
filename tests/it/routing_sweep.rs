//! Street sweeping (扫街): the closed walk covers every road in the cells,
//! stays on the graph and comes back to its start.

#![expect(clippy::cast_precision_loss, reason = "small lattice indices")]

use std::path::PathBuf;

use gridpatrol::routing::{EdgeKind, NewEdge, NodeId, RoadGraph, SweepRoute, sweep_route};
use gridpatrol::spatial::LonLat;
use h3o::{CellIndex, LatLng, Resolution};
use proptest::prelude::*;

fn ll(lon: f64, lat: f64) -> LonLat {
    LonLat::new(lon, lat).expect("valid")
}

fn lattice(rows: usize, cols: usize, missing: impl Fn(usize, usize, bool) -> bool) -> RoadGraph {
    let mut nodes = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            nodes.push(ll(121.20 + 0.0015 * c as f64, 31.00 + 0.0015 * r as f64));
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

fn cells_around(p: LonLat, res: Resolution, k: u32) -> Vec<CellIndex> {
    let cell = LatLng::new(p.lat(), p.lon()).expect("latlng").to_cell(res);
    cell.grid_disk::<Vec<CellIndex>>(k)
}

fn assert_valid_sweep(g: &RoadGraph, cells: &[CellIndex], sweep: &SweepRoute) {
    assert_eq!(
        sweep.nodes.first(),
        Some(&sweep.start),
        "starts at the start"
    );
    assert_eq!(sweep.nodes.last(), Some(&sweep.start), "closed");
    assert_eq!(sweep.edges.len() + 1, sweep.nodes.len());
    for (i, &e) in sweep.edges.iter().enumerate() {
        let edge = g.edge(e);
        let (a, b) = (sweep.nodes[i], sweep.nodes[i + 1]);
        assert!(
            (edge.from() == a && edge.to() == b) || (edge.from() == b && edge.to() == a),
            "step {i} does not follow edge {e:?}"
        );
    }
    let required = g.edges_in_cells(cells);
    for e in &required {
        assert!(
            sweep.edges.contains(e) || sweep.unreachable.contains(e),
            "edge {e:?} not swept"
        );
    }
    assert!(sweep.length_m + 1e-6 >= sweep.required_m);
    let first = sweep.geometry.0.first().expect("geometry");
    let last = sweep.geometry.0.last().expect("geometry");
    assert_eq!(first, last);
}

#[test]
fn sweeps_every_street_of_a_lattice_block() {
    let g = lattice(20, 20, |r, c, east| {
        (r * 3 + c * 5 + usize::from(east)) % 13 == 0
    });
    let centre = ll(121.2142, 31.0142);
    let cells = cells_around(centre, Resolution::Nine, 1);
    let sweep = sweep_route(&g, ll(121.2100, 31.0100), &cells).expect("sweep");
    assert!(!sweep.required.is_empty());
    assert!(sweep.unreachable.is_empty());
    assert_valid_sweep(&g, &cells, &sweep);
    // Deadheading on a lattice stays moderate.
    assert!(
        sweep.length_m < 3.0 * sweep.required_m + 2000.0,
        "{} vs {}",
        sweep.length_m,
        sweep.required_m
    );
}

#[test]
fn an_even_block_is_walked_without_repeats() {
    // A single square: every node has degree 2, the walk is the square.
    let g = lattice(2, 2, |_, _, _| false);
    let cells: Vec<CellIndex> = g
        .edges()
        .iter()
        .map(|e| {
            let m = e.midpoint();
            LatLng::new(m.y, m.x)
                .expect("latlng")
                .to_cell(Resolution::Twelve)
        })
        .collect();
    let sweep = sweep_route(&g, ll(121.20, 31.00), &cells).expect("sweep");
    assert_eq!(sweep.edges.len(), 4);
    assert!((sweep.length_m - sweep.required_m).abs() < 1e-9);
    assert_valid_sweep(&g, &cells, &sweep);
}

#[test]
fn cells_without_roads_are_an_error() {
    let g = lattice(3, 3, |_, _, _| false);
    let cells = cells_around(ll(121.5, 31.5), Resolution::Ten, 0);
    assert!(sweep_route(&g, ll(121.20, 31.00), &cells).is_err());
}

#[test]
fn sweeps_a_grid_of_the_demo_network() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/songjiang/roads/songjiang_roads.geojson");
    let g = RoadGraph::from_geojson(&std::fs::read_to_string(path).expect("fixture"))
        .expect("demo graph");
    // About 1 km² of 松江新城 in resolution-10 cells.
    let centre = ll(121.2230, 31.0330);
    let cells = cells_around(centre, Resolution::Ten, 6);
    let sweep = sweep_route(&g, centre, &cells).expect("sweep");
    assert!(sweep.required.len() > 20, "{} edges", sweep.required.len());
    assert_valid_sweep(&g, &cells, &sweep);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_cell_sets_are_swept(seed in 0usize..1000, k in 0u32..4, res in 8u8..11) {
        let g = lattice(14, 14, |r, c, east| (r * 7 + c * 11 + usize::from(east) + seed) % 9 == 0);
        let res = Resolution::try_from(res).expect("resolution");
        let centre = ll(121.20 + 0.0015 * (seed % 14) as f64, 31.00 + 0.0015 * (seed / 14 % 14) as f64);
        let cells = cells_around(centre, res, k);
        match sweep_route(&g, ll(121.2050, 31.0050), &cells) {
            Ok(sweep) => assert_valid_sweep(&g, &cells, &sweep),
            Err(e) => prop_assert!(g.edges_in_cells(&cells).is_empty(), "{e}"),
        }
    }
}
