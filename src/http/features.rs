//! Domain values as RFC 7946 GeoJSON features: `[lon, lat]`, an `id` on
//! every feature, and typed properties ([`TownProperties`], …) that the
//! OpenAPI document shows.

use chrono::NaiveDate;
use geo::Geometry as GeoGeometry;
use serde::Serialize;
use serde_json::{Map, Value};

use super::geojson_types::{Feature, FeatureCollection, Geometry};
use crate::domain::{
    Category, District, Funding, Grid, Project, ProjectStatus, Stored, Town, TownKind, Venue,
    VenueKind, Zone,
};

/// A domain value that can be shown as a feature.
pub trait ToFeature {
    /// The feature's properties.
    type Properties: Serialize + utoipa::ToSchema;
    fn properties(&self) -> Self::Properties;
    fn geometry(&self) -> Option<GeoGeometry<f64>>;
}

/// A stored value as a feature with its id.
pub fn feature<T: ToFeature>(s: &Stored<T>) -> Feature<T::Properties> {
    let geometry = s.value.geometry().as_ref().map(Geometry::from);
    Feature::new(s.id, geometry, s.value.properties())
}

/// A page of features with the OGC API - Features counts.
pub fn collection<T: ToFeature>(
    items: &[Stored<T>],
    total: u64,
) -> FeatureCollection<T::Properties> {
    FeatureCollection::new(items.iter().map(feature).collect(), total)
}

fn area(m: &geo::MultiPolygon<f64>) -> GeoGeometry<f64> {
    GeoGeometry::MultiPolygon(m.clone())
}

/// A town (镇/街道).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TownProperties {
    code: String,
    name: String,
    name_en: String,
    kind: TownKind,
    /// The boundary is an approximation.
    approximate: bool,
    note: String,
}

impl ToFeature for Town {
    type Properties = TownProperties;
    fn properties(&self) -> TownProperties {
        TownProperties {
            code: self.code.clone(),
            name: self.name.clone(),
            name_en: self.name_en.clone(),
            kind: self.kind,
            approximate: self.approximate,
            note: self.note.clone(),
        }
    }
    fn geometry(&self) -> Option<GeoGeometry<f64>> {
        Some(area(&self.geometry))
    }
}

/// A management zone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ZoneProperties {
    code: String,
    name: String,
    town: String,
    manager: String,
}

impl ToFeature for Zone {
    type Properties = ZoneProperties;
    fn properties(&self) -> ZoneProperties {
        ZoneProperties {
            code: self.code.clone(),
            name: self.name.clone(),
            town: self.town.clone(),
            manager: self.manager.clone(),
        }
    }
    fn geometry(&self) -> Option<GeoGeometry<f64>> {
        self.geometry.as_ref().map(area)
    }
}

/// A patrol grid: a compacted set of H3 cells.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridProperties {
    code: String,
    name: String,
    zone: String,
    town: String,
    manager: String,
    patrol_interval_days: u32,
    /// The H3 resolution of the grid's cells.
    resolution: u8,
    /// The compacted cells (H3 hex).
    cells: Vec<String>,
    /// The cells at `resolution`.
    cell_count: usize,
}

impl ToFeature for Grid {
    type Properties = GridProperties;
    fn properties(&self) -> GridProperties {
        GridProperties {
            code: self.code.clone(),
            name: self.name.clone(),
            zone: self.zone.clone(),
            town: self.town.clone(),
            manager: self.manager.clone(),
            patrol_interval_days: self.patrol_interval_days,
            resolution: u8::from(self.resolution),
            cells: self.cells.iter().map(ToString::to_string).collect(),
            cell_count: self.expanded_cells().count(),
        }
    }
    fn geometry(&self) -> Option<GeoGeometry<f64>> {
        self.geometry.as_ref().map(area)
    }
}

/// A commercial district (商圈), with the properties it was imported with.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DistrictProperties {
    code: String,
    name: String,
    /// Whether it has a one-stop registration plan.
    one_stop_plan: bool,
    /// The other properties of the imported feature.
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl ToFeature for District {
    type Properties = DistrictProperties;
    fn properties(&self) -> DistrictProperties {
        let mut other = self.properties.clone();
        for k in ["code", "name", "one_stop_plan"] {
            other.remove(k);
        }
        DistrictProperties {
            code: self.code.clone(),
            name: self.name.clone(),
            one_stop_plan: self.one_stop_plan,
            other,
        }
    }
    fn geometry(&self) -> Option<GeoGeometry<f64>> {
        Some(area(&self.geometry))
    }
}

/// A crowded venue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VenueProperties {
    code: String,
    name: String,
    kind: VenueKind,
    /// The geometry is a stand-in (e.g. a point for a building).
    proxy: bool,
    source: String,
}

impl ToFeature for Venue {
    type Properties = VenueProperties;
    fn properties(&self) -> VenueProperties {
        VenueProperties {
            code: self.code.clone(),
            name: self.name.clone(),
            kind: self.kind,
            proxy: self.proxy,
            source: self.source.clone(),
        }
    }
    fn geometry(&self) -> Option<GeoGeometry<f64>> {
        Some(self.geometry.clone())
    }
}

/// A small construction work (小微工程).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the ledger's yes/no columns, as the API shows them"
)]
pub struct ProjectProperties {
    code: String,
    name: String,
    category: Category,
    funding: Funding,
    investment_cny: i64,
    floor_area_m2: Option<f64>,
    status: ProjectStatus,
    started_on: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    hot_work: bool,
    insulation: bool,
    steel_mezzanine: bool,
    insured: bool,
    address: String,
    town: Option<String>,
    /// Above the limit of small works (限额以上): not a small work.
    above_limit: bool,
}

/// The API properties of a project without `above_limit`: the base a
/// PATCH merges into.
#[must_use]
pub fn project_properties(p: &Project) -> Map<String, Value> {
    let mut m = match serde_json::to_value(p.properties()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    m.remove("above_limit");
    m
}

impl ToFeature for Project {
    type Properties = ProjectProperties;
    fn properties(&self) -> ProjectProperties {
        ProjectProperties {
            code: self.code.clone(),
            name: self.name.clone(),
            category: self.category,
            funding: self.funding,
            investment_cny: self.investment_cny,
            floor_area_m2: self.floor_area_m2,
            status: self.status,
            started_on: self.started_on,
            completed_on: self.completed_on,
            hot_work: self.hot_work,
            insulation: self.insulation,
            steel_mezzanine: self.steel_mezzanine,
            insured: self.insured,
            address: self.address.clone(),
            town: self.town.clone(),
            above_limit: self.above_limit(),
        }
    }
    fn geometry(&self) -> Option<GeoGeometry<f64>> {
        Some(self.geometry.clone())
    }
}
