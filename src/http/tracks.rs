//! Patrol tracks: upload (`POST /api/v1/tracks`, GPX / GeoJSON / CSV by
//! Content-Type or sniffing), the live append (`POST /api/v1/tracks/{id}/points`),
//! the list and one track as GeoJSON with times, and the cells a track covered.
//! Officers upload and see their own tracks; others those touching their
//! scope ([`TrackScope`]); a track outside it is answered as not found.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use chrono::DateTime;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::audit::Audited;
use super::error::{ApiError, ApiResult};
use super::extract::Query;
use super::extract::{Id as PathId, Json};
use super::geojson_types::{Feature, FeatureCollection, Geometry};
use super::params::Params;
use super::params::{crs, flag, list_query, opt, time_ms};
use crate::auth::{Action, Caller};
use crate::coverage::CoverageParams;
use crate::ingest::track::{CsvColumns, ParseOptions};
use crate::service::queries;
use crate::service::scope::TrackScope;
use crate::service::tracks::{self, RefusedTrack, UploadOptions, UploadedTrack};
use crate::service::users::{self, Names};
use crate::store::tracks::{TrackQuery, TrackRecord, segments_coord_times, segments_geometry};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, upload))
        .routes(routes!(one))
        .routes(routes!(cells))
        .routes(routes!(append))
}

/// A patrol track's properties.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TrackProperties {
    officer: String,
    /// The officer's name for people, when the user has one.
    officer_name: Option<String>,
    device: String,
    name: String,
    started_at: String,
    ended_at: String,
    duration_s: i64,
    point_count: i64,
    length_m: f64,
    /// The H3 resolution its coverage was computed at.
    resolution: u8,
    /// How far an officer sees from the track, in metres.
    sighting_m: f64,
    /// A live track that accepts more points.
    open: bool,
    /// The cleaning report of the upload.
    report: Value,
    /// The time of every vertex, per line (with `times`, and for one track).
    #[serde(rename = "coordTimes", skip_serializing_if = "Option::is_none")]
    coord_times: Option<Vec<Vec<String>>>,
}

/// A track as a feature: a MultiLineString (one line per GPS segment) with
/// `coordTimes` per vertex when `with_times`.
pub(crate) fn track_feature(
    t: &TrackRecord,
    with_times: bool,
    names: &Names,
) -> Feature<TrackProperties> {
    let coord_times = with_times.then(|| {
        segments_coord_times(&t.track.segments)
            .into_iter()
            .map(|line| line.into_iter().map(crate::time::iso_ms).collect())
            .collect()
    });
    let properties = TrackProperties {
        officer: t.track.officer.clone(),
        officer_name: names.get(&t.track.officer).cloned(),
        device: t.track.device.clone(),
        name: t.track.name.clone(),
        started_at: crate::time::iso_ms(t.started_ms),
        ended_at: crate::time::iso_ms(t.ended_ms),
        duration_s: (t.ended_ms - t.started_ms) / 1000,
        point_count: t.point_count,
        length_m: (t.track.length_m * 10.0).round() / 10.0,
        resolution: t.track.resolution,
        sighting_m: t.track.sighting_m,
        open: t.track.open,
        report: t.track.report.clone(),
        coord_times,
    };
    let geometry = Geometry::from(&segments_geometry(&t.track.segments));
    Feature::new(t.id, Some(geometry), properties)
}

/// The stored tracks of an upload, and those of a multi-track file that
/// were refused, each with its reason.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadAnswer {
    tracks: Vec<UploadedTrack>,
    refused: Vec<RefusedTrack>,
}

/// `interval_s`: seconds between the points of a track without times.
fn interval(q: &impl Params) -> Result<Option<chrono::TimeDelta>, ApiError> {
    let Some(s) = opt::<f64>(q, "interval_s", "a number of seconds")? else {
        return Ok(None);
    };
    if !(s.is_finite() && s > 0.0 && s <= 86_400.0) {
        return Err(ApiError::invalid(
            "interval_s",
            "must be above 0 and at most 86400 s",
        ));
    }
    #[expect(clippy::cast_possible_truncation, reason = "bounded above")]
    Ok(Some(chrono::TimeDelta::milliseconds(
        (s * 1000.0).round() as i64
    )))
}

