//! Live tracks: a batch of points appended to an open track, cleaned again
//! with what it already holds, and committed against the track's revision
//! so that appends sent at once never lose each other's points.

use chrono::{DateTime, Utc};

use super::{UploadOptions, UploadedTrack, clean_params, into_new_track, summary_of, visits_of};
use crate::coverage::CoverageParams;
use crate::ingest::IngestError;
use crate::ingest::track::{CleaningReport, ParsedTrack, RawPoint, TrackFormat, clean, parse};
use crate::service::ServiceError;
use crate::spatial::Crs;
use crate::store::tracks::{NewTrack, Replaced, StoredVisit, TrackRecord};
use crate::store::{DynStore, StoreError};

/// Points sent to a live track: `{"points": [{"lon", "lat", "time"}, ...]}`
/// or any track file format.
fn parse_batch(bytes: &[u8], content_type: Option<&str>) -> Result<Vec<RawPoint>, IngestError> {
    #[derive(serde::Deserialize)]
    struct Batch {
        points: Vec<BatchPoint>,
    }
    #[derive(serde::Deserialize)]
    struct BatchPoint {
        lon: f64,
        lat: f64,
        time: Option<DateTime<Utc>>,
    }
    if let Ok(b) = serde_json::from_slice::<Batch>(bytes) {
        return Ok(b
            .points
            .into_iter()
            .map(|p| RawPoint {
                lon: p.lon,
                lat: p.lat,
                time: p.time,
            })
            .collect());
    }
    let format = TrackFormat::detect(content_type, None, bytes).ok_or_else(|| {
        IngestError::new(
            None,
            "body",
            "expected {\"points\": [...]} or a GPX, GeoJSON or CSV track",
        )
    })?;
    let tracks = parse(bytes, format).map_err(|e| IngestError::new(None, "body", e.to_string()))?;
    Ok(tracks
        .into_iter()
        .flat_map(|t| t.segments.into_iter().flatten())
        .collect())
}

/// How often an append reads the track again when another append to the
/// same track committed between its read and its write.
const APPEND_ATTEMPTS: usize = 64;

/// Appends a batch of points to an open track and updates its cells; with
/// `close`, the track accepts no more points afterwards. Appends to one
/// track at once are serialised by the track's revision: each is applied
/// to the points the one before it committed, so every acknowledged point
/// is kept.
pub async fn append_points(
    store: &DynStore,
    id: i64,
    bytes: &[u8],
    content_type: Option<&str>,
    crs: Crs,
    close: bool,
) -> Result<UploadedTrack, ServiceError> {
    let batch = parse_batch(bytes, content_type)?;
    // the stored points are WGS-84 already: convert only the batch
    let converted: Vec<RawPoint> = batch
        .into_iter()
        .map(|p| {
            let (lon, lat) = crs.to_wgs84(p.lon, p.lat);
            RawPoint {
                lon,
                lat,
                time: p.time,
            }
        })
        .collect();
    for _ in 0..APPEND_ATTEMPTS {
        let current = store
            .get_track(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("track {id}")))?;
        let (track, visits, summary) = appended(store, &current, converted.clone(), close).await?;
        match store
            .replace_track(id, current.revision, track, visits)
            .await?
        {
            Replaced::Done => return Ok(summary),
            Replaced::Missing => return Err(ServiceError::NotFound(format!("track {id}"))),
            Replaced::Stale => tokio::task::yield_now().await,
        }
    }
    Err(StoreError::Busy(format!("track {id} is being appended to by many at once")).into())
}

/// Why points were dropped, as a reader of an error wants it.
fn dropped_reasons(r: &CleaningReport) -> String {
    let reasons = [
        (r.out_of_order, "before the track's last point"),
        (r.duplicates, "repeated"),
        (r.outside_area, "outside the district"),
        (r.gps_jumps, "GPS jumps"),
        (r.invalid_coordinates, "invalid coordinates"),
        (r.untimed, "without a time"),
    ];
    let named: Vec<String> = reasons
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
    if named.is_empty() {
        "they merge into the points stored already".to_owned()
    } else {
        named.join(", ")
    }
}

/// The track `current` with the batch appended, cleaned again, and its
/// cells; refused when the track is closed or the batch adds no point.
async fn appended(
    store: &DynStore,
    current: &TrackRecord,
    batch: Vec<RawPoint>,
    close: bool,
) -> Result<(NewTrack, Vec<StoredVisit>, UploadedTrack), ServiceError> {
    let id = current.id;
    if !current.track.open {
        return Err(ServiceError::Conflict(format!(
            "track {id} is closed and accepts no more points"
        )));
    }
    let batch_len = batch.len();
    let mut segments: Vec<Vec<RawPoint>> = current
        .track
        .segments
        .iter()
        .map(|s| {
            s.iter()
                .map(|p| RawPoint {
                    lon: p.lon,
                    lat: p.lat,
                    time: DateTime::from_timestamp_millis(p.t_ms),
                })
                .collect()
        })
        .collect();
    // batches sent at once commit in any order: the points join the last
    // segment in the order of their times, not of their arrival
    match segments.last_mut() {
        Some(last) => {
            last.extend(batch);
            last.sort_by_key(|p| p.time);
        }
        None => segments.push(batch),
    }
    let parsed = ParsedTrack {
        name: Some(current.track.name.clone()),
        officer: Some(current.track.officer.clone()),
        device: None,
        segments,
    };
    let opts = UploadOptions {
        officer: Some(current.track.officer.clone()),
        device: Some(current.track.device.clone()),
        open: !close,
        coverage: CoverageParams::new(
            h3o::Resolution::try_from(current.track.resolution)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            current.track.sighting_m,
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        ..UploadOptions::default()
    };
    let params = clean_params(store, &opts).await?;
    let cleaned = clean(&parsed, Crs::Wgs84, &params)
        .map_err(|r| IngestError::new(None, "points", r.to_string()))?;
    let report = cleaned.report;
    let mut track = into_new_track(&parsed, cleaned, current.track.officer.clone(), &opts);
    let stored_before = usize::try_from(current.point_count).unwrap_or(0);
    if batch_len > 0 && track.point_count() <= stored_before {
        return Err(IngestError::new(
            None,
            "points",
            format!(
                "none of the {batch_len} points could be kept: {}",
                dropped_reasons(&report)
            ),
        )
        .into());
    }
    // a live track keeps the identity it was created with
    track.fingerprint.clone_from(&current.track.fingerprint);
    let coverage = opts.coverage;
    let (track, visits) = tokio::task::spawn_blocking(move || {
        let visits = visits_of(&track.segments, &coverage);
        (track, visits)
    })
    .await
    .map_err(crate::service::task_failed("track coverage"))?;
    let summary = UploadedTrack {
        id,
        ..summary_of(&track, visits.len(), report)
    };
    Ok((track, visits, summary))
}
