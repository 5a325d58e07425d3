//! The control flow both SQL backends share, written once over a
//! [`Dialect`]: what differs between PostgreSQL and SQLite (how a value is
//! bound and read back, id lists, time, the spatial prefilter, geometry in
//! and out, running a query) is a method of the dialect; the order of the
//! statements, the transactions and the decoding of rows into records live
//! here (`layers`, `inspections`, `access`, `tracks`, `routes`).
//!
//! A backend is a [`SqlBackend`]: a pool of a dialect's database. Every
//! `SqlBackend` is a [`Store`](super::Store) through the blanket
//! implementations of this module's children.

pub mod access;
pub mod casefile;
pub mod evaluation;
pub mod idempotency;
pub mod inspections;
pub mod layers;
pub mod notify;
pub mod places;
pub mod routes;
pub mod tracks;
pub mod wkb;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Pool, QueryBuilder};

use super::layer::ColType;
use super::version_watch::VersionWatch;
use super::{Backend, Layer, StoreError, Value};
use crate::spatial::LonLat;

/// What a query builder over a dialect's database is.
pub type Qb<'a, D> = QueryBuilder<'a, D>;

/// The SQL dialect of a backend: binding, reading and running, the parts
/// of SQL that are spelt differently, and the spatial operations.
#[async_trait]
pub trait Dialect: sqlx::Database {
    /// Which backend this dialect is.
    const BACKEND: Backend;
    /// A `where` clause that matches everything, to append `and ...` to.
    const WHERE_ALL: &'static str;
    /// Locks the row a `select` reads until the end of the transaction.
    const FOR_UPDATE: &'static str;
    /// Tests whether two row values differ, nulls being equal.
    const DISTINCT: &'static str;
    /// Whether the spatial filters (towns without a town column, grids)
    /// are answered in SQL; when not, [`layers`] filters the rows in Rust.
    const SPATIAL_SQL: bool;
    /// Whether a time is stored as integer milliseconds in a `*_ms` column
    /// where the other dialect has a `*_at` (or `at`) column.
    const TIME_AS_MS: bool;

    /// The stored column of the time column `col` (`t.found_at`).
    #[must_use]
    fn time_col(col: &str) -> String {
        let (prefix, name) = col.rsplit_once('.').map_or(("", col), |(p, n)| (p, n));
        let dot = if prefix.is_empty() { "" } else { "." };
        match name.strip_suffix("_at").or((name == "at").then_some("at")) {
            Some(base) if Self::TIME_AS_MS => format!("{prefix}{dot}{base}_ms"),
            _ => col.to_owned(),
        }
    }