fn coverage_params(q: &impl Params) -> Result<CoverageParams, ApiError> {
    let res = opt::<u8>(q, "res", "a resolution from 7 to 12")?.unwrap_or(10);
    let sighting = opt::<f64>(q, "sighting_m", "a distance in metres")?
        .unwrap_or(CoverageParams::DEFAULT_SIGHTING_M);
    let resolution = h3o::Resolution::try_from(res)
        .map_err(|_| ApiError::invalid("res", "must be from 7 to 12"))?;
    CoverageParams::new(resolution, sighting).map_err(|e| ApiError::invalid("res", e.to_string()))
}

crate::query_params! {
    /// How to read an uploaded track.
    pub struct UploadParams {
        /// The officer, if the file names none.
        #[param(min_length = 1, max_length = 64)]
        officer: String,
        #[param(max_length = 64)]
        device: String,
        /// wgs84 (default), gcj02 or bd09.
        crs: String,
        /// A live track that accepts more points.
        open: bool,
        /// Start time of a track without times.
        start: String,
        /// The file name, to tell its format.
        name: String,
        /// The H3 resolution of its coverage, 7 to 12 (default 10).
        #[param(minimum = 7, maximum = 12)]
        res: u8,
        /// How far an officer sees, in metres (above 0, at most 500).
        #[param(exclusive_minimum = 0, maximum = 500)]
        sighting_m: f64,
        /// Faster fixes are GPS jumps, in m/s (above 0; overrides the mode's limit).
        #[param(exclusive_minimum = 0)]
        max_speed_mps: f64,
        /// How the tracks were recorded: foot, ebike, vehicle or auto
        /// (default: chosen per track from its speeds).
        mode: String,
        /// CSV columns of a header the reader does not know:
        /// `time:COL,lon:COL,lat:COL` (also `officer:COL`, `track:COL`).
        columns: String,
        /// Seconds between the points of a track without times, after `start`.
        interval_s: f64,
        /// Refuse the whole file when one of its tracks is refused.
        strict: bool,
    }
}

crate::query_params! {
    /// How to read appended points.
    pub struct AppendParams {
        /// wgs84 (default), gcj02 or bd09.
        crs: String,
        /// Close the track after this batch.
        close: bool,
    }
}

crate::query_params! {
    /// The filters and page of the track list.
    pub struct TrackParams {
        officer: String,
        /// RFC 3339 or YYYY-MM-DD.
        from: String,
        to: String,
        /// minLon,minLat,maxLon,maxLat.
        bbox: String,
        /// Include coordTimes.
        times: bool,
        /// Page size, default 1000.
        #[param(minimum = 1, maximum = 10_000)]
        limit: u32,
        offset: u32,
    }
}

/// Upload one track file.
#[utoipa::path(post, path = "/api/v1/tracks", operation_id = "uploadTrack", tag = "tracks",
    params(UploadParams),
    request_body(description = "a GPX, GeoJSON or CSV track file (told by Content-Type, `name` or its content); officer, device and track names of at most 64, 64 and 200 characters without control characters",
        content((String = "application/gpx+xml"), (String = "application/geo+json"), (String = "text/csv"))),
    responses((status = 201, description = "stored (a multi-track file: the usable tracks, and the refused ones with their reasons)", body = UploadAnswer),
              (status = 200, description = "the same track was uploaded before: its id", body = UploadAnswer),
              (status = 400, description = "the body cannot be read", body = super::error::Problem),
              (status = 403, description = "outside the caller's role or scope", body = super::error::Problem),
              (status = 422, description = "unusable: a bad parameter, an unreadable track, text with control characters; nothing stored", body = super::error::Problem)))]
pub async fn upload(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<UploadParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    caller.require(Action::WriteTrack)?;
    for field in ["name", "officer", "device"] {
        if q.get(field)
            .is_some_and(|v| super::extract::has_control_chars(v))
        {
            return Err(ApiError::invalid(
                field,
                "must not contain control characters (NUL, …)",
            ));
        }
    }
    super::extract::refuse_control_chars_in_json(&body)?;
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
        mode: opt(&q, "mode", "foot, ebike, vehicle or auto")?.unwrap_or_default(),
        untimed_interval: interval(&q)?,
        parse: ParseOptions {
            columns: match q.get("columns") {
                Some(list) => {
                    CsvColumns::parse_list(list).map_err(|e| ApiError::invalid("columns", e))?
                }
                None => CsvColumns::default(),
            },
        },
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let outcome = tracks::upload_each_checked(
        &st.store,
        &body,
        content_type,
        q.get("name").map(String::as_str),
        &opts,
        flag(&q, "strict")?,
        |t| scope.check_upload(t),
    )
    .await?;
    let uploaded = outcome.stored;
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
    Ok((
        status,
        h,
        audited,
        Json(UploadAnswer {
            tracks: uploaded,
            refused: outcome.refused,
        }),
    ))
}

