//! The road graph as a `GeoJSON` `FeatureCollection` (RFC 7946) of `LineString`
//! edges, one feature per line, with properties `kind` and `length_m`.
//! Coordinates are rounded to 1e-6° (about 0.1 m).
//!
//! Reading joins lines that end at the same rounded coordinate; it does not
//! node crossings or merge overlaps (use [`RoadGraph::from_polylines`] for
//! raw lines).

use std::collections::HashMap;

use geo::{Coord, LineString};
use serde::{Deserialize, Serialize};

use super::error::RoutingError;
use super::graph::{Edge, EdgeKind, NodeId, RoadGraph};
use crate::spatial::LonLat;

#[derive(Serialize)]
struct OutFeature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    properties: OutProps,
    geometry: OutLine<'a>,
}

#[derive(Serialize)]
struct OutProps {
    kind: EdgeKind,
    length_m: f64,
}

#[derive(Serialize)]
struct OutLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: &'a [[f64; 2]],
}

#[derive(Deserialize)]
struct InCollection {
    features: Vec<InFeature>,
}

#[derive(Deserialize)]
struct InFeature {
    geometry: Option<InGeometry>,
    #[serde(default)]
    properties: Option<InProps>,
}

#[derive(Deserialize, Default)]
struct InProps {
    #[serde(default)]
    kind: Option<EdgeKind>,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum InGeometry {
    LineString {
        coordinates: Vec<Vec<f64>>,
    },
    MultiLineString {
        coordinates: Vec<Vec<Vec<f64>>>,
    },
    #[serde(other)]
    Other,
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl RoadGraph {
    /// The edges as a `GeoJSON` `FeatureCollection`, one feature per line.
    #[must_use]
    pub fn to_geojson(&self) -> String {
        let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
        for (i, e) in self.edges().iter().enumerate() {
            let coords: Vec<[f64; 2]> = e
                .geometry()
                .0
                .iter()
                .map(|c| [round6(c.x), round6(c.y)])
                .collect();
            let feature = OutFeature {
                kind: "Feature",
                properties: OutProps {
                    kind: e.kind(),
                    length_m: (e.length_m() * 10.0).round() / 10.0,
                },
                geometry: OutLine {
                    kind: "LineString",
                    coordinates: &coords,
                },
            };
            if i > 0 {
                out.push_str(",\n");
            }
            // Serialising plain numbers and strings cannot fail.
            out.push_str(&serde_json::to_string(&feature).unwrap_or_default());
        }
        out.push_str("\n]}\n");
        out
    }

    /// Reads a `FeatureCollection` of `LineString` (or `MultiLineString`) edges,
    /// such as [`RoadGraph::to_geojson`] writes. Lines are joined where
    /// their ends coincide to 1e-6°; `kind` defaults to `road`.
    pub fn from_geojson(text: &str) -> Result<Self, RoutingError> {
        let fc: InCollection = serde_json::from_str(text).map_err(RoutingError::GeoJson)?;
        let mut keys: HashMap<(i64, i64), NodeId> = HashMap::new();
        let mut nodes: Vec<LonLat> = Vec::new();
        let mut edges = Vec::new();
        for (i, f) in fc.features.into_iter().enumerate() {
            let bad = |reason: &str| RoutingError::GeoJsonFeature {
                feature: i,
                reason: reason.to_owned(),
            };
            let kind = f.properties.and_then(|p| p.kind).unwrap_or_default();
            let parts = match f.geometry {
                Some(InGeometry::LineString { coordinates }) => vec![coordinates],
                Some(InGeometry::MultiLineString { coordinates }) => coordinates,
                _ => return Err(bad("geometry is not a LineString")),
            };
            for part in parts {
                let mut coords = Vec::with_capacity(part.len());
                for p in &part {
                    let (&[lon, lat, ..], true) = (p.as_slice(), p.len() >= 2) else {
                        return Err(bad("a position needs two numbers"));
                    };
                    let ll = LonLat::new(lon, lat).map_err(|source| RoutingError::Coordinate {
                        context: format!("feature {i}"),
                        source,
                    })?;
                    coords.push(ll);
                }
                coords.dedup();
                if coords.len() < 2 {
                    continue;
                }
                // A closed line is split at its middle vertex.
                let pieces = if coords[0] == coords[coords.len() - 1] {
                    if coords.len() < 3 {
                        continue;
                    }
                    let mid = coords.len() / 2;
                    vec![coords[..=mid].to_vec(), coords[mid..].to_vec()]
                } else {
                    vec![coords]
                };
                for piece in pieces {
                    let mut ends = [NodeId(0); 2];
                    for (slot, p) in ends.iter_mut().zip([piece[0], piece[piece.len() - 1]]) {
                        #[expect(
                            clippy::cast_possible_truncation,
                            reason = "degrees × 1e6 fit in i64"
                        )]
                        let k = (
                            (p.lon() * 1e6).round() as i64,
                            (p.lat() * 1e6).round() as i64,
                        );
                        *slot = *keys.entry(k).or_insert_with(|| {
                            nodes.push(p);
                            NodeId(nodes.len() - 1)
                        });
                    }
                    let mut line: Vec<Coord<f64>> = piece.into_iter().map(Coord::from).collect();
                    let last = line.len() - 1;
                    line[0] = Coord::from(nodes[ends[0].0]);
                    line[last] = Coord::from(nodes[ends[1].0]);
                    if ends[0] != ends[1] {
                        edges.push(Edge::new(ends[0], ends[1], kind, LineString::from(line)));
                    }
                }
            }
        }
        if edges.is_empty() {
            return Err(RoutingError::EmptyGraph);
        }
        Ok(Self::assemble(nodes, edges))
    }
}
