//! The base map drawn under the hexagons when no tile source is configured:
//! the stored road network's lines in a box, so that a desk without the
//! internet still sees its streets at street zoom. The lines come from the
//! road graph the planner routes on (kept in memory by [`RoadGraphCache`]),
//! so the map shows exactly the roads routes follow. And the name of a
//! point, for a cell the map shows ([`name_point`]).

use geo::{BoundingRect, LineString};

use super::ServiceError;
use super::routes::RoadGraphCache;
use crate::domain::{District, Project, Venue};
use crate::naming::{Gazetteer, PlaceLabel};
use crate::routing::EdgeKind;
use crate::spatial::Bbox;
use crate::store::{DynStore, typed};

/// The widest box asked for, in degrees of longitude or latitude (about
/// 12 km at Songjiang): street zoom, 13 and closer.
pub const MAX_SPAN_DEG: f64 = 0.12;

/// The most lines in one answer; a box at [`MAX_SPAN_DEG`] over the densest
/// part of the demo network holds about 6,000.
pub const MAX_LINES: usize = 20_000;

/// One road line of the base map.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadLine {
    /// The edge's index in the graph (stable for one network version).
    pub id: usize,
    pub kind: EdgeKind,
    pub line: LineString<f64>,
}

/// Whether a box is small enough for the base map.
#[must_use]
pub fn fits(bbox: &Bbox) -> bool {
    bbox.max_lon() - bbox.min_lon() <= MAX_SPAN_DEG
        && bbox.max_lat() - bbox.min_lat() <= MAX_SPAN_DEG
}

/// The road lines that touch `bbox`, at most [`MAX_LINES`], and how many
/// touch it in all; none when no network was imported.
pub async fn roads_in(
    store: &DynStore,
    roads: &RoadGraphCache,
    bbox: Bbox,
) -> Result<(Vec<RoadLine>, usize), ServiceError> {
    let Some(graph) = roads.get(store).await? else {
        return Ok((Vec::new(), 0));
    };
    tokio::task::spawn_blocking(move || {
        let mut total = 0;
        let mut out = Vec::new();
        for (id, e) in graph.edges().iter().enumerate() {
            let Some(r) = e.geometry().bounding_rect() else {
                continue;
            };
            let touches = r.max().x >= bbox.min_lon()
                && r.min().x <= bbox.max_lon()
                && r.max().y >= bbox.min_lat()
                && r.min().y <= bbox.max_lat();
            if !touches {
                continue;
            }
            total += 1;
            if out.len() < MAX_LINES {
                out.push(RoadLine {
                    id,
                    kind: e.kind(),
                    line: e.geometry().clone(),
                });
            }
        }
        (out, total)
    })
    .await
    .map_err(super::task_failed("base map roads"))
}

/// Names a point for people ([`crate::naming`]): the nearest named place
/// (crowded venues and commercial districts, and the addresses of the works
/// the caller may see) and the grid it lies in (among the caller's grids).
pub async fn name_point(
    store: &DynStore,
    access: &crate::auth::Scope,
    at: crate::spatial::LonLat,
) -> Result<PlaceLabel, ServiceError> {
    let grids = super::coverage::GridSet::district(store)
        .await?
        .of_towns(access.list_query_towns(None).as_deref())
        .within(access);
    let mut projects = typed::all::<Project>(store).await?;
    projects.retain(|p| access.allows_geometry(p.value.town.as_deref(), &p.value.geometry));
    let venues = typed::all::<Venue>(store).await?;
    let districts = typed::all::<District>(store).await?;
    let stops = crate::service::places::named(store).await?;
    tokio::task::spawn_blocking(move || {
        Gazetteer::from_layers(&venues, &projects, &districts, &grids.grids, &stops).label(at)
    })
    .await
    .map_err(super::task_failed("naming a place"))
}
