//! Works near crowded venues (人员密集场所周边工程): every work within a
//! geodesic distance of a venue, one row per pair. Hot work (动火作业) and
//! insulation materials (保温材料) near crowded venues must be supervised
//! without exception, so rows with those come first and every active work
//! without an inspection in the last N days is flagged.
//!
//! Venues go into an R-tree of their bounding boxes; each work asks it for
//! the venues whose box meets its own box grown by the distance (in degrees,
//! generously), and the exact geodesic distance decides.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use geo::{BoundingRect, Geometry};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde::Serialize;

use super::geodesic::{degree_margin, site_distance_m};
use super::{Dataset, Reason, site_point};
use crate::domain::{Invalid, Project, ProjectStatus, Venue, VenueKind};

/// The default search distance in metres.
pub const DEFAULT_DISTANCE_M: f64 = 100.0;
/// The largest distance a query may ask for.
pub const MAX_DISTANCE_M: f64 = 5_000.0;
/// The default number of days within which a work near a venue must have
/// been inspected.
pub const DEFAULT_INSPECTION_DAYS: u32 = 30;

/// The parameters of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub distance_m: f64,
    pub inspection_days: u32,
    /// "Now": inspections after it are not seen.
    pub as_of: DateTime<Utc>,
}

impl Params {
    pub fn new(
        distance_m: f64,
        inspection_days: u32,
        as_of: DateTime<Utc>,
    ) -> Result<Self, Invalid> {
        if !(0.0..=MAX_DISTANCE_M).contains(&distance_m) {
            return Err(Invalid::new(
                "distance_m",
                format!("must be a number of metres from 0 to {MAX_DISTANCE_M}"),
            ));
        }
        if !(1..=365).contains(&inspection_days) {
            return Err(Invalid::new("inspection_days", "must be from 1 to 365"));
        }
        Ok(Self {
            distance_m,
            inspection_days,
            as_of,
        })
    }
}

/// A geometry with an id, for [`pairs`].
pub struct Site<'a> {
    pub id: i64,
    pub geometry: &'a Geometry<f64>,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Every `(work id, venue id, distance in metres)` with the distance at most
/// `distance_m`, ordered by work then venue id. This is the geometric core,
/// the answer of `PostGIS`'s `ST_DWithin(work::geography, venue::geography, d)`.
#[must_use]
pub fn pairs(works: &[Site<'_>], venues: &[Site<'_>], distance_m: f64) -> Vec<(i64, i64, f64)> {
    let entries: Vec<Entry> = venues
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let r = v.geometry.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(entries);
    let mut out = Vec::new();
    for w in works {
        let Some(r) = w.geometry.bounding_rect() else {
            continue;
        };
        let max_lat = r.min().y.abs().max(r.max().y.abs());
        let (dlon, dlat) = degree_margin(distance_m, max_lat);
        let env = AABB::from_corners(
            [r.min().x - dlon, r.min().y - dlat],
            [r.max().x + dlon, r.max().y + dlat],
        );
        for e in tree.locate_in_envelope_intersecting(&env) {
            let v = &venues[e.data];
            let d = site_distance_m(w.geometry, v.geometry);
            if d <= distance_m {
                out.push((w.id, v.id, d));
            }
        }
    }
    out.sort_by_key(|p| (p.0, p.1));
    out
}

/// One work near one venue.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a flat row of independent yes/no columns, as the ledger shows them"
)]
pub struct NearVenue {
    pub project_id: i64,
    pub venue_id: i64,
    /// Geodesic metres; 0 inside the venue.
    pub distance_m: f64,
    pub hot_work: bool,
    pub insulation: bool,
    pub project_code: String,
    pub project_name: String,
    pub status: ProjectStatus,
    pub town: Option<String>,
    pub venue_code: String,
    pub venue_name: String,
    pub venue_kind: VenueKind,
    /// The work's position (a polygon's centroid), for the map.
    pub lon: f64,
    pub lat: f64,
    pub last_inspected_at: Option<DateTime<Utc>>,
    /// Inspected within the last `inspection_days`.
    pub inspected_recently: bool,
    /// An active work (not completed) without a recent inspection.
    pub flagged: bool,
    pub reasons: Vec<Reason>,
}

