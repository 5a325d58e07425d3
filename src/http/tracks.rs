//! Patrol tracks: upload (`POST /api/v1/tracks`, GPX / GeoJSON / CSV by
//! Content-Type or sniffing), the live append (`POST /api/v1/tracks/{id}/points`),
//! the list and one track as GeoJSON with times, and the cells a track covered.
//! Officers upload and see their own tracks; others those touching their
//! scope ([`TrackScope`]); a track outside it is answered as not found.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use chrono::DateTime;
use geojson::{Feature, FeatureCollection, feature::Id};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::audit::Audited;
use super::error::{ApiError, ApiResult};
use super::extract::Id as PathId;
use super::params::{RawQuery, crs, flag, list_query, opt, time_ms};
use crate::auth::{Action, Caller};
use crate::coverage::CoverageParams;
use crate::service::scope::TrackScope;
use crate::service::tracks::{self, UploadOptions, UploadedTrack};
use crate::spatial::geometry_to_geojson;
use crate::store::tracks::{TrackQuery, TrackRecord, segments_geometry};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, upload))
        .routes(routes!(one))
        .routes(routes!(cells))
        .routes(routes!(append))
}

/// A track as a feature: a MultiLineString (one line per GPS segment) with
/// `coordTimes` per vertex when `with_times`.
fn track_feature(t: &TrackRecord, with_times: bool) -> Feature {
    let mut p = Map::new();
    p.insert("officer".into(), json!(t.track.officer));
    p.insert("device".into(), json!(t.track.device));
    p.insert("name".into(), json!(t.track.name));
    p.insert(
        "started_at".into(),
        json!(crate::time::iso_ms(t.started_ms)),
    );
    p.insert("ended_at".into(), json!(crate::time::iso_ms(t.ended_ms)));
    p.insert(
        "duration_s".into(),
        json!((t.ended_ms - t.started_ms) / 1000),
    );
    p.insert("point_count".into(), json!(t.point_count));
    p.insert(
        "length_m".into(),
        json!((t.track.length_m * 10.0).round() / 10.0),
    );
    p.insert("resolution".into(), json!(t.track.resolution));
    p.insert("sighting_m".into(), json!(t.track.sighting_m));
    p.insert("open".into(), json!(t.track.open));
    p.insert("report".into(), t.track.report.clone());
    if with_times {
        let times: Vec<Vec<String>> = t
            .track
            .segments
            .iter()
            .map(|s| s.iter().map(|p| crate::time::iso_ms(p.t_ms)).collect())
            .collect();
        p.insert("coordTimes".into(), json!(times));
    }
    let g = segments_geometry(&t.track.segments);
    let geometry = geometry_to_geojson(&g).parse::<geojson::Geometry>().ok();
    Feature {
        bbox: None,
        geometry,
        id: Some(Id::Number(t.id.into())),
        properties: Some(p),
        foreign_members: None,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadAnswer {
    tracks: Vec<UploadedTrack>,
}

fn coverage_params(q: &RawQuery) -> Result<CoverageParams, ApiError> {
    let res = opt::<u8>(q, "res", "a resolution from 7 to 12")?.unwrap_or(10);
    let sighting = opt::<f64>(q, "sighting_m", "a distance in metres")?
        .unwrap_or(CoverageParams::DEFAULT_SIGHTING_M);
    let resolution = h3o::Resolution::try_from(res)
        .map_err(|_| ApiError::invalid("res", "must be from 7 to 12"))?;
    CoverageParams::new(resolution, sighting).map_err(|e| ApiError::invalid("res", e.to_string()))
}

/// Upload one track file.
#[utoipa::path(post, path = "/api/v1/tracks", operation_id = "uploadTrack", tag = "tracks",
    params(("officer" = Option<String>, Query, description = "the officer, if the file names none"),
           ("device" = Option<String>, Query), ("crs" = Option<String>, Query, description = "wgs84, gcj02 or bd09"),
           ("open" = Option<bool>, Query, description = "a live track that accepts more points"),
           ("start" = Option<String>, Query, description = "start time of a track without times"),
           ("name" = Option<String>, Query, description = "the file name, to tell its format")),
    request_body(content = String, description = "GPX, GeoJSON or CSV", content_type = "application/gpx+xml"),
    responses((status = 201, description = "stored", body = UploadAnswer),
              (status = 200, description = "the same track was uploaded before: its id", body = UploadAnswer),
              (status = 422, description = "unusable", body = super::error::Problem)))]
