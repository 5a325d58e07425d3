//! Domain values as RFC 7946 GeoJSON features: `[lon, lat]`, an `id` on
//! every feature, and the properties the API documents.

use geo::Geometry;
use geojson::{Feature, FeatureCollection, feature::Id};
use serde_json::{Map, Value as Json, json};

use crate::domain::{District, Grid, Project, Stored, Town, Venue, Zone};

/// A domain value that can be shown as a feature.
pub trait ToFeature {
    fn properties(&self) -> Map<String, Json>;
    fn geometry(&self) -> Option<&Geometry<f64>>;
}

fn obj(v: Json) -> Map<String, Json> {
    match v {
        Json::Object(m) => m,
        _ => Map::new(),
    }
}

/// A stored value as a feature with its id.
pub fn feature<T: ToFeature>(s: &Stored<T>) -> Feature {
    let geometry = s
        .value
        .geometry()
        .map(|g| geojson::Geometry::from(geojson::GeometryValue::from(g)));
    Feature {
        bbox: None,
        geometry,
        id: Some(Id::Number(s.id.into())),
        properties: Some(s.value.properties()),
        foreign_members: None,
    }
}

/// A page of features with the OGC API - Features counts.
pub fn collection<T: ToFeature>(items: &[Stored<T>], total: u64) -> FeatureCollection {
    let mut members = Map::new();
    members.insert("numberMatched".into(), json!(total));
    members.insert("numberReturned".into(), json!(items.len()));
    FeatureCollection {
        bbox: None,
        features: items.iter().map(feature).collect(),
        foreign_members: Some(members),
    }
}

/// A geometry wrapper for types whose geometry is not a `Geometry` already.
fn area(m: &geo::MultiPolygon<f64>) -> Geometry<f64> {
    Geometry::MultiPolygon(m.clone())
}

impl ToFeature for Town {
    fn properties(&self) -> Map<String, Json> {
        obj(json!({
            "code": self.code, "name": self.name, "name_en": self.name_en, "kind": self.kind,
            "approximate": self.approximate, "note": self.note,
        }))
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        None
    }
}

/// Wraps a value whose geometry is a MultiPolygon field into one whose
/// geometry is a `Geometry`, for serialisation.
pub struct WithGeometry<T> {
    pub value: T,
    pub geometry: Option<Geometry<f64>>,
}

impl<T: ToFeature> ToFeature for WithGeometry<T> {
    fn properties(&self) -> Map<String, Json> {
        self.value.properties()
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        self.geometry.as_ref()
    }
}

/// Gives every area layer a `Geometry` for output.
pub trait AreaGeometry {
    fn area_geometry(&self) -> Option<Geometry<f64>>;
}

impl AreaGeometry for Town {
    fn area_geometry(&self) -> Option<Geometry<f64>> {
        Some(area(&self.geometry))
    }
}
impl AreaGeometry for Zone {
    fn area_geometry(&self) -> Option<Geometry<f64>> {
        self.geometry.as_ref().map(area)
    }
}
impl AreaGeometry for Grid {
    fn area_geometry(&self) -> Option<Geometry<f64>> {
        self.geometry.as_ref().map(area)
    }
}
impl AreaGeometry for District {
    fn area_geometry(&self) -> Option<Geometry<f64>> {
        Some(area(&self.geometry))
    }
}

/// Converts stored area values for output.
#[must_use]
pub fn with_geometry<T: AreaGeometry>(items: Vec<Stored<T>>) -> Vec<Stored<WithGeometry<T>>> {
    items
        .into_iter()
        .map(|s| {
            let geometry = s.value.area_geometry();
            Stored {
                id: s.id,
                value: WithGeometry {
                    value: s.value,
                    geometry,
                },
            }
        })
        .collect()
}

impl ToFeature for Zone {
    fn properties(&self) -> Map<String, Json> {
        obj(
            json!({ "code": self.code, "name": self.name, "town": self.town, "manager": self.manager }),
        )
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        None
    }
}

impl ToFeature for Grid {
    fn properties(&self) -> Map<String, Json> {
        let cells: Vec<String> = self.cells.iter().map(ToString::to_string).collect();
        obj(json!({
            "code": self.code, "name": self.name, "zone": self.zone, "town": self.town,
            "manager": self.manager, "patrol_interval_days": self.patrol_interval_days,
            "resolution": u8::from(self.resolution), "cells": cells,
            "cell_count": self.expanded_cells().count(),
        }))
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        None
    }
}

impl ToFeature for District {
    fn properties(&self) -> Map<String, Json> {
        let mut m = self.properties.clone();
        m.insert("code".into(), json!(self.code));
        m.insert("name".into(), json!(self.name));
        m.insert("one_stop_plan".into(), json!(self.one_stop_plan));
        m
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        None
    }
}

impl ToFeature for Venue {
    fn properties(&self) -> Map<String, Json> {
        obj(json!({
            "code": self.code, "name": self.name, "kind": self.kind, "proxy": self.proxy, "source": self.source,
        }))
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        Some(&self.geometry)
    }
}

/// The API properties of a project; also the base a PATCH merges into.
#[must_use]
pub fn project_properties(p: &Project) -> Map<String, Json> {
    obj(json!({
        "code": p.code, "name": p.name, "category": p.category, "funding": p.funding,
        "investment_cny": p.investment_cny, "floor_area_m2": p.floor_area_m2, "status": p.status,
        "started_on": p.started_on, "completed_on": p.completed_on, "hot_work": p.hot_work,
        "insulation": p.insulation, "steel_mezzanine": p.steel_mezzanine, "insured": p.insured,
        "address": p.address, "town": p.town,
    }))
}

impl ToFeature for Project {
    fn properties(&self) -> Map<String, Json> {
        let mut m = project_properties(self);
        m.insert("above_limit".into(), json!(self.above_limit()));
        m
    }
    fn geometry(&self) -> Option<&Geometry<f64>> {
        Some(&self.geometry)
    }
}
