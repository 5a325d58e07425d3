//! GCJ-02 and BD-09 conversion against published pairs, and the accuracy of
//! the iterative inverse.

use gridpatrol::spatial::crs::{
    bd09_to_gcj02, bd09_to_gcj02_approx, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02,
};
use gridpatrol::spatial::{Crs, LonLat};
use proptest::prelude::*;

fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    LonLat::new(a.0, a.1)
        .expect("valid")
        .distance_m(LonLat::new(b.0, b.1).expect("valid"))
}

/// Pairs published with the widely used coordTransform implementations
/// (wandergis/coordtransform README, Tiananmen reference point).
#[test]
fn forward_formulas_match_published_pairs() {
    let (lon, lat) = wgs84_to_gcj02(116.404, 39.915);
    assert!(
        (lon - 116.410_244_499_169_38).abs() < 1e-12 && (lat - 39.916_404_281_501_64).abs() < 1e-12
    );
    let (lon, lat) = gcj02_to_bd09(116.404, 39.915);
    assert!(
        (lon - 116.410_369_493_710_29).abs() < 1e-12 && (lat - 39.921_336_993_510_21).abs() < 1e-12
    );
    let (lon, lat) = bd09_to_gcj02_approx(116.404, 39.915);
    assert!(
        (lon - 116.397_627_291_193_15).abs() < 1e-12 && (lat - 39.908_656_739_576_31).abs() < 1e-12
    );
    // the refined inverse stays within centimetres of Baidu's approximate one
    let exact = bd09_to_gcj02(116.404, 39.915);
    assert!(metres(exact, (116.397_627_291_193_15, 39.908_656_739_576_31)) < 0.1);
}

#[test]
fn inverse_recovers_the_published_wgs84_point() {
    // the published forward pair, read backwards: far under a metre
    let back = gcj02_to_wgs84(116.410_244_499_169_38, 39.916_404_281_501_64);
    assert!(metres(back, (116.404, 39.915)) < 0.01, "{back:?}");
    // the one-step approximation those libraries publish for the inverse is
    // within a couple of metres of the exact answer
    let approx = (116.397_755_500_830_61, 39.913_595_718_498_36);
    assert!(metres(gcj02_to_wgs84(116.404, 39.915), approx) < 3.0);
    // and BD-09 all the way back
    let bd = Crs::Bd09.from_wgs84(121.2277, 31.0119);
    assert!(metres(Crs::Bd09.to_wgs84(bd.0, bd.1), (121.2277, 31.0119)) < 0.01);
}

#[test]
fn outside_china_is_unchanged() {
    assert_eq!(Crs::Gcj02.to_wgs84(-0.1246, 51.5007), (-0.1246, 51.5007));
}

proptest! {
    #[test]
    fn round_trip_is_far_under_a_metre(lon in 120.8f64..122.2, lat in 30.6f64..31.9) {
        for crs in [Crs::Gcj02, Crs::Bd09] {
            let (x, y) = crs.from_wgs84(lon, lat);
            let back = crs.to_wgs84(x, y);
            prop_assert!(metres(back, (lon, lat)) < 0.01, "{crs}: {back:?}");
        }
    }
}