/// Append a batch of points to an open (live) track.
#[utoipa::path(post, path = "/api/v1/tracks/{id}/points", operation_id = "appendTrackPoints", tag = "tracks",
    params(("id" = i64, Path), AppendParams),
    request_body(content = String, description = "{\"points\": [{\"lon\", \"lat\", \"time\"}]} or a track file", content_type = "application/json"),
    responses((status = 200, description = "updated", body = UploadedTrack),
              (status = 400, description = "the body is neither points nor a track file", body = super::error::Problem),
              (status = 403, description = "another officer's track, or a role that may not write tracks", body = super::error::Problem),
              (status = 404, description = "unknown track, or outside the caller's scope", body = super::error::Problem),
              (status = 409, description = "the track is closed", body = super::error::Problem),
              (status = 422, description = "invalid points or parameters; nothing stored", body = super::error::Problem)))]
pub async fn append(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Query(q): Query<AppendParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(Audited, Json<UploadedTrack>)> {
    caller.require(Action::WriteTrack)?;
    super::extract::refuse_control_chars_in_json(&body)?;
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
    Ok(queries::visible_track(&st.store, &scope, id).await?)
}

/// Tracks as GeoJSON, filtered by officer, time window and bbox.
#[utoipa::path(get, path = "/api/v1/tracks", operation_id = "listTracks", tag = "tracks",
    params(TrackParams),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = FeatureCollection<TrackProperties>),
              (status = 422, description = "invalid parameter", body = super::error::Problem)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<TrackParams>,
) -> ApiResult<Json<FeatureCollection<TrackProperties>>> {
    let base = list_query(&q, &[])?;
    let scope = TrackScope::of(&st.store, &caller).await?;
    let query = TrackQuery {
        officer: None,
        from_ms: time_ms(&q, "from")?,
        to_ms: time_ms(&q, "to")?,
        bbox: base.bbox,
        limit: base.limit,
        offset: base.offset,
    };
    let with_times = flag(&q, "times")?;
    // officers list their own tracks; asking for another's finds none
    let page = queries::track_page(&st.store, &scope, q.get("officer").cloned(), query).await?;
    let names = users::display_names(&st.store).await?;
    Ok(Json(FeatureCollection::new(
        page.items
            .iter()
            .map(|t| track_feature(t, with_times, &names))
            .collect(),
        page.total,
    )))
}

/// One track with the time of every vertex.
#[utoipa::path(get, path = "/api/v1/tracks/{id}", operation_id = "getTrack", tag = "tracks", params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON Feature with coordTimes", body = Feature<TrackProperties>),
              (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn one(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Feature<TrackProperties>>> {
    let t = visible(&st, &caller, id).await?;
    let names = users::display_names(&st.store).await?;
    Ok(Json(track_feature(&t, true, &names)))
}

/// The H3 cells a track covered, with the first and last time seen.
#[utoipa::path(get, path = "/api/v1/tracks/{id}/cells", operation_id = "listTrackCells", tag = "tracks", params(("id" = i64, Path)),
    responses((status = 200, description = "the cells", body = TrackCells),
              (status = 404, description = "unknown id", body = super::error::Problem)))]
pub async fn cells(
    State(st): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<TrackCells>> {
    let scope = TrackScope::of(&st.store, &caller).await?;
    let (t, visits) = queries::track_visits(&st.store, &scope, id).await?;
    let cells: Vec<TrackCell> = visits
        .iter()
        .filter_map(|v| {
            let c = h3o::CellIndex::try_from(v.cell).ok()?;
            Some(TrackCell {
                cell: c.to_string(),
                first_seen: crate::time::iso_ms(v.first_ms),
                last_seen: crate::time::iso_ms(v.last_ms),
            })
        })
        .collect();
    Ok(Json(TrackCells {
        track_id: id,
        resolution: t.track.resolution,
        sighting_m: t.track.sighting_m,
        count: cells.len(),
        cells,
    }))
}

/// One cell a track covered.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TrackCell {
    /// H3 cell (hex).
    cell: String,
    first_seen: String,
    last_seen: String,
}

/// The cells a track covered.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TrackCells {
    track_id: i64,
    resolution: u8,
    sighting_m: f64,
    count: usize,
    cells: Vec<TrackCell>,
}
