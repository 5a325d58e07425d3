//! How a track is cleaned ([`CleanParams`]): the district, the travel mode
//! and its speed limits, gaps, reordering and the smallest usable track.

use chrono::{DateTime, TimeDelta, Utc};

use super::area::Extent;
use super::clean::Fix;
use super::jumps::{TravelMode, step_speeds};

/// How [`super::clean`] judges a track. Build it with [`CleanParams::new`], from
/// the district's extent (which the caller knows: the core has no default
/// place), and the `with_*` methods, which refuse values that make no sense.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanParams {
    area: Option<Extent>,
    mode: TravelMode,
    /// The speed limits of `Foot`, `Ebike` and `Vehicle`, m/s.
    mode_limits: [f64; 3],
    max_speed_mps: Option<f64>,
    max_gap: TimeDelta,
    max_reorder_fraction: f64,
    min_points: usize,
    min_duration: TimeDelta,
    min_length_m: f64,
    fallback_start: Option<DateTime<Utc>>,
    untimed_spacing: TimeDelta,
}

/// A [`CleanParams`] value out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CleanParamsError {
    #[error("max_speed_mps must be a finite number above 0, not {0}")]
    MaxSpeed(f64),
    #[error("the auto mode has no speed limit of its own: set foot, ebike or vehicle")]
    AutoLimit,
    #[error("max_gap must be longer than 0, not {0}")]
    MaxGap(TimeDelta),
    #[error("max_reorder_fraction must be between 0 and 1, not {0}")]
    ReorderFraction(f64),
    #[error("min_duration must not be negative, not {0}")]
    MinDuration(TimeDelta),
    #[error("min_length_m must be a finite number at least 0, not {0}")]
    MinLength(f64),
    #[error("untimed_spacing must be longer than 0, not {0}")]
    UntimedSpacing(TimeDelta),
}

/// The default speed limits of `Foot`, `Ebike` and `Vehicle`, m/s: a run
/// with GPS noise, a fast e-bike or scooter, a car on an expressway.
pub const DEFAULT_MODE_LIMITS: [f64; 3] = [10.0, 20.0, 45.0];

fn checked_speed(mps: f64) -> Result<f64, CleanParamsError> {
    if mps.is_finite() && mps > 0.0 {
        Ok(mps)
    } else {
        Err(CleanParamsError::MaxSpeed(mps))
    }
}

impl CleanParams {
    /// The speed limit of a track: the explicit one, or its mode's, the
    /// `Auto` mode chosen from the track's step speeds.
    pub(super) fn speed_limit(&self, parts: &[Vec<Fix>]) -> f64 {
        if let Some(v) = self.max_speed_mps {
            return v;
        }
        let mode = match self.mode {
            TravelMode::Auto => {
                TravelMode::from_speeds(parts.iter().flat_map(|p| step_speeds(p)).collect())
            }
            m => m,
        };
        self.mode_limit(mode).unwrap_or(DEFAULT_MODE_LIMITS[2])
    }
}

impl CleanParams {
    /// Points must lie in `area` (`None` accepts any valid position); the
    /// travel mode chosen per track ([`TravelMode::Auto`]) with
    /// [`DEFAULT_MODE_LIMITS`]; segments split at gaps over 5 minutes; out-of-order
    /// points re-sorted while they are at most 10 %; at least 2 points
    /// lasting 60 s or covering 50 m; no fallback start; untimed points 1 s
    /// apart.
    #[must_use]
    pub fn new(area: Option<Extent>) -> Self {
        Self {
            area,
            mode: TravelMode::Auto,
            mode_limits: DEFAULT_MODE_LIMITS,
            max_speed_mps: None,
            max_gap: TimeDelta::minutes(5),
            max_reorder_fraction: 0.1,
            min_points: 2,
            min_duration: TimeDelta::seconds(60),
            min_length_m: 50.0,
            fallback_start: None,
            untimed_spacing: TimeDelta::seconds(1),
        }
    }
}

impl CleanParams {
    /// The district points must lie in; `None` accepts any valid position.
    #[must_use]
    pub fn with_area(mut self, area: Option<Extent>) -> Self {
        self.area = area;
        self
    }

    /// An explicit speed limit for every track, whatever its mode.
    pub fn with_max_speed_mps(mut self, max_speed_mps: f64) -> Result<Self, CleanParamsError> {
        self.max_speed_mps = Some(checked_speed(max_speed_mps)?);
        Ok(self)
    }

