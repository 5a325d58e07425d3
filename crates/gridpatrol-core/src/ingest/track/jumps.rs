//! GPS jumps: outliers, not speed. A fix is a jump when it is inconsistent
//! with its neighbours (a spike: it leaves and comes back), or when the
//! speed needed to reach it is impossible for the track's [`TravelMode`].
//! A sustained fast segment is consistent with itself and kept.
//!
//! Distances here are planar in a frame at the segment's first fix (one
//! trigonometric evaluation per segment): at district scale the plane is
//! within 0.5 % of the ellipsoid, far below what separates a jump from a
//! plausible step.

use serde::{Deserialize, Serialize};

use super::clean::Fix;
use crate::spatial::frame::metres_per_degree;

/// Consecutive points, mutually consistent but unreachable from the kept
/// ones, that make the cleaner accept a relocation instead of a spike.
pub const REANCHOR_RUN: usize = 3;

/// How a track was recorded, which bounds the speed it can plausibly have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TravelMode {
    Foot,
    Ebike,
    Vehicle,
    /// Chosen per track from its own speeds (see [`TravelMode::from_speeds`]).
    #[default]
    Auto,
}

impl std::str::FromStr for TravelMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "foot" | "walk" => Ok(Self::Foot),
            "ebike" | "e-bike" | "bike" => Ok(Self::Ebike),
            "vehicle" | "car" => Ok(Self::Vehicle),
            "auto" => Ok(Self::Auto),
            other => Err(format!(
                "unknown travel mode {other:?}: expected foot, ebike, vehicle or auto"
            )),
        }
    }
}

/// The 85th percentile of step speeds (m/s) under which [`TravelMode::Auto`]
/// takes a track for a walk, then for an e-bike ride; above, a vehicle.
pub const AUTO_FOOT_BELOW_MPS: f64 = 3.0;
pub const AUTO_EBIKE_BELOW_MPS: f64 = 9.0;

impl TravelMode {
    /// The mode of a track whose steps' 85th-percentile speed is `p85_mps`.
    #[must_use]
    pub fn from_p85(p85_mps: f64) -> Self {
        if p85_mps < AUTO_FOOT_BELOW_MPS {
            Self::Foot
        } else if p85_mps < AUTO_EBIKE_BELOW_MPS {
            Self::Ebike
        } else {
            Self::Vehicle
        }
    }

    /// The mode of a track from its step speeds (robust: spikes, which are
    /// few, do not move the 85th percentile); `Foot` without any step.
    #[must_use]
    pub fn from_speeds(mut speeds: Vec<f64>) -> Self {
        speeds.retain(|v| v.is_finite());
        if speeds.is_empty() {
            return Self::Foot;
        }
        let k = (speeds.len() * 85 / 100).min(speeds.len() - 1);
        let (_, p85, _) = speeds.select_nth_unstable_by(k, f64::total_cmp);
        Self::from_p85(*p85)
    }
}

/// Planar metres per degree at one latitude.
#[derive(Debug, Clone, Copy)]
struct Metric {
    kx: f64,
    ky: f64,
}

impl Metric {
    fn at(fixes: &[Fix]) -> Self {
        let (kx, ky) = metres_per_degree(fixes.first().map_or(0.0, |f| f.lat));
        Self { kx, ky }
    }

    fn distance(self, a: &Fix, b: &Fix) -> f64 {
        // metres between nearby fixes: no overflow for `hypot` to guard
        // against, and a square root is several times faster
        let (dx, dy) = ((b.lon - a.lon) * self.kx, (b.lat - a.lat) * self.ky);
        (dx * dx + dy * dy).sqrt()
    }

    fn speed(self, a: &Fix, b: &Fix) -> f64 {
        let dt_ms = b.t_ms.saturating_sub(a.t_ms).unsigned_abs();
        let distance = self.distance(a, b);
        if dt_ms == 0 {
            return if distance > 0.0 { f64::INFINITY } else { 0.0 };
        }
        #[expect(clippy::cast_precision_loss, reason = "durations far below 2^52 ms")]
        let seconds = dt_ms as f64 / 1000.0;
        distance / seconds
    }
}

/// The speeds of the steps of time-sorted fixes, m/s.
pub(super) fn step_speeds(fixes: &[Fix]) -> impl Iterator<Item = f64> + '_ {
    let metric = Metric::at(fixes);
    fixes.windows(2).filter_map(move |w| match w {
        [a, b] if b.t_ms > a.t_ms => Some(metric.speed(a, b)),
        _ => None,
    })
}

