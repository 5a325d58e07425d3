//! Geodesic distances in metres between the sites of works and venues
//! (points and polygons in WGS-84), as `PostGIS`'s `geography` answers them:
//! a point inside a polygon is 0 m away, and between two shapes the
//! distance is the shortest one between their boundaries.
//!
//! Point-to-point uses Karney's geodesic on the WGS-84 ellipsoid. For a
//! point and a polygon edge the closest point of the edge is found in a
//! local equirectangular plane centred on the point and the geodesic
//! distance to it is measured; for edges up to a few kilometres the
//! difference to the closest point on the great-circle edge is millimetres.

use geo::{Coord, Distance, Geodesic, Geometry, Intersects, LineString, Point, Polygon};

/// Metres per degree of latitude, the smallest value on the ellipsoid (at
/// the equator), so that a degree box built from it never misses a site.
const MIN_M_PER_DEG_LAT: f64 = 110_574.0;
/// Metres per degree of longitude at the equator.
const M_PER_DEG_LON_EQUATOR: f64 = 111_320.0;

/// Degree margins `(dlon, dlat)` that contain every point within `metres`
/// of any point at latitudes up to `max_abs_lat`; generous by 1 %.
#[must_use]
pub fn degree_margin(metres: f64, max_abs_lat: f64) -> (f64, f64) {
    let dlat = metres / MIN_M_PER_DEG_LAT * 1.01;
    let cos = (max_abs_lat.abs() + dlat).min(89.0).to_radians().cos();
    let dlon = metres / (M_PER_DEG_LON_EQUATOR * cos) * 1.01;
    (dlon, dlat)
}

/// The geodesic distance between two points in metres.
#[must_use]
pub fn point_distance_m(a: Point<f64>, b: Point<f64>) -> f64 {
    Geodesic.distance(a, b)
}

/// The distance from a point to the segment `a`–`b` in metres.
#[must_use]
pub fn segment_distance_m(p: Point<f64>, start: Coord<f64>, end: Coord<f64>) -> f64 {
    // a local plane at p: x east, y north, in degrees of latitude
    let scale = p.y().to_radians().cos();
    let (ax, ay) = ((start.x - p.x()) * scale, start.y - p.y());
    let (bx, by) = ((end.x - p.x()) * scale, end.y - p.y());
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let along = if len2 > 0.0 {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let closest = Point::new(
        start.x + along * (end.x - start.x),
        start.y + along * (end.y - start.y),
    );
    point_distance_m(p, closest)
}

fn ring_distance_m(p: Point<f64>, ring: &LineString<f64>) -> f64 {
    ring.lines()
        .map(|l| segment_distance_m(p, l.start, l.end))
        .fold(f64::INFINITY, f64::min)
}

fn polygon_boundary_distance_m(p: Point<f64>, poly: &Polygon<f64>) -> f64 {
    std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .map(|r| ring_distance_m(p, r))
        .fold(f64::INFINITY, f64::min)
}

/// The polygons of an areal geometry.
fn polygons(g: &Geometry<f64>) -> Vec<&Polygon<f64>> {
    match g {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(m) => m.0.iter().collect(),
        _ => Vec::new(),
    }
}

/// Every vertex of a site: the point itself, or the polygons' ring vertices.
fn vertices(g: &Geometry<f64>) -> Vec<Point<f64>> {
    match g {
        Geometry::Point(p) => vec![*p],
        _ => polygons(g)
            .into_iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.points())
            .collect(),
    }
}

/// The distance from a point to a site in metres; 0 inside or on a polygon.
#[must_use]
pub fn point_to_site_m(p: Point<f64>, site: &Geometry<f64>) -> f64 {
    if let Geometry::Point(q) = site {
        return point_distance_m(p, *q);
    }
    let polys = polygons(site);
    if polys.iter().any(|poly| poly.intersects(&p)) {
        return 0.0;
    }
    polys
        .into_iter()
        .map(|poly| polygon_boundary_distance_m(p, poly))
        .fold(f64::INFINITY, f64::min)
}

/// The distance between two sites (points or polygons) in metres; 0 when
/// they touch or overlap.
#[must_use]
pub fn site_distance_m(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    match (a, b) {
        (Geometry::Point(p), _) => point_to_site_m(*p, b),
        (_, Geometry::Point(q)) => point_to_site_m(*q, a),
        _ => {
            if a.intersects(b) {
                return 0.0;
            }
            // between two disjoint polygons the shortest line ends in a vertex of one
            let ab = vertices(a)
                .into_iter()
                .map(|p| point_to_site_m(p, b))
                .fold(f64::INFINITY, f64::min);
            let ba = vertices(b)
                .into_iter()
                .map(|p| point_to_site_m(p, a))
                .fold(f64::INFINITY, f64::min);
            ab.min(ba)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn a_point_inside_a_polygon_is_zero_metres_away() {
        let square: Geometry<f64> = polygon![
            (x: 121.22, y: 31.03), (x: 121.23, y: 31.03), (x: 121.23, y: 31.04), (x: 121.22, y: 31.04),
        ]
        .into();
        assert!(point_to_site_m(Point::new(121.225, 31.035), &square).abs() < f64::EPSILON);
        // 0.001° of latitude north of the top edge is about 111 m
        let d = point_to_site_m(Point::new(121.225, 31.041), &square);
        assert!((d - 110.9).abs() < 0.5, "{d}");
    }

    #[test]
    fn segment_distance_matches_the_perpendicular_foot() {
        // a 1 km east-west edge and a point 50 m north of its middle
        let a = Coord { x: 121.20, y: 31.0 };
        let b = Coord {
            x: 121.20 + 1000.0 / (111_320.0 * 31.0_f64.to_radians().cos()),
            y: 31.0,
        };
        let mid = Point::new(f64::midpoint(a.x, b.x), 31.0 + 50.0 / 110_860.0);
        let d = segment_distance_m(mid, a, b);
        assert!((d - 50.0).abs() < 0.2, "{d}");
        assert!((segment_distance_m(Point::new(a.x, a.y), a, b)).abs() < 1e-6);
    }

    #[test]
    fn the_degree_margin_never_misses() {
        let (dlon, dlat) = degree_margin(100.0, 31.2);
        let p = Point::new(121.2, 31.2);
        assert!(point_distance_m(p, Point::new(121.2 + dlon, 31.2)) > 100.0);
        assert!(point_distance_m(p, Point::new(121.2, 31.2 + dlat)) > 100.0);
    }
}
