//! The PostGIS backend, the system of record. Geometries go in and out as
//! GeoJSON through `ST_GeomFromGeoJSON` / `ST_AsGeoJSON`, bbox filters use
//! `&&` so the GiST indexes answer them, and every value is bound.

mod access;
mod inspections;
mod layers;
mod routes;
mod tracks;

use crate::store::StoreError;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostGIS store.
#[derive(Clone)]
pub struct PostgisStore {
    pool: PgPool,
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
        Self::from_pool(pool).await
    }

    /// Wraps a pool (e.g. one from `#[sqlx::test]`) and migrates.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        MIGRATOR.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(Self { pool })
    }

    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
