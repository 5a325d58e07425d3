//! The one local metric frame: a tangent plane around an origin, `x` east
//! and `y` north in metres, for geometry that needs Euclidean operations
//! (coverage of a cell, nearest-segment search, snapping, sighting
//! distances, adherence).
//!
//! The map is equirectangular: `x = (lon - lon0) · kx`, `y = (lat - lat0) ·
//! ky`, where `kx` and `ky` are the WGS-84 ellipsoid's metres per degree of
//! longitude and of latitude at the origin's latitude (prime-vertical and
//! meridional radii of curvature, [`metres_per_degree`]). It is affine in
//! `(lon, lat)`, so a segment straight in `(lon, lat)` stays straight, and
//! the inverse is exact. Against geodesic distance the plane is off by the
//! change of the radii across the distance measured: under 1e-4 relative
//! within 1 km of the origin, under 0.5 % over a district (±30 km) below
//! 60° latitude.
//!
//! The origin always comes from the data at hand (a cell's centre, the
//! bounding box of a road network, a route's first point): there is no
//! default place.

/// WGS-84 semi-major axis, metres.
const WGS84_A: f64 = 6_378_137.0;
/// WGS-84 first eccentricity squared.
const WGS84_E2: f64 = 6.694_379_990_141_317e-3;

/// Metres east and north of a frame's origin.
pub type Xy = [f64; 2];

/// Metres per degree of longitude and of latitude at a latitude (degrees),
/// on the WGS-84 ellipsoid.
#[must_use]
pub fn metres_per_degree(lat_deg: f64) -> (f64, f64) {
    let phi = lat_deg.to_radians();
    let sin = phi.sin();
    let w = 1.0 - WGS84_E2 * sin * sin;
    let sqrt_w = w.sqrt();
    let n = WGS84_A / sqrt_w;
    let m = WGS84_A * (1.0 - WGS84_E2) / (w * sqrt_w);
    let per_rad = std::f64::consts::PI / 180.0;
    (n * phi.cos() * per_rad, m * per_rad)
}

/// A local tangent plane around an origin (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl LocalFrame {
    /// The frame around `(lon0, lat0)`, degrees.
    #[must_use]
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let (kx, ky) = metres_per_degree(lat0);
        Self { lon0, lat0, kx, ky }
    }

    /// The frame around a point.
    #[must_use]
    pub fn at(c: geo::Coord<f64>) -> Self {
        Self::new(c.x, c.y)
    }

    /// A frame centred on the middle of the coordinates' bounding box;
    /// `None` without a coordinate.
    pub fn around<'a>(coords: impl IntoIterator<Item = &'a geo::Coord<f64>>) -> Option<Self> {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for c in coords {
            lo = [lo[0].min(c.x), lo[1].min(c.y)];
            hi = [hi[0].max(c.x), hi[1].max(c.y)];
        }
        (lo[0].is_finite() && hi[0].is_finite())
            .then(|| Self::new(f64::midpoint(lo[0], hi[0]), f64::midpoint(lo[1], hi[1])))
    }

    /// The origin's longitude, degrees.
    #[must_use]
    pub fn lon0(&self) -> f64 {
        self.lon0
    }

    /// The origin's latitude, degrees.
    #[must_use]
    pub fn lat0(&self) -> f64 {
        self.lat0
    }

    /// Metres per degree of longitude at the origin.
    #[must_use]
    pub fn kx(&self) -> f64 {
        self.kx
    }

    /// Metres per degree of latitude at the origin.
    #[must_use]
    pub fn ky(&self) -> f64 {
        self.ky
    }

    /// `(lon, lat)` degrees to metres east and north of the origin.
    #[inline]
    #[must_use]
    pub fn xy(&self, lon: f64, lat: f64) -> Xy {
        [(lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky]
    }

    /// A coordinate (`x` lon, `y` lat) to metres east and north.
    #[inline]
    #[must_use]
    pub fn project(&self, c: geo::Coord<f64>) -> Xy {
        self.xy(c.x, c.y)
    }

    /// Metres east and north back to a coordinate (`x` lon, `y` lat).
    #[must_use]
    pub fn unproject(&self, p: Xy) -> geo::Coord<f64> {
        geo::Coord {
            x: self.lon0 + p[0] / self.kx,
            y: self.lat0 + p[1] / self.ky,
        }
    }
}