    /// A column list with the stored time columns; in a `select` list they
    /// are named as the time column (`found_ms as found_at`).
    #[must_use]
    fn columns(cols: &[&str], select: bool) -> String {
        cols.iter()
            .map(|c| {
                let stored = Self::time_col(c);
                if select && stored != *c {
                    let name = c.rsplit_once('.').map_or(*c, |(_, n)| n);
                    format!("{stored} as {name}")
                } else {
                    stored
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn bind_i64(qb: &mut Qb<'_, Self>, v: Option<i64>);
    fn bind_text(qb: &mut Qb<'_, Self>, v: Option<String>);
    fn bind_bytes(qb: &mut Qb<'_, Self>, v: Vec<u8>);
    fn bind_time(qb: &mut Qb<'_, Self>, v: Option<DateTime<Utc>>);
    fn bind_date(qb: &mut Qb<'_, Self>, v: Option<NaiveDate>);
    fn bind_json(qb: &mut Qb<'_, Self>, v: Option<serde_json::Value>);
    fn bind_value(qb: &mut Qb<'_, Self>, v: &Value);

    fn bind_f64(qb: &mut Qb<'_, Self>, v: Option<f64>);
    fn bind_bool(qb: &mut Qb<'_, Self>, v: Option<bool>);
    /// A list of integers kept in one column (`times_ms`).
    fn bind_i64s(qb: &mut Qb<'_, Self>, v: Vec<i64>);

    /// `COL = one of the values`; an empty list matches nothing.
    fn push_text_is_in(qb: &mut Qb<'_, Self>, col: &str, values: &[String]);
    /// `COL = one of the ids`; an empty list matches nothing.
    fn push_id_is_in(qb: &mut Qb<'_, Self>, col: &str, values: &[i64]);
    /// ` and COL = one of the values`; an empty list matches nothing.
    fn push_text_in(qb: &mut Qb<'_, Self>, col: &str, values: &[String]) {
        qb.push(" and ");
        Self::push_text_is_in(qb, col, values);
    }
    /// The ids as a `from` item `ids` of one column `id`, one row each.
    fn push_id_rows(qb: &mut Qb<'_, Self>, values: &[i64]);
    /// ` and COL = one of the ids`; an empty list matches nothing.
    fn push_id_in(qb: &mut Qb<'_, Self>, col: &str, values: &[i64]) {
        qb.push(" and ");
        Self::push_id_is_in(qb, col, values);
    }
    /// ` and` the row `t` may intersect the bbox (an index prefilter).
    fn push_bbox(qb: &mut Qb<'_, Self>, bbox: [f64; 4]);

    /// The select list of a layer from `t`: id, typed columns, the
    /// geometry as GeoJSON text (`geom`) and, for grids, the cells.
    fn layer_select(layer: Layer) -> String;
    /// The cells of a grid row.
    fn get_cells(row: &Self::Row) -> Result<Vec<u64>, StoreError>;
    /// The columns a geometry is stored in, `geom` first.
    const GEOM_COLUMNS: &'static [&'static str];
    /// The values of [`Self::GEOM_COLUMNS`], separated by commas.
    fn push_geom_values(qb: &mut Qb<'_, Self>, layer: Layer, g: Option<&geo::Geometry<f64>>);
    /// `geom = ...` for every column of [`Self::GEOM_COLUMNS`].
    fn push_geom_assign(qb: &mut Qb<'_, Self>, layer: Layer, g: Option<&geo::Geometry<f64>>);
    /// The value a stored `geom` is compared with.
    fn push_geom_compared(qb: &mut Qb<'_, Self>, layer: Layer, g: Option<&geo::Geometry<f64>>);
    /// The current time as a time column keeps it (milliseconds in a
    /// `*_ms` column on a dialect with [`Self::TIME_AS_MS`]).
    const NOW: &'static str;

    /// The smaller and the greater of two values (`least(a, b)`).
    const LEAST: &'static str;
    const GREATEST: &'static str;
    /// What makes the reads of a transaction one snapshot, run first in it
    /// (empty where every transaction already is one).
    const SNAPSHOT: &'static str;
    /// An integer column (of any width) as the select list reads it, `i64`.
    #[must_use]
    fn int_col(col: &str) -> String {
        col.to_owned()
    }
    /// A geometry column as GeoJSON text in a select list, named `col`.
    fn geojson_col(col: &str, precision: u8) -> String;
    /// A track's lines column in a select list, named as the column, for
    /// [`Self::get_lines`]: GeoJSON text unless the dialect keeps lines
    /// otherwise.
    #[must_use]
    fn lines_col(col: &str) -> String {
        Self::geojson_col(col, 9)
    }
    /// The lines of a column selected by [`Self::lines_col`].
    fn get_lines(row: &Self::Row, col: &str) -> Result<geo::Geometry<f64>, StoreError> {
        let text = Self::get_text(row, col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))?;
        crate::spatial::geometry_from_geojson(&text).map_err(StoreError::Corrupt)
    }
    /// A geometry from GeoJSON text, for a single `geom` column.
    fn push_geojson(qb: &mut Qb<'_, Self>, json: String);
    /// The values of [`Self::GEOM_COLUMNS`] for a geometry that is not a
    /// layer's (a track's lines), separated by commas.
    fn push_shape_values(qb: &mut Qb<'_, Self>, g: &geo::Geometry<f64>);
    /// `geom = ...` for every column of [`Self::GEOM_COLUMNS`], for a
    /// geometry that is not a layer's.
    fn push_shape_assign(qb: &mut Qb<'_, Self>, g: &geo::Geometry<f64>);
    /// The columns a point is stored in.
    const POINT_COLUMNS: &'static str;
    /// The select list of a stored point, as `lon` and `lat`.
    const POINT_SELECT: &'static str;
    /// The values of [`Self::POINT_COLUMNS`].
    fn push_point(qb: &mut Qb<'_, Self>, p: LonLat);

    fn get_i64(row: &Self::Row, col: &str) -> Result<Option<i64>, StoreError>;
    fn get_text(row: &Self::Row, col: &str) -> Result<Option<String>, StoreError>;
    fn get_bytes(row: &Self::Row, col: &str) -> Result<Vec<u8>, StoreError>;
    fn get_f64(row: &Self::Row, col: &str) -> Result<Option<f64>, StoreError>;
    fn get_bool(row: &Self::Row, col: &str) -> Result<Option<bool>, StoreError>;
    fn get_i64s(row: &Self::Row, col: &str) -> Result<Vec<i64>, StoreError>;
    fn get_time(row: &Self::Row, col: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn get_date(row: &Self::Row, col: &str) -> Result<Option<NaiveDate>, StoreError>;
    fn get_json(row: &Self::Row, col: &str) -> Result<Option<serde_json::Value>, StoreError>;
    fn get_value(row: &Self::Row, col: &str, ty: ColType) -> Result<Value, StoreError>;

    async fn fetch_all(
        conn: &mut Self::Connection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<Vec<Self::Row>, sqlx::Error>;
    async fn fetch_optional(
        conn: &mut Self::Connection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<Option<Self::Row>, sqlx::Error>;
    /// Runs a statement; the number of rows it changed.
    async fn execute(
        conn: &mut Self::Connection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<u64, sqlx::Error>;

    /// Adds the visits of new tracks in bulk (PostgreSQL `COPY`, SQLite
    /// prepared multi-row inserts): plain rows, so no row may exist yet for
    /// a visit's `(track_id, cell)`.
    async fn insert_new_visits(
        conn: &mut Self::Connection,
        visits: &[super::tracks::StoredVisit],
    ) -> Result<(), sqlx::Error>;

    /// Keeps the hexagon of each cell for GIS clients where the database
    /// cannot compute it (PostGIS: the QGIS views of migration 0014 join
    /// `cell_shape`); nothing to do elsewhere.
    async fn keep_cell_shapes(
        _conn: &mut Self::Connection,
        _cells: &[u64],
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// The binds and reads that are the same on every dialect (sqlx encodes
/// and decodes these types natively everywhere), for a dialect's `impl`.
macro_rules! native_dialect_methods {
    () => {
        fn bind_i64(qb: &mut $crate::store::sql::Qb<'_, Self>, v: Option<i64>) {
            qb.push_bind(v);
        }
        fn bind_text(qb: &mut $crate::store::sql::Qb<'_, Self>, v: Option<String>) {
            qb.push_bind(v);
        }
        fn bind_bytes(qb: &mut $crate::store::sql::Qb<'_, Self>, v: Vec<u8>) {
            qb.push_bind(v);
        }
        fn bind_f64(qb: &mut $crate::store::sql::Qb<'_, Self>, v: Option<f64>) {
            qb.push_bind(v);
        }
        fn bind_bool(qb: &mut $crate::store::sql::Qb<'_, Self>, v: Option<bool>) {
            qb.push_bind(v);
        }
        fn get_i64(row: &Self::Row, col: &str) -> Result<Option<i64>, StoreError> {
            Ok(sqlx::Row::try_get(row, col)?)
        }
        fn get_text(row: &Self::Row, col: &str) -> Result<Option<String>, StoreError> {
            Ok(sqlx::Row::try_get(row, col)?)
        }
        fn get_bytes(row: &Self::Row, col: &str) -> Result<Vec<u8>, StoreError> {
            Ok(sqlx::Row::try_get(row, col)?)
        }
        fn get_f64(row: &Self::Row, col: &str) -> Result<Option<f64>, StoreError> {
            Ok(sqlx::Row::try_get(row, col)?)
        }
        fn get_bool(row: &Self::Row, col: &str) -> Result<Option<bool>, StoreError> {
            Ok(sqlx::Row::try_get(row, col)?)
        }
    };
}
pub(crate) use native_dialect_methods;

/// A store on a pool of a dialect's database.
pub trait SqlBackend: Send + Sync + 'static {
    type Db: Dialect;
    fn sql_pool(&self) -> &Pool<Self::Db>;

    /// Begins a write transaction. SQLite has one writer at a time: the
    /// store's writers queue for their turn here (in order) and then take
    /// the write lock at `BEGIN IMMEDIATE`, so no transaction finds the
    /// database locked halfway through; PostgreSQL begins as usual.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<WriteTx<Self::Db>, sqlx::Error>> + Send;

    /// The listener of announced data versions, where the backend has one.
    fn version_watch(&self) -> Option<&Arc<VersionWatch>> {
        None
    }
}

/// A write transaction and, on SQLite, the writer's turn it holds until it
/// commits or is dropped (a drop rolls back).
pub struct WriteTx<D: sqlx::Database> {
    tx: sqlx::Transaction<'static, D>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Told of the commit: the data version may have moved.
    watch: Option<Arc<VersionWatch>>,
}

impl<D: sqlx::Database> WriteTx<D> {
    #[must_use]
    pub fn new(
        tx: sqlx::Transaction<'static, D>,
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Self {
        Self {
            tx,
            _turn: turn,
            watch: None,
        }
    }

    /// The same transaction, telling `watch` of its commit.
    #[must_use]
    pub fn watched(mut self, watch: Option<Arc<VersionWatch>>) -> Self {
        self.watch = watch;
        self
    }

    /// Commits; the answer is sent only after this returns `Ok`.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        if let Some(w) = &self.watch {
            w.forget();
        }
        Ok(())
    }
}

impl<D: sqlx::Database> std::ops::Deref for WriteTx<D> {
    type Target = D::Connection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<D: sqlx::Database> std::ops::DerefMut for WriteTx<D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The first row, or the error of a query that found none.
pub async fn fetch_one<D: Dialect>(
    conn: &mut D::Connection,
    qb: &mut Qb<'_, D>,
) -> Result<D::Row, sqlx::Error> {
    D::fetch_optional(conn, qb)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// A column that may not be null.
pub fn required<T>(v: Option<T>, col: &str) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))
}

/// A new query builder starting with `sql`.
pub fn qb<'a, D: Dialect>(sql: impl Into<String>) -> Qb<'a, D> {
    QueryBuilder::new(sql)
}

/// Row readers that name the column once.
pub struct RowReader<'r, D: Dialect>(pub &'r D::Row);

impl<D: Dialect> RowReader<'_, D> {
    pub fn i64(&self, col: &str) -> Result<i64, StoreError> {
        required(D::get_i64(self.0, col)?, col)
    }
    pub fn opt_i64(&self, col: &str) -> Result<Option<i64>, StoreError> {
        D::get_i64(self.0, col)
    }
    pub fn text(&self, col: &str) -> Result<String, StoreError> {
        required(D::get_text(self.0, col)?, col)
    }
    pub fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        D::get_text(self.0, col)
    }
    pub fn time(&self, col: &str) -> Result<DateTime<Utc>, StoreError> {
        required(D::get_time(self.0, col)?, col)
    }
    pub fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        D::get_time(self.0, col)
    }
    pub fn date(&self, col: &str) -> Result<NaiveDate, StoreError> {
        required(D::get_date(self.0, col)?, col)
    }
    pub fn f64(&self, col: &str) -> Result<f64, StoreError> {
        required(D::get_f64(self.0, col)?, col)
    }
    pub fn bool(&self, col: &str) -> Result<bool, StoreError> {
        required(D::get_bool(self.0, col)?, col)
    }
    pub fn json(&self, col: &str) -> Result<serde_json::Value, StoreError> {
        required(D::get_json(self.0, col)?, col)
    }
    pub fn opt_json(&self, col: &str) -> Result<Option<serde_json::Value>, StoreError> {
        D::get_json(self.0, col)
    }
    /// A text column parsed into `T`.
    pub fn parse<T: std::str::FromStr>(&self, col: &str) -> Result<T, StoreError> {
        let s = self.text(col)?;
        s.parse().map_err(|_| super::inspection::bad_value(col, &s))
    }
}

/// One bound argument of a statement, typed as its column is.
pub enum Arg {
    I64(Option<i64>),
    Text(Option<String>),
    Bytes(Vec<u8>),
    F64(Option<f64>),
    Bool(Option<bool>),
    I64s(Vec<i64>),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Json(Option<serde_json::Value>),
}

impl Arg {
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(Some(s.into()))
    }
    #[must_use]
    pub fn time(t: DateTime<Utc>) -> Self {
        Self::Time(Some(t))
    }
}

/// Binds one argument.
pub fn bind<D: Dialect>(qb: &mut Qb<'_, D>, arg: Arg) {
    match arg {
        Arg::I64(v) => D::bind_i64(qb, v),
        Arg::Text(v) => D::bind_text(qb, v),
        Arg::Bytes(v) => D::bind_bytes(qb, v),
        Arg::F64(v) => D::bind_f64(qb, v),
        Arg::Bool(v) => D::bind_bool(qb, v),
        Arg::I64s(v) => D::bind_i64s(qb, v),
        Arg::Time(v) => D::bind_time(qb, v),
        Arg::Date(v) => D::bind_date(qb, v),
        Arg::Json(v) => D::bind_json(qb, v),
    }
}

/// Binds the arguments separated by commas.
pub fn bind_list<D: Dialect>(qb: &mut Qb<'_, D>, args: impl IntoIterator<Item = Arg>) {
    for (i, arg) in args.into_iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        bind(qb, arg);
    }
}
