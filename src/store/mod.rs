//! Persistence behind one trait, [`Store`], with two backends: PostGIS, the
//! system of record ([`postgis`]), and SQLite, the embedded zero-setup
//! default ([`sqlite`]). Both pass the same store test suite.
//!
//! The backends know tables and columns, not the domain: every layer is
//! described once in [`layer`] (its table, typed columns and geometry) and
//! converted between domain types and generic [`Record`]s there, so that the
//! two backends stay small and cannot drift apart.

pub mod access;
pub mod casefile;
pub mod evaluation;
pub mod idempotency;
pub mod inspection;
pub mod layer;
pub mod notify;
pub mod places;
pub mod postgis;
pub mod routes;
pub mod scoped;
pub mod sql;
pub mod sqlite;
pub mod tracks;
pub mod version_watch;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::domain::{ImportSummary, Invalid};
use crate::spatial::Bbox;

pub use access::AccessStore;
pub use casefile::CaseFileStore;
pub use evaluation::EvaluationStore;
pub use idempotency::IdempotencyStore;
pub use inspection::{InspectionQuery, InspectionStore};
pub use layer::{Layer, LayerItem};
pub use notify::NotifyStore;
pub use places::PlaceStore;
pub use routes::RouteStore;
pub use tracks::TrackStore;

/// Errors of the persistence layer. Internal details stay in `source`; the
/// HTTP layer logs them and never shows SQL to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Conflict(String),
    /// The database is there but cannot take the request now.
    #[error("database {0}")]
    Degraded(Condition, #[source] sqlx::Error),
    /// Too many writers want the same row at once; retry shortly.
    #[error("busy: {0}")]
    Busy(String),
    #[error("unsupported database url {0:?}: expected postgres://... or sqlite://PATH")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// Why a reachable database cannot take a request now: each is answered
/// 503 with a `Retry-After`, and `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// No space left for the database to grow.
    Full,
    /// The database (file, or server) takes no writes.
    ReadOnly,
    /// Locked by another writer beyond the wait the store allows.
    Locked,
    /// An I/O error below the database.
    Io,
}

impl Condition {
    /// The condition a database error reports, if it is one of these.
    #[must_use]
    pub fn of(e: &sqlx::Error) -> Option<Self> {
        let sqlx::Error::Database(db) = e else {
            return None;
        };
        let code = db.code()?;
        if let Ok(n) = code.parse::<u32>() {
            // SQLite: the primary result code is the low byte
            return match n & 0xff {
                13 => Some(Self::Full),
                8 => Some(Self::ReadOnly),
                5 | 6 => Some(Self::Locked),
                10 | 14 | 11 => Some(Self::Io),
                _ => None,
            };
        }
        match code.as_ref() {
            // disk_full, insufficient_resources, out_of_memory
            "53100" | "53000" | "53200" => Some(Self::Full),
            // read_only_sql_transaction (a standby, or default_transaction_read_only)
            "25006" => Some(Self::ReadOnly),
            // lock_not_available, deadlock_detected, serialization_failure
            "55P03" | "40P01" | "40001" => Some(Self::Locked),
            // io_error, data_corrupted
            "58030" | "XX001" => Some(Self::Io),
            _ => None,
        }
    }

    /// Its name in `/health` (`full`, `read_only`, `locked`, `io`).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::ReadOnly => "read_only",
            Self::Locked => "locked",
            Self::Io => "io",
        }
    }

    /// Seconds a client should wait before it tries again.
    #[must_use]
    pub fn retry_after(self) -> u64 {
        match self {
            Self::Full | Self::ReadOnly => 60,
            Self::Locked => 1,
            Self::Io => 10,
        }
    }

    /// What an operator reads in a log, `/health` and a problem's detail.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Full => "数据库存储空间已满，写入暂停 (the database's disk is full)",
            Self::ReadOnly => "数据库只读，无法写入 (the database is read-only)",
            Self::Locked => "数据库正忙，请稍后重试 (the database is locked by other writers)",
            Self::Io => "数据库读写出错 (an I/O error below the database)",
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Full => "disk full",
            Self::ReadOnly => "read-only",
            Self::Locked => "locked",
            Self::Io => "I/O error",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(c) = Condition::of(&e) {
            return Self::Degraded(c, e);
        }
        match &e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => Self::Unavailable(e),
            _ => Self::Database(e),
        }
    }
}

/// Maps a failed write of `record` to what the caller can act on: a taken
/// natural key is a conflict, a dangling reference is invalid input.
pub(crate) fn write_error(e: sqlx::Error, record: &Record) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(format!("code {:?}", record.code().unwrap_or_default()));
        }
        if db.is_foreign_key_violation() {
            return StoreError::Invalid(Invalid::new(
                "reference",
                "refers to a town, zone or grid that does not exist",
            ));
        }
    }
    StoreError::from(e)
}

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgis,
    Sqlite,
}

/// One column value of a [`Record`], typed as the column is.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptReal(Option<f64>),
    Bool(bool),
    Date(Option<NaiveDate>),
    Json(serde_json::Value),
}

