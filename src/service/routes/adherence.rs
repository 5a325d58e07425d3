//! Adherence as use cases: the tracks of a route's officer on its date,
//! measured against the route by [`crate::routing::adherence`], stored on
//! the route, and summarised per officer.

use std::collections::HashSet;

use chrono::{NaiveTime, Utc};
use h3o::CellIndex;
use serde::Serialize;

use super::{SIGHTING_M, list, round1, shift_start};
use crate::auth::Scope;
use crate::routing::adherence::{self as core, AdherenceInput, RouteStop};
use crate::service::{ServiceError, task_failed};
use crate::spatial::TrackPoint;
use crate::store::DynStore;
use crate::store::routes::{Adherence, NewRoute, RouteQuery, RouteRecord};
use crate::store::tracks::TrackQuery;

/// The tracks of a route's officer on its date and how well they followed
/// it; stored on the route when it changed. `None` without an officer or
/// without a track that day.
pub async fn refresh_adherence(
    store: &DynStore,
    r: &RouteRecord,
) -> Result<Option<Adherence>, ServiceError> {
    let Some(officer) = r.route.officer.clone() else {
        return Ok(None);
    };
    let day_start = shift_start(r.route.date, NaiveTime::MIN).timestamp_millis();
    let tracks = store
        .list_tracks(&TrackQuery {
            officer: Some(officer),
            from_ms: Some(day_start),
            to_ms: Some(day_start + 86_400_000),
            limit: 100,
            ..TrackQuery::default()
        })
        .await?
        .items;
    let ids: Vec<i64> = tracks.iter().map(|t| t.id).collect();
    if ids.is_empty() {
        if r.adherence.is_some() {
            store.set_route_adherence(r.id, None).await?;
        }
        return Ok(None);
    }
    // a live track grows: recompute when its length changed too
    let lengths: Vec<f64> = tracks.iter().map(|t| round1(t.track.length_m)).collect();
    if let Some(a) = &r.adherence
        && a.tracks == ids
        && a.track_lengths_m == lengths
    {
        return Ok(Some(a.clone()));
    }
    let mut visited: HashSet<CellIndex> = HashSet::new();
    for id in &ids {
        for v in store.track_visits(*id).await? {
            if let Ok(c) = CellIndex::try_from(v.cell) {
                visited.insert(c);
            }
        }
    }
    let segments: Vec<Vec<TrackPoint>> = tracks
        .iter()
        .flat_map(|t| t.track.segments.iter().cloned())
        .collect();
    let sighting_m = tracks
        .iter()
        .map(|t| t.track.sighting_m)
        .fold(SIGHTING_M, f64::max);
    let route = r.route.clone();
    let a = tokio::task::spawn_blocking(move || {
        measure_adherence(&route, &segments, &visited, sighting_m, ids, lengths)
    })
    .await
    .map_err(task_failed("adherence"))?;
    store.set_route_adherence(r.id, Some(&a)).await?;
    Ok(Some(a))
}

/// How well tracks followed a route ([`core::measure_adherence`]): a
/// stop is reached when a track passes within `sighting_m` of it (a cell
/// stop also when a track covered the cell); the path walked is the length
/// of the route within `sighting_m` of a track, sampled every 5 m.
#[must_use]
pub fn measure_adherence<S: std::hash::BuildHasher>(
    route: &NewRoute,
    segments: &[Vec<TrackPoint>],
    visited: &HashSet<CellIndex, S>,
    sighting_m: f64,
    tracks: Vec<i64>,
    track_lengths_m: Vec<f64>,
) -> Adherence {
    let stops: Vec<RouteStop> = route
        .stops
        .iter()
        .map(|s| RouteStop {
            position: s.position,
            cell: (s.kind == "cell")
                .then(|| s.target_id.parse::<CellIndex>().ok())
                .flatten(),
        })
        .collect();
    let m = core::measure_adherence(&AdherenceInput {
        line: &route.geometry,
        stops: &stops,
        segments,
        visited,
        sighting_m,
    });
    Adherence {
        stops_reached: m.stops_reached,
        stops_reached_count: m.stops_reached_count,
        stops_planned: m.stops_planned,
        path_walked: m.path_walked,
        path_walked_m: m.path_walked_m,
        path_planned_m: m.path_planned_m,
        sighting_m,
        tracks,
        track_lengths_m,
        computed_at: Utc::now(),
    }
}

/// One officer's adherence over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfficerAdherence {
    pub officer: String,
    /// Routes assigned to the officer in the period.
    pub routes: usize,
    /// Routes with a track of their date.
    pub tracked: usize,
    /// Means over the tracked routes.
    pub stops_reached: Option<f64>,
    pub path_walked: Option<f64>,
}

/// The adherence of every assigned route of the period in the scope, by
/// officer (routes beyond the first 1,000 are not counted).
pub async fn adherence_summary(
    store: &DynStore,
    scope: &Scope,
    q: RouteQuery,
) -> Result<(Vec<OfficerAdherence>, Vec<RouteRecord>), ServiceError> {
    let q = RouteQuery { limit: 1000, ..q };
    let mut routes = list(store, scope, q).await?.items;
    routes.retain(|r| r.route.officer.is_some());
    let mut by_officer: std::collections::BTreeMap<String, Vec<Option<Adherence>>> =
        std::collections::BTreeMap::new();
    for r in &mut routes {
        r.adherence = refresh_adherence(store, r).await?;
        let officer = r.route.officer.clone().unwrap_or_default();
        by_officer
            .entry(officer)
            .or_default()
            .push(r.adherence.clone());
    }
    let rows = by_officer
        .into_iter()
        .map(|(officer, list)| {
            let known: Vec<&Adherence> = list.iter().flatten().collect();
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let mean = |f: fn(&Adherence) -> f64| {
                (!known.is_empty()).then(|| {
                    let m = known.iter().map(|a| f(a)).sum::<f64>() / known.len() as f64;
                    (m * 1000.0).round() / 1000.0
                })
            };
            OfficerAdherence {
                routes: list.len(),
                tracked: known.len(),
                stops_reached: mean(|a| a.stops_reached),
                path_walked: mean(|a| a.path_walked),
                officer,
            }
        })
        .collect();
    Ok((rows, routes))
}
