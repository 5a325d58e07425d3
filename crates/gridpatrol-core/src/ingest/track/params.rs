//! What the track cleaner judges by: the district a patrol is expected in
//! ([`Area`], given by the caller: the core knows no place of its own) and
//! the limits of [`CleanParams`].

use chrono::{DateTime, TimeDelta, Utc};
use geo::{Closest, Contains, Distance, Haversine, HaversineClosestPoint, Intersects};

use crate::spatial::{Bbox, LonLat};

/// The district a patrol is expected in, with a margin in metres around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    outline: Option<geo::MultiPolygon<f64>>,
    /// The box of each polygon of the outline, in order.
    part_bounds: Vec<geo::Rect<f64>>,
    bounds: geo::Rect<f64>,
    margin_m: f64,
}

/// Why an [`Area`] could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AreaError {
    #[error("the margin {0} m is not a finite number of metres at least 0")]
    Margin(f64),
    #[error("the outline has no polygon")]
    EmptyOutline,
    #[error("polygon {polygon}, ring {ring}: {reason}")]
    Ring {
        polygon: usize,
        ring: usize,
        reason: String,
    },
}

impl Area {
    /// A longitude/latitude box with a margin.
    pub fn from_bbox(bbox: Bbox, margin_m: f64) -> Result<Self, AreaError> {
        let bounds = geo::Rect::new(
            geo::coord! { x: bbox.min_lon(), y: bbox.min_lat() },
            geo::coord! { x: bbox.max_lon(), y: bbox.max_lat() },
        );
        Ok(Self {
            outline: None,
            part_bounds: Vec::new(),
            bounds,
            margin_m: check_margin(margin_m)?,
        })
    }

    /// A district outline in WGS-84 with a margin. Every ring must be closed
    /// (at least four positions) and every position a valid lon/lat.
    pub fn from_outline(outline: geo::MultiPolygon<f64>, margin_m: f64) -> Result<Self, AreaError> {
        use geo::BoundingRect;
        let margin_m = check_margin(margin_m)?;
        for (polygon, poly) in outline.iter().enumerate() {
            for (ring, line) in std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .enumerate()
            {
                if line.0.len() < 4 {
                    return Err(AreaError::Ring {
                        polygon,
                        ring,
                        reason: format!(
                            "has {} positions; a closed ring needs at least 4",
                            line.0.len()
                        ),
                    });
                }
                if let Some(bad) = line.0.iter().position(|c| LonLat::new(c.x, c.y).is_err()) {
                    return Err(AreaError::Ring {
                        polygon,
                        ring,
                        reason: format!("position {bad} is not a valid longitude/latitude"),
                    });
                }
            }
        }
        let bounds = outline.bounding_rect().ok_or(AreaError::EmptyOutline)?;
        let part_bounds = outline
            .iter()
            .filter_map(BoundingRect::bounding_rect)
            .collect();
        Ok(Self {
            part_bounds,
            outline: Some(outline),
            bounds,
            margin_m,
        })
    }

    #[must_use]
    pub fn margin_m(&self) -> f64 {
        self.margin_m
    }

    /// Whether a WGS-84 position is inside the area or within its margin,
    /// in geodesic metres.
    #[must_use]
    pub fn contains(&self, p: LonLat) -> bool {
        let point = geo::Point::from(p);
        // The nearest point of a lon/lat box is the clamped position, which
        // also bounds the distance to any outline inside the box from below.
        let nearest = geo::Point::new(
            p.lon().clamp(self.bounds.min().x, self.bounds.max().x),
            p.lat().clamp(self.bounds.min().y, self.bounds.max().y),
        );
        if Haversine.distance(point, nearest) > self.margin_m {
            return false;
        }
        let Some(outline) = &self.outline else {
            return true;
        };
        // Most fixes lie inside the district: a point-in-polygon test on the
        // parts whose box holds the point answers them without the (much
        // slower) closest-point search over every vertex.
        if outline
            .iter()
            .zip(&self.part_bounds)
            .any(|(part, r)| r.intersects(&point) && part.contains(&point))
        {
            return true;
        }
        match outline.haversine_closest_point(&point) {
            Closest::Intersection(_) => true,
            Closest::SinglePoint(c) => Haversine.distance(point, c) <= self.margin_m,
            Closest::Indeterminate => false,
        }
    }
}

fn check_margin(margin_m: f64) -> Result<f64, AreaError> {
    if margin_m.is_finite() && margin_m >= 0.0 {
        Ok(margin_m)
    } else {
        Err(AreaError::Margin(margin_m))
    }
}

/// How [`clean`] judges a track. Build it with [`CleanParams::new`], from
/// the district's extent (which the caller knows: the core has no default
/// place), and the `with_*` methods, which refuse values that make no sense.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanParams {
    area: Option<Area>,
    max_speed_mps: f64,
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

impl CleanParams {
    /// Points must lie in `area` (`None` accepts any valid position); 15 m/s
    /// (e-bike patrols); segments split at gaps over 5 minutes; out-of-order
    /// points re-sorted while they are at most 10 %; at least 2 points
    /// lasting 60 s or covering 50 m; no fallback start; untimed points 1 s
    /// apart.
    #[must_use]
    pub fn new(area: Option<Area>) -> Self {
        Self {
            area,
            max_speed_mps: 15.0,
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
    pub fn with_area(mut self, area: Option<Area>) -> Self {
        self.area = area;
        self
    }

    pub fn with_max_speed_mps(mut self, max_speed_mps: f64) -> Result<Self, CleanParamsError> {
        if !(max_speed_mps.is_finite() && max_speed_mps > 0.0) {
            return Err(CleanParamsError::MaxSpeed(max_speed_mps));
        }
        self.max_speed_mps = max_speed_mps;
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
    pub fn area(&self) -> Option<&Area> {
        self.area.as_ref()
    }
    #[must_use]
    pub fn max_speed_mps(&self) -> f64 {
        self.max_speed_mps
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
