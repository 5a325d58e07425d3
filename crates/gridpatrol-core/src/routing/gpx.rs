//! A planned route as GPX 1.1, written by the `gpx` crate's writer (so
//! names and descriptions are escaped by an XML writer, not by hand): the
//! stops as waypoints (`wpt`, with their ETA; named for people, the cell or
//! work id in `cmt`), the route as a `rte` from the
//! start through the stops to the end, and the path along the roads as a
//! `trk`. Coordinates are written in full precision (Rust's shortest
//! round-trip form), so a reader gets exactly the same points back; times
//! are whole seconds, UTC (the crate writes them with nine zero decimals).

use ::gpx::{Gpx, GpxVersion, Metadata, Route, Track, TrackSegment, Waypoint};
use chrono::{DateTime, Utc};
use geo::{LineString, Point};

use crate::spatial::LonLat;

/// A stop of the route to write.
#[derive(Debug, Clone, PartialEq)]
pub struct GpxStop {
    /// 1-based order along the route.
    pub order: u32,
    /// What the stop is, for the waypoint's type (巡查单元, 工程).
    pub kind: String,
    /// The cell or the work's code.
    pub target_id: String,
    /// The waypoint's name as people read it, e.g. "1. 08:30 文翔路70号附近".
    pub name: String,
    pub position: LonLat,
    pub eta: DateTime<Utc>,
    /// Why the stop is one, for the waypoint's description.
    pub description: String,
}

/// A route to write.
#[derive(Debug, Clone, PartialEq)]
pub struct GpxRoute {
    /// The name of the document, the `rte` and the `trk`.
    pub title: String,
    pub created_at: DateTime<Utc>,
    /// The path along the roads, `x` lon and `y` lat.
    pub line: LineString<f64>,
    pub stops: Vec<GpxStop>,
}

/// Text without the control characters XML 1.0 cannot carry (a newline and
/// a tab stay).
fn text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// An instant to whole seconds, as the `gpx` crate's time.
fn time(t: DateTime<Utc>) -> Option<::gpx::Time> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .ok()
        .map(::gpx::Time::from)
}

fn point(lon: f64, lat: f64, name: String) -> Waypoint {
    let mut w = Waypoint::new(Point::new(lon, lat));
    w.name = Some(name);
    w
}

/// The route as a GPX 1.1 document (see the module documentation).
#[must_use]
pub fn route_gpx(route: &GpxRoute) -> Gpx {
    let title = text(&route.title);
    let waypoints = route
        .stops
        .iter()
        .map(|s| {
            let mut w = point(s.position.lon(), s.position.lat(), text(&s.name));
            w.time = time(s.eta);
            // the id for the curious and for machines: the name is for people
            w.comment = Some(text(&s.target_id));
            w.description = Some(text(&s.description));
            w.type_ = Some(text(&s.kind));
            w
        })
        .collect();
    let mut rte = Route::new();
    rte.name = Some(title.clone());
    if let Some(c) = route.line.0.first() {
        rte.points.push(point(c.x, c.y, "起点".to_owned()));
    }
    rte.points.extend(
        route
            .stops
            .iter()
            .map(|s| point(s.position.lon(), s.position.lat(), text(&s.name))),
    );
    if let Some(c) = route.line.0.last() {
        rte.points.push(point(c.x, c.y, "终点".to_owned()));
    }
    let mut segment = TrackSegment::new();
    segment.points = route
        .line
        .0
        .iter()
        .map(|c| Waypoint::new(Point::new(c.x, c.y)))
        .collect();
    let mut trk = Track::new();
    trk.name = Some(title.clone());
    trk.segments.push(segment);
    Gpx {
        version: GpxVersion::Gpx11,
        creator: Some("gridpatrol".to_owned()),
        metadata: Some(Metadata {
            name: Some(title),
            time: time(route.created_at),
            ..Metadata::default()
        }),
        waypoints,
        tracks: vec![trk],
        routes: vec![rte],
    }
}

/// The route as GPX 1.1 text.
#[must_use]
pub fn write_route_gpx(route: &GpxRoute) -> String {
    let mut out = Vec::new();
    ::gpx::write(&route_gpx(route), &mut out)
        .expect("a GPX 1.1 document always writes to memory: its version is known");
    String::from_utf8(out).expect("the XML writer writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, h, m, 7)
            .single()
            .expect("valid")
    }

    fn route(title: &str, description: &str) -> GpxRoute {
        GpxRoute {
            title: title.to_owned(),
            created_at: at(0, 30),
            line: vec![
                (121.223_456_789_012_3, 31.031_234_567_890_1),
                (121.224_1, 31.032),
                (121.225_000_000_000_01, 31.033_333_333_333_33),
            ]
            .into(),
            stops: vec![GpxStop {
                order: 1,
                kind: "工程".to_owned(),
                target_id: "SJ-2026-001".to_owned(),
                name: "1. 09:15 文翔路70号口腔诊所装修".to_owned(),
                position: LonLat::new(121.224_1, 31.032).expect("valid"),
                eta: at(1, 15),
                description: description.to_owned(),
            }],
        }
    }

    #[test]
    fn a_written_route_reads_back_exactly() {
        let r = route("route 1", "hot work");
        let doc = ::gpx::read(write_route_gpx(&r).as_bytes()).expect("gpx reads it");
        assert_eq!(doc.version, GpxVersion::Gpx11);
        let line: Vec<(f64, f64)> = doc.tracks[0].segments[0]
            .points
            .iter()
            .map(|p| (p.point().x(), p.point().y()))
            .collect();
        let want: Vec<(f64, f64)> = r.line.0.iter().map(|c| (c.x, c.y)).collect();
        assert_eq!(line, want);
        let w = &doc.waypoints[0];
        assert_eq!((w.point().x(), w.point().y()), (121.224_1, 31.032));
        let eta = w.time.map(|t| t.format().expect("time")).expect("a time");
        let eta = DateTime::parse_from_rfc3339(&eta).expect("RFC 3339");
        assert_eq!(eta, at(1, 15));
        assert_eq!(w.name.as_deref(), Some("1. 09:15 文翔路70号口腔诊所装修"));
        assert_eq!(w.type_.as_deref(), Some("工程"));
        assert_eq!(w.comment.as_deref(), Some("SJ-2026-001"));
        let rte = &doc.routes[0];
        let names: Vec<&str> = rte
            .points
            .iter()
            .filter_map(|p| p.name.as_deref())
            .collect();
        assert_eq!(names, ["起点", "1. 09:15 文翔路70号口腔诊所装修", "终点"]);
        let meta = doc.metadata.expect("metadata");
        assert_eq!(meta.name.as_deref(), Some("route 1"));
    }

    #[test]
    fn names_and_descriptions_are_escaped() {
        let title = "巡查路线 <A&B> \"quoted\" 'single'";
        let description = "动火作业 & 保温材料 <危险> \"x\" 'y'\u{7}";
        let xml = write_route_gpx(&route(title, description));
        assert!(!xml.contains("<A&B>"), "{xml}");
        let doc = ::gpx::read(xml.as_bytes()).expect("gpx reads it");
        assert_eq!(doc.metadata.and_then(|m| m.name).as_deref(), Some(title));
        assert_eq!(doc.tracks[0].name.as_deref(), Some(title));
        assert_eq!(doc.routes[0].name.as_deref(), Some(title));
        // the bell is no XML character and is left out
        assert_eq!(
            doc.waypoints[0].description.as_deref(),
            Some("动火作业 & 保温材料 <危险> \"x\" 'y'")
        );
    }
}
