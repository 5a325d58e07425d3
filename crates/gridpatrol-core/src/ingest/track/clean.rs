//! Cleaning a parsed track into WGS-84 [`TrackPoint`] segments, counting
//! every point it drops (see [`clean`]).

use chrono::TimeDelta;
use geo::{Distance, Geodesic};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ParsedTrack;
use super::jumps::{drop_jumps, drop_spikes};
pub use super::params::{CleanParams, CleanParamsError, DEFAULT_MODE_LIMITS};
use crate::spatial::frame::metres_per_degree;
use crate::spatial::{Crs, LonLat, TrackPoint};

/// What cleaning did to a track, point by point. `received - kept` points
/// were dropped; `out_of_order` counts re-sorted points too, and `untimed`
/// counts the kept points of a track without times (see [`clean`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub struct CleaningReport {
    pub received: usize,
    pub kept: usize,
    pub invalid_coordinates: usize,
    pub outside_area: usize,
    pub out_of_order: usize,
    pub gps_jumps: usize,
    pub duplicates: usize,
    pub untimed: usize,
}

/// A cleaned track: WGS-84 points sorted by time within each segment,
/// segments sorted by their first time. No line joins two segments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CleanedTrack {
    pub segments: Vec<Vec<TrackPoint>>,
    pub report: CleaningReport,
}

impl CleanedTrack {
    /// All points, segment after segment.
    pub fn points(&self) -> impl Iterator<Item = &TrackPoint> {
        self.segments.iter().flatten()
    }

    /// The earliest and latest time, in ms since the epoch.
    #[must_use]
    pub fn time_span_ms(&self) -> Option<(i64, i64)> {
        let min = self.points().map(|p| p.t_ms).min()?;
        let max = self.points().map(|p| p.t_ms).max()?;
        Some((min, max))
    }

    /// The geodesic length in metres, segment by segment.
    #[must_use]
    pub fn length_m(&self) -> f64 {
        self.segments.iter().map(|s| segment_length_m(s)).sum()
    }

    /// A content fingerprint: SHA-256, in lowercase hex, over the points in
    /// order with lon/lat rounded to 1e-6° (about 0.1 m) and the time to the
    /// second. Two uploads of the same points give the same fingerprint
    /// whatever their whitespace, number formatting, time zone notation or
    /// segment breaks.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"gridpatrol track v1\n");
        // hashed a block of fixes at a time: one call per fix field costs
        // more than the hashing
        let mut block: Vec<u8> = Vec::with_capacity(24 * 1024);
        for p in self.points() {
            block.extend_from_slice(&micro_degrees(p.lon).to_le_bytes());
            block.extend_from_slice(&micro_degrees(p.lat).to_le_bytes());
            block.extend_from_slice(&p.t_ms.div_euclid(1000).to_le_bytes());
            if block.len() >= 24 * 1024 {
                hasher.update(&block);
                block.clear();
            }
        }
        hasher.update(&block);
        hasher
            .finalize()
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                use std::fmt::Write;
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "valid degrees times 1e6 fit in i64"
)]
fn micro_degrees(deg: f64) -> i64 {
    (deg * 1e6).round() as i64
}

/// Why a track was not accepted.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RejectReason {
    #[error("only {kept} usable points remain and a track needs at least {min_points}")]
    TooFewPoints { kept: usize, min_points: usize },
    #[error(
        "it lasts {duration_s} s and covers {length_m:.0} m, and a track needs at least \
         {min_duration_s} s or {min_length_m:.0} m"
    )]
    TooSmall {
        duration_s: i64,
        length_m: f64,
        min_duration_s: i64,
        min_length_m: f64,
    },
    #[error(
        "it has no times and covers {length_m:.0} m, and an untimed track needs at least {min_length_m:.0} m"
    )]
    TooShort { length_m: f64, min_length_m: f64 },
    #[error("no point has a time and no fallback start time was given")]
    NoTimes,
}

/// A track that cleaning left too small to use, with the report that says
/// why, for the API to show.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("track rejected: {reason}")]
pub struct TrackRejected {
    pub reason: RejectReason,
    pub report: CleaningReport,
}

