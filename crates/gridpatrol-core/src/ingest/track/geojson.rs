//! `GeoJSON` tracks: lines with per-vertex times, or timed points.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use geojson::{Feature, GeoJson, Geometry, GeometryValue, JsonObject, Position};
use serde_json::Value;

use super::{ParsedTrack, RawPoint, TrackFormat, TrackParseError, excerpt, time, utf8_text};

/// Parses a `GeoJSON` document (a `FeatureCollection`, a `Feature` or a bare
/// geometry) into its tracks, in the two shapes device platforms and web
/// tools write:
///
/// - **Lines with per-vertex times**: a `LineString`, `MultiLineString` or
///   `MultiPoint` feature whose `coordTimes` or `times` property lists one
///   time per vertex (ISO-8601 text or epoch numbers; for a
///   `MultiLineString` an array per part, or one flat array over all
///   vertices). Each such feature is one track; the parts of a
///   `MultiLineString` are its segments.
/// - **Lines with a start time and an interval**: without per-vertex times,
///   a `t_start_ms` (or `start_time`) property and either an interval
///   (`interval_ms`, or `interval_s` in seconds) or an end time (`t_end_ms`
///   or `end_time`, the vertices then evenly spread from start to end) time
///   the vertices in order, over all parts. Without any of these the points
///   are untimed.
/// - **Timed points**: `Point` features with a `time` or `timestamp`
///   property. They are grouped into one track per distinct
///   (`officer`, `track`) property pair, in order of first appearance, each
///   track keeping its points in file order.
///
/// Officer, device and name come from the `officer`, `device` and `name`
/// (or `track`) properties. Text times without a zone are Beijing time. A
/// bare geometry is an untimed track. Features with no geometry or with an
/// areal geometry are refused rather than skipped, so that nothing is lost
/// silently.
pub fn parse_geojson(bytes: &[u8]) -> Result<Vec<ParsedTrack>, TrackParseError> {
    let text = utf8_text(bytes, TrackFormat::GeoJson)?;
    let doc: GeoJson = serde_json::from_str(text).map_err(json_error)?;
    let mut out = Collector::default();
    match doc {
        GeoJson::FeatureCollection(fc) => {
            for (i, feature) in fc.features.iter().enumerate() {
                out.feature(feature, &format!("features[{i}]"))?;
            }
        }
        GeoJson::Feature(feature) => out.feature(&feature, "feature")?,
        GeoJson::Geometry(geometry) => out.geometry_track(&geometry, None, "geometry")?,
    }
    out.finish()
}

