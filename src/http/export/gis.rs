//! The GIS files: FlatGeobuf (the `flatgeobuf` crate over geozero, the
//! geometry type per feature since a list may mix points and polygons) and
//! GeoPackage (a SQLite file written with the SQLite we already link: the
//! GPKG 1.3 core tables, the geometry in GeoPackage binary from geozero,
//! the Chinese list name as the layer's identifier; a list without
//! geometry is an attributes table). Field names are the API's keys, the
//! Chinese headers are the FlatGeobuf columns' titles; EPSG:4326.

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::BoundingRect;
use geozero::error::GeozeroError;
use geozero::{ColumnValue, CoordDimensions, GeomProcessor, GeozeroGeometry, ToWkb};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::specs::Kind;
use super::table::{Cell, Table};
use super::write::ExportError;

/// A row's geometry, or none.
struct RowGeometry<'a>(Option<&'a geo::Geometry<f64>>);

impl GeozeroGeometry for RowGeometry<'_> {
    fn process_geom<P: GeomProcessor>(&self, processor: &mut P) -> Result<(), GeozeroError> {
        match self.0 {
            Some(g) => g.process_geom(processor),
            None => Ok(()),
        }
    }
}

fn fgb_type(kind: Kind) -> ColumnType {
    match kind {
        Kind::Int => ColumnType::Long,
        Kind::Num | Kind::Percent => ColumnType::Double,
        Kind::Bool => ColumnType::Bool,
        _ => ColumnType::String,
    }
}

/// The table as FlatGeobuf, with its spatial index when every row has a
/// geometry.
pub fn flatgeobuf(t: &Table) -> Result<Vec<u8>, ExportError> {
    let all_located = t.rows.iter().all(|r| r.geometry.is_some());
    let mut fgb = FgbWriter::create_with_options(
        t.file,
        GeometryType::Unknown,
        FgbWriterOptions {
            write_index: all_located && !t.rows.is_empty(),
            detect_type: false,
            promote_to_multi: false,
            crs: FgbCrs {
                code: 4326,
                ..FgbCrs::default()
            },
            title: Some(t.title),
            ..FgbWriterOptions::default()
        },
    )?;
    for c in t.columns {
        fgb.add_column(&c.key.replace('.', "_"), fgb_type(c.kind), |fbb, col| {
            col.nullable = true;
            col.title = Some(fbb.create_string(c.zh));
        });
    }
    for r in &t.rows {
        fgb.add_feature_geom(RowGeometry(r.geometry.as_ref()), |f| {
            for (i, (c, v)) in t.columns.iter().zip(&r.cells).enumerate() {
                let text;
                let value = match v {
                    Cell::Null => continue,
                    Cell::Int(x) => ColumnValue::Long(*x),
                    Cell::Num(x) | Cell::Share(x) => ColumnValue::Double(*x),
                    Cell::Bool(b) => ColumnValue::Bool(*b),
                    Cell::Text(s) => {
                        text = s.clone();
                        ColumnValue::String(&text)
                    }
                };
                if let Err(e) = geozero::PropertyProcessor::property(f, i, c.key, &value) {
                    tracing::warn!(error = %e, column = c.key, "flatgeobuf property");
                }
            }
        })?;
    }
    let mut out = Vec::new();
    fgb.write(&mut out)?;
    Ok(out)
}

/// EPSG:4326 as GeoPackage's `gpkg_spatial_ref_sys` holds it.
const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// The core tables of GeoPackage 1.3 (OGC 12-128r18, §1.1 and §2.1).
const GPKG_CORE: &str = r"
pragma application_id = 1196444487;
pragma user_version = 10300;
create table gpkg_spatial_ref_sys (
  srs_name text not null, srs_id integer not null primary key, organization text not null,
  organization_coordsys_id integer not null, definition text not null, description text);
