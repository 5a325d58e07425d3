//! The metric geometry behind the coverage predicate: one H3 cell in its own
//! local plane, and the exact tests of a point or a track segment against
//! that cell buffered by the sighting distance.
//!
//! # The metric
//!
//! Every cell gets a local plane centred on its centre: `x` east and `y` north
//! in metres, `x = (lon - lon_c) * kx`, `y = (lat - lat_c) * ky`, where `kx`
//! and `ky` are the WGS-84 ellipsoid's metres per degree of longitude and of
//! latitude at the centre's latitude (prime-vertical and meridional radii of
//! curvature). The map is affine in `(lon, lat)`, so a track segment that is
//! straight in `(lon, lat)` is straight in every cell's plane, and the cell's
//! boundary vertices (`CellIndex::boundary`) joined by straight edges give the
//! hexagon. Measuring in the cell's own plane makes the predicate a function
//! of the cell and the segment only: it does not depend on which track, or
//! which part of a track, the segment came from.
//!
//! Against geodesic distance on the ellipsoid the plane is off by the change
//! of the radii of curvature across the distance measured, well under 1e-4
//! relative within 1 km of the centre below 60° latitude (under 2.5 mm at the
//! 25 m default sighting distance), plus the bow of a long segment: a segment
//! straight in `(lon, lat)` strays from the geodesic by about
//! `L² · tan(lat) / 8R`, 1 cm for a 1 km gap between fixes at 31°N.
//!
//! # The predicate
//!
//! A point is within range of a cell when its distance to the hexagon
//! (0 inside) is at most the sighting distance `s`. The hexagon buffered by
//! `s` is the union of the hexagon and one capsule (stadium) of radius `s`
//! per edge, so the part of a segment within range is found exactly by
//! clipping the segment against each capsule: a rectangle and two discs. That
//! holds for the slightly non-convex cells that straddle an icosahedron edge
//! too, which carry extra boundary vertices.

#![expect(
    clippy::many_single_char_names,
    reason = "geometry reads best in its textbook names: x, y, a, b, s"
)]

use h3o::{CellIndex, LatLng};

use crate::spatial::frame::LocalFrame;

/// H3 boundaries have at most 10 vertices (a pentagon with distortion
/// vertices on every edge).
const MAX_VERTS: usize = 10;

/// One cell's hexagon in its local plane, with what the tests need
/// precomputed per edge.
#[derive(Debug, Clone)]
pub(crate) struct CellGeom {
    /// The cell's plane, around its centre.
    pub frame: LocalFrame,
    /// Radius of the largest disc around the centre inside the hexagon.
    pub r_in: f64,
    /// Radius of the smallest disc around the centre holding the hexagon.
    pub r_out: f64,
    n: usize,
    /// Edge `i` runs from vertex `i` (`vx`, `vy`) along the unit vector
    /// (`ux`, `uy`) for `len` metres.
    vx: [f64; MAX_VERTS],
    vy: [f64; MAX_VERTS],
    ux: [f64; MAX_VERTS],
    uy: [f64; MAX_VERTS],
    len: [f64; MAX_VERTS],
    /// Outward unit normal of edge `i` (`nx`, `ny`) and its offset `nc`:
    /// `nx * x + ny * y - nc` is the signed distance to the edge's line.
    nx: [f64; MAX_VERTS],
    ny: [f64; MAX_VERTS],
    nc: [f64; MAX_VERTS],
    /// Convex with no interior angle under 90°, so that a point outside
    /// exactly one edge line has its nearest boundary point on that edge:
    /// then half-plane clipping does most of the work. All hexagons and
    /// pentagons qualify; cells bent across an icosahedron edge may not.
    convex: bool,
}

