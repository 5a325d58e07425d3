//! A list as a table: the rows of a JSON answer, each with its geometry
//! and its cells in the columns of the list's [`Spec`], values as people
//! read them (Beijing time, names, Chinese labels) and typed for the GIS
//! formats.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Value;

use super::specs::{Col, Geom, Items, Kind, Spec, list_label};
use crate::time::local_text;

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    /// A share 0–1, shown as a percentage.
    Share(f64),
}

impl Cell {
    /// The value as text, as the CSV and the workbook show it.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Text(s) => s.clone(),
            Self::Int(i) => i.to_string(),
            Self::Num(x) => {
                let r = (x * 1000.0).round() / 1000.0;
                r.to_string()
            }
            Self::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
            Self::Share(x) => format!("{:.1}%", x * 100.0),
        }
    }

    /// The value as JSON, for the GeoJSON file.
    #[must_use]
    pub fn json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Text(s) => Value::from(s.as_str()),
            Self::Int(i) => Value::from(*i),
            Self::Num(x) | Self::Share(x) => Value::from(*x),
            Self::Bool(b) => Value::from(*b),
        }
    }
}

/// A row: its geometry (WGS-84) and its cells, one per column.
#[derive(Debug, Clone)]
pub struct Row {
    pub geometry: Option<Geometry<f64>>,
    pub cells: Vec<Cell>,
}

/// What codes and logins are called: town code → name, login → name.
#[derive(Debug, Default)]
pub struct Names {
    pub towns: HashMap<String, String>,
    pub people: HashMap<String, String>,
}

/// A list as a table.
#[derive(Debug)]
pub struct Table {
    pub title: &'static str,
    pub file: &'static str,
    pub columns: &'static [Col],
    pub spatial: bool,
    pub rows: Vec<Row>,
}

impl Table {
    /// The rows of an answer, by its spec; `towns` names the town codes.
    #[must_use]
    pub fn from_answer(spec: &Spec, answer: &Value, names: &Names) -> Self {
        let items = match spec.items {
            Items::Features => answer.get("features"),
            Items::Key(k) => answer.get(k),
        }
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
        let rows = items
            .iter()
            .map(|item| {
                let props = match spec.items {
                    Items::Features => item.get("properties").unwrap_or(&Value::Null),
                    Items::Key(_) => item,
                };
                let geometry = spec.geometry.and_then(|g| match g {
                    Geom::Feature => item.get("geometry").and_then(geometry),
                    Geom::LonLat => point(props.get("lon"), props.get("lat")),
                    Geom::Pair(k) => props
                        .get(k)
                        .and_then(Value::as_array)
                        .and_then(|a| point(a.first(), a.get(1))),
                });
                let cells = spec
                    .columns
                    .iter()
                    .map(|c| cell(lookup(props, c.key), c.kind, names))
                    .collect();
                Row { geometry, cells }
            })
            .collect();
        Self {
            title: spec.title,
            file: spec.file,
            columns: spec.columns,
            spatial: spec.geometry.is_some(),
            rows,
        }
    }

    /// Whether the list has a geometry column.
    #[must_use]
    pub fn has_geometry(&self) -> bool {
        self.spatial
    }

    /// The Chinese headers.
    pub fn headers(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|c| c.zh)
    }
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn cell(v: Option<&Value>, kind: Kind, names: &Names) -> Cell {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Cell::Null;
    };
    match kind {
        Kind::Text => match v {
            Value::String(s) => Cell::Text(s.clone()),
            other => Cell::Text(other.to_string()),
        },
        Kind::Int => v.as_i64().map_or(Cell::Null, Cell::Int),
        Kind::Num => v.as_f64().map_or(Cell::Null, Cell::Num),
        Kind::Percent => v.as_f64().map_or(Cell::Null, Cell::Share),
        Kind::Bool => v.as_bool().map_or(Cell::Null, Cell::Bool),
        Kind::Time => time(v).map_or(Cell::Null, |t| Cell::Text(local_text(t))),
        Kind::Town => v.as_str().map_or(Cell::Null, |code| {
            Cell::Text(
                names
                    .towns
                    .get(code)
                    .cloned()
                    .unwrap_or_else(|| code.to_owned()),
            )
        }),
        Kind::Person => v.as_str().map_or(Cell::Null, |login| {
            Cell::Text(
                names
                    .people
                    .get(login)
                    .cloned()
                    .unwrap_or_else(|| login.to_owned()),
            )
        }),
        Kind::Label(label) => v.as_str().map_or(Cell::Null, |s| {
            Cell::Text(label(s).map_or_else(|| s.to_owned(), str::to_owned))
        }),
        Kind::Reasons => Cell::Text(
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| {
                            r.get("text_zh")
                                .or_else(|| r.get("text"))
                                .and_then(Value::as_str)
                        })
                        .collect::<Vec<_>>()
                        .join("；")
                })
                .unwrap_or_default(),
        ),
        Kind::List => Cell::Text(
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| match x {
                            Value::String(s) => {
                                list_label(s).map_or_else(|| s.clone(), str::to_owned)
                            }
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default(),
        ),
    }
}