/// Converts `track` from `crs` to WGS-84 and cleans it into [`TrackPoint`]
/// segments, counting every point it drops.
///
/// The steps, in order, each counted in the [`CleaningReport`]:
///
/// 1. **Coordinates** are converted from the upload's [`Crs`] to WGS-84.
///    Non-finite or out-of-range values and (0, 0), which receivers write
///    when they have no fix, are `invalid_coordinates`.
/// 2. **Extent**: points farther than the [`Extent`]'s margin from the district
///    (geodesic metres) are `outside_area`.
/// 3. **Times**: if any point of the track has a time, points without one are
///    dropped and counted `untimed`. If none has, every point is kept and
///    counted `untimed`, and the k-th kept point gets the time
///    `fallback_start + k × untimed_spacing`; without a fallback start the
///    track is rejected. Synthetic times only order the points: such a track
///    skips the speed check below, and its minimal size is judged by length.
/// 4. **Order**, per segment: the points outside a longest non-decreasing
///    run of times are `out_of_order`. When they are at most
///    `max_reorder_fraction` of the segment, those whose time lies within the
///    run's span are put back in their place in time (a device that sent rows
///    a little out of order) and the others dropped; when there are more,
///    they are all dropped (a clock that jumped).
/// 5. **Duplicates**: a point with the same time as the point before it is
///    dropped whatever its position, as is, in an untimed track, a point at
///    the same position as the point before it. They count as `duplicates`.
/// 6. **Gaps**: a segment is split where two points are more than `max_gap`
///    apart in time, so that a stretch with the receiver off is not drawn as
///    walked. Nothing is dropped.
/// 7. **GPS jumps** are outliers, not speed (see [`super::jumps`]). The
///    track's speed limit is `max_speed_mps` if set, else its mode's
///    (`Auto`: from the 85th percentile of its step speeds). First a fix
///    reached and left above half the limit whose neighbours are close to
///    each other (it left the path and came back) is a `gps_jumps` spike.
///    Then a point that the last kept point could only reach above the
///    limit is a `gps_jumps` spike and dropped, and the next point
///    is compared with the last kept point again, so a spike never takes the
///    rest of the track with it. When [`super::REANCHOR_RUN`] points in a row are
///    consistent with each other but out of reach of the kept ones, the
///    track really moved (a ride, say): the segment is split there, and if
///    the points kept before were fewer than [`super::REANCHOR_RUN`], they were the
///    spike and are dropped instead.
///
/// The result is rejected ([`TrackRejected`], report inside) when fewer than
/// `min_points` remain, or when it both lasts less than `min_duration` and
/// covers less than `min_length_m`.
pub fn clean(
    track: &ParsedTrack,
    crs: Crs,
    params: &CleanParams,
) -> Result<CleanedTrack, TrackRejected> {
    let mut report = CleaningReport {
        received: track.point_count(),
        ..CleaningReport::default()
    };
    let timed = track.points().any(|p| p.time.is_some());
    let segments = if timed {
        clean_timed(track, crs, params, &mut report)
    } else {
        clean_untimed(track, crs, params, &mut report)
    };
    report.kept = segments.iter().map(Vec::len).sum();
    let reject = |reason| Err(TrackRejected { reason, report });

    let min_points = params.min_points().max(1);
    if report.kept < min_points {
        return reject(RejectReason::TooFewPoints {
            kept: report.kept,
            min_points,
        });
    }
    let Some(segments) = segments_with_times(segments, timed, params) else {
        return reject(RejectReason::NoTimes);
    };
    let cleaned = CleanedTrack { segments, report };
    let length_m = cleaned.length_m();
    if timed {
        let (start, end) = cleaned.time_span_ms().unwrap_or_default();
        let duration = TimeDelta::milliseconds(end.saturating_sub(start));
        if duration < params.min_duration() && length_m < params.min_length_m() {
            return reject(RejectReason::TooSmall {
                duration_s: duration.num_seconds(),
                length_m,
                min_duration_s: params.min_duration().num_seconds(),
                min_length_m: params.min_length_m(),
            });
        }
    } else if length_m < params.min_length_m() {
        return reject(RejectReason::TooShort {
            length_m,
            min_length_m: params.min_length_m(),
        });
    }
    Ok(cleaned)
}

/// A point on its way through cleaning: WGS-84, time in ms if known.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fix {
    pub(super) lon: f64,
    pub(super) lat: f64,
    pub(super) t_ms: i64,
}

/// Steps 1 and 2: a valid WGS-84 position inside the area, or a count.
fn accepted_position(
    lon: f64,
    lat: f64,
    crs: Crs,
    params: &CleanParams,
    report: &mut CleaningReport,
) -> Option<LonLat> {
    let null_island = lon.abs() < 1e-9 && lat.abs() < 1e-9;
    let Some(p) = LonLat::from_crs(crs, lon, lat)
        .ok()
        .filter(|_| !null_island)
    else {
        report.invalid_coordinates += 1;
        return None;
    };
    if params.area().is_some_and(|a| !a.contains(p)) {
        report.outside_area += 1;
        return None;
    }
    Some(p)
}

