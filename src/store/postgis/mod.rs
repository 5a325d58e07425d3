//! The PostGIS backend, the system of record. Geometries go in and out as
//! GeoJSON through `ST_GeomFromGeoJSON` / `ST_AsGeoJSON`, bbox filters use
//! `&&` so the GiST indexes answer them, and every value is bound.

mod bulk;
mod cells;
mod layers;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Pool, Postgres, Row};

use crate::spatial::{LonLat, geometry_to_geojson};
use crate::store::layer::ColType;
use crate::store::sql::{self, Dialect, Qb, SqlBackend, WriteTx};
use crate::store::tracks::StoredVisit;
use crate::store::version_watch::VersionWatch;
use crate::store::{Backend, Layer, StoreError, Value};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostGIS store.
#[derive(Clone)]
pub struct PostgisStore {
    pool: PgPool,
    /// Announced data versions (a serving process; `None` in tests that
    /// hand in a pool).
    watch: Option<Arc<VersionWatch>>,
}

impl PostgisStore {
    /// Connects and migrates.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let opts: PgConnectOptions = url.parse().map_err(StoreError::Unavailable)?;
        // one direct attempt first: its error names the cause (refused,
        // unknown host, authentication) where the pool would only time out
        PgConnection::connect_with(&opts)
            .await
            .map_err(StoreError::Unavailable)?
            .close()
            .await
            .map_err(StoreError::Unavailable)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(StoreError::Unavailable)?;
        let store = Self::from_pool(pool).await?;
        Ok(Self {
            watch: Some(VersionWatch::spawn(store.pool.clone())),
            ..store
        })
    }

    /// Wraps a pool (e.g. one from `#[sqlx::test]`) and migrates.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        cells::backfill(&pool)
            .await
            .map_err(StoreError::Unavailable)?;
        Ok(Self { pool, watch: None })
    }

    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl SqlBackend for PostgisStore {
    type Db = Postgres;
    fn sql_pool(&self) -> &Pool<Postgres> {
        &self.pool
    }

    async fn begin_write(&self) -> Result<WriteTx<Postgres>, sqlx::Error> {
        Ok(WriteTx::new(self.pool.begin().await?, None).watched(self.watch.clone()))
    }

    fn version_watch(&self) -> Option<&Arc<VersionWatch>> {
        self.watch.as_ref()
    }
}

/// PostgreSQL: typed binds (`timestamptz`, `date`, `jsonb`), arrays for id
/// and integer lists, points and lines through PostGIS functions, `&&`
/// against an envelope for the GiST indexes.
#[async_trait]
impl Dialect for Postgres {
    sql::native_dialect_methods!();

    const BACKEND: Backend = Backend::Postgis;
    const WHERE_ALL: &'static str = "true";
    const FOR_UPDATE: &'static str = " for update";
    const DISTINCT: &'static str = " is distinct from ";
    const TIME_AS_MS: bool = false;
    const SPATIAL_SQL: bool = true;

    fn bind_time(qb: &mut Qb<'_, Self>, v: Option<DateTime<Utc>>) {
        qb.push_bind(v);
    }
    fn bind_date(qb: &mut Qb<'_, Self>, v: Option<NaiveDate>) {
        qb.push_bind(v);
    }
    fn bind_json(qb: &mut Qb<'_, Self>, v: Option<serde_json::Value>) {
        qb.push_bind(v);
    }
    fn bind_value(qb: &mut Qb<'_, Self>, v: &Value) {
        match v {
            Value::Text(s) => qb.push_bind(s.clone()),
            Value::OptText(s) => qb.push_bind(s.clone()),
            Value::Int(i) => qb.push_bind(*i),
            Value::OptReal(r) => qb.push_bind(*r),
            Value::Bool(b) => qb.push_bind(*b),
            Value::Date(d) => qb.push_bind(*d),
            Value::Json(j) => qb.push_bind(j.clone()),
        };
    }

    fn bind_i64s(qb: &mut Qb<'_, Self>, v: Vec<i64>) {
        qb.push_bind(v);
    }

    fn push_text_is_in(qb: &mut Qb<'_, Self>, col: &str, values: &[String]) {
        qb.push(format!("{col} = any("));
        qb.push_bind(values.to_vec());
        qb.push(")");
    }
    fn push_id_is_in(qb: &mut Qb<'_, Self>, col: &str, values: &[i64]) {
        qb.push(format!("{col} = any("));
        qb.push_bind(values.to_vec());
        qb.push(")");
    }
    fn push_id_rows(qb: &mut Qb<'_, Self>, values: &[i64]) {
        qb.push("unnest(");
        qb.push_bind(values.to_vec());
        qb.push(") as ids (id)");
    }
    fn push_bbox(qb: &mut Qb<'_, Self>, [a, b, c, d]: [f64; 4]) {
        qb.push(" and t.geom && st_makeenvelope(");
        let mut sep = qb.separated(", ");
        for v in [a, b, c, d] {
            sep.push_bind(v);
        }
        qb.push(", 4326)");
    }