/// Why a pair is flagged: the missing inspection, then the fire risks.
fn reasons(
    work: &Project,
    venue: &Venue,
    d: f64,
    last_inspected_at: Option<DateTime<Utc>>,
    p: &Params,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let place = format!("{d:.0} m from {} ({})", venue.name, venue.kind);
    let place_zh = format!("距{}（{}）{d:.0} 米", venue.name, venue.kind.label_zh());
    reasons.push(match last_inspected_at {
        None => Reason::new(
            "near_venue_never_inspected",
            format!("never inspected, {place}: full coverage is required near crowded venues"),
            format!("{place_zh}，从未检查：人员密集场所周边工程须全覆盖检查"),
        ),
        Some(t) => {
            let days = (p.as_of - t).num_days();
            #[expect(clippy::cast_precision_loss, reason = "days are small")]
            Reason::new(
                "near_venue_not_inspected_recently",
                format!(
                    "last inspected {days} days ago > {} days, {place}",
                    p.inspection_days
                ),
                format!(
                    "{place_zh}，距上次检查 {days} 天，超过 {} 天",
                    p.inspection_days
                ),
            )
            .measured(days as f64, f64::from(p.inspection_days))
        }
    });
    if work.hot_work {
        reasons.push(Reason::new(
            "hot_work_near_venue",
            "hot work (动火作业) next to a crowded venue".to_owned(),
            "人员密集场所周边动火作业".to_owned(),
        ));
    }
    if work.insulation {
        reasons.push(Reason::new(
            "insulation_near_venue",
            "insulation materials (保温材料) next to a crowded venue".to_owned(),
            "人员密集场所周边使用保温材料".to_owned(),
        ));
    }
    reasons
}

/// Every work within the distance of a crowded venue, fire risks first,
/// then by distance.
#[must_use]
pub fn analyse(data: &Dataset, p: &Params) -> Vec<NearVenue> {
    let works: Vec<Site<'_>> = data
        .projects
        .iter()
        .map(|s| Site {
            id: s.id,
            geometry: &s.value.geometry,
        })
        .collect();
    let venues: Vec<Site<'_>> = data
        .venues
        .iter()
        .map(|s| Site {
            id: s.id,
            geometry: &s.value.geometry,
        })
        .collect();
    let project_by_id: HashMap<i64, usize> = data
        .projects
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    let venue_by_id: HashMap<i64, usize> = data
        .venues
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    let last = data.last_inspections(p.as_of);
    let since = p.as_of - chrono::Duration::days(i64::from(p.inspection_days));
    let mut rows = Vec::new();
    for (pid, vid, d) in pairs(&works, &venues, p.distance_m) {
        let (Some(&pi), Some(&vi)) = (project_by_id.get(&pid), venue_by_id.get(&vid)) else {
            continue;
        };
        let work = &data.projects[pi].value;
        let venue = &data.venues[vi].value;
        let last_inspected_at = last.get(&pid).copied();
        let inspected_recently = last_inspected_at.is_some_and(|t| t >= since);
        let active = work.status != ProjectStatus::Completed;
        let flagged = active && !inspected_recently;
        let reasons = if flagged {
            reasons(work, venue, d, last_inspected_at, p)
        } else {
            Vec::new()
        };
        let pt = site_point(&work.geometry).unwrap_or_else(|| geo::Point::new(0.0, 0.0));
        rows.push(NearVenue {
            project_id: pid,
            venue_id: vid,
            distance_m: (d * 100.0).round() / 100.0,
            hot_work: work.hot_work,
            insulation: work.insulation,
            project_code: work.code.clone(),
            project_name: work.name.clone(),
            status: work.status,
            town: work.town.clone(),
            venue_code: venue.code.clone(),
            venue_name: venue.name.clone(),
            venue_kind: venue.kind,
            lon: pt.x(),
            lat: pt.y(),
            last_inspected_at,
            inspected_recently,
            flagged,
            reasons,
        });
    }
    rows.sort_by(|a, b| {
        let fire = |r: &NearVenue| !(r.hot_work || r.insulation);
        (fire(a), !a.flagged)
            .cmp(&(fire(b), !b.flagged))
            .then(a.distance_m.total_cmp(&b.distance_m))
            .then((a.project_id, a.venue_id).cmp(&(b.project_id, b.venue_id)))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Point, polygon};

    #[test]
    fn pairs_include_the_inside_of_a_venue_polygon_and_respect_the_distance() {
        let mall: Geometry<f64> = polygon![
            (x: 121.220, y: 31.030), (x: 121.222, y: 31.030), (x: 121.222, y: 31.032), (x: 121.220, y: 31.032),
        ]
        .into();
        let station: Geometry<f64> = Point::new(121.230, 31.030).into();
        let inside: Geometry<f64> = Point::new(121.221, 31.031).into();
        // about 95 m east of the mall's east edge
        let east: Geometry<f64> = Point::new(121.223, 31.031).into();
        let far: Geometry<f64> = Point::new(121.250, 31.050).into();
        let works = [
            Site {
                id: 1,
                geometry: &inside,
            },
            Site {
                id: 2,
                geometry: &east,
            },
            Site {
                id: 3,
                geometry: &far,
            },
        ];
        let venues = [
            Site {
                id: 10,
                geometry: &mall,
            },
            Site {
                id: 11,
                geometry: &station,
            },
        ];
        let got = pairs(&works, &venues, 100.0);
        let ids: Vec<(i64, i64)> = got.iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(ids, [(1, 10), (2, 10)]);
        assert!(got[0].2.abs() < f64::EPSILON);
        assert!((got[1].2 - 95.4).abs() < 1.0, "{}", got[1].2);
        assert!(pairs(&works, &venues, 90.0).iter().all(|p| p.0 == 1));
    }
}
