//! Uploading patrol tracks: parse (GPX, GeoJSON, CSV), convert the CRS,
//! clean with a report, compute the covered H3 cells off the async workers,
//! and store tracks and visits in one transaction. A repeated upload of the
//! same walk is recognised by its fingerprint and never counts twice.

use chrono::{DateTime, Utc};
use serde::Serialize;

mod append;

pub use append::append_points;

use super::{ServiceError, TownIndex};
use crate::coverage::{CoverageParams, TrackTiler};
use crate::ingest::IngestError;
use crate::ingest::track::ParsedTrack;
use crate::ingest::track::{CleanParams, CleanedTrack, CleaningReport, Extent, clean};
use crate::ingest::track::{ParseOptions, TravelMode, parse_upload_with};
use crate::spatial::{Crs, TrackPoint};
use crate::store::DynStore;
use crate::store::tracks::{NewTrack, StoredVisit};

/// How far outside the district a point may lie before it is dropped.
const DISTRICT_MARGIN_M: f64 = 2_000.0;

/// Options of an upload.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Overrides the officer named in the file.
    pub officer: Option<String>,
    pub device: Option<String>,
    pub crs: Crs,
    /// A live track that accepts more points later.
    pub open: bool,
    /// The start time of a track without times.
    pub fallback_start: Option<DateTime<Utc>>,
    pub coverage: CoverageParams,
    /// Overrides the GPS-jump speed limit (m/s).
    pub max_speed_mps: Option<f64>,
    /// How the tracks were recorded (foot, e-bike, vehicle; auto per track).
    pub mode: TravelMode,
    /// The time between the points of a track without times, after
    /// `fallback_start` (1 s when not given).
    pub untimed_interval: Option<chrono::TimeDelta>,
    /// What the file does not say: CSV columns of an unknown header.
    pub parse: ParseOptions,
}

/// What happened to one uploaded track.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadedTrack {
    pub id: i64,
    /// `false` when the same track had been uploaded before.
    pub created: bool,
    pub officer: String,
    pub name: String,
    pub points: usize,
    pub cells: usize,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub report: CleaningReport,
}

/// How a track is cleaned: the district's extent comes from the store (the
/// towns' outline with a margin); before towns are imported no extent is
/// known and any valid position is kept.
async fn clean_params(store: &DynStore, opts: &UploadOptions) -> Result<CleanParams, ServiceError> {
    let towns = TownIndex::load(store).await?;
    let area = if towns.is_empty() {
        None
    } else {
        Some(
            Extent::from_outline(towns.district_parts(), DISTRICT_MARGIN_M)
                .map_err(|e| IngestError::new(None, "area", e.to_string()))?,
        )
    };
    let mut params = CleanParams::new(area)
        .with_fallback_start(opts.fallback_start)
        .with_mode(opts.mode);
    if let Some(spacing) = opts.untimed_interval {
        params = params
            .with_untimed_spacing(spacing)
            .map_err(|e| IngestError::new(None, "interval", e.to_string()))?;
    }
    if let Some(v) = opts.max_speed_mps {
        params = params
            .with_max_speed_mps(v)
            .map_err(|e| IngestError::new(None, "max_speed_mps", e.to_string()))?;
    }
    Ok(params)
}

/// The cells a cleaned track covered, each segment on its own (a gap between
/// segments was not walked), merged per cell.
#[must_use]
pub fn visits_of(segments: &[Vec<TrackPoint>], params: &CoverageParams) -> Vec<StoredVisit> {
    visits_with(&mut TrackTiler::new(params), segments)
}

/// [`visits_of`] with a tiler that keeps what it learnt of the cells from
/// one track to the next (the tracks of a file cover the same streets).
#[must_use]
pub fn visits_with(tiler: &mut TrackTiler, segments: &[Vec<TrackPoint>]) -> Vec<StoredVisit> {
    let mut all: Vec<StoredVisit> = Vec::new();
    for seg in segments {
        all.extend(tiler.cover(seg).into_iter().map(|v| StoredVisit {
            track_id: 0,
            cell: u64::from(v.cell),
            first_ms: v.first_ms,
            last_ms: v.last_ms,
        }));
    }
    if segments.len() <= 1 {
        // one segment's visits are already one per cell, sorted
        return all;
    }
    // sorted by cell, then the visits of a cell seen by several segments
    // merged into the earliest first and the latest last
    all.sort_unstable_by_key(|v| v.cell);
    all.dedup_by(|next, kept| {
        let same = next.cell == kept.cell;
        if same {
            kept.first_ms = kept.first_ms.min(next.first_ms);
            kept.last_ms = kept.last_ms.max(next.last_ms);
        }
        same
    });
    all
}