    fn layer_select(layer: Layer) -> String {
        layers::select_list(layer)
    }
    fn get_cells(row: &PgRow) -> Result<Vec<u64>, StoreError> {
        layers::read_cells(row)
    }
    const GEOM_COLUMNS: &'static [&'static str] = &["geom"];
    fn push_geom_values(qb: &mut Qb<'_, Self>, layer: Layer, g: Option<&geo::Geometry<f64>>) {
        layers::push_geom(qb, layer, g);
    }
    fn push_geom_assign(qb: &mut Qb<'_, Self>, layer: Layer, g: Option<&geo::Geometry<f64>>) {
        qb.push("geom = ");
        layers::push_geom(qb, layer, g);
    }
    fn push_geom_compared(qb: &mut Qb<'_, Self>, layer: Layer, g: Option<&geo::Geometry<f64>>) {
        layers::push_geom(qb, layer, g);
    }
    const NOW: &'static str = "now()";

    const LEAST: &'static str = "least";
    const GREATEST: &'static str = "greatest";
    const SNAPSHOT: &'static str = "set transaction isolation level repeatable read";
    fn int_col(col: &str) -> String {
        let name = col.rsplit_once('.').map_or(col, |(_, n)| n);
        format!("{col}::bigint as {name}")
    }
    fn geojson_col(col: &str, precision: u8) -> String {
        let name = col.rsplit_once('.').map_or(col, |(_, n)| n);
        format!("st_asgeojson({col}, {precision}) as {name}")
    }
    fn push_geojson(qb: &mut Qb<'_, Self>, json: String) {
        qb.push("st_setsrid(st_geomfromgeojson(");
        qb.push_bind(json);
        qb.push("), 4326)");
    }
    fn push_shape_values(qb: &mut Qb<'_, Self>, g: &geo::Geometry<f64>) {
        push_shape(qb, g);
    }
    fn push_shape_assign(qb: &mut Qb<'_, Self>, g: &geo::Geometry<f64>) {
        qb.push("geom = ");
        push_shape(qb, g);
    }
    const POINT_COLUMNS: &'static str = "geom";
    const POINT_SELECT: &'static str = "st_x(geom) as lon, st_y(geom) as lat";
    fn push_point(qb: &mut Qb<'_, Self>, p: LonLat) {
        qb.push("st_setsrid(st_makepoint(");
        qb.push_bind(p.lon());
        qb.push(", ");
        qb.push_bind(p.lat());
        qb.push("), 4326)");
    }

    fn get_time(row: &PgRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(row.try_get(col)?)
    }
    fn get_i64s(row: &PgRow, col: &str) -> Result<Vec<i64>, StoreError> {
        Ok(row.try_get(col)?)
    }
    fn get_date(row: &PgRow, col: &str) -> Result<Option<NaiveDate>, StoreError> {
        Ok(row.try_get(col)?)
    }
    fn get_json(row: &PgRow, col: &str) -> Result<Option<serde_json::Value>, StoreError> {
        Ok(row.try_get(col)?)
    }
    fn get_value(row: &PgRow, n: &str, ty: ColType) -> Result<Value, StoreError> {
        Ok(match ty {
            ColType::Text => Value::Text(row.try_get(n)?),
            ColType::OptText => Value::OptText(row.try_get(n)?),
            ColType::Int => Value::Int(row.try_get(n)?),
            ColType::OptReal => Value::OptReal(row.try_get(n)?),
            ColType::Bool => Value::Bool(row.try_get(n)?),
            ColType::Date => Value::Date(row.try_get(n)?),
            ColType::Json => Value::Json(row.try_get(n)?),
        })
    }

    async fn fetch_all(
        conn: &mut PgConnection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        qb.build().fetch_all(conn).await
    }
    async fn fetch_optional(
        conn: &mut PgConnection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<Option<PgRow>, sqlx::Error> {
        qb.build().fetch_optional(conn).await
    }
    async fn execute(conn: &mut PgConnection, qb: &mut Qb<'_, Self>) -> Result<u64, sqlx::Error> {
        Ok(qb.build().execute(conn).await?.rows_affected())
    }
    async fn insert_new_visits(
        conn: &mut PgConnection,
        visits: &[StoredVisit],
    ) -> Result<(), sqlx::Error> {
        bulk::copy_visits(conn, visits).await?;
        let cells: Vec<u64> = visits.iter().map(|v| v.cell).collect();
        cells::keep(conn, &cells).await
    }
    async fn keep_cell_shapes(conn: &mut PgConnection, cells: &[u64]) -> Result<(), sqlx::Error> {
        cells::keep(conn, cells).await
    }
}

/// A track's lines as WKB (no text to parse on either side), other
/// geometries as GeoJSON.
fn push_shape(qb: &mut Qb<'_, Postgres>, g: &geo::Geometry<f64>) {
    if let Some(wkb) = crate::store::sql::wkb::lines_wkb(g) {
        qb.push("st_geomfromwkb(");
        qb.push_bind(wkb);
        qb.push(", 4326)");
    } else {
        Postgres::push_geojson(qb, geometry_to_geojson(g));
    }
}