impl CellGeom {
    pub fn new(cell: CellIndex) -> Self {
        let centre = LatLng::from(cell);
        let mut g = Self {
            frame: LocalFrame::new(centre.lng(), centre.lat()),
            r_in: 0.0,
            r_out: 0.0,
            n: 0,
            vx: [0.0; MAX_VERTS],
            vy: [0.0; MAX_VERTS],
            ux: [0.0; MAX_VERTS],
            uy: [0.0; MAX_VERTS],
            len: [0.0; MAX_VERTS],
            nx: [0.0; MAX_VERTS],
            ny: [0.0; MAX_VERTS],
            nc: [0.0; MAX_VERTS],
            convex: false,
        };
        let boundary = cell.boundary();
        for v in boundary.iter().take(MAX_VERTS) {
            let (x, y) = g.project(v.lng(), v.lat());
            g.vx[g.n] = x;
            g.vy[g.n] = y;
            g.n += 1;
        }
        let mut r_in = f64::INFINITY;
        let mut r_out: f64 = 0.0;
        for i in 0..g.n {
            let j = if i + 1 == g.n { 0 } else { i + 1 };
            let (dx, dy) = (g.vx[j] - g.vx[i], g.vy[j] - g.vy[i]);
            let len = (dx * dx + dy * dy).sqrt();
            g.len[i] = len;
            if len > 0.0 {
                g.ux[i] = dx / len;
                g.uy[i] = dy / len;
            }
            r_in = r_in.min(g.edge_dist2(i, 0.0, 0.0).sqrt());
            r_out = r_out.max((g.vx[i] * g.vx[i] + g.vy[i] * g.vy[i]).sqrt());
        }
        g.convex = g.n >= 3;
        let mut area2 = 0.0;
        for i in 0..g.n {
            let j = if i + 1 == g.n { 0 } else { i + 1 };
            area2 += g.vx[i] * g.vy[j] - g.vx[j] * g.vy[i];
        }
        let orient = if area2 >= 0.0 { 1.0 } else { -1.0 };
        for i in 0..g.n {
            // Counter-clockwise (the H3 order) puts the outside on the right.
            g.nx[i] = orient * g.uy[i];
            g.ny[i] = -orient * g.ux[i];
            g.nc[i] = g.nx[i] * g.vx[i] + g.ny[i] * g.vy[i];
            let h = if i == 0 { g.n - 1 } else { i - 1 };
            let turn = orient * (g.ux[h] * g.uy[i] - g.uy[h] * g.ux[i]);
            let dot = g.ux[h] * g.ux[i] + g.uy[h] * g.uy[i];
            if g.len[i] <= 0.0 || turn < 0.0 || dot < 0.0 {
                g.convex = false;
            }
        }
        // Shrink/grow by a hair so that rounding can never turn the quick
        // accept and reject tests into wrong answers.
        g.r_in = (r_in * (1.0 - 1e-9)).max(0.0);
        g.r_out = r_out * (1.0 + 1e-9);
        g
    }

