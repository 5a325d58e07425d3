//! The district a patrol is expected in ([`Extent`]): an outline (or a box)
//! with a margin, prepared once so that testing a fix costs a box check, a
//! point-in-polygon count over an R-tree of the outline's edges and, only
//! for fixes outside the outline, a planar distance to the few edges near
//! it — no geodesic distance per fix.
//!
//! **Tolerance.** Distances to the outline are measured in the local plane
//! of the fix ([`LocalFrame`]), which is within 1e-4 of the ellipsoid at
//! the distances a margin spans (a few km); the sphere the old per-fix
//! haversine test used differs from the ellipsoid by up to 0.5 %. To stay
//! conservative, a fix is kept when it lies within the margin plus
//! [`MARGIN_TOLERANCE`] (1 %) of it: every fix within the margin is kept,
//! and a fix up to 1 % of the margin beyond it may be kept too.

use std::sync::Arc;

use geo::{Distance, Haversine};
use rstar::primitives::Line;
use rstar::{AABB, RTree};

use crate::spatial::frame::{LocalFrame, metres_per_degree};
use crate::spatial::{Bbox, LonLat};

/// The relative slack at the margin's edge (see the module documentation).
pub const MARGIN_TOLERANCE: f64 = 0.01;

/// The district a patrol is expected in, with a margin in metres around it.
#[derive(Debug, Clone)]
pub struct Extent {
    outline: Option<geo::MultiPolygon<f64>>,
    bounds: geo::Rect<f64>,
    margin_m: f64,
    prepared: Arc<Prepared>,
}

impl PartialEq for Extent {
    fn eq(&self, other: &Self) -> bool {
        // The prepared index follows from the outline and the margin.
        self.outline == other.outline
            && self.bounds == other.bounds
            && self.margin_m.to_bits() == other.margin_m.to_bits()
    }
}

/// What [`Extent::contains`] tests against, computed once per area.
#[derive(Debug, Default)]
struct Prepared {
    /// The bounds grown by at least the margin, in degrees: a cheap reject.
    grown: [f64; 4],
    /// The margin with its tolerance, metres.
    reach_m: f64,
    /// The margin in degrees of latitude and of longitude, rounded up.
    reach_deg: [f64; 2],
    /// Every ring's edges, `[lon, lat]`.
    edges: RTree<Line<[f64; 2]>>,
}

/// Why an [`Extent`] could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtentError {
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

impl Extent {
    /// A longitude/latitude box with a margin.
    pub fn from_bbox(bbox: Bbox, margin_m: f64) -> Result<Self, ExtentError> {
        let bounds = geo::Rect::new(
            geo::coord! { x: bbox.min_lon(), y: bbox.min_lat() },
            geo::coord! { x: bbox.max_lon(), y: bbox.max_lat() },
        );
        let margin_m = check_margin(margin_m)?;
        Ok(Self {
            outline: None,
            bounds,
            margin_m,
            prepared: Arc::new(Prepared::new(bounds, margin_m, Vec::new())),
        })
    }

    /// A district outline in WGS-84 with a margin. Every ring must be closed
    /// (at least four positions) and every position a valid lon/lat.
    pub fn from_outline(
        outline: geo::MultiPolygon<f64>,
        margin_m: f64,
    ) -> Result<Self, ExtentError> {
        use geo::BoundingRect;
        let margin_m = check_margin(margin_m)?;
        let mut edges = Vec::new();
        for (polygon, poly) in outline.iter().enumerate() {
            for (ring, line) in std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .enumerate()
            {
                if line.0.len() < 4 {
                    return Err(ExtentError::Ring {
                        polygon,
                        ring,
                        reason: format!(
                            "has {} positions; a closed ring needs at least 4",
                            line.0.len()
                        ),
                    });
                }
                if let Some(bad) = line.0.iter().position(|c| LonLat::new(c.x, c.y).is_err()) {
                    return Err(ExtentError::Ring {
                        polygon,
                        ring,
                        reason: format!("position {bad} is not a valid longitude/latitude"),
                    });
                }
                edges.extend(
                    line.lines()
                        .map(|l| Line::new([l.start.x, l.start.y], [l.end.x, l.end.y])),
                );
            }
        }
        let bounds = outline.bounding_rect().ok_or(ExtentError::EmptyOutline)?;
        Ok(Self {
            outline: Some(outline),
            bounds,
            margin_m,
            prepared: Arc::new(Prepared::new(bounds, margin_m, edges)),
        })
    }

    #[must_use]
    pub fn margin_m(&self) -> f64 {
        self.margin_m
    }

    /// Whether a WGS-84 position is inside the area or within its margin
    /// (with the tolerance of the module documentation).
    #[must_use]
    pub fn contains(&self, p: LonLat) -> bool {
        let (x, y) = (p.lon(), p.lat());
        let prep = &self.prepared;
        let [x0, y0, x1, y1] = prep.grown;
        if !(x0..=x1).contains(&x) || !(y0..=y1).contains(&y) {
            return false;
        }
        let (min, max) = (self.bounds.min(), self.bounds.max());
        if self.outline.is_none() {
            if (min.x..=max.x).contains(&x) && (min.y..=max.y).contains(&y) {
                return true;
            }
            let nearest = geo::Point::new(x.clamp(min.x, max.x), y.clamp(min.y, max.y));
            return Haversine.distance(geo::Point::from(p), nearest) <= prep.reach_m;
        }
        prep.inside_rings([x, y], max.x) || prep.near_edge([x, y])
    }
}