/// An instant: RFC 3339 text or epoch milliseconds.
fn time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        Value::Number(n) => n.as_i64().and_then(DateTime::<Utc>::from_timestamp_millis),
        _ => None,
    }
}

fn point(lon: Option<&Value>, lat: Option<&Value>) -> Option<Geometry<f64>> {
    Some(Point::new(lon?.as_f64()?, lat?.as_f64()?).into())
}

fn coord(v: &Value) -> Option<Coord<f64>> {
    let a = v.as_array()?;
    Some(Coord {
        x: a.first()?.as_f64()?,
        y: a.get(1)?.as_f64()?,
    })
}

fn line(v: &Value) -> Option<LineString<f64>> {
    v.as_array()?
        .iter()
        .map(coord)
        .collect::<Option<Vec<_>>>()
        .map(LineString::new)
}

fn polygon(v: &Value) -> Option<Polygon<f64>> {
    let rings = v.as_array()?.iter().map(line).collect::<Option<Vec<_>>>()?;
    let mut rings = rings.into_iter();
    Some(Polygon::new(rings.next()?, rings.collect()))
}

/// A GeoJSON geometry (RFC 7946) as a `geo` geometry.
fn geometry(g: &Value) -> Option<Geometry<f64>> {
    let c = g.get("coordinates");
    match g.get("type")?.as_str()? {
        "Point" => coord(c?).map(|p| Point(p).into()),
        "MultiPoint" => c?
            .as_array()?
            .iter()
            .map(|p| coord(p).map(Point))
            .collect::<Option<Vec<_>>>()
            .map(|p| MultiPoint(p).into()),
        "LineString" => line(c?).map(Into::into),
        "MultiLineString" => c?
            .as_array()?
            .iter()
            .map(line)
            .collect::<Option<Vec<_>>>()
            .map(|l| MultiLineString(l).into()),
        "Polygon" => polygon(c?).map(Into::into),
        "MultiPolygon" => c?
            .as_array()?
            .iter()
            .map(polygon)
            .collect::<Option<Vec<_>>>()
            .map(|p| MultiPolygon(p).into()),
        "GeometryCollection" => g
            .get("geometries")?
            .as_array()?
            .iter()
            .map(geometry)
            .collect::<Option<Vec<_>>>()
            .map(|gs| Geometry::GeometryCollection(geo::GeometryCollection(gs))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::export::specs::spec;

    #[test]
    fn a_row_is_read_as_people_read_it() {
        let s = spec("/api/v1/blindspots/cells").expect("spec");
        let answer = serde_json::json!({"type": "FeatureCollection", "features": [{
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.1, 31.0], [121.1, 31.1], [121.0, 31.0]]]},
            "properties": {"rank": 1, "place": "荣乐路附近", "town": "310117101", "never_patrolled": true,
                "last_patrolled": "2026-11-02T01:30:00Z",
                "reasons": [{"text": "never patrolled", "text_zh": "从未巡查"}, {"text": "x", "text_zh": "有在建工程"}]}
        }]});
        let names = Names {
            towns: HashMap::from([("310117101".to_owned(), "岳阳街道".to_owned())]),
            people: HashMap::new(),
        };
        let t = Table::from_answer(s, &answer, &names);
        assert_eq!(t.rows.len(), 1);
        let r = &t.rows[0];
        assert!(matches!(r.geometry, Some(Geometry::Polygon(_))));
        let text: Vec<String> = r.cells.iter().map(Cell::text).collect();
        assert_eq!(text[0], "1");
        assert_eq!(text[3], "岳阳街道");
        assert_eq!(text[5], "是");
        assert_eq!(text[7], "2026-11-02 09:30", "Beijing time");
        assert_eq!(text[11], "从未巡查；有在建工程");
    }
}
