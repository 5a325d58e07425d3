//! Scope checks that need data from the store: which patrol tracks a caller
//! sees and may upload. Officers see and upload their own tracks only;
//! others a track whose line touches their area (the district, their towns'
//! polygons, or their grids' outlines). Lists are prefiltered in the query
//! by the area's bounding box and decided here exactly, before paging.

use geo::{BoundingRect, Geometry, Intersects, MultiPolygon, Rect};

use super::TownIndex;
use crate::auth::{Caller, Denied, Role};
use crate::spatial::Bbox;
use crate::store::tracks::{NewTrack, TrackRecord, segments_geometry};
use crate::store::{DynStore, StoreError};

/// The tracks a caller may see and write.
#[derive(Debug, Clone)]
pub struct TrackScope {
    /// Officers: only this officer's tracks.
    officer: Option<String>,
    /// `None`: the whole district.
    area: Option<Vec<(MultiPolygon<f64>, Rect<f64>)>>,
}

impl TrackScope {
    /// The track scope of a caller (loads the towns' outlines for town scopes).
    pub async fn of(store: &DynStore, caller: &Caller) -> Result<Self, StoreError> {
        let officer = (caller.role == Role::Officer).then(|| caller.user.clone());
        let scope = &caller.scope;
        // an officer's own tracks are theirs wherever they lead
        let polygons: Option<Vec<MultiPolygon<f64>>> = if scope.is_district() || officer.is_some() {
            None
        } else if scope.cells().is_some() {
            Some(scope.grid_outlines().to_vec())
        } else {
            let towns = TownIndex::load(store).await?;
            Some(
                towns
                    .towns()
                    .filter(|t| scope.allows_town(&t.code))
                    .map(|t| t.geometry.clone())
                    .collect(),
            )
        };
        let area = polygons.map(|ps| {
            ps.into_iter()
                .filter_map(|p| p.bounding_rect().map(|r| (p, r)))
                .collect()
        });
        Ok(Self { officer, area })
    }

    /// The officer a list is limited to.
    #[must_use]
    pub fn officer(&self) -> Option<&str> {
        self.officer.as_deref()
    }

    /// Whether the scope is the whole district for every officer.
    #[must_use]
    pub fn is_everything(&self) -> bool {
        self.officer.is_none() && self.area.is_none()
    }

    /// The box holding the scope's area, a prefilter for lists; `None`
    /// for the district. An empty area gives a box nothing lies in.
    #[must_use]
    pub fn bbox(&self) -> Option<Bbox> {
        let area = self.area.as_ref()?;
        let mut it = area.iter().map(|(_, r)| *r);
        let Some(first) = it.next() else {
            return Bbox::new(0.0, 0.0, 0.0, 0.0).ok();
        };
        let r = it.fold(first, |a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        });
        Bbox::new(r.min().x, r.min().y, r.max().x, r.max().y).ok()
    }

    fn touches(&self, line: &Geometry<f64>) -> bool {
        let Some(area) = &self.area else {
            return true;
        };
        let Some(b) = line.bounding_rect() else {
            return false;
        };
        area.iter()
            .any(|(p, r)| r.intersects(&b) && p.intersects(line))
    }

    /// Whether the caller sees a stored track.
    #[must_use]
    pub fn sees(&self, t: &TrackRecord) -> bool {
        self.officer.as_deref().is_none_or(|o| o == t.track.officer)
            && self.touches(&segments_geometry(&t.track.segments))
    }

    /// Refuses a track in another officer's name (officers) or outside the
    /// caller's area.
    pub fn check_upload(&self, t: &NewTrack) -> Result<(), Denied> {
        if let Some(o) = &self.officer
            && *o != t.officer
        {
            return Err(Denied(format!(
                "officers upload only their own tracks, not {:?}'s",
                t.officer
            )));
        }
        if !self.touches(&segments_geometry(&t.segments)) {
            return Err(Denied(
                "the track lies outside the caller's scope".to_owned(),
            ));
        }
        Ok(())
    }
}
