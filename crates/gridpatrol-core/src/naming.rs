//! Places for people: a cell, a route stop or a blind spot named after the
//! nearest named place and its grid — "文翔路70号附近 · 岳阳街道 第1网格" —
//! instead of an H3 id that nobody on the street can read (the id stays in
//! the answers' details).
//!
//! The named places are what the data has: bus stops (most named after a
//! crossroads, such as 人民北路荣乐路), crowded venues (飞航广场), the
//! works' street addresses (文翔路70号) and the commercial districts. A [`Gazetteer`] indexes them in
//! an R-tree on a local equirectangular plane (the nearest candidates by
//! degrees scaled by the cosine of the latitude, then the geodesic distance
//! for the words), and knows the grid of every cell.

use std::collections::HashMap;

use geo::{Centroid, Distance, Haversine, Point};
use h3o::{CellIndex, LatLng, Resolution};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::domain::{District, Grid, Project, Stored, Venue};
use crate::spatial::LonLat;

/// Within this distance a place is "near" (附近); farther, the label says how
/// far ("距飞航广场约600米").
pub const NEAR_M: f64 = 250.0;

/// Beyond this distance no place names a point: the label is the grid alone.
pub const FAR_M: f64 = 3_000.0;

/// What kind of place a name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    /// A crowded venue (人员密集场所), often named after its bus stop.
    Venue,
    /// A work's street address.
    Address,
    /// A commercial district (商圈).
    District,
    /// A bus stop (公交站), most named after a crossroads (人民北路荣乐路).
    Stop,
}

impl PlaceKind {
    /// The kind as stored and served.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Venue => "venue",
            Self::Address => "address",
            Self::District => "district",
            Self::Stop => "stop",
        }
    }

    /// The kind of a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Venue, Self::Address, Self::District, Self::Stop]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A named point.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPlace {
    pub name: String,
    pub kind: PlaceKind,
    pub position: LonLat,
}

/// A point named for people.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceLabel {
    /// In Chinese: "文翔路70号附近 · 岳阳街道 第1网格".
    pub zh: String,
    /// In English (the names stay Chinese): "near 文翔路70号 · 岳阳街道 第1网格".
    pub en: String,
    /// The nearest named place, when one is within [`FAR_M`].
    pub place: Option<String>,
    /// Geodesic metres to it.
    pub distance_m: Option<f64>,
    /// The grid's name, when the point lies in a grid.
    pub grid: Option<String>,
}

type Entry = GeomWithData<[f64; 2], usize>;

/// Named places and the grids of cells, indexed for naming points.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    places: Vec<NamedPlace>,
    tree: RTree<Entry>,
    /// The scale of longitude at the data's latitude (cos φ).
    kx: f64,
    /// Resolution-10 cell → grid name.
    grids: HashMap<CellIndex, String>,
}

const RES: Resolution = Resolution::Ten;

fn point_of(g: &geo::Geometry<f64>) -> Option<LonLat> {
    let c = g.centroid()?;
    LonLat::new(c.x(), c.y()).ok()
}

impl Gazetteer {
    /// Indexes `places` and the cells of `grids`.
    #[must_use]
    pub fn new(places: Vec<NamedPlace>, grids: &[Stored<Grid>]) -> Self {
        let mean_lat = if places.is_empty() {
            31.0
        } else {
            #[expect(clippy::cast_precision_loss, reason = "a count of places")]
            let n = places.len() as f64;
            places.iter().map(|p| p.position.lat()).sum::<f64>() / n
        };
        let kx = mean_lat.to_radians().cos();
        let tree = RTree::bulk_load(
            places
                .iter()
                .enumerate()
                .map(|(i, p)| Entry::new([p.position.lon() * kx, p.position.lat()], i))
                .collect(),
        );
        let mut by_cell = HashMap::new();
        for g in grids {
            for c in &g.value.cells {
                let children: Vec<CellIndex> = if c.resolution() >= RES {
                    vec![*c]
                } else {
                    c.children(RES).collect()
                };
                for child in children {
                    by_cell.insert(child, g.value.name.clone());
                }
            }
        }
        Self {
            places,
            tree,
            kx,
            grids: by_cell,
        }
    }

    /// The places of the data: venues, works' addresses (one per distinct
    /// address), commercial districts (at their centres) and the stored
    /// named places (bus stops).
    #[must_use]
    pub fn from_layers(
        venues: &[Stored<Venue>],
        projects: &[Stored<Project>],
        districts: &[Stored<District>],
        grids: &[Stored<Grid>],
        stops: &[NamedPlace],
    ) -> Self {
        let mut places = stops.to_vec();
        for v in venues {
            if let Some(position) = point_of(&v.value.geometry) {
                places.push(NamedPlace {
                    name: v.value.name.clone(),
                    kind: PlaceKind::Venue,
                    position,
                });
            }
        }
        let mut seen = std::collections::HashSet::new();
        for p in projects {
            let address = p.value.address.trim();
            if address.is_empty() || !seen.insert(address.to_owned()) {
                continue;
            }
            if let Some(position) = point_of(&p.value.geometry) {
                places.push(NamedPlace {
                    name: address.to_owned(),
                    kind: PlaceKind::Address,
                    position,
                });
            }
        }
        for d in districts {
            if let Some(position) = d
                .value
                .geometry
                .centroid()
                .and_then(|c| LonLat::new(c.x(), c.y()).ok())
            {
                places.push(NamedPlace {
                    name: format!("{}商圈", d.value.name.trim_end_matches("商圈")),
                    kind: PlaceKind::District,
                    position,
                });
            }
        }
        Self::new(places, grids)
    }