fn json_error(source: serde_json::Error) -> TrackParseError {
    let full = source.to_string();
    let suffix = format!(" at line {} column {}", source.line(), source.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    TrackParseError::Json {
        line: source.line(),
        column: source.column(),
        reason,
        source,
    }
}

fn invalid(at: impl Into<String>, reason: impl Into<String>) -> TrackParseError {
    TrackParseError::Invalid {
        format: TrackFormat::GeoJson,
        at: at.into(),
        reason: reason.into(),
    }
}

/// Point features grouped by (officer, track), and whole-line tracks, in the
/// order they first appear.
#[derive(Default)]
struct Collector {
    tracks: Vec<ParsedTrack>,
    /// (officer, track) → index into `tracks` for point groups.
    groups: HashMap<(Option<String>, Option<String>), usize>,
}

impl Collector {
    fn feature(&mut self, feature: &Feature, at: &str) -> Result<(), TrackParseError> {
        let Some(geometry) = &feature.geometry else {
            return Err(invalid(
                format!("{at}.geometry"),
                "the feature has no geometry",
            ));
        };
        let props = feature.properties.as_ref();
        if let GeometryValue::Point { coordinates } = &geometry.value {
            let p = position(coordinates, &format!("{at}.geometry.coordinates"))?;
            let time = point_time(props, at)?;
            let officer = prop_string(props, "officer");
            let track = prop_string(props, "track");
            let key = (officer.clone(), track.clone());
            let index = if let Some(&i) = self.groups.get(&key) {
                i
            } else {
                self.tracks.push(ParsedTrack {
                    name: track.or_else(|| prop_string(props, "name")),
                    officer,
                    device: prop_string(props, "device"),
                    segments: vec![Vec::new()],
                });
                let i = self.tracks.len() - 1;
                self.groups.insert(key, i);
                i
            };
            if let Some(segment) = self
                .tracks
                .get_mut(index)
                .and_then(|t| t.segments.first_mut())
            {
                segment.push(RawPoint {
                    lon: p.0,
                    lat: p.1,
                    time,
                });
            }
            return Ok(());
        }
        self.geometry_track(geometry, props, at)
    }

    /// A line-like geometry that is a track of its own.
    fn geometry_track(
        &mut self,
        geometry: &Geometry,
        props: Option<&JsonObject>,
        at: &str,
    ) -> Result<(), TrackParseError> {
        let coords_at = format!("{at}.geometry.coordinates");
        let parts: Vec<&[Position]> = match &geometry.value {
            GeometryValue::LineString { coordinates }
            | GeometryValue::MultiPoint { coordinates } => {
                vec![coordinates.as_slice()]
            }
            GeometryValue::MultiLineString { coordinates } => {
                coordinates.iter().map(Vec::as_slice).collect()
            }
            GeometryValue::Point { coordinates } => vec![std::slice::from_ref(coordinates)],
            other => {
                return Err(invalid(
                    format!("{at}.geometry"),
                    format!(
                        "a {} is not a track (expected LineString, MultiLineString, MultiPoint or Point)",
                        other.type_name()
                    ),
                ));
            }
        };
        let times = vertex_times(props, &parts, at)?;
        let mut segments = Vec::with_capacity(parts.len());
        for (s, part) in parts.iter().enumerate() {
            let mut points = Vec::with_capacity(part.len());
            for (v, pos) in part.iter().enumerate() {
                let (lon, lat) = if parts.len() == 1 {
                    position(pos, &format!("{coords_at}[{v}]"))?
                } else {
                    position(pos, &format!("{coords_at}[{s}][{v}]"))?
                };
                let time = times
                    .as_ref()
                    .and_then(|t| t.get(s))
                    .and_then(|t| t.get(v))
                    .copied()
                    .flatten();
                points.push(RawPoint { lon, lat, time });
            }
            if !points.is_empty() {
                segments.push(points);
            }
        }
        if !segments.is_empty() {
            self.tracks.push(ParsedTrack {
                name: prop_string(props, "name")
                    .or_else(|| prop_string(props, "track"))
                    .or_else(|| prop_string(props, "track_id")),
                officer: prop_string(props, "officer"),
                device: prop_string(props, "device"),
                segments,
            });
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<ParsedTrack>, TrackParseError> {
        let tracks: Vec<ParsedTrack> = self
            .tracks
            .into_iter()
            .filter(|t| t.point_count() > 0)
            .collect();
        if tracks.is_empty() {
            return Err(TrackParseError::NoPoints {
                format: TrackFormat::GeoJson,
            });
        }
        Ok(tracks)
    }
}

/// `(lon, lat)` of a position; a third (altitude) value is ignored.
fn position(pos: &Position, at: &str) -> Result<(f64, f64), TrackParseError> {
    match pos.as_slice() {
        [lon, lat, ..] => Ok((*lon, *lat)),
        _ => Err(invalid(
            at,
            "a position needs at least a longitude and a latitude",
        )),
    }
}

/// A text or number property as text; anything else is absent.
fn prop_string(props: Option<&JsonObject>, key: &str) -> Option<String> {
    match props?.get(key)? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn point_time(
    props: Option<&JsonObject>,
    at: &str,
) -> Result<Option<DateTime<Utc>>, TrackParseError> {
    for key in ["time", "timestamp"] {
        if let Some(value) = props.and_then(|p| p.get(key)) {
            return json_time(value, &format!("{at}.properties.{key}"));
        }
    }
    Ok(None)
}

/// One time value; `null` is an untimed point.
fn json_time(value: &Value, at: &str) -> Result<Option<DateTime<Utc>>, TrackParseError> {
    if value.is_null() {
        return Ok(None);
    }
    time::from_json(value).map(Some).ok_or_else(|| {
        let shown = match value {
            Value::String(s) => excerpt(s),
            other => excerpt(&other.to_string()),
        };
        invalid(at, format!("'{shown}' {}", time::TIME_EXPECTED))
    })
}

/// The first of `keys` that `props` has, with its key.
fn first_prop<'p>(
    props: Option<&'p JsonObject>,
    keys: &[&'static str],
) -> Option<(&'static str, &'p Value)> {
    keys.iter().find_map(|&k| {
        props
            .and_then(|p| p.get(k))
            .filter(|v| !v.is_null())
            .map(|v| (k, v))
    })
}

/// Times from a start and an interval or an end (see [`parse_geojson`]).
fn interval_times(
    props: Option<&JsonObject>,
    parts: &[&[Position]],
    at: &str,
) -> Result<Option<Vec<PartTimes>>, TrackParseError> {
    let Some((start_key, start)) = first_prop(props, &["t_start_ms", "start_time"]) else {
        return Ok(None);
    };
    let start_at = format!("{at}.properties.{start_key}");
    let start = json_time(start, &start_at)?.map_or(0, |t| t.timestamp_millis());
    let vertices: usize = parts.iter().map(|p| p.len()).sum();
    let number = |key: &str, v: &Value| {
        v.as_f64()
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or_else(|| invalid(format!("{at}.properties.{key}"), "must be a number above 0"))
    };
    let step_ms: f64 = if let Some((key, v)) = first_prop(props, &["interval_ms"]) {
        number(key, v)?
    } else if let Some((key, v)) = first_prop(props, &["interval_s"]) {
        number(key, v)? * 1000.0
    } else if let Some((key, end)) = first_prop(props, &["t_end_ms", "end_time"]) {
        let end_at = format!("{at}.properties.{key}");
        let end = json_time(end, &end_at)?.map_or(0, |t| t.timestamp_millis());
        if end < start {
            return Err(invalid(end_at, format!("is before {start_key}")));
        }
        #[expect(
            clippy::cast_precision_loss,
            reason = "times and counts far below 2^52"
        )]
        let step = (end - start) as f64 / vertices.saturating_sub(1).max(1) as f64;
        step
    } else {
        return Err(invalid(
            start_at,
            "a start time needs interval_ms, interval_s or t_end_ms to time the vertices",
        ));
    };
    let mut k: usize = 0;
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let mut times = Vec::with_capacity(part.len());
        for _ in *part {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_precision_loss,
                reason = "rounded to the millisecond, far below 2^52"
            )]
            let offset = (k as f64 * step_ms).round() as i64;
            times.push(DateTime::from_timestamp_millis(
                start.saturating_add(offset),
            ));
            k += 1;
        }
        out.push(times);
    }
    Ok(Some(out))
}

