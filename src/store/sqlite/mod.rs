//! The embedded backend: SQLite through sqlx with its bundled library, so the
//! service runs with nothing installed. Geometries are GeoJSON text (a
//! track's lines WKB) with a bounding box in four columns (the `&&` of PostGIS); the exact spatial
//! town filter of layers without a town column is done here in Rust with geo.

mod bulk;
mod layers;
mod packed;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Pool, Row, Sqlite};

use crate::spatial::LonLat;
use crate::store::layer::ColType;
use crate::store::sql::{self, Dialect, Qb, SqlBackend, WriteTx};
use crate::store::tracks::StoredVisit;
use crate::store::{Backend, Layer, StoreError, Value};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// An embedded SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The one writer's turn: writers wait here, in order, for it.
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, or an
    /// in-memory database for `:memory:`, and migrates it.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        Self::open_with(path, None).await
    }

    /// As [`open`](Self::open), with the database file limited to
    /// `max_pages` pages (SQLite's `max_page_count`): a file that cannot
    /// grow, as on a full disk.
    pub async fn open_with(path: &str, max_pages: Option<u32>) -> Result<Self, StoreError> {
        let memory = path == ":memory:" || path.is_empty();
        let opts = if memory {
            SqliteConnectOptions::from_str("sqlite::memory:").map_err(StoreError::Unavailable)?
        } else {
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
        }
        .foreign_keys(true)
        .journal_mode(SqliteJournalMode::Wal)
        // a commit is on disk before it is acknowledged, power loss included
        .synchronous(SqliteSynchronous::Full)
        // 32 MiB of page cache a connection (2 MiB by default): a day of
        // tracks adds a million visits to three B-trees, whose pages stay
        // in memory instead of being read back and spilled again
        .pragma("cache_size", "-32768")
        .busy_timeout(Duration::from_secs(10));
        let opts = match max_pages {
            Some(n) => opts.pragma("max_page_count", n.to_string()),
            None => opts,
        };
        // an in-memory database lives in its one connection
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(u32::from(memory))
            .idle_timeout(if memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            // a connection is never handed out inside a transaction a
            // failed commit or rollback left open: it is closed instead
            .after_release(|conn, _| Box::pin(async move { Ok(outside_transaction(conn).await) }))
            .connect_with(opts)
            .await
            .map_err(StoreError::Unavailable)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(Self {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl SqlBackend for SqliteStore {
    type Db = Sqlite;
    fn sql_pool(&self) -> &Pool<Sqlite> {
        &self.pool
    }

    async fn begin_write(&self) -> Result<WriteTx<Sqlite>, sqlx::Error> {
        let turn = Arc::clone(&self.writer).lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx::new(tx, Some(turn)))
    }
}

/// Whether a released connection is outside any transaction, so it may go
/// back to the pool: `BEGIN` fails inside one (and the connection is then
/// closed, which rolls it back).
async fn outside_transaction(conn: &mut SqliteConnection) -> bool {
    use sqlx::Executor;
    if conn.execute("BEGIN").await.is_err() {
        tracing::warn!("a pooled SQLite connection was left inside a transaction; closing it");
        return false;
    }
    conn.execute("ROLLBACK").await.is_ok()
}

fn corrupt(col: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{col}: {e}"))
}

/// SQLite: times are integer milliseconds since the epoch, dates
/// `YYYY-MM-DD` text, JSON text; id lists and integer lists are JSON arrays
/// (`json_each`); points are `lon`, `lat` columns; the bbox prefilter reads
/// the four bbox columns.
#[async_trait]
impl Dialect for Sqlite {
    sql::native_dialect_methods!();

    const BACKEND: Backend = Backend::Sqlite;
    const WHERE_ALL: &'static str = "1";
    const FOR_UPDATE: &'static str = "";
    const DISTINCT: &'static str = " is not ";
    const TIME_AS_MS: bool = true;
    const SPATIAL_SQL: bool = false;

    fn bind_time(qb: &mut Qb<'_, Self>, v: Option<DateTime<Utc>>) {
        qb.push_bind(v.map(|t| t.timestamp_millis()));
    }
    fn bind_date(qb: &mut Qb<'_, Self>, v: Option<NaiveDate>) {
        qb.push_bind(v.map(|d| d.format("%Y-%m-%d").to_string()));
    }
    fn bind_json(qb: &mut Qb<'_, Self>, v: Option<serde_json::Value>) {
        qb.push_bind(v.map(|j| j.to_string()));
    }
    fn bind_value(qb: &mut Qb<'_, Self>, v: &Value) {
        match v {
            Value::Text(s) => qb.push_bind(s.clone()),
            Value::OptText(s) => qb.push_bind(s.clone()),
            Value::Int(i) => qb.push_bind(*i),
            Value::OptReal(r) => qb.push_bind(*r),
            Value::Bool(b) => qb.push_bind(*b),
            Value::Date(d) => qb.push_bind(d.map(|d| d.format("%Y-%m-%d").to_string())),
            Value::Json(j) => qb.push_bind(j.to_string()),
        };
    }

    fn bind_i64s(qb: &mut Qb<'_, Self>, v: Vec<i64>) {
        // packed: no digit formatted or parsed, a quarter of 8 bytes a value
        qb.push_bind(packed::times_blob(&v));
    }

    fn push_text_is_in(qb: &mut Qb<'_, Self>, col: &str, values: &[String]) {
        push_json_in(qb, col, &serde_json::Value::from(values.to_vec()));
    }
    fn push_id_is_in(qb: &mut Qb<'_, Self>, col: &str, values: &[i64]) {
        push_json_in(qb, col, &serde_json::Value::from(values.to_vec()));
    }
    fn push_id_rows(qb: &mut Qb<'_, Self>, values: &[i64]) {
        qb.push("(select value as id from json_each(");
        qb.push_bind(serde_json::Value::from(values.to_vec()).to_string());
        qb.push(")) as ids");
    }
    fn push_bbox(qb: &mut Qb<'_, Self>, [a, b, c, d]: [f64; 4]) {
        qb.push(" and t.min_lon <= ");
        qb.push_bind(c);
        qb.push(" and t.max_lon >= ");
        qb.push_bind(a);
        qb.push(" and t.min_lat <= ");
        qb.push_bind(d);
        qb.push(" and t.max_lat >= ");
        qb.push_bind(b);
    }

    fn layer_select(layer: Layer) -> String {
        layers::select_list(layer)
    }
    fn get_cells(row: &SqliteRow) -> Result<Vec<u64>, StoreError> {
        layers::read_cells(row)
    }
    const GEOM_COLUMNS: &'static [&'static str] =
        &["geom", "min_lon", "min_lat", "max_lon", "max_lat"];
    fn push_geom_values(qb: &mut Qb<'_, Self>, _: Layer, g: Option<&geo::Geometry<f64>>) {
        push_geom_values(qb, g);
    }
    fn push_geom_assign(qb: &mut Qb<'_, Self>, _: Layer, g: Option<&geo::Geometry<f64>>) {
        push_geom_assign(qb, g);
    }
    fn push_geom_compared(qb: &mut Qb<'_, Self>, _: Layer, g: Option<&geo::Geometry<f64>>) {
        qb.push_bind(layers::geom_values(g).0);
    }
    const NOW: &'static str = "cast(round(unixepoch('now', 'subsec') * 1000) as integer)";

    const LEAST: &'static str = "min";
    const GREATEST: &'static str = "max";
    const SNAPSHOT: &'static str = "";
    fn geojson_col(col: &str, _: u8) -> String {
        col.to_owned()
    }
    fn push_geojson(qb: &mut Qb<'_, Self>, json: String) {
        qb.push_bind(json);
    }
    fn lines_col(col: &str) -> String {
        col.to_owned()
    }
    fn get_lines(row: &SqliteRow, col: &str) -> Result<geo::Geometry<f64>, StoreError> {
        bulk::lines_read(row, col)
    }
    fn push_shape_values(qb: &mut Qb<'_, Self>, g: &geo::Geometry<f64>) {
        push_shape(qb, g, None);
    }
    fn push_shape_assign(qb: &mut Qb<'_, Self>, g: &geo::Geometry<f64>) {
        push_shape(qb, g, Some(Self::GEOM_COLUMNS));
    }
    const POINT_COLUMNS: &'static str = "lon, lat";
    const POINT_SELECT: &'static str = "lon, lat";
    fn push_point(qb: &mut Qb<'_, Self>, p: LonLat) {
        qb.push_bind(p.lon());
        qb.push(", ");
        qb.push_bind(p.lat());
    }

    fn get_time(row: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        row.try_get::<Option<i64>, _>(col)?
            .map(|ms| DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(col, ms)))
            .transpose()
    }
    fn get_i64s(row: &SqliteRow, col: &str) -> Result<Vec<i64>, StoreError> {
        bulk::i64s_read(row, col)
    }
    fn get_date(row: &SqliteRow, col: &str) -> Result<Option<NaiveDate>, StoreError> {
        row.try_get::<Option<String>, _>(col)?
            .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| corrupt(col, e)))
            .transpose()
    }
    fn get_json(row: &SqliteRow, col: &str) -> Result<Option<serde_json::Value>, StoreError> {
        row.try_get::<Option<String>, _>(col)?
            .map(|s| serde_json::from_str(&s).map_err(|e| corrupt(col, e)))
            .transpose()
    }
    fn get_value(row: &SqliteRow, n: &str, ty: ColType) -> Result<Value, StoreError> {
        Ok(match ty {
            ColType::Text => Value::Text(row.try_get(n)?),
            ColType::OptText => Value::OptText(row.try_get(n)?),
            ColType::Int => Value::Int(row.try_get(n)?),
            ColType::OptReal => Value::OptReal(row.try_get(n)?),
            ColType::Bool => Value::Bool(row.try_get(n)?),
            ColType::Date => Value::Date(Self::get_date(row, n)?),
            ColType::Json => Value::Json(sql::required(Self::get_json(row, n)?, n)?),
        })
    }

    async fn fetch_all(
        conn: &mut SqliteConnection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<Vec<SqliteRow>, sqlx::Error> {
        qb.build().fetch_all(conn).await
    }
    async fn fetch_optional(
        conn: &mut SqliteConnection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<Option<SqliteRow>, sqlx::Error> {
        qb.build().fetch_optional(conn).await
    }
    async fn execute(
        conn: &mut SqliteConnection,
        qb: &mut Qb<'_, Self>,
    ) -> Result<u64, sqlx::Error> {
        Ok(qb.build().execute(conn).await?.rows_affected())
    }
    async fn insert_new_visits(
        conn: &mut SqliteConnection,
        visits: &[StoredVisit],
    ) -> Result<(), sqlx::Error> {
        bulk::insert_visits(conn, visits).await
    }
}

/// `COL in` the values of a JSON array bound once, so that a list of any
/// length is one bind; an empty array matches nothing.
fn push_json_in(qb: &mut Qb<'_, Sqlite>, col: &str, values: &serde_json::Value) {
    qb.push(format!("{col} in (select value from json_each("));
    qb.push_bind(values.to_string());
    qb.push("))");
}

/// The values of a geometry that is not a layer's (an empty one has the bbox
/// 0, 0, 0, 0), separated by commas, or assigned to `columns`.
fn push_shape(qb: &mut Qb<'_, Sqlite>, g: &geo::Geometry<f64>, columns: Option<&[&str]>) {
    let set = |qb: &mut Qb<'_, Sqlite>, i: usize| {
        if i > 0 {
            qb.push(", ");
        }
        if let Some(cols) = columns {
            qb.push(format!("{} = ", cols[i]));
        }
    };
    // a track's lines are a WKB blob, other shapes GeoJSON text
    let bbox = if let Some((wkb, bbox)) = bulk::lines_blob(g) {
        set(qb, 0);
        qb.push_bind(wkb);
        bbox.map_or([None; 4], |b| b.map(Some))
    } else {
        let (json, bbox) = layers::geom_values(Some(g));
        set(qb, 0);
        Sqlite::bind_value(qb, &Value::OptText(json));
        bbox
    };
    for (i, b) in bbox.into_iter().enumerate() {
        set(qb, i + 1);
        qb.push_bind(b.unwrap_or(0.0));
    }
}

/// The GeoJSON text and the bbox of a geometry, separated by commas.
fn push_geom_values(qb: &mut Qb<'_, Sqlite>, g: Option<&geo::Geometry<f64>>) {
    let (json, bbox) = layers::geom_values(g);
    qb.push_bind(json);
    for b in bbox {
        qb.push(", ");
        qb.push_bind(b);
    }
}

/// `geom = ...` and the bbox columns.
fn push_geom_assign(qb: &mut Qb<'_, Sqlite>, g: Option<&geo::Geometry<f64>>) {
    let (json, bbox) = layers::geom_values(g);
    qb.push("geom = ");
    qb.push_bind(json);
    for (name, b) in Sqlite::GEOM_COLUMNS[1..].iter().zip(bbox) {
        qb.push(format!(", {name} = "));
        qb.push_bind(b);
    }
}