    /// `(lon, lat)` degrees to this cell's plane, metres.
    #[inline]
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let [x, y] = self.frame.xy(lon, lat);
        (x, y)
    }

    /// Squared distance from `(x, y)` to edge `i`.
    #[inline]
    fn edge_dist2(&self, i: usize, x: f64, y: f64) -> f64 {
        let (px, py) = (x - self.vx[i], y - self.vy[i]);
        let w = (px * self.ux[i] + py * self.uy[i]).clamp(0.0, self.len[i]);
        let (qx, qy) = (px - w * self.ux[i], py - w * self.uy[i]);
        qx * qx + qy * qy
    }

    /// Even-odd test; points on the boundary may go either way, which is
    /// harmless because they are within range anyway.
    fn contains(&self, x: f64, y: f64) -> bool {
        let mut inside = false;
        let mut j = self.n - 1;
        for i in 0..self.n {
            let (xi, yi, xj, yj) = (self.vx[i], self.vy[i], self.vx[j], self.vy[j]);
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }

    /// Signed distance from `(x, y)` to the hexagon's boundary: negative
    /// inside. 1-Lipschitz, which is what makes it usable as a safe radius.
    pub fn signed_distance(&self, x: f64, y: f64) -> f64 {
        if self.convex {
            let (emax, outside) = self.edge_lines(x, y);
            // Inside, or in the slab of one edge: the distance to the
            // nearest edge line is the answer. Off a corner it is not, but
            // the point is surely outside.
            if outside <= 1 {
                return emax;
            }
            return self.boundary_dist2(x, y).sqrt();
        }
        let d = self.boundary_dist2(x, y).sqrt();
        if self.contains(x, y) { -d } else { d }
    }

    /// The largest signed distance to an edge line, and how many edge
    /// lines the point is outside of (convex cells only).
    #[inline]
    fn edge_lines(&self, x: f64, y: f64) -> (f64, u32) {
        let mut emax = f64::NEG_INFINITY;
        let mut outside = 0u32;
        for i in 0..self.n {
            let e = self.nx[i] * x + self.ny[i] * y - self.nc[i];
            emax = emax.max(e);
            outside += u32::from(e > 0.0);
        }
        (emax, outside)
    }

    fn boundary_dist2(&self, x: f64, y: f64) -> f64 {
        let mut d2 = f64::INFINITY;
        for i in 0..self.n {
            d2 = d2.min(self.edge_dist2(i, x, y));
        }
        d2
    }

    /// A lower bound on the distance from `(x, y)` to the boundary of the
    /// hexagon buffered by `s`, i.e. on `|s - signed_distance|`: a radius
    /// within which being in range or not cannot change.
    pub fn margin(&self, x: f64, y: f64, s: f64) -> f64 {
        self.signed_margin(x, y, s).abs()
    }

    /// [`Self::margin`] with a sign: negative in range (within `s` of the
    /// hexagon), positive out of range.
    pub fn signed_margin(&self, x: f64, y: f64, s: f64) -> f64 {
        if self.convex {
            let (emax, outside) = self.edge_lines(x, y);
            // In the slab of one edge the distance to its line is exact;
            // off a corner the distance is at least that to the farthest
            // edge line: enough when that line is already out of range.
            if outside <= 1 || emax > s {
                return emax - s;
            }
            return self.boundary_dist2(x, y).sqrt() - s;
        }
        // Cheap bounds from the outer radius spare the general distance
        // far away.
        let dc = (x * x + y * y).sqrt();
        if dc - self.r_out > s + s {
            return dc - self.r_out - s;
        }
        self.signed_distance(x, y) - s
    }

    /// A lower bound on the distance from the segment `a`–`b` to the
    /// hexagon: used only to prune, never to decide.
    pub fn segment_lower_bound(&self, ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
        point_segment_dist2(0.0, 0.0, ax, ay, bx, by).sqrt() - self.r_out
    }

    /// The parameter range `[lo, hi]` within `[0, 1]` of the points
    /// `a + u (b - a)` that are within `s` of the hexagon, or `None`.
    ///
    /// `lo` is exactly `0.0` when `a` is within range and `hi` exactly `1.0`
    /// when `b` is, which callers rely on to read the state at an endpoint.
    pub fn segment_range(&self, ax: f64, ay: f64, bx: f64, by: f64, s: f64) -> Option<(f64, f64)> {
        // The buffered hexagon lies within `s + r_out` of the centre and
        // holds the disc of radius `s + r_in`.
        let reach = s + self.r_out;
        if point_segment_dist2(0.0, 0.0, ax, ay, bx, by) > reach * reach {
            return None;
        }
        let full2 = (s + self.r_in) * (s + self.r_in);
        if ax * ax + ay * ay <= full2 && bx * bx + by * by <= full2 {
            return Some((0.0, 1.0));
        }
        if self.convex
            && let Some(r) = self.clip_convex(ax, ay, bx, by, s)
        {
            return r;
        }
        self.segment_range_general(ax, ay, bx, by, s)
    }

    /// Clips the segment against the hexagon's edge lines pushed out by `s`
    /// (the mitred buffer, a superset of the rounded one). The answer is
    /// exact when both clipped ends are in range, i.e. not in a mitre
    /// corner; `None` asks for the general method.
    #[expect(clippy::option_option, reason = "outer None means undecided")]
    fn clip_convex(
        &self,
        ax: f64,
        ay: f64,
        bx: f64,
        by: f64,
        s: f64,
    ) -> Option<Option<(f64, f64)>> {
        let (mut lo, mut hi) = (0.0, 1.0);
        // The edge whose offset line cut each end, if any.
        let (mut lo_edge, mut hi_edge) = (usize::MAX, usize::MAX);
        for i in 0..self.n {
            let ea = self.nx[i] * ax + self.ny[i] * ay - self.nc[i];
            let eb = self.nx[i] * bx + self.ny[i] * by - self.nc[i];
            let (p, q) = (eb - ea, s - ea);
            if p == 0.0 {
                if q < 0.0 {
                    return Some(None);
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    if r > lo {
                        lo = r;
                        lo_edge = i;
                    }
                } else if r < hi {
                    hi = r;
                    hi_edge = i;
                }
            }
            if lo > hi {
                return Some(None);
            }
        }
        let (dx, dy) = (bx - ax, by - ay);
        for (u, edge) in [(lo, lo_edge), (hi, hi_edge)] {
            let (x, y) = (ax + u * dx, ay + u * dy);
            let in_range = if edge == usize::MAX {
                // An end of the segment itself, inside the mitred buffer.
                let (_, outside) = self.edge_lines(x, y);
                outside <= 1 || self.boundary_dist2(x, y) <= s * s
            } else {
                // On the offset line of `edge`: in range exactly when level
                // with the edge rather than past one of its ends.
                let w = (x - self.vx[edge]) * self.ux[edge] + (y - self.vy[edge]) * self.uy[edge];
                (0.0..=self.len[edge]).contains(&w)
            };
            if !in_range {
                return None;
            }
        }
        Some(Some((lo, hi)))
    }

    /// The union of the hexagon and its edge capsules, one by one.
    fn segment_range_general(
        &self,
        ax: f64,
        ay: f64,
        bx: f64,
        by: f64,
        s: f64,
    ) -> Option<(f64, f64)> {
        let (dx, dy) = (bx - ax, by - ay);
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        if self.contains(ax, ay) {
            lo = 0.0;
            hi = hi.max(0.0);
        }
        if self.contains(bx, by) {
            hi = 1.0;
            lo = lo.min(1.0);
        }
        let a2 = dx * dx + dy * dy;
        for i in 0..self.n {
            let (ex, ey) = (ax - self.vx[i], ay - self.vy[i]);
            // Disc around vertex i (each vertex starts one edge, so every
            // vertex disc is visited once).
            if let Some((l, h)) = disc_range(ex, ey, dx, dy, a2, s) {
                lo = lo.min(l);
                hi = hi.max(h);
            }
            // Rectangle along edge i: 0 <= w <= len, -s <= h <= s.
            let (ux, uy) = (self.ux[i], self.uy[i]);
            let w0 = ex * ux + ey * uy;
            let wd = dx * ux + dy * uy;
            let h0 = ey * ux - ex * uy;
            let hd = dy * ux - dx * uy;
            let mut l = 0.0;
            let mut h = 1.0;
            if clip(&mut l, &mut h, -wd, w0)
                && clip(&mut l, &mut h, wd, self.len[i] - w0)
                && clip(&mut l, &mut h, -hd, s + h0)
                && clip(&mut l, &mut h, hd, s - h0)
                && l <= h
            {
                lo = lo.min(l);
                hi = hi.max(h);
            }
        }
        (lo <= hi).then_some((lo, hi))
    }
}

