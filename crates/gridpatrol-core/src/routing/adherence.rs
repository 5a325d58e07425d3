//! How well an officer's tracks followed a planned route (adherence).
//!
//! A stop is reached when a track passes within the sighting distance of
//! it, or, for a cell stop, when a track covered the cell. The path walked
//! is the length of the route's line within the sighting distance of a
//! track, sampled every [`SAMPLE_M`] metres. Distances are measured in one
//! local metric frame around the route's first point (the first track
//! point, or the first stop, when the route has no line).

use std::collections::HashSet;
use std::hash::BuildHasher;

use geo::LineString;
use h3o::CellIndex;
use rstar::RTree;
use rstar::primitives::Line;

use crate::spatial::frame::{LocalFrame, Xy};
use crate::spatial::{LonLat, TrackPoint};

/// The spacing of the samples along the route's line, metres.
pub const SAMPLE_M: f64 = 5.0;

/// A stop of a planned route, as adherence sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteStop {
    pub position: LonLat,
    /// The H3 cell of a cell stop: covering it counts as reaching it.
    pub cell: Option<CellIndex>,
}

/// A route against the tracks that should have followed it.
#[derive(Debug, Clone, Copy)]
pub struct AdherenceInput<'a, S: BuildHasher> {
    /// The route's line, `x` lon and `y` lat.
    pub line: &'a LineString<f64>,
    pub stops: &'a [RouteStop],
    /// The tracks' segments (a gap between segments was not walked).
    pub segments: &'a [Vec<TrackPoint>],
    /// The cells the tracks covered.
    pub visited: &'a HashSet<CellIndex, S>,
    /// How far from a track an officer is taken to see, metres.
    pub sighting_m: f64,
}

