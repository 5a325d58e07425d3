//! The road network and planned routes in the store: the [`RouteStore`]
//! part of every backend ([`super::routes_pg`], [`super::routes_sqlite`]).
//!
//! The road network is stored as rows ([`RoadRows`]) that rebuild the
//! routing graph exactly (node and edge ids are graph indices); building
//! the graph's indexes is CPU work, left to the caller's blocking thread.
//! An import replaces the whole network in one transaction and gives it a
//! new [`RoadNetworkInfo::version`], by which cached graphs know they are
//! stale.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use geo::LineString;
use serde::{Deserialize, Serialize};

use super::{Page, StoreError};
use crate::routing::{EdgeKind, NewEdge, NodeId, RoadGraph, RoutingError};
use crate::spatial::LonLat;

/// The stored road network, without its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadNetworkInfo {
    /// Changes with every import.
    pub version: i64,
    /// The file it came from.
    pub source: String,
    pub imported_at: DateTime<Utc>,
    pub nodes: i64,
    pub edges: i64,
    pub length_m: f64,
}

/// One edge as stored: end node indices, kind, geodesic length and its
/// geometry from `from` to `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadEdgeRow {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    pub length_m: f64,
    pub geometry: LineString<f64>,
}

/// A road graph as rows: nodes by index, edges by index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoadRows {
    pub nodes: Vec<LonLat>,
    pub edges: Vec<RoadEdgeRow>,
}

impl RoadRows {
    /// The rows of a graph.
    #[must_use]
    pub fn of(graph: &RoadGraph) -> Self {
        Self {
            nodes: graph.nodes().to_vec(),
            edges: graph
                .edges()
                .iter()
                .map(|e| RoadEdgeRow {
                    from: e.from().0,
                    to: e.to().0,
                    kind: e.kind(),
                    length_m: e.length_m(),
                    geometry: e.geometry().clone(),
                })
                .collect(),
        }
    }

    /// Rebuilds the graph (CPU work: spatial indexes are built).
    pub fn into_graph(self) -> Result<RoadGraph, RoutingError> {
        let edges = self
            .edges
            .into_iter()
            .map(|e| NewEdge {
                from: NodeId(e.from),
                to: NodeId(e.to),
                geometry: Some(e.geometry),
                kind: e.kind,
            })
            .collect();
        RoadGraph::new(self.nodes, edges)
    }

    #[must_use]
    pub fn length_m(&self) -> f64 {
        self.edges.iter().map(|e| e.length_m).sum()
    }
}

/// The kind column's values.
pub(super) fn edge_kind(s: &str) -> Result<EdgeKind, StoreError> {
    match s {
        "road" => Ok(EdgeKind::Road),
        "bus_route" => Ok(EdgeKind::BusRoute),
        "lattice" => Ok(EdgeKind::Lattice),
        other => Err(StoreError::Corrupt(format!(
            "road_edge.kind: unexpected value {other:?}"
        ))),
    }
}

/// A stop of a stored route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteStopRow {
    /// 1-based order.
    pub order: u32,
    /// `cell` or `work`.
    pub kind: String,
    /// An H3 cell (hex) or a work's code.
    pub target_id: String,
    pub priority: f64,
    pub position: LonLat,
    /// Seconds from the start of the shift.
    pub arrival_s: f64,
    pub departure_s: f64,
    pub eta: DateTime<Utc>,
}

/// The adherence of a route: how much of it the officer's tracks of the
/// route's date followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Adherence {
    /// Share of planned stops reached (0..=1; 1 for a route without stops).
    pub stops_reached: f64,
    pub stops_reached_count: usize,
    pub stops_planned: usize,
    /// Share of the planned path's length within the sighting distance of a track.
    pub path_walked: f64,
    pub path_walked_m: f64,
    pub path_planned_m: f64,
    /// The sighting distance used, metres.
    pub sighting_m: f64,
    /// The tracks compared, by id, and their lengths (a live track that
    /// grew is compared again).
    pub tracks: Vec<i64>,
    pub track_lengths_m: Vec<f64>,
    pub computed_at: DateTime<Utc>,
}

/// A route to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRoute {
    /// `patrol` or `sweep`.
    pub kind: String,
    pub grid_id: Option<i64>,
    pub zone_id: Option<i64>,
    pub grid_code: Option<String>,
    pub zone_code: String,
    pub town_code: String,
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub officer: Option<String>,
    /// `walk` or `ebike`.
    pub mode: String,
    pub shift_minutes: f64,
    pub service_minutes: f64,
    pub distance_m: f64,
    pub duration_s: f64,
    pub new_cells: i64,
    pub road_network: bool,
    pub details: serde_json::Value,
    pub created_by: String,
    pub geometry: LineString<f64>,
    pub stops: Vec<RouteStopRow>,
}

/// A stored route.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRecord {
    pub id: i64,
    pub route: NewRoute,
    pub adherence: Option<Adherence>,
    pub created_at: DateTime<Utc>,
    /// When it was last assigned to its officer (epoch ms), as stored;
    /// each assignment is a new fact for the notifier.
    pub assigned_ms: Option<i64>,
}

/// Filters and paging of the route list; `None` is no filter.
#[derive(Debug, Clone, Default)]
pub struct RouteQuery {
    /// Routes of these towns.
    pub towns: Option<Vec<String>>,
    /// For grid scopes: routes of these grids or, with `zones`, of these
    /// zones (a route matches either).
    pub grids: Option<Vec<String>>,
    pub zones: Option<Vec<String>>,
    pub grid_id: Option<i64>,
    pub zone_id: Option<i64>,
    pub officer: Option<String>,
    pub from: Option<NaiveDate>,
    /// Inclusive.
    pub to: Option<NaiveDate>,
    pub kind: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

#[async_trait]
pub trait RouteStore: Send + Sync {
    /// Replaces the road network with `rows` in one transaction.
    async fn replace_road_network(
        &self,
        source: &str,
        rows: &RoadRows,
    ) -> Result<RoadNetworkInfo, StoreError>;

    /// The stored network's description; `None` before any import.
    async fn road_network(&self) -> Result<Option<RoadNetworkInfo>, StoreError>;

    /// The stored network with its rows, read in one transaction.
    async fn road_rows(&self) -> Result<Option<(RoadNetworkInfo, RoadRows)>, StoreError>;

    /// Stores a route and its stops in one transaction.
    async fn insert_route(&self, route: &NewRoute) -> Result<i64, StoreError>;

    /// Routes by date (newest first), then id.
    async fn list_routes(&self, q: &RouteQuery) -> Result<Page<RouteRecord>, StoreError>;

    async fn get_route(&self, id: i64) -> Result<Option<RouteRecord>, StoreError>;

    /// Assigns a route to an officer (`None`: unassigns it); `false` when
    /// there is no such route. The adherence, which depends on the
    /// officer, is cleared.
    async fn assign_route(&self, id: i64, officer: Option<&str>) -> Result<bool, StoreError>;

    /// Records (or clears) a route's adherence; `false` when there is no such route.
    async fn set_route_adherence(
        &self,
        id: i64,
        adherence: Option<&Adherence>,
    ) -> Result<bool, StoreError>;
}