pub async fn upload(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    caller.require(Action::WriteTrack)?;
    let scope = TrackScope::of(&st.store, &caller).await?;
    let mut officer = q.get("officer").cloned();
    if let Some(me) = scope.officer() {
        // an officer's uploads are theirs, whatever the file says
        caller.require_own(officer.as_deref().unwrap_or(me))?;
        officer = Some(me.to_owned());
    }
    let opts = UploadOptions {
        officer,
        device: q.get("device").cloned(),
        crs: crs(&q)?,
        open: flag(&q, "open")?,
        fallback_start: time_ms(&q, "start")?.and_then(DateTime::from_timestamp_millis),
        coverage: coverage_params(&q)?,
        max_speed_mps: opt(&q, "max_speed_mps", "a speed in m/s")?,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let uploaded = tracks::upload_checked(
        &st.store,
        &body,
        content_type,
        q.get("name").map(String::as_str),
        &opts,
        |t| scope.check_upload(t),
    )
    .await?;
    let created = uploaded.iter().any(|t| t.created);
    let mut h = HeaderMap::new();
    if let Some(first) = uploaded.first()
        && let Ok(v) = HeaderValue::from_str(&format!("/api/v1/tracks/{}", first.id))
    {
        h.insert(header::LOCATION, v);
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let audited = uploaded
        .iter()
        .find(|t| t.created)
        .map(|t| Audited::created("track", t.id));
    Ok((status, h, audited, Json(UploadAnswer { tracks: uploaded })))
}

/// Append a batch of points to an open (live) track.
#[utoipa::path(post, path = "/api/v1/tracks/{id}/points", operation_id = "appendTrackPoints", tag = "tracks",
    params(("id" = i64, Path), ("crs" = Option<String>, Query), ("close" = Option<bool>, Query, description = "close the track after this batch")),
    request_body(content = String, description = "{\"points\": [{\"lon\", \"lat\", \"time\"}]} or a track file", content_type = "application/json"),
    responses((status = 200, description = "updated", body = UploadedTrack), (status = 409, description = "the track is closed", body = super::error::Problem)))]
pub async fn append(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(Audited, Json<UploadedTrack>)> {
    caller.require(Action::WriteTrack)?;
    let before = visible(&st, &caller, id).await?;
    caller.require_own(&before.track.officer)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let t = tracks::append_points(
        &st.store,
        id,
        &body,
        content_type,
        crs(&q)?,
        flag(&q, "close")?,
    )
    .await?;
    let before = json!({"point_count": before.point_count, "open": before.track.open,
                        "ended_at": crate::time::iso_ms(before.ended_ms)});
    Ok((Audited::changed("track", id, before), Json(t)))
}

/// A track the caller sees, or not found.
async fn visible(st: &AppState, caller: &Caller, id: i64) -> ApiResult<TrackRecord> {
    let scope = TrackScope::of(&st.store, caller).await?;
    st.store
        .get_track(id)
        .await?
        .filter(|t| scope.sees(t))
        .ok_or_else(|| ApiError::not_found(format!("track {id}")))
}

/// Tracks as GeoJSON, filtered by officer, time window and bbox.
#[utoipa::path(get, path = "/api/v1/tracks", operation_id = "listTracks", tag = "tracks",
    params(("officer" = Option<String>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("bbox" = Option<String>, Query), ("times" = Option<bool>, Query, description = "include coordTimes"),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json")))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<RawQuery>,
) -> ApiResult<Json<FeatureCollection>> {
    let base = list_query(&q, &[])?;
    let scope = TrackScope::of(&st.store, &caller).await?;
    let asked = q.get("officer").cloned();
    // officers list their own tracks; asking for another's finds none
    let others = scope
        .officer()
        .is_some_and(|me| asked.as_deref().is_some_and(|a| a != me));
    let officer = scope.officer().map(str::to_owned).or(asked);
    let mut query = TrackQuery {
        officer,
        from_ms: time_ms(&q, "from")?,
        to_ms: time_ms(&q, "to")?,
        bbox: base.bbox.or_else(|| scope.bbox()),
        limit: base.limit,
        offset: base.offset,
    };
    let with_times = flag(&q, "times")?;
    let page = if others {
        crate::store::Page {
            total: 0,
            items: Vec::new(),
        }
    } else if scope.is_everything() || scope.officer().is_some() {
        st.store.list_tracks(&query).await?
    } else {
        // the exact area test is done here, before paging
        let (limit, offset) = (query.limit as usize, query.offset as usize);
        query.limit = u32::MAX;
        query.offset = 0;
        let all: Vec<TrackRecord> = st
            .store
            .list_tracks(&query)
            .await?
            .items
            .into_iter()
            .filter(|t| scope.sees(t))
            .collect();
        crate::store::Page {
            total: all.len() as u64,
            items: all.into_iter().skip(offset).take(limit).collect(),
        }
    };
    let mut members = Map::new();
    members.insert("numberMatched".into(), json!(page.total));
    members.insert("numberReturned".into(), json!(page.items.len()));
    Ok(Json(FeatureCollection {
        bbox: None,
        features: page
            .items
            .iter()
            .map(|t| track_feature(t, with_times))
            .collect(),
        foreign_members: Some(members),
    }))
}

/// One track with the time of every vertex.
#[utoipa::path(get, path = "/api/v1/tracks/{id}", operation_id = "getTrack", tag = "tracks", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature with coordTimes"), (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn one(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Feature>> {
    let t = visible(&st, &caller, id).await?;
    Ok(Json(track_feature(&t, true)))
}

/// The H3 cells a track covered, with the first and last time seen.
#[utoipa::path(get, path = "/api/v1/tracks/{id}/cells", operation_id = "listTrackCells", tag = "tracks", params(("id" = i64, Path)),
    responses((status = 200, description = "the cells"), (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn cells(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let t = visible(&st, &caller, id).await?;
    let visits = st.store.track_visits(id).await?;
    let cells: Vec<Value> = visits
        .iter()
        .filter_map(|v| {
            let c = h3o::CellIndex::try_from(v.cell).ok()?;
            Some(json!({"cell": c.to_string(), "first_seen": crate::time::iso_ms(v.first_ms), "last_seen": crate::time::iso_ms(v.last_ms)}))
        })
        .collect();
    Ok(Json(
        json!({"track_id": id, "resolution": t.track.resolution, "sighting_m": t.track.sighting_m, "count": cells.len(), "cells": cells}),
    ))
}
