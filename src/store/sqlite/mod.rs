//! The embedded backend: SQLite through sqlx with its bundled library, so the
//! service runs with nothing installed. Geometries are GeoJSON text with a
//! bounding box in four columns (the `&&` of PostGIS); the exact spatial
//! town filter of layers without a town column is done here in Rust with geo.

mod access;
mod inspections;
mod layers;
mod routes;
mod tracks;

use crate::store::StoreError;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// An embedded SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, or an
    /// in-memory database for `:memory:`, and migrates it.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
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
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
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
            .connect_with(opts)
            .await
            .map_err(StoreError::Unavailable)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(Self { pool })
    }

    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
