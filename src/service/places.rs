//! Named places (bus stops, 公交站) from a GeoJSON file of points: read,
//! checked whole (a bad feature refuses the file, naming it), and stored in
//! place of the previous set in one transaction. They join the gazetteer
//! that names cells, route stops and blind spots, and label the desk map
//! at street zoom.

use std::path::Path;

use geojson::{GeoJson, GeometryValue};

use super::ServiceError;
use crate::domain::{Invalid, check_code, check_name};
use crate::naming::{NamedPlace, PlaceKind};
use crate::spatial::LonLat;
use crate::store::DynStore;
use crate::store::places::StoredPlace;

/// Reads the named places of a GeoJSON FeatureCollection of points: each
/// with a `name` (at most 200 characters) and optionally a `code`.
pub fn parse_places(text: &str) -> Result<Vec<StoredPlace>, Invalid> {
    let gj: GeoJson = text
        .parse()
        .map_err(|e| Invalid::new("file", format!("不是 GeoJSON (not GeoJSON): {e}")))?;
    let GeoJson::FeatureCollection(fc) = gj else {
        return Err(Invalid::new(
            "file",
            "须为 FeatureCollection (must be a FeatureCollection of points)",
        ));
    };
    let mut out = Vec::with_capacity(fc.features.len());
    for (i, f) in fc.features.iter().enumerate() {
        let field = |name: &str| format!("features[{i}].{name}");
        let Some(GeometryValue::Point { coordinates: c }) = f.geometry.as_ref().map(|g| &g.value)
        else {
            return Err(Invalid::new(field("geometry"), "须为点 (must be a Point)"));
        };
        let (Some(lon), Some(lat)) = (c.as_slice().first(), c.as_slice().get(1)) else {
            return Err(Invalid::new(
                field("geometry"),
                "a Point needs two coordinates",
            ));
        };
        let position =
            LonLat::new(*lon, *lat).map_err(|e| Invalid::new(field("geometry"), e.to_string()))?;
        let text = |key: &str| {
            f.property(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let name = text("name");
        check_name(&field("properties.name"), &name)?;
        let code = text("code");
        if !code.is_empty() {
            check_code(&field("properties.code"), &code)?;
        }
        out.push(StoredPlace {
            place: NamedPlace {
                name,
                kind: PlaceKind::Stop,
                position,
            },
            code,
        });
    }
    Ok(out)
}

/// The stored named places, for a gazetteer.
pub async fn named(store: &DynStore) -> Result<Vec<NamedPlace>, ServiceError> {
    Ok(store
        .places(None)
        .await?
        .into_iter()
        .map(|p| p.place)
        .collect())
}

/// Replaces the stored named places with those of a GeoJSON file; how many.
pub async fn import_places_file(store: &DynStore, path: &Path) -> Result<usize, ServiceError> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|source| ServiceError::Io {
            path: path.display().to_string(),
            source,
        })?;
    let places = parse_places(&text)?;
    let source = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("places");
    Ok(store.replace_places(source, &places).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_with_names_are_read_and_a_bad_feature_is_named() {
        let ok = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[121.23,31.03]},"properties":{"name":"人民北路荣乐路","code":"SJ0001"}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[121.24,31.04]},"properties":{"name":" 荣乐东路 "}}]}"#;
        let places = parse_places(ok).expect("valid");
        assert_eq!(places.len(), 2);
        assert_eq!(places[1].place.name, "荣乐东路");
        assert_eq!(places[1].code, "");
        let line = ok.replacen(
            r#"{"type":"Point","coordinates":[121.24,31.04]}"#,
            r#"{"type":"LineString","coordinates":[[121.24,31.04],[121.25,31.05]]}"#,
            1,
        );
        assert_eq!(
            parse_places(&line).expect_err("a line").field,
            "features[1].geometry"
        );
        let unnamed = ok.replacen(r#""name":" 荣乐东路 ""#, r#""name":"""#, 1);
        assert_eq!(
            parse_places(&unnamed).expect_err("no name").field,
            "features[1].properties.name"
        );
        assert_eq!(
            parse_places("[]").expect_err("not a collection").field,
            "file"
        );
    }
}
