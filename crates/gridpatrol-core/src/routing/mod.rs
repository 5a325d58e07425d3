//! Route planning on a road network: the road graph and its builders
//! (OpenStreetMap, bus-route polylines, `GeoJSON`), shortest paths, the patrol
//! planner (a prize-collecting tour within a shift) and street sweeping (扫街,
//! a closed walk over every road in a set of H3 cells).
//!
//! Everything here is pure computation on in-memory data; the only I/O is
//! [`RoadGraph::from_osm_path`], which reads the file it is given. Planning
//! is CPU work: call it from `spawn_blocking`.
//!
//! - `graph`: [`RoadGraph`], nodes and undirected edges with polyline
//!   geometry and geodesic length, and snapping ([`RoadGraph::snap`]) through
//!   an R-tree over edge segments;
//! - `osm`: [`RoadGraph::from_osm_xml`], [`RoadGraph::from_osm_pbf`],
//!   [`RoadGraph::from_osm_path`] and the walkable-way filter
//!   [`is_patrol_way`];
//! - `build`: [`RoadGraph::from_polylines`], noding and merging loose
//!   polylines, with an optional street lattice ([`LatticeOptions`]);
//! - `geojson`: [`RoadGraph::to_geojson`] and [`RoadGraph::from_geojson`];
//! - `path`: Dijkstra and A* between snapped points,
//!   [`RoadGraph::distance_matrix`], [`RoadGraph::path_between`];
//! - [`tour`]: the orienteering solver and TSP baselines;
//! - `plan`: [`plan_route`], from targets and a shift to a [`RoutePlan`];
//! - `sweep`: [`sweep_route`], a rural-postman walk over the roads of some
//!   cells (meant for a grid or a zone, not a whole district at once);
//! - [`adherence`]: how well tracks followed a route;
//! - [`gpx`]: a planned route as GPX 1.1;
//! - planar geometry (snapping, crossings) uses [`crate::spatial::frame`].

pub mod adherence;
mod build;
mod error;
mod geojson;
pub mod gpx;
mod graph;
mod osm;
mod overlay;
mod path;
mod plan;
mod sweep;
pub mod tour;

pub use adherence::{AdherenceInput, AdherenceMeasure, RouteStop, measure_adherence};
pub use build::{LatticeOptions, PolylineOptions, built_up_cells};
pub use error::RoutingError;
pub use graph::{Edge, EdgeId, EdgeKind, NewEdge, NodeId, RoadGraph, Snap};
pub use osm::is_patrol_way;
pub use path::RoadPath;
pub use plan::{
    LeftOut, LeftOutReason, Leg, PlanOptions, PlanRequest, PlannedStop, RoutePlan, ServiceTimes,
    Target, TargetKind, TravelMode, plan_route,
};
pub use sweep::{SweepRoute, sweep_route};