fn clean_timed(
    track: &ParsedTrack,
    crs: Crs,
    params: &CleanParams,
    report: &mut CleaningReport,
) -> Vec<Vec<Fix>> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    for segment in &track.segments {
        let mut fixes = Vec::with_capacity(segment.len());
        for raw in segment {
            let Some(p) = accepted_position(raw.lon, raw.lat, crs, params, report) else {
                continue;
            };
            let Some(time) = raw.time else {
                report.untimed += 1;
                continue;
            };
            fixes.push(Fix {
                lon: p.lon(),
                lat: p.lat(),
                t_ms: time.timestamp_millis(),
            });
        }
        let fixes = put_in_order(
            fixes,
            params.max_reorder_fraction(),
            &mut report.out_of_order,
        );
        let fixes = drop_same_times(fixes, &mut report.duplicates);
        parts.extend(split_at_gaps(fixes, params.max_gap().num_milliseconds()));
    }
    let limit = params.speed_limit(&parts);
    for part in parts {
        let part = drop_spikes(&part, limit / 2.0, &mut report.gps_jumps);
        out.extend(drop_jumps(part, limit, &mut report.gps_jumps));
    }
    out.retain(|s| !s.is_empty());
    out.sort_by_key(|s| s.first().map(|f| f.t_ms));
    out
}

fn clean_untimed(
    track: &ParsedTrack,
    crs: Crs,
    params: &CleanParams,
    report: &mut CleaningReport,
) -> Vec<Vec<Fix>> {
    let mut out = Vec::new();
    for segment in &track.segments {
        let mut fixes: Vec<Fix> = Vec::with_capacity(segment.len());
        for raw in segment {
            let Some(p) = accepted_position(raw.lon, raw.lat, crs, params, report) else {
                continue;
            };
            let fix = Fix {
                lon: p.lon(),
                lat: p.lat(),
                t_ms: 0,
            };
            if fixes.last().is_some_and(|last| {
                last.lon.to_bits() == fix.lon.to_bits() && last.lat.to_bits() == fix.lat.to_bits()
            }) {
                report.duplicates += 1;
                continue;
            }
            fixes.push(fix);
        }
        report.untimed += fixes.len();
        if !fixes.is_empty() {
            out.push(fixes);
        }
    }
    out
}

/// Gives untimed fixes their synthetic times and turns fixes into track
/// points; `None` when synthetic times are needed and there is no start.
fn segments_with_times(
    segments: Vec<Vec<Fix>>,
    timed: bool,
    params: &CleanParams,
) -> Option<Vec<Vec<TrackPoint>>> {
    let to_point = |f: Fix| TrackPoint {
        lon: f.lon,
        lat: f.lat,
        t_ms: f.t_ms,
    };
    if timed {
        return Some(
            segments
                .into_iter()
                .map(|s| s.into_iter().map(to_point).collect())
                .collect(),
        );
    }
    let start = params.fallback_start()?.timestamp_millis();
    let spacing = params.untimed_spacing().num_milliseconds();
    let mut k: i64 = 0;
    Some(
        segments
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|f| {
                        let t_ms = start.saturating_add(k.saturating_mul(spacing));
                        k += 1;
                        to_point(Fix { t_ms, ..f })
                    })
                    .collect()
            })
            .collect(),
    )
}

/// Step 4 (see [`clean`]).
fn put_in_order(fixes: Vec<Fix>, max_fraction: f64, out_of_order: &mut usize) -> Vec<Fix> {
    let in_run = longest_non_decreasing(&fixes);
    let run: Vec<i64> = fixes
        .iter()
        .zip(&in_run)
        .filter(|&(_, &ok)| ok)
        .map(|(f, _)| f.t_ms)
        .collect();
    let offenders = fixes.len() - run.len();
    if offenders == 0 {
        return fixes;
    }
    *out_of_order += offenders;
    let (Some(&lo), Some(&hi)) = (run.first(), run.last()) else {
        return Vec::new();
    };
    #[expect(clippy::cast_precision_loss, reason = "point counts far below 2^52")]
    let few = offenders as f64 <= max_fraction * fixes.len() as f64;
    let mut kept: Vec<Fix> = fixes
        .into_iter()
        .zip(in_run)
        .filter(|(f, ok)| *ok || (few && (lo..=hi).contains(&f.t_ms)))
        .map(|(f, _)| f)
        .collect();
    kept.sort_by_key(|f| f.t_ms);
    kept
}

