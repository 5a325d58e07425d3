//! Which town a position lies in: the district check and town assignment of
//! works, done in the engine so both stores answer the same.

use geo::{
    BoundingRect, Centroid, Contains, Distance, Euclidean, Geometry, Intersects, MultiPolygon,
    Point, Polygon,
};

use crate::domain::{Invalid, Project, Town};
use crate::store::{DynStore, StoreError, typed};

/// How far (in degrees, about 30 m) a polygon's vertex may lie outside the
/// district: boundaries are drawn by hand and do not match to the metre.
pub const DISTRICT_TOLERANCE_DEG: f64 = 0.0003;

/// The towns of the district, for point-in-town look-ups.
pub struct TownIndex {
    towns: Vec<(Town, geo::Rect<f64>)>,
}

impl TownIndex {
    pub async fn load(store: &DynStore) -> Result<Self, StoreError> {
        Ok(Self::new(
            typed::all::<Town>(store)
                .await?
                .into_iter()
                .map(|s| s.value)
                .collect(),
        ))
    }

    #[must_use]
    pub fn new(towns: Vec<Town>) -> Self {
        let towns = towns
            .into_iter()
            .filter_map(|t| {
                let r = t.geometry.bounding_rect()?;
                Some((t, r))
            })
            .collect();
        Self { towns }
    }

    /// The towns, in load order.
    pub fn towns(&self) -> impl Iterator<Item = &Town> {
        self.towns.iter().map(|(t, _)| t)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.towns.is_empty()
    }

    /// The town containing a point.
    #[must_use]
    pub fn town_of(&self, p: Point<f64>) -> Option<&Town> {
        self.towns
            .iter()
            .find(|(t, r)| r.intersects(&p) && t.geometry.contains(&p))
            .or_else(|| {
                self.towns
                    .iter()
                    .find(|(t, r)| r.intersects(&p) && t.geometry.intersects(&p))
            })
            .map(|(t, _)| t)
    }

    /// Whether a geometry touches the district at all.
    #[must_use]
    pub fn touches_district(&self, g: &Geometry<f64>) -> bool {
        self.towns
            .iter()
            .any(|(t, r)| r.intersects(g) && t.geometry.intersects(g))
    }

    /// Resolves a town given by name to its code.
    #[must_use]
    pub fn code_for(&self, name_or_code: &str) -> Option<&str> {
        self.towns
            .iter()
            .find(|(t, _)| {
                t.code == name_or_code
                    || t.name == name_or_code
                    || t.name_en.eq_ignore_ascii_case(name_or_code)
            })
            .map(|(t, _)| t.code.as_str())
    }

    /// Checks a work lies in the district and sets its town from its
    /// geometry: a point's town, or for a polygon the town holding its
    /// centroid. A polygon must lie inside the district (every vertex in a
    /// town, or within [`DISTRICT_TOLERANCE_DEG`] of one). A town given (by
    /// code or name) that disagrees with the derived one is refused.
    pub fn assign(&self, project: &mut Project) -> Result<(), Invalid> {
        if self.is_empty() {
            return Ok(());
        }
        if !self.touches_district(&project.geometry) {
            return Err(Invalid::new("geometry", "lies outside the district"));
        }
        if !self.holds_vertices(&project.geometry) {
            return Err(Invalid::new("geometry", "leaves the district"));
        }
        let centre = match &project.geometry {
            Geometry::Point(p) => Some(*p),
            Geometry::Polygon(p) => p.centroid(),
            Geometry::MultiPolygon(m) => m.centroid(),
            _ => None,
        };
        let derived = centre.and_then(|c| self.town_of(c));
        if let Some(given) = project.town.take() {
            let code = self
                .code_for(&given)
                .ok_or_else(|| Invalid::new("town", format!("unknown town {given:?}")))?;
            if let Some(d) = derived
                && d.code != code
            {
                let named = self
                    .towns()
                    .find(|t| t.code == code)
                    .map_or(code, |t| t.name.as_str());
                return Err(Invalid::new(
                    "town",
                    format!("the work lies in {}, not {named}", d.name),
                ));
            }
            project.town = Some(code.to_owned());
            return Ok(());
        }
        project.town = derived.map(|t| t.code.clone());
        Ok(())
    }

    /// Whether every vertex of a polygon lies in a town or near one.
    fn holds_vertices(&self, g: &Geometry<f64>) -> bool {
        let polygons: Vec<&Polygon<f64>> = match g {
            Geometry::Polygon(p) => vec![p],
            Geometry::MultiPolygon(m) => m.0.iter().collect(),
            _ => return true,
        };
        polygons
            .iter()
            .flat_map(|p| p.exterior().points())
            .all(|v| {
                self.town_of(v).is_some()
                    || self.towns.iter().any(|(t, _)| {
                        t.geometry
                            .0
                            .iter()
                            .any(|part| Euclidean.distance(&v, part) <= DISTRICT_TOLERANCE_DEG)
                    })
            })
    }

    /// The district outline, as the union of the town polygons' parts.
    #[must_use]
    pub fn district_parts(&self) -> MultiPolygon<f64> {
        MultiPolygon::new(
            self.towns
                .iter()
                .flat_map(|(t, _)| t.geometry.0.iter().cloned())
                .collect(),
        )
    }
}
