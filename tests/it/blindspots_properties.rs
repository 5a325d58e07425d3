//! Invariants of the near-venue search: the R-tree prefilter never loses a
//! pair that the exact geodesic distance keeps (random works and venues,
//! points and squares, at Songjiang's latitude and far north), a larger
//! distance never finds fewer pairs, and inside a polygon is 0 m.

#![expect(
    clippy::cast_possible_wrap,
    reason = "indexes of a few dozen test sites"
)]

use geo::{Geometry, Point, Rect};
use gridpatrol::blindspots::geodesic::site_distance_m;
use gridpatrol::blindspots::near_venues::{Site, pairs};
use proptest::prelude::*;

/// A point, or a square of up to ~200 m, around `(lon, lat)`.
fn site(lon: f64, lat: f64, half_m: f64) -> Geometry<f64> {
    if half_m < 20.0 {
        return Point::new(lon, lat).into();
    }
    let dlat = half_m / 111_000.0;
    let dlon = dlat / lat.to_radians().cos();
    Rect::new((lon - dlon, lat - dlat), (lon + dlon, lat + dlat))
        .to_polygon()
        .into()
}

fn sites(base_lat: f64) -> impl Strategy<Value = Vec<Geometry<f64>>> {
    prop::collection::vec(
        (0.0..0.02f64, 0.0..0.02f64, 0.0..200.0f64)
            .prop_map(move |(x, y, h)| site(121.2 + x, base_lat + y, h)),
        1..40,
    )
}

fn brute_force(works: &[Geometry<f64>], venues: &[Geometry<f64>], d: f64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for (i, w) in works.iter().enumerate() {
        for (j, v) in venues.iter().enumerate() {
            if site_distance_m(w, v) <= d {
                out.push((i as i64, j as i64));
            }
        }
    }
    out
}

fn engine(works: &[Geometry<f64>], venues: &[Geometry<f64>], d: f64) -> Vec<(i64, i64)> {
    let w: Vec<Site<'_>> = works
        .iter()
        .enumerate()
        .map(|(i, g)| Site {
            id: i as i64,
            geometry: g,
        })
        .collect();
    let v: Vec<Site<'_>> = venues
        .iter()
        .enumerate()
        .map(|(i, g)| Site {
            id: i as i64,
            geometry: g,
        })
        .collect();
    pairs(&w, &v, d)
        .into_iter()
        .map(|(a, b, _)| (a, b))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_index_finds_every_pair_the_distance_keeps(
        lat in prop_oneof![Just(31.0f64), Just(60.0f64)],
        seed_works in sites(0.0),
        seed_venues in sites(0.0),
        d in 0.0..600.0f64,
    ) {
        // move the sites to the chosen latitude band
        let shift = |g: &Geometry<f64>| {
            use geo::Translate;
            g.translate(0.0, lat)
        };
        let works: Vec<_> = seed_works.iter().map(shift).collect();
        let venues: Vec<_> = seed_venues.iter().map(shift).collect();
        prop_assert_eq!(engine(&works, &venues, d), brute_force(&works, &venues, d));
    }

    #[test]
    fn a_larger_distance_never_finds_fewer_pairs(
        works in sites(31.0),
        venues in sites(31.0),
        d in 0.0..300.0f64,
        more in 0.0..300.0f64,
    ) {
        let near = engine(&works, &venues, d);
        let far = engine(&works, &venues, d + more);
        prop_assert!(near.iter().all(|p| far.contains(p)));
    }

    #[test]
    fn inside_a_polygon_is_zero_metres(
        x in 0.0..0.02f64,
        y in 0.0..0.02f64,
        half in 30.0..200.0f64,
        fx in -0.9..0.9f64,
        fy in -0.9..0.9f64,
    ) {
        let (lon, lat) = (121.2 + x, 31.0 + y);
        let square = site(lon, lat, half);
        let dlat = half / 111_000.0 * fy;
        let dlon = half / 111_000.0 / lat.to_radians().cos() * fx;
        let inside: Geometry<f64> = Point::new(lon + dlon, lat + dlat).into();
        prop_assert!(site_distance_m(&inside, &square) <= 0.0);
        prop_assert!(site_distance_m(&square, &inside) <= 0.0);
    }
}
