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
use std::sync::atomic::{AtomicU8, Ordering};

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
    /// Degrees per metre of latitude and of longitude, rounded up.
    deg_per_m: [f64; 2],
    /// The margin without its tolerance, metres.
    margin_m: f64,
    /// The answers known per raster cell (with an outline only).
    raster: Option<Raster>,
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
        match prep.known(x, y) {
            Some(answer) => answer,
            None => prep.inside_rings([x, y], max.x) || prep.near_edge([x, y]),
        }
    }
}

/// Cells of the lazy raster whose answer is not known yet, known to hold
/// every position of the cell, none of them, or needing the exact test.
const UNKNOWN: u8 = 0;
const ALL_IN: u8 = 1;
const ALL_OUT: u8 = 2;
const EXACT: u8 = 3;

/// Cells a side of the raster over the grown bounds.
const RASTER_CELLS: u32 = 256;
/// [`RASTER_CELLS`] as a count.
const RASTER_LEN: usize = RASTER_CELLS as usize;

/// A raster over the grown bounds, classified lazily (a cell when a fix
/// first falls in it): a fix deep inside the district (or deep in its
/// margin, or far out of it) is answered by its cell, and only fixes in
/// cells that the outline's margin crosses take the exact test. Decided
/// conservatively: a cell is `ALL_IN` when its centre's distance to the
/// outline, plus the cell's half-diagonal, is within the margin (without
/// its tolerance), or when the centre is inside and no edge is nearer than
/// the half-diagonal; `ALL_OUT` when the centre is outside and farther than
/// the margin (with tolerance) plus the half-diagonal, with 0.1 % slack.
#[derive(Debug)]
struct Raster {
    origin: [f64; 2],
    /// Cell size in degrees: lon, lat.
    step: [f64; 2],
    half_diagonal_m: f64,
    state: Vec<AtomicU8>,
}

impl Raster {
    fn new(grown: [f64; 4], lon_m_per_deg: f64, lat_m_per_deg: f64) -> Self {
        let [x0, y0, x1, y1] = grown;
        let step = [
            (x1 - x0) / f64::from(RASTER_CELLS),
            (y1 - y0) / f64::from(RASTER_CELLS),
        ];
        let half_diagonal_m = 0.5 * (step[0] * lon_m_per_deg).hypot(step[1] * lat_m_per_deg) * 1.01;
        Self {
            origin: [x0, y0],
            step,
            half_diagonal_m,
            state: (0..RASTER_LEN * RASTER_LEN)
                .map(|_| AtomicU8::new(UNKNOWN))
                .collect(),
        }
    }

    /// The cell of a position in the grown bounds and its centre.
    fn cell(&self, x: f64, y: f64) -> Option<(usize, [f64; 2])> {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to the raster"
        )]
        let index = |v: f64, o: f64, d: f64| {
            ((v - o) / d)
                .floor()
                .clamp(0.0, f64::from(RASTER_CELLS - 1)) as u32
        };
        if !(self.step[0] > 0.0 && self.step[1] > 0.0) {
            return None;
        }
        let (i, j) = (
            index(x, self.origin[0], self.step[0]),
            index(y, self.origin[1], self.step[1]),
        );
        let centre = [
            self.origin[0] + (f64::from(i) + 0.5) * self.step[0],
            self.origin[1] + (f64::from(j) + 0.5) * self.step[1],
        ];
        Some((j as usize * RASTER_LEN + i as usize, centre))
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
        let grown = [
            min.x - reach_deg[1],
            min.y - reach_deg[0],
            max.x + reach_deg[1],
            max.y + reach_deg[0],
        ];
        // the largest metres per degree over the grown box, for the raster
        let lon_m_per_deg = metres_per_degree(near_lat).0;
        let lat_m_per_deg = metres_per_degree(far_lat).1;
        Self {
            raster: (!edges.is_empty()).then(|| Raster::new(grown, lon_m_per_deg, lat_m_per_deg)),
            grown,
            reach_m,
            reach_deg,
            deg_per_m: [1.01 / ky, 1.01 / kx],
            margin_m,
            edges: RTree::bulk_load(edges),
        }
    }

    /// The answer for every position of the raster cell of `(x, y)`, when
    /// the cell has one (classifying the cell on first use).
    fn known(&self, x: f64, y: f64) -> Option<bool> {
        let raster = self.raster.as_ref()?;
        let (i, centre) = raster.cell(x, y)?;
        let slot = raster.state.get(i)?;
        let mut state = slot.load(Ordering::Relaxed);
        if state == UNKNOWN {
            state = self.classify(centre, raster.half_diagonal_m);
            slot.store(state, Ordering::Relaxed);
        }
        match state {
            ALL_IN => Some(true),
            ALL_OUT => Some(false),
            _ => None,
        }
    }

    /// The state of a raster cell (see [`Raster`]).
    fn classify(&self, c: [f64; 2], half_diagonal_m: f64) -> u8 {
        let radius_m = self.reach_m + 2.0 * half_diagonal_m;
        let (dlat, dlon) = (radius_m * self.deg_per_m[0], radius_m * self.deg_per_m[1]);
        let window = AABB::from_corners([c[0] - dlon, c[1] - dlat], [c[0] + dlon, c[1] + dlat]);
        let frame = LocalFrame::new(c[0], c[1]);
        let nearest_m = self
            .edges
            .locate_in_envelope_intersecting(&window)
            .map(|e| {
                distance_to_segment(frame.xy(e.from[0], e.from[1]), frame.xy(e.to[0], e.to[1]))
            })
            .fold(f64::INFINITY, f64::min);
        let inside = self.inside_rings(c, self.grown[2]);
        if nearest_m * 0.999 >= radius_m || nearest_m.is_infinite() {
            // no edge near: the whole cell is on the centre's side
            return if inside { ALL_IN } else { ALL_OUT };
        }
        if (inside && nearest_m * 0.999 >= half_diagonal_m)
            || (nearest_m + half_diagonal_m) * 1.001 <= self.margin_m
        {
            ALL_IN
        } else if !inside && nearest_m * 0.999 >= self.reach_m + half_diagonal_m {
            ALL_OUT
        } else {
            EXACT
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