/// The time of each vertex of one part; `None` where the file has `null`.
type PartTimes = Vec<Option<DateTime<Utc>>>;

/// Times per part and vertex from `coordTimes` or `times`, checked against
/// the geometry's shape.
fn vertex_times(
    props: Option<&JsonObject>,
    parts: &[&[Position]],
    at: &str,
) -> Result<Option<Vec<PartTimes>>, TrackParseError> {
    let Some((key, value)) = ["coordTimes", "times"]
        .into_iter()
        .find_map(|k| props.and_then(|p| p.get(k)).map(|v| (k, v)))
    else {
        return interval_times(props, parts, at);
    };
    let at = format!("{at}.properties.{key}");
    if value.is_null() {
        return Ok(None);
    }
    let Value::Array(items) = value else {
        return Err(invalid(at, "must be an array of times"));
    };
    let vertices: usize = parts.iter().map(|p| p.len()).sum();
    let nested = parts.len() > 1 && items.iter().all(Value::is_array) && !items.is_empty();
    if nested {
        if items.len() != parts.len() {
            return Err(invalid(
                at,
                format!(
                    "has {} arrays but the geometry has {} parts",
                    items.len(),
                    parts.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(parts.len());
        for (s, (item, part)) in items.iter().zip(parts).enumerate() {
            let list = item.as_array().map_or(&[][..], Vec::as_slice);
            if list.len() != part.len() {
                return Err(invalid(
                    format!("{at}[{s}]"),
                    format!(
                        "has {} times but part {s} has {} vertices",
                        list.len(),
                        part.len()
                    ),
                ));
            }
            out.push(
                list.iter()
                    .enumerate()
                    .map(|(v, t)| json_time(t, &format!("{at}[{s}][{v}]")))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        return Ok(Some(out));
    }
    if items.len() != vertices {
        return Err(invalid(
            at,
            format!(
                "has {} times but the geometry has {vertices} vertices",
                items.len()
            ),
        ));
    }
    let flat = items
        .iter()
        .enumerate()
        .map(|(v, t)| json_time(t, &format!("{at}[{v}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rest = flat.as_slice();
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let (head, tail) = rest.split_at(part.len().min(rest.len()));
        out.push(head.to_vec());
        rest = tail;
    }
    Ok(Some(out))
}