    /// How the tracks were recorded; [`TravelMode::Auto`] (the default)
    /// chooses per track from its own speeds.
    #[must_use]
    pub fn with_mode(mut self, mode: TravelMode) -> Self {
        self.mode = mode;
        self
    }

    /// The speed limit of one mode (not `Auto`, which has none of its own).
    pub fn with_mode_limit(
        mut self,
        mode: TravelMode,
        max_speed_mps: f64,
    ) -> Result<Self, CleanParamsError> {
        let slot = match mode {
            TravelMode::Foot => 0,
            TravelMode::Ebike => 1,
            TravelMode::Vehicle => 2,
            TravelMode::Auto => return Err(CleanParamsError::AutoLimit),
        };
        if let Some(limit) = self.mode_limits.get_mut(slot) {
            *limit = checked_speed(max_speed_mps)?;
        }
        Ok(self)
    }

    pub fn with_max_gap(mut self, max_gap: TimeDelta) -> Result<Self, CleanParamsError> {
        if max_gap <= TimeDelta::zero() {
            return Err(CleanParamsError::MaxGap(max_gap));
        }
        self.max_gap = max_gap;
        Ok(self)
    }

    pub fn with_max_reorder_fraction(mut self, fraction: f64) -> Result<Self, CleanParamsError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(CleanParamsError::ReorderFraction(fraction));
        }
        self.max_reorder_fraction = fraction;
        Ok(self)
    }

    /// The fewest points a track keeps to be accepted; at least 1 is always
    /// required.
    #[must_use]
    pub fn with_min_points(mut self, min_points: usize) -> Self {
        self.min_points = min_points;
        self
    }

    pub fn with_min_duration(mut self, min_duration: TimeDelta) -> Result<Self, CleanParamsError> {
        if min_duration < TimeDelta::zero() {
            return Err(CleanParamsError::MinDuration(min_duration));
        }
        self.min_duration = min_duration;
        Ok(self)
    }

    pub fn with_min_length_m(mut self, min_length_m: f64) -> Result<Self, CleanParamsError> {
        if !(min_length_m.is_finite() && min_length_m >= 0.0) {
            return Err(CleanParamsError::MinLength(min_length_m));
        }
        self.min_length_m = min_length_m;
        Ok(self)
    }

    /// The time given to the first point of a track without any time (the
    /// upload's time, typically).
    #[must_use]
    pub fn with_fallback_start(mut self, start: Option<DateTime<Utc>>) -> Self {
        self.fallback_start = start;
        self
    }

    pub fn with_untimed_spacing(mut self, spacing: TimeDelta) -> Result<Self, CleanParamsError> {
        if spacing <= TimeDelta::zero() {
            return Err(CleanParamsError::UntimedSpacing(spacing));
        }
        self.untimed_spacing = spacing;
        Ok(self)
    }

    #[must_use]
    pub fn area(&self) -> Option<&Extent> {
        self.area.as_ref()
    }
    /// The explicit speed limit, if any (see [`Self::with_max_speed_mps`]).
    #[must_use]
    pub fn max_speed_mps(&self) -> Option<f64> {
        self.max_speed_mps
    }
    #[must_use]
    pub fn mode(&self) -> TravelMode {
        self.mode
    }
    /// The speed limit of a mode, m/s; `Auto` has none.
    #[must_use]
    pub fn mode_limit(&self, mode: TravelMode) -> Option<f64> {
        match mode {
            TravelMode::Foot => Some(self.mode_limits[0]),
            TravelMode::Ebike => Some(self.mode_limits[1]),
            TravelMode::Vehicle => Some(self.mode_limits[2]),
            TravelMode::Auto => None,
        }
    }
    #[must_use]
    pub fn max_gap(&self) -> TimeDelta {
        self.max_gap
    }
    #[must_use]
    pub fn max_reorder_fraction(&self) -> f64 {
        self.max_reorder_fraction
    }
    #[must_use]
    pub fn min_points(&self) -> usize {
        self.min_points
    }
    #[must_use]
    pub fn min_duration(&self) -> TimeDelta {
        self.min_duration
    }
    #[must_use]
    pub fn min_length_m(&self) -> f64 {
        self.min_length_m
    }
    #[must_use]
    pub fn fallback_start(&self) -> Option<DateTime<Utc>> {
        self.fallback_start
    }
    #[must_use]
    pub fn untimed_spacing(&self) -> TimeDelta {
        self.untimed_spacing
    }
}
