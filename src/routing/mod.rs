//! Route planning on a road network: the road graph and its builders
//! (OpenStreetMap, bus-route polylines, `GeoJSON`), shortest paths, the patrol
//! planner (a prize-collecting tour within a shift) and street sweeping (扫街,
//! a closed walk over every road in a set of H3 cells).
//!
//! Everything here is pure computation on in-memory data; the only I/O is
//! [`RoadGraph::from_osm_path`], which reads the file it is given.

mod build;
mod error;
mod frame;
mod geojson;
mod graph;
mod osm;
mod path;
mod plan;
mod sweep;
pub mod tour;

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