/// A row of a layer's table as the backends see it: the id, the column
/// values in the order of the layer's columns, the geometry and, for grids,
/// the compacted H3 cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: i64,
    pub values: Vec<Value>,
    pub geometry: Option<geo::Geometry<f64>>,
    pub cells: Vec<u64>,
}

impl Record {
    /// The natural key, always the first column.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self.values.first() {
            Some(Value::Text(c)) => Some(c),
            _ => None,
        }
    }
}

/// Filters and paging of a list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Features whose bounding box intersects this one.
    pub bbox: Option<Bbox>,
    /// Only features in one of these towns (by code); `None` is no filter.
    /// Layers without a town column are filtered spatially.
    pub towns: Option<Vec<String>>,
    /// Exact matches on columns of the layer, e.g. `("status", "filed")`.
    pub eq: Vec<(&'static str, String)>,
    /// Only these ids; `None` is no filter.
    pub ids: Option<Vec<i64>>,
    /// Only these natural keys (`code`); `None` is no filter.
    pub codes: Option<Vec<String>>,
    /// Only features intersecting the outline of one of these grids (by
    /// code), the spatial half of a grid manager's scope; `None` is no filter.
    pub grids: Option<Vec<String>>,
    pub limit: u32,
    pub offset: u32,
}

impl ListQuery {
    /// Everything, for the analyses.
    #[must_use]
    pub fn all() -> Self {
        Self {
            limit: u32::MAX,
            ..Self::default()
        }
    }
}

/// One page of a list and the total number of matches.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// A callback told how many items of an import are done.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// The persistence operations every backend provides.
#[async_trait]
pub trait Store:
    TrackStore
    + AccessStore
    + InspectionStore
    + RouteStore
    + IdempotencyStore
    + CaseFileStore
    + EvaluationStore
    + NotifyStore
    + PlaceStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The data version: a counter that every committed write changing
    /// coverage or blind-spot answers moves (database triggers), whichever
    /// process wrote. Cached answers are keyed by it.
    async fn data_version(&self) -> Result<i64, StoreError>;

    /// Inserts or updates by natural key (`code`) in one transaction;
    /// unchanged rows are left alone, so a repeated import changes nothing.
    async fn upsert(
        &self,
        layer: Layer,
        records: Vec<Record>,
        progress: Progress<'_>,
    ) -> Result<ImportSummary, StoreError>;

    async fn list(&self, layer: Layer, query: &ListQuery) -> Result<Page<Record>, StoreError>;

    async fn get(&self, layer: Layer, id: i64) -> Result<Option<Record>, StoreError>;

    /// Inserts a new row; a taken natural key is a [`StoreError::Conflict`].
    async fn insert(&self, layer: Layer, record: Record) -> Result<i64, StoreError>;

    /// Replaces the row `id`; `false` when there is none.
    async fn update(&self, layer: Layer, id: i64, record: Record) -> Result<bool, StoreError>;
}

/// A shared store handle.
pub type DynStore = Arc<dyn Store>;

/// The default embedded store: a file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://gridpatrol.db";

/// Opens the store a URL names and brings its schema up to date.
pub async fn open(url: &str) -> Result<DynStore, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgis::PostgisStore::connect(url).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(sqlite::SqliteStore::open(path).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// Typed access on top of the generic record operations.
pub mod typed {
    use super::{DynStore, ListQuery, Page, Progress, StoreError};
    use crate::domain::{ImportSummary, Stored};
    use crate::store::LayerItem;

    pub async fn import<T: LayerItem>(
        store: &DynStore,
        items: &[T],
        progress: Progress<'_>,
    ) -> Result<ImportSummary, StoreError> {
        let records = items.iter().map(|i| i.to_record(0)).collect();
        store.upsert(T::LAYER, records, progress).await
    }

    pub async fn list<T: LayerItem>(
        store: &DynStore,
        query: &ListQuery,
    ) -> Result<Page<Stored<T>>, StoreError> {
        let page = store.list(T::LAYER, query).await?;
        let items = page
            .items
            .into_iter()
            .map(T::from_record)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: page.total,
            items,
        })
    }

    pub async fn all<T: LayerItem>(store: &DynStore) -> Result<Vec<Stored<T>>, StoreError> {
        Ok(list(store, &ListQuery::all()).await?.items)
    }

    pub async fn get<T: LayerItem>(
        store: &DynStore,
        id: i64,
    ) -> Result<Option<Stored<T>>, StoreError> {
        store
            .get(T::LAYER, id)
            .await?
            .map(T::from_record)
            .transpose()
    }

    pub async fn insert<T: LayerItem>(store: &DynStore, item: &T) -> Result<i64, StoreError> {
        store.insert(T::LAYER, item.to_record(0)).await
    }

    pub async fn update<T: LayerItem>(
        store: &DynStore,
        id: i64,
        item: &T,
    ) -> Result<bool, StoreError> {
        store.update(T::LAYER, id, item.to_record(id)).await
    }
}