impl Prepared {
    fn new(bounds: geo::Rect<f64>, margin_m: f64, edges: Vec<Line<[f64; 2]>>) -> Self {
        let reach_m = margin_m * (1.0 + MARGIN_TOLERANCE);
        let (min, max) = (bounds.min(), bounds.max());
        // Metres per degree shrink towards the poles (longitude) and towards
        // the equator (latitude): take the smallest over the grown box.
        let lat_slack = reach_m / 110_000.0;
        let far_lat = (min.y.abs().max(max.y.abs()) + lat_slack).min(89.9);
        let near_lat = if min.y <= 0.0 && max.y >= 0.0 {
            0.0
        } else {
            (min.y.abs().min(max.y.abs()) - lat_slack).max(0.0)
        };
        let kx = metres_per_degree(far_lat).0;
        let ky = metres_per_degree(near_lat).1;
        // 1 % more, against the plane's own approximation.
        let reach_deg = [reach_m / ky * 1.01, (reach_m / kx * 1.01).min(360.0)];
        Self {
            grown: [
                min.x - reach_deg[1],
                min.y - reach_deg[0],
                max.x + reach_deg[1],
                max.y + reach_deg[0],
            ],
            reach_m,
            reach_deg,
            edges: RTree::bulk_load(edges),
        }
    }

    /// Crossing-number test: the edges cut by the ray from `p` eastwards to
    /// `east`; inside an odd number of rings (holes count) is inside.
    fn inside_rings(&self, p: [f64; 2], east: f64) -> bool {
        let ray = AABB::from_corners(p, [east.max(p[0]), p[1]]);
        let mut inside = false;
        for e in self.edges.locate_in_envelope_intersecting(&ray) {
            let (a, b) = (e.from, e.to);
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// Whether an edge lies within the margin of `p`, in the plane of `p`.
    fn near_edge(&self, p: [f64; 2]) -> bool {
        let [dlat, dlon] = self.reach_deg;
        let window = AABB::from_corners([p[0] - dlon, p[1] - dlat], [p[0] + dlon, p[1] + dlat]);
        let mut near = self
            .edges
            .locate_in_envelope_intersecting(&window)
            .peekable();
        if near.peek().is_none() {
            return false;
        }
        let frame = LocalFrame::new(p[0], p[1]);
        near.any(|e| {
            let a = frame.xy(e.from[0], e.from[1]);
            let b = frame.xy(e.to[0], e.to[1]);
            distance_to_segment(a, b) <= self.reach_m
        })
    }
}

/// The planar distance from the origin to the segment `from`–`to`, metres.
fn distance_to_segment(from: [f64; 2], to: [f64; 2]) -> f64 {
    let dir = [to[0] - from[0], to[1] - from[1]];
    let len2 = dir[0] * dir[0] + dir[1] * dir[1];
    let along = if len2 > 0.0 {
        (-(from[0] * dir[0] + from[1] * dir[1]) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (from[0] + along * dir[0]).hypot(from[1] + along * dir[1])
}

fn check_margin(margin_m: f64) -> Result<f64, ExtentError> {
    if margin_m.is_finite() && margin_m >= 0.0 {
        Ok(margin_m)
    } else {
        Err(ExtentError::Margin(margin_m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(margin_m: f64) -> Extent {
        let ring = geo::LineString::from(vec![
            (121.0, 31.0),
            (121.1, 31.0),
            (121.1, 31.1),
            (121.0, 31.1),
            (121.0, 31.0),
        ]);
        let hole = geo::LineString::from(vec![
            (121.04, 31.04),
            (121.06, 31.04),
            (121.06, 31.06),
            (121.04, 31.06),
            (121.04, 31.04),
        ]);
        let outline = geo::MultiPolygon::new(vec![geo::Polygon::new(ring, vec![hole])]);
        Extent::from_outline(outline, margin_m).expect("a valid outline")
    }

    fn at(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).expect("a valid position")
    }

    #[test]
    fn the_margin_edge_agrees_with_geodesic_distance_within_the_tolerance() {
        let area = square(2000.0);
        // Due east of the east edge: the edge is a meridian, so the
        // distance is along the parallel.
        let kx = metres_per_degree(31.05).0;
        let inside = at(121.1 + 1990.0 / kx, 31.05);
        let outside = at(121.1 + 2000.0 * (1.0 + 2.0 * MARGIN_TOLERANCE) / kx, 31.05);
        assert!(area.contains(inside));
        assert!(!area.contains(outside));
        assert!(area.contains(at(121.05, 31.02)));
        // In the hole, about 950 m from its nearest edge: within the margin.
        assert!(area.contains(at(121.05, 31.05)));
        assert!(!square(500.0).contains(at(121.05, 31.05)));
        assert!(!area.contains(at(116.4, 39.9)));
    }
}