/// Liang–Barsky step: restrict `[lo, hi]` to `p * u <= q`. Returns `false`
/// when the constraint leaves nothing.
#[inline]
fn clip(lo: &mut f64, hi: &mut f64, p: f64, q: f64) -> bool {
    if p == 0.0 {
        return q >= 0.0;
    }
    let r = q / p;
    if p < 0.0 {
        if r > *lo {
            *lo = r;
        }
    } else if r < *hi {
        *hi = r;
    }
    *lo <= *hi
}

/// Range of `u` in `[0, 1]` with `|e + u d| <= s`, where `e` is the segment
/// start relative to the disc centre and `a2 = |d|²`.
#[inline]
fn disc_range(ex: f64, ey: f64, dx: f64, dy: f64, a2: f64, s: f64) -> Option<(f64, f64)> {
    let c = ex * ex + ey * ey - s * s;
    if a2 == 0.0 {
        return (c <= 0.0).then_some((0.0, 1.0));
    }
    let b = ex * dx + ey * dy;
    let disc = b * b - a2 * c;
    if disc < 0.0 {
        return None;
    }
    let sq = disc.sqrt();
    let l = ((-b - sq) / a2).max(0.0);
    let h = ((-b + sq) / a2).min(1.0);
    // An endpoint inside the disc must map to exactly 0 or 1, whatever the
    // rounding of the roots.
    let l = if c <= 0.0 { 0.0 } else { l };
    let e1 = (ex + dx) * (ex + dx) + (ey + dy) * (ey + dy) - s * s;
    let h = if e1 <= 0.0 { 1.0 } else { h };
    (l <= h).then_some((l, h))
}

