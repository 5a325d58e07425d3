//! Patrol coverage: which H3 cells a patrol track covered and when
//! ([`cover_track`]), and what the stored visits say about a scope of cells
//! over a time window ([`analysis`]).
//!
//! A track covers every cell whose hexagon its line — the fixes joined by
//! straight segments — buffered by the sighting distance touches. The metric
//! and its error bound are described in the `geometry` module; in short,
//! distances are measured in each cell's local ellipsoidal plane and agree
//! with geodesic metres to better than 1e-4 relative at patrol scales.
//!
//! Everything here is pure: no I/O, no clocks, no async.

pub mod analysis;
mod geometry;
mod tiler;

use h3o::{CellIndex, Resolution};

pub use tiler::{TrackTiler, cover_track};

/// Why coverage parameters were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoverageError {
    #[error("coverage resolution {0} is outside 7..=12")]
    Resolution(u8),
    #[error("sighting distance {0} m is not a finite number in (0, 500]")]
    SightingDistance(f64),
    #[error("patrol interval {0} days is not a positive number of days")]
    Interval(u32),
    #[error("time window [{from_ms}, {to_ms}) is empty")]
    Window { from_ms: i64, to_ms: i64 },
    #[error("cells of resolution {from} cannot be gathered into finer cells of resolution {to}")]
    Coarsen { from: u8, to: u8 },
}

/// How tracks are turned into cell visits: the H3 resolution of the cells
/// and how far from the line an officer is taken to see (metres).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageParams {
    resolution: Resolution,
    sighting_m: f64,
}

impl CoverageParams {
    /// Resolution 10 cells are about 15,000 m² at the equator and 11,500 m²
    /// at Songjiang, close to the 万米单元网格 of Chinese urban management.
    pub const DEFAULT_RESOLUTION: Resolution = Resolution::Ten;
    /// What an officer on foot can inspect from the street.
    pub const DEFAULT_SIGHTING_M: f64 = 25.0;
    /// Coarser cells say little about a street patrol; finer ones are
    /// smaller than the GPS error.
    pub const RESOLUTIONS: std::ops::RangeInclusive<u8> = 7..=12;
    /// The upper bound keeps a single fix from claiming a whole town.
    pub const MAX_SIGHTING_M: f64 = 500.0;

    /// Validates a resolution in 7..=12 and a sighting distance in (0, 500] m.
    pub fn new(resolution: Resolution, sighting_m: f64) -> Result<Self, CoverageError> {
        let r = u8::from(resolution);
        if !Self::RESOLUTIONS.contains(&r) {
            return Err(CoverageError::Resolution(r));
        }
        if !sighting_m.is_finite() || sighting_m <= 0.0 || sighting_m > Self::MAX_SIGHTING_M {
            return Err(CoverageError::SightingDistance(sighting_m));
        }
        Ok(Self {
            resolution,
            sighting_m,
        })
    }

    #[must_use]
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    #[must_use]
    pub fn sighting_m(&self) -> f64 {
        self.sighting_m
    }
}

impl Default for CoverageParams {
    fn default() -> Self {
        Self {
            resolution: Self::DEFAULT_RESOLUTION,
            sighting_m: Self::DEFAULT_SIGHTING_M,
        }
    }
}

/// One cell covered by one track: the earliest and latest time (ms since
/// the Unix epoch) at which the officer was within sighting distance of it,
/// interpolated along the segments and rounded outwards to whole ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellVisit {
    pub cell: CellIndex,
    pub first_ms: i64,
    pub last_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_validated() {
        assert!(CoverageParams::new(Resolution::Ten, 25.0).is_ok());
        assert!(CoverageParams::new(Resolution::Seven, 500.0).is_ok());
        assert!(CoverageParams::new(Resolution::Twelve, 0.1).is_ok());
        assert_eq!(
            CoverageParams::new(Resolution::Six, 25.0),
            Err(CoverageError::Resolution(6))
        );
        assert_eq!(
            CoverageParams::new(Resolution::Thirteen, 25.0),
            Err(CoverageError::Resolution(13))
        );
        for bad in [0.0, -1.0, 500.5, f64::NAN, f64::INFINITY] {
            assert!(CoverageParams::new(Resolution::Ten, bad).is_err(), "{bad}");
        }
        let d = CoverageParams::default();
        assert_eq!(d.resolution(), Resolution::Ten);
        assert!((d.sighting_m() - 25.0).abs() < f64::EPSILON);
    }
}
