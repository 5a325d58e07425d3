//! Patrol tracks and their cell visits in the store: the [`TrackStore`]
//! part of every backend.

use async_trait::async_trait;

use super::{Page, StoreError};
use crate::spatial::{Bbox, TrackPoint};

/// A cleaned track ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTrack {
    pub officer: String,
    pub device: String,
    pub name: String,
    pub fingerprint: String,
    /// GPS segments; a gap between segments was not walked.
    pub segments: Vec<Vec<TrackPoint>>,
    pub length_m: f64,
    pub resolution: u8,
    pub sighting_m: f64,
    pub open: bool,
    /// The cleaning report, as answered to the uploader.
    pub report: serde_json::Value,
}

impl NewTrack {
    /// The first and last time of the track.
    #[must_use]
    pub fn span_ms(&self) -> (i64, i64) {
        let mut it = self.segments.iter().flatten().map(|p| p.t_ms);
        let first = it.next().unwrap_or(0);
        it.fold((first, first), |(a, b), t| (a.min(t), b.max(t)))
    }

    #[must_use]
    pub fn point_count(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }
}

/// A stored track.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackRecord {
    pub id: i64,
    pub track: NewTrack,
    pub started_ms: i64,
    pub ended_ms: i64,
    pub point_count: i64,
    pub created_ms: i64,
    /// Bumped by every replacement: an append rewrites the track only if
    /// the revision it read is still the stored one.
    pub revision: i64,
}

/// What became of a replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    Done,
    /// Someone else replaced the track since it was read: read it again.
    Stale,
    /// There is no such track.
    Missing,
}

/// The first and last time a track was within sighting distance of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoredVisit {
    pub track_id: i64,
    /// An H3 cell index.
    pub cell: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

impl StoredVisit {
    /// From a `(track_id, cell, first_ms, last_ms)` row, the cell stored as a signed bigint.
    #[must_use]
    pub fn from_row((track_id, cell, first_ms, last_ms): (i64, i64, i64, i64)) -> Self {
        Self {
            track_id,
            cell: cell.cast_unsigned(),
            first_ms,
            last_ms,
        }
    }
}

/// Filters and paging of the track list.
#[derive(Debug, Clone, Default)]
pub struct TrackQuery {
    pub officer: Option<String>,
    /// Tracks that end at or after this time.
    pub from_ms: Option<i64>,
    /// Tracks that start before this time.
    pub to_ms: Option<i64>,
    pub bbox: Option<Bbox>,
    pub limit: u32,
    pub offset: u32,
}

/// How a track insert went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    pub id: i64,
    /// `false` when the same track was stored before (same fingerprint).
    pub created: bool,
}

#[async_trait]
pub trait TrackStore: Send + Sync {
    /// Stores tracks with their visits in one transaction. A track whose
    /// fingerprint is already stored is not stored again: its id is answered
    /// with `created: false` and its visits are left as they are.
    async fn insert_tracks(
        &self,
        tracks: Vec<(NewTrack, Vec<StoredVisit>)>,
    ) -> Result<Vec<Inserted>, StoreError>;

    /// Replaces an open track's points and merges new visits into its own
    /// (earliest first, latest last), if the track is still at `revision`.
    async fn replace_track(
        &self,
        id: i64,
        revision: i64,
        track: NewTrack,
        visits: Vec<StoredVisit>,
    ) -> Result<Replaced, StoreError>;

    async fn list_tracks(&self, q: &TrackQuery) -> Result<Page<TrackRecord>, StoreError>;

    async fn get_track(&self, id: i64) -> Result<Option<TrackRecord>, StoreError>;

    /// The cells a track covered.
    async fn track_visits(&self, id: i64) -> Result<Vec<StoredVisit>, StoreError>;

    /// Visits that overlap `[from_ms, to_ms)`, of the given cells (all when `None`).
    async fn visits_between(
        &self,
        cells: Option<&[u64]>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredVisit>, StoreError>;

    /// Per cell, the latest time seen before `before_ms` (cells never seen are absent).
    async fn last_seen(
        &self,
        cells: Option<&[u64]>,
        before_ms: i64,
    ) -> Result<Vec<(u64, i64)>, StoreError>;
}

/// The track's segments as a MultiLineString; a one-point segment is drawn
/// as a zero-length line so that every vertex keeps its place and time.
#[must_use]
pub fn segments_geometry(segments: &[Vec<TrackPoint>]) -> geo::Geometry<f64> {
    let lines = segments
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut coords: Vec<geo::Coord<f64>> = s
                .iter()
                .map(|p| geo::Coord { x: p.lon, y: p.lat })
                .collect();
            if coords.len() == 1 {
                coords.push(coords[0]);
            }
            geo::LineString::new(coords)
        })
        .collect();
    geo::Geometry::MultiLineString(geo::MultiLineString::new(lines))
}

/// The time of every vertex of [`segments_geometry`], line by line: a
/// one-point segment's time twice, as its point is drawn twice, so that
/// `coordinates` and `coordTimes` always pair up.
#[must_use]
pub fn segments_coord_times(segments: &[Vec<TrackPoint>]) -> Vec<Vec<i64>> {
    segments
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut times: Vec<i64> = s.iter().map(|p| p.t_ms).collect();
            if times.len() == 1 {
                times.push(times[0]);
            }
            times
        })
        .collect()
}

/// The flat time list stored beside the geometry, in vertex order.
#[must_use]
pub fn segments_times(segments: &[Vec<TrackPoint>]) -> Vec<i64> {
    segments_coord_times(segments)
        .into_iter()
        .flatten()
        .collect()
}

/// Rebuilds segments from a stored geometry and its times.
pub fn segments_from(
    geometry: &geo::Geometry<f64>,
    times: &[i64],
) -> Result<Vec<Vec<TrackPoint>>, StoreError> {
    let geo::Geometry::MultiLineString(m) = geometry else {
        return Err(StoreError::Corrupt(
            "track geometry is not a MultiLineString".into(),
        ));
    };
    let mut t = times.iter();
    let mut out = Vec::with_capacity(m.0.len());
    for line in &m.0 {
        let mut seg = Vec::with_capacity(line.0.len());
        for c in &line.0 {
            let t_ms = *t
                .next()
                .ok_or_else(|| StoreError::Corrupt("track has fewer times than vertices".into()))?;
            seg.push(TrackPoint {
                lon: c.x,
                lat: c.y,
                t_ms,
            });
        }
        // undo the doubling of one-point segments
        if seg.len() == 2 && seg[0] == seg[1] {
            seg.pop();
        }
        out.push(seg);
    }
    Ok(out)
}