    /// The grid a point lies in.
    #[must_use]
    pub fn grid_of(&self, at: LonLat) -> Option<&str> {
        let cell = LatLng::new(at.lat(), at.lon()).ok()?.to_cell(RES);
        self.grids.get(&cell).map(String::as_str)
    }

    /// The nearest named place within [`FAR_M`] and its geodesic distance.
    #[must_use]
    pub fn nearest(&self, at: LonLat) -> Option<(&NamedPlace, f64)> {
        let q = [at.lon() * self.kx, at.lat()];
        // the plane's nearest is the geodesic nearest up to a hair: compare
        // the first few by geodesic metres
        self.tree
            .nearest_neighbor_iter(&q)
            .take(4)
            .map(|e| {
                let p = &self.places[e.data];
                let d = Haversine.distance(
                    Point::new(at.lon(), at.lat()),
                    Point::new(p.position.lon(), p.position.lat()),
                );
                (p, d)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, d)| *d <= FAR_M)
    }

    /// Names a point (see the module documentation).
    #[must_use]
    pub fn label(&self, at: LonLat) -> PlaceLabel {
        let grid = self.grid_of(at).map(str::to_owned);
        let near = self.nearest(at);
        let (place_zh, place_en) = match near {
            Some((p, d)) if d <= NEAR_M => (format!("{}附近", p.name), format!("near {}", p.name)),
            Some((p, d)) => {
                let m = round_distance(d);
                (
                    format!("距{}约{m}米", p.name),
                    format!("about {m} m from {}", p.name),
                )
            }
            None => (String::new(), String::new()),
        };
        let join = |a: String, grid: Option<&str>, none: &str| match (a.is_empty(), grid) {
            (false, Some(g)) => format!("{a} · {g}"),
            (false, None) => a,
            (true, Some(g)) => g.to_owned(),
            (true, None) => none.to_owned(),
        };
        PlaceLabel {
            zh: join(place_zh, grid.as_deref(), "网格外"),
            en: join(place_en, grid.as_deref(), "outside the grids"),
            place: near.map(|(p, _)| p.name.clone()),
            distance_m: near.map(|(_, d)| d.round()),
            grid,
        }
    }

    /// Names the centre of a cell.
    #[must_use]
    pub fn label_cell(&self, cell: CellIndex) -> PlaceLabel {
        let c = LatLng::from(cell);
        match LonLat::new(c.lng(), c.lat()) {
            Ok(at) => self.label(at),
            Err(_) => PlaceLabel {
                zh: cell.to_string(),
                en: cell.to_string(),
                place: None,
                distance_m: None,
                grid: None,
            },
        }
    }
}

/// Metres as people say them: to 50 m under a kilometre, to 100 m above.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "distances up to FAR_M, positive"
)]
fn round_distance(d: f64) -> u32 {
    let step = if d < 1_000.0 { 50.0 } else { 100.0 };
    ((d / step).round() * step) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).expect("valid")
    }

    fn grid(name: &str, at: LonLat) -> Stored<Grid> {
        let cell = LatLng::new(at.lat(), at.lon()).expect("valid").to_cell(RES);
        let parent = cell.parent(Resolution::Nine).expect("coarser");
        Stored {
            id: 1,
            value: Grid {
                code: "G1".into(),
                name: name.into(),
                zone: "Z1".into(),
                town: "T".into(),
                manager: "胡晓东".into(),
                patrol_interval_days: 3,
                resolution: RES,
                cells: vec![parent],
                geometry: None,
            },
        }
    }

    fn places() -> Vec<NamedPlace> {
        vec![
            NamedPlace {
                name: "人民北路荣乐路".into(),
                kind: PlaceKind::Venue,
                position: at(121.2300, 31.0300),
            },
            NamedPlace {
                name: "文翔路70号".into(),
                kind: PlaceKind::Address,
                position: at(121.2400, 31.0300),
            },
        ]
    }

    #[test]
    fn a_point_near_a_place_is_named_after_it_and_its_grid() {
        let g = Gazetteer::new(places(), &[grid("方松街道 第3网格", at(121.2301, 31.0301))]);
        let l = g.label(at(121.2301, 31.0301));
        assert_eq!(l.zh, "人民北路荣乐路附近 · 方松街道 第3网格");
        assert_eq!(l.en, "near 人民北路荣乐路 · 方松街道 第3网格");
        assert_eq!(l.place.as_deref(), Some("人民北路荣乐路"));
        assert!(l.distance_m.is_some_and(|d| d < 20.0));
    }

    #[test]
    fn the_nearest_place_wins_and_a_far_one_says_how_far() {
        let g = Gazetteer::new(places(), &[]);
        // 0.0063° east of the address at 31°N is about 600 m
        let l = g.label(at(121.2463, 31.0300));
        assert_eq!(l.place.as_deref(), Some("文翔路70号"));
        assert_eq!(l.zh, "距文翔路70号约600米");
        assert_eq!(l.en, "about 600 m from 文翔路70号");
    }

    #[test]
    fn nothing_within_reach_leaves_the_grid_or_says_outside() {
        let g = Gazetteer::new(places(), &[]);
        let l = g.label(at(121.5, 31.2));
        assert_eq!(l.place, None);
        assert_eq!(l.zh, "网格外");
        let empty = Gazetteer::new(Vec::new(), &[grid("泗泾镇 第2网格", at(121.26, 31.11))]);
        assert_eq!(empty.label(at(121.26, 31.11)).zh, "泗泾镇 第2网格");
    }
}