fn officer_of(
    parsed: &ParsedTrack,
    opts: &UploadOptions,
    index: usize,
) -> Result<String, IngestError> {
    opts.officer
        .clone()
        .or_else(|| parsed.officer.clone())
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .ok_or_else(|| {
            IngestError::new(
                Some(format!("track {}", index + 1)),
                "officer",
                "names nobody: give ?officer= or an officer in the file",
            )
        })
}

/// The track to store from a parsed file and its cleaned points.
fn into_new_track(
    parsed: &ParsedTrack,
    cleaned: CleanedTrack,
    officer: String,
    opts: &UploadOptions,
) -> NewTrack {
    NewTrack {
        officer,
        device: opts
            .device
            .clone()
            .or_else(|| parsed.device.clone())
            .unwrap_or_default(),
        name: parsed.name.clone().unwrap_or_default(),
        fingerprint: cleaned.fingerprint(),
        length_m: cleaned.length_m(),
        resolution: u8::from(opts.coverage.resolution()),
        sighting_m: opts.coverage.sighting_m(),
        open: opts.open,
        report: serde_json::to_value(cleaned.report).unwrap_or_default(),
        segments: cleaned.segments,
    }
}

/// Uploads every track of a file; the whole file is refused when one of its
/// tracks cannot be used, and nothing is stored then.
pub async fn upload(
    store: &DynStore,
    bytes: &[u8],
    content_type: Option<&str>,
    file_name: Option<&str>,
    opts: &UploadOptions,
) -> Result<Vec<UploadedTrack>, ServiceError> {
    // one file, all or nothing: the first refused track is the error
    let outcome = upload_each_checked(
        store,
        bytes,
        content_type,
        file_name,
        opts,
        true,
        |_| Ok(()),
    )
    .await?;
    Ok(outcome.stored)
}

/// The longest officer and device names, in characters.
pub const MAX_OFFICER_CHARS: usize = 64;
/// The longest track name, in characters.
pub const MAX_TRACK_NAME_CHARS: usize = 200;

