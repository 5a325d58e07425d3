//! The query of an OGC API - Features items request, read and checked:
//! `bbox` (with `bbox-crs`), `datetime` (an instant, or an interval with
//! open ends `..`), `limit` (capped at [`MAX_LIMIT`], not refused),
//! `offset`, `crs`, and a CQL2 text `filter`. A bad value is a 400 naming
//! the parameter, as the standard asks; so is a parameter it does not define.

use std::collections::HashMap;

use super::crs::OgcCrs;
use crate::http::error::ApiError;
use crate::spatial::Bbox;

/// The default and largest page sizes.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 10_000;

/// The parameters an items request may carry.
const KNOWN: [&str; 10] = [
    "bbox",
    "bbox-crs",
    "datetime",
    "limit",
    "offset",
    "crs",
    "filter",
    "filter-lang",
    "filter-crs",
    "f",
];

/// The raw query string, name → value (the last of a repeated name).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Raw(pub HashMap<String, String>);

impl std::ops::Deref for Raw {
    type Target = HashMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A time interval from `datetime`: both ends inclusive, `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Interval {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Interval {
    /// Whether `[start, end]` shares an instant with this interval.
    #[must_use]
    pub fn overlaps(&self, start_ms: i64, end_ms: i64) -> bool {
        self.from_ms.is_none_or(|f| end_ms >= f) && self.to_ms.is_none_or(|t| start_ms <= t)
    }
}

/// A read and checked items query.
#[derive(Debug, Clone)]
pub struct ItemsQuery {
    /// In WGS-84 lon/lat, whatever `bbox-crs` it came in.
    pub bbox: Option<Bbox>,
    pub datetime: Option<Interval>,
    pub limit: u32,
    pub offset: u32,
    /// The CRS of the answer.
    pub crs: OgcCrs,
    pub filter: Option<super::cql::Expr>,
    /// The query string without `offset`, for the paging links.
    pub kept: Vec<(String, String)>,
}

fn bad(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::bad_request(field, reason)
}

/// Refuses parameters the operation does not define (400).
pub fn refuse_unknown(q: &Raw, known: &[&str]) -> Result<(), ApiError> {
    let mut unknown: Vec<&String> = q.keys().filter(|k| !known.contains(&k.as_str())).collect();
    unknown.sort();
    match unknown.first() {
        Some(k) => Err(bad(
            k,
            format!(
                "is not a parameter of this operation (known: {})",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// `f`: only JSON is served (`json`, `geojson`).
pub fn check_format(q: &Raw) -> Result<(), ApiError> {
    match q.get("f").map(|f| f.trim().to_ascii_lowercase()) {
        None => Ok(()),
        Some(f) if f.is_empty() || f == "json" || f == "geojson" => Ok(()),
        Some(f) => Err(bad("f", format!("{f:?} is not served; use json"))),
    }
}

fn time(s: &str) -> Result<Option<i64>, ApiError> {
    let s = s.trim();
    if s.is_empty() || s == ".." {
        return Ok(None);
    }
    crate::time::parse_time_ms(s).map(Some).ok_or_else(|| {
        bad(
            "datetime",
            format!("{s:?} is not an RFC 3339 time or a date (YYYY-MM-DD)"),
        )
    })
}

/// `datetime`: an instant, or `start/end` with `..` (or nothing) for an open end.
pub fn datetime(s: &str) -> Result<Interval, ApiError> {
    let i = match s.split_once('/') {
        None => {
            let t = time(s)?.ok_or_else(|| bad("datetime", "an instant cannot be open"))?;
            Interval {
                from_ms: Some(t),
                to_ms: Some(t),
            }
        }
        Some((a, b)) => Interval {
            from_ms: time(a)?,
            to_ms: time(b)?,
        },
    };
    if let (Some(f), Some(t)) = (i.from_ms, i.to_ms)
        && f > t
    {
        return Err(bad("datetime", "the start is after the end"));
    }
    Ok(i)
}

/// `bbox` of four numbers in the axis order of `bbox-crs`.
#[expect(
    clippy::many_single_char_names,
    reason = "coordinates and tokens read best as x, y, c"
)]
fn bbox(s: &str, crs: OgcCrs) -> Result<Bbox, ApiError> {
    let n: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("bbox", format!("{s:?} is not four numbers")))?;
    let &[a, b, c, d] = n.as_slice() else {
        return Err(bad(
            "bbox",
            "must be four numbers (minLon,minLat,maxLon,maxLat in CRS84); 3D boxes are not served",
        ));
    };
    let ((x0, y0), (x1, y1)) = (crs.to_lon_lat(a, b), crs.to_lon_lat(c, d));
    Bbox::new(x0, y0, x1, y1).map_err(|e| bad("bbox", e.to_string()))
}

fn number(q: &Raw, name: &str) -> Result<Option<u64>, ApiError> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<u64>()
            .map(Some)
            .map_err(|_| bad(name, format!("{s:?} is not a whole number"))),
    }
}

/// Reads an items query. `limit` above [`MAX_LIMIT`] is served as the
/// maximum (OGC API - Features asks so); 0 is refused.
pub fn items_query(q: &Raw) -> Result<ItemsQuery, ApiError> {
    refuse_unknown(q, &KNOWN)?;
    check_format(q)?;
    let crs = match q.get("crs") {
        None => OgcCrs::default(),
        Some(s) => OgcCrs::parse(s).map_err(|e| bad("crs", e))?,
    };
    let bbox_crs = match q.get("bbox-crs") {
        None => OgcCrs::default(),
        Some(s) => OgcCrs::parse(s).map_err(|e| bad("bbox-crs", e))?,
    };
    if q.contains_key("bbox-crs") && !q.contains_key("bbox") {
        return Err(bad("bbox-crs", "needs a bbox"));
    }
    let bbox = q.get("bbox").map(|s| bbox(s, bbox_crs)).transpose()?;
    let datetime = q.get("datetime").map(|s| datetime(s)).transpose()?;
    let limit = match number(q, "limit")? {
        None => DEFAULT_LIMIT,
        Some(0) => return Err(bad("limit", "must be at least 1")),
        Some(n) => u32::try_from(n.min(u64::from(MAX_LIMIT))).unwrap_or(MAX_LIMIT),
    };
    let offset = number(q, "offset")?
        .map(|n| u32::try_from(n).map_err(|_| bad("offset", "is too large")))
        .transpose()?
        .unwrap_or(0);
    if let Some(lang) = q.get("filter-lang")
        && lang.trim() != "cql2-text"
    {
        return Err(bad(
            "filter-lang",
            format!("{lang:?} is not served; use cql2-text"),
        ));
    }
    if let Some(fc) = q.get("filter-crs")
        && OgcCrs::parse(fc).ok() != Some(OgcCrs::default())
    {
        return Err(bad("filter-crs", "only CRS84 is served for filters"));
    }
    let filter = q
        .get("filter")
        .map(|s| super::filter::parse(s))
        .transpose()?;
    let mut kept: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "offset" && k.as_str() != "limit")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    kept.sort();
    kept.push(("limit".to_owned(), limit.to_string()));
    Ok(ItemsQuery {
        bbox,
        datetime,
        limit,
        offset,
        crs,
        filter,
        kept,
    })
}

/// The box of a GeoJSON geometry (its positions), if it has any.
#[must_use]
#[expect(
    clippy::many_single_char_names,
    reason = "coordinates and tokens read best as x, y, c"
)]
pub fn geometry_bbox(g: &serde_json::Value) -> Option<Bbox> {
    fn walk(v: &serde_json::Value, b: &mut Option<[f64; 4]>) {
        let serde_json::Value::Array(a) = v else {
            return;
        };
        if let (Some(x), Some(y)) = (
            a.first().and_then(serde_json::Value::as_f64),
            a.get(1).and_then(serde_json::Value::as_f64),
        ) {
            let r = b.get_or_insert([x, y, x, y]);
            r[0] = r[0].min(x);
            r[1] = r[1].min(y);
            r[2] = r[2].max(x);
            r[3] = r[3].max(y);
            return;
        }
        for item in a {
            walk(item, b);
        }
    }
    let mut b = None;
    match g.get("type").and_then(serde_json::Value::as_str) {
        Some("GeometryCollection") => {
            for part in g
                .get("geometries")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(p) = geometry_bbox(part) {
                    walk(
                        &serde_json::json!([
                            [p.min_lon(), p.min_lat()],
                            [p.max_lon(), p.max_lat()]
                        ]),
                        &mut b,
                    );
                }
            }
        }
        _ => walk(g.get("coordinates")?, &mut b),
    }
    let [a, c, d, e] = b?;
    Bbox::new(a, c, d, e).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Raw {
        Raw(pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect())
    }

    #[test]
    fn limit_is_capped_not_refused() {
        let got = items_query(&q(&[("limit", "50000")])).expect("served");
        assert_eq!(got.limit, MAX_LIMIT);
        assert!(items_query(&q(&[("limit", "0")])).is_err());
    }

    #[test]
    fn datetime_reads_instants_and_open_intervals() {
        let day = crate::time::parse_time_ms("2026-11-02T00:00:00Z");
        assert_eq!(
            datetime("2026-11-02T00:00:00Z").ok(),
            Some(Interval {
                from_ms: day,
                to_ms: day
            })
        );
        assert_eq!(
            datetime("../2026-11-02T00:00:00Z").ok(),
            Some(Interval {
                from_ms: None,
                to_ms: day
            })
        );
        assert_eq!(
            datetime("2026-11-02T00:00:00Z/..").ok(),
            Some(Interval {
                from_ms: day,
                to_ms: None
            })
        );
        assert_eq!(
            datetime("2026-11-02T00:00:00Z/").ok(),
            Some(Interval {
                from_ms: day,
                to_ms: None
            })
        );
        assert!(datetime("2026-11-03/2026-11-02").is_err());
        assert!(datetime("..").is_err());
        assert!(datetime("yesterday").is_err());
    }

    #[test]
    fn bbox_crs_swaps_the_axes_of_epsg_4326() {
        let got = items_query(&q(&[
            ("bbox", "31.0,121.2,31.1,121.3"),
            ("bbox-crs", "http://www.opengis.net/def/crs/EPSG/0/4326"),
        ]))
        .expect("served");
        let b = got.bbox.expect("a box");
        assert!((b.min_lon() - 121.2).abs() < 1e-12 && (b.min_lat() - 31.0).abs() < 1e-12);
    }

    #[test]
    fn unknown_parameters_are_400() {
        let e = items_query(&q(&[("colour", "red")])).expect_err("refused");
        assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn geometry_boxes() {
        let g = serde_json::json!({"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.2, 31.0], [121.1, 31.3], [121.0, 31.0]]]});
        let b = geometry_bbox(&g).expect("a box");
        assert!((b.max_lat() - 31.3).abs() < 1e-12 && (b.max_lon() - 121.2).abs() < 1e-12);
    }
}
