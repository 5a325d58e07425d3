//! Planning a patrol route for a grid or a zone: targets, the planner on
//! the road graph (or straight lines), and the stored route with why each
//! stop is one and what was left out.

use chrono::{DateTime, Utc};
use h3o::CellIndex;
use serde_json::json;

use super::targets::{Targets, choose_targets};
use super::{
    CELL_SERVICE_S, MAX_SHIFT_MINUTES, MAX_TARGETS, PlanInput, RoadGraphCache, check_in_district,
    check_officer, check_shift, covered_cells, invalid, mode_name, resolve, round1, routing_error,
    shift_start, statuses,
};
use crate::auth::Scope;
use crate::naming::Gazetteer;
use crate::routing::{PlanOptions, PlanRequest, RoutePlan, ServiceTimes, TargetKind, plan_route};
use crate::service::{ServiceError, task_failed};
use crate::store::DynStore;
use crate::store::routes::{NewRoute, RouteRecord, RouteStopRow};

/// Plans a route within the caller's scope and stores it.
pub async fn plan(
    store: &DynStore,
    roads: &RoadGraphCache,
    scope: &Scope,
    created_by: &str,
    input: PlanInput,
) -> Result<RouteRecord, ServiceError> {
    check_shift(input.shift_minutes)?;
    if !(input.service_minutes.is_finite()
        && input.service_minutes >= 0.0
        && input.service_minutes <= MAX_SHIFT_MINUTES)
    {
        return Err(invalid(
            "service_minutes",
            format!("must be a number of minutes from 0 to {MAX_SHIFT_MINUTES}"),
        ));
    }
    check_officer(input.officer.as_deref())?;
    check_in_district(store, "start", input.start).await?;
    if let Some(end) = input.end {
        check_in_district(store, "end", end).await?;
    }
    let area = resolve(store, scope, input.area).await?;
    let starts_at = shift_start(input.date, input.start_time);
    let at_ms = starts_at.timestamp_millis();
    let status = statuses(store, &area.cells, at_ms).await?;
    let data =
        crate::service::blindspots::restrict(crate::service::blindspots::load(store).await?, scope);
    let graph = roads.get(store).await?;
    let stops = crate::service::places::named(store).await?;
    let cells = area.cells;
    let cells_total = cells.len();
    let plan_input = input.clone();
    let (plan, targets, places) = tokio::task::spawn_blocking(move || {
        let targets = choose_targets(&data, &cells, &status, starts_at);
        let gazetteer = gazetteer_of(&data, &stops);
        let req = PlanRequest {
            start: plan_input.start,
            end: plan_input.end,
            budget_s: plan_input.shift_minutes * 60.0,
            mode: plan_input.mode,
            service: ServiceTimes {
                cell_s: CELL_SERVICE_S,
                work_s: plan_input.service_minutes * 60.0,
            },
            targets: targets
                .candidates
                .iter()
                .map(|c| c.target.clone())
                .collect(),
        };
        plan_route(graph.as_deref(), &req, &PlanOptions::default()).map(|p| {
            let places = place_names(&gazetteer, &targets);
            (p, targets, places)
        })
    })
    .await
    .map_err(task_failed("planning"))?
    .map_err(routing_error)?;
    let new_cells = covered_cells(&plan.route, &targets.overdue);
    let mut details = patrol_details(&plan, &targets, &new_cells);
    details["places"] = places;
    details["area_name"] = json!(area.area_name);
    details["area_cells"] = json!(cells_total);
    details["start"] = json!(input.start);
    details["end"] = json!(input.end);
    details["start_time"] = json!(input.start_time.format("%H:%M").to_string());
    let route = NewRoute {
        kind: "patrol".to_owned(),
        grid_id: area.grid_id,
        zone_id: area.zone_id,
        grid_code: area.grid_code,
        zone_code: area.zone_code,
        town_code: area.town_code,
        date: input.date,
        starts_at,
        officer: input.officer.map(|o| o.trim().to_owned()),
        mode: mode_name(input.mode).to_owned(),
        shift_minutes: input.shift_minutes,
        service_minutes: input.service_minutes,
        distance_m: round1(plan.total_distance_m),
        duration_s: round1(plan.total_duration_s),
        new_cells: i64::try_from(new_cells.len()).unwrap_or(i64::MAX),
        road_network: plan.road_network,
        details,
        created_by: created_by.to_owned(),
        stops: stop_rows(&plan, starts_at),
        geometry: plan.route,
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

fn stop_rows(plan: &RoutePlan, starts_at: DateTime<Utc>) -> Vec<RouteStopRow> {
    plan.stops
        .iter()
        .zip(1_u32..)
        .map(|(s, order)| RouteStopRow {
            order,
            kind: kind_name(s.kind).to_owned(),
            target_id: s.id.clone(),
            priority: s.priority,
            position: s.position,
            arrival_s: s.arrival_s,
            departure_s: s.departure_s,
            eta: starts_at + chrono::Duration::milliseconds(seconds_ms(s.arrival_s)),
        })
        .collect()
}

/// What a plan keeps beside its columns: the targets left out and why, the
/// new cells and why each stop is one.
fn patrol_details(plan: &RoutePlan, t: &Targets, new_cells: &[CellIndex]) -> serde_json::Value {
    let mut left_out: Vec<serde_json::Value> = plan
        .left_out
        .iter()
        .map(|l| {
            json!({"target_id": l.id, "kind": kind_name(t.candidates[l.target].target.kind),
                   "reason": l.reason.to_string(), "reason_zh": l.reason.text_zh()})
        })
        .collect();
    left_out.extend(t.skipped.iter().map(|c| {
        json!({"target_id": c.target.id, "kind": kind_name(c.target.kind),
               "reason": format!("not considered: only the {MAX_TARGETS} targets of highest priority are planned"),
               "reason_zh": format!("未纳入规划：只规划优先级最高的 {MAX_TARGETS} 个目标")})
    }));
    let reasons: serde_json::Map<String, serde_json::Value> = plan
        .stops
        .iter()
        .map(|s| (s.id.clone(), json!(t.candidates[s.target].reasons)))
        .collect();
    json!({
        "left_out": left_out,
        "new_cells": new_cells.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "overdue_cells": t.overdue.len(),
        "targets": t.candidates.len() + t.skipped.len(),
        "stop_reasons": reasons,
        "total_priority": round1(plan.total_priority),
    })
}

/// Every target (stops and those left out) named for people, by target id:
/// `zh` and `en` labels of its place, and a work's own name.
fn place_names(gazetteer: &Gazetteer, t: &Targets) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = t
        .candidates
        .iter()
        .chain(&t.skipped)
        .map(|c| {
            let l = gazetteer.label(c.target.position);
            (
                c.target.id.clone(),
                json!({"zh": l.zh, "en": l.en, "name": c.name}),
            )
        })
        .collect();
    serde_json::Value::Object(map)
}

fn kind_name(k: TargetKind) -> &'static str {
    match k {
        TargetKind::Cell => "cell",
        TargetKind::Work => "work",
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "seconds of a shift fit an i64 in ms"
)]
fn seconds_ms(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

/// The names of the area's places: its layers and the stored named places.
fn gazetteer_of(
    data: &crate::blindspots::Dataset,
    stops: &[crate::naming::NamedPlace],
) -> Gazetteer {
    Gazetteer::from_layers(
        &data.venues,
        &data.projects,
        &data.districts,
        &data.grids,
        stops,
    )
}
