//! The GeoJSON answers as typed values: a [`Feature`] of typed properties
//! and a [`FeatureCollection`] with the OGC API - Features counts. They
//! serialise as RFC 7946 and document themselves in the OpenAPI document,
//! the geometry included (type and coordinates), so a client sees the
//! properties of every resource.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

/// `"Feature"`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum FeatureType {
    Feature,
}

/// `"FeatureCollection"`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum FeatureCollectionType {
    FeatureCollection,
}

/// A feature's id: a stored id, or an H3 cell (hex) for coverage cells.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum FeatureId {
    Number(i64),
    Text(String),
}

/// An RFC 7946 geometry, `[lon, lat]` in WGS-84 degrees: a value, or its
/// GeoJSON text made once and shared (the hexagon of an H3 cell).
#[derive(Debug, Clone)]
pub struct Geometry(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Value(geojson::Geometry),
    Text(Arc<RawValue>),
}

impl Geometry {
    /// A geometry already serialised as GeoJSON.
    #[must_use]
    pub fn from_text(text: Arc<RawValue>) -> Self {
        Self(Repr::Text(text))
    }
}

impl Serialize for Geometry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Value(g) => g.serialize(s),
            Repr::Text(t) => t.serialize(s),
        }
    }
}

impl From<geojson::Geometry> for Geometry {
    fn from(g: geojson::Geometry) -> Self {
        Self(Repr::Value(g))
    }
}

impl From<&geo::Geometry<f64>> for Geometry {
    fn from(g: &geo::Geometry<f64>) -> Self {
        Self::from(geojson::Geometry::from(geojson::GeometryValue::from(g)))
    }
}

/// An array of `depth` levels of positions.
fn nested(depth: usize) -> ArrayBuilder {
    let position = ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double))),
        )
        .min_items(Some(2))
        .max_items(Some(3))
        .description(Some("[lon, lat] in WGS-84 degrees"));
    (1..depth).fold(position, |inner, _| ArrayBuilder::new().items(inner))
}

fn shape(kind: &str, depth: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .title(Some(kind))
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([kind])),
        )
        .required("type")
        .property("coordinates", nested(depth))
        .required("coordinates")
}

impl PartialSchema for Geometry {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some("An RFC 7946 geometry"))
            .item(shape("Point", 1))
            .item(shape("MultiPoint", 2))
            .item(shape("LineString", 2))
            .item(shape("MultiLineString", 3))
            .item(shape("Polygon", 3))
            .item(shape("MultiPolygon", 4))
            .into()
    }
}

impl ToSchema for Geometry {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Geometry")
    }
}

/// A GeoJSON Feature of properties `P`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feature<P> {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub id: FeatureId,
    pub geometry: Option<Geometry>,
    pub properties: P,
}

impl<P> Feature<P> {
    /// A feature with a stored id.
    pub fn new(id: i64, geometry: Option<Geometry>, properties: P) -> Self {
        Self {
            kind: FeatureType::Feature,
            id: FeatureId::Number(id),
            geometry,
            properties,
        }
    }

    /// A feature with a text id (an H3 cell).
    pub fn named(id: String, geometry: Option<Geometry>, properties: P) -> Self {
        Self {
            kind: FeatureType::Feature,
            id: FeatureId::Text(id),
            geometry,
            properties,
        }
    }
}

/// The geometry of a site a client writes: a Point, Polygon or
/// MultiPolygon, `[lon, lat]` (WGS-84 unless `crs` says otherwise).
#[derive(Debug, Clone)]
pub struct SiteGeometry;

impl PartialSchema for SiteGeometry {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(
                "A Point, or a Polygon or MultiPolygon without self-intersections, inside the district",
            ))
            .item(shape("Point", 1))
            .item(shape("Polygon", 3))
            .item(shape("MultiPolygon", 4))
            .into()
    }
}

impl ToSchema for SiteGeometry {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SiteGeometry")
    }
}

/// A GeoJSON Feature as a client writes it: a site and properties `P`
/// (any `id` is ignored).
#[derive(Debug, Clone, ToSchema)]
pub struct FeatureIn<P> {
    #[serde(rename = "type")]
    pub kind: FeatureType,
    pub geometry: SiteGeometry,
    pub properties: P,
}

/// A page of features with the OGC API - Features counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureCollection<P> {
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    pub features: Vec<Feature<P>>,
    /// Features matching the query.
    #[serde(rename = "numberMatched")]
    pub number_matched: u64,
    /// Features in this page.
    #[serde(rename = "numberReturned")]
    pub number_returned: usize,
}

impl<P> FeatureCollection<P> {
    #[must_use]
    pub fn new(features: Vec<Feature<P>>, total: u64) -> Self {
        Self {
            kind: FeatureCollectionType::FeatureCollection,
            number_returned: features.len(),
            number_matched: total,
            features,
        }
    }
}
