//! Street sweeping (扫街): a walk over every road of some cells of an area,
//! on the road network.

use std::collections::HashSet;

use chrono::Utc;
use geo::Coord;
use h3o::CellIndex;
use serde_json::json;

use super::{
    RoadGraphCache, SweepInput, check_in_district, check_officer, check_shift, covered_cells,
    invalid, mode_name, resolve, round1, routing_error, shift_start, statuses,
};
use crate::auth::Scope;
use crate::routing::{PlanOptions, RoutingError, sweep_route};
use crate::service::coverage::ScopeCell;
use crate::service::{ServiceError, task_failed};
use crate::store::DynStore;
use crate::store::routes::{NewRoute, RouteRecord};

/// The cells to sweep: those asked for, which must be cells of the area,
/// or all of them.
fn sweep_cells(
    asked: Option<&[CellIndex]>,
    area: &[ScopeCell],
) -> Result<Vec<CellIndex>, ServiceError> {
    let area_cells: HashSet<CellIndex> = area.iter().map(|c| c.cell).collect();
    let cells = match asked {
        None => {
            let mut all: Vec<CellIndex> = area_cells.into_iter().collect();
            all.sort_unstable();
            all
        }
        Some(asked) => {
            if let Some(c) = asked.iter().find(|c| !area_cells.contains(c)) {
                return Err(invalid(
                    "cells",
                    format!("{c} is not a resolution-10 cell of the area"),
                ));
            }
            asked.to_vec()
        }
    };
    if cells.is_empty() {
        return Err(invalid("cells", "names no cell"));
    }
    Ok(cells)
}

fn sweep_details(
    sweep: &crate::routing::SweepRoute,
    new_cells: &[CellIndex],
    overdue: usize,
) -> serde_json::Value {
    json!({
        "left_out": sweep.unreachable.iter().map(|e| json!({
            "target_id": format!("edge {}", e.0),
            "kind": "road",
            "reason": "unreachable on the road network from the start",
        })).collect::<Vec<_>>(),
        "new_cells": new_cells.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "overdue_cells": overdue,
        "required_m": round1(sweep.required_m),
        "required_edges": sweep.required.len(),
        "walked_over_required": if sweep.required_m > 0.0 {
            (sweep.length_m / sweep.required_m * 1000.0).round() / 1000.0
        } else { 0.0 },
    })
}

/// Plans a street sweep (扫街) of an area's cells within the caller's scope
/// and stores it. Needs the road network.
pub async fn sweep(
    store: &DynStore,
    roads: &RoadGraphCache,
    scope: &Scope,
    created_by: &str,
    input: SweepInput,
) -> Result<RouteRecord, ServiceError> {
    if let Some(m) = input.shift_minutes {
        check_shift(m)?;
    }
    check_officer(input.officer.as_deref())?;
    check_in_district(store, "start", input.start).await?;
    let area = resolve(store, scope, input.area).await?;
    let cells = sweep_cells(input.cells.as_deref(), &area.cells)?;
    let graph = roads.get(store).await?.ok_or_else(|| {
        ServiceError::Conflict(
            "no road network has been imported: street sweeping follows the roads \
             (gridpatrol import roads FILE)"
                .to_owned(),
        )
    })?;
    let starts_at = shift_start(input.date, input.start_time);
    let status = statuses(store, &area.cells, starts_at.timestamp_millis()).await?;
    let start = input.start;
    let swept = cells.len();
    let (sweep, start_gap_m) = tokio::task::spawn_blocking(move || {
        let gap = graph.nearest_node(start).map_or(f64::INFINITY, |(_, d)| d);
        if gap > PlanOptions::default().max_snap_m {
            return Err(RoutingError::OffNetwork {
                what: "start",
                distance_m: gap,
                max_m: PlanOptions::default().max_snap_m,
            });
        }
        sweep_route(&graph, start, &cells).map(|s| (s, gap))
    })
    .await
    .map_err(task_failed("sweep planning"))?
    .map_err(routing_error)?;
    let overdue: HashSet<CellIndex> = status
        .iter()
        .filter(|s| s.overdue)
        .map(|s| s.cell)
        .collect();
    let mut geometry = sweep.geometry.clone();
    // the walk to and from the network, so the route starts where asked
    let s = Coord::from(input.start);
    if geometry.0.first() != Some(&s) {
        geometry.0.insert(0, s);
        geometry.0.push(s);
    }
    let new_cells = covered_cells(&geometry, &overdue);
    let distance_m = sweep.length_m + 2.0 * start_gap_m;
    let duration_s = distance_m / input.mode.speed_mps();
    let shift_minutes = input
        .shift_minutes
        .unwrap_or_else(|| (duration_s / 60.0).ceil().max(1.0));
    let mut details = sweep_details(&sweep, &new_cells, overdue.len());
    details["swept_cells"] = json!(swept);
    details["area_name"] = json!(area.area_name);
    details["fits_shift"] = json!(duration_s <= shift_minutes * 60.0);
    details["start"] = json!(input.start);
    details["start_time"] = json!(input.start_time.format("%H:%M").to_string());
    let route = NewRoute {
        kind: "sweep".to_owned(),
        grid_id: area.grid_id,
        zone_id: area.zone_id,
        grid_code: area.grid_code,
        zone_code: area.zone_code,
        town_code: area.town_code,
        date: input.date,
        starts_at,
        officer: input.officer.map(|o| o.trim().to_owned()),
        mode: mode_name(input.mode).to_owned(),
        shift_minutes,
        service_minutes: 0.0,
        distance_m: round1(distance_m),
        duration_s: round1(duration_s),
        new_cells: i64::try_from(new_cells.len()).unwrap_or(i64::MAX),
        road_network: true,
        details,
        created_by: created_by.to_owned(),
        geometry,
        stops: Vec::new(),
    };
    let id = store.insert_route(&route).await?;
    Ok(RouteRecord {
        id,
        route,
        adherence: None,
        created_at: Utc::now(),
        assigned_ms: None,
    })
}
