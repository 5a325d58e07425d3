//! The analyses as feature collections: the coverage cells with their
//! state, the blind cells, the works outside management and the commercial
//! districts' blind spots, each read through the API's own operation (the
//! same service calls, scope and answer), and the hazards placed at their
//! work. `datetime` is the analysis window: an interval is `from`/`to`, an
//! instant the default window ending then, an open end the default.

use std::collections::HashMap;

use axum::extract::State;
use geo::Centroid;
use serde_json::{Value, json};

use super::catalog::{Ask, Got, to_feature_value};
use super::query::Interval;
use crate::auth::Caller;
use crate::domain::{District, Project};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::Query;
use crate::http::read_cache::ReadClock;
use crate::http::{blindspots, coverage, inspections};
use crate::inspection::Hazard;
use crate::service::queries;
use crate::store::ListQuery;

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `from` and `to` of an analysis from `datetime`.
fn window(dt: Option<Interval>) -> (Option<String>, Option<String>) {
    match dt {
        None => (None, None),
        Some(i) if i.from_ms.is_some() && i.from_ms == i.to_ms => (None, i.to_ms.map(iso)),
        Some(i) => (i.from_ms.map(iso), i.to_ms.map(iso)),
    }
}

fn all(features: Vec<Value>) -> Got {
    Got {
        features,
        matched: None,
    }
}

fn features_of(answer: &impl serde::Serialize) -> Vec<Value> {
    match serde_json::to_value(answer) {
        Ok(Value::Object(mut m)) => match m.remove("features") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn items_of(answer: &impl serde::Serialize) -> Vec<Value> {
    match serde_json::to_value(answer) {
        Ok(Value::Object(mut m)) => match m.remove("items") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Every resolution-10 cell of the caller's scope with its patrol state.
pub async fn coverage_cells(st: &AppState, caller: &Caller, ask: &Ask) -> ApiResult<Got> {
    let (from, to) = window(ask.datetime);
    let params = coverage::CoverageParams {
        from,
        to,
        ..coverage::CoverageParams::default()
    };
    let answer = coverage::cells(
        State(st.clone()),
        caller.clone(),
        ReadClock::now(),
        Query(params),
    )
    .await?;
    Ok(all(features_of(&answer.0)))
}

/// The blind cells of the caller's scope, ranked by risk (all of them).
pub async fn blind_cells(st: &AppState, caller: &Caller, ask: &Ask) -> ApiResult<Got> {
    let (from, to) = window(ask.datetime);
    let params = coverage::BlindCellParams {
        from,
        to,
        limit: Some(usize::MAX.to_string()),
        ..coverage::BlindCellParams::default()
    };
    let answer = coverage::blind_cells(
        State(st.clone()),
        caller.clone(),
        ReadClock::now(),
        Query(params),
    )
    .await?;
    Ok(all(features_of(&answer.0)))
}

/// The works with a management gap, at their position.
pub async fn blindspot_works(st: &AppState, caller: &Caller, ask: &Ask) -> ApiResult<Got> {
    let (from, to) = window(ask.datetime);
    let params = blindspots::WorkGapParams {
        from,
        to,
        ..blindspots::WorkGapParams::default()
    };
    let answer = blindspots::works(
        State(st.clone()),
        caller.clone(),
        ReadClock::now(),
        Query(params),
    )
    .await?;
    let features = items_of(&answer.0)
        .into_iter()
        .map(|mut row| {
            let (lon, lat) = (row["lon"].take(), row["lat"].take());
            if let Some(m) = row.as_object_mut() {
                m.remove("lon");
                m.remove("lat");
            }
            json!({
                "type": "Feature",
                "id": row["project_id"].clone(),
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": row,
            })
        })
        .collect();
    Ok(all(features))
}

/// Every commercial district with its measures, drawn with its outline.
pub async fn blindspot_districts(st: &AppState, caller: &Caller, ask: &Ask) -> ApiResult<Got> {
    let (from, to) = window(ask.datetime);
    let params = blindspots::DistrictParams {
        from,
        to,
        ..blindspots::DistrictParams::default()
    };
    let answer = blindspots::districts(
        State(st.clone()),
        caller.clone(),
        ReadClock::now(),
        Query(params),
    )
    .await?;
    let rows = items_of(&answer.0);
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r["district_id"].as_i64())
        .collect();
    let outlines: HashMap<i64, Value> = if ids.is_empty() {
        HashMap::new()
    } else {
        let q = ListQuery {
            ids: Some(ids),
            ..ListQuery::all()
        };
        queries::layer_page::<District>(&st.store, &caller.scope, q)
            .await?
            .items
            .iter()
            .map(|d| (d.id, to_feature_value(d)["geometry"].clone()))
            .collect()
    };
    let features = rows
        .into_iter()
        .map(|row| {
            let id = row["district_id"].as_i64().unwrap_or_default();
            let geometry =
                outlines
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| match row["center"].as_array() {
                        Some(c) => json!({"type": "Point", "coordinates": c}),
                        None => Value::Null,
                    });
            json!({"type": "Feature", "id": id, "geometry": geometry, "properties": row})
        })
        .collect();
    Ok(all(features))
}

/// Hazards as features at their work's position (its centroid), with the
/// work's code and name.
pub async fn hazard_features(
    st: &AppState,
    caller: &Caller,
    hazards: Vec<Hazard>,
) -> ApiResult<Vec<Value>> {
    let mut ids: Vec<i64> = hazards.iter().map(|h| h.project_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let works: HashMap<i64, (Value, String, String)> = if ids.is_empty() {
        HashMap::new()
    } else {
        let q = ListQuery {
            ids: Some(ids),
            ..ListQuery::all()
        };
        queries::layer_page::<Project>(&st.store, &caller.scope, q)
            .await?
            .items
            .into_iter()
            .map(|p| {
                let at = p.value.geometry.centroid().map_or(
                    Value::Null,
                    |c| json!({"type": "Point", "coordinates": [c.x(), c.y()]}),
                );
                (p.id, (at, p.value.code, p.value.name))
            })
            .collect()
    };
    Ok(hazards
        .into_iter()
        .map(|h| {
            let (id, project) = (h.id, h.project_id);
            let mut props = serde_json::to_value(inspections::hazard_out(h, None))
                .unwrap_or_else(|_| json!({}));
            let (geometry, code, name) =
                works
                    .get(&project)
                    .cloned()
                    .unwrap_or((Value::Null, String::new(), String::new()));
            if let Some(m) = props.as_object_mut() {
                m.insert("project_code".into(), Value::from(code));
                m.insert("project_name".into(), Value::from(name));
            }
            json!({"type": "Feature", "id": id, "geometry": geometry, "properties": props})
        })
        .collect())
}
