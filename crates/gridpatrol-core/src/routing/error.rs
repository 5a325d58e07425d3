//! Errors of the routing module.

use std::path::PathBuf;

/// Why a road graph could not be built or read, or a route not planned.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// An edge refers to a node that does not exist.
    #[error("edge {edge} refers to node {node}, but the graph has {nodes} nodes")]
    NodeOutOfRange {
        edge: usize,
        node: usize,
        nodes: usize,
    },
    /// An edge's geometry does not start at its `from` node or end at its `to` node.
    #[error("edge {edge}: geometry does not join its end nodes")]
    GeometryMismatch { edge: usize },
    /// A coordinate is not a valid WGS-84 lon/lat.
    #[error("invalid coordinate in {context}")]
    Coordinate {
        context: String,
        #[source]
        source: crate::spatial::CoordError,
    },
    /// The graph has no edge to snap to or route on.
    #[error("the road graph has no edges")]
    EmptyGraph,
    /// A point is farther from every road than the planner accepts.
    #[error(
        "the {what} is {distance_m:.0} m from the nearest road (at most {max_m:.0} m accepted)"
    )]
    OffNetwork {
        what: &'static str,
        distance_m: f64,
        max_m: f64,
    },
    /// The end cannot be reached from the start on the road network.
    #[error("the end cannot be reached from the start on the road network")]
    EndUnreachable,
    /// Going straight from the start to the end already takes longer than the shift.
    #[error(
        "going from the start to the end takes {needed_s:.0} s, more than the {budget_s:.0} s shift"
    )]
    BudgetTooShort { needed_s: f64, budget_s: f64 },
    /// A request parameter is out of range.
    #[error("invalid {field}: {reason}")]
    InvalidParameter { field: String, reason: String },
    /// None of the given H3 cells contains a road edge.
    #[error("no road edge lies inside the given cells")]
    NothingToSweep,
    /// The OSM XML document could not be parsed.
    #[error("OSM XML: {0}")]
    OsmXml(#[source] quick_xml::Error),
    /// An OSM XML attribute could not be parsed.
    #[error("OSM XML: bad attribute {attribute} on {element}")]
    OsmAttribute {
        element: &'static str,
        attribute: &'static str,
    },
    /// The `.osm.pbf` file could not be decoded.
    #[error("OSM PBF: {0}")]
    OsmPbf(#[source] osmpbf::Error),
    /// A `GeoJSON` document could not be parsed.
    #[error("GeoJSON: {0}")]
    GeoJson(#[source] serde_json::Error),
    /// A `GeoJSON` feature is not what the reader expects.
    #[error("GeoJSON feature {feature}: {reason}")]
    GeoJsonFeature { feature: usize, reason: String },
    /// A file could not be read.
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RoutingError {
    #[must_use]
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
