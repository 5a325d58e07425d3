//! Which town a position lies in: the district check and town assignment of
//! works, done in the engine so both stores answer the same.

use geo::{BoundingRect, Centroid, Contains, Geometry, Intersects, MultiPolygon, Point};

use crate::domain::{Invalid, Project, Town};
use crate::store::{DynStore, StoreError, typed};

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

    /// Checks a work lies in the district and sets its town: a town given
    /// by name becomes its code; a missing one is derived from the geometry.
    pub fn assign(&self, project: &mut Project) -> Result<(), Invalid> {
        if self.is_empty() {
            return Ok(());
        }
        if !self.touches_district(&project.geometry) {
            return Err(Invalid::new("geometry", "lies outside the district"));
        }
        if let Some(given) = project.town.take() {
            let code = self
                .code_for(&given)
                .ok_or_else(|| Invalid::new("town", format!("unknown town {given:?}")))?;
            project.town = Some(code.to_owned());
            return Ok(());
        }
        let centre = match &project.geometry {
            Geometry::Point(p) => Some(*p),
            Geometry::Polygon(p) => p.centroid(),
            Geometry::MultiPolygon(m) => m.centroid(),
            _ => None,
        };
        project.town = centre.and_then(|c| self.town_of(c)).map(|t| t.code.clone());
        Ok(())
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
