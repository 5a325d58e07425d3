//! Validated spatial primitives shared by every layer: positions, bounding
//! boxes, coordinate reference systems and the local metric frame
//! ([`frame`]). Coordinates are always
//! `(lon, lat)` in degrees, WGS-84, unless a type says otherwise.

pub mod crs;
pub mod frame;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crs::Crs;

/// Why a coordinate or a bounding box was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoordError {
    #[error("longitude {0} is not a finite number in [-180, 180]")]
    Longitude(f64),
    #[error("latitude {0} is not a finite number in [-90, 90]")]
    Latitude(f64),
    #[error("expected four numbers minLon,minLat,maxLon,maxLat")]
    BboxFormat,
    #[error("bbox minimum exceeds its maximum")]
    BboxOrder,
}

/// A WGS-84 position in degrees, `lon` east and `lat` north.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "[f64; 2]", into = "[f64; 2]")]
pub struct LonLat {
    lon: f64,
    lat: f64,
}

impl LonLat {
    /// Validates a position: both finite, lon in [-180, 180], lat in [-90, 90].
    pub fn new(lon: f64, lat: f64) -> Result<Self, CoordError> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(CoordError::Longitude(lon));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(CoordError::Latitude(lat));
        }
        Ok(Self { lon, lat })
    }

    /// Validates a position given in `crs` and converts it to WGS-84.
    pub fn from_crs(crs: Crs, lon: f64, lat: f64) -> Result<Self, CoordError> {
        let p = Self::new(lon, lat)?;
        let (lon, lat) = crs.to_wgs84(p.lon, p.lat);
        Self::new(lon, lat)
    }

    #[must_use]
    pub fn lon(self) -> f64 {
        self.lon
    }

    #[must_use]
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Geodesic distance in metres (Karney, on the WGS-84 ellipsoid).
    #[must_use]
    pub fn distance_m(self, other: Self) -> f64 {
        use geo::{Distance, Geodesic};
        Geodesic.distance(geo::Point::from(self), geo::Point::from(other))
    }
}

impl TryFrom<[f64; 2]> for LonLat {
    type Error = CoordError;
    fn try_from(v: [f64; 2]) -> Result<Self, Self::Error> {
        Self::new(v[0], v[1])
    }
}

impl From<LonLat> for [f64; 2] {
    fn from(p: LonLat) -> Self {
        [p.lon, p.lat]
    }
}

impl From<LonLat> for geo::Point<f64> {
    fn from(p: LonLat) -> Self {
        geo::Point::new(p.lon, p.lat)
    }
}

impl From<LonLat> for geo::Coord<f64> {
    fn from(p: LonLat) -> Self {
        geo::Coord { x: p.lon, y: p.lat }
    }
}

/// A WGS-84 bounding box `minLon,minLat,maxLon,maxLat` (the order of RFC 7946
/// and OGC API - Features). Boxes crossing the antimeridian are not supported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bbox {
    min: LonLat,
    max: LonLat,
}

impl Bbox {
    pub fn new(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Result<Self, CoordError> {
        let min = LonLat::new(min_lon, min_lat)?;
        let max = LonLat::new(max_lon, max_lat)?;
        if min.lon > max.lon || min.lat > max.lat {
            return Err(CoordError::BboxOrder);
        }
        Ok(Self { min, max })
    }

    #[must_use]
    pub fn min_lon(&self) -> f64 {
        self.min.lon
    }
    #[must_use]
    pub fn min_lat(&self) -> f64 {
        self.min.lat
    }
    #[must_use]
    pub fn max_lon(&self) -> f64 {
        self.max.lon
    }
    #[must_use]
    pub fn max_lat(&self) -> f64 {
        self.max.lat
    }

    /// Whether two boxes share at least one point.
    #[must_use]
    pub fn intersects(&self, other: &Self) -> bool {
        self.min.lon <= other.max.lon
            && other.min.lon <= self.max.lon
            && self.min.lat <= other.max.lat
            && other.min.lat <= self.max.lat
    }

    /// The box of a geometry, or `None` for an empty one.
    #[must_use]
    pub fn of<G: geo::BoundingRect<f64>>(g: &G) -> Option<Self>
    where
        G::Output: Into<Option<geo::Rect<f64>>>,
    {
        let r: geo::Rect<f64> = g.bounding_rect().into()?;
        Self::new(r.min().x, r.min().y, r.max().x, r.max().y).ok()
    }
}

impl FromStr for Bbox {
    type Err = CoordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| CoordError::BboxFormat)?;
        match parts.as_slice() {
            &[min_lon, min_lat, max_lon, max_lat] => Self::new(min_lon, min_lat, max_lon, max_lat),
            _ => Err(CoordError::BboxFormat),
        }
    }
}

impl fmt::Display for Bbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{},{}",
            self.min.lon, self.min.lat, self.max.lon, self.max.lat
        )
    }
}

/// One cleaned GPS fix of a patrol track: WGS-84 degrees and the time in
/// milliseconds since the Unix epoch (UTC). Tracks are handed around as
/// slices of these, sorted by time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub lon: f64,
    pub lat: f64,
    pub t_ms: i64,
}

/// Serialises a geometry as RFC 7946 GeoJSON text.
#[must_use]
pub fn geometry_to_geojson(g: &geo::Geometry<f64>) -> String {
    geojson::Geometry::from(geojson::GeometryValue::from(g)).to_string()
}

/// Parses RFC 7946 GeoJSON geometry text.
pub fn geometry_from_geojson(s: &str) -> Result<geo::Geometry<f64>, String> {
    let g: geojson::Geometry = s.parse().map_err(|e: geojson::Error| e.to_string())?;
    geo::Geometry::try_from(&g.value).map_err(|e| e.to_string())
}
