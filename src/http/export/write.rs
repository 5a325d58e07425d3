//! A [`Table`] as a file: CSV (UTF-8 with a byte-order mark so Excel reads
//! the Chinese, Chinese headers), XLSX (the 台账 workbook's style: Chinese
//! headers, a frozen header row, fitted widths), GeoJSON, and through
//! [`super::gis`] FlatGeobuf and GeoPackage.

use serde_json::{Map, Value};

use super::Format;
use super::gis;
use super::table::Table;
use crate::service::workbook::{Sheet, write_xlsx};

/// Why a file could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("geometry: {0}")]
    Geometry(#[from] geozero::error::GeozeroError),
    #[error("flatgeobuf: {0}")]
    FlatGeobufFile(#[from] flatgeobuf::Error),
    #[error("geopackage: {0}")]
    GeoPackage(#[from] sqlx::Error),
    #[error("scratch file: {0}")]
    Io(#[from] std::io::Error),
}

/// The table in a format.
pub fn file(t: &Table, format: Format) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Csv => csv_bytes(t),
        Format::Xlsx => xlsx_bytes(t),
        Format::GeoJson => geojson_bytes(t),
        Format::FlatGeobuf => gis::flatgeobuf(t),
        // a blocking thread of the runtime: the SQLite file is written here
        Format::GeoPackage => tokio::runtime::Handle::current().block_on(gis::geopackage(t)),
    }
}

fn csv_bytes(t: &Table) -> Result<Vec<u8>, ExportError> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(t.headers())?;
    for r in &t.rows {
        w.write_record(r.cells.iter().map(super::table::Cell::text))?;
    }
    w.into_inner().map_err(|e| ExportError::Io(e.into_error()))
}

fn xlsx_bytes(t: &Table) -> Result<Vec<u8>, ExportError> {
    let sheet = Sheet {
        name: t.title,
        headers: t.headers().collect(),
        rows: t
            .rows
            .iter()
            .map(|r| r.cells.iter().map(super::table::Cell::text).collect())
            .collect(),
    };
    Ok(write_xlsx(&[sheet])?)
}

fn geojson_bytes(t: &Table) -> Result<Vec<u8>, ExportError> {
    let features: Vec<Value> = t
        .rows
        .iter()
        .map(|r| {
            let props: Map<String, Value> = t
                .columns
                .iter()
                .zip(&r.cells)
                .map(|(c, v)| (c.key.to_owned(), v.json()))
                .collect();
            let geometry = r
                .geometry
                .as_ref()
                .and_then(|g| serde_json::to_value(geojson::Geometry::from(g)).ok())
                .unwrap_or(Value::Null);
            serde_json::json!({"type": "Feature", "geometry": geometry, "properties": props})
        })
        .collect();
    Ok(serde_json::to_vec(&serde_json::json!({
        "type": "FeatureCollection",
        "name": t.title,
        "features": features,
    }))?)
}
