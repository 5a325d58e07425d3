//! The coordinate reference systems of OGC API - Features Part 2 that the
//! API serves: CRS84 (lon/lat, the storage CRS), EPSG:4326 (WGS-84 in its
//! registered lat/lon axis order) and EPSG:4490 (CGCS2000, lat/lon).
//!
//! Every place is stored in WGS-84; the datum step goes through the core's
//! CRS module ([`crate::spatial::Crs`]). CGCS2000 and WGS-84 realise the same
//! ITRF-aligned frame and differ by centimetres, below what a patrol
//! measures, so EPSG:4490 is served with WGS-84 values in its axis order
//! (the practice of the national platforms, 天地图 included).

use serde_json::Value;

use crate::spatial::Crs;

/// A CRS of the answer or of a `bbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OgcCrs {
    /// OGC CRS84: WGS-84, longitude first.
    #[default]
    Crs84,
    /// EPSG:4326: WGS-84, latitude first.
    Epsg4326,
    /// EPSG:4490: CGCS2000, latitude first.
    Epsg4490,
}

/// The URIs of the served CRSs, the storage CRS first.
pub const SUPPORTED: [OgcCrs; 3] = [OgcCrs::Crs84, OgcCrs::Epsg4326, OgcCrs::Epsg4490];

impl OgcCrs {
    /// The CRS's URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            Self::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            Self::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326",
            Self::Epsg4490 => "http://www.opengis.net/def/crs/EPSG/0/4490",
        }
    }

    /// Reads a URI (or its `[EPSG:4326]`-style short forms).
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim().trim_start_matches('[').trim_end_matches(']');
        let t = t.trim_end_matches('/');
        let lower = t.to_ascii_lowercase();
        let known = [
            (Self::Crs84, ["ogc/1.3/crs84", "ogc:crs84", "crs84"]),
            (Self::Epsg4326, ["epsg/0/4326", "epsg:4326", "epsg::4326"]),
            (Self::Epsg4490, ["epsg/0/4490", "epsg:4490", "epsg::4490"]),
        ];
        for (crs, names) in known {
            if names
                .iter()
                .any(|n| lower == *n || lower.ends_with(&format!("/{n}")))
            {
                return Ok(crs);
            }
        }
        Err(format!(
            "{s:?} is not served; use one of {}",
            SUPPORTED.map(Self::uri).join(", ")
        ))
    }

    /// The datum of the values (WGS-84 for all three, see the module note).
    fn datum() -> Crs {
        Crs::Wgs84
    }

    fn lat_first(self) -> bool {
        !matches!(self, Self::Crs84)
    }

    /// A position given in this CRS, as WGS-84 `(lon, lat)`.
    #[must_use]
    pub fn to_lon_lat(self, a: f64, b: f64) -> (f64, f64) {
        let (x, y) = if self.lat_first() { (b, a) } else { (a, b) };
        Self::datum().to_wgs84(x, y)
    }

    /// A WGS-84 `(lon, lat)` as this CRS's two values, in its axis order.
    #[must_use]
    pub fn from_lon_lat(self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = Self::datum().from_wgs84(lon, lat);
        if self.lat_first() { (y, x) } else { (x, y) }
    }

    /// Rewrites the positions of a GeoJSON geometry from WGS-84 lon/lat to
    /// this CRS.
    pub fn transform_geometry(self, g: &mut Value) {
        if self == Self::Crs84 {
            return;
        }
        if let Some(parts) = g.get_mut("geometries").and_then(Value::as_array_mut) {
            for p in parts {
                self.transform_geometry(p);
            }
        }
        if let Some(c) = g.get_mut("coordinates") {
            self.walk(c);
        }
    }

    fn walk(self, v: &mut Value) {
        let Value::Array(a) = v else { return };
        if let (Some(lon), Some(lat)) = (
            a.first().and_then(Value::as_f64),
            a.get(1).and_then(Value::as_f64),
        ) {
            let (x, y) = self.from_lon_lat(lon, lat);
            a[0] = Value::from(x);
            a[1] = Value::from(y);
            return;
        }
        for item in a {
            self.walk(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_short_names_are_read() {
        assert_eq!(
            OgcCrs::parse("http://www.opengis.net/def/crs/OGC/1.3/CRS84"),
            Ok(OgcCrs::Crs84)
        );
        assert_eq!(OgcCrs::parse("EPSG:4490"), Ok(OgcCrs::Epsg4490));
        assert_eq!(
            OgcCrs::parse("[http://www.opengis.net/def/crs/EPSG/0/4326]"),
            Ok(OgcCrs::Epsg4326)
        );
        assert!(OgcCrs::parse("http://www.opengis.net/def/crs/EPSG/0/3857").is_err());
    }

    #[test]
    fn lat_first_crss_swap_every_position() {
        let mut g = serde_json::json!({"type": "LineString", "coordinates": [[121.2, 31.0], [121.3, 31.1]]});
        OgcCrs::Epsg4490.transform_geometry(&mut g);
        assert_eq!(
            g["coordinates"],
            serde_json::json!([[31.0, 121.2], [31.1, 121.3]])
        );
        let mut p = serde_json::json!({"type": "Point", "coordinates": [121.2, 31.0]});
        OgcCrs::Crs84.transform_geometry(&mut p);
        assert_eq!(p["coordinates"], serde_json::json!([121.2, 31.0]));
    }
}