/// Drops one-fix spikes: a fix reached and left faster than `spike_mps`
/// whose neighbours are closer to each other than half its distance to
/// either of them (it left the path and came back). Linear in the fixes.
pub(super) fn drop_spikes(fixes: &[Fix], spike_mps: f64, jumps: &mut usize) -> Vec<Fix> {
    let metric = Metric::at(fixes);
    let mut kept: Vec<Fix> = Vec::with_capacity(fixes.len());
    for (i, f) in fixes.iter().enumerate() {
        let spike = match (kept.last(), fixes.get(i + 1)) {
            // the cheap test first: most fixes are reached slower
            (Some(a), Some(b)) => {
                metric.speed(a, f) > spike_mps
                    && metric.speed(f, b) > spike_mps
                    && metric.distance(a, b)
                        < 0.5 * metric.distance(a, f).min(metric.distance(f, b))
            }
            _ => false,
        };
        if spike {
            *jumps += 1;
        } else {
            kept.push(*f);
        }
    }
    kept
}

/// Drops fixes the last kept fix could only reach above `max_speed_mps`,
/// and splits the segment where the track consistently continues somewhere
/// out of reach (see [`super::clean`], step 7).
pub(super) fn drop_jumps(fixes: Vec<Fix>, max_speed_mps: f64, jumps: &mut usize) -> Vec<Vec<Fix>> {
    let metric = Metric::at(&fixes);
    let mut out: Vec<Vec<Fix>> = Vec::new();
    let mut current: Vec<Fix> = Vec::new();
    let mut pending: Vec<Fix> = Vec::new();
    for f in fixes {
        let Some(last) = current.last() else {
            current.push(f);
            continue;
        };
        if metric.speed(last, &f) <= max_speed_mps {
            *jumps += pending.len();
            pending.clear();
            current.push(f);
            continue;
        }
        if pending
            .last()
            .is_some_and(|p| metric.speed(p, &f) > max_speed_mps)
        {
            *jumps += pending.len();
            pending.clear();
        }
        pending.push(f);
        if pending.len() >= REANCHOR_RUN {
            if current.len() < REANCHOR_RUN {
                *jumps += current.len();
            } else {
                out.push(std::mem::take(&mut current));
            }
            current = std::mem::take(&mut pending);
        }
    }
    if pending.len() > current.len() {
        *jumps += current.len();
        current = pending;
    } else {
        *jumps += pending.len();
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

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

    #[test]
    fn a_first_point_spike_is_dropped() {
        let mut jumps = 0;
        let mut fixes: Vec<Fix> = (0..6).map(|i| fix(i * 1000)).collect();
        if let Some(first) = fixes.first_mut() {
            first.lat += 0.05;
        }
        let out = drop_jumps(fixes, 15.0, &mut jumps);
        assert_eq!(jumps, 1);
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), vec![5]);
    }

    #[test]
    fn a_relocation_splits_the_segment() {
        let mut jumps = 0;
        let fixes: Vec<Fix> = (0..10)
            .map(|i| Fix {
                lat: if i < 5 { 31.0 } else { 31.1 },
                ..fix(i * 1000)
            })
            .collect();
        let out = drop_jumps(fixes, 15.0, &mut jumps);
        assert_eq!(jumps, 0);
        assert_eq!(out.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 5]);
    }

    #[test]
    fn a_spike_goes_and_a_fast_straight_line_stays() {
        // 25 m/s north, 2 s fixes; fix 5 is 300 m east.
        let line: Vec<Fix> = (0..10)
            .map(|i| Fix {
                lat: 31.0 + f64::from(i) * 50.0 / 110_900.0,
                ..fix(i64::from(i) * 2000)
            })
            .collect();
        let mut jumps = 0;
        assert_eq!(drop_spikes(&line, 22.5, &mut jumps).len(), 10);
        assert_eq!(jumps, 0);
        let mut spiked = line;
        spiked[5].lon += 300.0 / 95_500.0;
        assert_eq!(drop_spikes(&spiked, 22.5, &mut jumps).len(), 9);
        assert_eq!(jumps, 1);
    }

    #[test]
    fn auto_mode_follows_the_85th_percentile() {
        assert_eq!(TravelMode::from_speeds(vec![1.2; 50]), TravelMode::Foot);
        assert_eq!(TravelMode::from_speeds(vec![5.0; 50]), TravelMode::Ebike);
        let mut car = vec![25.0; 50];
        car.extend([0.0; 10]);
        assert_eq!(TravelMode::from_speeds(car), TravelMode::Vehicle);
        assert_eq!(TravelMode::from_speeds(Vec::new()), TravelMode::Foot);
        assert_eq!("car".parse::<TravelMode>(), Ok(TravelMode::Vehicle));
    }
}