/// Marks one longest non-decreasing subsequence of times (patience sorting,
/// O(n log n)).
fn longest_non_decreasing(fixes: &[Fix]) -> Vec<bool> {
    let mut tails: Vec<usize> = Vec::new();
    let mut prev: Vec<Option<usize>> = vec![None; fixes.len()];
    for (i, f) in fixes.iter().enumerate() {
        let pos = tails.partition_point(|&j| fixes.get(j).is_some_and(|g| g.t_ms <= f.t_ms));
        if let Some(slot) = prev.get_mut(i) {
            *slot = pos.checked_sub(1).and_then(|k| tails.get(k).copied());
        }
        if let Some(tail) = tails.get_mut(pos) {
            *tail = i;
        } else {
            tails.push(i);
        }
    }
    let mut in_run = vec![false; fixes.len()];
    let mut cursor = tails.last().copied();
    while let Some(i) = cursor {
        if let Some(mark) = in_run.get_mut(i) {
            *mark = true;
        }
        cursor = prev.get(i).copied().flatten();
    }
    in_run
}

/// Step 5 for timed fixes, which are sorted by now.
fn drop_same_times(fixes: Vec<Fix>, duplicates: &mut usize) -> Vec<Fix> {
    let mut kept: Vec<Fix> = Vec::with_capacity(fixes.len());
    for f in fixes {
        if kept.last().is_some_and(|last| last.t_ms == f.t_ms) {
            *duplicates += 1;
        } else {
            kept.push(f);
        }
    }
    kept
}

/// Step 6.
fn split_at_gaps(fixes: Vec<Fix>, max_gap_ms: i64) -> Vec<Vec<Fix>> {
    let mut parts: Vec<Vec<Fix>> = Vec::new();
    let mut current: Vec<Fix> = Vec::new();
    for f in fixes {
        if current
            .last()
            .is_some_and(|last| f.t_ms.saturating_sub(last.t_ms) > max_gap_ms)
        {
            parts.push(std::mem::take(&mut current));
        }
        current.push(f);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// The length of a segment, step by step in the local plane of the WGS-84
/// ellipsoid ([`metres_per_degree`] at the step's latitude, refreshed every
/// 0.01°): within 1e-4 of the geodesic for the steps of a track, a few
/// multiplications a fix instead of an iterative geodesic solution.
/// A step longer than [`PLANAR_STEP_M`] is measured geodesically.
fn segment_length_m(points: &[TrackPoint]) -> f64 {
    let mut at_lat = f64::NAN;
    let (mut kx, mut ky) = (0.0, 0.0);
    let mut total = 0.0;
    for w in points.windows(2) {
        let [a, b] = w else { continue };
        let mid = 0.5 * (a.lat + b.lat);
        if at_lat.is_nan() || (mid - at_lat).abs() > 0.01 {
            (kx, ky) = metres_per_degree(mid);
            at_lat = mid;
        }
        let (dx, dy) = ((b.lon - a.lon) * kx, (b.lat - a.lat) * ky);
        let step = (dx * dx + dy * dy).sqrt();
        total += if step <= PLANAR_STEP_M {
            step
        } else {
            Geodesic.distance(geo::Point::new(a.lon, a.lat), geo::Point::new(b.lon, b.lat))
        };
    }
    total
}

/// The longest step [`segment_length_m`] measures in the plane.
const PLANAR_STEP_M: f64 = 10_000.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(t_ms: i64) -> Fix {
        Fix {
            lon: 121.2,
            lat: 31.0,
            t_ms,
        }
    }

    fn times(fixes: &[Fix]) -> Vec<i64> {
        fixes.iter().map(|f| f.t_ms).collect()
    }

    #[test]
    fn a_swap_is_sorted_back() {
        let mut n = 0;
        let fixes: Vec<Fix> = [0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10].map(fix).to_vec();
        let out = put_in_order(fixes, 0.1, &mut n);
        assert_eq!(n, 1);
        assert_eq!(times(&out), vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn a_wild_time_is_dropped_not_sorted_to_the_end() {
        let mut n = 0;
        let fixes: Vec<Fix> = [0, 1, 2, 999_999, 3, 4, 5, 6, 7, 8, 9].map(fix).to_vec();
        let out = put_in_order(fixes, 0.1, &mut n);
        assert_eq!(n, 1);
        assert_eq!(times(&out), vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn many_offenders_are_dropped() {
        let mut n = 0;
        let fixes: Vec<Fix> = [0, 10, 20, 5, 30, 6, 40, 7, 50].map(fix).to_vec();
        let out = put_in_order(fixes, 0.1, &mut n);
        assert_eq!(n, 3);
        assert_eq!(times(&out), vec![0, 10, 20, 30, 40, 50]);
    }
}