/// Squared distance from `(px, py)` to the segment `a`–`b`.
#[inline]
pub(crate) fn point_segment_dist2(px: f64, py: f64, ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
    let (dx, dy) = (bx - ax, by - ay);
    let (ex, ey) = (px - ax, py - ay);
    let a2 = dx * dx + dy * dy;
    let u = if a2 > 0.0 {
        ((ex * dx + ey * dy) / a2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (rx, ry) = (ex - u * dx, ey - u * dy);
    rx * rx + ry * ry
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::Resolution;

    fn cell() -> CellIndex {
        LatLng::new(31.03, 121.23)
            .map(|ll| ll.to_cell(Resolution::Ten))
            .expect("valid point")
    }

    #[test]
    fn hexagon_radii_are_plausible_at_res_10() {
        let g = CellGeom::new(cell());
        assert_eq!(g.n, 6);
        assert!(g.convex);
        assert!(g.r_in > 50.0 && g.r_in < 65.0, "{}", g.r_in);
        assert!(g.r_out > 60.0 && g.r_out < 75.0, "{}", g.r_out);
    }

    #[test]
    fn signed_distance_is_negative_inside() {
        let g = CellGeom::new(cell());
        assert!(g.signed_distance(0.0, 0.0) <= -g.r_in * 0.999);
        let d = g.signed_distance(g.r_out + 10.0, 0.0);
        assert!(d >= 10.0 && d <= 10.0 + g.r_out - g.r_in, "{d}");
    }

    #[test]
    fn segment_range_endpoints_are_exact() {
        let g = CellGeom::new(cell());
        // Starts at the centre, leaves far to the east.
        let (lo, hi) = g
            .segment_range(0.0, 0.0, 1000.0, 0.0, 25.0)
            .expect("touches");
        assert!(lo.to_bits() == 0.0f64.to_bits());
        assert!(hi > 0.05 && hi < 0.1, "{hi}");
        // Passes 40 m north of the hexagon's top: out of range at 25 m.
        let top = (0..g.n).map(|i| g.vy[i]).fold(f64::MIN, f64::max);
        assert!(
            g.segment_range(-500.0, top + 40.0, 500.0, top + 40.0, 25.0)
                .is_none()
        );
        assert!(
            g.segment_range(-500.0, top + 20.0, 500.0, top + 20.0, 25.0)
                .is_some()
        );
    }

    #[test]
    fn degenerate_segment_is_a_point_test() {
        let g = CellGeom::new(cell());
        for &(x, y) in &[(0.0, 0.0), (80.0, 10.0), (90.0, -20.0), (200.0, 0.0)] {
            let inside = g.signed_distance(x, y) <= 25.0;
            assert_eq!(
                g.segment_range(x, y, x, y, 25.0).is_some(),
                inside,
                "{x},{y}"
            );
        }
    }
}