/// The distance between two points of a frame, metres.
#[must_use]
pub fn dist(a: Xy, b: Xy) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// The parameter `t` in [0, 1] of the point of segment `a`–`b` closest to `p`.
#[must_use]
pub fn project_on_segment(p: Xy, a: Xy, b: Xy) -> f64 {
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    if len2 <= 0.0 {
        return 0.0;
    }
    (((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / len2).clamp(0.0, 1.0)
}

/// The point a fraction `t` of the way from `a` to `b`.
#[must_use]
pub fn lerp(a: Xy, b: Xy, t: f64) -> Xy {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
}

/// Where segments `p`–`q` and `a`–`b` cross, as parameters `(s, t)` along
/// each, or `None` when they are parallel or do not meet.
#[expect(
    clippy::many_single_char_names,
    reason = "the textbook names of the segment-intersection formula"
)]
#[must_use]
pub fn segment_intersection(p: Xy, q: Xy, a: Xy, b: Xy) -> Option<(f64, f64)> {
    let r = [q[0] - p[0], q[1] - p[1]];
    let s = [b[0] - a[0], b[1] - a[1]];
    let denom = r[0] * s[1] - r[1] * s[0];
    let scale = (r[0].hypot(r[1]) * s[0].hypot(s[1])).max(f64::MIN_POSITIVE);
    if denom.abs() <= 1e-12 * scale {
        return None;
    }
    let ap = [a[0] - p[0], a[1] - p[1]];
    let u = (ap[0] * s[1] - ap[1] * s[0]) / denom;
    let v = (ap[0] * r[1] - ap[1] * r[0]) / denom;
    ((0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v)).then_some((u, v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Geodesic};

    #[test]
    fn metres_per_degree_matches_known_values() {
        let (kx, ky) = metres_per_degree(0.0);
        assert!((kx - 111_319.49).abs() < 0.01, "{kx}");
        assert!((ky - 110_574.27).abs() < 0.01, "{ky}");
        let (kx, ky) = metres_per_degree(31.0);
        assert!((kx - 95_504.26).abs() < 0.01, "{kx}");
        assert!((ky - 110_869.46).abs() < 0.01, "{ky}");
    }

    /// Points on rings of 1 to 20 km around origins at several latitudes.
    fn probes() -> Vec<(LocalFrame, geo::Coord<f64>, f64)> {
        let mut out = Vec::new();
        for (lon0, lat0) in [(121.23, 31.03), (8.5, 47.4), (-70.6, -33.4), (0.0, 0.0)] {
            let f = LocalFrame::new(lon0, lat0);
            for km in [1.0, 5.0, 10.0, 20.0] {
                for i in 0..16 {
                    let a = f64::from(i) * std::f64::consts::PI / 8.0;
                    let p = f.unproject([km * 1000.0 * a.cos(), km * 1000.0 * a.sin()]);
                    out.push((f, p, km));
                }
            }
        }
        out
    }

    #[test]
    fn round_trip_is_under_a_millimetre_within_20_km() {
        for (f, p, _) in probes() {
            let back = f.unproject(f.project(p));
            let err = Geodesic.distance(geo::Point(p), geo::Point(back));
            assert!(err < 1e-3, "{p:?}: {err} m");
            let xy = f.project(p);
            let again = f.project(f.unproject(xy));
            assert!(dist(xy, again) < 1e-3, "{xy:?} vs {again:?}");
        }
    }

    #[test]
    fn distances_match_the_geodesic_within_half_a_percent_at_10_km() {
        for (f, p, km) in probes().into_iter().filter(|(_, _, km)| *km <= 10.0) {
            let origin = geo::Coord {
                x: f.lon0(),
                y: f.lat0(),
            };
            let planar = dist(f.project(origin), f.project(p));
            let geodesic = Geodesic.distance(geo::Point(origin), geo::Point(p));
            let rel = (planar - geodesic).abs() / geodesic;
            assert!(rel < 0.005, "{km} km at {origin:?}: {planar} vs {geodesic}");
        }
        // and between two points near the origin, to half a metre
        let f = LocalFrame::new(121.23, 31.03);
        let (a, b) = (
            geo::Coord {
                x: 121.23,
                y: 31.03,
            },
            geo::Coord {
                x: 121.24,
                y: 31.04,
            },
        );
        let planar = dist(f.project(a), f.project(b));
        let geodesic = Geodesic.distance(geo::Point(a), geo::Point(b));
        assert!((planar - geodesic).abs() < 0.5, "{planar} vs {geodesic}");
    }

    #[test]
    fn the_frame_around_coordinates_is_centred_on_their_box() {
        let cs = [
            geo::Coord { x: 121.0, y: 31.0 },
            geo::Coord { x: 121.2, y: 31.4 },
        ];
        let f = LocalFrame::around(cs.iter()).expect("coordinates");
        assert!((f.lon0() - 121.1).abs() < 1e-12 && (f.lat0() - 31.2).abs() < 1e-12);
        assert_eq!(LocalFrame::around(std::iter::empty()), None);
    }

    #[test]
    fn crossing_segments_meet_once() {
        let hit = segment_intersection([0.0, 0.0], [2.0, 2.0], [0.0, 2.0], [2.0, 0.0]);
        assert_eq!(hit, Some((0.5, 0.5)));
        assert_eq!(
            segment_intersection([0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]),
            None
        );
    }
}