/// What [`measure_adherence`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct AdherenceMeasure {
    /// Whether each stop, in order, was reached.
    pub reached: Vec<bool>,
    /// Share of stops reached, to three decimals (1 without stops).
    pub stops_reached: f64,
    pub stops_reached_count: usize,
    pub stops_planned: usize,
    /// Share of the line's length walked, to three decimals (0 without a line).
    pub path_walked: f64,
    /// Metres of the line walked and planned, to a decimetre.
    pub path_walked_m: f64,
    pub path_planned_m: f64,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn share(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Measures how well the tracks followed the route (see the module
/// documentation).
#[must_use]
pub fn measure_adherence<S: BuildHasher>(input: &AdherenceInput<'_, S>) -> AdherenceMeasure {
    let origin = input
        .line
        .0
        .first()
        .copied()
        .or_else(|| {
            let p = input.segments.iter().flatten().next()?;
            Some(geo::Coord { x: p.lon, y: p.lat })
        })
        .or_else(|| input.stops.first().map(|s| geo::Coord::from(s.position)));
    let Some(origin) = origin else {
        // no line, no track and no stop: nothing to measure
        return summarise(Vec::new(), 0.0, 0.0);
    };
    let frame = LocalFrame::at(origin);
    let mut lines: Vec<Line<Xy>> = Vec::new();
    for seg in input.segments {
        let pts: Vec<Xy> = seg.iter().map(|p| frame.xy(p.lon, p.lat)).collect();
        match pts.as_slice() {
            [] => {}
            [p] => lines.push(Line::new(*p, *p)),
            _ => lines.extend(pts.windows(2).map(|w| Line::new(w[0], w[1]))),
        }
    }
    let tree = RTree::bulk_load(lines);
    let r2 = input.sighting_m * input.sighting_m;
    let near = |p: Xy| tree.locate_within_distance(p, r2).next().is_some();
    let reached = input
        .stops
        .iter()
        .map(|s| {
            s.cell.is_some_and(|c| input.visited.contains(&c))
                || near(frame.xy(s.position.lon(), s.position.lat()))
        })
        .collect();
    let (mut walked, mut total) = (0.0, 0.0);
    for w in input.line.0.windows(2) {
        let from = frame.project(w[0]);
        let to = frame.project(w[1]);
        let len = (to[0] - from[0]).hypot(to[1] - from[1]);
        if len == 0.0 {
            continue;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a segment's sample count is small and positive"
        )]
        let samples = (len / SAMPLE_M).ceil().max(1.0) as usize;
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let step = len / samples as f64;
        for i in 0..samples {
            #[expect(clippy::cast_precision_loss, reason = "small counts")]
            let frac = (i as f64 + 0.5) / samples as f64;
            let sample = [
                from[0] + (to[0] - from[0]) * frac,
                from[1] + (to[1] - from[1]) * frac,
            ];
            if near(sample) {
                walked += step;
            }
        }
        total += len;
    }
    summarise(reached, walked, total)
}

fn summarise(reached: Vec<bool>, walked: f64, total: f64) -> AdherenceMeasure {
    let planned = reached.len();
    let count = reached.iter().filter(|r| **r).count();
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let stops_reached = if planned == 0 {
        1.0
    } else {
        count as f64 / planned as f64
    };
    AdherenceMeasure {
        reached,
        stops_reached: share(stops_reached),
        stops_reached_count: count,
        stops_planned: planned,
        path_walked: if total > 0.0 {
            share((walked / total).min(1.0))
        } else {
            0.0
        },
        path_walked_m: round1(walked),
        path_planned_m: round1(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::frame::LocalFrame;

    /// A route 1 km east along a street, then 500 m north, with a stop at
    /// each corner and one off the street's end.
    fn route() -> (LineString<f64>, Vec<RouteStop>, LocalFrame) {
        let f = LocalFrame::new(8.54, 47.37);
        let line: LineString<f64> = vec![
            f.unproject([0.0, 0.0]),
            f.unproject([1000.0, 0.0]),
            f.unproject([1000.0, 500.0]),
        ]
        .into();
        let stop = |x: f64, y: f64| {
            let c = f.unproject([x, y]);
            RouteStop {
                position: LonLat::new(c.x, c.y).expect("valid"),
                cell: None,
            }
        };
        let stops = vec![stop(300.0, 5.0), stop(1000.0, 0.0), stop(995.0, 400.0)];
        (line, stops, f)
    }

    /// A walk along metre coordinates, one fix every 10 m.
    fn walk(f: &LocalFrame, corners: &[Xy]) -> Vec<TrackPoint> {
        let mut out = Vec::new();
        let mut t_ms = 0;
        for w in corners.windows(2) {
            let len = (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "test lengths"
            )]
            let n = (len / 10.0).ceil() as u32;
            for i in 0..n {
                let t = f64::from(i) / f64::from(n);
                let c = f.unproject(crate::spatial::frame::lerp(w[0], w[1], t));
                out.push(TrackPoint {
                    lon: c.x,
                    lat: c.y,
                    t_ms,
                });
                t_ms += 10_000;
            }
        }
        let last = f.unproject(*corners.last().expect("a corner"));
        out.push(TrackPoint {
            lon: last.x,
            lat: last.y,
            t_ms,
        });
        out
    }

    #[test]
    fn a_track_that_follows_the_route_reaches_everything() {
        let (line, stops, f) = route();
        // a few metres off the centre line, as a GPS track is
        let track = walk(&f, &[[0.0, 3.0], [1003.0, 3.0], [1003.0, 500.0]]);
        let measure = measure_adherence(&AdherenceInput {
            line: &line,
            stops: &stops,
            segments: &[track],
            visited: &HashSet::<CellIndex>::new(),
            sighting_m: 25.0,
        });
        assert_eq!(measure.reached, vec![true, true, true]);
        assert!((measure.stops_reached - 1.0).abs() < f64::EPSILON);
        assert_eq!(measure.stops_reached_count, 3);
        assert!(
            (measure.path_walked - 1.0).abs() < f64::EPSILON,
            "{measure:?}"
        );
        assert!((measure.path_planned_m - 1500.0).abs() < 0.2, "{measure:?}");
        assert!((measure.path_walked_m - measure.path_planned_m).abs() < 0.2);
    }

    #[test]
    fn a_track_that_skips_a_stop_misses_it() {
        let (line, stops, f) = route();
        // turns back after 700 m of the street: the corner and the north leg are missed
        let track = walk(&f, &[[0.0, 0.0], [700.0, 0.0]]);
        let measure = measure_adherence(&AdherenceInput {
            line: &line,
            stops: &stops,
            segments: &[track],
            visited: &HashSet::<CellIndex>::new(),
            sighting_m: 25.0,
        });
        assert_eq!(measure.reached, vec![true, false, false]);
        assert!((measure.stops_reached - 0.333).abs() < 1e-9, "{measure:?}");
        // 700 m walked and 25 m of sighting beyond its end, of 1,500 m
        assert!((measure.path_walked_m - 725.0).abs() <= 5.0, "{measure:?}");
        assert!((measure.path_walked - 0.483).abs() < 0.004, "{measure:?}");
    }

    #[test]
    fn a_covered_cell_counts_as_reached() {
        let (line, mut stops, _) = route();
        let p = stops[2].position;
        let cell = h3o::LatLng::new(p.lat(), p.lon())
            .expect("valid")
            .to_cell(h3o::Resolution::Ten);
        stops[2].cell = Some(cell);
        let visited: HashSet<CellIndex> = std::iter::once(cell).collect();
        let measure = measure_adherence(&AdherenceInput {
            line: &line,
            stops: &stops,
            segments: &[],
            visited: &visited,
            sighting_m: 25.0,
        });
        assert_eq!(measure.reached, vec![false, false, true]);
        assert!((measure.path_walked).abs() < f64::EPSILON);
    }

    #[test]
    fn nothing_to_measure_is_no_stop_reached() {
        let line = LineString::<f64>::new(vec![]);
        let measure = measure_adherence(&AdherenceInput {
            line: &line,
            stops: &[],
            segments: &[],
            visited: &HashSet::<CellIndex>::new(),
            sighting_m: 25.0,
        });
        assert!((measure.stops_reached - 1.0).abs() < f64::EPSILON);
        assert!((measure.path_walked).abs() < f64::EPSILON);
    }
}