/// Refuses a track whose officer, device or name is too long or holds a
/// control character (a NUL cannot be stored in PostgreSQL text).
fn check_texts(track: &NewTrack) -> Result<(), crate::domain::Invalid> {
    for (field, text, max) in [
        ("officer", &track.officer, MAX_OFFICER_CHARS),
        ("device", &track.device, MAX_OFFICER_CHARS),
        ("name", &track.name, MAX_TRACK_NAME_CHARS),
    ] {
        crate::domain::check_text(field, text)?;
        if text.chars().count() > max {
            return Err(crate::domain::Invalid::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
    Ok(())
}

/// A track of a file that was not stored, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefusedTrack {
    /// Which track of the file: its number, officer and name when known.
    pub track: String,
    pub reason: String,
    /// The refusal as a one-track upload answers it.
    #[serde(skip)]
    pub error: IngestError,
}

/// What [`upload_each`] did with a file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchOutcome {
    pub stored: Vec<UploadedTrack>,
    pub refused: Vec<RefusedTrack>,
}

fn track_label(parsed: &ParsedTrack, index: usize) -> String {
    let mut label = format!("track {}", index + 1);
    let named: Vec<String> = [("officer", &parsed.officer), ("name", &parsed.name)]
        .into_iter()
        // a control character in a name is the refusal's reason, never
        // repeated into a terminal or a log
        .filter_map(|(k, v)| {
            v.as_deref().map(|v| {
                format!(
                    "{k} {}",
                    v.chars()
                        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                        .collect::<String>()
                )
            })
        })
        .collect();
    if !named.is_empty() {
        label = format!("{label} ({})", named.join(", "));
    }
    label
}

/// Fixes cleaned and tiled before a group of tracks is stored: a group's
/// tracks share one transaction (each track stays whole), so that a day of
/// many officers' patrols is not a commit per track.
const GROUP_FIXES: usize = 1_000_000;

/// A cleaned track with its visits, ready to store.
type Prepared = (NewTrack, Vec<StoredVisit>, CleaningReport);

/// Cleans and tiles tracks of a file (`(index in the file, track)`): the
/// usable ones prepared, the others refused with their reason.
fn prepare_group(
    group: Vec<(usize, ParsedTrack)>,
    params: &CleanParams,
    opts: &UploadOptions,
    tiler: &mut TrackTiler,
) -> (Vec<Prepared>, Vec<RefusedTrack>) {
    let mut prepared = Vec::with_capacity(group.len());
    let mut refused = Vec::new();
    for (i, p) in group {
        match prepare_one(&p, i, params, opts, tiler) {
            Ok(ready) => prepared.push(ready),
            Err((reason, error)) => refused.push(RefusedTrack {
                track: track_label(&p, i),
                reason,
                error,
            }),
        }
    }
    (prepared, refused)
}

/// One track cleaned, checked and tiled, or why not: the reason for a
/// batch's list, and the error a one-track upload answers.
fn prepare_one(
    p: &ParsedTrack,
    i: usize,
    params: &CleanParams,
    opts: &UploadOptions,
    tiler: &mut TrackTiler,
) -> Result<Prepared, (String, IngestError)> {
    let location = || Some(format!("track {}", i + 1));
    let officer = officer_of(p, opts, i).map_err(|e| (e.to_string(), e))?;
    let cleaned = clean(p, opts.crs, params).map_err(|r| {
        let error = IngestError::new(
            location(),
            "track",
            format!(
                "{}; cleaning report: {}",
                r.reason,
                serde_json::to_string(&r.report).unwrap_or_default()
            ),
        );
        (r.to_string(), error)
    })?;
    let report = cleaned.report;
    let track = into_new_track(p, cleaned, officer, opts);
    check_texts(&track).map_err(|e| {
        let error = IngestError::at(format!("track {}", i + 1), e);
        (error.to_string(), error)
    })?;
    let visits = visits_with(tiler, &track.segments);
    Ok((track, visits, report))
}

/// Stores prepared tracks in one transaction, adding their summaries.
async fn store_group(
    store: &DynStore,
    group: Vec<Prepared>,
    stored: &mut Vec<UploadedTrack>,
) -> Result<(), ServiceError> {
    if group.is_empty() {
        return Ok(());
    }
    let summaries: Vec<_> = group
        .iter()
        .map(|(t, v, report)| summary_of(t, v.len(), *report))
        .collect();
    let inserted = store
        .insert_tracks(group.into_iter().map(|(t, v, _)| (t, v)).collect())
        .await?;
    stored.extend(inserted.into_iter().zip(summaries).map(|(ins, mut up)| {
        up.id = ins.id;
        up.created = ins.created;
        up
    }));
    Ok(())
}

/// Uploads a file of many tracks (many officers' patrols) track by track:
/// each usable track is stored whole (tracks are stored in groups of about
/// [`GROUP_FIXES`] fixes, a transaction each) and every refused one is
/// reported with its reason. With `strict`, one refused track refuses the
/// file: nothing is stored and `stored` is empty. `progress` is told the
/// number of fixes of the file done so far and the file's number of fixes.
pub async fn upload_each(
    store: &DynStore,
    bytes: &[u8],
    file_name: Option<&str>,
    opts: &UploadOptions,
    strict: bool,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<BatchOutcome, ServiceError> {
    let (_, parsed) = parse_upload_with(bytes, None, file_name, &opts.parse)
        .map_err(|e| IngestError::new(None, "file", e.to_string()))?;
    if parsed.is_empty() {
        return Err(IngestError::new(None, "file", "holds no track").into());
    }
    let params = std::sync::Arc::new(clean_params(store, opts).await?);
    let mut groups: Vec<Vec<(usize, ParsedTrack)>> = vec![Vec::new()];
    let mut fixes_in_group = 0;
    for (i, p) in parsed.into_iter().enumerate() {
        if fixes_in_group >= GROUP_FIXES {
            groups.push(Vec::new());
            fixes_in_group = 0;
        }
        fixes_in_group += p.point_count();
        if let Some(g) = groups.last_mut() {
            g.push((i, p));
        }
    }
    let total: usize = groups.iter().flatten().map(|(_, p)| p.point_count()).sum();
    progress(0, total);
    // one tiler for the whole file, handed from group to group
    let prepare = |group: Vec<(usize, ParsedTrack)>, mut tiler: TrackTiler| {
        let (params, task_opts) = (params.clone(), opts.clone());
        let fixes: usize = group.iter().map(|(_, p)| p.point_count()).sum();
        let task = tokio::task::spawn_blocking(move || {
            let done = prepare_group(group, &params, &task_opts, &mut tiler);
            (done, tiler)
        });
        (fixes, task)
    };
    let mut outcome = BatchOutcome::default();
    let mut held: Vec<Prepared> = Vec::new();
    let mut done = 0;
    let mut groups = groups.into_iter();
    let mut next = groups
        .next()
        .map(|g| prepare(g, TrackTiler::new(&opts.coverage)));
    // the next group is cleaned and tiled while this one is being stored
    while let Some((fixes, task)) = next.take() {
        let ((prepared, refused), tiler) =
            task.await.map_err(super::task_failed("track cleaning"))?;
        next = groups.next().map(|g| prepare(g, tiler));
        outcome.refused.extend(refused);
        if strict {
            held.extend(prepared);
        } else {
            store_group(store, prepared, &mut outcome.stored).await?;
        }
        done += fixes;
        progress(done, total);
    }
    if strict && outcome.refused.is_empty() {
        store_group(store, held, &mut outcome.stored).await?;
    }
    Ok(outcome)
}

/// Uploads a file of many tracks (a multi-track GPX, say) for the API:
/// each usable track is stored and each refused one answered with its
/// reason; all stored tracks share one transaction. When `check` refuses
/// one of the usable tracks (the caller's scope), nothing is stored. With
/// `strict`, or when no track is usable, the first refusal is the error
/// and nothing is stored, as a one-track upload answers.
pub async fn upload_each_checked(
    store: &DynStore,
    bytes: &[u8],
    content_type: Option<&str>,
    file_name: Option<&str>,
    opts: &UploadOptions,
    strict: bool,
    check: impl Fn(&NewTrack) -> Result<(), crate::auth::Denied>,
) -> Result<BatchOutcome, ServiceError> {
    let (_, parsed) = parse_upload_with(bytes, content_type, file_name, &opts.parse)
        .map_err(|e| IngestError::new(None, "file", e.to_string()))?;
    if parsed.is_empty() {
        return Err(IngestError::new(None, "file", "holds no track").into());
    }
    let params = clean_params(store, opts).await?;
    let task_opts = opts.clone();
    let group: Vec<(usize, ParsedTrack)> = parsed.into_iter().enumerate().collect();
    let (prepared, refused) = tokio::task::spawn_blocking(move || {
        let mut tiler = TrackTiler::new(&task_opts.coverage);
        prepare_group(group, &params, &task_opts, &mut tiler)
    })
    .await
    .map_err(super::task_failed("track cleaning"))?;
    if let Some(first) = refused.first()
        && (strict || prepared.is_empty())
    {
        return Err(first.error.clone().into());
    }
    for (t, _, _) in &prepared {
        check(t)?;
    }
    let mut outcome = BatchOutcome {
        stored: Vec::with_capacity(prepared.len()),
        refused,
    };
    store_group(store, prepared, &mut outcome.stored).await?;
    Ok(outcome)
}

fn summary_of(track: &NewTrack, cells: usize, report: CleaningReport) -> UploadedTrack {
    let (s, e) = track.span_ms();
    UploadedTrack {
        id: 0,
        created: false,
        officer: track.officer.clone(),
        name: track.name.clone(),
        points: track.point_count(),
        cells,
        started_at: DateTime::from_timestamp_millis(s).unwrap_or_default(),
        ended_at: DateTime::from_timestamp_millis(e).unwrap_or_default(),
        report,
    }
}