create table gpkg_contents (
  table_name text not null primary key, data_type text not null, identifier text unique,
  description text default '', last_change datetime not null default (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x double, min_y double, max_x double, max_y double, srs_id integer,
  constraint fk_gc_r_srs_id foreign key (srs_id) references gpkg_spatial_ref_sys(srs_id));
create table gpkg_geometry_columns (
  table_name text not null, column_name text not null, geometry_type_name text not null,
  srs_id integer not null, z tinyint not null, m tinyint not null,
  constraint pk_geom_cols primary key (table_name, column_name),
  constraint uk_gc_table_name unique (table_name),
  constraint fk_gc_tn foreign key (table_name) references gpkg_contents(table_name),
  constraint fk_gc_srs foreign key (srs_id) references gpkg_spatial_ref_sys (srs_id));
";

fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "integer",
        Kind::Num | Kind::Percent => "double",
        Kind::Bool => "boolean",
        _ => "text",
    }
}

/// The extent of the rows' geometries.
fn extent(t: &Table) -> Option<geo::Rect<f64>> {
    t.rows
        .iter()
        .filter_map(|r| r.geometry.as_ref()?.bounding_rect())
        .reduce(|a, b| {
            geo::Rect::new(
                geo::coord! {x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y)},
                geo::coord! {x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y)},
            )
        })
}

/// A geometry in GeoPackage binary with its envelope, EPSG:4326.
fn gpkg_geometry(g: &geo::Geometry<f64>) -> Result<Vec<u8>, ExportError> {
    let env = g
        .bounding_rect()
        .map(|b| vec![b.min().x, b.max().x, b.min().y, b.max().y])
        .unwrap_or_default();
    Ok(g.to_gpkg_wkb(CoordDimensions::xy(), Some(4326), env)?)
}

/// The table as a GeoPackage file.
pub async fn geopackage(t: &Table) -> Result<Vec<u8>, ExportError> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("export.gpkg");
    let mut db = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete),
    )
    .await?;
    sqlx::raw_sql(GPKG_CORE).execute(&mut db).await?;
    sqlx::query(
        "insert into gpkg_spatial_ref_sys values
         ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
         ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
         ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
    )
    .bind(WGS84_WKT)
    .execute(&mut db)
    .await?;
    let name = t.file.replace('-', "_");
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("\"{}\" {}", c.key.replace('.', "_"), sql_type(c.kind)))
        .collect();
    let geom_col = if t.spatial { "geom geometry, " } else { "" };
    sqlx::raw_sql(&format!(
        "create table \"{name}\" (fid integer primary key autoincrement not null, {geom_col}{})",
        cols.join(", ")
    ))
    .execute(&mut db)
    .await?;
    let extent = extent(t);
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&name)
    .bind(if t.spatial { "features" } else { "attributes" })
    .bind(t.title)
    .bind(t.headers().collect::<Vec<_>>().join("，"))
    .bind(extent.map(|e| e.min().x))
    .bind(extent.map(|e| e.min().y))
    .bind(extent.map(|e| e.max().x))
    .bind(extent.map(|e| e.max().y))
    .bind(t.spatial.then_some(4326))
    .execute(&mut *tx)
    .await?;
    if t.spatial {
        sqlx::query("insert into gpkg_geometry_columns values (?, 'geom', 'GEOMETRY', 4326, 0, 0)")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
    }
    let placeholders = vec!["?"; t.columns.len() + usize::from(t.spatial)].join(", ");
    let names: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.key.replace('.', "_")))
        .collect();
    let insert = format!(
        "insert into \"{name}\" ({}{}) values ({placeholders})",
        if t.spatial { "geom, " } else { "" },
        names.join(", ")
    );
    for r in &t.rows {
        let mut q = sqlx::query(&insert);
        if t.spatial {
            q = q.bind(r.geometry.as_ref().map(gpkg_geometry).transpose()?);
        }
        for v in &r.cells {
            q = match v {
                Cell::Null => q.bind(None::<String>),
                Cell::Text(s) => q.bind(s.clone()),
                Cell::Int(x) => q.bind(*x),
                Cell::Num(x) | Cell::Share(x) => q.bind(*x),
                Cell::Bool(b) => q.bind(*b),
            };
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    db.close().await?;
    Ok(tokio::fs::read(&path).await?)
}
