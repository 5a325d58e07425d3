//! The road network: importing it (OSM XML or PBF, the graph's own
//! `GeoJSON`) and the per-process [`RoadGraphCache`] the planner routes on.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::invalid;
use crate::routing::{RoadGraph, RoutingError};
use crate::service::{ServiceError, task_failed};
use crate::store::DynStore;
use crate::store::StoreError;
use crate::store::routes::{RoadNetworkInfo, RoadRows};

/// The stored road graph, kept per process and rebuilt when the stored
/// network's version changes.
#[derive(Default)]
pub struct RoadGraphCache {
    graph: tokio::sync::Mutex<Option<(i64, Arc<RoadGraph>)>>,
}

impl std::fmt::Debug for RoadGraphCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoadGraphCache")
    }
}

impl RoadGraphCache {
    /// The current road graph; `None` when no network was imported.
    pub async fn get(&self, store: &DynStore) -> Result<Option<Arc<RoadGraph>>, ServiceError> {
        let Some(info) = store.road_network().await? else {
            *self.graph.lock().await = None;
            return Ok(None);
        };
        // one loader at a time: others wait for its graph
        let mut cached = self.graph.lock().await;
        if let Some((version, g)) = cached.as_ref()
            && *version == info.version
        {
            return Ok(Some(Arc::clone(g)));
        }
        let Some((info, rows)) = store.road_rows().await? else {
            *cached = None;
            return Ok(None);
        };
        let graph = tokio::task::spawn_blocking(move || rows.into_graph())
            .await
            .map_err(task_failed("road graph loading"))?
            .map_err(|e| StoreError::Corrupt(format!("stored road network: {e}")))?;
        tracing::info!(
            version = info.version,
            nodes = graph.node_count(),
            edges = graph.edge_count(),
            "road graph loaded"
        );
        let graph = Arc::new(graph);
        *cached = Some((info.version, Arc::clone(&graph)));
        Ok(Some(graph))
    }
}

/// The formats a road network is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadFormat {
    /// OpenStreetMap XML (`.osm`).
    OsmXml,
    /// OpenStreetMap PBF (`.osm.pbf`).
    OsmPbf,
    /// The graph's own `GeoJSON` (`.geojson`, `.json`), as the demo ships it.
    GeoJson,
}

impl RoadFormat {
    /// From a file name; `None` for an unknown extension.
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?;
        let is = |e: &str| ext.eq_ignore_ascii_case(e);
        if is("pbf") {
            Some(Self::OsmPbf)
        } else if is("osm") || is("xml") {
            Some(Self::OsmXml)
        } else if is("geojson") || is("json") {
            Some(Self::GeoJson)
        } else {
            None
        }
    }
}

/// What a road import stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportedRoads {
    pub version: i64,
    pub source: String,
    pub nodes: i64,
    pub edges: i64,
    pub length_km: f64,
    /// Edges read but not connected to the main network, left out.
    pub dropped_edges: usize,
}

impl ImportedRoads {
    fn new(info: RoadNetworkInfo, dropped_edges: usize) -> Self {
        Self {
            version: info.version,
            source: info.source,
            nodes: info.nodes,
            edges: info.edges,
            length_km: (info.length_m / 100.0).round() / 10.0,
            dropped_edges,
        }
    }
}

/// Reads a road network and replaces the stored one with it, in one
/// transaction. Only the largest connected component is kept: a piece
/// the rest cannot reach (a gated compound, a way cut by the extract's
/// border) would strand every target snapped to it.
pub async fn import_roads(
    store: &DynStore,
    bytes: Vec<u8>,
    format: RoadFormat,
    source: &str,
) -> Result<ImportedRoads, ServiceError> {
    let (rows, dropped) = tokio::task::spawn_blocking(move || {
        let graph = match format {
            RoadFormat::OsmXml => RoadGraph::from_osm_xml(&bytes),
            RoadFormat::OsmPbf => RoadGraph::from_osm_pbf(&bytes),
            RoadFormat::GeoJson => std::str::from_utf8(&bytes)
                .map_err(|_| RoutingError::invalid("file", "is not UTF-8 text"))
                .and_then(RoadGraph::from_geojson),
        }?;
        let kept = graph.largest_component();
        let dropped = graph.edge_count() - kept.edge_count();
        Ok::<_, RoutingError>((RoadRows::of(&kept), dropped))
    })
    .await
    .map_err(task_failed("road import"))?
    .map_err(|e| invalid("file", e.to_string()))?;
    if rows.edges.is_empty() {
        return Err(invalid("file", "holds no road an officer can use"));
    }
    let info = store.replace_road_network(source, &rows).await?;
    tracing::info!(
        version = info.version,
        nodes = info.nodes,
        edges = info.edges,
        dropped,
        "road network imported"
    );
    Ok(ImportedRoads::new(info, dropped))
}

/// Imports a road network file (`.osm`, `.osm.pbf` or the `GeoJSON` graph).
pub async fn import_roads_file(
    store: &DynStore,
    path: &Path,
) -> Result<ImportedRoads, ServiceError> {
    let format = RoadFormat::from_path(path).ok_or_else(|| {
        invalid(
            "file",
            format!("{}: expected .osm, .osm.pbf or .geojson", path.display()),
        )
    })?;
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|source| ServiceError::Io {
            path: path.display().to_string(),
            source,
        })?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("roads")
        .to_owned();
    import_roads(store, bytes, format, &name).await
}
